/* gups: HPC Challenge RandomAccess. A table of `size` bytes (a power of two, 8-byte
 * words), 4 updates per word per batch from HPCC's LFSR stream, split between the vCPUs
 * as HPCC's threaded version does (racing updates are allowed). Each batch is one
 * `throughput` sample (updates/s; GUP/s is 1e-9 of it) at the point vcpus=<k>, then
 * HPCC's verification: errors above 1% of the table (any at all on one vCPU, where no
 * update can race) end the run `error`. */
#include "guest/lib.h"
#include "guest/workload.h"
#include "macrolib.h"
#include "macwl.h"

struct gups_job {
    uint64_t *t, words, updates;
    struct macwl_clock clk;
};

static void job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct gups_job *j = arg;
    uint64_t lo, hi;
    mac_slice(j->words, v, j->clk.threads, &lo, &hi);
    gups_init(j->t, lo, hi);
    mac_slice(j->updates, v, j->clk.threads, &lo, &hi);
    macwl_clock_start(&j->clk, v);
    gups_update(j->t, j->words, lo, hi - lo);
    macwl_clock_stop(&j->clk, v);
}

static void measure(struct wl_ctx *ctx)
{
    unsigned threads = macwl_threads(ctx);
    macwl_placement(ctx);
    uint64_t size = wl_param(ctx, "size"), batches = wl_param(ctx, "batches");
    uint64_t warmup = wl_param(ctx, "warmup");
    if (size & (size - 1))
        wl_error(ctx, "gups: size must be a power of two (HPCC's table)");
    static struct gups_job j;
    j.words = size / 8;
    j.updates = 4 * j.words;
    j.t = macwl_alloc(ctx, size, "gups: the table does not fit in guest memory: give more "
                                 "memory or a smaller size");
    j.clk.threads = threads;
    char point[VMMB_POINT_MAX];
    macwl_point(point, threads);
    macwl_placement_report(ctx);
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < warmup + batches; b++) {
        wl_smp_run(ctx, macwl_mask(threads), job, &j);
        uint64_t cycles = j.clk.t1 - j.clk.t0;
        uint64_t errors = gups_verify(j.t, j.words, j.updates);
        if (errors * 100 > j.words || (threads == 1 && errors))
            wl_error(ctx, "gups: verification failed (more wrong table words than HPCC's 1%, "
                          "or any on one vCPU)");
        if (errors && b == warmup) {
            console_puts("gups: ");
            console_put_u64(errors);
            console_puts(" racing updates lost (HPCC allows 1% of the table)\n");
        }
        wl_record_point(ctx, 0, VMMB_REC_OPS, (uint32_t)b, b < warmup ? VMMB_REC_WARMUP : 0,
                        j.updates, cycles, point);
    }
}

WORKLOAD_FLAGS(gups, "gups", "HPCC RandomAccess updates, verified (macro: random access)",
               "updates/s", VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("threads", "vCPUs taking part (0: all)", 0, 0, 64),
               WL_PARAM("size", "table bytes, a power of two", 16u << 20, 1u << 16, 1ull << 40),
               MACWL_PARAM_PLACEMENT,
               WL_PARAM_BATCHES(3), WL_PARAM_WARMUP(1));
