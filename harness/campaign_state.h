/* What a campaign has done so far, from its results directory: which Slurm job last ran
 * each task (RESULTS/campaign.state, written by `campaign submit`) and what each task
 * left behind (its complete database, its exit status, its logs). */
#ifndef HARNESS_CAMPAIGN_STATE_H
#define HARNESS_CAMPAIGN_STATE_H

#include <stdbool.h>

#include "campaign.h"

struct campaign_state {
    char task_job[CAMPAIGN_MAX_TASKS][24];   /* array job id, "" when never submitted */
    char finish_job[24];                     /* the merge-and-report job */
};

/* A missing state file is an empty state (never submitted). Errors: VMM_EXIT_CONFIG when
 * the file does not parse. */
int campaign_state_read(const struct campaign *c, struct campaign_state *s, struct vmm_err *e);
/* Written whole to a temporary file and renamed, so a reader never sees half of it. */
int campaign_state_write(const struct campaign *c, const struct campaign_state *s,
                         struct vmm_err *e);

/* Task i is done when its complete database exists: the run finished (exit 0, or 1 with
 * failed runs stored with their reason). Anything else is rerun by a resubmit. */
bool campaign_task_done(const struct campaign *c, unsigned i);
/* vmmbench run's exit status for task i as the task recorded it; -1 when none. */
int campaign_task_rc(const struct campaign *c, unsigned i);
/* The last non-empty line of task i's stderr log, "" when none. */
void campaign_task_last_err(const struct campaign *c, unsigned i, char *buf, size_t cap);

/* Runs task i here: removes what an earlier attempt left, runs `vmmbench run` into the
 * partial database, records its exit status, and renames the database complete when the
 * run finished. *rc is vmmbench run's exit status. to_logs: its output goes to the task's
 * log files, as Slurm's --output/--error put it (for `run --local`). */
int campaign_task_run(const struct campaign *c, unsigned i, bool to_logs, int *rc,
                      struct vmm_err *e);

#endif
