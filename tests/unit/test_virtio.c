/* virtio: split virtqueue handling (chains, indirect tables, every kind of broken ring),
 * event-idx arithmetic with wrap-around, the virtio-mmio register file driven as a guest
 * driver would (and as a hostile one would), the virtio-blk backends (null, ram, file)
 * and the virtio-net backends (null, loop, tap: its name checks, the refusal without
 * permission, and as root frames to and from the host stack in a network namespace of
 * its own), and the checking of device specs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "vmm/guest_mem.h"
#include "vmm/virtio.h"
#include "vmm/virtio_plan.h"
#include "vmm/virtqueue.h"

#define RAM (16u << 20)
#define DESC 0x10000u
#define AVAIL 0x20000u
#define USED 0x30000u
#define BUF 0x100000u

struct env {
    uint8_t *ram;
    struct guest_mem gm;
};

static int setup(void **state)
{
    struct env *v = calloc(1, sizeof *v);
    v->ram = aligned_alloc(4096, RAM);
    memset(v->ram, 0, RAM);
    guest_mem_layout(&v->gm, v->ram, RAM);
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    struct env *v = *state;
    free(v->ram);
    free(v);
    return 0;
}

static struct virtq_desc *desc_tab(struct env *v) { return (struct virtq_desc *)(v->ram + DESC); }
static struct virtq_avail *avail(struct env *v) { return (struct virtq_avail *)(v->ram + AVAIL); }
static struct virtq_used *used(struct env *v) { return (struct virtq_used *)(v->ram + USED); }

static void set_desc(struct virtq_desc *t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    t[i] = (struct virtq_desc){ addr, len, flags, next };
}

static void queue_init(struct env *v, struct virtq *q, uint32_t size)
{
    memset(q, 0, sizeof *q);
    q->size = size;
    q->desc_gpa = DESC;
    q->avail_gpa = AVAIL;
    q->used_gpa = USED;
    assert_int_equal(vq_enable(q, &v->gm, VIRTIO_QUEUE_MAX), VQ_OK);
}

/* The driver makes head available as entry number `slot` and publishes idx. */
static void offer(struct env *v, struct virtq *q, uint16_t idx, uint16_t head)
{
    avail(v)->ring[idx & (q->size - 1)] = head;
    avail(v)->idx = (uint16_t)(idx + 1);
}

/* ---- virtqueue ---- */

static void test_enable_checks(void **state)
{
    struct env *v = *state;
    struct virtq q;
    uint32_t bad_sizes[] = { 0, 3, 6, 100, 2048, 65536 };
    for (unsigned i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        memset(&q, 0, sizeof q);
        q.size = bad_sizes[i];
        q.desc_gpa = DESC, q.avail_gpa = AVAIL, q.used_gpa = USED;
        assert_int_equal(vq_enable(&q, &v->gm, VIRTIO_QUEUE_MAX), VQ_ERR_QUEUE_SIZE);
        assert_false(q.ready);
    }
    struct { uint64_t d, a, u; } bad_addr[] = {
        { DESC + 8, AVAIL, USED },          /* descriptor table misaligned */
        { DESC, AVAIL + 1, USED },          /* driver area misaligned */
        { DESC, AVAIL, USED + 2 },          /* device area misaligned */
        { RAM - 16, AVAIL, USED },          /* table runs past RAM */
        { DESC, AVAIL, RAM - 8 },
        { 0xfffffffffffffff0ull, AVAIL, USED }, /* wraps around */
        { 0xd0000000ull, AVAIL, USED },     /* the MMIO hole */
    };
    for (unsigned i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++) {
        memset(&q, 0, sizeof q);
        q.size = 16;
        q.desc_gpa = bad_addr[i].d, q.avail_gpa = bad_addr[i].a, q.used_gpa = bad_addr[i].u;
        assert_int_equal(vq_enable(&q, &v->gm, VIRTIO_QUEUE_MAX), VQ_ERR_RING_ADDR);
        assert_false(q.ready);
    }
    queue_init(v, &q, 1024);
    assert_true(q.ready);
}

