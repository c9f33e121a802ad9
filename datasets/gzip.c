/* Inflate as RFC 1951 defines it, decoding the canonical Huffman codes a bit at a time (as zlib's puff
 * does): slower than table lookup, but each step is checked and the whole decoder is short. Every read
 * of input, every code and every back-reference is checked; the first failure stops the decode. */
#include "datasets/gzip.h"
#include "tensor/tensor.h"
#include <stdlib.h>
#include <string.h>

int mc_is_gzip(const uint8_t *buf, size_t len) { return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b; }

typedef struct {
    const uint8_t *in;
    size_t   len, pos;          /* the input, and the next byte to read */
    uint32_t bits;              /* bits read from in[pos - 1] and not used yet, lowest first */
    int      nbits;             /* always < 8 between calls */
    uint8_t *out;
    size_t   out_len, out_cap, max_out;
    const char *fail;           /* the first error, or NULL */
} inflater;

static void fail(inflater *s, const char *what) { if (!s->fail) s->fail = what; }

static uint32_t get_bits(inflater *s, int n)    /* n <= 16; 0 bits past the end, with s->fail set */
{
    while (s->nbits < n) {
        if (s->pos == s->len) { fail(s, "the data ends in the middle of a block"); return 0; }
        s->bits |= (uint32_t)s->in[s->pos++] << s->nbits;
        s->nbits += 8;
    }
    uint32_t v = s->bits & ((1u << n) - 1);
    s->bits >>= n;
    s->nbits -= n;
    return v;
}

static int room(inflater *s, size_t n)          /* space for n more output bytes, within max_out */
{
    if (n > s->max_out - s->out_len) { fail(s, "the output is larger than the limit"); return 0; }
    if (s->out_len + n > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 1 << 16;
        while (cap < s->out_len + n) cap = cap > s->max_out / 2 ? s->max_out : 2 * cap;
        s->out = mc_realloc(s->out, cap);
        s->out_cap = cap;
    }
    return 1;
}

/* A canonical Huffman code: how many codes of each length, and the symbols in code order. */
#define MAXBITS 15
typedef struct { uint16_t count[MAXBITS + 1]; uint16_t symbol[288]; } huffman;

/* Returns non-zero if the lengths ask for more codes than exist. An incomplete code is accepted (a
 * distance code may have a single symbol); reading one of its unused codes is an error in decode. */
static int build(huffman *h, const uint8_t *lengths, int n)
{
    memset(h->count, 0, sizeof h->count);
    for (int s = 0; s < n; s++) h->count[lengths[s]]++;
    int left = 1;
    for (int len = 1; len <= MAXBITS; len++) {
        left = 2 * left - h->count[len];
        if (left < 0) return 1;
    }
    int offset[MAXBITS + 1] = {0};
    for (int len = 1; len < MAXBITS; len++) offset[len + 1] = offset[len] + h->count[len];
    for (int s = 0; s < n; s++)
        if (lengths[s]) h->symbol[offset[lengths[s]]++] = (uint16_t)s;
    return 0;
}

/* The codes of each length are consecutive numbers: walk the lengths, one more bit each time, until
 * the code read so far falls inside the range of codes of that length. */
static int decode(inflater *s, const huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAXBITS; len++) {
        code |= (int)get_bits(s, 1);
        int count = h->count[len];
        if (code - first < count) return s->fail ? -1 : h->symbol[index + code - first];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    fail(s, "an invalid Huffman code");
    return -1;
}

const uint16_t mc_deflate_len_base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                         67, 83, 99, 115, 131, 163, 195, 227, 258};
const uint8_t mc_deflate_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
const uint16_t mc_deflate_dist_base[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
const uint8_t mc_deflate_dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                           11, 11, 12, 12, 13, 13};

/* Literals and (length, distance) back-references up to the end-of-block symbol. */
static void codes(inflater *s, const huffman *lit, const huffman *dist)
{
    for (;;) {
        int sym = decode(s, lit);
        if (sym < 0) return;
        if (sym < 256) {
            if (!room(s, 1)) return;
            s->out[s->out_len++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256) return;
        sym -= 257;
        if (sym >= 29) { fail(s, "an invalid length code"); return; }
        size_t len = mc_deflate_len_base[sym] + get_bits(s, mc_deflate_len_extra[sym]);
        int d = decode(s, dist);
        if (d < 0) return;
        if (d >= 30) { fail(s, "an invalid distance code"); return; }
        size_t back = mc_deflate_dist_base[d] + get_bits(s, mc_deflate_dist_extra[d]);
        if (s->fail) return;
        if (back > s->out_len) { fail(s, "a back-reference before the start of the data"); return; }
        if (!room(s, len)) return;
        for (size_t k = 0; k < len; k++, s->out_len++) s->out[s->out_len] = s->out[s->out_len - back];   /* may overlap */
    }
}

static void stored(inflater *s)
{
    s->bits = 0;          /* to the next byte boundary */
    s->nbits = 0;
    if (s->len - s->pos < 4) { fail(s, "the data ends in a stored block's header"); return; }
    const uint8_t *p = s->in + s->pos;
    size_t len = p[0] | (size_t)p[1] << 8, nlen = p[2] | (size_t)p[3] << 8;
    s->pos += 4;
    if (len != (~nlen & 0xffff)) { fail(s, "a stored block whose length check fails"); return; }
    if (s->len - s->pos < len) { fail(s, "the data ends inside a stored block"); return; }
    if (!len || !room(s, len)) return;      /* an empty block: out may still be NULL */
    memcpy(s->out + s->out_len, s->in + s->pos, len);
    s->out_len += len;
    s->pos += len;
}

static void fixed(inflater *s)
{
    uint8_t lengths[288 + 30];
    memset(lengths, 8, 144);
    memset(lengths + 144, 9, 112);
    memset(lengths + 256, 7, 24);
    memset(lengths + 280, 8, 8);
    memset(lengths + 288, 5, 30);
    huffman lit, dist;
    build(&lit, lengths, 288);
    build(&dist, lengths + 288, 30);
    codes(s, &lit, &dist);
}

static void dynamic(inflater *s)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    int nlit = (int)get_bits(s, 5) + 257, ndist = (int)get_bits(s, 5) + 1, ncode = (int)get_bits(s, 4) + 4;
    if (nlit > 286 || ndist > 30) { fail(s, "too many length or distance codes"); return; }
    uint8_t lengths[286 + 30] = {0};
    for (int k = 0; k < ncode; k++) lengths[order[k]] = (uint8_t)get_bits(s, 3);
    huffman lencode, lit, dist;
    if (build(&lencode, lengths, 19)) { fail(s, "an over-subscribed code-length code"); return; }
    for (int k = 0; k < nlit + ndist;) {
        int sym = decode(s, &lencode);
        if (sym < 0) return;
        if (sym < 16) { lengths[k++] = (uint8_t)sym; continue; }
        uint8_t len = 0;
        int repeat;
        if (sym == 16) {
            if (k == 0) { fail(s, "a repeated code length with no previous length"); return; }
            len = lengths[k - 1];
            repeat = 3 + (int)get_bits(s, 2);
        } else if (sym == 17) repeat = 3 + (int)get_bits(s, 3);
        else repeat = 11 + (int)get_bits(s, 7);
        if (k + repeat > nlit + ndist) { fail(s, "code lengths that run past their count"); return; }
        while (repeat--) lengths[k++] = len;
    }
    if (s->fail) return;
    if (!lengths[256]) { fail(s, "a block without an end-of-block code"); return; }
    if (build(&lit, lengths, nlit) || build(&dist, lengths + nlit, ndist)) {
        fail(s, "an over-subscribed Huffman code");
        return;
    }
    codes(s, &lit, &dist);
}

