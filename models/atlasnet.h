/* AtlasNet (Groueix et al. 2018) as an autoencoder or a VAE: a PointNet encoder, and K small MLPs that
 * each fold a 2D square patch (or a sphere) onto the surface. Written in the library's ops. */
#ifndef MACHE_ATLASNET_H
#define MACHE_ATLASNET_H
#include "nn/checkpoint.h"
#include "mesh/mesh.h"
#include "models/vae.h"

typedef struct atlas_config {
    int   vae;              /* 0: autoencoder, 1: VAE (mu and logvar heads) */
    int   points;           /* points per shape, in and out (2500) */
    int   patches;          /* K patch decoders (25) */
    int   latent;           /* latent size (1024) */
    int   enc[3];           /* PointNet widths: 3 -> enc[0] -> enc[1] -> enc[2] (64, 128, 1024) */
    int   dec;              /* first decoder width (2 + latent in the paper); then dec/2, dec/4, 3 */
    int   fc;               /* the FC + BatchNorm (+ ReLU) layer after the max-pool */
    int   relu_end;         /* the ReLU at the end of the encoder */
    int   sphere;           /* template: 0 square [0,1]^2, 1 unit sphere */
    float logvar_init;      /* initial bias of the logvar head: a small variance (exp(-6) ~ 0.0025) */
    int   template_init;    /* 1: the first decoder layer's template half gets its own fan-in (default);
                               0: AtlasNet's init, the whole layer at the fan-in dim + latent */
} atlas_config;

/* "paper" (AtlasNet v1) or "cpu" (the same structure scaled to run each experiment in minutes). */
int  atlas_preset(const char *name, int vae, atlas_config *cfg, char *err);
/* key=value lines (stored in checkpoints) and back. */
void atlas_config_text(const atlas_config *cfg, char *buf, size_t n);
int  atlas_config_parse(const char *text, atlas_config *cfg, char *err);
int  atlas_template_dim(const atlas_config *cfg);

typedef struct patch_decoder {
    mc_linear_layer conv1, conv2, conv3, conv4;    /* "conv" as in AtlasNet: 1x1 convolutions = per point */
    mc_batchnorm_layer bn1, bn2, bn3;
} patch_decoder;

typedef struct atlasnet {
    atlas_config cfg;
    mc_params params;
    mc_linear_layer conv1, conv2, conv3, fc, mu, logvar;
    mc_batchnorm_layer bn1, bn2, bn3, bn_fc;
    patch_decoder *decoder;                         /* cfg.patches of them */
} atlasnet;

void atlas_init(atlasnet *m, const atlas_config *cfg, uint64_t seed);
void atlas_free(atlasnet *m);

/* points (B,N,3) -> pre-latent features; the VAE then gives mu and logvar (B,latent), the AE mu only. */
void       atlas_encode(atlasnet *m, mc_tensor *points, mc_tensor **mu, mc_tensor **logvar);
/* z (B,latent) and template points (B,n,dim) per patch -> surface points (B, K*n, 3). */
mc_tensor *atlas_decode(atlasnet *m, mc_tensor *z, mc_tensor **templates);
/* Random template points for training: n per patch, uniform on the square or the sphere, from rng. */
void       atlas_random_templates(const atlasnet *m, mc_rng *rng, int B, int n, mc_tensor **templates);

/* Losses (models/losses.c). */
typedef struct atlas_loss_opts {
    float kl_weight;        /* the weight on the KL term (after warm-up) */
    float free_bits;        /* nats per latent dimension the KL is not pushed below (0: off) */
    /* Data parallel (total > 0): the points are shapes first.. of a batch of `total` split over the ranks
     * of the context's mc_dist. The noise is drawn for the whole batch and this slice taken, and the losses
     * are this slice's share of the whole batch's means: summed over the ranks they are the one-process
     * losses, and so are the gradients. total 0: the points are the whole batch. */
    int   first, total;
} atlas_loss_opts;

typedef struct atlas_losses {
    mc_tensor *total, *chamfer, *kld;   /* scalars; kld is NULL for the AE */
    mc_tensor *mu, *logvar;             /* (B,latent) */
    mc_tensor *recon;                   /* (B,N,3) */
} atlas_losses;

/* One forward pass of a training step: encode, sample z (the VAE's eps from rng), decode on random
 * template points (from rng), Chamfer (+ weighted KL). */
atlas_losses atlas_forward(atlasnet *m, mc_tensor *points, const atlas_loss_opts *opts, mc_rng *rng);

/* Meshes: every patch's template connectivity on its decoded vertices, merged. resolution is the total
 * number of vertices wanted (AtlasNet uses ~30000 for meshes). z is one latent vector. Runs in eval mode
 * and no-grad; the step memory it uses is given back (a mark), so the caller's step tensors stay valid.
 * The mesh's arrays are the caller's (mc_mesh_free). */
void atlas_mesh(atlasnet *m, const float *z, int resolution, mc_mesh *out, int *patch_of_face);
int  atlas_mesh_faces(const atlasnet *m, int resolution);

/* Keeps one side fixed for transfer learning: "encoder" (the PointNet, the FC and the mu/logvar heads)
 * or "decoder" (every patch decoder). Returns the number of tensors frozen, or -1 for another name. */
int  atlas_freeze(atlasnet *m, const char *part);

/* Checkpoints: the config travels in the file; loading rebuilds the model from it. */
int  atlas_save(atlasnet *m, const char *path, const char *extra_config, int optimizer, char *err);
int  atlas_load(atlasnet *m, const char *path, char *err);

/* Transfer learning: partial load by name with a report. An AE checkpoint into a VAE: the mu head starts
 * as the identity on the AE latent and logvar at cfg.logvar_init, so the VAE starts as that AE. */
int  atlas_init_from(atlasnet *m, const char *path, FILE *report, char *err);

#endif
