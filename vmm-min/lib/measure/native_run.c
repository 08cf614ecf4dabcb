/* Native runs: the memory workloads, built a second time for the host (VMMB_NATIVE, see
 * the Makefile), run on host threads pinned exactly as the vCPUs would be, over memory
 * made exactly like guest memory (backing, prefault, NUMA policy, vNUMA nodes), with the
 * same parameters and buffer sizes. Their records go through the same checks and
 * conversion as a guest's (results_collect_checked), so a native run is the host
 * reference of a guest figure, measured in the same job.
 *
 * This file is also the host shim of the guest workload API: what the guest kernel does
 * with ports (phases, the final report, errors) it does with threads here, and a block
 * device the guest drives through virtio-blk (kvs-io's log) is vmm-min's same backend
 * called directly (wl_native_blk). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest/kernel.h"
#include "guest/lib.h"
#include "guest/workload.h"
#include "vstate/kvm_dev.h"
#include "vstate/vm.h"
#include "vmm/native.h"
#include "vmm/virtio.h"
#include "vmm/virtio_abi.h"

extern const struct vmmb_workload_desc __start_vmmb_native_wl[] __attribute__((weak));
extern const struct vmmb_workload_desc __stop_vmmb_native_wl[] __attribute__((weak));

int tsc_end_uses_rdtscp = 1;

const struct vmmb_workload_desc *native_find(const char *name)
{
    for (const struct vmmb_workload_desc *d = __start_vmmb_native_wl;
         d && d < __stop_vmmb_native_wl; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

void native_list(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const struct vmmb_workload_desc *d = __start_vmmb_native_wl;
         d && d < __stop_vmmb_native_wl && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", d->name);
}

/* ---- the shim ---- */

#define NATIVE_RECORDS 16384u
#define NATIVE_CONSOLE 4096u

struct native {
    const struct vmm_plan *plan;
    struct vmm_result *res;
    struct guest_mem gm;
    struct vmmb_boot_info bi;
    struct wl_ctx ctx;
    struct vmmb_result_header *area;
    size_t area_bytes;
    pthread_t thread[VMMB_MAX_VCPUS];
    bool started[VMMB_MAX_VCPUS];
    uint64_t ran_on[VMMB_MAX_VCPUS][VMM_CPUSET_WORDS];
    volatile int stop;
    atomic_int failed;
    atomic_bool vcpu0_done;
    atomic_bool touch_observed;
    char console[NATIVE_CONSOLE];
    atomic_size_t console_len;
    /* The run's block devices (kvs-io's log): vmm-min's backends, no transport. */
    struct virtio_dev *blk[VMMB_MAX_DEVICES];
    unsigned nblk;
};

/* One native run at a time per process (a run is one process in the harness). */
static struct native *cur;
static _Thread_local unsigned self_vcpu;

void strlcpy_g(char *d, const char *s, size_t n)
{
    if (n)
        snprintf(d, n, "%s", s);
}

void console_puts(const char *s)
{
    if (!cur)
        return;
    size_t n = strlen(s);
    size_t at = atomic_fetch_add(&cur->console_len, n);
    if (at < NATIVE_CONSOLE - 1)
        memcpy(cur->console + at, s, at + n < NATIVE_CONSOLE - 1 ? n : NATIVE_CONSOLE - 1 - at);
}

void console_put_u64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    console_puts(buf);
}

static void note_cpu(void)
{
    int c = sched_getcpu();
    if (cur && c >= 0 && c < VMM_CPUSET_WORDS * 64)
        cur->ran_on[self_vcpu][c / 64] |= 1ull << (c % 64);
}

void wl_phase(enum vmmb_phase phase)
{
    note_cpu();
    if (phase == VMMB_PHASE_MEASURE && self_vcpu == 0 && cur &&
        !atomic_exchange(&cur->touch_observed, true))
        vmm_observe_memory(&cur->gm, &cur->plan->resolved,
                           &cur->res->placement.mem[VMM_OBS_AFTER_TOUCH]);
}

