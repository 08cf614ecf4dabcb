/* Split virtqueue, device side. See vmm/virtqueue.h for the rules. */
#include "vmm/virtqueue.h"

#include <string.h>

static const char *const err_names[VQ_ERR_COUNT] = {
    [VQ_OK] = "ok",
    [VQ_ERR_QUEUE_SIZE] = "queue_size",
    [VQ_ERR_RING_ADDR] = "ring_addr",
    [VQ_ERR_AVAIL_IDX] = "avail_idx",
    [VQ_ERR_HEAD] = "bad_index",
    [VQ_ERR_LOOP] = "chain_loop",
    [VQ_ERR_TOO_LONG] = "chain_too_long",
    [VQ_ERR_BUF_ADDR] = "buf_addr",
    [VQ_ERR_INDIRECT] = "indirect",
    [VQ_ERR_ORDER] = "desc_order",
};

const char *vq_err_name(enum vq_err e)
{
    return (unsigned)e < VQ_ERR_COUNT ? err_names[e] : "unknown";
}

/* The event-idx words after each ring (spec 2.7.6, 2.7.8). */
static volatile uint16_t *avail_event(const struct virtq *q)
{
    return (volatile uint16_t *)(void *)((volatile uint8_t *)q->used + 4 + 8ull * q->size);
}

static volatile uint16_t *used_event(const struct virtq *q)
{
    return (volatile uint16_t *)(void *)((volatile uint8_t *)q->avail + 4 + 2ull * q->size);
}

void vq_reset(struct virtq *q)
{
    memset(q, 0, sizeof *q);
}

enum vq_err vq_enable(struct virtq *q, const struct guest_mem *gm, uint32_t max_size)
{
    uint32_t n = q->size;
    q->ready = false;
    if (n == 0 || n > max_size || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
        return VQ_ERR_QUEUE_SIZE;
    /* Alignment per spec 2.7: descriptor table 16, driver area 2, device area 4. The
     * event-idx fields are part of each area whether negotiated or not (2 bytes). */
    if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
        return VQ_ERR_RING_ADDR;
    void *d = guest_mem_ptr(gm, q->desc_gpa, virtq_desc_bytes(n));
    void *a = guest_mem_ptr(gm, q->avail_gpa, virtq_avail_bytes(n));
    void *u = guest_mem_ptr(gm, q->used_gpa, virtq_used_bytes(n));
    if (!d || !a || !u)
        return VQ_ERR_RING_ADDR;
    q->desc = d;
    q->avail = a;
    q->used = u;
    /* The device owns the used ring: start it from the state the driver expects. */
    q->last_avail = 0;
    q->used_idx = 0;
    q->signalled_used = 0;
    q->signalled_valid = false;
    q->used->flags = 0;
    __atomic_store_n(&q->used->idx, 0, __ATOMIC_RELEASE);
    if (q->event_idx)
        *avail_event(q) = 0;
    q->ready = true;
    return VQ_OK;
}

/* One descriptor, copied once: the guest may change the table while we walk it. */
static struct virtq_desc read_desc(volatile const struct virtq_desc *t, uint32_t i)
{
    struct virtq_desc d;
    d.addr = t[i].addr;
    d.len = t[i].len;
    d.flags = t[i].flags;
    d.next = t[i].next;
    return d;
}

static enum vq_err add_buf(struct vq_chain *c, const struct guest_mem *gm,
                           const struct virtq_desc *d)
{
    if (c->n == VQ_MAX_SEGS)
        return VQ_ERR_TOO_LONG;
    bool wr = d->flags & VIRTQ_DESC_F_WRITE;
    if (!wr && c->n != c->nread)
        return VQ_ERR_ORDER;
    if (d->addr + d->len < d->addr)
        return VQ_ERR_BUF_ADDR;
    uint8_t *h = guest_mem_ptr(gm, d->addr, d->len);
    if (!h)
        return VQ_ERR_BUF_ADDR;
    c->buf[c->n++] = (struct vq_buf){ h, d->addr, d->len, wr };
    if (wr)
        c->write_bytes += d->len;
    else {
        c->nread++;
        c->read_bytes += d->len;
    }
    return VQ_OK;
}

/* Walks the chain starting at index i of table t (entries n). A chain can visit each
 * entry at most once, so more than n steps means it loops. */
static enum vq_err walk(struct vq_chain *c, const struct guest_mem *gm,
                        volatile const struct virtq_desc *t, uint32_t n, uint32_t i,
                        bool in_indirect, bool indirect_ok)
{
    for (uint32_t steps = 0;; steps++) {
        if (steps == n)
            return VQ_ERR_LOOP;
        if (i >= n)
            return VQ_ERR_HEAD;
        struct virtq_desc d = read_desc(t, i);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            /* Spec 2.7.5.3: not nested, not combined with NEXT, whole entries. */
            if (in_indirect || !indirect_ok || (d.flags & VIRTQ_DESC_F_NEXT) || d.len == 0 ||
                d.len % sizeof(struct virtq_desc) || (d.addr & 15))
                return VQ_ERR_INDIRECT;
            uint32_t m = d.len / sizeof(struct virtq_desc);
            if (m > VQ_MAX_SEGS)
                return VQ_ERR_TOO_LONG;
            volatile const struct virtq_desc *it = guest_mem_ptr(gm, d.addr, d.len);
            if (!it)
                return VQ_ERR_BUF_ADDR;
            return walk(c, gm, it, m, 0, true, indirect_ok);
        }
        enum vq_err e = add_buf(c, gm, &d);
        if (e)
            return e;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return VQ_OK;
        i = d.next;
    }
}

