/* Builds one VM from a plan, runs it under supervision (run timeout, probe timeout,
 * stopping the other vCPUs once vCPU 0 is done) and collects its results. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "virtio_vm.h"
#include "vm.h"
#include "vmm/elf_loader.h"
#include "vmm/native.h"
#include "vmm/vmm.h"
#include "kvm_dev.h"
#include "x86_setup.h"

double vm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void vm_console_note(struct vm *vm, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    pthread_mutex_lock(&vm->lock);
    struct vmm_result *r = vm->res;
    if (r->console) {
        int w = snprintf(r->console + r->console_len, VMM_CONSOLE_KEEP + 1 - r->console_len,
                         "vmm: %s\n", msg);
        if (w > 0)
            r->console_len += (size_t)w < VMM_CONSOLE_KEEP - r->console_len
                                  ? (size_t)w : VMM_CONSOLE_KEEP - r->console_len;
    }
    pthread_mutex_unlock(&vm->lock);
}

/* Host counters per vCPU, as samples: metric counter.NAME, batch = the vCPU. */
static void collect_counters(struct vm *vm)
{
    const struct vmm_counters *cs = &vm->plan->counters;
    if (cs->dropped[0])
        vm_console_note(vm, "counters dropped: %s", cs->dropped);
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        const struct vcpu *v = &vm->vcpu[i];
        if (!v->pmu_open)
            continue;
        for (unsigned k = 0; k < cs->n; k++) {
            char metric[VMM_METRIC_MAX];
            snprintf(metric, sizeof metric, "counter.%s", cs->c[k].name);
            if (v->pmu_count[k] != UINT64_MAX &&
                vmm_result_add(vm->res, metric, "events", i, false, (double)v->pmu_count[k]))
                vm_fail(vm, VMM_STATUS_HOST_ERROR, "out of memory storing counters");
        }
    }
}

void vm_fail(struct vm *vm, enum vmm_status s, const char *fmt, ...)
{
    char msg[sizeof vm->res->reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&vm->lock);
    vmm_result_fail(vm->res, s, "%s", msg);
    pthread_mutex_unlock(&vm->lock);
}

/* Kicks vCPU threads out of KVM_RUN: immediate_exit covers a thread about to enter,
 * the signal one already inside. */
static void kick_all(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        if (!v->started || atomic_load(&v->finished))
            continue;
        v->run->immediate_exit = 1;
        pthread_kill(v->thread, SIGUSR1);
    }
}

static void on_kick(int sig)
{
    (void)sig;
}

static void install_kick_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_kick; /* no SA_RESTART: KVM_RUN must return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

static bool all_finished(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (vm->vcpu[i].started && !atomic_load(&vm->vcpu[i].finished))
            return false;
    return true;
}

static struct timespec abs_time(double mono_s)
{
    struct timespec t;
    t.tv_sec = (time_t)mono_s;
    t.tv_nsec = (long)((mono_s - (double)t.tv_sec) * 1e9);
    return t;
}

/* Waits for vCPU 0 to finish, enforcing both timeouts, then stops every vCPU. */
static void supervise(struct vm *vm, double deadline)
{
    pthread_mutex_lock(&vm->lock);
    for (;;) {
        if (all_finished(vm))
            break;
        double now = vm_now();
        int stop = atomic_load(&vm->stop);
        if (stop == VM_RUNNING) {
            /* vCPU 0 ended, or another vCPU reported (a failure in a job). */
            if (atomic_load(&vm->vcpu[0].finished) || vm->done) {
                stop = VM_STOP_DONE;
            } else if (now >= deadline) {
                stop = VM_STOP_TIMEOUT;
            } else {
                for (unsigned i = 0; i < vm->nvcpus; i++) {
                    double pd = atomic_load(&vm->vcpu[i].probe_deadline);
                    if (pd > 0 && now >= pd)
                        stop = VM_STOP_PROBE_TIMEOUT;
                }
            }
            atomic_store(&vm->stop, stop);
        }
        double wake;
        if (stop != VM_RUNNING) {
            pthread_mutex_unlock(&vm->lock);
            kick_all(vm);
            pthread_mutex_lock(&vm->lock);
            wake = now + 0.01; /* keep kicking until every thread has left KVM_RUN */
        } else {
            wake = deadline;
            for (unsigned i = 0; i < vm->nvcpus; i++) {
                double pd = atomic_load(&vm->vcpu[i].probe_deadline);
                if (pd > 0 && pd < wake)
                    wake = pd;
            }
        }
        struct timespec ts = abs_time(wake);
        pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
    }
    pthread_mutex_unlock(&vm->lock);
}

