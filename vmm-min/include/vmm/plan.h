/* A run request checked against the guest image and the host before any VM exists:
 * the workload exists, every parameter is declared and in range, the ring is one the
 * workload supports, memory and vCPUs make sense. */
#ifndef VMM_PLAN_H
#define VMM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_abi.h"
#include "vmm/hypervisor.h"
#include "vmm/image.h"
#include "vmm/placement.h"
#include "vmm/pmu.h"
#include "vmm/topology.h"
#include "vmm/virtio_plan.h"

#define VMM_PARAMS_TEXT_MAX 256

struct vmm_request {
    const struct vmm_image *image;
    const char *workload;
    const char *const *params;   /* "key=value" strings */
    unsigned nparams;
    uint64_t mem_bytes;
    unsigned vcpus;
    double timeout_s;            /* whole run; 0 = default */
    double probe_timeout_s;      /* one probe of the workload's operation; 0 = default */
    bool echo_console;           /* copy guest console output to stderr as it comes */
    struct vmm_virtio_request virtio; /* devices and their notification path */
    struct vmm_placement placement;
    const struct vmm_topology *topology; /* NULL: load this host's */
    const char *counters;        /* host PMU counters on the vCPU threads (vmm/pmu.h); NULL: none */
    enum vmm_hypervisor hypervisor; /* which VMM runs it (vmm/hypervisor.h) */
};

struct vmm_plan {
    const struct vmm_image *image;
    const struct vmmb_workload_desc *workload;
    struct vmmb_param params[VMMB_MAX_PARAMS];  /* every declared parameter, in order */
    unsigned nparams;
    char params_text[VMM_PARAMS_TEXT_MAX];      /* canonical "k=v k=v", sorted by key */
    uint64_t mem_bytes;
    unsigned vcpus;
    double timeout_s, probe_timeout_s;
    bool echo_console;
    struct vmm_virtio_plan virtio;
    struct vmm_placement placement;
    struct vmm_resolved resolved;                /* CPUs and nodes on this host */
    struct vmm_counters counters;
    uint64_t llc_bytes;                          /* host LLC (hwloc), 0 when unknown */
    /* A device the workload needs that the request did not name, added by the plan
     * ("blk = null"); "" when none. Noted in the run's console log. */
    char default_device[64];
    enum vmm_hypervisor hypervisor;
};

#define VMM_DEFAULT_TIMEOUT_S 60.0
#define VMM_DEFAULT_PROBE_TIMEOUT_S 1.0

/* Errors: VMM_EXIT_USAGE for an unknown workload or parameter (listing the known ones),
 * an out-of-range value or a placement the host cannot honour; VMM_EXIT_RESOURCES for
 * memory and hugetlb pools; the message names the fix. */
int vmm_plan_make(const struct vmm_request *rq, struct vmm_plan *plan, struct vmm_err *e);
uint64_t vmm_plan_param(const struct vmm_plan *plan, const char *name, uint64_t dflt);

#endif
