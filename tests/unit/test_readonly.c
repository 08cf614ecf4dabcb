/* Read-only means read-only: `show`, `compare` and `export` on databases they must not
 * change, run as the user `nobody` on a chmod 0444 copy in a directory nobody cannot
 * write (so SQLite can create no -wal or -shm beside it):
 *   - the file's bytes stay the same (no WAL switch, no migration of a version 1 file, no
 *     schema in an empty file), and no -wal/-shm appears;
 *   - a version 1 file reads, and stays version 1;
 *   - a damaged index page (data pages intact) exits 2 naming the file, where the old code
 *     read around it and exited 0 with partial data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "testutil.h"

static char dir[PATH_MAX];
static char vb[PATH_MAX + 32];

static int sh(const char *fmtargs, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmtargs, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmtargs);
    vsnprintf(cmd, sizeof cmd, fmtargs, ap);
    va_end(ap);
    char full[12400];
    snprintf(full, sizeof full, "(%s) >'%s/out.txt' 2>&1", cmd, dir);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void out_has(const char *what)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/out.txt", dir);
    char *t = tu_read_file(p, NULL);
    assert_non_null(t);
    if (!strstr(t, what))
        fail_msg("output lacks '%s':\n%s", what, t);
    free(t);
}

static char *slurp(const char *path, size_t *len)
{
    char *t = tu_read_file(path, len);
    if (!t)
        fail_msg("cannot read %s", path);
    return t;
}

/* A database of two tagged run sets, written by the harness's own writer. */
static void make_db(const char *path)
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
    for (int t = 0; t < 2; t++)
        for (unsigned r = 0; r < 3; r++) {
            struct vmm_result res;
            vmm_result_init(&res);
            for (unsigned b = 0; b < 400; b++)
                vmm_result_add(&res, "latency", "ns", b, false, 100 + (b * 7 + r) % 13);
            struct run_spec spec = { .workload = "cpuid", .params = "ring=3", .rep = r,
                                     .tag = t ? "b" : "a" };
            int64_t id;
            if (db_store_run(db, &h, &c, &spec, &res, &id, &e) != 0)
                fail_msg("db_store_run: %s", e.msg);
            vmm_result_free(&res);
        }
    db_close(db);
}

/* A locked-down copy: dir 0755 (nobody cannot create files in it), file 0444. */
static void locked_copy(const char *src, const char *name, char *out, size_t cap)
{
    char sub[PATH_MAX + 32];
    snprintf(sub, sizeof sub, "%s/ro-%s", dir, name);
    mkdir(sub, 0755);
    snprintf(out, cap, "%s/%s", sub, name);
    assert_int_equal(sh("cp '%s' '%s' && chmod 0444 '%s'", src, out, out), 0);
}

static void same_bytes(const char *path, const char *before, size_t len)
{
    size_t n;
    char *now = slurp(path, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, before, len);
    free(now);
    char side[PATH_MAX + 16];
    struct stat st;
    snprintf(side, sizeof side, "%s-wal", path);
    assert_int_not_equal(stat(side, &st), 0);
    snprintf(side, sizeof side, "%s-shm", path);
    assert_int_not_equal(stat(side, &st), 0);
}

static void test_readonly_file_as_nobody(void **state)
{
    (void)state;
    char src[PATH_MAX + 16], ro[PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/src.db", dir);
    make_db(src);
    locked_copy(src, "r.db", ro, sizeof ro);
    size_t len = 0;
    char *before = slurp(ro, &len);
    assert_int_equal(sh("runuser -u nobody -- '%s' show --db '%s'", vb, ro), 0);
    out_has("cpuid");
    assert_int_equal(sh("runuser -u nobody -- '%s' compare tag:a tag:b --db '%s'", vb, ro), 0);
    out_has("latency");
    assert_int_equal(sh("runuser -u nobody -- '%s' export --csv all --db '%s'", vb, ro), 0);
    out_has("cpuid");
    same_bytes(ro, before, len);
    free(before);
}

static void test_empty_file_gets_no_schema(void **state)
{
    (void)state;
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/empty.db", dir);
    tu_write_file(p, "", 0);
    assert_int_equal(sh("'%s' show --db '%s'", vb, p), 2);
    out_has("not a vmmbench one");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 0);
}

