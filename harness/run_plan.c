#include "run_plan.h"

#include "vmm/native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPEC_PARAMS VMMB_MAX_PARAMS

/* Splits "name:k=v,k=v" in place into the name and its parameters. */
static int split_spec(char *spec, const char **name, const char **params, unsigned *n)
{
    *n = 0;
    *name = spec;
    char *colon = strchr(spec, ':');
    if (!colon)
        return 0;
    *colon = '\0';
    for (char *tok = strtok(colon + 1, ","); tok; tok = strtok(NULL, ",")) {
        if (*n == MAX_SPEC_PARAMS)
            return -1;
        params[(*n)++] = tok;
    }
    return 0;
}

int run_plan_build(const struct run_plan_request *rq, struct run_plan *plan, struct vmm_err *e)
{
    memset(plan, 0, sizeof *plan);
    if (rq->reps == 0 || rq->nspecs == 0 || rq->nconfigs == 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "nothing to run: give at least one workload, "
                           "config and repetition");
    size_t total = (size_t)rq->reps * rq->nspecs * rq->nconfigs, skipped = 0;
    plan->items = calloc(total, sizeof *plan->items);
    unsigned char *used = calloc(total ? total : 1, 1);
    if (!plan->items || !used) {
        free(used);
        free(plan->items);
        plan->items = NULL;
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory planning %zu runs", total);
    }
    if (!plan->items)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory planning %zu runs", total);
    /* Check every (workload, config) pair once, then lay out the repetitions. */
    for (unsigned s = 0; s < rq->nspecs; s++) {
        for (unsigned c = 0; c < rq->nconfigs; c++) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", rq->specs[s]);
            const char *name, *params[MAX_SPEC_PARAMS];
            unsigned np;
            if (split_spec(buf, &name, params, &np)) {
                run_plan_free(plan);
                free(used);
                return vmm_err_set(e, VMM_EXIT_USAGE, "workload %s has more than %d parameters",
                                   rq->specs[s], MAX_SPEC_PARAMS);
            }
            const struct bench_config *cfg = &rq->configs[c];
            /* A native twin (vmmbench run --native) runs only the workloads that have a
             * host build; the others run in the guest configs alone. */
            if (cfg->placement.native && !native_find(name) && rq->nconfigs > 1) {
                skipped++;
                continue;
            }
            struct vmm_request vr = {
                .image = rq->image, .workload = name, .params = params, .nparams = np,
                .mem_bytes = cfg->mem_bytes, .vcpus = cfg->vcpus, .timeout_s = rq->timeout_s,
                .placement = cfg->placement, .topology = rq->topology,
                .hypervisor = cfg->hypervisor,
            };
            const char *devs[2];
            config_virtio_request(cfg, devs, &vr.virtio);
            vr.counters = cfg->counters;
            struct vmm_plan vp;
            struct vmm_err sub = { 0 };
            if (vmm_plan_make(&vr, &vp, &sub)) {
                run_plan_free(plan);
                free(used);
                return vmm_err_set(e, sub.code, "%s (workload %s, config %s)", sub.msg,
                                   rq->specs[s], cfg->name);
            }
            for (unsigned r = 0; r < rq->reps; r++) {
                size_t at = ((size_t)r * rq->nspecs + s) * rq->nconfigs + c;
                plan->items[at] = (struct run_item){ .config = cfg, .plan = vp, .rep = r };
                used[at] = 1;
            }
        }
    }
    /* Close the gaps the skipped (native config, guest-only workload) pairs left. */
    size_t k = 0;
    for (size_t i = 0; i < total; i++)
        if (used[i])
            plan->items[k++] = plan->items[i];
    free(used);
    plan->n = k;
    if (!k)
        return vmm_err_set(e, VMM_EXIT_USAGE, "nothing to run: no workload has a host build "
                           "for the native configs");
    (void)skipped;
    return 0;
}

void run_plan_free(struct run_plan *plan)
{
    free(plan->items);
    memset(plan, 0, sizeof *plan);
}
