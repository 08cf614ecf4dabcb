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

/* A stretch of guest RAM workload buffers may use (wl_mem.c), carved from the top. */
struct wl_range {
    uint64_t lo, hi;
    uint32_t node;
};

struct wl_ctx {
    const struct vmmb_boot_info *bi;
    const struct vmmb_workload_desc *desc;
    struct vmmb_result_header *res;
    struct vmmb_record *rec;
    uint32_t capacity;           /* records that fit in the result area */
    uint32_t nranges;            /* wl_alloc's view of RAM, set up on first use */
    uint64_t mem_floor;          /* nothing below this is handed out (image, result area) */
    int mem_ready;
    struct wl_range ranges[VMMB_MAX_MEM_RANGES];
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

/* The catalogue section: the guest image's (read by the VMM), or, for the workloads built
 * a second time for the host (native runs, VMMB_NATIVE), one the linker collects. */
#ifdef VMMB_NATIVE
#define WL_SECTION "vmmb_native_wl"
#else
#define WL_SECTION ".vmmb_workloads"
#endif

#define WORKLOAD(ident, nm, sum, un, rng, fn, ...)                                            \
    static void fn(struct wl_ctx *ctx);                                                        \
    __attribute__((used, section(WL_SECTION), aligned(8)))                                      \
    const struct vmmb_workload_desc wl_desc_##ident = {                                        \
        .name = nm, .summary = sum, .unit = un, .rings = rng,                                  \
        .nr_params = sizeof((struct vmmb_param_desc[]){ __VA_ARGS__ }) /                       \
                     sizeof(struct vmmb_param_desc),                                           \
        .params = { __VA_ARGS__ }, .entry = (uint64_t)(uintptr_t)fn,                           \
    }

/* WORKLOAD with VMMB_WL_* flags. */
#define WORKLOAD_FLAGS(ident, nm, sum, un, rng, flg, fn, ...)                                 \
    static void fn(struct wl_ctx *ctx);                                                        \
    __attribute__((used, section(WL_SECTION), aligned(8)))                                      \
    const struct vmmb_workload_desc wl_desc_##ident = {                                        \
        .name = nm, .summary = sum, .unit = un, .rings = rng, .flags = flg,                    \
        .nr_params = sizeof((struct vmmb_param_desc[]){ __VA_ARGS__ }) /                       \
                     sizeof(struct vmmb_param_desc),                                           \
        .params = { __VA_ARGS__ }, .entry = (uint64_t)(uintptr_t)fn,                           \
    }

uint64_t wl_param(const struct wl_ctx *ctx, const char *name);
void wl_phase(enum vmmb_phase phase);
void wl_record(struct wl_ctx *ctx, uint32_t kind, uint32_t batch, uint32_t flags,
               uint64_t iters, uint64_t cycles);
/* Per-request latencies kept outside the timed region (wl_lat.c, I/O workloads): init
 * before measuring with the batch count and requests per batch (allocates and touches
 * the buffer and the result pages); wl_lat_add inside a batch is one store for every
 * stride-th request; wl_lat_flush after the batch's clock stopped writes the records. */
struct wl_lat {
    uint64_t *cycles;
    uint32_t cap, n;
    uint64_t stride, seen;
};
void wl_lat_init(struct wl_ctx *ctx, struct wl_lat *l, uint64_t nbatches, uint64_t per_batch);
static inline void wl_lat_add(struct wl_lat *l, uint64_t cycles)
{
    if (l->n < l->cap && l->seen++ % l->stride == 0) /* cap 0 (not set up): nothing */
        l->cycles[l->n++] = cycles;
}
void wl_lat_flush(struct wl_ctx *ctx, struct wl_lat *l, uint32_t batch, uint32_t flags);
/* Hands the result area to the VMM, whole 64-bit address (DONE_HI, then DONE): the run
 * ends at the second write. */
void wl_report_done(struct wl_ctx *ctx);
/* Ends the run as unsupported or failed with a reason; does not return. */
__attribute__((noreturn)) void wl_unsupported(struct wl_ctx *ctx, const char *reason);
__attribute__((noreturn)) void wl_error(struct wl_ctx *ctx, const char *reason);

