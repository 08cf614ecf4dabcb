/* Where a guest runs and where its memory lives: what was asked (parsed from config keys
 * or vmm-min flags), what that resolves to on this host's topology, and what was
 * observed while the guest ran.
 *
 * Keys (INI and vmm-min flags alike):
 *   pin          = 2,3,4-5 | compact | scatter | node:N   vCPU placement
 *   vmm_pin      = CPU list                               the VMM's own (supervisor) thread
 *   vmm_pin_shared = yes | no   allow vmm_pin on a vCPU's CPU (refused by default: the
 *                               VMM's thread would take its time from the guest's)
 *   backing      = anonymous | anonymous_thp | anonymous_hugetlb_2mb |
 *                  anonymous_hugetlb_1gb | shmem          (the KVM selftests names)
 *   prefault     = yes | no                               touch all memory before boot
 *   guest_pages  = 4k | 2m | 1g                           page size in the guest's tables
 *   numa         = bind:N | interleave:N,M | preferred:N  host memory policy
 *   vnuma        = 0:1G@host0,1:1G@host1                  guest node:size@host node
 *   native       = yes | no     the same workload code on host threads placed like the
 *                               vCPUs, over memory placed like guest memory (memory
 *                               workloads only): the host reference of a guest figure */
#ifndef VMM_PLACEMENT_H
#define VMM_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/error.h"
#include "vmm/guest_abi.h"

#define VMM_MAX_VNODES 8
#define VMM_MAX_HOST_NODES 64
#define VMM_CPUSET_WORDS 16   /* 1024 host CPUs */

enum vmm_backing {
    VMM_BACKING_ANONYMOUS = 0,   /* 4 KiB pages, THP off */
    VMM_BACKING_ANONYMOUS_THP,
    VMM_BACKING_HUGETLB_2MB,
    VMM_BACKING_HUGETLB_1GB,
    VMM_BACKING_SHMEM,
};

enum vmm_guest_pages { VMM_GPAGES_2M = 0, VMM_GPAGES_4K, VMM_GPAGES_1G };

enum vmm_numa_mode { VMM_NUMA_DEFAULT = 0, VMM_NUMA_BIND, VMM_NUMA_INTERLEAVE, VMM_NUMA_PREFERRED };

enum vmm_pin_policy { VMM_PIN_NONE = 0, VMM_PIN_LIST, VMM_PIN_COMPACT, VMM_PIN_SCATTER, VMM_PIN_NODE };

struct vmm_vnode {
    uint64_t size;
    int host_node;
};

struct vmm_placement {
    bool native;                       /* run the workload on the host, not in a guest */
    enum vmm_backing backing;
    bool prefault;
    enum vmm_guest_pages guest_pages;
    enum vmm_numa_mode numa;
    uint64_t numa_nodes;               /* bitmask of host nodes for numa= */
    unsigned nvnodes;                  /* 0: no vNUMA layout */
    struct vmm_vnode vnode[VMM_MAX_VNODES];
    enum vmm_pin_policy pin_policy;
    int pin_node;                      /* for node:N */
    unsigned npin;
    int pin[VMMB_MAX_VCPUS];           /* for a list */
    unsigned nvmm_pin;
    int vmm_pin[VMMB_MAX_VCPUS];
    bool vmm_pin_shared;               /* vmm_pin may be a vCPU's CPU: measured on purpose */
};

/* Each parser sets one field from its text and reports what was wrong with it.
 * Errors are VMM_EXIT_USAGE; callers reading INI files rewrap them with FILE:LINE. */
int vmm_parse_backing(const char *s, enum vmm_backing *out, struct vmm_err *e);
int vmm_parse_guest_pages(const char *s, enum vmm_guest_pages *out, struct vmm_err *e);
int vmm_parse_numa(const char *s, struct vmm_placement *p, struct vmm_err *e);
int vmm_parse_vnuma(const char *s, struct vmm_placement *p, struct vmm_err *e);
int vmm_parse_pin(const char *s, struct vmm_placement *p, struct vmm_err *e);
int vmm_parse_cpulist(const char *s, int *cpus, unsigned max, unsigned *n, struct vmm_err *e);
int vmm_parse_bool(const char *s, bool *out);
/* Applies one key=value; returns 1 when the key is not a placement key. */
int vmm_placement_set(struct vmm_placement *p, const char *key, const char *val,
                      struct vmm_err *e);

