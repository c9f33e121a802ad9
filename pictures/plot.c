#include "pictures/plot.h"
#include "pictures/png.h"
#include "pictures/render.h"
#include "tensor/tensor.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- the picture ---- */
static const uint8_t ink[3] = {50, 50, 56}, axis_grey[3] = {150, 150, 156}, grid_grey[3] = {232, 232, 236},
                     white[3] = {255, 255, 255};

/* Round numbers 1, 2 or 5 times a power of ten, about `want` of them across [lo, hi]. */
static double nice_step(double lo, double hi, int want)
{
    double raw = (hi - lo) / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void format_tick(char *buf, size_t n, double v, double step, int logy)
{
    if (logy) { snprintf(buf, n, "%g", pow(10, v)); return; }
    if (fabs(v) < step * 1e-6) v = 0;   /* no "-0" */
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 6 || fabs(v) >= 1e6) snprintf(buf, n, "%g", v);
    else snprintf(buf, n, "%.*f", decimals, v);
}

/* Tick positions in axis units (log10 of the value on a log axis). */
static int make_ticks(double lo, double hi, int want, int logy, double *ticks, int max, double *step)
{
    int n = 0;
    if (logy) {
        *step = 1;
        for (double d = ceil(lo); d <= hi && n < max; d++) ticks[n++] = d;
        if (n >= 2) return n;
        /* less than two decades: add 2 and 5 times the powers of ten */
        n = 0;
        for (double d = floor(lo); d <= hi && n < max - 3; d++) {
            static const double mult[3] = {1, 2, 5};
            for (int k = 0; k < 3; k++) {
                double t = d + log10(mult[k]);
                if (t >= lo && t <= hi) ticks[n++] = t;
            }
        }
        if (n >= 2) return n;
        /* a narrow log range: fall back to linear ticks of the value, placed on the log axis */
        double vlo = pow(10, lo), vhi = pow(10, hi), s = nice_step(vlo, vhi, want);
        n = 0;
        for (double v = ceil(vlo / s) * s; v <= vhi * (1 + 1e-12) && n < max; v += s)
            if (v > 0) ticks[n++] = log10(v);
        return n;
    }
    *step = nice_step(lo, hi, want);
    for (double v = ceil(lo / *step) * *step; v <= hi + *step * 1e-9 && n < max; v += *step) ticks[n++] = v;
    return n;
}

static int valid(const mc_series *s, int i, int logy)
{
    return isfinite(s->x[i]) && isfinite(s->y[i]) && (!logy || s->y[i] > 0);
}

mc_image *mc_plot(const mc_series *series, int nseries, const char *x_label, const mc_plot_opts *opts)
{
    mc_plot_opts o = opts ? *opts : (mc_plot_opts){0};
    int W = o.width > 0 ? o.width : 800, H = o.height > 0 ? o.height : 500;
    if (W < 200) W = 200;
    if (H < 150) H = 150;
    int sc = W >= 640 && H >= 400 ? 2 : 1;   /* text scale */
    int logy = o.logy;

    /* data ranges, in axis units */
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int s = 0; s < nseries; s++)
        for (int i = 0; i < series[s].n; i++) {
            if (!valid(&series[s], i, logy)) continue;
            double y = logy ? log10(series[s].y[i]) : series[s].y[i];
            xlo = fmin(xlo, series[s].x[i]); xhi = fmax(xhi, series[s].x[i]);
            ylo = fmin(ylo, y); yhi = fmax(yhi, y);
        }
    if (!(xlo <= xhi)) { xlo = 0; xhi = 1; ylo = 0; yhi = 1; }
    if (xhi - xlo <= 1e-12 * fmax(1, fabs(xlo))) { xlo -= 0.5; xhi += 0.5; }
    if (yhi - ylo <= 1e-12 * fmax(1, fabs(ylo))) {
        double pad = logy ? 0.5 : fmax(fabs(ylo) * 0.1, 0.5);
        ylo -= pad; yhi += pad;
    } else {
        double pad = 0.05 * (yhi - ylo);
        ylo -= pad; yhi += pad;
    }

    double xt[32], yt[32], xstep, ystep;
    int nxt = make_ticks(xlo, xhi, 8, 0, xt, 32, &xstep), nyt = make_ticks(ylo, yhi, 6, logy, yt, 32, &ystep);
    char label[64];
    int label_w = 0;
    for (int i = 0; i < nyt; i++) {
        format_tick(label, sizeof label, yt[i], ystep, logy);
        int w = mc_text_width(label, sc);
        if (w > label_w) label_w = w;
    }

    int line_h = MC_FONT_H * sc;
    int left = label_w + 14 * sc, right = W - 14 * sc;
    int top = o.title && *o.title ? line_h + 14 * sc : 10 * sc, bottom = H - (2 * line_h + 14 * sc);
    mc_image *img = mc_image_new(W, H);
    double xscale = (right - left) / (xhi - xlo), yscale = (bottom - top) / (yhi - ylo);
