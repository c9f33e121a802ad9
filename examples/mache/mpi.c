/* The MPI side of data-parallel training (make MPI=1): the library's mc_dist hooks over MPI_COMM_WORLD.
 * Sums are MPI_Allreduce; gradient buckets are MPI_Iallreduce, finished together by MPI_Waitall. */
#include "examples/mache/mpi.h"
#include "autograd/autograd.h"
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct { MPI_Request *req; int n, cap; } pending;    /* the gradient sums started and not waited for */

static int count_of(int64_t n)
{
    if (n > INT_MAX) mc_fatal("mpi: %lld values in one message (at most %d)", (long long)n, INT_MAX);
    return (int)n;
}

static void sum(double *x, int n, void *user)
{
    (void)user;
    MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static void sum_start(float *x, int64_t n, void *user)
{
    (void)user;
    if (pending.n == pending.cap) {
        pending.cap = pending.cap ? 2 * pending.cap : 16;
        pending.req = mc_realloc(pending.req, (size_t)pending.cap * sizeof *pending.req);
    }
    MPI_Iallreduce(MPI_IN_PLACE, x, count_of(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &pending.req[pending.n++]);
    /* Open MPI moves a non-blocking collective on only inside MPI calls: give the earlier ones a push */
    int done;
    MPI_Testall(pending.n, pending.req, &done, MPI_STATUSES_IGNORE);
}

static void sum_wait(void *user)
{
    (void)user;
    MPI_Waitall(pending.n, pending.req, MPI_STATUSES_IGNORE);
    pending.n = 0;
}

static void broadcast(float *x, int64_t n, void *user)
{
    (void)user;
    MPI_Bcast(x, count_of(n), MPI_FLOAT, 0, MPI_COMM_WORLD);
}

int mpi_start(int *argc, char ***argv)
{
    int provided, rank, size;
    /* A rank waiting in a sum polls; by default Open MPI spins, which on a busy or shared machine takes
     * the core from the rank it waits for (the BatchNorm sums make a step wait dozens of times). Measured
     * on 2 loaded cores, cpu preset, 2 ranks: 14-17 shapes/s spinning, 25-26 yielding. A user's setting wins. */
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);   /* OpenMP threads make no MPI call */
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mc_dist d = {rank, size, sum, sum_start, sum_wait, broadcast, NULL};
    mc_ctx_set_dist(mc_ctx_current(), &d);
    if (rank != 0 && !freopen("/dev/null", "w", stdout)) mc_fatal("mpi: rank %d cannot silence its output", rank);
    return rank;
}

int mpi_end(int status)
{
    if (status != 0) {
        /* A failure all ranks see alike (a NaN loss) is reported by rank 0 alone: the others give it a
         * moment to print before their abort would kill it. */
        int rank;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        fflush(stdout);
        fflush(stderr);
        if (rank != 0) sleep(1);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    MPI_Finalize();
    return status;
}
