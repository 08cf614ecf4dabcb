/* Hostile virtio drivers: each breaks the virtio rules in the ways a buggy or malicious
 * guest could, checks that the device answers as the specification says (a broken ring
 * puts it in DEVICE_NEEDS_RESET, a malformed request completes with IOERR, an early
 * notification is ignored), resets it, and finally proves the device still works. The
 * VMM must survive all of it and record each case (tests/integration/test_virtio.c).
 * Run with a virtio-blk device (vmm-min --blk null). The -irq twins are the same drivers
 * in a VM with the in-kernel irqchip, for --notify irq: the device's interrupts through
 * the irqfd must not change what the VMM survives and records. */
#include "guest/lib.h"
#include "guest/virtio.h"
#include "guest/workload.h"
#include "guest/x86.h"

#define RING3_ONLY WL_PARAM("ring", "privilege level (3 only)", 3, 3, 3)

static struct gvdev dev;
static uint8_t *buf; /* 3 pages: header, data, status */

static void need(struct wl_ctx *ctx, int ok, const char *what)
{
    if (!ok)
        wl_error(ctx, what);
}

static uint64_t find(struct wl_ctx *ctx)
{
    uint64_t gpa = gv_find(ctx->bi, VIRTIO_ID_BLOCK, 0);
    if (!gpa)
        wl_unsupported(ctx, "no virtio-blk device: run with --blk null");
    return gpa;
}

static void up(struct wl_ctx *ctx, uint64_t gpa)
{
    const char *why = gv_init(ctx, &dev, gpa, VIRTIO_ID_BLOCK, 0, 1, 8);
    if (why)
        wl_error(ctx, why);
}

