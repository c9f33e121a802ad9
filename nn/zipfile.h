/* The part of zip that PyTorch's checkpoints use: stored (uncompressed) entries, read from a buffer in
 * memory with every offset bounds-checked, and written as chunks with correct CRCs. No zip64. */
#ifndef MACHE_ZIPFILE_H
#define MACHE_ZIPFILE_H
#include "nn/checkpoint.h"

typedef struct mc_zip_entry {
    char                *name;      /* NUL-terminated copy */
    const unsigned char *data;      /* into the caller's buffer; size bytes */
    size_t               size;      /* bytes stored in the archive */
    uint32_t             crc;
    int                  method;    /* 0 stored; anything else is refused when read */
    int                  verified;  /* mc_zip_data has checked the CRC */
} mc_zip_entry;

typedef struct mc_zip { mc_zip_entry *entries; int n; } mc_zip;

/* Reads the central directory of a zip held in buf (which must outlive z). name is for messages. */
int  mc_zip_parse(const char *name, const unsigned char *buf, size_t len, mc_zip *z, char *err);
void mc_zip_free(mc_zip *z);
mc_zip_entry *mc_zip_find(const mc_zip *z, const char *entry);
/* The entry's bytes, once it is known to be stored and its CRC matches; NULL with one line in err. */
const unsigned char *mc_zip_data(const char *name, mc_zip_entry *e, char *err);

/* A zip being built: entries are added in order (their data is borrowed until mc_zip_write), each one's
 * data aligned to 64 bytes as PyTorch does, so a reader may map it in place. */
typedef struct mc_zip_writer {
    mc_chunk *chunks;       /* local header, data, local header, data, ... */
    int       n, cap;
    mc_buf    central;      /* the central directory, written last */
    mc_buf   *headers;      /* the local headers the chunks point into */
    uint64_t  offset;
    int       entries;
} mc_zip_writer;

void mc_zip_add(mc_zip_writer *w, const char *entry, const void *data, size_t n);
/* Writes the archive atomically and frees what the writer holds (also on error). */
int  mc_zip_write(mc_zip_writer *w, const char *path, char *err);

#endif
