/* kvs: a key-value store's request loop. An open-addressing hash table of `size` bytes
 * (16-byte slots) filled to `fill` percent, then every vCPU runs `iters` requests a batch
 * from its own trace (made before measuring): `set` percent SETs, the rest GETs, keys
 * Zipf-distributed with exponent zipf/100 (YCSB's 0.99 by default; 0: uniform). Every
 * 8th request is timed on its own (fenced TSC reads; an empty timed pair per batch is
 * the floor the VMM subtracts). Per batch: `throughput` (requests/s of all vCPUs) at
 * vcpus=<k>, and `latency` p50 and p99 (ns) at vcpus=<k> pct=50|99. Every GET checks the
 * value it read, the table is checked whole at the end: a miss or a bad value ends the
 * run `error`. */
#include "guest/tsc.h"
#include "guest/workload.h"
#include "macrolib.h"
#include "macwl.h"

#define KV_SET (1ull << 63)
#define LAT_EVERY 8
#define CAL_PAIRS 64

struct kvs_job {
    struct kv_table t;
    uint64_t nkeys, iters, latcap, set_pct, version, trace_seed;
    uint64_t *trace, *lat;
    const struct zipf *z;
    int make_trace;
    struct {
        uint64_t nlat, bad, sink;
        char pad[40];
    } out[VMMB_MAX_VCPUS];
    struct macwl_clock clk;
};

static inline uint64_t kv_op(struct kv_table *t, uint64_t e, uint64_t version, uint64_t *sink)
{
    uint64_t key = kv_key(e & ~KV_SET);
    struct kv_slot *s = kv_find(t, key);
    if (!s)
        return 1;
    if (e & KV_SET) {
        __atomic_store_n(&s->val, kv_value(key, version), __ATOMIC_RELAXED);
        return 0;
    }
    uint64_t val = __atomic_load_n(&s->val, __ATOMIC_RELAXED);
    *sink += val;
    return ((val ^ key) & 0xffffffffu) != 0;
}

static void make_trace(struct kvs_job *j, unsigned v)
{
    uint64_t *tr = j->trace + v * j->iters, rng = j->trace_seed + v * 0x1234567ull;
    for (uint64_t i = 0; i < j->iters; i++) {
        uint64_t rank = j->z ? zipf_next(j->z, &rng) : mac_rng(&rng) % j->nkeys;
        /* Scatter the popular ranks over the records (YCSB hashes them too). */
        uint64_t rec = j->z ? mac_mix64(rank ^ 0x6b79) % j->nkeys : rank;
        tr[i] = rec | (mac_rng(&rng) % 100 < j->set_pct ? KV_SET : 0);
    }
}

static void job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct kvs_job *j = arg;
    if (j->make_trace) {
        make_trace(j, v);
        return;
    }
    const uint64_t *tr = j->trace + v * j->iters;
    uint64_t *lat = j->lat + v * j->latcap, n = 0, bad = 0, sink = 0;
    macwl_clock_start(&j->clk, v);
    for (uint64_t i = 0; i < j->iters; i++) {
        if (i % LAT_EVERY == 0 && n < j->latcap) {
            uint64_t t0 = tsc_begin();
            bad += kv_op(&j->t, tr[i], j->version, &sink);
            lat[n++] = tsc_end() - t0;
        } else {
            bad += kv_op(&j->t, tr[i], j->version, &sink);
        }
    }
    macwl_clock_stop(&j->clk, v);
    j->out[v].nlat = n;
    j->out[v].bad = bad;
    j->out[v].sink = sink;
}

/* p50 and p99 of every vCPU's timed requests of the batch, sorted in place. */
static void percentiles(struct kvs_job *j, struct radix_sort *rs, uint64_t *p50, uint64_t *p99)
{
    uint64_t n = 0;
    for (unsigned v = 0; v < j->clk.threads; v++)
        for (uint64_t i = 0; i < j->out[v].nlat; i++)
            j->lat[n++] = j->lat[v * j->latcap + i]; /* n <= v*latcap + i: moves down only */
    rs->n = n;
    rs->keys = j->lat;
    radix_sort_thread(rs, 0);
    *p50 = n ? j->lat[n / 2] : 0;
    *p99 = n ? j->lat[n * 99 / 100] : 0;
}

