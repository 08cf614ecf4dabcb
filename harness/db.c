/* The results database: opening (with the checks that keep us from writing into the
 * wrong file) and storing one run, all or nothing. */
#include "db.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_schema.h"

struct db {
    sqlite3 *h;
    char path[PATH_MAX];
};

struct sqlite3 *db_handle(struct db *db)
{
    return db->h;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    sqlite3_close(db->h);
    free(db);
}

/* A missing or read-only directory would otherwise surface as SQLite's vague "unable to
 * open database file"; WAL also needs to create PATH-wal and PATH-shm next to it. */
static int check_directory(const char *path, struct vmm_err *e)
{
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "database path too long: %s", path);
    const char *dir = dirname(copy);
    struct stat st;
    if (stat(dir, &st) != 0)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot create database %s: directory %s "
                           "does not exist; create it (mkdir -p %s) or pass another --db",
                           path, dir, dir);
    if (!S_ISDIR(st.st_mode))
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot create database %s: %s is not a "
                           "directory; pass another --db", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot write database %s: directory %s is "
                           "not writable (%s); fix its permissions or pass another --db",
                           path, dir, strerror(errno));
    if (access(path, F_OK) == 0 && access(path, R_OK | W_OK) != 0)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot write database %s: %s; fix its "
                           "permissions or pass another --db", path, strerror(errno));
    return 0;
}

static int db_fail(struct db *db, struct vmm_err *e, const char *what)
{
    return vmm_err_set(e, VMM_EXIT_DATABASE, "%s: %s: %s", db->path, what,
                       sqlite3_errmsg(db->h));
}

static int exec(struct db *db, const char *sql, struct vmm_err *e)
{
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, e, sql);
    return 0;
}

/* Switching to WAL needs an exclusive lock. When another connection is creating the
 * same new file, SQLite returns SQLITE_BUSY at once instead of calling the busy handler
 * (waiting could deadlock it), so we wait here, as long as the busy timeout would. */
