/* virtio devices in vmm-min: the virtio-mmio transport (register file, feature
 * negotiation, queue setup, notifications) shared by every device type, and the
 * interface a device type implements. Device types are listed in one table
 * (devices/virtio/virtio_types.c); the plan names them by string ("blk:null"), so nothing else in the
 * VMM knows which devices exist.
 *
 * Everything the driver writes is hostile input. A driver that breaks the rules gets
 * what the specification allows: a request it malformed completes with an error status;
 * a ring it broke (loops, out-of-range or overflowing descriptors, bad queue sizes) puts
 * the device in DEVICE_NEEDS_RESET until the driver resets it; a notification before
 * DRIVER_OK is ignored. Each case is counted by kind and the first one described, and
 * the VMM carries on. */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/io_bus.h"
#include "vmm/virtqueue.h"

#define VIRTIO_MAX_QUEUES 2
#define VIRTIO_QUEUE_MAX 1024u      /* QueueNumMax every device offers */
#define VIRTIO_CONFIG_MAX 64u

/* What went wrong, by kind: the virtqueue errors, then the transport's own. */
enum virtio_err {
    VIRTIO_ERR_NOTIFY_EARLY = VQ_ERR_COUNT, /* QueueNotify before DRIVER_OK: ignored */
    VIRTIO_ERR_NOTIFY_QUEUE,    /* QueueNotify for a queue that does not exist or is off */
    VIRTIO_ERR_FEATURES,        /* FEATURES_OK with features not offered or no VERSION_1 */
    VIRTIO_ERR_SETUP_ORDER,     /* queue setup before FEATURES_OK, DRIVER_OK before it */
    VIRTIO_ERR_ACCESS,          /* register access not 32-bit aligned */
    VIRTIO_ERR_REQUEST,         /* a well-formed chain carrying a bad request: error status */
    VIRTIO_ERR_COUNT
};

const char *virtio_err_name(unsigned kind);

struct virtio_dev;

struct virtio_dev_type {
    const char *name;             /* as in device specs: "blk", "net" */
    uint32_t device_id;           /* VIRTIO_ID_* */
    unsigned nqueues;
    const char *backends;         /* for messages: "null[:SIZE] | ram:SIZE | ..." */
    /* Checks the backend argument at plan time (files exist, sizes parse); no resources. */
    int (*check)(const char *args, struct vmm_err *e);
    /* Opens the backend, fills d->config, d->config_len, d->host_features (device bits). */
    int (*create)(struct virtio_dev *d, const char *args, struct vmm_err *e);
    void (*destroy)(struct virtio_dev *d);
    /* Handles one chain from queue q; sets *used_len to the bytes written into it.
     * Malformed requests complete with the device's error status and are counted with
     * virtio_dev_note(d, VIRTIO_ERR_REQUEST, ...). Called with d->lock held. */
    void (*handle)(struct virtio_dev *d, unsigned q, const struct vq_chain *c,
                   uint32_t *used_len);
    /* Optional: false when queue q's buffers wait for the backend instead of being taken
     * as they come (a receive queue fed by transmitted frames). */
    bool (*takes_buffers)(const struct virtio_dev *d, unsigned q);
    /* Optional, for a backend with input of its own (a tap device): the descriptor that
     * becomes readable when it has some, or -1. */
    int (*input_fd)(const struct virtio_dev *d);
    /* Moves pending backend input into the buffers the driver posted, publishing each.
     * Leaves the queue's notifications on when it ran out of buffers (*starved = true:
     * the driver's next post must wake the device; do not wait on input_fd) and off when
     * the backend ran dry. Returns the chains completed. Lock held. */
    unsigned (*input)(struct virtio_dev *d, bool *starved);
};

const struct virtio_dev_type *virtio_type_find(const char *name);
/* "blk, net" for messages. */
void virtio_type_list(char *buf, unsigned len);

struct virtio_dev {
    const struct virtio_dev_type *type;
    void *priv;                   /* the backend's state */
    const struct guest_mem *mem;
    uint64_t mmio_gpa;
    uint64_t host_features;       /* offered: device bits | transport bits */
    uint8_t config[VIRTIO_CONFIG_MAX];
    uint32_t config_len;

