/* mache: everything an outside program needs, in layer order. With pkg-config:
 *   cc prog.c $(pkg-config --cflags --libs mache)     and     #include <mache.h> */
#ifndef MACHE_H
#define MACHE_H
#include "tensor/tensor.h"
#include "tensor/gemm.h"
#include "tensor/nearest.h"
#include "autograd/autograd.h"
#include "autograd/ops.h"
#include "nn/nn.h"
#include "nn/checkpoint.h"
#include "data/mesh.h"
#include "data/sample.h"
#include "data/dataset.h"
#include "data/procedural.h"
#include "data/render.h"
#include "data/png.h"
#include "models/atlasnet.h"
#include "models/metrics.h"
#include "models/gmm.h"
#endif
