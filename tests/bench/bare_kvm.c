/* The reference for `make bench`: the same guest, VM and workload as vmm-min, but run
 * by the barest exit loop possible (one thread, KVM_RUN, a switch on the port) instead
 * of vmm-min's threads, supervision and device dispatch. What vmm-min adds on top of
 * this is its overhead.
 *
 * usage: bare_kvm KERNEL WORKLOAD [k=v]...   prints "median_ns X" of the guest's
 * latency metric, or nothing for workloads without one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../../vmm-min/lib/vm.h"
#include "stats.h"
#include "vmm/guest_abi.h"
#include "vmm/image.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bare_kvm KERNEL WORKLOAD [k=v]...\n");
        return 2;
    }
    struct vmm_err e = { 0 };
    struct vmm_image *img;
    if (vmm_image_open(argv[1], &img, &e))
        return fprintf(stderr, "bare_kvm: %s\n", e.msg), 2;
    struct vmm_request rq = { .image = img, .workload = argv[2],
                              .params = (const char *const *)argv + 3,
                              .nparams = (unsigned)argc - 3, .mem_bytes = 64ull << 20,
                              .vcpus = 1 };
    struct vmm_plan plan;
    struct vmm_result res;
    if (vmm_plan_make(&rq, &plan, &e))
        return fprintf(stderr, "bare_kvm: %s\n", e.msg), 2;
    struct vm *vm = vm_create(&plan, &res);
    if (!vm || vm_build(vm, &e))
        return fprintf(stderr, "bare_kvm: %s\n", e.msg), 1;
    struct kvm_run *run = vm->vcpu[0].run;
    uint64_t done_gpa = 0;
    for (;;) {
        if (ioctl(vm->vcpu[0].fd, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "bare_kvm: unexpected exit %u\n", run->exit_reason);
            return 1;
        }
        if (run->io.port == VMMB_PORT_DONE) {
            memcpy(&done_gpa, (uint8_t *)run + run->io.data_offset, 4);
            break;
        }
    }
    results_collect(&vm->mem, done_gpa, res.tsc_khz, &res);
    double *v = malloc((res.nsamples + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < res.nsamples; i++)
        if (!res.samples[i].warmup && strcmp(res.samples[i].metric, "latency") == 0)
            v[n++] = res.samples[i].value;
    if (n) {
        stats_sort(v, n);
        printf("median_ns %.3f\n", stats_quantile_sorted(v, n, 0.5));
    }
    free(v);
    vm_destroy(vm);
    free(vm);
    vmm_result_free(&res);
    vmm_image_close(img);
    return 0;
}
