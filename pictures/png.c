#include "pictures/png.h"
#include "datasets/gzip.h"
#include "tensor/tensor.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a growing byte buffer with a bit writer (deflate packs bits least significant first) ---- */
typedef struct buf { uint8_t *p; size_t len, cap; uint32_t bits; int nbits; } buf;

static void put_byte(buf *b, uint8_t v)
{
    if (b->len == b->cap) b->p = mc_realloc(b->p, b->cap = b->cap ? 2 * b->cap : 1 << 16);
    b->p[b->len++] = v;
}

static void put_be32(buf *b, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8) put_byte(b, (uint8_t)(v >> s));
}

static void put_bits(buf *b, uint32_t v, int n)
{
    b->bits |= v << b->nbits;
    b->nbits += n;
    while (b->nbits >= 8) { put_byte(b, (uint8_t)b->bits); b->bits >>= 8; b->nbits -= 8; }
}

static void flush_bits(buf *b)
{
    if (b->nbits) put_byte(b, (uint8_t)b->bits);
    b->bits = 0;
    b->nbits = 0;
}

/* Huffman codes are defined most significant bit first, so they go in reversed. */
static void put_code(buf *b, uint32_t code, int n)
{
    uint32_t r = 0;
    for (int i = 0; i < n; i++) r |= (code >> i & 1) << (n - 1 - i);
    put_bits(b, r, n);
}

/* The fixed literal/length code of RFC 1951, section 3.2.6. */
static void put_symbol(buf *b, int sym)
{
    if (sym < 144) put_code(b, 0x30 + sym, 8);
    else if (sym < 256) put_code(b, 0x190 + sym - 144, 9);
    else if (sym < 280) put_code(b, sym - 256, 7);
    else put_code(b, 0xc0 + sym - 280, 8);
}

static void put_match(buf *b, int len, int dist)
{
    int i = 28, j = 29;
    while (mc_deflate_len_base[i] > len) i--;
    while (mc_deflate_dist_base[j] > dist) j--;
    put_symbol(b, 257 + i);
    put_bits(b, (uint32_t)(len - mc_deflate_len_base[i]), mc_deflate_len_extra[i]);
    put_code(b, (uint32_t)j, 5);
    put_bits(b, (uint32_t)(dist - mc_deflate_dist_base[j]), mc_deflate_dist_extra[j]);
}

/* One fixed-Huffman block; greedy LZ77 over a 32 KiB window with hash chains of three-byte prefixes.
 * Flat backgrounds become long distance-3 matches, which is where most of the saving is. */
enum { WINDOW = 32768, HASH_BITS = 15, MAX_CHAIN = 48, MIN_MATCH = 3, MAX_MATCH = 258 };

