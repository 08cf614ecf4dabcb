/* kvs-io's log and checkpoints (workloads/macro/kvlog.c, the code the guest and the
 * native twin run): appends land in the log block by block and in order, a checkpoint
 * writes the table and restarts the log, recovery from the device equals the table in
 * memory (after a crash too, when the store flushes), and each planted error (a corrupted
 * log record, a wrong checkpoint, a lost append, a wrong cold record, a device that
 * fails) is caught by the store's own checks. The device is a memory image with a
 * separate durable copy (what a FLUSH has made stable), and, last, vmm-min's real
 * virtio-blk backend on a real file (tmp:SIZE), reached as the native twin reaches it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../workloads/macro/kvlog.h"
#include "vmm/virtio.h"

#define TABLE (64u << 10) /* 4096 slots, 2048 hot keys */
#define NCOLD 1000u
#define CKPT 4u

/* A device in memory: writes go to `vol`; a flush makes them durable (copied to `dur`);
 * a crash reads `dur` back. Faults: drop the write numbered drop_at (counted from 1),
 * fail every flush, fail every read. */
struct memdev {
    uint8_t *vol, *dur;
    uint64_t bytes, writes, flushes;
    uint64_t drop_at;
    int fail_flush, fail_read, crashed;
};

static int md_read(void *dev, uint64_t off, void *buf, uint32_t len)
{
    struct memdev *m = dev;
    assert_true(off + len <= m->bytes);
    if (m->fail_read)
        return -1;
    memcpy(buf, (m->crashed ? m->dur : m->vol) + off, len);
    return 0;
}

static int md_write(void *dev, uint64_t off, const void *buf, uint32_t len)
{
    struct memdev *m = dev;
    assert_true(off + len <= m->bytes);
    if (++m->writes != m->drop_at)
        memcpy(m->vol + off, buf, len);
    return 0;
}

static int md_flush(void *dev)
{
    struct memdev *m = dev;
    m->flushes++;
    if (m->fail_flush)
        return -1;
    memcpy(m->dur, m->vol, m->bytes);
    return 0;
}

struct fix {
    struct kvlog s;
    struct memdev m;
    struct kv_slot *img;
};

static void fix_init(struct fix *f, int flush)
{
    memset(f, 0, sizeof *f);
    f->m.bytes = kvlog_layout(&f->s, TABLE, NCOLD, CKPT);
    f->m.vol = calloc(1, f->m.bytes);
    f->m.dur = calloc(1, f->m.bytes);
    f->s.t.slot = calloc(1, TABLE);
    f->img = calloc(1, TABLE);
    f->s.logbuf = calloc(1, KVLOG_BLOCK);
    f->s.iobuf = calloc(1, KVLOG_BLOCK);
    assert_non_null(f->m.vol && f->m.dur && f->s.t.slot && f->img && f->s.logbuf && f->s.iobuf);
    f->s.io = (struct kvlog_dev){ md_read, md_write, md_flush, &f->m };
    f->s.flush = flush;
    assert_int_equal(kvlog_load(&f->s), 0);
}

static void fix_free(struct fix *f)
{
    free(f->m.vol);
    free(f->m.dur);
    free(f->s.t.slot);
    free(f->img);
    free(f->s.logbuf);
    free(f->s.iobuf);
}

/* SET hot key i to a value of `version`. */
static void set_key(struct fix *f, uint64_t i, uint64_t version)
{
    uint64_t key = kv_key(i);
    struct kv_slot *e = kv_find(&f->s.t, key);
    assert_non_null(e);
    assert_int_equal(kvlog_set(&f->s, e, kv_value(key, version)), 0);
}

static const struct kv_slot *dev_slot(const struct fix *f, uint64_t off)
{
    return (const struct kv_slot *)(f->m.vol + off);
}

static void test_layout_and_load(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    /* 1000 cold records fill 4 blocks; the table follows, then 4 log blocks. */
    assert_int_equal(f.s.ckpt_off, 4 * KVLOG_BLOCK);
    assert_int_equal(f.s.log_off, 4 * KVLOG_BLOCK + TABLE);
    assert_int_equal(f.m.bytes, 4 * KVLOG_BLOCK + TABLE + CKPT * KVLOG_BLOCK);
    assert_int_equal(f.s.nhot, TABLE / 16 / 2);
    assert_int_equal(kv_verify(&f.s.t, f.s.nhot), 0);
    /* The cold records on the device, each its own key and version-0 value. */
    for (uint64_t j = 0; j < NCOLD; j++) {
        const struct kv_slot *r = dev_slot(&f, j * 16);
        assert_int_equal(r->key, kvlog_cold_key(&f.s, j));
        assert_int_equal(r->val, kv_value(r->key, 0));
    }
    assert_int_equal(dev_slot(&f, NCOLD * 16)->key, 0); /* the padding after them */
    /* The first checkpoint is the table; the log is empty; all of it durable. */
    assert_memory_equal(f.m.vol + f.s.ckpt_off, f.s.t.slot, TABLE);
    assert_int_equal(dev_slot(&f, f.s.log_off)->key, 0);
    assert_memory_equal(f.m.dur, f.m.vol, f.m.bytes);
    assert_int_equal(f.s.checkpoints, 1);
    fix_free(&f);
}

