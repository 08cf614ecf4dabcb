/* Everything up to the first KVM_RUN: guest memory with its placement, page tables, the
 * guest image, devices, vCPUs in 64-bit mode, and the boot-info page; and the teardown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vstate/kvm_dev.h"
#include "devices/irq_inject.h"
#include "devices/virtio/virtio_vm.h"
#include "vstate/vm.h"
#include "vmm/elf_loader.h"
#include "vstate/x86_setup.h"

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

int vm_fill_boot_info(struct vm *vm, uint64_t image_end, uint64_t tsc_khz)
{
    const struct vmm_plan *p = vm->plan;
    struct vmmb_boot_info *bi = guest_mem_ptr(&vm->mem, X86_BOOT_INFO_GPA, sizeof *bi);
    if (!bi)
        return -1;
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
    bi->entry = vm->entry;
    bi->cr3 = vm->tables.cr3;
    return 0;
}

int vm_build_guest(struct vm *vm, bool shared, struct vmm_err *e)
{
    const struct vmm_plan *p = vm->plan;
    int rc = shared ? guest_mem_create_shared(&vm->mem, p->mem_bytes, &p->placement,
                                              &p->resolved, e)
                    : guest_mem_create_placed(&vm->mem, p->mem_bytes, &p->placement,
                                              &p->resolved, e);
    if (rc || x86_build_tables(&vm->mem, p->placement.guest_pages, p->image->end, &vm->tables, e))
        return -1;
    return elf_load(p->image->data, p->image->len, &vm->mem, &vm->entry, &vm->image_end, e);
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
    if (vm_build_guest(vm, false, e))
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
    /* Opt-in: only interrupt workloads get the in-kernel APICs, before any vCPU exists
     * (KVM attaches a local APIC to vCPUs created after it). Every other VM is built as
     * it always was, so no exit figure moves. */
    if (p->workload->flags & VMMB_WL_IRQ) {
        if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
            vm->build_unsupported = true;
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_CREATE_IRQCHIP failed (%s): this host "
                               "cannot give the VM an in-kernel interrupt controller, which %s "
                               "needs", strerror(errno), p->workload->name);
        }
        vm->irqchip = true;
    }
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
        if (x86_setup_vcpu(vm->kvm_fd, v->fd, i, vm->entry, vm->tables.cr3, vm->irqchip) < 0)
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "setting up vCPU %u failed: %s", i,
                               strerror(errno));
        /* With the in-kernel irqchip KVM starts every vCPU but the first waiting for
         * INIT/SIPI; this contract starts all vCPUs at once, in 64-bit mode. */
        struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
        if (vm->irqchip && i != 0 && ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_SET_MP_STATE of vCPU %u failed: %s", i,
                               strerror(errno));
    }
    /* Every guest figure is converted with this: a host that cannot say it fails here,
     * as the host's error, not later as a guest record that looks corrupt. */
    int khz = ioctl(vm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);
    if (khz <= 0)
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_GET_TSC_KHZ failed (%s): this host's KVM "
                           "cannot give the guest's TSC frequency, which every figure needs",
                           khz < 0 ? strerror(errno) : "it returned 0");
    *tsc_khz = (uint64_t)khz;
    if ((p->workload->flags & VMMB_WL_IRQFD) && vm->irqchip && irq_inject_create(vm, e))
        return -1;
    if (vm_fill_boot_info(vm, vm->image_end, *tsc_khz))
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory is too small for the boot-info "
                           "page at 0x%llx; give the VM more memory",
                           (unsigned long long)X86_BOOT_INFO_GPA);
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
    irq_inject_destroy(vm); /* its thread writes guest memory: stopped before that goes */
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
    /* The supervisor's deadlines are CLOCK_MONOTONIC (vm_now): the condition variable
     * must wait on that clock, or every timed wait returns at once and it spins. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->cond, &ca);
    pthread_condattr_destroy(&ca);
    return vm;
}
