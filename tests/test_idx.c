/* IDX files and the gzip reader under them: synthetic files read back exactly; gzip streams of every
 * block type (stored, fixed and dynamic Huffman), with optional header fields and several members; and
 * truncated, corrupted or foreign files give a one-line error, never a crash (ASan runs this too). */
#include "tests/harness.h"
#include "datasets/gzip.h"
#include "datasets/idx.h"
#include "tensor/tensor.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Gzip streams written by Python's zlib (tests/make_idx_vectors.py) of IDX files of images (N,H,W) whose pixel
 * (k,y,x) is ((x*y + k) % 17) * 15; small is (2,3,4), big (6,28,28). */
#include "tests/idx_vectors.h"

/* The IDX file the vectors hold, as the generator builds it. */
static size_t synthetic_idx(uint8_t *buf, int n, int h, int w)
{
    uint8_t head[16] = {0, 0, 8, 3};
    int dims[3] = {n, h, w};
    for (int d = 0; d < 3; d++)
        for (int b = 0; b < 4; b++) head[4 + 4 * d + b] = (uint8_t)((unsigned)dims[d] >> (24 - 8 * b));
    memcpy(buf, head, 16);
    size_t len = 16;
    for (int k = 0; k < n; k++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) buf[len++] = (uint8_t)(((x * y + k) % 17) * 15);
    return len;
}

static int one_line(const char *err) { return err[0] && !strchr(err, '\n'); }

/* Must decompress to exactly want. */
static void gunzip_ok(const char *what, const uint8_t *gz, size_t len, const uint8_t *want, size_t want_len)
{
    uint8_t *out;
    size_t out_len;
    char err[MC_ERRLEN] = "";
    int rc = mc_gunzip(what, gz, len, 1 << 20, &out, &out_len, err);
    CHECK(rc == 0 && out_len == want_len && !memcmp(out, want, want_len), "%s: rc %d, %zu bytes (want %zu) %s",
          what, rc, out_len, want_len, err);
    free(out);
}

/* Every shorter prefix, and every changed byte, must fail with one line and no output: the CRC-32 sees
 * any one-byte change of the data. Only the mtime, extra flags and OS bytes of the header are read by
 * nothing (unless the header has its own CRC: header_crc). Nothing may crash. */
static void gunzip_damaged(const char *what, const uint8_t *gz, size_t len, int header_crc)
{
    uint8_t *copy = malloc(len), *out;
    size_t out_len;
    char err[MC_ERRLEN];
    int prefix_bad = 0, flip_bad = 0;
    for (size_t n = 0; n < len; n++) {
        err[0] = 0;
        if (mc_gunzip(what, gz, n, 1 << 20, &out, &out_len, err) == 0 || out || !one_line(err)) prefix_bad++;
        free(out);
    }
    for (size_t k = 0; k < len; k++) {
        memcpy(copy, gz, len);
        copy[k] ^= (uint8_t)(1 + k % 255);
        err[0] = 0;
        int rc = mc_gunzip(what, copy, len, 1 << 20, &out, &out_len, err);
        int harmless = !header_crc && k >= 4 && k < 10;
        if ((rc == 0 && !harmless) || (rc != 0 && (out || !one_line(err)))) flip_bad++;
        free(out);
    }
    CHECK(prefix_bad == 0, "%s: %d truncations were not a clean error", what, prefix_bad);
    CHECK(flip_bad == 0, "%s: %d flipped bytes were not a clean error", what, flip_bad);
    free(copy);
}

static void idx_bad(const char *what, const uint8_t *buf, size_t len, const char *expect)
{
    mc_idx idx;
    char err[MC_ERRLEN] = "";
    int rc = mc_idx_parse(what, buf, len, &idx, err);
    CHECK(rc != 0 && !idx.data && idx.ndim == 0 && one_line(err) && strstr(err, expect),
          "%s: rc %d, error '%s' (expected '%s')", what, rc, err, expect);
}

