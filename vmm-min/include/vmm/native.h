/* Native runs: a memory workload's own code on host threads placed like the vCPUs, over
 * memory placed like guest memory (placement key native = yes; see native_run.c). */
#ifndef VMM_NATIVE_H
#define VMM_NATIVE_H

#include <stddef.h>

#include "vmm/guest_abi.h"
#include "vmm/plan.h"
#include "vmm/result.h"

/* The host build of a workload, NULL when it has none (only workloads/memory/ do). */
const struct vmmb_workload_desc *native_find(const char *name);
/* "bw, contention, ..." */
void native_list(char *buf, size_t len);
/* The TSC frequency in kHz measured against CLOCK_MONOTONIC_RAW (for hosts without KVM,
 * whose KVM_GET_TSC_KHZ gives it otherwise); 0 when the TSC is not invariant. */
unsigned long long tsc_khz_calibrated(void);
/* Runs plan natively; always fills *res, like vmm_run. */
void native_run(const struct vmm_plan *plan, struct vmm_result *res);

#endif
