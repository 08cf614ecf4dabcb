/* The devices every vmm-min guest has: the serial console, the control ports of the
 * guest/VMM contract, and the do-nothing PIO and MMIO targets of the exit workloads. */
#include <stdio.h>
#include <sys/ioctl.h>
#include <string.h>

#include "devices/virtio/virtio_vm.h"
#include "vstate/vm.h"
#include "vmm/guest_abi.h"
#include "vmm/text_escape.h"

static enum io_result serial_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                                unsigned size, bool is_write)
{
    (void)vcpu;
    struct vm *vm = ctx;
    if (!is_write) {
        /* Line status: transmitter empty and idle, so polling drivers never wait. */
        memset(data, 0, size);
        if (off == VMMB_PORT_SERIAL_LSR - VMMB_PORT_SERIAL)
            data[0] = 0x60;
        return IO_CONTINUE;
    }
    if (off != 0)
        return IO_CONTINUE;
    /* Counted apart from what is kept: a flood is named even after the log is full. */
    bool flood = atomic_fetch_add(&vm->console_total, 1) + 1 > VMM_CONSOLE_FLOOD;
    vm_console_put(vm, (const char *)data, 1);
    if (vm->plan->echo_console) /* guest bytes: control characters shown, not sent */
        vmm_text_escape_write(stderr, (const char *)data, 1, VMM_ESC_KEEP_LINES);
    if (flood) {
        vm_fail(vm, VMM_STATUS_GUEST_ERROR,
                "console flood: the guest wrote more than %u bytes to the serial console",
                VMM_CONSOLE_FLOOD);
        return IO_STOP;
    }
    return IO_CONTINUE;
}

static uint32_t le32(const uint8_t *d, unsigned size)
{
    uint32_t v = 0;
    memcpy(&v, d, size < 4 ? size : 4);
    return v;
}

static enum io_result control_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                                 unsigned size, bool is_write)
{
    struct vm *vm = ctx;
    struct vcpu *v = &vm->vcpu[vcpu];
    uint16_t port = (uint16_t)(VMMB_PORT_DONE + off);
    if (!is_write) {
        memset(data, 0, size);
        return IO_CONTINUE;
    }
    switch (port) {
    case VMMB_PORT_DONE:
        pthread_mutex_lock(&vm->lock);
        if (!vm->done) {
            vm->done = true;
            vm->done_gpa = (uint64_t)vm->done_hi << 32 | le32(data, size);
        }
        pthread_mutex_unlock(&vm->lock);
        if (vcpu == 0)
            virtio_vm_done(vm);
        return IO_STOP;
    case VMMB_PORT_PHASE: {
        uint32_t ph = le32(data, size);
        atomic_store(&v->phase, (int)ph);
        atomic_store(&v->probe_deadline,
                     ph == VMMB_PHASE_PROBE ? vm_now() + vm->plan->probe_timeout_s : 0.0);
        /* The placement sample walks smaps and asks move_pages: the supervisor does it,
         * so this vCPU goes straight back to measuring. */
        if (ph == VMMB_PHASE_MEASURE && vcpu == 0)
            atomic_store(&vm->touch_requested, true);
        if (vcpu == 0)
            virtio_vm_phase(vm, ph);
        pthread_mutex_lock(&vm->lock);
        pthread_cond_broadcast(&vm->cond);
        pthread_mutex_unlock(&vm->lock);
        return IO_CONTINUE;
    }
    case VMMB_PORT_FAULT: {
        /* The guest's exception stub left error code, RIP, CS, RFLAGS, RSP, SS on its
         * stack and wrote the vector here. The stack pointer is guest input too. */
        struct kvm_regs regs;
        struct kvm_sregs sregs;
        char dump[256] = "";
        uint32_t vec = le32(data, size);
        if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0 && ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0) {
            const uint64_t *frame = guest_mem_ptr(&vm->mem, regs.rsp, 6 * sizeof(uint64_t));
            if (frame)
                snprintf(dump, sizeof dump, " at RIP 0x%llx (error code 0x%llx, CR2 0x%llx, "
                         "CS 0x%llx, RFLAGS 0x%llx, RSP 0x%llx)", (unsigned long long)frame[1],
                         (unsigned long long)frame[0], (unsigned long long)sregs.cr2,
                         (unsigned long long)frame[2], (unsigned long long)frame[3],
                         (unsigned long long)frame[4]);
            else
                snprintf(dump, sizeof dump, " (exception frame at RSP 0x%llx is outside "
                         "guest memory)", (unsigned long long)regs.rsp);
        }
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "guest exception vector %u on vCPU %u%s", vec,
                vcpu, dump);
        return IO_STOP;
    }
    default: /* VMMB_PORT_BENCH and the spare ports: the exit itself is the work. */
        return IO_CONTINUE;
    }
}

/* The high half of the result header's address, written before VMMB_PORT_DONE. */
static enum io_result done_hi_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                                 unsigned size, bool is_write)
{
    struct vm *vm = ctx;
    (void)vcpu;
    if (!is_write) {
        memset(data, 0, size);
        return IO_CONTINUE;
    }
    if (off == 0) {
        pthread_mutex_lock(&vm->lock);
        vm->done_hi = le32(data, size);
        pthread_mutex_unlock(&vm->lock);
    }
    return IO_CONTINUE;
}

static enum io_result mmio_bench_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                                    unsigned size, bool is_write)
{
    (void)ctx, (void)vcpu, (void)off;
    if (!is_write)
        memset(data, 0, size);
    return IO_CONTINUE;
}

int devices_register(struct vm *vm)
{
    if (io_bus_add(&vm->pio, VMMB_PORT_SERIAL, 8, serial_io, vm, "serial") ||
        io_bus_add(&vm->pio, VMMB_PORT_DONE, 16, control_io, vm, "control") ||
        io_bus_add(&vm->pio, VMMB_PORT_DONE_HI, 4, done_hi_io, vm, "control-done-hi") ||
        io_bus_add(&vm->mmio, VMMB_MMIO_BENCH_GPA, VMMB_MMIO_BENCH_SIZE, mmio_bench_io, vm,
                   "mmio-bench"))
        return -1;
    return 0;
}
