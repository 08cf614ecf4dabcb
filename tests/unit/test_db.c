/* The results database on real SQLite files: creation, storing and reading back, all or
 * nothing on failure, refusal of foreign or newer files (untouched), unwritable places,
 * two writers at once, and the speed of a large store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "placement_report.h"
#include "testutil.h"

static char dir[PATH_MAX];
static char dbpath[PATH_MAX + 32];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    snprintf(dbpath, sizeof dbpath, "%s/results.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chmod(dir, 0700);
    tu_rm_tree(dir);
    return 0;
}

static void fake_host(struct host_info *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->hostname, sizeof h->hostname, "testhost");
    snprintf(h->cpu_vendor, sizeof h->cpu_vendor, "AuthenticAMD");
    snprintf(h->cpu_model, sizeof h->cpu_model, "AMD EPYC");
    snprintf(h->kvm_flavour, sizeof h->kvm_flavour, "pvm");
    snprintf(h->mmu_mode, sizeof h->mmu_mode, "shadow");
    snprintf(h->thp, sizeof h->thp, "madvise");
    h->kvm_present = true;
    h->kvm_api = 12;
    h->cpus_online = 2;
    h->numa_nodes = 1;
    h->irq.halt_poll_ns = 200000;
    snprintf(h->irq.apicv, sizeof h->irq.apicv, "pvm: none (software injection)");
    snprintf(h->irq.apic_mode, sizeof h->irq.apic_mode, "host cpu x2apic=yes");
}

/* N samples over three metrics; the first ten are warm-up. */
static void fake_result(struct vmm_result *r, size_t n)
{
    static const char *const metrics[] = { "lat", "bw", "ops" };
    vmm_result_init(r);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vmm_result_add(r, metrics[i % 3], "ns", (uint32_t)(i / 100), i < 10,
                                        (double)i * 0.5), 0);
    r->tsc_khz = 2000000;
    r->exits = 77;
    r->wall_seconds = 1.25;
    r->console = strdup("hello from the guest\n");
    r->console_len = strlen(r->console);
}

static const struct run_spec spec = {
    .workload = "pchase", .params = "size=256M stride=64", .rep = 3, .tag = "t1",
    .started = 1700000000.0, .ended = 1700000001.5,
};

