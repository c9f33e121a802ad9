/* Pictures: the PNG writer (read back with an independent decoder), the rasterizer (coverage, shading,
 * depth), the bitmap font, contact sheets, and plots of CSV logs including malformed ones. */
#include "pictures/plot.h"
#include "pictures/png.h"
#include "pictures/render.h"
#include "tests/harness.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a small PNG reader, written from the specs, that trusts nothing the writer computed ---- */
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

typedef struct bitreader { const uint8_t *p; size_t n, pos; int bad; } bitreader;

static int bit(bitreader *b)
{
    if (b->pos >= 8 * b->n) { b->bad = 1; return 0; }
    int v = b->p[b->pos / 8] >> (b->pos % 8) & 1;
    b->pos++;
    return v;
}

static int bits(bitreader *b, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) v |= bit(b) << i;
    return v;
}

/* The fixed literal/length code, read most significant bit first. */
static int fixed_symbol(bitreader *b)
{
    int code = 0;
    for (int len = 1; len <= 9 && !b->bad; len++) {
        code = code << 1 | bit(b);
        if (len == 7 && code <= 23) return 256 + code;
        if (len == 8 && code >= 0x30 && code <= 0xbf) return code - 0x30;
        if (len == 8 && code >= 0xc0 && code <= 0xc7) return 280 + code - 0xc0;
        if (len == 9 && code >= 0x190) return 144 + code - 0x190;
    }
    return -1;
}

/* zlib stream -> bytes; handles stored and fixed-Huffman blocks. Returns NULL on any error. */
static uint8_t *inflate_zlib(const uint8_t *in, size_t n, size_t *out_len)
{
    static const int lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const int lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const int dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const int dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    if (n < 6 || (in[0] & 15) != 8 || (in[0] * 256 + in[1]) % 31 || (in[1] & 32)) return NULL;
    bitreader b = {in + 2, n - 6, 0, 0};
    size_t cap = 1 << 16, len = 0;
    uint8_t *out = malloc(cap);
    int final = 0;
    while (!final && !b.bad) {
        final = bit(&b);
        int type = bits(&b, 2);
        if (type == 0) {
            b.pos = (b.pos + 7) / 8 * 8;
            int l = bits(&b, 16), nl = bits(&b, 16);
            if ((l ^ 0xffff) != nl) b.bad = 1;
            for (int i = 0; i < l && !b.bad; i++) {
                if (len == cap) out = realloc(out, cap *= 2);
                out[len++] = (uint8_t)bits(&b, 8);
            }
        } else if (type == 1) {
            for (;;) {
                int sym = fixed_symbol(&b);
                if (sym < 0 || sym > 285 || b.bad) { b.bad = 1; break; }
                if (sym == 256) break;
                if (len + 258 >= cap) out = realloc(out, cap *= 2);
                if (sym < 256) { out[len++] = (uint8_t)sym; continue; }
                int l = lbase[sym - 257] + bits(&b, lext[sym - 257]), dsym = 0;
                for (int i = 0; i < 5; i++) dsym = dsym << 1 | bit(&b);
                if (dsym > 29) { b.bad = 1; break; }
                size_t d = (size_t)(dbase[dsym] + bits(&b, dext[dsym]));
                if (d > len) { b.bad = 1; break; }
                for (int i = 0; i < l; i++, len++) out[len] = out[len - d];
            }
        } else {
            b.bad = 1;   /* the writer only makes stored and fixed blocks */
        }
    }
    uint32_t a = 1, s = 0;
    for (size_t i = 0; i < len; i++) { a = (a + out[i]) % 65521; s = (s + a) % 65521; }
    if (b.bad || be32(in + n - 4) != (s << 16 | a)) { free(out); return NULL; }
    *out_len = len;
    return out;
}

