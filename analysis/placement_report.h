/* Requested vs observed placement, as `vmmbench show` prints it. */
#ifndef ANALYSIS_PLACEMENT_REPORT_H
#define ANALYSIS_PLACEMENT_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct sqlite3;

/* run_id > 0: that run's placement facts, one per line, mismatches marked.
 * run_id == 0: the runs whose placement did not match what they asked, if any.
 * Returns the number of mismatching facts (or runs) printed, -1 on a database error. */
int placement_report_print(struct sqlite3 *db, int64_t run_id, FILE *out);
/* The same as a JSON array: run_id > 0, {"run","kind","subject","moment","requested",
 * "observed","ok"} per fact; 0, {"run","config","workload","mismatch"} per mismatching run.
 * Returns -1 on a database error (after writing a valid, possibly empty, array). */
int placement_report_json(struct sqlite3 *db, int64_t run_id, FILE *out);

#endif
