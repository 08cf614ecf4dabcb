/* Running another program by fork/exec (argv, never a shell string), optionally
 * capturing what it prints: how `vmmbench campaign` calls the Slurm tools and itself. */
#ifndef HARNESS_PROC_H
#define HARNESS_PROC_H

#include <stddef.h>

#include "vmm/error.h"

struct proc_out {
    char *out;        /* stdout, NUL-terminated and truncated to cap; NULL: inherited */
    size_t out_cap;
    char *err;        /* stderr likewise */
    size_t err_cap;
    const char *out_file;   /* or stdout into this file (truncated); NULL: as above */
    const char *err_file;
};

/* Runs argv[0] (looked up in PATH when it has no slash) and waits. *status is the exit
 * code, or 128 + N when signal N ended it. Returns -1 (VMM_EXIT_INTERNAL, or
 * `missing_code` with a message naming the program and `fix` when it is not found or
 * cannot be executed) when it could not start. */
int proc_run(char *const argv[], struct proc_out *io, int *status, int missing_code,
             const char *fix, struct vmm_err *e);

#endif
