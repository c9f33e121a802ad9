/* RGB pictures in memory and the few 2D drawing primitives the renderer, contact sheets and plots need:
 * filled rectangles, anti-aliased lines, and a built-in 5x7 bitmap font. */
#ifndef MACHE_IMAGE_H
#define MACHE_IMAGE_H
#include <stdint.h>

typedef struct mc_image {
    int w, h;
    uint8_t *rgb;   /* h rows of w pixels, 3 bytes each, top row first */
} mc_image;

mc_image *mc_image_new(int w, int h);          /* filled with white */
void mc_image_free(mc_image *img);
void mc_image_fill(mc_image *img, const uint8_t rgb[3]);

/* Mixes colour into pixel (x, y) with weight alpha in [0, 1]; pixels outside the image are ignored. */
void mc_image_blend(mc_image *img, int x, int y, const uint8_t rgb[3], float alpha);
void mc_fill_rect(mc_image *img, int x, int y, int w, int h, const uint8_t rgb[3]);
/* A line of the given width (pixels) between points in pixel coordinates, with soft edges. */
void mc_draw_line(mc_image *img, float x0, float y0, float x1, float y1, float width, const uint8_t rgb[3]);

/* Text in a 5x7 font with descenders (printable ASCII; anything else shows as '?'), each font pixel
 * drawn as a scale x scale block; (x, y) is the top-left corner. Returns the width drawn, in pixels. */
enum { MC_FONT_W = 5, MC_FONT_H = 9, MC_FONT_ADVANCE = 6 };   /* a line of text is MC_FONT_H * scale high */
int mc_draw_text(mc_image *img, int x, int y, int scale, const char *text, const uint8_t rgb[3]);
int mc_text_width(const char *text, int scale);

#endif
