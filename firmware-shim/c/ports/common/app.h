/*
 * The board-independent part of a Spinal firmware image: byte rings between the UART interrupts
 * and the protocol, the 1 kHz control tick around the shared core (src/), STATE assembly and a
 * small probe block that debuggers (and the QEMU harness) read from memory.
 *
 * A port supplies the functions declared under "port" below and calls the ones under "app" from
 * its interrupt handlers. Concurrency contract: app_rx_byte and app_tx_next run in the UART
 * interrupt, app_tick in the (lower priority) tick interrupt; each ring has exactly one producer
 * and one consumer, so no lock is needed beyond the 32-bit loads and stores the core does
 * atomically. app_init runs before any of those interrupts is enabled.
 */
#ifndef SPINAL_APP_H
#define SPINAL_APP_H

#include "spinal_mcu.h"

/* ---- port: what every board provides ------------------------------------------------------- */

/* Free-running microsecond clock (wraps at 2^32, as the core expects). Callable from any context. */
uint32_t board_now_us(void);
/* Starts transmitting from the TX ring if the UART is idle; its TX interrupt then drains the ring
 * through app_tx_next. Called from the tick. */
void board_tx_kick(void);
/* The drive layer: applies what the core decided, reads the sensors, reports persisting faults.
 * A simulated board implements them with the plant model (plant.c). */
void drive_apply(const spinal_drive_t *out, uint32_t now_us);
void drive_read(spinal_state_t *st, uint32_t now_us);
uint16_t drive_faults(uint32_t *joint_fault_mask);
/* The hardware e-stop input, true while pressed. */
bool board_estop_pressed(void);

/* ---- app: what the port calls ---------------------------------------------------------------- */

/* Board identity and firmware limits, usually from the generated profile header. */
typedef struct {
    spinal_mcu_config_t mcu; /* joint_count, rates, limits, hello; send is filled by app_init */
    uint8_t state_flags;     /* SPINAL_STATE_FLAG_* of the sensors this board has */
} app_config_t;

void app_init(const app_config_t *cfg);
/* UART RX interrupt: one received byte, stamped with the clock (frame delimiters feed TIME_SYNC). */
void app_rx_byte(uint8_t byte, uint32_t now_us);
/* UART RX overrun (a byte lost in hardware). */
void app_rx_overrun(void);
/* UART TX interrupt: the next byte to send; false when the ring is empty. */
bool app_tx_next(uint8_t *byte);
/* The 1 kHz control tick. */
void app_tick(void);

/* What a debugger or the QEMU harness reads from memory (the port's linker script places the
 * .probe section first in RAM). Counters only grow; every field is a 32-bit word. */
#define APP_PROBE_MAGIC 0x4C4E5053u /* "SPNL" */
typedef struct {
    uint32_t magic;
    uint32_t status;          /* spinal_mcu_status(): ESTOP_LATCHED, WATCHDOG_TRIPPED, ... */
    uint32_t ticks;           /* control ticks run */
    uint32_t now_us;          /* the clock at the last tick */
    uint32_t frames_rx;       /* host frames decoded */
    uint32_t crc_errors;      /* host frames discarded for CRC */
    uint32_t resyncs;         /* host segments discarded for any reason */
    uint32_t rx_overruns;     /* bytes lost: RX ring full or UART overrun */
    uint32_t commands_obeyed;
    uint32_t commands_ignored;
    uint32_t commands_clamped; /* obeyed COMMANDs with at least one target clamped */
    uint32_t stops;           /* stops latched (host ESTOP, button, fault) */
    uint32_t watchdog_trips;
    uint32_t resets_accepted;
    uint32_t state_sent;
    uint32_t tx_dropped;      /* frames not queued: TX ring full (host not reading) */
    uint32_t drive_mode;      /* spinal_drive_t.mode now */
    int32_t out_position[4];  /* the first joints' position targets handed to the drives */
} app_probe_t;

extern volatile app_probe_t app_probe;

#endif /* SPINAL_APP_H */
