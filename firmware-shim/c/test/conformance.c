/*
 * Host-side conformance runner for the C codec (not firmware: it uses stdio and malloc).
 *
 *   conformance VECTORS_DIR [--allow-defect NAME]...
 *
 * For every `NAME valid|accepted|invalid` line of VECTORS_DIR/MANIFEST it decodes NAME.bin whole, one byte
 * at a time and in 7-byte chunks, prints the canonical event lines (formats of
 * proto/wire/canonical.ts) and compares each run with NAME.events. For `valid` vectors it
 * re-encodes every frame with its seq and time and compares the result with NAME.bin byte for byte;
 * an `accepted` vector (a non-canonical encoding a receiver takes) must decode without errors.
 * A `valid` vector that reports errors is a defect of the vector set; --allow-defect NAME
 * tolerates that for NAME (its events must still match), and it is an error if NAME has no defect.
 * Prints `COUNTERS NAME ...` per vector and a summary; exits 1 on any mismatch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spinal_wire.h"

#define MAX_LINES 64
#define LINE_CAP 4096

typedef struct {
    char *lines[MAX_LINES];
    int count;
    bool overflow;
    /* re-encoding of the frames seen, for valid vectors */
    uint8_t *reencoded;
    size_t reencoded_len, reencoded_cap;
    int bad_events; /* ERROR and BODY_ERROR lines */
    int encode_failures;
} run_t;

static int failures;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    failures++;
}

static void add_line(run_t *r, const char *text)
{
    if (r->count == MAX_LINES) {
        r->overflow = true;
        return;
    }
    r->lines[r->count] = malloc(strlen(text) + 1);
    strcpy(r->lines[r->count++], text);
}

static void free_run(run_t *r)
{
    int i;
    for (i = 0; i < r->count; i++) free(r->lines[i]);
    free(r->reencoded);
    memset(r, 0, sizeof *r);
}

/* Appends printf-style text to a line buffer. */
static void cat(char *line, const char *fmt, ...)
{
    size_t n = strlen(line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, LINE_CAP - n, fmt, ap);
    va_end(ap);
}

static void ints(char *line, const char *key, const int32_t *a, unsigned n)
{
    unsigned i;
    cat(line, " %s=", key);
    for (i = 0; i < n; i++) cat(line, i ? ",%ld" : "%ld", (long)a[i]);
}

static void floats(char *line, const char *key, const float *a, unsigned n)
{
    unsigned i;
    cat(line, " %s=", key);
    for (i = 0; i < n; i++) cat(line, i ? ",%08lx" : "%08lx", (unsigned long)spinal_float_bits(a[i]));
}