static void test_appends_in_order(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    uint64_t w0 = f.m.writes, fl0 = f.m.flushes;
    for (uint64_t i = 0; i < KVLOG_PER_BLOCK - 1; i++)
        set_key(&f, i, 7);
    /* A block not yet full stays in memory: nothing written. */
    assert_int_equal(f.m.writes, w0);
    assert_int_equal(f.s.logn, KVLOG_PER_BLOCK - 1);
    set_key(&f, KVLOG_PER_BLOCK - 1, 7);
    /* Full: one write of the block, then a flush (group commit). */
    assert_int_equal(f.m.writes, w0 + 1);
    assert_int_equal(f.m.flushes, fl0 + 1);
    assert_int_equal(f.s.log_blocks, 1);
    assert_int_equal(f.s.logn, 0);
    for (uint64_t i = 0; i < KVLOG_PER_BLOCK; i++) {
        const struct kv_slot *r = dev_slot(&f, f.s.log_off + i * 16);
        assert_int_equal(r->key, kv_key(i));
        assert_int_equal(r->val, kv_value(kv_key(i), 7));
    }
    /* A partial block written on request ends with key 0. */
    set_key(&f, 3, 8);
    assert_int_equal(kvlog_flush_block(&f.s), 0);
    const struct kv_slot *b1 = dev_slot(&f, f.s.log_off + KVLOG_BLOCK);
    assert_int_equal(b1[0].key, kv_key(3));
    assert_int_equal(b1[0].val, kv_value(kv_key(3), 8));
    assert_int_equal(b1[1].key, 0);
    fix_free(&f);
}

static void test_checkpoint(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    for (uint64_t i = 0; i < (CKPT - 1) * KVLOG_PER_BLOCK; i++)
        set_key(&f, i % f.s.nhot, 2);
    assert_int_equal(f.s.checkpoints, 1);
    assert_int_equal(f.s.log_blocks, CKPT - 1);
    /* The old checkpoint no longer equals the table... */
    assert_memory_not_equal(f.m.vol + f.s.ckpt_off, f.s.t.slot, TABLE);
    for (uint64_t i = 0; i < KVLOG_PER_BLOCK; i++)
        set_key(&f, 1000 + i, 3);
    /* ...the ckpt-th block makes a new one: the table, an empty log, durable. */
    assert_int_equal(f.s.checkpoints, 2);
    assert_int_equal(f.s.log_blocks, 0);
    assert_memory_equal(f.m.vol + f.s.ckpt_off, f.s.t.slot, TABLE);
    assert_int_equal(dev_slot(&f, f.s.log_off)->key, 0);
    assert_memory_equal(f.m.dur, f.m.vol, f.m.bytes);
    fix_free(&f);
}

/* A mix of SETs over random keys across several checkpoints; returns the SETs made. */
static uint64_t churn(struct fix *f, uint64_t n, uint64_t seed)
{
    uint64_t rng = seed;
    for (uint64_t i = 0; i < n; i++)
        set_key(f, mac_rng(&rng) % f->s.nhot, 1 + i / 100);
    return n;
}

static void test_recovery_equals_memory(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    churn(&f, CKPT * KVLOG_PER_BLOCK * 2 + 3 * KVLOG_PER_BLOCK + 77, 42);
    assert_true(f.s.checkpoints >= 3);
    assert_int_equal(f.s.log_blocks, 3);
    assert_int_equal(f.s.logn, 77);
    assert_int_equal(kvlog_recover(&f.s, f.img), 0);
    assert_null(f.s.why);
    assert_memory_equal(f.img, f.s.t.slot, TABLE);
    /* Right after a checkpoint, with an empty log, too. */
    churn(&f, KVLOG_PER_BLOCK - 77, 43);
    assert_int_equal(f.s.log_blocks, 0);
    assert_int_equal(kvlog_recover(&f.s, f.img), 0);
    fix_free(&f);
}

/* A crash right after a log block was written: only what was flushed survives. With
 * flush the recovered store equals memory; without, recovery catches the loss. */
