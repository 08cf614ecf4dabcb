/* `vmmbench show`: per (config, workload, parameters, metric), over the samples that are
 * not warm-up: count, median, p5, p95, unit; as a table or JSON. */
#ifndef ANALYSIS_SUMMARY_H
#define ANALYSIS_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/error.h"

struct sqlite3;

/* run_id > 0: that run only; 0: every run in the database. Failed runs are listed after
 * the table with their status and reason. Errors: VMM_EXIT_USAGE for an unknown run id. */
int summary_print(struct sqlite3 *db, int64_t run_id, bool json, FILE *out, struct vmm_err *e);

#endif
