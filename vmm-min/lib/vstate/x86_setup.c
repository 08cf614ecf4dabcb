#include "vstate/x86_setup.h"

#include "vstate/kvm_dev.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <stdbool.h>
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

/* Is [a, a+len) wholly guest RAM? Page tables map RAM with the requested page size and
 * everything else (the device hole) with uncached 2 MiB pages. */
static bool is_ram(const struct guest_mem *gm, uint64_t a, uint64_t len)
{
    return guest_mem_ptr(gm, a, len) != NULL;
}

static uint64_t ram_flags(uint64_t addr)
{
    uint64_t f = PTE_P | PTE_RW | PTE_US;
    return addr >= VMM_LOW_RAM_MAX && addr < 4 * GiB ? f | PTE_PCD | PTE_PWT : f;
}

/* Hands out zeroed 4 KiB table pages downward from the top of low RAM. */
struct table_alloc {
    struct guest_mem *gm;
    uint64_t next, floor;
};

static uint64_t *table_page(struct table_alloc *a, uint64_t *gpa)
{
    if (a->next < a->floor + 0x1000)
        return NULL;
    a->next -= 0x1000;
    *gpa = a->next;
    uint64_t *p = guest_mem_ptr(a->gm, a->next, 0x1000);
    memset(p, 0, 0x1000);
    return p;
}

int x86_build_tables(struct guest_mem *gm, enum vmm_guest_pages gp, uint64_t image_end,
                     struct x86_tables *out, struct vmm_err *e)
{
    return x86_build_tables_below(gm, gp, image_end, gm->slot[0].size, out, e);
}

int x86_build_tables_below(struct guest_mem *gm, enum vmm_guest_pages gp, uint64_t image_end,
                           uint64_t ceiling, struct x86_tables *out, struct vmm_err *e)
{
    if (ceiling > gm->slot[0].size)
        ceiling = gm->slot[0].size;
    uint64_t top = guest_mem_top(gm);
    if (top < 4 * GiB)
        top = 4 * GiB;
    uint64_t gibs = (top + GiB - 1) / GiB;
    if (gibs > 512)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory reaching 0x%llx is beyond the "
                           "512 GiB one page-directory-pointer table maps; give less",
                           (unsigned long long)top);
    uint64_t *gdt = guest_mem_ptr(gm, X86_GDT_GPA, VMMB_GDT_ENTRIES * 8);
    if (!gdt)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory too small for the GDT");
    memset(gdt, 0, VMMB_GDT_ENTRIES * 8);
    gdt[VMMB_SEL_KCODE >> 3] = 0x00af9b000000ffffull;  /* 64-bit code, DPL0 */
    gdt[VMMB_SEL_KDATA >> 3] = 0x00cf93000000ffffull;  /* data, DPL0 */
    gdt[VMMB_SEL_UDATA >> 3] = 0x00cff3000000ffffull;  /* data, DPL3 */
    gdt[VMMB_SEL_UCODE >> 3] = 0x00affb000000ffffull;  /* 64-bit code, DPL3 */
    /* VMMB_SEL_TSS: left empty for the guest's own TSS. */

    struct table_alloc a = { gm, ceiling & ~0xfffull, (image_end + 0xfff) & ~0xfffull };
    uint64_t pml4_gpa, pdpt_gpa, gpa;
    uint64_t *pml4 = table_page(&a, &pml4_gpa), *pdpt = table_page(&a, &pdpt_gpa);
    if (!pml4 || !pdpt)
        goto full;
    pml4[0] = pdpt_gpa | PTE_P | PTE_RW | PTE_US;
    for (uint64_t g = 0; g < gibs; g++) {
        uint64_t gbase = g * GiB;
        if (gp == VMM_GPAGES_1G) {
            pdpt[g] = gbase | ram_flags(gbase) | PTE_PS;
            continue;
        }
        uint64_t *pd = table_page(&a, &gpa);
        if (!pd)
            goto full;
        pdpt[g] = gpa | PTE_P | PTE_RW | PTE_US;
        for (uint64_t i = 0; i < 512; i++) {
            uint64_t base = gbase + i * MiB2;
            if (gp == VMM_GPAGES_2M || !is_ram(gm, base, MiB2)) {
                pd[i] = base | ram_flags(base) | PTE_PS;
                continue;
            }
            uint64_t *pt = table_page(&a, &gpa);
            if (!pt)
                goto full;
            pd[i] = gpa | PTE_P | PTE_RW | PTE_US;
            for (uint64_t k = 0; k < 512; k++)
                pt[k] = (base + k * 0x1000) | ram_flags(base);
        }
    }
    out->cr3 = pml4_gpa;
    out->gpa = a.next;
    out->size = (ceiling & ~0xfffull) - a.next;
    return 0;
full:
    return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory is too small to hold its %s page "
                       "tables next to the kernel image; give more memory or larger guest pages",
                       vmm_guest_pages_name(gp));
}

/* CPUID leaf 1 ECX bit 24: the TSC-deadline timer. */
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

static int set_cpuid(int kvm_fd, int vcpu_fd, bool irqchip)
{
    struct kvm_cpuid2 *c = kvm_supported_cpuid(kvm_fd);
    if (!c)
        return -1;
    /* KVM_GET_SUPPORTED_CPUID always clears the TSC-deadline bit, because the timer lives
     * in the in-kernel local APIC (Documentation/virt/kvm/api.rst); KVM reports it as
     * KVM_CAP_TSC_DEADLINE_TIMER instead, and the VMM that creates the irqchip sets it.
     * (PVM's KVM happens to return it set; the lab's SVM KVM does not.) */
    if (irqchip && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
        for (uint32_t i = 0; i < c->nent; i++)
            if (c->entries[i].function == 1)
                c->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
    int rc = ioctl(vcpu_fd, KVM_SET_CPUID2, c);
    free(c);
    return rc;
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

int x86_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned index, uint64_t entry, uint64_t cr3,
                   bool irqchip)
{
    if (set_cpuid(kvm_fd, vcpu_fd, irqchip) < 0)
        return -1;
    struct kvm_sregs s;
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return -1;
    s.cs = seg(VMMB_SEL_KCODE, 1);
    s.ds = s.es = s.fs = s.gs = s.ss = seg(VMMB_SEL_KDATA, 0);
    s.gdt.base = X86_GDT_GPA;
    s.gdt.limit = VMMB_GDT_ENTRIES * 8 - 1;
    s.cr3 = cr3;
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
