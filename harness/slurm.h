/* The Slurm command-line tools, called by fork/exec: sbatch to submit, squeue (and
 * sacct, once squeue has forgotten a job) to read job states. */
#ifndef HARNESS_SLURM_H
#define HARNESS_SLURM_H

#include <stddef.h>

#include "vmm/error.h"

#define SLURM_MAX_ARGS 24

/* Runs `sbatch --parsable ARGS... SCRIPT` and writes the job id it prints into jobid.
 * Errors: CAMPAIGN_EXIT_SCHEDULER naming sbatch's own message. */
int slurm_sbatch(const char *const *args, size_t nargs, const char *script, char *jobid,
                 size_t cap, struct vmm_err *e);

/* One job or array task as Slurm last reported it. */
struct slurm_state {
    char id[48];        /* "JOB" or "JOB_TASK" */
    char state[32];     /* PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ... */
    char reason[96];    /* squeue's reason (Resources, Dependency, ...); "" from sacct */
};

/* Appends the states of job `jobid` (every array task, expanded) to out[*n..cap). A job
 * neither squeue nor sacct knows any more adds nothing. */
int slurm_query(const char *jobid, struct slurm_state *out, size_t cap, size_t *n,
                struct vmm_err *e);

/* Whether a state is final and not a success (CANCELLED, FAILED, TIMEOUT, ...). */
int slurm_state_failed(const char *state);
/* Whether a state is still queued or running. */
int slurm_state_active(const char *state);

#endif
