/*
 * Reset handler and vector table of the AN386 image: copy .data from its load address, zero .bss
 * (which holds the probe block first, at the start of RAM), turn on the FPU (CP10/CP11 full
 * access, before any float instruction), run main.
 */
#include "cmsdk.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void reset_handler(void);
void default_handler(void);
void timer0_isr(void);
void timer1_isr(void);
void uart0_rx_isr(void);
void uart0_tx_isr(void);
void uart1_rx_isr(void);

void reset_handler(void)
{
    uint32_t *src = &_sidata, *dst;
    for (dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");
    (void)main();
    for (;;) {}
}

/* An unexpected exception stops here: the core stops ticking, and the host's watchdog and the
 * missing STATE stream take it from there. */
void default_handler(void)
{
    for (;;) {}
}

/* The initial stack pointer is data, the rest are handlers: a union keeps both ISO C. */
typedef union {
    void (*handler)(void);
    void *stack;
} vector_t;

#define IRQ(n) (16u + (n))

__attribute__((section(".isr_vector"), used)) const vector_t vector_table[16u + IRQ_COUNT] = {
    [0] = { .stack = &_estack },
    [1] = { .handler = reset_handler },
    [2] = { .handler = default_handler },  /* NMI */
    [3] = { .handler = default_handler },  /* HardFault */
    [4] = { .handler = default_handler },  /* MemManage */
    [5] = { .handler = default_handler },  /* BusFault */
    [6] = { .handler = default_handler },  /* UsageFault */
    [11] = { .handler = default_handler }, /* SVCall */
    [14] = { .handler = default_handler }, /* PendSV */
    [15] = { .handler = default_handler }, /* SysTick (unused) */
    [IRQ(IRQ_UART0_RX)] = { .handler = uart0_rx_isr },
    [IRQ(IRQ_UART0_TX)] = { .handler = uart0_tx_isr },
    [IRQ(IRQ_UART1_RX)] = { .handler = uart1_rx_isr },
    [IRQ(IRQ_TIMER0)] = { .handler = timer0_isr },
    [IRQ(IRQ_TIMER1)] = { .handler = timer1_isr },
};
