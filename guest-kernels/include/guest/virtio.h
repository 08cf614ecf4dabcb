/* A minimal virtio-mmio driver for workloads: finds a device in the boot info, brings it
 * up (reset, features, queues, DRIVER_OK) and drives split virtqueues by polling the used
 * rings, with no interrupts. It runs in ring 3: the device window and the queues (in
 * guest RAM) are user-accessible, and ring-0 code is emulated on PVM hosts.
 * Register accesses exit to the VMM, so the data path touches only QueueNotify, and only
 * when the device's notification suppression says so. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdint.h>

#include "guest/workload.h"
#include "vmm/virtio_abi.h"

struct gvq {
    uint16_t size, index;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    volatile uint32_t *notify;
    int event_idx;
    int always_kick;         /* ignore the device's suppression (a naive driver) */
    uint16_t avail_idx;      /* next avail entry (shadow of avail->idx) */
    uint16_t kicked_idx;     /* avail idx at the last notification decision */
    uint16_t last_used;      /* next used entry to reap */
    uint64_t kicks;          /* QueueNotify writes */
};

/* How a workload's driver decides to notify (its `suppress` parameter). */
enum { GV_SUPPRESS_NONE = 0, GV_SUPPRESS_FLAGS = 1, GV_SUPPRESS_EVENT_IDX = 2 };

struct gvdev {
    volatile uint8_t *regs;
    uint32_t device_id;
    uint64_t features;       /* negotiated */
    struct gvq q[2];
};

/* Guest-physical address of the nth device of virtio type `type`, or 0. */
uint64_t gv_find(const struct vmmb_boot_info *bi, uint32_t type, unsigned nth);

/* Takes bytes (aligned) from the top of the workload's free memory, shrinking the result
 * area; NULL when it does not fit. */
void *gv_alloc(struct wl_ctx *ctx, uint64_t bytes, uint64_t align);

/* Brings the device at gpa up with `want` features (VERSION_1 is added) and nq queues of
 * qsize entries (a power of two; queues in memory from gv_alloc). Returns NULL or the
 * reason it could not. */
const char *gv_init(struct wl_ctx *ctx, struct gvdev *d, uint64_t gpa, uint32_t type,
                    uint64_t want, unsigned nq, uint16_t qsize);

uint32_t gv_read(struct gvdev *d, uint32_t off);
void gv_write(struct gvdev *d, uint32_t off, uint32_t v);
uint32_t gv_config32(struct gvdev *d, uint32_t off);

static inline void gv_mb(void)
{
    __asm__ volatile("lock; addl $0, (%%rsp)" ::: "memory", "cc");
}

/* Puts chain head `head` in the avail ring (not yet visible to the device). */
static inline void gvq_add(struct gvq *q, uint16_t head)
{
    q->avail->ring[q->avail_idx & (q->size - 1)] = head;
    q->avail_idx++;
}

/* Publishes what gvq_add put there and notifies the device if it asked to be told. */
void gvq_kick(struct gvq *q);

/* Interrupt-driven reaping (ring 0 of a VMMB_WL_IRQ workload, the VMM's --notify irq;
 * interrupts masked by the caller): asks the device for a used-buffer notification (clears
 * VIRTQ_AVAIL_F_NO_INTERRUPT, or with event-idx sets used_event to the next entry) and
 * waits in HLT until the used ring has an entry. sti;hlt is atomic, so an interrupt that
 * was raised between the check and the hlt ends the hlt at once. */
void gvq_wait_irq(struct gvq *q);

/* Reaps one used entry: 1 with *id and *len, 0 when none. */
static inline int gvq_used(struct gvq *q, uint32_t *id, uint32_t *len)
{
    uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
    if (idx == q->last_used)
        return 0;
    volatile struct virtq_used_elem *e = &q->used->ring[q->last_used & (q->size - 1)];
    *id = e->id;
    *len = e->len;
    q->last_used++;
    return 1;
}

#endif
