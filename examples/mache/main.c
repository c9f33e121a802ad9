/* mache: the command-line program. Dispatches to one subcommand per file in this folder. */
#include "examples/mache/commands.h"
#ifdef MACHE_MPI
#include "autograd/autograd.h"
#include "examples/mache/mpi.h"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const mc_command commands[] = {
    {"data", cmd_data, "write procedural meshes (plane, sword, chair, ...) as OBJ files"},
    {"mesh-info", cmd_mesh_info, "format, vertices, triangles, area and bounding box of mesh files"},
    {"train", cmd_train, "train an AtlasNet AE or VAE"},
    {"eval", cmd_eval, "reconstruction metrics of a model, or generation metrics of a folder"},
    {"reconstruct", cmd_reconstruct, "meshes of a model's reconstructions, beside the inputs"},
    {"sample", cmd_sample, "novel meshes from the learned prior, z ~ N(0, I) or a fitted mixture"},
    {"interpolate", cmd_interpolate, "meshes along the latent line between two shapes"},
    {"fit-prior", cmd_fit_prior, "fit the learned latent prior to a trained model and save it in the checkpoint"},
    {"info", cmd_info, "what a checkpoint holds"},
    {"convert", cmd_convert, "a model between .ckpt, PyTorch .pth and .safetensors"},
    {"render", cmd_render, "a picture (contact sheet) of meshes or point clouds"},
    {"plot", cmd_plot, "curves from a training log (CSV) as a picture"},
    {"bench", cmd_bench, "time the library's kernels (bench gemm)"},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *f)
{
    fprintf(f, "usage: mache COMMAND [options]   (mache COMMAND --help for its options)\n\ncommands:\n");
    for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

static int run(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 1; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mache: unknown command '%s' (try: mache --help)\n", argv[1]);
    return 1;
}

int main(int argc, char **argv)
{
#ifdef _OPENMP
    /* An idle OpenMP thread spins before it sleeps. The runtimes' defaults spin long, which on a busy or
     * shared machine starves everyone, the threads themselves included; not spinning at all costs a little
     * on a quiet one. Measured on 2 cores, cpu-preset training steps, shapes/s:
     *     quiet: default spin 160, short spin 152, passive 134;  loaded: default 10-20, short 53, passive 54-80.
     * So mache asks for a short spin. The runtime reads this when it starts, so set it and start again;
     * any setting of the user's wins. */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT") && !getenv("KMP_BLOCKTIME") &&
        setenv("GOMP_SPINCOUNT", "10000", 1) == 0 && setenv("KMP_BLOCKTIME", "1", 1) == 0)   /* libgomp, libomp */
        execv("/proc/self/exe", argv);   /* on failure, carry on with the defaults */
#endif
#ifdef MACHE_MPI
    /* Under mpirun, train and bench train run data-parallel on every rank; any other command is run
     * by rank 0 alone. */
    int rank = mpi_start(&argc, &argv);
    int parallel = argc >= 2 && (!strcmp(argv[1], "train") || (!strcmp(argv[1], "bench") && argc >= 3 && !strcmp(argv[2], "train")));
    if (!parallel) mc_ctx_set_dist(mc_ctx_current(), NULL);
    return mpi_end(rank == 0 || parallel ? run(argc, argv) : 0);
#else
    return run(argc, argv);
#endif
}
