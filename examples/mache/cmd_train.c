/* mache train: the whole training run, top to bottom. Each epoch reseeds its random generators from
 * (seed, epoch), so a run resumed from the checkpoint of epoch E repeats epoch E+1 exactly. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/common.h"
#include "tensor/nearest.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct train_opts {
    const char *data, *model, *preset, *out, *lr_steps, *template_, *init_from, *freeze, *resume;
    int epochs, batch, seed, patches, latent, points, no_fc, no_relu_end, save_every, cache_points, quiet;
    float lr, kl_weight, kl_warmup, free_bits, logvar_init;
} train_opts;

static uint64_t epoch_seed(int seed, int epoch) { return (uint64_t)seed * 1000003ULL + (uint64_t)epoch * 7919ULL + 1; }

/* The options that define a run travel in its checkpoints, so --resume needs nothing else. */
static void opts_text(const train_opts *o, int epochs_done, char *buf, size_t n)
{
    snprintf(buf, n, "epoch=%d\ndata=%s\nepochs=%d\nbatch=%d\nlr=%.9g\nlr_steps=%s\nseed=%d\nkl_weight=%.9g\n"
             "kl_warmup=%.9g\nfree_bits=%.9g\nfreeze=%s\ncache_points=%d\nsave_every=%d\n",
             epochs_done, o->data, o->epochs, o->batch, o->lr, o->lr_steps, o->seed, o->kl_weight, o->kl_warmup,
             o->free_bits, o->freeze ? o->freeze : "none", o->cache_points, o->save_every);
}

