/* timer: the local APIC timer in TSC-deadline mode, armed d ahead for d from 0 (a
 * deadline already due: kvm-unit-tests' tscdeadline_immed) to 1 ms, the vCPU waiting in
 * HLT (halt=1, what an idle guest does) or spinning (halt=0; on PVM hosts a spinning ring
 * 0 is the instruction emulator, which notices an interrupt only milliseconds later).
 * Per event and d:
 *   what=lateness  handler entry minus the deadline (TSC stamps on one vCPU; an interrupt
 *                  before its deadline is an error, never stored);
 *   what=arm       the IA32_TSC_DEADLINE write between two stamps: the cost of arming.
 * Nothing is subtracted (no calibration records): `arm` includes one stamp pair, about
 * what the ipi and self-ipi workloads store as their timing floor. Ring 0 (MSRs). */
#include "irq_wl.h"

#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define LVT_TSC_DEADLINE (2u << 17)

static const uint64_t deadlines_ns[] = { 0, 1000, 10000, 100000, 1000000 };

static void measure(struct wl_ctx *ctx)
{
    irq_wl_check(ctx, 1);
    uint32_t a, b, c32, d;
    cpuid(1, 0, &a, &b, &c32, &d);
    if (!(c32 & CPUID1_ECX_TSC_DEADLINE))
        wl_unsupported(ctx, "the vCPU's CPUID does not offer the TSC-deadline timer");
    uint64_t events = wl_param(ctx, "events"), warmup = wl_param(ctx, "warmup");
    uint64_t wait = irq_wl_wait_cycles(ctx), khz = ctx->bi->tsc_khz;
    uint64_t halt = wl_param(ctx, "halt");
    uint64_t n = sizeof deadlines_ns / sizeof deadlines_ns[0];
    if (2 * n * (events + warmup) + 8 > ctx->capacity)
        wl_error(ctx, "result area too small for events: lower events");
    wrmsr(MSR_X2APIC_LVTT, LVT_TSC_DEADLINE | IRQ_VEC_TIMER);
    irq_enable();

    wl_phase(VMMB_PHASE_PROBE);
    uint64_t c = irq_count(0);
    wrmsr(MSR_TSC_DEADLINE, tsc_begin());
    if (irq_wait(0, c + 1, irq_wl_probe_cycles(ctx)))
        wl_unsupported(ctx, "a TSC-deadline timer interrupt was not delivered within 0.8 s");
    wl_phase(VMMB_PHASE_MEASURE);

    for (uint64_t k = 0; k < n; k++) {
        uint64_t dcyc = deadlines_ns[k] * khz / 1000000;
        char pl[VMMB_POINT_MAX] = "", pa[VMMB_POINT_MAX] = "";
        wl_point_add(pl, "deadline_ns", deadlines_ns[k]);
        wl_point_add_str(pl, "what", "lateness");
        wl_point_add(pa, "deadline_ns", deadlines_ns[k]);
        wl_point_add_str(pa, "what", "arm");
        for (uint64_t e = 0; e < warmup + events; e++) {
            uint32_t flags = e < warmup ? VMMB_REC_WARMUP : 0;
            c = irq_count(0);
            if (halt)
                irq_disable();
            uint64_t t0 = tsc_begin(), dl = t0 + dcyc;
            wrmsr(MSR_TSC_DEADLINE, dl);
            uint64_t t1 = tsc_end();
            if (halt) {
                /* sti;hlt is atomic: an interrupt already pending ends the hlt at once (and
                 * one delivered in sti's shadow does not strand it: irq_sti_hlt). A timer
                 * that never fires here is the run timeout's to end: the timer is the only
                 * watchdog a HLT has, and it is the thing measured. */
                while (irq_count(0) < c + 1)
                    irq_sti_hlt();
                irq_enable();
            } else if (irq_wait(0, c + 1, dcyc + wait))
                wl_unsupported(ctx, "a TSC-deadline timer interrupt was lost after the probe");
            uint64_t stamp = irq_cpu[0].stamp;
            if (stamp < dl)
                wl_error(ctx, "the timer interrupt came before its TSC deadline");
            wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, stamp - dl, pl);
            wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, t1 - t0, pa);
        }
    }
    irq_disable();
    wrmsr(MSR_TSC_DEADLINE, 0);
}

WORKLOAD_FLAGS(timer, "timer", "TSC-deadline timer: lateness 0..1 ms ahead, arming cost", "ns",
               VMMB_RING0, VMMB_WL_IRQ, measure,
               WL_PARAM_RING(0, 0), IRQ_PARAM_EVENTS(50), IRQ_PARAM_WARMUP(5), IRQ_PARAM_WAIT,
               WL_PARAM("halt", "wait in HLT (1) or spinning (0)", 1, 0, 1));
