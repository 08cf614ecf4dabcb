/* kvs-io: the kvs store with its durability on a block device (one vCPU, one request in
 * flight). The log, checkpoints, cold records and recovery are kvlog.c's (see kvlog.h for
 * the layout): every SET appends to a 4 KiB log block written when full (group commit),
 * every `ckpt` log blocks the whole hot table is checkpointed, and with `flush` (the
 * default) each log block and checkpoint is followed by a FLUSH, so the log is durable.
 * Requests: `coldpct` percent GET a random cold record through the device (a 4 KiB read),
 * the rest are kvs's hot GET/SET mix (`set` percent SETs, uniform keys over the hot
 * table). Every request is timed on its own, I/O included: `latency` p50/p99 (ns) at
 * vcpus=1 pct=50|99 and `throughput` (requests/s) at vcpus=1 per batch.
 * Verification: every GET checks the value it read, in memory or from the device; at the
 * end the store is recovered from the device (the last checkpoint read back, the log
 * after it replayed) and must equal the table in memory. A mismatch ends the run `error`.
 *
 * The device. In the guest: the VMM's virtio-blk through the ring-3 driver below, polling
 * (each request one exit to the VMM, which serves it with its backend). Natively (the
 * twin, VMMB_NATIVE): the same backend of the same device spec, called directly
 * (wl_native_blk: vmm-min's virtio_blk_direct_io), so the two differ only by the
 * virtualized I/O path. The run's default device is `blk = tmp:64M`, a fresh file in
 * $TMPDIR read and written with pread/pwrite and flushed with fdatasync on both sides: a
 * ram disk would compare a VMM buffer with a host buffer, not storage, and a named file
 * (--blk file:PATH) is the same backend with a path the user manages. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"
#include "kvlog.h"
#include "macrolib.h"
#include "macwl.h"
#ifndef VMMB_NATIVE
#include "guest/virtio.h"
#include "guest/x86.h"
#endif

static struct kvlog s;

#ifndef VMMB_NATIVE
/* ---- the guest: virtio-blk through the ring-3 driver ---- */
static struct {
    struct gvdev dev;
    struct gvq *q;
    uint8_t *meta;               /* 16-byte request header, then the status byte */
} vb;

/* One request of `len` bytes at byte offset `off` (none for a flush), waited for:
 * 0, or -1 when the device failed it. */
static int blk_req(uint32_t type, uint64_t off, void *buf, uint32_t len)
{
    struct virtio_blk_req_hdr *h = (struct virtio_blk_req_hdr *)vb.meta;
    h->type = type;
    h->reserved = 0;
    h->sector = off / VIRTIO_BLK_SECTOR;
    vb.meta[16] = 0xff;
    int in = type == VIRTIO_BLK_T_IN;
    volatile struct virtq_desc *d = vb.q->desc;
    d[0] = (struct virtq_desc){ (uint64_t)(uintptr_t)vb.meta, 16, VIRTQ_DESC_F_NEXT, 1 };
    unsigned st = 1;
    if (len) {
        d[1] = (struct virtq_desc){ (uint64_t)(uintptr_t)buf, len,
                                    (uint16_t)(VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0)),
                                    2 };
        st = 2;
    }
    d[st] = (struct virtq_desc){ (uint64_t)(uintptr_t)(vb.meta + 16), 1, VIRTQ_DESC_F_WRITE, 0 };
    gvq_add(vb.q, 0);
    gvq_kick(vb.q);
    uint32_t id, got;
    while (!gvq_used(vb.q, &id, &got))
        cpu_pause();
    return id != 0 || vb.meta[16] != VIRTIO_BLK_S_OK || (in && got != len + 1) ? -1 : 0;
}

static int dev_read(void *dev, uint64_t off, void *buf, uint32_t len)
{
    (void)dev;
    return blk_req(VIRTIO_BLK_T_IN, off, buf, len);
}

static int dev_write(void *dev, uint64_t off, const void *buf, uint32_t len)
{
    (void)dev;
    return blk_req(VIRTIO_BLK_T_OUT, off, (void *)(uintptr_t)buf, len);
}

static int dev_flush(void *dev)
{
    (void)dev;
    return blk_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
}

/* virtio queues come from gv_alloc (the top of guest memory, downwards) and buffers from
 * wl_alloc (each range's top, downwards): keep wl_alloc below what the driver took. */