static int opts_from_config(const char *config, train_opts *o, int *epochs_done, char strings[3][1024])
{
    char v[1024];
    const char *keys[] = {"epoch", "data", "epochs", "batch", "lr", "lr_steps", "seed", "kl_weight", "kl_warmup",
                          "free_bits", "freeze", "cache_points", "save_every"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (!mc_ckpt_config_get(config, keys[k], v, sizeof v)) return 1;
    *epochs_done = atoi(mc_ckpt_config_get(config, "epoch", v, sizeof v));
    o->data = strcpy(strings[0], mc_ckpt_config_get(config, "data", v, sizeof v));
    o->epochs = atoi(mc_ckpt_config_get(config, "epochs", v, sizeof v));
    o->batch = atoi(mc_ckpt_config_get(config, "batch", v, sizeof v));
    o->lr = (float)atof(mc_ckpt_config_get(config, "lr", v, sizeof v));
    o->lr_steps = strcpy(strings[1], mc_ckpt_config_get(config, "lr_steps", v, sizeof v));
    o->seed = atoi(mc_ckpt_config_get(config, "seed", v, sizeof v));
    o->kl_weight = (float)atof(mc_ckpt_config_get(config, "kl_weight", v, sizeof v));
    o->kl_warmup = (float)atof(mc_ckpt_config_get(config, "kl_warmup", v, sizeof v));
    o->free_bits = (float)atof(mc_ckpt_config_get(config, "free_bits", v, sizeof v));
    o->freeze = strcmp(mc_ckpt_config_get(config, "freeze", v, sizeof v), "none") ? strcpy(strings[2], v) : NULL;
    o->cache_points = atoi(mc_ckpt_config_get(config, "cache_points", v, sizeof v));
    o->save_every = atoi(mc_ckpt_config_get(config, "save_every", v, sizeof v));
    return 0;
}

static int parse_lr_steps(const char *text, int *steps, int max)
{
    int n = 0;
    for (const char *p = text; p && *p && n < max;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0) return -1;
        steps[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

/* Keeps the rows of log.csv up to epochs_done (a resumed run rewrites the later ones). */
static int truncate_log(const char *path, int epochs_done)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *kept = NULL, line[4096];
    size_t len = 0;
    while (fgets(line, sizeof line, f)) {
        int epoch = atoi(line);
        if (len && epoch > epochs_done) break;      /* the header (len 0) is always kept */
        kept = mc_realloc(kept, len + strlen(line) + 1);
        memcpy(kept + len, line, strlen(line) + 1);
        len += strlen(line);
    }
    fclose(f);
    f = fopen(path, "w");
    if (!f) { free(kept); return 1; }
    if (kept) fputs(kept, f);
    fclose(f);
    free(kept);
    return 0;
}

typedef struct test_stats { double chamfer_x1e3, fscore; int active; double *kl_dim; } test_stats;

/* Reconstruction metrics on the test split, in eval mode with z = mu; active latent dimensions as in
 * Burda et al. 2016: the variance of mu over the test shapes is above 0.01. */
static void evaluate(atlasnet *m, const mc_dataset *test, const float *clouds, test_stats *st)
{
    int n = test->nshapes, N = m->cfg.points, L = m->cfg.latent;
    float *mu = mc_malloc((size_t)n * L * sizeof(float)), *recon = mc_malloc((size_t)n * N * 3 * sizeof(float));
    float *logvar = m->cfg.vae ? mc_malloc((size_t)n * L * sizeof(float)) : NULL;
    encode_clouds(m, clouds, n, mu, logvar);
    decode_latents(m, mu, n, N, 4242, recon);
    st->chamfer_x1e3 = st->fscore = 0;
    for (int s = 0; s < n; s++) {
        double f;
        st->chamfer_x1e3 += 1e3 * mc_chamfer_pair(recon + (int64_t)s * N * 3, N, clouds + (int64_t)s * N * 3, N, 1e-3, &f) / n;
        st->fscore += f / n;
    }
    st->active = 0;
    for (int d = 0; d < L; d++) {
        double s1 = 0, s2 = 0, kl = 0;
        for (int s = 0; s < n; s++) {
            double v = mu[(int64_t)s * L + d];
            s1 += v; s2 += v * v;
            if (logvar) { double lv = logvar[(int64_t)s * L + d]; kl += -0.5 * (1 + lv - v * v - exp(lv)); }
        }
        double var = s2 / n - (s1 / n) * (s1 / n);
        st->active += var > 0.01;
        st->kl_dim[d] = kl / n;
    }
    free(mu); free(recon); free(logvar);
}

static const char *usage = "--data SRC --model ae|vae --preset cpu|paper --out RUNDIR [options]\n"
                           "       mache train --resume RUNDIR [--epochs N]";

int cmd_train(int argc, char **argv)
{
    train_opts o = {.model = "vae", .preset = "cpu", .lr_steps = NULL, .template_ = "square", .epochs = -1, .batch = -1,
                    .seed = 1, .patches = 0, .save_every = 1, .lr = 1e-3f, .kl_weight = 1, .logvar_init = 0};
    const mc_opt opts[] = {
        {"data", OPT_STR, &o.data, "training shapes: a folder of meshes or procedural:CATEGORY:COUNT[:SEED]"},
        {"model", OPT_STR, &o.model, "ae or vae (default vae)"},
        {"preset", OPT_STR, &o.preset, "cpu or paper (default cpu; tiny for tests)"},
        {"out", OPT_STR, &o.out, "run folder: model.ckpt, last.ckpt, log.csv, kl_dims.csv"},
        {"epochs", OPT_INT, &o.epochs, "epochs (preset default: paper 120, cpu 25)"},
        {"batch", OPT_INT, &o.batch, "shapes per step (preset default: paper 32, cpu 16)"},
        {"lr", OPT_FLOAT, &o.lr, "Adam learning rate (default 1e-3)"},
        {"lr-steps", OPT_STR, &o.lr_steps, "epochs at which the rate is divided by 10 (default: paper 100, cpu 20)"},
        {"seed", OPT_INT, &o.seed, "seed for the initial weights, shuffling and sampling (default 1)"},
        {"kl-weight", OPT_FLOAT, &o.kl_weight, "weight of the KL term (VAE; default 1)"},
        {"kl-warmup", OPT_FLOAT, &o.kl_warmup, "epochs over which the KL weight ramps up from 0 (default 0)"},
        {"free-bits", OPT_FLOAT, &o.free_bits, "nats per latent dimension left free of KL pressure (default 0)"},
        {"logvar-init", OPT_FLOAT, &o.logvar_init, "start the logvar head at this value, e.g. -6 (default: PyTorch init)"},
        {"no-fc", OPT_FLAG, &o.no_fc, "remove the FC layer between the max-pool and the latent/heads"},
        {"no-relu-end", OPT_FLAG, &o.no_relu_end, "remove the ReLU at the end of the encoder"},
        {"patches", OPT_INT, &o.patches, "number of patch decoders (preset default)"},
        {"latent", OPT_INT, &o.latent, "latent size (preset default)"},
        {"points", OPT_INT, &o.points, "points per shape (preset default)"},
        {"template", OPT_STR, &o.template_, "square or sphere (default square)"},
        {"init-from", OPT_STR, &o.init_from, "start from a checkpoint's matching parameters (AE into VAE works)"},
        {"freeze", OPT_STR, &o.freeze, "encoder or decoder: keep those weights fixed"},
        {"resume", OPT_STR, &o.resume, "continue the run in this folder from its last.ckpt"},
        {"save-every", OPT_INT, &o.save_every, "epochs between checkpoints (default 1)"},
        {"cache-points", OPT_INT, &o.cache_points, "surface points cached per shape (default 8 x points)"},
        {"quiet", OPT_FLAG, &o.quiet, "print only the final line"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, usage, pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;

    char err[MC_ERRLEN], path[4200], text[4096], resume_strings[3][1024];
    atlasnet m;
    int epochs_done = 0;
    if (o.resume) {
        /* Everything but --epochs comes from the run's own checkpoint. */
        int epochs_override = o.epochs;
        snprintf(path, sizeof path, "%s/last.ckpt", o.resume);
        mc_ckpt ck;
        if (mc_ckpt_read(path, &ck, err)) { fprintf(stderr, "mache train: --resume: %s\n", err); return 1; }
        if (opts_from_config(ck.config, &o, &epochs_done, resume_strings)) {
            fprintf(stderr, "mache train: --resume: %s has no training options (saved by another command?)\n", path);
            mc_ckpt_free(&ck);
            return 1;
        }
        mc_ckpt_free(&ck);
        if (load_model("train", path, &m)) return 1;      /* parameters and the optimizer state */
        o.out = o.resume;
        if (epochs_override > 0) o.epochs = epochs_override;
        if (o.freeze) mc_params_freeze(&m.params, !strcmp(o.freeze, "encoder") ? "encoder." : "decoder.", 1);
        if (!o.quiet) printf("resuming %s after epoch %d of %d\n", o.out, epochs_done, o.epochs);
    } else {
        if (!o.data || !o.out) { fprintf(stderr, "mache train: --data and --out are required (see mache train --help)\n"); return 1; }
        int vae = !strcmp(o.model, "vae");
        if (!vae && strcmp(o.model, "ae")) { fprintf(stderr, "mache train: --model must be ae or vae, got '%s'\n", o.model); return 1; }
        if (strcmp(o.template_, "square") && strcmp(o.template_, "sphere")) {
            fprintf(stderr, "mache train: --template must be square or sphere, got '%s'\n", o.template_);
            return 1;
        }
        if (o.freeze && strcmp(o.freeze, "encoder") && strcmp(o.freeze, "decoder")) {
            fprintf(stderr, "mache train: --freeze must be encoder or decoder, got '%s'\n", o.freeze);
            return 1;
        }
        atlas_config cfg;
        if (atlas_preset(o.preset, vae, &cfg, err)) { fprintf(stderr, "mache train: --preset: %s\n", err); return 1; }
        int paper = !strcmp(o.preset, "paper");
        if (o.epochs < 0) o.epochs = paper ? 120 : 25;
        if (o.batch < 0) o.batch = paper ? 32 : 16;
        if (!o.lr_steps) o.lr_steps = paper ? "100" : "20";
        if (o.patches) cfg.patches = o.patches;
        if (o.latent) { cfg.latent = o.latent; if (paper) cfg.dec = 0; }
        if (o.points) cfg.points = o.points;
        cfg.fc = !o.no_fc;
        cfg.relu_end = !o.no_relu_end;
        cfg.sphere = !strcmp(o.template_, "sphere");
        cfg.logvar_init = o.logvar_init;
        if (o.batch < 2 || o.epochs < 1 || cfg.patches < 1 || cfg.points < cfg.patches || cfg.latent < 1 || o.save_every < 1 || !(o.lr > 0)) {
            fprintf(stderr, "mache train: --batch must be >= 2, --epochs, --latent, --save-every >= 1, --points >= --patches, --lr > 0\n");
            return 1;
        }
        atlas_init(&m, &cfg, (uint64_t)o.seed);
        if (o.init_from && atlas_init_from(&m, o.init_from, o.quiet ? NULL : stdout, err)) {
            fprintf(stderr, "mache train: --init-from: %s\n", err);
            atlas_free(&m);
            return 1;
        }
        if (o.freeze) {
            int n = mc_params_freeze(&m.params, !strcmp(o.freeze, "encoder") ? "encoder." : "decoder.", 1);
            if (!o.quiet) printf("froze %d %s tensors\n", n, o.freeze);
        }
    }
    int lr_steps[16], n_lr_steps = parse_lr_steps(o.lr_steps, lr_steps, 16);
    if (n_lr_steps < 0) { fprintf(stderr, "mache train: --lr-steps wants epochs like 100 or 50,80, got '%s'\n", o.lr_steps); atlas_free(&m); return 1; }
    const atlas_config *c = &m.cfg;
    if (o.cache_points <= 0) o.cache_points = 8 * c->points;

    mc_dataset train, test;
    if (mkdir_p(o.out, err)) { fprintf(stderr, "mache train: %s\n", err); atlas_free(&m); return 1; }
    if (open_data("train", o.data, "train", o.cache_points, (uint64_t)o.seed, &train)) { atlas_free(&m); return 1; }
    if (open_data("train", o.data, "test", o.cache_points, (uint64_t)o.seed, &test)) { mc_dataset_free(&train); atlas_free(&m); return 1; }
    if (train.nshapes < 2) { fprintf(stderr, "mache train: %s: only %d training shape (BatchNorm needs 2 or more)\n", o.data, train.nshapes); return 1; }
    int B = o.batch < train.nshapes ? o.batch : train.nshapes;
    float *test_clouds = dataset_clouds(&test, c->points, 777);
    if (!o.quiet)
        printf("%s %s: %lld parameters, %d train / %d test shapes, %d points, %d patches, latent %d, batch %d\n",
               c->vae ? "VAE" : "AE", o.preset ? o.preset : "", (long long)mc_params_count(&m.params, 1),
               train.nshapes, test.nshapes, c->points, c->patches, c->latent, B);

    snprintf(path, sizeof path, "%s/log.csv", o.out);
    if (o.resume) truncate_log(path, epochs_done);
    FILE *log = fopen(path, o.resume ? "a" : "w");
    snprintf(path, sizeof path, "%s/kl_dims.csv", o.out);
    if (o.resume) truncate_log(path, epochs_done);
    FILE *kl_log = fopen(path, o.resume ? "a" : "w");
    if (!log || !kl_log) { fprintf(stderr, "mache train: %s: cannot write the logs\n", o.out); return 1; }
    if (!o.resume) {
        fprintf(log, "epoch,lr,kl_weight,loss,chamfer,kld,test_chamfer_x1e3,test_fscore,active_dims,seconds,shapes_per_s\n");
        fprintf(kl_log, "epoch");
        for (int d = 0; d < c->latent; d++) fprintf(kl_log, ",kl%d", d);
        fprintf(kl_log, "\n");
    }

    int steps_per_epoch = train.nshapes / B, status = 0;
    int *order = mc_malloc((size_t)train.nshapes * sizeof *order);
    float *batch = mc_malloc((size_t)B * c->points * 3 * sizeof(float));
    test_stats st = {.kl_dim = mc_calloc((size_t)c->latent, sizeof(double))};
    mc_adam adam = mc_adam_default(o.lr);
    double run_start = now_seconds();
    for (int epoch = epochs_done; epoch < o.epochs; epoch++) {
        mc_seed(epoch_seed(o.seed, epoch));
        mc_rng data_rng;
        mc_rng_seed(&data_rng, epoch_seed(o.seed, epoch) ^ 0x5bd1e995ULL);
        for (int i = 0; i < train.nshapes; i++) order[i] = i;
        mc_rng_shuffle(&data_rng, order, train.nshapes);
        adam.lr = mc_step_lr(o.lr, epoch, lr_steps, n_lr_steps, 0.1f);
        mc_set_training(1);
        double sum_loss = 0, sum_cd = 0, sum_kl = 0, t0 = now_seconds();
        float kl_weight = o.kl_weight;
        for (int s = 0; s < steps_per_epoch; s++) {
            double progress_steps = (double)epoch * steps_per_epoch + s;
            kl_weight = o.kl_warmup > 0 ? o.kl_weight * (float)fmin(1.0, progress_steps / (o.kl_warmup * steps_per_epoch)) : o.kl_weight;
            mc_dataset_batch(&train, order + (int64_t)s * B, B, c->points, &data_rng, batch);
            mc_tensor *points = mc_tensor_from(3, (int[]){B, c->points, 3}, batch);
            atlas_loss_opts lo = {kl_weight, o.free_bits};
            atlas_losses l = atlas_forward(&m, points, &lo);
            float loss = l.total->data[0];
            if (!isfinite(loss)) {
                progress_done();
                fprintf(stderr, "mache train: the loss became %s at epoch %d, step %d; stopped, keeping the last good "
                        "checkpoint %s/last.ckpt (try a lower --lr or --kl-weight)\n", isnan(loss) ? "NaN" : "infinite", epoch + 1, s + 1, o.out);
                mc_step_end();
                status = 1;
                goto done;
            }
            mc_adam_backward(&adam, &m.params, l.total);   /* zero_grad + backward + Adam, one pass */
            sum_loss += loss;
            sum_cd += l.chamfer->data[0];
            sum_kl += l.kld ? l.kld->data[0] : 0;
            mc_step_end();
            if (!o.quiet) {
                double elapsed = now_seconds() - t0, rate = (s + 1) * B / elapsed;
                double eta = ((double)(o.epochs - epoch) * steps_per_epoch - s - 1) * B / rate;
                char line[256];
                snprintf(line, sizeof line, "loss %.5f  cd %.5f  kl %.2f  %.1f shapes/s  ETA %d:%02d:%02d", sum_loss / (s + 1),
                         sum_cd / (s + 1), sum_kl / (s + 1), rate, (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60);
                char label[64];
                snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, o.epochs);
                progress(label, (double)(s + 1) / steps_per_epoch, line);
            }
        }
        double seconds = now_seconds() - t0;
        evaluate(&m, &test, test_clouds, &st);
        progress_done();
        double n = steps_per_epoch;
        fprintf(log, "%d,%g,%g,%.6f,%.6f,%.4f,%.4f,%.4f,%d,%.2f,%.2f\n", epoch + 1, adam.lr, kl_weight, sum_loss / n, sum_cd / n,
                sum_kl / n, st.chamfer_x1e3, st.fscore, st.active, seconds, steps_per_epoch * B / seconds);
        fflush(log);
        fprintf(kl_log, "%d", epoch + 1);
        for (int d = 0; d < c->latent; d++) fprintf(kl_log, ",%.4f", st.kl_dim[d]);
        fprintf(kl_log, "\n");
        fflush(kl_log);
        if (!o.quiet) {
            printf("epoch %3d/%d  loss %.5f  chamfer %.5f  kl %.3f  test chamfer_x1e3 %.3f  fscore %.3f  active %d/%d  %.1f shapes/s\n",
                   epoch + 1, o.epochs, sum_loss / n, sum_cd / n, sum_kl / n, st.chamfer_x1e3, st.fscore, st.active,
                   c->latent, steps_per_epoch * B / seconds);
            fflush(stdout);   /* progress reaches a log file as it happens, not at exit */
        }
        if ((epoch + 1) % o.save_every == 0 || epoch + 1 == o.epochs) {
            opts_text(&o, epoch + 1, text, sizeof text);
            snprintf(path, sizeof path, "%s/last.ckpt", o.out);
            if (atlas_save(&m, path, text, 1, err)) { fprintf(stderr, "mache train: %s\n", err); status = 1; goto done; }
        }
    }
    opts_text(&o, o.epochs, text, sizeof text);
    snprintf(path, sizeof path, "%s/model.ckpt", o.out);
    if (atlas_save(&m, path, text, 0, err)) { fprintf(stderr, "mache train: %s\n", err); status = 1; goto done; }
    printf("trained %d epochs in %.1f s: chamfer_x1e3=%.4f fscore=%.4f active_dims=%d model=%s\n", o.epochs - epochs_done,
           now_seconds() - run_start, st.chamfer_x1e3, st.fscore, st.active, path);
done:
    fclose(log); fclose(kl_log);
    free(order); free(batch); free(test_clouds); free(st.kl_dim);
    mc_dataset_free(&train); mc_dataset_free(&test);
    atlas_free(&m);
    return status;
}