/* The canonical text of canonicalText() in proto/wire/canonical.ts. */
static void canonical(char *line, const spinal_frame_t *f, const spinal_msg_t *m)
{
    line[0] = '\0';
    cat(line, "%s seq=%u t=%lu", spinal_type_name(f->type), (unsigned)f->seq, (unsigned long)f->time_us);
    switch (f->type) {
    case SPINAL_HELLO: {
        const spinal_hello_t *h = &m->hello;
        cat(line, " proto=%u.%u fw=%u.%u.%u joints=%u role=%u caps=%lu profile=%s device=%lu", h->proto_major, h->proto_minor,
            h->fw_major, h->fw_minor, h->fw_patch, h->joint_count, h->role, (unsigned long)h->capabilities, h->profile_id,
            (unsigned long)h->device_id);
        break;
    }
    case SPINAL_STATE: {
        const spinal_state_t *s = &m->state;
        cat(line, " joints=%u flags=%u status=%u faults=%u jfm=%lu imu_sample=%u", s->joint_count, s->flags, s->status, s->faults,
            (unsigned long)s->joint_fault_mask, (unsigned)s->imu_sample);
        ints(line, "pos", s->position, s->joint_count);
        floats(line, "vel", s->velocity, s->joint_count);
        floats(line, "cur", s->current, s->joint_count);
        if (s->flags & SPINAL_STATE_FLAG_IMU) {
            floats(line, "acc", s->accel, 3);
            floats(line, "gyr", s->gyro, 3);
        }
        if (s->flags & SPINAL_STATE_FLAG_ORIENTATION) floats(line, "quat", s->quat, 4);
        break;
    }
    case SPINAL_COMMAND: {
        const spinal_command_t *c = &m->command;
        cat(line, " joints=%u mode=%u", c->joint_count, c->mode);
        ints(line, "pos", c->position, c->joint_count);
        floats(line, "vel", c->velocity, c->joint_count);
        floats(line, "ff", c->feedforward, c->joint_count);
        break;
    }
    case SPINAL_HEARTBEAT: cat(line, " host_state=%u", m->heartbeat.host_state); break;
    case SPINAL_ESTOP: cat(line, " category=%u source=%u reason=%u", m->estop.category, m->estop.source, m->estop.reason); break;
    case SPINAL_RESET: cat(line, " what=%u token=%lu", m->reset.what, (unsigned long)m->reset.token); break;
    case SPINAL_TIME_SYNC_REQ: cat(line, " id=%lu", (unsigned long)m->time_sync_req.id); break;
    case SPINAL_TIME_SYNC_RESP:
        cat(line, " id=%lu rx=%lu tx=%lu", (unsigned long)m->time_sync_resp.id, (unsigned long)m->time_sync_resp.mcu_rx_us,
            (unsigned long)m->time_sync_resp.mcu_tx_us);
        break;
    case SPINAL_CONFIG: {
        const spinal_config_t *c = &m->config;
        cat(line, " watchdog_ms=%u rate_hz=%u joints=%u", c->watchdog_ms, c->state_rate_hz, c->joint_count);
        ints(line, "min", c->pos_min, c->joint_count);
        ints(line, "max", c->pos_max, c->joint_count);
        floats(line, "vmax", c->vel_max, c->joint_count);
        floats(line, "imax", c->current_max, c->joint_count);
        break;
    }
    case SPINAL_ACK:
        cat(line, " acked_type=%u result=%u acked_seq=%u detail=%lu", m->ack.acked_type, m->ack.result, m->ack.acked_seq,
            (unsigned long)m->ack.detail);
        break;
    case SPINAL_LOG: {
        unsigned i;
        cat(line, " level=%u text_hex=", m->log.level);
        for (i = 0; i < m->log.text_len; i++) cat(line, "%02x", m->log.text[i]);
        break;
    }
    default: break;
    }
}

static const char *error_kind(spinal_rx_t r)
{
    switch (r) {
    case SPINAL_RX_ERR_COBS: return "cobs";
    case SPINAL_RX_ERR_SHORT: return "short";
    case SPINAL_RX_ERR_OVERSIZED: return "oversized";
    case SPINAL_RX_ERR_CRC: return "crc";
    case SPINAL_RX_ERR_VERSION: return "version";
    default: return "unknown-type";
    }
}

static void on_event(void *ctx, spinal_rx_t what, const spinal_frame_t *f)
{
    static spinal_msg_t msg; /* large; static keeps it off the stack */
    static char line[LINE_CAP];
    run_t *r = ctx;
    if (what != SPINAL_RX_FRAME) {
        snprintf(line, sizeof line, "ERROR %s", error_kind(what));
        r->bad_events++;
    } else if (spinal_read_body(f->type, f->body, f->body_len, &msg) != SPINAL_OK) {
        snprintf(line, sizeof line, "BODY_ERROR %s", spinal_type_name(f->type));
        r->bad_events++;
    } else {
        spinal_encoder_t enc;
        long n;
        canonical(line, f, &msg);
        if (r->reencoded_len + SPINAL_MAX_FRAME > r->reencoded_cap) {
            r->reencoded_cap = 2 * r->reencoded_cap + SPINAL_MAX_FRAME;
            r->reencoded = realloc(r->reencoded, r->reencoded_cap);
        }
        spinal_encoder_init(&enc, f->seq);
        enc.version = f->version;
        n = spinal_encode(&enc, f->type, &msg, f->time_us, r->reencoded + r->reencoded_len, SPINAL_MAX_FRAME);
        if (n < 0) r->encode_failures++;
        else r->reencoded_len += (size_t)n;
    }
    add_line(r, line);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (fp == NULL) return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, fp);
    buf[*len] = 0;
    fclose(fp);
    return buf;
}

/* Splits the expected .events text into lines (a trailing newline ends the last one). */
static void expected_lines(char *text, run_t *out)
{
    char *p = text;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        if (nl != NULL) *nl = '\0';
        add_line(out, p);
        if (nl == NULL) break;
        p = nl + 1;
    }
}

