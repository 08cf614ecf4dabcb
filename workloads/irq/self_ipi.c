/* self-ipi: vCPU 0 sends itself an IPI (x2APIC SELF_IPI MSR) and waits for its own
 * handler, in HLT (halt=1: cli; write; sti; hlt, kvm-unit-tests' self_ipi_sti_hlt, race
 * free: sti's shadow lets hlt start before the interrupt is taken) or spinning with
 * interrupts on (halt=0: self_ipi_sti_nop). Per event: path=delivery, the write -> handler
 * entry (the handler's TSC stamp minus the stamp before the write), and path=total, the
 * write until the handler has returned (send, delivery, handler, EOI, IRET, and the wake
 * with halt=1). The calibration record times the same stamps and counter read with no
 * IPI. Ring 0: the APIC MSRs and HLT are privileged. */
#include "irq_wl.h"

static void measure(struct wl_ctx *ctx)
{
    irq_wl_check(ctx, 1);
    uint64_t events = wl_param(ctx, "events"), warmup = wl_param(ctx, "warmup");
    uint64_t wait = irq_wl_wait_cycles(ctx), halt = wl_param(ctx, "halt");
    irq_enable();
    wl_phase(VMMB_PHASE_PROBE);
    uint64_t c = irq_count(0);
    wrmsr(MSR_X2APIC_SELF_IPI, IRQ_VEC_SELF);
    if (irq_wait(0, c + 1, irq_wl_probe_cycles(ctx)))
        wl_unsupported(ctx, "a self-IPI was not delivered within 0.8 s");
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t e = 0; e < warmup + events; e++) {
        uint32_t flags = e < warmup ? VMMB_REC_WARMUP : 0;
        uint64_t t0 = tsc_begin();
        c = irq_count(0);
        uint64_t t1 = tsc_end();
        wl_record(ctx, VMMB_REC_CALIBRATION, (uint32_t)e, flags, 1, t1 - t0);
        if (halt) {
            irq_disable();
            t0 = tsc_begin();
            wrmsr(MSR_X2APIC_SELF_IPI, IRQ_VEC_SELF);
            while (irq_count(0) < c + 1)
                irq_sti_hlt();
            t1 = tsc_end();
            irq_enable();
        } else {
            t0 = tsc_begin();
            wrmsr(MSR_X2APIC_SELF_IPI, IRQ_VEC_SELF);
            if (irq_wait(0, c + 1, wait))
                wl_unsupported(ctx, "a self-IPI was lost after the probe: not delivered within "
                                    "wait_ms");
            t1 = tsc_end();
        }
        uint64_t stamp = irq_cpu[0].stamp;
        if (stamp < t0)
            wl_error(ctx, "the handler's stamp precedes the SELF_IPI write");
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, stamp - t0,
                        "path=delivery");
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, t1 - t0,
                        "path=total");
    }
    irq_disable();
}

WORKLOAD_FLAGS(self_ipi, "self-ipi", "self-IPI through the x2APIC: delivery and full cost",
               "ns", VMMB_RING0, VMMB_WL_IRQ, measure,
               WL_PARAM_RING(0, 0), IRQ_PARAM_EVENTS(200), IRQ_PARAM_WARMUP(10), IRQ_PARAM_WAIT,
               WL_PARAM("halt", "wait in HLT (1) or spinning (0)", 1, 0, 1));
