/* The virtio-mmio transport, version 2 (virtio 1.x modern only), spec 4.2. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/virtio.h"

static const char *const transport_err_names[] = {
    [VIRTIO_ERR_NOTIFY_EARLY - VQ_ERR_COUNT] = "notify_before_ready",
    [VIRTIO_ERR_NOTIFY_QUEUE - VQ_ERR_COUNT] = "notify_bad_queue",
    [VIRTIO_ERR_FEATURES - VQ_ERR_COUNT] = "features",
    [VIRTIO_ERR_SETUP_ORDER - VQ_ERR_COUNT] = "setup_order",
    [VIRTIO_ERR_ACCESS - VQ_ERR_COUNT] = "reg_access",
    [VIRTIO_ERR_REQUEST - VQ_ERR_COUNT] = "bad_request",
};

const char *virtio_err_name(unsigned kind)
{
    if (kind < VQ_ERR_COUNT)
        return vq_err_name((enum vq_err)kind);
    if (kind < VIRTIO_ERR_COUNT)
        return transport_err_names[kind - VQ_ERR_COUNT];
    return "unknown";
}

static void note(struct virtio_dev *d, unsigned kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void note(struct virtio_dev *d, unsigned kind, const char *fmt, va_list ap)
{
    if (kind < VIRTIO_ERR_COUNT)
        d->errors[kind]++;
    if (!d->first_error[0]) {
        int n = snprintf(d->first_error, sizeof d->first_error, "virtio-%s at 0x%llx: %s: ",
                         d->type->name, (unsigned long long)d->mmio_gpa, virtio_err_name(kind));
        if (n > 0 && (size_t)n < sizeof d->first_error)
            vsnprintf(d->first_error + n, sizeof d->first_error - (size_t)n, fmt, ap);
    }
}

void virtio_dev_fail(struct virtio_dev *d, unsigned kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note(d, kind, fmt, ap);
    va_end(ap);
    /* Spec 2.1.2: the device sets DEVICE_NEEDS_RESET and, if DRIVER_OK was set, sends a
     * configuration change notification. Nothing more happens until a reset. */
    d->status |= VIRTIO_STATUS_NEEDS_RESET;
    if (d->status & VIRTIO_STATUS_DRIVER_OK)
        d->isr |= 2;
}

void virtio_dev_note(struct virtio_dev *d, unsigned kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note(d, kind, fmt, ap);
    va_end(ap);
}

bool virtio_dev_live(const struct virtio_dev *d)
{
    return (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
           VIRTIO_STATUS_DRIVER_OK;
}

bool virtio_dev_has_input(const struct virtio_dev *d)
{
    return d->type->input && d->type->input_fd && d->type->input_fd(d) >= 0;
}

bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit)
{
    return bit < 64 && (d->driver_features >> bit) & 1;
}

static void dev_reset(struct virtio_dev *d)
{
    d->status = d->dev_feat_sel = d->drv_feat_sel = d->queue_sel = d->isr = 0;
    d->driver_features = 0;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        vq_reset(&d->vq[i]);
}

unsigned virtio_dev_process(struct virtio_dev *d, unsigned qi)
{
    if (!virtio_dev_live(d) || qi >= d->type->nqueues || !d->vq[qi].ready)
        return 0;
    if (d->type->takes_buffers && !d->type->takes_buffers(d, qi))
        return 0;
    struct virtq *q = &d->vq[qi];
    unsigned n = 0;
    for (;;) {
        int r = vq_pop(q, d->mem, &d->chain);
        if (r == 0)
            break;
        if (r < 0) {
            virtio_dev_fail(d, (unsigned)-r, "queue %u, avail entry %u", qi,
                            (unsigned)q->last_avail);
            break;
        }
        uint32_t used = 0;
        d->type->handle(d, qi, &d->chain, &used);
        if (!virtio_dev_live(d))
            break; /* the handler found the ring broken (e.g. net rx) */
        vq_push(q, d->chain.head, used);
        vq_publish(q); /* per chain: a polling driver may reap while we work */
        n++;
    }
    if (n) {
        d->chains += n;
        if (vq_should_signal(q))
            virtio_dev_signal_used(d);
    }
    return n;
}

void virtio_dev_signal_used(struct virtio_dev *d)
{
    d->isr |= 1;
    if (d->irq_fd < 0)
        return;
    uint64_t one = 1;
    if (write(d->irq_fd, &one, sizeof one) == (ssize_t)sizeof one)
        d->irqs++;
    /* else the counter is at 2^64 - 1: an interrupt is pending anyway */
}

