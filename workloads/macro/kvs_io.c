/* kvs-io: the kvs store with its durability on the VMM's virtio-blk device (one vCPU, its
 * ring-3 driver polling, one request in flight). The device holds, in this order:
 *   - the cold records: `cold` records not in memory (16 bytes each, 256 to a 4 KiB
 *     block), written once before measuring;
 *   - the checkpoint: the whole hot table (`size` bytes), written every `ckpt` log blocks;
 *   - the log: every SET appends (key, value) to a 4 KiB block, written when full (group
 *     commit); a checkpoint starts the log again from its first block.
 * Requests: `coldpct` percent GET a random cold record through the device (a 4 KiB read),
 * the rest are kvs's hot GET/SET mix (`set` percent SETs, uniform keys over the hot
 * table). Every request is timed on its own, I/O included: `latency` p50/p99 (ns) at
 * vcpus=1 pct=50|99 and `throughput` (requests/s) at vcpus=1 per batch.
 * Verification: every GET checks the value it read, in memory or from the device; at the
 * end the store is recovered from the device (the last checkpoint read back, the log
 * after it replayed) and must equal the table in memory. A mismatch ends the run `error`.
 * No native twin: the log lives on the VMM's virtio-blk device, which the host build
 * does not have (vmm-min --native refuses it). */
#include "guest/lib.h"
#include "guest/x86.h"
#include "guest/tsc.h"
#include "guest/virtio.h"
#include "guest/workload.h"
#include "macrolib.h"
#include "macwl.h"

#define BLOCK 4096u
#define PER_BLOCK (BLOCK / sizeof(struct kv_slot))
#define CHUNK (64u << 10) /* bytes per request when writing or reading the checkpoint */

static struct {
    struct gvdev dev;
    struct gvq *q;
    uint8_t *meta;               /* 16-byte request header, then the status byte */
    uint64_t cold_off, ckpt_off, log_off, dev_bytes;
    uint64_t nhot, ncold, ckpt_blocks, log_blocks, set_pct, cold_pct, version;
    uint64_t reads, writes;
    struct kv_table t;
    struct kv_slot *logbuf, *iobuf;
    uint64_t logn;               /* records in logbuf */
} s;

/* One request of `len` bytes at byte offset `off`, waited for. */
static void blk_rw(struct wl_ctx *ctx, uint32_t type, uint64_t off, void *buf, uint32_t len)
{
    struct virtio_blk_req_hdr *h = (struct virtio_blk_req_hdr *)s.meta;
    h->type = type;
    h->reserved = 0;
    h->sector = off / VIRTIO_BLK_SECTOR;
    s.meta[16] = 0xff;
    int in = type == VIRTIO_BLK_T_IN;
    volatile struct virtq_desc *d = s.q->desc;
    d[0] = (struct virtq_desc){ (uint64_t)(uintptr_t)s.meta, 16, VIRTQ_DESC_F_NEXT, 1 };
    d[1] = (struct virtq_desc){ (uint64_t)(uintptr_t)buf, len,
                                (uint16_t)(VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0)), 2 };
    d[2] = (struct virtq_desc){ (uint64_t)(uintptr_t)(s.meta + 16), 1, VIRTQ_DESC_F_WRITE, 0 };
    gvq_add(s.q, 0);
    gvq_kick(s.q);
    uint32_t id, got;
    while (!gvq_used(s.q, &id, &got))
        cpu_pause();
    if (id != 0)
        wl_error(ctx, "kvs-io: the device returned a descriptor we never posted");
    if (s.meta[16] != VIRTIO_BLK_S_OK)
        wl_error(ctx, "kvs-io: a virtio-blk request failed");
    if (in && got != len + 1)
        wl_error(ctx, "kvs-io: a virtio-blk read completed short");
    in ? s.reads++ : s.writes++;
}

static void write_table(struct wl_ctx *ctx, const struct kv_slot *tab, uint64_t off)
{
    uint64_t bytes = (s.t.mask + 1) * sizeof(struct kv_slot);
    for (uint64_t o = 0; o < bytes; o += CHUNK)
        blk_rw(ctx, VIRTIO_BLK_T_OUT, off + o, (uint8_t *)(uintptr_t)tab + o,
               (uint32_t)(bytes - o < CHUNK ? bytes - o : CHUNK));
}