static long long count(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *text_of(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *s = strdup(t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    return s;
}

static struct db *open_ok(void)
{
    struct db *db = NULL;
    struct vmm_err e = { 0 };
    if (db_open(dbpath, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    return db;
}

static void test_create_store_read_back(void **state)
{
    (void)state;
    struct db *db = open_ok();
    sqlite3 *h = db_handle(db);
    assert_int_equal(count(h, "SELECT version FROM schema_version"), DB_SCHEMA_VERSION);
    char *mode = text_of(h, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    assert_int_equal(count(h, "PRAGMA foreign_keys"), 1);

    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    fake_result(&r, 1000);
    struct vmm_err e = { 0 };
    int64_t id1 = 0, id2 = 0, id3 = 0;
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id1, &e), 0);
    assert_true(id1 > 0);
    assert_int_equal(count(h, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(count(h, "SELECT count(*) FROM samples"), 1000);
    assert_int_equal(count(h, "SELECT count(*) FROM samples WHERE warmup = 1"), 10);
    assert_int_equal(count(h, "SELECT count(*) FROM samples WHERE metric = 'lat'"), 334);
    /* sum of i*0.5 for i < 1000 = 249750 */
    assert_int_equal(count(h, "SELECT CAST(sum(value) * 2 AS INTEGER) FROM samples"), 499500);
    char *status = text_of(h, "SELECT status || '|' || workload || '|' || params || '|' || "
                              "rep || '|' || tag || '|' || tsc_khz || '|' || exits FROM runs");
    assert_string_equal(status, "ok|pchase|size=256M stride=64|3|t1|2000000|77");
    free(status);
    char *console = text_of(h, "SELECT CAST(console AS TEXT) FROM runs");
    assert_string_equal(console, "hello from the guest\n");
    free(console);
    char *hostrow = text_of(h, "SELECT hostname || '|' || kvm_flavour || '|' || mmu_mode "
                               "FROM hosts");
    assert_string_equal(hostrow, "testhost|pvm|shadow");
    free(hostrow);
    char *irqrow = text_of(h, "SELECT halt_poll_ns || '|' || apicv || '|' || apic_mode "
                              "FROM hosts");
    assert_string_equal(irqrow, "200000|pvm: none (software injection)|host cpu x2apic=yes");
    free(irqrow);

    /* Same host and config again: reused, not duplicated. */
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id2, &e), 0);
    assert_true(id2 > id1);
    assert_int_equal(count(h, "SELECT count(*) FROM hosts"), 1);
    assert_int_equal(count(h, "SELECT count(*) FROM configs"), 1);

    /* Any changed host field makes a new host row (halt polling included); a failed run
     * keeps its reason. */
    hi.irq.halt_poll_ns = 0;
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id3, &e), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM hosts"), 2);
    hi.irq.halt_poll_ns = 200000;
    snprintf(hi.thp, sizeof hi.thp, "always");
    vmm_result_fail(&r, VMM_STATUS_TIMEOUT, "guest overstayed 10 s");
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id3, &e), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM hosts"), 3);
    char *failed = text_of(h, "SELECT status || '|' || reason FROM runs ORDER BY id DESC");
    assert_string_equal(failed, "timeout|guest overstayed 10 s");
    free(failed);
    assert_int_equal(count(h, "SELECT count(*) FROM runs"), 4);
    sqlite3_stmt *fk;   /* no row: every reference resolves */
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA foreign_key_check", -1, &fk, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(fk), SQLITE_DONE);
    sqlite3_finalize(fk);
    vmm_result_free(&r);
    db_close(db);

    /* Reopening finds everything. */
    db = open_ok();
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM samples"), 4000);
    db_close(db);
}

static void test_failure_mid_store_leaves_nothing(void **state)
{
    (void)state;
    struct db *db = open_ok();
    sqlite3 *h = db_handle(db);
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    fake_result(&r, 1000);
    /* A NaN halfway: host, config, run and 500 samples are already inserted by then. */
    r.samples[500].value = NAN;
    struct vmm_err e = { 0 };
    int64_t id = -7;
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_DATABASE);
    assert_non_null(strstr(e.msg, "sample 500"));
    assert_int_equal(id, -7);
    assert_int_equal(count(h, "SELECT count(*) FROM runs"), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM samples"), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM hosts"), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM configs"), 0);

    /* The connection is still usable: the next good run is stored whole. */
    r.samples[500].value = 1.0;
    struct vmm_err e2 = { 0 };
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e2), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM samples"), 1000);
    vmm_result_free(&r);
    db_close(db);
}

