/* What the analysis knows about metric names: which direction is better and which
 * metrics describe the measurement itself rather than the system (diagnostics are shown
 * but neither gated nor summarised in geometric means). The naming conventions every
 * workload follows are in analysis/README.md. */
#ifndef ANALYSIS_METRICS_H
#define ANALYSIS_METRICS_H

#include <stdbool.h>

struct metric_info {
    const char *name;
    bool higher_is_better;   /* bandwidth, throughput: a ratio above 1 is faster */
    bool diagnostic;         /* timing_floor: the cost of the timing loop itself */
};

/* The entry for NAME; unknown metrics are "lower is better", not diagnostic. */
const struct metric_info *metric_info(const char *name);

#endif
