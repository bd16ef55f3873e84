/*
 * Spinal serial protocol v1 (proto/wire/SPEC.md is normative): CRC-32C, COBS, frame decoder and
 * encoder, and the eleven message bodies.
 *
 * Portable C99 for microcontrollers: no heap, no OS, no stdio, no libm, no <string.h>. Every
 * multi-byte field is assembled byte by byte in little-endian order, so the code is correct on
 * big-endian targets too. Floats must be IEEE-754 binary32 with the same byte order as uint32_t
 * (true on every MCU this targets); a compile-time check rejects a float that is not 4 bytes.
 */
#ifndef SPINAL_WIRE_H
#define SPINAL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPINAL_PROTO_MAJOR 1u
#define SPINAL_PROTO_MINOR 1u

#define SPINAL_HEADER_SIZE 8u
#define SPINAL_CRC_SIZE 4u
#define SPINAL_MIN_PACKET (SPINAL_HEADER_SIZE + SPINAL_CRC_SIZE)
/* Largest unstuffed packet (header + body + CRC). The protocol allows 1024; a firmware that never
 * receives large frames may lower it to save RAM (the decoder then counts them as oversized). */
#ifndef SPINAL_MAX_PACKET
#define SPINAL_MAX_PACKET 1024u
#endif
#define SPINAL_MAX_BODY (SPINAL_MAX_PACKET - SPINAL_MIN_PACKET)
/* Worst-case COBS size of n bytes, delimiter excluded. */
#define SPINAL_COBS_MAX(n) ((n) + (n) / 254u + 1u)
/* Largest encoded frame on the wire, delimiter included: size encoder output buffers with it. */
#define SPINAL_MAX_FRAME (SPINAL_COBS_MAX(SPINAL_MAX_PACKET) + 1u)

#define SPINAL_MAX_JOINTS 32u
#define SPINAL_MAX_LOG_TEXT 200u
#define SPINAL_PROFILE_ID_SIZE 24u

enum spinal_msg_type {
    SPINAL_HELLO = 0x01,
    SPINAL_STATE = 0x02,
    SPINAL_COMMAND = 0x03,
    SPINAL_HEARTBEAT = 0x04,
    SPINAL_ESTOP = 0x05,
    SPINAL_RESET = 0x06,
    SPINAL_TIME_SYNC_REQ = 0x07,
    SPINAL_TIME_SYNC_RESP = 0x08,
    SPINAL_CONFIG = 0x09,
    SPINAL_ACK = 0x0A,
    SPINAL_LOG = 0x0B
};

/* STATE.flags */
#define SPINAL_STATE_FLAG_IMU 0x01u
#define SPINAL_STATE_FLAG_ORIENTATION 0x02u
/* STATE.status */
#define SPINAL_STATUS_ESTOP_LATCHED 0x0001u
#define SPINAL_STATUS_WATCHDOG_TRIPPED 0x0002u
#define SPINAL_STATUS_MOTORS_ENABLED 0x0004u
#define SPINAL_STATUS_CONFIGURED 0x0008u
#define SPINAL_STATUS_STOPPING 0x0010u
#define SPINAL_STATUS_HOST_SEEN 0x0020u
/* COMMAND.mode */
enum { SPINAL_MODE_DISABLE = 0, SPINAL_MODE_HOLD = 1, SPINAL_MODE_POSITION = 2, SPINAL_MODE_VELOCITY = 3, SPINAL_MODE_CURRENT = 4 };
#define SPINAL_MAX_COMMAND_MODE 4u
/* ESTOP.source */
enum { SPINAL_SRC_HOST = 0, SPINAL_SRC_BUTTON = 1, SPINAL_SRC_WATCHDOG = 2, SPINAL_SRC_FAULT = 3, SPINAL_SRC_REMOTE = 4 };
#define SPINAL_MAX_ESTOP_SOURCE 4u
/* RESET.what */
#define SPINAL_RESET_ESTOP 0x01u
#define SPINAL_RESET_FAULTS 0x02u
#define SPINAL_RESET_WATCHDOG 0x04u
/* ACK.result */
enum { SPINAL_ACK_OK = 0, SPINAL_ACK_REFUSED_UNSAFE = 1, SPINAL_ACK_BAD_VALUE = 2, SPINAL_ACK_UNSUPPORTED = 3 };

/* ---- checksums and stuffing ---------------------------------------------------------------- */

/* CRC-32C (Castagnoli); spinal_crc32c("123456789", 9) == 0xE3069283. */
uint32_t spinal_crc32c(const uint8_t *data, size_t len);

/* COBS-encodes src[0, len) into dst (SPINAL_COBS_MAX(len) bytes free); returns the length written,
 * no delimiter. dst may overlap src when dst + len / 254 + 1 <= src (in-place encoding). */