static void test_other_schema_version_refused_untouched(void **state)
{
    (void)state;
    db_close(open_ok());
    sqlite3 *h;
    assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
    char bump[80];
    snprintf(bump, sizeof bump, "UPDATE schema_version SET version = %d", DB_SCHEMA_VERSION + 1);
    assert_int_equal(sqlite3_exec(h, bump, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    size_t len_before, len_after;
    char *before = tu_read_file(dbpath, &len_before);
    assert_non_null(before);
    struct db *db = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(dbpath, &db, &e), -1);
    assert_null(db);
    assert_int_equal(e.code, VMM_EXIT_DATABASE);
    assert_non_null(strstr(e.msg, dbpath));
    char want[64];
    snprintf(want, sizeof want, "schema version %d", DB_SCHEMA_VERSION + 1);
    assert_non_null(strstr(e.msg, want));
    snprintf(want, sizeof want, "uses %d", DB_SCHEMA_VERSION);
    assert_non_null(strstr(e.msg, want));
    char *after = tu_read_file(dbpath, &len_after);
    assert_non_null(after);
    assert_int_equal(len_before, len_after);
    assert_memory_equal(before, after, len_before);
    free(before);
    free(after);
}

/* A file written by schema version 1 (as released) is upgraded in place, keeping its
 * rows, and takes new runs with placement afterwards. */
static void test_version1_file_upgraded(void **state)
{
    (void)state;
    static const char v1[] =
        "CREATE TABLE schema_version(version INTEGER NOT NULL);"
        "CREATE TABLE hosts(id INTEGER PRIMARY KEY, fingerprint TEXT UNIQUE NOT NULL, hostname "
        "TEXT, cpu_vendor TEXT, cpu_model TEXT, microcode TEXT, kernel TEXT, cpus_online INTEGER, "
        "kvm_present INTEGER, kvm_api INTEGER, kvm_flavour TEXT, kvm_modules TEXT, mmu_mode TEXT, "
        "pmu_available INTEGER, pmu_reason TEXT, thp TEXT, hugepages TEXT, governor TEXT, smt "
        "TEXT, numa_nodes INTEGER, suite_rev TEXT, first_seen REAL);"
        "CREATE TABLE configs(id INTEGER PRIMARY KEY, name TEXT NOT NULL, vcpus INTEGER NOT NULL, "
        "mem_bytes INTEGER NOT NULL, source TEXT, text TEXT, UNIQUE(name, vcpus, mem_bytes, text));"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, host_id INTEGER NOT NULL REFERENCES hosts(id), "
        "config_id INTEGER NOT NULL REFERENCES configs(id), workload TEXT NOT NULL, params TEXT "
        "NOT NULL, rep INTEGER NOT NULL, tag TEXT, status TEXT NOT NULL, reason TEXT, started "
        "REAL, ended REAL, wall_seconds REAL, tsc_khz INTEGER, exits INTEGER, console BLOB, "
        "console_truncated INTEGER);"
        "CREATE TABLE samples(run_id INTEGER NOT NULL REFERENCES runs(id), metric TEXT NOT NULL, "
        "unit TEXT NOT NULL, batch INTEGER NOT NULL, warmup INTEGER NOT NULL, value REAL NOT NULL);"
        "CREATE INDEX samples_run_metric ON samples(run_id, metric);"
        "INSERT INTO schema_version VALUES(1);"
        "INSERT INTO hosts(id, fingerprint) VALUES(1, 'old');"
        "INSERT INTO configs(id, name, vcpus, mem_bytes) VALUES(1, 'old', 1, 67108864);"
        "INSERT INTO runs(id, host_id, config_id, workload, params, rep, status) "
        "VALUES(1, 1, 1, 'cpuid', '', 0, 'ok');"
        "INSERT INTO samples VALUES(1, 'latency', 'ns', 0, 0, 42.0);";
    sqlite3 *h;
    assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    struct db *db = open_ok();
    assert_int_equal(count(db_handle(db), "SELECT version FROM schema_version"), DB_SCHEMA_VERSION);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM samples WHERE value = 42.0"), 1);
    /* the version 4 host columns exist after the upgrade */
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM hosts WHERE halt_poll_ns IS NULL "
                                          "AND apicv IS NULL AND apic_mode IS NULL"), 1);
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    fake_result(&r, 10);
    r.placement.valid = true;
    r.placement.nvcpus = 1;
    r.placement.vcpu[0].requested_cpu = 0;
    r.placement.vcpu[0].affinity[0] = 1;
    r.placement.vcpu[0].ran_on[0] = 2; /* ran on CPU 1 although pinned to 0 */
    struct vmm_err e = { 0 };
    int64_t id;
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e), 0);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM runs"), 2);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM placement WHERE kind = 'vcpu' "
                                          "AND ok = 0"), 1);
    vmm_result_free(&r);
    db_close(db);
}

/* A version 4 file (as released: configs keyed by name, vCPUs, memory and text) becomes
 * version 5 in place: its configs keep their ids and runs, and say vmm-min. Afterwards the
 * same config text under two QEMU versions is two configs, under one version one. */