static void fence_below(struct wl_ctx *ctx, uint64_t lowest)
{
    wl_mem_avail(ctx, -1);
    for (uint32_t i = 0; i < ctx->nranges; i++)
        if (ctx->ranges[i].hi > lowest)
            ctx->ranges[i].hi = lowest < ctx->ranges[i].lo ? ctx->ranges[i].lo : lowest;
}

/* Brings up the VM's first virtio-blk device; returns its bytes. */
static uint64_t dev_open(struct wl_ctx *ctx)
{
    uint64_t gpa = gv_find(ctx->bi, VIRTIO_ID_BLOCK, 0);
    if (!gpa)
        wl_unsupported(ctx, "no virtio-blk device in this VM: run vmm-min with --blk tmp:SIZE");
    const char *why = gv_init(ctx, &vb.dev, gpa, VIRTIO_ID_BLOCK, 1ull << VIRTIO_BLK_F_FLUSH, 1, 4);
    if (why)
        wl_error(ctx, why);
    vb.q = &vb.dev.q[0];
    vb.meta = gv_alloc(ctx, 64, 64);
    if (!vb.meta)
        wl_error(ctx, "kvs-io: no guest memory for the request header");
    uint64_t lowest = (uint64_t)(uintptr_t)vb.meta;
    const void *qmem[] = { (const void *)vb.q->desc, (const void *)vb.q->avail,
                           (const void *)vb.q->used };
    for (unsigned i = 0; i < 3; i++)
        if ((uint64_t)(uintptr_t)qmem[i] < lowest)
            lowest = (uint64_t)(uintptr_t)qmem[i];
    fence_below(ctx, lowest & ~0xfffull);
    s.io = (struct kvlog_dev){ dev_read, dev_write, dev_flush, 0 };
    return (gv_config32(&vb.dev, 0) | (uint64_t)gv_config32(&vb.dev, 4) << 32) *
           VIRTIO_BLK_SECTOR;
}
#else
/* ---- the native twin: the same backend, called directly ---- */
static int dev_read(void *dev, uint64_t off, void *buf, uint32_t len)
{
    return wl_native_blk_io(dev, 0, off, buf, len);
}

static int dev_write(void *dev, uint64_t off, const void *buf, uint32_t len)
{
    return wl_native_blk_io(dev, 1, off, (void *)(uintptr_t)buf, len);
}

static int dev_flush(void *dev)
{
    return wl_native_blk_flush(dev);
}

static uint64_t dev_open(struct wl_ctx *ctx)
{
    struct wl_blkdev *b = wl_native_blk(ctx, 0);
    if (!b)
        wl_unsupported(ctx, "no block device in this run: run vmm-min with --blk tmp:SIZE");
    s.io = (struct kvlog_dev){ dev_read, dev_write, dev_flush, b };
    return wl_native_blk_bytes(b);
}
#endif

/* One request: 0 when it verified, 1 when it read a wrong or missing value. */
static uint64_t request(struct wl_ctx *ctx, uint64_t *rng, uint64_t *sink, uint64_t set_pct,
                        uint64_t cold_pct, uint64_t version)
{
    uint64_t r = mac_rng(rng);
    if (r % 100 < cold_pct) {
        struct kv_slot rec;
        int bad = kvlog_cold_get(&s, (r >> 8) % s.ncold, &rec);
        if (bad < 0)
            wl_error(ctx, s.why);
        *sink += rec.val;
        return (uint64_t)bad;
    }
    uint64_t key = kv_key((r >> 8) % s.nhot);
    struct kv_slot *e = kv_find(&s.t, key);
    if (!e)
        return 1;
    if ((r >> 40) % 100 < set_pct) {
        if (kvlog_set(&s, e, kv_value(key, version)))
            wl_error(ctx, s.why);
        return 0;
    }
    *sink += e->val;
    return ((e->val ^ key) & 0xffffffffu) != 0;
}

