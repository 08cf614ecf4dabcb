/* virtio-blk: requests of `size` bytes kept `qd` deep on the VMM's virtio-blk device,
 * sequential or random, reads, writes, or verify (write a known pattern, read it back,
 * compare every word). The driver runs here in ring 3 and polls the used ring.
 *
 * virtio-blk-irq is the same driver in ring 0 with the in-kernel APIC, for the VMM's
 * --notify irq (kicks through ioeventfd, used-buffer notifications through irqfd): with
 * wait=1 it waits for the device's interrupt in HLT instead of polling, asking for one
 * with the driver's own suppression (suppress=1: the NO_INTERRUPT flag cleared, an
 * interrupt per completion batch; suppress=2: event-idx, used_event at the next entry);
 * wait=0 polls in the same ring, the side-by-side baseline. The VMM adds irqs_per_req.
 *
 * Records per batch the time of `iters` requests (the VMM turns it into IOPS and
 * bytes/s with `size`) and each request's own latency, submission to reaping (the
 * VMM's req_latency). The VMM adds what explains the figures: kicks, exits and KVM exits
 * per request and its CPU time, over the measured phase. */
#include "guest/irq.h"
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/virtio.h"
#include "guest/x86.h"
#include "guest/workload.h"

#define MAX_QD 256
#define META 32 /* per slot: 16-byte header, then the status byte */

enum { OP_READ = 0, OP_WRITE = 1, OP_RANDREAD = 2, OP_RANDWRITE = 3, OP_VERIFY = 4 };

static struct {
    struct gvdev dev;
    struct gvq *q;
    uint64_t size, qd, blocks; /* blocks: request-sized units on the device */
    int random;
    int irq;                     /* wait for interrupts in HLT (virtio-blk-irq wait=1) */
    uint64_t rng, next;
    uint8_t *meta, *data;
    uint64_t t_submit[MAX_QD], pos[MAX_QD];
    uint16_t free_slot[MAX_QD];
    unsigned nfree;
    struct wl_lat lat;           /* cap 0 while probing: nothing kept */
} w;

/* The verify pattern: a function of the byte offset on the device, so the host can
 * check a file backend after the run (tests/integration/test_virtio.c). */
static inline uint64_t pattern(uint64_t off)
{
    return (off + 1) * 0x9E3779B97F4A7C15ull ^ (off >> 9);
}

static uint64_t next_pos(void)
{
    uint64_t b;
    if (w.random) {
        w.rng ^= w.rng << 13;
        w.rng ^= w.rng >> 7;
        w.rng ^= w.rng << 17;
        b = w.rng % w.blocks;
    } else {
        b = w.next++ % w.blocks;
    }
    return b * w.size;
}

static void submit(unsigned s, uint32_t type, uint64_t pos, int fill)
{
    uint8_t *m = w.meta + (uint64_t)s * META;
    uint8_t *buf = w.data + (uint64_t)s * w.size;
    struct virtio_blk_req_hdr *h = (struct virtio_blk_req_hdr *)m;
    h->type = type;
    h->reserved = 0;
    h->sector = pos / VIRTIO_BLK_SECTOR;
    m[16] = 0xff;
    if (fill)
        for (uint64_t k = 0; k < w.size; k += 8)
            *(uint64_t *)(buf + k) = pattern(pos + k);
    volatile struct virtq_desc *d = w.q->desc;
    unsigned i = 3 * s;
    int in = type == VIRTIO_BLK_T_IN;
    d[i] = (struct virtq_desc){ (uint64_t)(uintptr_t)m, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1) };
    d[i + 1] = (struct virtq_desc){ (uint64_t)(uintptr_t)buf, (uint32_t)w.size,
                                    (uint16_t)(VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0)),
                                    (uint16_t)(i + 2) };
    d[i + 2] = (struct virtq_desc){ (uint64_t)(uintptr_t)(m + 16), 1, VIRTQ_DESC_F_WRITE, 0 };
    w.pos[s] = pos;
    w.t_submit[s] = tsc_begin();
    gvq_add(w.q, (uint16_t)i);
}

