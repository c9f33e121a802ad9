/* IDX files, the format of MNIST and Fashion-MNIST: unsigned bytes (type 0x08) in up to 4 dimensions,
 * e.g. images (N,28,28) and labels (N). Gzipped files (as Debian ships them) are read as they are. */
#ifndef MACHE_IDX_H
#define MACHE_IDX_H
#include <stddef.h>
#include <stdint.h>

typedef struct mc_idx {
    int      ndim;
    int      dims[4];
    int64_t  size;          /* product of dims */
    uint8_t *data;          /* size bytes, row-major, on the heap (mc_idx_free) */
} mc_idx;

/* Reads a file, gzipped or not (told by its first two bytes). Checks the magic (0 0 0x08 ndim), that
 * ndim is 1 to 4, that one item (all dimensions but the first) is at most INT_MAX bytes, and that the
 * dimensions account for every byte of the file, no more and no fewer.
 * Returns 0, or non-zero with a one-line message in err (MC_ERRLEN bytes) and *out empty. */
int  mc_idx_read(const char *path, mc_idx *out, char *err);
/* The same on bytes in memory; name is for messages. */
int  mc_idx_parse(const char *name, const uint8_t *buf, size_t len, mc_idx *out, char *err);
void mc_idx_free(mc_idx *idx);

#endif
