#include "vmm/plan.h"
#include "vmm/native.h"
#include "qemu/qemu.h"
#include "vmm/size.h"

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
        uint64_t sized;
        /* Sizes may carry a suffix (64K, 256M, 1G), as --mem does. */
        if (*val && *end && !errno && val[0] != '-' && vmm_parse_size(val, &sized) == 0)
            v = sized, end = (char *)val + strlen(val);
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

static uint64_t param_or(const struct vmm_plan *p, const char *name, uint64_t dflt)
{
    return vmm_plan_param(p, name, dflt);
}

static const char *mib(uint64_t b, char *buf, size_t len)
{
    if (b >= (1ull << 30) && b % (1ull << 30) == 0)
        snprintf(buf, len, "%lluG", (unsigned long long)(b >> 30));
    else if (b >= (1ull << 20))
        snprintf(buf, len, "%lluM", (unsigned long long)(b >> 20));
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)b);
    return buf;
}

/* What the memory workloads need of the VM, checked before it exists (the guest checks
 * again: it is the one that knows exactly how much memory is left). */
static int check_memory_workload(const struct vmm_plan *p, struct vmm_err *e)
{
    const char *w = p->workload->name;
    char a[32], b[32];
    uint64_t threads = param_or(p, "threads", 0), load = param_or(p, "streamers", 0);
    if (threads > p->vcpus)
        return vmm_err_set(e, VMM_EXIT_USAGE, "%s: threads=%llu but the VM has %u vCPU%s; give "
                           "threads <= %u or more vcpus", w, (unsigned long long)threads,
                           p->vcpus, p->vcpus == 1 ? "" : "s", p->vcpus);
    if (load && load >= p->vcpus)
        return vmm_err_set(e, VMM_EXIT_USAGE, "%s: streamers=%llu streaming vCPUs need %llu vCPUs "
                           "(one chases) but the VM has %u; give load <= %u or more vcpus", w,
                           (unsigned long long)load, (unsigned long long)load + 1, p->vcpus,
                           p->vcpus - 1);
    if (strcmp(w, "tlb") == 0) {
        uint64_t min = param_or(p, "min", 0), max = param_or(p, "max", 0);
        uint64_t stride = param_or(p, "stride", 64), window = param_or(p, "window", 0);
        if (stride % 8)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tlb: stride=%llu is not a whole number of "
                               "pointers (8 bytes); give a multiple of 8, e.g. 64 (one per "
                               "cache line)", (unsigned long long)stride);
        if (min < stride)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tlb: min=%llu holds no element of stride "
                               "%llu; give min >= stride", (unsigned long long)min,
                               (unsigned long long)stride);
        if (window % stride)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tlb: window=%llu is not a multiple of "
                               "stride=%llu", (unsigned long long)window,
                               (unsigned long long)stride);
        if (max && max + (8ull << 20) > p->mem_bytes)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "tlb: working set max=%s does not fit in "
                               "guest memory of %s (the kernel, results and page tables need "
                               "some too); give memory >= %s or a smaller max",
                               mib(max, a, sizeof a), mib(p->mem_bytes, b, sizeof b),
                               mib(max + (16ull << 20), (char[32]){ 0 }, 32));
        if (max && min > max)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tlb: min=%llu is larger than max=%llu",
                               (unsigned long long)min, (unsigned long long)max);
    }
    if (strcmp(w, "bw") == 0) {
        uint64_t array = param_or(p, "array", 0);
        uint64_t need = 3 * (array ? array : 4 * (p->llc_bytes ? p->llc_bytes : 32ull << 20));
        if (need + (8ull << 20) > p->mem_bytes)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "bw: three arrays of %s (%s) need %s but "
                               "guest memory is %s; give memory >= %s or a smaller array=",
                               mib(need / 3, a, sizeof a),
                               array ? "array=" : "4x the host's LLC, STREAM's rule",
                               mib(need, b, sizeof b), mib(p->mem_bytes, (char[32]){ 0 }, 32),
                               mib(need + (16ull << 20), (char[32]){ 0 }, 32));
    }
    if (strcmp(w, "numa-matrix") == 0) {
        uint64_t nodes = param_or(p, "nodes", 0);
        if (nodes && nodes != p->resolved.nvnodes)
            return vmm_err_set(e, VMM_EXIT_USAGE, "numa-matrix: nodes=%llu asks for a %llux%llu "
                               "matrix but the VM's layout has %u node%s; give a vnuma layout "
                               "with %llu nodes (e.g. vnuma = 0:1G@host0,1:1G@host1) or "
                               "nodes=0", (unsigned long long)nodes, (unsigned long long)nodes,
                               (unsigned long long)nodes, p->resolved.nvnodes,
                               p->resolved.nvnodes == 1 ? "" : "s", (unsigned long long)nodes);
    }
    return 0;
}