size_t spinal_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);

/* Decodes one segment (delimiter excluded) into dst of `limit` bytes. Returns the decoded length,
 * -1 when malformed (a zero inside, a block running past the end), -2 when over `limit`; like
 * cobs.ts, a last block that runs past both the end and the limit is -1. The frame decoder calls
 * that segment oversized instead, as the TS FrameDecoder does: it judges the size first. */
long spinal_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t limit);

/* ---- message bodies ------------------------------------------------------------------------- */

typedef struct {
    uint8_t proto_major, proto_minor, fw_major, fw_minor;
    uint16_t fw_patch;
    uint8_t joint_count, role;
    uint32_t capabilities;
    char profile_id[SPINAL_PROFILE_ID_SIZE + 1]; /* NUL-terminated, printable ASCII */
    uint32_t device_id;
} spinal_hello_t;

/* Arrays hold SPINAL_MAX_JOINTS entries; only the first joint_count are meaningful. */
typedef struct {
    uint8_t joint_count, flags;
    uint16_t status, faults;
    uint32_t joint_fault_mask;
    uint16_t imu_sample;                 /* SPEC 1.1: IMU samples taken, from 1, skipping 0 on wrap;
                                          * 0 = no counter (no IMU, or a 1.0 sender) */
    int32_t position[SPINAL_MAX_JOINTS]; /* counts */
    float velocity[SPINAL_MAX_JOINTS];   /* counts/s; may be NaN: reported as measured */
    float current[SPINAL_MAX_JOINTS];    /* A */
    float accel[3], gyro[3];             /* valid when flags & SPINAL_STATE_FLAG_IMU */
    float quat[4];                       /* w x y z; valid when flags & SPINAL_STATE_FLAG_ORIENTATION */
} spinal_state_t;

typedef struct {
    uint8_t joint_count, mode;
    int32_t position[SPINAL_MAX_JOINTS];
    float velocity[SPINAL_MAX_JOINTS];    /* finite */
    float feedforward[SPINAL_MAX_JOINTS]; /* finite */
} spinal_command_t;

typedef struct { uint8_t host_state; } spinal_heartbeat_t;
typedef struct { uint8_t category, source; uint16_t reason; } spinal_estop_t;
typedef struct { uint8_t what; uint32_t token; } spinal_reset_t;
typedef struct { uint32_t id; } spinal_time_sync_req_t;
typedef struct { uint32_t id, mcu_rx_us, mcu_tx_us; } spinal_time_sync_resp_t;

typedef struct {
    uint16_t watchdog_ms, state_rate_hz;
    uint8_t joint_count;
    int32_t pos_min[SPINAL_MAX_JOINTS], pos_max[SPINAL_MAX_JOINTS];
    float vel_max[SPINAL_MAX_JOINTS], current_max[SPINAL_MAX_JOINTS]; /* finite, >= 0 */
} spinal_config_t;

typedef struct { uint8_t acked_type, result; uint16_t acked_seq; uint32_t detail; } spinal_ack_t;
typedef struct { uint8_t level; uint8_t text_len; uint8_t text[SPINAL_MAX_LOG_TEXT]; } spinal_log_t;

typedef union {
    spinal_hello_t hello;
    spinal_state_t state;
    spinal_command_t command;
    spinal_heartbeat_t heartbeat;
    spinal_estop_t estop;
    spinal_reset_t reset;
    spinal_time_sync_req_t time_sync_req;
    spinal_time_sync_resp_t time_sync_resp;
    spinal_config_t config;
    spinal_ack_t ack;
    spinal_log_t log;
} spinal_msg_t;

/* Why a body was refused (BODY_ERROR) or could not be written. */
typedef enum {
    SPINAL_OK = 0,
    SPINAL_ERR_LENGTH,      /* body length does not fit the type and joint count */
    SPINAL_ERR_JOINTS,      /* joint count above 32 */
    SPINAL_ERR_FLAGS,       /* unknown STATE.flags bits */
    SPINAL_ERR_RANGE,       /* enum out of range: COMMAND.mode, ESTOP.category/source, RESET.what */
    SPINAL_ERR_NOT_FINITE,  /* NaN or infinity where a finite value is required */
    SPINAL_ERR_LIMITS,      /* CONFIG pos_min above pos_max, or a negative limit */
    SPINAL_ERR_PROFILE,     /* HELLO.profile_id not printable ASCII of at most 24 characters */
    SPINAL_ERR_TYPE,        /* not a known message type */
    SPINAL_ERR_SPACE,       /* destination buffer too small */
    SPINAL_ERR_TEXT         /* LOG text is not valid UTF-8 */
} spinal_err_t;

/* Reads a body of `len` bytes into out, validating exactly as the TS codec's readBody does.
 * On an ESTOP error the fields are still filled (the receiver must stop anyway). */
