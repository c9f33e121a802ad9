/* mache plot: curves from a training log (log.csv) as a PNG. */
#include "pictures/plot.h"
#include "examples/mache/args.h"
#include "examples/mache/commands.h"
#include "tensor/tensor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *x = NULL, *y = NULL, *title = NULL;
    mc_plot_opts po = {0};
    const mc_opt opts[] = {
        {"out", OPT_STR, &out, "the picture to write (PNG)"},
        {"y", OPT_STR, &y, "columns to plot, comma-separated (default: every numeric column)"},
        {"x", OPT_STR, &x, "the column along the x axis (default: the first)"},
        {"logy", OPT_FLAG, &po.logy, "logarithmic y axis"},
        {"title", OPT_STR, &title, "title above the plot (default: the file's name)"},
        {"width", OPT_INT, &po.width, "width in pixels (default 800)"},
        {"height", OPT_INT, &po.height, "height in pixels (default 500)"},
        {NULL, 0, NULL, NULL}};
    const char *csv = NULL;
    int npos = 0, rc = mc_parse_args(argc, argv, opts, "LOG.csv --out PNG [options]", &csv, 1, &npos);
    if (rc) return rc == 2 ? 0 : 1;
    const char *problem = !out ? "--out PNG is required" : !npos ? "no CSV file (usage: mache plot LOG.csv --out PNG)"
                        : po.width < 0 || po.width > 8192 || po.height < 0 || po.height > 8192 ? "--width and --height must be at most 8192"
                        : NULL;
    if (problem) { fprintf(stderr, "mache plot: %s\n", problem); return 1; }
    po.title = title;

    /* "loss,kld" -> {"loss", "kld"} */
    char *list = NULL;
    const char **cols = NULL;
    int ncols = 0;
    if (y) {
        list = strcpy(mc_malloc(strlen(y) + 1), y);
        cols = mc_malloc(sizeof(char *) * (strlen(y) + 1));
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) cols[ncols++] = tok;
        if (!ncols) { fprintf(stderr, "mache plot: --y expects column names separated by commas\n"); free(list); free(cols); return 1; }
    }
    char err[MC_ERRLEN];
    rc = mc_plot_csv(csv, x, cols, ncols, &po, out, err);
    if (rc) fprintf(stderr, "mache plot: %s\n", err);
    else printf("wrote %s\n", out);
    free(list);
    free(cols);
    return rc ? 1 : 0;
}