static int set_wal(struct db *db, struct vmm_err *e)
{
    for (int waited_ms = 0;; waited_ms += 10) {
        int rc = sqlite3_exec(db->h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= 10000)
            return db_fail(db, e, "switching to WAL");
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* Runs a query that yields one integer. Returns the SQLite result code; *out is set only
 * on SQLITE_ROW. */
static int query_int(struct db *db, const char *sql, long long *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int has_version_table(struct db *db, bool *yes)
{
    long long n = 0;
    int rc = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                       "name='schema_version'", &n);
    *yes = n > 0;
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Creates the schema in one transaction. Another process may be doing the same on the
 * same new file: whoever takes the write lock first creates, the other finds it done. */
static int create_schema(struct db *db, struct vmm_err *e)
{
    /* WAL must be set outside a transaction; it lets readers and one writer coexist. */
    if (set_wal(db, e) || exec(db, "BEGIN IMMEDIATE", e))
        return -1;
    bool exists;
    if (has_version_table(db, &exists) != 0) {
        db_fail(db, e, "reading the schema");
        goto rollback;
    }
    if (!exists) {
        char ins[64];
        snprintf(ins, sizeof ins, "INSERT INTO schema_version VALUES(%d)", DB_SCHEMA_VERSION);
        if (exec(db, db_schema_sql, e) || exec(db, ins, e))
            goto rollback;
    }
    if (exec(db, "COMMIT", e) == 0)
        return 0;
rollback:
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Reads the schema version without writing anything: a file of another version must
 * stay exactly as it is. */
static int check_version(struct db *db, struct vmm_err *e)
{
    bool exists;
    if (has_version_table(db, &exists) != 0)
        return db_fail(db, e, "reading the schema");
    if (!exists)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "%s is an SQLite database but not a "
                           "vmmbench one (no schema_version table); pass another --db path",
                           db->path);
    long long v = -1;
    int rc = query_int(db, "SELECT version FROM schema_version", &v);
    if (rc != SQLITE_ROW)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "%s has no schema version row; it is "
                           "damaged, pass another --db path", db->path);
    if (v >= 1 && v < DB_SCHEMA_VERSION) {
        if (exec(db, "BEGIN IMMEDIATE", e))
            return -1;
        /* Re-read under the write lock: another process may have upgraded it meanwhile;
         * then step up one version at a time, all in one transaction. */
        if (query_int(db, "SELECT version FROM schema_version", &v) != SQLITE_ROW ||
            (v == 1 && exec(db, db_migrate_v1_to_v2, e)) ||
            (v <= 2 && exec(db, db_migrate_v2_to_v3, e)) ||
            (v <= 3 && exec(db, db_migrate_v3_to_v4, e)) ||
            (v <= 4 && exec(db, db_migrate_v4_to_v5, e))) {
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        if (exec(db, "COMMIT", e))
            return -1;
        v = DB_SCHEMA_VERSION;
    }
    if (v != DB_SCHEMA_VERSION)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "%s has schema version %lld, this vmmbench "
                           "uses %d; use a vmmbench built for version %lld or a new --db path",
                           db->path, v, DB_SCHEMA_VERSION, v);
    return 0;
}

int db_open(const char *path, struct db **out, struct vmm_err *e)
{
    *out = NULL;
    if (check_directory(path, e) != 0)
        return -1;
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory opening %s", path);
    snprintf(db->path, sizeof db->path, "%s", path);

    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
        != SQLITE_OK) {
        db_fail(db, e, "cannot open database");
        goto fail;
    }
    if (sqlite3_db_readonly(db->h, "main") == 1) {
        vmm_err_set(e, VMM_EXIT_DATABASE, "cannot write database %s: it is read-only; fix "
                    "its permissions or pass another --db", path);
        goto fail;
    }
    sqlite3_busy_timeout(db->h, 10000);

    /* The first read of the header is where a file that is not SQLite shows itself. */
    long long ntables = 0;
    int rc = query_int(db, "SELECT count(*) FROM sqlite_master", &ntables);
    if (rc == SQLITE_NOTADB) {
        vmm_err_set(e, VMM_EXIT_DATABASE, "%s is not an SQLite database; pass another --db "
                    "path or move the file away", path);
        goto fail;
    }
    if (rc != SQLITE_ROW) {
        db_fail(db, e, "cannot read database");
        goto fail;
    }
    if (ntables == 0 && create_schema(db, e) != 0)
        goto fail;
    if (check_version(db, e) != 0)
        goto fail;
    if (set_wal(db, e) || exec(db, "PRAGMA foreign_keys=ON", e))
        goto fail;
    *out = db;
    return 0;
fail:
    db_close(db);
    return -1;
}

/* ---- storing one run ---- */

static int prepare(struct db *db, const char *sql, sqlite3_stmt **st, struct vmm_err *e)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(db, e, "preparing a statement");
    return 0;
}

/* Text from fixed-size fields, never reading past the field. */
#define BIND_FIELD(st, i, field) \
    sqlite3_bind_text(st, i, field, (int)strnlen(field, sizeof field), SQLITE_STATIC)

/* Every field, one per line: a host row is reused only when all of them match. */
static void host_fingerprint(const struct host_info *h, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s\n%.*s\n%.*s\n%.*s\n%.*s\n%u\n%d\n%d\n%.*s\n%.*s\n%.*s\n%d\n"
             "%.*s\n%.*s\n%.*s\n%.*s\n%.*s\n%u\n%.*s\n%.*s\n%.*s\n%.*s\n%lld\n%.*s\n%.*s",
#define F(x) (int)sizeof h->x, h->x
             F(hostname), F(cpu_vendor), F(cpu_model), F(microcode), F(kernel),
             h->cpus_online, h->kvm_present, h->kvm_api, F(kvm_flavour), F(kvm_modules),
             F(mmu_mode), h->pmu_available, F(pmu_reason), F(thp), F(hugepages),
             F(governor), F(smt), h->numa_nodes, F(suite_rev), F(topology), F(numa_distances),
             F(emulated), h->irq.halt_poll_ns, F(irq.apicv), F(irq.apic_mode));