#define PX(x) (left + ((x) - xlo) * xscale)
#define PY(y) (bottom - ((y) - ylo) * yscale)

    /* grid, frame, ticks and their numbers */
    for (int i = 0; i < nxt; i++) {
        int x = (int)lround(PX(xt[i]));
        mc_fill_rect(img, x, top, 1, bottom - top, grid_grey);
        mc_fill_rect(img, x, bottom, 1, 4 * sc, axis_grey);
        format_tick(label, sizeof label, xt[i], xstep, 0);
        mc_draw_text(img, x - mc_text_width(label, sc) / 2, bottom + 6 * sc, sc, label, ink);
    }
    for (int i = 0; i < nyt; i++) {
        int y = (int)lround(PY(yt[i]));
        mc_fill_rect(img, left, y, right - left, 1, grid_grey);
        mc_fill_rect(img, left - 4 * sc, y, 4 * sc, 1, axis_grey);
        format_tick(label, sizeof label, yt[i], ystep, logy);
        mc_draw_text(img, left - 6 * sc - mc_text_width(label, sc), y - 3 * sc, sc, label, ink);
    }
    mc_fill_rect(img, left, top, right - left + 1, 1, axis_grey);
    mc_fill_rect(img, left, bottom, right - left + 1, 1, axis_grey);
    mc_fill_rect(img, left, top, 1, bottom - top, axis_grey);
    mc_fill_rect(img, right, top, 1, bottom - top, axis_grey);
    if (x_label) mc_draw_text(img, (left + right - mc_text_width(x_label, sc)) / 2, H - line_h - 4 * sc, sc, x_label, ink);
    if (o.title && *o.title) mc_draw_text(img, (W - mc_text_width(o.title, sc)) / 2, 6 * sc, sc, o.title, ink);

    /* the curves; markers too when the points are few enough to see */
    float width = 1.25f * sc + 0.25f;
    for (int s = 0; s < nseries; s++) {
        const mc_series *c = &series[s];
        uint8_t rgb[3];
        mc_palette(s, rgb);
        int markers = c->n <= 25;
        for (int i = 0; i < c->n; i++) {
            if (!valid(c, i, logy)) continue;
            float x = (float)PX(c->x[i]), y = (float)PY(logy ? log10(c->y[i]) : c->y[i]);
            if (i + 1 < c->n && valid(c, i + 1, logy))
                mc_draw_line(img, x, y, (float)PX(c->x[i + 1]), (float)PY(logy ? log10(c->y[i + 1]) : c->y[i + 1]), width, rgb);
            if (markers || ((i == 0 || !valid(c, i - 1, logy)) && (i + 1 == c->n || !valid(c, i + 1, logy))))
                mc_draw_line(img, x, y, x, y, 3.0f * width, rgb);
        }
    }

    /* the legend goes where it hides the fewest curve points */
    int name_w = 0, swatch = 18 * sc, pad = 6 * sc, row = line_h + 4 * sc;
    for (int s = 0; s < nseries; s++) {
        int w = mc_text_width(series[s].name ? series[s].name : "", sc);
        if (w > name_w) name_w = w;
    }
    if (nseries > 0) {
        int bw = 3 * pad + swatch + name_w, bh = 2 * pad + nseries * row - 4 * sc;
        int bx = right - 8 * sc - bw, by = top + 8 * sc, best = -1;
        for (int place = 0; place < 6; place++) {   /* right then left; top, bottom, then middle */
            int cx = place & 1 ? left + 8 * sc : right - 8 * sc - bw;
            int cy = place < 2 ? top + 8 * sc : place < 4 ? bottom - 8 * sc - bh : (top + bottom - bh) / 2;
            int hits = 0;
            for (int s = 0; s < nseries; s++)
                for (int i = 0; i + 1 < series[s].n; i++) {
                    if (!valid(&series[s], i, logy) || !valid(&series[s], i + 1, logy)) continue;
                    for (int k = 0; k <= 8; k++) {   /* points along each segment */
                        double t = k / 8.0, x = (1 - t) * series[s].x[i] + t * series[s].x[i + 1];
                        double y = logy ? (1 - t) * log10(series[s].y[i]) + t * log10(series[s].y[i + 1])
                                        : (1 - t) * series[s].y[i] + t * series[s].y[i + 1];
                        hits += PX(x) >= cx - 4 && PX(x) <= cx + bw + 4 && PY(y) >= cy - 4 && PY(y) <= cy + bh + 4;
                    }
                }
            if (best < 0 || hits < best) { best = hits; bx = cx; by = cy; }
        }
        mc_fill_rect(img, bx - 1, by - 1, bw + 2, bh + 2, axis_grey);
        mc_fill_rect(img, bx, by, bw, bh, white);
        for (int s = 0; s < nseries; s++) {
            uint8_t rgb[3];
            mc_palette(s, rgb);
            int y = by + pad + s * row;
            mc_draw_line(img, (float)(bx + pad), y + 0.5f * line_h - sc, (float)(bx + pad + swatch), y + 0.5f * line_h - sc,
                         width, rgb);
            mc_draw_text(img, bx + 2 * pad + swatch, y, sc, series[s].name ? series[s].name : "", ink);
        }
    }
