/* rdmsr / wrmsr of IA32_TSC_ADJUST: an MSR KVM intercepts and emulates (kvm-unit-tests
 * uses it for the same reason). wrmsr writes back the value it read, which changes
 * nothing. Ring 0 by necessity: MSR access from CPL3 faults. */
#include "guest/workload.h"
#include "guest/x86.h"

#define MSR_IA32_TSC_ADJUST 0x3b

static void body_rd(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++)
        (void)rdmsr(MSR_IA32_TSC_ADJUST);
}

static void body_wr(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    uint64_t v = rdmsr(MSR_IA32_TSC_ADJUST);
    for (uint64_t i = 0; i < iters; i++)
        wrmsr(MSR_IA32_TSC_ADJUST, v);
}

static int has_tsc_adjust(void)
{
    uint32_t a, b, c, d;
    cpuid(7, 0, &a, &b, &c, &d);
    return (b >> 1) & 1;
}

static void measure_rd(struct wl_ctx *ctx)
{
    if (!has_tsc_adjust())
        wl_unsupported(ctx, "CPUID does not offer IA32_TSC_ADJUST");
    wl_run_batches(ctx, body_rd);
}

static void measure_wr(struct wl_ctx *ctx)
{
    if (!has_tsc_adjust())
        wl_unsupported(ctx, "CPUID does not offer IA32_TSC_ADJUST");
    wl_run_batches(ctx, body_wr);
}


WORKLOAD(rdmsr, "rdmsr", "rdmsr of IA32_TSC_ADJUST, emulated by KVM", "ns", VMMB_RING0, measure_rd,
         WL_PARAM_RING(0, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
WORKLOAD(wrmsr, "wrmsr", "wrmsr of IA32_TSC_ADJUST (same value), emulated by KVM", "ns",
         VMMB_RING0, measure_wr,
         WL_PARAM_RING(0, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
