#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include "vmm/guest_abi.h"

/* Finds the workload, prepares the result area, runs it and reports. Called at CPL3
 * normally, at CPL0 for ring=0; it does not care which. */
__attribute__((noreturn)) void workload_main(const struct vmmb_boot_info *bi);

#endif