#undef F
}

static double now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs an INSERT OR IGNORE, then the SELECT that finds the row either way. */
static int upsert_id(struct db *db, sqlite3_stmt *ins, sqlite3_stmt *sel, int64_t *id,
                     const char *what, struct vmm_err *e)
{
    if (sqlite3_step(ins) != SQLITE_DONE)
        return db_fail(db, e, what);
    if (sqlite3_step(sel) != SQLITE_ROW)
        return db_fail(db, e, what);
    *id = sqlite3_column_int64(sel, 0);
    return 0;
}

static int store_host(struct db *db, const struct host_info *h, int64_t *id,
                      struct vmm_err *e)
{
    char fp[4096];
    host_fingerprint(h, fp, sizeof fp);
    sqlite3_stmt *ins = NULL, *sel = NULL;
    int rc = -1;
    if (prepare(db, "INSERT OR IGNORE INTO hosts(fingerprint, hostname, cpu_vendor, "
                "cpu_model, microcode, kernel, cpus_online, kvm_present, kvm_api, "
                "kvm_flavour, kvm_modules, mmu_mode, pmu_available, pmu_reason, thp, "
                "hugepages, governor, smt, numa_nodes, suite_rev, first_seen, "
                "topology_summary, numa_distances, topology_xml, emulated, halt_poll_ns, apicv, "
                "apic_mode) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &ins, e) ||
        prepare(db, "SELECT id FROM hosts WHERE fingerprint = ?", &sel, e))
        goto out;
    sqlite3_bind_text(ins, 1, fp, -1, SQLITE_STATIC);
    BIND_FIELD(ins, 2, h->hostname);
    BIND_FIELD(ins, 3, h->cpu_vendor);
    BIND_FIELD(ins, 4, h->cpu_model);
    BIND_FIELD(ins, 5, h->microcode);
    BIND_FIELD(ins, 6, h->kernel);
    sqlite3_bind_int64(ins, 7, h->cpus_online);
    sqlite3_bind_int(ins, 8, h->kvm_present);
    sqlite3_bind_int(ins, 9, h->kvm_api);
    BIND_FIELD(ins, 10, h->kvm_flavour);
    BIND_FIELD(ins, 11, h->kvm_modules);
    BIND_FIELD(ins, 12, h->mmu_mode);
    sqlite3_bind_int(ins, 13, h->pmu_available);
    BIND_FIELD(ins, 14, h->pmu_reason);
    BIND_FIELD(ins, 15, h->thp);
    BIND_FIELD(ins, 16, h->hugepages);
    BIND_FIELD(ins, 17, h->governor);
    BIND_FIELD(ins, 18, h->smt);
    sqlite3_bind_int64(ins, 19, h->numa_nodes);
    BIND_FIELD(ins, 20, h->suite_rev);
    sqlite3_bind_double(ins, 21, now_unix());
    BIND_FIELD(ins, 22, h->topology);
    BIND_FIELD(ins, 23, h->numa_distances);
    if (h->topology_xml)
        sqlite3_bind_text(ins, 24, h->topology_xml, -1, SQLITE_STATIC);
    if (h->emulated[0])
        BIND_FIELD(ins, 25, h->emulated);
    if (h->irq.halt_poll_ns >= 0)
        sqlite3_bind_int64(ins, 26, h->irq.halt_poll_ns);
    BIND_FIELD(ins, 27, h->irq.apicv);
    BIND_FIELD(ins, 28, h->irq.apic_mode);
    sqlite3_bind_text(sel, 1, fp, -1, SQLITE_STATIC);
    rc = upsert_id(db, ins, sel, id, "storing the host", e);
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    return rc;
}

static int store_config(struct db *db, const struct bench_config *c, int64_t *id,
                        struct vmm_err *e)
{
    /* The built-in default has no file text; '' keeps UNIQUE working (NULLs never match). */
    const char *text = c->text ? c->text : "";
    const char *hv = vmm_hypervisor_name(c->hypervisor);
    /* A config never resolved (config_resolve_hypervisor) is vmm-min's by default. */
    const char *hv_version = c->hypervisor_version[0] ? c->hypervisor_version : hv;
    sqlite3_stmt *ins = NULL, *sel = NULL;
    int rc = -1;
    if (prepare(db, "INSERT OR IGNORE INTO configs(name, vcpus, mem_bytes, text, hypervisor, "
                "hypervisor_version, source) VALUES(?,?,?,?,?,?,?)", &ins, e) ||
        prepare(db, "SELECT id FROM configs WHERE name = ? AND vcpus = ? AND mem_bytes = ? "
                "AND text = ? AND hypervisor = ? AND hypervisor_version = ?", &sel, e))
        goto out;
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = i ? sel : ins;
        BIND_FIELD(st, 1, c->name);
        sqlite3_bind_int64(st, 2, c->vcpus);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)c->mem_bytes);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, hv, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, hv_version, -1, SQLITE_TRANSIENT);
    }
    BIND_FIELD(ins, 7, c->source);
    rc = upsert_id(db, ins, sel, id, "storing the config", e);
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    return rc;
}

