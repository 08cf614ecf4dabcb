/* One thread per vCPU: KVM_RUN, dispatch the exit, repeat, until the guest reports,
 * faults, does something unexpected, or the supervisor stops it. Nothing here ends the
 * process: every failure becomes the run's status. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vstate/apic_note.h"
#include "vstate/vm.h"

static const char *exit_name(uint32_t r)
{
    switch (r) {
    case KVM_EXIT_HLT: return "HLT";
    case KVM_EXIT_SHUTDOWN: return "SHUTDOWN (triple fault)";
    case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
    case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
    case KVM_EXIT_EXCEPTION: return "EXCEPTION";
    case KVM_EXIT_DEBUG: return "DEBUG";
    case KVM_EXIT_HYPERCALL: return "HYPERCALL";
    case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
    default: return "unknown";
    }
}

static enum io_result do_pio(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct kvm_run *run = v->run;
    unsigned size = run->io.size, count = run->io.count;
    bool wr = run->io.direction == KVM_EXIT_IO_OUT;
    /* KVM fills these, but the buffer lives in shared memory: check before use. */
    if (run->io.data_offset >= vm->run_size || size == 0 || size > 8 ||
        (uint64_t)size * count > vm->run_size - run->io.data_offset) {
        vm_fail(vm, VMM_STATUS_HOST_ERROR, "KVM reported a malformed port access");
        return IO_STOP;
    }
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    const struct io_range *r = io_bus_find(&vm->pio, run->io.port, size);
    if (!r) {
        char dump[400];
        vm_regdump(v, dump, sizeof dump);
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "unexpected port %s of %u byte(s) at port 0x%x on "
                "vCPU %u%s", wr ? "write" : "read", size, run->io.port, v->index, dump);
        return IO_STOP;
    }
    for (unsigned i = 0; i < count; i++)
        if (r->fn(r->ctx, v->index, run->io.port - r->base, data + i * size, size, wr) == IO_STOP)
            return IO_STOP;
    return IO_CONTINUE;
}

static enum io_result do_mmio(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct kvm_run *run = v->run;
    unsigned len = run->mmio.len;
    const struct io_range *r = len <= 8 ? io_bus_find(&vm->mmio, run->mmio.phys_addr, len) : 0;
    if (!r) {
        char dump[400];
        vm_regdump(v, dump, sizeof dump);
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "unexpected MMIO %s of %u byte(s) at 0x%llx on "
                "vCPU %u (not RAM, no device)%s", run->mmio.is_write ? "write" : "read", len,
                (unsigned long long)run->mmio.phys_addr, v->index, dump);
        return IO_STOP;
    }
    return r->fn(r->ctx, v->index, run->mmio.phys_addr - r->base, run->mmio.data, len,
                 run->mmio.is_write);
}

/* Where a stopped vCPU was: the supervisor explains a hang with it. */
static void note_position(struct vcpu *v)
{
    struct kvm_regs regs;
    if (ioctl(v->fd, KVM_GET_REGS, &regs) != 0)
        return;
    v->stuck_rip = regs.rip;
    if (v->vm->irqchip)
        apic_note(v->fd, regs.rflags, v->vm->res->tsc_khz, v->stuck_apic, sizeof v->stuck_apic);
    const uint8_t *code = guest_mem_ptr(&v->vm->mem, regs.rip, sizeof v->stuck_bytes);
    if (code) {
        memcpy(v->stuck_bytes, code, sizeof v->stuck_bytes);
        v->stuck_bytes_ok = true;
    }
}

static bool handle_exit(struct vcpu *v)
{
    struct vm *vm = v->vm;
    uint32_t reason = v->run->exit_reason;
    switch (reason) {
    case KVM_EXIT_IO:
        return do_pio(v) == IO_CONTINUE;
    case KVM_EXIT_MMIO:
        return do_mmio(v) == IO_CONTINUE;
    case KVM_EXIT_HLT:
        /* Secondary vCPUs park with hlt when they have nothing to do. */
        if (v->index != 0)
            return false;
        break;
    default:
        break;
    }
    char dump[400];
    vm_regdump(v, dump, sizeof dump);
    if (reason == KVM_EXIT_HLT)
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "guest halted on vCPU 0 before reporting results%s",
                dump);
    else if (reason == KVM_EXIT_INTERNAL_ERROR)
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "KVM internal error %u on vCPU %u (1 = the host "
                "could not emulate an instruction)%s", v->run->internal.suberror, v->index, dump);
    else
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "unexpected exit %u (%s) on vCPU %u%s", reason,
                exit_name(reason), v->index, dump);
    return false;
}

void vcpu_counters_start(struct vcpu *v)
{
    const struct vmm_counters *cs = &v->vm->plan->counters;
    if (!cs->n)
        return;
    char why[192];
    if (vmm_counters_open(cs, v->pmu_fd, why, sizeof why) < 0) {
        if (v->index == 0)
            vm_console_note(v->vm, "host counters unavailable, run goes on without them: %s",
                            why);
        return;
    }
    v->pmu_open = true;
}

void vcpu_counters_stop(struct vcpu *v)
{
    if (v->pmu_open) /* pmu_open stays set: the counts are valid from here on */
        vmm_counters_close(&v->vm->plan->counters, v->pmu_fd, v->pmu_count);
}

static void note_cpu(struct vcpu *v)
{
    int cpu = sched_getcpu();
    if (cpu >= 0 && cpu < VMM_CPUSET_WORDS * 64)
        v->ran_on[cpu / 64] |= 1ull << (cpu % 64);
}

void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    vcpu_counters_start(v);
    for (;;) {
        if (atomic_load(&vm->stop) != VM_RUNNING) {
            note_position(v);
            break;
        }
        int rc = ioctl(v->fd, KVM_RUN, 0), err = errno;
        /* Where this vCPU really runs: sampled every 64th exit (and as it ends), so the
         * bookkeeping stays out of the exits a guest is timing. */
        if ((v->exits & 63) == 0)
            note_cpu(v);
        if (rc < 0) {
            if (err == EINTR || err == EAGAIN) {
                v->run->immediate_exit = 0;
                continue;
            }
            vm_fail(vm, VMM_STATUS_HOST_ERROR, "KVM_RUN failed on vCPU %u: %s", v->index,
                    strerror(err));
            break;
        }
        v->exits++;
        if (!handle_exit(v))
            break;
    }
    note_cpu(v);
    vcpu_counters_stop(v);
    v->cpu_s = vm_thread_cpu();
    cpu_set_t set;
    if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) == 0)
        for (int c = 0; c < VMM_CPUSET_WORDS * 64 && c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set))
                v->affinity[c / 64] |= 1ull << (c % 64);
    pthread_mutex_lock(&vm->lock);
    atomic_store(&v->finished, true);
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    return NULL;
}
