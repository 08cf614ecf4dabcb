/* The VMM's entry points: check that KVM is usable, then run one planned guest. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include "vmm/error.h"
#include "vmm/plan.h"
#include "vmm/result.h"

/* Opens /dev/kvm and checks the API version and the capabilities vmm-min needs.
 * Errors: VMM_EXIT_NO_KVM with the cause (missing, permission, API) and the fix. */
int vmm_kvm_check(struct vmm_err *e);

/* Builds the VM, runs the guest to completion, failure or timeout, and fills *res
 * (initialised here). Never exits or aborts the process because of the guest.
 * plan->hypervisor picks the VMM: vmm-min's own exit loop, or QEMU on the same guest
 * memory (vmm-min/lib/qemu/). Under QEMU, res->exits is unknown and stays 0 (QEMU
 * counts no KVM_RUN returns for us), and the vmm_cpu_* samples of vmm-min's own
 * threads are not taken. */
void vmm_run(const struct vmm_plan *plan, struct vmm_result *res);

#endif