static int store_run_row(struct db *db, int64_t host_id, int64_t config_id,
                         const struct run_spec *spec, const struct vmm_result *r,
                         bool with_console, int64_t *run_id, struct vmm_err *e)
{
    sqlite3_stmt *st;
    if (prepare(db, "INSERT INTO runs(host_id, config_id, workload, params, rep, tag, "
                "status, reason, started, ended, wall_seconds, tsc_khz, exits, console, "
                "console_truncated, placement_requested, placement_mismatch) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_int64(st, 2, config_id);
    sqlite3_bind_text(st, 3, spec->workload, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, spec->params ? spec->params : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, spec->rep);
    if (spec->tag)
        sqlite3_bind_text(st, 6, spec->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, vmm_status_name(r->status), -1, SQLITE_STATIC);
    if (r->reason[0])
        BIND_FIELD(st, 8, r->reason);
    sqlite3_bind_double(st, 9, spec->started);
    sqlite3_bind_double(st, 10, spec->ended);
    sqlite3_bind_double(st, 11, r->wall_seconds);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)r->tsc_khz);
    sqlite3_bind_int64(st, 13, (sqlite3_int64)r->exits);
    if (r->console && with_console)
        sqlite3_bind_blob64(st, 14, r->console, r->console_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 15, r->console_truncated);
    if (r->placement.valid) {
        BIND_FIELD(st, 16, r->placement.requested);
        BIND_FIELD(st, 17, r->placement.mismatch);
    }
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, e, "storing the run");
    else
        *run_id = sqlite3_last_insert_rowid(db->h);
    sqlite3_finalize(st);
    return rc;
}

/* Samples go in SAMPLE_ROWS at a time through one multi-row INSERT, prepared once and
 * reused; a single-row statement takes the remainder. They are inserted one metric after
 * the other (first-appearance order, each metric's samples in their own order), so the
 * (run_id, metric) index only ever grows at one place. On the reference VM a million
 * samples of three interleaved metrics take about 0.9 s this way, against 2.1 s one row
 * at a time in their original order. */
#define SAMPLE_ROWS 64
#define SAMPLE_COLS 5          /* bound per row; run_id is ?1, shared by every row */
#define SAMPLE_METRICS_MAX 16  /* more distinct metrics than this: insert in plain order */

static int prepare_sample_insert(struct db *db, int rows, sqlite3_stmt **st,
                                 struct vmm_err *e)
{
    static const char head[] =
        "INSERT INTO samples(run_id, metric, unit, batch, warmup, value) VALUES";
    static const char row[] = "(?1,?,?,?,?,?),";
    char sql[sizeof head + SAMPLE_ROWS * (sizeof row - 1)];
    size_t len = sizeof head - 1;
    memcpy(sql, head, len);
    for (int i = 0; i < rows; i++) {
        memcpy(sql + len, row, sizeof row - 1);
        len += sizeof row - 1;
    }
    sql[len - 1] = '\0';   /* drop the last comma */
    return prepare(db, sql, st, e);
}

