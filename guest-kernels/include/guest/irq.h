/* Interrupts in the guest (VMMB_WL_IRQ workloads only): x2APIC mode, a handful of
 * interrupt gates whose handlers stamp the TSC and send EOI, and the helpers the
 * interrupt workloads (workloads/irq) share.
 *
 * Every vCPU's handler writes its own slot, found through the GS base (set once per vCPU
 * by irq_cpu_init), so a handler needs no MSR read to know where it runs: at CPL0 on PVM
 * hosts each instruction is emulated, and the first one after entry is the stamp. */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdint.h>

#include "guest/tsc.h"
#include "guest/x86.h"
#include "vmm/guest_abi.h"

/* Vectors: 0xf0-0xfd stamp, count and EOI (irq_entry.S); 0xfe is the halt watchdog's
 * (EOI, counted apart in `wakes`: it must not pass for the interrupt awaited); 0xff is
 * the spurious vector. */
#define IRQ_VEC_FIRST 0xf0u
#define IRQ_VEC_COUNT 16u
#define IRQ_VEC_IPI 0xf0u
#define IRQ_VEC_TIMER 0xf1u
#define IRQ_VEC_SELF 0xf2u
#define IRQ_VEC_INJECT 0xf3u
#define IRQ_VEC_WAKE 0xfeu
#define IRQ_VEC_SPURIOUS 0xffu

/* x2APIC MSRs (Intel SDM vol. 3, 10.12.1.2) */
#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC_ID 0x802u
#define MSR_X2APIC_TPR 0x808u
#define MSR_X2APIC_ISR0 0x810u /* 8 registers of 32 vectors each */
#define MSR_X2APIC_EOI 0x80bu
#define MSR_X2APIC_SVR 0x80fu
#define MSR_X2APIC_IRR0 0x820u
#define MSR_X2APIC_ICR 0x830u
#define MSR_X2APIC_LVTT 0x832u
#define MSR_X2APIC_SELF_IPI 0x83fu
#define MSR_GS_BASE 0xc0000101u

/* Written by the handlers of one vCPU (at offsets irq_entry.S knows), read by anyone. */
struct irq_cpu {
    volatile uint64_t stamp;    /* TSC at handler entry, last interrupt (offset 0) */
    volatile uint64_t count;    /* interrupts handled (offset 8) */
    volatile uint64_t vector;   /* last vector (offset 16) */
    volatile uint64_t wakes;    /* halt watchdog interrupts, IRQ_VEC_WAKE (offset 24) */
    uint64_t pad[4];
} __attribute__((aligned(64)));

extern struct irq_cpu irq_cpu[VMMB_MAX_VCPUS];
extern const uint64_t irq_stub_table[IRQ_VEC_COUNT];

/* At CPL0 on each vCPU of a VMMB_WL_IRQ workload: x2APIC on, APIC software-enabled with
 * the spurious vector, TPR 0, GS base at this vCPU's slot. NULL, or why the guest cannot
 * take interrupts (recorded for vCPU 0's workload: irq_unavailable). */
const char *irq_cpu_init(unsigned index);
extern const char *irq_unavailable;

/* With interrupts off (and off again on return): sti;hlt, waking for one interrupt, an
 * interrupt already pending included. Safe even where the host delivers an interrupt in
 * sti's shadow, just before the hlt (irq_entry.S, hlt_fixup). */
void irq_sti_hlt(void);

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }

/* A fixed, edge, physically addressed IPI to the vCPU whose x2APIC ID is dest (KVM gives
 * vCPU i the ID i). */
static inline void irq_send_ipi(uint32_t dest, uint32_t vector)
{
    wrmsr(MSR_X2APIC_ICR, ((uint64_t)dest << 32) | (1u << 14) | vector);
}

static inline uint64_t irq_count(unsigned vcpu)
{
    return __atomic_load_n(&irq_cpu[vcpu].count, __ATOMIC_ACQUIRE);
}

/* Waits until vCPU `vcpu` has handled at least `target` interrupts, for at most
 * `timeout` TSC cycles: 0, or -1 when it did not come (the workload says unsupported). */
static inline int irq_wait(unsigned vcpu, uint64_t target, uint64_t timeout)
{
    uint64_t t0 = tsc_begin();
    while (irq_count(vcpu) < target)
        if (tsc_begin() - t0 > timeout)
            return -1;
    return 0;
}

/* The halt watchdog: a wait in HLT for an interrupt that may never come (a host that
 * loses it) must end by itself, not at the run's timeout. It is the TSC-deadline timer
 * on IRQ_VEC_WAKE, which workloads that use the timer themselves cannot have.
 * irq_watchdog_init, once at CPL0: NULL, or why this vCPU has no watchdog (its CPUID
 * does not offer the TSC-deadline timer). */
const char *irq_watchdog_init(void);

/* Arms the watchdog `timeout` TSC cycles from now (before a timed section, so its MSR
 * write is not timed); returns the deadline for irq_halt_until. */
uint64_t irq_watchdog_arm(uint64_t timeout);

/* With interrupts off (and off again on return): until this vCPU (`vcpu`) has handled
 * `target` interrupts, sti;hlt (atomic: one already pending ends the hlt at once), up to
 * the armed `deadline` (TSC). 0, or -1 when it passed. Disarms the watchdog either way. */
int irq_halt_until(unsigned vcpu, uint64_t target, uint64_t deadline);

/* A run's reason for an interrupt that did not come: "WHAT not delivered within MS ms",
 * and what this vCPU's APIC holds of `vector` (IRR: KVM accepted it but the vCPU did not
 * take it; ISR: taken but not ended; neither: it never reached the APIC), so the report
 * tells a lost injection from a lost wake-up), then "; NOTE" when note is not NULL.
 * Truncated to the result's reason (128 bytes). */
const char *irq_lost_reason(const char *what, uint64_t ms, unsigned vector, const char *note);

#endif
