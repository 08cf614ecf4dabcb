/* The run's virtio devices, as vm_build and vmm_run drive them (virtio_vm.c). All are
 * no-ops when the plan names no devices. */
#ifndef VMM_VIRTIO_VM_H
#define VMM_VIRTIO_VM_H

#include <stdint.h>

#include "vmm/error.h"
#include "vmm/result.h"

struct vm;

/* Creates the devices, their MMIO windows and ioeventfds, and lists them in the boot
 * info (after it is filled). Errors are the host's or the backend's. */
int virtio_vm_attach(struct vm *vm, struct vmm_err *e);
/* Starts the I/O thread for the ioeventfd and poll paths (before the vCPUs run). */
int virtio_vm_start(struct vm *vm, struct vmm_err *e);
void virtio_vm_stop(struct vm *vm);
/* The I/O thread's CPU time over the run (after virtio_vm_stop), or -1 without one. */
double virtio_vm_io_cpu(const struct vm *vm);
/* The measuring window: opened when vCPU 0 enters VMMB_PHASE_MEASURE, closed when it
 * reports (VMMB_PORT_DONE). Called on the vCPU thread. */
void virtio_vm_phase(struct vm *vm, uint32_t phase);
void virtio_vm_done(struct vm *vm);
/* Adds error counts, per-request exits and kicks, CPU time and rates to the result. */
void virtio_vm_collect(struct vm *vm, struct vmm_result *res);
void virtio_vm_destroy(struct vm *vm);

#endif