static bool same_lines(const char *name, const char *how, const run_t *want, const run_t *got)
{
    int i, n = want->count > got->count ? want->count : got->count;
    bool ok = !got->overflow && want->count == got->count;
    for (i = 0; i < n; i++) {
        const char *w = i < want->count ? want->lines[i] : "(none)";
        const char *g = i < got->count ? got->lines[i] : "(none)";
        if (strcmp(w, g) != 0) {
            if (ok) printf("MISMATCH %s (%s)\n", name, how);
            ok = false;
            printf("  line %d\n    expected: %s\n    got:      %s\n", i + 1, w, g);
        }
    }
    if (!ok && want->count != got->count) printf("MISMATCH %s (%s): %d lines expected, %d got\n", name, how, want->count, got->count);
    if (!ok) failures++;
    return ok;
}

static bool same_counters(const spinal_rx_counters_t *a, const spinal_rx_counters_t *b)
{
    return a->bytes == b->bytes && a->frames == b->frames && a->resyncs == b->resyncs && a->discarded_bytes == b->discarded_bytes &&
           a->cobs_errors == b->cobs_errors && a->too_short == b->too_short && a->oversized == b->oversized &&
           a->crc_errors == b->crc_errors && a->bad_version == b->bad_version && a->unknown_type == b->unknown_type &&
           a->seq_lost == b->seq_lost && a->seq_rewinds == b->seq_rewinds;
}

static void print_counters(const char *name, const spinal_rx_counters_t *c)
{
    printf("COUNTERS %s bytes=%lu frames=%lu resyncs=%lu discarded=%lu cobs=%lu short=%lu oversized=%lu crc=%lu version=%lu "
           "unknown=%lu lost=%lu rewinds=%lu\n",
           name, (unsigned long)c->bytes, (unsigned long)c->frames, (unsigned long)c->resyncs, (unsigned long)c->discarded_bytes,
           (unsigned long)c->cobs_errors, (unsigned long)c->too_short, (unsigned long)c->oversized, (unsigned long)c->crc_errors,
           (unsigned long)c->bad_version, (unsigned long)c->unknown_type, (unsigned long)c->seq_lost, (unsigned long)c->seq_rewinds);
}

static spinal_decoder_t dec; /* 2 KiB of buffers: static, like on an MCU */

/* Returns 1 when the vector is a tolerated defect, else 0. */
static int check_vector(const char *dir, const char *name, bool valid, bool accepted, bool allow_defect)
{
    char path[1024];
    size_t len = 0, elen = 0, i;
    uint8_t *bin, *events;
    run_t want, whole, bytewise, chunked;
    spinal_rx_counters_t whole_counters;
    int defect = 0;
    memset(&want, 0, sizeof want);
    memset(&whole, 0, sizeof whole);
    memset(&bytewise, 0, sizeof bytewise);
    memset(&chunked, 0, sizeof chunked);
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    bin = read_file(path, &len);
    snprintf(path, sizeof path, "%s/%s.events", dir, name);
    events = read_file(path, &elen);
    if (bin == NULL || events == NULL) {
        fail("MISSING %s: cannot read %s.bin or %s.events\n", name, name, name);
        free(bin);
        free(events);
        return 0;
    }
    expected_lines((char *)events, &want);

    spinal_decoder_init(&dec);
    spinal_decoder_push(&dec, bin, len, on_event, &whole);
    whole_counters = dec.counters;
    print_counters(name, &whole_counters);

    spinal_decoder_init(&dec);
    for (i = 0; i < len; i++) {
        spinal_rx_t r = spinal_decoder_push_byte(&dec, bin[i]);
        if (r != SPINAL_RX_NONE) on_event(&bytewise, r, r == SPINAL_RX_FRAME ? &dec.frame : NULL);
    }
    if (!same_counters(&whole_counters, &dec.counters)) fail("MISMATCH %s: counters differ byte by byte\n", name);

    spinal_decoder_init(&dec);
    for (i = 0; i < len; i += 7) spinal_decoder_push(&dec, bin + i, len - i < 7 ? len - i : 7, on_event, &chunked);

    same_lines(name, "whole", &want, &whole);
    same_lines(name, "byte by byte", &want, &bytewise);
    same_lines(name, "7-byte chunks", &want, &chunked);

    if (valid) {
        if (whole.bad_events > 0) {
            if (allow_defect) {
                printf("VECTOR-DEFECT %s: marked valid but reports %d error event(s); tolerated by --allow-defect\n", name, whole.bad_events);
                defect = 1;
            } else {
                fail("VECTOR-DEFECT %s: marked valid but reports %d error event(s)\n", name, whole.bad_events);
            }
        } else if (whole.encode_failures > 0 || whole.reencoded_len != len || memcmp(whole.reencoded, bin, len) != 0) {
            fail("REENCODE %s: %d encode failure(s); %lu bytes re-encoded, %lu in the vector\n", name, whole.encode_failures,
                 (unsigned long)whole.reencoded_len, (unsigned long)len);
            for (i = 0; i < len && i < whole.reencoded_len; i++) {
                if (whole.reencoded[i] != bin[i]) {
                    printf("  first difference at byte %lu: expected %02x, got %02x\n", (unsigned long)i, bin[i], whole.reencoded[i]);
                    break;
                }
            }
        }
    }
    if (accepted && whole.bad_events > 0) fail("VECTOR-DEFECT %s: marked accepted but reports %d error event(s)\n", name, whole.bad_events);
    if (allow_defect && !defect) fail("STALE-ALLOW %s: --allow-defect given but the vector has no defect\n", name);

    free_run(&want);
    free_run(&whole);
    free_run(&bytewise);
    free_run(&chunked);
    free(bin);
    free(events);
    return defect;
}