/* Reads an 8-bit RGB PNG; counts every structural check with CHECK. Returns the pixels or NULL. */
static uint8_t *read_png(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *file = malloc((size_t)n), *idat = malloc((size_t)n), *pixels = NULL;
    size_t got = fread(file, 1, (size_t)n, f), idat_len = 0;
    fclose(f);
    CHECK(got == (size_t)n && n > 8 && !memcmp(file, "\x89PNG\r\n\x1a\n", 8), "%s: PNG signature", path);
    int crc_ok = 1, chunks = 0, ihdr_ok = 0, iend = 0;
    for (size_t pos = 8; pos + 12 <= (size_t)n && !iend; chunks++) {
        uint32_t len = be32(file + pos);
        if (pos + 12 + len > (size_t)n) { crc_ok = 0; break; }
        const uint8_t *type = file + pos + 4, *data = file + pos + 8;
        crc_ok &= crc_bitwise(type, len + 4) == be32(data + len);
        if (chunks == 0) {
            ihdr_ok = !memcmp(type, "IHDR", 4) && len == 13 && data[8] == 8 && data[9] == 2 && !data[10] && !data[11] && !data[12];
            *w = (int)be32(data);
            *h = (int)be32(data + 4);
        }
        if (!memcmp(type, "IDAT", 4)) { memcpy(idat + idat_len, data, len); idat_len += len; }
        if (!memcmp(type, "IEND", 4)) iend = len == 0 && pos + 12 == (size_t)n;
        pos += 12 + len;
    }
    CHECK(crc_ok, "%s: chunk CRCs", path);
    CHECK(ihdr_ok, "%s: IHDR first, 13 bytes, 8-bit RGB, no interlace", path);
    CHECK(iend, "%s: ends with an empty IEND", path);
    size_t raw_len = 0;
    uint8_t *raw = ihdr_ok ? inflate_zlib(idat, idat_len, &raw_len) : NULL;
    CHECK(raw != NULL, "%s: IDAT inflates, Adler-32 matches", path);
    size_t stride = (size_t)*w * 3;
    if (raw && raw_len == (stride + 1) * (size_t)*h) {
        pixels = malloc(stride * (size_t)*h);
        int filters_ok = 1;
        for (int y = 0; y < *h; y++) {
            const uint8_t *src = raw + y * (stride + 1) + 1;
            uint8_t *row = pixels + y * stride, *up = y ? row - stride : NULL;
            for (size_t i = 0; i < stride; i++) {
                int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = up && i >= 3 ? up[i - 3] : 0;
                int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                int pred[5] = {0, a, b, (a + b) / 2, pa <= pb && pa <= pc ? a : pb <= pc ? b : c};
                int ft = src[-1];
                if (ft > 4) { filters_ok = 0; ft = 0; }
                row[i] = (uint8_t)(src[i] + pred[ft]);
            }
        }
        CHECK(filters_ok, "%s: filter types", path);
    }
    CHECK(pixels != NULL, "%s: decoded size matches IHDR", path);
    free(raw);
    free(file);
    free(idat);
    return pixels;
}

static char tmp_path[256];
static const char *tmp_file(const char *name)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/mache_test_render_%ld_%s", (long)getpid(), name);
    return tmp_path;
}

/* ---- shapes built in memory ---- */
static void add_cube(mc_mesh *m, float cx, float cy, float cz, float half)
{
    static const int quads[6][4] = {{0, 1, 3, 2}, {4, 6, 7, 5}, {0, 4, 5, 1}, {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 5, 7, 3}};
    int v0 = m->nverts;
    m->verts = realloc(m->verts, sizeof(float) * 3 * (size_t)(m->nverts + 8));
    m->faces = realloc(m->faces, sizeof(int) * 3 * (size_t)(m->nfaces + 12));
    for (int i = 0; i < 8; i++) {
        float *v = m->verts + 3 * (v0 + i);
        v[0] = cx + (i & 4 ? half : -half);
        v[1] = cy + (i & 2 ? half : -half);
        v[2] = cz + (i & 1 ? half : -half);
    }
    for (int q = 0; q < 6; q++) {
        int *t = m->faces + 3 * (m->nfaces + 2 * q);
        int a = v0 + quads[q][0], b = v0 + quads[q][1], c = v0 + quads[q][2], d = v0 + quads[q][3];
        t[0] = a; t[1] = b; t[2] = c; t[3] = a; t[4] = c; t[5] = d;
    }
    m->nverts += 8;
    m->nfaces += 12;
}

static void free_mesh(mc_mesh *m)
{
    free(m->verts);
    free(m->faces);
    memset(m, 0, sizeof *m);
}