static uint32_t le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Skips a zero-terminated header field (file name, comment). */
static void skip_string(inflater *s)
{
    while (s->pos < s->len && s->in[s->pos]) s->pos++;
    if (s->pos == s->len) fail(s, "the data ends in the gzip header");
    else s->pos++;
}

/* One gzip member: header, deflate blocks, CRC-32 and length of what they gave. */
static void member(inflater *s)
{
    const uint8_t *h = s->in + s->pos;
    if (s->len - s->pos < 10 || !mc_is_gzip(h, 10)) { fail(s, "not gzip data (no 1f 8b header)"); return; }
    if (h[2] != 8) { fail(s, "a compression method other than deflate"); return; }
    int flags = h[3];
    if (flags & 0xe0) { fail(s, "reserved header flags set"); return; }
    s->pos += 10;
    if (flags & 4) {                                    /* FEXTRA: a length, then that many bytes */
        if (s->len - s->pos < 2) { fail(s, "the data ends in the gzip header"); return; }
        size_t xlen = s->in[s->pos] | (size_t)s->in[s->pos + 1] << 8;
        if (s->len - s->pos - 2 < xlen) { fail(s, "the data ends in the gzip header"); return; }
        s->pos += 2 + xlen;
    }
    if (flags & 8) skip_string(s);                      /* FNAME */
    if (flags & 16) skip_string(s);                     /* FCOMMENT */
    if (flags & 2) {                                    /* FHCRC: the low half of the header's CRC-32 */
        if (s->fail || s->len - s->pos < 2) { fail(s, "the data ends in the gzip header"); return; }
        uint32_t crc = mc_crc32(0, h, (size_t)(s->in + s->pos - h)) & 0xffff;
        if ((s->in[s->pos] | (uint32_t)s->in[s->pos + 1] << 8) != crc) { fail(s, "a gzip header CRC mismatch"); return; }
        s->pos += 2;
    }
    size_t start = s->out_len;
    s->bits = 0;
    s->nbits = 0;
    for (int last = 0; !last && !s->fail;) {
        last = (int)get_bits(s, 1);
        switch (get_bits(s, 2)) {
        case 0: stored(s); break;
        case 1: fixed(s); break;
        case 2: dynamic(s); break;
        default: fail(s, "an invalid block type"); break;
        }
    }
    if (s->fail) return;
    if (s->len - s->pos < 8) { fail(s, "the data ends before the gzip trailer (truncated file?)"); return; }
    const uint8_t *t = s->in + s->pos;
    uint32_t crc = s->out_len > start ? mc_crc32(0, s->out + start, s->out_len - start) : 0;   /* out may be NULL */
    if (le32(t) != crc) { fail(s, "a CRC-32 mismatch (corrupt data)"); return; }
    if (le32(t + 4) != (uint32_t)(s->out_len - start)) { fail(s, "a length mismatch in the gzip trailer"); return; }
    s->pos += 8;
}

int mc_gunzip(const char *name, const uint8_t *in, size_t in_len, size_t max_out,
              uint8_t **out, size_t *out_len, char *err)
{
    inflater s = {.in = in, .len = in_len, .max_out = max_out};
    do member(&s);
    while (!s.fail && s.pos < s.len && mc_is_gzip(in + s.pos, s.len - s.pos));
    if (!s.fail && s.pos < s.len) fail(&s, "bytes after the end of the gzip data");
    *out = NULL;
    *out_len = 0;
    if (s.fail) {
        free(s.out);
        mc_set_err(err, "%s: cannot decompress: %s, near byte %zu (hint: a truncated or damaged download?)",
                   name, s.fail, s.pos);
        return 1;
    }
    *out = s.out ? s.out : mc_malloc(1);
    *out_len = s.out_len;
    return 0;
}