static void read_table(struct wl_ctx *ctx, struct kv_slot *tab, uint64_t off)
{
    uint64_t bytes = (s.t.mask + 1) * sizeof(struct kv_slot);
    for (uint64_t o = 0; o < bytes; o += CHUNK)
        blk_rw(ctx, VIRTIO_BLK_T_IN, off + o, (uint8_t *)tab + o,
               (uint32_t)(bytes - o < CHUNK ? bytes - o : CHUNK));
}

/* The log block in memory goes to the device; a full log is a checkpoint. */
static void log_flush(struct wl_ctx *ctx)
{
    for (uint64_t i = s.logn; i < PER_BLOCK; i++)
        s.logbuf[i] = (struct kv_slot){ 0, 0 }; /* key 0: the end of the log */
    blk_rw(ctx, VIRTIO_BLK_T_OUT, s.log_off + s.log_blocks * BLOCK, s.logbuf, BLOCK);
    s.logn = 0;
    if (++s.log_blocks == s.ckpt_blocks) {
        write_table(ctx, s.t.slot, s.ckpt_off);
        s.log_blocks = 0;
        s.logbuf[0].key = 0; /* the log after the checkpoint starts empty */
        blk_rw(ctx, VIRTIO_BLK_T_OUT, s.log_off, s.logbuf, BLOCK);
    }
}

static uint64_t request(struct wl_ctx *ctx, uint64_t *rng, uint64_t *sink)
{
    uint64_t r = mac_rng(rng);
    if (r % 100 < s.cold_pct) {
        uint64_t j = (r >> 8) % s.ncold, key = kv_key(s.nhot + j);
        blk_rw(ctx, VIRTIO_BLK_T_IN, s.cold_off + j / PER_BLOCK * BLOCK, s.iobuf, BLOCK);
        const struct kv_slot *e = &s.iobuf[j % PER_BLOCK];
        *sink += e->val;
        return e->key != key || e->val != kv_value(key, 0);
    }
    uint64_t key = kv_key((r >> 8) % s.nhot);
    struct kv_slot *e = kv_find(&s.t, key);
    if (!e)
        return 1;
    if ((r >> 40) % 100 < s.set_pct) {
        e->val = kv_value(key, s.version);
        s.logbuf[s.logn++] = *e;
        if (s.logn == PER_BLOCK)
            log_flush(ctx);
        return 0;
    }
    *sink += e->val;
    return ((e->val ^ key) & 0xffffffffu) != 0;
}

/* Recovery: the checkpoint read back into `img`, the log after it applied in order; then
 * img must hold exactly the table in memory. */
