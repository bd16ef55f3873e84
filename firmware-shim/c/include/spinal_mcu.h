/*
 * MCU safety core (SPEC.md section 4): watchdog, e-stop latch, stop ramps, CONFIG limits and the
 * replies the MCU owes the host. A pure state machine: the caller supplies time in microseconds
 * (a free-running uint32_t clock; only differences are used, so it may wrap), host frames from the
 * decoder, button and fault inputs; it reads back what the drives must do (spinal_mcu_output) and
 * receives the frames to send through a callback. No heap, no OS, no clock of its own.
 *
 * Invariants, all enforced here rather than left to the drive layer:
 *  - Motors are enabled only by a COMMAND accepted while neither the e-stop latch nor a watchdog
 *    trip is set, or by a category 2 stop that found them enabled (it holds position). Nothing
 *    else (RESET, CONFIG, time passing) enables them.
 *  - While ESTOP_LATCHED or WATCHDOG_TRIPPED, only COMMAND DISABLE changes the output.
 *  - A stop never makes the output less safe: a later stop of a higher (milder) category than the
 *    active one is ignored, and a stop that finds the motors disabled keeps them disabled.
 *  - Targets handed to the drives lie within the effective limits (CONFIG intersected with the
 *    firmware's hard limits); motion modes are refused until a CONFIG was accepted.
 */
#ifndef SPINAL_MCU_H
#define SPINAL_MCU_H

#include "spinal_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPINAL_DEFAULT_WATCHDOG_MS 100u
/* Highest STATE rate a CONFIG may ask for (SPEC: STATE up to 1 kHz); above it CONFIG is refused. */
#define SPINAL_MAX_STATE_RATE_HZ 1000u

/* What the drives run. Values 0..4 equal COMMAND.mode. */
enum {
    SPINAL_DRIVE_DISABLE = 0,  /* power removed */
    SPINAL_DRIVE_HOLD = 1,     /* hold the position measured when HOLD began */
    SPINAL_DRIVE_POSITION = 2,
    SPINAL_DRIVE_VELOCITY = 3,
    SPINAL_DRIVE_CURRENT = 4,
    SPINAL_DRIVE_RAMP_DOWN = 5 /* controlled stop: bring every joint's velocity to zero */
};

/* ESTOP.reason codes this core uses in its reports (the field is free for logs). */
enum { SPINAL_REASON_NONE = 0, SPINAL_REASON_WATCHDOG = 1, SPINAL_REASON_MALFORMED_ESTOP = 2, SPINAL_REASON_BUTTON = 3, SPINAL_REASON_FAULT = 4 };

typedef struct {
    int32_t pos_min, pos_max; /* counts */
    float vel_max;            /* counts/s, >= 0 */
    float current_max;        /* A, >= 0 */
} spinal_limits_t;

typedef struct {
    bool motors_enabled; /* power to the drive stages */
    uint8_t mode;        /* SPINAL_DRIVE_* */
    uint8_t joint_count;
    /* POSITION/VELOCITY/CURRENT: targets already clamped to the effective limits. */
    int32_t position[SPINAL_MAX_JOINTS];
    float velocity[SPINAL_MAX_JOINTS];
    float feedforward[SPINAL_MAX_JOINTS];
    /* RAMP_DOWN: fraction (1 to 0, linear over stop_ramp_us) of each joint's velocity at the
     * start of the stop that it may still have; at 0 the stop ends (DISABLE, or HOLD for cat 2). */
    float ramp_scale;
} spinal_drive_t;

/* What the core decided, for logs, counters and tests; it needs no answer. */
enum {
    SPINAL_EVENT_COMMAND = 1, /* a valid COMMAND: result 1 obeyed, 0 ignored (latched, or motion
                               * before CONFIG), 2 rejected (joint count); flag: a target was clamped */
    SPINAL_EVENT_STOP = 2,    /* a stop latched: category, source, reason; flag: from a malformed ESTOP */
    SPINAL_EVENT_WATCHDOG = 3, /* the watchdog tripped (its stop is reported as ESTOP, not as STOP) */
    SPINAL_EVENT_RESET = 4,   /* a RESET was answered: result is the ACK result */
    SPINAL_EVENT_BODY_ERROR = 5 /* a frame of msg_type whose body did not fit: result is the spinal_err_t */
};

typedef struct {
    uint8_t kind;       /* SPINAL_EVENT_* */
    uint8_t msg_type;   /* type of the host frame concerned (0 for button, fault and watchdog) */
    uint8_t result;
    uint8_t category, source;
    uint16_t reason;
    bool flag;
    const spinal_msg_t *msg; /* COMMAND: the decoded command; NULL otherwise. Valid during the call */
} spinal_mcu_event_t;

