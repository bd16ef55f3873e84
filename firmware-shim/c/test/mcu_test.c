/*
 * Unit tests of the MCU safety core (host only). Host frames go the whole way: encoded by a host
 * encoder, fed through the decoder byte by byte, then handed to the core; every frame the core
 * sends is encoded too, so an unencodable reply fails the test. Prints `MCU TESTS n passed` and
 * exits 1 on any failed check.
 */
#include <stdio.h>
#include <string.h>

#include "spinal_mcu.h"

static int checks, failed;
#define CHECK(cond)                                                           \
    do {                                                                      \
        checks++;                                                             \
        if (!(cond)) {                                                        \
            failed++;                                                         \
            printf("FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, current, #cond); \
        }                                                                     \
    } while (0)

static const char *current = "";

/* ---- a fixture: one core, one host encoder, one decoder, a log of what the core sent -------- */

#define JOINTS 2
#define MAX_SENT 32
static spinal_mcu_t mcu;
static spinal_decoder_t dec;
static spinal_encoder_t host_enc, mcu_enc;
static struct { uint8_t type; spinal_msg_t msg; } sent[MAX_SENT];
static int n_sent;
static uint8_t wire[SPINAL_MAX_FRAME];

static void on_send(void *ctx, uint8_t type, const spinal_msg_t *msg)
{
    (void)ctx;
    CHECK(spinal_encode(&mcu_enc, type, msg, 0, wire, sizeof wire) > 0);
    if (n_sent < MAX_SENT) {
        sent[n_sent].type = type;
        sent[n_sent].msg = *msg;
        n_sent++;
    }
}

/* Events the core reported, and the drive's fault register for the reset_faults hook. */
#define MAX_EVENTS 32
static spinal_mcu_event_t events[MAX_EVENTS];
static int n_events;
static uint16_t drive_faults, drive_faults_stuck;

static void on_event(void *ctx, const spinal_mcu_event_t *ev)
{
    (void)ctx;
    if (n_events < MAX_EVENTS) events[n_events++] = *ev;
}

static uint16_t on_reset_faults(void *ctx)
{
    (void)ctx;
    drive_faults &= drive_faults_stuck; /* what the drive can clear, it clears */
    return drive_faults;
}

static const spinal_mcu_event_t *last_event(uint8_t kind)
{
    int i;
    for (i = n_events - 1; i >= 0; i--) if (events[i].kind == kind) return &events[i];
    return NULL;
}

static const spinal_limits_t hard[JOINTS] = { { -5000, 5000, 800.0f, 3.0f }, { -5000, 5000, 800.0f, 3.0f } };

static void setup(const char *name, bool with_hard_limits)
{
    spinal_mcu_config_t cfg;
    current = name;
    spinal_mcu_config_defaults(&cfg, JOINTS);
    cfg.stop_ramp_us = 100000u;
    cfg.hard_limits = with_hard_limits ? hard : NULL;
    cfg.send = on_send;
    cfg.event = on_event;
    cfg.hello.fw_major = 2;
    strcpy(cfg.hello.profile_id, "test-arm");
    spinal_mcu_init(&mcu, &cfg, 0);
    spinal_decoder_init(&dec);
    spinal_encoder_init(&host_enc, 0);
    spinal_encoder_init(&mcu_enc, 0);
    n_sent = 0;
    n_events = 0;
}

static spinal_msg_t m; /* message being built by a test */

/* Sends m from the host; the core sees it at time t (delimiter arrival and processing). */
static void host(uint8_t type, uint32_t t)
{
    long n = spinal_encode(&host_enc, type, &m, t, wire, sizeof wire);
    long i;
    int frames = 0;
    CHECK(n > 0);
    for (i = 0; i < n; i++) {
        if (spinal_decoder_push_byte(&dec, wire[i]) == SPINAL_RX_FRAME) {
            spinal_mcu_on_frame(&mcu, &dec.frame, t, t);
            frames++;
        }
    }
    CHECK(frames == 1);
    memset(&m, 0, sizeof m);
}

/* Hands the core a frame with an arbitrary body, as the decoder would after a good CRC. */
static void host_raw(uint8_t type, const uint8_t *body, size_t len, uint32_t t)
{
    spinal_frame_t f;
    f.version = SPINAL_PROTO_MAJOR;
    f.type = type;
    f.seq = 77;
    f.time_us = t;
    f.body = body;
    f.body_len = len;
    spinal_mcu_on_frame(&mcu, &f, t, t);
}

static void heartbeat(uint32_t t) { m.heartbeat.host_state = 2; host(SPINAL_HEARTBEAT, t); }

static void command(uint8_t mode, int32_t pos, float vel, float ff, uint32_t t)
{
    int j;
    m.command.joint_count = JOINTS;
    m.command.mode = mode;
    for (j = 0; j < JOINTS; j++) {
        m.command.position[j] = pos;
        m.command.velocity[j] = vel;
        m.command.feedforward[j] = ff;
    }
    host(SPINAL_COMMAND, t);
}

static void config(uint16_t watchdog_ms, int32_t lo, int32_t hi, float vmax, float imax, uint32_t t)
{
    int j;
    m.config.watchdog_ms = watchdog_ms;
    m.config.state_rate_hz = 500;
    m.config.joint_count = JOINTS;
    for (j = 0; j < JOINTS; j++) {
        m.config.pos_min[j] = lo;
        m.config.pos_max[j] = hi;
        m.config.vel_max[j] = vmax;
        m.config.current_max[j] = imax;
    }
    host(SPINAL_CONFIG, t);
}

static void reset(uint8_t what, uint32_t token, uint32_t t)
{
    m.reset.what = what;
    m.reset.token = token;
    host(SPINAL_RESET, t);
}

static const spinal_drive_t *out(void) { return spinal_mcu_output(&mcu); }
static bool status(uint16_t bits) { return (spinal_mcu_status(&mcu) & bits) == bits; }
static const spinal_msg_t *last(uint8_t type)
{
    int i;
    for (i = n_sent - 1; i >= 0; i--) if (sent[i].type == type) return &sent[i].msg;
    return NULL;
}
static int count(uint8_t type)
{
    int i, c = 0;
    for (i = 0; i < n_sent; i++) c += sent[i].type == type;
    return c;
}

/* Configured and moving in POSITION mode at t = 1000 us. */
static void moving(const char *name)
{
    setup(name, false);
    config(0, -10000, 10000, 1000.0f, 5.0f, 500);
    command(SPINAL_MODE_POSITION, 100, 10.0f, 0.5f, 1000);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_watchdog_trips_at_timeout(void)
{
    moving("watchdog trips at the timeout and not before");
    CHECK(out()->motors_enabled && out()->mode == SPINAL_DRIVE_POSITION);
    spinal_mcu_tick(&mcu, 1000 + 99999);
    CHECK(!status(SPINAL_STATUS_WATCHDOG_TRIPPED));
    CHECK(count(SPINAL_ESTOP) == 0);
    spinal_mcu_tick(&mcu, 1000 + 100000);
    CHECK(status(SPINAL_STATUS_WATCHDOG_TRIPPED | SPINAL_STATUS_STOPPING | SPINAL_STATUS_MOTORS_ENABLED));
    CHECK(out()->mode == SPINAL_DRIVE_RAMP_DOWN && out()->ramp_scale == 1.0f);
    CHECK(count(SPINAL_ESTOP) == 1);
    CHECK(last(SPINAL_ESTOP)->estop.category == 1 && last(SPINAL_ESTOP)->estop.source == SPINAL_SRC_WATCHDOG);
    /* controlled stop: ramp to zero, then power removed (category 1) */
    spinal_mcu_tick(&mcu, 101000 + 50000);
    CHECK(out()->mode == SPINAL_DRIVE_RAMP_DOWN && out()->ramp_scale > 0.49f && out()->ramp_scale < 0.51f);
    spinal_mcu_tick(&mcu, 101000 + 100000);
    CHECK(out()->mode == SPINAL_DRIVE_DISABLE && !out()->motors_enabled);
    CHECK(!status(SPINAL_STATUS_STOPPING) && status(SPINAL_STATUS_WATCHDOG_TRIPPED));
    spinal_mcu_tick(&mcu, 900000);
    CHECK(count(SPINAL_ESTOP) == 1); /* latched: reported once */
}

static void test_heartbeat_feeds(void)
{
    uint32_t t;
    moving("heartbeat feeds the watchdog");
    for (t = 1000; t <= 1000000; t += 1000) {
        if (t % 90000 == 0) heartbeat(t);
        spinal_mcu_tick(&mcu, t);
    }
    CHECK(!status(SPINAL_STATUS_WATCHDOG_TRIPPED) && out()->mode == SPINAL_DRIVE_POSITION);
    spinal_mcu_tick(&mcu, 990000 + 100000);
    CHECK(status(SPINAL_STATUS_WATCHDOG_TRIPPED));
}

static void test_watchdog_unarmed_and_configured(void)
{
    setup("watchdog: unarmed before the host, CONFIG timeout, clock wrap", false);
    spinal_mcu_tick(&mcu, 5000000);
    CHECK(!status(SPINAL_STATUS_WATCHDOG_TRIPPED)); /* no host yet: motors were never on */
    config(250, -10, 10, 1.0f, 1.0f, 0xFFFFFF00u);
    heartbeat(0xFFFFFF00u);
    spinal_mcu_tick(&mcu, 0xFFFFFF00u + 249999u); /* wraps past 2^32 */
    CHECK(!status(SPINAL_STATUS_WATCHDOG_TRIPPED));
    spinal_mcu_tick(&mcu, 0xFFFFFF00u + 250000u);
    CHECK(status(SPINAL_STATUS_WATCHDOG_TRIPPED));
    CHECK(!out()->motors_enabled); /* never enabled: the stop keeps them off */
}

static void test_watchdog_reset(void)
{
    moving("RESET bit 2 clears a trip but enables nothing");
    spinal_mcu_tick(&mcu, 200000);
    spinal_mcu_tick(&mcu, 400000);
    CHECK(status(SPINAL_STATUS_WATCHDOG_TRIPPED) && !out()->motors_enabled);
    command(SPINAL_MODE_POSITION, 1, 1.0f, 0.0f, 410000);
    CHECK(!out()->motors_enabled); /* trip latches */
    reset(SPINAL_RESET_ESTOP, 1, 420000); /* the wrong bit: nothing to clear, trip stays */
    CHECK(status(SPINAL_STATUS_WATCHDOG_TRIPPED));
    reset(SPINAL_RESET_WATCHDOG, 0xCAFE, 430000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_OK && last(SPINAL_ACK)->ack.detail == 0xCAFE);
    CHECK(last(SPINAL_ACK)->ack.acked_type == SPINAL_RESET);
    CHECK(!status(SPINAL_STATUS_WATCHDOG_TRIPPED));
    spinal_mcu_tick(&mcu, 431000);
    CHECK(!out()->motors_enabled && out()->mode == SPINAL_DRIVE_DISABLE);
    command(SPINAL_MODE_POSITION, 1, 1.0f, 0.0f, 432000);
    CHECK(out()->motors_enabled && out()->mode == SPINAL_DRIVE_POSITION);
}

static void test_latch_survives_commands(void)
{
    moving("ESTOP latch survives commands; only DISABLE passes");
    m.estop.category = 0;
    m.estop.source = SPINAL_SRC_HOST;
    host(SPINAL_ESTOP, 2000);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED) && !out()->motors_enabled && out()->mode == SPINAL_DRIVE_DISABLE);
    CHECK(count(SPINAL_ESTOP) == 0); /* the host's own stop is not echoed; STATE shows the latch */
    command(SPINAL_MODE_POSITION, 5, 1.0f, 0.0f, 3000);
    CHECK(!out()->motors_enabled && out()->mode == SPINAL_DRIVE_DISABLE);
    command(SPINAL_MODE_HOLD, 0, 0.0f, 0.0f, 4000);
    CHECK(!out()->motors_enabled);
    command(SPINAL_MODE_DISABLE, 0, 0.0f, 0.0f, 5000);
    CHECK(out()->mode == SPINAL_DRIVE_DISABLE && status(SPINAL_STATUS_ESTOP_LATCHED));
    spinal_mcu_tick(&mcu, 6000);
    CHECK(!status(SPINAL_STATUS_WATCHDOG_TRIPPED)); /* latched commands still feed the watchdog */
}

static void test_button_reset(void)
{
    moving("RESET refused while the button is pressed; a reset never enables motion");
    spinal_mcu_set_button(&mcu, true, 2000);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED) && !out()->motors_enabled);
    CHECK(last(SPINAL_ESTOP) != NULL && last(SPINAL_ESTOP)->estop.source == SPINAL_SRC_BUTTON && last(SPINAL_ESTOP)->estop.category == 0);
    reset(SPINAL_RESET_ESTOP, 42, 3000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_REFUSED_UNSAFE && last(SPINAL_ACK)->ack.detail == 42);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED));
    spinal_mcu_set_button(&mcu, false, 4000);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED)); /* releasing the button does not unlatch */
    reset(SPINAL_RESET_ESTOP, 43, 5000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_OK && last(SPINAL_ACK)->ack.detail == 43);
    CHECK(!status(SPINAL_STATUS_ESTOP_LATCHED));
    spinal_mcu_tick(&mcu, 6000);
    CHECK(!out()->motors_enabled && out()->mode == SPINAL_DRIVE_DISABLE);
    command(SPINAL_MODE_HOLD, 0, 0.0f, 0.0f, 7000);
    CHECK(out()->motors_enabled && out()->mode == SPINAL_DRIVE_HOLD);
}

