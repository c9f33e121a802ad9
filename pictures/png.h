/* PNG files (8-bit RGB) written with the library's own small deflate (LZ77 + the fixed Huffman code),
 * so pictures need nothing beyond libc. */
#ifndef MACHE_PNG_H
#define MACHE_PNG_H
#include "pictures/image.h"
#include <stddef.h>

/* The whole file in memory; *len gets its size. The caller frees the buffer. */
uint8_t *mc_png_encode(const mc_image *img, size_t *len);
/* Writes a temporary file beside path and renames it, so a reader never sees half a picture.
 * Returns 0, or non-zero with one line in err (MC_ERRLEN bytes). */
int mc_png_save(const char *path, const mc_image *img, char *err);

#endif
