/* Turns a requested placement into concrete CPUs and nodes on this host's topology,
 * refusing, before any VM exists, everything that cannot be honoured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vstate/kvm_dev.h"
#include "vmm/placement.h"
#include "vmm/topology.h"

/* $VMMB_SYSFS_ROOT stands in for /sys (tests, and containers with sysfs elsewhere). */
static const char *sysfs(void)
{
    const char *r = getenv("VMMB_SYSFS_ROOT");
    return r && *r ? r : "/sys";
}

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void cpu_range_text(const struct vmm_topology *t, char *buf, size_t len)
{
    int cpus[1024];
    unsigned n = vmm_topology_compact(t, cpus, 1024);
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "," : "", cpus[i]);
}

static int check_cpu(const struct vmm_topology *t, int cpu, const char *what, struct vmm_err *e)
{
    int st = vmm_topology_cpu_state(t, cpu);
    if (st == 1)
        return 0;
    char have[256];
    cpu_range_text(t, have, sizeof have);
    return vmm_err_set(e, VMM_EXIT_USAGE, "%s: host CPU %d %s; usable CPUs here are %s", what,
                       cpu, st == 0 ? "is offline or not allowed" : "does not exist", have);
}

static int check_node(const struct vmm_topology *t, int node, const char *what, struct vmm_err *e)
{
    if (vmm_topology_node_exists(t, node))
        return 0;
    return vmm_err_set(e, VMM_EXIT_USAGE, "%s: host NUMA node %d does not exist; this host has "
                       "%u node(s), numbered from 0", what, node, vmm_topology_nr_nodes(t));
}

static int resolve_vnodes(const struct vmm_placement *p, uint64_t mem, const struct vmm_topology *t,
                          struct vmm_resolved *r, struct vmm_err *e)
{
    if (p->nvnodes && p->numa != VMM_NUMA_DEFAULT)
        return vmm_err_set(e, VMM_EXIT_USAGE, "give numa= or vnuma=, not both: a vNUMA layout "
                           "places each guest node itself");
    for (int n = 0; n < VMM_MAX_HOST_NODES; n++)
        if (p->numa_nodes >> n & 1 && check_node(t, n, "numa", e))
            return -1;
    if (!p->nvnodes) {
        r->nvnodes = 1;
        r->vnode_size[0] = mem;
        r->vnode_host[0] = -1;
        if (p->numa == VMM_NUMA_BIND || p->numa == VMM_NUMA_PREFERRED)
            r->vnode_host[0] = __builtin_ctzll(p->numa_nodes);
        return 0;
    }
    uint64_t sum = 0, page = vmm_backing_page_size(p->backing);
    r->nvnodes = p->nvnodes;
    for (unsigned i = 0; i < p->nvnodes; i++) {
        if (check_node(t, p->vnode[i].host_node, "vnuma", e))
            return -1;
        if (p->vnode[i].size % page)
            return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma: guest node %u size %llu MiB is not a "
                               "multiple of the %llu KiB backing page", i,
                               (unsigned long long)(p->vnode[i].size >> 20),
                               (unsigned long long)(page >> 10));
        sum += p->vnode[i].size;
        r->vnode_size[i] = p->vnode[i].size;
        r->vnode_host[i] = p->vnode[i].host_node;
    }
    if (sum > mem)
        return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma layout of %llu MiB is larger than the guest "
                           "memory of %llu MiB; shrink the nodes or raise memory",
                           (unsigned long long)(sum >> 20), (unsigned long long)(mem >> 20));
    if (sum < mem)
        return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma layout covers %llu MiB of the %llu MiB of "
                           "guest memory; make the node sizes add up to the memory",
                           (unsigned long long)(sum >> 20), (unsigned long long)(mem >> 20));
    return 0;
}

