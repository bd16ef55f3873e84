/*
 * Message bodies: readers validate exactly as readBody in proto/wire/messages.ts (same checks,
 * same order); writers refuse whatever a conforming reader would refuse, so this side never puts
 * a frame on the wire that the other side must drop. All fields are little-endian, byte-wise.
 */
#include "spinal_wire.h"

/* A float that is not 4 bytes would break every float field: refuse to compile. */
typedef char spinal_float_is_32_bits[sizeof(float) == 4 ? 1 : -1];

/* Type punning through a union is defined in C99 (TC3) and needs no <string.h>. */
typedef union { float f; uint32_t u; } fbits_t;

uint32_t spinal_float_bits(float x)
{
    fbits_t b;
    b.f = x;
    return b.u;
}

bool spinal_isfinite(float x)
{
    return (spinal_float_bits(x) & 0x7F800000u) != 0x7F800000u; /* exponent all ones: Inf or NaN */
}

/* Finite and >= 0 (-0 passes, as `x >= 0` does in the TS reader). */
/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF; the same
 * rule as a fatal WHATWG TextDecoder, so both implementations refuse the same LOG texts. */
static int utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k, j;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c == 0xE0) { k = 2; lo = 0xA0; }
        else if (c == 0xED) { k = 2; hi = 0x9F; }
        else if (c >= 0xE1 && c <= 0xEF) k = 2;
        else if (c == 0xF0) { k = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) k = 3;
        else if (c == 0xF4) { k = 3; hi = 0x8F; }
        else return 0;
        if (n - i - 1 < k) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (j = 2; j <= k; j++) if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
        i += k + 1;
    }
    return 1;
}

