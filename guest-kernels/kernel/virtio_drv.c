/* The guest's virtio-mmio driver (see guest/virtio.h). Spec 3.1.1 and 4.2.3. */
#include "guest/irq.h"
#include "guest/lib.h"
#include "guest/virtio.h"

uint64_t gv_find(const struct vmmb_boot_info *bi, uint32_t type, unsigned nth)
{
    /* The boot info may come from a VMM that predates the device list. */
    if (bi->size < __builtin_offsetof(struct vmmb_boot_info, devices) +
                       sizeof(struct vmmb_boot_devices))
        return 0;
    const struct vmmb_boot_devices *bd = &bi->devices;
    for (uint32_t i = 0; i < bd->nr_devices && i < VMMB_MAX_DEVICES; i++)
        if (bd->dev[i].type == type && bd->dev[i].transport == VMMB_TRANSPORT_VIRTIO_MMIO &&
            nth-- == 0)
            return bd->dev[i].gpa;
    return 0;
}

static uint64_t alloc_top;

void *gv_alloc(struct wl_ctx *ctx, uint64_t bytes, uint64_t align)
{
    if (!alloc_top)
        alloc_top = ctx->bi->free_gpa + ctx->bi->free_size;
    uint64_t floor_gpa = (uint64_t)(uintptr_t)ctx->rec +
                         (uint64_t)ctx->res->nr_records * sizeof(struct vmmb_record);
    if (bytes > alloc_top - floor_gpa)
        return 0;
    uint64_t p = (alloc_top - bytes) & ~(align - 1);
    if (p < floor_gpa)
        return 0;
    alloc_top = p;
    uint64_t room = (p - (uint64_t)(uintptr_t)ctx->rec) / sizeof(struct vmmb_record);
    if (room < ctx->capacity)
        ctx->capacity = (uint32_t)room;
    memset((void *)(uintptr_t)p, 0, bytes);
    return (void *)(uintptr_t)p;
}

uint32_t gv_read(struct gvdev *d, uint32_t off)
{
    return *(volatile uint32_t *)(d->regs + off);
}

void gv_write(struct gvdev *d, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(d->regs + off) = v;
}

uint32_t gv_config32(struct gvdev *d, uint32_t off)
{
    return gv_read(d, VIRTIO_MMIO_CONFIG + off);
}

const char *gv_init(struct wl_ctx *ctx, struct gvdev *d, uint64_t gpa, uint32_t type,
                    uint64_t want, unsigned nq, uint16_t qsize)
{
    memset(d, 0, sizeof *d);
    d->regs = (volatile uint8_t *)(uintptr_t)gpa;
    if (gv_read(d, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
        gv_read(d, VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_MODERN)
        return "not a virtio-mmio version 2 device";
    d->device_id = gv_read(d, VIRTIO_MMIO_DEVICE_ID);
    if (d->device_id != type)
        return "device has another type";
    gv_write(d, VIRTIO_MMIO_STATUS, 0);
    gv_write(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    gv_write(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    gv_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t offered = gv_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
    gv_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    offered |= (uint64_t)gv_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    want |= 1ull << VIRTIO_F_VERSION_1;
    if ((offered & want) != want)
        return "device lacks a feature the workload needs";
    d->features = want;
    gv_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    gv_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
    gv_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    gv_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
    uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
    gv_write(d, VIRTIO_MMIO_STATUS, st);
    if (!(gv_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
        return "device refused FEATURES_OK";
    for (unsigned i = 0; i < nq && i < 2; i++) {
        struct gvq *q = &d->q[i];
        gv_write(d, VIRTIO_MMIO_QUEUE_SEL, i);
        if (gv_read(d, VIRTIO_MMIO_QUEUE_READY))
            return "queue already live after reset";
        if (gv_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX) < qsize)
            return "queue size above the device's maximum";
        /* One allocation: descriptors, then the driver area, then the device area
         * 4-byte aligned, each with its event-idx word. */
        uint64_t dbytes = virtq_desc_bytes(qsize), abytes = virtq_avail_bytes(qsize);
        uint64_t uoff = (dbytes + abytes + 3) & ~3ull;
        uint8_t *mem = gv_alloc(ctx, uoff + virtq_used_bytes(qsize), 4096);
        if (!mem)
            return "no guest memory left for the queues: give the VM more memory";
        q->size = qsize;
        q->index = (uint16_t)i;
        q->desc = (volatile struct virtq_desc *)mem;
        q->avail = (volatile struct virtq_avail *)(mem + dbytes);
        q->used = (volatile struct virtq_used *)(mem + uoff);
        q->notify = (volatile uint32_t *)(d->regs + VIRTIO_MMIO_QUEUE_NOTIFY);
        q->event_idx = (want >> VIRTIO_F_EVENT_IDX) & 1;
        /* No interrupts: this driver polls the used ring. */
        if (!q->event_idx)
            q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
        uint64_t a = (uint64_t)(uintptr_t)mem;
        gv_write(d, VIRTIO_MMIO_QUEUE_NUM, qsize);
        gv_write(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)a);
        gv_write(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(a >> 32));
        gv_write(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(a + dbytes));
        gv_write(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((a + dbytes) >> 32));
        gv_write(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(a + uoff));
        gv_write(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((a + uoff) >> 32));
        gv_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
        if (gv_read(d, VIRTIO_MMIO_QUEUE_READY) != 1)
            return "device refused the queue";
    }
    gv_write(d, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
    if (gv_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET)
        return "device needs reset after DRIVER_OK";
    return 0;
}

void gvq_kick(struct gvq *q)
{
    uint16_t old = q->kicked_idx, now = q->avail_idx;
    __atomic_store_n(&q->avail->idx, now, __ATOMIC_RELEASE);
    /* The device enables notifications then re-reads our index; we publish then read
     * its setting: a full barrier on both sides. */
    gv_mb();
    q->kicked_idx = now;
    int need;
    if (q->always_kick) {
        need = 1;
    } else if (q->event_idx) {
        volatile uint16_t *avail_event =
            (volatile uint16_t *)(void *)((volatile uint8_t *)q->used + 4 + 8u * q->size);
        need = virtq_need_event(*avail_event, now, old);
    } else {
        need = !(q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
    }
    if (need && now != old) {
        *q->notify = q->index;
        q->kicks++;
    }
}

void gvq_wait_irq(struct gvq *q)
{
    volatile uint16_t *used_event = &q->avail->ring[q->size];
    if (!q->event_idx)
        q->avail->flags = 0;
    for (;;) {
        if (q->event_idx)
            *used_event = q->last_used;
        /* Publish the request, then look: the device pushes, then reads our setting. */
        gv_mb();
        if (__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used)
            return;
        irq_sti_hlt();
    }
}
