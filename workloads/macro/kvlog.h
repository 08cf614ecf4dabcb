/* kvlog: the durable side of kvs-io (workloads/macro/kvs_io.c), portable C with no
 * workload API so it runs the same in the guest, natively and under the unit tests
 * (tests/unit/test_kvlog.c). A hot kv_table in memory is kept recoverable on a block
 * device that holds, in this order:
 *   - the cold records: `ncold` records never in memory (16 bytes each, 256 to a 4 KiB
 *     block), written once at load;
 *   - the checkpoint: the whole hot table, written every `ckpt` log blocks;
 *   - the log: every SET appends (key, value) to a 4 KiB block, written when full (group
 *     commit); a checkpoint starts the log again from its first block. A record with key
 *     0 ends the log.
 * With `flush` set, every log block and every checkpoint is followed by a device FLUSH
 * before the store goes on, so what recovery needs is durable, not just written.
 * Recovery reads the checkpoint back, replays the log after it (and the block not yet
 * written, still in memory) and must give exactly the table in memory. */
#ifndef WORKLOADS_KVLOG_H
#define WORKLOADS_KVLOG_H

#include <stdint.h>

#include "macrolib.h"

#define KVLOG_BLOCK 4096u
#define KVLOG_PER_BLOCK (KVLOG_BLOCK / sizeof(struct kv_slot))

/* The device: byte offsets and lengths are multiples of 512. Each returns 0, or nonzero
 * when the device failed the request. */
struct kvlog_dev {
    int (*read)(void *dev, uint64_t off, void *buf, uint32_t len);
    int (*write)(void *dev, uint64_t off, const void *buf, uint32_t len);
    int (*flush)(void *dev);
    void *dev;
};

struct kvlog {
    struct kvlog_dev io;
    struct kv_table t;            /* the hot table (slots from the caller) */
    struct kv_slot *logbuf;       /* KVLOG_BLOCK bytes: the log block being filled */
    struct kv_slot *iobuf;        /* KVLOG_BLOCK bytes: cold reads, log replay */
    uint64_t nhot, ncold, ckpt_blocks;
    int flush;
    uint64_t cold_off, ckpt_off, log_off, dev_bytes;
    uint64_t log_blocks;          /* log blocks written since the checkpoint */
    uint64_t logn;                /* records in logbuf */
    uint64_t reads, writes, flushes, checkpoints;
    const char *why;              /* the first failure, for the run's reason */
};

/* Lays out the device for a hot table of `table_bytes` (a power of two; half its slots
 * hold keys), ncold cold records and ckpt log blocks between checkpoints; the caller then
 * sets io, t.slot, logbuf, iobuf (and flush). Returns the device bytes needed. */
uint64_t kvlog_layout(struct kvlog *s, uint64_t table_bytes, uint64_t ncold, uint64_t ckpt);
/* Loads the hot keys into the table (values of version 0), writes the cold records, the
 * first checkpoint and an empty log. 0, or -1 with s->why. */
int kvlog_load(struct kvlog *s);
/* A SET of e (a slot of s->t) to val, appended to the log: 0, or -1 with s->why. */
int kvlog_set(struct kvlog *s, struct kv_slot *e, uint64_t val);
/* Writes the log block being filled (padded with key 0) and, every ckpt blocks, the
 * checkpoint: 0, or -1 with s->why. */
int kvlog_flush_block(struct kvlog *s);
/* The key of cold record j (0 <= j < ncold). */
static inline uint64_t kvlog_cold_key(const struct kvlog *s, uint64_t j)
{
    return kv_key(s->nhot + j);
}
/* Reads cold record j from the device into *rec: 0 when it holds its key and value, 1
 * when the device returned a wrong record, -1 (s->why) when the device failed. */
int kvlog_cold_get(struct kvlog *s, uint64_t j, struct kv_slot *rec);
/* Recovery into img (table-sized scratch): the checkpoint read back, the log replayed.
 * 0 when img equals the table in memory; -1 with s->why otherwise. */
int kvlog_recover(struct kvlog *s, struct kv_slot *img);

#endif
