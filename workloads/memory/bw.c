/* bw: STREAM (copy, scale, add, triad) on 1..N vCPUs. Three arrays of `array` bytes each
 * (0: four times the host's last-level cache, STREAM's rule, from the boot info), split
 * into equal slices, one per vCPU taking part. Each of `ntimes` rounds runs the four
 * kernels, each timed on vCPU 0 between two barriers of all participants; every kernel
 * of every round is one `bandwidth` sample (MB/s with STREAM's byte counts) at the point
 * kernel=<name> vcpus=<vCPUs taking part>; round 0 is flagged warm-up as STREAM skips it. The
 * arrays are checked afterwards as STREAM does. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"
#include "memlib.h"

#define SCALAR 3.0
#define DEFAULT_LLC (32ull << 20)

struct bw_job {
    double *a, *b, *c;
    uint64_t n;
    unsigned threads;
    enum stream_kernel k;
    int init;
    struct wl_barrier bar;
    uint64_t t0, t1;
};

static void slice(const struct bw_job *j, unsigned v, uint64_t *lo, uint64_t *hi)
{
    /* Slices start on 64-byte boundaries (8 doubles). */
    uint64_t per = (j->n / j->threads + 7) & ~7ull;
    *lo = per * v < j->n ? per * v : j->n;
    *hi = v + 1 == j->threads || per * (v + 1) > j->n ? j->n : per * (v + 1);
}

static void job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct bw_job *j = arg;
    uint64_t lo, hi;
    slice(j, v, &lo, &hi);
    if (j->init) {
        for (uint64_t i = lo; i < hi; i++)
            j->a[i] = 1.0, j->b[i] = 2.0, j->c[i] = 0.0;
        return;
    }
    wl_barrier_wait(&j->bar, j->threads);
    if (v == 0)
        j->t0 = tsc_begin();
    stream_run(j->k, j->a, j->b, j->c, SCALAR, lo, hi);
    wl_barrier_wait(&j->bar, j->threads);
    if (v == 0)
        j->t1 = tsc_end();
}

static void measure(struct wl_ctx *ctx)
{
    unsigned nv = ctx->bi->nr_vcpus;
    uint64_t array = wl_param(ctx, "array"), ntimes = wl_param(ctx, "ntimes");
    uint64_t threads = wl_param(ctx, "threads");
    if (threads > nv)
        wl_error(ctx, "threads is larger than the VM's vCPU count");
    if (array == 0) {
        uint64_t llc = ctx->bi->llc_bytes ? ctx->bi->llc_bytes : DEFAULT_LLC;
        array = 4 * llc;
    }
    uint64_t n = array / sizeof(double);
    static struct bw_job j;
    j.a = wl_alloc(ctx, -1, array, 2ull << 20);
    j.b = wl_alloc(ctx, -1, array, 2ull << 20);
    j.c = wl_alloc(ctx, -1, array, 2ull << 20);
    if (!j.a || !j.b || !j.c)
        wl_error(ctx, "three STREAM arrays of `array` bytes (default 4x the LLC) do not fit "
                      "in guest memory: give more memory or a smaller array");
    j.n = n;
    j.threads = nv;
    j.init = 1;
    wl_smp_run(ctx, nv >= 64 ? ~0ull : (1ull << nv) - 1, job, &j);
    j.init = 0;
    wl_phase(VMMB_PHASE_MEASURE);
    unsigned t_lo = threads ? (unsigned)threads : 1, t_hi = threads ? (unsigned)threads : nv;
    unsigned rounds = 0;
    for (unsigned t = t_lo; t <= t_hi; t++) {
        j.threads = t;
        uint64_t mask = t >= 64 ? ~0ull : (1ull << t) - 1;
        for (uint64_t r = 0; r < ntimes; r++, rounds++) {
            for (int k = 0; k < STREAM_KERNELS; k++) {
                j.k = (enum stream_kernel)k;
                wl_smp_run(ctx, mask, job, &j);
                char point[VMMB_POINT_MAX] = "";
                wl_point_add_str(point, "kernel", stream_kernel_name[k]);
                wl_point_add(point, "vcpus", t);
                wl_record_point(ctx, 0, VMMB_REC_BYTES, (uint32_t)r, r == 0 ? VMMB_REC_WARMUP : 0,
                                stream_bytes(j.k, n), j.t1 - j.t0, point);
            }
        }
    }
    if (stream_check(j.a, j.b, j.c, n, SCALAR, rounds))
        wl_error(ctx, "STREAM arrays hold wrong values after the run");
}

WORKLOAD_FLAGS(bw, "bw", "STREAM copy/scale/add/triad bandwidth on 1..N vCPUs", "MB/s",
               VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("array", "bytes per array (0: 4x the host LLC)", 0, 0, 1ull << 40),
               WL_PARAM("threads", "vCPUs taking part (0: each count 1..N)", 0, 0, 64),
               WL_PARAM("ntimes", "rounds of the four kernels (first is warm-up)", 10, 2, 1000));