/* Binds the samples whose indexes are in idx[0..rows) to st and runs it. */
static int insert_rows(struct db *db, sqlite3_stmt *st, int64_t run_id,
                       const struct vmm_result *r, const size_t *idx, int rows,
                       struct vmm_err *e)
{
    for (int k = 0; k < rows; k++) {
        const struct vmm_sample *s = &r->samples[idx[k]];
        int p = 1 + k * SAMPLE_COLS;
        /* SQLite would store NaN as NULL; say what is wrong instead. */
        if (!isfinite(s->value))
            return vmm_err_set(e, VMM_EXIT_DATABASE, "%s: sample %zu of metric '%.*s' is "
                               "not a finite number; nothing of this run was stored",
                               db->path, idx[k], (int)sizeof s->metric, s->metric);
        BIND_FIELD(st, p + 1, s->metric);
        BIND_FIELD(st, p + 2, s->unit);
        sqlite3_bind_int64(st, p + 3, s->batch);
        sqlite3_bind_int(st, p + 4, s->warmup);
        sqlite3_bind_double(st, p + 5, s->value);
    }
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, e, "storing samples");
}

/* Distinct metrics of the samples idx[0..n) in first-appearance order; 0 when there are
 * too many to group by. */
static size_t distinct_metrics(const struct vmm_result *r, const size_t *idx, size_t nidx,
                               const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < nidx; i++) {
        const char *m = r->samples[idx[i]].metric;
        size_t j = 0;
        while (j < n && strncmp(out[j], m, VMM_METRIC_MAX) != 0)
            j++;
        if (j == n) {
            if (n == SAMPLE_METRICS_MAX)
                return 0;
            out[n++] = m;
        }
    }
    return n;
}

/* Stores the samples idx[0..nidx) of r under run_id. */
static int store_samples(struct db *db, int64_t run_id, const struct vmm_result *r,
                         const size_t *sel, size_t nsel, struct vmm_err *e)
{
    sqlite3_stmt *many = NULL, *one = NULL;
    int rc = -1;
    if (prepare_sample_insert(db, SAMPLE_ROWS, &many, e) ||
        prepare_sample_insert(db, 1, &one, e))
        goto out;
    const char *metrics[SAMPLE_METRICS_MAX];
    size_t nm = distinct_metrics(r, sel, nsel, metrics);
    size_t passes = nm ? nm : 1;
    size_t idx[SAMPLE_ROWS];
    for (size_t m = 0; m < passes; m++) {
        int k = 0;
        for (size_t j = 0; j < nsel; j++) {
            size_t i = sel[j];
            if (nm && strncmp(r->samples[i].metric, metrics[m], VMM_METRIC_MAX) != 0)
                continue;
            idx[k++] = i;
            if (k == SAMPLE_ROWS) {
                if (insert_rows(db, many, run_id, r, idx, k, e) != 0)
                    goto out;
                k = 0;
            }
        }
        for (int j = 0; j < k; j++)
            if (insert_rows(db, one, run_id, r, &idx[j], 1, e) != 0)
                goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(many);
    sqlite3_finalize(one);
    return rc;
}

static int placement_row(struct db *db, sqlite3_stmt *st, int64_t run_id, const char *kind,
                         unsigned subject, const char *moment, const char *requested,
                         const char *observed, bool ok, struct vmm_err *e)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, subject);
    sqlite3_bind_text(st, 4, moment, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, requested, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, observed, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 7, ok);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, "storing placement");
}

/* One row per vCPU (requested CPU vs affinity and CPUs seen), per guest node and moment
 * (requested host node vs where sampled pages were), and per moment for huge pages. */
