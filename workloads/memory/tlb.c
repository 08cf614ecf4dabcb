/* tlb: the page-walk cost curve. A dependent random pointer chase (one pointer per
 * `stride` bytes, one cycle over every element, optionally with multichase's TLB-locality
 * window) over working sets from `min` doubling (in `steps` steps per doubling) up to
 * `max`, or as far as guest memory allows (at most 4 GiB). Every batch of `iters`
 * accesses is one sample of `latency` (ns per access) and `latency_cycles` at the point
 * size=<bytes>; the first `warmup` batches of each size are flagged. Run it across guest
 * page sizes and host backings: where the curve steps up tells TLB reach and what a miss
 * costs through the guest's and the host's page tables. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"
#include "guest/x86.h"
#include "memlib.h"

#define TLB_MAX_DEFAULT (4ull << 30)

/* The largest data (or unified) TLB's reach for pages of `page` bytes, from CPUID: Intel's
 * deterministic address translation leaf 0x18, else AMD's L2 TLB leaves. 0: unknown (a
 * hypervisor may hide these leaves). */
static uint64_t tlb_reach(uint64_t page)
{
    uint32_t a, b, c, d, best = 0;
    cpuid(0, 0, &a, &b, &c, &d);
    if (a >= 0x18) {
        uint32_t max_sub;
        cpuid(0x18, 0, &max_sub, &b, &c, &d);
        unsigned bit = page == 4096 ? 0 : page == (2u << 20) ? 1 : page == (1u << 30) ? 3 : 9;
        for (uint32_t sub = 0; sub <= max_sub && sub < 64 && bit < 4; sub++) {
            cpuid(0x18, sub, &a, &b, &c, &d);
            uint32_t type = d & 0x1f; /* 1 data, 3 unified, 4 load-only */
            if ((type != 1 && type != 3 && type != 4) || !(b >> bit & 1))
                continue;
            uint32_t ways = b >> 16, entries = (d >> 8 & 1) ? ways : ways * c;
            if (entries > best)
                best = entries;
        }
        return (uint64_t)best * page;
    }
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a >= 0x80000006) {
        cpuid(0x80000006, 0, &a, &b, &c, &d);
        best = page == 4096 ? (b >> 16 & 0xfff) : page == (2u << 20) ? (a >> 16 & 0xfff) : 0;
    }
    return (uint64_t)best * page;
}

static void measure(struct wl_ctx *ctx)
{
    uint64_t min = wl_param(ctx, "min"), max = wl_param(ctx, "max");
    uint64_t steps = wl_param(ctx, "steps"), stride = wl_param(ctx, "stride");
    uint64_t window = wl_param(ctx, "window"), iters = wl_param(ctx, "iters");
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    if (stride % 8 || min < stride)
        wl_error(ctx, "stride must be a multiple of 8 (a pointer) and at most min");
    if (window && window % stride)
        wl_error(ctx, "window must be a multiple of stride");
    /* The largest working set the guest has room for, with the window's scratch. */
    uint64_t avail = wl_mem_avail(ctx, -1);
    uint64_t room = avail > (4ull << 20) ? avail - (4ull << 20) : 0;
    if (window) /* the window's scratch: about 4 bytes per element and per window */
        room = room / (stride + 8) * stride;
    if (max == 0)
        max = room < TLB_MAX_DEFAULT ? room : TLB_MAX_DEFAULT;
    else if (max > room)
        wl_error(ctx, "working set max is larger than the guest memory left for it: give "
                      "more memory or a smaller max");
    if (min > max)
        wl_error(ctx, "min is larger than max (or than the guest memory left for it)");
    wl_phase(VMMB_PHASE_MEASURE);
    /* What the curve's knees are read against (the plot marks them). */
    uint64_t page = ctx->bi->guest_page_size ? ctx->bi->guest_page_size : 4096;
    uint64_t reach = tlb_reach(page);
    if (ctx->bi->llc_bytes)
        wl_record_point(ctx, 0, VMMB_REC_INFO, VMMB_INFO_LLC_BYTES, 0, ctx->bi->llc_bytes, 0, "");
    if (reach)
        wl_record_point(ctx, 0, VMMB_REC_INFO, VMMB_INFO_TLB_REACH_BYTES, 0, reach, 0, "");
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (uint64_t k = 0;; k++) {
        /* min * 2^(k/steps), a multiple of stride */
        uint64_t size = min << (k / steps);
        uint64_t frac = k % steps;
        if (frac) {
            /* 2^(frac/steps) in 1/1024ths, from a small table of roots */
            static const uint16_t root[4][4] = { { 1024, 0, 0, 0 }, { 1024, 1448, 0, 0 },
                                                 { 1024, 1290, 1625, 0 },
                                                 { 1024, 1218, 1448, 1722 } };
            size = size / 1024 * root[steps - 1][frac];
        }
        size -= size % stride;
        if ((min << (k / steps)) < min || size > max)
            break;
        struct wl_mem_mark mark;
        wl_mem_save(ctx, &mark);
        uint64_t n = size / stride;
        uint64_t align = size >= (2ull << 20) ? (2ull << 20) : 4096;
        void *buf = wl_alloc(ctx, -1, size, align);
        uint64_t we = window / stride;
        uint32_t *scratch = 0;
        uint64_t sb = chase_scratch_bytes(n, we);
        if (sb)
            scratch = wl_alloc(ctx, -1, sb, 64);
        if (!buf || (sb && !scratch))
            wl_error(ctx, "no room for the working set (guest memory fragmented)");
        chase_build(buf, n, stride, we, seed + k, scratch);
        char point[VMMB_POINT_MAX] = "";
        wl_point_add(point, "size", size);
        void *p = buf;
        for (uint64_t b = 0; b < warmup + batches; b++) {
            uint64_t t0 = tsc_begin();
            p = chase_run(p, iters);
            uint64_t t1 = tsc_end();
            wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)b,
                            b < warmup ? VMMB_REC_WARMUP : 0, iters, t1 - t0, point);
        }
        wl_mem_release(ctx, &mark);
    }
}

WORKLOAD_FLAGS(tlb, "tlb", "pointer-chase latency per working-set size (TLB/EPT walk cost)",
               "ns", VMMB_RING3, VMMB_WL_VECTOR, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("min", "smallest working set, bytes", 4096, 64, 1ull << 40),
               WL_PARAM("max", "largest working set, bytes (0: memory allows, <= 4G)", 0, 0,
                        1ull << 40),
               WL_PARAM("steps", "sizes per doubling", 1, 1, 4),
               WL_PARAM("stride", "bytes between pointers (>= 8, one per line: 64)", 64, 8,
                        1ull << 20),
               WL_PARAM("window", "TLB-locality window, bytes (0: whole set)", 0, 0, 1ull << 40),
               WL_PARAM("iters", "dependent accesses per timed batch", 1000000, 1000, 1000000000),
               WL_PARAM("batches", "timed batches per size", 5, 1, 1000),
               WL_PARAM_WARMUP(1));