static void test_version4_file_upgraded(void **state)
{
    (void)state;
    static const char v4[] =
        "CREATE TABLE schema_version(version INTEGER NOT NULL);"
        "CREATE TABLE hosts(id INTEGER PRIMARY KEY, fingerprint TEXT UNIQUE NOT NULL, hostname "
        "TEXT, cpu_vendor TEXT, cpu_model TEXT, microcode TEXT, kernel TEXT, cpus_online INTEGER, "
        "kvm_present INTEGER, kvm_api INTEGER, kvm_flavour TEXT, kvm_modules TEXT, mmu_mode TEXT, "
        "pmu_available INTEGER, pmu_reason TEXT, thp TEXT, hugepages TEXT, governor TEXT, smt "
        "TEXT, numa_nodes INTEGER, suite_rev TEXT, first_seen REAL, topology_summary TEXT, "
        "numa_distances TEXT, topology_xml TEXT, emulated TEXT, halt_poll_ns INTEGER, apicv TEXT, "
        "apic_mode TEXT);"
        "CREATE TABLE configs(id INTEGER PRIMARY KEY, name TEXT NOT NULL, vcpus INTEGER NOT NULL, "
        "mem_bytes INTEGER NOT NULL, source TEXT, text TEXT, UNIQUE(name, vcpus, mem_bytes, text));"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, host_id INTEGER NOT NULL REFERENCES hosts(id), "
        "config_id INTEGER NOT NULL REFERENCES configs(id), workload TEXT NOT NULL, params TEXT "
        "NOT NULL, rep INTEGER NOT NULL, tag TEXT, status TEXT NOT NULL, reason TEXT, started "
        "REAL, ended REAL, wall_seconds REAL, tsc_khz INTEGER, exits INTEGER, console BLOB, "
        "console_truncated INTEGER, placement_requested TEXT, placement_mismatch TEXT);"
        "CREATE TABLE placement(run_id INTEGER NOT NULL REFERENCES runs(id), kind TEXT NOT NULL, "
        "subject INTEGER NOT NULL, moment TEXT NOT NULL, requested TEXT, observed TEXT, ok "
        "INTEGER NOT NULL);"
        "CREATE TABLE samples(run_id INTEGER NOT NULL REFERENCES runs(id), metric TEXT NOT NULL, "
        "unit TEXT NOT NULL, batch INTEGER NOT NULL, warmup INTEGER NOT NULL, value REAL NOT NULL);"
        "CREATE INDEX samples_run_metric ON samples(run_id, metric);"
        "INSERT INTO schema_version VALUES(4);"
        "INSERT INTO hosts(id, fingerprint) VALUES(1, 'old');"
        "INSERT INTO configs(id, name, vcpus, mem_bytes, text) VALUES(3, 'old', 1, 67108864, '');"
        "INSERT INTO configs(id, name, vcpus, mem_bytes, text) VALUES(7, 'big', 2, 134217728, "
        "'[vm]\nname = big\n');"
        "INSERT INTO runs(id, host_id, config_id, workload, params, rep, status) "
        "VALUES(1, 1, 3, 'cpuid', '', 0, 'ok'), (2, 1, 7, 'cpuid', '', 0, 'ok');"
        "INSERT INTO samples VALUES(1, 'latency', 'ns', 0, 0, 42.0), (2, 'latency', 'ns', 0, 0, 43.0);";
    sqlite3 *h;
    assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, v4, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    struct db *db = open_ok();
    sqlite3 *d = db_handle(db);
    assert_int_equal(count(d, "SELECT version FROM schema_version"), 5);
    assert_int_equal(count(d, "SELECT count(*) FROM configs WHERE hypervisor = 'vmm-min' AND "
                              "hypervisor_version = 'vmm-min'"), 2);
    /* ids kept: each run still finds its config and samples */
    assert_int_equal(count(d, "SELECT sum(s.value) FROM runs r JOIN configs c ON c.id = "
                              "r.config_id JOIN samples s ON s.run_id = r.id WHERE "
                              "(c.name = 'old' AND r.id = 1) OR (c.name = 'big' AND r.id = 2)"), 85);
    assert_int_equal(count(d, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_int_equal(count(d, "SELECT count(*) FROM sqlite_master WHERE name = 'configs_v5'"), 0);

    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);   /* the built-in default: the 'old' row's key, under vmm-min */
    snprintf(c.name, sizeof c.name, "old");
    struct vmm_result r;
    fake_result(&r, 10);
    struct vmm_err e = { 0 };
    int64_t id;
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e), 0);
    assert_int_equal(count(d, "SELECT count(*) FROM configs"), 2);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT config_id FROM runs WHERE id = %lld", (long long)id);
    assert_int_equal(count(d, sql), 3);

    /* the same text under QEMU: a new config per QEMU version, reused within one */
    c.hypervisor = VMM_HV_QEMU_MICROVM;
    const char *versions[] = { "QEMU emulator version 7.2.22", "QEMU emulator version 8.2.2",
                               "QEMU emulator version 7.2.22" };
    for (int i = 0; i < 3; i++) {
        snprintf(c.hypervisor_version, sizeof c.hypervisor_version, "%s", versions[i]);
        assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e), 0);
    }
    assert_int_equal(count(d, "SELECT count(*) FROM configs"), 4);
    assert_int_equal(count(d, "SELECT count(*) FROM configs WHERE hypervisor = 'qemu-microvm'"), 2);
    assert_int_equal(count(d, "SELECT count(*) FROM runs r JOIN configs c ON c.id = r.config_id "
                              "WHERE c.hypervisor_version = 'QEMU emulator version 7.2.22'"), 2);
    vmm_result_free(&r);
    db_close(db);
}