static const uint8_t white[3] = {255, 255, 255};

static const uint8_t *px(const mc_image *img, int x, int y) { return img->rgb + ((size_t)y * img->w + x) * 3; }
static float lum(const uint8_t *p) { return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]; }

/* Mean luminance of the 5x5 block around (x, y). */
static float lum_at(const mc_image *img, int x, int y)
{
    float s = 0;
    for (int j = -2; j <= 2; j++)
        for (int i = -2; i <= 2; i++) s += lum(px(img, x + i, y + j));
    return s / 25;
}

static int count_not(const mc_image *img, int x0, int y0, int w, int h, const uint8_t rgb[3])
{
    int n = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) n += memcmp(px(img, x, y), rgb, 3) != 0;
    return n;
}

/* ---- the tests ---- */
static void test_png_roundtrip(void)
{
    char err[MC_ERRLEN];
    /* smooth ramps, flat runs and noise: literals, short and long matches all happen */
    mc_image *img = mc_image_new(97, 61);
    uint32_t seed = 12345;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * img->w + x) * 3;
            seed = seed * 1664525u + 1013904223u;
            if (y < 20) { p[0] = (uint8_t)(x * 2); p[1] = (uint8_t)(y * 5); p[2] = (uint8_t)(x + y); }
            else if (y < 40) { p[0] = 200; p[1] = 210; p[2] = 220; }
            else { p[0] = (uint8_t)(seed >> 24); p[1] = (uint8_t)(seed >> 16); p[2] = (uint8_t)(x & 8 ? 0 : 255); }
        }
    const char *path = tmp_file("roundtrip.png");
    CHECK(mc_png_save(path, img, err) == 0, "mc_png_save: %s", err);
    int w = 0, h = 0;
    uint8_t *pixels = read_png(path, &w, &h);
    CHECK(w == 97 && h == 61, "IHDR size %dx%d, want 97x61", w, h);
    CHECK(pixels && !memcmp(pixels, img->rgb, 97 * 61 * 3), "decoded pixels equal the image");
    free(pixels);
    remove(path);

    size_t n;
    uint8_t *png = mc_png_encode(img, &n);
    CHECK(n > 8 && !memcmp(png, "\x89PNG", 4), "mc_png_encode gives a PNG in memory");
    free(png);

    err[0] = 0;
    CHECK(mc_png_save("/nonexistent-dir/x.png", img, err) != 0 && strstr(err, "/nonexistent-dir/x.png"),
          "an unwritable path fails with a message naming it: '%s'", err);
    mc_image_free(img);
}

static void test_cube_shading(void)
{
    mc_mesh cube = {0};
    add_cube(&cube, 0, 0, 0, 0.5f);
    mc_image *img = mc_image_new(128, 128);
    mc_render_opts o = mc_render_defaults();
    mc_render_mesh(img, 0, 0, 128, 128, &cube, NULL, &o);
    float covered = count_not(img, 0, 0, 128, 128, white) / (128.f * 128.f);
    CHECK(covered > 0.2f && covered < 0.6f, "a cube covers %.2f of its cell, want 0.2..0.6", covered);
    CHECK(count_not(img, 0, 0, 128, 4, white) == 0 && count_not(img, 0, 124, 128, 4, white) == 0,
          "the cube stays inside the cell with a margin");
    /* camera at azimuth 45, elevation 25: the top face is seen above the centre, +Z lower left, +X lower right */
    float top = lum_at(img, 64, 40), left = lum_at(img, 45, 74), right = lum_at(img, 83, 74);
    CHECK(top > left && left > right + 5, "lit faces are brighter: top %.0f, left %.0f, right %.0f", top, left, right);
    CHECK(top < 250 && right > 20, "faces are shaded, not white or black: top %.0f, right %.0f", top, right);
    const uint8_t *p = px(img, 64, 40);
    CHECK(p[2] > p[0], "the default colour is grey-blue (got %d,%d,%d)", p[0], p[1], p[2]);

    /* anti-aliasing: some silhouette pixels are a mix of the background and a face */
    int mixed = 0;
    for (int x = 0; x < 128; x++) {
        const uint8_t *q = px(img, x, 64);
        float l = lum(q);
        mixed += memcmp(q, white, 3) && l > lum_at(img, 45, 74) + 10 && l < 250;
    }
    CHECK(mixed >= 1, "the silhouette is anti-aliased (%d mixed pixels on the middle row)", mixed);

    /* orthographic, and the same cube drawn far off centre with fit: still inside its cell */
    mc_image_fill(img, white);
    o.fov = 0;
    mc_render_mesh(img, 0, 0, 128, 128, &cube, NULL, &o);
    covered = count_not(img, 0, 0, 128, 128, white) / (128.f * 128.f);
    CHECK(covered > 0.2f && covered < 0.6f, "orthographic cube covers %.2f", covered);
    for (int i = 0; i < 24; i++) cube.verts[i] = cube.verts[i] * 40 + 100;
    mc_image_fill(img, white);
    o.fit = 1;
    mc_render_mesh(img, 0, 0, 128, 128, &cube, NULL, &o);
    float fitted = count_not(img, 0, 0, 128, 128, white) / (128.f * 128.f);
    CHECK(fitted > 0.2f && fitted < 0.6f, "fit brings a large, far-off cube into view (covers %.2f)", fitted);
    mc_image_free(img);
    free_mesh(&cube);
}