static void test_chain(void **state)
{
    struct env *v = *state;
    struct virtq q;
    queue_init(v, &q, 8);
    struct virtq_desc *t = desc_tab(v);
    set_desc(t, 5, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
    set_desc(t, 2, BUF + 0x1000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
    set_desc(t, 7, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
    struct vq_chain *c = malloc(sizeof *c);
    assert_int_equal(vq_pop(&q, &v->gm, c), 0); /* empty */
    offer(v, &q, 0, 5);
    assert_int_equal(vq_avail_pending(&q), 1);
    assert_int_equal(vq_pop(&q, &v->gm, c), 1);
    assert_int_equal(c->head, 5);
    assert_int_equal(c->n, 3);
    assert_int_equal(c->nread, 1);
    assert_int_equal(c->read_bytes, 16);
    assert_int_equal(c->write_bytes, 4097);
    assert_ptr_equal(c->buf[1].host, v->ram + BUF + 0x1000);
    assert_true(c->buf[2].write);
    /* copy helpers cross buffer boundaries */
    memcpy(v->ram + BUF, "0123456789abcdef", 16);
    char hdr[16];
    assert_int_equal(vq_chain_read(c, 4, hdr, 16), 12);
    assert_memory_equal(hdr, "456789abcdef", 12);
    uint8_t pat[4097];
    memset(pat, 0x5a, sizeof pat);
    assert_int_equal(vq_chain_write(c, 0, pat, sizeof pat), 4097);
    assert_int_equal(v->ram[BUF + 0x3000], 0x5a);
    assert_int_equal(vq_pop(&q, &v->gm, c), 0);
    vq_push(&q, c->head, 4097);
    assert_int_equal(used(v)->idx, 0); /* not yet published */
    vq_publish(&q);
    assert_int_equal(used(v)->idx, 1);
    assert_int_equal(used(v)->ring[0].id, 5);
    assert_int_equal(used(v)->ring[0].len, 4097);
    free(c);
}

static void test_avail_index_wraps(void **state)
{
    struct env *v = *state;
    struct virtq q;
    queue_init(v, &q, 4);
    set_desc(desc_tab(v), 0, BUF, 8, 0, 0);
    struct vq_chain *c = malloc(sizeof *c);
    /* Drive both indices around 2^16: every entry is taken exactly once. */
    q.last_avail = q.used_idx = 0xfffe;
    avail(v)->idx = 0xfffe;
    for (unsigned i = 0; i < 6; i++) {
        uint16_t idx = (uint16_t)(0xfffe + i);
        offer(v, &q, idx, 0);
        assert_int_equal(vq_pop(&q, &v->gm, c), 1);
        assert_int_equal(vq_pop(&q, &v->gm, c), 0);
        vq_push(&q, 0, 8);
        vq_publish(&q);
    }
    assert_int_equal(q.last_avail, 4);
    assert_int_equal(used(v)->idx, 4);
    free(c);
}

/* A full queue: exactly size entries outstanding are all taken; one more than size
 * published is the driver's error (an avail index too far ahead), nothing consumed. */
static void test_full_queue(void **state)
{
    struct env *v = *state;
    struct virtq q;
    queue_init(v, &q, 4);
    for (unsigned i = 0; i < 4; i++)
        set_desc(desc_tab(v), i, BUF + 64 * i, 8, 0, 0);
    for (uint16_t i = 0; i < 4; i++)
        offer(v, &q, i, i);
    struct vq_chain *c = malloc(sizeof *c);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(vq_pop(&q, &v->gm, c), 1);
        assert_int_equal(c->head, i);
    }
    assert_int_equal(vq_pop(&q, &v->gm, c), 0);
    avail(v)->idx = (uint16_t)(q.last_avail + 5); /* size + 1 ahead */
    assert_int_equal(vq_pop(&q, &v->gm, c), -VQ_ERR_AVAIL_IDX);
    assert_int_equal(q.last_avail, 4);
    free(c);
}

static void expect_err(struct env *v, struct virtq *q, int err)
{
    struct vq_chain *c = malloc(sizeof *c);
    uint16_t before = q->last_avail;
    assert_int_equal(vq_pop(q, &v->gm, c), -err);
    assert_int_equal(q->last_avail, before); /* nothing consumed */
    free(c);
}

static void test_broken_chains(void **state)
{
    struct env *v = *state;
    struct virtq q;
    struct virtq_desc *t = desc_tab(v);

    /* a loop: 0 -> 1 -> 0 */
    queue_init(v, &q, 8);
    set_desc(t, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
    set_desc(t, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
    offer(v, &q, 0, 0);
    expect_err(v, &q, VQ_ERR_LOOP);
    /* a descriptor chained to itself */
    queue_init(v, &q, 8);
    set_desc(t, 3, BUF, 8, VIRTQ_DESC_F_NEXT, 3);
    offer(v, &q, 0, 3);
    expect_err(v, &q, VQ_ERR_LOOP);
    /* a chain visiting every entry once is fine; it cannot be longer than the queue */
    queue_init(v, &q, 8);
    for (unsigned i = 0; i < 8; i++)
        set_desc(t, i, BUF, 8, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    offer(v, &q, 0, 0);
    struct vq_chain *c = malloc(sizeof *c);
    assert_int_equal(vq_pop(&q, &v->gm, c), 1);
    assert_int_equal(c->n, 8);
    free(c);
    /* a loop through every entry of a table of VQ_MAX_SEGS entries is named a loop (at
     * step n), not a chain too long (which one more step would report) */
    queue_init(v, &q, VQ_MAX_SEGS);
    for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
        set_desc(t, i, BUF, 8, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % VQ_MAX_SEGS));
    offer(v, &q, 0, 0);
    expect_err(v, &q, VQ_ERR_LOOP);
    /* head and next outside the table */
    queue_init(v, &q, 8);
    offer(v, &q, 0, 8);
    expect_err(v, &q, VQ_ERR_HEAD);
    queue_init(v, &q, 8);
    set_desc(t, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 0xffff);
    offer(v, &q, 0, 0);
    expect_err(v, &q, VQ_ERR_HEAD);
    /* buffers outside RAM, in the hole, and overflowing */
    uint64_t bad[][2] = { { RAM - 10, 100 }, { RAM, 1 }, { 0xd0001000ull, 4 },
                          { 0xfffffffffffffff0ull, 0x20 }, { 0, 0xffffffffu } };
    for (unsigned i = 0; i < 5; i++) {
        queue_init(v, &q, 8);
        set_desc(t, 0, bad[i][0], (uint32_t)bad[i][1], 0, 0);
        offer(v, &q, 0, 0);
        expect_err(v, &q, VQ_ERR_BUF_ADDR);
    }
    /* readable after writable */
    queue_init(v, &q, 8);
    set_desc(t, 0, BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    set_desc(t, 1, BUF, 8, 0, 0);
    offer(v, &q, 0, 0);
    expect_err(v, &q, VQ_ERR_ORDER);
    /* the driver claims more new entries than the queue holds */
    queue_init(v, &q, 8);
    avail(v)->idx = 9;
    expect_err(v, &q, VQ_ERR_AVAIL_IDX);
}

static void test_too_long(void **state)
{
    struct env *v = *state;
    struct virtq q;
    queue_init(v, &q, 512);
    struct virtq_desc *t = desc_tab(v);
    for (unsigned i = 0; i < 300; i++)
        set_desc(t, i, BUF, 8, i < 299 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    offer(v, &q, 0, 0);
    expect_err(v, &q, VQ_ERR_TOO_LONG);
}

static void test_indirect(void **state)
{
    struct env *v = *state;
    struct virtq q;
    struct virtq_desc *t = desc_tab(v);
    struct virtq_desc *it = (struct virtq_desc *)(v->ram + BUF + 0x10000);
    set_desc(it, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
    set_desc(it, 2, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    set_desc(it, 1, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
    struct vq_chain *c = malloc(sizeof *c);

    /* not negotiated */
    queue_init(v, &q, 8);
    set_desc(t, 0, BUF + 0x10000, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    offer(v, &q, 0, 0);
    expect_err(v, &q, VQ_ERR_INDIRECT);
    /* negotiated: the three entries of the table */
    queue_init(v, &q, 8);
    q.indirect = true;
    offer(v, &q, 0, 0);
    assert_int_equal(vq_pop(&q, &v->gm, c), 1);
    assert_int_equal(c->head, 0);
    assert_int_equal(c->n, 3);
    assert_int_equal(c->write_bytes, 513);
    /* odd length, empty, with NEXT, nested, table outside RAM, loop inside */
    struct { uint64_t addr; uint32_t len; uint16_t flags; int err; } bad[] = {
        { BUF + 0x10000, 40, VIRTQ_DESC_F_INDIRECT, VQ_ERR_INDIRECT },
        { BUF + 0x10000, 0, VIRTQ_DESC_F_INDIRECT, VQ_ERR_INDIRECT },
        { BUF + 0x10000, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, VQ_ERR_INDIRECT },
        { BUF + 0x10008, 48, VIRTQ_DESC_F_INDIRECT, VQ_ERR_INDIRECT },
        { RAM - 32, 48, VIRTQ_DESC_F_INDIRECT, VQ_ERR_BUF_ADDR },
        { BUF + 0x20000, 48, VIRTQ_DESC_F_INDIRECT, VQ_ERR_INDIRECT },
        { BUF + 0x30000, 32, VIRTQ_DESC_F_INDIRECT, VQ_ERR_LOOP },
        { BUF + 0x40000, 16 * 300, VIRTQ_DESC_F_INDIRECT, VQ_ERR_TOO_LONG },
    };
    struct virtq_desc *nest = (struct virtq_desc *)(v->ram + BUF + 0x20000);
    set_desc(nest, 0, BUF + 0x10000, 48, VIRTQ_DESC_F_INDIRECT, 0);
    struct virtq_desc *loop = (struct virtq_desc *)(v->ram + BUF + 0x30000);
    set_desc(loop, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
    set_desc(loop, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        queue_init(v, &q, 8);
        q.indirect = true;
        set_desc(t, 0, bad[i].addr, bad[i].len, bad[i].flags, 0);
        offer(v, &q, 0, 0);
        expect_err(v, &q, bad[i].err);
    }
    free(c);
}

static void test_event_idx_arithmetic(void **state)
{
    (void)state;
    /* notify when new passes event: event in [old, new) */
    assert_true(virtq_need_event(0, 1, 0));
    assert_false(virtq_need_event(1, 1, 0));
    assert_true(virtq_need_event(5, 6, 3));
    assert_false(virtq_need_event(5, 5, 3));
    assert_true(virtq_need_event(3, 6, 3));
    assert_false(virtq_need_event(2, 6, 3)); /* stale event: already passed before old */
    /* across the 2^16 wrap */
    assert_true(virtq_need_event(0xffff, 2, 0xfffe));
    assert_true(virtq_need_event(0xfffe, 2, 0xfffe));
    assert_true(virtq_need_event(1, 2, 0xfffe));
    assert_false(virtq_need_event(2, 2, 0xfffe));
    assert_false(virtq_need_event(0xfffd, 2, 0xfffe));
    /* nothing new: never */
    assert_false(virtq_need_event(7, 7, 7));
}

static void test_notify_suppression(void **state)
{
    struct env *v = *state;
    struct virtq q;
    uint16_t *avail_event = (uint16_t *)(v->ram + USED + 4 + 8 * 8);
    uint16_t *used_event = (uint16_t *)(v->ram + AVAIL + 4 + 2 * 8);
    set_desc(desc_tab(v), 0, BUF, 8, 0, 0);
    /* without event-idx: the NO_NOTIFY flag */
    queue_init(v, &q, 8);
    vq_notify_disable(&q);
    assert_int_equal(used(v)->flags, VIRTQ_USED_F_NO_NOTIFY);
    assert_int_equal(vq_notify_enable(&q), 0);
    assert_int_equal(used(v)->flags, 0);
    /* with event-idx: avail_event follows the device's progress; enable reports races */
    *avail_event = 0x1234;
    queue_init(v, &q, 8);
    q.event_idx = true;
    assert_int_equal(vq_enable(&q, &v->gm, VIRTIO_QUEUE_MAX), VQ_OK);
    assert_int_equal(*avail_event, 0); /* reset by enabling the queue */
    struct vq_chain *c = malloc(sizeof *c);
    offer(v, &q, 0, 0);
    offer(v, &q, 1, 0);
    vq_notify_disable(&q);
    assert_int_equal(used(v)->flags, 0); /* event-idx suppression leaves the flag alone */
    assert_int_equal(vq_pop(&q, &v->gm, c), 1);
    assert_int_equal(vq_notify_enable(&q), 1); /* one more raced in */
    assert_int_equal(*avail_event, 1);
    assert_int_equal(vq_pop(&q, &v->gm, c), 1);
    assert_int_equal(vq_notify_enable(&q), 0);
    assert_int_equal(*avail_event, 2);
    /* used-buffer notifications: the driver's used_event */
    *used_event = 0;
    vq_push(&q, 0, 0);
    assert_true(vq_should_signal(&q));  /* first one always */
    vq_push(&q, 0, 0);
    *used_event = 5;
    assert_false(vq_should_signal(&q)); /* used idx 2 has not passed 5 */
    assert_false(vq_should_signal(&q)); /* nothing new */
    for (unsigned i = 0; i < 4; i++)
        vq_push(&q, 0, 0);
    assert_true(vq_should_signal(&q));  /* 6 passed 5 */
    /* without event-idx: the driver's NO_INTERRUPT flag */
    queue_init(v, &q, 8);
    avail(v)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    vq_push(&q, 0, 0);
    assert_false(vq_should_signal(&q));
    avail(v)->flags = 0;
    vq_push(&q, 0, 0);
    assert_true(vq_should_signal(&q));
    free(c);
}

/* ---- the transport, driven like a guest driver ---- */

static uint32_t rd(struct virtio_dev *d, uint64_t off)
{
    uint32_t x = 0xdeadbeef;
    assert_int_equal(virtio_mmio_io(d, 0, off, (uint8_t *)&x, 4, false), IO_CONTINUE);
    return x;
}

static void wr(struct virtio_dev *d, uint64_t off, uint32_t val)
{
    assert_int_equal(virtio_mmio_io(d, 0, off, (uint8_t *)&val, 4, true), IO_CONTINUE);
}

static void make_dev(struct env *v, struct virtio_dev *d, const char *type, const char *args)
{
    struct vmm_err e = { 0 };
    memset(d, 0, sizeof *d);
    if (virtio_dev_init(d, virtio_type_find(type), args, &v->gm, 0xd0001000ull, &e))
        fail_msg("init %s:%s: %s", type, args, e.msg);
}

/* The driver's side of spec 3.1.1, up to DRIVER_OK, with queue q of size n. */
static void driver_up(struct virtio_dev *d, uint64_t feat, unsigned nq, uint32_t n)
{
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
    uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
    wr(d, VIRTIO_MMIO_STATUS, s);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), s);
    for (unsigned q = 0; q < nq; q++) {
        wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
        assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
        wr(d, VIRTIO_MMIO_QUEUE_NUM, n);
        wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC + q * 0x40000);
        wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
        wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL + q * 0x40000);
        wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
        wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED + q * 0x40000);
        wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
        wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
        assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
    }
    wr(d, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), s | VIRTIO_STATUS_DRIVER_OK);
}

#define V1 (1ull << VIRTIO_F_VERSION_1)

/* A virtio-blk request in slot i: header at BUF+i*0x10000, data after it, status after. */
static void blk_req(struct env *v, unsigned i, uint32_t type, uint64_t sector, uint32_t len)
{
    struct virtq_desc *t = desc_tab(v);
    uint64_t base = BUF + (uint64_t)i * 0x10000;
    struct virtio_blk_req_hdr h = { type, 0, sector };
    memcpy(v->ram + base, &h, sizeof h);
    v->ram[base + 0xffff] = 0xee;
    unsigned d0 = 3 * i;
    bool in = type == VIRTIO_BLK_T_IN;
    if (len) {
        set_desc(t, d0, base, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d0 + 1));
        set_desc(t, d0 + 1, base + 0x1000, len,
                 (uint16_t)(VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0)),
                 (uint16_t)(d0 + 2));
        set_desc(t, d0 + 2, base + 0xffff, 1, VIRTQ_DESC_F_WRITE, 0);
    } else {
        set_desc(t, d0, base, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d0 + 2));
        set_desc(t, d0 + 2, base + 0xffff, 1, VIRTQ_DESC_F_WRITE, 0);
    }
    uint16_t idx = avail(v)->idx;
    avail(v)->ring[idx % 64] = (uint16_t)d0;
    avail(v)->idx = (uint16_t)(idx + 1);
}

static uint8_t blk_status(struct env *v, unsigned i)
{
    return v->ram[BUF + (uint64_t)i * 0x10000 + 0xffff];
}

static void test_register_file(void **state)
{
    struct env *v = *state;
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "blk", "null:1M");
    assert_int_equal(rd(d, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    assert_int_equal(rd(d, VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    assert_true(rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 */
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint32_t f0 = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
    assert_true(f0 & (1u << VIRTIO_F_EVENT_IDX));
    assert_true(f0 & (1u << VIRTIO_BLK_F_FLUSH));
    wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
    assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_QUEUE_MAX);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0); /* blk has one queue */
    /* config space: capacity in sectors, at any width; past it reads 0 */
    uint64_t cap = 0;
    assert_int_equal(virtio_mmio_io(d, 0, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8, false),
                     IO_CONTINUE);
    assert_int_equal(cap, 2048);
    uint8_t b = 0xff;
    virtio_mmio_io(d, 0, 0xfff, &b, 1, false);
    assert_int_equal(b, 0);
    /* a 2-byte register access is recorded and reads 0 */
    uint16_t h = 0xffff;
    virtio_mmio_io(d, 0, VIRTIO_MMIO_STATUS, (uint8_t *)&h, 2, false);
    assert_int_equal(h, 0);
    assert_int_equal(d->errors[VIRTIO_ERR_ACCESS], 1);
    assert_false(d->status & VIRTIO_STATUS_NEEDS_RESET);

    /* FEATURES_OK refused without VERSION_1, and with features never offered */
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, VIRTIO_MMIO_STATUS, 11);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 3);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1 | 0x80000000u);
    wr(d, VIRTIO_MMIO_STATUS, 11);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 3);
    assert_int_equal(d->errors[VIRTIO_ERR_FEATURES], 2);
    /* queue enabled before FEATURES_OK: stays off */
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(d, VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_int_equal(d->errors[VIRTIO_ERR_SETUP_ORDER], 1);

    /* a good bring-up, then a request through a notification */
    driver_up(d, V1, 1, 64);
    blk_req(v, 0, VIRTIO_BLK_T_IN, 0, 4096);
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(used(v)->idx, 1);
    assert_int_equal(used(v)->ring[0].len, 4097);
    assert_int_equal(blk_status(v, 0), VIRTIO_BLK_S_OK);
    assert_int_equal(d->kicks, 1);
    assert_int_equal(d->chains, 1);
    assert_true(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & 1);
    wr(d, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    /* queue layout cannot change while the queue is live */
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1234);
    assert_int_equal(d->vq[0].desc_gpa, DESC);
    /* notification for a queue that does not exist: recorded, ignored */
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
    assert_int_equal(d->errors[VIRTIO_ERR_NOTIFY_QUEUE], 1);
    assert_true(virtio_dev_live(d));
    /* reset clears everything; the next notification is before DRIVER_OK */
    wr(d, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    blk_req(v, 1, VIRTIO_BLK_T_IN, 0, 512);
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(d->errors[VIRTIO_ERR_NOTIFY_EARLY], 1);
    assert_int_equal(d->chains, 1);
    assert_string_not_equal(d->first_error, "");
    virtio_dev_destroy(d);
    free(d);
}

static void test_broken_ring_needs_reset(void **state)
{
    struct env *v = *state;
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "blk", "null");
    /* a queue size that is not a power of two: the queue stays off, device needs reset */
    wr(d, VIRTIO_MMIO_STATUS, 3);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(d, VIRTIO_MMIO_STATUS, 11);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(d, VIRTIO_MMIO_QUEUE_NUM, 100);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
    wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL);
    wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED);
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(d->errors[VQ_ERR_QUEUE_SIZE], 1);
    /* after a reset it works; then a looping chain: NEEDS_RESET, nothing completes, and
     * further notifications are ignored until the next reset */
    driver_up(d, V1, 1, 64);
    struct virtq_desc *t = desc_tab(v);
    set_desc(t, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(t, 1, BUF + 0x1000, 16, VIRTQ_DESC_F_NEXT, 0);
    avail(v)->ring[0] = 0;
    avail(v)->idx = 1;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_true(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_true(rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & 2); /* configuration change */
    assert_int_equal(d->errors[VQ_ERR_LOOP], 1);
    assert_int_equal(used(v)->idx, 0);
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(d->errors[VQ_ERR_LOOP], 1);
    driver_up(d, V1, 1, 64);
    assert_false(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    virtio_dev_destroy(d);
    free(d);
}

/* ---- virtio-blk backends ---- */

static void test_blk_ram(void **state)
{
    struct env *v = *state;
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "blk", "ram:64K");
    driver_up(d, V1 | (1ull << VIRTIO_F_EVENT_IDX), 1, 64);
    /* write a pattern at sector 8, read it back elsewhere */
    for (unsigned k = 0; k < 4096; k++)
        v->ram[BUF + 0x1000 + k] = (uint8_t)(k * 7 + 1);
    blk_req(v, 0, VIRTIO_BLK_T_OUT, 8, 4096);
    blk_req(v, 1, VIRTIO_BLK_T_IN, 8, 4096);
    blk_req(v, 2, VIRTIO_BLK_T_FLUSH, 0, 0);
    blk_req(v, 3, VIRTIO_BLK_T_IN, 128, 512);     /* past the end */
    blk_req(v, 4, VIRTIO_BLK_T_IN, 0, 100);       /* not whole sectors */
    blk_req(v, 5, 77, 0, 512);                    /* unknown type */
    blk_req(v, 6, VIRTIO_BLK_T_IN, UINT64_MAX - 1, 1024); /* sector overflow */
    blk_req(v, 7, VIRTIO_BLK_T_IN, 120, 4096);    /* exactly the last 8 sectors */
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(used(v)->idx, 8);
    assert_memory_equal(v->ram + BUF + 0x11000, v->ram + BUF + 0x1000, 4096);
    assert_int_equal(blk_status(v, 0), VIRTIO_BLK_S_OK);
    assert_int_equal(used(v)->ring[0].len, 1);
    assert_int_equal(blk_status(v, 1), VIRTIO_BLK_S_OK);
    assert_int_equal(used(v)->ring[1].len, 4097);
    assert_int_equal(blk_status(v, 2), VIRTIO_BLK_S_OK);
    assert_int_equal(blk_status(v, 3), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_status(v, 4), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_status(v, 5), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(blk_status(v, 6), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_status(v, 7), VIRTIO_BLK_S_OK);
    assert_int_equal(d->errors[VIRTIO_ERR_REQUEST], 3);
    assert_true(virtio_dev_live(d)); /* bad requests do not break the device */
    assert_int_equal(d->bytes, 3 * 4096);
    /* event-idx: the device asked to be told about the next entry */
    assert_int_equal(*(uint16_t *)(v->ram + USED + 4 + 8 * 64), 8);
    virtio_dev_destroy(d);
    free(d);
}

static void test_blk_null_moves_nothing(void **state)
{
    struct env *v = *state;
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "blk", "null");
    driver_up(d, V1, 1, 64);
    memset(v->ram + BUF + 0x1000, 0xab, 4096);
    blk_req(v, 0, VIRTIO_BLK_T_IN, 1000, 4096);
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(blk_status(v, 0), VIRTIO_BLK_S_OK);
    assert_int_equal(v->ram[BUF + 0x1000], 0xab);
    virtio_dev_destroy(d);
    free(d);
}

static void test_blk_file(void **state)
{
    struct env *v = *state;
    char dir[256], path[300], spec[320];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/disk", dir);
    snprintf(spec, sizeof spec, "file:%s", path);
    struct vmm_err e = { 0 };
    /* a missing file is refused at check time with the fix */
    assert_int_equal(virtio_type_find("blk")->check(spec, &e), -1);
    assert_non_null(strstr(e.msg, "does not exist"));
    assert_non_null(strstr(e.msg, "truncate"));
    char *zeros = calloc(1, 64 << 10);
    tu_write_file(path, zeros, 64 << 10);
    free(zeros);
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "blk", spec);
    uint64_t cap = 0;
    virtio_mmio_io(d, 0, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8, false);
    assert_int_equal(cap, 128);
    driver_up(d, V1, 1, 64);
    for (unsigned k = 0; k < 1024; k++)
        v->ram[BUF + 0x1000 + k] = (uint8_t)(k ^ 0x3c);
    blk_req(v, 0, VIRTIO_BLK_T_OUT, 2, 1024);
    blk_req(v, 1, VIRTIO_BLK_T_FLUSH, 0, 0);
    blk_req(v, 2, VIRTIO_BLK_T_IN, 2, 1024);
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(used(v)->idx, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(blk_status(v, i), VIRTIO_BLK_S_OK);
    assert_memory_equal(v->ram + BUF + 0x21000, v->ram + BUF + 0x1000, 1024);
    virtio_dev_destroy(d);
    free(d);
    /* the bytes are in the file, at sector 2 */
    size_t len;
    char *f = tu_read_file(path, &len);
    assert_int_equal(len, 64 << 10);
    assert_memory_equal(f + 1024, v->ram + BUF + 0x1000, 1024);
    assert_int_equal(f[0], 0);
    free(f);
    tu_rm_tree(dir);
}

/* ---- virtio-net backends ---- */

static void test_net_loop_and_null(void **state)
{
    struct env *v = *state;
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "net", "loop");
    assert_int_equal(rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    driver_up(d, V1 | (1ull << VIRTIO_NET_F_MAC), 2, 16);
    struct virtq_desc *rxd = (struct virtq_desc *)(v->ram + DESC);
    struct virtq_avail *rxa = (struct virtq_avail *)(v->ram + AVAIL);
    struct virtq_used *rxu = (struct virtq_used *)(v->ram + USED);
    struct virtq_desc *txd = (struct virtq_desc *)(v->ram + DESC + 0x40000);
    struct virtq_avail *txa = (struct virtq_avail *)(v->ram + AVAIL + 0x40000);
    struct virtq_used *txu = (struct virtq_used *)(v->ram + USED + 0x40000);
    /* a receive buffer, posted and kicked: loop keeps it until a frame comes */
    set_desc(rxd, 0, BUF, 2048, VIRTQ_DESC_F_WRITE, 0);
    rxa->ring[0] = 0;
    rxa->idx = 1;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_RXQ);
    assert_int_equal(rxu->idx, 0);
    /* a 100-byte frame after the 12-byte header, split over two descriptors */
    memset(v->ram + BUF + 0x10000, 0, 12);
    for (unsigned k = 0; k < 100; k++)
        v->ram[BUF + 0x20000 + k] = (uint8_t)k;
    set_desc(txd, 0, BUF + 0x10000, 12, VIRTQ_DESC_F_NEXT, 1);
    set_desc(txd, 1, BUF + 0x20000, 100, 0, 0);
    txa->ring[0] = 0;
    txa->idx = 1;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ);
    assert_int_equal(txu->idx, 1);
    assert_int_equal(rxu->idx, 1);
    assert_int_equal(rxu->ring[0].len, 112);
    assert_memory_equal(v->ram + BUF + 12, v->ram + BUF + 0x20000, 100);
    assert_int_equal(((struct virtio_net_hdr *)(v->ram + BUF))->num_buffers, 1);
    /* a second frame with no receive buffer posted is dropped, not a failure */
    txa->ring[1] = 0;
    txa->idx = 2;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ);
    assert_int_equal(txu->idx, 2);
    assert_int_equal(rxu->idx, 1);
    assert_true(virtio_dev_live(d));
    virtio_dev_destroy(d);

    make_dev(v, d, "net", "null");
    driver_up(d, V1, 2, 16);
    rxa->ring[0] = 0;
    rxa->idx = 1;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_RXQ);
    assert_int_equal(rxu->idx, 1);
    assert_int_equal(rxu->ring[0].len, 2048);
    virtio_dev_destroy(d);
    free(d);
}


