/* Per-vCPU interrupt setup for VMMB_WL_IRQ workloads (guest/irq.h), at CPL0, once. */
#include "guest/irq.h"

struct irq_cpu irq_cpu[VMMB_MAX_VCPUS];
const char *irq_unavailable;

#define CPUID1_ECX_X2APIC (1u << 21)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define SVR_ENABLE (1u << 8)

const char *irq_cpu_init(unsigned index)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & CPUID1_ECX_X2APIC))
        return "the vCPU's CPUID does not offer x2APIC";
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)&irq_cpu[index]);
    /* xAPIC -> x2APIC: EN must stay set while EXTD is turned on (SDM 10.12.5). */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_EN))
        return "the local APIC is disabled in IA32_APIC_BASE (no in-kernel irqchip?)";
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    wrmsr(MSR_X2APIC_SVR, SVR_ENABLE | IRQ_VEC_SPURIOUS);
    wrmsr(MSR_X2APIC_TPR, 0);
    return 0;
}
