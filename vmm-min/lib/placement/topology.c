#include "vmm/topology.h"

#include <hwloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vmm_topology {
    hwloc_topology_t t;
};

int vmm_topology_load(const char *synthetic, struct vmm_topology **out, struct vmm_err *e)
{
    struct vmm_topology *t = calloc(1, sizeof *t);
    if (!t || hwloc_topology_init(&t->t) < 0) {
        free(t);
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "hwloc could not initialise a topology");
    }
    /* Keep offline and disallowed PUs visible, so a pin to one can be named as such. */
    hwloc_topology_set_flags(t->t, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    if (synthetic && hwloc_topology_set_synthetic(t->t, synthetic) < 0) {
        hwloc_topology_destroy(t->t);
        free(t);
        return vmm_err_set(e, VMM_EXIT_USAGE, "hwloc rejects the synthetic topology '%s'",
                           synthetic);
    }
    if (hwloc_topology_load(t->t) < 0) {
        hwloc_topology_destroy(t->t);
        free(t);
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "hwloc could not load the host topology");
    }
    *out = t;
    return 0;
}

void vmm_topology_free(struct vmm_topology *t)
{
    if (!t)
        return;
    hwloc_topology_destroy(t->t);
    free(t);
}

static hwloc_const_cpuset_t usable(const struct vmm_topology *t)
{
    return hwloc_topology_get_allowed_cpuset(t->t);
}

int vmm_topology_cpu_state(const struct vmm_topology *t, int cpu)
{
    if (cpu < 0 || !hwloc_bitmap_isset(hwloc_topology_get_complete_cpuset(t->t), (unsigned)cpu))
        return -1;
    return hwloc_bitmap_isset(usable(t), (unsigned)cpu) &&
           hwloc_bitmap_isset(hwloc_topology_get_topology_cpuset(t->t), (unsigned)cpu);
}

int vmm_topology_node_exists(const struct vmm_topology *t, int node)
{
    return node >= 0 &&
           hwloc_bitmap_isset(hwloc_topology_get_topology_nodeset(t->t), (unsigned)node);
}

unsigned vmm_topology_nr_nodes(const struct vmm_topology *t)
{
    int n = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_NUMANODE);
    return n > 0 ? (unsigned)n : 1;
}

unsigned vmm_topology_nr_cpus(const struct vmm_topology *t)
{
    int n = hwloc_bitmap_weight(usable(t));
    return n > 0 ? (unsigned)n : 0;
}

/* PUs of a cpuset that are usable, in topology (logical) order. */
static unsigned pus_in(const struct vmm_topology *t, hwloc_const_cpuset_t set, int *cpus,
                       unsigned max)
{
    unsigned n = 0;
    hwloc_obj_t pu = NULL;
    while (n < max && (pu = hwloc_get_next_obj_by_type(t->t, HWLOC_OBJ_PU, pu)))
        if (hwloc_bitmap_isset(set, pu->os_index) && vmm_topology_cpu_state(t, (int)pu->os_index) == 1)
            cpus[n++] = (int)pu->os_index;
    return n;
}

unsigned vmm_topology_node_cpus(const struct vmm_topology *t, int node, int *cpus, unsigned max)
{
    hwloc_obj_t obj = hwloc_get_numanode_obj_by_os_index(t->t, (unsigned)node);
    return obj ? pus_in(t, obj->cpuset, cpus, max) : 0;
}

int vmm_topology_cpu_node(const struct vmm_topology *t, int cpu)
{
    hwloc_obj_t node = NULL;
    while ((node = hwloc_get_next_obj_by_type(t->t, HWLOC_OBJ_NUMANODE, node)))
        if (hwloc_bitmap_isset(node->cpuset, (unsigned)cpu))
            return (int)node->os_index;
    return -1;
}

unsigned vmm_topology_compact(const struct vmm_topology *t, int *cpus, unsigned n)
{
    return pus_in(t, usable(t), cpus, n);
}

unsigned vmm_topology_scatter(const struct vmm_topology *t, int *cpus, unsigned n)
{
    if (n == 0)
        return 0;
    if (n > vmm_topology_nr_cpus(t))
        return 0;
    hwloc_bitmap_t *sets = calloc(n, sizeof *sets);
    if (!sets)
        return 0;
    /* hwloc_distrib allocates each set itself (hwloc_bitmap_dup). */
    hwloc_obj_t root = hwloc_get_root_obj(t->t);
    hwloc_distrib(t->t, &root, 1, sets, n, INT_MAX, 0);
    unsigned got = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!sets[i])
            continue;
        hwloc_bitmap_and(sets[i], sets[i], usable(t));
        hwloc_bitmap_singlify(sets[i]);
        int cpu = hwloc_bitmap_first(sets[i]);
        if (cpu >= 0)
            cpus[got++] = cpu;
        hwloc_bitmap_free(sets[i]);
    }
    free(sets);
    return got;
}

int vmm_topology_distance(const struct vmm_topology *t, int a, int b)
{
    struct hwloc_distances_s *d = NULL;
    unsigned nr = 1;
    if (hwloc_distances_get_by_type(t->t, HWLOC_OBJ_NUMANODE, &nr, &d,
                                    HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) < 0 || nr == 0) {
        /* One node and no matrix: local access is distance 10 by convention. */
        return a == b && vmm_topology_node_exists(t, a) && vmm_topology_nr_nodes(t) == 1 ? 10 : -1;
    }
    int v = -1;
    hwloc_obj_t oa = hwloc_get_numanode_obj_by_os_index(t->t, (unsigned)a);
    hwloc_obj_t ob = hwloc_get_numanode_obj_by_os_index(t->t, (unsigned)b);
    hwloc_uint64_t ab, ba;
    if (oa && ob && hwloc_distances_obj_pair_values(d, oa, ob, &ab, &ba) == 0)
        v = (int)ab;
    hwloc_distances_release(t->t, d);
    return v;
}

unsigned long long vmm_topology_llc_bytes(const struct vmm_topology *t)
{
    static const hwloc_obj_type_t levels[] = { HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L2CACHE,
                                               HWLOC_OBJ_L1CACHE };
    for (unsigned i = 0; i < 3; i++) {
        hwloc_obj_t c = hwloc_get_next_obj_by_type(t->t, levels[i], NULL);
        if (c && c->attr)
            return c->attr->cache.size;
    }
    return 0;
}

void vmm_topology_summary(const struct vmm_topology *t, char *buf, size_t len)
{
    int pk = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_PACKAGE);
    int nn = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_NUMANODE);
    int co = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_CORE);
    int pu = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_PU);
    snprintf(buf, len, "%d package%s, %d NUMA node%s, %d core%s, %d PU%s, LLC %llu KiB", pk,
             pk == 1 ? "" : "s", nn, nn == 1 ? "" : "s", co, co == 1 ? "" : "s", pu,
             pu == 1 ? "" : "s", vmm_topology_llc_bytes(t) >> 10);
}

char *vmm_topology_xml(const struct vmm_topology *t)
{
    char *xml = NULL;
    int len = 0;
    if (hwloc_topology_export_xmlbuffer(t->t, &xml, &len, 0) < 0 || !xml)
        return NULL;
    char *copy = malloc((size_t)len + 1);
    if (copy) {
        memcpy(copy, xml, (size_t)len);
        copy[len] = '\0';
    }
    hwloc_free_xmlbuffer(t->t, xml);
    return copy;
}
