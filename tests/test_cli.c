/* The `mache` program as a user meets it: every mistake is one line on stderr and exit status 1, and a
 * tiny run goes through train, info, eval, reconstruct, sample, interpolate and an exact resume. */
#include "tests/harness.h"
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char mache[4096], dir[] = "/tmp/mache_cli_XXXXXX", out[65536], errtext[65536];

/* Runs "mache ARGS", capturing stdout and stderr; returns the exit status. */
static int run(const char *args)
{
    char cmd[16384], o[4200], e[4200];
    snprintf(o, sizeof o, "%s/stdout", dir);
    snprintf(e, sizeof e, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", mache, args, o, e);
    int status = system(cmd);
    FILE *f = fopen(o, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    if (f) fclose(f);
    f = fopen(e, "r");
    n = f ? fread(errtext, 1, sizeof errtext - 1, f) : 0;
    errtext[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int lines(const char *s) { int n = 0; for (; *s; s++) n += *s == '\n'; return n; }
static const char *last_line(const char *s)
{
    size_t len = strlen(s);
    while (len && s[len - 1] == '\n') len--;
    while (len && s[len - 1] != '\n') len--;
    return s + len;
}

/* A usage mistake: exit 1, exactly one line on stderr containing `expect`. */
static void mistake(const char *args, const char *expect)
{
    int status = run(args);
    CHECK(status == 1 && lines(errtext) == 1 && strstr(errtext, expect), "mache %s: exit %d, stderr: %s", args, status, errtext);
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[4096];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(mache, sizeof mache, "%s/mache", dirname(self));
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char args[8192], path[4200];

    CHECK(run("") == 1, "no command: exit 1");
    CHECK(run("--help") == 0 && strstr(out, "train"), "--help lists the commands");
    mistake("frobnicate", "unknown command");
    mistake("train --data procedural:sword:10 --bogus", "unknown option");
    mistake("train --data procedural:sword:10 --out x --epochs abc", "whole number");
    mistake("train --data procedural:sword:10", "--out");
    mistake("train --data procedural:sword:10 --out /tmp/x --model gan", "ae or vae");
    mistake("train --data procedural:sword:10 --out /tmp/x --preset huge", "unknown preset");
    mistake("train --data procedural:sword:10 --out /tmp/x --init xavier", "template or atlasnet");
    mistake("info /nonexistent/model.ckpt", "cannot open");
    mistake("eval --ckpt /nonexistent.ckpt", "--data");
    mistake("sample --ckpt /nonexistent.ckpt --out /tmp/x", "cannot open");
    snprintf(path, sizeof path, "%s/foreign.ckpt", dir);
    FILE *f = fopen(path, "w");
    fputs("solid cube\nendsolid cube\n", f);
    fclose(f);
    snprintf(args, sizeof args, "info %s", path);
    mistake(args, "not a valid mache checkpoint");
    snprintf(args, sizeof args, "train --data procedural:sword:10 --out %s/r --preset tiny --epochs 1 --data procedural:nothing:3", dir);
    mistake(args, "category");
    CHECK(run("train --help") == 0 && strstr(out, "--kl-weight") && strstr(out, "--free-bits"), "train --help lists its options");

    /* a tiny run, end to end */
    snprintf(args, sizeof args, "train --data procedural:sword:10 --model vae --preset tiny --epochs 2 --batch 4 --out %s/run --quiet", dir);
    int status = run(args);
    CHECK(status == 0 && strstr(out, "chamfer_x1e3="), "tiny train: exit %d: %s%s", status, out, errtext);
    snprintf(path, sizeof path, "%s/run/log.csv", dir);
    f = fopen(path, "r");
    int rows = 0;
    for (int c; f && (c = fgetc(f)) != EOF;) rows += c == '\n';
    if (f) fclose(f);
    CHECK(rows == 3, "log.csv has a header and one row per epoch: %d lines", rows);
    snprintf(args, sizeof args, "info %s/run/model.ckpt", dir);
    CHECK(run(args) == 0 && strstr(out, "decoder.1.bn3.running_mean") && strstr(out, "model=vae"), "info lists config and tensors");
    CHECK(strstr(out, "prior=flow") && strstr(out, "prior.coupling.0.fc1.weight"), "train fits the learned prior into model.ckpt: %s", out);
    snprintf(args, sizeof args, "eval --ckpt %s/run/model.ckpt --data procedural:sword:10", dir);
    CHECK(run(args) == 0 && !strncmp(last_line(out), "chamfer_x1e3=", 13) && strstr(out, " fscore="), "eval last line: %s", last_line(out));
    snprintf(args, sizeof args, "sample --ckpt %s/run/model.ckpt --count 3 --out %s/samples --resolution 200", dir, dir);
    CHECK(run(args) == 0, "sample: %s", errtext);
    snprintf(path, sizeof path, "%s/samples/sample_002.obj", dir);
    CHECK(access(path, R_OK) == 0, "sample writes OBJ files");
    CHECK(strstr(out, "prior flow"), "sample uses the checkpoint's learned prior by default: %s", out);
    snprintf(args, sizeof args, "sample --ckpt %s/run/model.ckpt --count 2 --prior normal --out %s/normal --resolution 100", dir, dir);
    CHECK(run(args) == 0 && strstr(out, "prior normal"), "sample --prior normal: %s%s", out, errtext);
    snprintf(args, sizeof args, "sample --ckpt %s/run/model.ckpt --count 2 --clouds 64 --out %s/clouds --resolution 100", dir, dir);
    CHECK(run(args) == 0, "sample --clouds: %s", errtext);
    snprintf(args, sizeof args, "mesh-info %s/clouds/clouds/cloud_001.ply", dir);
    CHECK(run(args) == 0 && strstr(out, "64"), "sample --clouds writes the decoder's points: %s%s", out, errtext);
    snprintf(args, sizeof args, "eval --generated %s/samples --reference procedural:sword:10 --points 256", dir);
    CHECK(run(args) == 0 && !strncmp(last_line(out), "mmd_cd_x1e3=", 12) && strstr(out, "nna_cd=") && strstr(out, "nna_gen=") &&
          strstr(out, "2 generated vs 2 reference"), "generation metrics (equal sets, 1-NNA halves): %s%s", out, errtext);
    snprintf(args, sizeof args, "eval --generated %s/samples --reference procedural:sword:3:5 --split all --train procedural:sword:10 --points 128", dir);
    CHECK(run(args) == 0 && strstr(last_line(out), "mem_gen_x1e3=") && strstr(out, "3 generated vs 3 reference") && strstr(out, "nearest of 8 training"),
          "memorisation check: %s%s", out, errtext);
    snprintf(args, sizeof args, "reconstruct --ckpt %s/run/model.ckpt --data procedural:sword:10 --count 2 --out %s/recon --resolution 200", dir, dir);
    CHECK(run(args) == 0, "reconstruct: %s", errtext);
    snprintf(path, sizeof path, "%s/recon/reconstructions.png", dir);
    CHECK(access(path, R_OK) == 0, "reconstruct draws a contact sheet");
    snprintf(args, sizeof args, "interpolate --ckpt %s/run/model.ckpt --from %s/recon/000_input.obj --to %s/recon/001_input.obj --steps 3 --out %s/interp --resolution 200",
             dir, dir, dir, dir);
    CHECK(run(args) == 0, "interpolate: %s", errtext);
    snprintf(args, sizeof args, "interpolate --ckpt %s/run/model.ckpt --from %s/missing.obj --to %s/recon/001_input.obj --out %s/interp", dir, dir, dir, dir);
    mistake(args, "missing.obj");

    /* resume: 1 epoch, then resume to 2, gives the same weights as 2 epochs straight */
    snprintf(args, sizeof args, "train --data procedural:sword:10 --model vae --preset tiny --epochs 1 --batch 4 --out %s/half --quiet", dir);
    CHECK(run(args) == 0, "first half: %s", errtext);
    snprintf(args, sizeof args, "train --resume %s/half --epochs 2 --quiet", dir);
    CHECK(run(args) == 0, "resume: %s", errtext);
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/run/model.ckpt", dir);
    snprintf(b, sizeof b, "%s/half/model.ckpt", dir);
    CHECK(same_file(a, b), "a resumed run ends with the same checkpoint, byte for byte");
    snprintf(args, sizeof args, "info %s/half/model.ckpt", dir);
    CHECK(run(args) == 0 && strstr(out, "init=template"), "the checkpoint records the default template init");
    /* --init atlasnet travels in the checkpoint: a resumed run keeps it */
    snprintf(args, sizeof args, "train --data procedural:sword:10 --model ae --preset tiny --init atlasnet --epochs 1 --batch 4 --out %s/atl --quiet", dir);
    CHECK(run(args) == 0, "--init atlasnet: %s", errtext);
    snprintf(args, sizeof args, "train --resume %s/atl --epochs 2 --quiet", dir);
    CHECK(run(args) == 0, "resume --init atlasnet: %s", errtext);
    snprintf(args, sizeof args, "info %s/atl/model.ckpt", dir);
    CHECK(run(args) == 0 && strstr(out, "init=atlasnet"), "a resumed --init atlasnet run keeps it");
    snprintf(a, sizeof a, "%s/run/log.csv", dir);
    snprintf(b, sizeof b, "%s/half/log.csv", dir);
    f = fopen(b, "r");
    rows = 0;
    for (int c; f && (c = fgetc(f)) != EOF;) rows += c == '\n';
    if (f) fclose(f);
    CHECK(rows == 3, "the resumed log has one row per epoch: %d lines", rows);
    for (int k = 0; k < 2; k++) {   /* the per-dimension logs: a row an epoch, the same as the straight run's */
        const char *name = k ? "mu_var_dims.csv" : "kl_dims.csv";
        snprintf(a, sizeof a, "%s/run/%s", dir, name);
        snprintf(b, sizeof b, "%s/half/%s", dir, name);
        CHECK(same_file(a, b), "a resumed run's %s is the straight run's", name);
    }

    /* transfer: an AE into a VAE */
    snprintf(args, sizeof args, "train --data procedural:sword:10 --model ae --preset tiny --epochs 1 --batch 4 --out %s/ae --quiet --prior none", dir);
    CHECK(run(args) == 0, "ae: %s", errtext);
    mistake("train --data procedural:sword:10 --out /tmp/x --prior gan", "flow or none");
    snprintf(args, sizeof args, "sample --ckpt %s/ae/model.ckpt --count 2 --prior flow --out %s/noflow", dir, dir);
    mistake(args, "no learned prior");
    snprintf(args, sizeof args, "fit-prior --ckpt %s/ae/model.ckpt --data procedural:sword:10 --out %s/ae/prior.ckpt --epochs 20 --hidden 16", dir, dir);
    CHECK(run(args) == 0 && strstr(out, "fitted to 8 latent vectors"), "fit-prior on an AE checkpoint: %s%s", out, errtext);
    snprintf(args, sizeof args, "sample --ckpt %s/ae/prior.ckpt --count 2 --out %s/aeflow --resolution 100", dir, dir);
    CHECK(run(args) == 0 && strstr(out, "prior flow"), "sample from the fitted prior: %s%s", out, errtext);
    snprintf(args, sizeof args, "info %s/ae/prior.ckpt", dir);
    CHECK(run(args) == 0 && strstr(out, "prior_hidden=16") && strstr(out, "model=ae"), "fit-prior keeps the model's config: %s", out);
    snprintf(args, sizeof args, "train --data procedural:sword:10 --model vae --preset tiny --epochs 1 --batch 4 --out %s/ft --init-from %s/ae/model.ckpt --freeze encoder",
             dir, dir);
    CHECK(run(args) == 0 && strstr(out, "AE -> VAE") && strstr(out, "loaded"), "init-from AE into VAE: %s%s", out, errtext);

    /* a diverging run stops with a message and keeps its last good checkpoint */
    snprintf(args, sizeof args, "train --data procedural:sword:10 --model vae --preset tiny --epochs 30 --batch 4 --lr 1e30 --out %s/nan --quiet", dir);
    status = run(args);
    CHECK(status == 1 && strstr(errtext, "loss became") && lines(errtext) == 1, "NaN loss: exit %d: %s", status, errtext);

    /* mache bench: each subcommand ends with the key=value line the README promises (tiny sizes: this checks the
     * format and that nothing breaks; the figures themselves belong to `make bench`) */
    CHECK(run("bench gemm --m 33 --k 17 --n 40 --trans-b --reps 5") == 0 && strstr(last_line(out), "gflops="), "bench gemm: %s%s", out, errtext);
    CHECK(run("bench train --preset tiny --batch 4 --steps 2") == 0 && strstr(last_line(out), "shapes_per_s=") &&
          strstr(last_line(out), "peak_rss_mib=") && strstr(out, "gflop_per_step="), "bench train: %s%s", out, errtext);
    CHECK(run("bench chamfer --batch 2 --points 64") == 0 && strstr(last_line(out), "point_pairs_per_s="), "bench chamfer: %s%s", out, errtext);
    CHECK(run("bench sample --preset tiny --resolution 200") == 0 && strstr(last_line(out), "meshes_per_s="), "bench sample: %s%s", out, errtext);
    CHECK(run("bench peak") == 0 && strstr(last_line(out), "gflops="), "bench peak: %s%s", out, errtext);
    mistake("bench gemm --m 0", "at least 1");
    mistake("bench nothing", "unknown benchmark");

    snprintf(args, sizeof args, "rm -rf %s", dir);
    if (system(args) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("test_cli");
}
