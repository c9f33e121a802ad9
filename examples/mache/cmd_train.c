/* mache train: options, logs and checkpoints around the library's training loop (models/train.h).
 * Each epoch reseeds its random generators from (seed, epoch), so a run resumed from the checkpoint of
 * epoch E repeats epoch E+1 exactly. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "examples/mache/cmd_prior.h"
#include "examples/mache/common.h"
#include "models/train.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct train_opts {
    const char *data, *model, *preset, *out, *lr_steps, *template_, *init, *init_from, *freeze, *resume;
    int epochs, batch, seed, patches, latent, points, no_fc, no_relu_end, save_every, cache_points, quiet;
    float lr, kl_weight, kl_warmup, free_bits, logvar_init;
} train_opts;

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

/* Keeps the rows of a log up to epochs_done (a resumed run rewrites the later ones); lines of any length
 * (a per-dimension log of the paper preset's 1024 dimensions is ~8 KB a line). */
static int truncate_log(const char *path, int epochs_done)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *kept = NULL, *line = NULL;
    size_t len = 0, cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (len && atoi(line) > epochs_done) break;     /* the header (len 0) is always kept */
        kept = mc_realloc(kept, len + (size_t)n + 1);
        memcpy(kept + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    free(line);
    fclose(f);
    f = fopen(path, "w");
    if (!f) { free(kept); return 1; }
    if (kept) fputs(kept, f);
    fclose(f);
    free(kept);
    return 0;
}

/* A per-dimension log of the run folder (one row an epoch: epoch, then a value per latent dimension),
 * opened for rank 0; the other ranks write to /dev/null. NULL when it cannot be opened. */
static FILE *open_dims_log(const char *out, const char *name, const char *prefix, int latent, int resume, int lead,
                           int epochs_done)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out, name);
    if (resume && lead) truncate_log(path, epochs_done);
    FILE *f = fopen(lead ? path : "/dev/null", resume ? "a" : "w");
    if (f && !resume) {
        fprintf(f, "epoch");
        for (int d = 0; d < latent; d++) fprintf(f, ",%s%d", prefix, d);
        fprintf(f, "\n");
    }
    return f;
}

static void write_dims(FILE *f, int epoch, const double *v, int latent)
{
    fprintf(f, "%d", epoch);
    for (int d = 0; d < latent; d++) fprintf(f, ",%.4g", v[d]);
    fprintf(f, "\n");
    fflush(f);
}

/* The progress bar's line: the running means and the time left. */
typedef struct progress_ctx { int epochs, quiet; } progress_ctx;

static void show_progress(int epoch, int steps_per_epoch, const atlas_epoch_stats *st, void *ctx)
{
    const progress_ctx *p = ctx;
    if (p->quiet) return;
    double rate = st->shapes / st->seconds;
    double eta = ((double)(p->epochs - epoch) * steps_per_epoch - st->steps) * (st->shapes / st->steps) / rate;
    char line[256], label[64];
    snprintf(line, sizeof line, "loss %.5f  cd %.5f  kl %.2f  %.1f shapes/s  ETA %d:%02d:%02d", st->loss, st->chamfer,
             st->kld, rate, (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60);
    snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, p->epochs);
    progress(label, (double)st->steps / steps_per_epoch, line);
}

static const char *usage = "--data SRC --model ae|vae --preset cpu|paper --out RUNDIR [options]\n"
                           "       mache train --resume RUNDIR [--epochs N]";