static void test_foreign_sqlite_refused(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    struct db *db = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(dbpath, &db, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_DATABASE);
    assert_non_null(strstr(e.msg, "not a vmmbench"));
}

static void test_not_a_database_refused(void **state)
{
    (void)state;
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)('a' + i % 26);
    tu_write_file(dbpath, junk, sizeof junk);
    struct db *db = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(dbpath, &db, &e), -1);
    assert_null(db);
    assert_int_equal(e.code, VMM_EXIT_DATABASE);
    assert_non_null(strstr(e.msg, dbpath));
    assert_non_null(strstr(e.msg, "not an SQLite database"));
    size_t len;
    char *after = tu_read_file(dbpath, &len);
    assert_int_equal(len, sizeof junk);
    assert_memory_equal(after, junk, sizeof junk);
    free(after);
}

static void test_missing_directory_refused(void **state)
{
    (void)state;
    char path[PATH_MAX + 64], sub[PATH_MAX + 32];
    snprintf(sub, sizeof sub, "%s/nodir", dir);
    snprintf(path, sizeof path, "%s/x.db", sub);
    struct db *db = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(path, &db, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_DATABASE);
    assert_non_null(strstr(e.msg, sub));
    assert_non_null(strstr(e.msg, "does not exist"));
    assert_non_null(strstr(e.msg, "mkdir -p"));
    assert_int_equal(access(sub, F_OK), -1);   /* and it did not create anything */
}

/* Root ignores directory permissions, so the check runs in a child that drops to nobody
 * when we are root. Its directory is made under /tmp, which every user can traverse:
 * $TMPDIR may be private to us (issue 16), and then nobody would meet "does not exist"
 * instead of "not writable". */