/* Runs n requests of `type` at most qd deep; `verify` checks reads against the pattern
 * and fills writes with it. Keeps request latencies in w.lat (written after the batch). */
static void run(struct wl_ctx *ctx, uint64_t n, uint32_t type, int verify)
{
    uint64_t submitted = 0, done = 0;
    int in = type == VIRTIO_BLK_T_IN;
    while (done < n) {
        while (w.nfree && submitted < n) {
            unsigned s = w.free_slot[--w.nfree];
            submit(s, type, next_pos(), verify && !in);
            submitted++;
        }
        gvq_kick(w.q);
        uint32_t id, len;
        while (!gvq_used(w.q, &id, &len)) {
            if (w.irq)
                gvq_wait_irq(w.q);
            else
                cpu_pause();
        }
        do {
            uint64_t t = tsc_end();
            unsigned s = id / 3;
            if (id % 3 || s >= w.qd)
                wl_error(ctx, "virtio-blk: the device returned a descriptor we never posted");
            uint8_t st = w.meta[(uint64_t)s * META + 16];
            if (st != VIRTIO_BLK_S_OK)
                wl_error(ctx, st == VIRTIO_BLK_S_IOERR ? "virtio-blk: request failed (IOERR)"
                                                       : "virtio-blk: request failed");
            if (in && len != w.size + 1)
                wl_error(ctx, "virtio-blk: read completed with a short length");
            if (verify && in) {
                const uint8_t *buf = w.data + (uint64_t)s * w.size;
                for (uint64_t k = 0; k < w.size; k += 8)
                    if (*(const uint64_t *)(buf + k) != pattern(w.pos[s] + k))
                        wl_error(ctx, "virtio-blk verify: data read back differs from what "
                                      "was written");
            }
            wl_lat_add(&w.lat, t - w.t_submit[s]);
            w.free_slot[w.nfree++] = (uint16_t)s;
            done++;
        } while (gvq_used(w.q, &id, &len));
    }
}

static void measure(struct wl_ctx *ctx)
{
    w.size = wl_param(ctx, "size");
    w.qd = wl_param(ctx, "qd");
    uint64_t op = wl_param(ctx, "op"), iters = wl_param(ctx, "iters");
    w.random = op == OP_RANDREAD || op == OP_RANDWRITE;
    int writes = op == OP_WRITE || op == OP_RANDWRITE;
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    if (w.size % VIRTIO_BLK_SECTOR)
        wl_error(ctx, "size must be a multiple of 512");
    uint64_t gpa = gv_find(ctx->bi, VIRTIO_ID_BLOCK, 0);
    if (!gpa)
        wl_unsupported(ctx, "no virtio-blk device in this VM: run vmm-min with --blk null "
                            "(or ram:SIZE, file:PATH)");
    uint16_t qsize = 4;
    while (qsize < 3 * w.qd)
        qsize = (uint16_t)(qsize * 2);
    uint64_t suppress = wl_param(ctx, "suppress");
    uint64_t want = suppress == GV_SUPPRESS_EVENT_IDX ? 1ull << VIRTIO_F_EVENT_IDX : 0;
    const char *why = gv_init(ctx, &w.dev, gpa, VIRTIO_ID_BLOCK, want, 1, qsize);
    if (why)
        wl_error(ctx, why);
    w.q = &w.dev.q[0];
    w.q->always_kick = suppress == GV_SUPPRESS_NONE;
    /* Without event-idx an interrupt-driven driver wants every completion signalled from
     * the start, not only from its first wait (a fast device may complete requests before
     * the driver ever waits). */
    if (w.irq && !w.q->event_idx)
        w.q->avail->flags = 0;
    uint64_t cap = gv_config32(&w.dev, 0) | (uint64_t)gv_config32(&w.dev, 4) << 32;
    w.blocks = cap * VIRTIO_BLK_SECTOR / w.size;
    if (w.blocks == 0)
        wl_error(ctx, "the virtio-blk device is smaller than one request");
    w.meta = gv_alloc(ctx, w.qd * META, 64);
    w.data = gv_alloc(ctx, w.qd * w.size, 4096);
    if (!w.meta || !w.data)
        wl_error(ctx, "not enough guest memory for qd * size request buffers: give the VM "
                      "more memory (--mem) or lower qd or size");
    for (unsigned s = 0; s < w.qd; s++)
        w.free_slot[w.nfree++] = (uint16_t)(w.qd - 1 - s);
    w.rng = 0x2545F4914F6CDD1Dull;
    uint64_t nrec = warmup + batches;
    if (nrec + 1 > ctx->capacity)
        wl_error(ctx, "result area too small for warmup+batches: lower batches");

    wl_phase(VMMB_PHASE_PROBE);
    run(ctx, 1, VIRTIO_BLK_T_IN, 0);
    wl_lat_init(ctx, &w.lat, nrec, op == OP_VERIFY ? 2 * iters : iters);
    wl_phase(VMMB_PHASE_MEASURE);

    for (uint64_t b = 0; b < nrec; b++) {
        uint32_t flags = b < warmup ? VMMB_REC_WARMUP : 0;
        uint64_t t0 = tsc_begin(), n = iters;
        if (op == OP_VERIFY) {
            w.next = 0;
            run(ctx, iters, VIRTIO_BLK_T_OUT, 1);
            w.next = 0;
            run(ctx, iters, VIRTIO_BLK_T_IN, 1);
            n = 2 * iters;
        } else {
            run(ctx, iters, writes ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 0);
        }
        uint64_t t1 = tsc_end();
        wl_record(ctx, VMMB_REC_MEASURE, (uint32_t)b, flags, n, t1 - t0);
        wl_lat_flush(ctx, &w.lat, (uint32_t)b, flags);
    }
}

