/* mmio-user: a store to an address with no RAM behind it: KVM decodes the instruction
 * and exits to the VMM process, which drops the write. */
#include "guest/workload.h"

static void body(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    volatile uint32_t *reg = (volatile uint32_t *)(uintptr_t)VMMB_MMIO_BENCH_GPA;
    for (uint64_t i = 0; i < iters; i++)
        *reg = (uint32_t)i;
}

static void measure(struct wl_ctx *ctx) { wl_run_batches(ctx, body); }

WORKLOAD(mmio, "mmio-user", "MMIO write exit to the VMM process (a null device)", "ns",
         VMMB_RING0 | VMMB_RING3, measure,
         WL_PARAM_RING(3, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
