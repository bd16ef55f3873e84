/*
 * WebAssembly glue around the MCU core, for the virtual firmware (firmware-shim/virtual/mcu.ts).
 * Not part of a firmware build: a real MCU has its own main loop (see ports/common/app.c and the boards under ports/).
 *
 * One module instance is one MCU: the core, its decoder and its encoder are statics here, and the
 * JavaScript side reaches them only through the functions below and three imports:
 *   env.frame_out(len, type)   a frame of `len` bytes is in sw_tx_ptr(); send it before returning
 *   env.event(kind, ...)       a core event (spinal_mcu_event_t, flattened), or a decoder error
 *   env.reset_faults()         RESET bit 1 asks the drives to clear their faults; returns those left
 * Buffers exchanged with JavaScript (received bytes, sensor readings, drive targets) are fixed
 * arrays whose addresses JavaScript asks for once; memory never grows (there is no heap).
 *
 * Times are the MCU's free-running microsecond clock (uint32_t, wraps), as on the real part.
 */
#include "spinal_mcu.h"

#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("frame_out") void js_frame_out(uint32_t len, uint32_t type);
IMPORT("event") void js_event(uint32_t kind, uint32_t msg_type, uint32_t result, uint32_t category, uint32_t source, uint32_t reason, uint32_t flag);
IMPORT("reset_faults") uint32_t js_reset_faults(void);

/* Decoder errors, reported through env.event with this kind and the spinal_rx_t as msg_type. */
#define SW_EVENT_RX_ERROR 16u
/* A frame whose body fit its type, reported with its type (for the per-type counters). */
#define SW_EVENT_FRAME 17u

/* Result bits of the calls that may change the drive output. */
#define SW_OUT_CHANGED 1u
#define SW_STATE_DUE 2u

#define SW_RX_CAPACITY 4096u

/* The compiler may call these for struct copies; there is no C library in this module. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    while (n-- > 0) *d++ = *s++;
    return dst;
}
void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    while (n-- > 0) *d++ = (uint8_t)c;
    return dst;
}

static spinal_mcu_config_t cfg;
static spinal_limits_t hard[SPINAL_MAX_JOINTS];
static spinal_mcu_t mcu;
static spinal_decoder_t dec;
static spinal_encoder_t enc;
static spinal_msg_t state_msg;             /* sensors written by JavaScript, status by the core */
static spinal_drive_t applied;             /* the output as JavaScript last read it */
static spinal_command_t last_cmd;          /* last valid COMMAND (obeyed or ignored) */
static uint8_t tx[SPINAL_MAX_FRAME];
static uint8_t rx[SW_RX_CAPACITY];
static uint32_t now_us;                    /* stamps the frames sent */

static void on_send(void *ctx, uint8_t type, const spinal_msg_t *msg)
{
    long n = spinal_encode(&enc, type, msg, now_us, tx, sizeof tx);
    (void)ctx;
    if (n > 0) js_frame_out((uint32_t)n, type);
}

static void on_event(void *ctx, const spinal_mcu_event_t *ev)
{
    (void)ctx;
    if (ev->kind == SPINAL_EVENT_COMMAND && ev->result != 2u && ev->msg != NULL) last_cmd = ev->msg->command;
    js_event(ev->kind, ev->msg_type, ev->result, ev->category, ev->source, ev->reason, ev->flag ? 1u : 0u);
}

static uint16_t on_reset_faults(void *ctx)
{
    (void)ctx;
    return (uint16_t)js_reset_faults();
}

/* SW_OUT_CHANGED when the drive output differs from what JavaScript last applied. */
static uint32_t out_changed(void)
{
    const uint8_t *a = (const uint8_t *)&mcu.out, *b = (const uint8_t *)&applied;
    size_t i;
    for (i = 0; i < sizeof applied; i++) {
        if (a[i] != b[i]) {
            applied = mcu.out;
            return SW_OUT_CHANGED;
        }
    }
    return 0;
}

/* ---- configuration, before sw_boot ---------------------------------------------------------- */

