/* Checkpoint files. Layout (all little-endian):
 *   "MACHECKP"  u32 version  u32 config_len  config text (key=value lines: the model config, epoch, ...)
 *   u32 count   count x { u16 name_len, name, u8 ndim, u32 dims[ndim], u64 offset }   (offset in floats)
 *   u64 data_floats   float32 data   u64 FNV-1a checksum of every byte before it
 * Optimizer state is stored as extra tensors named "optim.<param>.exp_avg" / ".exp_avg_sq", and each
 * parameter's step count as a config line "optim.<param>.step=N" (exact, by name). */
#ifndef MACHE_CHECKPOINT_H
#define MACHE_CHECKPOINT_H
#include "nn/nn.h"
#include <stdio.h>

#define MC_CKPT_VERSION 1

typedef struct mc_ckpt_entry {
    char        *name;
    int          ndim;
    int          shape[MC_MAX_DIMS];
    int64_t      size;
    const float *data;
    int          integer;   /* held as integers in a PyTorch file (num_batches_tracked): written back as int64 */
} mc_ckpt_entry;

typedef struct mc_ckpt {
    char          *config;      /* NUL-terminated key=value lines */
    mc_ckpt_entry *entries;
    int            n;
    void          *file;        /* the file's bytes, which the entries point into */
} mc_ckpt;

int  mc_ckpt_read(const char *path, mc_ckpt *c, char *err);
/* The same from bytes in memory (the fuzzer's entry); name only appears in messages. */
int  mc_ckpt_parse(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err);
void mc_ckpt_free(mc_ckpt *c);
const mc_ckpt_entry *mc_ckpt_find(const mc_ckpt *c, const char *name);
/* Keeps (keep = 1) or drops (keep = 0) the entries named prefix... or optim.prefix...: one model's part of a
 * file that holds several (AtlasNet and its "prior."). Returns how many entries remain. */
int  mc_ckpt_filter(mc_ckpt *c, const char *prefix, int keep);
/* The value of key in the config text, copied into buf; returns NULL if absent. */
const char *mc_ckpt_config_get(const char *config, const char *key, char *buf, size_t n);

/* Writes every parameter and buffer (and, with optimizer, the optimizer state) atomically: a temporary
 * file beside path, flushed to disk, then renamed over it, so an interrupted save keeps the old file. */
int mc_ckpt_save(const char *path, const char *config, const mc_params *ps, int optimizer, char *err);

/* A growable byte buffer (free p when done); integers go in little-endian whatever the host. */
typedef struct mc_buf { unsigned char *p; size_t n, cap; } mc_buf;
void mc_buf_put(mc_buf *b, const void *src, size_t n);
void mc_buf_put_uint(mc_buf *b, uint64_t v, int width);

/* Writes the chunks one after another, atomically (mc_file_write_atomic), without joining them first. */
typedef struct mc_chunk { const void *p; size_t n; } mc_chunk;
int mc_file_save_chunks(const char *path, const mc_chunk *chunks, int n, char *err);

/* What a by-name load found. Each list holds names; mismatched names carry both shapes in text. */
typedef struct mc_load_report {
    int    loaded, missing_n, unexpected_n, mismatched_n;
    char **missing, **unexpected, **mismatched;
} mc_load_report;

/* Copies tensors into ps by name. Strict: anything missing, unexpected or mis-shaped is an error and
 * nothing is changed. Partial: loads what matches and reports the rest. Optimizer entries load into the
 * optimizer state when present and are never counted as unexpected. */
int  mc_ckpt_load_params(const mc_ckpt *c, mc_params *ps, int strict, mc_load_report *rep, char *err);
void mc_load_report_print(const mc_load_report *rep, FILE *f);
void mc_load_report_free(mc_load_report *rep);

#endif
