#include "devices/irq_inject.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "vstate/vm.h"
#include "vmm/guest_abi.h"

/* The one GSI this VM routes: past the 24 pins of the in-kernel IOAPIC. */
#define INJECT_GSI 24u
#define MSI_ADDR_BASE 0xfee00000u  /* physical destination APIC ID 0 in bits 12..19 */
#define MAX_DELAY_US 100000u

struct irq_inject {
    struct vm *vm;
    int irqfd, reqfd;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    _Atomic(struct vmmb_inject_mbox *) mbox; /* host view, checked; NULL until registered */
    uint32_t delay_us;
};

static uint64_t host_tsc(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

static void *inject_thread(void *arg)
{
    struct irq_inject *in = arg;
    for (;;) {
        uint64_t n;
        ssize_t r = read(in->reqfd, &n, sizeof n);
        if (atomic_load(&in->stop))
            break;
        if (r != (ssize_t)sizeof n) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        struct vmmb_inject_mbox *m = atomic_load(&in->mbox);
        for (uint64_t i = 0; m && i < n && !atomic_load(&in->stop); i++) {
            struct timespec d = { 0, (long)in->delay_us * 1000 };
            while (nanosleep(&d, &d) != 0 && errno == EINTR)
                ;
            uint64_t one = 1;
            __atomic_store_n(&m->host_tsc, host_tsc(), __ATOMIC_RELEASE);
            if (write(in->irqfd, &one, sizeof one) != (ssize_t)sizeof one)
                break;
            __atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
        }
    }
    return NULL;
}

static uint32_t le32(const uint8_t *d, unsigned size)
{
    uint32_t v = 0;
    memcpy(&v, d, size < 4 ? size : 4);
    return v;
}

/* The guest's offset from the host TSC: KVM's KVM_VCPU_TSC_OFFSET of vCPU 0, read when the
 * guest registers (after KVM synchronised the vCPUs' TSCs). */
static void fill_offset(struct vm *vm, struct vmmb_inject_mbox *m)
{
    uint64_t off = 0;
    struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
                                 .addr = (uint64_t)(uintptr_t)&off };
    bool ok = ioctl(vm->vcpu[0].fd, KVM_HAS_DEVICE_ATTR, &a) == 0 &&
              ioctl(vm->vcpu[0].fd, KVM_GET_DEVICE_ATTR, &a) == 0;
    m->tsc_offset = ok ? off : 0;
    m->offset_known = ok;
}

static enum io_result inject_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                                unsigned size, bool is_write)
{
    (void)vcpu;
    struct vm *vm = ctx;
    struct irq_inject *in = vm->inject;
    if (!is_write) {
        memset(data, 0, size);
        return IO_CONTINUE;
    }
    if (off == VMMB_PORT_INJECT_MBOX - VMMB_PORT_INJECT_MBOX) {
        /* Hostile input: the mailbox must be whole, aligned guest RAM; once only. */
        uint32_t gpa = le32(data, size);
        struct vmmb_inject_mbox *m = gpa % 8 ? NULL : guest_mem_ptr(&vm->mem, gpa, sizeof *m);
        if (!m || atomic_load(&in->mbox)) {
            vm_fail(vm, VMM_STATUS_GUEST_ERROR, "irq-inject mailbox at 0x%x refused: %s", gpa,
                    m ? "a mailbox is registered already"
                      : "not 8-byte aligned guest RAM of its size");
            return IO_STOP;
        }
        uint32_t delay = m->delay_us;
        if (delay > MAX_DELAY_US) {
            vm_fail(vm, VMM_STATUS_GUEST_ERROR, "irq-inject delay of %u us is over the %u us "
                    "limit", delay, MAX_DELAY_US);
            return IO_STOP;
        }
        in->delay_us = delay;
        fill_offset(vm, m);
        atomic_store(&in->mbox, m);
        return IO_CONTINUE;
    }
    if (off == VMMB_PORT_INJECT - VMMB_PORT_INJECT_MBOX) {
        if (!atomic_load(&in->mbox)) {
            vm_fail(vm, VMM_STATUS_GUEST_ERROR, "irq-inject asked for an interrupt before "
                    "registering its mailbox");
            return IO_STOP;
        }
        uint64_t one = 1;
        if (write(in->reqfd, &one, sizeof one) != (ssize_t)sizeof one) {
            vm_fail(vm, VMM_STATUS_HOST_ERROR, "irq-inject request eventfd: %s", strerror(errno));
            return IO_STOP;
        }
    }
    return IO_CONTINUE;
}

int irq_inject_create(struct vm *vm, struct vmm_err *e)
{
    struct irq_inject *in = calloc(1, sizeof *in);
    if (!in)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    in->vm = vm;
    in->irqfd = in->reqfd = -1;
    vm->inject = in;
    in->irqfd = eventfd(0, EFD_CLOEXEC);
    in->reqfd = eventfd(0, EFD_CLOEXEC);
    if (in->irqfd < 0 || in->reqfd < 0)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "eventfd: %s", strerror(errno));
    /* One routing entry after the header (a flexible array: allocated, not declared). */
    struct kvm_irq_routing *rt = calloc(1, sizeof *rt + sizeof rt->entries[0]);
    if (!rt)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    rt->nr = 1;
    rt->entries[0].gsi = INJECT_GSI;
    rt->entries[0].type = KVM_IRQ_ROUTING_MSI;
    rt->entries[0].u.msi.address_lo = MSI_ADDR_BASE;
    rt->entries[0].u.msi.data = VMMB_INJECT_VECTOR; /* fixed delivery, edge */
    struct kvm_irqfd fd = { .fd = (uint32_t)in->irqfd, .gsi = INJECT_GSI };
    int routed = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, rt);
    free(rt);
    if (routed < 0 || ioctl(vm->vm_fd, KVM_IRQFD, &fd) < 0) {
        vm->build_unsupported = true;
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM refused the irqfd or its MSI route (%s): "
                           "this host cannot inject interrupts from a host thread",
                           strerror(errno));
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    vm_attr_others(vm, &attr);
    int rc = pthread_create(&in->thread, &attr, inject_thread, in);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "cannot start the irq-inject thread: %s",
                           strerror(rc));
    in->started = true;
    if (io_bus_add(&vm->pio, VMMB_PORT_INJECT_MBOX, 8, inject_io, vm, "irq-inject"))
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "irq-inject ports overlap another device");
    return 0;
}

void irq_inject_destroy(struct vm *vm)
{
    struct irq_inject *in = vm->inject;
    if (!in)
        return;
    if (in->started) {
        atomic_store(&in->stop, true);
        uint64_t one = 1;
        if (write(in->reqfd, &one, sizeof one) != (ssize_t)sizeof one)
            pthread_cancel(in->thread); /* cannot wake it: nothing else would */
        pthread_join(in->thread, NULL);
    }
    if (in->irqfd >= 0)
        close(in->irqfd);
    if (in->reqfd >= 0)
        close(in->reqfd);
    free(in);
    vm->inject = NULL;
}
