/* examples/vae_mnist as a user runs it, on a few synthetic 28x28 IDX images (training set raw, test set
 * gzipped): it trains, the loss falls, the same seed gives the same losses; a missing data set names the
 * Debian package, a bad flag or a damaged file is one line on stderr and exit status 1. */
#include "tests/harness.h"
#include "datasets/gzip.h"
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char prog[4096], dir[] = "/tmp/mache_vae_mnist_XXXXXX", out[65536], errtext[65536];

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

/* Runs "vae_mnist ARGS", capturing stdout and stderr; returns the exit status. */
static int run(const char *args)
{
    char cmd[16384], o[4200], e[4200];
    snprintf(o, sizeof o, "%s/stdout", dir);
    snprintf(e, sizeof e, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s %s >%s 2>%s", prog, args, o, e);
    int status = system(cmd);
    slurp(o, out, sizeof out);
    slurp(e, errtext, sizeof errtext);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int lines(const char *s) { int n = 0; for (; *s; s++) n += *s == '\n'; return n; }

/* n images of 28x28: a bright disc whose centre and radius vary with k, on black. */
static size_t images(uint8_t *buf, int n)
{
    uint8_t head[16] = {0, 0, 8, 3, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, 28, 0, 0, 0, 28};
    memcpy(buf, head, 16);
    size_t len = 16;
    for (int k = 0; k < n; k++) {
        int cx = 8 + k % 12, cy = 8 + k * 7 % 12, r = 4 + k % 5;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                int d = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                buf[len++] = (uint8_t)(d < r * r ? 255 : d < (r + 1) * (r + 1) ? 128 : 0);
            }
    }
    return len;
}

static void write_file(const char *name, const uint8_t *data, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len, "write %s", path);
    if (f) fclose(f);
}

/* A gzip file of stored (uncompressed) deflate blocks: enough to check that .gz files are found and read. */
static void write_gzip(const char *name, const uint8_t *data, size_t len)
{
    size_t cap = 18 + len + 5 * (len / 65535 + 1), n = 0;
    uint8_t *gz = malloc(cap);
    static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    memcpy(gz, header, 10);
    n = 10;
    for (size_t pos = 0;;) {
        size_t block = len - pos < 65535 ? len - pos : 65535;
        gz[n++] = pos + block == len;                        /* BFINAL, BTYPE 00 */
        gz[n++] = (uint8_t)block; gz[n++] = (uint8_t)(block >> 8);
        gz[n++] = (uint8_t)~block; gz[n++] = (uint8_t)(~block >> 8);
        memcpy(gz + n, data + pos, block);
        n += block;
        pos += block;
        if (pos == len) break;
    }
    uint32_t crc = mc_crc32(0, data, len), size = (uint32_t)len;
    for (int b = 0; b < 4; b++) gz[n++] = (uint8_t)(crc >> 8 * b);
    for (int b = 0; b < 4; b++) gz[n++] = (uint8_t)(size >> 8 * b);
    write_file(name, gz, n);
    free(gz);
}

/* The train and test losses of each "====> Epoch" line; returns how many epochs were read. */
static int losses(const char *text, double *train, double *test, int max)
{
    int n = 0;
    for (const char *p = strstr(text, "====> Epoch:"); p && n < max; p = strstr(p + 1, "====> Epoch:")) {
        int epoch;
        if (sscanf(p, "====> Epoch: %d Average loss: %lf Test set loss: %lf", &epoch, &train[n], &test[n]) != 3
            || epoch != n + 1) break;
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[4096];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(prog, sizeof prog, "%s/vae_mnist", dirname(self));
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char args[8192];

    CHECK(run("--help") == 0 && strstr(out, "dataset-fashion-mnist"), "--help names the package");
    CHECK(run("--bogus") == 1 && lines(errtext) == 1 && strstr(errtext, "unknown option"), "bad flag: %s", errtext);
    CHECK(run("--epochs 0") == 1 && lines(errtext) == 1 && strstr(errtext, "whole number"), "--epochs 0: %s", errtext);
    CHECK(run("--data /nonexistent/fashion-mnist") == 1 && lines(errtext) == 1
          && strstr(errtext, "apt-get install dataset-fashion-mnist"), "no data set: %s", errtext);

    static uint8_t train[16 + 96 * 784], test[16 + 40 * 784];
    size_t train_len = images(train, 96), test_len = images(test, 40);
    write_file("train-images-idx3-ubyte", train, train_len);
    write_gzip("t10k-images-idx3-ubyte.gz", test, test_len);

    double tr[8], te[8], tr2[8], te2[8];
    snprintf(args, sizeof args, "--data %s --epochs 4 --batch 32 --seed 3", dir);
    int status = run(args);
    int n = losses(out, tr, te, 8);
    CHECK(status == 0 && n == 4 && strstr(out, "96 training and 40 test images of 28x28"), "4 epochs: exit %d, %d epochs read\n%s%s",
          status, n, out, errtext);
    if (n == 4) {
        /* untrained, BCE is about 784 ln 2 = 543 nats per image; a disc is learnt fast */
        CHECK(tr[0] > 0 && tr[0] < 600 && isfinite(te[0]), "first epoch loss %g, test %g", tr[0], te[0]);
        CHECK(tr[3] < 0.8 * tr[0] && te[3] < te[0], "the loss falls: train %g -> %g, test %g -> %g", tr[0], tr[3], te[0], te[3]);
    }
    CHECK(run(args) == 0 && losses(out, tr2, te2, 8) == 4 && !memcmp(tr, tr2, sizeof tr) && !memcmp(te, te2, sizeof te),
          "the same seed gives the same losses");
    snprintf(args, sizeof args, "--data %s --epochs 1 --batch 7 --limit 20", dir);
    CHECK(run(args) == 0 && losses(out, tr2, te2, 8) == 1 && strstr(out, "20 training and 20 test images"),
          "--limit 20 with a short last batch: %s%s", out, errtext);

    write_file("train-images-idx3-ubyte", train, train_len - 100);
    snprintf(args, sizeof args, "--data %s", dir);
    CHECK(run(args) == 1 && lines(errtext) == 1 && strstr(errtext, "truncated"), "truncated file: %s", errtext);

    snprintf(args, sizeof args, "rm -rf %s", dir);
    CHECK(system(args) == 0, "clean up %s", dir);
    return test_summary("test_vae_mnist");
}