static void test_unwritable_directory_refused(void **state)
{
    (void)state;
    char top[] = "/tmp/vmmbench-ro-XXXXXX";
    assert_non_null(mkdtemp(top));
    assert_int_equal(chmod(top, 0755), 0);
    char sub[PATH_MAX + 32], path[PATH_MAX + 64];
    snprintf(sub, sizeof sub, "%s/ro", top);
    snprintf(path, sizeof path, "%s/x.db", sub);
    assert_int_equal(mkdir(sub, 0555), 0);
    assert_int_equal(chmod(sub, 0555), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(77);
        struct db *db = NULL;
        struct vmm_err e = { 0 };
        int rc = db_open(path, &db, &e);
        if (rc == 0) {
            db_close(db);
            _exit(1);
        }
        if (e.code != VMM_EXIT_DATABASE || !strstr(e.msg, "not writable") ||
            !strstr(e.msg, sub)) {
            fprintf(stderr, "unexpected error %d: %s\n", e.code, e.msg);
            _exit(2);
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    int exists = access(path, F_OK);
    tu_rm_tree(top);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(exists, -1);
}

struct writer {
    int nruns;
    int stored;
    char err[VMM_ERR_MSG_MAX];
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct db *db = NULL;
    struct vmm_err e = { 0 };
    if (db_open(dbpath, &db, &e) != 0) {
        snprintf(w->err, sizeof w->err, "%s", e.msg);
        return NULL;
    }
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    fake_result(&r, 2000);
    for (int i = 0; i < w->nruns; i++) {
        int64_t id;
        if (db_store_run(db, &hi, &c, &spec, &r, &id, &e) != 0) {
            snprintf(w->err, sizeof w->err, "%s", e.msg);
            break;
        }
        w->stored++;
    }
    vmm_result_free(&r);
    db_close(db);
    return NULL;
}

/* Two connections, each its own thread, both creating the file and storing at once. */
static void test_two_writers(void **state)
{
    (void)state;
    struct writer w[2] = { { .nruns = 25 }, { .nruns = 25 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        if (w[i].err[0])
            fail_msg("writer %d: %s", i, w[i].err);
        assert_int_equal(w[i].stored, 25);
    }
    struct db *db = open_ok();
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM runs"), 50);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM samples"), 50 * 2000);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM hosts"), 1);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM schema_version"), 1);
    db_close(db);
}

/* Many samples go in whole and intact (their speed is measured in `make bench`). */
static void test_many_samples_intact(void **state)
{
    (void)state;
    struct db *db = open_ok();
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    fake_result(&r, 100000);
    double want = 0;
    for (size_t i = 0; i < r.nsamples; i++)
        want += r.samples[i].value;
    struct vmm_err e = { 0 };
    int64_t id;
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e), 0);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM samples"), 100000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), "SELECT sum(value) FROM samples", -1, &st,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(fabs(sqlite3_column_double(st, 0) - want) <= 1e-6 * fabs(want) + 1e-9);
    sqlite3_finalize(st);
    vmm_result_free(&r);
    db_close(db);
}

/* A sweep: samples of three points interleaved batch by batch, plus point-less info
 * samples (the run's own parameters). Each point becomes its own run row, in order of
 * first appearance, with its samples in their order; the console and the placement rows
 * are stored once, on the first row, and the other rows leave them out. */