static int store_placement(struct db *db, int64_t run_id, const struct vmm_placement_obs *o,
                           struct vmm_err *e)
{
    if (!o->valid)
        return 0;
    sqlite3_stmt *st;
    if (prepare(db, "INSERT INTO placement(run_id, kind, subject, moment, requested, observed, "
                "ok) VALUES(?,?,?,?,?,?,?)", &st, e))
        return -1;
    int rc = 0;
    char req[64], obs[320], ran[128], aff[128];
    for (unsigned i = 0; i < o->nvcpus && i < VMMB_MAX_VCPUS && !rc; i++) {
        const struct vmm_vcpu_obs *v = &o->vcpu[i];
        vmm_cpuset_text(v->ran_on, ran, sizeof ran);
        vmm_cpuset_text(v->affinity, aff, sizeof aff);
        bool ok = true;
        if (v->requested_cpu >= 0) {
            snprintf(req, sizeof req, "cpu %d", v->requested_cpu);
            snprintf(obs, sizeof obs, "%d", v->requested_cpu);
            ok = strcmp(aff, obs) == 0 && (ran[0] == '\0' || strcmp(ran, obs) == 0);
        } else {
            snprintf(req, sizeof req, "any cpu");
        }
        snprintf(obs, sizeof obs, "affinity %s, ran on %s", aff, ran[0] ? ran : "-");
        rc = placement_row(db, st, run_id, "vcpu", i, "run", req, obs, ok, e);
    }
    static const char *const moments[2] = { "after_touch", "at_end" };
    bool wants_huge = o->backing_page_size > 4096;
    for (int m = 0; m < 2 && !rc; m++) {
        const struct vmm_mem_obs *mo = &o->mem[m];
        if (!mo->taken)
            continue;
        for (unsigned n = 0; n < o->nvnodes && n < VMM_MAX_VNODES && !rc; n++) {
            const struct vmm_vnode_obs *v = &mo->vnode[n];
            if (v->requested_node >= 0)
                snprintf(req, sizeof req, "host node %d", v->requested_node);
            else
                snprintf(req, sizeof req, "any node");
            if (v->elsewhere)
                snprintf(obs, sizeof obs, "%u of %u sampled pages there, %u elsewhere (e.g. host "
                         "node %d), %u absent", v->on_requested, v->sampled, v->elsewhere,
                         v->other_node, v->absent);
            else
                snprintf(obs, sizeof obs, "%u of %u sampled pages there, %u absent",
                         v->on_requested, v->sampled, v->absent);
            rc = placement_row(db, st, run_id, "memory", n, moments[m], req, obs,
                               v->elsewhere == 0, e);
        }
        if (rc)
            break;
        snprintf(req, sizeof req, "%s pages", wants_huge ? "huge" : "4 KiB");
        snprintf(obs, sizeof obs, "%llu of %llu KiB resident in huge pages",
                 (unsigned long long)(mo->huge_bytes >> 10), (unsigned long long)(mo->rss_bytes >> 10));
        bool ok = wants_huge ? mo->rss_bytes < (2ull << 20) || mo->huge_bytes * 10 >= mo->rss_bytes * 9
                             : mo->huge_bytes == 0;
        rc = placement_row(db, st, run_id, "backing", 0, moments[m], req, obs, ok, e);
    }
    sqlite3_finalize(st);
    return rc;
}

/* One run row with the samples sel[0..nsel). The console and the placement rows go with
 * the first row of a run only (first): a sweep's points share them. */
static int store_one(struct db *db, int64_t host_id, int64_t config_id,
                     const struct run_spec *spec, const struct vmm_result *r,
                     const size_t *sel, size_t nsel, bool first, int64_t *id,
                     struct vmm_err *e)
{
    return store_run_row(db, host_id, config_id, spec, r, first, id, e) ||
                   store_samples(db, *id, r, sel, nsel, e) ||
                   (first && store_placement(db, *id, &r->placement, e))
               ? -1
               : 0;
}

/* qsort_r order of sample indexes: by point, then by position, so each point's samples
 * form one stretch of the index in their original order. */
