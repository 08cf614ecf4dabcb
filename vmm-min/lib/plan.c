#include "vmm/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

static void list_workloads(const struct vmm_image *img, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < img->nworkloads && used < len; i++)
        used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", img->workloads[i].name);
}

static void list_params(const struct vmmb_workload_desc *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < d->nr_params && used < len; i++)
        used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", d->params[i].name);
    if (!d->nr_params)
        snprintf(buf, len, "none");
}

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const struct vmmb_param *)a)->name, ((const struct vmmb_param *)b)->name);
}

static int set_param(struct vmm_plan *p, const char *kv, struct vmm_err *e)
{
    const struct vmmb_workload_desc *d = p->workload;
    const char *eq = strchr(kv, '=');
    char known[256];
    list_params(d, known, sizeof known);
    if (!eq || eq == kv)
        return vmm_err_set(e, VMM_EXIT_USAGE, "parameter '%s' is not key=value; workload %s "
                           "takes: %s", kv, d->name, known);
    size_t klen = (size_t)(eq - kv);
    for (unsigned i = 0; i < d->nr_params; i++) {
        const struct vmmb_param_desc *pd = &d->params[i];
        if (strlen(pd->name) != klen || strncmp(pd->name, kv, klen) != 0)
            continue;
        const char *val = eq + 1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(val, &end, 0);
        if (!*val || *end || errno || val[0] == '-')
            return vmm_err_set(e, VMM_EXIT_USAGE, "parameter %s=%s is not a whole number; "
                               "give a value from %llu to %llu", pd->name, val,
                               (unsigned long long)pd->min, (unsigned long long)pd->max);
        if (v < pd->min || v > pd->max)
            return vmm_err_set(e, VMM_EXIT_USAGE, "parameter %s=%llu is out of range for "
                               "workload %s; give a value from %llu to %llu", pd->name, v,
                               d->name, (unsigned long long)pd->min,
                               (unsigned long long)pd->max);
        p->params[i].value = v;
        return 0;
    }
    return vmm_err_set(e, VMM_EXIT_USAGE, "unknown parameter '%.*s' for workload %s; it takes: "
                       "%s", (int)klen, kv, d->name, known);
}

int vmm_plan_make(const struct vmm_request *rq, struct vmm_plan *p, struct vmm_err *e)
{
    memset(p, 0, sizeof *p);
    p->image = rq->image;
    p->workload = vmm_image_find(rq->image, rq->workload);
    if (!p->workload) {
        char known[1024];
        list_workloads(rq->image, known, sizeof known);
        return vmm_err_set(e, VMM_EXIT_USAGE, "unknown workload '%s'; known workloads: %s "
                           "(see `vmmbench list`)", rq->workload, known);
    }
    const struct vmmb_workload_desc *d = p->workload;
    p->nparams = d->nr_params;
    for (unsigned i = 0; i < d->nr_params; i++) {
        snprintf(p->params[i].name, sizeof p->params[i].name, "%s", d->params[i].name);
        p->params[i].value = d->params[i].def;
    }
    for (unsigned i = 0; i < rq->nparams; i++)
        if (set_param(p, rq->params[i], e))
            return -1;
    uint64_t ring = vmm_plan_param(p, "ring", UINT64_MAX);
    if (ring != UINT64_MAX) {
        uint32_t bit = ring == 0 ? VMMB_RING0 : ring == 3 ? VMMB_RING3 : 0;
        if (!(d->rings & bit))
            return vmm_err_set(e, VMM_EXIT_USAGE, "workload %s cannot run in ring %llu; it "
                               "runs in ring %s", d->name, (unsigned long long)ring,
                               d->rings == VMMB_RING0 ? "0" :
                               d->rings == VMMB_RING3 ? "3" : "0 or 3");
    }
    if (rq->vcpus < 1 || rq->vcpus > VMMB_MAX_VCPUS)
        return vmm_err_set(e, VMM_EXIT_USAGE, "%u vCPUs requested; give 1 to %d",
                           rq->vcpus, VMMB_MAX_VCPUS);
    if (rq->mem_bytes < (16ull << 20) || rq->mem_bytes & 0xfff)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory of %llu bytes is too small or "
                           "not 4 KiB-aligned; give at least 16M",
                           (unsigned long long)rq->mem_bytes);
    struct sysinfo si;
    if (sysinfo(&si) == 0 &&
        rq->mem_bytes > (unsigned long long)si.totalram * si.mem_unit)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory of %llu MiB does not fit this "
                           "host's %llu MiB of RAM; ask for less",
                           (unsigned long long)(rq->mem_bytes >> 20),
                           ((unsigned long long)si.totalram * si.mem_unit) >> 20);
    if (rq->timeout_s < 0 || rq->probe_timeout_s < 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "timeouts must be positive");
    const struct vmm_topology *topo = rq->topology;
    struct vmm_topology *own = NULL;
    if (!topo) {
        if (vmm_topology_load(NULL, &own, e))
            return -1;
        topo = own;
    }
    int rc = vmm_placement_resolve(&rq->placement, rq->vcpus, rq->mem_bytes, topo, &p->resolved, e);
    vmm_topology_free(own);
    if (rc)
        return -1;
    p->placement = rq->placement;
    p->mem_bytes = rq->mem_bytes;
    p->vcpus = rq->vcpus;
    p->timeout_s = rq->timeout_s > 0 ? rq->timeout_s : VMM_DEFAULT_TIMEOUT_S;
    p->probe_timeout_s = rq->probe_timeout_s > 0 ? rq->probe_timeout_s
                                                 : VMM_DEFAULT_PROBE_TIMEOUT_S;
    p->echo_console = rq->echo_console;
    if (vmm_virtio_plan_make(&rq->virtio, &p->virtio, e))
        return -1;

    struct vmmb_param sorted[VMMB_MAX_PARAMS];
    memcpy(sorted, p->params, sizeof sorted);
    qsort(sorted, p->nparams, sizeof sorted[0], cmp_param);
    size_t used = 0;
    for (unsigned i = 0; i < p->nparams && used < sizeof p->params_text; i++)
        used += snprintf(p->params_text + used, sizeof p->params_text - used, "%s%s=%llu",
                         i ? " " : "", sorted[i].name, (unsigned long long)sorted[i].value);
    return 0;
}

uint64_t vmm_plan_param(const struct vmm_plan *p, const char *name, uint64_t dflt)
{
    for (unsigned i = 0; i < p->nparams; i++)
        if (strcmp(p->params[i].name, name) == 0)
            return p->params[i].value;
    return dflt;
}
