/* Per-vCPU interrupt setup for VMMB_WL_IRQ workloads (guest/irq.h), at CPL0, once. */
#include "guest/irq.h"

#include <stdbool.h>

#include "guest/lib.h"

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

#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define LVT_TSC_DEADLINE (2u << 17)

const char *irq_watchdog_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & CPUID1_ECX_TSC_DEADLINE))
        return "the vCPU's CPUID does not offer the TSC-deadline timer, which bounds each "
               "wait in HLT: run it with halt=0";
    wrmsr(MSR_X2APIC_LVTT, LVT_TSC_DEADLINE | IRQ_VEC_WAKE);
    return 0;
}

uint64_t irq_watchdog_arm(uint64_t timeout)
{
    uint64_t deadline = tsc_begin() + timeout;
    wrmsr(MSR_TSC_DEADLINE, deadline);
    return deadline;
}

int irq_halt_until(unsigned vcpu, uint64_t target, uint64_t deadline)
{
    int rc = 0;
    while (irq_count(vcpu) < target) {
        /* the watchdog's interrupt ends the hlt; a spurious wake-up goes back to it */
        if (tsc_begin() >= deadline) {
            rc = -1;
            break;
        }
        irq_sti_hlt();
    }
    wrmsr(MSR_TSC_DEADLINE, 0);
    return rc;
}

/* appends s to buf (size n, NUL-terminated), truncating */
static void append(char *buf, size_t n, const char *s)
{
    size_t i = strlen(buf);
    strlcpy_g(buf + i, s, n - i);
}

const char *irq_lost_reason(const char *what, uint64_t ms, unsigned vector, const char *note)
{
    static char reason[128];
    uint32_t bit = 1u << (vector % 32);
    bool irr = rdmsr(MSR_X2APIC_IRR0 + vector / 32) & bit;
    bool isr = rdmsr(MSR_X2APIC_ISR0 + vector / 32) & bit;
    reason[0] = '\0';
    append(reason, sizeof reason, what);
    append(reason, sizeof reason, " not delivered within ");
    char digits[21];
    append(reason, sizeof reason, u64_decimal(ms, digits));
    append(reason, sizeof reason, irr ? " ms (pending in the APIC's IRR: not taken)"
                                  : isr ? " ms (in service: never ended)"
                                        : " ms (never reached the APIC)");
    if (note) {
        append(reason, sizeof reason, "; ");
        append(reason, sizeof reason, note);
    }
    return reason;
}
