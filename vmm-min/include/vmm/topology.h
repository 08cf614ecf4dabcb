/* The host's topology, from hwloc: packages, NUMA nodes, cores, PUs, caches, distances.
 * Loaded from the running system, or from an hwloc synthetic description (e.g.
 * "pack:2 numa:1 core:2 pu:2") so placement logic is testable beyond this host. */
#ifndef VMM_TOPOLOGY_H
#define VMM_TOPOLOGY_H

#include <stddef.h>

#include "vmm/error.h"

struct vmm_topology;

/* synthetic NULL: this host. Errors: VMM_EXIT_INTERNAL (hwloc failed) or VMM_EXIT_USAGE
 * (a synthetic description hwloc rejects). */
int vmm_topology_load(const char *synthetic, struct vmm_topology **out, struct vmm_err *e);
void vmm_topology_free(struct vmm_topology *t);

/* 1 online and usable, 0 exists but offline or not allowed, -1 no such CPU. */
int vmm_topology_cpu_state(const struct vmm_topology *t, int cpu);
int vmm_topology_node_exists(const struct vmm_topology *t, int node);
unsigned vmm_topology_nr_nodes(const struct vmm_topology *t);
unsigned vmm_topology_nr_cpus(const struct vmm_topology *t);
/* Usable CPUs (OS numbers) of NUMA node `node`, in topology order. */
unsigned vmm_topology_node_cpus(const struct vmm_topology *t, int node, int *cpus, unsigned max);
/* The NUMA node (OS number) whose memory is local to CPU `cpu`, -1 if unknown. */
int vmm_topology_cpu_node(const struct vmm_topology *t, int cpu);
/* n CPUs packed closely (consecutive PUs in topology order) or spread as widely as
 * possible (hwloc_distrib over the whole machine). Returns how many it could give. */
unsigned vmm_topology_compact(const struct vmm_topology *t, int *cpus, unsigned n);
unsigned vmm_topology_scatter(const struct vmm_topology *t, int *cpus, unsigned n);
/* Relative distance from node a to node b (10 = local), -1 when hwloc has no matrix. */
int vmm_topology_distance(const struct vmm_topology *t, int a, int b);
/* "1 package, 1 NUMA node, 2 cores, 2 PUs, L3 32 MiB". */
void vmm_topology_summary(const struct vmm_topology *t, char *buf, size_t len);
/* hwloc's XML export, malloc'd, NUL-terminated; NULL on failure. */
char *vmm_topology_xml(const struct vmm_topology *t);
/* Size of the last-level cache in bytes, 0 when unknown. */
unsigned long long vmm_topology_llc_bytes(const struct vmm_topology *t);

#endif
