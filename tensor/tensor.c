#include "tensor/tensor.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void mc_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mache: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void mc_set_err(char *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, MC_ERRLEN, fmt, ap);
    va_end(ap);
}

char *mc_shape_str(const mc_tensor *t, char *buf, size_t n)
{
    size_t len = 0;
    len += snprintf(buf + len, n - len, "(");
    for (int i = 0; i < t->ndim && len < n; i++)
        len += snprintf(buf + len, n - len, i ? ",%d" : "%d", t->shape[i]);
    if (len < n) snprintf(buf + len, n - len, ")");
    return buf;
}

int64_t mc_shape_size(int ndim, const int *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

int mc_same_shape(const mc_tensor *a, const mc_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

int mc_cols(const mc_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }
int64_t mc_rows(const mc_tensor *t) { return t->size / mc_cols(t); }

#ifdef _OPENMP
int mc_num_threads(void) { return omp_get_max_threads(); }
int mc_thread_id(void) { return omp_get_thread_num(); }
int mc_team_size(void) { return omp_get_num_threads(); }
#else
int mc_num_threads(void) { return 1; }
int mc_thread_id(void) { return 0; }
int mc_team_size(void) { return 1; }
#endif

void *mc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) mc_fatal("out of memory allocating %zu bytes", n);
    return p;
}

void *mc_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p) mc_fatal("out of memory allocating %zu x %zu bytes", count, n);
    return p;
}

void *mc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) mc_fatal("out of memory allocating %zu bytes", n);
    return q;
}

/* xoshiro256** seeded through splitmix64: integer-only, so the same on every machine. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mc_rng_seed(mc_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mc_rng_u64(mc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return result;
}

double mc_rng_uniform(mc_rng *r) { return (double)(mc_rng_u64(r) >> 11) * 0x1.0p-53; }

double mc_rng_normal(mc_rng *r)
{
    /* Box-Muller, one value per call: simpler to reproduce than a cached pair. */
    double u1 = 1.0 - mc_rng_uniform(r), u2 = mc_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int mc_rng_int(mc_rng *r, int n)
{
    if (n <= 0) mc_fatal("rng_int: the range 0..%d-1 is empty", n);
    uint64_t bound = (uint64_t)n, limit = UINT64_MAX - UINT64_MAX % bound, x;
    do x = mc_rng_u64(r); while (x >= limit);
    return (int)(x % bound);
}

void mc_rng_fill_uniform(mc_rng *r, float *x, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)mc_rng_uniform(r);
}

void mc_rng_fill_normal(mc_rng *r, float *x, int64_t n, float mean, float std)
{
    for (int64_t i = 0; i < n; i++) x[i] = mean + std * (float)mc_rng_normal(r);
}

void mc_rng_shuffle(mc_rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = mc_rng_int(r, i + 1), t = idx[i];
        idx[i] = idx[j]; idx[j] = t;
    }
}
