/* contention: loaded latency (MLC's --loaded_latency, multichase's -l). vCPU 0 chases
 * pointers over `size` bytes of its own guest node while k other vCPUs (k = 0..N-1, or
 * `streamers`) copy through buffers of their own on that same node, pausing `delay`
 * pause instructions after every 4 KiB to vary the load. Each batch gives the chaser's
 * `latency` and the streamers' aggregate `bandwidth` over the same interval, at the
 * point load=<k> layout=<uma|numa> (numa when the guest has more than one node: the
 * streamers on other nodes then load the interconnect too). */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"
#include "memlib.h"

#define CHUNK 4096u

struct ct_job {
    uint64_t sbytes, delay;
    double *sbuf[VMMB_MAX_VCPUS];
    volatile uint32_t stop;
    volatile uint32_t started;
    struct {
        volatile uint64_t bytes;
        char pad[56];
    } count[VMMB_MAX_VCPUS];
};

static void stream_job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct ct_job *j = arg;
    double *src = j->sbuf[v], *dst = j->sbuf[v] + j->sbytes / 2 / sizeof(double);
    uint64_t chunks = j->sbytes / 2 / CHUNK, per = CHUNK / sizeof(double), c = 0;
    int first = 1;
    while (!j->stop && !smp_abort_flag()) {
        double *s = src + c * per, *d = dst + c * per;
        for (uint64_t i = 0; i < per; i++)
            d[i] = s[i];
        j->count[v].bytes += 2 * CHUNK;
        if (first) /* measuring starts once every streamer is moving data */
            __atomic_add_fetch(&j->started, 1, __ATOMIC_RELEASE), first = 0;
        for (uint64_t p = 0; p < j->delay; p++)
            __asm__ volatile("pause");
        if (++c == chunks)
            c = 0;
    }
}

static uint64_t total_bytes(const struct ct_job *j, unsigned k)
{
    uint64_t s = 0;
    for (unsigned v = 1; v <= k; v++)
        s += j->count[v].bytes;
    return s;
}

static void measure(struct wl_ctx *ctx)
{
    const struct vmmb_boot_info *bi = ctx->bi;
    unsigned nv = bi->nr_vcpus;
    uint64_t size = wl_param(ctx, "size"), streamers = wl_param(ctx, "streamers");
    uint64_t iters = wl_param(ctx, "iters"), batches = wl_param(ctx, "batches");
    uint64_t warmup = wl_param(ctx, "warmup");
    if (streamers >= nv)
        wl_error(ctx, "streamers must be below the vCPU count (vCPU 0 chases)");
    int node = bi->vcpu_node[0];
    if (!size) {
        uint64_t cap = 4 * (bi->llc_bytes ? bi->llc_bytes : (32ull << 20));
        size = wl_mem_avail(ctx, node) / (nv + 1);
        size = size < cap ? size : cap;
        size &= ~((2ull << 20) - 1);
        if (size < (1ull << 20))
            wl_error(ctx, "too little memory on vCPU 0's node for the chaser and streamers");
    }
    void *chase = wl_alloc(ctx, node, size, 2ull << 20);
    static struct ct_job j;
    j.sbytes = size;
    j.delay = wl_param(ctx, "delay");
    for (unsigned v = 1; v < nv; v++)
        if (!(j.sbuf[v] = wl_alloc(ctx, node, size, 2ull << 20)))
            chase = 0;
    if (!chase)
        wl_error(ctx, "the chase and streaming buffers do not fit on vCPU 0's guest node: give "
                      "more memory or a smaller size");
    for (unsigned v = 1; v < nv; v++)
        memset(j.sbuf[v], 1, size);
    chase_build(chase, size / 64, 64, 0, 0xc0ffee11ull, 0);
    const char *layout = bi->nr_vnodes > 1 ? "numa" : "uma";
    wl_phase(VMMB_PHASE_MEASURE);
    unsigned k_lo = streamers ? (unsigned)streamers : 0;
    unsigned k_hi = streamers ? (unsigned)streamers : nv - 1;
    void *p = chase;
    for (unsigned k = k_lo; k <= k_hi; k++) {
        char pt[VMMB_POINT_MAX] = "";
        wl_point_add(pt, "load", k);
        wl_point_add_str(pt, "layout", layout);
        uint64_t mask = k >= 63 ? ~1ull : ((1ull << (k + 1)) - 1) & ~1ull;
        j.stop = 0;
        j.started = 0;
        if (k)
            wl_smp_start(ctx, mask, stream_job, &j);
        while (j.started < k)
            __asm__ volatile("pause");
        for (uint64_t b = 0; b < warmup + batches; b++) {
            uint32_t fl = b < warmup ? VMMB_REC_WARMUP : 0;
            uint64_t b0 = total_bytes(&j, k), t0 = tsc_begin();
            p = chase_run(p, iters);
            uint64_t t1 = tsc_end(), b1 = total_bytes(&j, k);
            wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)b, fl, iters, t1 - t0, pt);
            if (k && b1 > b0)
                wl_record_point(ctx, 0, VMMB_REC_BYTES, (uint32_t)b, fl, b1 - b0, t1 - t0, pt);
        }
        j.stop = 1;
        if (k)
            wl_smp_wait(ctx, mask);
    }
}

WORKLOAD_FLAGS(contention, "contention",
               "loaded latency: one vCPU chases while k others stream (latency vs bandwidth)",
               "ns", VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("size", "chase and per-streamer buffer, bytes (0: from memory)", 0, 0,
                        1ull << 40),
               WL_PARAM("streamers", "streaming vCPUs (0: each count 0..N-1)", 0, 0, 63),
               WL_PARAM("delay", "pause instructions after each 4 KiB a streamer copies", 0, 0,
                        1000000),
               WL_PARAM("iters", "dependent accesses per latency batch", 200000, 1000,
                        1000000000),
               WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