static int resolve_cpus(const struct vmm_placement *p, unsigned vcpus, const struct vmm_topology *t,
                        struct vmm_resolved *r, struct vmm_err *e)
{
    for (unsigned i = 0; i < vcpus; i++) {
        r->vcpu_cpu[i] = -1;
        r->vcpu_vnode[i] = (unsigned)((uint64_t)i * r->nvnodes / vcpus);
    }
    unsigned got = 0;
    switch (p->pin_policy) {
    case VMM_PIN_LIST:
        if (p->npin < vcpus)
            return vmm_err_set(e, VMM_EXIT_USAGE, "pin lists %u CPU(s) for %u vCPUs; give one "
                               "host CPU per vCPU", p->npin, vcpus);
        for (unsigned i = 0; i < vcpus; i++) {
            if (check_cpu(t, p->pin[i], "pin", e))
                return -1;
            r->vcpu_cpu[i] = p->pin[i];
        }
        return 0;
    case VMM_PIN_COMPACT:
    case VMM_PIN_SCATTER:
        got = p->pin_policy == VMM_PIN_COMPACT ? vmm_topology_compact(t, r->vcpu_cpu, vcpus)
                                               : vmm_topology_scatter(t, r->vcpu_cpu, vcpus);
        if (got < vcpus)
            return vmm_err_set(e, VMM_EXIT_USAGE, "pin %s: %u vCPUs but only %u usable host "
                               "CPUs; use fewer vCPUs or a CPU list",
                               p->pin_policy == VMM_PIN_COMPACT ? "compact" : "scatter", vcpus,
                               vmm_topology_nr_cpus(t));
        return 0;
    case VMM_PIN_NODE:
        if (check_node(t, p->pin_node, "pin", e))
            return -1;
        got = vmm_topology_node_cpus(t, p->pin_node, r->vcpu_cpu, vcpus);
        if (got < vcpus)
            return vmm_err_set(e, VMM_EXIT_USAGE, "pin node:%d: %u vCPUs but the node has %u "
                               "usable CPU(s); use fewer vCPUs or pin scatter", p->pin_node, vcpus,
                               got);
        return 0;
    case VMM_PIN_NONE:
        break;
    }
    if (!p->nvnodes)
        return 0;
    /* vNUMA without an explicit pin: each guest node's vCPUs run on its host node. */
    for (unsigned n = 0; n < r->nvnodes; n++) {
        int cpus[1024];
        unsigned nc = vmm_topology_node_cpus(t, r->vnode_host[n], cpus, 1024), k = 0;
        if (!nc)
            return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma: host node %d has no usable CPU for "
                               "the vCPUs of guest node %u; give pin= explicitly",
                               r->vnode_host[n], n);
        for (unsigned i = 0; i < vcpus; i++)
            if (r->vcpu_vnode[i] == n)
                r->vcpu_cpu[i] = cpus[k++ % nc];
    }
    return 0;
}

/* hugetlb pages of this size free on `node` (or system-wide for -1), -2 if the size is
 * not supported at all. */
static long free_huge(uint64_t page, int node, long *total, char *path_nr, size_t len)
{
    char dir[256], path[320];
    if (node < 0)
        snprintf(dir, sizeof dir, "%s/kernel/mm/hugepages/hugepages-%llukB", sysfs(),
                 (unsigned long long)(page >> 10));
    else
        snprintf(dir, sizeof dir, "%s/devices/system/node/node%d/hugepages/hugepages-%llukB",
                 sysfs(), node, (unsigned long long)(page >> 10));
    snprintf(path_nr, len, "%s/nr_hugepages", dir);
    snprintf(path, sizeof path, "%s/free_hugepages", dir);
    if (access(dir, F_OK) != 0)
        return -2;
    *total = read_long(path_nr);
    return read_long(path);
}

