/* sort: a parallel LSD radix sort of `keys` random 64-bit keys on the vCPUs. Each batch
 * fills the keys anew (untimed, with an order-independent checksum), sorts them (timed:
 * one `throughput` sample in keys/s at the point vcpus=<k>), then checks that they are
 * ascending and the same multiset; a wrong sort ends the run `error`. */
#include "guest/workload.h"
#include "macrolib.h"
#include "macwl.h"

struct sort_job {
    struct radix_sort rs;
    uint64_t seed;
    struct sort_sum part[VMMB_MAX_VCPUS];
    struct macwl_clock clk;
};

static void job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct sort_job *j = arg;
    uint64_t lo, hi;
    mac_slice(j->rs.n, v, j->rs.threads, &lo, &hi);
    sort_fill(j->rs.keys, lo, hi, j->seed);
    sort_checksum(j->rs.keys, lo, hi, &j->part[v]);
    macwl_clock_start(&j->clk, v);
    radix_sort_thread(&j->rs, v);
    macwl_clock_stop(&j->clk, v);
}

static void measure(struct wl_ctx *ctx)
{
    unsigned threads = macwl_threads(ctx);
    macwl_placement(ctx);
    uint64_t n = wl_param(ctx, "keys"), batches = wl_param(ctx, "batches");
    uint64_t warmup = wl_param(ctx, "warmup");
    static struct sort_job j;
    const char *fit = "sort: the keys and their scratch copy do not fit in guest memory: "
                      "give more memory or fewer keys";
    j.rs.n = n;
    j.rs.threads = threads;
    j.rs.keys = macwl_alloc(ctx, n * 8, fit);
    j.rs.tmp = macwl_alloc(ctx, n * 8, fit);
    j.rs.hist = macwl_alloc(ctx, (uint64_t)threads * 256 * 8, fit);
    j.clk.threads = threads;
    char point[VMMB_POINT_MAX];
    macwl_point(point, threads);
    macwl_placement_report(ctx);
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < warmup + batches; b++) {
        j.seed = 0x50f7 + b;
        wl_smp_run(ctx, macwl_mask(threads), job, &j);
        struct sort_sum in = { 0, 0 };
        for (unsigned v = 0; v < threads; v++)
            in.sum += j.part[v].sum, in.xr ^= j.part[v].xr;
        int bad = sort_verify(j.rs.keys, n, &in);
        if (bad)
            wl_error(ctx, bad == 1 ? "sort: the keys are not in order after sorting"
                                   : "sort: the sorted keys are not the input's keys");
        wl_record_point(ctx, 0, VMMB_REC_OPS, (uint32_t)b, b < warmup ? VMMB_REC_WARMUP : 0,
                        n, j.clk.t1 - j.clk.t0, point);
    }
}

WORKLOAD_FLAGS(sort, "sort", "parallel radix sort of 64-bit keys, verified (macro)", "keys/s",
               VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("threads", "vCPUs taking part (0: all)", 0, 0, 64),
               WL_PARAM("keys", "64-bit keys sorted per batch", 1u << 21, 1024, 1ull << 32),
               MACWL_PARAM_PLACEMENT,
               WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