/* frame: a thin plate (a wing, a blade: 1.6 x 0.02 x 0.8, thin along Y) seen from the fixed three-quarter
 * view shows little of itself; framed, the camera turns towards its wide side and its extent fills the
 * cell, still inside the margin. A cube keeps the requested view. */
static void test_frame(void)
{
    mc_mesh plate = {0}, cube = {0};
    add_cube(&plate, 0, 0, 0, 0.5f);
    for (int i = 0; i < plate.nverts; i++) { plate.verts[3 * i] *= 1.6f; plate.verts[3 * i + 1] *= 0.02f; plate.verts[3 * i + 2] *= 0.8f; }
    add_cube(&cube, 0, 0, 0, 0.5f);
    mc_image *img = mc_image_new(128, 128);
    float cover[2][2];
    for (int ortho = 0; ortho < 2; ortho++)
        for (int frame = 0; frame < 2; frame++) {
            mc_render_opts o = mc_render_defaults();
            o.fit = 1;
            o.frame = frame;
            o.fov = ortho ? 0 : o.fov;
            mc_image_fill(img, white);
            mc_render_mesh(img, 0, 0, 128, 128, &plate, NULL, &o);
            cover[ortho][frame] = count_not(img, 0, 0, 128, 128, white) / (128.f * 128.f);
            CHECK(count_not(img, 0, 0, 128, 3, white) == 0 && count_not(img, 0, 125, 128, 3, white) == 0 &&
                  count_not(img, 0, 0, 3, 128, white) == 0 && count_not(img, 125, 0, 3, 128, white) == 0,
                  "the plate stays inside the cell (ortho %d, frame %d)", ortho, frame);
        }
    CHECK(cover[0][1] > 1.8f * cover[0][0] && cover[1][1] > 1.8f * cover[1][0],
          "framed, the plate shows its wide side: covers %.3f vs %.3f (perspective), %.3f vs %.3f (orthographic)",
          cover[0][1], cover[0][0], cover[1][1], cover[1][0]);
    /* a stick (a blade: 0.1 x 1.6 x 0.04) stands upright unframed; framed it lies along the diagonal */
    mc_mesh stick = {0};
    add_cube(&stick, 0, 0, 0, 0.5f);
    for (int i = 0; i < stick.nverts; i++) { stick.verts[3 * i] *= 0.1f; stick.verts[3 * i + 1] *= 1.6f; stick.verts[3 * i + 2] *= 0.04f; }
    int span[2][2];   /* [frame][x or y]: columns and rows the stick reaches */
    for (int frame = 0; frame < 2; frame++) {
        mc_render_opts so = mc_render_defaults();
        so.fit = 1;
        so.frame = frame;
        mc_image_fill(img, white);
        mc_render_mesh(img, 0, 0, 128, 128, &stick, NULL, &so);
        int x0 = 128, x1 = -1, y0 = 128, y1 = -1;
        for (int y = 0; y < 128; y++)
            for (int x = 0; x < 128; x++)
                if (memcmp(px(img, x, y), white, 3)) { x0 = x < x0 ? x : x0; x1 = x > x1 ? x : x1; y0 = y < y0 ? y : y0; y1 = y > y1 ? y : y1; }
        span[frame][0] = x1 - x0 + 1; span[frame][1] = y1 - y0 + 1;
        int top_right = 0;
        for (int y = 0; y < 40; y++) for (int x = 88; x < 128; x++) top_right += memcmp(px(img, x, y), white, 3) != 0;
        if (frame) CHECK(top_right > 0, "the framed stick's end is in the upper right");
    }
    CHECK(span[0][0] < 30 && span[0][1] > 90, "unframed, the stick stands upright: %d x %d pixels", span[0][0], span[0][1]);
    CHECK(span[1][0] > 80 && span[1][1] > 80, "framed, it lies along the diagonal: %d x %d pixels", span[1][0], span[1][1]);
    free_mesh(&stick);

    /* the cube: the same view, so the same picture up to scale; a lit top above the centre as before */
    mc_render_opts o = mc_render_defaults();
    o.fit = o.frame = 1;
    mc_image_fill(img, white);
    mc_render_mesh(img, 0, 0, 128, 128, &cube, NULL, &o);
    float covered = count_not(img, 0, 0, 128, 128, white) / (128.f * 128.f);
    CHECK(covered > 0.35f && covered < 0.8f && count_not(img, 0, 0, 128, 2, white) == 0, "a framed cube covers %.2f", covered);
    CHECK(lum_at(img, 64, 30) > lum_at(img, 83, 84) + 5, "the framed cube is seen from above and the front-right as before");
    mc_image_free(img);
    free_mesh(&plate);
    free_mesh(&cube);
}

