/* virtio-net (spec 5.1). Backends inside the VMM, to measure the transport alone:
 *   null   transmitted frames are counted and dropped; every receive buffer the driver
 *          posts is filled at once with a frame as long as the buffer (an Ethernet header
 *          is written, the payload is left as it is: no data movement)
 *   loop   each transmitted frame is copied into the next posted receive buffer (echo);
 *          with none posted, or one too small, it is dropped and counted
 * and one through the host's network stack:
 *   tap:NAME  the host tap device NAME (IFF_TAP | IFF_NO_PI, attached at plan time to
 *          check permission, and again when the device is created). Each transmitted
 *          frame is one write to the tap. Frames the host sends to the tap fill posted
 *          receive buffers: the backend has input of its own (virtio_dev_type.input),
 *          drained right after every transmit (a reply the host stack produced within
 *          the write is delivered at once), on every receive-queue kick, and by the I/O
 *          thread, which waits on the tap descriptor as well as on the queue
 *          notifications (with --notify exit it runs as a reader of the tap alone). The
 *          virtio header is stripped on transmit and added on receive (no offloads are
 *          offered, so it carries nothing), hence no IFF_VNET_HDR.
 * Queue 0 receives, queue 1 transmits. No offloads, no mergeable buffers: the 12-byte
 * header is all zero but num_buffers = 1. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/virtio.h"

enum net_kind { NET_NULL, NET_LOOP, NET_TAP };

#define TAP_FRAME_MAX (64u * 1024 + 64) /* the largest frame a tap hands out (MTU 64K) */
#define ETH_HDR_LEN 14u

struct net {
    enum net_kind kind;
    uint64_t drops;
    struct vq_chain rx;  /* scratch for the receive chain while a transmit is handled */
    int fd;              /* tap */
    bool dead;           /* the tap failed a read: stop waiting on it */
    uint8_t *frame;      /* tap: one received frame */
};

static int parse(const char *args, enum net_kind *k, const char **tap, struct vmm_err *e)
{
    *tap = NULL;
    if (strcmp(args, "null") == 0 || strcmp(args, "") == 0) {
        *k = NET_NULL;
    } else if (strcmp(args, "loop") == 0) {
        *k = NET_LOOP;
    } else if (strncmp(args, "tap", 3) == 0 && (args[3] == ':' || args[3] == '\0')) {
        const char *name = args[3] ? args + 4 : "";
        size_t len = strlen(name);
        if (len == 0)
            return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-net backend 'tap' needs a device name: "
                               "tap:NAME, e.g. tap:vmmb0");
        if (len >= IFNAMSIZ)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tap device name '%s' is longer than the "
                               "%d characters Linux allows", name, IFNAMSIZ - 1);
        if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
                len || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tap device name '%s' is not an interface "
                               "name; use letters, digits, '_', '.' and '-'", name);
        *k = NET_TAP;
        *tap = name;
    } else {
        return vmm_err_set(e, VMM_EXIT_USAGE, "unknown virtio-net backend '%s'; use null, loop "
                           "or tap:NAME", args);
    }
    return 0;
}

/* Attaches to tap device `name` (creating it when it does not exist and we may), or says
 * what is in the way and how to clear it. Returns the descriptor (non-blocking) or -1. */
static int tap_open(const char *name, struct vmm_err *e)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ENODEV || err == ENXIO)
            return vmm_err_set(e, VMM_EXIT_USAGE, "cannot use tap device '%s': /dev/net/tun is "
                               "missing (%s); load the tun module (modprobe tun) or create the "
                               "node (mknod /dev/net/tun c 10 200)", name, strerror(err));
        if (err == EACCES || err == EPERM)
            return vmm_err_set(e, VMM_EXIT_USAGE, "cannot use tap device '%s': no permission to "
                               "open /dev/net/tun (%s); run as root or with CAP_NET_ADMIN, or "
                               "make /dev/net/tun read-write for users (mode 0666)", name,
                               strerror(err));
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot use tap device '%s': opening "
                           "/dev/net/tun: %s", name, strerror(err));
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;
        close(fd);
        if (err == EPERM || err == EACCES)
            return vmm_err_set(e, VMM_EXIT_USAGE, "no permission to use tap device '%s' "
                               "(TUNSETIFF: %s): run as root or with CAP_NET_ADMIN, or have "
                               "root create it owned by you first: ip tuntap add %s mode tap "
                               "user $USER", name, strerror(err), name);
        if (err == EBUSY)
            return vmm_err_set(e, VMM_EXIT_USAGE, "tap device '%s' is in use by another process "
                               "(TUNSETIFF: %s); use another name or end that process", name,
                               strerror(err));
        if (err == EINVAL)
            return vmm_err_set(e, VMM_EXIT_USAGE, "'%s' is not a single-queue tap device "
                               "(TUNSETIFF: %s); use another name or recreate it: ip tuntap add "
                               "%s mode tap", name, strerror(err), name);
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot attach tap device '%s' (TUNSETIFF: %s)",
                           name, strerror(err));
    }
    return fd;
}

/* Plan time: the name is sound and this process may attach to the tap (a device that does
 * not exist yet is created and goes away again when the check lets go of it). */
static int net_check(const char *args, struct vmm_err *e)
{
    enum net_kind k = NET_NULL;
    const char *tap;
    if (parse(args, &k, &tap, e))
        return -1;
    if (k == NET_TAP) {
        int fd = tap_open(tap, e);
        if (fd < 0)
            return -1;
        close(fd);
    }
    return 0;
}