static void test_sweep_round_trip(void **state)
{
    (void)state;
    struct db *db = open_ok();
    sqlite3 *h = db_handle(db);
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    vmm_result_init(&r);
    static const char *const pts[] = { "size=8192", "size=4096", "size=65536" };
    assert_int_equal(vmm_result_add(&r, "llc_bytes", "bytes", 0, false, 1 << 20), 0);
    for (uint32_t b = 0; b < 6; b++)
        for (int p = 0; p < 3; p++) {
            /* batch numbers differ per point so a mix-up shows */
            assert_int_equal(vmm_result_add_point(&r, "latency", "ns", pts[p], b * 10 + (uint32_t)p,
                                                  b == 0, (double)(p * 100 + (int)b)), 0);
            assert_int_equal(vmm_result_add_point(&r, "latency_cycles", "cycles", pts[p], b,
                                                  b == 0, 1.0), 0);
        }
    r.console = strdup("sweep console\n");
    r.console_len = strlen(r.console);
    r.placement.valid = true;
    r.placement.nvcpus = 2;
    r.placement.nvnodes = 1;
    r.placement.vcpu[0].requested_cpu = r.placement.vcpu[1].requested_cpu = -1;
    r.placement.mem[0].taken = true;
    snprintf(r.placement.requested, sizeof r.placement.requested, "2 vCPUs unpinned");
    struct vmm_err e = { 0 };
    int64_t first = 0;
    struct run_spec sweep = spec;
    sweep.params = "stride=64";
    if (db_store_run(db, &hi, &c, &sweep, &r, &first, &e) != 0)
        fail_msg("store: %s", e.msg);
    assert_int_equal(count(h, "SELECT count(*) FROM runs"), 4);
    assert_int_equal(first, count(h, "SELECT min(id) FROM runs"));
    /* rows in order of first appearance: "" (the info sample came first), then the points */
    char *order = text_of(h, "SELECT group_concat(params, '|') FROM (SELECT params FROM runs "
                             "ORDER BY id)");
    assert_string_equal(order, "stride=64|size=8192 stride=64|size=4096 stride=64|"
                               "size=65536 stride=64");
    free(order);
    /* every point's samples, in their order, with their batch numbers */
    char *lat = text_of(h, "SELECT group_concat(batch || ':' || CAST(value AS INTEGER), ',') "
                           "FROM (SELECT s.batch, s.value FROM samples s JOIN runs r ON "
                           "r.id = s.run_id WHERE r.params LIKE 'size=4096%' AND "
                           "s.metric = 'latency' ORDER BY s.rowid)");
    assert_string_equal(lat, "1:100,11:101,21:102,31:103,41:104,51:105");
    free(lat);
    assert_int_equal(count(h, "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id "
                              "WHERE r.params LIKE 'size=65536%' AND s.warmup = 1"), 2);
    assert_int_equal(count(h, "SELECT count(*) FROM samples WHERE run_id = (SELECT min(id) "
                              "FROM runs)"), 1);
    assert_int_equal(count(h, "SELECT count(*) FROM samples"), 1 + 3 * 6 * 2);
    /* the console once, on the first row */
    assert_int_equal(count(h, "SELECT count(*) FROM runs WHERE console IS NOT NULL"), 1);
    char *con = text_of(h, "SELECT CAST(console AS TEXT) FROM runs ORDER BY id LIMIT 1");
    assert_string_equal(con, "sweep console\n");
    free(con);
    /* placement rows once (2 vCPUs, 1 node, backing), the summary on every row */
    assert_int_equal(count(h, "SELECT count(*) FROM placement"), 4);
    assert_int_equal(count(h, "SELECT count(DISTINCT run_id) FROM placement"), 1);
    assert_int_equal(count(h, "SELECT min(run_id) FROM placement"), first);
    assert_int_equal(count(h, "SELECT count(*) FROM runs WHERE placement_requested = "
                              "'2 vCPUs unpinned'"), 4);
    /* `show --run` of a later point finds the sweep's facts */
    char *shown = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&shown, &len);
    assert_non_null(out);
    assert_int_equal(placement_report_print(h, first + 3, out), 0);
    assert_int_equal(placement_report_json(h, first + 2, out), 0);
    fclose(out);
    size_t rows = 0;
    for (const char *p = shown; (p = strstr(p, "sampled pages")); p++)
        rows++;
    assert_int_equal(rows, 2); /* the memory row, once in text and once in JSON */
    char want[64];
    snprintf(want, sizeof want, "{\"run\":%lld,\"kind\":\"vcpu\"", (long long)(first + 2));
    assert_non_null(strstr(shown, want));
    free(shown);
    vmm_result_free(&r);
    db_close(db);
}

/* More distinct points than a run may have are refused whole, naming the limit. */
static void test_too_many_points_refused(void **state)
{
    (void)state;
    struct db *db = open_ok();
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    struct vmm_result r;
    vmm_result_init(&r);
    char pt[VMM_POINT_MAX];
    for (unsigned i = 0; i < VMM_RESULT_MAX_POINTS; i++) {
        snprintf(pt, sizeof pt, "n=%u", i);
        assert_int_equal(vmm_result_add_point(&r, "latency", "ns", pt, 0, false, 1.0), 0);
    }
    assert_int_equal(vmm_result_add(&r, "llc_bytes", "bytes", 0, false, 1.0), 0);
    struct vmm_err e = { 0 };
    int64_t id = 0;
    if (db_store_run(db, &hi, &c, &spec, &r, &id, &e) != 0) /* the limit itself */
        fail_msg("store at the limit: %s", e.msg);
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM runs"),
                     VMM_RESULT_MAX_POINTS + 1);
    assert_int_equal(vmm_result_add_point(&r, "latency", "ns", "n=x", 0, false, 1.0), 0);
    assert_int_equal(db_store_run(db, &hi, &c, &spec, &r, &id, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_DATABASE);
    char want[64];
    snprintf(want, sizeof want, "more than the %u a run may have", VMM_RESULT_MAX_POINTS);
    assert_non_null(strstr(e.msg, want));
    assert_int_equal(count(db_handle(db), "SELECT count(*) FROM runs"),
                     VMM_RESULT_MAX_POINTS + 1);
    vmm_result_free(&r);
    db_close(db);
}

