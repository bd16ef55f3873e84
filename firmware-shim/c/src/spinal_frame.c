/*
 * Framing of the Spinal protocol: CRC-32C, COBS, the streaming decoder and the frame encoder.
 * Behaviour mirrors proto/wire/{crc32c,cobs,frame-decoder,frame-encoder}.ts; the conformance
 * vectors check that both report the same events for the same bytes.
 */
#include "spinal_wire.h"

/* Reflected CRC-32C table in flash (1 KiB, no initialisation call): entry n is the CRC register
 * after shifting byte n through 8 rounds of the polynomial 0x82F63B78. Generated offline;
 * test/conformance.c checks every entry against a bitwise CRC and the check value 0xE3069283. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0xF26B8303u, 0xE13B70F7u, 0x1350F3F4u, 0xC79A971Fu, 0x35F1141Cu,
    0x26A1E7E8u, 0xD4CA64EBu, 0x8AD958CFu, 0x78B2DBCCu, 0x6BE22838u, 0x9989AB3Bu,
    0x4D43CFD0u, 0xBF284CD3u, 0xAC78BF27u, 0x5E133C24u, 0x105EC76Fu, 0xE235446Cu,
    0xF165B798u, 0x030E349Bu, 0xD7C45070u, 0x25AFD373u, 0x36FF2087u, 0xC494A384u,
    0x9A879FA0u, 0x68EC1CA3u, 0x7BBCEF57u, 0x89D76C54u, 0x5D1D08BFu, 0xAF768BBCu,
    0xBC267848u, 0x4E4DFB4Bu, 0x20BD8EDEu, 0xD2D60DDDu, 0xC186FE29u, 0x33ED7D2Au,
    0xE72719C1u, 0x154C9AC2u, 0x061C6936u, 0xF477EA35u, 0xAA64D611u, 0x580F5512u,
    0x4B5FA6E6u, 0xB93425E5u, 0x6DFE410Eu, 0x9F95C20Du, 0x8CC531F9u, 0x7EAEB2FAu,
    0x30E349B1u, 0xC288CAB2u, 0xD1D83946u, 0x23B3BA45u, 0xF779DEAEu, 0x05125DADu,
    0x1642AE59u, 0xE4292D5Au, 0xBA3A117Eu, 0x4851927Du, 0x5B016189u, 0xA96AE28Au,
    0x7DA08661u, 0x8FCB0562u, 0x9C9BF696u, 0x6EF07595u, 0x417B1DBCu, 0xB3109EBFu,
    0xA0406D4Bu, 0x522BEE48u, 0x86E18AA3u, 0x748A09A0u, 0x67DAFA54u, 0x95B17957u,
    0xCBA24573u, 0x39C9C670u, 0x2A993584u, 0xD8F2B687u, 0x0C38D26Cu, 0xFE53516Fu,
    0xED03A29Bu, 0x1F682198u, 0x5125DAD3u, 0xA34E59D0u, 0xB01EAA24u, 0x42752927u,
    0x96BF4DCCu, 0x64D4CECFu, 0x77843D3Bu, 0x85EFBE38u, 0xDBFC821Cu, 0x2997011Fu,
    0x3AC7F2EBu, 0xC8AC71E8u, 0x1C661503u, 0xEE0D9600u, 0xFD5D65F4u, 0x0F36E6F7u,
    0x61C69362u, 0x93AD1061u, 0x80FDE395u, 0x72966096u, 0xA65C047Du, 0x5437877Eu,
    0x4767748Au, 0xB50CF789u, 0xEB1FCBADu, 0x197448AEu, 0x0A24BB5Au, 0xF84F3859u,
    0x2C855CB2u, 0xDEEEDFB1u, 0xCDBE2C45u, 0x3FD5AF46u, 0x7198540Du, 0x83F3D70Eu,
    0x90A324FAu, 0x62C8A7F9u, 0xB602C312u, 0x44694011u, 0x5739B3E5u, 0xA55230E6u,
    0xFB410CC2u, 0x092A8FC1u, 0x1A7A7C35u, 0xE811FF36u, 0x3CDB9BDDu, 0xCEB018DEu,
    0xDDE0EB2Au, 0x2F8B6829u, 0x82F63B78u, 0x709DB87Bu, 0x63CD4B8Fu, 0x91A6C88Cu,
    0x456CAC67u, 0xB7072F64u, 0xA457DC90u, 0x563C5F93u, 0x082F63B7u, 0xFA44E0B4u,
    0xE9141340u, 0x1B7F9043u, 0xCFB5F4A8u, 0x3DDE77ABu, 0x2E8E845Fu, 0xDCE5075Cu,
    0x92A8FC17u, 0x60C37F14u, 0x73938CE0u, 0x81F80FE3u, 0x55326B08u, 0xA759E80Bu,
    0xB4091BFFu, 0x466298FCu, 0x1871A4D8u, 0xEA1A27DBu, 0xF94AD42Fu, 0x0B21572Cu,
    0xDFEB33C7u, 0x2D80B0C4u, 0x3ED04330u, 0xCCBBC033u, 0xA24BB5A6u, 0x502036A5u,
    0x4370C551u, 0xB11B4652u, 0x65D122B9u, 0x97BAA1BAu, 0x84EA524Eu, 0x7681D14Du,
    0x2892ED69u, 0xDAF96E6Au, 0xC9A99D9Eu, 0x3BC21E9Du, 0xEF087A76u, 0x1D63F975u,
    0x0E330A81u, 0xFC588982u, 0xB21572C9u, 0x407EF1CAu, 0x532E023Eu, 0xA145813Du,
    0x758FE5D6u, 0x87E466D5u, 0x94B49521u, 0x66DF1622u, 0x38CC2A06u, 0xCAA7A905u,
    0xD9F75AF1u, 0x2B9CD9F2u, 0xFF56BD19u, 0x0D3D3E1Au, 0x1E6DCDEEu, 0xEC064EEDu,
    0xC38D26C4u, 0x31E6A5C7u, 0x22B65633u, 0xD0DDD530u, 0x0417B1DBu, 0xF67C32D8u,
    0xE52CC12Cu, 0x1747422Fu, 0x49547E0Bu, 0xBB3FFD08u, 0xA86F0EFCu, 0x5A048DFFu,
    0x8ECEE914u, 0x7CA56A17u, 0x6FF599E3u, 0x9D9E1AE0u, 0xD3D3E1ABu, 0x21B862A8u,
    0x32E8915Cu, 0xC083125Fu, 0x144976B4u, 0xE622F5B7u, 0xF5720643u, 0x07198540u,
    0x590AB964u, 0xAB613A67u, 0xB831C993u, 0x4A5A4A90u, 0x9E902E7Bu, 0x6CFBAD78u,
    0x7FAB5E8Cu, 0x8DC0DD8Fu, 0xE330A81Au, 0x115B2B19u, 0x020BD8EDu, 0xF0605BEEu,
    0x24AA3F05u, 0xD6C1BC06u, 0xC5914FF2u, 0x37FACCF1u, 0x69E9F0D5u, 0x9B8273D6u,
    0x88D28022u, 0x7AB90321u, 0xAE7367CAu, 0x5C18E4C9u, 0x4F48173Du, 0xBD23943Eu,
    0xF36E6F75u, 0x0105EC76u, 0x12551F82u, 0xE03E9C81u, 0x34F4F86Au, 0xC69F7B69u,
    0xD5CF889Du, 0x27A40B9Eu, 0x79B737BAu, 0x8BDCB4B9u, 0x988C474Du, 0x6AE7C44Eu,
    0xBE2DA0A5u, 0x4C4623A6u, 0x5F16D052u, 0xAD7D5351u
};

uint32_t spinal_crc32c(const uint8_t *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    for (i = 0; i < len; i++) crc = crc_table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

size_t spinal_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst)
{
    /* Invariant: dst[code_at] is the reserved code byte of the open block, `code` is 1 + the
     * number of data bytes in it, and o is the next free output byte (code_at < o). Every write
     * lands at or before the input byte just read plus len/254 + 1, hence the in-place rule. */
    size_t code_at = 0, o = 1, i;
    uint8_t code = 1;
    for (i = 0; i < len; i++) {
        uint8_t b = src[i];
        if (b == 0) {
            dst[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            dst[o++] = b;
            if (++code == 0xFF) {
                dst[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    dst[code_at] = code;
    return o;
}

long spinal_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t limit)
{
    size_t i = 0, o = 0;
    while (i < len) {
        size_t code = src[i++];
        size_t block_end;
        if (code == 0) return -1;
        block_end = i + code - 1;
        if (block_end > len) return -1;
        if (o + code - 1 > limit) return -2;
        while (i < block_end) {
            uint8_t b = src[i++];
            if (b == 0) return -1;
            dst[o++] = b;
        }
        /* A block shorter than 254 data bytes stands for a zero, except at the very end. */
        if (code != 0xFF && i < len) {
            if (o >= limit) return -2;
            dst[o++] = 0;
        }
    }
    return (long)o;
}

/* ---- decoder -------------------------------------------------------------------------------- */

static void start_segment(spinal_decoder_t *dec)
{
    dec->out = 0;
    dec->block_left = 0;
    dec->zero_pending = false;
    dec->oversized = false;
    dec->segment_bytes = 0;
}

void spinal_decoder_init(spinal_decoder_t *dec)
{
    spinal_rx_counters_t zero = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    dec->counters = zero;
    dec->frame.version = 0;
    dec->frame.type = 0;
    dec->frame.seq = 0;
    dec->frame.time_us = 0;
    dec->frame.body = dec->packet + SPINAL_HEADER_SIZE;
    dec->frame.body_len = 0;
    spinal_decoder_reset(dec);
}

void spinal_decoder_reset(spinal_decoder_t *dec)
{
    start_segment(dec);
    dec->seq_known = false;
    dec->expected_seq = 0;
}

static spinal_rx_t discard(spinal_decoder_t *dec, spinal_rx_t kind, uint32_t len)
{
    spinal_rx_counters_t *c = &dec->counters;
    c->resyncs++;
    c->discarded_bytes += len;
    if (kind == SPINAL_RX_ERR_COBS) c->cobs_errors++;
    else if (kind == SPINAL_RX_ERR_SHORT) c->too_short++;
    else if (kind == SPINAL_RX_ERR_OVERSIZED) c->oversized++;
    else c->crc_errors++;
    return kind;
}

/* SPEC section 2: a HELLO with seq 0 is a sender that restarted its numbering (power-on, port
 * reopened): the step to it is a restart, never lost frames, wherever the old number was. */
static void track_seq(spinal_decoder_t *dec, uint16_t seq, uint8_t type)
{
    if (seq == 0u && type == SPINAL_HELLO) {
        if (dec->seq_known && dec->expected_seq != 0u) dec->counters.seq_rewinds++;
    } else if (dec->seq_known) {
        uint16_t gap = (uint16_t)(seq - dec->expected_seq);
        if (gap >= 0x8000u) dec->counters.seq_rewinds++;
        else dec->counters.seq_lost += gap;
    }
    dec->seq_known = true;
    dec->expected_seq = (uint16_t)(seq + 1u);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* One stuffed byte of the segment in progress. */
static void unstuff(spinal_decoder_t *dec, uint8_t byte)
{
    if (dec->segment_bytes != UINT32_MAX) dec->segment_bytes++; /* saturates: never reads as empty */
    if (dec->oversized) return;
    if (dec->block_left > 0) { /* a data byte; room for it was checked at its code byte */
        dec->packet[dec->out++] = byte;
        dec->block_left--;
        return;
    }
    /* a code byte: first the zero the previous block implied, then room for this block */
    if (dec->zero_pending) {
        if (dec->out >= SPINAL_MAX_PACKET) {
            dec->oversized = true;
            return;
        }
        dec->packet[dec->out++] = 0;
    }
    dec->zero_pending = byte != 0xFF;
    if ((uint32_t)dec->out + byte - 1u > SPINAL_MAX_PACKET) {
        dec->oversized = true;
        return;
    }
    dec->block_left = (uint8_t)(byte - 1u);
}

/* Judges the segment that a delimiter just ended (never called for an empty one). */
static spinal_rx_t end_segment(spinal_decoder_t *dec)
{
    const uint8_t *b = dec->packet;
    uint32_t len = dec->segment_bytes;
    size_t n = dec->out, crc_at;
    bool oversized = dec->oversized, cut = dec->block_left > 0;
    uint16_t seq;
    start_segment(dec);
    if (oversized || len > SPINAL_COBS_MAX(SPINAL_MAX_PACKET)) return discard(dec, SPINAL_RX_ERR_OVERSIZED, len);
    if (cut) return discard(dec, SPINAL_RX_ERR_COBS, len); /* the last block runs past the delimiter */
    if (n < SPINAL_MIN_PACKET) return discard(dec, SPINAL_RX_ERR_SHORT, len);
    crc_at = n - SPINAL_CRC_SIZE;
    if (spinal_crc32c(b, crc_at) != get_u32(b + crc_at)) return discard(dec, SPINAL_RX_ERR_CRC, len);
    /* Past the CRC the frame is what its sender meant; such drops are not resynchronisations. */
    if (b[0] != SPINAL_PROTO_MAJOR) {
        dec->counters.bad_version++;
        return SPINAL_RX_ERR_VERSION;
    }
    seq = (uint16_t)(b[2] | ((uint16_t)b[3] << 8)); /* uint16_t shift: no int overflow with 16-bit int */
    track_seq(dec, seq, b[1]);
    if (spinal_type_name(b[1]) == NULL) {
        dec->counters.unknown_type++;
        return SPINAL_RX_ERR_UNKNOWN_TYPE;
    }
    dec->frame.version = b[0];
    dec->frame.type = b[1];
    dec->frame.seq = seq;
    dec->frame.time_us = get_u32(b + 4);
    dec->frame.body = b + SPINAL_HEADER_SIZE;
    dec->frame.body_len = crc_at - SPINAL_HEADER_SIZE;
    dec->counters.frames++;
    return SPINAL_RX_FRAME;
}

spinal_rx_t spinal_decoder_push_byte(spinal_decoder_t *dec, uint8_t byte)
{
    dec->counters.bytes++;
    if (byte != 0) {
        unstuff(dec, byte);
        return SPINAL_RX_NONE;
    }
    if (dec->segment_bytes == 0) return SPINAL_RX_NONE; /* extra delimiters are allowed */
    return end_segment(dec);
}

void spinal_decoder_push(spinal_decoder_t *dec, const uint8_t *data, size_t len, spinal_rx_fn on_event, void *ctx)
{
    size_t i;
    for (i = 0; i < len; i++) {
        spinal_rx_t r = spinal_decoder_push_byte(dec, data[i]);
        if (r != SPINAL_RX_NONE && on_event != NULL) on_event(ctx, r, r == SPINAL_RX_FRAME ? &dec->frame : NULL);
    }
}

/* ---- encoder -------------------------------------------------------------------------------- */

void spinal_encoder_init(spinal_encoder_t *enc, uint16_t first_seq)
{
    enc->next_seq = first_seq;
    enc->version = SPINAL_PROTO_MAJOR;
}

/* The packet is assembled SHIFT bytes into dst and stuffed in place towards the front: COBS output
 * never overtakes its input by more than len / 254 + 1 bytes, so no second buffer is needed. */
#define SHIFT (SPINAL_MAX_PACKET / 254u + 1u)

long spinal_encode(spinal_encoder_t *enc, uint8_t type, const spinal_msg_t *msg, uint32_t time_us, uint8_t *dst, size_t cap)
{
    uint8_t *p = dst + SHIFT;
    size_t body_cap, n, i;
    long body_len;
    uint32_t crc;
    if (cap < SHIFT + SPINAL_MIN_PACKET + 1u) return -(long)SPINAL_ERR_SPACE;
    body_cap = cap - SHIFT - SPINAL_MIN_PACKET - 1u; /* the 1 keeps room for the delimiter */
    if (body_cap > SPINAL_MAX_BODY) body_cap = SPINAL_MAX_BODY;
    body_len = spinal_write_body(type, msg, p + SPINAL_HEADER_SIZE, body_cap);
    if (body_len < 0) return body_len;
    p[0] = enc->version;
    p[1] = type;
    p[2] = (uint8_t)(enc->next_seq & 0xFFu);
    p[3] = (uint8_t)(enc->next_seq >> 8);
    for (i = 0; i < 4; i++) p[4 + i] = (uint8_t)(time_us >> (8u * i));
    n = SPINAL_HEADER_SIZE + (size_t)body_len;
    crc = spinal_crc32c(p, n);
    for (i = 0; i < 4; i++) p[n + i] = (uint8_t)(crc >> (8u * i));
    n += SPINAL_CRC_SIZE;
    n = spinal_cobs_encode(p, n, dst);
    dst[n++] = 0;
    enc->next_seq = (uint16_t)(enc->next_seq + 1u);
    return (long)n;
}