static __attribute__((noreturn)) void finish(struct wl_ctx *ctx, uint32_t status, const char *why)
{
    note_cpu();
    int expect = 0;
    if (atomic_compare_exchange_strong(&cur->failed, &expect, 1)) {
        ctx->res->status = status;
        strlcpy_g(ctx->res->reason, why, sizeof ctx->res->reason);
    }
    smp_abort = 1;
    cur->stop = 1;
    if (self_vcpu == 0)
        atomic_store(&cur->vcpu0_done, true);
    pthread_exit(NULL);
}

void wl_unsupported(struct wl_ctx *ctx, const char *reason)
{
    finish(ctx, VMMB_RESULT_UNSUPPORTED, reason);
}

void wl_error(struct wl_ctx *ctx, const char *reason)
{
    finish(ctx, VMMB_RESULT_ERROR, reason);
}

/* ---- block devices without the transport ---- */

static int open_blk(struct native *n, struct vmm_err *e)
{
    const struct vmm_virtio_plan *vp = &n->plan->virtio;
    for (unsigned i = 0; i < vp->ndev && i < VMMB_MAX_DEVICES; i++) {
        const struct virtio_dev_type *t = vp->dev[i].type;
        if (t->device_id != VIRTIO_ID_BLOCK)
            continue;
        struct virtio_dev *d = calloc(1, sizeof *d);
        if (!d)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory for a block device");
        d->type = t;
        if (t->create(d, vp->dev[i].args, e)) {
            free(d);
            return -1;
        }
        n->blk[n->nblk++] = d;
    }
    return 0;
}

static void close_blk(struct native *n)
{
    for (unsigned i = 0; i < n->nblk; i++) {
        n->blk[i]->type->destroy(n->blk[i]);
        free(n->blk[i]);
    }
    n->nblk = 0;
}

struct wl_blkdev *wl_native_blk(struct wl_ctx *ctx, unsigned nth)
{
    (void)ctx;
    return cur && nth < cur->nblk ? (struct wl_blkdev *)cur->blk[nth] : NULL;
}

uint64_t wl_native_blk_bytes(struct wl_blkdev *b)
{
    return virtio_blk_bytes((struct virtio_dev *)b);
}

int wl_native_blk_io(struct wl_blkdev *b, int write, uint64_t off, void *buf, uint64_t len)
{
    return virtio_blk_direct_io((struct virtio_dev *)b, !write, off, buf, len);
}

int wl_native_blk_flush(struct wl_blkdev *b)
{
    return virtio_blk_direct_flush((struct virtio_dev *)b);
}

/* ---- threads in place of vCPUs ---- */

struct start {
    struct native *n;
    unsigned index;
};
static struct start starts[VMMB_MAX_VCPUS];

static void *vcpu_main(void *arg)
{
    const struct start *s = arg;
    struct native *n = s->n;
    self_vcpu = s->index;
    note_cpu();
    if (s->index == 0) {
        const struct vmmb_workload_desc *d = n->ctx.desc;
        ((wl_run_fn)(uintptr_t)d->entry)(&n->ctx);
        note_cpu();
        if (!atomic_load(&n->failed))
            n->area->status = VMMB_RESULT_OK;
        atomic_store(&n->vcpu0_done, true);
        return NULL;
    }
    smp_online(s->index);
    uint64_t seen = 0;
    while (!n->stop)
        if (!smp_serve_once(s->index, &seen))
            __asm__ volatile("pause" ::: "memory");
    note_cpu();
    return NULL;
}