static int needs_reset(void)
{
    return (gv_read(&dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) != 0;
}

/* Posts descriptor 0 as a chain head after the caller wrote the table, kicks, and
 * gives the device (on any notification path) time to look. */
static void post(void)
{
    struct gvq *q = &dev.q[0];
    q->always_kick = 1;
    gvq_add(q, 0);
    gvq_kick(q);
    for (int i = 0; i < 2000000 && !needs_reset() && q->used->idx == q->last_used; i++)
        cpu_pause();
}

/* A good read through a fresh device: it still works. */
static void good_request(struct wl_ctx *ctx, uint64_t gpa)
{
    up(ctx, gpa);
    volatile struct virtq_desc *d = dev.q[0].desc;
    struct virtio_blk_req_hdr *h = (struct virtio_blk_req_hdr *)buf;
    h->type = VIRTIO_BLK_T_IN;
    h->sector = 0;
    buf[8192] = 0xff;
    d[0] = (struct virtq_desc){ (uint64_t)(uintptr_t)buf, 16, VIRTQ_DESC_F_NEXT, 1 };
    d[1] = (struct virtq_desc){ (uint64_t)(uintptr_t)buf + 4096, 512,
                                VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
    d[2] = (struct virtq_desc){ (uint64_t)(uintptr_t)buf + 8192, 1, VIRTQ_DESC_F_WRITE, 0 };
    post();
    uint32_t id, len;
    need(ctx, gvq_used(&dev.q[0], &id, &len), "a good request after the bad ones did not complete");
    need(ctx, buf[8192] == VIRTIO_BLK_S_OK && len == 513, "a good request failed");
    wl_record(ctx, VMMB_REC_MEASURE, 0, 0, 1, 1); /* the VMM wants at least one record */
}

/* Broken chains: loop, self-loop, next past the table, buffers outside RAM, overflowing
 * lengths, indirect without negotiating it, readable after writable. */
static void bad_chains(struct wl_ctx *ctx)
{
    uint64_t gpa = find(ctx);
    buf = gv_alloc(ctx, 3 * 4096, 4096);
    need(ctx, buf != 0, "no memory");
    uint64_t b = (uint64_t)(uintptr_t)buf;
    struct virtq_desc cases[][2] = {
        { { b, 16, VIRTQ_DESC_F_NEXT, 1 }, { b + 4096, 16, VIRTQ_DESC_F_NEXT, 0 } },
        { { b, 16, VIRTQ_DESC_F_NEXT, 0 }, { 0, 0, 0, 0 } },
        { { b, 16, VIRTQ_DESC_F_NEXT, 8 }, { 0, 0, 0, 0 } },
        { { 0xe0000000ull, 16, 0, 0 }, { 0, 0, 0, 0 } },
        { { 0xfffffffffffff000ull, 0x2000, 0, 0 }, { 0, 0, 0, 0 } },
        { { b, 0xffffffffu, 0, 0 }, { 0, 0, 0, 0 } },
        { { b, 32, VIRTQ_DESC_F_INDIRECT, 0 }, { 0, 0, 0, 0 } },
        { { b, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1 }, { b + 4096, 16, 0, 0 } },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        up(ctx, gpa);
        dev.q[0].desc[0] = cases[i][0];
        dev.q[0].desc[1] = cases[i][1];
        post();
        need(ctx, needs_reset(), "the device did not set DEVICE_NEEDS_RESET for a broken chain");
        need(ctx, dev.q[0].used->idx == 0, "the device completed a broken chain");
        /* further notifications are ignored until a reset */
        gvq_kick(&dev.q[0]);
    }
    /* A well-formed chain carrying a bad request: IOERR, the device stays live. */
    up(ctx, gpa);
    volatile struct virtq_desc *d = dev.q[0].desc;
    d[0] = (struct virtq_desc){ b, 8, VIRTQ_DESC_F_NEXT, 1 }; /* header too short */
    d[1] = (struct virtq_desc){ b + 8192, 1, VIRTQ_DESC_F_WRITE, 0 };
    buf[8192] = 0xff;
    post();
    uint32_t id, len;
    need(ctx, gvq_used(&dev.q[0], &id, &len), "a malformed request did not complete");
    need(ctx, buf[8192] == VIRTIO_BLK_S_IOERR, "a malformed request did not get IOERR");
    need(ctx, !needs_reset(), "a malformed request broke the device");
    good_request(ctx, gpa);
}

/* Bad setup: queue sizes that are not powers of two or too big, rings outside RAM,
 * notifications before DRIVER_OK and for queues that do not exist. */
static void bad_setup(struct wl_ctx *ctx)
{
    uint64_t gpa = find(ctx);
    buf = gv_alloc(ctx, 3 * 4096, 4096);
    need(ctx, buf != 0, "no memory");
    dev.regs = (volatile uint8_t *)(uintptr_t)gpa;
    uint32_t feat_ok = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                       VIRTIO_STATUS_FEATURES_OK;
    struct { uint32_t num; uint64_t desc; } bad[] = {
        { 100, (uint64_t)(uintptr_t)buf }, { 3, (uint64_t)(uintptr_t)buf },
        { 0, (uint64_t)(uintptr_t)buf }, { 4096, (uint64_t)(uintptr_t)buf },
        { 8, 0xe0000000ull }, { 8, 0xfffffffffffffff0ull }, { 8, (uint64_t)(uintptr_t)buf + 8 },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gv_write(&dev, VIRTIO_MMIO_STATUS, 0);
        gv_write(&dev, VIRTIO_MMIO_STATUS, 3);
        gv_write(&dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
        gv_write(&dev, VIRTIO_MMIO_DRIVER_FEATURES, 1);
        gv_write(&dev, VIRTIO_MMIO_STATUS, feat_ok);
        gv_write(&dev, VIRTIO_MMIO_QUEUE_SEL, 0);
        gv_write(&dev, VIRTIO_MMIO_QUEUE_NUM, bad[i].num);
        gv_write(&dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)bad[i].desc);
        gv_write(&dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(bad[i].desc >> 32));
        gv_write(&dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)buf + 4096);
        gv_write(&dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)buf + 8192);
        gv_write(&dev, VIRTIO_MMIO_QUEUE_READY, 1);
        need(ctx, gv_read(&dev, VIRTIO_MMIO_QUEUE_READY) == 0, "the device took a bad queue");
        need(ctx, needs_reset(), "a bad queue did not set DEVICE_NEEDS_RESET");
    }
    /* A good queue, but notified before DRIVER_OK: ignored, nothing completes. */
    up(ctx, gpa);
    gv_write(&dev, VIRTIO_MMIO_STATUS, 0);
    gv_write(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    gv_write(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
    for (int i = 0; i < 100000; i++)
        cpu_pause();
    need(ctx, dev.q[0].used->idx == 0, "the device served a notification before DRIVER_OK");
    /* A queue that does not exist, on a live device: ignored, the device stays live. */
    up(ctx, gpa);
    gv_write(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
    need(ctx, !needs_reset(), "a notification for a missing queue broke the device");
    good_request(ctx, gpa);
}

WORKLOAD(vq_bad_chains, "virtio-bad-chains", "looping, out-of-range, overflowing descriptors",
         "none", VMMB_RING3, bad_chains, RING3_ONLY);
WORKLOAD(vq_bad_setup, "virtio-bad-setup", "bad queue sizes and rings, early notifications",
         "none", VMMB_RING3, bad_setup, RING3_ONLY);
WORKLOAD_FLAGS(vq_bad_chains_irq, "virtio-bad-chains-irq", "virtio-bad-chains with the "
               "irqchip (--notify irq)", "none", VMMB_RING3, VMMB_WL_IRQ, bad_chains, RING3_ONLY);
WORKLOAD_FLAGS(vq_bad_setup_irq, "virtio-bad-setup-irq", "virtio-bad-setup with the irqchip "
               "(--notify irq)", "none", VMMB_RING3, VMMB_WL_IRQ, bad_setup, RING3_ONLY);