int cmd_train(int argc, char **argv)
{
    const char *prior = "flow";
    train_opts o = {.model = "vae", .preset = "cpu", .lr_steps = NULL, .template_ = "square", .init = "template", .epochs = -1, .batch = -1,
                    .seed = 1, .patches = 0, .save_every = 1, .lr = 1e-3f, .kl_weight = 5e-6f, .kl_warmup = 5, .logvar_init = -4};
    const char *precision = "fp32";
    const mc_opt opts[] = {
        {"data", OPT_STR, &o.data, "training shapes: a folder of meshes or procedural:CATEGORY:COUNT[:SEED]"},
        {"model", OPT_STR, &o.model, "ae or vae (default vae)"},
        {"preset", OPT_STR, &o.preset, "cpu or paper (default cpu; tiny for tests)"},
        {"out", OPT_STR, &o.out, "run folder: model.ckpt, last.ckpt, log.csv, kl_dims.csv, mu_var_dims.csv"},
        {"epochs", OPT_INT, &o.epochs, "epochs (preset default: paper 120, cpu 25)"},
        {"batch", OPT_INT, &o.batch, "shapes per step (preset default: paper 32, cpu 16)"},
        {"lr", OPT_FLOAT, &o.lr, "Adam learning rate (default 1e-3)"},
        {"lr-steps", OPT_STR, &o.lr_steps, "epochs at which the rate is divided by 10 (default: paper 100, cpu 20)"},
        {"seed", OPT_INT, &o.seed, "seed for the initial weights, shuffling and sampling (default 1)"},
        {"kl-weight", OPT_FLOAT, &o.kl_weight, "weight of the KL term (VAE; default 5e-6: the KL is summed over the latent dimensions, "
                                             "the Chamfer is a per-point mean ~1e-3; the log's 1 collapses the posterior)"},
        {"kl-warmup", OPT_FLOAT, &o.kl_warmup, "epochs over which the KL weight ramps up from 0 (default 5; 0: none, as in the log)"},
        {"free-bits", OPT_FLOAT, &o.free_bits, "nats per latent dimension left free of KL pressure (default 0)"},
        {"logvar-init", OPT_FLOAT, &o.logvar_init, "start the logvar head at this value (default -4: posterior variance e^-4; 0: PyTorch init, as in the log)"},
        {"no-fc", OPT_FLAG, &o.no_fc, "remove the FC layer between the max-pool and the latent/heads"},
        {"no-relu-end", OPT_FLAG, &o.no_relu_end, "remove the ReLU at the end of the encoder"},
        {"patches", OPT_INT, &o.patches, "number of patch decoders (preset default)"},
        {"latent", OPT_INT, &o.latent, "latent size (preset default)"},
        {"points", OPT_INT, &o.points, "points per shape (preset default)"},
        {"template", OPT_STR, &o.template_, "square or sphere (default square)"},
        {"init", OPT_STR, &o.init, "template or atlasnet: the first decoder layer's template half at its own fan-in, or AtlasNet's init (default template)"},
        {"init-from", OPT_STR, &o.init_from, "start from a checkpoint's matching parameters (AE into VAE works)"},
        {"freeze", OPT_STR, &o.freeze, "encoder or decoder: keep those weights fixed"},
        {"resume", OPT_STR, &o.resume, "continue the run in this folder from its last.ckpt"},
        {"save-every", OPT_INT, &o.save_every, "epochs between checkpoints (default 1)"},
        {"cache-points", OPT_INT, &o.cache_points, "surface points cached per shape (default 8 x points)"},
        {"prior", OPT_STR, &prior, "flow: after the last epoch, fit the learned latent prior into model.ckpt (default); none"},
        {"quiet", OPT_FLAG, &o.quiet, "print only the final line"},
        {"precision", OPT_STR, &precision, "fp32 or bf16: the multiplies' inputs (default fp32; weights, Adam stay fp32)"},
        {0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, usage, pos, 0, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (set_precision("train", precision)) return 1;
    if (strcmp(prior, "flow") && strcmp(prior, "none")) { fprintf(stderr, "mache train: --prior must be flow or none, got '%s'\n", prior); return 1; }

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
        if (o.freeze) atlas_freeze(&m, o.freeze);
        if (!o.quiet) printf("resuming %s after epoch %d of %d\n", o.out, epochs_done, o.epochs);
    } else {
        if (!o.data || !o.out) { fprintf(stderr, "mache train: --data and --out are required (see mache train --help)\n"); return 1; }
        int vae = !strcmp(o.model, "vae");
        if (!vae && strcmp(o.model, "ae")) { fprintf(stderr, "mache train: --model must be ae or vae, got '%s'\n", o.model); return 1; }
        if (strcmp(o.template_, "square") && strcmp(o.template_, "sphere")) {
            fprintf(stderr, "mache train: --template must be square or sphere, got '%s'\n", o.template_);
            return 1;
        }
        if (strcmp(o.init, "template") && strcmp(o.init, "atlasnet")) {
            fprintf(stderr, "mache train: --init must be template or atlasnet, got '%s'\n", o.init);
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
        cfg.template_init = !strcmp(o.init, "template");
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
            int n = atlas_freeze(&m, o.freeze);
            if (!o.quiet) printf("froze %d %s tensors\n", n, o.freeze);
        }
    }
    atlas_train_opts to = {.epochs = o.epochs, .batch = o.batch, .lr = o.lr, .seed = (uint64_t)o.seed,
                           .kl_weight = o.kl_weight, .kl_warmup = o.kl_warmup, .free_bits = o.free_bits};
    if (atlas_parse_lr_steps(o.lr_steps, &to)) {
        fprintf(stderr, "mache train: --lr-steps wants up to %d epochs like 100 or 50,80, got '%s'\n", ATLAS_MAX_LR_STEPS, o.lr_steps);
        atlas_free(&m);
        return 1;
    }
    const atlas_config *c = &m.cfg;
    /* Data parallel (mpirun): every rank trains on its slice of each batch from rank 0's weights; rank 0
     * alone writes the logs, the checkpoints and the progress. */
    const mc_dist *dist = mc_dist_current();
    int lead = !dist || dist->rank == 0;
    mc_params_broadcast(&m.params);
    if (o.cache_points <= 0) o.cache_points = 8 * c->points;

    mc_dataset train, test;
    if (mc_mkdir_p(o.out, err)) { fprintf(stderr, "mache train: %s\n", err); atlas_free(&m); return 1; }
    if (open_data("train", o.data, "train", o.cache_points, (uint64_t)o.seed, &train)) { atlas_free(&m); return 1; }
    if (open_data("train", o.data, "test", o.cache_points, (uint64_t)o.seed, &test)) { mc_dataset_free(&train); atlas_free(&m); return 1; }
    if (train.nshapes < 2) {
        fprintf(stderr, "mache train: %s: only %d training shape (BatchNorm needs 2 or more)\n", o.data, train.nshapes);
        mc_dataset_free(&train); mc_dataset_free(&test); atlas_free(&m);
        return 1;
    }
    int B = o.batch < train.nshapes ? o.batch : train.nshapes;
    float *test_clouds = atlas_dataset_clouds(&test, c->points, ATLAS_SEED_EVAL_CLOUDS);
    if (!o.quiet)
        printf("%s %s: %lld parameters, %d train / %d test shapes, %d points, %d patches, latent %d, batch %d\n",
               c->vae ? "VAE" : "AE", o.preset ? o.preset : "", (long long)mc_params_count(&m.params, 1),
               train.nshapes, test.nshapes, c->points, c->patches, c->latent, B);
    if (!o.quiet && dist) {
        int64_t summed = 0;
        for (int k = 0; k < m.params.n; k++)
            if (m.params.items[k]->trainable && !m.params.items[k]->frozen) summed += m.params.items[k]->t.size;
        char each[32];
        if (B % dist->size) snprintf(each, sizeof each, "%d or %d", B / dist->size, B / dist->size + 1);
        else snprintf(each, sizeof each, "%d", B / dist->size);
        printf("data parallel: %d ranks, %s shapes each per step, %.2f MB of gradients all-reduced per step\n",
               dist->size, each, summed * 4.0 / 1e6);
    }

    snprintf(path, sizeof path, "%s/log.csv", o.out);
    if (o.resume && lead) truncate_log(path, epochs_done);
    FILE *log = fopen(lead ? path : "/dev/null", o.resume ? "a" : "w");
    FILE *kl_log = open_dims_log(o.out, "kl_dims.csv", "kl", c->latent, o.resume != NULL, lead, epochs_done);
    FILE *var_log = open_dims_log(o.out, "mu_var_dims.csv", "var", c->latent, o.resume != NULL, lead, epochs_done);
    if (!log || !kl_log || !var_log) { fprintf(stderr, "mache train: %s: cannot write the logs\n", o.out); return 1; }
    if (!o.resume)
        fprintf(log, "epoch,lr,kl_weight,loss,chamfer,kld,test_chamfer_x1e3,test_fscore,active_dims,seconds,shapes_per_s\n");

    int status = 0, saved_epoch = o.resume ? epochs_done : 0;
    double *kl_dim = mc_calloc((size_t)c->latent, sizeof *kl_dim), *mu_var = mc_calloc((size_t)c->latent, sizeof *mu_var);
    atlas_eval ev = {0};
    mc_adam adam = mc_adam_default(o.lr);
    progress_ctx pc = {o.epochs, o.quiet || !lead};
    double run_start = mc_now_seconds();
    for (int epoch = epochs_done; epoch < o.epochs; epoch++) {
        atlas_epoch_stats st;
        if (atlas_train_epoch(&m, &adam, &train, &to, epoch, &st, show_progress, &pc, err)) {
            progress_done();
            if (lead && saved_epoch > 0)      /* every rank saw the same loss: one message, from rank 0 */
                fprintf(stderr, "mache train: %s; stopped, keeping the last good checkpoint %s/last.ckpt of epoch %d "
                        "(try a lower --lr or --kl-weight)\n", err, o.out, saved_epoch);
            else if (lead)
                fprintf(stderr, "mache train: %s; stopped before any checkpoint was saved (try a lower --lr or --kl-weight)\n", err);
            status = 1;
            goto done;
        }
        atlas_evaluate(&m, test_clouds, test.nshapes, &ev, kl_dim, mu_var);
        progress_done();
        fprintf(log, "%d,%g,%g,%.6f,%.6f,%.4f,%.4f,%.4f,%d,%.2f,%.2f\n", epoch + 1, st.lr, st.kl_weight, st.loss, st.chamfer,
                st.kld, ev.chamfer_x1e3, ev.fscore, ev.active, st.seconds, st.shapes / st.seconds);
        fflush(log);
        write_dims(kl_log, epoch + 1, kl_dim, c->latent);
        write_dims(var_log, epoch + 1, mu_var, c->latent);
        if (!o.quiet) {
            printf("epoch %3d/%d  loss %.5f  chamfer %.5f  kl %.3f  test chamfer_x1e3 %.3f  fscore %.3f  active %d/%d  %.1f shapes/s\n",
                   epoch + 1, o.epochs, st.loss, st.chamfer, st.kld, ev.chamfer_x1e3, ev.fscore, ev.active,
                   c->latent, st.shapes / st.seconds);
            fflush(stdout);   /* progress reaches a log file as it happens, not at exit */
        }
        if ((epoch + 1) % o.save_every == 0 || epoch + 1 == o.epochs) {
            opts_text(&o, epoch + 1, text, sizeof text);
            snprintf(path, sizeof path, "%s/last.ckpt", o.out);
            if (lead && atlas_save(&m, path, text, 1, err)) { fprintf(stderr, "mache train: %s\n", err); status = 1; goto done; }
            saved_epoch = epoch + 1;
        }
    }
    opts_text(&o, o.epochs, text, sizeof text);
    snprintf(path, sizeof path, "%s/model.ckpt", o.out);
    if (lead && atlas_save(&m, path, text, 0, err)) { fprintf(stderr, "mache train: %s\n", err); status = 1; goto done; }
    if (lead && !strcmp(prior, "flow")) {   /* the learned prior over the final model's training latents, saved
                                             * beside it: by rank 0 alone (every rank holds the whole training
                                             * split), as one process, so its Adam steps wait for no other rank */
        atlas_prior p;
        prior_cli_opts po = {.noise = -1, .quiet = 1};
        mc_dist saved = dist ? *dist : (mc_dist){0};
        if (dist) mc_ctx_set_dist(mc_ctx_current(), NULL);
        fit_learned_prior(&m, &train, &po, (uint64_t)o.seed, &p);
        if (saved.size > 1) mc_ctx_set_dist(mc_ctx_current(), &saved);
        status = atlas_save_with_prior(&m, &p, path, text, err);
        atlas_prior_free(&p);
        if (status) { fprintf(stderr, "mache train: %s\n", err); goto done; }
    }
    printf("trained %d epochs in %.1f s: chamfer_x1e3=%.4f fscore=%.4f active_dims=%d model=%s\n", o.epochs - epochs_done,
           mc_now_seconds() - run_start, ev.chamfer_x1e3, ev.fscore, ev.active, path);
done:
    fclose(log); fclose(kl_log); fclose(var_log);
    free(test_clouds); free(kl_dim); free(mu_var);
    mc_dataset_free(&train); mc_dataset_free(&test);
    atlas_free(&m);
    return status;
}
