/* virtio-net: frames of `size` bytes through the VMM's virtio-net device, the driver in
 * ring 3 polling used rings.
 *   mode 0 tx    guest -> VMM: `qd` frames in flight on the transmit queue (backend null
 *                sinks them)
 *   mode 1 rx    VMM -> guest: `qd` receive buffers posted, refilled as they come back
 *                (backend null fills each at once)
 *   mode 2 echo  request/response: one frame out, wait for it to come back on the
 *                receive queue (backend loop); per-request latency is the round trip
 * Records per batch the time of `iters` frames (the VMM derives packets/s and bytes/s
 * with `size`) and each frame's own latency. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/virtio.h"
#include "guest/workload.h"
#include "guest/x86.h"

#define MAX_QD 256
#define HDR ((uint32_t)sizeof(struct virtio_net_hdr))

enum { MODE_TX = 0, MODE_RX = 1, MODE_ECHO = 2 };

static struct {
    struct gvdev dev;
    uint64_t size, qd;
    uint8_t *tx, *rx;
    uint64_t t_submit[MAX_QD];
    uint64_t lat_budget;
} w;

static void record_lat(struct wl_ctx *ctx, uint32_t batch, uint32_t flags, uint64_t cycles)
{
    if (w.lat_budget) {
        w.lat_budget--;
        wl_record(ctx, VMMB_REC_LATENCY, batch, flags, 1, cycles);
    }
}

static void post(struct gvq *q, unsigned s, uint8_t *base, int writable)
{
    q->desc[s] = (struct virtq_desc){ (uint64_t)(uintptr_t)(base + (uint64_t)s * (HDR + w.size)),
                                      (uint32_t)(HDR + w.size),
                                      (uint16_t)(writable ? VIRTQ_DESC_F_WRITE : 0), 0 };
    w.t_submit[s] = tsc_begin();
    gvq_add(q, (uint16_t)s);
}

/* tx or rx: keep qd buffers in flight on one queue for n completions. */
static void stream(struct wl_ctx *ctx, struct gvq *q, int rx, uint64_t n, uint32_t batch,
                   uint32_t flags)
{
    uint64_t posted = 0, done = 0;
    uint8_t *base = rx ? w.rx : w.tx;
    static uint16_t free_slot[MAX_QD];
    unsigned nfree = 0;
    for (unsigned s = 0; s < w.qd; s++)
        free_slot[nfree++] = (uint16_t)s;
    while (done < n) {
        while (nfree && posted < n) {
            post(q, free_slot[--nfree], base, rx);
            posted++;
        }
        gvq_kick(q);
        uint32_t id, len;
        while (!gvq_used(q, &id, &len))
            cpu_pause();
        do {
            uint64_t t = tsc_end();
            if (id >= w.qd)
                wl_error(ctx, "virtio-net: the device returned a buffer we never posted");
            if (rx && len != HDR + w.size)
                wl_error(ctx, "virtio-net: received frame of the wrong length");
            record_lat(ctx, batch, flags, t - w.t_submit[id]);
            free_slot[nfree++] = (uint16_t)id;
            done++;
        } while (gvq_used(q, &id, &len));
    }
}

/* One frame out and back, n times; checks what came back is what went out. */
static void echo(struct wl_ctx *ctx, uint64_t n, uint32_t batch, uint32_t flags)
{
    struct gvq *rxq = &w.dev.q[VIRTIO_NET_RXQ], *txq = &w.dev.q[VIRTIO_NET_TXQ];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *frame = (uint64_t *)(w.tx + HDR);
        frame[0] = i ^ 0x5eed;
        post(rxq, 0, w.rx, 1);
        gvq_kick(rxq);
        post(txq, 0, w.tx, 0);
        uint64_t t0 = w.t_submit[0];
        gvq_kick(txq);
        uint32_t id, len;
        while (!gvq_used(rxq, &id, &len))
            cpu_pause();
        uint64_t t = tsc_end();
        if (len != HDR + w.size || *(uint64_t *)(w.rx + HDR) != (i ^ 0x5eed))
            wl_error(ctx, "virtio-net echo: the frame that came back differs");
        while (!gvq_used(txq, &id, &len))
            cpu_pause();
        record_lat(ctx, batch, flags, t - t0);
    }
}

