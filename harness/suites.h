/* Named sets of workloads: what `vmmbench run --suite NAME` runs. */
#ifndef HARNESS_SUITES_H
#define HARNESS_SUITES_H

struct suite_item {
    const char *spec;            /* "workload" or "workload:k=v,k=v" */
    unsigned min_nodes;          /* left out on hosts with fewer NUMA nodes (0: always) */
    double est_s;                /* one run's expected time on a 2-core PVM-nested host */
};

struct suite {
    const char *name;
    const char *summary;
    const struct suite_item *items; /* ended by an item with a NULL spec */
};

const struct suite *suite_find(const char *name);
const struct suite *suite_all(unsigned *n);
/* What one repetition of the suite takes on a host with `nodes` NUMA nodes, in seconds. */
double suite_estimate(const struct suite *s, unsigned nodes);

#endif
