/*
 * MCU safety core; the invariants it keeps are listed in spinal_mcu.h. Times are uint32_t
 * microseconds compared only by difference, so the clock may wrap (every 71.6 minutes).
 */
#include "spinal_mcu.h"

/* now - since, or 0 when `since` lies in the future (a frame timestamped after the caller's
 * `now`): a negative age must never look like a huge one and trip the watchdog. */
static uint32_t age(uint32_t now, uint32_t since)
{
    uint32_t d = now - since;
    return d < 0x80000000u ? d : 0u;
}

static void send(spinal_mcu_t *m, uint8_t type)
{
    if (m->cfg.send != NULL) m->cfg.send(m->cfg.send_ctx, type, &m->scratch);
}

static void notify(const spinal_mcu_t *m, uint8_t kind, uint8_t msg_type, uint8_t result)
{
    spinal_mcu_event_t ev;
    if (m->cfg.event == NULL) return;
    ev.kind = kind;
    ev.msg_type = msg_type;
    ev.result = result;
    ev.category = 0;
    ev.source = 0;
    ev.reason = 0;
    ev.flag = false;
    ev.msg = NULL;
    m->cfg.event(m->cfg.hook_ctx, &ev);
}

static void notify_stop(const spinal_mcu_t *m, uint8_t category, uint8_t source, uint16_t reason, bool malformed)
{
    spinal_mcu_event_t ev;
    if (m->cfg.event == NULL) return;
    ev.kind = SPINAL_EVENT_STOP;
    ev.msg_type = source == SPINAL_SRC_BUTTON || source == SPINAL_SRC_FAULT ? 0 : SPINAL_ESTOP;
    ev.result = 0;
    ev.category = category;
    ev.source = source;
    ev.reason = reason;
    ev.flag = malformed;
    ev.msg = NULL;
    m->cfg.event(m->cfg.hook_ctx, &ev);
}

static void send_ack(spinal_mcu_t *m, uint8_t type, uint16_t seq, uint8_t result, uint32_t detail)
{
    m->scratch.ack.acked_type = type;
    m->scratch.ack.result = result;
    m->scratch.ack.acked_seq = seq;
    m->scratch.ack.detail = detail;
    send(m, SPINAL_ACK);
}

static void report_estop(spinal_mcu_t *m, uint8_t category, uint8_t source, uint16_t reason)
{
    m->scratch.estop.category = category;
    m->scratch.estop.source = source;
    m->scratch.estop.reason = reason;
    send(m, SPINAL_ESTOP);
}

static void disable(spinal_mcu_t *m)
{
    m->stopping = false;
    m->out.motors_enabled = false;
    m->out.mode = SPINAL_DRIVE_DISABLE;
    m->out.ramp_scale = 0.0f;
}

/* Advances a controlled stop; at its end category 1 removes power and category 2 holds. */
static void update_ramp(spinal_mcu_t *m, uint32_t now)
{
    uint32_t t;
    if (!m->stopping) return;
    t = age(now, m->stop_start_us);
    if (t >= m->cfg.stop_ramp_us) {
        if (m->stop_category == 2) {
            m->stopping = false;
            m->out.mode = SPINAL_DRIVE_HOLD;
            m->out.ramp_scale = 0.0f;
        } else {
            disable(m);
        }
    } else {
        m->out.ramp_scale = 1.0f - (float)t / (float)m->cfg.stop_ramp_us;
    }
}

static void begin_stop(spinal_mcu_t *m, uint8_t category, uint32_t now)
{
    if (m->stopping && category >= m->stop_category) return; /* already stopping at least as hard */
    m->stop_category = category;
    if (!m->out.motors_enabled || category == 0) {
        disable(m); /* a stop never powers a disabled drive, and category 0 cuts power at once */
        return;
    }
    m->stopping = true;
    m->stop_start_us = now;
    m->out.mode = SPINAL_DRIVE_RAMP_DOWN;
    m->out.ramp_scale = 1.0f;
    update_ramp(m, now); /* a zero-length ramp ends at once */
}

static void latch(spinal_mcu_t *m, uint8_t category, uint32_t now)
{
    m->status |= SPINAL_STATUS_ESTOP_LATCHED;
    begin_stop(m, category, now);
}

