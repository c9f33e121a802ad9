/* The few operating-system helpers every layer shares: a clock, folders, a median, the one atomic
 * file writer (checkpoints, meshes and pictures all save through it), and the CRC-32 of zip, gzip and PNG. */
#define _DEFAULT_SOURCE   /* madvise() and MADV_HUGEPAGE */
#include "tensor/tensor.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <time.h>
#include <unistd.h>

/* Huge pages: streaming a 4 MB weight or a 500 MB arena through 4 KB pages costs a TLB miss every 4 KB;
 * 2 MB pages take that away (the paper step ran 1.5-2.5% faster on a Zen 4 with them). Linux gives them to
 * the regions a program asks for when transparent huge pages are in "madvise" mode, the common default.
 * Only whole 2 MB pages inside the block are asked for, so a block's tail never grows into one. */
#define HUGE_PAGE ((size_t)2 << 20)

void *mc_alloc_large(size_t bytes)
{
    if (bytes < 2 * HUGE_PAGE) return mc_malloc(bytes);
    void *p = aligned_alloc(HUGE_PAGE, (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
    if (!p) mc_fatal("out of memory allocating %zu MiB", bytes >> 20);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, bytes & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);   /* advice only: no error is worth stopping for */
#endif
    return p;
}

void *mc_calloc_large(size_t count, size_t n)
{
    if (n && count > (size_t)-1 / n) mc_fatal("out of memory allocating %zu x %zu bytes", count, n);
    if (count * n < 2 * HUGE_PAGE) return mc_calloc(count, n);
    void *p = mc_alloc_large(count * n);
    memset(p, 0, count * n);
    return p;
}

double mc_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double mc_median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int mc_mkdir_p(const char *path, char *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) { mc_set_err(err, "%s: path is empty or too long", path); return 1; }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == 0) {
            char keep = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                mc_set_err(err, "%s: cannot create folder: %s", buf, strerror(errno));
                return 1;
            }
            buf[i] = keep;
        }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) { mc_set_err(err, "%s: exists and is not a folder", path); return 1; }
    return 0;
}

int mc_file_write_atomic(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err)
{
    /* The temporary file sits in the target's folder, so that rename() replaces the old file in one step. */
    size_t n = strlen(path);
    char *tmp = mc_malloc(n + 16);
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        mc_set_err(err, "%s: cannot write: no file can be made beside it: %s (is the folder there and writable?)", path, strerror(errno));
        free(tmp);
        return 1;
    }
    fchmod(fd, 0644);   /* mkstemp makes it private; our files are not secrets */
    FILE *f = fdopen(fd, "wb");
    if (!f) { close(fd); unlink(tmp); free(tmp); mc_set_err(err, "%s: cannot write", path); return 1; }
    int bad = write(f, ctx) != 0;
    bad |= fflush(f) != 0 || ferror(f) || fsync(fd) != 0;
    int saved_errno = errno;
    bad |= fclose(f) != 0;
    if (!bad && rename(tmp, path) != 0) { bad = 1; saved_errno = errno; }
    if (bad) {
        unlink(tmp);
        mc_set_err(err, "%s: cannot write: %s (is the disk full?)", path, strerror(saved_errno));
    }
    free(tmp);
    return bad;
}

typedef struct { const void *data; size_t n; } bytes;
static int write_bytes(FILE *f, void *ctx) { const bytes *b = ctx; return fwrite(b->data, 1, b->n, f) != b->n; }

int mc_file_save(const char *path, const void *data, size_t n, char *err)
{
    bytes b = {data, n};
    return mc_file_write_atomic(path, write_bytes, &b, err);
}

/* Slice-by-8: eight table lookups per 8 bytes, ~4x the byte-at-a-time loop, so checking or writing the
 * CRC of a 180 MB checkpoint costs a tenth of a second rather than half a second. */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^ (crc_table[t - 1][i] >> 8);
}

uint32_t mc_crc32(uint32_t crc, const void *data, size_t n)
{
    if (!crc_table[0][1]) crc_init();   /* the tables are the same for every thread: a race writes equal values */
    const unsigned char *p = data;
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
              crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

unsigned char *mc_file_read(const char *path, size_t max_bytes, size_t *len, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { mc_set_err(err, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        mc_set_err(err, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        mc_set_err(err, "%s: file too large (%lld bytes; the limit is %zu)", path, (long long)st.st_size, max_bytes);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = mc_malloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        mc_set_err(err, "%s: read error (%zu of %zu bytes read)", path, got, n);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}