static void test_fault_reset(void)
{
    moving("a persisting fault refuses RESET; bit 1 clears faults once gone");
    spinal_mcu_set_faults(&mcu, 0x04, 0x2, 2000);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED) && !out()->motors_enabled);
    CHECK(last(SPINAL_ESTOP)->estop.source == SPINAL_SRC_FAULT);
    reset(SPINAL_RESET_ESTOP | SPINAL_RESET_FAULTS, 1, 3000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_REFUSED_UNSAFE && status(SPINAL_STATUS_ESTOP_LATCHED));
    spinal_mcu_set_faults(&mcu, 0, 0, 4000);
    {
        spinal_state_t st;
        spinal_mcu_fill_state(&mcu, &st);
        CHECK(st.faults == 0x04 && st.joint_fault_mask == 0x2); /* latched until reset */
    }
    reset(SPINAL_RESET_FAULTS, 2, 5000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_OK && status(SPINAL_STATUS_ESTOP_LATCHED));
    reset(SPINAL_RESET_ESTOP, 3, 6000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_OK && !status(SPINAL_STATUS_ESTOP_LATCHED));
    {
        static const uint8_t unknown_bits[8] = { 0x08, 0, 0, 0, 9, 0, 0, 0 };
        host_raw(SPINAL_RESET, unknown_bits, sizeof unknown_bits, 7000);
        CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_BAD_VALUE && last(SPINAL_ACK)->ack.acked_seq == 77);
        CHECK(last(SPINAL_ACK)->ack.detail == 9); /* SPEC 1.1: the token is echoed also when refused */
    }
}

