#include "datasets/idx.h"
#include "datasets/gzip.h"
#include "tensor/tensor.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest file a gzipped IDX may inflate to: Fashion-MNIST's training images are 47 MB. */
#define IDX_MAX_BYTES ((size_t)1 << 31)

static const char *type_name(int t)
{
    switch (t) {
    case 0x09: return "signed bytes";
    case 0x0b: return "16-bit integers";
    case 0x0c: return "32-bit integers";
    case 0x0d: return "floats";
    case 0x0e: return "doubles";
    default:   return "an unknown type";
    }
}

static int parse_raw(const char *name, const uint8_t *buf, size_t len, mc_idx *out, char *err)
{
    if (len < 4 || buf[0] || buf[1]) {
        mc_set_err(err, "%s: not an IDX file (it must start with bytes 00 00 08 NDIM)", name);
        return 1;
    }
    if (buf[2] != 0x08) {
        mc_set_err(err, "%s: IDX data of %s (type 0x%02x); only unsigned bytes (0x08) are read", name, type_name(buf[2]), buf[2]);
        return 1;
    }
    int ndim = buf[3];
    if (ndim < 1 || ndim > 4) {
        mc_set_err(err, "%s: IDX file with %d dimensions; 1 to 4 are read", name, ndim);
        return 1;
    }
    size_t header = 4 + 4 * (size_t)ndim;
    if (len < header) {
        mc_set_err(err, "%s: truncated IDX header: %zu bytes, %zu needed for %d dimensions", name, len, header, ndim);
        return 1;
    }
    for (int d = 0; d < ndim; d++) {
        const uint8_t *p = buf + 4 + 4 * d;
        uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (n > INT_MAX) { mc_set_err(err, "%s: IDX dimension %d is %u, too large", name, d, n); return 1; }
        out->dims[d] = (int)n;
    }
    /* One item (an image) must fit an int, so that a reader can index it with int arithmetic */
    uint64_t item = 1;
    for (int d = 1; d < ndim; d++)
        if ((item *= (uint64_t)out->dims[d]) > INT_MAX) {
            mc_set_err(err, "%s: IDX items (all dimensions but the first) too large: over %d bytes each", name, INT_MAX);
            return 1;
        }
    uint64_t size = (uint64_t)out->dims[0] * item;   /* < 2^62 */
    if (size != len - header) {
        mc_set_err(err, "%s: the IDX dimensions give %llu bytes of data, the file holds %zu (%s)", name,
                   (unsigned long long)size, len - header, size > len - header ? "truncated" : "trailing bytes");
        return 1;
    }
    out->ndim = ndim;
    out->size = (int64_t)size;
    out->data = mc_malloc(size ? size : 1);
    memcpy(out->data, buf + header, size);
    return 0;
}

int mc_idx_parse(const char *name, const uint8_t *buf, size_t len, mc_idx *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!mc_is_gzip(buf, len)) return parse_raw(name, buf, len, out, err);
    uint8_t *raw;
    size_t raw_len;
    if (mc_gunzip(name, buf, len, IDX_MAX_BYTES, &raw, &raw_len, err)) return 1;
    int rc = parse_raw(name, raw, raw_len, out, err);
    free(raw);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int mc_idx_read(const char *path, mc_idx *out, char *err)
{
    memset(out, 0, sizeof *out);
    size_t len;
    uint8_t *buf = mc_file_read(path, IDX_MAX_BYTES, &len, err);
    if (!buf) return 1;
    int rc = mc_idx_parse(path, buf, len, out, err);
    free(buf);
    return rc;
}

void mc_idx_free(mc_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