static void deflate_fixed(buf *out, const uint8_t *data, size_t n)
{
    int32_t *head = mc_malloc(sizeof(int32_t) << HASH_BITS), *prev = mc_malloc(sizeof(int32_t) * WINDOW);
    for (int i = 0; i < 1 << HASH_BITS; i++) head[i] = -1;
    put_bits(out, 1, 1);   /* BFINAL */
    put_bits(out, 1, 2);   /* BTYPE 01: fixed Huffman */
    size_t i = 0;
    while (i < n) {
        int best = 0, best_dist = 0;
        if (i + MIN_MATCH <= n) {
            uint32_t h = ((uint32_t)data[i] << 10 ^ (uint32_t)data[i + 1] << 5 ^ data[i + 2]) & ((1 << HASH_BITS) - 1);
            size_t limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
            int32_t cand = head[h];
            for (int chain = 0; cand >= 0 && i - (size_t)cand <= WINDOW && chain < MAX_CHAIN; chain++) {
                int len = 0;
                while ((size_t)len < limit && data[cand + len] == data[i + len]) len++;
                if (len > best) { best = len; best_dist = (int)(i - (size_t)cand); }
                if ((size_t)len == limit) break;
                int32_t next = prev[cand % WINDOW];
                if (next >= cand) break;   /* the slot was reused by a newer position */
                cand = next;
            }
            prev[i % WINDOW] = head[h];
            head[h] = (int32_t)i;
        }
        if (best >= MIN_MATCH) {
            put_match(out, best, best_dist);
            /* index the skipped positions too, so later matches can start inside this one */
            for (size_t k = i + 1; k < i + (size_t)best && k + MIN_MATCH <= n; k++) {
                uint32_t h = ((uint32_t)data[k] << 10 ^ (uint32_t)data[k + 1] << 5 ^ data[k + 2]) & ((1 << HASH_BITS) - 1);
                prev[k % WINDOW] = head[h];
                head[h] = (int32_t)k;
            }
            i += (size_t)best;
        } else {
            put_symbol(out, data[i++]);
        }
    }
    put_symbol(out, 256);
    flush_bits(out);
    free(head);
    free(prev);
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n) {
        size_t k = n < 5552 ? n : 5552;   /* the most bytes before b can overflow 32 bits */
        n -= k;
        while (k--) { a += *p++; b += a; }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

/* A chunk is length, type, data, and a CRC over type and data. */
static void put_chunk(buf *b, const char *type, const uint8_t *data, size_t n)
{
    put_be32(b, (uint32_t)n);
    size_t start = b->len;
    for (int i = 0; i < 4; i++) put_byte(b, (uint8_t)type[i]);
    for (size_t i = 0; i < n; i++) put_byte(b, data[i]);
    put_be32(b, mc_crc32(0, b->p + start, b->len - start));
}

/* Each row gets the filter (none, sub or up) whose output has the smallest sum of magnitudes:
 * the usual heuristic, and enough to turn smooth shading into runs of small numbers. */
static void filter_rows(const mc_image *img, uint8_t *out)
{
    size_t stride = (size_t)img->w * 3;
    for (int y = 0; y < img->h; y++) {
        const uint8_t *row = img->rgb + y * stride, *up = y ? row - stride : NULL;
        uint8_t *dst = out + y * (stride + 1);
        long cost[3] = {0, 0, 0};
        for (size_t i = 0; i < stride; i++) {
            uint8_t v[3] = {row[i], (uint8_t)(row[i] - (i >= 3 ? row[i - 3] : 0)), (uint8_t)(row[i] - (up ? up[i] : 0))};
            for (int f = 0; f < 3; f++) cost[f] += v[f] < 128 ? v[f] : 256 - v[f];
        }
        int f = cost[1] < cost[0] ? 1 : 0;
        if (cost[2] < cost[f]) f = 2;
        dst[0] = (uint8_t)f;
        for (size_t i = 0; i < stride; i++)
            dst[1 + i] = (uint8_t)(row[i] - (f == 1 ? (i >= 3 ? row[i - 3] : 0) : f == 2 ? (up ? up[i] : 0) : 0));
    }
}

uint8_t *mc_png_encode(const mc_image *img, size_t *len)
{
    size_t raw_len = (size_t)img->h * ((size_t)img->w * 3 + 1);
    uint8_t *raw = mc_malloc(raw_len);
    filter_rows(img, raw);

    buf z = {0};
    put_byte(&z, 0x78);   /* zlib header: deflate, 32 KiB window, no dictionary */
    put_byte(&z, 0x01);
    deflate_fixed(&z, raw, raw_len);
    put_be32(&z, adler32(raw, raw_len));
    free(raw);

    buf png = {0};
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    for (int i = 0; i < 8; i++) put_byte(&png, signature[i]);
    uint8_t ihdr[13] = {0};
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (uint8_t)((uint32_t)img->w >> (24 - 8 * i));
        ihdr[4 + i] = (uint8_t)((uint32_t)img->h >> (24 - 8 * i));
    }
    ihdr[8] = 8;   /* bit depth; colour type 2 (RGB); compression, filter and interlace methods 0 */
    ihdr[9] = 2;
    put_chunk(&png, "IHDR", ihdr, sizeof ihdr);
    put_chunk(&png, "IDAT", z.p, z.len);
    put_chunk(&png, "IEND", NULL, 0);
    free(z.p);
    *len = png.len;
    return png.p;
}

int mc_png_save(const char *path, const mc_image *img, char *err)
{
    size_t n;
    uint8_t *data = mc_png_encode(img, &n);
    int status = mc_file_save(path, data, n, err);
    free(data);
    return status;
}