static const char *insn_name(const uint8_t *b)
{
    if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xc1)
        return "vmcall";
    if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xd9)
        return "vmmcall";
    return "instruction";
}

static void explain_stop(struct vm *vm)
{
    int stop = atomic_load(&vm->stop);
    if (stop != VM_STOP_TIMEOUT && stop != VM_STOP_PROBE_TIMEOUT)
        return;
    unsigned who = 0;
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (atomic_load(&vm->vcpu[i].probe_deadline) > 0)
            who = i;
    struct vcpu *v = &vm->vcpu[who];
    char where[128];
    if (v->stuck_bytes_ok)
        snprintf(where, sizeof where, "vCPU %u at RIP 0x%llx (%s, bytes %02x %02x %02x)", who,
                 (unsigned long long)v->stuck_rip, insn_name(v->stuck_bytes),
                 v->stuck_bytes[0], v->stuck_bytes[1], v->stuck_bytes[2]);
    else
        snprintf(where, sizeof where, "vCPU %u at RIP 0x%llx", who,
                 (unsigned long long)v->stuck_rip);
    if (stop == VM_STOP_PROBE_TIMEOUT)
        vm_fail(vm, VMM_STATUS_UNSUPPORTED, "workload %s: its operation did not return within "
                "the %.1f s probe on this host; stopped %s", vm->plan->workload->name,
                vm->plan->probe_timeout_s, where);
    else
        vm_fail(vm, VMM_STATUS_TIMEOUT, "run exceeded its %.1f s timeout in phase %d; stopped "
                "%s", vm->plan->timeout_s, atomic_load(&v->phase), where);
}

/* Guest RAM ranges per guest node: RAM offsets run through slot 0 then slot 1, and each
 * guest node owns a contiguous stretch of them. */
static void fill_mem_ranges(struct vm *vm, struct vmmb_boot_info *bi)
{
    const struct vmm_resolved *r = &vm->plan->resolved;
    uint64_t node_start = 0;
    bi->nr_mem = 0;
    for (unsigned n = 0; n < r->nvnodes; n++) {
        uint64_t a = node_start, b = node_start + r->vnode_size[n], slot_off = 0;
        for (unsigned s = 0; s < vm->mem.nslots; s++) {
            const struct guest_ram_slot *sl = &vm->mem.slot[s];
            uint64_t lo = a > slot_off ? a : slot_off;
            uint64_t hi = b < slot_off + sl->size ? b : slot_off + sl->size;
            if (lo < hi && bi->nr_mem < VMMB_MAX_MEM_RANGES)
                bi->mem[bi->nr_mem++] = (struct vmmb_mem_range){ sl->gpa + (lo - slot_off), hi - lo,
                                                                  VMMB_MEM_RAM, n };
            slot_off += sl->size;
        }
        node_start = b;
    }
}

static void fill_boot_info(struct vm *vm, uint64_t image_end, uint64_t tsc_khz)
{
    const struct vmm_plan *p = vm->plan;
    struct vmmb_boot_info *bi = guest_mem_ptr(&vm->mem, X86_BOOT_INFO_GPA, sizeof *bi);
    memset(bi, 0, sizeof *bi);
    bi->magic = VMMB_BOOT_MAGIC;
    bi->abi_version = VMMB_ABI_VERSION;
    bi->size = sizeof *bi;
    bi->tsc_khz = tsc_khz;
    bi->nr_vcpus = p->vcpus;
    snprintf(bi->workload, sizeof bi->workload, "%s", p->workload->name);
    bi->nr_params = p->nparams;
    memcpy(bi->params, p->params, sizeof bi->params);
    fill_mem_ranges(vm, bi);
    uint64_t free_gpa = (image_end + 0xfff) & ~0xfffull;
    bi->free_gpa = free_gpa;
    bi->free_size = vm->tables.gpa > free_gpa ? vm->tables.gpa - free_gpa : 0;
    bi->nr_vnodes = p->resolved.nvnodes;
    for (unsigned i = 0; i < p->vcpus; i++)
        bi->vcpu_node[i] = (uint8_t)p->resolved.vcpu_vnode[i];
    bi->tables_gpa = vm->tables.gpa;
    bi->tables_size = vm->tables.size;
    bi->guest_page_size = p->placement.guest_pages == VMM_GPAGES_4K   ? 4096u
                          : p->placement.guest_pages == VMM_GPAGES_1G ? 1u << 30
                                                                      : 2u << 20;
    bi->llc_bytes = p->llc_bytes;
    bi->workload_flags = p->workload->flags;
}