EXPORT("sw_configure")
void sw_configure(uint32_t joint_count, uint32_t watchdog_ms, uint32_t state_rate_hz, uint32_t stop_ramp_us,
                  uint32_t fault_category, uint32_t button_category)
{
    spinal_mcu_config_defaults(&cfg, (uint8_t)joint_count);
    cfg.watchdog_ms = (uint16_t)watchdog_ms;
    cfg.state_rate_hz = (uint16_t)state_rate_hz;
    cfg.stop_ramp_us = stop_ramp_us;
    cfg.fault_category = (uint8_t)fault_category;
    cfg.button_category = (uint8_t)button_category;
    cfg.send = on_send;
    cfg.event = on_event;
    cfg.reset_faults = on_reset_faults;
}

EXPORT("sw_set_hello")
void sw_set_hello(uint32_t fw_major, uint32_t fw_minor, uint32_t fw_patch, uint32_t capabilities, uint32_t device_id)
{
    cfg.hello.fw_major = (uint8_t)fw_major;
    cfg.hello.fw_minor = (uint8_t)fw_minor;
    cfg.hello.fw_patch = (uint16_t)fw_patch;
    cfg.hello.capabilities = capabilities;
    cfg.hello.device_id = device_id;
}

/* SPINAL_PROFILE_ID_SIZE + 1 bytes: JavaScript writes the NUL-terminated profile id here. */
EXPORT("sw_profile_id_ptr") char *sw_profile_id_ptr(void) { return cfg.hello.profile_id; }

EXPORT("sw_set_hard_limit")
void sw_set_hard_limit(uint32_t joint, int32_t pos_min, int32_t pos_max, float vel_max, float current_max)
{
    if (joint >= SPINAL_MAX_JOINTS) return;
    hard[joint].pos_min = pos_min;
    hard[joint].pos_max = pos_max;
    hard[joint].vel_max = vel_max;
    hard[joint].current_max = current_max;
    cfg.hard_limits = hard;
}

/* Power-on: the core starts, the MCU says HELLO. */
EXPORT("sw_boot")
void sw_boot(uint32_t now, uint32_t state_flags)
{
    now_us = now;
    spinal_mcu_init(&mcu, &cfg, now);
    spinal_decoder_init(&dec);
    spinal_encoder_init(&enc, 0);
    applied = mcu.out;
    state_msg.state.joint_count = cfg.joint_count;
    state_msg.state.flags = (uint8_t)state_flags;
    spinal_mcu_send_hello(&mcu);
}

/* ---- running ------------------------------------------------------------------------------- */

/* `len` bytes from the host, already copied to sw_rx_ptr(), their delimiter seen at rx_us. */
EXPORT("sw_receive")
uint32_t sw_receive(uint32_t len, uint32_t rx_us, uint32_t now)
{
    uint32_t i;
    now_us = now;
    if (len > SW_RX_CAPACITY) len = SW_RX_CAPACITY;
    for (i = 0; i < len; i++) {
        spinal_rx_t r = spinal_decoder_push_byte(&dec, rx[i]);
        if (r == SPINAL_RX_FRAME) {
            uint8_t type = dec.frame.type;
            if (spinal_mcu_on_frame(&mcu, &dec.frame, rx_us, now) == SPINAL_OK) js_event(SW_EVENT_FRAME, type, 0, 0, 0, 0, 0);
        } else if (r != SPINAL_RX_NONE) {
            js_event(SW_EVENT_RX_ERROR, (uint32_t)r, 0, 0, 0, 0, 0);
        }
    }
    return out_changed();
}

/* One pass of the MCU's 1 kHz loop: watchdog, stop ramp, STATE cadence. */
EXPORT("sw_tick")
uint32_t sw_tick(uint32_t now)
{
    now_us = now;
    spinal_mcu_tick(&mcu, now);
    return out_changed() | (spinal_mcu_state_due(&mcu, now) ? SW_STATE_DUE : 0u);
}

