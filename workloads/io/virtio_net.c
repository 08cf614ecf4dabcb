/* virtio-net: frames of `size` bytes through the VMM's virtio-net device, the driver in
 * ring 3 polling used rings.
 *   mode 0 tx    guest -> VMM: `qd` frames in flight on the transmit queue (backend null
 *                sinks them)
 *   mode 1 rx    VMM -> guest: `qd` receive buffers posted, refilled as they come back
 *                (backend null fills each at once)
 *   mode 2 echo  request/response: one frame out, wait for it to come back on the
 *                receive queue (backend loop); per-request latency is the round trip
 *   mode 3 ping  through the host's network stack (backend tap): the guest is
 *                198.18.0.`guest` (RFC 2544's benchmarking range), resolves the host's
 *                tap address 198.18.0.`host` with ARP, then sends ICMP echo requests of
 *                `size`-byte frames one at a time and waits for each reply; per-request
 *                latency is the round trip through the host kernel. It answers ARP
 *                requests for its address, ignores every other frame, and fails the run
 *                when the host does not answer within a second.
 * Records per batch the time of `iters` frames (the VMM derives packets/s and bytes/s
 * with `size`) and each frame's own latency. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/virtio.h"
#include "guest/workload.h"
#include "guest/x86.h"

#define MAX_QD 256
#define HDR ((uint32_t)sizeof(struct virtio_net_hdr))

enum { MODE_TX = 0, MODE_RX = 1, MODE_ECHO = 2, MODE_PING = 3 };

static struct {
    struct gvdev dev;
    uint64_t size, qd;
    uint8_t *tx, *rx;
    uint64_t t_submit[MAX_QD];
    struct wl_lat lat;           /* cap 0 while probing: nothing kept */
} w;

static void post(struct gvq *q, unsigned s, uint8_t *base, int writable)
{
    q->desc[s] = (struct virtq_desc){ (uint64_t)(uintptr_t)(base + (uint64_t)s * (HDR + w.size)),
                                      (uint32_t)(HDR + w.size),
                                      (uint16_t)(writable ? VIRTQ_DESC_F_WRITE : 0), 0 };
    w.t_submit[s] = tsc_begin();
    gvq_add(q, (uint16_t)s);
}

/* tx or rx: keep qd buffers in flight on one queue for n completions. */
static void stream(struct wl_ctx *ctx, struct gvq *q, int rx, uint64_t n)
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
            wl_lat_add(&w.lat, t - w.t_submit[id]);
            free_slot[nfree++] = (uint16_t)id;
            done++;
        } while (gvq_used(q, &id, &len));
    }
}

/* One frame out and back, n times; checks what came back is what went out. */
static void echo(struct wl_ctx *ctx, uint64_t n)
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
        wl_lat_add(&w.lat, t - t0);
    }
}


/* ---- mode 3: ICMP echo through the host's stack ---- */

#define NET_PREFIX 0xc6120000u /* 198.18.0.0/24 */
#define PING_RX_BUFS 16u
#define PING_RX_FRAME 1536u    /* any frame of a 1500-byte MTU */
#define PING_FRAME_MAX 1514u
#define ETH_HLEN_G 14u
#define ICMP_ID 0x766d

static struct {
    uint8_t mac[6], host_mac[6];
    uint32_t ip, host_ip;
    uint8_t *rx, *tx;          /* PING_RX_BUFS receive buffers; tx slot 0 echo, 1 ARP */
    uint32_t tx_stride;
    unsigned tx_busy;          /* tx slots not yet returned by the device */
    uint32_t payload_sum;      /* checksum of the constant part of the echo payload */
    uint64_t timeout;          /* TSC ticks */
    uint16_t seq;
} pg;

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }

static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint32_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return ~sum & 0xffff;
}

static void ping_rx_post(unsigned slot)
{
    struct gvq *q = &w.dev.q[VIRTIO_NET_RXQ];
    q->desc[slot] = (struct virtq_desc){ (uint64_t)(uintptr_t)(pg.rx + slot * (HDR + PING_RX_FRAME)),
                                         HDR + PING_RX_FRAME, VIRTQ_DESC_F_WRITE, 0 };
    gvq_add(q, (uint16_t)slot);
    gvq_kick(q);
}

static void ping_tx_reap(struct wl_ctx *ctx)
{
    uint32_t id, len;
    while (gvq_used(&w.dev.q[VIRTIO_NET_TXQ], &id, &len)) {
        if (id > 1 || !(pg.tx_busy & (1u << id)))
            wl_error(ctx, "virtio-net: the device returned a transmit buffer we never posted");
        pg.tx_busy &= ~(1u << id);
    }
}

