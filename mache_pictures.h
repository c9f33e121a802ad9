/* mache's pictures layer: RGB images, a PNG writer, a z-buffer rasterizer for meshes and point clouds,
 * contact sheets and plots. Not part of the core library: link with $(pkg-config --libs mache-pictures). */
#ifndef MACHE_PICTURES_H
#define MACHE_PICTURES_H
#include "mache.h"
#include "pictures/image.h"
#include "pictures/png.h"
#include "pictures/render.h"
#include "pictures/plot.h"
#endif