#undef PX
#undef PY
    return img;
}

/* ---- reading the CSV ---- */
typedef struct table {
    int ncols, nrows, cap;
    char **names;
    double **cols;        /* ncols arrays of nrows values; NaN for an empty cell */
    int *bad_line;        /* per column: the first line whose cell is not a number, 0 if none */
    char **bad_text;      /* and that cell */
    uint8_t *had_number;  /* per column: a number came before that line (so the column is numbers, broken) */
} table;

static void table_free(table *t)
{
    for (int c = 0; c < t->ncols; c++) {
        free(t->names[c]);
        free(t->cols[c]);
        free(t->bad_text[c]);
    }
    free(t->names);
    free(t->cols);
    free(t->bad_line);
    free(t->bad_text);
    free(t->had_number);
    memset(t, 0, sizeof *t);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(mc_malloc(n), s, n);
}

/* Splits a line in place at commas. A field may be "quoted", with "" for a quote inside; spaces around
 * fields are dropped. Returns the number of fields, or -1 for a quote that is never closed. */
static int split_fields(char *line, char ***fields, int *cap)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        char *start = p, *w = p;
        if (*p == '"') {
            for (p++;; p++) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') { *w++ = '"'; p++; }
                else if (*p == '"') { p++; break; }
                else *w++ = *p;
            }
            while (*p && *p != ',') p++;   /* anything between the closing quote and the comma is dropped */
        } else {
            while (*p && *p != ',') *w++ = *p++;
            while (w > start && (w[-1] == ' ' || w[-1] == '\t')) w--;
        }
        int more = *p == ',';
        *w = 0;
        if (n == *cap) *fields = mc_realloc(*fields, sizeof(char *) * (size_t)(*cap = *cap ? 2 * *cap : 16));
        (*fields)[n++] = start;
        if (!more) return n;
        p++;
    }
}

static int parse_number(const char *s, double *v)
{
    if (!*s) { *v = NAN; return 1; }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == 0 && end != s;
}

