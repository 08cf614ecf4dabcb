/* Jobs for secondary vCPUs, through shared memory only (no interrupts, no exits): vCPU 0
 * fills a vCPU's slot and bumps `posted`; the vCPU, spinning in ring 3, runs the job and
 * copies `posted` to `done`. Portable: the native runner builds it too, with threads in
 * place of vCPUs (it supplies smp_abort and ends the worker threads itself). */
#include "guest/kernel.h"
#include "guest/workload.h"

struct smp_slot {
    volatile uint64_t posted, done;
    wl_job_fn fn;
    void *arg;
    struct wl_ctx *ctx;
    volatile uint32_t online;
} __attribute__((aligned(64)));

static struct smp_slot slots[VMMB_MAX_VCPUS];
/* Set when a run must stop waiting (the native runner, after a failure elsewhere). */
volatile int smp_abort;

static inline void pause_once(void)
{
    __asm__ volatile("pause" ::: "memory");
}

static void check_abort(struct wl_ctx *ctx)
{
    if (smp_abort)
        wl_error(ctx, "another vCPU failed");
}

int smp_abort_flag(void)
{
    return smp_abort;
}

void smp_reset(void)
{
    for (unsigned i = 0; i < VMMB_MAX_VCPUS; i++) {
        slots[i].posted = slots[i].done = 0;
        slots[i].online = 0;
    }
    smp_abort = 0;
}

int smp_serve_once(unsigned index, uint64_t *seen)
{
    struct smp_slot *s = &slots[index];
    uint64_t p = __atomic_load_n(&s->posted, __ATOMIC_ACQUIRE);
    if (p == *seen)
        return 0;
    s->fn(s->ctx, index, s->arg);
    *seen = p;
    __atomic_store_n(&s->done, p, __ATOMIC_RELEASE);
    return 1;
}

void smp_online(unsigned index)
{
    __atomic_store_n(&slots[index].online, 1, __ATOMIC_RELEASE);
}

__attribute__((noreturn)) void smp_worker(const struct vmmb_boot_info *bi, uint64_t index)
{
    (void)bi;
    smp_online((unsigned)index);
    uint64_t seen = 0;
    for (;;)
        if (!smp_serve_once((unsigned)index, &seen))
            pause_once();
}

static void check_mask(struct wl_ctx *ctx, uint64_t mask)
{
    uint32_t n = ctx->bi->nr_vcpus;
    if (!(ctx->desc->flags & VMMB_WL_SMP))
        wl_error(ctx, "a workload without VMMB_WL_SMP asked for other vCPUs");
    if (n < 64 && (mask >> n))
        wl_error(ctx, "a job for a vCPU this VM does not have");
}

void wl_smp_start(struct wl_ctx *ctx, uint64_t mask, wl_job_fn fn, void *arg)
{
    check_mask(ctx, mask);
    for (unsigned i = 1; i < VMMB_MAX_VCPUS; i++) {
        if (!(mask >> i & 1))
            continue;
        struct smp_slot *s = &slots[i];
        while (!__atomic_load_n(&s->online, __ATOMIC_ACQUIRE) ||
               __atomic_load_n(&s->done, __ATOMIC_ACQUIRE) != s->posted) {
            check_abort(ctx);
            pause_once();
        }
        s->fn = fn;
        s->arg = arg;
        s->ctx = ctx;
        __atomic_store_n(&s->posted, s->posted + 1, __ATOMIC_RELEASE);
    }
}

void wl_smp_wait(struct wl_ctx *ctx, uint64_t mask)
{
    for (unsigned i = 1; i < VMMB_MAX_VCPUS; i++) {
        if (!(mask >> i & 1))
            continue;
        struct smp_slot *s = &slots[i];
        while (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) != s->posted) {
            check_abort(ctx);
            pause_once();
        }
    }
}

void wl_smp_run(struct wl_ctx *ctx, uint64_t mask, wl_job_fn fn, void *arg)
{
    wl_smp_start(ctx, mask, fn, arg);
    if (mask & 1)
        fn(ctx, 0, arg);
    wl_smp_wait(ctx, mask);
}

void wl_barrier_wait(struct wl_barrier *b, unsigned n)
{
    uint32_t g = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == n) {
        __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->gen, g + 1, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) == g) {
        if (smp_abort)
            return;
        pause_once();
    }
}
