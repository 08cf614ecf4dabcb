/* What the interrupt workloads share: the checks before measuring and the wait limit. */
#ifndef WORKLOADS_IRQ_WL_H
#define WORKLOADS_IRQ_WL_H

#include "guest/irq.h"
#include "guest/workload.h"

/* Parameters every interrupt workload takes: events kept, warm-up events, and how long
 * one interrupt may take to arrive before the path counts as not delivered. On a loaded
 * PVM host a vCPU spinning in (emulated) ring 0 has been seen to take over a second to
 * take a pending interrupt, hence the generous default. The probe waits at most
 * IRQ_PROBE_WAIT_MS, under the VMM's 1 s probe timeout, so the guest names the path. */
#define IRQ_PARAM_EVENTS(d) WL_PARAM("events", "timed events kept (one sample each)", d, 1, 20000)
#define IRQ_PARAM_WARMUP(d) WL_PARAM("warmup", "events discarded first (stored, flagged)", d, 0, 1000)
#define IRQ_PARAM_WAIT WL_PARAM("wait_ms", "longest wait for one interrupt (then unsupported)", 5000, 1, 30000)
#define IRQ_PROBE_WAIT_MS 800u

/* Ends the run unsupported unless interrupts work here and the VM has `vcpus` vCPUs. */
static inline void irq_wl_check(struct wl_ctx *ctx, unsigned vcpus)
{
    if (irq_unavailable)
        wl_unsupported(ctx, irq_unavailable);
    if (ctx->bi->nr_vcpus < vcpus)
        wl_unsupported(ctx, "needs a second vCPU: run it with a config of vcpus >= 2");
    if (!ctx->bi->tsc_khz)
        wl_unsupported(ctx, "the TSC frequency is unknown, so no wait can be bounded");
    if (3 * (wl_param(ctx, "events") + wl_param(ctx, "warmup")) + 8 > ctx->capacity)
        wl_error(ctx, "result area too small for events: lower events");
}

/* wait_ms in TSC cycles. */
static inline uint64_t irq_wl_wait_cycles(const struct wl_ctx *ctx)
{
    return wl_param(ctx, "wait_ms") * ctx->bi->tsc_khz;
}

/* The probe's wait: wait_ms, at most IRQ_PROBE_WAIT_MS. */
static inline uint64_t irq_wl_probe_cycles(const struct wl_ctx *ctx)
{
    uint64_t ms = wl_param(ctx, "wait_ms");
    return (ms < IRQ_PROBE_WAIT_MS ? ms : IRQ_PROBE_WAIT_MS) * ctx->bi->tsc_khz;
}

#endif
