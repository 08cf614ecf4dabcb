/* A campaign: one INI file naming where to run (Slurm nodes or a partition), what to run
 * (config sets: configs plus workloads or a suite), how often, and the shared results
 * directory. `vmmbench campaign` turns it into tasks, one per (node, config set), each
 * running `vmmbench run` into its own database in the results directory.
 *
 *   [campaign]
 *   name        = nightly          ; required, [A-Za-z0-9_.-]{1,63}
 *   results     = /shared/nightly  ; required; relative paths are from the file's folder
 *   nodes       = n1, n2           ; Slurm node names: one task per node and set
 *   partition   = bench            ; and/or a partition (alone: one task per set, any node)
 *   repetitions = 3                ; vmmbench run --reps (default 3)
 *   timeout     = 60               ; vmmbench run --timeout, seconds (optional)
 *   time_limit  = 30               ; Slurm --time per task, minutes (optional)
 *   tag         = nightly          ; vmmbench run --tag (default: the name)
 *   vmmbench    = /opt/bin/vmmbench ; the program tasks run (default: this one)
 *
 *   [set mem]                      ; one or more config sets
 *   configs   = native             ; names or files, comma-separated (default: built-in)
 *   workloads = tlb:max=1M bw      ; workload specs, space-separated ...
 *   suite     = memory             ; ... or a suite, not both
 *   native    = yes                ; vmmbench run --native
 *
 * Task i runs set i % nsets on node i / nsets. */
#ifndef HARNESS_CAMPAIGN_H
#define HARNESS_CAMPAIGN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm/error.h"

/* Exit status of `vmmbench campaign` when Slurm is missing, refuses a job or still holds
 * the campaign. */
#define CAMPAIGN_EXIT_SCHEDULER VMM_EXIT_SCHEDULER

#define CAMPAIGN_NAME_MAX 64
#define CAMPAIGN_MAX_NODES 64
#define CAMPAIGN_MAX_SETS 32
/* Slurm's default MaxArraySize is 1001: indices 0..1000. */
#define CAMPAIGN_MAX_TASKS 1000
/* The most argv entries one task's `vmmbench run` gets. */
#define CAMPAIGN_MAX_ARGS 160

struct campaign_set {
    char name[CAMPAIGN_NAME_MAX];
    char configs[2048];       /* comma list; files made absolute */
    char workloads[2048];     /* space-separated specs, or "" with suite */
    char suite[CAMPAIGN_NAME_MAX];
    bool native;
};

struct campaign {
    char path[PATH_MAX];      /* the campaign file, absolute */
    char dir[PATH_MAX];       /* its folder */
    char name[CAMPAIGN_NAME_MAX];
    char results[PATH_MAX];   /* absolute */
    char partition[128];
    char nodes[CAMPAIGN_MAX_NODES][128];
    unsigned nnodes;
    unsigned reps;
    char timeout[32];         /* "" when not given */
    unsigned time_limit_min;  /* 0: the partition's limit */
    char tag[CAMPAIGN_NAME_MAX];
    char vmmbench[PATH_MAX];
    struct campaign_set sets[CAMPAIGN_MAX_SETS];
    unsigned nsets;
};

/* Parses and checks the file. Errors: VMM_EXIT_CONFIG with "FILE:LINE: problem; fix". */
int campaign_load(const char *path, struct campaign *c, struct vmm_err *e);

/* How many tasks: nodes x sets (sets alone with a partition and no nodes). */
unsigned campaign_ntasks(const struct campaign *c);
/* Task i's node ("" when any node of the partition will do) and set. */
const char *campaign_task_node(const struct campaign *c, unsigned i);
const struct campaign_set *campaign_task_set(const struct campaign *c, unsigned i);

/* RESULTS/NAME where NAME is a printf format taking the task index (or none). */
void campaign_file(const struct campaign *c, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CAMPAIGN_TASK_DB "task-%u.db"        /* complete: the run finished */
#define CAMPAIGN_TASK_PARTIAL "task-%u.partial.db"
#define CAMPAIGN_TASK_RC "task-%u.rc"        /* vmmbench run's exit status */
#define CAMPAIGN_TASK_OUT "logs/task-%u.out"
#define CAMPAIGN_TASK_ERR "logs/task-%u.err"
#define CAMPAIGN_MERGED_DB "campaign.db"
#define CAMPAIGN_REPORT_DIR "report"
#define CAMPAIGN_STATE "campaign.state"

/* The argv of task i's `vmmbench run` (argv[0] is c->vmmbench), writing into db the
 * partial database. Strings point into c and into store (which must outlive argv). */
struct campaign_argv {
    char *argv[CAMPAIGN_MAX_ARGS + 1];
    char store[4096 + PATH_MAX];
};
int campaign_run_argv(const struct campaign *c, unsigned i, struct campaign_argv *a,
                      struct vmm_err *e);

/* What a vmmbench exit status means, for status lines: "all runs ok", "config error"... */
const char *campaign_exit_meaning(int code);

#endif
