/* The supervisor of a running VM: enforces the run timeout and the probe timeout, stops
 * every vCPU once vCPU 0 is done, and explains a stop it had to force. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vstate/vm.h"

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

void vm_install_kick_handler(void)
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

/* What the supervisor must do now: the stop it decides on (VM_RUNNING: none yet). */
static int decide_stop(struct vm *vm, double now, double deadline)
{
    /* vCPU 0 ended, or another vCPU reported (a failure in a job). */
    if (atomic_load(&vm->vcpu[0].finished) || vm->done)
        return VM_STOP_DONE;
    if (now >= deadline)
        return VM_STOP_TIMEOUT;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        double pd = atomic_load(&vm->vcpu[i].probe_deadline);
        if (pd > 0 && now >= pd)
            return VM_STOP_PROBE_TIMEOUT;
    }
    return VM_RUNNING;
}

static double next_wake(struct vm *vm, double deadline)
{
    double wake = deadline;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        double pd = atomic_load(&vm->vcpu[i].probe_deadline);
        if (pd > 0 && pd < wake)
            wake = pd;
    }
    return wake;
}

/* Waits for vCPU 0 to finish, enforcing both timeouts, then stops every vCPU. While the
 * guest runs it sleeps on vm->cond until the next deadline or an event (a vCPU ending or
 * changing phase), and writes vm->stop once, so it costs the guest nothing; its CPU time
 * is kept in vm->supervisor_cpu_s as the proof. */
void vm_supervise(struct vm *vm, double deadline)
{
    double cpu0 = vm_thread_cpu();
    pthread_mutex_lock(&vm->lock);
    int stop = atomic_load(&vm->stop);
    for (;;) {
        if (all_finished(vm))
            break;
        double now = vm_now();
        if (stop == VM_RUNNING && (stop = decide_stop(vm, now, deadline)) != VM_RUNNING)
            atomic_store(&vm->stop, stop);
        if (stop == VM_RUNNING && atomic_exchange(&vm->touch_requested, false)) {
            /* One-off work, counted apart: supervision proper is what remains. */
            pthread_mutex_unlock(&vm->lock);
            double o0 = vm_thread_cpu();
            vm_observe_after_touch(vm);
            vm->observe_cpu_s += vm_thread_cpu() - o0;
            pthread_mutex_lock(&vm->lock);
            continue;
        }
        double wake;
        if (stop != VM_RUNNING) {
            pthread_mutex_unlock(&vm->lock);
            kick_all(vm);
            pthread_mutex_lock(&vm->lock);
            wake = now + 0.01; /* keep kicking until every thread has left KVM_RUN */
        } else {
            wake = next_wake(vm, deadline);
        }
        struct timespec ts = abs_time(wake);
        pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
    }
    pthread_mutex_unlock(&vm->lock);
    vm->supervisor_cpu_s = vm_thread_cpu() - cpu0 - vm->observe_cpu_s;
}

static const char *insn_name(const uint8_t *b)
{
    if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xc1)
        return "vmcall";
    if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xd9)
        return "vmmcall";
    return "instruction";
}

void vm_explain_stop(struct vm *vm)
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
                "the %.1f s probe on this host; stopped %s%s", vm->plan->workload->name,
                vm->plan->probe_timeout_s, where, v->stuck_apic);
    else
        vm_fail(vm, VMM_STATUS_TIMEOUT, "run exceeded its %.1f s timeout in phase %d; stopped "
                "%s%s", vm->plan->timeout_s, atomic_load(&v->phase), where, v->stuck_apic);
}