static void test_fault_reset_hook(void)
{
    moving("RESET bit 1 asks the drives to clear; a fault they keep refuses the reset");
    mcu.cfg.reset_faults = on_reset_faults;
    drive_faults = 0x05;
    drive_faults_stuck = 0x04;
    spinal_mcu_set_faults(&mcu, drive_faults, 0x1, 2000);
    CHECK(last_event(SPINAL_EVENT_STOP) != NULL && last_event(SPINAL_EVENT_STOP)->source == SPINAL_SRC_FAULT);
    CHECK(last_event(SPINAL_EVENT_STOP)->msg_type == 0 && last_event(SPINAL_EVENT_STOP)->category == 0);
    reset(SPINAL_RESET_ESTOP, 1, 3000); /* without bit 1 the drives are not asked */
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_REFUSED_UNSAFE && drive_faults == 0x05);
    reset(SPINAL_RESET_ESTOP | SPINAL_RESET_FAULTS, 2, 4000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_REFUSED_UNSAFE && drive_faults == 0x04);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED));
    CHECK(last_event(SPINAL_EVENT_RESET)->result == SPINAL_ACK_REFUSED_UNSAFE);
    drive_faults_stuck = 0;
    reset(SPINAL_RESET_ESTOP | SPINAL_RESET_FAULTS, 3, 5000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_OK && drive_faults == 0 && !status(SPINAL_STATUS_ESTOP_LATCHED));
    CHECK(last_event(SPINAL_EVENT_RESET)->result == SPINAL_ACK_OK);
    {
        spinal_state_t st;
        spinal_mcu_fill_state(&mcu, &st);
        CHECK(st.faults == 0 && st.joint_fault_mask == 0);
    }
    CHECK(!out()->motors_enabled); /* a reset never enables motion */
}

