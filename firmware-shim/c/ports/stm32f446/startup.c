/*
 * Reset handler and vector table of the STM32F446 port: copy .data from flash, zero .bss, turn
 * on the FPU, run main. The core runs from the 16 MHz HSI oscillator it resets to; a product
 * sets up the PLL first (and scales the timer prescalers and the baud divisor with it).
 */
#include "stm32f446.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void reset_handler(void);
void default_handler(void);
void tim2_isr(void);
void usart1_isr(void);
void tim6_isr(void);

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

/* An unexpected exception stops here; the independent watchdog then resets the MCU (drives off). */
void default_handler(void)
{
    for (;;) {}
}

typedef union {
    void (*handler)(void);
    void *stack;
} vector_t;

#define IRQ(n) (16u + (n))

__attribute__((section(".isr_vector"), used)) const vector_t vector_table[16u + IRQ_COUNT] = {
    [0] = { .stack = &_estack },
    [1] = { .handler = reset_handler },
    [2] = { .handler = default_handler },
    [3] = { .handler = default_handler },
    [4] = { .handler = default_handler },
    [5] = { .handler = default_handler },
    [6] = { .handler = default_handler },
    [11] = { .handler = default_handler },
    [14] = { .handler = default_handler },
    [15] = { .handler = default_handler },
    [IRQ(IRQ_TIM2)] = { .handler = tim2_isr },
    [IRQ(IRQ_USART1)] = { .handler = usart1_isr },
    [IRQ(IRQ_TIM6_DAC)] = { .handler = tim6_isr },
};