static void test_depth(void)
{
    /* a small cube between the eye and a big one: whatever the face order, the near one shows */
    float dir[3] = {0.6409f, 0.4226f, 0.6409f};   /* towards the default camera */
    for (int order = 0; order < 2; order++) {
        mc_mesh m = {0};
        int patch[24];
        for (int k = 0; k < 2; k++) {
            int near = k == order;
            float s = near ? 0.55f : -0.45f;   /* apart along the view axis, so they do not touch */
            add_cube(&m, s * dir[0], s * dir[1], s * dir[2], near ? 0.1f : 0.3f);
            for (int f = 0; f < 12; f++) patch[12 * k + f] = near;   /* palette: 0 blue (far), 1 orange (near) */
        }
        mc_image *img = mc_image_new(96, 96);
        mc_render_mesh(img, 0, 0, 96, 96, &m, patch, NULL);
        const uint8_t *c = px(img, 48, 48), *side = px(img, 48, 36);
        CHECK(c[0] > c[2] + 40, "order %d: the near (orange) cube hides the far one at the centre (%d,%d,%d)", order, c[0], c[1], c[2]);
        CHECK(side[2] > side[0], "order %d: the far (blue) cube shows around it (%d,%d,%d)", order, side[0], side[1], side[2]);
        mc_image_free(img);
        free_mesh(&m);
    }
    /* the same for splats of a point cloud */
    float pts[6] = {0.5f * dir[0], 0.5f * dir[1], 0.5f * dir[2], -0.5f * dir[0], -0.5f * dir[1], -0.5f * dir[2]};
    for (int order = 0; order < 2; order++) {
        float v[6];
        memcpy(v, pts + 3 * order, 3 * sizeof(float));
        memcpy(v + 3, pts + 3 * (1 - order), 3 * sizeof(float));
        int patch[2] = {order ? 0 : 1, order ? 1 : 0};   /* the near point is orange */
        mc_mesh cloud = {v, NULL, 2, 0};
        mc_render_opts o = mc_render_defaults();
        o.point_radius = 0.1f;
        mc_image *img = mc_image_new(64, 64);
        mc_render_mesh(img, 0, 0, 64, 64, &cloud, patch, &o);
        const uint8_t *c = px(img, 32, 32);
        CHECK(c[0] > c[2] + 40, "order %d: the near splat covers the far one (%d,%d,%d)", order, c[0], c[1], c[2]);
        mc_image_free(img);
    }
}