static void test_events(void)
{
    moving("events: commands obeyed, ignored, rejected and clamped; stops; watchdog; body errors");
    CHECK(last_event(SPINAL_EVENT_COMMAND)->result == 1 && !last_event(SPINAL_EVENT_COMMAND)->flag);
    CHECK(last_event(SPINAL_EVENT_COMMAND)->msg->command.position[1] == 100);
    command(SPINAL_MODE_POSITION, 99999, 0.0f, 0.0f, 2000);
    CHECK(last_event(SPINAL_EVENT_COMMAND)->result == 1 && last_event(SPINAL_EVENT_COMMAND)->flag);
    m.command.joint_count = 1;
    m.command.mode = SPINAL_MODE_POSITION;
    host(SPINAL_COMMAND, 3000);
    CHECK(last_event(SPINAL_EVENT_COMMAND)->result == 2);
    m.estop.category = 2;
    m.estop.source = SPINAL_SRC_REMOTE;
    m.estop.reason = 0x11;
    host(SPINAL_ESTOP, 4000);
    {
        const spinal_mcu_event_t *e = last_event(SPINAL_EVENT_STOP);
        CHECK(e != NULL && e->category == 2 && e->source == SPINAL_SRC_REMOTE && e->reason == 0x11 && !e->flag && e->msg_type == SPINAL_ESTOP);
    }
    command(SPINAL_MODE_POSITION, 0, 0.0f, 0.0f, 5000);
    CHECK(last_event(SPINAL_EVENT_COMMAND)->result == 0);
    CHECK(last_event(SPINAL_EVENT_WATCHDOG) == NULL);
    spinal_mcu_tick(&mcu, 5000 + 100000);
    CHECK(last_event(SPINAL_EVENT_WATCHDOG) != NULL);
    {
        static const uint8_t short_heartbeat[2] = { 2, 0 };
        host_raw(SPINAL_HEARTBEAT, short_heartbeat, sizeof short_heartbeat, 200000);
        CHECK(last_event(SPINAL_EVENT_BODY_ERROR) != NULL && last_event(SPINAL_EVENT_BODY_ERROR)->msg_type == SPINAL_HEARTBEAT);
        CHECK(last_event(SPINAL_EVENT_BODY_ERROR)->result == SPINAL_ERR_LENGTH);
    }
}