/* ---- virtio-net tap ---- */

static int plan_one(const char *dev, struct vmm_err *e)
{
    struct vmm_virtio_plan p;
    struct vmm_virtio_request r = { .devices = &dev, .ndevices = 1 };
    *e = (struct vmm_err){ 0 };
    return vmm_virtio_plan_make(&r, &p, e);
}

static bool can_make_taps(void)
{
    return geteuid() == 0 && access("/dev/net/tun", F_OK) == 0;
}

static void test_tap_args(void **state)
{
    (void)state;
    struct { const char *dev, *word; } bad[] = {
        { "net:tap", "needs a device name: tap:NAME" },
        { "net:tap:", "needs a device name" },
        { "net:tap:vmmb0123456789abc", "longer than the 15 characters" },
        { "net:tap:a/b", "is not an interface name" },
        { "net:tap:a b", "is not an interface name" },
        { "net:tap:..", "is not an interface name" },
        { "net:tapx", "use null, loop or tap:NAME" },
    };
    struct vmm_err e;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(plan_one(bad[i].dev, &e), -1);
        assert_int_equal(e.code, VMM_EXIT_USAGE);
        if (!strstr(e.msg, bad[i].word))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].dev, e.msg, bad[i].word);
    }
    if (!can_make_taps()) {
        printf("SKIP: the permission refusal needs root (to drop to nobody) and /dev/net/tun\n");
        return;
    }
    /* As nobody (no CAP_NET_ADMIN) a tap cannot be made: refused at plan time, naming
     * both fixes. */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
            setresuid(65534, 65534, 65534))
            _exit(3);
        int rc = plan_one("net:tap:vmmbu9", &e);
        if (write(pfd[1], e.msg, strlen(e.msg)) < 0)
            _exit(4);
        _exit(rc == -1 && e.code == VMM_EXIT_USAGE ? 0 : 1);
    }
    close(pfd[1]);
    char msg[VMM_ERR_MSG_MAX + 1] = { 0 };
    ssize_t got = read(pfd[0], msg, sizeof msg - 1);
    close(pfd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("as nobody, tap:vmmbu9 was not refused (status 0x%x): %s", st, msg);
    assert_true(got > 0);
    assert_non_null(strstr(msg, "no permission to use tap device 'vmmbu9'"));
    assert_non_null(strstr(msg, "CAP_NET_ADMIN"));
    assert_non_null(strstr(msg, "ip tuntap add vmmbu9 mode tap user"));
}

