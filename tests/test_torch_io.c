/* PyTorch and safetensors interop: AtlasNet 2018 checkpoints written by PyTorch 1.13 (zip, legacy, a
 * Python-2-era legacy pickle, safetensors; tests/fixtures/make_torch_fixtures.py) load and give PyTorch's
 * eval-mode output; views, strides and other dtypes read right; exports read back bit for bit; and
 * hundreds of damaged or foreign files are refused with one line each, never a crash. */
#include "tests/harness.h"
#include "models/atlasnet_torch.h"
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIX "tests/fixtures/torch/"
/* Scratch files in memory where there is a tmpfs: the saves under test fsync, which on a disk is slow. */
static const char *tmp_dir(void) { return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"; }

typedef struct { char name[64]; int ndim, shape[MC_MAX_DIMS]; int64_t size; float *data; } named;

/* The reference fixture format: "name ndim d0 d1 ..." then one line of values; '#' lines are comments. */
static int read_named(const char *path, named *out, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    char line[64];
    while (n < max && fscanf(f, " %63s", line) == 1) {
        if (line[0] == '#') { int c; while ((c = fgetc(f)) != '\n' && c != EOF) {} continue; }
        named *t = &out[n];
        snprintf(t->name, sizeof t->name, "%s", line);
        if (fscanf(f, "%d", &t->ndim) != 1) break;
        t->size = 1;
        for (int d = 0; d < t->ndim; d++) { if (fscanf(f, "%d", &t->shape[d]) != 1) break; t->size *= t->shape[d]; }
        t->data = malloc((size_t)t->size * sizeof(float) + 4);
        for (int64_t i = 0; i < t->size; i++) if (fscanf(f, "%f", &t->data[i]) != 1) break;
        n++;
    }
    fclose(f);
    return n;
}

static const named *find(const named *t, int n, const char *name)
{
    for (int k = 0; k < n; k++) if (!strcmp(t[k].name, name)) return &t[k];
    return NULL;
}

static int same_params(const atlasnet *a, const atlasnet *b)
{
    if (a->params.n != b->params.n) return 0;
    for (int k = 0; k < a->params.n; k++) {
        const mc_param *p = a->params.items[k], *q = b->params.items[k];
        if (strcmp(p->name, q->name) || !mc_same_shape(&p->t, &q->t) || memcmp(p->t.data, q->t.data, (size_t)p->t.size * 4)) return 0;
    }
    return 1;
}

/* mache's eval-mode forward on the fixture's clouds and templates against PyTorch's output. */
static double forward_error(atlasnet *m, const char *fixture)
{
    named t[8];
    int n = read_named(fixture, t, 8);
    const named *points = find(t, n, "points"), *out = find(t, n, "output");
    if (!points || !out) return INFINITY;
    int B = points->shape[0], prev = mc_set_grad_enabled(0);
    mc_set_training(0);
    mc_tensor *x = mc_tensor_from(3, points->shape, points->data), *z;
    atlas_encode(m, x, &z, NULL);
    mc_tensor **templates = mc_arena_alloc((size_t)m->cfg.patches * sizeof *templates);
    for (int k = 0; k < m->cfg.patches; k++) {
        char name[32];
        snprintf(name, sizeof name, "template%d", k);
        const named *g = find(t, n, name);
        if (!g) return INFINITY;
        templates[k] = mc_new(B, g->shape[0], g->shape[1]);
        for (int b = 0; b < B; b++) memcpy(templates[k]->data + b * g->size, g->data, (size_t)g->size * 4);
    }
    mc_tensor *y = atlas_decode(m, z, templates);
    double worst = y->size == out->size ? 0 : INFINITY;
    for (int64_t i = 0; i < y->size && i < out->size; i++) worst = fmax(worst, fabs(y->data[i] - out->data[i]));
    mc_step_end();
    mc_set_training(1);
    mc_set_grad_enabled(prev);
    for (int k = 0; k < n; k++) free(t[k].data);
    return worst;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (n) fwrite(b, 1, n, f);
    fclose(f);
}

/* A damaged file either fails with one line, or (a flip in raw float data that no checksum covers, in
 * the legacy and safetensors formats) loads as some model. Either way: no crash, no hang. */
static int damaged_ok(const char *path, int must_fail)
{
    atlasnet m;
    char err[MC_ERRLEN] = "";
    if (atlas_load(&m, path, err)) return err[0] && !strchr(err, '\n');
    atlas_free(&m);
    return !must_fail;
}

static void damage(const char *fixture, const char *ext, int flips_detected, uint64_t seed)
{
    size_t len;
    char err[MC_ERRLEN], path[256];
    unsigned char *orig = mc_file_read(fixture, SIZE_MAX, &len, err), *b = malloc(len + 1);
    CHECK(orig != NULL, "%s", err);
    if (!orig) return;
    snprintf(path, sizeof path, "%s/mache_torch_io_%d.%s", tmp_dir(), (int)getpid(), ext);
    mc_rng rng;
    mc_rng_seed(&rng, seed);
    int bad = 0, cases = 0;
    for (int k = 0; k < 80; k++) {                  /* truncated: the whole head, then spread over the file */
        size_t cut = k < 20 ? (size_t)k : (size_t)mc_rng_int(&rng, (int)len);
        spit(path, orig, cut);
        bad += !damaged_ok(path, 1);
        cases++;
    }
    for (int k = 0; k < 120; k++) {                 /* one bit flipped */
        memcpy(b, orig, len);
        b[mc_rng_int(&rng, (int)len)] ^= (unsigned char)(1 << mc_rng_int(&rng, 8));
        spit(path, b, len);
        bad += !damaged_ok(path, flips_detected);
        cases++;
    }
    for (int k = 0; k < 40; k++) {                  /* a run of zeros, as a disk or a copy loses a block */
        memcpy(b, orig, len);
        size_t at = (size_t)mc_rng_int(&rng, (int)len), n = 1 + (size_t)mc_rng_int(&rng, 512);
        memset(b + at, 0, at + n > len ? len - at : n);
        spit(path, b, len);
        bad += !damaged_ok(path, 0);
        cases++;
    }
    CHECK(bad == 0, "%s: %d of %d damaged copies crashed, loaded when they must not, or gave no one-line error", fixture, bad, cases);
    unlink(path);
    free(orig); free(b);
}

/* "mache ARGS" with its stdout and stderr in *out (freed by the caller); returns the exit status. */
static int run(const char *mache, const char *args, char **out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", mache, args);
    FILE *p = popen(cmd, "r");
    size_t n = 0, cap = 1 << 16;
    *out = calloc(cap, 1);
    while (p && n + 1 < cap) { size_t got = fread(*out + n, 1, cap - 1 - n, p); if (!got) break; n += got; }
    int status = p ? pclose(p) : -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int lines(const char *s) { int n = 0; for (; *s; s++) n += *s == '\n'; return n; }

static void cli(const char *mache)
{
    char args[1024], *out;
    const char *d = tmp_dir();
    int pid = (int)getpid();
    snprintf(args, sizeof args, FIX "atlas_square_legacy.pth %s/cli_%d.ckpt", d, pid);
    int r = run(mache, "convert", &out);
    CHECK(r == 1 && lines(out) == 1 && strstr(out, "give an input and an output"), "convert without files: %d %s", r, out);
    free(out);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "convert %s", args);
    r = run(mache, cmd, &out);
    CHECK(r == 0 && strstr(out, "84 tensors"), "convert .pth -> .ckpt: %d %s", r, out);
    free(out);
    snprintf(cmd, sizeof cmd, "convert %s/cli_%d.ckpt %s/cli_%d.pth --layout atlas", d, pid, d, pid);
    r = run(mache, cmd, &out);
    CHECK(r == 1 && lines(out) == 1 && strstr(out, "--layout"), "a bad --layout: %d %s", r, out);
    free(out);
    snprintf(cmd, sizeof cmd, "convert %s/cli_%d.ckpt %s/cli_%d.safetensors", d, pid, d, pid);
    r = run(mache, cmd, &out);
    CHECK(r == 0 && strstr(out, "layout atlasnet"), "convert .ckpt -> .safetensors: %d %s", r, out);
    free(out);
    snprintf(cmd, sizeof cmd, "info %s/cli_%d.safetensors", d, pid);
    r = run(mache, cmd, &out);
    CHECK(r == 0 && strstr(out, "safetensors, in mache's names") && strstr(out, "decoder.2.conv4.weight") && strstr(out, "skipped 12 tensors of encoder.0.stn"),
          "info on a .safetensors: %d %s", r, out);
    free(out);
    r = run(mache, "convert " FIX "whole_module.pth x.ckpt", &out);
    CHECK(r == 1 && lines(out) == 1 && strstr(out, "AE_AtlasNet"), "a pickled module is refused in one line: %d %s", r, out);
    free(out);
    const char *ext[] = {"ckpt", "pth", "safetensors"};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "%s/cli_%d.%s", d, pid, ext[k]);
        unlink(cmd);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    char err[MC_ERRLEN], self[4096], mache[4200];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(mache, sizeof mache, "%s/mache", dirname(self));
    /* ---- every format of the same model loads to the same tensors ---- */
    const char *square[] = {FIX "atlas_square_zip.pth", FIX "atlas_square_legacy.pth", FIX "atlas_square_py2.pth", FIX "atlas_square.safetensors"};
    atlasnet ref, m;
    CHECK(atlas_load(&ref, square[0], err) == 0, "%s", err);
    CHECK(ref.cfg.patches == 3 && ref.cfg.latent == 16 && ref.cfg.enc[0] == 16 && ref.cfg.enc[2] == 32 &&
          ref.cfg.dec == 18 && !ref.cfg.sphere && !ref.cfg.vae && ref.cfg.fc, "config from the shapes");
    for (int k = 1; k < 4; k++) {
        CHECK(atlas_load(&m, square[k], err) == 0, "%s", err);
        CHECK(same_params(&ref, &m), "%s: not the same tensors as the zip file", square[k]);
        atlas_free(&m);
    }
    /* ---- PyTorch's forward, square patches and the sphere ---- */
    double e = forward_error(&ref, FIX "atlas_square_forward.txt");
    CHECK(e <= 1e-5, "square AtlasNet: mache vs PyTorch eval-mode output differ by %g", e);
    printf("square AtlasNet 2018 vs PyTorch: max |difference| %.3g\n", e);
    CHECK(atlas_load(&m, FIX "atlas_sphere_legacy.pth", err) == 0, "%s", err);
    CHECK(m.cfg.sphere && m.cfg.patches == 1 && m.cfg.dec == 19, "the sphere variant's config from its shapes");
    e = forward_error(&m, FIX "atlas_sphere_forward.txt");
    CHECK(e <= 1e-5, "sphere AtlasNet: mache vs PyTorch eval-mode output differ by %g", e);
    printf("sphere AtlasNet 2018 vs PyTorch: max |difference| %.3g\n", e);
    atlas_free(&m);

    /* ---- views, strides, offsets and dtypes ---- */
    named want[16];
    int nwant = read_named(FIX "views.txt", want, 16);
    CHECK(nwant == 8, "views.txt holds %d tensors", nwant);
    const char *views[] = {FIX "views_zip.pth", FIX "views_legacy.pth"};
    for (int v = 0; v < 2; v++) {
        mc_ckpt c;
        CHECK(mc_torch_read(views[v], &c, err) == 0, "%s", err);
        for (int k = 0; k < nwant; k++) {
            const mc_ckpt_entry *t = mc_ckpt_find(&c, want[k].name);
            int ok = t && t->size == want[k].size && t->ndim == want[k].ndim &&
                     !memcmp(t->data, want[k].data, (size_t)t->size * 4) && t->integer == (k >= 6);
            CHECK(ok, "%s: tensor %s", views[v], want[k].name);
        }
        mc_ckpt_free(&c);
    }
    for (int k = 0; k < nwant; k++) free(want[k].data);

    /* ---- export in both layouts and all formats, then back: bit for bit ---- */
    char path[256];
    const char *outs[] = {"pth", "safetensors", "ckpt"};
    for (int lay = 0; lay < 2; lay++)
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/mache_torch_io_%d.%s", tmp_dir(), (int)getpid(), outs[k]);
            CHECK(atlas_save_as(&ref, path, lay ? ATLAS_LAYOUT_MACHE : ATLAS_LAYOUT_ATLASNET, NULL, err) == 0, "%s", err);
            CHECK(atlas_load(&m, path, err) == 0, "%s", err);
            CHECK(same_params(&ref, &m), "%s (layout %d) does not read back the same", path, lay);
            atlas_free(&m);
            mc_ckpt c;
            if (k == 2 || mc_tensors_read(path, &c, err)) continue;
            const mc_ckpt_entry *stn = mc_ckpt_find(&c, "encoder.0.stn.fc3.weight"), *count = mc_ckpt_find(&c, "decoder.2.bn3.num_batches_tracked");
            const mc_ckpt_entry *w = mc_ckpt_find(&c, lay ? "decoder.0.conv1.weight" : "decoder.0.conv1.weight");
            if (lay == 0)
                CHECK(stn && stn->shape[0] == 9 && stn->shape[1] == 8 && count && count->integer && count->ndim == 0 && w && w->ndim == 3,
                      "%s: AtlasNet's layout has the STN, the counters and (out, in, 1) Conv1d weights", path);
            else CHECK(!stn && !count && w && w->ndim == 2, "%s: mache's layout has its own names and shapes", path);
            mc_ckpt_free(&c);
            unlink(path);
        }

    /* ---- --init-from a .pth into a VAE: a partial load with the report ---- */
    atlas_config cfg = ref.cfg;
    cfg.vae = 1;
    atlas_init(&m, &cfg, 3);
    char *text = NULL;
    size_t text_len = 0;
    FILE *report = open_memstream(&text, &text_len);
    CHECK(atlas_init_from(&m, FIX "atlas_square_py2.pth", report, err) == 0, "%s", err);
    fclose(report);
    CHECK(text && strstr(text, "loaded 84 tensors; 4 missing, 0 unexpected") && strstr(text, "encoder.0.stn"),
          "init-from report: %s", text ? text : "(none)");
    free(text);
    atlas_free(&m);

    /* ---- refused with a clear reason ---- */
    struct { const char *file, *says; } refused[] = {
        {FIX "deflated.pth", "is compressed"},
        {FIX "whole_module.pth", "global 'atlasnet2018.AE_AtlasNet'"},
        {FIX "views_zip.pth", "not an AtlasNet state_dict"},
        {FIX "atlas_square_forward.txt", "not a valid mache checkpoint"},
        {path, "appears twice"},
    };
    /* found by the fuzzer: a repeated name, once reported from freed memory */
    const char dup[] = "\x72\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}         12345678";
    snprintf(path, sizeof path, "%s/mache_torch_io_%d_dup.safetensors", tmp_dir(), (int)getpid());
    spit(path, (const unsigned char *)dup, sizeof dup - 1);
    for (size_t k = 0; k < sizeof refused / sizeof *refused; k++) {
        err[0] = 0;
        int r = atlas_load(&m, refused[k].file, err);
        CHECK(r != 0 && strstr(err, refused[k].says) && !strchr(err, '\n'), "%s: got '%s'", refused[k].file, err);
        if (!r) atlas_free(&m);
    }
    unlink(path);
    /* foreign bytes under each extension */
    const char *foreign[] = {"", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "PK\3\4 not really a zip",
                             "\x80\x02\x8a\x0a not really a legacy file", "MACHECKP", "\x10\0\0\0\0\0\0\0{\"a\":{}}        "};
    int foreign_bad = 0;
    for (size_t k = 0; k < sizeof foreign / sizeof *foreign; k++)
        for (int x = 0; x < 3; x++) {
            snprintf(path, sizeof path, "%s/mache_torch_io_%d.%s", tmp_dir(), (int)getpid(), outs[x]);
            spit(path, (const unsigned char *)foreign[k], k == 1 ? 16 : k == 6 ? 24 : strlen(foreign[k]));
            foreign_bad += !damaged_ok(path, 1);
            unlink(path);
        }
    CHECK(foreign_bad == 0, "%d foreign files were not refused with one line", foreign_bad);

    /* ---- damaged copies of every format ---- */
    snprintf(path, sizeof path, "%s/mache_torch_io_%d_ref.ckpt", tmp_dir(), (int)getpid());
    CHECK(atlas_save(&ref, path, NULL, 0, err) == 0, "%s", err);
    damage(square[0], "pth", 0, 1);     /* zip: CRCs catch flips in the data, but not in an unread entry */
    damage(square[1], "pth", 0, 2);
    damage(square[3], "safetensors", 0, 3);
    damage(path, "ckpt", 1, 4);         /* mache's checksum catches every flip */
    unlink(path);
    atlas_free(&ref);
    cli(mache);
    return test_summary("test_torch_io");
}