static bool motion_blocked(const spinal_mcu_t *m)
{
    return (m->status & (SPINAL_STATUS_ESTOP_LATCHED | SPINAL_STATUS_WATCHDOG_TRIPPED)) != 0;
}

static float clampf(float x, float lim) { return x > lim ? lim : (x < -lim ? -lim : x); }

/* Clamps the drive targets to the effective limits; run on every COMMAND and CONFIG. Returns
 * whether any target changed. */
static bool clamp_targets(spinal_mcu_t *m)
{
    uint8_t j;
    bool clamped = false;
    for (j = 0; j < m->out.joint_count; j++) {
        const spinal_limits_t *l = &m->limits[j];
        int32_t p = m->out.position[j];
        float v = m->out.velocity[j], i = m->out.feedforward[j];
        if (p < l->pos_min) p = l->pos_min;
        if (p > l->pos_max) p = l->pos_max;
        v = clampf(v, l->vel_max);
        i = clampf(i, l->current_max);
        if (p != m->out.position[j] || v != m->out.velocity[j] || i != m->out.feedforward[j]) clamped = true;
        m->out.position[j] = p;
        m->out.velocity[j] = v;
        m->out.feedforward[j] = i;
    }
    return clamped;
}

/* Returns the COMMAND event's result: 1 obeyed, 0 ignored; *clamped when a target was clamped. */
static uint8_t apply_command(spinal_mcu_t *m, const spinal_command_t *c, bool *clamped)
{
    uint8_t j;
    *clamped = false;
    if (c->mode == SPINAL_MODE_DISABLE) { /* always obeyed, even latched: removing power is safe */
        disable(m);
        return 1;
    }
    if (motion_blocked(m)) return 0;
    if (c->mode != SPINAL_MODE_HOLD && !(m->status & SPINAL_STATUS_CONFIGURED)) return 0; /* no limits yet */
    m->stopping = false;
    m->out.motors_enabled = true;
    m->out.mode = c->mode;
    m->out.ramp_scale = 0.0f;
    if (c->mode == SPINAL_MODE_HOLD) return 1;
    for (j = 0; j < m->out.joint_count; j++) {
        m->out.position[j] = c->position[j];
        m->out.velocity[j] = c->velocity[j];
        m->out.feedforward[j] = c->feedforward[j];
    }
    *clamped = clamp_targets(m);
    return 1;
}

/* CONFIG: effective limits are the intersection with the firmware's hard limits. */
static uint8_t apply_config(spinal_mcu_t *m, const spinal_config_t *c)
{
    uint8_t j;
    spinal_limits_t *l = m->limits;
    if (c->joint_count != m->cfg.joint_count) return SPINAL_ACK_BAD_VALUE;
    if (c->state_rate_hz > SPINAL_MAX_STATE_RATE_HZ) return SPINAL_ACK_BAD_VALUE;
    if (m->cfg.hard_limits != NULL) {
        for (j = 0; j < c->joint_count; j++) { /* check first: a refused CONFIG changes nothing */
            const spinal_limits_t *h = &m->cfg.hard_limits[j];
            if (c->pos_max[j] < h->pos_min || c->pos_min[j] > h->pos_max) return SPINAL_ACK_BAD_VALUE;
        }
    }
    for (j = 0; j < c->joint_count; j++) {
        l[j].pos_min = c->pos_min[j]; l[j].pos_max = c->pos_max[j];
        l[j].vel_max = c->vel_max[j]; l[j].current_max = c->current_max[j];
        if (m->cfg.hard_limits != NULL) {
            const spinal_limits_t *h = &m->cfg.hard_limits[j];
            if (h->pos_min > l[j].pos_min) l[j].pos_min = h->pos_min;
            if (h->pos_max < l[j].pos_max) l[j].pos_max = h->pos_max;
            if (h->vel_max < l[j].vel_max) l[j].vel_max = h->vel_max;
            if (h->current_max < l[j].current_max) l[j].current_max = h->current_max;
        }
    }
    m->watchdog_ms = c->watchdog_ms != 0 ? c->watchdog_ms : m->cfg.watchdog_ms;
    if (c->state_rate_hz != 0) m->state_rate_hz = c->state_rate_hz;
    m->status |= SPINAL_STATUS_CONFIGURED;
    (void)clamp_targets(m);
    return SPINAL_ACK_OK;
}