static void measure(struct wl_ctx *ctx)
{
    uint64_t size = wl_param(ctx, "size"), iters = wl_param(ctx, "iters");
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    uint64_t set_pct = wl_param(ctx, "set"), cold_pct = wl_param(ctx, "coldpct");
    if (size & (size - 1))
        wl_error(ctx, "kvs-io: size must be a power of two (the table's slots)");
    uint64_t cap = dev_open(ctx);
    macwl_placement(ctx);
    if (cap < kvlog_layout(&s, size, wl_param(ctx, "cold"), wl_param(ctx, "ckpt")))
        wl_error(ctx, "kvs-io: the block device is smaller than cold records+table+log: give a "
                      "larger --blk tmp:SIZE (or ram:SIZE, file:PATH)");
    s.flush = wl_param(ctx, "flush") != 0;

    const char *fit = "kvs-io: the table, its recovery image and the latencies do not fit in "
                      "guest memory: give more memory, a smaller size or fewer iters";
    s.t.slot = macwl_alloc(ctx, size, fit);
    struct kv_slot *img = macwl_alloc(ctx, size, fit);
    s.logbuf = macwl_alloc(ctx, KVLOG_BLOCK, fit);
    s.iobuf = macwl_alloc(ctx, KVLOG_BLOCK, fit);
    uint64_t *lat = macwl_alloc(ctx, iters * 8, fit);
    static uint64_t hist1[1][256];
    struct radix_sort rs = { .tmp = macwl_alloc(ctx, iters * 8, fit), .threads = 1,
                             .hist = hist1, .keys = lat, .n = iters };

    /* Load: the hot table in memory, the cold records and the first checkpoint on the
     * device, an empty log. */
    if (kvlog_load(&s))
        wl_error(ctx, s.why);
    macwl_placement_report(ctx);

    char point[VMMB_POINT_MAX], p50p[VMMB_POINT_MAX], p99p[VMMB_POINT_MAX];
    macwl_point(point, 1);
    macwl_point(p50p, 1);
    wl_point_add(p50p, "pct", 50);
    macwl_point(p99p, 1);
    wl_point_add(p99p, "pct", 99);
    uint64_t rng = 0x6b76696f, sink = 0;
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < warmup + batches; b++) {
        uint32_t flags = b < warmup ? VMMB_REC_WARMUP : 0;
        uint64_t bad = 0, t0 = tsc_begin();
        for (uint64_t i = 0; i < iters; i++) {
            uint64_t r0 = tsc_begin();
            bad += request(ctx, &rng, &sink, set_pct, cold_pct, b + 1);
            lat[i] = tsc_end() - r0;
        }
        uint64_t cycles = tsc_end() - t0;
        if (bad)
            wl_error(ctx, "kvs-io: a request found no record or a wrong value (in memory or "
                          "read from the device)");
        uint64_t cal = 0;
        for (unsigned k = 0; k < 64; k++) {
            uint64_t c0 = tsc_begin();
            cal += tsc_end() - c0;
        }
        rs.keys = lat;
        rs.n = iters;
        radix_sort_thread(&rs, 0);
        wl_record_point(ctx, 0, VMMB_REC_CALIBRATION, (uint32_t)b, flags, 64, cal, point);
        wl_record_point(ctx, 0, VMMB_REC_OPS, (uint32_t)b, flags, iters, cycles, point);
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)b, flags, 1, lat[iters / 2], p50p);
        wl_record_point(ctx, 0, VMMB_REC_MEASURE, (uint32_t)b, flags, 1,
                        lat[iters * 99 / 100], p99p);
    }
    if (kv_verify(&s.t, s.nhot))
        wl_error(ctx, "kvs-io: the table lost records or holds wrong values after the run");
    if (kvlog_recover(&s, img))
        wl_error(ctx, s.why);
    (void)sink;
}

WORKLOAD_FLAGS(kvs_io, "kvs-io", "kvs with a log, checkpoints and cold reads on virtio-blk "
               "(macro)", "requests/s", VMMB_RING3, VMMB_WL_VECTOR, measure,
               WL_PARAM("ring", "privilege level (3 only: uses SSE)", 3, 3, 3),
               WL_PARAM("size", "hot table bytes, a power of two (16 per slot)", 1u << 20,
                        1u << 16, 1ull << 32),
               WL_PARAM("set", "percent of hot requests that are SETs", 10, 0, 100),
               WL_PARAM("coldpct", "percent of requests reading cold keys", 2, 0, 100),
               WL_PARAM("cold", "cold records on the device", 65536, 1, 1ull << 32),
               WL_PARAM("ckpt", "log blocks (256 SETs) between checkpoints", 16, 1, 65536),
               WL_PARAM("flush", "1 flush after log blocks and checkpoints, 0 never", 1,
                        0, 1),
               WL_PARAM("iters", "requests per batch", 50000, 100, 100000000),
               MACWL_PARAM_PLACEMENT, WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