/* The macro workloads' working sets (workloads/macro/), from their parameters, so a run
 * that cannot fit is refused before boot (the guest checks again as it allocates). */
static uint64_t macro_need(const struct vmm_plan *p, const char *w)
{
    uint64_t threads = param_or(p, "threads", 0);
    threads = threads ? threads : p->vcpus;
    if (strcmp(w, "compute") == 0) {
        uint64_t n = param_or(p, "n", 0);
        return 3 * n * n * 8 + 2 * n * 8;
    }
    if (strcmp(w, "sort") == 0)
        return 2 * param_or(p, "keys", 0) * 8 + threads * 2048;
    if (strcmp(w, "gups") == 0)
        return param_or(p, "size", 0);
    if (strcmp(w, "kvs") == 0) /* table, traces, latency samples and their sort */
        return param_or(p, "size", 0) + threads * param_or(p, "iters", 0) * 8 * 5 / 4 + 64;
    if (strcmp(w, "graph") == 0) {
        uint64_t nv = 1ull << param_or(p, "scale", 0), ne = param_or(p, "edgefactor", 0) * nv;
        return ne * 8 + 2 * ne * 4 + nv * 40;
    }
    return 0;
}

static int check_macro_workload(const struct vmm_plan *p, struct vmm_err *e)
{
    const char *w = p->workload->name;
    char a[32], b[32], c[32];
    if (strcmp(w, "gups") == 0 || strcmp(w, "kvs") == 0) {
        uint64_t size = param_or(p, "size", 0);
        if (size & (size - 1))
            return vmm_err_set(e, VMM_EXIT_USAGE, "%s: size=%llu is not a power of two (the "
                               "table is indexed by a mask); give e.g. size=16M", w,
                               (unsigned long long)size);
    }
    uint64_t need = macro_need(p, w);
    if (need && need + (8ull << 20) > p->mem_bytes)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "%s: its working set needs %s but guest "
                           "memory is %s (the kernel, results and page tables need some too); "
                           "give memory >= %s or smaller sizes", w, mib(need, a, sizeof a),
                           mib(p->mem_bytes, b, sizeof b), mib(need + (16ull << 20), c, sizeof c));
    return 0;
}

/* Workloads bring their devices: an I/O workload on a request that names no device of
 * its type gets the one that measures the transport alone (blk null; net null for tx/rx,
 * loop for echo). kvs-io, which reads back its log, gets a 64 MiB file (tmp: made in
 * $TMPDIR and unlinked), the backend its native twin calls directly: file against file,
 * so guest/native is the virtualized I/O path alone. Ping (net mode 3) needs a tap the
 * user must name: the guest says so. */
