/* Tensors: float32 data of up to 4 dimensions, row-major and contiguous, plus an optional gradient.
 * A tensor does not own its memory; parameters get theirs from the heap, step tensors from the arena. */
#ifndef MACHE_TENSOR_H
#define MACHE_TENSOR_H
#include <stddef.h>
#include <stdint.h>

#define MC_MAX_DIMS 4
/* MC_SHAPE(B, N, 3) expands to the (ndim, shape) pair the tensor functions take: 3, (int[]){B, N, 3}. */
#define MC_SHAPE(...) (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (int[]){__VA_ARGS__}

typedef struct mc_tensor {
    float   *data;
    float   *grad;          /* NULL until backward needs it, or for constants */
    int      ndim;
    int      shape[MC_MAX_DIMS];
    int64_t  size;          /* product of shape */
    int      requires_grad; /* a parameter, or computed from one */
    const char *name;       /* for messages; may be NULL */
    int      node;          /* autograd: 1 + the tape entry that computed it; 0 for a leaf */
    int      pending;       /* autograd: tape entries that read it and have not run their backward yet */
} mc_tensor;

/* Programming errors (a shape mismatch, an index out of range) stop the program with this message.
 * Bad user data never reaches here: readers and loaders return an error instead. */
_Noreturn void mc_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "(32,2500,3)" into buf; returns buf. */
char *mc_shape_str(const mc_tensor *t, char *buf, size_t n);
int64_t mc_shape_size(int ndim, const int *shape);
int  mc_same_shape(const mc_tensor *a, const mc_tensor *b);
/* The last dimension, and the product of all the others: the (rows, cols) view every op uses. */
int     mc_cols(const mc_tensor *t);
int64_t mc_rows(const mc_tensor *t);

/* Recoverable errors (bad files, bad checkpoints, bad arguments) are reported by returning non-zero and
 * writing one line into a caller's buffer of MC_ERRLEN bytes: what went wrong, where, and a hint. */
#define MC_ERRLEN 512
void mc_set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Threads: how many parallel regions use, which one this is, and how many run the region this thread is
 * in (1, 0 and 1 without OpenMP). */
int mc_num_threads(void);
int mc_thread_id(void);
int mc_team_size(void);

/* Hot per-row loops (batchnorm, Adam) are compiled for AVX-512, AVX2 and the baseline, and the loader
 * picks the one this CPU runs: the library itself is built for any x86-64 (or other) machine. */
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define MC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MC_CLONES
#endif

/* Heap helpers that stop with a message when memory runs out. */
void *mc_malloc(size_t n);
void *mc_calloc(size_t count, size_t n);
void *mc_realloc(void *p, size_t n);
/* For the large arrays a step streams through (parameters, Adam's moments, the step arena): 2 MB aligned
 * and, on Linux, marked for transparent huge pages when 4 MB or more (tensor/sys.c). mc_calloc_large
 * zeroes. Both are released with free(). */
void *mc_alloc_large(size_t bytes);
void *mc_calloc_large(size_t count, size_t n);

/* ---- the few system helpers every layer shares (tensor/sys.c) ---- */
#include <stdio.h>
double mc_now_seconds(void);                    /* a monotonic clock */
double mc_median(double *v, int n);             /* sorts v in place */
int    mc_mkdir_p(const char *path, char *err); /* mkdir -p; non-zero with err on failure */
/* Writes a file atomically: write(f, ctx) fills a temporary file beside path (non-zero: failed), which is
 * flushed to disk and renamed over path, so an interrupted save leaves the old file whole. */
int    mc_file_write_atomic(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err);
int    mc_file_save(const char *path, const void *data, size_t n, char *err);   /* the same, for bytes */
/* The whole of a regular file of at most max_bytes, in a heap buffer with a NUL after it (free it), its
 * length in *len; NULL with err ("cannot open", "not a regular file", "too large", "read error"). */
unsigned char *mc_file_read(const char *path, size_t max_bytes, size_t *len, char *err);
/* CRC-32 as zip, gzip and PNG use it: mc_crc32(0, p, n), or continued over pieces. */
uint32_t mc_crc32(uint32_t crc, const void *p, size_t n);

/* ---- portable random numbers: the same sequence for a seed on every machine ---- */
typedef struct mc_rng { uint64_t s[4]; } mc_rng;

void     mc_rng_seed(mc_rng *r, uint64_t seed);
uint64_t mc_rng_u64(mc_rng *r);
double   mc_rng_uniform(mc_rng *r);               /* [0, 1) with 53 random bits */
double   mc_rng_normal(mc_rng *r);                /* N(0, 1) */
int      mc_rng_int(mc_rng *r, int n);            /* 0 .. n-1, unbiased; n must be >= 1 */
void     mc_rng_fill_uniform(mc_rng *r, float *x, int64_t n, float lo, float hi);
void     mc_rng_fill_normal(mc_rng *r, float *x, int64_t n, float mean, float std);
void     mc_rng_shuffle(mc_rng *r, int *idx, int n);

#endif
