#include "guest/kernel.h"
#include "guest/lib.h"
#include "guest/workload.h"
#include "guest/tsc.h"
#include "guest/x86.h"

int tsc_end_uses_rdtscp = 1;

/* Each report goes to the mailbox first (a plain store), then to its port: vmm-min
 * acts on the port, QEMU drops that write and its supervisor reads the mailbox. */
void wl_phase(enum vmmb_phase phase)
{
    vmmb_mbox->phase = phase;
    outl(VMMB_PORT_PHASE, phase);
}

void wl_report_done(struct wl_ctx *ctx)
{
    uint64_t gpa = (uintptr_t)ctx->res;
    vmmb_mbox->done_gpa = gpa;
    outl(VMMB_PORT_DONE_HI, (uint32_t)(gpa >> 32));
    outl(VMMB_PORT_DONE, (uint32_t)gpa);
}

static __attribute__((noreturn)) void finish(struct wl_ctx *ctx, uint32_t status, const char *why)
{
    ctx->res->status = status;
    strlcpy_g(ctx->res->reason, why, sizeof ctx->res->reason);
    wl_report_done(ctx);
    halt_forever(); /* not reached: the VMM ends the run at the port write */
}

void wl_unsupported(struct wl_ctx *ctx, const char *reason)
{
    finish(ctx, VMMB_RESULT_UNSUPPORTED, reason);
}

void wl_error(struct wl_ctx *ctx, const char *reason)
{
    finish(ctx, VMMB_RESULT_ERROR, reason);
}

/* The calibration body: the same call and loop shape as a real body, doing nothing. */
static __attribute__((noinline)) void empty_body(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++)
        __asm__ volatile("" ::: "memory");
}

void wl_run_batches(struct wl_ctx *ctx, wl_body_fn body)
{
    uint64_t iters = wl_param(ctx, "iters");
    uint64_t batches = wl_param(ctx, "batches");
    uint64_t warmup = wl_param(ctx, "warmup");
    if (iters == 0 || batches == 0)
        wl_error(ctx, "iters and batches must be at least 1");
    if (2 * (warmup + batches) > ctx->capacity)
        wl_error(ctx, "result area too small for warmup+batches: lower batches");

    wl_phase(VMMB_PHASE_PROBE);
    body(ctx, 1);
    wl_phase(VMMB_PHASE_MEASURE);

    for (uint64_t b = 0; b < warmup + batches; b++) {
        uint32_t flags = b < warmup ? VMMB_REC_WARMUP : 0;
        uint64_t t0 = tsc_begin();
        empty_body(ctx, iters);
        uint64_t t1 = tsc_end();
        wl_record(ctx, VMMB_REC_CALIBRATION, (uint32_t)b, flags, iters, t1 - t0);
        t0 = tsc_begin();
        body(ctx, iters);
        t1 = tsc_end();
        wl_record(ctx, VMMB_REC_MEASURE, (uint32_t)b, flags, iters, t1 - t0);
    }
}
