/* The x86 state the VMM prepares so that every vCPU enters 64-bit mode directly: GDT,
 * identity-mapped page tables with the requested guest page size, and the boot-info
 * page. */
#ifndef VMM_X86_SETUP_H
#define VMM_X86_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_abi.h"
#include "vmm/guest_mem.h"

#include "vmm/placement.h"

/* Fixed guest-physical layout below VMM_IMAGE_MIN_GPA. */
#define X86_GDT_GPA       0x1000ull
#define X86_BOOT_INFO_GPA 0x2000ull

/* Where the page tables went: the top of low RAM, reserved from the guest. */
struct x86_tables {
    uint64_t gpa, size;
    uint64_t cr3;
};

/* Builds the GDT and page tables in guest memory. The map covers guest RAM with pages of
 * `gp` and the rest of the first 4 GiB (the MMIO window) with 2 MiB uncached pages, all
 * user-accessible so workloads can run at CPL3.
 * Errors: VMM_EXIT_RESOURCES when the tables do not fit in low RAM. */
int x86_build_tables(struct guest_mem *gm, enum vmm_guest_pages gp, uint64_t image_end,
                     struct x86_tables *out, struct vmm_err *e);
/* The same with the tables growing down from `ceiling` (at most the end of low RAM)
 * instead: qemu-pc keeps them under the zones its firmware writes. */
int x86_build_tables_below(struct guest_mem *gm, enum vmm_guest_pages gp, uint64_t image_end,
                           uint64_t ceiling, struct x86_tables *out, struct vmm_err *e);

/* Puts vCPU fd into 64-bit mode at `entry` with the tables above, the host's supported
 * CPUID (with irqchip, plus the TSC-deadline timer when KVM offers it), rdi = boot info,
 * rsi = vCPU index. Returns -1 with errno on ioctl failure. */
int x86_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned index, uint64_t entry, uint64_t cr3,
                   bool irqchip);

#endif
