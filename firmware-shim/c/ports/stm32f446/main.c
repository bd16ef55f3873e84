/*
 * Spinal on an STM32F446 (Cortex-M4F), register level, no vendor SDK: the board layer under
 * common/app.c. It builds (`npm run firmware`) but has not been run on silicon by this project.
 *
 *   USART1  host link on PA9 (TX) / PA10 (RX), 1 Mbaud 8N1 from the 16 MHz HSI; RX and TX by
 *           interrupt into the rings of common/app.c
 *   TIM2    32-bit free-running counter at 1 MHz: the microsecond clock (wraps, as the core expects)
 *   TIM6    1 kHz update interrupt: the control tick
 *   IWDG    independent watchdog, about 30 ms, refreshed by the tick: a hung tick resets the MCU
 *   PC13    the e-stop input, low while pressed (invert board_estop_pressed if the wiring differs)
 *
 * The drive layer (drive_apply, drive_read, drive_faults) is the robot's own: motor drivers,
 * encoders, the IMU. Weak placeholders below keep the drives disabled and report zeros, so this
 * file links on its own; a product defines the real ones in another file.
 */
#include "stm32f446.h"
#include "app.h"
#include "board_profile.h"

#define HSI_HZ 16000000u
#define LINK_BAUD 1000000u

static volatile bool tx_busy;

static uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static void irq_restore(uint32_t primask) { __asm volatile("msr primask, %0" ::"r"(primask) : "memory"); }

uint32_t board_now_us(void) { return TIM_CNT(TIM2_BASE); }

bool board_estop_pressed(void) { return (GPIO_IDR(GPIOC_BASE) & (1u << 13)) == 0u; }

void board_tx_kick(void)
{
    uint32_t pm = irq_save();
    if (!tx_busy) {
        tx_busy = true;
        USART_CR1(USART1_BASE) |= USART_CR1_TXEIE; /* the TXE interrupt takes the first byte */
    }
    irq_restore(pm);
}

/* ---- placeholders of the robot's drive layer ----------------------------------------------- */

__attribute__((weak)) void drive_apply(const spinal_drive_t *out, uint32_t now_us)
{
    (void)out;
    (void)now_us;
}

__attribute__((weak)) void drive_read(spinal_state_t *st, uint32_t now_us)
{
    (void)st;
    (void)now_us;
}

__attribute__((weak)) uint16_t drive_faults(uint32_t *joint_fault_mask)
{
    *joint_fault_mask = 0;
    return 0;
}

/* ---- interrupt handlers ------------------------------------------------------------------- */

void usart1_isr(void)
{
    uint32_t sr = USART_SR(USART1_BASE);
    uint8_t b;
    if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
        /* reading DR clears RXNE, and ORE after the SR read */
        uint8_t rx = (uint8_t)USART_DR(USART1_BASE);
        if (sr & USART_SR_ORE) app_rx_overrun();
        app_rx_byte(rx, board_now_us());
    }
    if ((sr & USART_SR_TXE) && (USART_CR1(USART1_BASE) & USART_CR1_TXEIE)) {
        if (app_tx_next(&b)) {
            USART_DR(USART1_BASE) = b;
        } else {
            USART_CR1(USART1_BASE) &= ~USART_CR1_TXEIE;
            tx_busy = false;
        }
    }
}

void tim2_isr(void) { TIM_SR(TIM2_BASE) = 0u; }

void tim6_isr(void)
{
    TIM_SR(TIM6_BASE) = 0u;
    app_tick();
    IWDG_KR = 0xAAAAu; /* refresh */
}

static void irq_enable(uint32_t irq, uint8_t priority)
{
    NVIC_IPR_BYTE(irq) = priority;
    NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
}

int main(void)
{
    app_config_t cfg = board_app_config;

    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOCEN;
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN | RCC_APB1ENR_TIM6EN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;

    /* PA9/PA10 alternate function 7 (USART1); PC13 input with pull-up */
    GPIO_MODER(GPIOA_BASE) = (GPIO_MODER(GPIOA_BASE) & ~(0xFu << 18)) | (0xAu << 18);
    GPIO_AFRH(GPIOA_BASE) = (GPIO_AFRH(GPIOA_BASE) & ~(0xFFu << 4)) | (0x77u << 4);
    GPIO_MODER(GPIOC_BASE) &= ~(0x3u << 26);
    GPIO_PUPDR(GPIOC_BASE) = (GPIO_PUPDR(GPIOC_BASE) & ~(0x3u << 26)) | (0x1u << 26);

    /* TIM2: 1 MHz, full 32-bit range */
    TIM_PSC(TIM2_BASE) = HSI_HZ / 1000000u - 1u;
    TIM_ARR(TIM2_BASE) = 0xFFFFFFFFu;
    TIM_EGR(TIM2_BASE) = TIM_EGR_UG;
    TIM_SR(TIM2_BASE) = 0u;
    TIM_CR1(TIM2_BASE) = TIM_CR1_CEN;

    USART_BRR(USART1_BASE) = HSI_HZ / LINK_BAUD; /* oversampling by 16 */
    USART_CR1(USART1_BASE) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;

    cfg.mcu.hello.device_id = UID_W0;
    app_init(&cfg);

    /* IWDG: LSI 32 kHz / 4 = 8 kHz, reload 240: 30 ms */
    IWDG_KR = 0xCCCCu;
    IWDG_KR = 0x5555u;
    IWDG_PR = 0u;
    IWDG_RLR = 240u;
    IWDG_KR = 0xAAAAu;

    irq_enable(IRQ_USART1, 0x40u);
    TIM_PSC(TIM6_BASE) = HSI_HZ / 1000000u - 1u;
    TIM_ARR(TIM6_BASE) = 1000u - 1u;
    TIM_EGR(TIM6_BASE) = TIM_EGR_UG;
    TIM_SR(TIM6_BASE) = 0u;
    TIM_DIER(TIM6_BASE) = TIM_DIER_UIE;
    TIM_CR1(TIM6_BASE) = TIM_CR1_CEN;
    irq_enable(IRQ_TIM6_DAC, 0x80u);

    for (;;) __asm volatile("wfi"); /* everything runs in interrupts */
}