static void test_points_and_wire(void)
{
    /* a point cloud of 500 points on the sphere: drawn, and shaded like small balls */
    mc_mesh sphere = {0};
    mc_mesh_icosphere(3, &sphere);
    CHECK(sphere.nverts == 642 && sphere.nfaces == 1280, "icosphere: %d verts, %d faces", sphere.nverts, sphere.nfaces);
    mc_mesh cloud = {sphere.verts, NULL, 500, 0};
    mc_image *img = mc_image_new(96, 96);
    mc_render_mesh(img, 0, 0, 96, 96, &cloud, NULL, NULL);
    int drawn = count_not(img, 0, 0, 96, 96, white);
    CHECK(drawn > 96 * 96 / 10, "the point cloud covers %d pixels", drawn);

    /* wire: with two patches (hemispheres), only the equator is drawn dark */
    int *patch = malloc(sizeof(int) * (size_t)sphere.nfaces);
    for (int f = 0; f < sphere.nfaces; f++) {
        const int *t = sphere.faces + 3 * f;
        patch[f] = sphere.verts[3 * t[0] + 1] + sphere.verts[3 * t[1] + 1] + sphere.verts[3 * t[2] + 1] > 0;
    }
    int dark[3];
    for (int mode = 0; mode < 3; mode++) {   /* no wire; patch borders; every edge */
        mc_render_opts o = mc_render_defaults();
        o.wire = mode > 0;
        mc_image_fill(img, white);
        mc_render_mesh(img, 0, 0, 96, 96, &sphere, mode == 1 ? patch : NULL, &o);
        dark[mode] = 0;
        for (int i = 0; i < 96 * 96; i++) dark[mode] += lum(img->rgb + 3 * i) < 40;
    }
    CHECK(dark[0] == 0 && dark[1] > 30 && dark[2] > 4 * dark[1], "dark wire pixels: none %d, borders %d, all edges %d",
          dark[0], dark[1], dark[2]);

    /* smooth shading differs from facets and has no hard steps between neighbours */
    mc_render_opts o = mc_render_defaults();
    mc_image_fill(img, white);
    mc_render_mesh(img, 0, 0, 96, 96, &sphere, NULL, &o);
    mc_image *smooth = mc_image_new(96, 96);
    o.smooth = 1;
    mc_render_mesh(smooth, 0, 0, 96, 96, &sphere, NULL, &o);
    CHECK(memcmp(img->rgb, smooth->rgb, 96 * 96 * 3) != 0, "smooth shading changes the picture");
    float step = 0;
    for (int x = 30; x < 66; x++) step = fmaxf(step, fabsf(lum(px(smooth, x + 1, 48)) - lum(px(smooth, x, 48))));
    CHECK(step < 12, "smooth shading: largest step between neighbours %.1f", step);

    int pieces[24];
    mc_mesh two = {0};
    add_cube(&two, -0.5f, 0, 0, 0.2f);
    add_cube(&two, 0.5f, 0, 0, 0.2f);
    CHECK(mc_mesh_pieces(&two, pieces) == 2 && pieces[0] == 0 && pieces[11] == 0 && pieces[12] == 1 && pieces[23] == 1,
          "mc_mesh_pieces finds the two cubes");
    free_mesh(&two);
    mc_image_free(smooth);
    mc_image_free(img);
    free(patch);
    free_mesh(&sphere);
}

