/* The I/O part of a run request: which virtio devices the VM gets (by spec string,
 * "TYPE:BACKEND", e.g. "blk:null", "blk:ram:64M", "blk:file:/tmp/disk", "net:loop") and
 * how their notifications reach the device model:
 *   exit       QueueNotify is an MMIO exit handled on the vCPU thread (the default)
 *   ioeventfd  KVM_IOEVENTFD turns it into an eventfd signal; an I/O thread serves it
 *   poll       an I/O thread busy-polls the rings for poll_us after its last work
 *              (notifications suppressed meanwhile), then blocks on the ioeventfd
 *   irq        kicks as with ioeventfd; used-buffer notifications the driver asks for
 *              (spec 2.7.7/2.7.10) raise an interrupt through an irqfd (an MSI route to
 *              vCPU 0, vector VMMB_VIRTIO_VECTOR): only for workloads that take
 *              interrupts (VMMB_WL_IRQ, whose VM has the in-kernel irqchip)
 * Checked at plan time: unknown types or backends, backend files that do not exist and
 * tap devices ("net:tap:NAME") this process may not attach to are refused before
 * anything runs. */
#ifndef VMM_VIRTIO_PLAN_H
#define VMM_VIRTIO_PLAN_H

#include <stdbool.h>

#include "vmm/error.h"
#include "vmm/guest_abi.h"

#define VMM_DEV_ARGS_MAX 512
#define VMM_POLL_US_DEFAULT 200u
#define VMM_POLL_US_MAX 1000000u

enum vmm_notify { VMM_NOTIFY_EXIT = 0, VMM_NOTIFY_IOEVENTFD, VMM_NOTIFY_POLL, VMM_NOTIFY_IRQ };

struct vmm_virtio_request {
    const char *const *devices;  /* "TYPE:BACKEND" */
    unsigned ndevices;
    const char *notify;          /* exit | ioeventfd | poll | irq; NULL = exit */
    unsigned poll_us;            /* poll mode's busy-poll window; 0 = default */
    int io_cpu;                  /* host CPU for the I/O thread; -1 (or io_cpu_set false) = any */
    bool io_cpu_set;
};

struct vmm_virtio_dev_plan {
    const struct virtio_dev_type *type;
    char args[VMM_DEV_ARGS_MAX]; /* the backend part */
};

struct vmm_virtio_plan {
    unsigned ndev;
    struct vmm_virtio_dev_plan dev[VMMB_MAX_DEVICES];
    enum vmm_notify notify;
    unsigned poll_us;
    int io_cpu;                  /* -1 = unpinned */
};

int vmm_virtio_plan_make(const struct vmm_virtio_request *rq, struct vmm_virtio_plan *p,
                         struct vmm_err *e);
const char *vmm_notify_name(enum vmm_notify n);

#endif
