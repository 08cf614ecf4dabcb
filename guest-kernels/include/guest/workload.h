/* What a workload sees (at CPL3, or at CPL0 when its `ring` parameter is 0: the kernel
 * decides before calling it): its parameters, the result area, and the batch driver.
 *
 * A workload file declares itself with WORKLOAD(...) and one run function. The macro
 * puts its descriptor in the catalogue section the VMM reads, so the image describes
 * itself: names, summaries, units, parameters and their ranges live next to the code. */
#ifndef GUEST_WORKLOAD_H
#define GUEST_WORKLOAD_H

#include <stdint.h>

#include "vmm/guest_abi.h"

struct wl_ctx {
    const struct vmmb_boot_info *bi;
    const struct vmmb_workload_desc *desc;
    struct vmmb_result_header *res;
    struct vmmb_record *rec;
    uint32_t capacity;           /* records that fit in the result area */
};

typedef void (*wl_run_fn)(struct wl_ctx *ctx);
/* Runs `iters` operations; the batch driver times each call. */
typedef void (*wl_body_fn)(struct wl_ctx *ctx, uint64_t iters);

#define WL_PARAM(n, h, d, lo, hi) { .name = n, .help = h, .def = d, .min = lo, .max = hi }
/* The parameters every batch-timed workload takes. */
#define WL_PARAM_RING(d, lo) WL_PARAM("ring", "privilege level to run in (0 or 3)", d, lo, 3)
#define WL_PARAM_BATCHES(d) WL_PARAM("batches", "timed batches kept", d, 1, 100000)
#define WL_PARAM_WARMUP(d) WL_PARAM("warmup", "batches discarded first (stored, flagged)", d, 0, 1000)
#define WL_PARAM_ITERS(d) WL_PARAM("iters", "operations per timed batch", d, 1, 100000000)

#define WORKLOAD(ident, nm, sum, un, rng, fn, ...)                                            \
    static void fn(struct wl_ctx *ctx);                                                        \
    __attribute__((used, section(".vmmb_workloads"), aligned(8)))                               \
    const struct vmmb_workload_desc wl_desc_##ident = {                                        \
        .name = nm, .summary = sum, .unit = un, .rings = rng,                                  \
        .nr_params = sizeof((struct vmmb_param_desc[]){ __VA_ARGS__ }) /                       \
                     sizeof(struct vmmb_param_desc),                                           \
        .params = { __VA_ARGS__ }, .entry = (uint64_t)(uintptr_t)fn,                           \
    }

uint64_t wl_param(const struct wl_ctx *ctx, const char *name);
void wl_phase(enum vmmb_phase phase);
void wl_record(struct wl_ctx *ctx, uint32_t kind, uint32_t batch, uint32_t flags,
               uint64_t iters, uint64_t cycles);
/* Ends the run as unsupported or failed with a reason; does not return. */
__attribute__((noreturn)) void wl_unsupported(struct wl_ctx *ctx, const char *reason);
__attribute__((noreturn)) void wl_error(struct wl_ctx *ctx, const char *reason);

/* The standard measurement: one probe call of body (so an operation the host cannot do
 * shows up as unsupported, not as a hang), then warmup+batches batches, each a timed
 * empty loop (the timing floor, subtracted by the VMM) and a timed body of `iters`
 * operations. Reads the parameters iters, batches and warmup. */
void wl_run_batches(struct wl_ctx *ctx, wl_body_fn body);

#endif