/* Placement facts are judged row by row: a guest node's memory is where it was asked only
 * with no sampled page elsewhere; 4 KiB backing only with no huge page; huge backing when
 * at least 90% of what is resident is huge (or under 2 MiB is). And two configs that share
 * a name but not their text are two configs, each run tied to its own. */
static void test_placement_rows_judged(void **state)
{
    (void)state;
    struct db *db = open_ok();
    sqlite3 *h = db_handle(db);
    struct host_info hi;
    fake_host(&hi);
    struct bench_config c;
    config_default(&c);
    char text_a[] = "[vm]\nname=same\n# a\n", text_b[] = "[vm]\nname=same\n# b\n";
    snprintf(c.name, sizeof c.name, "same");
    c.text = text_a;
    struct vmm_err e = { 0 };
    int64_t id[3];
    static const uint64_t page[3] = { 4096, 2 << 20, 2 << 20 };
    static const uint64_t huge[3] = { 2 << 20, 61 << 20, 32 << 20 }; /* of 64 MiB */
    for (int k = 0; k < 3; k++) {
        struct vmm_result r;
        fake_result(&r, 10);
        struct vmm_placement_obs *o = &r.placement;
        o->valid = true;
        o->nvnodes = 2;
        o->backing_page_size = page[k];
        o->mem[VMM_OBS_AT_END].taken = true;
        o->mem[VMM_OBS_AT_END].rss_bytes = 64 << 20;
        o->mem[VMM_OBS_AT_END].huge_bytes = huge[k];
        o->mem[VMM_OBS_AT_END].vnode[0] = (struct vmm_vnode_obs){ 0, 64, 63, 1, 0, 1 };
        o->mem[VMM_OBS_AT_END].vnode[1] = (struct vmm_vnode_obs){ 1, 64, 64, 0, 0, -1 };
        if (k == 2)
            c.text = text_b;
        if (db_store_run(db, &hi, &c, &spec, &r, &id[k], &e) != 0)
            fail_msg("store %d: %s", k, e.msg);
        vmm_result_free(&r);
    }
    char sql[256];
    for (int k = 0; k < 3; k++) {
        /* node 0 has one page elsewhere, node 1 none */
        snprintf(sql, sizeof sql, "SELECT group_concat(subject || ':' || ok) FROM (SELECT "
                 "subject, ok FROM placement WHERE run_id = %lld AND kind = 'memory' AND "
                 "moment = 'at_end' ORDER BY subject)", (long long)id[k]);
        char *mem = text_of(h, sql);
        assert_string_equal(mem, "0:0,1:1");
        free(mem);
        snprintf(sql, sizeof sql, "SELECT ok FROM placement WHERE run_id = %lld AND kind = "
                 "'backing'", (long long)id[k]);
        /* 4 KiB with 2 MiB huge: wrong; huge with 61 of 64 MiB huge: fine; with 32: wrong */
        assert_int_equal(count(h, sql), k == 1);
    }
    assert_int_equal(count(h, "SELECT count(*) FROM placement WHERE moment = 'after_touch'"), 0);
    assert_int_equal(count(h, "SELECT count(*) FROM configs WHERE name = 'same'"), 2);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT config_id) FROM runs WHERE id IN (%lld, "
             "%lld)", (long long)id[0], (long long)id[2]);
    assert_int_equal(count(h, sql), 2);
    db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_store_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_mid_store_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_schema_version_refused_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_version4_file_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1_file_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_sqlite_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_directory_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_directory_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_samples_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_points_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placement_rows_judged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