static bool finite_non_negative(float x)
{
    uint32_t u = spinal_float_bits(x);
    return spinal_isfinite(x) && ((u & 0x80000000u) == 0 || (u & 0x7FFFFFFFu) == 0);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
/* Two's complement conversion without implementation-defined unsigned-to-signed casts. */
static int32_t rdi32(const uint8_t *p)
{
    uint32_t u = rd32(p);
    return (u & 0x80000000u) ? (int32_t)(-(int32_t)(~u) - 1) : (int32_t)u;
}
static float rdf32(const uint8_t *p)
{
    fbits_t b;
    b.u = rd32(p);
    return b.f;
}

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void wrf32(uint8_t *p, float f) { wr32(p, spinal_float_bits(f)); }

#define HELLO_SIZE 40u
#define STATE_FIXED 12u
#define PER_JOINT_12 12u
#define IMU_SIZE 24u
#define ORIENTATION_SIZE 16u
#define COMMAND_FIXED 4u
#define CONFIG_FIXED 8u
#define CONFIG_PER_JOINT 16u

static size_t state_size(size_t n, uint8_t flags)
{
    return STATE_FIXED + PER_JOINT_12 * n + ((flags & SPINAL_STATE_FLAG_IMU) ? IMU_SIZE : 0u) +
           ((flags & SPINAL_STATE_FLAG_ORIENTATION) ? ORIENTATION_SIZE : 0u);
}

const char *spinal_type_name(uint8_t type)
{
    static const char *const names[] = { "HELLO", "STATE", "COMMAND", "HEARTBEAT", "ESTOP", "RESET",
                                         "TIME_SYNC_REQ", "TIME_SYNC_RESP", "CONFIG", "ACK", "LOG" };
    return (type >= SPINAL_HELLO && type <= SPINAL_LOG) ? names[type - 1] : NULL;
}

/* ---- readers -------------------------------------------------------------------------------- */

static spinal_err_t read_hello(const uint8_t *b, size_t len, spinal_hello_t *m)
{
    size_t i, end = 0;
    if (len != HELLO_SIZE) return SPINAL_ERR_LENGTH;
    m->proto_major = b[0]; m->proto_minor = b[1]; m->fw_major = b[2]; m->fw_minor = b[3];
    m->fw_patch = rd16(b + 4); m->joint_count = b[6]; m->role = b[7];
    m->capabilities = rd32(b + 8);
    /* The id ends at the first NUL; bytes after it are padding and are not inspected. */
    while (end < SPINAL_PROFILE_ID_SIZE && b[12 + end] != 0) end++;
    for (i = 0; i < end; i++) {
        if (b[12 + i] < 0x20 || b[12 + i] > 0x7E) return SPINAL_ERR_PROFILE;
        m->profile_id[i] = (char)b[12 + i];
    }
    m->profile_id[end] = '\0';
    m->device_id = rd32(b + 36);
    if (m->joint_count > SPINAL_MAX_JOINTS) return SPINAL_ERR_JOINTS;
    return SPINAL_OK;
}

static spinal_err_t read_state(const uint8_t *b, size_t len, spinal_state_t *m)
{
    size_t j, k;
    const uint8_t *p;
    uint8_t n, flags;
    if (len < STATE_FIXED) return SPINAL_ERR_LENGTH;
    n = b[0];
    flags = b[1];
    if (n > SPINAL_MAX_JOINTS) return SPINAL_ERR_JOINTS;
    if (flags & ~0x03u) return SPINAL_ERR_FLAGS;
    if (len != state_size(n, flags)) return SPINAL_ERR_LENGTH;
    m->joint_count = n; m->flags = flags;
    m->status = rd16(b + 2); m->faults = rd16(b + 4);
    m->imu_sample = rd16(b + 6);
    m->joint_fault_mask = rd32(b + 8);
    /* STATE values are passed on as measured: NaN is legal here, the host judges it. */
    for (j = 0, p = b + STATE_FIXED; j < n; j++, p += PER_JOINT_12) {
        m->position[j] = rdi32(p); m->velocity[j] = rdf32(p + 4); m->current[j] = rdf32(p + 8);
    }
    if (flags & SPINAL_STATE_FLAG_IMU) {
        for (k = 0; k < 3; k++) { m->accel[k] = rdf32(p + 4 * k); m->gyro[k] = rdf32(p + 12 + 4 * k); }
        p += IMU_SIZE;
    }
    if (flags & SPINAL_STATE_FLAG_ORIENTATION) {
        for (k = 0; k < 4; k++) m->quat[k] = rdf32(p + 4 * k);
    }
    return SPINAL_OK;
}

static spinal_err_t read_command(const uint8_t *b, size_t len, spinal_command_t *m)
{
    size_t j;
    const uint8_t *p;
    uint8_t n, mode;
    if (len < COMMAND_FIXED) return SPINAL_ERR_LENGTH;
    n = b[0];
    mode = b[1];
    if (n > SPINAL_MAX_JOINTS) return SPINAL_ERR_JOINTS;
    if (mode > SPINAL_MAX_COMMAND_MODE) return SPINAL_ERR_RANGE;
    if (len != COMMAND_FIXED + PER_JOINT_12 * n) return SPINAL_ERR_LENGTH;
    for (j = 0, p = b + COMMAND_FIXED; j < n; j++, p += PER_JOINT_12) {
        float vel = rdf32(p + 4), ff = rdf32(p + 8);
        if (!spinal_isfinite(vel) || !spinal_isfinite(ff)) return SPINAL_ERR_NOT_FINITE;
        m->position[j] = rdi32(p); m->velocity[j] = vel; m->feedforward[j] = ff;
    }
    m->joint_count = n; m->mode = mode;
    return SPINAL_OK;
}

static spinal_err_t read_config(const uint8_t *b, size_t len, spinal_config_t *m)
{
    size_t j;
    const uint8_t *p;
    uint8_t n;
    if (len < CONFIG_FIXED) return SPINAL_ERR_LENGTH;
    n = b[4];
    if (n > SPINAL_MAX_JOINTS) return SPINAL_ERR_JOINTS;
    if (len != CONFIG_FIXED + CONFIG_PER_JOINT * n) return SPINAL_ERR_LENGTH;
    for (j = 0, p = b + CONFIG_FIXED; j < n; j++, p += CONFIG_PER_JOINT) {
        int32_t lo = rdi32(p), hi = rdi32(p + 4);
        float vm = rdf32(p + 8), cm = rdf32(p + 12);
        if (lo > hi) return SPINAL_ERR_LIMITS;
        if (!finite_non_negative(vm) || !finite_non_negative(cm)) return SPINAL_ERR_LIMITS;
        m->pos_min[j] = lo; m->pos_max[j] = hi; m->vel_max[j] = vm; m->current_max[j] = cm;
    }
    m->watchdog_ms = rd16(b); m->state_rate_hz = rd16(b + 2); m->joint_count = n;
    return SPINAL_OK;
}

spinal_err_t spinal_read_body(uint8_t type, const uint8_t *b, size_t len, spinal_msg_t *out)
{
    switch (type) {
    case SPINAL_HELLO: return read_hello(b, len, &out->hello);
    case SPINAL_STATE: return read_state(b, len, &out->state);
    case SPINAL_COMMAND: return read_command(b, len, &out->command);
    case SPINAL_HEARTBEAT:
        if (len != 4) return SPINAL_ERR_LENGTH;
        out->heartbeat.host_state = b[0];
        return SPINAL_OK;
    case SPINAL_ESTOP:
        if (len != 4) return SPINAL_ERR_LENGTH;
        /* Filled before judging: an out-of-range ESTOP still means "stop" and is reported. */
        out->estop.category = b[0]; out->estop.source = b[1]; out->estop.reason = rd16(b + 2);
        if (b[0] > 2 || b[1] > SPINAL_MAX_ESTOP_SOURCE) return SPINAL_ERR_RANGE;
        return SPINAL_OK;
    case SPINAL_RESET:
        if (len != 8) return SPINAL_ERR_LENGTH;
        /* Filled before judging: a refused RESET is still answered, echoing its token. */
        out->reset.what = b[0]; out->reset.token = rd32(b + 4);
        if (b[0] > 7) return SPINAL_ERR_RANGE;
        return SPINAL_OK;
    case SPINAL_TIME_SYNC_REQ:
        if (len != 4) return SPINAL_ERR_LENGTH;
        out->time_sync_req.id = rd32(b);
        return SPINAL_OK;
    case SPINAL_TIME_SYNC_RESP:
        if (len != 12) return SPINAL_ERR_LENGTH;
        out->time_sync_resp.id = rd32(b); out->time_sync_resp.mcu_rx_us = rd32(b + 4);
        out->time_sync_resp.mcu_tx_us = rd32(b + 8);
        return SPINAL_OK;
    case SPINAL_CONFIG: return read_config(b, len, &out->config);
    case SPINAL_ACK:
        if (len != 8) return SPINAL_ERR_LENGTH;
        out->ack.acked_type = b[0]; out->ack.result = b[1]; out->ack.acked_seq = rd16(b + 2);
        out->ack.detail = rd32(b + 4);
        return SPINAL_OK;
    case SPINAL_LOG: {
        size_t i;
        if (len < 2 || len > 2 + SPINAL_MAX_LOG_TEXT) return SPINAL_ERR_LENGTH;
        if (!utf8_valid(b + 2, len - 2)) return SPINAL_ERR_TEXT;
        out->log.level = b[0];
        out->log.text_len = (uint8_t)(len - 2);
        for (i = 0; i < len - 2; i++) out->log.text[i] = b[2 + i];
        return SPINAL_OK;
    }
    default: return SPINAL_ERR_TYPE;
    }
}

/* ---- writers -------------------------------------------------------------------------------- */

static long write_hello(const spinal_hello_t *m, uint8_t *d)
{
    size_t i, n = 0;
    while (n <= SPINAL_PROFILE_ID_SIZE && m->profile_id[n] != '\0') n++;
    if (n > SPINAL_PROFILE_ID_SIZE) return -(long)SPINAL_ERR_PROFILE;
    if (m->joint_count > SPINAL_MAX_JOINTS) return -(long)SPINAL_ERR_JOINTS;
    d[0] = m->proto_major; d[1] = m->proto_minor; d[2] = m->fw_major; d[3] = m->fw_minor;
    wr16(d + 4, m->fw_patch); d[6] = m->joint_count; d[7] = m->role;
    wr32(d + 8, m->capabilities);
    for (i = 0; i < SPINAL_PROFILE_ID_SIZE; i++) {
        uint8_t c = i < n ? (uint8_t)m->profile_id[i] : 0u;
        if (i < n && (c < 0x20 || c > 0x7E)) return -(long)SPINAL_ERR_PROFILE;
        d[12 + i] = c;
    }
    wr32(d + 36, m->device_id);
    return (long)HELLO_SIZE;
}

static long write_state(const spinal_state_t *m, uint8_t *d)
{
    size_t j, k;
    uint8_t *p;
    const uint8_t flags = (uint8_t)(m->flags & 0x03u);
    if (m->joint_count > SPINAL_MAX_JOINTS) return -(long)SPINAL_ERR_JOINTS;
    d[0] = m->joint_count; d[1] = flags;
    wr16(d + 2, m->status); wr16(d + 4, m->faults); wr16(d + 6, m->imu_sample);
    wr32(d + 8, m->joint_fault_mask);
    for (j = 0, p = d + STATE_FIXED; j < m->joint_count; j++, p += PER_JOINT_12) {
        wr32(p, (uint32_t)m->position[j]); wrf32(p + 4, m->velocity[j]); wrf32(p + 8, m->current[j]);
    }
    if (flags & SPINAL_STATE_FLAG_IMU) {
        for (k = 0; k < 3; k++) { wrf32(p + 4 * k, m->accel[k]); wrf32(p + 12 + 4 * k, m->gyro[k]); }
        p += IMU_SIZE;
    }
    if (flags & SPINAL_STATE_FLAG_ORIENTATION) {
        for (k = 0; k < 4; k++) wrf32(p + 4 * k, m->quat[k]);
        p += ORIENTATION_SIZE;
    }
    return (long)(p - d);
}

static long write_command(const spinal_command_t *m, uint8_t *d)
{
    size_t j;
    uint8_t *p;
    if (m->joint_count > SPINAL_MAX_JOINTS) return -(long)SPINAL_ERR_JOINTS;
    if (m->mode > SPINAL_MAX_COMMAND_MODE) return -(long)SPINAL_ERR_RANGE;
    for (j = 0; j < m->joint_count; j++) {
        if (!spinal_isfinite(m->velocity[j]) || !spinal_isfinite(m->feedforward[j])) return -(long)SPINAL_ERR_NOT_FINITE;
    }
    d[0] = m->joint_count; d[1] = m->mode; wr16(d + 2, 0);
    for (j = 0, p = d + COMMAND_FIXED; j < m->joint_count; j++, p += PER_JOINT_12) {
        wr32(p, (uint32_t)m->position[j]); wrf32(p + 4, m->velocity[j]); wrf32(p + 8, m->feedforward[j]);
    }
    return (long)(p - d);
}

static long write_config(const spinal_config_t *m, uint8_t *d)
{
    size_t j;
    uint8_t *p;
    if (m->joint_count > SPINAL_MAX_JOINTS) return -(long)SPINAL_ERR_JOINTS;
    for (j = 0; j < m->joint_count; j++) {
        if (m->pos_min[j] > m->pos_max[j] || !finite_non_negative(m->vel_max[j]) || !finite_non_negative(m->current_max[j])) {
            return -(long)SPINAL_ERR_LIMITS;
        }
    }
    wr16(d, m->watchdog_ms); wr16(d + 2, m->state_rate_hz);
    d[4] = m->joint_count; d[5] = 0; wr16(d + 6, 0);
    for (j = 0, p = d + CONFIG_FIXED; j < m->joint_count; j++, p += CONFIG_PER_JOINT) {
        wr32(p, (uint32_t)m->pos_min[j]); wr32(p + 4, (uint32_t)m->pos_max[j]);
        wrf32(p + 8, m->vel_max[j]); wrf32(p + 12, m->current_max[j]);
    }
    return (long)(p - d);
}

/* Exact encoded body size, or 0 for an unknown type; counts are clamped so the capacity check
 * before writing never overflows (an out-of-range count is refused by the writer anyway). */
static size_t body_size(uint8_t type, const spinal_msg_t *m)
{
    size_t n;
    switch (type) {
    case SPINAL_HELLO: return HELLO_SIZE;
    case SPINAL_STATE:
        n = m->state.joint_count > SPINAL_MAX_JOINTS ? 0u : m->state.joint_count;
        return state_size(n, (uint8_t)(m->state.flags & 0x03u));
    case SPINAL_COMMAND:
        n = m->command.joint_count > SPINAL_MAX_JOINTS ? 0u : m->command.joint_count;
        return COMMAND_FIXED + PER_JOINT_12 * n;
    case SPINAL_CONFIG:
        n = m->config.joint_count > SPINAL_MAX_JOINTS ? 0u : m->config.joint_count;
        return CONFIG_FIXED + CONFIG_PER_JOINT * n;
    case SPINAL_HEARTBEAT: case SPINAL_ESTOP: case SPINAL_TIME_SYNC_REQ: return 4;
    case SPINAL_RESET: case SPINAL_ACK: return 8;
    case SPINAL_TIME_SYNC_RESP: return 12;
    case SPINAL_LOG: return 2u + m->log.text_len;
    default: return 0;
    }
}

long spinal_write_body(uint8_t type, const spinal_msg_t *m, uint8_t *d, size_t cap)
{
    size_t i;
    if (spinal_type_name(type) == NULL) return -(long)SPINAL_ERR_TYPE;
    if (body_size(type, m) > cap) return -(long)SPINAL_ERR_SPACE;
    switch (type) {
    case SPINAL_HELLO: return write_hello(&m->hello, d);
    case SPINAL_STATE: return write_state(&m->state, d);
    case SPINAL_COMMAND: return write_command(&m->command, d);
    case SPINAL_CONFIG: return write_config(&m->config, d);
    case SPINAL_HEARTBEAT:
        d[0] = m->heartbeat.host_state; d[1] = 0; wr16(d + 2, 0);
        return 4;
    case SPINAL_ESTOP:
        if (m->estop.category > 2 || m->estop.source > SPINAL_MAX_ESTOP_SOURCE) return -(long)SPINAL_ERR_RANGE;
        d[0] = m->estop.category; d[1] = m->estop.source; wr16(d + 2, m->estop.reason);
        return 4;
    case SPINAL_RESET:
        if (m->reset.what > 7) return -(long)SPINAL_ERR_RANGE;
        d[0] = m->reset.what; d[1] = 0; wr16(d + 2, 0); wr32(d + 4, m->reset.token);
        return 8;
    case SPINAL_TIME_SYNC_REQ:
        wr32(d, m->time_sync_req.id);
        return 4;
    case SPINAL_TIME_SYNC_RESP:
        wr32(d, m->time_sync_resp.id); wr32(d + 4, m->time_sync_resp.mcu_rx_us); wr32(d + 8, m->time_sync_resp.mcu_tx_us);
        return 12;
    case SPINAL_ACK:
        d[0] = m->ack.acked_type; d[1] = m->ack.result; wr16(d + 2, m->ack.acked_seq); wr32(d + 4, m->ack.detail);
        return 8;
    default: /* SPINAL_LOG */
        if (m->log.text_len > SPINAL_MAX_LOG_TEXT) return -(long)SPINAL_ERR_LENGTH;
        if (!utf8_valid(m->log.text, m->log.text_len)) return -(long)SPINAL_ERR_TEXT;
        d[0] = m->log.level; d[1] = 0;
        for (i = 0; i < m->log.text_len; i++) d[2 + i] = m->log.text[i];
        return (long)(2u + m->log.text_len);
    }
}