static int check_hugetlb(const struct vmm_placement *p, const struct vmm_resolved *r,
                         struct vmm_err *e)
{
    if (p->backing != VMM_BACKING_HUGETLB_2MB && p->backing != VMM_BACKING_HUGETLB_1GB)
        return 0;
    uint64_t page = vmm_backing_page_size(p->backing);
    char nr_path[320];
    long total;
    if (free_huge(page, -1, &total, nr_path, sizeof nr_path) == -2)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "%s: this host kernel has no %llu kB hugetlb "
                           "pages (no %s); use another backing", vmm_backing_name(p->backing),
                           (unsigned long long)(page >> 10), nr_path);
    for (unsigned n = 0; n < r->nvnodes; n++) {
        if (r->vnode_size[n] % page)
            return vmm_err_set(e, VMM_EXIT_USAGE, "%s: %llu MiB of guest memory is not a "
                               "multiple of the %llu MiB page; round it",
                               vmm_backing_name(p->backing),
                               (unsigned long long)(r->vnode_size[n] >> 20),
                               (unsigned long long)(page >> 20));
    }
    /* Add up what each host node must supply (-1: anywhere). */
    for (int node = -1; node < VMM_MAX_HOST_NODES; node++) {
        uint64_t need = 0;
        for (unsigned n = 0; n < r->nvnodes; n++)
            if (r->vnode_host[n] == node)
                need += r->vnode_size[n] / page;
        if (!need)
            continue;
        long have = free_huge(page, node, &total, nr_path, sizeof nr_path);
        if (have < 0)
            have = 0;
        if ((uint64_t)have < need)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "hugetlb pool too small: need %llu pages "
                               "of %llu kB%s, %ld free; add %llu with: echo %llu > %s",
                               (unsigned long long)need, (unsigned long long)(page >> 10),
                               node >= 0 ? " on this node" : "", have,
                               (unsigned long long)(need - (uint64_t)have),
                               (unsigned long long)((uint64_t)(total > 0 ? total : 0) + need -
                                                    (uint64_t)have),
                               nr_path);
    }
    return 0;
}

int vmm_placement_resolve(const struct vmm_placement *p, unsigned vcpus, uint64_t mem_bytes,
                          const struct vmm_topology *t, struct vmm_resolved *r,
                          struct vmm_err *e)
{
    memset(r, 0, sizeof *r);
    r->vcpus = vcpus;
    if (resolve_vnodes(p, mem_bytes, t, r, e) || resolve_cpus(p, vcpus, t, r, e))
        return -1;
    for (unsigned i = 0; i < p->nvmm_pin; i++) {
        if (check_cpu(t, p->vmm_pin[i], "vmm_pin", e))
            return -1;
        /* The supervisor sleeps while the guest runs, but it wakes for deadlines, phase
         * changes and the placement sample: on a vCPU's CPU that time is the guest's. */
        for (unsigned v = 0; v < vcpus && !p->vmm_pin_shared; v++)
            if (r->vcpu_cpu[v] == p->vmm_pin[i])
                return vmm_err_set(e, VMM_EXIT_USAGE, "vmm_pin CPU %d is also vCPU %u's CPU: "
                                   "the VMM's thread would run on the guest's time; give "
                                   "vmm_pin another CPU, or set vmm_pin_shared = yes "
                                   "(--vmm-pin-shared) to measure that on purpose",
                                   p->vmm_pin[i], v);
    }
    if (p->guest_pages == VMM_GPAGES_1G && kvm_guest_has_1g_pages() == 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "guest_pages=1g: this host's KVM does not offer "
                           "guests 1 GiB pages (no pdpe1gb in KVM_GET_SUPPORTED_CPUID, as on PVM "
                           "hosts); use 2m");
    if (mem_bytes % vmm_backing_page_size(p->backing))
        return vmm_err_set(e, VMM_EXIT_USAGE, "guest memory of %llu KiB is not a multiple of "
                           "the %llu KiB page of backing %s; round it",
                           (unsigned long long)(mem_bytes >> 10),
                           (unsigned long long)(vmm_backing_page_size(p->backing) >> 10),
                           vmm_backing_name(p->backing));
    return check_hugetlb(p, r, e);
}
