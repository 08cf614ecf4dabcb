/* irq-inject's host side (VMMB_WL_IRQFD workloads): an irqfd routed as an MSI to vCPU 0's
 * APIC, and a host thread that signals it when the guest asks, stamping the host TSC just
 * before the write() into the guest's mailbox. The path timed is every virtio
 * interrupt's: eventfd write -> KVM's irqfd -> APIC -> guest handler. */
#ifndef VMM_DEVICES_IRQ_INJECT_H
#define VMM_DEVICES_IRQ_INJECT_H

#include "vmm/error.h"

struct vm;

/* After the irqchip and the vCPUs exist: routing, irqfd, the thread, the two ports.
 * Errors: VMM_EXIT_NO_KVM (with vm->build_unsupported) when KVM refuses the routing or
 * the irqfd, VMM_EXIT_RESOURCES for eventfds or the thread. */
int irq_inject_create(struct vm *vm, struct vmm_err *e);
/* Stops and joins the thread, closes the eventfds (before guest memory goes). */
void irq_inject_destroy(struct vm *vm);

#endif