int main(void)
{
    CHECK(mc_crc32(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u, "CRC-32 check value");
    CHECK(mc_crc32(mc_crc32(0, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5) == 0xcbf43926u, "CRC-32 continued");

    static uint8_t small[16 + 2 * 3 * 4], big[16 + 6 * 28 * 28];
    size_t small_len = synthetic_idx(small, 2, 3, 4), big_len = synthetic_idx(big, 6, 28, 28);
    gunzip_ok("stored block", gz_stored, sizeof gz_stored, small, small_len);
    gunzip_ok("fixed Huffman", gz_fixed, sizeof gz_fixed, small, small_len);
    gunzip_ok("dynamic Huffman", gz_dynamic, sizeof gz_dynamic, big, big_len);
    gunzip_ok("two members", gz_two_members, sizeof gz_two_members, small, small_len);
    gunzip_ok("no data", gz_empty, sizeof gz_empty, small, 0);
    gunzip_ok("no data, stored", gz_empty_stored, sizeof gz_empty_stored, small, 0);
    gunzip_ok("header fields", gz_header_fields, sizeof gz_header_fields, small, small_len);
    gunzip_damaged("stored block", gz_stored, sizeof gz_stored, 0);
    gunzip_damaged("fixed Huffman", gz_fixed, sizeof gz_fixed, 0);
    gunzip_damaged("dynamic Huffman", gz_dynamic, sizeof gz_dynamic, 0);
    gunzip_damaged("header fields", gz_header_fields, sizeof gz_header_fields, 1);

    uint8_t *out;
    size_t out_len;
    char err[MC_ERRLEN];
    CHECK(mc_gunzip("limit", gz_dynamic, sizeof gz_dynamic, big_len - 1, &out, &out_len, err) != 0 && !out
          && strstr(err, "limit"), "output over the limit: %s", err);
    static uint8_t trailing[sizeof gz_fixed + 3];
    memcpy(trailing, gz_fixed, sizeof gz_fixed);
    CHECK(mc_gunzip("trailing", trailing, sizeof trailing, 1 << 20, &out, &out_len, err) != 0 && strstr(err, "after the end"),
          "bytes after the gzip data: %s", err);

    /* IDX: raw and gzipped read the same; the shape is the header's */
    mc_idx idx;
    CHECK(mc_idx_parse("raw", big, big_len, &idx, err) == 0 && idx.ndim == 3 && idx.dims[0] == 6 && idx.dims[1] == 28
          && idx.dims[2] == 28 && idx.size == 6 * 28 * 28 && !memcmp(idx.data, big + 16, (size_t)idx.size), "raw IDX");
    mc_idx_free(&idx);
    CHECK(mc_idx_parse("gz", gz_dynamic, sizeof gz_dynamic, &idx, err) == 0 && idx.size == 6 * 28 * 28
          && !memcmp(idx.data, big + 16, (size_t)idx.size), "gzipped IDX");
    mc_idx_free(&idx);
    uint8_t labels[8 + 5] = {0, 0, 8, 1, 0, 0, 0, 5, 9, 8, 7, 6, 5};
    CHECK(mc_idx_parse("labels", labels, sizeof labels, &idx, err) == 0 && idx.ndim == 1 && idx.dims[0] == 5
          && idx.data[4] == 5, "labels (1 dimension)");
    mc_idx_free(&idx);
    uint8_t empty[8] = {0, 0, 8, 1, 0, 0, 0, 0};
    CHECK(mc_idx_parse("empty", empty, sizeof empty, &idx, err) == 0 && idx.size == 0, "no items");
    mc_idx_free(&idx);

    idx_bad("nothing", small, 0, "not an IDX file");
    idx_bad("text", (const uint8_t *)"hello world\n", 12, "not an IDX file");
    uint8_t floats[8 + 4] = {0, 0, 0x0d, 1, 0, 0, 0, 1};
    idx_bad("floats", floats, sizeof floats, "only unsigned bytes");
    uint8_t many[4 + 20] = {0, 0, 8, 5};
    idx_bad("5 dims", many, sizeof many, "5 dimensions");
    idx_bad("0 dims", (const uint8_t[]){0, 0, 8, 0}, 4, "0 dimensions");
    idx_bad("short header", small, 10, "truncated IDX header");
    idx_bad("truncated data", small, small_len - 1, "truncated");
    uint8_t longer[sizeof labels + 1];
    memcpy(longer, labels, sizeof labels);
    idx_bad("trailing bytes", longer, sizeof longer, "trailing bytes");
    uint8_t huge[16] = {0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff};
    idx_bad("huge items", huge, sizeof huge, "too large");
    uint8_t huge_n[12] = {0, 0, 8, 2, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff};
    idx_bad("huge count", huge_n, sizeof huge_n, "truncated");
    uint8_t toolarge[8] = {0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff};
    idx_bad("dim over INT_MAX", toolarge, sizeof toolarge, "too large");
    idx_bad("damaged gzip", gz_dynamic, sizeof gz_dynamic - 9, "cannot decompress");
    for (size_t n = 0; n < small_len; n++) {     /* every truncation of a raw file */
        if (mc_idx_parse("prefix", small, n, &idx, err) == 0) { CHECK(0, "a %zu-byte prefix was read", n); break; }
    }

    /* From a file, and a missing file */
    char path[] = "/tmp/mache_idx_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, gz_dynamic, sizeof gz_dynamic) == (ssize_t)sizeof gz_dynamic, "write %s", path);
    close(fd);
    CHECK(mc_idx_read(path, &idx, err) == 0 && idx.size == 6 * 28 * 28 && idx.data[28 * 28 + 29] == big[16 + 28 * 28 + 29],
          "mc_idx_read of a gzipped file");
    mc_idx_free(&idx);
    unlink(path);
    CHECK(mc_idx_read("/nonexistent/train-images-idx3-ubyte", &idx, err) != 0 && strstr(err, "cannot open")
          && one_line(err), "missing file: %s", err);
    return test_summary("test_idx");
}
