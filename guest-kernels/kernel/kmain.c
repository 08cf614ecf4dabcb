/* The ring-0 part of the guest kernel: install the IDT and TSS, then run the workload,
 * normally at CPL3. Everything at CPL0 is emulated on the test host (about 500 ns an
 * instruction), so this does the least it can.
 *
 * Secondary vCPUs of a multi-vCPU workload (VMMB_WL_SMP) do the same with their own TSS
 * and stacks, then serve jobs in ring 3 (smp.c); for other workloads they park.
 *
 * A workload asked to run in ring 0 (`ring=0`) is called right here instead of after
 * the drop to CPL3: there is no way back up from CPL3 on every host (PVM raises #UD for
 * `int N` from CPL3, and its `syscall` reaches LSTAR without leaving CPL3). */
#include <stdint.h>

#include "guest/irq.h"
#include "guest/kernel.h"
#include "guest/x86.h"
#include "vmm/guest_abi.h"

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, attr;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));

#define IO_PORTS 0x800 /* covers COM1 and the vmm-min control ports */

struct tss {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
    /* Ports 0..IO_PORTS-1 open to CPL3 (bits clear), then the all-ones terminator.
     * IOPL 3 alone is not enough: PVM hosts run CPL3 with IOPL 0 whatever RFLAGS says,
     * but honour the bitmap. Ports past it stay closed to CPL3. */
    uint8_t iomap[IO_PORTS / 8 + 1];
} __attribute__((packed));

#define IDT_VECTORS 0x100 /* up to the interrupt workloads' vectors (guest/irq.h) */
#define KSTACK_SIZE 8192
#define USTACK_SIZE 32768

extern const uint64_t isr_table[32];
extern char kstacks[], ustacks[];
__attribute__((noreturn)) void enter_user(uint64_t entry, uint64_t rsp, uint64_t arg,
                                          uint64_t arg2);
__attribute__((noreturn)) void enter_user_irq(uint64_t entry, uint64_t rsp, uint64_t arg,
                                              uint64_t arg2);

static struct idt_entry idt[IDT_VECTORS] __attribute__((aligned(16)));
static struct tss tss[VMMB_MAX_VCPUS];

static void set_gate(unsigned vec, uint64_t fn, uint8_t dpl)
{
    idt[vec] = (struct idt_entry){
        .off0 = (uint16_t)fn, .sel = VMMB_SEL_KCODE, .ist = 0,
        .attr = (uint8_t)(0x8e | (dpl << 5)), /* present, 64-bit interrupt gate */
        .off1 = (uint16_t)(fn >> 16), .off2 = (uint32_t)(fn >> 32), .zero = 0,
    };
}

/* The IDT is shared; vCPU 0 fills it before any other vCPU gets work. Interrupt gates
 * only for the interrupt workloads: every other workload boots exactly as before. */
static void install_idt(const struct vmmb_boot_info *bi)
{
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, isr_table[v], 0);
    if (bi->workload_flags & VMMB_WL_IRQ)
        for (unsigned v = 0; v < IRQ_VEC_COUNT; v++)
            set_gate(IRQ_VEC_FIRST + v, irq_stub_table[v], 0);
}

static void load_idt(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" :: "m"(d));
}

/* Set by vCPU 0 once the IDT is filled; secondary vCPUs wait for it. */
static volatile uint32_t idt_ready;
/* The GDT has one TSS slot for all vCPUs: each writes its descriptor there and loads TR
 * while holding this lock (ltr caches the descriptor, so the next vCPU may rewrite it). */
static volatile uint32_t tss_lock;

/* Writes this vCPU's TSS descriptor into the slot the VMM left in its GDT and loads TR,
 * one vCPU at a time. */
