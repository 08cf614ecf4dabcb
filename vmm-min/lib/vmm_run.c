/* Runs one VM from a plan: builds it (vm_build.c), starts the vCPU threads (pinned as
 * planned), supervises them (vm_supervise.c), and collects results, counters and the
 * observed placement. */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/virtio/virtio_vm.h"
#include "qemu/qemu.h"
#include "vstate/vm.h"
#include "vmm/native.h"
#include "vmm/vmm.h"

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

void vm_attr_others(struct vm *vm, pthread_attr_t *attr)
{
    if (vm->others_set)
        pthread_attr_setaffinity_np(attr, sizeof vm->others, &vm->others);
}

/* A pinned vCPU thread is created pinned: it never runs anywhere else, not even for
 * its first instructions. An unpinned one keeps off vmm_pin's CPUs. */
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
    } else {
        vm_attr_others(vm, &attr);
    }
    int rc = pthread_create(&v->thread, &attr, vcpu_thread, v);
    pthread_attr_destroy(&attr);
    return rc;
}

/* vmm_pin is for the supervisor alone: every other thread gets the CPUs the process
 * had less vmm_pin's (all it had, if that leaves none). Computed before anything is
 * pinned, so no thread inherits the supervisor's CPUs. */
void vm_plan_thread_masks(struct vm *vm, const cpu_set_t *saved)
{
    const struct vmm_placement *p = &vm->plan->placement;
    if (!p->nvmm_pin)
        return;
    vm->others = *saved;
    for (unsigned i = 0; i < p->nvmm_pin; i++)
        CPU_CLR(p->vmm_pin[i], &vm->others);
    if (CPU_COUNT(&vm->others) == 0)
        vm->others = *saved;
    vm->others_set = true;
}

/* The supervisor is the VMM's own thread: vmm_pin places it, once every other thread
 * exists; returns whether it did. */
bool vm_pin_supervisor(const struct vmm_placement *p)
{
    if (!p->nvmm_pin)
        return false;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned i = 0; i < p->nvmm_pin; i++)
        CPU_SET(p->vmm_pin[i], &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/* The VMM's own CPU time, per kind of thread, as samples (unit s): the supervisor's
 * while the guest ran (its one-off placement sample apart), the I/O thread's, and each
 * vCPU thread's (batch = the vCPU).
 * These come from the kernel's per-thread accounting, the figure behind
 * /proc/self/task/TID/schedstat. */
static void collect_vmm_cpu(struct vm *vm)
{
    int oom = vmm_result_add(vm->res, "vmm_cpu_supervisor", "s", 0, false,
                             vm->supervisor_cpu_s);
    oom |= vmm_result_add(vm->res, "vmm_cpu_placement_sample", "s", 0, false,
                          vm->observe_cpu_s);
    double io = virtio_vm_io_cpu(vm);
    if (io >= 0)
        oom |= vmm_result_add(vm->res, "vmm_cpu_io_thread", "s", 0, false, io);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (vm->vcpu[i].started)
            oom |= vmm_result_add(vm->res, "vmm_cpu_vcpu", "s", i, false, vm->vcpu[i].cpu_s);
    if (oom)
        vm_fail(vm, VMM_STATUS_HOST_ERROR, "out of memory storing the VMM's CPU time");
}

void vm_observe_after_touch(struct vm *vm)
{
    if (vm->touch_observed)
        return;
    vm->touch_observed = true;
    struct vmm_mem_obs obs;
    vmm_observe_memory(&vm->mem, &vm->plan->resolved, &obs);
    pthread_mutex_lock(&vm->lock);
    vm->res->placement.mem[VMM_OBS_AFTER_TOUCH] = obs;
    pthread_mutex_unlock(&vm->lock);
}

void vm_observe_start(struct vm *vm)
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

void vm_observe_end(struct vm *vm)
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
    if (plan->hypervisor != VMM_HV_VMM_MIN) {
        qemu_run(plan, res);
        return;
    }
    double t0 = vm_now();
    struct vm *vm = vm_create(plan, res);
    if (!vm)
        return;
    vm_install_kick_handler();
    cpu_set_t saved;
    bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
    if (have_saved)
        vm_plan_thread_masks(vm, &saved);
    bool pinned = false;

    struct vmm_err e = { 0 };
    if (vm_build(vm, &e)) {
        vmm_result_fail(res, vm->build_unsupported ? VMM_STATUS_UNSUPPORTED
                                                   : VMM_STATUS_HOST_ERROR, "%s", e.msg);
        goto out;
    }
    vm_observe_start(vm);
    if (plan->default_device[0])
        vm_console_note(vm, "%s: the workload's default device (the run named none of its "
                        "type)", plan->default_device);
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
    pinned = have_saved && vm_pin_supervisor(&plan->placement);
    vm_supervise(vm, deadline);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (vm->vcpu[i].started)
            pthread_join(vm->vcpu[i].thread, NULL);
    /* A run shorter than the supervisor's wake-up still gets its after-touch sample. */
    if (atomic_exchange(&vm->touch_requested, false))
        vm_observe_after_touch(vm);
    vm_explain_stop(vm);
    virtio_vm_stop(vm);
    vm_observe_end(vm);
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
    if (res->status == VMM_STATUS_OK) /* a failed run keeps no samples */
        collect_vmm_cpu(vm);
out:
    vm_destroy(vm);
    free(vm);
    if (pinned)
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    res->wall_seconds = vm_now() - t0;
}
