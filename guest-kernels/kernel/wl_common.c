/* The parts of the workload API that touch nothing but memory: parameters and result
 * records. Built into the guest kernel and, unchanged, into the host's native runner
 * (VMMB_NATIVE), so a native run records exactly what a guest run does. */
#include "guest/lib.h"
#include "guest/workload.h"

uint64_t wl_param(const struct wl_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->bi->nr_params && i < VMMB_MAX_PARAMS; i++)
        if (strcmp(ctx->bi->params[i].name, name) == 0)
            return ctx->bi->params[i].value;
    return 0;
}

/* Any vCPU may record: the slot is claimed atomically. */
void wl_record_point(struct wl_ctx *ctx, unsigned vcpu, uint32_t kind, uint32_t batch,
                     uint32_t flags, uint64_t iters, uint64_t cycles, const char *point)
{
    uint32_t i = __atomic_fetch_add(&ctx->res->nr_records, 1, __ATOMIC_RELAXED);
    if (i >= ctx->capacity) {
        __atomic_store_n(&ctx->res->nr_records, ctx->capacity, __ATOMIC_RELAXED);
        wl_error(ctx, "result area full: lower batches");
    }
    struct vmmb_record *r = &ctx->rec[i];
    r->kind = kind;
    r->flags = flags;
    r->batch = batch;
    r->vcpu = vcpu;
    r->iters = iters;
    r->cycles = cycles;
    memset(r->point, 0, sizeof r->point);
    if (point)
        strlcpy_g(r->point, point, sizeof r->point);
}

void wl_record(struct wl_ctx *ctx, uint32_t kind, uint32_t batch, uint32_t flags,
               uint64_t iters, uint64_t cycles)
{
    wl_record_point(ctx, 0, kind, batch, flags, iters, cycles, 0);
}

void wl_point_add_str(char *point, const char *key, const char *value)
{
    size_t n = strlen(point);
    if (n && n + 1 < VMMB_POINT_MAX)
        point[n++] = ' ';
    for (const char *s = key; *s && n + 1 < VMMB_POINT_MAX; s++)
        point[n++] = *s;
    if (n + 1 < VMMB_POINT_MAX)
        point[n++] = '=';
    for (const char *s = value; *s && n + 1 < VMMB_POINT_MAX; s++)
        point[n++] = *s;
    point[n] = '\0';
}

void wl_point_add(char *point, const char *key, uint64_t value)
{
    char buf[21];
    wl_point_add_str(point, key, u64_decimal(value, buf));
}
