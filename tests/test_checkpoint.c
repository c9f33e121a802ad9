/* Checkpoints: bit-exact round trip with optimizer state, partial loads with a report, and every
 * truncation and a few hundred byte flips of a saved file rejected with an error, never a crash. */
#include "tests/harness.h"
#include "nn/checkpoint.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/mache_ckpt_XXXXXX";

static void build(mc_params *ps, int hidden, uint64_t seed)
{
    mc_rng rng;
    mc_rng_seed(&rng, seed);
    mc_linear_layer a, b;
    mc_batchnorm_layer bn;
    memset(ps, 0, sizeof *ps);
    mc_linear_init(&a, ps, "encoder.fc1", 5, hidden, 1, &rng);
    mc_batchnorm_init(&bn, ps, "encoder.bn1", hidden);
    mc_linear_init(&b, ps, "decoder.0.fc", hidden, 3, 1, &rng);
    for (int k = 0; k < hidden; k++) bn.running_mean->data[k] = 0.01f * k;
}

static unsigned char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n);
    if (fread(b, 1, (size_t)*n, f) != (size_t)*n) *n = 0;
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, long n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, (size_t)n, f);
    fclose(f);
}

static int params_equal(const mc_params *a, const mc_params *b, int with_optimizer)
{
    if (a->n != b->n) return 0;
    for (int k = 0; k < a->n; k++) {
        const mc_param *p = a->items[k], *q = b->items[k];
        size_t bytes = (size_t)p->t.size * sizeof(float);
        if (strcmp(p->name, q->name) || memcmp(p->t.data, q->t.data, bytes)) return 0;
        if (with_optimizer && p->m && (!q->m || memcmp(p->m, q->m, bytes) || memcmp(p->v, q->v, bytes) || p->step != q->step))
            return 0;
    }
    return 1;
}

