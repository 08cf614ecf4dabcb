/* The plan of a `vmmbench run`: configs x workloads x repetitions, every item checked
 * before anything starts, in an interleaved order (repetition-major, configs alternating
 * within each workload) so that drift of the host spreads evenly over configs. */
#ifndef HARNESS_RUN_PLAN_H
#define HARNESS_RUN_PLAN_H

#include <stddef.h>

#include "config.h"
#include "vmm/error.h"
#include "vmm/plan.h"

struct run_item {
    const struct bench_config *config;
    struct vmm_plan plan;
    unsigned rep;
};

struct run_plan {
    struct run_item *items;
    size_t n;
};

struct run_plan_request {
    const struct vmm_image *image;
    const struct bench_config *configs;
    unsigned nconfigs;
    const char *const *specs;     /* "workload" or "workload:k=v,k=v" */
    unsigned nspecs;
    unsigned reps;
    double timeout_s;             /* per run; 0 = the VMM's default */
    const struct vmm_topology *topology; /* placement is resolved against it; NULL: this host */
};

/* Errors name the workload spec and config at fault (VMM_EXIT_USAGE or _RESOURCES). */
int run_plan_build(const struct run_plan_request *rq, struct run_plan *plan, struct vmm_err *e);
void run_plan_free(struct run_plan *plan);

#endif