/* Guest node ranges as host addresses: what fill_mem_ranges gives a guest. */
static void host_ranges(struct native *n)
{
    const struct vmm_resolved *r = &n->plan->resolved;
    uint64_t node_start = 0;
    for (unsigned v = 0; v < r->nvnodes; v++) {
        uint64_t a = node_start, b = node_start + r->vnode_size[v], off = 0;
        for (unsigned s = 0; s < n->gm.nslots; s++) {
            const struct guest_ram_slot *sl = &n->gm.slot[s];
            uint64_t lo = a > off ? a : off, hi = b < off + sl->size ? b : off + sl->size;
            if (lo < hi && n->bi.nr_mem < VMMB_MAX_MEM_RANGES)
                n->bi.mem[n->bi.nr_mem++] = (struct vmmb_mem_range){
                    (uint64_t)(uintptr_t)(sl->host + (lo - off)), hi - lo, VMMB_MEM_RAM, v };
            off += sl->size;
        }
        node_start = b;
    }
}

static int setup(struct native *n, const struct vmmb_workload_desc *d, struct vmm_err *e)
{
    const struct vmm_plan *p = n->plan;
    if (guest_mem_create_placed(&n->gm, p->mem_bytes, &p->placement, &p->resolved, e))
        return -1;
    n->area_bytes = sizeof *n->area + NATIVE_RECORDS * sizeof(struct vmmb_record);
    n->area = calloc(1, n->area_bytes);
    if (!n->area)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory for the result area");
    n->area->magic = VMMB_RESULT_MAGIC;
    n->area->abi_version = VMMB_ABI_VERSION;
    n->area->record_size = sizeof(struct vmmb_record);
    struct vmmb_boot_info *bi = &n->bi;
    bi->magic = VMMB_BOOT_MAGIC;
    bi->abi_version = VMMB_ABI_VERSION;
    bi->size = sizeof *bi;
    bi->tsc_khz = n->res->tsc_khz;
    bi->nr_vcpus = p->vcpus;
    snprintf(bi->workload, sizeof bi->workload, "%s", d->name);
    bi->nr_params = p->nparams;
    memcpy(bi->params, p->params, sizeof bi->params);
    host_ranges(n);
    bi->nr_vnodes = p->resolved.nvnodes;
    for (unsigned i = 0; i < p->vcpus; i++)
        bi->vcpu_node[i] = (uint8_t)p->resolved.vcpu_vnode[i];
    bi->guest_page_size = (uint32_t)n->gm.page_size;
    bi->llc_bytes = p->llc_bytes;
    bi->workload_flags = d->flags;
    n->ctx.bi = bi;
    n->ctx.desc = d;
    n->ctx.res = n->area;
    n->ctx.rec = (struct vmmb_record *)(n->area + 1);
    n->ctx.capacity = NATIVE_RECORDS;
    n->ctx.mem_floor = 1; /* the result area is not in the ranges */
    return open_blk(n, e);
}

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void native_run(const struct vmm_plan *plan, struct vmm_result *res)
{
    double t0 = mono_now();
    vmm_result_init(res);
    const struct vmmb_workload_desc *d = native_find(plan->workload->name);
    if (!d) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "workload %s has no native build",
                        plan->workload->name);
        return;
    }
    static struct native zero;
    struct native *n = malloc(sizeof *n);
    if (!n) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory");
        return;
    }
    *n = zero;
    n->plan = plan;
    n->res = res;
    /* KVM's figure when there is a KVM (the one guests get), else measured. */
    res->tsc_khz = kvm_host_tsc_khz();
    if (!res->tsc_khz)
        res->tsc_khz = tsc_khz_calibrated();
    if (!res->tsc_khz) {
        free(n);
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "native run: the TSC frequency is unknown "
                        "(no KVM_GET_TSC_KHZ, and this CPU's TSC is not invariant: no "
                        "constant_tsc/nonstop_tsc) ; native runs convert cycles as guests do");
        return;
    }
    struct vmm_err e = { 0 };
    if (setup(n, d, &e)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "%s", e.msg);
        close_blk(n);
        guest_mem_destroy(&n->gm);
        free(n->area);
        free(n);
        return;
    }
    struct vmm_placement_obs *o = &res->placement;
    o->valid = true;
    vmm_placement_describe(&plan->placement, o->requested, sizeof o->requested);
    o->backing_page_size = n->gm.page_size;
    o->nvcpus = plan->vcpus;
    o->nvnodes = plan->resolved.nvnodes;
    cur = n;
    if (plan->default_device[0]) { /* as a guest's run notes it: the twin uses it too */
        char note[320];
        snprintf(note, sizeof note, "vmm: %s: the workload's default device (the run named "
                 "none of its type)\n", plan->default_device);
        console_puts(note);
    }
    smp_reset();
    bool timed_out = false;
    for (unsigned i = 0; i < plan->vcpus; i++) {
        o->vcpu[i].requested_cpu = plan->resolved.vcpu_cpu[i];
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        int cpu = plan->resolved.vcpu_cpu[i];
        cpu_set_t set;
        if (cpu >= 0) {
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        }
        starts[i] = (struct start){ n, i };
        n->started[i] = pthread_create(&n->thread[i], &attr, vcpu_main, &starts[i]) == 0;
        pthread_attr_destroy(&attr);
        if (!n->started[i]) {
            vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "cannot start thread for vCPU %u", i);
            n->stop = 1;
            smp_abort = 1;
            break;
        }
        if (pthread_getaffinity_np(n->thread[i], sizeof set, &set) == 0)
            for (int c = 0; c < VMM_CPUSET_WORDS * 64 && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &set))
                    o->vcpu[i].affinity[c / 64] |= 1ull << (c % 64);
    }
    double deadline = t0 + plan->timeout_s;
    while (n->started[0] && !atomic_load(&n->vcpu0_done) && !n->stop) {
        if (mono_now() >= deadline) {
            timed_out = true;
            break;
        }
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    n->stop = 1;
    if (timed_out) {
        /* Threads still run the workload: leave them and their memory to the process's
         * end (a run is its own process under the harness). */
        smp_abort = 1;
        vmm_result_fail(res, VMM_STATUS_TIMEOUT, "native run exceeded its %.1f s timeout",
                        plan->timeout_s);
        res->wall_seconds = mono_now() - t0;
        return;
    }
    for (unsigned i = 0; i < plan->vcpus; i++)
        if (n->started[i])
            pthread_join(n->thread[i], NULL);
    for (unsigned i = 0; i < plan->vcpus; i++)
        memcpy(o->vcpu[i].ran_on, n->ran_on[i], sizeof o->vcpu[i].ran_on);
    vmm_observe_memory(&n->gm, &plan->resolved, &o->mem[VMM_OBS_AT_END]);
    vmm_observe_judge(&plan->placement, o);
    if (res->status == VMM_STATUS_OK) {
        /* The records are checked exactly as a guest's: a guest_mem over the area. */
        struct guest_mem area = { 0 };
        area.nslots = 1;
        area.slot[0] = (struct guest_ram_slot){ (uint64_t)(uintptr_t)n->area, n->area_bytes,
                                                (uint8_t *)n->area };
        const char *names[VMMB_MAX_PARAMS + 1] = { 0 };
        for (unsigned i = 0; i < plan->nparams && i < VMMB_MAX_PARAMS; i++)
            names[i] = plan->params[i].name;
        results_collect_checked(&area, (uint64_t)(uintptr_t)n->area, res->tsc_khz, plan->vcpus,
                                names, res);
    }
    size_t cl = atomic_load(&n->console_len);
    cl = cl < NATIVE_CONSOLE - 1 ? cl : NATIVE_CONSOLE - 1;
    res->console = malloc(cl + 1);
    if (res->console) {
        memcpy(res->console, n->console, cl);
        res->console[cl] = '\0';
        res->console_len = cl;
    }
    cur = NULL;
    close_blk(n);
    guest_mem_destroy(&n->gm);
    free(n->area);
    free(n);
    res->wall_seconds = mono_now() - t0;
}
