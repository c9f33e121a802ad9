/* mache info: what a checkpoint holds. */
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "models/atlasnet_torch.h"
#include <string.h>

int cmd_info(int argc, char **argv)
{
    const mc_opt opts[] = {{0}};
    const char *pos[1];
    int npos, r = mc_parse_args(argc, argv, opts, "CKPT", pos, 1, &npos);
    if (r) return r == 2 ? 0 : 1;
    if (npos != 1) { fprintf(stderr, "mache info: give one checkpoint file (mache info CKPT)\n"); return 1; }
    mc_ckpt c;
    char err[MC_ERRLEN];
    if (atlas_ckpt_read(pos[0], &c, stdout, err)) { fprintf(stderr, "mache info: %s\n", err); return 1; }
    int kind = mc_tensor_file_kind(pos[0]);
    if (kind == MC_FILE_CKPT) printf("%s: mache checkpoint version %d\nconfig:\n", pos[0], MC_CKPT_VERSION);
    else printf("%s: %s, in mache's names\nconfig:\n", pos[0], kind == MC_FILE_TORCH ? "PyTorch state_dict" : "safetensors");
    for (const char *line = c.config; *line;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        if (strncmp(line, "optim.", 6)) printf("  %.*s\n", len, line);   /* not the optimizer's step counts */
        line += len + (end ? 1 : 0);
    }
    int64_t params = 0, optimizer = 0;
    int shown = 0;
    printf("tensors:\n");
    for (int k = 0; k < c.n; k++) {
        const mc_ckpt_entry *e = &c.entries[k];
        if (!strncmp(e->name, "optim.", 6)) { optimizer += e->size; continue; }
        params += e->size;
        char shape[64];
        mc_tensor t = {.ndim = e->ndim};
        memcpy(t.shape, e->shape, sizeof t.shape);
        printf("  %-40s %s\n", e->name, mc_shape_str(&t, shape, sizeof shape));
        shown++;
    }
    char epoch[32];
    printf("%d tensors, %lld values (%.1f MiB)%s; epoch %s\n", shown, (long long)params, params * 4.0 / (1 << 20),
           optimizer ? ", with optimizer state" : "", mc_ckpt_config_get(c.config, "epoch", epoch, sizeof epoch) ? epoch : "?");
    mc_ckpt_free(&c);
    return 0;
}
