/*
 * The control tick around the shared core; see app.h for the concurrency contract.
 *
 * Order inside one tick (as on the STM32 sketch this grew from): host frames first, so a COMMAND
 * that arrived in time feeds the watchdog before it runs; then the hardware inputs, the watchdog
 * and stop ramp; then the drives do what the core says; then STATE when due; then TX is kicked.
 * Time comes from the free-running clock at each step, never from counting ticks: an emulator (or
 * a long interrupt) may merge several tick interrupts into one, and the core only uses differences.
 */
#include "app.h"

#define RX_RING 2048u /* power of two */
#define TX_RING 8192u /* power of two; several STATE frames at the highest rate */

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_time[RX_RING]; /* clock at each byte; read for delimiters only */
static volatile uint32_t rx_head, rx_tail; /* head: written by the RX ISR; tail: by the tick */

static volatile uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail; /* head: written by the tick; tail: by the TX ISR */

static spinal_mcu_t mcu;
static spinal_decoder_t dec;
static spinal_encoder_t enc; /* the one MCU->host encoder: STATE and replies share its seq */
static spinal_msg_t state_msg;
static uint8_t frame_buf[SPINAL_MAX_FRAME];
static uint8_t joint_count;

volatile app_probe_t app_probe __attribute__((section(".probe")));

/* Queues a whole frame or nothing: a partial frame would cost the host a resync. */
static void queue_frame(uint8_t type, const spinal_msg_t *msg)
{
    long n = spinal_encode(&enc, type, msg, board_now_us(), frame_buf, sizeof frame_buf);
    uint32_t head = tx_head, i;
    if (n < 0) return; /* a message the protocol forbids: nothing reaches the wire */
    if ((uint32_t)n > TX_RING - 1u - (head - tx_tail)) {
        app_probe.tx_dropped++;
        return;
    }
    for (i = 0; i < (uint32_t)n; i++) tx_ring[(head + i) & (TX_RING - 1u)] = frame_buf[i];
    tx_head = head + (uint32_t)n; /* published after the bytes */
}

static void on_send(void *ctx, uint8_t type, const spinal_msg_t *msg)
{
    (void)ctx;
    queue_frame(type, msg);
}

static void on_event(void *ctx, const spinal_mcu_event_t *ev)
{
    (void)ctx;
    switch (ev->kind) {
    case SPINAL_EVENT_COMMAND:
        if (ev->result == 1u) {
            app_probe.commands_obeyed++;
            if (ev->flag) app_probe.commands_clamped++;
        } else if (ev->result == 0u) {
            app_probe.commands_ignored++;
        }
        break;
    case SPINAL_EVENT_STOP: app_probe.stops++; break;
    case SPINAL_EVENT_WATCHDOG: app_probe.watchdog_trips++; break;
    case SPINAL_EVENT_RESET:
        if (ev->result == SPINAL_ACK_OK) app_probe.resets_accepted++;
        break;
    default: break;
    }
}

void app_init(const app_config_t *cfg)
{
    spinal_mcu_config_t c = cfg->mcu;
    uint32_t now = board_now_us();
    c.send = on_send;
    c.event = on_event;
    joint_count = c.joint_count;
    app_probe.magic = APP_PROBE_MAGIC;
    spinal_decoder_init(&dec);
    spinal_encoder_init(&enc, 0);
    spinal_mcu_init(&mcu, &c, now);
    state_msg.state.joint_count = c.joint_count;
    state_msg.state.flags = cfg->state_flags;
    drive_apply(spinal_mcu_output(&mcu), now);
    spinal_mcu_send_hello(&mcu); /* HELLO on boot (lost if nobody has the port open yet) */
    board_tx_kick();
}

void app_rx_byte(uint8_t byte, uint32_t now_us)
{
    uint32_t head = rx_head;
    if (head - rx_tail >= RX_RING) {
        app_probe.rx_overruns++; /* the decoder sees a broken segment and resynchronises at 0x00 */
        return;
    }
    rx_ring[head & (RX_RING - 1u)] = byte;
    rx_time[head & (RX_RING - 1u)] = now_us;
    rx_head = head + 1u;
}

void app_rx_overrun(void) { app_probe.rx_overruns++; }

bool app_tx_next(uint8_t *byte)
{
    uint32_t tail = tx_tail;
    if (tail == tx_head) return false;
    *byte = tx_ring[tail & (TX_RING - 1u)];
    tx_tail = tail + 1u;
    return true;
}

void app_tick(void)
{
    uint32_t t, jfm = 0, i;
    uint16_t faults;
    const spinal_drive_t *out;

    while (rx_tail != rx_head) {
        uint32_t k = rx_tail & (RX_RING - 1u);
        spinal_rx_t r = spinal_decoder_push_byte(&dec, rx_ring[k]);
        if (r == SPINAL_RX_FRAME) (void)spinal_mcu_on_frame(&mcu, &dec.frame, rx_time[k], board_now_us());
        rx_tail = rx_tail + 1u;
    }

    t = board_now_us();
    spinal_mcu_set_button(&mcu, board_estop_pressed(), t);
    faults = drive_faults(&jfm);
    spinal_mcu_set_faults(&mcu, faults, jfm, t);
    spinal_mcu_tick(&mcu, t);

    out = spinal_mcu_output(&mcu);
    drive_apply(out, t);

    if (spinal_mcu_state_due(&mcu, t)) {
        drive_read(&state_msg.state, t);
        state_msg.state.joint_count = joint_count;
        spinal_mcu_fill_state(&mcu, &state_msg.state);
        queue_frame(SPINAL_STATE, &state_msg);
        app_probe.state_sent++;
    }
    board_tx_kick();

    app_probe.status = spinal_mcu_status(&mcu);
    app_probe.ticks++;
    app_probe.now_us = t;
    app_probe.frames_rx = dec.counters.frames;
    app_probe.crc_errors = dec.counters.crc_errors;
    app_probe.resyncs = dec.counters.resyncs;
    app_probe.drive_mode = out->mode;
    for (i = 0; i < 4u; i++) app_probe.out_position[i] = i < joint_count ? out->position[i] : 0;
}