WORKLOAD(virtio_blk, "virtio-blk", "virtio-blk requests through the VMM's device (ring 3)",
         "ns", VMMB_RING3, measure,
         WL_PARAM("size", "bytes per request (multiple of 512)", 65536, 512, 1u << 20),
         WL_PARAM("qd", "requests in flight", 32, 1, MAX_QD),
         WL_PARAM("op", "0 read, 1 write, 2 randread, 3 randwrite, 4 verify", 0, 0, 4),
         WL_PARAM("suppress", "kicks: 0 always, 1 unless NO_NOTIFY, 2 event-idx", 2, 0, 2),
         WL_PARAM("iters", "requests per timed batch", 1000, 1, 10000000),
         WL_PARAM_BATCHES(10), WL_PARAM_WARMUP(1));

/* Ring 0 with interrupts masked but for the HLTs of gvq_wait_irq. */
static void measure_irq(struct wl_ctx *ctx)
{
    if (irq_unavailable)
        wl_unsupported(ctx, irq_unavailable);
    if (ctx->bi->devices.notify != VMMB_NOTIFY_IRQ)
        wl_error(ctx, "virtio-blk-irq waits for the device's interrupts: run it with --notify "
                      "irq (config: notify = irq)");
    irq_disable();
    w.irq = wl_param(ctx, "wait") == 1;
    measure(ctx);
}

WORKLOAD_FLAGS(virtio_blk_irq, "virtio-blk-irq", "virtio-blk requests, waiting for the device's "
               "interrupt in HLT (ring 0, --notify irq)", "ns", VMMB_RING0,
               VMMB_WL_IRQ, measure_irq, WL_PARAM_RING(0, 0),
               WL_PARAM("wait", "reap: 0 polling the used ring, 1 HLT until the interrupt", 1,
                        0, 1),
               WL_PARAM("size", "bytes per request (multiple of 512)", 4096, 512, 1u << 20),
               WL_PARAM("qd", "requests in flight", 1, 1, MAX_QD),
               WL_PARAM("op", "0 read, 1 write, 2 randread, 3 randwrite, 4 verify", 0, 0, 4),
               WL_PARAM("suppress", "kicks and interrupts: 0 always kick, 1 flags, 2 event-idx",
                        2, 0, 2),
               WL_PARAM("iters", "requests per timed batch", 100, 1, 10000000),
               WL_PARAM_BATCHES(10), WL_PARAM_WARMUP(1));
