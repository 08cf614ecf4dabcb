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

void *macwl_alloc(struct wl_ctx *ctx, uint64_t bytes, const char *what)
{
    void *p = wl_alloc(ctx, -1, bytes, bytes >= (2ull << 20) ? 2ull << 20 : 4096);
    if (!p)
        wl_error(ctx, what);
    return p;
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