static void if_up(const char *name, const char *addr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    if (addr) {
        assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
        if (ioctl(s, SIOCSIFADDR, &ifr))
            fail_msg("SIOCSIFADDR %s: %s", name, strerror(errno));
        assert_int_equal(inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr), 1);
        assert_int_equal(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
    }
    assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    close(s);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* An ARP request from 198.18.0.2 for 198.18.0.1, as a tx chain (header, frame). */
static void arp_request(uint8_t *hdr, uint8_t *f)
{
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x76, 0x6d, 0x62 };
    memset(hdr, 0, 12);
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    f[12] = 0x08, f[13] = 0x06, f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4, f[21] = 1;
    memcpy(f + 22, mac, 6);
    f[28] = 198, f[29] = 18, f[30] = 0, f[31] = 2;
    f[38] = 198, f[39] = 18, f[40] = 0, f[41] = 1;
}

/* Frames both ways through a real tap, in a network namespace made for the test: an ARP
 * request goes out, the host kernel's reply waits in the tap while no receive buffer is
 * posted (notifications on, so the driver's next post kicks), then fills the buffer the
 * driver posts (notifications off again). */
static void test_tap_frames(void **state)
{
    struct env *v = *state;
    if (!can_make_taps()) {
        printf("SKIP: frames through a tap need root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and "
               "/dev/net/tun\n");
        skip();
    }
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    assert_true(home >= 0);
    if (unshare(CLONE_NEWNET)) {
        close(home);
        printf("SKIP: cannot make a network namespace (%s)\n", strerror(errno));
        skip();
    }
    struct virtio_dev *d = malloc(sizeof *d);
    make_dev(v, d, "net", "tap:vmmbu0");
    assert_true(virtio_dev_has_input(d));
    if_up("vmmbu0", "198.18.0.1");
    driver_up(d, V1, 2, 16);
    struct virtq_desc *rxd = (struct virtq_desc *)(v->ram + DESC);
    struct virtq_avail *rxa = (struct virtq_avail *)(v->ram + AVAIL);
    struct virtq_used *rxu = (struct virtq_used *)(v->ram + USED);
    struct virtq_desc *txd = (struct virtq_desc *)(v->ram + DESC + 0x40000);
    struct virtq_avail *txa = (struct virtq_avail *)(v->ram + AVAIL + 0x40000);
    struct virtq_used *txu = (struct virtq_used *)(v->ram + USED + 0x40000);
    /* The ARP request, header and frame in separate descriptors. */
    arp_request(v->ram + BUF + 0x10000, v->ram + BUF + 0x20000);
    set_desc(txd, 0, BUF + 0x10000, 12, VIRTQ_DESC_F_NEXT, 1);
    set_desc(txd, 1, BUF + 0x20000, 60, 0, 0);
    txa->ring[0] = 0;
    txa->idx = 1;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ);
    assert_int_equal(txu->idx, 1);
    assert_int_equal(d->bytes, 60);
    assert_int_equal(rxu->idx, 0);
    /* no buffer: the device asks to be kicked when one comes */
    assert_int_equal(rxu->flags & VIRTQ_USED_F_NO_NOTIFY, 0);
    usleep(20000);
    /* Post receive buffers one at a time until the ARP reply comes (IPv6 chatter from the
     * new interface may come first). */
    bool found = false;
    uint16_t idx = 0;
    for (double t0 = now_s(); !found && now_s() - t0 < 2;) {
        if (rxa->idx == rxu->idx) {
            set_desc(rxd, idx % 16, BUF + (idx % 16) * 0x1000ull, 2048, VIRTQ_DESC_F_WRITE, 0);
            rxa->ring[idx % 16] = idx % 16;
            rxa->idx = ++idx;
            wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_RXQ);
        }
        if (rxu->idx != (uint16_t)(idx - 1) + 1) {
            usleep(1000);
            continue;
        }
        const struct virtq_used_elem *u = &rxu->ring[(idx - 1) % 16];
        const uint8_t *h = v->ram + BUF + (uint64_t)u->id * 0x1000, *f = h + 12;
        assert_int_equal(((const struct virtio_net_hdr *)h)->num_buffers, 1);
        assert_true(u->len >= 12 + 14);
        if (u->len >= 12 + 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2) {
            static const uint8_t host_ip[4] = { 198, 18, 0, 1 }, mac[6] = { 0x52, 0x54, 0x00,
                                                                          0x76, 0x6d, 0x62 };
            assert_memory_equal(f + 28, host_ip, 4);
            assert_memory_equal(f, mac, 6);
            found = true;
        }
    }
    if (!found)
        fail_msg("no ARP reply from the host through the tap within 2 s (%u frames came)",
                 (unsigned)rxu->idx);
    /* a buffer in hand and the tap dry: no kicks wanted */
    set_desc(rxd, idx % 16, BUF + (idx % 16) * 0x1000ull, 2048, VIRTQ_DESC_F_WRITE, 0);
    rxa->ring[idx % 16] = idx % 16;
    rxa->idx = ++idx;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_RXQ);
    if (rxu->idx != idx)
        assert_int_equal(rxu->flags & VIRTQ_USED_F_NO_NOTIFY, VIRTQ_USED_F_NO_NOTIFY);
    /* A frame shorter than an Ethernet header is the driver's error, not a write. */
    set_desc(txd, 1, BUF + 0x20000, 10, 0, 0);
    txa->ring[1] = 0;
    txa->idx = 2;
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ);
    assert_int_equal(txu->idx, 2);
    assert_int_equal(d->errors[VIRTIO_ERR_REQUEST], 1);
    assert_true(virtio_dev_live(d));
    virtio_dev_destroy(d);
    free(d);
    assert_int_equal(setns(home, CLONE_NEWNET), 0);
    close(home);
}

