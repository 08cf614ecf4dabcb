/* null: no exit at all. Its latency is the timing floor's residue (about zero), and it
 * shows what the rest cost on top of the loop. `spin` adds a known busy-wait per
 * iteration, so a test can plant a regression of a known size. */
#include "guest/workload.h"
#include "guest/x86.h"

/* Read once before timing: a parameter lookup inside the timed body is itself work,
 * and at CPL0 on PVM hosts thousands of cycles of it. */
static uint64_t spin;

static void body(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    if (spin == 0) { /* the calibration loop's shape exactly: at CPL0 every instruction shows */
        for (uint64_t i = 0; i < iters; i++)
            __asm__ volatile("" ::: "memory");
        return;
    }
    for (uint64_t i = 0; i < iters; i++) {
        for (uint64_t s = 0; s < spin; s++)
            cpu_pause();
        __asm__ volatile("" ::: "memory");
    }
}

static void measure(struct wl_ctx *ctx)
{
    spin = wl_param(ctx, "spin");
    wl_run_batches(ctx, body);
}

WORKLOAD(null, "null", "no exit: the loop alone, the timing floor", "ns",
         VMMB_RING0 | VMMB_RING3, measure,
         WL_PARAM_RING(3, 0), WL_PARAM_ITERS(10000), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3),
         WL_PARAM("spin", "pause instructions added per iteration", 0, 0, 1000000));
