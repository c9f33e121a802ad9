/* mache: the core library, in layer order. With pkg-config:
 *   cc prog.c $(pkg-config --cflags --libs mache)     and     #include <mache.h>
 * Pictures (PNG, the rasterizer, plots) are a layer of their own: #include <mache_pictures.h> and
 * pkg-config mache-pictures. */
#ifndef MACHE_H
#define MACHE_H
#include "tensor/tensor.h"
#include "tensor/gemm.h"
#include "tensor/nearest.h"
#include "autograd/autograd.h"
#include "autograd/ops.h"
#include "autograd/ops_loss.h"
#include "nn/nn.h"
#include "nn/checkpoint.h"
#include "nn/interop.h"
#include "mesh/mesh.h"
#include "mesh/sample.h"
#include "procedural/shapes.h"
#include "datasets/dataset.h"
#include "datasets/gzip.h"
#include "datasets/idx.h"
#include "models/vae.h"
#include "models/atlasnet.h"
#include "models/atlasnet_torch.h"
#include "models/train.h"
#include "models/metrics.h"
#include "models/gmm.h"
#include "models/prior.h"
#endif