static void measure(struct wl_ctx *ctx)
{
    uint64_t mode = wl_param(ctx, "mode"), iters = wl_param(ctx, "iters");
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    w.size = wl_param(ctx, "size");
    w.qd = mode == MODE_ECHO ? 1 : wl_param(ctx, "qd");
    if (w.size < 8)
        wl_error(ctx, "size must be at least 8 bytes");
    uint64_t gpa = gv_find(ctx->bi, VIRTIO_ID_NET, 0);
    if (!gpa)
        wl_unsupported(ctx, "no virtio-net device in this VM: run vmm-min with --net null "
                            "(or --net loop for mode=2)");
    uint16_t qsize = 4;
    while (qsize < w.qd)
        qsize = (uint16_t)(qsize * 2);
    uint64_t suppress = wl_param(ctx, "suppress");
    uint64_t want = suppress == GV_SUPPRESS_EVENT_IDX ? 1ull << VIRTIO_F_EVENT_IDX : 0;
    const char *why = gv_init(ctx, &w.dev, gpa, VIRTIO_ID_NET, want, 2, qsize);
    if (why)
        wl_error(ctx, why);
    w.dev.q[0].always_kick = w.dev.q[1].always_kick = suppress == GV_SUPPRESS_NONE;
    w.tx = gv_alloc(ctx, w.qd * (HDR + w.size), 4096);
    w.rx = gv_alloc(ctx, w.qd * (HDR + w.size), 4096);
    if (!w.tx || !w.rx)
        wl_error(ctx, "not enough guest memory for qd * size frames: give the VM more memory "
                      "(--mem) or lower qd or size");
    uint64_t nrec = warmup + batches;
    if (nrec + 1 > ctx->capacity)
        wl_error(ctx, "result area too small for warmup+batches: lower batches");
    w.lat_budget = 0;
    wl_phase(VMMB_PHASE_PROBE);
    if (mode == MODE_ECHO)
        echo(ctx, 1, 0, 0);
    else
        stream(ctx, &w.dev.q[mode == MODE_RX ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ], mode == MODE_RX,
               1, 0, 0);
    wl_phase(VMMB_PHASE_MEASURE);
    w.lat_budget = ctx->capacity - nrec - 1;
    for (uint64_t b = 0; b < nrec; b++) {
        uint32_t flags = b < warmup ? VMMB_REC_WARMUP : 0;
        uint64_t t0 = tsc_begin();
        if (mode == MODE_ECHO)
            echo(ctx, iters, (uint32_t)b, flags);
        else
            stream(ctx, &w.dev.q[mode == MODE_RX ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ],
                   mode == MODE_RX, iters, (uint32_t)b, flags);
        uint64_t t1 = tsc_end();
        wl_record(ctx, VMMB_REC_MEASURE, (uint32_t)b, flags, iters, t1 - t0);
    }
}

WORKLOAD(virtio_net, "virtio-net", "virtio-net frames through the VMM's device (ring 3)", "ns",
         VMMB_RING3, measure,
         WL_PARAM("mode", "0 tx (guest to VMM), 1 rx (VMM to guest), 2 echo (loop)", 0, 0, 2),
         WL_PARAM("size", "frame bytes after the 12-byte header", 1500, 64, 65536),
         WL_PARAM("qd", "frames in flight (tx, rx)", 32, 1, MAX_QD),
         WL_PARAM("suppress", "kicks: 0 always, 1 unless NO_NOTIFY, 2 event-idx", 2, 0, 2),
         WL_PARAM("iters", "frames per timed batch", 1000, 1, 10000000),
         WL_PARAM_BATCHES(10), WL_PARAM_WARMUP(1));
