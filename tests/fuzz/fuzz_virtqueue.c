/* Fuzz target: virtqueues and the virtio devices, driven through guest memory and the
 * MMIO register file exactly as a guest driver (or a hostile one) does.
 *
 * Input: u8 mode, then
 *   mode % 4 == 0, the split queue alone: u16 size, u8 flags (bit 0 event-idx, bit 1
 *     indirect), u32 desc/avail/used GPAs, u8 pops; the chains vq_pop returns are
 *     pushed back and copied from and into;
 *   otherwise a device (1 virtio-blk null, 2 virtio-blk ram:64K, 3 virtio-net loop):
 *     u8 n, then n 8-byte register accesses {u16 offset, u8 size code, u8 write,
 *     u32 value}; size code 7 is not an access but the driver storing the low 16 bits
 *     of value at RAM offset value >> 16 (posting more buffers between kicks).
 * The rest of the input is the first bytes of a 64 KiB guest RAM (rings, descriptor
 * tables, requests, frames).
 * Properties: every buffer of every chain vq_pop returns lies inside guest RAM and is
 * the host address of its GPA, a chain's readable buffers come first and its byte counts
 * add up; copies stay inside the chain. Through the devices: every access to guest RAM
 * stays inside it (RAM is a heap block of its own, so ASan sees a byte past it), the
 * register file answers every access, and an error is counted iff it is described.
 * (Used-ring contents are not checked there: a hostile driver may point a device's
 * writes at its own used ring.) */
#include <string.h>

#include "fuzz_util.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio.h"
#include "vmm/virtqueue.h"

#define RAM (64u << 10)

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

static void check_chain(const struct vq_chain *c, const uint8_t *ram, const struct virtq *q)
{
    FUZZ_ASSERT(c->n >= 1 && c->n <= VQ_MAX_SEGS && c->nread <= c->n);
    FUZZ_ASSERT(c->head < q->size);
    uint64_t rd = 0, wr = 0;
    for (unsigned i = 0; i < c->n; i++) {
        const struct vq_buf *b = &c->buf[i];
        uint64_t len = b->len ? b->len : 1;
        FUZZ_ASSERT(b->gpa < RAM && len <= RAM - b->gpa);
        FUZZ_ASSERT(b->host == ram + b->gpa);
        FUZZ_ASSERT(b->write == (i >= c->nread));
        if (b->write)
            wr += b->len;
        else
            rd += b->len;
    }
    FUZZ_ASSERT(rd == c->read_bytes && wr == c->write_bytes);
}

static void fuzz_queue(struct input *in, uint8_t *ram, struct guest_mem *gm)
{
    struct virtq q;
    vq_reset(&q);
    q.size = (uint32_t)take(in, 2);
    uint8_t flags = (uint8_t)take(in, 1);
    q.event_idx = flags & 1;
    q.indirect = flags & 2;
    q.desc_gpa = take(in, 4);
    q.avail_gpa = take(in, 4);
    q.used_gpa = take(in, 4);
    unsigned pops = (unsigned)take(in, 1) % 64;
    memcpy(ram, in->p, in->n < RAM ? in->n : RAM);
    if (vq_enable(&q, gm, VIRTIO_QUEUE_MAX) != VQ_OK) {
        FUZZ_ASSERT(!q.ready);
        return;
    }
    FUZZ_ASSERT(q.size >= 1 && q.size <= VIRTIO_QUEUE_MAX && !(q.size & (q.size - 1)));
    static struct vq_chain c;
    static uint8_t scratch[4096];
    for (unsigned i = 0; i < pops; i++) {
        int r = vq_pop(&q, gm, &c);
        FUZZ_ASSERT(r >= -(int)VQ_ERR_COUNT && r <= 1);
        if (r <= 0)
            break;
        check_chain(&c, ram, &q);
        uint64_t got = vq_chain_read(&c, i * 7, scratch, sizeof scratch);
        FUZZ_ASSERT(got <= sizeof scratch && got <= c.read_bytes);
        uint64_t put = vq_chain_write(&c, i * 3, scratch, sizeof scratch);
        FUZZ_ASSERT(put <= sizeof scratch && put <= c.write_bytes);
        vq_push(&q, c.head, (uint32_t)put);
        if (i & 1)
            vq_publish(&q);
        (void)vq_should_signal(&q);
        if (i & 2)
            vq_notify_disable(&q);
        else
            (void)vq_notify_enable(&q);
    }
    vq_publish(&q);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "queue: %u chains taken\n", (unsigned)q.last_avail);
}

static void fuzz_device(unsigned kind, struct input *in, uint8_t *ram, struct guest_mem *gm)
{
    static const char *const specs[][2] = { { "blk", "null" }, { "blk", "ram:64K" },
                                            { "net", "loop" } };
    unsigned nops = (unsigned)take(in, 1);
    struct input ops = { in->p, in->n < nops * 8u ? in->n : nops * 8u };
    in->p += ops.n;
    in->n -= ops.n;
    memcpy(ram, in->p, in->n < RAM ? in->n : RAM);

    static struct virtio_dev d;
    memset(&d, 0, sizeof d);
    struct vmm_err e = { 0 };
    const struct virtio_dev_type *t = virtio_type_find(specs[kind][0]);
    FUZZ_ASSERT(t && virtio_dev_init(&d, t, specs[kind][1], gm, 0xd0001000ull, &e) == 0);
    while (ops.n >= 8) {
        uint64_t off = take(&ops, 2) & 0xfff;
        unsigned code = (unsigned)take(&ops, 1) & 7;
        bool write = take(&ops, 1) & 1;
        uint32_t v = (uint32_t)take(&ops, 4);
        if (code == 7) {
            uint32_t at = (v >> 16) & ~1u;
            memcpy(ram + at, &v, 2);
            continue;
        }
        static const unsigned sizes[] = { 4, 1, 2, 8, 4, 4, 3 };
        uint8_t buf[8] = { 0 };
        memcpy(buf, &v, 4);
        FUZZ_ASSERT(virtio_mmio_io(&d, 0, off, buf, sizes[code], write) == IO_CONTINUE);
        if (!write && off == VIRTIO_MMIO_MAGIC_VALUE && sizes[code] == 4)
            FUZZ_ASSERT(memcmp(buf, "virt", 4) == 0);
    }
    uint64_t errs = 0;
    for (unsigned k = 0; k < VIRTIO_ERR_COUNT; k++)
        errs += d.errors[k];
    FUZZ_ASSERT(!errs == !d.first_error[0]);
    FUZZ_ASSERT(d.errors[VQ_OK] == 0);
    if (getenv("FUZZ_VERBOSE")) /* for writing seeds: what the input reached */
        fprintf(stderr, "device %s:%s status 0x%x chains %llu bytes %llu errors %llu: %s\n",
                specs[kind][0], specs[kind][1], d.status, (unsigned long long)d.chains,
                (unsigned long long)d.bytes, (unsigned long long)errs, d.first_error);
    virtio_dev_destroy(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct input in = { data + 1, size - 1 };
    /* Guest RAM in a heap block of its own: ASan reports any access past it. */
    uint8_t *ram = calloc(1, RAM);
    struct guest_mem gm;
    guest_mem_layout(&gm, ram, RAM);
    if (data[0] % 4 == 0)
        fuzz_queue(&in, ram, &gm);
    else
        fuzz_device(data[0] % 4 - 1, &in, ram, &gm);
    free(ram);
    return 0;
}