/* Records one measurement of a sweeping run at `point` ("size=4096", "cpu_node=0
 * mem_node=1"; see guest_abi.h): kind VMMB_REC_MEASURE for `iters` timed accesses
 * (latency), VMMB_REC_BYTES for `iters` bytes moved (bandwidth), measured by `vcpu`.
 * Safe from any vCPU. */
void wl_record_point(struct wl_ctx *ctx, unsigned vcpu, uint32_t kind, uint32_t batch,
                     uint32_t flags, uint64_t iters, uint64_t cycles, const char *point);
/* Appends "key=value" to a point text (with a space when it is not empty). */
void wl_point_add(char *point, const char *key, uint64_t value);
void wl_point_add_str(char *point, const char *key, const char *value);

/* ---- Workload memory (wl_mem.c): guest RAM above the result area, per guest node ---- */

/* `bytes` aligned to `align` (a power of two) on guest node `node` (-1: any), or NULL when
 * no range has room. Not zeroed. */
void *wl_alloc(struct wl_ctx *ctx, int node, uint64_t bytes, uint64_t align);
/* The largest block wl_alloc could still give on `node` (-1: any). */
uint64_t wl_mem_avail(struct wl_ctx *ctx, int node);
/* Everything allocated after a mark is given back by wl_mem_release. */
struct wl_mem_mark {
    uint64_t hi[VMMB_MAX_MEM_RANGES];
};
void wl_mem_save(struct wl_ctx *ctx, struct wl_mem_mark *m);
void wl_mem_release(struct wl_ctx *ctx, const struct wl_mem_mark *m);

/* ---- Several vCPUs (smp.c; the workload declares VMMB_WL_SMP) ----
 * vCPU 0 runs the workload; every other vCPU waits in ring 3 for a job. A job is a
 * function run on a set of vCPUs (bit i of `mask` = vCPU i). */
typedef void (*wl_job_fn)(struct wl_ctx *ctx, unsigned vcpu, void *arg);
/* Posts fn to the vCPUs in mask (bit 0 is ignored: vCPU 0 is the caller) and returns at
 * once; each starts as soon as it sees the job. */
void wl_smp_start(struct wl_ctx *ctx, uint64_t mask, wl_job_fn fn, void *arg);
/* Waits until every vCPU in mask (bit 0 ignored) has finished its job. */
void wl_smp_wait(struct wl_ctx *ctx, uint64_t mask);
/* Runs fn on every vCPU in mask, vCPU 0 included when bit 0 is set, and waits for all. */
void wl_smp_run(struct wl_ctx *ctx, uint64_t mask, wl_job_fn fn, void *arg);

/* A reusable barrier in shared memory for `n` participants. */
struct wl_barrier {
    volatile uint32_t arrived;
    volatile uint32_t gen;
};
void wl_barrier_wait(struct wl_barrier *b, unsigned n);
/* Whether the run is being torn down (a failure elsewhere): long jobs poll it. */
int smp_abort_flag(void);

/* The standard measurement: one probe call of body (so an operation the host cannot do
 * shows up as unsupported, not as a hang), then warmup+batches batches, each a timed
 * empty loop (the timing floor, subtracted by the VMM) and a timed body of `iters`
 * operations. Reads the parameters iters, batches and warmup. */
void wl_run_batches(struct wl_ctx *ctx, wl_body_fn body);

#ifdef VMMB_NATIVE
/* Native runs only: the run's nth block device (--blk, or the workload's default) as
 * vmm-min's own backend reached without the virtio transport (vmm/virtio.h,
 * virtio_blk_direct_io): a file read and written with pread/pwrite, FLUSH as fdatasync,
 * exactly what the device model does for a guest's requests. NULL when the run has none.
 * io and flush return 0, or nonzero when the backend failed. */
struct wl_blkdev;
struct wl_blkdev *wl_native_blk(struct wl_ctx *ctx, unsigned nth);
uint64_t wl_native_blk_bytes(struct wl_blkdev *b);
int wl_native_blk_io(struct wl_blkdev *b, int write, uint64_t off, void *buf, uint64_t len);
int wl_native_blk_flush(struct wl_blkdev *b);
#endif

#endif