spinal_err_t spinal_read_body(uint8_t type, const uint8_t *body, size_t len, spinal_msg_t *out);

/* Writes the body of msg into dst (cap bytes); returns its length, or -(spinal_err_t) when the
 * message must not reach the wire. It refuses everything a conforming receiver would refuse. */
long spinal_write_body(uint8_t type, const spinal_msg_t *msg, uint8_t *dst, size_t cap);

/* Name used in canonical event lines ("TIME_SYNC_REQ"), or NULL for an unknown type. */
const char *spinal_type_name(uint8_t type);

/* True when the float is neither NaN nor infinite: a bit test, no libm. */
bool spinal_isfinite(float x);
uint32_t spinal_float_bits(float x);

/* ---- frames --------------------------------------------------------------------------------- */

typedef struct {
    uint8_t version, type;
    uint16_t seq;
    uint32_t time_us;
    const uint8_t *body; /* points into the decoder; valid until the next byte is pushed */
    size_t body_len;
} spinal_frame_t;

typedef enum {
    SPINAL_RX_NONE = 0,      /* byte consumed, nothing completed */
    SPINAL_RX_FRAME,         /* a frame of a known type is in dec->frame */
    SPINAL_RX_ERR_COBS,      /* the segment just ended was discarded: malformed stuffing */
    SPINAL_RX_ERR_SHORT,     /* ... fewer than 12 bytes */
    SPINAL_RX_ERR_OVERSIZED, /* ... longer than SPINAL_MAX_PACKET */
    SPINAL_RX_ERR_CRC,       /* ... CRC mismatch */
    SPINAL_RX_ERR_VERSION,   /* good CRC, other protocol major: dropped */
    SPINAL_RX_ERR_UNKNOWN_TYPE /* good CRC, unknown type: dropped (its seq is still tracked) */
} spinal_rx_t;

/* The same counters as the TS FrameDecoder. */
typedef struct {
    uint32_t bytes, frames;
    uint32_t resyncs;        /* segments discarded for cobs/short/oversized/crc */
    uint32_t discarded_bytes;
    uint32_t cobs_errors, too_short, oversized, crc_errors, bad_version, unknown_type;
    uint32_t seq_lost;       /* frames missing by sequence number */
    uint32_t seq_rewinds;    /* arrivals whose seq went backwards (restarted sender), and
                              * restarts announced by a HELLO with seq 0 (SPEC section 2) */
} spinal_rx_counters_t;

/* Streaming decoder: COBS is undone byte by byte into `packet` as bytes arrive, so no copy of
 * the stuffed segment is kept (it mirrors the TS FrameDecoder's unstuffer, error for error).
 * Invariants: out <= SPINAL_MAX_PACKET; block_left > 0 only inside a COBS block; zero_pending
 * when the last block had a code below 0xFF, whose implied 0x00 is written only once another
 * block follows; once `oversized` is set the rest of the segment is only counted. */
typedef struct {
    spinal_rx_counters_t counters;
    spinal_frame_t frame;
    uint16_t out;
    uint8_t block_left;
    bool zero_pending;
    bool oversized;
    bool seq_known;
    uint16_t expected_seq;
    uint32_t segment_bytes; /* stuffed bytes of the segment so far */
    uint8_t packet[SPINAL_MAX_PACKET];
} spinal_decoder_t;

void spinal_decoder_init(spinal_decoder_t *dec);
/* Forgets a partial segment and the sequence history (port reopened); keeps the counters. */
void spinal_decoder_reset(spinal_decoder_t *dec);
/* Feeds one byte. Never fails on line data; errors are counted and reported by the result. */
spinal_rx_t spinal_decoder_push_byte(spinal_decoder_t *dec, uint8_t byte);

/* Chunk interface: calls on_event for every result other than SPINAL_RX_NONE. */
typedef void (*spinal_rx_fn)(void *ctx, spinal_rx_t what, const spinal_frame_t *frame);
void spinal_decoder_push(spinal_decoder_t *dec, const uint8_t *data, size_t len, spinal_rx_fn on_event, void *ctx);

/* One encoder per sending direction. Invariant: next_seq is the seq of the next frame sent. */
typedef struct {
    uint16_t next_seq;
    uint8_t version;
} spinal_encoder_t;

void spinal_encoder_init(spinal_encoder_t *enc, uint16_t first_seq);
/* Encodes a whole frame (COBS + 0x00) into dst; returns its length, or -(spinal_err_t) without
 * consuming a sequence number. cap >= SPINAL_MAX_FRAME always suffices. */
long spinal_encode(spinal_encoder_t *enc, uint8_t type, const spinal_msg_t *msg, uint32_t time_us, uint8_t *dst, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SPINAL_WIRE_H */