int main(void)
{
    char err[MC_ERRLEN], path[256], bad[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);

    /* take two Adam steps so there is optimizer state to keep */
    mc_params ps;
    build(&ps, 8, 1);
    mc_adam opt = mc_adam_default(1e-2f);
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < ps.n; k++)
            if (ps.items[k]->t.grad) for (int64_t i = 0; i < ps.items[k]->t.size; i++) ps.items[k]->t.grad[i] = 0.1f * (float)(i % 7) - 0.2f;
        mc_adam_step(&opt, &ps);
    }
    const char *config = "model=vae\nlatent=8\nepoch=12\n";
    CHECK(mc_ckpt_save(path, config, &ps, 1, err) == 0, "save: %s", err);

    /* round trip: bit-exact, optimizer state and config included */
    mc_ckpt c;
    mc_params loaded;
    build(&loaded, 8, 99);
    CHECK(mc_ckpt_read(path, &c, err) == 0, "read: %s", err);
    CHECK(mc_ckpt_load_params(&c, &loaded, 1, NULL, err) == 0, "strict load: %s", err);
    CHECK(params_equal(&ps, &loaded, 1), "round trip is bit-exact, with optimizer state");
    char v[32];
    CHECK(mc_ckpt_config_get(c.config, "epoch", v, sizeof v) && !strcmp(v, "12"), "config keeps epoch=12");
    CHECK(mc_ckpt_config_get(c.config, "latent", v, sizeof v) && !strcmp(v, "8"), "config keeps latent=8");
    const mc_ckpt_entry *e = mc_ckpt_find(&c, "encoder.bn1.running_mean");
    CHECK(e && e->ndim == 1 && e->shape[0] == 8 && e->data[3] == 0.03f, "buffers are saved by name");
    mc_ckpt_free(&c);
    /* step counts go by name and exactly: past float32's 2^24, and in another parameter order */
    ps.items[1]->step = (1LL << 40) + 3;
    CHECK(mc_ckpt_save(path, config, &ps, 1, err) == 0, "save: %s", err);
    mc_params reordered = {0};
    for (int k = ps.n - 1; k >= 0; k--)
        mc_param_new(&reordered, ps.items[k]->name, ps.items[k]->t.ndim, ps.items[k]->t.shape, ps.items[k]->trainable);
    CHECK(mc_ckpt_read(path, &c, err) == 0 && mc_ckpt_load_params(&c, &reordered, 1, NULL, err) == 0, "load: %s", err);
    mc_param *p1 = mc_param_find(&reordered, ps.items[1]->name), *p0 = mc_param_find(&reordered, ps.items[0]->name);
    CHECK(p1 && p1->step == (1LL << 40) + 3 && p0 && p0->step == ps.items[0]->step,
          "Adam step counts by name: %lld and %lld", p1 ? (long long)p1->step : -1LL, p0 ? (long long)p0->step : -1LL);
    mc_ckpt_free(&c);
    mc_params_free(&reordered);
    mc_params_free(&loaded);

    /* another config: strict load refuses and changes nothing; partial load reports each kind */
    mc_params other;
    build(&other, 16, 5);
    mc_param_new(&other, "decoder.1.fc.weight", 2, (int[]){3, 3}, 1);
    float before = other.items[0]->t.data[0];
    CHECK(mc_ckpt_read(path, &c, err) == 0, "read again: %s", err);
    CHECK(mc_ckpt_load_params(&c, &other, 1, NULL, err) != 0 && strstr(err, "mis-shaped") && strstr(err, "(8,5)") && strstr(err, "(16,5)"),
          "strict load of another config fails naming both shapes: %s", err);
    CHECK(other.items[0]->t.data[0] == before, "a failed strict load changes nothing");
    mc_load_report rep;
    CHECK(mc_ckpt_load_params(&c, &other, 0, &rep, err) == 0, "partial load: %s", err);
    CHECK(rep.loaded == 1 && rep.mismatched_n == 7 && rep.missing_n == 1 && rep.unexpected_n == 0,
          "partial report: loaded %d, mis-shaped %d, missing %d, unexpected %d", rep.loaded, rep.mismatched_n, rep.missing_n, rep.unexpected_n);
    mc_load_report_free(&rep);
    mc_ckpt_free(&c);
    mc_params_free(&other);

    mc_params fewer;
    memset(&fewer, 0, sizeof fewer);
    mc_rng rng;
    mc_rng_seed(&rng, 1);
    mc_linear_layer only;
    mc_linear_init(&only, &fewer, "encoder.fc1", 5, 8, 1, &rng);
    CHECK(mc_ckpt_read(path, &c, err) == 0, "read: %s", err);
    CHECK(mc_ckpt_load_params(&c, &fewer, 0, &rep, err) == 0 && rep.loaded == 2 && rep.unexpected_n == 6,
          "unexpected entries reported: %d", rep.unexpected_n);
    CHECK(!memcmp(only.weight->data, ps.items[0]->t.data, 40 * sizeof(float)), "partial load copies matching tensors");
    mc_load_report_free(&rep);
    mc_ckpt_free(&c);
    mc_params_free(&fewer);

    /* damaged files: empty, foreign, every truncation, byte flips */
    spit(bad, (const unsigned char *)"", 0);
    CHECK(mc_ckpt_read(bad, &c, err) != 0 && strstr(err, "empty"), "empty file: %s", err);
    spit(bad, (const unsigned char *)"ply\nformat ascii 1.0\n", 21);
    CHECK(mc_ckpt_read(bad, &c, err) != 0 && strstr(err, "magic"), "foreign file: %s", err);
    CHECK(mc_ckpt_read("/nonexistent/model.ckpt", &c, err) != 0 && strstr(err, "cannot open"), "missing file: %s", err);
    long n;
    unsigned char *good = slurp(path, &n);
    int truncations_rejected = 0;
    for (long len = 0; len < n; len++) {
        spit(bad, good, len);
        if (mc_ckpt_read(bad, &c, err) != 0) truncations_rejected++;
        else mc_ckpt_free(&c);
    }
    CHECK(truncations_rejected == n, "%d of %ld truncations rejected", truncations_rejected, n);
    mc_rng_seed(&rng, 11);
    int flips_rejected = 0;
    for (int t = 0; t < 300; t++) {
        unsigned char *copy = malloc((size_t)n);
        memcpy(copy, good, (size_t)n);
        long at = mc_rng_int(&rng, (int)n);
        copy[at] ^= (unsigned char)(1 + mc_rng_int(&rng, 255));
        spit(bad, copy, n);
        if (mc_ckpt_read(bad, &c, err) != 0) flips_rejected++;
        else mc_ckpt_free(&c);
        free(copy);
    }
    CHECK(flips_rejected == 300, "%d of 300 byte flips rejected", flips_rejected);

    /* an interrupted save leaves the previous file: a save into a missing folder fails cleanly */
    char nowhere[300];
    snprintf(nowhere, sizeof nowhere, "%s/missing/model.ckpt", dir);
    CHECK(mc_ckpt_save(nowhere, config, &ps, 0, err) != 0 && strstr(err, "cannot write"), "save error: %s", err);
    long n2;
    unsigned char *still = slurp(path, &n2);
    CHECK(n2 == n && !memcmp(still, good, (size_t)n), "the saved file is intact");
    free(still);
    free(good);
    mc_params_free(&ps);
    remove(bad); remove(path); rmdir(dir);
    return test_summary("test_checkpoint");
}
