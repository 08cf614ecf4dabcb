/* eoi and cr8: the cost of one APIC register write, in batches like the exit workloads.
 *   eoi  writes the x2APIC EOI MSR with no interrupt in service (kvm-unit-tests' `eoi`):
 *        KVM's EOI path without the delivery around it.
 *   cr8  writes the task priority through CR8 (kvm-unit-tests' `mov_to_cr8`), 0 each
 *        time so nothing is ever masked.
 * Both with KVM's in-kernel APIC (VMMB_WL_IRQ), ring 0 only (privileged). */
#include "irq_wl.h"

static void body_eoi(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++)
        wrmsr(MSR_X2APIC_EOI, 0);
}

static void body_cr8(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++)
        __asm__ volatile("mov %0, %%cr8" :: "r"(0ull) : "memory");
}

static void measure_eoi(struct wl_ctx *ctx)
{
    if (irq_unavailable)
        wl_unsupported(ctx, irq_unavailable);
    wl_run_batches(ctx, body_eoi);
}

static void measure_cr8(struct wl_ctx *ctx)
{
    if (irq_unavailable)
        wl_unsupported(ctx, irq_unavailable);
    wl_run_batches(ctx, body_cr8);
}

WORKLOAD_FLAGS(eoi, "eoi", "x2APIC EOI write with nothing in service", "ns", VMMB_RING0,
               VMMB_WL_IRQ, measure_eoi,
               WL_PARAM_RING(0, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
WORKLOAD_FLAGS(cr8, "cr8", "TPR write through CR8 (mov to cr8)", "ns", VMMB_RING0, VMMB_WL_IRQ,
               measure_cr8,
               WL_PARAM_RING(0, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
