/* The macro workloads' overhead table: what virtualization costs an application. For
 * every config C whose runs have a native twin C-native (vmmbench run --native), per
 * macro workload and parameters, the ratio guest/native of the headline metric
 * (throughput; above 1 impossible in principle, below 1 the cost) with its 95% CI, p and
 * verdict, all from compare_datasets (the run is the unit, as everywhere). Printed by
 * `show`, headlined by `report`, drawn by `plot`. */
#ifndef ANALYSIS_OVERHEAD_H
#define ANALYSIS_OVERHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dataset.h"
#include "stats.h"

struct ovh_row {
    char *config, *workload, *params;   /* params without the batch shape */
    double ratio, lo, hi, p;            /* guest / native of the medians, 95% CI */
    double guest, native;               /* the medians (ops/s) */
    size_t runs_guest, runs_native;
    enum stats_verdict verdict;
    const char *why_na;                 /* when VERDICT_NA */
};

struct ovh_table {
    struct ovh_row *rows;               /* by workload, config, params */
    size_t n;
};

/* The workloads the table covers (compute, sort, gups, kvs, graph, kvs-io). */
bool overhead_is_macro(const char *workload);
/* Builds the table from a loaded dataset; an empty table when no config has both sides.
 * -1 only when out of memory. */
int overhead_build(const struct dataset *ds, struct ovh_table *t, struct vmm_err *e);
/* The same with each row's params cut to what tells it apart from the other rows of its
 * workload (the shared ones are left out): for tables beside a full listing. */
int overhead_build_trimmed(const struct dataset *ds, struct ovh_table *t, struct vmm_err *e);
void overhead_free(struct ovh_table *t);
/* The text table (nothing when empty). */
void overhead_print(const struct ovh_table *t, FILE *out);
/* "[{...},...]" */
void overhead_print_json(const struct ovh_table *t, FILE *out);

#endif
