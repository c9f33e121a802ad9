/* The `mache` subcommands. Each takes argc/argv starting at its own name and returns the exit status:
 * 0 on success, 1 for bad input or usage (after printing one line to stderr). */
#ifndef MACHE_COMMANDS_H
#define MACHE_COMMANDS_H

typedef struct mc_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} mc_command;

int cmd_data(int argc, char **argv);
int cmd_mesh_info(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_reconstruct(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_fit_prior(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int bench_train(int argc, char **argv);      /* mache bench train | chamfer | sample */
int bench_chamfer(int argc, char **argv);
int bench_sample(int argc, char **argv);

#endif
