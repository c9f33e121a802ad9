/* PyTorch checkpoints (.pth/.pt: the zip format of torch >= 1.6 and the legacy format before it) and
 * safetensors files, read into and written from a checkpoint's list of named tensors (mc_ckpt). */
#ifndef MACHE_INTEROP_H
#define MACHE_INTEROP_H
#include "nn/checkpoint.h"

enum { MC_FILE_CKPT, MC_FILE_TORCH, MC_FILE_SAFETENSORS };
/* By extension: .pth .pt -> MC_FILE_TORCH, .safetensors -> MC_FILE_SAFETENSORS, anything else mache's own. */
int mc_tensor_file_kind(const char *path);

/* Readers. Nothing in the file is run; every offset is checked. Each tensor becomes contiguous float32
 * (integer tensors, such as num_batches_tracked, are converted and flagged `integer`); c->config is the
 * mache config the file carries (safetensors' "mache_config" metadata, or the zip's extra record), or NULL. */
int mc_torch_read(const char *path, mc_ckpt *c, char *err);
int mc_torch_parse(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err);
int mc_safetensors_read(const char *path, mc_ckpt *c, char *err);
int mc_safetensors_parse(const char *name, const unsigned char *buf, size_t len, mc_ckpt *c, char *err);
/* Any of the three, by extension. */
int mc_tensors_read(const char *path, mc_ckpt *c, char *err);

/* A whole file, mapped read-only where possible (else read); release with mc_file_unmap. */
const unsigned char *mc_file_map(const char *path, size_t *len, int *mapped, char *err);
void mc_file_unmap(const unsigned char *buf, size_t len, int mapped);
/* 1 if the n bytes can be a name: no control characters (which would break a one-line message). */
int mc_name_ok(const char *s, size_t n);
/* 1 if no name repeats; else 0 with *dup the repeated name. */
int mc_ckpt_names_unique(const mc_ckpt *c, const char **dup);

/* Writers, atomic as mc_ckpt_save: float32 tensors, and int64 for entries flagged `integer`; c->config
 * (when set) travels along. .pth is written in PyTorch's zip format, which torch.load reads. */
int mc_torch_save(const char *path, const mc_ckpt *c, char *err);
int mc_safetensors_save(const char *path, const mc_ckpt *c, char *err);

#endif
