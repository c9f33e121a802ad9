/* AtlasNet's own PyTorch names (the 2018 code: AE_AtlasNet and AE_AtlasNet_SPHERE) onto mache's and back,
 * and a model's config read from a state_dict's shapes, so .pth and .safetensors files load like .ckpt. */
#ifndef MACHE_ATLASNET_TORCH_H
#define MACHE_ATLASNET_TORCH_H
#include "models/atlasnet.h"
#include "nn/interop.h"

typedef enum { ATLAS_LAYOUT_ATLASNET, ATLAS_LAYOUT_MACHE } atlas_layout;

/* Any checkpoint file by extension (.ckpt, .pth/.pt, .safetensors). A PyTorch or safetensors file gets
 * mache's names (AtlasNet's are recognised and mapped) and, when it carries no mache config, one made from
 * its shapes; what was skipped goes to notes (may be NULL), one line each. */
int  atlas_ckpt_read(const char *path, mc_ckpt *c, FILE *notes, char *err);

/* In place: a "module." prefix stripped; encoder.0.convN/bnN -> encoder.convN/bnN, encoder.1 -> encoder.fc,
 * encoder.2 -> encoder.bn_fc; Conv1d weights (out, in, 1) -> (out, in); encoder.0.stn.* (the spatial
 * transformer, unused with trans=False) and num_batches_tracked dropped. mache's own names pass through. */
int  atlas_names_from_torch(mc_ckpt *c, FILE *notes, char *err);
/* Latent size, widths, patches and template from mache-named shapes; points 2500 (AtlasNet's). */
int  atlas_config_from_shapes(const mc_ckpt *c, atlas_config *cfg, char *err);

/* The model's tensors as entries that point into it (free with mc_ckpt_free; the model must outlive them).
 * The AtlasNet layout adds what AE_AtlasNet has and mache does not (zero STN weights, num_batches_tracked
 * 0) so that load_state_dict(strict=True) accepts it; what AtlasNet cannot represent goes to notes. */
void atlas_export(const atlasnet *m, atlas_layout layout, mc_ckpt *out, FILE *notes);
/* Saves by extension: .ckpt as atlas_save (no optimizer state), .pth or .safetensors in the layout. */
int  atlas_save_as(atlasnet *m, const char *path, atlas_layout layout, FILE *notes, char *err);

#endif
