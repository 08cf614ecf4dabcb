/* The device side of one split virtqueue. The rings live in guest memory, written by a
 * guest that may be hostile or racing: every ring and every buffer goes through
 * guest_mem_ptr, every descriptor is copied once before it is looked at, and a chain
 * that loops, runs past the queue size, nests indirect tables, points outside RAM or
 * overflows is an error for the caller to turn into DEVICE_NEEDS_RESET, never a crash. */
#ifndef VMM_VIRTQUEUE_H
#define VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/virtio_abi.h"

/* The most buffers one chain may have (direct or through one indirect table). Devices
 * advertise one less as seg_max where the device type has such a field. */
#define VQ_MAX_SEGS 256u

enum vq_err {
    VQ_OK = 0,
    VQ_ERR_QUEUE_SIZE,   /* size 0, not a power of two, or above the device's maximum */
    VQ_ERR_RING_ADDR,    /* a ring outside guest RAM, overflowing, or misaligned */
    VQ_ERR_AVAIL_IDX,    /* the driver claims more new entries than the queue holds */
    VQ_ERR_HEAD,         /* an avail entry or next field names no descriptor */
    VQ_ERR_LOOP,         /* a chain longer than its table: it loops */
    VQ_ERR_TOO_LONG,     /* more than VQ_MAX_SEGS buffers */
    VQ_ERR_BUF_ADDR,     /* a buffer outside guest RAM, or addr + len overflows */
    VQ_ERR_INDIRECT,     /* indirect not negotiated, nested, empty, odd-sized or with NEXT */
    VQ_ERR_ORDER,        /* a device-readable buffer after a device-writable one */
    VQ_ERR_COUNT
};

const char *vq_err_name(enum vq_err e);

struct vq_buf {
    uint8_t *host;       /* checked: [host, host+len) is guest RAM */
    uint64_t gpa;
    uint32_t len;
    bool write;          /* device-writable */
};

struct vq_chain {
    uint16_t head;
    unsigned n, nread;   /* buffers; the first nread are device-readable */
    uint64_t read_bytes, write_bytes;
    struct vq_buf buf[VQ_MAX_SEGS];
};

struct virtq {
    /* Set by the driver through the transport before enabling. */
    uint32_t size;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* Negotiated features that change the ring format. */
    bool event_idx, indirect;

    bool ready;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t last_avail;     /* next avail entry the device will take */
    uint16_t used_idx;       /* next used entry; published by vq_publish */
    uint16_t signalled_used; /* used idx at the last used-buffer notification */
    bool signalled_valid;
};

/* Checks size (power of two, 1..max) and that the three rings lie in guest RAM with
 * their required alignment; translates them once. */
enum vq_err vq_enable(struct virtq *q, const struct guest_mem *gm, uint32_t max_size);
void vq_reset(struct virtq *q);

/* Entries the driver has made available and the device has not taken. */
static inline uint16_t vq_avail_pending(const struct virtq *q)
{
    return (uint16_t)(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) - q->last_avail);
}

/* Takes the next available chain into c. Returns 1 with a chain, 0 when the ring is
 * empty, or -(enum vq_err) when the driver broke the ring; then the device must stop
 * using the queue (DEVICE_NEEDS_RESET). */
int vq_pop(struct virtq *q, const struct guest_mem *gm, struct vq_chain *c);

/* Puts (head, len) in the used ring; vq_publish makes all pushed entries visible. */
void vq_push(struct virtq *q, uint16_t head, uint32_t len);
void vq_publish(struct virtq *q);

/* Notification suppression, device side (spec 2.7.7 and 2.7.10). Disabling asks the
 * driver not to kick (VIRTQ_USED_F_NO_NOTIFY, or with event-idx simply not moving
 * avail_event); enabling asks for a kick at the next new entry. After enabling, the
 * caller must check vq_avail_pending() again before sleeping: this returns it. */
void vq_notify_disable(struct virtq *q);
uint16_t vq_notify_enable(struct virtq *q);

/* Should the device send a used-buffer notification now (driver's used_event or
 * VIRTQ_AVAIL_F_NO_INTERRUPT)? Updates the remembered point when it says yes. */
bool vq_should_signal(struct virtq *q);

/* Copies up to len bytes of a chain's readable part from offset off into dst; returns
 * bytes copied. And the same into its writable part. */
uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len);
uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len);

#endif
