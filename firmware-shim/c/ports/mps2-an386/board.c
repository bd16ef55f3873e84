/*
 * Spinal on the ARM MPS2 AN386 board (Cortex-M4F at 25 MHz), as QEMU's `mps2-an386` machine runs
 * it: the firmware image that `spinal sim --firmware qemu` boots.
 *
 *   UART0    host link: RX and TX interrupts feed the rings of common/app.c (QEMU: a PTY)
 *   UART1    the e-stop input: '1' pressed, '0' released (QEMU: a socket the harness writes).
 *            A real board reads a GPIO wired to a normally-closed contact; QEMU's AN386 model has
 *            no GPIO a host program can drive, so the input arrives as bytes on a spare UART.
 *   TIMER0   free-running, reloads every second (25 MHz / 25e6): the microsecond clock
 *   TIMER1   1 kHz interrupt: the control tick (app_tick)
 *   drives   the C plant model of the robot profile (common/plant.c)
 *
 * Priorities: TIMER0 (the clock's seconds) above the UARTs above the tick, so bytes are taken
 * and stamped whatever the tick is doing. Time is read from TIMER0 at every use, never counted
 * from tick interrupts: QEMU merges timer interrupts when the host deschedules it.
 */
#include "cmsdk.h"
#include "app.h"
#include "plant.h"
#include "board_profile.h"

static volatile uint32_t seconds;   /* TIMER0 reloads since boot */
static volatile bool tx_busy;       /* a byte is in UART0's transmitter */
static volatile bool estop_pressed;

static uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static void irq_restore(uint32_t primask) { __asm volatile("msr primask, %0" ::"r"(primask) : "memory"); }

uint32_t board_now_us(void)
{
    uint32_t pm = irq_save();
    uint32_t s = seconds, v = TIMER_VALUE(TIMER0_BASE);
    if (TIMER_INT(TIMER0_BASE) & 1u) { /* reloaded, its interrupt not yet taken: read again after the wrap */
        v = TIMER_VALUE(TIMER0_BASE);
        s++;
    }
    irq_restore(pm);
    /* modulo 2^32 throughout, so the clock wraps as the core expects */
    return s * 1000000u + (SYSCLK_HZ - 1u - v) / (SYSCLK_HZ / 1000000u);
}

void board_tx_kick(void)
{
    uint8_t b;
    uint32_t pm = irq_save();
    if (!tx_busy && app_tx_next(&b)) {
        tx_busy = true;
        UART_DATA(UART0_BASE) = b;
    }
    irq_restore(pm);
}

bool board_estop_pressed(void) { return estop_pressed; }

void drive_apply(const spinal_drive_t *out, uint32_t now_us) { plant_apply(out, now_us); }
void drive_read(spinal_state_t *st, uint32_t now_us) { plant_read(st, now_us); }
uint16_t drive_faults(uint32_t *joint_fault_mask)
{
    *joint_fault_mask = 0;
    return 0; /* the plant model has no drive faults */
}

/* ---- interrupt handlers ------------------------------------------------------------------- */

void timer0_isr(void)
{
    TIMER_INT(TIMER0_BASE) = 1u;
    seconds = seconds + 1u;
}

void timer1_isr(void)
{
    TIMER_INT(TIMER1_BASE) = 1u;
    app_tick();
}

void uart0_rx_isr(void)
{
    UART_INT(UART0_BASE) = UART_INT_RX;
    while (UART_STATE(UART0_BASE) & UART_STATE_RXFULL) app_rx_byte((uint8_t)UART_DATA(UART0_BASE), board_now_us());
    if (UART_STATE(UART0_BASE) & UART_STATE_RXOVR) {
        UART_STATE(UART0_BASE) = UART_STATE_RXOVR; /* write 1 clears */
        app_rx_overrun();
    }
}

void uart0_tx_isr(void)
{
    uint8_t b;
    UART_INT(UART0_BASE) = UART_INT_TX;
    if (app_tx_next(&b)) UART_DATA(UART0_BASE) = b;
    else tx_busy = false;
}

void uart1_rx_isr(void)
{
    UART_INT(UART1_BASE) = UART_INT_RX;
    while (UART_STATE(UART1_BASE) & UART_STATE_RXFULL) {
        uint32_t c = UART_DATA(UART1_BASE);
        if (c == '1') estop_pressed = true;
        else if (c == '0') estop_pressed = false;
    }
}

static void irq_enable(uint32_t irq, uint8_t priority)
{
    NVIC_IPR_BYTE(irq) = priority;
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

int main(void)
{
    /* the baud divisor is what a real AN386 needs for 115200; QEMU does not model the rate */
    UART_BAUDDIV(UART0_BASE) = SYSCLK_HZ / 115200u;
    UART_CTRL(UART0_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_TXIE | UART_CTRL_RXIE;
    UART_BAUDDIV(UART1_BASE) = SYSCLK_HZ / 115200u;
    UART_CTRL(UART1_BASE) = UART_CTRL_RXEN | UART_CTRL_RXIE;

    TIMER_RELOAD(TIMER0_BASE) = SYSCLK_HZ - 1u;
    TIMER_VALUE(TIMER0_BASE) = SYSCLK_HZ - 1u;
    TIMER_CTRL(TIMER0_BASE) = TIMER_CTRL_EN | TIMER_CTRL_IE;
    irq_enable(IRQ_TIMER0, 0x00u);

    plant_init(board_joints, BOARD_JOINTS, &board_imu, board_now_us());
    app_init(&board_app_config);

    irq_enable(IRQ_UART0_RX, 0x40u);
    irq_enable(IRQ_UART0_TX, 0x40u);
    irq_enable(IRQ_UART1_RX, 0x40u);
    TIMER_RELOAD(TIMER1_BASE) = SYSCLK_HZ / 1000u - 1u;
    TIMER_VALUE(TIMER1_BASE) = SYSCLK_HZ / 1000u - 1u;
    TIMER_CTRL(TIMER1_BASE) = TIMER_CTRL_EN | TIMER_CTRL_IE;
    irq_enable(IRQ_TIMER1, 0x80u);

    for (;;) __asm volatile("wfi"); /* everything runs in interrupts */
}
