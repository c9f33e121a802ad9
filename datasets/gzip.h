/* gzip files (RFC 1952) without zlib: a small inflate (RFC 1951) that checks every bit it reads, every
 * code and every back-reference against what it has, for data sets that ship gzipped (Debian's IDX files). */
#ifndef MACHE_GZIP_H
#define MACHE_GZIP_H
#include "tensor/tensor.h"      /* mc_crc32, which gzip, PNG and zip share */
#include <stddef.h>
#include <stdint.h>

/* RFC 1951's length and distance codes: base values and extra bits (length codes 257-285, distance
 * codes 0-29), for this inflate and the deflate of pictures/png.c. */
extern const uint16_t mc_deflate_len_base[29], mc_deflate_dist_base[30];
extern const uint8_t  mc_deflate_len_extra[29], mc_deflate_dist_extra[30];

/* Does buf start like a gzip stream (1f 8b)? */
int mc_is_gzip(const uint8_t *buf, size_t len);

/* Decompresses a whole gzip stream (one member or several, concatenated) into a new heap buffer *out of
 * *out_len bytes (the caller frees it); more than max_out bytes of output is an error, so a hostile file
 * cannot ask for all memory. Each member's CRC-32 and length are checked. name is for messages.
 * Returns 0, or non-zero with a one-line message in err (MC_ERRLEN bytes) and *out NULL. */
int mc_gunzip(const char *name, const uint8_t *in, size_t in_len, size_t max_out,
              uint8_t **out, size_t *out_len, char *err);

#endif