void virtio_dev_kick(struct virtio_dev *d, unsigned q)
{
    d->kicks++;
    if (!(d->status & VIRTIO_STATUS_DRIVER_OK)) {
        virtio_dev_note(d, VIRTIO_ERR_NOTIFY_EARLY, "notify for queue %u with status 0x%x",
                        q, d->status);
        return;
    }
    if (d->status & VIRTIO_STATUS_NEEDS_RESET)
        return; /* ignored until the driver resets the device */
    if (q >= d->type->nqueues || !d->vq[q].ready) {
        virtio_dev_note(d, VIRTIO_ERR_NOTIFY_QUEUE, "notify for queue %u, which %s", q,
                        q >= d->type->nqueues ? "does not exist" : "is not ready");
        return;
    }
    if (d->on_kick)
        d->on_kick(d, q);
}

unsigned virtio_dev_serve(struct virtio_dev *d, unsigned qi)
{
    if (!virtio_dev_live(d) || qi >= d->type->nqueues || !d->vq[qi].ready)
        return 0;
    struct virtq *q = &d->vq[qi];
    if (d->type->takes_buffers && !d->type->takes_buffers(d, qi)) {
        if (!virtio_dev_has_input(d)) {
            vq_notify_disable(q); /* its buffers are taken when the backend has data */
            return 0;
        }
        /* New buffers for a backend with input: fill them with what is waiting, and tell
         * the thread that reads the backend to look again. */
        bool starved;
        unsigned n = d->type->input(d, &starved);
        uint64_t one = 1;
        if (d->input_wake_fd >= 0 && write(d->input_wake_fd, &one, sizeof one) < 0) {
            /* an eventfd write fails only at a counter of 2^64 - 1: it is awake then */
        }
        return n;
    }
    unsigned n = 0;
    for (;;) {
        n += virtio_dev_process(d, qi);
        if (!virtio_dev_live(d) || !q->ready || !vq_notify_enable(q))
            return n;
    }
}

static void default_kick(struct virtio_dev *d, unsigned q)
{
    virtio_dev_serve(d, q);
}

int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_type *type, const char *args,
                    const struct guest_mem *mem, uint64_t mmio_gpa, struct vmm_err *e)
{
    d->type = type;
    d->mem = mem;
    d->mmio_gpa = mmio_gpa;
    d->on_kick = default_kick;
    d->input_wake_fd = -1;
    d->irq_fd = -1;
    if (type->create(d, args, e))
        return -1;
    d->host_features |= VIRTIO_TRANSPORT_FEATURES;
    pthread_mutex_init(&d->lock, NULL);
    dev_reset(d);
    return 0;
}

void virtio_dev_destroy(struct virtio_dev *d)
{
    if (!d->type)
        return;
    if (d->type->destroy)
        d->type->destroy(d);
    pthread_mutex_destroy(&d->lock);
    d->type = NULL;
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
    struct virtq *q = d->queue_sel < d->type->nqueues ? &d->vq[d->queue_sel] : NULL;
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return VIRTIO_MMIO_VERSION_MODERN;
    case VIRTIO_MMIO_DEVICE_ID: return d->type->device_id;
    case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_VENDOR_VMMB;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return d->dev_feat_sel < 2 ? (uint32_t)(d->host_features >> (32 * d->dev_feat_sel)) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? VIRTIO_QUEUE_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return d->isr;
    case VIRTIO_MMIO_STATUS: return d->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return d->config_gen;
    default: return 0;
    }
}