static uint8_t *ping_tx_frame(unsigned slot)
{
    return pg.tx + slot * pg.tx_stride + HDR;
}

static void ping_tx_send(struct wl_ctx *ctx, unsigned slot, uint32_t len)
{
    while (pg.tx_busy & (1u << slot)) {
        ping_tx_reap(ctx);
        cpu_pause();
    }
    struct gvq *q = &w.dev.q[VIRTIO_NET_TXQ];
    q->desc[slot] = (struct virtq_desc){ (uint64_t)(uintptr_t)(pg.tx + slot * pg.tx_stride),
                                         HDR + len, 0, 0 };
    pg.tx_busy |= 1u << slot;
    gvq_add(q, (uint16_t)slot);
    gvq_kick(q);
}

static void ping_arp(struct wl_ctx *ctx, int reply, const uint8_t *to_mac, uint32_t to_ip)
{
    uint8_t *f = ping_tx_frame(1);
    memset(f - HDR, 0, HDR + 60);
    for (int i = 0; i < 6; i++) {
        f[i] = reply ? to_mac[i] : 0xff;
        f[6 + i] = f[22 + i] = pg.mac[i];
        f[32 + i] = reply ? to_mac[i] : 0;
    }
    put16(f + 12, 0x0806);
    put16(f + 14, 1);
    put16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, reply ? 2 : 1);
    put32(f + 28, pg.ip);
    put32(f + 38, to_ip);
    ping_tx_send(ctx, 1, 60); /* padded to the Ethernet minimum */
}

/* Waits for a frame until `deadline`; answers ARP requests for our address and learns
 * the host's MAC from ARP replies on the way. Returns the rx slot (the caller reposts it)
 * with the frame and its length, or -1 at the deadline. */
static int ping_recv(struct wl_ctx *ctx, uint64_t deadline, uint8_t **frame, uint32_t *flen)
{
    struct gvq *q = &w.dev.q[VIRTIO_NET_RXQ];
    for (;;) {
        uint32_t id, len;
        if (!gvq_used(q, &id, &len)) {
            ping_tx_reap(ctx);
            if (tsc_begin() > deadline)
                return -1;
            cpu_pause();
            continue;
        }
        if (id >= PING_RX_BUFS || len > HDR + PING_RX_FRAME)
            wl_error(ctx, "virtio-net: the device returned a receive buffer we never posted");
        uint8_t *f = pg.rx + id * (HDR + PING_RX_FRAME) + HDR;
        uint32_t fl = len > HDR ? len - HDR : 0;
        if (fl >= 42 && get16(f + 12) == 0x0806 && get16(f + 14) == 1 &&
            get16(f + 16) == 0x0800 && f[18] == 6 && f[19] == 4 && get32(f + 38) == pg.ip) {
            uint32_t op = get16(f + 20), sender = get32(f + 28);
            if (op == 2 && sender == pg.host_ip)
                memcpy(pg.host_mac, f + 22, 6);
            if (op == 1) {
                uint8_t mac[6];
                memcpy(mac, f + 22, 6);
                ping_arp(ctx, 1, mac, sender);
            }
        }
        *frame = f;
        *flen = fl;
        return (int)id;
    }
}

static uint64_t ping_deadline(void)
{
    return tsc_begin() + pg.timeout;
}

static void ping_resolve(struct wl_ctx *ctx)
{
    for (int tries = 0; tries < 3; tries++) {
        ping_arp(ctx, 0, 0, pg.host_ip);
        uint64_t deadline = ping_deadline();
        uint8_t *f;
        uint32_t fl;
        int slot;
        while ((slot = ping_recv(ctx, deadline, &f, &fl)) >= 0) {
            ping_rx_post((unsigned)slot);
            if (pg.host_mac[0] | pg.host_mac[1] | pg.host_mac[2] | pg.host_mac[3] |
                pg.host_mac[4] | pg.host_mac[5])
                return;
        }
    }
    wl_error(ctx, "ping: no ARP reply through the tap: on the host, ip addr add "
                  "198.18.0.<host>/24 dev TAP; ip link set TAP up");
}