/* RESET is all or nothing: any requested part that is unsafe refuses the whole request. It only
 * clears flags; the output stays as the stop left it (DISABLE, or HOLD) until the next COMMAND.
 * With bit 1 the drives are first asked to clear their faults (cfg.reset_faults); a fault that
 * survives that persists, and refuses the reset. */
static uint8_t apply_reset(spinal_mcu_t *m, uint8_t what, uint32_t rx_us)
{
    if ((what & SPINAL_RESET_ESTOP) && m->button_pressed) return SPINAL_ACK_REFUSED_UNSAFE;
    if ((what & SPINAL_RESET_FAULTS) && m->faults_active != 0 && m->cfg.reset_faults != NULL) {
        m->faults_active = m->cfg.reset_faults(m->cfg.hook_ctx);
    }
    if ((what & SPINAL_RESET_ESTOP) && m->faults_active != 0) return SPINAL_ACK_REFUSED_UNSAFE;
    if ((what & SPINAL_RESET_FAULTS) && m->faults_active != 0) return SPINAL_ACK_REFUSED_UNSAFE;
    if (what & SPINAL_RESET_ESTOP) m->status &= (uint16_t)~SPINAL_STATUS_ESTOP_LATCHED;
    if (what & SPINAL_RESET_FAULTS) {
        m->faults_latched = 0;
        m->joint_fault_mask = 0;
    }
    if (what & SPINAL_RESET_WATCHDOG) {
        m->status &= (uint16_t)~SPINAL_STATUS_WATCHDOG_TRIPPED;
        m->last_feed_us = rx_us; /* the host is alive: give it a full period again */
    }
    return SPINAL_ACK_OK;
}

static void feed(spinal_mcu_t *m, uint32_t rx_us)
{
    m->watchdog_armed = true;
    m->last_feed_us = rx_us;
}

/* The LOG that goes with the report of a malformed ESTOP (SPEC, ESTOP fail-safe rule). */
static void log_malformed_estop(spinal_mcu_t *m)
{
    static const char text[] = "malformed ESTOP: stopped as category 0";
    uint8_t i;
    m->scratch.log.level = 2; /* warn */
    m->scratch.log.text_len = (uint8_t)(sizeof text - 1u);
    for (i = 0; i < sizeof text - 1u; i++) m->scratch.log.text[i] = (uint8_t)text[i];
    send(m, SPINAL_LOG);
}

