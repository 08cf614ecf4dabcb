/* compute: the CPU-bound reference. A cache-blocked DGEMM C = A * B of order n, rows of C
 * split between the vCPUs; every batch is one multiplication, one `throughput` sample
 * (flop/s, 2n^3 flops) at the point vcpus=<k>, and is checked by Freivalds' method
 * before it counts (a wrong product ends the run `error`). Virtualization should cost it
 * nothing: guest/native near 1.00. */
#include "guest/workload.h"
#include "macrolib.h"
#include "macwl.h"

struct compute_job {
    double *a, *b, *c;
    uint64_t n;
    struct macwl_clock clk;
};

static void job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct compute_job *j = arg;
    uint64_t lo, hi;
    mac_slice(j->n, v, j->clk.threads, &lo, &hi);
    for (uint64_t i = lo * j->n; i < hi * j->n; i++)
        j->c[i] = 0;
    macwl_clock_start(&j->clk, v);
    dgemm_rows(j->a, j->b, j->c, j->n, lo, hi);
    macwl_clock_stop(&j->clk, v);
}

static void measure(struct wl_ctx *ctx)
{
    unsigned threads = macwl_threads(ctx);
    macwl_placement(ctx);
    uint64_t n = wl_param(ctx, "n"), batches = wl_param(ctx, "batches");
    uint64_t warmup = wl_param(ctx, "warmup");
    static struct compute_job j;
    const char *fit = "compute: three n x n matrices do not fit in guest memory: give more "
                      "memory or a smaller n";
    j.n = n;
    j.a = macwl_alloc(ctx, n * n * 8, fit);
    j.b = macwl_alloc(ctx, n * n * 8, fit);
    j.c = macwl_alloc(ctx, n * n * 8, fit);
    double *scratch = macwl_alloc(ctx, 2 * n * 8, fit);
    j.clk.threads = threads;
    dgemm_fill(j.a, j.b, n, 42);
    char point[VMMB_POINT_MAX];
    macwl_point(point, threads);
    macwl_placement_report(ctx);
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < warmup + batches; b++) {
        wl_smp_run(ctx, macwl_mask(threads), job, &j);
        if (dgemm_verify(j.a, j.b, j.c, n, b, scratch))
            wl_error(ctx, "compute: the product failed Freivalds' check (wrong result)");
        wl_record_point(ctx, 0, VMMB_REC_OPS, (uint32_t)b, b < warmup ? VMMB_REC_WARMUP : 0,
                        dgemm_flops(n), j.clk.t1 - j.clk.t0, point);
    }
}

WORKLOAD_FLAGS(compute, "compute", "blocked DGEMM, Freivalds-checked (macro: CPU-bound "
               "reference)", "flop/s", VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("threads", "vCPUs taking part (0: all)", 0, 0, 64),
               WL_PARAM("n", "matrix order", 320, 16, 8192),
               MACWL_PARAM_PLACEMENT,
               WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
