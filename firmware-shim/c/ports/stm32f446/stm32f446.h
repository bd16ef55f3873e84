/*
 * The STM32F446 registers this port touches, written from the reference manual (RM0390); no
 * vendor headers. Addresses are the F446's; offsets are common to the STM32F4 family.
 */
#ifndef STM32F446_REGS_H
#define STM32F446_REGS_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

#define RCC_BASE 0x40023800u
#define RCC_AHB1ENR REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR REG32(RCC_BASE + 0x44u)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_AHB1ENR_GPIOCEN (1u << 2)
#define RCC_APB1ENR_TIM2EN (1u << 0)
#define RCC_APB1ENR_TIM6EN (1u << 4)
#define RCC_APB2ENR_USART1EN (1u << 4)

#define GPIOA_BASE 0x40020000u
#define GPIOC_BASE 0x40020800u
#define GPIO_MODER(b) REG32((b) + 0x00u)
#define GPIO_PUPDR(b) REG32((b) + 0x0Cu)
#define GPIO_IDR(b) REG32((b) + 0x10u)
#define GPIO_AFRH(b) REG32((b) + 0x24u)

#define USART1_BASE 0x40011000u
#define USART_SR(b) REG32((b) + 0x00u)
#define USART_DR(b) REG32((b) + 0x04u)
#define USART_BRR(b) REG32((b) + 0x08u)
#define USART_CR1(b) REG32((b) + 0x0Cu)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_TXEIE (1u << 7)
#define USART_CR1_UE (1u << 13)

/* General-purpose (TIM2, 32-bit) and basic (TIM6) timers. */
#define TIM2_BASE 0x40000000u
#define TIM6_BASE 0x40001000u
#define TIM_CR1(b) REG32((b) + 0x00u)
#define TIM_DIER(b) REG32((b) + 0x0Cu)
#define TIM_SR(b) REG32((b) + 0x10u)
#define TIM_EGR(b) REG32((b) + 0x14u)
#define TIM_CNT(b) REG32((b) + 0x24u)
#define TIM_PSC(b) REG32((b) + 0x28u)
#define TIM_ARR(b) REG32((b) + 0x2Cu)
#define TIM_CR1_CEN (1u << 0)
#define TIM_DIER_UIE (1u << 0)
#define TIM_SR_UIF (1u << 0)
#define TIM_EGR_UG (1u << 0)

#define IWDG_BASE 0x40003000u
#define IWDG_KR REG32(IWDG_BASE + 0x00u)
#define IWDG_PR REG32(IWDG_BASE + 0x04u)
#define IWDG_RLR REG32(IWDG_BASE + 0x08u)

#define UID_W0 REG32(0x1FFF7A10u)

/* NVIC inputs of the F446. */
#define IRQ_TIM2 28u
#define IRQ_USART1 37u
#define IRQ_TIM6_DAC 54u
#define IRQ_COUNT 97u

#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(0xE000E400u + (irq)))
#define SCB_CPACR REG32(0xE000ED88u)

#endif /* STM32F446_REGS_H */