static int add_default_device(const struct vmm_request *rq, struct vmm_plan *p,
                              struct vmm_err *e)
{
    const char *type = NULL, *spec = NULL;
    if (strcmp(p->workload->name, "virtio-blk") == 0 ||
        strcmp(p->workload->name, "virtio-blk-irq") == 0) {
        type = "blk", spec = "blk:null";
    } else if (strcmp(p->workload->name, "kvs-io") == 0) {
        /* It reads back what it wrote: a device that keeps data, on a real file. */
        type = "blk", spec = "blk:tmp:64M";
    } else if (strcmp(p->workload->name, "virtio-net") == 0) {
        uint64_t mode = vmm_plan_param(p, "mode", 0);
        type = "net", spec = mode == 2 ? "net:loop" : mode < 2 ? "net:null" : NULL;
    }
    if (!spec)
        return 0;
    size_t tl = strlen(type);
    for (unsigned i = 0; i < rq->virtio.ndevices; i++)
        if (strncmp(rq->virtio.devices[i], type, tl) == 0 && rq->virtio.devices[i][tl] == ':')
            return 0;
    const char *devs[VMMB_MAX_DEVICES + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < rq->virtio.ndevices && n < VMMB_MAX_DEVICES; i++)
        devs[n++] = rq->virtio.devices[i];
    if (n == VMMB_MAX_DEVICES)
        return 0; /* no room: the guest will say which device it misses */
    devs[n++] = spec;
    struct vmm_virtio_request vr = rq->virtio;
    vr.devices = devs;
    vr.ndevices = n;
    if (vmm_virtio_plan_make(&vr, &p->virtio, e))
        return -1;
    snprintf(p->default_device, sizeof p->default_device, "%s = %s", type, spec + tl + 1);
    return 0;
}

/* --notify irq raises interrupts only a workload with the in-kernel irqchip takes, and
 * virtio-blk-irq waits for nothing else: refused before anything runs. */
static int check_irq_notify(const struct vmm_plan *p, struct vmm_err *e)
{
    const struct vmmb_workload_desc *d = p->workload;
    bool irq = p->virtio.notify == VMM_NOTIFY_IRQ;
    if (irq && !(d->flags & VMMB_WL_IRQ))
        return vmm_err_set(e, VMM_EXIT_USAGE, "--notify irq raises interrupts, which workload "
                           "%s does not take; use virtio-blk-irq (or --notify exit, ioeventfd "
                           "or poll)", d->name);
    if (irq && (d->flags & VMMB_WL_IRQFD))
        return vmm_err_set(e, VMM_EXIT_USAGE, "--notify irq cannot share a VM with %s's own "
                           "irqfd; run it with --notify exit", d->name);
    if (!irq && p->virtio.ndev && strcmp(d->name, "virtio-blk-irq") == 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk-irq waits for the device's "
                           "interrupts: run it with --notify irq (config: notify = irq)");
    return 0;
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
    p->llc_bytes = vmm_topology_llc_bytes(topo);
    vmm_topology_free(own);
    if (rc)
        return -1;
    if (rq->counters && *rq->counters && vmm_counters_parse(rq->counters, &p->counters, e))
        return -1;
    p->placement = rq->placement;
    p->mem_bytes = rq->mem_bytes;
    p->vcpus = rq->vcpus;
    p->timeout_s = rq->timeout_s > 0 ? rq->timeout_s : VMM_DEFAULT_TIMEOUT_S;
    p->probe_timeout_s = rq->probe_timeout_s > 0 ? rq->probe_timeout_s
                                                 : VMM_DEFAULT_PROBE_TIMEOUT_S;
    p->echo_console = rq->echo_console;
    p->hypervisor = rq->hypervisor;
    if (p->placement.native && !native_find(d->name)) {
        char nat[256];
        native_list(nat, sizeof nat);
        return vmm_err_set(e, VMM_EXIT_USAGE, "workload %s cannot run natively (native = yes); "
                           "the workloads with a host build are: %s", d->name,
                           nat[0] ? nat : "none");
    }
    if (check_memory_workload(p, e) || check_macro_workload(p, e))
        return -1;
    if (vmm_virtio_plan_make(&rq->virtio, &p->virtio, e) || add_default_device(rq, p, e) ||
        check_irq_notify(p, e))
        return -1;
    if (p->hypervisor != VMM_HV_VMM_MIN && qemu_plan_check(p, e))
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