static void test_recovery_after_crash(void **state)
{
    (void)state;
    for (int flush = 1; flush >= 0; flush--) {
        struct fix f;
        fix_init(&f, flush);
        churn(&f, CKPT * KVLOG_PER_BLOCK + 2 * KVLOG_PER_BLOCK, 7);
        assert_int_equal(f.s.logn, 0);
        f.m.crashed = 1;
        if (flush) {
            assert_int_equal(kvlog_recover(&f.s, f.img), 0);
        } else {
            assert_int_equal(f.m.flushes, 0);
            assert_int_equal(kvlog_recover(&f.s, f.img), -1);
            assert_non_null(f.s.why);
        }
        fix_free(&f);
    }
}

static void test_planted_corrupt_log_record(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    for (uint64_t i = 0; i < 2 * KVLOG_PER_BLOCK + 5; i++) /* distinct keys: no overwrite */
        set_key(&f, i, 5);
    assert_int_equal(kvlog_recover(&f.s, f.img), 0);
    struct kv_slot *r = (struct kv_slot *)(f.m.vol + f.s.log_off) + 100;
    r->val ^= 1ull << 40; /* a torn value: the key's half still right */
    assert_int_equal(kvlog_recover(&f.s, f.img), -1);
    assert_string_equal(f.s.why, "kvs-io: the store recovered from the device (checkpoint + "
                                 "log) differs from the table in memory");
    /* A record whose key the checkpoint never held. */
    r->val ^= 1ull << 40;
    f.s.why = 0;
    assert_int_equal(kvlog_recover(&f.s, f.img), 0);
    r->key = kv_key(f.s.nhot + 5); /* a cold key */
    assert_int_equal(kvlog_recover(&f.s, f.img), -1);
    assert_string_equal(f.s.why, "kvs-io: the log names a key the checkpoint does not hold");
    fix_free(&f);
}

static void test_planted_wrong_checkpoint(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    set_key(&f, 1, 2);
    /* A slot the log does not touch, changed in the checkpoint. */
    struct kv_slot *ck = (struct kv_slot *)(f.m.vol + f.s.ckpt_off);
    uint64_t i = 0;
    while (ck[i].key == 0 || ck[i].key == kv_key(1))
        i++;
    ck[i].val++;
    assert_int_equal(kvlog_recover(&f.s, f.img), -1);
    assert_non_null(f.s.why);
    fix_free(&f);
    /* A checkpoint that never reached the device (its first chunk's write lost): the
     * device still holds the one before, and the log after it starts empty. */
    fix_init(&f, 1);
    churn(&f, (CKPT - 1) * KVLOG_PER_BLOCK, 3);
    f.m.drop_at = f.m.writes + 2; /* the 4th log block is write +1, the checkpoint +2 */
    churn(&f, KVLOG_PER_BLOCK, 4);
    assert_int_equal(f.s.log_blocks, 0);
    assert_int_equal(kvlog_recover(&f.s, f.img), -1);
    fix_free(&f);
}

static void test_planted_lost_append(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    f.m.drop_at = f.m.writes + 2; /* the second log block never lands */
    for (uint64_t i = 0; i < 3 * KVLOG_PER_BLOCK; i++)
        set_key(&f, i, 9);
    assert_int_equal(f.s.log_blocks, 3);
    assert_int_equal(kvlog_recover(&f.s, f.img), -1);
    fix_free(&f);
    /* The append lost in memory (a SET that never reached the log buffer): the table
     * holds it, the device cannot. */
    fix_init(&f, 1);
    set_key(&f, 1, 9);
    struct kv_slot *e = kv_find(&f.s.t, kv_key(2));
    e->val = kv_value(kv_key(2), 9);
    assert_int_equal(kvlog_recover(&f.s, f.img), -1);
    fix_free(&f);
}

static void test_cold_reads(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    struct kv_slot rec;
    for (uint64_t j = 0; j < NCOLD; j += 37) {
        assert_int_equal(kvlog_cold_get(&f.s, j, &rec), 0);
        assert_int_equal(rec.key, kvlog_cold_key(&f.s, j));
    }
    ((struct kv_slot *)f.m.vol)[300].val ^= 4;
    assert_int_equal(kvlog_cold_get(&f.s, 300, &rec), 1);
    assert_int_equal(kvlog_cold_get(&f.s, 301, &rec), 0);
    f.m.fail_read = 1;
    assert_int_equal(kvlog_cold_get(&f.s, 0, &rec), -1);
    assert_string_equal(f.s.why, "kvs-io: a device read failed");
    fix_free(&f);
}

