/* Helpers the model commands share: loading a checkpoint or a dataset with a one-line error, and a
 * progress bar. The model's own helpers (encoding and decoding in batches, evaluation) are in models/train.h. */
#ifndef MACHE_COMMON_H
#define MACHE_COMMON_H
#include "models/train.h"
#include "datasets/dataset.h"
#include <stdio.h>

/* Each prints "mache CMD: <error>" to stderr and returns non-zero on failure. */
int  load_model(const char *cmd, const char *ckpt, atlasnet *m);
int  open_data(const char *cmd, const char *src, const char *split, int cache_points, uint64_t seed, mc_dataset *ds);

/* Reads a mesh file, samples n points and normalises them to the unit ball. */
int  cloud_from_file(const char *cmd, const char *path, int n, uint64_t seed, float *out);

/* --precision fp32|bf16 for the multiplies (mc_gemm_set_precision); says on stderr when bf16 is emulated */
int  set_precision(const char *cmd, const char *name);

/* "\r  label [=====>     ] 45%  text" on stderr when it is a terminal; nothing otherwise. */
void progress(const char *label, double fraction, const char *text);
void progress_done(void);

#endif