const char *vmm_backing_name(enum vmm_backing b);
const char *vmm_guest_pages_name(enum vmm_guest_pages g);
/* Canonical text of the whole placement, e.g. "backing=anonymous guest_pages=2m ...". */
void vmm_placement_describe(const struct vmm_placement *p, char *buf, unsigned len);

/* The page size backing guest memory on the host, in bytes. */
uint64_t vmm_backing_page_size(enum vmm_backing b);

/* ---- Resolution against the host ---- */

struct vmm_topology;

/* What a placement resolves to: one host CPU per vCPU (-1: not pinned), the guest node
 * of each vCPU, and the host node each guest node's memory must be on (-1: any). */
struct vmm_resolved {
    unsigned vcpus;
    int vcpu_cpu[VMMB_MAX_VCPUS];
    unsigned vcpu_vnode[VMMB_MAX_VCPUS];
    unsigned nvnodes;                  /* at least 1: the whole guest is node 0 */
    uint64_t vnode_size[VMM_MAX_VNODES];
    int vnode_host[VMM_MAX_VNODES];    /* expected host node, -1 when not bound to one */
};

/* Checks everything before a VM exists: CPUs exist and are online, nodes exist, the
 * vNUMA layout fits the memory, the hugetlb pool has the pages (the message says how
 * many are missing and the command that adds them), 1 GiB pages are supported.
 * Errors: VMM_EXIT_USAGE for impossible placements, VMM_EXIT_RESOURCES for pools. */
int vmm_placement_resolve(const struct vmm_placement *p, unsigned vcpus, uint64_t mem_bytes,
                          const struct vmm_topology *t, struct vmm_resolved *r,
                          struct vmm_err *e);

/* ---- Observation while the guest runs ---- */

struct vmm_vcpu_obs {
    int requested_cpu;                 /* -1: not pinned */
    uint64_t affinity[VMM_CPUSET_WORDS];
    uint64_t ran_on[VMM_CPUSET_WORDS]; /* CPUs seen at exits and by the supervisor */
};

struct vmm_vnode_obs {
    int requested_node;                /* -1: any */
    uint32_t sampled, on_requested, elsewhere, absent;
    int other_node;                    /* one node found that was not requested, -1 if none */
};

/* Guest memory as the host holds it, at one moment. */
struct vmm_mem_obs {
    bool taken;
    uint64_t rss_bytes, huge_bytes;    /* from /proc/self/smaps over guest RAM */
    struct vmm_vnode_obs vnode[VMM_MAX_VNODES];
};

#define VMM_OBS_AFTER_TOUCH 0          /* when the workload starts measuring */
#define VMM_OBS_AT_END 1

struct vmm_placement_obs {
    bool valid;
    char requested[256];               /* vmm_placement_describe() */
    uint64_t backing_page_size;
    unsigned nvcpus, nvnodes;
    struct vmm_vcpu_obs vcpu[VMMB_MAX_VCPUS];
    struct vmm_mem_obs mem[2];
    char mismatch[256];                /* empty when everything is where it was asked */
};

struct guest_mem;
/* Samples where guest memory is (move_pages on pages spread over each guest node) and how
 * much of it huge pages back (smaps). */
void vmm_observe_memory(const struct guest_mem *gm, const struct vmm_resolved *r,
                        struct vmm_mem_obs *out);
/* Compares what was observed with what was asked and writes obs->mismatch. */
void vmm_observe_judge(const struct vmm_placement *p, struct vmm_placement_obs *obs);
/* Requested vs observed, one line per vCPU and guest node, then the verdict. */
void vmm_observe_print(FILE *out, const struct vmm_placement_obs *obs);
/* "0,2-3" for a CPU bitmap. */
void vmm_cpuset_text(const uint64_t set[VMM_CPUSET_WORDS], char *buf, unsigned len);

#endif
