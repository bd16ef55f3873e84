/*
 * Integration sketch for an STM32 (HAL) board: NOT compiled by this repository's tests; CubeMX
 * generates the peripheral init (SystemClock_Config, MX_*_Init) that this file assumes.
 *
 *   USART1  host link, 2 Mbaud 8N1; RX by interrupt one byte at a time, TX by DMA
 *   TIM2    32-bit free-running counter at 1 MHz: the microsecond clock (wraps, as the core expects)
 *   TIM6    1 kHz update interrupt: runs everything protocol- and safety-related
 *   IWDG    hardware watchdog refreshed by the 1 kHz tick: a hung tick resets the MCU (drives off)
 *
 * One context owns the protocol: the decoder, the safety core and the encoder are touched only
 * from the TIM6 interrupt. The UART RX interrupt (higher priority) only appends to a
 * single-producer single-consumer ring and stamps each 0x00 delimiter with the clock (TIME_SYNC t1).
 */
#include "main.h" /* CubeMX: HAL, huart1, htim2, htim6, hiwdg */
#include "spinal_mcu.h"
#include "spinal_wire.h"

#define JOINTS 7

/* ---- drive layer of this board (implemented elsewhere) -------------------------------------- */
extern void drive_apply(const spinal_drive_t *out);           /* enable, mode, targets, ramp */
extern void drive_read(spinal_state_t *st);                   /* positions, velocities, currents, IMU */
extern uint16_t drive_faults(uint32_t *joint_fault_mask);     /* persisting fault bits, 0 when healthy */
extern bool estop_button_pressed(void);                       /* the hardware e-stop input */

static uint32_t now_us(void) { return __HAL_TIM_GET_COUNTER(&htim2); }

/* ---- RX: ISR -> ring -> decoder ------------------------------------------------------------- */

#define RX_RING 1024u /* power of two; 5 ms of line at 2 Mbaud */
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_ring_time[RX_RING]; /* clock at each byte; read for delimiters only */
static volatile uint16_t rx_head, rx_tail;
static uint8_t rx_byte;
static volatile uint32_t rx_overruns;

void HAL_UART_RxCpltCallback(UART_HandleTypeDef *huart)
{
    if (huart != &huart1) return;
    uint16_t next = (uint16_t)((rx_head + 1u) & (RX_RING - 1u));
    if (next != rx_tail) {
        rx_ring[rx_head] = rx_byte;
        rx_ring_time[rx_head] = now_us();
        rx_head = next;
    } else {
        rx_overruns++; /* the decoder will see a broken segment and resynchronise at the next 0x00 */
    }
    HAL_UART_Receive_IT(&huart1, &rx_byte, 1);
}

/* ---- TX: double buffer, DMA sends one while the tick fills the other ------------------------ */

static uint8_t tx_buf[2][2048];
static uint16_t tx_len;       /* bytes queued in tx_buf[tx_fill] */
static uint8_t tx_fill;
static volatile bool tx_busy;
static uint32_t tx_dropped;
static spinal_encoder_t tx_enc; /* the one MCU->host encoder: STATE and replies share its seq */
static uint8_t frame_buf[SPINAL_MAX_FRAME];

static void queue_frame(uint8_t type, const spinal_msg_t *msg)
{
    long n = spinal_encode(&tx_enc, type, msg, now_us(), frame_buf, sizeof frame_buf);
    uint16_t i;
    if (n < 0) return; /* a message the protocol forbids: nothing reaches the wire */
    if (tx_len + (uint16_t)n > sizeof tx_buf[0]) { tx_dropped++; return; }
    for (i = 0; i < (uint16_t)n; i++) tx_buf[tx_fill][tx_len + i] = frame_buf[i];
    tx_len = (uint16_t)(tx_len + n);
}

static void on_send(void *ctx, uint8_t type, const spinal_msg_t *msg) { (void)ctx; queue_frame(type, msg); }

static void tx_kick(void)
{
    if (tx_busy || tx_len == 0) return;
    tx_busy = true;
    HAL_UART_Transmit_DMA(&huart1, tx_buf[tx_fill], tx_len);
    tx_fill ^= 1u; /* DMA owns the other buffer until its completion callback */
    tx_len = 0;
}

