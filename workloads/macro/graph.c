/* graph: Graph500's BFS kernel. A Kronecker graph of 2^scale vertices and edgefactor x
 * 2^scale edges (generated on every vCPU, untimed), its undirected CSR, then `roots`
 * breadth-first searches per batch from random vertices with edges, each validated as
 * Graph500 requires (an invalid tree ends the run `error`). A batch is one `throughput`
 * sample at vcpus=<k>: the harmonic mean of its searches' TEPS (input edges inside the
 * searched component per second), the mean Graph500 reports. */
#include "guest/workload.h"
#include "macrolib.h"
#include "macwl.h"

struct graph_job {
    struct kron_edge *e;
    uint64_t ne;
    unsigned scale;
    uint32_t *perm, *qa, *qb;
    struct csr g;
    struct bfs b;
    uint64_t root;
    int generate;
    struct macwl_clock clk;
};

static void job(struct wl_ctx *ctx, unsigned v, void *arg)
{
    (void)ctx;
    struct graph_job *j = arg;
    uint64_t lo, hi;
    if (j->generate) {
        mac_slice(j->ne, v, j->clk.threads, &lo, &hi);
        kron_edges(j->e, lo, hi, j->scale, j->perm, 0x6a09e667);
        return;
    }
    mac_slice(j->g.nv, v, j->clk.threads, &lo, &hi);
    for (uint64_t i = lo; i < hi; i++)
        j->b.parent[i] = -1;
    wl_barrier_wait(&j->clk.bar, j->clk.threads);
    if (v == 0) {
        j->b.parent[j->root] = (int64_t)j->root;
        j->b.cur = j->qa;
        j->b.next = j->qb;
        j->b.cur[0] = (uint32_t)j->root;
        j->b.ncur = 1;
        j->b.nnext = 0;
    }
    macwl_clock_start(&j->clk, v);
    bfs_thread(&j->b, v);
    macwl_clock_stop(&j->clk, v);
}

static void measure(struct wl_ctx *ctx)
{
    unsigned threads = macwl_threads(ctx);
    macwl_placement(ctx);
    uint64_t scale = wl_param(ctx, "scale"), roots = wl_param(ctx, "roots");
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    static struct graph_job j;
    const char *fit = "graph: the graph does not fit in guest memory: give more memory or a "
                      "smaller scale";
    uint64_t nv = 1ull << scale;
    j.scale = (unsigned)scale;
    j.ne = wl_param(ctx, "edgefactor") * nv;
    j.e = macwl_alloc(ctx, j.ne * sizeof *j.e, fit);
    j.perm = macwl_alloc(ctx, nv * 4, fit);
    j.g.nv = nv;
    j.g.xoff = macwl_alloc(ctx, (nv + 1) * 8, fit);
    j.g.adj = macwl_alloc(ctx, 2 * j.ne * 4, fit);
    j.b.parent = macwl_alloc(ctx, nv * 8, fit);
    int64_t *level = macwl_alloc(ctx, nv * 8, fit);
    j.qa = macwl_alloc(ctx, nv * 4, fit);
    j.qb = macwl_alloc(ctx, nv * 4, fit);
    j.b.g = &j.g;
    j.b.threads = threads;
    j.clk.threads = threads;
    kron_perm(j.perm, nv, 0x5ca1e);
    j.generate = 1;
    wl_smp_run(ctx, macwl_mask(threads), job, &j);
    j.generate = 0;
    csr_build(&j.g, j.e, j.ne, (uint64_t *)level); /* level is the degree scratch here */
    char point[VMMB_POINT_MAX];
    macwl_point(point, threads);
    uint64_t rng = 0xb0f5;
    macwl_placement_report(ctx);
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < warmup + batches; b++) {
        uint64_t m[64], t[64], msum = 0;
        for (uint64_t r = 0; r < roots; r++) {
            do
                j.root = mac_rng(&rng) & (nv - 1);
            while (j.g.xoff[j.root + 1] == j.g.xoff[j.root]);
            wl_smp_run(ctx, macwl_mask(threads), job, &j);
            t[r] = j.clk.t1 - j.clk.t0;
            if (bfs_validate(&j.g, j.e, j.ne, j.b.parent, j.root, level, &m[r]) || !m[r])
                wl_error(ctx, "graph: a BFS tree failed Graph500's validation");
            msum += m[r];
        }
        /* The harmonic mean of TEPS_r = m_r / t_r as one rate: roots x mbar edges in
         * sum(t_r x mbar / m_r) cycles. */
        uint64_t mbar = msum / roots;
        double cyc = 0;
        for (uint64_t r = 0; r < roots; r++)
            cyc += (double)t[r] * (double)mbar / (double)m[r];
        wl_record_point(ctx, 0, VMMB_REC_OPS, (uint32_t)b, b < warmup ? VMMB_REC_WARMUP : 0,
                        roots * mbar, cyc < 1 ? 1 : (uint64_t)cyc, point);
    }
}

WORKLOAD_FLAGS(graph, "graph", "Graph500 Kronecker graph, parallel BFS, validated (macro)",
               "TEPS", VMMB_RING3, VMMB_WL_VECTOR | VMMB_WL_SMP, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("threads", "vCPUs taking part (0: all)", 0, 0, 64),
               WL_PARAM("scale", "log2 of the vertex count", 16, 6, 26),
               WL_PARAM("edgefactor", "edges per vertex", 16, 1, 64),
               WL_PARAM("roots", "searches per batch (harmonic mean)", 4, 1, 64),
               MACWL_PARAM_PLACEMENT,
               WL_PARAM_BATCHES(3), WL_PARAM_WARMUP(1));
