/* mache over MPI (make MPI=1): every MPI call of the program is in mpi.c. The library gets hooks (an
 * mc_dist on the context, autograd/autograd.h) and makes no MPI call itself. */
#ifndef MACHE_MPI_H
#define MACHE_MPI_H

/* MPI_Init, and with more than one rank the default context's mc_dist; ranks other than 0 write nothing
 * to stdout. Returns this process's rank. */
int mpi_start(int *argc, char ***argv);
/* The end of the program: MPI_Finalize and status; a failed rank (status non-zero), which has printed
 * its message, ends the whole job with MPI_Abort. */
int mpi_end(int status);

#endif
