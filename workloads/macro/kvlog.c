/* kvs-io's log, checkpoints, cold records and recovery over a block device (kvlog.h). */
#include "kvlog.h"

#define CHUNK (64u << 10) /* bytes per request when writing or reading the checkpoint */

static int fail(struct kvlog *s, const char *why)
{
    if (!s->why)
        s->why = why;
    return -1;
}

static int dev_write(struct kvlog *s, uint64_t off, const void *buf, uint32_t len)
{
    s->writes++;
    return s->io.write(s->io.dev, off, buf, len) ? fail(s, "kvs-io: a device write failed")
                                                  : 0;
}

static int dev_read(struct kvlog *s, uint64_t off, void *buf, uint32_t len)
{
    s->reads++;
    return s->io.read(s->io.dev, off, buf, len) ? fail(s, "kvs-io: a device read failed") : 0;
}

/* A barrier: what was written before is durable before anything after is written. */
static int dev_flush(struct kvlog *s)
{
    if (!s->flush)
        return 0;
    s->flushes++;
    return s->io.flush(s->io.dev) ? fail(s, "kvs-io: a device flush failed") : 0;
}

uint64_t kvlog_layout(struct kvlog *s, uint64_t table_bytes, uint64_t ncold, uint64_t ckpt)
{
    s->t.mask = table_bytes / sizeof(struct kv_slot) - 1;
    s->nhot = (s->t.mask + 1) / 2;
    s->ncold = ncold;
    s->ckpt_blocks = ckpt;
    s->cold_off = 0;
    s->ckpt_off = (ncold + KVLOG_PER_BLOCK - 1) / KVLOG_PER_BLOCK * KVLOG_BLOCK;
    s->log_off = s->ckpt_off + table_bytes;
    s->dev_bytes = s->log_off + ckpt * KVLOG_BLOCK;
    s->log_blocks = s->logn = 0;
    s->reads = s->writes = s->flushes = s->checkpoints = 0;
    s->why = 0;
    return s->dev_bytes;
}

static uint64_t table_bytes(const struct kvlog *s)
{
    return (s->t.mask + 1) * sizeof(struct kv_slot);
}

static int write_table(struct kvlog *s, const struct kv_slot *tab)
{
    uint64_t bytes = table_bytes(s);
    for (uint64_t o = 0; o < bytes; o += CHUNK)
        if (dev_write(s, s->ckpt_off + o, (const uint8_t *)tab + o,
                      (uint32_t)(bytes - o < CHUNK ? bytes - o : CHUNK)))
            return -1;
    return 0;
}

static int read_table(struct kvlog *s, struct kv_slot *tab)
{
    uint64_t bytes = table_bytes(s);
    for (uint64_t o = 0; o < bytes; o += CHUNK)
        if (dev_read(s, s->ckpt_off + o, (uint8_t *)tab + o,
                     (uint32_t)(bytes - o < CHUNK ? bytes - o : CHUNK)))
            return -1;
    return 0;
}

/* The checkpoint, made durable, then the log emptied (an empty first block). */
static int checkpoint(struct kvlog *s)
{
    if (write_table(s, s->t.slot) || dev_flush(s))
        return -1;
    s->log_blocks = 0;
    s->logbuf[0] = (struct kv_slot){ 0, 0 };
    if (dev_write(s, s->log_off, s->logbuf, KVLOG_BLOCK) || dev_flush(s))
        return -1;
    s->checkpoints++;
    return 0;
}

int kvlog_load(struct kvlog *s)
{
    kv_clear(&s->t, 0, s->t.mask + 1);
    for (uint64_t i = 0; i < s->nhot; i++)
        if (kv_insert(&s->t, kv_key(i), kv_value(kv_key(i), 0)))
            return fail(s, "kvs-io: the table filled up while loading");
    for (uint64_t b = 0; b * KVLOG_PER_BLOCK < s->ncold; b++) {
        for (uint64_t i = 0; i < KVLOG_PER_BLOCK; i++) {
            uint64_t j = b * KVLOG_PER_BLOCK + i, key = kvlog_cold_key(s, j);
            s->iobuf[i] = j < s->ncold ? (struct kv_slot){ key, kv_value(key, 0) }
                                       : (struct kv_slot){ 0, 0 };
        }
        if (dev_write(s, s->cold_off + b * KVLOG_BLOCK, s->iobuf, KVLOG_BLOCK))
            return -1;
    }
    s->logn = 0;
    return checkpoint(s);
}

int kvlog_flush_block(struct kvlog *s)
{
    for (uint64_t i = s->logn; i < KVLOG_PER_BLOCK; i++)
        s->logbuf[i] = (struct kv_slot){ 0, 0 }; /* key 0: the end of the log */
    if (dev_write(s, s->log_off + s->log_blocks * KVLOG_BLOCK, s->logbuf, KVLOG_BLOCK) ||
        dev_flush(s))
        return -1;
    s->logn = 0;
    if (++s->log_blocks == s->ckpt_blocks)
        return checkpoint(s);
    return 0;
}

int kvlog_set(struct kvlog *s, struct kv_slot *e, uint64_t val)
{
    e->val = val;
    s->logbuf[s->logn++] = *e;
    return s->logn == KVLOG_PER_BLOCK ? kvlog_flush_block(s) : 0;
}

int kvlog_cold_get(struct kvlog *s, uint64_t j, struct kv_slot *rec)
{
    if (dev_read(s, s->cold_off + j / KVLOG_PER_BLOCK * KVLOG_BLOCK, s->iobuf, KVLOG_BLOCK))
        return -1;
    *rec = s->iobuf[j % KVLOG_PER_BLOCK];
    uint64_t key = kvlog_cold_key(s, j);
    return rec->key != key || rec->val != kv_value(key, 0);
}

/* Applies one logged record to the recovered image. */
static int replay(struct kvlog *s, struct kv_table *rt, const struct kv_slot *r)
{
    struct kv_slot *e = kv_find(rt, r->key);
    if (!e)
        return fail(s, "kvs-io: the log names a key the checkpoint does not hold");
    e->val = r->val;
    return 0;
}

int kvlog_recover(struct kvlog *s, struct kv_slot *img)
{
    if (read_table(s, img))
        return -1;
    struct kv_table rt = { img, s->t.mask };
    for (uint64_t b = 0; b < s->log_blocks; b++) {
        if (dev_read(s, s->log_off + b * KVLOG_BLOCK, s->iobuf, KVLOG_BLOCK))
            return -1;
        for (uint64_t i = 0; i < KVLOG_PER_BLOCK && s->iobuf[i].key; i++)
            if (replay(s, &rt, &s->iobuf[i]))
                return -1;
    }
    for (uint64_t i = 0; i < s->logn; i++) /* the block not yet written: still in memory */
        if (replay(s, &rt, &s->logbuf[i]))
            return -1;
    for (uint64_t i = 0; i <= s->t.mask; i++)
        if (img[i].key != s->t.slot[i].key || img[i].val != s->t.slot[i].val)
            return fail(s, "kvs-io: the store recovered from the device (checkpoint + log) "
                           "differs from the table in memory");
    return 0;
}
