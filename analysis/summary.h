/* `vmmbench show`: per (host, config, workload, parameters, metric), over the samples
 * that are not warm-up: count, median with its bootstrap 95% CI, p5, p95, mean, sd, p99,
 * min, max and the relative CI half-width, with a note for noisy (> 3.5%), unstable
 * (> 10%) and too small (< 6 samples) results; as a table or JSON. A host column appears
 * when the data comes from more than one host. */
#ifndef ANALYSIS_SUMMARY_H
#define ANALYSIS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/error.h"

struct sqlite3;
struct dataset;
struct ds_group;

/* How the table is laid out (JSON always carries everything):
 *   wide  every column and every parameter; otherwise the columns a reader needs first
 *         (n, median, its CI) and, per workload, only the parameters that differ between
 *         its rows (the ones they share are listed once below), fitted to `width` columns
 *   all   the diagnostic metrics too (the timing floor, cycle twins of ns metrics, the
 *         VMM's own CPU time); otherwise they are counted in a line below the table */
struct summary_opts {
    bool json, wide, all;
    unsigned width;              /* 0: 120 */
};

/* run_id > 0: that run only; 0: every run in the database. Failed runs are listed after
 * the table with their status and reason. Errors: VMM_EXIT_USAGE for an unknown run id. */
int summary_print_opts(struct sqlite3 *db, int64_t run_id, const struct summary_opts *o,
                       FILE *out, struct vmm_err *e);
/* The same, wide and with every metric (or JSON). */
int summary_print(struct sqlite3 *db, int64_t run_id, bool json, FILE *out, struct vmm_err *e);
/* A metric shown only with --all: the analysis's diagnostics (metrics.h: timing_floor,
 * vmm_cpu_*, requests, llc_bytes, ...) and *_cycles. */
bool summary_is_diagnostic(const char *metric);

/* Four significant digits without an exponent for the everyday range; "-" for NaN. */
void summary_fmt_num(double v, char *buf, size_t cap);
/* "h3:hostname" */
void summary_host_label(const struct dataset *ds, int64_t host_id, char *buf, size_t cap);
/* One result as a JSON object (the fields of `show --json`). */
void summary_json_group(const struct dataset *ds, const struct ds_group *g, FILE *out);

#endif
