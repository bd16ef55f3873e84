/*
 * Registers of the ARM MPS2 AN386 FPGA image (Cortex-M4 with FPU) as QEMU's `mps2-an386` machine
 * models them, written from ARM's CMSDK peripheral documentation and the AN386 memory map: only
 * what this port uses.
 */
#ifndef MPS2_CMSDK_H
#define MPS2_CMSDK_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB UART: UART0 carries the host link, UART1 the e-stop input (see board.c). */
#define UART0_BASE 0x40004000u
#define UART1_BASE 0x40005000u
#define UART_DATA(b) REG32((b) + 0x00u)
#define UART_STATE(b) REG32((b) + 0x04u)   /* bit 0 TX full, 1 RX full, 2 TX overrun, 3 RX overrun */
#define UART_CTRL(b) REG32((b) + 0x08u)    /* bit 0 TX en, 1 RX en, 2 TX int en, 3 RX int en */
#define UART_INT(b) REG32((b) + 0x0Cu)     /* read: status; write 1: clear. bit 0 TX, 1 RX */
#define UART_BAUDDIV(b) REG32((b) + 0x10u)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_STATE_RXOVR 0x8u
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_TXIE 0x4u
#define UART_CTRL_RXIE 0x8u
#define UART_INT_TX 0x1u
#define UART_INT_RX 0x2u

/* CMSDK APB timers, clocked by the 25 MHz system clock; they count down and reload at 0. */
#define TIMER0_BASE 0x40000000u
#define TIMER1_BASE 0x40001000u
#define TIMER_CTRL(b) REG32((b) + 0x00u)   /* bit 0 enable, bit 3 interrupt enable */
#define TIMER_VALUE(b) REG32((b) + 0x04u)
#define TIMER_RELOAD(b) REG32((b) + 0x08u)
#define TIMER_INT(b) REG32((b) + 0x0Cu)    /* read: bit 0 pending; write 1: clear */
#define TIMER_CTRL_EN 0x1u
#define TIMER_CTRL_IE 0x8u
#define SYSCLK_HZ 25000000u

/* Interrupt numbers (NVIC inputs). */
#define IRQ_UART0_RX 0u
#define IRQ_UART0_TX 1u
#define IRQ_UART1_RX 2u
#define IRQ_TIMER0 8u
#define IRQ_TIMER1 9u
#define IRQ_COUNT 32u

/* Cortex-M4 system registers. */
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(0xE000E400u + (irq)))
#define SCB_CPACR REG32(0xE000ED88u)
#define SCB_VTOR REG32(0xE000ED08u)

#endif /* MPS2_CMSDK_H */