static void test_malformed_estop(void)
{
    static const uint8_t bad_category[4] = { 3, 0, 0, 0 };
    static const uint8_t too_short[2] = { 1, 0 };
    moving("a malformed ESTOP stops as category 0");
    host_raw(SPINAL_ESTOP, bad_category, sizeof bad_category, 2000);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED) && !out()->motors_enabled && out()->mode == SPINAL_DRIVE_DISABLE);
    CHECK(last(SPINAL_ESTOP) != NULL && last(SPINAL_ESTOP)->estop.category == 0);
    CHECK(last(SPINAL_ESTOP)->estop.reason == SPINAL_REASON_MALFORMED_ESTOP);
    CHECK(last(SPINAL_LOG) != NULL && last(SPINAL_LOG)->log.level == 2);
    CHECK(last(SPINAL_LOG) != NULL && memcmp(last(SPINAL_LOG)->log.text, "malformed ESTOP", 15) == 0);
    CHECK(last_event(SPINAL_EVENT_STOP) != NULL && last_event(SPINAL_EVENT_STOP)->flag && last_event(SPINAL_EVENT_STOP)->category == 0);
    moving("an ESTOP of the wrong length stops as category 0");
    host_raw(SPINAL_ESTOP, too_short, sizeof too_short, 2000);
    CHECK(status(SPINAL_STATUS_ESTOP_LATCHED) && !out()->motors_enabled);
}