static void measure(struct wl_ctx *ctx)
{
    unsigned threads = macwl_threads(ctx);
    macwl_placement(ctx);
    uint64_t size = wl_param(ctx, "size"), fill = wl_param(ctx, "fill");
    uint64_t theta = wl_param(ctx, "zipf"), batches = wl_param(ctx, "batches");
    uint64_t warmup = wl_param(ctx, "warmup");
    if (size & (size - 1))
        wl_error(ctx, "kvs: size must be a power of two (the table's slots)");
    static struct kvs_job j;
    static struct zipf z;
    static uint64_t hist1[1][256];
    const char *fit = "kvs: the table and the request traces do not fit in guest memory: give "
                      "more memory, a smaller size or fewer iters";
    j.iters = wl_param(ctx, "iters");
    j.set_pct = wl_param(ctx, "set");
    j.latcap = j.iters / LAT_EVERY + 1;
    j.t.slot = macwl_alloc(ctx, size, fit);
    j.t.mask = size / sizeof(struct kv_slot) - 1;
    j.nkeys = (j.t.mask + 1) * fill / 100;
    j.trace = macwl_alloc(ctx, threads * j.iters * 8, fit);
    j.lat = macwl_alloc(ctx, threads * j.latcap * 8, fit);
    struct radix_sort rs = { .tmp = macwl_alloc(ctx, threads * j.latcap * 8, fit),
                             .threads = 1, .hist = hist1 };
    j.clk.threads = threads;
    kv_clear(&j.t, 0, j.t.mask + 1);
    for (uint64_t i = 0; i < j.nkeys; i++)
        if (kv_insert(&j.t, kv_key(i), kv_value(kv_key(i), 0)))
            wl_error(ctx, "kvs: the table filled up while loading");
    if (theta)
        zipf_init(&z, j.nkeys, (double)theta / 100.0);
    j.z = theta ? &z : 0;
    j.trace_seed = 0x6b7673;
    j.make_trace = 1;
    wl_smp_run(ctx, macwl_mask(threads), job, &j);
    j.make_trace = 0;
    char point[VMMB_POINT_MAX], p50p[VMMB_POINT_MAX], p99p[VMMB_POINT_MAX];
    macwl_point(point, threads);
    macwl_point(p50p, threads);
    wl_point_add(p50p, "pct", 50);
    macwl_point(p99p, threads);
    wl_point_add(p99p, "pct", 99);
    macwl_placement_report(ctx);
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < warmup + batches; b++) {
        uint32_t flags = b < warmup ? VMMB_REC_WARMUP : 0;
        j.version = b + 1;
        wl_smp_run(ctx, macwl_mask(threads), job, &j);
        uint64_t cycles = j.clk.t1 - j.clk.t0, bad = 0;
        for (unsigned v = 0; v < threads; v++)
            bad += j.out[v].bad;
        if (bad)
            wl_error(ctx, "kvs: a request found no record or a wrong value");
        uint64_t cal = 0;
        for (unsigned k = 0; k < CAL_PAIRS; k++) {
            uint64_t t0 = tsc_begin();
            cal += tsc_end() - t0;
        }
        uint64_t p50, p99;
        percentiles(&j, &rs, &p50, &p99);
        wl_record_point(ctx, 0, VMMB_REC_CALIBRATION, (uint32_t)b, flags, CAL_PAIRS, cal, point);
        wl_record_point(ctx, 0, VMMB_REC_OPS, (uint32_t)b, flags, threads * j.iters, cycles,
                        point);
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)b, flags, 1, p50, p50p);
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)b, flags, 1, p99, p99p);
    }
    if (kv_verify(&j.t, j.nkeys))
        wl_error(ctx, "kvs: the table lost records or holds wrong values after the run");
}

WORKLOAD_FLAGS(kvs, "kvs", "hash-table key-value store, GET/SET mix, Zipf keys, p50/p99 "
               "(macro)", "requests/s", VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("threads", "vCPUs taking part (0: all)", 0, 0, 64),
               WL_PARAM("size", "table bytes, a power of two (16 per slot)", 16u << 20,
                        1u << 16, 1ull << 40),
               WL_PARAM("fill", "percent of slots holding a record", 50, 1, 90),
               WL_PARAM("set", "percent of requests that are SETs", 10, 0, 100),
               WL_PARAM("zipf", "Zipf exponent x100 (0: uniform keys)", 99, 0, 99),
               WL_PARAM("iters", "requests per vCPU per batch", 200000, 1000, 100000000),
               MACWL_PARAM_PLACEMENT,
               WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
