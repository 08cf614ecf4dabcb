/* Named sets of workloads: what `vmmbench run --suite NAME` runs. */
#ifndef HARNESS_SUITES_H
#define HARNESS_SUITES_H

struct suite {
    const char *name;
    const char *summary;
    const char *const *items;    /* "workload" or "workload:k=v,k=v", NULL-terminated */
};

const struct suite *suite_find(const char *name);
const struct suite *suite_all(unsigned *n);

#endif