static void test_stop_categories(void)
{
    moving("category 2 ends in HOLD; a milder stop never overrides, a harder one does");
    m.estop.category = 2;
    host(SPINAL_ESTOP, 2000);
    CHECK(out()->mode == SPINAL_DRIVE_RAMP_DOWN && out()->motors_enabled);
    heartbeat(90000); /* keep the watchdog out of this test: its category 1 would override */
    spinal_mcu_tick(&mcu, 101999);
    CHECK(out()->mode == SPINAL_DRIVE_RAMP_DOWN);
    spinal_mcu_tick(&mcu, 102000);
    CHECK(out()->mode == SPINAL_DRIVE_HOLD && out()->motors_enabled && status(SPINAL_STATUS_ESTOP_LATCHED));
    moving("category 1 then 2 then 0");
    m.estop.category = 1;
    host(SPINAL_ESTOP, 2000);
    m.estop.category = 2;
    host(SPINAL_ESTOP, 3000);
    heartbeat(90000);
    spinal_mcu_tick(&mcu, 102000);
    CHECK(out()->mode == SPINAL_DRIVE_DISABLE && !out()->motors_enabled); /* still category 1 */
    moving("category 0 during a ramp cuts power at once");
    m.estop.category = 1;
    host(SPINAL_ESTOP, 2000);
    m.estop.category = 0;
    host(SPINAL_ESTOP, 3000);
    CHECK(out()->mode == SPINAL_DRIVE_DISABLE && !out()->motors_enabled && !status(SPINAL_STATUS_STOPPING));
}

