/* The reference for `make bench`: the same guest, VM and workload as vmm-min, but run
 * by the barest exit loop possible (KVM_RUN, a switch on the exit) instead of vmm-min's
 * threads, supervision and device dispatch. What vmm-min adds on top of this is its
 * overhead. It shares only the VM's construction with vmm-min (vm_build: memory, page
 * tables, image, registers), nothing that runs while the guest measures.
 *
 * usage: bare_kvm [--pin CPU] [--vcpus N] KERNEL WORKLOAD [k=v]...
 *   --pin CPU   run vCPU 0's loop on CPU (as vmm-min --pin CPU does)
 *   --vcpus N   more vCPUs, each on a thread of its own until it halts (the exit
 *               workloads park secondary vCPUs with HLT, as vmm-min lets them)
 * prints "median_ns X" of the guest's latency metric, or nothing for workloads without. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vstate/vm.h"
#include "stats.h"
#include "vmm/guest_abi.h"
#include "vmm/image.h"

/* A secondary vCPU: runs until the guest parks it (HLT). */
static void *park_vcpu(void *arg)
{
    struct vcpu *v = arg;
    while (ioctl(v->fd, KVM_RUN, 0) == 0 && v->run->exit_reason != KVM_EXIT_HLT) {
    }
    return NULL;
}

/* vCPU 0's loop: exits are served by doing nothing (the guest's bench port and MMIO
 * page), reads return zero, the console is dropped, DONE ends it. */
static int run_vcpu0(struct vcpu *v, uint64_t *done_gpa)
{
    struct kvm_run *run = v->run;
    for (;;) {
        if (ioctl(v->fd, KVM_RUN, 0) < 0)
            return -1;
        if (run->exit_reason == KVM_EXIT_MMIO) {
            if (!run->mmio.is_write)
                memset(run->mmio.data, 0, sizeof run->mmio.data);
            continue;
        }
        if (run->exit_reason != KVM_EXIT_IO)
            return fprintf(stderr, "bare_kvm: unexpected exit %u\n", run->exit_reason), -1;
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        if (run->io.direction == KVM_EXIT_IO_IN) {
            memset(data, 0, run->io.size);
            if (run->io.port == VMMB_PORT_SERIAL_LSR)
                data[0] = 0x60;
        }
        if (run->io.port == VMMB_PORT_DONE) {
            *done_gpa = 0;
            memcpy(done_gpa, data, run->io.size < 8 ? run->io.size : 8);
            return 0;
        }
    }
}

int main(int argc, char **argv)
{
    int pin = -1;
    unsigned vcpus = 1;
    int a = 1;
    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        if (!strcmp(argv[a], "--pin"))
            pin = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--vcpus"))
            vcpus = (unsigned)atoi(argv[a + 1]);
        else
            break;
    }
    if (argc - a < 2 || vcpus < 1 || vcpus > VMMB_MAX_VCPUS) {
        fprintf(stderr, "usage: bare_kvm [--pin CPU] [--vcpus N] KERNEL WORKLOAD [k=v]...\n");
        return 2;
    }
    struct vmm_err e = { 0 };
    struct vmm_image *img;
    if (vmm_image_open(argv[a], &img, &e))
        return fprintf(stderr, "bare_kvm: %s\n", e.msg), 2;
    struct vmm_request rq = { .image = img, .workload = argv[a + 1],
                              .params = (const char *const *)argv + a + 2,
                              .nparams = (unsigned)(argc - a - 2), .mem_bytes = 64ull << 20,
                              .vcpus = vcpus };
    struct vmm_plan plan;
    struct vmm_result res;
    if (vmm_plan_make(&rq, &plan, &e))
        return fprintf(stderr, "bare_kvm: %s\n", e.msg), 2;
    struct vm *vm = vm_create(&plan, &res);
    if (!vm || vm_build(vm, &e))
        return fprintf(stderr, "bare_kvm: %s\n", e.msg), 1;
    if (pin >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(pin, &set);
        if (sched_setaffinity(0, sizeof set, &set))
            return fprintf(stderr, "bare_kvm: cannot pin to CPU %d\n", pin), 2;
    }
    pthread_t th[VMMB_MAX_VCPUS];
    for (unsigned i = 1; i < vcpus; i++)
        pthread_create(&th[i], NULL, park_vcpu, &vm->vcpu[i]);
    uint64_t done_gpa = 0;
    int rc = run_vcpu0(&vm->vcpu[0], &done_gpa);
    for (unsigned i = 1; i < vcpus; i++)
        pthread_join(th[i], NULL);
    if (rc)
        return 1;
    results_collect(&vm->mem, done_gpa, res.tsc_khz, &res);
    double *v = malloc((res.nsamples + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < res.nsamples; i++)
        if (!res.samples[i].warmup && strcmp(res.samples[i].metric, "latency") == 0) {
            v[n++] = res.samples[i].value;
            if (getenv("BARE_KVM_ALL")) /* every batch, to look at a distribution */
                fprintf(stderr, "%.0f ", res.samples[i].value);
        }
    if (n) {
        stats_sort(v, n);
        printf("median_ns %.3f\n", stats_quantile_sorted(v, n, 0.5));
    }
    free(v);
    vm_destroy(vm);
    free(vm);
    vmm_result_free(&res);
    vmm_image_close(img);
    return n ? 0 : 1;
}