int vq_pop(struct virtq *q, const struct guest_mem *gm, struct vq_chain *c)
{
    uint16_t avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(avail - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size)
        return -VQ_ERR_AVAIL_IDX;
    uint16_t head = q->avail->ring[q->last_avail & (q->size - 1)];
    c->head = head;
    c->n = c->nread = 0;
    c->read_bytes = c->write_bytes = 0;
    enum vq_err e = walk(c, gm, q->desc, q->size, head, false, q->indirect);
    if (e)
        return -(int)e;
    q->last_avail++;
    /* With event-idx and notifications enabled, avail_event follows our progress. */
    return 1;
}

void vq_push(struct virtq *q, uint16_t head, uint32_t len)
{
    volatile struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
    e->id = head;
    e->len = len;
    q->used_idx++;
}

void vq_publish(struct virtq *q)
{
    __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

void vq_notify_disable(struct virtq *q)
{
    /* With event-idx, leaving avail_event behind is the suppression: the driver only
     * kicks when its new index passes it (spec 2.7.10). */
    if (!q->event_idx)
        __atomic_store_n(&q->used->flags, VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

uint16_t vq_notify_enable(struct virtq *q)
{
    if (q->event_idx)
        __atomic_store_n(avail_event(q), q->last_avail, __ATOMIC_RELAXED);
    else
        __atomic_store_n(&q->used->flags, 0, __ATOMIC_RELAXED);
    /* The driver publishes then reads our flag; we publish the flag then read its
     * index. A full barrier on both sides means one of us sees the other. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return vq_avail_pending(q);
}

bool vq_should_signal(struct virtq *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint16_t old = q->signalled_used, now = q->used_idx;
    bool valid = q->signalled_valid;
    if (now == old && valid)
        return false;
    bool yes;
    if (q->event_idx) {
        uint16_t ev = *used_event(q);
        yes = !valid || virtq_need_event(ev, now, old);
    } else {
        yes = !(q->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    q->signalled_used = now;
    q->signalled_valid = true;
    return yes;
}

static uint64_t chain_copy(const struct vq_chain *c, bool writable, uint64_t off, uint8_t *mem,
                           uint64_t len, bool to_guest)
{
    uint64_t done = 0;
    unsigned first = writable ? c->nread : 0, end = writable ? c->n : c->nread;
    for (unsigned i = first; i < end && done < len; i++) {
        const struct vq_buf *b = &c->buf[i];
        if (off >= b->len) {
            off -= b->len;
            continue;
        }
        uint64_t k = b->len - off;
        if (k > len - done)
            k = len - done;
        if (to_guest)
            memcpy(b->host + off, mem + done, k);
        else
            memcpy(mem + done, b->host + off, k);
        done += k;
        off = 0;
    }
    return done;
}

uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len)
{
    return chain_copy(c, false, off, dst, len, false);
}

uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len)
{
    return chain_copy(c, true, off, (uint8_t *)(uintptr_t)src, len, true);
}