static void load_tss(unsigned index)
{
    while (__atomic_exchange_n(&tss_lock, 1, __ATOMIC_ACQUIRE))
        cpu_pause();
    struct tss *t = &tss[index];
    t->rsp0 = (uint64_t)(uintptr_t)(kstacks + (uint64_t)(index + 1) * KSTACK_SIZE);
    t->iomap_base = (uint16_t)__builtin_offsetof(struct tss, iomap);
    t->iomap[IO_PORTS / 8] = 0xff;
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) g;
    __asm__ volatile("sgdt %0" : "=m"(g));
    uint64_t *gdt = (uint64_t *)(uintptr_t)g.base;
    uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof *t - 1;
    gdt[VMMB_SEL_TSS >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                             ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
    gdt[(VMMB_SEL_TSS >> 3) + 1] = base >> 32;
    __asm__ volatile("ltr %w0" :: "r"((uint16_t)VMMB_SEL_TSS));
    __atomic_store_n(&tss_lock, 0, __ATOMIC_RELEASE);
}

static int wants_ring0(const struct vmmb_boot_info *bi)
{
    for (uint32_t i = 0; i < bi->nr_params && i < VMMB_MAX_PARAMS; i++) {
        const char *n = bi->params[i].name;
        if (n[0] == 'r' && n[1] == 'i' && n[2] == 'n' && n[3] == 'g' && n[4] == '\0')
            return bi->params[i].value == 0;
    }
    return 0;
}

/* Interrupt workloads with an `rx_ring` parameter of 3 want their secondary vCPUs to
 * serve jobs in ring 3 with interrupts on (a receiver spinning at native speed on PVM
 * hosts); without it they serve in ring 0. */
static int wants_rx_ring3(const struct vmmb_boot_info *bi)
{
    static const char key[] = "rx_ring";
    for (uint32_t i = 0; i < bi->nr_params && i < VMMB_MAX_PARAMS; i++) {
        const char *n = bi->params[i].name;
        unsigned k = 0;
        while (k < sizeof key && n[k] == key[k])
            k++;
        if (k == sizeof key)
            return bi->params[i].value == 3;
    }
    return 0;
}

struct vmmb_mailbox *vmmb_mbox;

__attribute__((noreturn)) void kmain(const struct vmmb_boot_info *bi, uint64_t index)
{
    if (bi->magic != VMMB_BOOT_MAGIC || bi->abi_version != VMMB_ABI_VERSION)
        halt_forever();
    /* Every vCPU stores the same pointer: the mailbox is the one part of the boot info
     * the guest writes (guest_abi.h). */
    vmmb_mbox = (struct vmmb_mailbox *)(uintptr_t)&bi->mbox;
    uint64_t ustack = (uint64_t)(uintptr_t)(ustacks + (index + 1) * USTACK_SIZE);
    if (index != 0) {
        /* A secondary vCPU works only for multi-vCPU workloads, and only in ring 3; for
         * anything else it parks (the VMM ends its thread at the HLT). */
        int irq = (bi->workload_flags & VMMB_WL_IRQ) != 0;
        if (!(bi->workload_flags & VMMB_WL_SMP) || index >= bi->nr_vcpus ||
            (wants_ring0(bi) && !irq))
            halt_forever();
        while (!idt_ready)
            cpu_pause();
        load_idt();
        load_tss((unsigned)index);
        if (irq) {
            /* Interrupt workloads' helpers wait in HLT or write APIC MSRs: ring 0. */
            if (irq_cpu_init((unsigned)index))
                halt_forever();
            if (wants_rx_ring3(bi))
                enter_user_irq((uint64_t)(uintptr_t)smp_worker, ustack, (uint64_t)(uintptr_t)bi,
                               index);
            smp_worker(bi, index);
        }
        enter_user((uint64_t)(uintptr_t)smp_worker, ustack, (uint64_t)(uintptr_t)bi, index);
    }
    install_idt(bi);
    __atomic_store_n(&idt_ready, 1, __ATOMIC_RELEASE);
    load_idt();
    load_tss((unsigned)index);
    if (bi->workload_flags & VMMB_WL_IRQ)
        irq_unavailable = irq_cpu_init(0);
    if (wants_ring0(bi))
        workload_main(bi);
    enter_user((uint64_t)(uintptr_t)workload_main, ustack, (uint64_t)(uintptr_t)bi, 0);
}
