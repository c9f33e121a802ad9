/* Option parsing shared by every subcommand: --name VALUE or --name=VALUE, flags, positional arguments,
 * and --help generated from the table. */
#ifndef MACHE_ARGS_H
#define MACHE_ARGS_H

typedef enum { OPT_STR, OPT_INT, OPT_FLOAT, OPT_FLAG } mc_opt_type;

typedef struct mc_opt {
    const char *name;       /* without the dashes: "epochs" */
    mc_opt_type type;
    void       *dst;        /* const char **, int *, float *, or int * (flag set to 1) */
    const char *help;
} mc_opt;

/* Parses argv[1..] (argv[0] is the command name). Positional arguments are collected in order into
 * pos (room for maxpos). Returns 0 to go on, 1 after printing a one-line error, 2 after printing help;
 * a caller does `if (r) return r == 2 ? 0 : 1;`. */
int mc_parse_args(int argc, char **argv, const mc_opt *opts, const char *usage,
                  const char **pos, int maxpos, int *npos);

#endif
