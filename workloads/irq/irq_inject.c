/* irq-inject: a host thread of vmm-min signals an irqfd (KVM_IRQFD, MSI route to vCPU 0,
 * vector VMMB_INJECT_VECTOR), the path every virtio interrupt takes; the guest handler
 * stamps the TSC. Per event the guest asks (VMMB_PORT_INJECT, one exit), waits in HLT
 * (halt=1) or spinning (halt=0), and the host thread, `delay_us` later so the guest is
 * already waiting, stamps the host TSC and write()s the eventfd.
 *
 * The figure, path=inject, is host write() -> guest handler entry: the handler's stamp
 * minus (the host stamp + the guest's TSC offset); path=request is the guest's own view,
 * request (before the port write) -> handler, which holds delay_us and the inject path. The correlation is KVM's own: the
 * vCPU's KVM_VCPU_TSC_OFFSET attribute (guest TSC = host TSC + offset, the guest TSC
 * running at the host's rate, which vmm-min never scales), which the VMM puts in the
 * mailbox. A host whose KVM does not report it ends the run unsupported. A host stamp
 * outside [request, handler] is an error (the correlation is wrong), never stored.
 * An interrupt that does not come within wait_ms of its request (delay_us included) ends
 * the run unsupported, saying whether the host wrote the irqfd and what the APIC holds
 * of the vector; in HLT the TSC-deadline timer is the watchdog that wakes the vCPU to say
 * it (guest/irq.h). */
#include <stdbool.h>

#include "guest/x86.h"
#include "irq_wl.h"

static struct vmmb_inject_mbox mbox __attribute__((aligned(64)));

/* Ends the run unsupported, saying where the interrupt of request number `asked` got to. */
static __attribute__((noreturn)) void lost(struct wl_ctx *ctx, uint64_t wait, uint64_t asked)
{
    irq_disable();
    bool wrote = __atomic_load_n(&mbox.seq, __ATOMIC_ACQUIRE) >= asked;
    wl_unsupported(ctx, irq_lost_reason("irqfd interrupt", wait / ctx->bi->tsc_khz,
                                        VMMB_INJECT_VECTOR,
                                        wrote ? "the host had written the irqfd"
                                              : "the host had not written the irqfd"));
}

static void measure(struct wl_ctx *ctx)
{
    irq_wl_check(ctx, 1);
    uint64_t events = wl_param(ctx, "events"), warmup = wl_param(ctx, "warmup");
    uint64_t wait = irq_wl_wait_cycles(ctx), halt = wl_param(ctx, "halt");
    mbox.delay_us = (uint32_t)wl_param(ctx, "delay_us");
    /* wait_ms counts from the request, the host's delay_us included (a wait_ms under it
     * ends the first timed event unsupported: how the watchdog is tested); the probe, which
     * only asks whether the path works at all, waits the usual bound past delay_us */
    uint64_t probe = IRQ_PROBE_WAIT_MS * ctx->bi->tsc_khz +
                     (uint64_t)mbox.delay_us * ctx->bi->tsc_khz / 1000;
    const char *no_watchdog = halt ? irq_watchdog_init() : 0;
    if (no_watchdog)
        wl_unsupported(ctx, no_watchdog);
    outl(VMMB_PORT_INJECT_MBOX, (uint32_t)(uintptr_t)&mbox);
    if (!mbox.offset_known)
        wl_unsupported(ctx, "this host's KVM does not report the vCPU's TSC offset "
                            "(KVM_VCPU_TSC_OFFSET), so host and guest stamps cannot be compared");

    irq_enable();
    wl_phase(VMMB_PHASE_PROBE);
    uint64_t c = irq_count(0);
    outl(VMMB_PORT_INJECT, 1);
    if (irq_wait(0, c + 1, probe))
        lost(ctx, probe, 1);
    wl_phase(VMMB_PHASE_MEASURE);

    for (uint64_t e = 0; e < warmup + events; e++) {
        uint32_t flags = e < warmup ? VMMB_REC_WARMUP : 0;
        irq_disable();
        c = irq_count(0);
        /* HLT waits behind the watchdog, armed before the timed section: a lost interrupt
         * ends the run here after wait_ms, not at the run's timeout */
        uint64_t deadline = halt ? irq_watchdog_arm(wait) : 0;
        uint64_t t0 = tsc_begin();
        outl(VMMB_PORT_INJECT, 1);
        if (halt ? irq_halt_until(0, c + 1, deadline) : (irq_enable(), irq_wait(0, c + 1, wait)))
            lost(ctx, wait, e + 2); /* the probe was request 1 */
        irq_enable();
        uint64_t stamp = irq_cpu[0].stamp;
        uint64_t host = __atomic_load_n(&mbox.host_tsc, __ATOMIC_ACQUIRE) + mbox.tsc_offset;
        if (stamp < host)
            wl_error(ctx, "the guest handler's stamp precedes the host's write(): the "
                          "host/guest TSC correlation is wrong here");
        if (host < t0)
            wl_error(ctx, "the host's write() stamp precedes the guest's request: the "
                          "host/guest TSC correlation is wrong here");
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, stamp - host,
                        "path=inject");
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, stamp - t0,
                        "path=request");
    }
    irq_disable();
}

WORKLOAD_FLAGS(irq_inject, "irq-inject", "host thread irqfd write() -> guest handler (virtio's "
               "interrupt path)", "ns", VMMB_RING0, VMMB_WL_IRQ | VMMB_WL_IRQFD, measure,
               WL_PARAM_RING(0, 0), IRQ_PARAM_EVENTS(200), IRQ_PARAM_WARMUP(10), IRQ_PARAM_WAIT,
               WL_PARAM("halt", "wait in HLT (1) or spinning (0)", 1, 0, 1),
               WL_PARAM("delay_us", "host thread's wait before each write, microseconds", 300,
                        0, 100000));
