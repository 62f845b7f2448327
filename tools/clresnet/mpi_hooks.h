/* `clresnet run` over the ranks of an MPI job (mpirun): the one place that knows
 * about MPI (mpi.c; mpi_none.c when the program is built without it,
 * CLRN_WITH_MPI=OFF). Rank 0 prepares the dataset run (expands the inputs, checks
 * the outputs, reads --resume) and sends the inputs to every rank; the inputs are
 * cut into batches of -b, batch k goes to rank k modulo the ranks, and every rank
 * runs its batches on its own devices (by default the GPU, else the device, whose
 * number is its node-local rank) and sends each batch's results to rank 0, which
 * writes every record in input order and prints the total throughput
 * (dataset_ranks.c). A rank that fails tells rank 0, which says so with how to
 * continue (--resume) and ends the job. */
#ifndef CLRN_TOOLS_MPI_HOOKS_H
#define CLRN_TOOLS_MPI_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "dataset.h"

/** Starts MPI when the program runs as a rank of mpirun (OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK or PMI_RANK set); otherwise a job of one rank. Without MPI support a
 * job of several ranks is refused. Returns CLI_EXIT_OK, or the exit status
 * (printed). */
int cli_mpi_start(int *argc, char ***argv);

/** This process's rank (0 outside MPI). */
int cli_mpi_rank(void);

/** The number of ranks (1 outside MPI). */
int cli_mpi_size(void);

/** The number of ranks on this node (1 outside MPI). */
int cli_mpi_local_size(void);

/** Unless spec_given (-d or CLRN_DEVICE), gives the rank the GPU whose number
 * among the GPUs is its node-local rank (modulo their number), else the device of
 * that number: ranks sharing a node share out its devices. Nothing outside MPI. */
void cli_mpi_devices(cli_devices *devices, bool spec_given);

/** Called by every rank after rank 0 prepared the run with status (CLI_CONTINUE
 * when the run goes on): sends rank 0's status, inputs and count of skipped
 * inputs to the others, which return that status without a word. batch is the
 * batch size the inputs are cut into. Returns the status. */
int cli_mpi_share(int status, cli_paths *inputs, size_t *skipped, long batch);

/** Whether rank owns batch k. */
bool cli_mpi_owns(size_t k);

/** A rank other than 0: sends its results of one batch to rank 0. Returns
 * CLI_EXIT_OK or CLI_EXIT_FAILURE (printed). */
int cli_mpi_send(const cli_batch_result *result, int classes);

/** Rank 0: receives the results of batch k from its rank into result (valid until
 * the next call). When that rank failed, prints which and why and returns
 * CLI_EXIT_FAILURE. */
int cli_mpi_receive(size_t k, int classes, cli_batch_result *result);

/** Marks this rank's part done: every batch sent (or, on rank 0, written). */
void cli_mpi_done(void);

/** Ends MPI with the command's exit status: a rank that stops before its part is
 * done tells rank 0, and rank 0 that stops early ends the whole job (MPI_Abort).
 * Returns status. */
int cli_mpi_finish(int status);

#endif
