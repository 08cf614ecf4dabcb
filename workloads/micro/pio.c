/* pio-user: a port write that exits all the way to the VMM process and back. */
#include "guest/workload.h"
#include "guest/x86.h"

static void body(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++)
        outl(VMMB_PORT_BENCH, (uint32_t)i);
}

static void measure(struct wl_ctx *ctx) { wl_run_batches(ctx, body); }

WORKLOAD(pio, "pio-user", "port I/O exit to the VMM process (out to a null port)", "ns",
         VMMB_RING0 | VMMB_RING3, measure,
         WL_PARAM_RING(3, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