static void test_failed_flush(void **state)
{
    (void)state;
    struct fix f;
    fix_init(&f, 1);
    f.m.fail_flush = 1;
    for (uint64_t i = 0; i < KVLOG_PER_BLOCK - 1; i++)
        set_key(&f, i, 1);
    struct kv_slot *e = kv_find(&f.s.t, kv_key(500));
    assert_int_equal(kvlog_set(&f.s, e, kv_value(kv_key(500), 1)), -1);
    assert_string_equal(f.s.why, "kvs-io: a device flush failed");
    fix_free(&f);
}

/* ---- the native twin's device: vmm-min's virtio-blk backend, no transport ---- */

static int vb_read(void *dev, uint64_t off, void *buf, uint32_t len)
{
    return virtio_blk_direct_io(dev, true, off, buf, len);
}

static int vb_write(void *dev, uint64_t off, const void *buf, uint32_t len)
{
    return virtio_blk_direct_io(dev, false, off, (void *)(uintptr_t)buf, len);
}

static int vb_flush(void *dev)
{
    return virtio_blk_direct_flush(dev);
}

/* kvs-io's store over backend `args`: 0 when it recovered equal to memory. */
static int store_on(const char *args, uint64_t *dev_bytes)
{
    struct virtio_dev d = { 0 };
    struct vmm_err e = { 0 };
    d.type = virtio_type_find("blk");
    assert_non_null(d.type);
    assert_int_equal(d.type->create(&d, args, &e), 0);
    *dev_bytes = virtio_blk_bytes(&d);
    struct fix f;
    memset(&f, 0, sizeof f);
    assert_true(kvlog_layout(&f.s, TABLE, NCOLD, CKPT) <= *dev_bytes);
    f.s.t.slot = calloc(1, TABLE);
    f.img = calloc(1, TABLE);
    f.s.logbuf = calloc(1, KVLOG_BLOCK);
    f.s.iobuf = calloc(1, KVLOG_BLOCK);
    f.s.io = (struct kvlog_dev){ vb_read, vb_write, vb_flush, &d };
    f.s.flush = 1;
    int rc = kvlog_load(&f.s);
    if (!rc) {
        churn(&f, CKPT * KVLOG_PER_BLOCK + 300, 11);
        rc = kvlog_recover(&f.s, f.img);
    }
    struct kv_slot rec;
    if (!rc && kvlog_cold_get(&f.s, 17, &rec) != 0)
        rc = -1;
    d.type->destroy(&d);
    free(f.s.t.slot);
    free(f.img);
    free(f.s.logbuf);
    free(f.s.iobuf);
    return rc;
}

static void test_native_backends(void **state)
{
    (void)state;
    uint64_t bytes;
    /* A real file in $TMPDIR, as the run's default device. */
    assert_int_equal(store_on("tmp:1M", &bytes), 0);
    assert_int_equal(bytes, 1u << 20);
    assert_int_equal(store_on("ram:1M", &bytes), 0);
    /* A device that keeps nothing: the store's checks catch it. */
    assert_int_equal(store_on("null:1M", &bytes), -1);
    /* Out of range and unaligned requests are refused, not served. */
    struct virtio_dev d = { 0 };
    struct vmm_err e = { 0 };
    d.type = virtio_type_find("blk");
    assert_int_equal(d.type->create(&d, "tmp:64K", &e), 0);
    uint8_t buf[1024] = { 1 };
    assert_int_equal(virtio_blk_direct_io(&d, false, 64 * 1024 - 512, buf, 512), 0);
    assert_int_equal(virtio_blk_direct_io(&d, false, 64 * 1024 - 512, buf, 1024), -1);
    assert_int_equal(virtio_blk_direct_io(&d, true, 100, buf, 512), -1);
    d.type->destroy(&d);
    assert_int_equal(d.type->create(&d, "tmp:0", &e), -1);
    /* A $TMPDIR that cannot take the file: named, with the fix; checked at plan time. */
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", "/nonexistent-vmmbench-dir", 1);
    e = (struct vmm_err){ 0 };
    assert_int_equal(d.type->check("tmp:1M", &e), -1);
    assert_non_null(strstr(e.msg, "cannot create the virtio-blk tmp file in "
                                  "/nonexistent-vmmbench-dir"));
    assert_non_null(strstr(e.msg, "set TMPDIR to a writable directory"));
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_load),
        cmocka_unit_test(test_appends_in_order),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_recovery_equals_memory),
        cmocka_unit_test(test_recovery_after_crash),
        cmocka_unit_test(test_planted_corrupt_log_record),
        cmocka_unit_test(test_planted_wrong_checkpoint),
        cmocka_unit_test(test_planted_lost_append),
        cmocka_unit_test(test_cold_reads),
        cmocka_unit_test(test_failed_flush),
        cmocka_unit_test(test_native_backends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