spinal_err_t spinal_mcu_on_frame(spinal_mcu_t *m, const spinal_frame_t *f, uint32_t rx_us, uint32_t now_us)
{
    spinal_err_t err = spinal_read_body(f->type, f->body, f->body_len, &m->scratch);
    uint16_t seq = f->seq;
    if (err != SPINAL_OK) notify(m, SPINAL_EVENT_BODY_ERROR, f->type, (uint8_t)err);
    if (f->type == SPINAL_ESTOP) {
        if (err != SPINAL_OK) { /* fail-safe rule: a malformed ESTOP still stops, as category 0 */
            latch(m, 0, now_us);
            report_estop(m, 0, SPINAL_SRC_HOST, SPINAL_REASON_MALFORMED_ESTOP);
            log_malformed_estop(m);
            notify_stop(m, 0, SPINAL_SRC_HOST, SPINAL_REASON_MALFORMED_ESTOP, true);
        } else {
            spinal_estop_t e = m->scratch.estop;
            latch(m, e.category, now_us);
            notify_stop(m, e.category, e.source, e.reason, false);
        }
        m->status |= SPINAL_STATUS_HOST_SEEN;
        return err;
    }
    if (err != SPINAL_OK) { /* refused body; CONFIG and RESET are still answered (SPEC 1.1 section 4) */
        /* An 8-byte RESET had its token read (only its `what` was refused): echo it. */
        uint32_t token = (f->type == SPINAL_RESET && f->body_len == 8u) ? m->scratch.reset.token : 0u;
        if (f->type == SPINAL_CONFIG || f->type == SPINAL_RESET) send_ack(m, f->type, seq, SPINAL_ACK_BAD_VALUE, token);
        if (f->type == SPINAL_RESET) notify(m, SPINAL_EVENT_RESET, SPINAL_RESET, SPINAL_ACK_BAD_VALUE);
        return err;
    }
    m->status |= SPINAL_STATUS_HOST_SEEN;
    switch (f->type) {
    case SPINAL_COMMAND: {
        const spinal_command_t *c = &m->scratch.command;
        spinal_mcu_event_t ev;
        ev.kind = SPINAL_EVENT_COMMAND;
        ev.msg_type = SPINAL_COMMAND;
        ev.category = 0;
        ev.source = 0;
        ev.reason = 0;
        ev.flag = false;
        ev.msg = &m->scratch;
        /* Targets must cover every joint; DISABLE and HOLD carry none and may send 0 joints. */
        if (c->joint_count != m->cfg.joint_count && !(c->joint_count == 0 && c->mode <= SPINAL_MODE_HOLD)) {
            ev.result = 2;
        } else {
            feed(m, rx_us);
            ev.result = apply_command(m, c, &ev.flag);
            update_ramp(m, now_us);
        }
        if (m->cfg.event != NULL) m->cfg.event(m->cfg.hook_ctx, &ev);
        break;
    }
    case SPINAL_HEARTBEAT:
        feed(m, rx_us);
        break;
    case SPINAL_RESET: {
        uint32_t token = m->scratch.reset.token;
        uint8_t result = apply_reset(m, m->scratch.reset.what, rx_us);
        send_ack(m, SPINAL_RESET, seq, result, token);
        notify(m, SPINAL_EVENT_RESET, SPINAL_RESET, result);
        break;
    }
    case SPINAL_CONFIG:
        send_ack(m, SPINAL_CONFIG, seq, apply_config(m, &m->scratch.config), 0);
        break;
    case SPINAL_TIME_SYNC_REQ: {
        spinal_time_sync_resp_t *r = &m->scratch.time_sync_resp;
        /* id sits first in both structs of the union, so it is already in place. */
        r->mcu_rx_us = rx_us;
        r->mcu_tx_us = now_us;
        send(m, SPINAL_TIME_SYNC_RESP);
        break;
    }
    case SPINAL_HELLO:
        spinal_mcu_send_hello(m);
        break;
    default: /* STATE, TIME_SYNC_RESP, ACK, LOG travel MCU -> host: not ours to act on */
        break;
    }
    return SPINAL_OK;
}

void spinal_mcu_tick(spinal_mcu_t *m, uint32_t now_us)
{
    if (m->watchdog_armed && !(m->status & SPINAL_STATUS_WATCHDOG_TRIPPED) &&
        age(now_us, m->last_feed_us) >= (uint32_t)m->watchdog_ms * 1000u) {
        m->status |= SPINAL_STATUS_WATCHDOG_TRIPPED;
        begin_stop(m, 1, now_us);
        report_estop(m, 1, SPINAL_SRC_WATCHDOG, SPINAL_REASON_WATCHDOG);
        notify(m, SPINAL_EVENT_WATCHDOG, 0, 0);
    }
    update_ramp(m, now_us);
}

void spinal_mcu_set_button(spinal_mcu_t *m, bool pressed, uint32_t now_us)
{
    if (pressed && !m->button_pressed) {
        latch(m, m->cfg.button_category, now_us);
        report_estop(m, m->cfg.button_category, SPINAL_SRC_BUTTON, SPINAL_REASON_BUTTON);
        notify_stop(m, m->cfg.button_category, SPINAL_SRC_BUTTON, SPINAL_REASON_BUTTON, false);
    }
    m->button_pressed = pressed;
}

void spinal_mcu_set_faults(spinal_mcu_t *m, uint16_t faults, uint32_t joint_fault_mask, uint32_t now_us)
{
    uint16_t fresh = (uint16_t)(faults & ~m->faults_active);
    m->faults_active = faults;
    m->faults_latched |= faults;
    m->joint_fault_mask |= joint_fault_mask;
    if (fresh != 0) {
        latch(m, m->cfg.fault_category, now_us);
        report_estop(m, m->cfg.fault_category, SPINAL_SRC_FAULT, SPINAL_REASON_FAULT);
        notify_stop(m, m->cfg.fault_category, SPINAL_SRC_FAULT, SPINAL_REASON_FAULT, false);
    }
}

