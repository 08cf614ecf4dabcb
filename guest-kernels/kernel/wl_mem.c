/* Workload buffers: guest RAM per guest node, from the boot info's ranges, minus what is
 * not the workload's (everything below the end of the result area, the VMM's page
 * tables). Handed out top-down per range; a mark gives back what came after it.
 * Portable: the native runner builds it too, with host addresses in the ranges. */
#include "guest/lib.h"
#include "guest/workload.h"

/* The result area keeps this many records once a workload asks for buffers. */
#define WL_MEM_RECORDS 16384u

static void mem_init(struct wl_ctx *ctx)
{
    const struct vmmb_boot_info *bi = ctx->bi;
    ctx->mem_ready = 1;
    if (!ctx->mem_floor) {
        if (ctx->capacity > WL_MEM_RECORDS)
            ctx->capacity = WL_MEM_RECORDS;
        uint64_t end = (uint64_t)(uintptr_t)(ctx->rec + ctx->capacity);
        ctx->mem_floor = (end + 0xfff) & ~0xfffull;
    }
    uint64_t t0 = bi->tables_gpa, t1 = bi->tables_gpa + bi->tables_size;
    ctx->nranges = 0;
    for (uint32_t i = 0; i < bi->nr_mem && i < VMMB_MAX_MEM_RANGES; i++) {
        const struct vmmb_mem_range *m = &bi->mem[i];
        if (m->type != VMMB_MEM_RAM || m->size == 0 || m->gpa + m->size < m->gpa)
            continue;
        uint64_t lo = m->gpa, hi = m->gpa + m->size;
        if (lo < ctx->mem_floor)
            lo = ctx->mem_floor;
        if (bi->tables_size && t0 < hi && t1 > lo) {
            /* Keep the larger side of the tables. */
            if (t0 - lo >= (hi > t1 ? hi - t1 : 0))
                hi = t0;
            else
                lo = t1;
        }
        if (lo >= hi)
            continue;
        ctx->ranges[ctx->nranges++] = (struct wl_range){ lo, hi, m->node };
    }
}

void *wl_alloc(struct wl_ctx *ctx, int node, uint64_t bytes, uint64_t align)
{
    if (!ctx->mem_ready)
        mem_init(ctx);
    if (align < 64)
        align = 64;
    for (uint32_t i = 0; i < ctx->nranges; i++) {
        struct wl_range *r = &ctx->ranges[i];
        if ((node >= 0 && r->node != (uint32_t)node) || bytes > r->hi - r->lo)
            continue;
        uint64_t p = (r->hi - bytes) & ~(align - 1);
        if (p < r->lo)
            continue;
        r->hi = p;
        return (void *)(uintptr_t)p;
    }
    return 0;
}

uint64_t wl_mem_avail(struct wl_ctx *ctx, int node)
{
    if (!ctx->mem_ready)
        mem_init(ctx);
    uint64_t best = 0;
    for (uint32_t i = 0; i < ctx->nranges; i++) {
        const struct wl_range *r = &ctx->ranges[i];
        if ((node < 0 || r->node == (uint32_t)node) && r->hi - r->lo > best)
            best = r->hi - r->lo;
    }
    return best;
}

void wl_mem_save(struct wl_ctx *ctx, struct wl_mem_mark *m)
{
    if (!ctx->mem_ready)
        mem_init(ctx);
    for (uint32_t i = 0; i < VMMB_MAX_MEM_RANGES; i++)
        m->hi[i] = i < ctx->nranges ? ctx->ranges[i].hi : 0;
}

void wl_mem_release(struct wl_ctx *ctx, const struct wl_mem_mark *m)
{
    for (uint32_t i = 0; i < ctx->nranges; i++)
        ctx->ranges[i].hi = m->hi[i];
}