    pthread_mutex_t lock;         /* registers, queues and counters */
    uint32_t status, dev_feat_sel, drv_feat_sel, queue_sel, isr, config_gen;
    uint64_t driver_features;
    struct virtq vq[VIRTIO_MAX_QUEUES];

    /* Called with the lock held on a valid QueueNotify write that reached the VMM
     * process (the plain-exit path); default virtio_dev_process. */
    void (*on_kick)(struct virtio_dev *d, unsigned q);
    /* An eventfd signalled when a kick on the plain-exit path fed buffers to a backend
     * with input (so the thread reading it looks again); -1 for none. */
    int input_wake_fd;
    /* --notify irq: the irqfd a used-buffer notification is written to; -1 for none
     * (then the notification only sets the interrupt status register). */
    int irq_fd;

    /* Counters, under the lock. */
    uint64_t kicks;               /* notifications the device received, any path */
    uint64_t chains;              /* chains completed into the used rings */
    uint64_t irqs;                /* used-buffer notifications sent through irq_fd */
    uint64_t bytes;               /* payload bytes moved by the backend */
    uint64_t errors[VIRTIO_ERR_COUNT];
    char first_error[160];

    struct vq_chain chain;        /* scratch, used under the lock */
};

/* Transport features every device offers (VERSION_1, EVENT_IDX, INDIRECT_DESC). */
#define VIRTIO_TRANSPORT_FEATURES ((1ull << VIRTIO_F_VERSION_1) | \
                                   (1ull << VIRTIO_F_EVENT_IDX) | \
                                   (1ull << VIRTIO_F_INDIRECT_DESC))

/* Creates a device of `type` with backend `args` (d zeroed by the caller). */
int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_type *type, const char *args,
                    const struct guest_mem *mem, uint64_t mmio_gpa, struct vmm_err *e);
void virtio_dev_destroy(struct virtio_dev *d);

/* virtio-blk's backends without the transport, for native runs (vmm/native.h): the same
 * code a guest's requests reach (ram: memcpy; file and tmp: pread/pwrite, FLUSH is
 * fdatasync; null: nothing). virtio_blk_direct_io moves len bytes at byte offset pos
 * (both multiples of 512, within the device): 0, or -1 on a bad range or a host I/O
 * error. virtio_blk_bytes is the device's size. */
uint64_t virtio_blk_bytes(const struct virtio_dev *d);
int virtio_blk_direct_io(struct virtio_dev *d, bool in, uint64_t pos, void *buf, uint64_t len);
int virtio_blk_direct_flush(struct virtio_dev *d);

/* The register file: an io_bus handler for the device's 4 KiB window (ctx = device).
 * Never stops the vCPU: misbehaviour is the device's problem, not the run's. */
enum io_result virtio_mmio_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                              unsigned size, bool is_write);

/* A notification for queue q arrived (by any path; lock held): counts it, checks that
 * the device is live and the queue ready (recording the error otherwise), and calls
 * d->on_kick. */
void virtio_dev_kick(struct virtio_dev *d, unsigned q);
/* Takes every available chain of queue q through the device type's handler and
 * publishes them. Returns the number of chains. Lock held. */
unsigned virtio_dev_process(struct virtio_dev *d, unsigned q);
/* The plain-exit path's service: process queue q, re-arm notifications (avail_event or
 * the NO_NOTIFY flag), and process again if the driver raced ahead. Lock held. */
unsigned virtio_dev_serve(struct virtio_dev *d, unsigned q);
/* A used-buffer notification the driver asked for (vq_should_signal said yes): sets the
 * interrupt status and, with an irqfd, raises the interrupt. Lock held. */
void virtio_dev_signal_used(struct virtio_dev *d);
/* The device is live: DRIVER_OK set, not NEEDS_RESET. */
bool virtio_dev_live(const struct virtio_dev *d);
bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit);
/* The backend has input of its own to wait for (input_fd gives a descriptor). */
bool virtio_dev_has_input(const struct virtio_dev *d);

/* Records an error of `kind` (the first one's text is kept). virtio_dev_fail also puts
 * the device in DEVICE_NEEDS_RESET (a broken ring or queue setup); virtio_dev_note only
 * records (a request completed with an error status, a notification or register access
 * that was ignored, FEATURES_OK refused). Lock held. */
void virtio_dev_fail(struct virtio_dev *d, unsigned kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void virtio_dev_note(struct virtio_dev *d, unsigned kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
