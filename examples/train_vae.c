/* train_vae: an AtlasNet VAE trained on procedural swords with the library's own training loop, then a
 * novel sword from z ~ N(0, I) written as a mesh. Only the installed headers:
 *   make install PREFIX=$HOME/.local
 *   cc examples/train_vae.c $(pkg-config --cflags --libs mache) -o train_vae
 *   ./train_vae sword.obj [EPOCHS [PRESET]]        (default 60 epochs of the cpu preset, ~1 minute) */
#include <mache.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "sword.obj", *preset = argc > 3 ? argv[3] : "cpu";
    int epochs = argc > 2 ? atoi(argv[2]) : 60;
    char err[MC_ERRLEN];
    mc_dataset train, test;
    atlas_config cfg;
    if (epochs < 1 || atlas_preset(preset, 1, &cfg, err) ||
        mc_dataset_open(&train, "procedural:sword:64", "train", 4096, 1, err) ||
        mc_dataset_open(&test, "procedural:sword:64", "test", 4096, 1, err)) {
        fprintf(stderr, "train_vae: %s\n", epochs < 1 ? "EPOCHS must be >= 1" : err);
        return 1;
    }
    cfg.logvar_init = -6;                       /* start the posterior narrow: see README, experiment 7 */
    atlasnet m;
    atlas_init(&m, &cfg, 1);

    atlas_train_opts opts = atlas_train_defaults(epochs);   /* KL weight 5e-6 with warm-up: no collapse */
    mc_adam adam = mc_adam_default(opts.lr);
    float *test_clouds = atlas_dataset_clouds(&test, cfg.points, ATLAS_SEED_EVAL_CLOUDS);
    for (int epoch = 0; epoch < epochs; epoch++) {
        atlas_epoch_stats st;
        atlas_eval ev;
        if (atlas_train_epoch(&m, &adam, &train, &opts, epoch, &st, NULL, NULL, err)) {
            fprintf(stderr, "train_vae: %s\n", err);
            return 1;
        }
        atlas_evaluate(&m, test_clouds, test.nshapes, &ev, NULL, NULL);
        printf("epoch %d  loss %.5f  kl %.2f  test chamfer_x1e3 %.3f  active dims %d/%d\n", epoch + 1, st.loss,
               st.kld, ev.chamfer_x1e3, ev.active, cfg.latent);
    }

    mc_rng rng;                                 /* a novel shape: z ~ N(0, I) */
    mc_rng_seed(&rng, 7);
    float *z = malloc((size_t)cfg.latent * sizeof *z);
    mc_rng_fill_normal(&rng, z, cfg.latent, 0, 1);
    mc_mesh mesh;
    atlas_mesh(&m, z, 2500, &mesh, NULL);
    int status = mc_mesh_save(out, &mesh, err);
    if (status) fprintf(stderr, "train_vae: %s\n", err);
    else printf("wrote %s: %d vertices, %d triangles\n", out, mesh.nverts, mesh.nfaces);

    mc_mesh_free(&mesh);
    free(z); free(test_clouds);
    mc_dataset_free(&train); mc_dataset_free(&test);
    atlas_free(&m);
    return status;
}