static void ping_setup(struct wl_ctx *ctx)
{
    if (w.size > PING_FRAME_MAX)
        wl_error(ctx, "mode=3 sends each echo request in one frame: size at most 1514 (a "
                      "1500-byte MTU)");
    uint64_t host = wl_param(ctx, "host"), guest = wl_param(ctx, "guest");
    if (host == guest)
        wl_error(ctx, "mode=3: host and guest need different addresses");
    pg.ip = NET_PREFIX | (uint32_t)guest;
    pg.host_ip = NET_PREFIX | (uint32_t)host;
    uint32_t m0 = gv_config32(&w.dev, 0), m1 = gv_config32(&w.dev, 4);
    for (int i = 0; i < 4; i++)
        pg.mac[i] = (uint8_t)(m0 >> (8 * i));
    pg.mac[4] = (uint8_t)m1;
    pg.mac[5] = (uint8_t)(m1 >> 8);
    uint64_t khz = ctx->bi->tsc_khz ? ctx->bi->tsc_khz : 4000000;
    pg.timeout = khz * 1000;
    pg.tx_stride = (HDR + (uint32_t)w.size + 63) & ~63u;
    pg.rx = gv_alloc(ctx, PING_RX_BUFS * (HDR + PING_RX_FRAME), 4096);
    pg.tx = gv_alloc(ctx, 2 * pg.tx_stride, 4096);
    if (!pg.rx || !pg.tx)
        wl_error(ctx, "not enough guest memory for the ping buffers: give the VM more memory");
    for (unsigned s = 0; s < PING_RX_BUFS; s++)
        ping_rx_post(s);
    ping_resolve(ctx);
    /* The echo request: Ethernet, IPv4 (DF, no options), ICMP echo; the payload after an
     * 8-byte sequence stamp is constant, its checksum summed once. */
    uint8_t *f = ping_tx_frame(0);
    memset(f - HDR, 0, HDR);
    uint32_t ip_len = (uint32_t)w.size - ETH_HLEN_G;
    memcpy(f, pg.host_mac, 6);
    memcpy(f + 6, pg.mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + ETH_HLEN_G;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, ip_len);
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 1;
    put32(ip + 12, pg.ip);
    put32(ip + 16, pg.host_ip);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    uint8_t *icmp = ip + 20;
    uint32_t icmp_len = ip_len - 20;
    for (uint32_t i = 16; i < icmp_len; i++)
        icmp[i] = (uint8_t)(i * 7 + 1);
    pg.payload_sum = csum_add(0, icmp + 16, icmp_len - 16);
}

/* One echo request and its reply, n times. */
static void ping(struct wl_ctx *ctx, uint64_t n, uint32_t batch)
{
    uint8_t *f = ping_tx_frame(0), *icmp = f + ETH_HLEN_G + 20;
    uint32_t icmp_len = (uint32_t)w.size - ETH_HLEN_G - 20;
    for (uint64_t i = 0; i < n; i++) {
        uint16_t seq = ++pg.seq;
        uint64_t stamp = ((uint64_t)batch << 32) ^ i ^ 0x70696e67ull;
        icmp[0] = 8;
        icmp[1] = 0;
        put16(icmp + 2, 0);
        put16(icmp + 4, ICMP_ID);
        put16(icmp + 6, seq);
        put32(icmp + 8, (uint32_t)(stamp >> 32));
        put32(icmp + 12, (uint32_t)stamp);
        put16(icmp + 2, csum_fold(csum_add(pg.payload_sum, icmp, 16)));
        uint64_t t0 = tsc_begin();
        ping_tx_send(ctx, 0, (uint32_t)w.size);
        uint64_t deadline = t0 + pg.timeout;
        for (;;) {
            uint8_t *r;
            uint32_t rl;
            int slot = ping_recv(ctx, deadline, &r, &rl);
            if (slot < 0)
                wl_error(ctx, "ping: an echo request got no reply within a second");
            uint64_t t = tsc_end();
            const uint8_t *rip = r + ETH_HLEN_G, *ric = rip + 20;
            int mine = rl == w.size && get16(r + 12) == 0x0800 && rip[0] == 0x45 &&
                       rip[9] == 1 && get32(rip + 12) == pg.host_ip &&
                       get32(rip + 16) == pg.ip && ric[0] == 0 && get16(ric + 4) == ICMP_ID &&
                       get16(ric + 6) == seq;
            int same = mine && get32(ric + 8) == (uint32_t)(stamp >> 32) &&
                       get32(ric + 12) == (uint32_t)stamp &&
                       ric[icmp_len - 1] == icmp[icmp_len - 1];
            ping_rx_post((unsigned)slot);
            if (mine && !same)
                wl_error(ctx, "virtio-net ping: the echo reply's payload differs");
            if (mine) {
                wl_lat_add(&w.lat, t - t0);
                break;
            }
        }
    }
}