/* Version 1: the same file without the placement table and columns. show and compare
 * read it; nothing upgrades it. */
static void test_v1_read_not_migrated(void **state)
{
    (void)state;
    char src[PATH_MAX + 16], ro[PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/v1.db", dir);
    make_db(src);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(src, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; DROP TABLE placement; "
                                  "ALTER TABLE runs DROP COLUMN placement_requested; "
                                  "ALTER TABLE runs DROP COLUMN placement_mismatch; "
                                  "UPDATE schema_version SET version = 1;", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    locked_copy(src, "v1.db", ro, sizeof ro);
    size_t len = 0;
    char *before = slurp(ro, &len);
    assert_int_equal(sh("runuser -u nobody -- '%s' show --db '%s'", vb, ro), 0);
    out_has("cpuid");
    assert_int_equal(sh("runuser -u nobody -- '%s' compare tag:a tag:b --db '%s'", vb, ro), 0);
    same_bytes(ro, before, len);
    /* and as root, on a writable copy, show still does not upgrade it */
    assert_int_equal(sh("'%s' show --db '%s'", vb, src), 0);
    assert_int_equal(sqlite3_open(src, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(before);
}

/* Garbage over the root page of the samples index: every table page intact, so a reader
 * that never uses the index sees nothing wrong. */
static void test_corrupt_index_page(void **state)
{
    (void)state;
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/corrupt.db", dir);
    make_db(p);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = "
                                        "'samples_run_metric'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int psize = 0;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    psize = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    char junk[65536];
    memset(junk, 0x5a, sizeof junk);
    assert_int_equal(pwrite(fd, junk, (size_t)psize, (off_t)(page - 1) * psize), psize);
    close(fd);
    assert_int_equal(sh("'%s' show --db '%s'", vb, p), 2);
    out_has(p);
    out_has("damaged");
    assert_int_equal(sh("'%s' compare tag:a tag:b --db '%s'", vb, p), 2);
    out_has("damaged");
}

/* A newer schema than this vmmbench knows is refused by every reader, naming both
 * versions, and the file is left as it was (no guessing at columns it may have moved). */
static void test_newer_version_refused(void **state)
{
    (void)state;
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/v99.db", dir);
    make_db(p);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; "
                                  "UPDATE schema_version SET version = 99;", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    size_t len = 0;
    char *before = slurp(p, &len);
    assert_int_equal(sh("'%s' show --db '%s'", vb, p), 2);
    out_has("schema version 99");
    assert_int_equal(sh("'%s' compare tag:a tag:b --db '%s'", vb, p), 2);
    out_has("schema version 99");
    same_bytes(p, before, len);
    free(before);
}

static int setup(void **state)
{
    (void)state;
    /* Under /tmp, whatever TMPDIR says: nobody must reach the files (issue 16). */
    snprintf(dir, sizeof dir, "/tmp/vmmbench-ro-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    chmod(dir, 0755);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *b = dirname(dirname(dirname(self)));
    if (strcmp(b + strlen(b) - 5, "/asan") == 0)
        b[strlen(b) - 5] = '\0';
    /* nobody runs a copy: the checkout may sit under a directory only its owner can
     * enter (a mktemp -d clone), and the test is about the database, not that. */
    char cmd[2 * PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cp '%s/bin/vmmbench' '%s/vmmbench' && chmod 755 '%s/vmmbench'", b,
             dir, dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(vb, sizeof vb, "%s/vmmbench", dir);
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
    /* runuser needs root; as another user the files are read-only to us anyway */
    if (geteuid() != 0 || system("command -v runuser >/dev/null 2>&1") != 0) {
        printf("[  SKIPPED ] 0 test(s): needs root and runuser to act as nobody\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readonly_file_as_nobody),
        cmocka_unit_test(test_empty_file_gets_no_schema),
        cmocka_unit_test(test_v1_read_not_migrated),
        cmocka_unit_test(test_corrupt_index_page),
        cmocka_unit_test(test_newer_version_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
