/* numa-matrix: Intel MLC's idle-latency and bandwidth matrices, inside the guest. For
 * every pair (guest node of the vCPUs, guest node of the memory): `latency`, a dependent
 * random chase by the first vCPU of the CPU node over a buffer of `size` bytes on the
 * memory node, and `bandwidth`, every vCPU of the CPU node (or `threads` of them)
 * reading its slice of that buffer, timed between two barriers (MLC's all-reads
 * traffic). Points: cpu_node=<n> mem_node=<m>. On a layout with one guest node the
 * matrix is 1x1 (the console says so); nodes=N demands an NxN matrix. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"
#include "memlib.h"

struct nm_job {
    void *buf;
    uint64_t size, iters, batches, warmup;
    unsigned cn, mn, nthreads, leader;
    unsigned member[VMMB_MAX_VCPUS];
    struct wl_barrier bar;
    volatile double sink;
};

static void point_of(char *pt, unsigned cn, unsigned mn)
{
    pt[0] = '\0';
    wl_point_add(pt, "cpu_node", cn);
    wl_point_add(pt, "mem_node", mn);
}

static void lat_job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    struct nm_job *j = arg;
    char pt[VMMB_POINT_MAX];
    point_of(pt, j->cn, j->mn);
    void *p = j->buf;
    for (uint64_t b = 0; b < j->warmup + j->batches; b++) {
        uint64_t t0 = tsc_begin();
        p = chase_run(p, j->iters);
        uint64_t t1 = tsc_end();
        wl_record_point(ctx, v, VMMB_REC_MEASURE, (uint32_t)b, b < j->warmup ? VMMB_REC_WARMUP : 0,
                        j->iters, t1 - t0, pt);
    }
}

static void bw_job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    struct nm_job *j = arg;
    unsigned me = 0;
    for (unsigned i = 0; i < j->nthreads; i++)
        if (j->member[i] == v)
            me = i;
    uint64_t elems = j->size / sizeof(double), per = (elems / j->nthreads) & ~7ull;
    const double *lo = (const double *)j->buf + per * me;
    char pt[VMMB_POINT_MAX];
    point_of(pt, j->cn, j->mn);
    for (uint64_t b = 0; b < j->warmup + j->batches; b++) {
        wl_barrier_wait(&j->bar, j->nthreads);
        uint64_t t0 = tsc_begin();
        double s = mem_read(lo, per);
        wl_barrier_wait(&j->bar, j->nthreads);
        uint64_t t1 = tsc_end();
        j->sink = s;
        if (v == j->leader)
            wl_record_point(ctx, v, VMMB_REC_BYTES, (uint32_t)b,
                            b < j->warmup ? VMMB_REC_WARMUP : 0,
                            per * sizeof(double) * j->nthreads, t1 - t0, pt);
    }
}

static void run_on(struct wl_ctx *ctx, uint64_t mask, wl_job_fn fn, struct nm_job *j)
{
    wl_smp_run(ctx, mask, fn, j);
}

static void measure(struct wl_ctx *ctx)
{
    const struct vmmb_boot_info *bi = ctx->bi;
    unsigned nn = bi->nr_vnodes ? bi->nr_vnodes : 1, nv = bi->nr_vcpus;
    uint64_t nodes = wl_param(ctx, "nodes"), size = wl_param(ctx, "size");
    uint64_t threads = wl_param(ctx, "threads");
    if (nodes && nodes != nn)
        wl_error(ctx, "nodes asks for a matrix of another size than the guest's layout");
    if (nn > 8)
        wl_error(ctx, "more than 8 guest nodes");
    for (unsigned n = 0; n < nn; n++) {
        int has = 0;
        for (unsigned v = 0; v < nv; v++)
            has |= bi->vcpu_node[v] == n;
        if (!has)
            wl_error(ctx, "a guest node has no vCPU: give every node a vCPU (more vcpus)");
    }
    if (!size) {
        uint64_t m = ~0ull;
        for (unsigned n = 0; n < nn; n++) {
            uint64_t a = wl_mem_avail(ctx, (int)n);
            m = a < m ? a : m;
        }
        uint64_t cap = 4 * (bi->llc_bytes ? bi->llc_bytes : (32ull << 20));
        size = m / 4 * 3;
        size = size < cap ? size : cap;
        size &= ~((2ull << 20) - 1);
        if (size < (1ull << 20))
            wl_error(ctx, "a guest node has less than about 2 MiB free: give more memory");
    }
    if (nn == 1)
        console_puts("numa-matrix: the guest has one node: a 1x1 matrix\n");
    void *buf[8];
    for (unsigned n = 0; n < nn; n++)
        if (!(buf[n] = wl_alloc(ctx, (int)n, size, 2ull << 20)))
            wl_error(ctx, "size does not fit on every guest node: give more memory or a "
                          "smaller size");
    static struct nm_job j;
    j.size = size;
    j.iters = wl_param(ctx, "iters");
    j.batches = wl_param(ctx, "batches");
    j.warmup = wl_param(ctx, "warmup");
    wl_phase(VMMB_PHASE_MEASURE);
    for (unsigned mn = 0; mn < nn; mn++) {
        chase_build(buf[mn], size / 64, 64, 0, 0x51ed2701ull + mn, 0);
        for (unsigned cn = 0; cn < nn; cn++) {
            j.buf = buf[mn];
            j.cn = cn;
            j.mn = mn;
            j.nthreads = 0;
            for (unsigned v = 0; v < nv; v++)
                if (bi->vcpu_node[v] == cn && (!threads || j.nthreads < threads))
                    j.member[j.nthreads++] = v;
            j.leader = j.member[0];
            uint64_t mask = 0;
            for (unsigned i = 0; i < j.nthreads; i++)
                mask |= 1ull << j.member[i];
            run_on(ctx, 1ull << j.leader, lat_job, &j);
            run_on(ctx, mask, bw_job, &j);
        }
    }
}

WORKLOAD_FLAGS(numa_matrix, "numa-matrix",
               "latency and read-bandwidth matrices: vCPUs of each node x memory of each node",
               "ns", VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("size", "buffer per node, bytes (0: 3/4 of the node, <= 4x LLC)", 0, 0,
                        1ull << 40),
               WL_PARAM("nodes", "matrix size demanded (0: whatever the layout has)", 0, 0, 8),
               WL_PARAM("threads", "vCPUs per node reading for bandwidth (0: all)", 0, 0, 64),
               WL_PARAM("iters", "dependent accesses per latency batch", 200000, 1000,
                        1000000000),
               WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
