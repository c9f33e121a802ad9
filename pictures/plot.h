/* Line plots of training logs: numeric columns of a CSV file (a header row of names, then one row per
 * epoch) against one of them, with axes, ticks, a grid, a legend and an optional logarithmic y axis. */
#ifndef MACHE_PLOT_H
#define MACHE_PLOT_H
#include "pictures/image.h"

typedef struct mc_plot_opts {
    int width, height;   /* pixels; 0 = 800 x 500 */
    int logy;            /* logarithmic y axis; values <= 0 are left out */
    const char *title;   /* NULL or "": no title (mc_plot_csv uses the file's name) */
} mc_plot_opts;

/* One curve; a NaN in x or y (an empty CSV cell) breaks the line there. */
typedef struct mc_series {
    const char *name;
    const double *x, *y;
    int n;
} mc_series;

/* A new picture of the series in the palette's colours (see pictures/render.h); opts NULL = defaults. */
mc_image *mc_plot(const mc_series *series, int nseries, const char *x_label, const mc_plot_opts *opts);

/* Plots the columns y_columns[0..ny) of csv_path against x_column and writes png_path. x_column NULL
 * means the first column; y_columns NULL means every numeric column but x. Returns 0, or non-zero
 * with one line in err ("FILE:LINE: what is wrong (hint)"). */
int mc_plot_csv(const char *csv_path, const char *x_column, const char *const *y_columns, int ny,
                const mc_plot_opts *opts, const char *png_path, char *err);

#endif
