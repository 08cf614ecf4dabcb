#include "x86_setup.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS  (1ull << 7)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE        (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define GiB (1ull << 30)
#define MiB2 (2ull << 20)

int x86_build_tables(struct guest_mem *gm, struct vmm_err *e)
{
    uint64_t top = guest_mem_top(gm);
    if (top < 4 * GiB)
        top = 4 * GiB;
    uint64_t gibs = (top + GiB - 1) / GiB;
    if (gibs > X86_PD_MAX)
        return vmm_err_set(e, VMM_EXIT_RESOURCES,
                           "guest memory reaching 0x%llx is more than the %llu GiB vmm-min maps; "
                           "give the guest less memory",
                           (unsigned long long)top, (unsigned long long)X86_PD_MAX);

    uint64_t *gdt = guest_mem_ptr(gm, X86_GDT_GPA, VMMB_GDT_ENTRIES * 8);
    uint64_t *pml4 = guest_mem_ptr(gm, X86_PML4_GPA, 0x1000);
    uint64_t *pdpt = guest_mem_ptr(gm, X86_PDPT_GPA, 0x1000);
    uint64_t *pd = guest_mem_ptr(gm, X86_PD_GPA, gibs * 0x1000);
    if (!gdt || !pml4 || !pdpt || !pd)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory too small for the page tables");

    memset(gdt, 0, VMMB_GDT_ENTRIES * 8);
    gdt[VMMB_SEL_KCODE >> 3] = 0x00af9b000000ffffull;  /* 64-bit code, DPL0 */
    gdt[VMMB_SEL_KDATA >> 3] = 0x00cf93000000ffffull;  /* data, DPL0 */
    gdt[VMMB_SEL_UDATA >> 3] = 0x00cff3000000ffffull;  /* data, DPL3 */
    gdt[VMMB_SEL_UCODE >> 3] = 0x00affb000000ffffull;  /* 64-bit code, DPL3 */
    /* VMMB_SEL_TSS: left empty for the guest's own TSS. */

    memset(pml4, 0, 0x1000);
    memset(pdpt, 0, 0x1000);
    pml4[0] = X86_PDPT_GPA | PTE_P | PTE_RW | PTE_US;
    for (uint64_t g = 0; g < gibs; g++) {
        pdpt[g] = (X86_PD_GPA + g * 0x1000) | PTE_P | PTE_RW | PTE_US;
        for (uint64_t i = 0; i < 512; i++) {
            uint64_t addr = g * GiB + i * MiB2;
            uint64_t flags = PTE_P | PTE_RW | PTE_US | PTE_PS;
            /* The hole below 4 GiB holds device windows: map it uncached. */
            if (addr >= VMM_LOW_RAM_MAX && addr < 4 * GiB)
                flags |= PTE_PCD | PTE_PWT;
            pd[g * 512 + i] = addr | flags;
        }
    }
    return 0;
}

static int set_cpuid(int kvm_fd, int vcpu_fd)
{
    int n = 128;
    for (;;) {
        struct kvm_cpuid2 *c = calloc(1, sizeof *c + n * sizeof(struct kvm_cpuid_entry2));
        if (!c)
            return -1;
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
            int err = errno;
            free(c);
            if (err == E2BIG && n < 4096) {
                n *= 2;
                continue;
            }
            errno = err;
            return -1;
        }
        int rc = ioctl(vcpu_fd, KVM_SET_CPUID2, c);
        free(c);
        return rc;
    }
}

static struct kvm_segment seg(uint16_t sel, int code)
{
    struct kvm_segment s = {
        .base = 0, .limit = 0xffffffff, .selector = sel, .present = 1,
        .type = code ? 11 : 3, .dpl = sel & 3, .s = 1, .g = 1,
        .l = code ? 1 : 0, .db = code ? 0 : 1,
    };
    return s;
}

int x86_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned index, uint64_t entry)
{
    if (set_cpuid(kvm_fd, vcpu_fd) < 0)
        return -1;
    struct kvm_sregs s;
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return -1;
    s.cs = seg(VMMB_SEL_KCODE, 1);
    s.ds = s.es = s.fs = s.gs = s.ss = seg(VMMB_SEL_KDATA, 0);
    s.gdt.base = X86_GDT_GPA;
    s.gdt.limit = VMMB_GDT_ENTRIES * 8 - 1;
    s.cr3 = X86_PML4_GPA;
    s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    s.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0)
        return -1;
    struct kvm_regs r;
    memset(&r, 0, sizeof r);
    r.rip = entry;
    r.rdi = X86_BOOT_INFO_GPA;
    r.rsi = index;
    r.rflags = 2;
    return ioctl(vcpu_fd, KVM_SET_REGS, &r);
}