void spinal_mcu_send_hello(spinal_mcu_t *m)
{
    /* The fields the host checks come from the build and the config, not the template. */
    m->scratch.hello = m->cfg.hello;
    m->scratch.hello.proto_major = SPINAL_PROTO_MAJOR;
    m->scratch.hello.proto_minor = SPINAL_PROTO_MINOR;
    m->scratch.hello.joint_count = m->cfg.joint_count;
    m->scratch.hello.role = 1;
    send(m, SPINAL_HELLO);
}

const spinal_drive_t *spinal_mcu_output(const spinal_mcu_t *m) { return &m->out; }

uint16_t spinal_mcu_status(const spinal_mcu_t *m)
{
    uint16_t s = m->status;
    if (m->out.motors_enabled) s |= SPINAL_STATUS_MOTORS_ENABLED;
    if (m->stopping) s |= SPINAL_STATUS_STOPPING;
    return s;
}

void spinal_mcu_fill_state(const spinal_mcu_t *m, spinal_state_t *st)
{
    st->status = spinal_mcu_status(m);
    st->faults = (uint16_t)(m->faults_latched | m->faults_active);
    st->joint_fault_mask = m->joint_fault_mask;
}

bool spinal_mcu_state_due(spinal_mcu_t *m, uint32_t now_us)
{
    uint32_t period, late = now_us - m->next_state_us;
    if (m->state_rate_hz == 0 || late >= 0x80000000u) return false; /* off, or not yet due */
    period = 1000000u / m->state_rate_hz;
    /* Keep the cadence, but after a long stall restart it rather than bursting to catch up. */
    m->next_state_us = late >= period ? now_us + period : m->next_state_us + period;
    return true;
}

void spinal_mcu_config_defaults(spinal_mcu_config_t *cfg, uint8_t joint_count)
{
    uint8_t i;
    cfg->joint_count = joint_count;
    cfg->watchdog_ms = SPINAL_DEFAULT_WATCHDOG_MS;
    cfg->state_rate_hz = 100;
    cfg->stop_ramp_us = 200000u;
    cfg->button_category = 0;
    cfg->fault_category = 0;
    cfg->hard_limits = NULL;
    cfg->hello.proto_major = SPINAL_PROTO_MAJOR;
    cfg->hello.proto_minor = SPINAL_PROTO_MINOR;
    cfg->hello.fw_major = 0; cfg->hello.fw_minor = 0; cfg->hello.fw_patch = 0;
    cfg->hello.joint_count = joint_count;
    cfg->hello.role = 1;
    cfg->hello.capabilities = 0;
    for (i = 0; i <= SPINAL_PROFILE_ID_SIZE; i++) cfg->hello.profile_id[i] = '\0';
    cfg->hello.device_id = 0;
    cfg->send = NULL;
    cfg->send_ctx = NULL;
    cfg->event = NULL;
    cfg->reset_faults = NULL;
    cfg->hook_ctx = NULL;
}

void spinal_mcu_init(spinal_mcu_t *m, const spinal_mcu_config_t *cfg, uint32_t now_us)
{
    uint8_t j;
    m->cfg = *cfg;
    if (m->cfg.joint_count > SPINAL_MAX_JOINTS) m->cfg.joint_count = SPINAL_MAX_JOINTS;
    if (m->cfg.watchdog_ms == 0) m->cfg.watchdog_ms = SPINAL_DEFAULT_WATCHDOG_MS;
    m->watchdog_ms = m->cfg.watchdog_ms;
    m->state_rate_hz = m->cfg.state_rate_hz;
    m->status = 0;
    m->faults_active = 0;
    m->faults_latched = 0;
    m->joint_fault_mask = 0;
    m->watchdog_armed = false; /* armed by the host's first COMMAND or HEARTBEAT; motors are off until then */
    m->last_feed_us = now_us;
    m->stopping = false;
    m->stop_category = 0;
    m->stop_start_us = now_us;
    m->button_pressed = false;
    m->next_state_us = now_us;
    m->out.joint_count = m->cfg.joint_count;
    for (j = 0; j < SPINAL_MAX_JOINTS; j++) {
        m->out.position[j] = 0;
        m->out.velocity[j] = 0.0f;
        m->out.feedforward[j] = 0.0f;
        m->limits[j].pos_min = 0;
        m->limits[j].pos_max = 0;
        m->limits[j].vel_max = 0.0f;
        m->limits[j].current_max = 0.0f;
    }
    disable(m);
}