/* ---- device specs ---- */

static void test_plan(void **state)
{
    (void)state;
    struct vmm_virtio_plan p;
    struct vmm_err e = { 0 };
    const char *ok[] = { "blk:null", "blk:ram:1M", "net:loop" };
    struct vmm_virtio_request rq = { .devices = ok, .ndevices = 3, .notify = "poll" };
    assert_int_equal(vmm_virtio_plan_make(&rq, &p, &e), 0);
    assert_int_equal(p.ndev, 3);
    assert_string_equal(p.dev[1].args, "ram:1M");
    assert_int_equal(p.notify, VMM_NOTIFY_POLL);
    assert_int_equal(p.poll_us, VMM_POLL_US_DEFAULT);
    assert_int_equal(p.io_cpu, -1);
    rq.notify = "irq";
    assert_int_equal(vmm_virtio_plan_make(&rq, &p, &e), 0);
    assert_int_equal(p.notify, VMM_NOTIFY_IRQ);
    assert_string_equal(vmm_notify_name(p.notify), "irq");
    struct { const char *dev, *notify, *word; } bad[] = {
        { "disk:null", NULL, "unknown device type 'disk'" },
        { "blk:tape", NULL, "unknown virtio-blk backend" },
        { "blk:ram", NULL, "needs a size" },
        { "blk:ram:12Q", NULL, "needs a size" },
        { "blk:null:1000", NULL, "multiple of 512" },
        { "blk:file:/nonexistent/vmmb-disk", NULL, "does not exist" },
        { "blk:file:/", NULL, "cannot open" },
        { "net:tap0", NULL, "unknown virtio-net backend" },
        { "blk:null", "mwait", "unknown notification path 'mwait'; use exit, ioeventfd, poll or irq" },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vmm_virtio_request r = { .devices = &bad[i].dev, .ndevices = 1,
                                        .notify = bad[i].notify };
        e = (struct vmm_err){ 0 };
        assert_int_equal(vmm_virtio_plan_make(&r, &p, &e), -1);
        assert_int_equal(e.code, VMM_EXIT_USAGE);
        if (!strstr(e.msg, bad[i].word))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].dev, e.msg, bad[i].word);
    }
    struct vmm_virtio_request r9 = { .devices = ok, .ndevices = VMMB_MAX_DEVICES + 1 };
    assert_int_equal(vmm_virtio_plan_make(&r9, &p, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enable_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_index_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
        cmocka_unit_test(test_event_idx_arithmetic),
        cmocka_unit_test_setup_teardown(test_notify_suppression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_ring_needs_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blk_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blk_null_moves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blk_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_loop_and_null, setup, teardown),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_tap_args),
        cmocka_unit_test_setup_teardown(test_tap_frames, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