static void measure(struct wl_ctx *ctx)
{
    uint64_t mode = wl_param(ctx, "mode"), iters = wl_param(ctx, "iters");
    uint64_t batches = wl_param(ctx, "batches"), warmup = wl_param(ctx, "warmup");
    w.size = wl_param(ctx, "size");
    w.qd = mode >= MODE_ECHO ? 1 : wl_param(ctx, "qd");
    if (w.size < 8)
        wl_error(ctx, "size must be at least 8 bytes");
    uint64_t gpa = gv_find(ctx->bi, VIRTIO_ID_NET, 0);
    if (!gpa)
        wl_unsupported(ctx, "no virtio-net device in this VM: run vmm-min with --net null "
                            "(or --net loop for mode=2, --net tap:NAME for mode=3)");
    uint16_t qsize = mode == MODE_PING ? PING_RX_BUFS : 4;
    while (qsize < w.qd)
        qsize = (uint16_t)(qsize * 2);
    uint64_t suppress = wl_param(ctx, "suppress");
    uint64_t want = suppress == GV_SUPPRESS_EVENT_IDX ? 1ull << VIRTIO_F_EVENT_IDX : 0;
    const char *why = gv_init(ctx, &w.dev, gpa, VIRTIO_ID_NET, want, 2, qsize);
    if (why)
        wl_error(ctx, why);
    w.dev.q[0].always_kick = w.dev.q[1].always_kick = suppress == GV_SUPPRESS_NONE;
    if (mode == MODE_PING)
        ping_setup(ctx);
    w.tx = gv_alloc(ctx, w.qd * (HDR + w.size), 4096);
    w.rx = gv_alloc(ctx, w.qd * (HDR + w.size), 4096);
    if (!w.tx || !w.rx)
        wl_error(ctx, "not enough guest memory for qd * size frames: give the VM more memory "
                      "(--mem) or lower qd or size");
    uint64_t nrec = warmup + batches;
    if (nrec + 1 > ctx->capacity)
        wl_error(ctx, "result area too small for warmup+batches: lower batches");
    wl_phase(VMMB_PHASE_PROBE);
    if (mode == MODE_PING)
        ping(ctx, 1, 0);
    else if (mode == MODE_ECHO)
        echo(ctx, 1);
    else
        stream(ctx, &w.dev.q[mode == MODE_RX ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ], mode == MODE_RX,
               1);
    wl_lat_init(ctx, &w.lat, nrec, iters);
    wl_phase(VMMB_PHASE_MEASURE);
    for (uint64_t b = 0; b < nrec; b++) {
        uint32_t flags = b < warmup ? VMMB_REC_WARMUP : 0;
        uint64_t t0 = tsc_begin();
        if (mode == MODE_PING)
            ping(ctx, iters, (uint32_t)b);
        else if (mode == MODE_ECHO)
            echo(ctx, iters);
        else
            stream(ctx, &w.dev.q[mode == MODE_RX ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ],
                   mode == MODE_RX, iters);
        uint64_t t1 = tsc_end();
        wl_record(ctx, VMMB_REC_MEASURE, (uint32_t)b, flags, iters, t1 - t0);
        wl_lat_flush(ctx, &w.lat, (uint32_t)b, flags);
    }
}

WORKLOAD(virtio_net, "virtio-net", "virtio-net frames through the VMM's device (ring 3)", "ns",
         VMMB_RING3, measure,
         WL_PARAM("mode", "0 tx, 1 rx, 2 echo (loop), 3 ping (ICMP to host, tap)", 0, 0, 3),
         WL_PARAM("size", "frame bytes after the 12-byte header", 1500, 64, 65536),
         WL_PARAM("qd", "frames in flight (tx, rx)", 32, 1, MAX_QD),
         WL_PARAM("suppress", "kicks: 0 always, 1 unless NO_NOTIFY, 2 event-idx", 2, 0, 2),
         WL_PARAM("iters", "frames per timed batch", 1000, 1, 10000000),
         WL_PARAM("host", "mode 3: host tap address 198.18.0.<host>", 1, 1, 254),
         WL_PARAM("guest", "mode 3: guest address 198.18.0.<guest>", 2, 1, 254),
         WL_PARAM_BATCHES(10), WL_PARAM_WARMUP(1));
