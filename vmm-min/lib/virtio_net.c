/* virtio-net (spec 5.1) with backends inside the VMM, to measure the transport alone:
 *   null   transmitted frames are counted and dropped; every receive buffer the driver
 *          posts is filled at once with a frame as long as the buffer (an Ethernet header
 *          is written, the payload is left as it is: no data movement)
 *   loop   each transmitted frame is copied into the next posted receive buffer (echo);
 *          with none posted, or one too small, it is dropped and counted
 * Queue 0 receives, queue 1 transmits. No offloads, no mergeable buffers: the 12-byte
 * header is all zero but num_buffers = 1. */
#include <stdlib.h>
#include <string.h>

#include "vmm/virtio.h"

enum net_kind { NET_NULL, NET_LOOP };

struct net {
    enum net_kind kind;
    uint64_t drops;
    struct vq_chain rx;  /* scratch for the receive chain while a transmit is handled */
};

static int parse(const char *args, enum net_kind *k, struct vmm_err *e)
{
    if (strcmp(args, "null") == 0 || strcmp(args, "") == 0)
        *k = NET_NULL;
    else if (strcmp(args, "loop") == 0)
        *k = NET_LOOP;
    else
        return vmm_err_set(e, VMM_EXIT_USAGE, "unknown virtio-net backend '%s'; use null or "
                           "loop", args);
    return 0;
}

static int net_check(const char *args, struct vmm_err *e)
{
    enum net_kind k = NET_NULL;
    return parse(args, &k, e);
}

static int net_create(struct virtio_dev *d, const char *args, struct vmm_err *e)
{
    enum net_kind k = NET_NULL;
    if (parse(args, &k, e))
        return -1;
    struct net *n = calloc(1, sizeof *n);
    if (!n)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    n->kind = k;
    d->priv = n;
    struct virtio_net_config cfg = { .mac = { 0x52, 0x54, 0x00, 0x76, 0x6d, 0x62 }, .status = 1 };
    memcpy(d->config, &cfg, sizeof cfg);
    d->config_len = sizeof cfg;
    d->host_features = 1ull << VIRTIO_NET_F_MAC;
    return 0;
}

static void net_destroy(struct virtio_dev *d)
{
    free(d->priv);
    d->priv = NULL;
}

static bool net_takes(const struct virtio_dev *d, unsigned q)
{
    const struct net *n = d->priv;
    return !(q == VIRTIO_NET_RXQ && n->kind == NET_LOOP);
}

static const struct virtio_net_hdr rx_hdr = { .num_buffers = 1 };

static void net_handle(struct virtio_dev *d, unsigned q, const struct vq_chain *c,
                       uint32_t *used_len)
{
    struct net *n = d->priv;
    *used_len = 0;
    const uint64_t hl = sizeof(struct virtio_net_hdr);
    if (q == VIRTIO_NET_RXQ) {
        /* null backend: a frame filling the buffer. */
        if (c->nread || c->write_bytes < hl + 14 || c->write_bytes > UINT32_MAX) {
            virtio_dev_note(d, VIRTIO_ERR_REQUEST, "receive buffer of %llu bytes (%u readable "
                            "parts)", (unsigned long long)c->write_bytes, c->nread);
            return;
        }
        static const uint8_t eth[14] = { 0x52, 0x54, 0x00, 0x76, 0x6d, 0x62,
                                         0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x88, 0xb5 };
        vq_chain_write(c, 0, &rx_hdr, hl);
        vq_chain_write(c, hl, eth, sizeof eth);
        d->bytes += c->write_bytes - hl;
        *used_len = (uint32_t)c->write_bytes;
        return;
    }
    /* transmit */
    if (c->read_bytes < hl || c->write_bytes || c->read_bytes > UINT32_MAX) {
        virtio_dev_note(d, VIRTIO_ERR_REQUEST, "transmit chain of %llu readable and %llu "
                        "writable bytes", (unsigned long long)c->read_bytes,
                        (unsigned long long)c->write_bytes);
        return;
    }
    uint64_t frame = c->read_bytes - hl;
    d->bytes += frame;
    if (n->kind != NET_LOOP)
        return;
    struct virtq *rq = &d->vq[VIRTIO_NET_RXQ];
    if (!rq->ready) {
        n->drops++;
        return;
    }
    int r = vq_pop(rq, d->mem, &n->rx);
    if (r < 0) {
        virtio_dev_fail(d, (unsigned)-r, "queue %u, avail entry %u", VIRTIO_NET_RXQ,
                        (unsigned)rq->last_avail);
        return;
    }
    if (r == 0 || n->rx.nread || n->rx.write_bytes < hl + frame) {
        if (r)
            vq_push(rq, n->rx.head, 0); /* hand the unusable buffer back empty */
        n->drops++;
    } else {
        vq_chain_write(&n->rx, 0, &rx_hdr, hl);
        /* Copy the frame across chains in pieces: both sides are checked buffers. */
        uint8_t tmp[4096];
        for (uint64_t off = 0; off < frame;) {
            uint64_t k = frame - off < sizeof tmp ? frame - off : sizeof tmp;
            vq_chain_read(c, hl + off, tmp, k);
            vq_chain_write(&n->rx, hl + off, tmp, k);
            off += k;
        }
        vq_push(rq, n->rx.head, (uint32_t)(hl + frame));
    }
    vq_publish(rq);
    d->chains++;
}

const struct virtio_dev_type virtio_net_type = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .nqueues = 2,
    .backends = "null | loop",
    .check = net_check,
    .create = net_create,
    .destroy = net_destroy,
    .handle = net_handle,
    .takes_buffers = net_takes,
};