static void verify_recovery(struct wl_ctx *ctx, struct kv_slot *img)
{
    read_table(ctx, img, s.ckpt_off);
    struct kv_table rt = { img, s.t.mask };
    for (uint64_t b = 0; b < s.log_blocks; b++) {
        blk_rw(ctx, VIRTIO_BLK_T_IN, s.log_off + b * BLOCK, s.iobuf, BLOCK);
        for (uint64_t i = 0; i < PER_BLOCK && s.iobuf[i].key; i++) {
            struct kv_slot *e = kv_find(&rt, s.iobuf[i].key);
            if (!e)
                wl_error(ctx, "kvs-io: the log names a key the checkpoint does not hold");
            e->val = s.iobuf[i].val;
        }
    }
    for (uint64_t i = 0; i < s.logn; i++) { /* the block not yet written: still in memory */
        struct kv_slot *e = kv_find(&rt, s.logbuf[i].key);
        if (!e)
            wl_error(ctx, "kvs-io: a logged key is missing from the checkpoint");
        e->val = s.logbuf[i].val;
    }
    for (uint64_t i = 0; i <= s.t.mask; i++)
        if (img[i].key != s.t.slot[i].key || img[i].val != s.t.slot[i].val)
            wl_error(ctx, "kvs-io: the store recovered from the device (checkpoint + log) "
                          "differs from the table in memory");
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

static void measure(struct wl_ctx *ctx)
{
    uint64_t size = wl_param(ctx, "size"), iters = wl_param(ctx, "iters");
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    if (size & (size - 1))
        wl_error(ctx, "kvs-io: size must be a power of two (the table's slots)");
    uint64_t gpa = gv_find(ctx->bi, VIRTIO_ID_BLOCK, 0);
    if (!gpa)
        wl_unsupported(ctx, "no virtio-blk device in this VM: run vmm-min with --blk ram:SIZE");
    const char *why = gv_init(ctx, &s.dev, gpa, VIRTIO_ID_BLOCK, 0, 1, 4);
    if (why)
        wl_error(ctx, why);
    s.q = &s.dev.q[0];
    s.meta = gv_alloc(ctx, 64, 64);
    if (!s.meta)
        wl_error(ctx, "kvs-io: no guest memory for the request header");
    uint64_t lowest = (uint64_t)(uintptr_t)s.meta;
    const void *qmem[] = { (const void *)s.q->desc, (const void *)s.q->avail,
                           (const void *)s.q->used };
    for (unsigned i = 0; i < 3; i++)
        if ((uint64_t)(uintptr_t)qmem[i] < lowest)
            lowest = (uint64_t)(uintptr_t)qmem[i];
    fence_below(ctx, lowest & ~0xfffull);
    macwl_placement(ctx);

    s.ncold = wl_param(ctx, "cold");
    s.ckpt_blocks = wl_param(ctx, "ckpt");
    s.set_pct = wl_param(ctx, "set");
    s.cold_pct = wl_param(ctx, "coldpct");
    s.cold_off = 0;
    s.ckpt_off = (s.ncold + PER_BLOCK - 1) / PER_BLOCK * BLOCK;
    s.log_off = s.ckpt_off + size;
    s.dev_bytes = s.log_off + s.ckpt_blocks * BLOCK;
    uint64_t cap = gv_config32(&s.dev, 0) | (uint64_t)gv_config32(&s.dev, 4) << 32;
    if (cap * VIRTIO_BLK_SECTOR < s.dev_bytes)
        wl_error(ctx, "kvs-io: virtio-blk smaller than cold records+table+log: give a "
                      "larger --blk ram:SIZE");

    const char *fit = "kvs-io: the table, its recovery image and the latencies do not fit in "
                      "guest memory: give more memory, a smaller size or fewer iters";
    s.t.slot = macwl_alloc(ctx, size, fit);
    s.t.mask = size / sizeof(struct kv_slot) - 1;
    s.nhot = (s.t.mask + 1) / 2;
    struct kv_slot *img = macwl_alloc(ctx, size, fit);
    s.logbuf = macwl_alloc(ctx, BLOCK, fit);
    s.iobuf = macwl_alloc(ctx, BLOCK, fit);
    uint64_t *lat = macwl_alloc(ctx, iters * 8, fit);
    static uint64_t hist1[1][256];
    struct radix_sort rs = { .tmp = macwl_alloc(ctx, iters * 8, fit), .threads = 1,
                             .hist = hist1, .keys = lat, .n = iters };

    /* Load: the hot table in memory, the cold records and the first checkpoint on the
     * device, an empty log. */
    kv_clear(&s.t, 0, s.t.mask + 1);
    for (uint64_t i = 0; i < s.nhot; i++)
        if (kv_insert(&s.t, kv_key(i), kv_value(kv_key(i), 0)))
            wl_error(ctx, "kvs-io: the table filled up while loading");
    for (uint64_t b = 0; b * PER_BLOCK < s.ncold; b++) {
        for (uint64_t i = 0; i < PER_BLOCK; i++) {
            uint64_t j = b * PER_BLOCK + i, key = kv_key(s.nhot + j);
            s.iobuf[i] = j < s.ncold ? (struct kv_slot){ key, kv_value(key, 0) }
                                     : (struct kv_slot){ 0, 0 };
        }
        blk_rw(ctx, VIRTIO_BLK_T_OUT, s.cold_off + b * BLOCK, s.iobuf, BLOCK);
    }
    write_table(ctx, s.t.slot, s.ckpt_off);
    s.logbuf[0].key = 0;
    blk_rw(ctx, VIRTIO_BLK_T_OUT, s.log_off, s.logbuf, BLOCK);
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
        s.version = b + 1;
        uint64_t bad = 0, t0 = tsc_begin();
        for (uint64_t i = 0; i < iters; i++) {
            uint64_t r0 = tsc_begin();
            bad += request(ctx, &rng, &sink);
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
    verify_recovery(ctx, img);
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
               WL_PARAM("iters", "requests per batch", 50000, 100, 100000000),
               MACWL_PARAM_PLACEMENT, WL_PARAM_BATCHES(5), WL_PARAM_WARMUP(1));