int vm_build(struct vm *vm, struct vmm_err *e)
{
    uint64_t *tsc_khz = &vm->res->tsc_khz;
    const struct vmm_plan *p = vm->plan;
    if ((vm->kvm_fd = kvm_open(e)) < 0)
        return -1;
    if ((vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0)
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_CREATE_VM failed: %s", strerror(errno));
    int rs = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (rs < (int)sizeof(struct kvm_run))
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_GET_VCPU_MMAP_SIZE failed");
    vm->run_size = (size_t)rs;
    if (guest_mem_create_placed(&vm->mem, p->mem_bytes, &p->placement, &p->resolved, e) ||
        x86_build_tables(&vm->mem, p->placement.guest_pages, p->image->end, &vm->tables, e))
        return -1;
    for (unsigned i = 0; i < vm->mem.nslots; i++) {
        struct kvm_userspace_memory_region r = {
            .slot = i, .guest_phys_addr = vm->mem.slot[i].gpa,
            .memory_size = vm->mem.slot[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)vm->mem.slot[i].host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "KVM_SET_USER_MEMORY_REGION failed: %s",
                               strerror(errno));
    }
    uint64_t entry, end;
    if (elf_load(p->image->data, p->image->len, &vm->mem, &entry, &end, e))
        return -1;
    if (devices_register(vm))
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "device ranges overlap");
    for (unsigned i = 0; i < p->vcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        v->vm = vm;
        v->index = i;
        if ((v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i)) < 0)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "KVM_CREATE_VCPU %u failed: %s", i,
                               strerror(errno));
        vm->nvcpus = i + 1;
        v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
            v->run = NULL;
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "mmap of vCPU %u failed", i);
        }
        if (x86_setup_vcpu(vm->kvm_fd, v->fd, i, entry, vm->tables.cr3) < 0)
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "setting up vCPU %u failed: %s", i,
                               strerror(errno));
    }
    int khz = ioctl(vm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);
    *tsc_khz = khz > 0 ? (uint64_t)khz : 0;
    fill_boot_info(vm, end, *tsc_khz);
    if (virtio_vm_attach(vm, e))
        return -1;
    return 0;
}

void vm_destroy(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        if (vm->vcpu[i].run)
            munmap(vm->vcpu[i].run, vm->run_size);
        if (vm->vcpu[i].fd >= 0)
            close(vm->vcpu[i].fd);
    }
    virtio_vm_destroy(vm);
    guest_mem_destroy(&vm->mem);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
}

struct vm *vm_create(const struct vmm_plan *plan, struct vmm_result *res)
{
    vmm_result_init(res);
    res->console = calloc(1, VMM_CONSOLE_KEEP + 1);
    static const struct vm zero;
    struct vm *vm = malloc(sizeof *vm);
    if (!res->console || !vm) {
        free(vm);
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory");
        return NULL;
    }
    *vm = zero;
    vm->plan = plan;
    vm->res = res;
    vm->kvm_fd = vm->vm_fd = -1;
    for (unsigned i = 0; i < VMMB_MAX_VCPUS; i++)
        vm->vcpu[i].fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    return vm;
}

/* A pinned vCPU thread is created pinned: it never runs anywhere else, not even for
 * its first instructions. */
static int start_vcpu_thread(struct vm *vm, struct vcpu *v)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int cpu = vm->plan->resolved.vcpu_cpu[v->index];
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    int rc = pthread_create(&v->thread, &attr, vcpu_thread, v);
    pthread_attr_destroy(&attr);
    return rc;
}