void HAL_UART_TxCpltCallback(UART_HandleTypeDef *huart)
{
    if (huart == &huart1) tx_busy = false; /* the next tick starts the following buffer */
}

/* ---- the 1 kHz tick ------------------------------------------------------------------------- */

static spinal_decoder_t rx_dec;
static spinal_mcu_t mcu;
static spinal_msg_t state_msg; /* STATE assembled here each period */

static const spinal_limits_t hard_limits[JOINTS] = {
    /* the mechanics' own bounds; a host CONFIG can only narrow them */
    { -200000, 200000, 60000.0f, 10.0f }, { -200000, 200000, 60000.0f, 10.0f }, { -150000, 150000, 60000.0f, 10.0f },
    { -150000, 150000, 60000.0f, 6.0f },  { -100000, 100000, 80000.0f, 4.0f },  { -100000, 100000, 80000.0f, 4.0f },
    { 0, 40000, 20000.0f, 2.0f },
};

void HAL_TIM_PeriodElapsedCallback(TIM_HandleTypeDef *htim)
{
    uint32_t t, jfm = 0;
    uint16_t faults;
    if (htim != &htim6) return;
    t = now_us();

    /* 1. host frames first, so a COMMAND that arrived in time feeds the watchdog before it runs */
    while (rx_tail != rx_head) {
        uint16_t i = rx_tail;
        if (spinal_decoder_push_byte(&rx_dec, rx_ring[i]) == SPINAL_RX_FRAME) {
            spinal_mcu_on_frame(&mcu, &rx_dec.frame, rx_ring_time[i], now_us());
        }
        rx_tail = (uint16_t)((i + 1u) & (RX_RING - 1u));
    }

    /* 2. hardware inputs, then the watchdog and stop ramp */
    spinal_mcu_set_button(&mcu, estop_button_pressed(), t);
    faults = drive_faults(&jfm);
    spinal_mcu_set_faults(&mcu, faults, jfm, t);
    spinal_mcu_tick(&mcu, t);

    /* 3. the drives do what the core says: nothing else decides about power */
    drive_apply(spinal_mcu_output(&mcu));

    /* 4. STATE at the configured rate, then hand the queued bytes to DMA */
    if (spinal_mcu_state_due(&mcu, t)) {
        drive_read(&state_msg.state);
        state_msg.state.joint_count = JOINTS;
        spinal_mcu_fill_state(&mcu, &state_msg.state);
        queue_frame(SPINAL_STATE, &state_msg);
    }
    tx_kick();
    HAL_IWDG_Refresh(&hiwdg);
}

int main(void)
{
    spinal_mcu_config_t cfg;
    HAL_Init();
    SystemClock_Config();
    MX_GPIO_Init();
    MX_DMA_Init();
    MX_USART1_UART_Init();
    MX_TIM2_Init();
    MX_TIM6_Init();
    MX_IWDG_Init();

    spinal_mcu_config_defaults(&cfg, JOINTS);
    cfg.state_rate_hz = 1000;
    cfg.stop_ramp_us = 300000u;
    cfg.button_category = 0;
    cfg.hard_limits = hard_limits;
    cfg.hello.fw_major = 1;
    cfg.hello.capabilities = 0x3Fu; /* IMU .. hardware e-stop, see SPEC.md HELLO */
    cfg.hello.device_id = HAL_GetUIDw0();
    {
        static const char id[] = "arm6-gripper";
        unsigned i;
        for (i = 0; i < sizeof id; i++) cfg.hello.profile_id[i] = id[i];
    }
    cfg.send = on_send;

    HAL_TIM_Base_Start(&htim2);
    spinal_decoder_init(&rx_dec);
    spinal_encoder_init(&tx_enc, 0);
    spinal_mcu_init(&mcu, &cfg, now_us());
    spinal_mcu_send_hello(&mcu); /* HELLO on boot */
    HAL_UART_Receive_IT(&huart1, &rx_byte, 1);
    HAL_TIM_Base_Start_IT(&htim6);
    for (;;) __WFI(); /* everything runs in interrupts */
}
