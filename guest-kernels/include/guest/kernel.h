#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include "vmm/guest_abi.h"

/* Finds the workload, prepares the result area, runs it and reports. Called at CPL3
 * normally, at CPL0 for ring=0; it does not care which. */
__attribute__((noreturn)) void workload_main(const struct vmmb_boot_info *bi);
/* A secondary vCPU in ring 3: serves the jobs vCPU 0 posts (smp.c), forever. */
__attribute__((noreturn)) void smp_worker(const struct vmmb_boot_info *bi, uint64_t index);
/* The pieces of smp_worker, for the native runner's threads: mark vCPU `index` ready;
 * run its pending job if there is one (returns whether it ran one); clear all slots. */
void smp_online(unsigned index);
int smp_serve_once(unsigned index, uint64_t *seen);
void smp_reset(void);
extern volatile int smp_abort;
/* The boot info's mailbox (guest_abi.h, ABI 4), set by kmain before anything can report;
 * measure.c and the exception stubs store there before their port writes. */
extern struct vmmb_mailbox *vmmb_mbox;

#endif
