#ifndef VMM_KVM_DEV_H
#define VMM_KVM_DEV_H

#include <linux/kvm.h>

#include "vmm/error.h"

/* Opens $VMMB_KVM_DEV or /dev/kvm and checks the API and the capabilities vmm-min needs.
 * Returns the fd, or -1 with VMM_EXIT_NO_KVM naming the cause and the fix. */
int kvm_open(struct vmm_err *e);
/* KVM_GET_SUPPORTED_CPUID, malloc'd; NULL on failure. */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd);
/* Whether KVM lets guests use 1 GiB pages (pdpe1gb in its supported CPUID): 1, 0, or -1
 * when KVM cannot be asked. PVM hosts say no even where the CPU has them. */
int kvm_guest_has_1g_pages(void);
/* The TSC frequency KVM gives guests (KVM_GET_TSC_KHZ of a scratch vCPU), so native runs
 * convert cycles exactly as guest runs do; 0 when KVM cannot say. */
unsigned long long kvm_host_tsc_khz(void);

#endif
