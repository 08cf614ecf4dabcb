/* The x86 state the VMM prepares so that every vCPU enters 64-bit mode directly: GDT,
 * identity-mapped page tables with 2 MiB pages, and the boot-info page. */
#ifndef VMM_X86_SETUP_H
#define VMM_X86_SETUP_H

#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_abi.h"
#include "vmm/guest_mem.h"

/* Fixed guest-physical layout below VMM_IMAGE_MIN_GPA. */
#define X86_GDT_GPA       0x1000ull
#define X86_BOOT_INFO_GPA 0x2000ull
#define X86_PML4_GPA      0x3000ull
#define X86_PDPT_GPA      0x4000ull
#define X86_PD_GPA        0x5000ull  /* one page directory per GiB mapped follows */
#define X86_PD_MAX        ((0x100000ull - X86_PD_GPA) / 0x1000ull)

/* Builds GDT and page tables in guest memory. The map covers guest RAM and everything
 * below 4 GiB (the MMIO window), and is user-accessible so workloads can run at CPL3.
 * Errors: VMM_EXIT_RESOURCES when RAM reaches beyond what the tables can map. */
int x86_build_tables(struct guest_mem *gm, struct vmm_err *e);

/* Puts vCPU fd into 64-bit mode at `entry` with the tables above, the host's supported
 * CPUID, rdi = boot info, rsi = vCPU index. Returns -1 with errno on ioctl failure. */
int x86_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned index, uint64_t entry);

#endif