/* Sends a STATE from the sensor values JavaScript wrote to the sw_state_* arrays. */
EXPORT("sw_send_state")
void sw_send_state(void)
{
    spinal_mcu_fill_state(&mcu, &state_msg.state);
    on_send(NULL, SPINAL_STATE, &state_msg);
}

EXPORT("sw_set_button")
uint32_t sw_set_button(uint32_t pressed, uint32_t now)
{
    now_us = now;
    spinal_mcu_set_button(&mcu, pressed != 0, now);
    return out_changed();
}

EXPORT("sw_set_faults")
uint32_t sw_set_faults(uint32_t faults, uint32_t joint_fault_mask, uint32_t now)
{
    now_us = now;
    spinal_mcu_set_faults(&mcu, (uint16_t)faults, joint_fault_mask, now);
    return out_changed();
}

/* ---- buffers and read-outs ----------------------------------------------------------------- */

EXPORT("sw_rx_ptr") uint8_t *sw_rx_ptr(void) { return rx; }
EXPORT("sw_rx_capacity") uint32_t sw_rx_capacity(void) { return SW_RX_CAPACITY; }
EXPORT("sw_tx_ptr") uint8_t *sw_tx_ptr(void) { return tx; }
EXPORT("sw_rx_counters_ptr") spinal_rx_counters_t *sw_rx_counters_ptr(void) { return &dec.counters; }

EXPORT("sw_state_position_ptr") int32_t *sw_state_position_ptr(void) { return state_msg.state.position; }
EXPORT("sw_state_velocity_ptr") float *sw_state_velocity_ptr(void) { return state_msg.state.velocity; }
EXPORT("sw_state_current_ptr") float *sw_state_current_ptr(void) { return state_msg.state.current; }
EXPORT("sw_state_accel_ptr") float *sw_state_accel_ptr(void) { return state_msg.state.accel; }
EXPORT("sw_state_gyro_ptr") float *sw_state_gyro_ptr(void) { return state_msg.state.gyro; }
EXPORT("sw_state_quat_ptr") float *sw_state_quat_ptr(void) { return state_msg.state.quat; }
/* STATE.imu_sample (SPEC 1.1) of the next STATE: the IMU driver's sample counter. */
EXPORT("sw_state_set_imu_sample") void sw_state_set_imu_sample(uint32_t n) { state_msg.state.imu_sample = (uint16_t)n; }

EXPORT("sw_out_enabled") uint32_t sw_out_enabled(void) { return mcu.out.motors_enabled ? 1u : 0u; }
EXPORT("sw_out_mode") uint32_t sw_out_mode(void) { return mcu.out.mode; }
EXPORT("sw_out_ramp_scale") float sw_out_ramp_scale(void) { return mcu.out.ramp_scale; }
EXPORT("sw_out_position_ptr") int32_t *sw_out_position_ptr(void) { return mcu.out.position; }
EXPORT("sw_out_velocity_ptr") float *sw_out_velocity_ptr(void) { return mcu.out.velocity; }
EXPORT("sw_out_feedforward_ptr") float *sw_out_feedforward_ptr(void) { return mcu.out.feedforward; }

EXPORT("sw_status") uint32_t sw_status(void) { return spinal_mcu_status(&mcu); }
EXPORT("sw_watchdog_ms") uint32_t sw_watchdog_ms(void) { return mcu.watchdog_ms; }
EXPORT("sw_state_rate_hz") uint32_t sw_state_rate_hz(void) { return mcu.state_rate_hz; }

EXPORT("sw_cmd_joint_count") uint32_t sw_cmd_joint_count(void) { return last_cmd.joint_count; }
EXPORT("sw_cmd_mode") uint32_t sw_cmd_mode(void) { return last_cmd.mode; }
EXPORT("sw_cmd_position_ptr") int32_t *sw_cmd_position_ptr(void) { return last_cmd.position; }
EXPORT("sw_cmd_velocity_ptr") float *sw_cmd_velocity_ptr(void) { return last_cmd.velocity; }
EXPORT("sw_cmd_feedforward_ptr") float *sw_cmd_feedforward_ptr(void) { return last_cmd.feedforward; }