/* Bitwise CRC-32C, the definition the table must agree with. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* CRC table and COBS round trips (in place included) over the run lengths that matter (254/255). */
static void selftest(void)
{
    static uint8_t src[1100], enc[1200], dec_buf[1100];
    const uint8_t check[] = "123456789";
    size_t n, i;
    int pattern;
    if (spinal_crc32c(check, 9) != 0xE3069283u) fail("SELFTEST-FAIL crc32c check value\n");
    for (i = 0; i < 256; i++) {
        uint8_t b = (uint8_t)i;
        if (spinal_crc32c(&b, 1) != crc_bitwise(&b, 1)) fail("SELFTEST-FAIL crc32c table entry %lu\n", (unsigned long)i);
    }
    for (pattern = 0; pattern < 3; pattern++) {
        for (n = 0; n <= 1024; n++) {
            size_t e, shift = n / 254 + 1;
            long d;
            for (i = 0; i < n; i++) src[i] = pattern == 0 ? 0 : pattern == 1 ? (uint8_t)(1 + i % 255) : (uint8_t)(i * 7 % 5);
            e = spinal_cobs_encode(src, n, enc);
            if (e > SPINAL_COBS_MAX(n) || memchr(enc, 0, e) != NULL) fail("SELFTEST-FAIL cobs encode n=%lu\n", (unsigned long)n);
            d = spinal_cobs_decode(enc, e, dec_buf, sizeof dec_buf);
            if (d != (long)n || memcmp(dec_buf, src, n) != 0) fail("SELFTEST-FAIL cobs round trip n=%lu pattern=%d\n", (unsigned long)n, pattern);
            memcpy(dec_buf + shift, src, n); /* in place: input placed len/254 + 1 bytes in */
            if (spinal_cobs_encode(dec_buf + shift, n, dec_buf) != e || memcmp(dec_buf, enc, e) != 0) {
                fail("SELFTEST-FAIL cobs in-place encode n=%lu pattern=%d\n", (unsigned long)n, pattern);
            }
        }
    }
    printf("SELFTEST crc32c and cobs done\n");
}

int main(int argc, char **argv)
{
    char path[1024], name[256], kind[32];
    const char *allowed[16];
    int n_allowed = 0, checked = 0, valid_count = 0, defects = 0, i;
    FILE *manifest;
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTORS_DIR [--allow-defect NAME]...\n", argv[0]);
        return 2;
    }
    for (i = 2; i + 1 < argc && n_allowed < 16; i += 2) {
        if (strcmp(argv[i], "--allow-defect") != 0) {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
        allowed[n_allowed++] = argv[i + 1];
    }
    selftest();
    snprintf(path, sizeof path, "%s/MANIFEST", argv[1]);
    manifest = fopen(path, "r");
    if (manifest == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return 2;
    }
    while (fscanf(manifest, "%255s %31s", name, kind) == 2) {
        bool valid = strcmp(kind, "valid") == 0, accepted = strcmp(kind, "accepted") == 0, allow = false;
        if (!valid && !accepted && strcmp(kind, "invalid") != 0) fail("MANIFEST %s: kind '%s' is not valid, accepted or invalid\n", name, kind);
        for (i = 0; i < n_allowed; i++) allow = allow || strcmp(allowed[i], name) == 0;
        defects += check_vector(argv[1], name, valid, accepted, allow);
        checked++;
        valid_count += valid;
    }
    fclose(manifest);
    if (checked == 0) fail("MANIFEST lists no vectors\n");
    printf("SUMMARY vectors=%d valid=%d tolerated_defects=%d failures=%d\n", checked, valid_count, defects, failures);
    return failures == 0 ? 0 : 1;
}