static int read_table(const char *path, table *t, char *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) { mc_set_err(err, "%s: cannot open: %s", path, strerror(errno)); return 1; }
    char *line = NULL, **fields = NULL;
    size_t line_cap = 0;
    int fields_cap = 0, lineno = 0, rc = 0;
    while (getline(&line, &line_cap, f) != -1) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        char *text = line;
        if (lineno == 1 && !strncmp(text, "\xef\xbb\xbf", 3)) text += 3;   /* a UTF-8 byte order mark */
        if (!text[strspn(text, " \t")]) continue;
        int n = split_fields(text, &fields, &fields_cap);
        if (n < 0) { mc_set_err(err, "%s:%d: a quoted field is not closed", path, lineno); rc = 1; break; }
        if (!t->names) {   /* the header */
            int numbers = 0;
            for (int c = 0; c < n; c++) {
                double v;
                if (!*fields[c]) {
                    mc_set_err(err, "%s:%d: column %d has no name (hint: the first row names the columns)", path, lineno, c + 1);
                    rc = 1;
                    break;
                }
                numbers += parse_number(fields[c], &v);
            }
            if (rc) break;
            if (numbers == n) {
                mc_set_err(err, "%s:%d: the first row holds numbers, not column names (hint: add a header row like epoch,loss)",
                           path, lineno);
                rc = 1;
                break;
            }
            t->ncols = n;
            t->names = mc_malloc(sizeof(char *) * (size_t)n);
            t->cols = mc_calloc((size_t)n, sizeof(double *));
            t->bad_line = mc_calloc((size_t)n, sizeof(int));
            t->bad_text = mc_calloc((size_t)n, sizeof(char *));
            t->had_number = mc_calloc((size_t)n, 1);
            for (int c = 0; c < n; c++) t->names[c] = dup_str(fields[c]);
            continue;
        }
        if (n != t->ncols) {
            mc_set_err(err, "%s:%d: %d field%s, but the header names %d columns (hint: every row needs one value per column)",
                       path, lineno, n, n == 1 ? "" : "s", t->ncols);
            rc = 1;
            break;
        }
        if (t->nrows == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 64;
            for (int c = 0; c < t->ncols; c++) t->cols[c] = mc_realloc(t->cols[c], sizeof(double) * (size_t)t->cap);
        }
        for (int c = 0; c < n; c++) {
            if (parse_number(fields[c], &t->cols[c][t->nrows])) {
                if (*fields[c] && !t->bad_line[c]) t->had_number[c] = 1;
                continue;
            }
            t->cols[c][t->nrows] = NAN;
            if (!t->bad_line[c]) { t->bad_line[c] = lineno; t->bad_text[c] = dup_str(fields[c]); }
        }
        t->nrows++;
    }
    if (!rc && ferror(f)) { mc_set_err(err, "%s: read error: %s", path, strerror(errno)); rc = 1; }
    if (!rc && !t->names) { mc_set_err(err, "%s: empty file (hint: expected a header row like epoch,loss and one row per epoch)", path); rc = 1; }
    if (!rc && !t->nrows) { mc_set_err(err, "%s: no data rows after the header", path); rc = 1; }
    free(line);
    free(fields);
    fclose(f);
    if (rc) table_free(t);
    return rc;
}

/* The index of a numeric column, or -1 with a message. */
static int numeric_column(const table *t, const char *path, const char *name, char *err)
{
    int c = 0;
    while (c < t->ncols && strcmp(t->names[c], name)) c++;
    if (c == t->ncols) {
        char list[256] = "";
        for (int k = 0; k < t->ncols; k++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", k ? "," : "", t->names[k]);
        }
        mc_set_err(err, "%s: no column '%s' (columns: %s)", path, name, list);
        return -1;
    }
    if (t->bad_line[c]) {
        mc_set_err(err, "%s:%d: column '%s': '%s' is not a number", path, t->bad_line[c], name, t->bad_text[c]);
        return -1;
    }
    return c;
}

int mc_plot_csv(const char *csv_path, const char *x_column, const char *const *y_columns, int ny,
                const mc_plot_opts *opts, const char *png_path, char *err)
{
    table t;
    if (read_table(csv_path, &t, err)) return 1;
    int rc = 1, n = 0, *idx = mc_malloc(sizeof(int) * (size_t)t.ncols + sizeof(int) * (size_t)(ny > 0 ? ny : 0));
    mc_series *series = NULL;
    int x = numeric_column(&t, csv_path, x_column ? x_column : t.names[0], err);
    if (x < 0) goto done;
    if (y_columns) {
        for (int i = 0; i < ny; i++)
            if ((idx[n++] = numeric_column(&t, csv_path, y_columns[i], err)) < 0) goto done;
    } else {   /* a column of text is left out; a column of numbers with text further down is an error */
        for (int c = 0; c < t.ncols; c++) {
            if (c == x) continue;
            if (t.had_number[c] && numeric_column(&t, csv_path, t.names[c], err) < 0) goto done;
            int finite = 0;
            for (int r = 0; r < t.nrows && !finite; r++) finite = isfinite(t.cols[c][r]);
            if (!t.bad_line[c] && finite) idx[n++] = c;
        }
    }
    if (n == 0) {
        mc_set_err(err, "%s: no numeric column to plot against '%s'", csv_path, t.names[x]);
        goto done;
    }
    series = mc_malloc(sizeof *series * (size_t)n);
    for (int i = 0; i < n; i++) series[i] = (mc_series){t.names[idx[i]], t.cols[x], t.cols[idx[i]], t.nrows};

    mc_plot_opts o = opts ? *opts : (mc_plot_opts){0};
    if (!o.title) {
        const char *slash = strrchr(csv_path, '/');
        o.title = slash ? slash + 1 : csv_path;
    }
    mc_image *img = mc_plot(series, n, t.names[x], &o);
    rc = mc_png_save(png_path, img, err);
    mc_image_free(img);
done:
    free(series);
    free(idx);
    table_free(&t);
    return rc;
}