/* Diverged models write NaN and huge coordinates: the picture must still come out, never a crash. */
static void test_bad_geometry(void)
{
    float v[18] = {0, 0, 0, 0.5f, 0, 0, 0, 0.5f, 0,   /* one good triangle */
                   NAN, 0, 0, 1e30f, -1e30f, 0, INFINITY, 0, 1e20f};
    int faces[12] = {0, 1, 2, 3, 4, 5, 0, 4, 5, 1, 2, 4};
    mc_mesh m = {v, faces, 6, 4}, cloud = {v, NULL, 6, 0}, empty = {NULL, NULL, 0, 0};
    mc_image *img = mc_image_new(64, 64);
    for (int fit = 0; fit < 2; fit++) {
        mc_render_opts o = mc_render_defaults();
        o.fit = fit;
        o.wire = 1;
        o.smooth = 1;
        mc_render_mesh(img, 0, 0, 64, 64, &m, NULL, &o);
        mc_render_mesh(img, 0, 0, 64, 64, &cloud, NULL, &o);
        mc_render_mesh(img, -30, 40, 64, 64, &m, NULL, &o);   /* partly outside the picture */
    }
    mc_render_mesh(img, 0, 0, 64, 64, &empty, NULL, NULL);
    mc_draw_line(img, -1e30f, 5, 1e30f, 5, 2, white);
    mc_draw_line(img, NAN, 5, 10, 5, 2, white);
    mc_image_fill(img, white);
    mc_render_mesh(img, 0, 0, 64, 64, &m, NULL, NULL);
    CHECK(count_not(img, 0, 0, 64, 64, white) > 50, "the finite triangle is drawn among broken ones");
    mc_image_free(img);
}

static void test_text_and_sheet(void)
{
    static const uint8_t black[3] = {0, 0, 0};
    mc_image *img = mc_image_new(40, 30);
    int w = mc_draw_text(img, 2, 2, 2, "A", black);
    CHECK(w == 10 && mc_text_width("AB", 2) == 22, "text widths: %d and %d", w, mc_text_width("AB", 2));
    CHECK(count_not(img, 0, 0, 40, 30, white) == 18 * 4, "'A' at scale 2 sets 18 glyph pixels as 2x2 blocks (got %d)",
          count_not(img, 0, 0, 40, 30, white));
    mc_image_fill(img, white);
    mc_draw_text(img, 2, 2, 1, " ", black);
    CHECK(count_not(img, 0, 0, 40, 30, white) == 0, "a space draws nothing");
    mc_draw_text(img, 2, 2, 1, "\xe9", black);
    int q = count_not(img, 0, 0, 40, 30, white);
    mc_image_fill(img, white);
    mc_draw_text(img, 2, 2, 1, "?", black);
    CHECK(q > 0 && q == count_not(img, 0, 0, 40, 30, white), "a byte outside ASCII draws as '?'");
    mc_draw_text(img, 30, 25, 3, "clipped", black);   /* must not write outside the image */
    mc_image_free(img);

    mc_sheet s;
    mc_sheet_init(&s, 5, 3, 64, 1);
    CHECK(s.rows == 2 && s.img->w == 3 * 64 + 4 * s.gap && s.img->h == 2 * (64 + s.label_h) + 3 * s.gap,
          "sheet of 5 in rows of 3: %dx%d", s.img->w, s.img->h);
    mc_mesh cube = {0};
    add_cube(&cube, 0, 0, 0, 0.5f);
    mc_render_opts o = mc_render_defaults();
    memcpy(o.color, mc_color_recon, 3);
    mc_sheet_draw(&s, 4, &cube, NULL, &o, "a_rather_long_label_for_a_small_cell");
    int x = s.gap + 64 + s.gap, y = 2 * s.gap + 64 + s.label_h;
    const uint8_t *c = px(s.img, x + 32, y + 20);
    CHECK(c[0] > c[2] + 60, "the cube in cell 4 is orange (%d,%d,%d)", c[0], c[1], c[2]);
    CHECK(count_not(s.img, x, y + 64, 64, s.label_h, white) > 20, "a label is written under cell 4");
    CHECK(count_not(s.img, x + 64 + s.gap, y, 64, 64, white) == 0, "the unused sixth cell stays blank");
    CHECK(count_not(s.img, s.gap, s.gap, 64, 64, white) == 0, "an undrawn first cell stays blank");
    CHECK(lum(px(s.img, x + 1, y + 1)) > 230 && memcmp(px(s.img, x + 1, y + 1), white, 3), "a drawn cell has a light panel");
    const char *path = tmp_file("sheet.png");
    char err[MC_ERRLEN];
    CHECK(mc_png_save(path, s.img, err) == 0, "saving the sheet: %s", err);
    int pw, ph;
    uint8_t *back = read_png(path, &pw, &ph);
    CHECK(back && pw == s.img->w && ph == s.img->h && !memcmp(back, s.img->rgb, (size_t)pw * ph * 3),
          "a rendered sheet survives the PNG round trip");
    free(back);
    remove(path);
    mc_sheet_free(&s);
    free_mesh(&cube);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fputs(text, f);
    return fclose(f);
}