static int cmp_by_point(const void *a, const void *b, void *ctx)
{
    const struct vmm_sample *s = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strncmp(s[x].point, s[y].point, VMM_POINT_MAX);
    return c ? c : (x > y) - (x < y);
}

struct point_group {
    size_t start, n;   /* a stretch of the sorted index */
};

/* Points in order of first appearance: a group's first index is its smallest. */
static int cmp_group_first(const void *a, const void *b, void *ctx)
{
    const size_t *idx = ctx;
    size_t x = idx[((const struct point_group *)a)->start];
    size_t y = idx[((const struct point_group *)b)->start];
    return (x > y) - (x < y);
}

/* A sweeping run (samples with points, e.g. size=4096) is stored as one run row per
 * point, each with the run's parameters plus the point's, so every summary, comparison
 * and plot sees a point as an ordinary (workload, params) group. The rows share the
 * repetition, times, status and the placement summary; the console and the placement rows
 * are stored once, with the first point's row (the lowest id of the sweep, *first_id),
 * and are NULL / absent on the others. Sorting an index by point keeps this
 * O(samples log samples) whatever the guest reported; more distinct points than a run
 * may have (VMM_RESULT_MAX_POINTS) are refused, as the VMM refuses them. */
static int store_points(struct db *db, int64_t host_id, int64_t config_id,
                        const struct run_spec *spec, const struct vmm_result *r,
                        int64_t *first_id, struct vmm_err *e)
{
    size_t n = r->nsamples;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    struct point_group *g = malloc((n ? n : 1) * sizeof *g);
    int rc = -1;
    if (!idx || !g) {
        vmm_err_set(e, VMM_EXIT_DATABASE, "out of memory storing %zu samples", n);
        goto out;
    }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        any |= r->samples[i].point[0] != '\0';
    }
    if (!any) { /* no sweep: one row, samples in their order, nothing to sort */
        rc = store_one(db, host_id, config_id, spec, r, idx, n, true, first_id, e);
        goto out;
    }
    qsort_r(idx, n, sizeof *idx, cmp_by_point, r->samples);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strncmp(r->samples[idx[i]].point, r->samples[idx[i - 1]].point,
                              VMM_POINT_MAX) != 0)
            g[ng++] = (struct point_group){ i, 0 };
        g[ng - 1].n++;
    }
    if (ng > VMM_RESULT_MAX_POINTS + 1) { /* + 1: the run's own parameters, point "" */
        vmm_err_set(e, VMM_EXIT_DATABASE, "%s: the run has %zu distinct points, more than "
                    "the %u a run may have; nothing of this run was stored", db->path, ng,
                    VMM_RESULT_MAX_POINTS);
        goto out;
    }
    qsort_r(g, ng, sizeof *g, cmp_group_first, idx);
    rc = 0;
    for (size_t p = 0; p < ng && !rc; p++) {
        const char *pt = r->samples[idx[g[p].start]].point;
        char params[512];
        vmm_params_merge(spec->params ? spec->params : "", pt, params, sizeof params);
        struct run_spec ps = *spec;
        ps.params = params;
        int64_t id = 0;
        rc = store_one(db, host_id, config_id, &ps, r, idx + g[p].start, g[p].n, p == 0, &id,
                       e);
        if (p == 0)
            *first_id = id;
    }
out:
    free(idx);
    free(g);
    return rc;
}

int db_store_run(struct db *db, const struct host_info *h, const struct bench_config *c,
                 const struct run_spec *spec, const struct vmm_result *r, int64_t *run_id,
                 struct vmm_err *e)
{
    /* IMMEDIATE takes the write lock up front, so a concurrent writer waits in the busy
     * handler here instead of failing halfway with SQLITE_BUSY. */
    if (exec(db, "BEGIN IMMEDIATE", e) != 0)
        return -1;
    int64_t host_id = 0, config_id = 0, id = 0;
    if (store_host(db, h, &host_id, e) || store_config(db, c, &config_id, e) ||
        store_points(db, host_id, config_id, spec, r, &id, e) || exec(db, "COMMIT", e)) {
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    *run_id = id;
    return 0;
}
