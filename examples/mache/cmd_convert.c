/* mache convert: a model between mache's .ckpt, PyTorch's .pth and .safetensors, by extension. The model
 * is rebuilt and loaded strictly on the way, so what comes out is a whole, consistent AtlasNet. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "models/atlasnet_torch.h"
#include <string.h>

static const char *kind_name(const char *path)
{
    int kind = mc_tensor_file_kind(path);
    return kind == MC_FILE_TORCH ? "PyTorch" : kind == MC_FILE_SAFETENSORS ? "safetensors" : "mache checkpoint";
}

int cmd_convert(int argc, char **argv)
{
    const char *layout = "atlasnet", *pos[2];
    const mc_opt opts[] = {
        {"layout", OPT_STR, &layout, "names written to .pth/.safetensors: atlasnet (AE_AtlasNet's, default) or mache"},
        {0},
    };
    int npos, r = mc_parse_args(argc, argv, opts, "IN OUT   (.ckpt, .pth/.pt or .safetensors, by extension)", pos, 2, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (npos != 2) { fprintf(stderr, "mache convert: give an input and an output file (mache convert IN OUT)\n"); return 1; }
    if (strcmp(layout, "atlasnet") && strcmp(layout, "mache")) {
        fprintf(stderr, "mache convert: --layout is atlasnet or mache, not '%s'\n", layout);
        return 1;
    }
    atlasnet m;
    char err[MC_ERRLEN];
    if (atlas_load(&m, pos[0], err)) { fprintf(stderr, "mache convert: %s\n", err); return 1; }
    atlas_layout lay = strcmp(layout, "mache") ? ATLAS_LAYOUT_ATLASNET : ATLAS_LAYOUT_MACHE;
    if (atlas_save_as(&m, pos[1], lay, stdout, err)) {
        fprintf(stderr, "mache convert: %s\n", err);
        atlas_free(&m);
        return 1;
    }
    int kind = mc_tensor_file_kind(pos[1]);
    printf("%s (%s) -> %s (%s%s%s): %d tensors, %lld values\n", pos[0], kind_name(pos[0]), pos[1], kind_name(pos[1]),
           kind == MC_FILE_CKPT ? "" : ", layout ", kind == MC_FILE_CKPT ? "" : layout, m.params.n,
           (long long)mc_params_count(&m.params, 0));
    atlas_free(&m);
    return 0;
}