/* The supervisor is the VMM's own thread: vmm_pin places it; returns whether it did. */
static bool pin_supervisor(const struct vmm_placement *p, cpu_set_t *saved)
{
    if (!p->nvmm_pin || pthread_getaffinity_np(pthread_self(), sizeof *saved, saved) != 0)
        return false;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned i = 0; i < p->nvmm_pin; i++)
        CPU_SET(p->vmm_pin[i], &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

void vm_observe_after_touch(struct vm *vm)
{
    if (atomic_exchange(&vm->touch_observed, true))
        return;
    struct vmm_mem_obs obs;
    vmm_observe_memory(&vm->mem, &vm->plan->resolved, &obs);
    pthread_mutex_lock(&vm->lock);
    vm->res->placement.mem[VMM_OBS_AFTER_TOUCH] = obs;
    pthread_mutex_unlock(&vm->lock);
}

static void observe_start(struct vm *vm)
{
    struct vmm_placement_obs *o = &vm->res->placement;
    const struct vmm_plan *p = vm->plan;
    o->valid = true;
    vmm_placement_describe(&p->placement, o->requested, sizeof o->requested);
    o->backing_page_size = vm->mem.page_size;
    o->nvcpus = p->vcpus;
    o->nvnodes = p->resolved.nvnodes;
    for (unsigned i = 0; i < p->vcpus; i++)
        o->vcpu[i].requested_cpu = p->resolved.vcpu_cpu[i];
}

static void observe_end(struct vm *vm)
{
    struct vmm_placement_obs *o = &vm->res->placement;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        memcpy(o->vcpu[i].ran_on, vm->vcpu[i].ran_on, sizeof o->vcpu[i].ran_on);
        memcpy(o->vcpu[i].affinity, vm->vcpu[i].affinity, sizeof o->vcpu[i].affinity);
    }
    vmm_observe_memory(&vm->mem, &vm->plan->resolved, &o->mem[VMM_OBS_AT_END]);
    vmm_observe_judge(&vm->plan->placement, o);
}

void vmm_run(const struct vmm_plan *plan, struct vmm_result *res)
{
    if (plan->placement.native) {
        native_run(plan, res);
        return;
    }
    double t0 = vm_now();
    struct vm *vm = vm_create(plan, res);
    if (!vm)
        return;
    install_kick_handler();
    cpu_set_t saved;
    bool pinned = pin_supervisor(&plan->placement, &saved);

    struct vmm_err e = { 0 };
    if (vm_build(vm, &e)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "%s", e.msg);
        goto out;
    }
    observe_start(vm);
    if (virtio_vm_start(vm, &e)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "%s", e.msg);
        goto out;
    }
    double deadline = vm_now() + plan->timeout_s;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        if (start_vcpu_thread(vm, v) != 0) {
            vm_fail(vm, VMM_STATUS_HOST_ERROR, "cannot start vCPU thread %u", i);
            atomic_store(&vm->stop, VM_STOP_DONE);
            break;
        }
        v->started = true;
    }
    supervise(vm, deadline);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (vm->vcpu[i].started)
            pthread_join(vm->vcpu[i].thread, NULL);
    explain_stop(vm);
    virtio_vm_stop(vm);
    observe_end(vm);
    collect_counters(vm);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        res->exits += vm->vcpu[i].exits;
    if (res->status == VMM_STATUS_OK) {
        if (vm->done) {
            const char *names[VMMB_MAX_PARAMS + 1] = { 0 };
            for (unsigned i = 0; i < plan->nparams && i < VMMB_MAX_PARAMS; i++)
                names[i] = plan->params[i].name;
            results_collect_checked(&vm->mem, vm->done_gpa, res->tsc_khz, plan->vcpus, names,
                                    res);
        }
        else
            vmm_result_fail(res, VMM_STATUS_GUEST_CRASH, "vCPU 0 stopped without reporting "
                            "results");
    }
    virtio_vm_collect(vm, res);
out:
    vm_destroy(vm);
    free(vm);
    if (pinned)
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    res->wall_seconds = vm_now() - t0;
}