static void test_clamping(void)
{
    int j;
    setup("COMMAND targets are clamped to CONFIG limits (and hard limits)", true);
    command(SPINAL_MODE_POSITION, 100, 1.0f, 0.0f, 1000);
    CHECK(!out()->motors_enabled); /* no CONFIG yet: motion refused */
    command(SPINAL_MODE_HOLD, 0, 0.0f, 0.0f, 1500);
    CHECK(out()->motors_enabled && out()->mode == SPINAL_DRIVE_HOLD); /* HOLD needs no limits */
    config(0, -8000, 1000, 2000.0f, 2.0f, 2000);
    CHECK(last(SPINAL_ACK)->ack.acked_type == SPINAL_CONFIG && last(SPINAL_ACK)->ack.result == SPINAL_ACK_OK);
    CHECK(status(SPINAL_STATUS_CONFIGURED));
    command(SPINAL_MODE_POSITION, 99999, 5000.0f, -9.0f, 3000);
    CHECK(out()->motors_enabled && out()->mode == SPINAL_DRIVE_POSITION);
    for (j = 0; j < JOINTS; j++) {
        CHECK(out()->position[j] == 1000);        /* CONFIG max */
        CHECK(out()->velocity[j] == 800.0f);      /* hard limit beats CONFIG's 2000 */
        CHECK(out()->feedforward[j] == -2.0f);    /* CONFIG current, symmetric */
    }
    command(SPINAL_MODE_VELOCITY, -99999, -5000.0f, 1.0f, 4000);
    CHECK(out()->position[0] == -5000 && out()->velocity[1] == -800.0f && out()->feedforward[0] == 1.0f);
    config(0, 20000, 30000, 1.0f, 1.0f, 5000); /* outside the hard range: refused, nothing changes */
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_BAD_VALUE);
    CHECK(out()->position[0] == -5000);
    {
        static const uint8_t min_above_max[24] = { 0, 0, 0, 0, 1, 0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f };
        host_raw(SPINAL_CONFIG, min_above_max, sizeof min_above_max, 6000);
        CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_BAD_VALUE && last(SPINAL_ACK)->ack.acked_type == SPINAL_CONFIG);
    }
    m.command.joint_count = 1; /* wrong joint count: ignored */
    m.command.mode = SPINAL_MODE_POSITION;
    host(SPINAL_COMMAND, 7000);
    CHECK(out()->mode == SPINAL_DRIVE_VELOCITY);
    config(0, -100, 100, 1.0f, 1.0f, 8000); /* tighter limits re-clamp the running targets */
    CHECK(out()->position[0] == -100 && out()->velocity[0] == -1.0f);
}

static void test_time_sync_and_hello(void)
{
    setup("TIME_SYNC_RESP echoes the id with rx and tx times; HELLO is answered", false);
    m.time_sync_req.id = 0xABCDEF01u;
    {
        long n = spinal_encode(&host_enc, SPINAL_TIME_SYNC_REQ, &m, 0, wire, sizeof wire), i;
        for (i = 0; i < n; i++) {
            if (spinal_decoder_push_byte(&dec, wire[i]) == SPINAL_RX_FRAME) spinal_mcu_on_frame(&mcu, &dec.frame, 123456, 123789);
        }
    }
    CHECK(last(SPINAL_TIME_SYNC_RESP) != NULL);
    CHECK(last(SPINAL_TIME_SYNC_RESP)->time_sync_resp.id == 0xABCDEF01u);
    CHECK(last(SPINAL_TIME_SYNC_RESP)->time_sync_resp.mcu_rx_us == 123456);
    CHECK(last(SPINAL_TIME_SYNC_RESP)->time_sync_resp.mcu_tx_us == 123789);
    CHECK(status(SPINAL_STATUS_HOST_SEEN));
    memset(&m, 0, sizeof m);
    m.hello.proto_major = 1;
    strcpy(m.hello.profile_id, "host");
    host(SPINAL_HELLO, 200000);
    {
        const spinal_msg_t *h = last(SPINAL_HELLO);
        static const spinal_hello_t none;
        const spinal_hello_t *hello = h != NULL ? &h->hello : &none;
        CHECK(h != NULL && hello->role == 1 && hello->joint_count == JOINTS && hello->fw_major == 2);
        CHECK(strcmp(hello->profile_id, "test-arm") == 0);
    }
}

static void test_state_rate(void)
{
    int due = 0;
    uint32_t t;
    moving("STATE cadence follows the CONFIG rate");
    for (t = 0; t < 100000; t += 100) due += spinal_mcu_state_due(&mcu, t);
    CHECK(due == 50); /* 500 Hz over 100 ms */
    m.config.joint_count = JOINTS;
    m.config.state_rate_hz = 1001; /* above the 1 kHz STATE ceiling: refused, rate kept */
    host(SPINAL_CONFIG, 200000);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_BAD_VALUE && mcu.state_rate_hz == 500);
}