static void test_plot(void)
{
    char err[MC_ERRLEN], csv[256], png[256];
    snprintf(csv, sizeof csv, "%s", tmp_file("log.csv"));
    snprintf(png, sizeof png, "%s", tmp_file("plot.png"));
    write_file(csv, "epoch,loss,chamfer,kld,split\n1,5.0,4.0,0.5,train\n2,3.0,2.5,0.9,train\n3,2.0,1.5,,train\n4,1.6,1.2,1.3,train\n");
    CHECK(mc_plot_csv(csv, NULL, NULL, 0, NULL, png, err) == 0, "plot every numeric column: %s", err);
    int w, h;
    uint8_t *pixels = read_png(png, &w, &h);
    CHECK(pixels && w == 800 && h == 500, "the plot is an 800x500 PNG (%dx%d)", w, h);
    int coloured = 0;   /* curve pixels: clearly not grey */
    for (int i = 0; pixels && i < w * h; i++) {
        const uint8_t *p = pixels + 3 * i;
        int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
        int mn = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
        coloured += mx - mn > 60;
    }
    CHECK(coloured > 500, "the plot has coloured curves (%d pixels)", coloured);
    free(pixels);

    const char *ys[] = {"loss", "kld"};
    mc_plot_opts o = {.width = 400, .height = 300, .logy = 1, .title = "log y"};
    CHECK(mc_plot_csv(csv, "epoch", ys, 2, &o, png, err) == 0, "log-y plot of two columns: %s", err);
    pixels = read_png(png, &w, &h);
    CHECK(pixels && w == 400 && h == 300, "the requested size (%dx%d)", w, h);
    free(pixels);

    const char *missing[] = {"loss", "nope"};
    CHECK(mc_plot_csv(csv, NULL, missing, 2, NULL, png, err) != 0 && strstr(err, "'nope'") && strstr(err, "chamfer"),
          "a missing column is named, with the columns there are: '%s'", err);
    const char *text[] = {"split"};
    CHECK(mc_plot_csv(csv, NULL, text, 1, NULL, png, err) != 0 && strstr(err, ":2:") && strstr(err, "'train'"),
          "a text column asked for by name: '%s'", err);

    struct { const char *text, *want; } bad[] = {
        {"epoch,loss\n1,0.5\n2,0.4,7\n", ":3:"},            /* too many fields */
        {"epoch,loss\n1,0.5\n\n2\n", ":4:"},                /* too few, after a blank line */
        {"epoch,loss\n1,0.5\n2,0.4\n3,oops\n", ":4:"},      /* a number column turns to text */
        {"epoch,\"loss\n1,2\n", ":1:"},                     /* an unclosed quote */
        {"1,0.5\n2,0.4\n", ":1:"},                          /* no header */
        {"epoch,loss\n", "no data"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(csv, bad[i].text);
        err[0] = 0;
        int rc = mc_plot_csv(csv, NULL, NULL, 0, NULL, png, err);
        CHECK(rc != 0 && !strncmp(err, csv, strlen(csv)) && strstr(err, bad[i].want) && !strchr(err, '\n'),
              "malformed CSV %zu: want '%s' in one line starting with the path, got '%s'", i, bad[i].want, err);
    }
    write_file(csv, "\xef\xbb\xbf\"epoch\", \"loss, total\"\r\n1, 0.5\r\n2, \r\n3, 0.25\r\n\r\n");
    CHECK(mc_plot_csv(csv, NULL, NULL, 0, NULL, png, err) == 0, "BOM, quotes, CRLF, an empty cell and a blank line: %s", err);
    CHECK(mc_plot_csv(tmp_file("absent.csv"), NULL, NULL, 0, NULL, png, err) != 0 && strstr(err, "absent.csv"),
          "a missing file: '%s'", err);
    remove(csv);
    remove(png);
}

int main(void)
{
    test_png_roundtrip();
    test_cube_shading();
    test_frame();
    test_depth();
    test_points_and_wire();
    test_bad_geometry();
    test_text_and_sheet();
    test_plot();
    return test_summary("test_render");
}