static int net_create(struct virtio_dev *d, const char *args, struct vmm_err *e)
{
    enum net_kind k = NET_NULL;
    const char *tap;
    if (parse(args, &k, &tap, e))
        return -1;
    struct net *n = calloc(1, sizeof *n);
    if (!n)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    n->kind = k;
    n->fd = -1;
    if (k == NET_TAP) {
        n->frame = malloc(TAP_FRAME_MAX);
        if (!n->frame) {
            free(n);
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
        }
        if ((n->fd = tap_open(tap, e)) < 0) {
            free(n->frame);
            free(n);
            return -1;
        }
    }
    d->priv = n;
    struct virtio_net_config cfg = { .mac = { 0x52, 0x54, 0x00, 0x76, 0x6d, 0x62 }, .status = 1 };
    memcpy(d->config, &cfg, sizeof cfg);
    d->config_len = sizeof cfg;
    d->host_features = 1ull << VIRTIO_NET_F_MAC;
    return 0;
}

static void net_destroy(struct virtio_dev *d)
{
    struct net *n = d->priv;
    if (n && n->fd >= 0)
        close(n->fd);
    if (n)
        free(n->frame);
    free(n);
    d->priv = NULL;
}

static bool net_takes(const struct virtio_dev *d, unsigned q)
{
    const struct net *n = d->priv;
    return !(q == VIRTIO_NET_RXQ && n->kind != NET_NULL);
}

static const struct virtio_net_hdr rx_hdr = { .num_buffers = 1 };

static int net_input_fd(const struct virtio_dev *d)
{
    const struct net *n = d->priv;
    return n->kind == NET_TAP && !n->dead ? n->fd : -1;
}

/* tap: frames waiting on the tap into posted receive buffers, until either runs out. */
static unsigned net_input(struct virtio_dev *d, bool *starved)
{
    struct net *n = d->priv;
    struct virtq *rq = &d->vq[VIRTIO_NET_RXQ];
    const uint64_t hl = sizeof(struct virtio_net_hdr);
    unsigned done = 0;
    *starved = true;
    if (n->kind != NET_TAP || n->dead || !virtio_dev_live(d) || !rq->ready)
        return 0;
    for (;;) {
        if (!vq_avail_pending(rq)) {
            /* No buffer: ask the driver to kick when it posts one (re-check for one that
             * raced in), and leave the tap alone meanwhile. */
            if (vq_notify_enable(rq))
                continue;
            break;
        }
        ssize_t len = read(n->fd, n->frame, TAP_FRAME_MAX);
        if (len < 0 && errno == EINTR)
            continue;
        if (len < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                n->dead = true; /* the tap went away: nothing more will come */
            vq_notify_disable(rq); /* buffers in hand: no kicks needed */
            *starved = false;
            break;
        }
        if ((uint64_t)len < ETH_HDR_LEN) {
            n->drops++;
            continue;
        }
        int r = vq_pop(rq, d->mem, &n->rx);
        if (r < 0) {
            virtio_dev_fail(d, (unsigned)-r, "queue %u, avail entry %u", VIRTIO_NET_RXQ,
                            (unsigned)rq->last_avail);
            break;
        }
        if (r == 0)
            break; /* cannot happen: entries were pending */
        if (n->rx.nread || n->rx.write_bytes < hl + (uint64_t)len) {
            vq_push(rq, n->rx.head, 0); /* hand the unusable buffer back empty */
            n->drops++;
        } else {
            vq_chain_write(&n->rx, 0, &rx_hdr, hl);
            vq_chain_write(&n->rx, hl, n->frame, (uint64_t)len);
            vq_push(rq, n->rx.head, (uint32_t)(hl + (uint64_t)len));
            d->bytes += (uint64_t)len;
        }
        vq_publish(rq);
        d->chains++;
        done++;
    }
    if (done && vq_should_signal(rq))
        virtio_dev_signal_used(d);
    return done;
}

/* tap: one write of the frame (the chain's readable part after the header). */
static void tap_send(struct virtio_dev *d, struct net *n, const struct vq_chain *c)
{
    const uint64_t hl = sizeof(struct virtio_net_hdr);
    struct iovec iov[VQ_MAX_SEGS];
    unsigned k = 0;
    uint64_t skip = hl;
    for (unsigned i = 0; i < c->nread; i++) {
        const struct vq_buf *b = &c->buf[i];
        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        iov[k++] = (struct iovec){ b->host + skip, b->len - skip };
        skip = 0;
    }
    ssize_t w;
    do
        w = writev(n->fd, iov, (int)k);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        n->drops++; /* the tap is down or its queue full: the frame is lost, as on a wire */
    bool starved;
    net_input(d, &starved); /* the host may have answered within the write */
}

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
    if (n->kind == NET_TAP) {
        if (frame < ETH_HDR_LEN || frame > TAP_FRAME_MAX) {
            virtio_dev_note(d, VIRTIO_ERR_REQUEST, "transmit frame of %llu bytes for a tap",
                            (unsigned long long)frame);
            return;
        }
        tap_send(d, n, c);
        return;
    }
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
    .backends = "null | loop | tap:NAME",
    .check = net_check,
    .create = net_create,
    .destroy = net_destroy,
    .handle = net_handle,
    .takes_buffers = net_takes,
    .input_fd = net_input_fd,
    .input = net_input,
};
