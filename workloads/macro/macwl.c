/* Shared workload-side helpers of the macro workloads (see macwl.h). */
#include "macwl.h"

#include "guest/tsc.h"

unsigned macwl_threads(struct wl_ctx *ctx)
{
    uint64_t t = wl_param(ctx, "threads"), nv = ctx->bi->nr_vcpus;
    if (t > nv)
        wl_error(ctx, "threads is larger than the VM's vCPU count: give fewer threads or "
                      "more vcpus");
    return t ? (unsigned)t : (unsigned)nv;
}

uint64_t macwl_mask(unsigned threads)
{
    return threads >= 64 ? ~0ull : (1ull << threads) - 1;
}

void macwl_point(char *point, unsigned threads)
{
    point[0] = '\0';
    wl_point_add(point, "vcpus", threads);
}

/* The placement of this run's data: the mode and the bytes placed per guest node. */
static struct {
    uint64_t mode;
    int straddled;
    uint64_t bytes[VMMB_MAX_VCPUS];
} placed;

void macwl_placement(struct wl_ctx *ctx)
{
    placed.mode = wl_param(ctx, "placement");
    placed.straddled = 0;
    for (unsigned n = 0; n < VMMB_MAX_VCPUS; n++)
        placed.bytes[n] = 0;
    if (placed.mode == MACWL_SPLIT && ctx->bi->nr_vnodes < 2)
        wl_error(ctx, "placement=1 (split) needs a vNUMA layout of two or more guest nodes: "
                      "give --vnuma 0:SIZE@hostN,1:SIZE@hostM or placement=0");
}

/* The ranges of guest nodes 0 and 1 that meet (node 0's top is node 1's bottom), or -1. */
static int meeting_ranges(struct wl_ctx *ctx, uint32_t *r0, uint32_t *r1)
{
    for (uint32_t i = 0; i < ctx->nranges; i++)
        for (uint32_t k = 0; k < ctx->nranges; k++)
            if (ctx->ranges[i].node == 0 && ctx->ranges[k].node == 1 &&
                ctx->ranges[i].hi == ctx->ranges[k].lo) {
                *r0 = i;
                *r1 = k;
                return 0;
            }
    return -1;
}

/* `bytes` across the boundary of guest nodes 0 and 1, about half on each; NULL when the
 * two do not meet or lack room. Takes node 1's range from the bottom (nothing of the
 * macro workloads gives memory back, so no mark has to remember it). */
static void *straddle(struct wl_ctx *ctx, uint64_t bytes, uint64_t align)
{
    uint32_t i, k;
    if (meeting_ranges(ctx, &i, &k))
        return 0;
    struct wl_range *r0 = &ctx->ranges[i], *r1 = &ctx->ranges[k];
    /* A boundary off the alignment (a native twin's host mapping that is not 2 MiB
     * aligned: the lab's) would make the aligned start split the buffer unevenly, by up
     * to a whole huge page (kvs's 4 MiB table went 3.8 to 0.2 MiB); huge pages cannot
     * span such a boundary anyway, so align to the page there. */
    if (r0->hi & (align - 1))
        align = 4096;
    uint64_t b = r0->hi, p = (b - bytes / 2) & ~(align - 1);
    if (bytes / 2 > b || p < r0->lo || p + bytes > r1->hi)
        return 0;
    r0->hi = p;
    r1->lo = p + bytes;
    placed.bytes[0] += b - p;
    placed.bytes[1] += p + bytes - b;
    return (void *)(uintptr_t)p;
}

void *macwl_alloc(struct wl_ctx *ctx, uint64_t bytes, const char *what)
{
    uint64_t align = bytes >= (2ull << 20) ? 2ull << 20 : 4096;
    wl_mem_avail(ctx, -1); /* sets up wl_alloc's ranges, which straddle() reads */
    void *p = 0;
    int node = -1;
    if (placed.mode == MACWL_NODE0) {
        p = wl_alloc(ctx, node = 0, bytes, align);
    } else if (placed.mode == MACWL_SPLIT && !placed.straddled) {
        placed.straddled = 1;
        if ((p = straddle(ctx, bytes, align)))
            return p;
    }
    if (!p && placed.mode == MACWL_SPLIT) {
        /* Whole, to the node with the fewest bytes that has room. */
        unsigned nn = ctx->bi->nr_vnodes < VMMB_MAX_VCPUS ? ctx->bi->nr_vnodes : VMMB_MAX_VCPUS;
        for (unsigned tries = 0; !p && tries < nn; tries++) {
            int best = -1;
            for (unsigned n = 0; n < nn; n++)
                if (wl_mem_avail(ctx, (int)n) >= bytes + align &&
                    (best < 0 || placed.bytes[n] < placed.bytes[best]))
                    best = (int)n;
            if (best < 0)
                break;
            p = wl_alloc(ctx, node = best, bytes, align);
        }
    }
    if (!p && placed.mode != MACWL_NODE0)
        p = wl_alloc(ctx, node = -1, bytes, align);
    if (!p)
        wl_error(ctx, what);
    if (node < 0) /* which node's range it came from */
        for (uint32_t i = 0; i < ctx->nranges; i++)
            if (ctx->ranges[i].hi == (uint64_t)(uintptr_t)p)
                node = (int)ctx->ranges[i].node;
    if (node >= 0 && node < VMMB_MAX_VCPUS)
        placed.bytes[node] += bytes;
    return p;
}

void macwl_placement_report(struct wl_ctx *ctx)
{
    char point[VMMB_POINT_MAX];
    for (unsigned n = 0; n < VMMB_MAX_VCPUS && n < ctx->bi->nr_vnodes; n++) {
        if (!placed.bytes[n])
            continue;
        point[0] = '\0';
        wl_point_add(point, "node", n);
        wl_record_point(ctx, 0, VMMB_REC_INFO, VMMB_INFO_DATA_BYTES, 0, placed.bytes[n], 0,
                        point);
    }
}

void macwl_clock_start(struct macwl_clock *c, unsigned v)
{
    wl_barrier_wait(&c->bar, c->threads);
    if (v == 0)
        c->t0 = tsc_begin();
}

void macwl_clock_stop(struct macwl_clock *c, unsigned v)
{
    wl_barrier_wait(&c->bar, c->threads);
    if (v == 0)
        c->t1 = tsc_end();
}