typedef void (*spinal_event_fn)(void *ctx, const spinal_mcu_event_t *ev);
/* RESET bit 1: asks the drives to clear their faults; returns the fault bits still active. */
typedef uint16_t (*spinal_reset_faults_fn)(void *ctx);

/* Sends one frame to the host. The integration encodes it with its one MCU->host encoder (the
 * same one STATE uses, so sequence numbers stay continuous) and queues it for transmission. */
typedef void (*spinal_send_fn)(void *ctx, uint8_t type, const spinal_msg_t *msg);

typedef struct {
    uint8_t joint_count;           /* joints this MCU drives, 1..32 */
    uint16_t watchdog_ms;          /* firmware default; 0 means SPINAL_DEFAULT_WATCHDOG_MS */
    uint16_t state_rate_hz;        /* initial STATE rate */
    uint32_t stop_ramp_us;         /* duration of a category 1/2 controlled stop */
    uint8_t button_category;       /* stop category of the hardware e-stop button (0 or 1) */
    uint8_t fault_category;        /* stop category of a drive fault (0 or 1) */
    const spinal_limits_t *hard_limits; /* joint_count entries, or NULL: the firmware's own bounds */
    spinal_hello_t hello;          /* sent in answer to the host's HELLO */
    spinal_send_fn send;
    void *send_ctx;
    spinal_event_fn event;               /* optional (NULL) */
    spinal_reset_faults_fn reset_faults; /* optional (NULL): faults then clear only when
                                          * spinal_mcu_set_faults reports them gone */
    void *hook_ctx;                      /* passed to event and reset_faults */
} spinal_mcu_config_t;

typedef struct {
    spinal_mcu_config_t cfg;
    spinal_drive_t out;
    spinal_limits_t limits[SPINAL_MAX_JOINTS]; /* effective limits, valid when configured */
    uint16_t watchdog_ms;
    uint16_t state_rate_hz;
    uint16_t status;                  /* SPINAL_STATUS_* except MOTORS_ENABLED and STOPPING */
    uint16_t faults_active, faults_latched;
    uint32_t joint_fault_mask;
    bool watchdog_armed;              /* a COMMAND or HEARTBEAT arrived since boot or the last trip */
    uint32_t last_feed_us;
    bool stopping;                    /* a controlled stop is under way (out.mode == RAMP_DOWN) */
    uint8_t stop_category;            /* category of the stop under way or last completed */
    uint32_t stop_start_us;
    bool button_pressed;
    uint32_t next_state_us;
    spinal_msg_t scratch;             /* decoded host message; also used to build replies */
} spinal_mcu_t;

/* Sets defaults for every field of cfg (hooks NULL); the caller fills send and hello. */
void spinal_mcu_config_defaults(spinal_mcu_config_t *cfg, uint8_t joint_count);
void spinal_mcu_init(spinal_mcu_t *mcu, const spinal_mcu_config_t *cfg, uint32_t now_us);

/* Handles one frame from the decoder. rx_us: the MCU clock when its delimiter arrived (feeds the
 * watchdog; t1 of TIME_SYNC); now_us: the clock now (t2 of a TIME_SYNC_RESP sent from here).
 * Returns SPINAL_OK, or why the body did not fit its type (the frame was then refused or, for
 * ESTOP, stopped as category 0). */
spinal_err_t spinal_mcu_on_frame(spinal_mcu_t *mcu, const spinal_frame_t *frame, uint32_t rx_us, uint32_t now_us);

/* Runs the watchdog and the stop ramp. Call at least every millisecond. */
void spinal_mcu_tick(spinal_mcu_t *mcu, uint32_t now_us);

/* Hardware inputs. A press or a new fault bit latches a stop and reports ESTOP to the host. */
void spinal_mcu_set_button(spinal_mcu_t *mcu, bool pressed, uint32_t now_us);
void spinal_mcu_set_faults(spinal_mcu_t *mcu, uint16_t faults, uint32_t joint_fault_mask, uint32_t now_us);

/* Sends the MCU's HELLO (cfg.hello with protocol version, joint count and role filled in): call
 * once on boot; the core also answers every HELLO from the host with it. */
void spinal_mcu_send_hello(spinal_mcu_t *mcu);

/* What the drives must do now. */
const spinal_drive_t *spinal_mcu_output(const spinal_mcu_t *mcu);
/* STATE.status (including MOTORS_ENABLED and STOPPING) and STATE.faults. */
uint16_t spinal_mcu_status(const spinal_mcu_t *mcu);
/* Fills status, faults and joint_fault_mask of a STATE the caller assembles from its sensors. */
void spinal_mcu_fill_state(const spinal_mcu_t *mcu, spinal_state_t *state);
/* True once per STATE period (the CONFIG rate); 0 Hz means never. */
bool spinal_mcu_state_due(spinal_mcu_t *mcu, uint32_t now_us);

#ifdef __cplusplus
}
#endif
#endif /* SPINAL_MCU_H */
