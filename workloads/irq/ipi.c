/* ipi and ipi-halt: vCPU 0 sends a fixed IPI to vCPU 1 (x2APIC ICR write) and waits until
 * vCPU 1's handler has counted it. Per event, two samples:
 *   path=oneway    ICR write -> handler entry on vCPU 1: the handler's TSC stamp minus the
 *                  stamp taken before the write (both vCPUs read the same TSC: KVM gives
 *                  the vCPUs of one VM one TSC offset; a stamp before the write is
 *                  reported as an error, never stored);
 *   path=roundtrip ICR write -> vCPU 0 sees the handler's count in shared memory.
 * The calibration record of each event times the same stamps and shared-memory read with
 * no IPI: the timing floor the VMM subtracts, and the workload's own overhead.
 *
 * In `ipi` vCPU 1 spins with interrupts on, in ring 3 (rx_ring=3, the default: native
 * speed on PVM hosts) or ring 0 (rx_ring=0: on PVM hosts that is the instruction
 * emulator, which takes milliseconds to notice an interrupt); in `ipi-halt` it waits in HLT, so the figure
 * is KVM's wake-up path, halt polling included (the host's halt_poll_ns is stored with the
 * run's host). vCPU 0 leaves `gap_us` between events so the receiver is back in HLT (or
 * spinning) before the next IPI. Ring 0: the ICR and HLT are privileged. */
#include "irq_wl.h"

struct rx {
    volatile uint32_t stop;
    uint32_t halt;
    uint32_t rx_ring3;
};

/* vCPU 1's job: take interrupts until told to stop. */
static void receive(struct wl_ctx *ctx, unsigned vcpu, void *arg)
{
    (void)ctx;
    (void)vcpu;
    struct rx *r = arg;
    if (r->halt) {
        /* interrupts off between checks, so the stop IPI cannot come after the check and
         * before the hlt: irq_sti_hlt wakes for one already pending */
        while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
            irq_sti_hlt();
        return;
    }
    if (!r->rx_ring3) /* in ring 3 interrupts are on already (enter_user_irq) */
        irq_enable();
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
        cpu_pause();
    if (!r->rx_ring3)
        irq_disable();
}

static void spin_cycles(uint64_t cycles)
{
    uint64_t t0 = tsc_begin();
    while (tsc_begin() - t0 < cycles)
        cpu_pause();
}

static void run_ipi(struct wl_ctx *ctx, uint32_t halt)
{
    irq_wl_check(ctx, 2);
    uint64_t events = wl_param(ctx, "events"), warmup = wl_param(ctx, "warmup");
    uint64_t wait = irq_wl_wait_cycles(ctx);
    uint64_t gap = wl_param(ctx, "gap_us") * ctx->bi->tsc_khz / 1000;
    static struct rx r;
    r.stop = 0;
    r.halt = halt;
    r.rx_ring3 = !halt && wl_param(ctx, "rx_ring") == 3;
    wl_smp_start(ctx, 1u << 1, receive, &r);

    /* Probe: one IPI, which this host may never deliver. */
    wl_phase(VMMB_PHASE_PROBE);
    spin_cycles(gap);
    uint64_t c = irq_count(1);
    irq_send_ipi(1, IRQ_VEC_IPI);
    if (irq_wait(1, c + 1, irq_wl_probe_cycles(ctx)))
        wl_unsupported(ctx, halt ? "an IPI to a halted vCPU was not delivered within 0.8 s"
                                 : "an IPI to a running vCPU was not delivered within 0.8 s");
    wl_phase(VMMB_PHASE_MEASURE);

    for (uint64_t e = 0; e < warmup + events; e++) {
        uint32_t flags = e < warmup ? VMMB_REC_WARMUP : 0;
        spin_cycles(gap);
        /* The floor: the same stamps and shared-memory read, no IPI. */
        uint64_t t0 = tsc_begin();
        c = irq_count(1);
        uint64_t t1 = tsc_end();
        wl_record(ctx, VMMB_REC_CALIBRATION, (uint32_t)e, flags, 1, t1 - t0);

        t0 = tsc_begin();
        irq_send_ipi(1, IRQ_VEC_IPI);
        if (irq_wait(1, c + 1, wait))
            wl_unsupported(ctx, "an IPI was lost after the probe: not delivered within wait_ms");
        t1 = tsc_end();
        uint64_t stamp = irq_cpu[1].stamp;
        if (stamp < t0)
            wl_error(ctx, "vCPU 1's handler stamp precedes the ICR write: the vCPUs' TSCs "
                          "disagree, so no one-way latency can be taken");
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, stamp - t0,
                        "path=oneway");
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)e, flags, 1, t1 - t0,
                        "path=roundtrip");
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    irq_send_ipi(1, IRQ_VEC_IPI); /* wakes a halted receiver to see stop */
    wl_smp_wait(ctx, 1u << 1);
}

static void measure_ipi(struct wl_ctx *ctx) { run_ipi(ctx, 0); }
static void measure_ipi_halt(struct wl_ctx *ctx) { run_ipi(ctx, 1); }

WORKLOAD_FLAGS(ipi, "ipi", "IPI vCPU 0 -> spinning vCPU 1: one-way and round trip", "ns",
               VMMB_RING0, VMMB_WL_SMP | VMMB_WL_IRQ, measure_ipi,
               WL_PARAM_RING(0, 0), IRQ_PARAM_EVENTS(200), IRQ_PARAM_WARMUP(10), IRQ_PARAM_WAIT,
               WL_PARAM("gap_us", "pause between events, microseconds", 20, 0, 100000),
               WL_PARAM("rx_ring", "ring vCPU 1 spins in (3 or 0)", 3, 0, 3));
WORKLOAD_FLAGS(ipi_halt, "ipi-halt", "IPI vCPU 0 -> vCPU 1 halted in HLT (wake-up path)", "ns",
               VMMB_RING0, VMMB_WL_SMP | VMMB_WL_IRQ, measure_ipi_halt,
               WL_PARAM_RING(0, 0), IRQ_PARAM_EVENTS(200), IRQ_PARAM_WARMUP(10), IRQ_PARAM_WAIT,
               WL_PARAM("gap_us", "pause between events, microseconds (vs halt_poll_ns)", 1000,
                        0, 100000));
