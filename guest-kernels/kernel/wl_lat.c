/* Per-request latencies of the I/O workloads, kept out of the timed region: while a
 * batch is timed, each request's cycles go into a buffer the workload allocated (and so
 * touched) before measuring, one store each, the same in every batch; the records are
 * written after the batch's clock stopped. Writing a 64-byte record per request inside
 * the batch would time the record writes and, on pages touched for the first time, the
 * host's page faults, in early batches and not in later ones. */
#include "guest/lib.h"
#include "guest/virtio.h"
#include "guest/workload.h"

/* At most this many requests per batch keep their latency (4096 x 8 bytes of buffer). */
#define WL_LAT_PER_BATCH_MAX 4096u

void wl_lat_init(struct wl_ctx *ctx, struct wl_lat *l, uint64_t nbatches, uint64_t per_batch)
{
    l->n = l->seen = 0;
    uint64_t cap = per_batch < WL_LAT_PER_BATCH_MAX ? per_batch : WL_LAT_PER_BATCH_MAX;
    l->cycles = cap ? gv_alloc(ctx, cap * sizeof *l->cycles, 64) : 0;
    if (!l->cycles)
        cap = 0;
    /* The records they become must fit beside the batch records (and the end marker). */
    uint64_t used = ctx->res->nr_records + nbatches + 1;
    uint64_t room = ctx->capacity > used ? ctx->capacity - used : 0;
    if (nbatches && cap > room / nbatches)
        cap = room / nbatches;
    l->cap = (uint32_t)cap;
    /* Keep every stride-th request, so the kept ones span the whole batch. */
    l->stride = cap ? (per_batch + cap - 1) / cap : 1;
    /* Touch the result pages those records will land on now, not between batches. */
    volatile uint8_t *p = (volatile uint8_t *)(ctx->rec + ctx->res->nr_records);
    uint64_t bytes = (nbatches * (cap + 1)) * sizeof(struct vmmb_record);
    for (uint64_t off = 0; off < bytes; off += 4096)
        p[off] = p[off];
}

void wl_lat_flush(struct wl_ctx *ctx, struct wl_lat *l, uint32_t batch, uint32_t flags)
{
    for (uint32_t i = 0; i < l->n; i++)
        wl_record(ctx, VMMB_REC_LATENCY, batch, flags, 1, l->cycles[i]);
    l->n = 0;
    l->seen = 0;
}