/* The points SPEC 1.1 decided in section 4, one check each. */
static void test_spec_1_1_decisions(void)
{
    static const uint8_t short_reset[4] = { 1, 0, 0, 0 };
    setup("SPEC 1.1: flags, ACK on refused bodies, N mismatch, HOLD or DISABLE after a stop", false);
    CHECK(!status(SPINAL_STATUS_CONFIGURED) && !status(SPINAL_STATUS_HOST_SEEN)); /* boot: neither */
    host_raw(SPINAL_RESET, short_reset, sizeof short_reset, 100);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_BAD_VALUE && last(SPINAL_ACK)->ack.detail == 0);
    CHECK(!status(SPINAL_STATUS_HOST_SEEN)); /* a refused body is not a host heard */
    config(0, -10, 10, 1.0f, 1.0f, 200);
    CHECK(status(SPINAL_STATUS_CONFIGURED | SPINAL_STATUS_HOST_SEEN));
    config(0, 10, -10 + 30, 1.0f, 1.0f, 300); /* accepted again (lo 10 <= hi 20) */
    m.config.joint_count = JOINTS + 1; /* N differs from this MCU's: ACK 2, nothing changes */
    m.config.state_rate_hz = 50;
    host(SPINAL_CONFIG, 400);
    CHECK(last(SPINAL_ACK)->ack.result == SPINAL_ACK_BAD_VALUE && status(SPINAL_STATUS_CONFIGURED) && mcu.state_rate_hz == 500);
    m.command.joint_count = 1; /* a COMMAND with another N is ignored and feeds nothing */
    m.command.mode = SPINAL_MODE_HOLD;
    host(SPINAL_COMMAND, 500);
    CHECK(!mcu.watchdog_armed && !out()->motors_enabled);
    command(SPINAL_MODE_POSITION, 15, 0.5f, 0.0f, 600);
    CHECK(out()->motors_enabled && mcu.watchdog_armed);
    m.estop.category = 2; /* category 2: ramp, then HOLD, powered */
    host(SPINAL_ESTOP, 700);
    heartbeat(60000); /* the watchdog stays fed: only the ESTOP acts */
    spinal_mcu_tick(&mcu, 700 + 100000);
    CHECK(out()->mode == SPINAL_DRIVE_HOLD && out()->motors_enabled);
    reset(SPINAL_RESET_ESTOP, 5, 100800);
    CHECK(out()->mode == SPINAL_DRIVE_HOLD && out()->motors_enabled); /* reset keeps what the stop left */
    m.estop.category = 1; /* a harder stop from HOLD: power removed after the ramp */
    host(SPINAL_ESTOP, 100900);
    heartbeat(160000);
    spinal_mcu_tick(&mcu, 100900 + 100000);
    CHECK(out()->mode == SPINAL_DRIVE_DISABLE && !out()->motors_enabled);
    reset(SPINAL_RESET_ESTOP, 6, 201000);
    CHECK(!out()->motors_enabled && status(SPINAL_STATUS_CONFIGURED | SPINAL_STATUS_HOST_SEEN)); /* only a reboot clears them */
}

int main(void)
{
    test_watchdog_trips_at_timeout();
    test_heartbeat_feeds();
    test_watchdog_unarmed_and_configured();
    test_watchdog_reset();
    test_latch_survives_commands();
    test_button_reset();
    test_fault_reset();
    test_fault_reset_hook();
    test_events();
    test_malformed_estop();
    test_stop_categories();
    test_clamping();
    test_time_sync_and_hello();
    test_state_rate();
    test_spec_1_1_decisions();
    printf("MCU TESTS %d checks, %d failed\n", checks, failed);
    return failed == 0 ? 0 : 1;
}
