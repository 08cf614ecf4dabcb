/* merge and baseline save copy runs between real database files: every run once (also
 * on a second merge of the same input when a config's text is NULL, which UNIQUE lets
 * repeat), the placement facts of each run travel with it, and so do each config's
 * hypervisor and its version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libgen.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "testutil.h"

static char dir[PATH_MAX];
static char vb[PATH_MAX];

static int sh(const char *fmtargs, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmtargs, ...)
{
    char cmd[8192], full[12400];
    va_list ap;
    va_start(ap, fmtargs);
    vsnprintf(cmd, sizeof cmd, fmtargs, ap);
    va_end(ap);
    snprintf(full, sizeof full, "(%s) >'%s/out.txt' 2>&1", cmd, dir);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long long count(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Three runs tagged "base", two placement facts each, and the config's text NULL (as a
 * config given on the command line, not from a file, is stored). */
static void make_src(const char *path)
{
    struct db *db;
    struct vmm_err e = { 0 };
    if (db_open(path, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "testhost");
    struct bench_config c;
    config_default(&c);
    snprintf(c.name, sizeof c.name, "cfg");
    for (unsigned r = 0; r < 3; r++) {
        struct vmm_result res;
        vmm_result_init(&res);
        for (unsigned b = 0; b < 10; b++)
            vmm_result_add(&res, "latency", "ns", b, false, 100 + b);
        struct run_spec spec = { .workload = "cpuid", .params = "ring=3", .rep = r,
                                 .tag = "base", .started = 1000 + r };
        int64_t id;
        if (db_store_run(db, &h, &c, &spec, &res, &id, &e) != 0)
            fail_msg("db_store_run: %s", e.msg);
        vmm_result_free(&res);
    }
    sqlite3 *s = db_handle(db);
    assert_int_equal(sqlite3_exec(s, "UPDATE configs SET text = NULL; DELETE FROM placement; "
                                  "INSERT INTO placement(run_id, kind, subject, moment, "
                                  "requested, observed, ok) SELECT id, 'vcpu', 0, 'start', '0', "
                                  "'0', 1 FROM runs; INSERT INTO placement(run_id, kind, "
                                  "subject, moment, requested, observed, ok) SELECT id, "
                                  "'memory', 0, 'end', 'node0', 'node1', 0 FROM runs;",
                                  NULL, NULL, NULL), SQLITE_OK);
    db_close(db);
}

static void test_merge_twice_null_text_and_placement(void **state)
{
    (void)state;
    char src[PATH_MAX + 16], out[PATH_MAX + 16];
    snprintf(src, sizeof src, "%s/src.db", dir);
    snprintf(out, sizeof out, "%s/merged.db", dir);
    make_src(src);
    assert_int_equal(sh("'%s' merge '%s' '%s'", vb, out, src), 0);
    assert_int_equal(sh("'%s' merge '%s' '%s'", vb, out, src), 0);
    assert_int_equal(count(out, "SELECT count(*) FROM runs"), 3);
    assert_int_equal(count(out, "SELECT count(*) FROM configs"), 1);
    assert_int_equal(count(out, "SELECT count(*) FROM samples"), 30);
    assert_int_equal(count(out, "SELECT count(*) FROM placement"), 6);
    /* each fact belongs to the run it came with */
    assert_int_equal(count(out, "SELECT count(*) FROM placement p JOIN runs r ON r.id = "
                                "p.run_id"), 6);
    assert_int_equal(count(out, "SELECT count(*) FROM placement WHERE kind = 'memory' AND "
                                "observed = 'node1' AND ok = 0"), 3);
}

static void test_baseline_save_keeps_placement(void **state)
{
    (void)state;
    char src[PATH_MAX + 16], bl[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/src2.db", dir);
    make_src(src);
    assert_int_equal(sh("'%s' baseline save keep --from tag:base --db '%s'", vb, src), 0);
    snprintf(bl, sizeof bl, "%s/baselines/keep.db", dir);
    assert_int_equal(count(bl, "SELECT count(*) FROM runs"), 3);
    assert_int_equal(count(bl, "SELECT count(*) FROM placement"), 6);
    assert_int_equal(count(bl, "SELECT count(*) FROM placement p JOIN runs r ON r.id = "
                               "p.run_id"), 6);
}

/* Two runs each of one config text under two QEMU versions. */
static void make_src_qemu(const char *path)
{
    struct db *db;
    struct vmm_err e = { 0 };
    if (db_open(path, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "testhost");
    struct bench_config c;
    config_default(&c);
    snprintf(c.name, sizeof c.name, "q");
    c.text = strdup("[vm]\nname = q\nhypervisor = qemu-microvm\n");
    c.hypervisor = VMM_HV_QEMU_MICROVM;
    for (unsigned r = 0; r < 4; r++) {
        snprintf(c.hypervisor_version, sizeof c.hypervisor_version, "QEMU emulator version %s",
                 r < 2 ? "7.2.22" : "8.2.2");
        struct vmm_result res;
        vmm_result_init(&res);
        vmm_result_add(&res, "latency", "ns", 0, false, 100 + r);
        struct run_spec spec = { .workload = "cpuid", .params = "", .rep = r, .tag = "q",
                                 .started = 2000 + r };
        int64_t id;
        if (db_store_run(db, &h, &c, &spec, &res, &id, &e) != 0)
            fail_msg("db_store_run: %s", e.msg);
        vmm_result_free(&res);
    }
    config_free(&c);
    db_close(db);
}

/* merge keeps a config's hypervisor and version: one text under two QEMU versions stays
 * two configs, each with its own runs, and a version 4 file's configs arrive as
 * vmm-min's. Merging twice adds nothing. */
static void test_merge_keeps_hypervisor(void **state)
{
    (void)state;
    char src[PATH_MAX + 16], old[PATH_MAX + 16], out[PATH_MAX + 16];
    snprintf(src, sizeof src, "%s/q.db", dir);
    snprintf(old, sizeof old, "%s/v4.db", dir);
    snprintf(out, sizeof out, "%s/hv-merged.db", dir);
    make_src_qemu(src);
    make_src(old);
    /* back to version 4's configs table: no hypervisor columns */
    assert_int_equal(sh("sqlite3 '%s' \"CREATE TABLE c4 AS SELECT id, name, vcpus, mem_bytes, "
                        "source, text FROM configs; DROP TABLE configs; ALTER TABLE c4 RENAME "
                        "TO configs; UPDATE schema_version SET version = 4;\"", old), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sh("'%s' merge '%s' '%s'", vb, out, src), 0);
        assert_int_equal(sh("'%s' merge '%s' '%s'", vb, out, old), 0);
    }
    assert_int_equal(count(out, "SELECT count(*) FROM configs"), 3);
    assert_int_equal(count(out, "SELECT count(*) FROM runs"), 7);
    assert_int_equal(count(out, "SELECT count(*) FROM runs r JOIN configs c ON c.id = "
                                "r.config_id WHERE c.hypervisor = 'qemu-microvm' AND "
                                "c.hypervisor_version = 'QEMU emulator version 8.2.2' AND "
                                "r.started >= 2002"), 2);
    assert_int_equal(count(out, "SELECT count(*) FROM runs r JOIN configs c ON c.id = "
                                "r.config_id WHERE c.hypervisor_version = 'QEMU emulator version "
                                "7.2.22' AND r.started < 2002"), 2);
    assert_int_equal(count(out, "SELECT count(*) FROM runs r JOIN configs c ON c.id = "
                                "r.config_id WHERE c.name = 'cfg' AND c.hypervisor = 'vmm-min' "
                                "AND c.hypervisor_version = 'vmm-min'"), 3);
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *b = dirname(dirname(dirname(self)));
    if (strcmp(b + strlen(b) - 5, "/asan") == 0)
        b[strlen(b) - 5] = '\0';
    snprintf(vb, sizeof vb, "%s/bin/vmmbench", b);
    return access(vb, X_OK) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_tree(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_twice_null_text_and_placement),
        cmocka_unit_test(test_baseline_save_keeps_placement),
        cmocka_unit_test(test_merge_keeps_hypervisor),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