static void set_status(struct virtio_dev *d, uint32_t v)
{
    if (v == 0) {
        dev_reset(d);
        return;
    }
    /* The driver only adds bits (spec 3.1.1); NEEDS_RESET is the device's. */
    uint32_t add = v & ~d->status & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET;
    if (add & VIRTIO_STATUS_FEATURES_OK) {
        uint64_t extra = d->driver_features & ~d->host_features;
        if (extra || !virtio_dev_has_feature(d, VIRTIO_F_VERSION_1)) {
            /* Spec 3.1.1: the device does not accept FEATURES_OK; the driver reads the
             * status back and sees that. */
            virtio_dev_note(d, VIRTIO_ERR_FEATURES, "driver features 0x%llx (%s)",
                            (unsigned long long)d->driver_features,
                            extra ? "not all offered" : "no VERSION_1");
            add &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
        }
    }
    if ((add & VIRTIO_STATUS_DRIVER_OK) &&
        !((d->status | add) & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_dev_note(d, VIRTIO_ERR_SETUP_ORDER, "DRIVER_OK without FEATURES_OK");
        add &= ~(uint32_t)VIRTIO_STATUS_DRIVER_OK;
    }
    d->status |= add;
}

static void queue_ready(struct virtio_dev *d, struct virtq *q, uint32_t v)
{
    if (v == 0) {
        q->ready = false;
        return;
    }
    if (q->ready)
        return;
    if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_dev_note(d, VIRTIO_ERR_SETUP_ORDER, "queue %u enabled before FEATURES_OK",
                        d->queue_sel);
        return;
    }
    q->event_idx = virtio_dev_has_feature(d, VIRTIO_F_EVENT_IDX);
    q->indirect = virtio_dev_has_feature(d, VIRTIO_F_INDIRECT_DESC);
    enum vq_err err = vq_enable(q, d->mem, VIRTIO_QUEUE_MAX);
    if (err)
        virtio_dev_fail(d, err, "queue %u: size %u, desc 0x%llx, driver 0x%llx, device 0x%llx",
                        d->queue_sel, q->size, (unsigned long long)q->desc_gpa,
                        (unsigned long long)q->avail_gpa, (unsigned long long)q->used_gpa);
}

static void set_half(uint64_t *x, bool high, uint32_t v)
{
    if (high)
        *x = (*x & 0xffffffffull) | ((uint64_t)v << 32);
    else
        *x = (*x & ~0xffffffffull) | v;
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
    struct virtq *q = d->queue_sel < d->type->nqueues ? &d->vq[d->queue_sel] : NULL;
    /* Queue layout registers are the driver's only while the queue is off. */
    bool q_open = q && !q->ready;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->dev_feat_sel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->drv_feat_sel = v; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (d->status & VIRTIO_STATUS_FEATURES_OK)
            virtio_dev_note(d, VIRTIO_ERR_SETUP_ORDER, "features written after FEATURES_OK");
        else if (d->drv_feat_sel < 2)
            set_half(&d->driver_features, d->drv_feat_sel == 1, v);
        break;
    case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; break;
    case VIRTIO_MMIO_QUEUE_NUM: if (q_open) q->size = v; break;
    case VIRTIO_MMIO_QUEUE_READY: if (q) queue_ready(d, q, v); break;
    case VIRTIO_MMIO_QUEUE_NOTIFY: virtio_dev_kick(d, v); break;
    case VIRTIO_MMIO_INTERRUPT_ACK: d->isr &= ~v; break;
    case VIRTIO_MMIO_STATUS: set_status(d, v); break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: if (q_open) set_half(&q->desc_gpa, false, v); break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (q_open) set_half(&q->desc_gpa, true, v); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: if (q_open) set_half(&q->avail_gpa, false, v); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: if (q_open) set_half(&q->avail_gpa, true, v); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: if (q_open) set_half(&q->used_gpa, false, v); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: if (q_open) set_half(&q->used_gpa, true, v); break;
    default: break; /* read-only and reserved registers ignore writes */
    }
}

enum io_result virtio_mmio_io(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                              unsigned size, bool is_write)
{
    (void)vcpu;
    struct virtio_dev *d = ctx;
    pthread_mutex_lock(&d->lock);
    if (off >= VIRTIO_MMIO_CONFIG) {
        /* Device configuration: any width; read-only here; outside it reads 0. */
        uint64_t c = off - VIRTIO_MMIO_CONFIG;
        if (!is_write)
            for (unsigned i = 0; i < size; i++)
                data[i] = c + i < d->config_len ? d->config[c + i] : 0;
    } else if (size != 4 || (off & 3)) {
        virtio_dev_note(d, VIRTIO_ERR_ACCESS, "%u-byte %s at register 0x%llx", size,
                        is_write ? "write" : "read", (unsigned long long)off);
        if (!is_write)
            memset(data, 0, size);
    } else if (is_write) {
        uint32_t v;
        memcpy(&v, data, 4);
        reg_write(d, off, v);
    } else {
        uint32_t v = reg_read(d, off);
        memcpy(data, &v, 4);
    }
    pthread_mutex_unlock(&d->lock);
    return IO_CONTINUE;
}
