/* The MPI hooks of `clresnet run` (mpi_hooks.h) in a program built without MPI
 * (CLRN_WITH_MPI=OFF): every process is a job of one rank, and one started by
 * mpirun with several ranks is refused (they would all write the same output). */
#include <stdlib.h>

#include "mpi_hooks.h"

int cli_mpi_start(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *size = getenv("OMPI_COMM_WORLD_SIZE");
  if (size && atoi(size) > 1) {
    cli_error("started by mpirun with %s ranks, but this clresnet was built without MPI: "
              "rebuild with Open MPI installed (CMake option CLRN_WITH_MPI)",
              size);
    return CLI_EXIT_FAILURE;
  }
  return CLI_EXIT_OK;
}

int cli_mpi_rank(void) { return 0; }
int cli_mpi_size(void) { return 1; }
int cli_mpi_local_size(void) { return 1; }

void cli_mpi_devices(cli_devices *devices, bool spec_given) {
  (void)devices;
  (void)spec_given;
}

int cli_mpi_share(int status, cli_paths *inputs, size_t *skipped, long batch) {
  (void)inputs;
  (void)skipped;
  (void)batch;
  return status;
}

bool cli_mpi_owns(size_t k) {
  (void)k;
  return true;
}

int cli_mpi_send(const cli_batch_result *result, int classes) {
  (void)result;
  (void)classes;
  return CLI_EXIT_FAILURE; /* never called: rank 0 sends nothing */
}

int cli_mpi_receive(size_t k, int classes, cli_batch_result *result) {
  (void)k;
  (void)classes;
  (void)result;
  return CLI_EXIT_FAILURE; /* never called: rank 0 owns every batch */
}

void cli_mpi_done(void) {}

int cli_mpi_finish(int status) { return status; }
