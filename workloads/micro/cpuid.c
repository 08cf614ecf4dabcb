/* cpuid: an exit KVM handles in the kernel, never reaching the VMM process. */
#include "guest/workload.h"
#include "guest/x86.h"

static void body(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    uint32_t a, b, c, d;
    for (uint64_t i = 0; i < iters; i++)
        cpuid(0, 0, &a, &b, &c, &d);
}

static void measure(struct wl_ctx *ctx) { wl_run_batches(ctx, body); }

WORKLOAD(cpuid, "cpuid", "CPUID exit, handled inside KVM", "ns", VMMB_RING0 | VMMB_RING3, measure,
         WL_PARAM_RING(3, 0), WL_PARAM_ITERS(1000), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
