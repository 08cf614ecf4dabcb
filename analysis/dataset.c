/* Reading the results database for analysis; see dataset.h. */
#include "dataset.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "hier.h"

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

static int dberr(sqlite3 *db, struct vmm_err *e, const char *what)
{
    return vmm_err_set(e, VMM_EXIT_USAGE, "%s: %s: %s", sqlite3_db_filename(db, "main"), what,
                       sqlite3_errmsg(db));
}

/* Opens PATH read-only (as an immutable URI when asked) and runs PRAGMA quick_check: a
 * damaged page (an index, say) shows up only when read, and a query that never touches it
 * returns partial data without complaint. Returns the last step's code (SQLITE_DONE when
 * the check ran) and the first problem it reported into problem. */
static int open_ro(const char *path, bool immutable, sqlite3 **db, char *problem, size_t cap)
{
    char uri[4096 * 3 + 32] = "file:";
    if (immutable) {
        /* percent-encode what a URI path cannot hold as is */
        size_t n = strlen(uri);
        for (const unsigned char *c = (const unsigned char *)path; *c && n + 4 < sizeof uri; c++)
            n += (size_t)(isalnum(*c) || strchr("/-._~", *c) ?
                          snprintf(uri + n, sizeof uri - n, "%c", *c) :
                          snprintf(uri + n, sizeof uri - n, "%%%02X", *c));
        snprintf(uri + n, sizeof uri - n, "?immutable=1");
    }
    int rc = sqlite3_open_v2(immutable ? uri : path, db, SQLITE_OPEN_READONLY |
                             (immutable ? SQLITE_OPEN_URI : 0), NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_busy_timeout(*db, 10000);
    sqlite3_stmt *q;
    rc = sqlite3_prepare_v2(*db, "PRAGMA quick_check", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        if (t && strcmp((const char *)t, "ok") != 0 && !problem[0])
            snprintf(problem, cap, "%s", (const char *)t);
    }
    sqlite3_finalize(q);
    return rc;
}

int adb_open(const char *path, sqlite3 **out, struct vmm_err *e)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "no results database at %s: %s; run `vmmbench "
                           "run --db %s` first or pass another path", path, strerror(errno),
                           path);
    if (!S_ISREG(st.st_mode))
        return vmm_err_set(e, VMM_EXIT_USAGE, "%s is not a file; pass a results database",
                           path);
    sqlite3 *db;
    char problem[300] = "";
    int rc = open_ro(path, false, &db, problem, sizeof problem);
    if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN) {
        /* A WAL file that we may not write, in a directory where we cannot create its
         * -shm: SQLite can only read it as immutable (no locking, which is why it is not
         * the first choice: a concurrent writer would go unseen). */
        sqlite3_close(db);
        problem[0] = '\0';
        rc = open_ro(path, true, &db, problem, sizeof problem);
    }
    if (rc == SQLITE_NOTADB) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s is not a valid SQLite database (%s); pass a "
                    "vmmbench results database", path, sqlite3_errstr(rc));
        goto fail;
    }
    if (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY || rc == SQLITE_PERM ||
        rc == SQLITE_AUTH) {
        vmm_err_set(e, VMM_EXIT_USAGE, "cannot read %s: %s; check its permissions", path,
                    sqlite3_errstr(rc));
        goto fail;
    }
    if (rc != SQLITE_DONE || problem[0]) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s is damaged (integrity check: %s); restore it from a "
                    "copy (or `sqlite3 %s .recover`) and pass that", path,
                    problem[0] ? problem : sqlite3_errstr(rc), path);
        goto fail;
    }
    sqlite3_stmt *q;
    rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table' "
                            "AND name='schema_version'", -1, &q, NULL);
    long long has = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
        has = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s is not a valid SQLite database (%s); pass a "
                    "vmmbench results database", path, sqlite3_errstr(rc));
        goto fail;
    }
    if (rc != SQLITE_ROW) {
        vmm_err_set(e, VMM_EXIT_USAGE, "cannot read %s: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    if (!has) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s is an SQLite database but not a vmmbench one "
                    "(no schema_version table); pass a results database", path);
        goto fail;
    }
    long long v = -1;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    /* Older versions read fine (what they lack, placement, is simply absent); they are
     * never upgraded here: that is `vmmbench run`'s job, on a file it may write. */
    if (v < 1 || v > DB_SCHEMA_VERSION) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s has schema version %lld, this vmmbench reads "
                    "version %d; use a vmmbench built for version %lld to read it", path, v,
                    DB_SCHEMA_VERSION, v);
        goto fail;
    }
    /* A damaged page shows up only when read: walk the tables we use once, cheaply. */
    rc = sqlite3_exec(db, "SELECT count(*) FROM runs; SELECT count(*) FROM hosts; "
                      "SELECT count(*) FROM configs", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s is damaged or not a vmmbench database (%s); "
                    "restore it from a copy or pass another one", path, sqlite3_errmsg(db));
        goto fail;
    }
    *out = db;
    return 0;
fail:
    sqlite3_close(db);
    return -1;
}

/* ---- small text helpers ---- */

const char *ini_value(const char *text, const char *key, const char *def, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", def);
    if (!text)
        return buf;
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, key, klen) == 0) {
            const char *q = p + klen;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=') {
                q++;
                while (*q == ' ' || *q == '\t')
                    q++;
                size_t n = strcspn(q, ";#\r\n");
                while (n && (q[n - 1] == ' ' || q[n - 1] == '\t'))
                    n--;
                snprintf(buf, cap, "%.*s", (int)n, q);
                return buf;
            }
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return buf;
}

const char *param_value(const char *params, const char *key, char *buf, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = params; p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(buf, cap, "%.*s", (int)(n - klen - 1), p + klen + 1);
            return buf;
        }
        p += n;
    }
    return NULL;
}

void params_without(const char *params, const char *const *keys, size_t nkeys, bool drop_shape,
                    char *buf, size_t cap)
{
    static const char *const shape[] = { "batches", "warmup", "iters" };
    size_t len = 0;
    buf[0] = '\0';
    for (const char *p = params; p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        size_t kl = strcspn(p, "=");
        bool drop = false;
        for (size_t i = 0; i < nkeys && !drop; i++)
            drop = strlen(keys[i]) == kl && strncmp(p, keys[i], kl) == 0;
        for (size_t i = 0; drop_shape && i < 3 && !drop; i++)
            drop = strlen(shape[i]) == kl && strncmp(p, shape[i], kl) == 0;
        if (!drop && len + n + 2 < cap) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%.*s", len ? " " : "", (int)n, p);
        }
        p += n;
    }
}

/* ---- selectors ---- */

void selector_free(struct selector *s)
{
    free(s->ids);
    s->ids = NULL;
    s->nids = 0;
}

static int add_id(struct selector *s, int64_t id, struct vmm_err *e)
{
    if (s->nids % 64 == 0) {
        int64_t *n = realloc(s->ids, (s->nids + 64) * sizeof *n);
        if (!n)
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
        s->ids = n;
    }
    s->ids[s->nids++] = id;
    return 0;
}

/* "12", "12,15", "12-20,30": run ids. Returns 1 when text is not of that form. */
static int parse_ids(const char *text, struct selector *s, struct vmm_err *e)
{
    if (!*text || strspn(text, "0123456789,-") != strlen(text))
        return 1;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        long long a = strtoll(p, &end, 10), b;
        if (end == p || errno || a <= 0)
            return vmm_err_set(e, VMM_EXIT_USAGE, "run list '%s': give positive run ids like "
                               "12 or 12,15 or 12-20", text);
        b = a;
        p = end;
        if (*p == '-') {
            b = strtoll(p + 1, &end, 10);
            if (end == p + 1 || b < a || b - a > 10000000)
                return vmm_err_set(e, VMM_EXIT_USAGE, "run list '%s': a range is FROM-TO with "
                                   "FROM <= TO", text);
            p = end;
        }
        for (long long i = a; i <= b; i++)
            if (add_id(s, i, e))
                return -1;
        if (*p == ',')
            p++;
        else if (*p)
            return vmm_err_set(e, VMM_EXIT_USAGE, "run list '%s': unexpected '%c'", text, *p);
    }
    return 0;
}

/* "tags: a, b; configs: x, y" of a database, for messages. */
static void list_names(sqlite3 *db, char *buf, size_t cap)
{
    static const char *const q[2] = {
        "SELECT group_concat(t, ', ') FROM (SELECT DISTINCT tag t FROM runs WHERE tag IS NOT "
        "NULL ORDER BY max(id) OVER (PARTITION BY tag) DESC LIMIT 12)",
        "SELECT group_concat(n, ', ') FROM (SELECT DISTINCT name n FROM configs ORDER BY n)",
    };
    const char *what[2] = { "tags", "configs" };
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st;
        const char *v = "";
        if (sqlite3_prepare_v2(db, q[i], -1, &st, NULL) != SQLITE_OK)
            continue;
        if (sqlite3_step(st) == SQLITE_ROW)
            v = col(st, 0);
        len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s: %s",
                                i ? "; " : "", what[i], *v ? v : "(none)");
        sqlite3_finalize(st);
        if (len >= cap)
            break;
    }
}

static long long count_of(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    long long n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int selector_parse(const char *arg, const char *default_db, struct selector *s,
                   struct vmm_err *e)
{
    memset(s, 0, sizeof *s);
    snprintf(s->db_path, sizeof s->db_path, "%s", default_db);
    snprintf(s->label, sizeof s->label, "%s", arg);
    struct stat st;
    if (strncmp(arg, "db:", 3) == 0 || (strchr(arg, '/') && stat(arg, &st) == 0) ||
        (stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
        const char *path = strncmp(arg, "db:", 3) == 0 ? arg + 3 : arg;
        s->kind = SEL_ALL;
        snprintf(s->db_path, sizeof s->db_path, "%s", path);
        snprintf(s->label, sizeof s->label, "db:%s", path);
        return 0;
    }
    if (strcmp(arg, "all") == 0) {
        s->kind = SEL_ALL;
        return 0;
    }
    if (strcmp(arg, "newest") == 0) {
        s->kind = SEL_NEWEST;
        return 0;
    }
    if (strncmp(arg, "run:", 4) == 0 || parse_ids(arg, s, e) == 0) {
        if (s->nids == 0) {
            int rc = parse_ids(arg + 4, s, e);
            if (rc > 0)
                return vmm_err_set(e, VMM_EXIT_USAGE, "'%s': give run ids like run:12 or "
                                   "run:12-20,31", arg);
            if (rc < 0)
                return -1;
        }
        s->kind = SEL_RUNS;
        return 0;
    }
    if (e->code)
        return -1;
    const char *name = arg;
    int want = 0;                    /* 0 either, 1 tag, 2 config */
    if (strncmp(arg, "tag:", 4) == 0) {
        name = arg + 4;
        want = 1;
    } else if (strncmp(arg, "config:", 7) == 0) {
        name = arg + 7;
        want = 2;
    }
    if (!*name)
        return vmm_err_set(e, VMM_EXIT_USAGE, "'%s' names nothing", arg);
    snprintf(s->name, sizeof s->name, "%s", name);
    sqlite3 *db;
    if (adb_open(default_db, &db, e))
        return -1;
    long long tags = want == 2 ? 0 : count_of(db, "SELECT count(*) FROM runs WHERE tag = ?1", name);
    long long cfgs = want == 1 ? 0 : count_of(db, "SELECT count(*) FROM runs r JOIN configs c ON "
                                              "c.id = r.config_id WHERE c.name = ?1", name);
    char names[1024];
    list_names(db, names, sizeof names);
    sqlite3_close(db);
    if (tags > 0 && cfgs > 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "'%s' is both a tag and a config in %s; say "
                           "tag:%s or config:%s", name, default_db, name, name);
    if (tags > 0) {
        s->kind = SEL_TAG;
        snprintf(s->label, sizeof s->label, "tag:%s", name);
        return 0;
    }
    if (cfgs > 0) {
        s->kind = SEL_CONFIG;
        snprintf(s->label, sizeof s->label, "config:%s", name);
        return 0;
    }
    return vmm_err_set(e, VMM_EXIT_USAGE, "no %s named '%s' in %s (and no such file); it has "
                       "%s", want == 1 ? "tag" : want == 2 ? "config" : "tag or config", name,
                       default_db, names);
}

/* ---- loading ---- */

static void host_free(struct ds_host *h)
{
    for (unsigned i = 0; i < h->nfields; i++) {
        free(h->field[i]);
        free(h->value[i]);
    }
}

void dataset_free(struct dataset *ds)
{
    for (size_t i = 0; i < ds->nhosts; i++)
        host_free(&ds->hosts[i]);
    free(ds->hosts);
    for (size_t i = 0; i < ds->nconfigs; i++) {
        free(ds->configs[i].name);
        free(ds->configs[i].text);
        free(ds->configs[i].hypervisor);
        free(ds->configs[i].hypervisor_version);
    }
    free(ds->configs);
    for (size_t i = 0; i < ds->nruns; i++) {
        struct ds_run *r = &ds->runs[i];
        free(r->workload);
        free(r->params);
        free(r->tag);
        free(r->status);
        free(r->reason);
    }
    free(ds->runs);
    for (size_t i = 0; i < ds->ngroups; i++) {
        struct ds_group *g = &ds->groups[i];
        free(g->workload);
        free(g->params);
        free(g->metric);
        free(g->unit);
        free(g->v);
        free(g->rmed);
        free(g->rv);
        free(g->roff);
    }
    free(ds->groups);
    memset(ds, 0, sizeof *ds);
}

const struct ds_host *dataset_host(const struct dataset *ds, int64_t id)
{
    for (size_t i = 0; i < ds->nhosts; i++)
        if (ds->hosts[i].id == id)
            return &ds->hosts[i];
    return NULL;
}

const char *ds_host_field(const struct ds_host *h, const char *field)
{
    for (unsigned i = 0; h && i < h->nfields; i++)
        if (strcmp(h->field[i], field) == 0)
            return h->value[i];
    return "";
}

/* The SQL condition for a selector over runs r / configs c; newest resolved first. */
static int where_clause(sqlite3 *db, const struct selector *sel, char **out, char *label,
                        size_t label_cap, struct vmm_err *e)
{
    char *w = NULL;
    switch (sel->kind) {
    case SEL_ALL:
        w = sqlite3_mprintf("1");
        break;
    case SEL_TAG:
        w = sqlite3_mprintf("r.tag = %Q", sel->name);
        break;
    case SEL_CONFIG:
        w = sqlite3_mprintf("c.name = %Q", sel->name);
        break;
    case SEL_RUNS: {
        size_t cap = 32 + sel->nids * 22;
        char *ids = malloc(cap);
        if (!ids)
            break;
        size_t len = (size_t)snprintf(ids, cap, "r.id IN (");
        for (size_t i = 0; i < sel->nids; i++)
            len += (size_t)snprintf(ids + len, cap - len, "%s%" PRId64, i ? "," : "",
                                    sel->ids[i]);
        snprintf(ids + len, cap - len, ")");
        w = sqlite3_mprintf("%s", ids);
        free(ids);
        break;
    }
    case SEL_NEWEST: {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT id, tag FROM runs ORDER BY id DESC LIMIT 1", -1, &st,
                               NULL) != SQLITE_OK)
            return dberr(db, e, "finding the newest run");
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            return vmm_err_set(e, VMM_EXIT_USAGE, "%s has no runs yet; run `vmmbench run` "
                               "first", sqlite3_db_filename(db, "main"));
        }
        if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
            w = sqlite3_mprintf("r.tag = %Q", col(st, 1));
            snprintf(label, label_cap, "tag:%s", col(st, 1));
        } else {
            snprintf(label, label_cap, "newest untagged runs");
            w = sqlite3_mprintf("r.tag IS NULL AND r.id > (SELECT coalesce(max(id), 0) FROM "
                                "runs WHERE tag IS NOT NULL)");
        }
        sqlite3_finalize(st);
        break;
    }
    }
    if (!w)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
    *out = w;
    return 0;
}

static int load_configs_hosts(sqlite3 *db, const char *where, struct dataset *ds,
                              struct vmm_err *e)
{
    /* Files older than version 5 are read as they are: every config there ran vmm-min. */
    bool has_hv = sqlite3_table_column_metadata(db, "main", "configs", "hypervisor_version",
                                                NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
    char *sql = sqlite3_mprintf(
        "SELECT id, name, coalesce(text,''), vcpus, mem_bytes, %s FROM configs WHERE id IN "
        "(SELECT r.config_id FROM runs r JOIN configs c ON c.id = r.config_id WHERE %s) "
        "ORDER BY name, id", has_hv ? "hypervisor, hypervisor_version" : "'vmm-min', 'vmm-min'",
        where);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return dberr(db, e, "reading configs");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ds_config *n = realloc(ds->configs, (ds->nconfigs + 1) * sizeof *n);
        if (!n)
            break;
        ds->configs = n;
        struct ds_config *c = &ds->configs[ds->nconfigs++];
        c->id = sqlite3_column_int64(st, 0);
        c->name = xstrdup(col(st, 1));
        c->text = xstrdup(col(st, 2));
        c->vcpus = (unsigned)sqlite3_column_int64(st, 3);
        c->mem_bytes = (uint64_t)sqlite3_column_int64(st, 4);
        c->hypervisor = xstrdup(col(st, 5));
        c->hypervisor_version = xstrdup(col(st, 6));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return dberr(db, e, "reading configs");

    sql = sqlite3_mprintf("SELECT * FROM hosts WHERE id IN (SELECT r.host_id FROM runs r "
                          "JOIN configs c ON c.id = r.config_id WHERE %s) ORDER BY id", where);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return dberr(db, e, "reading hosts");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ds_host *n = realloc(ds->hosts, (ds->nhosts + 1) * sizeof *n);
        if (!n)
            break;
        ds->hosts = n;
        struct ds_host *h = &ds->hosts[ds->nhosts++];
        memset(h, 0, sizeof *h);
        h->id = sqlite3_column_int64(st, 0);
        int ncol = sqlite3_column_count(st);
        for (int i = 0; i < ncol && h->nfields < DS_HOST_FIELDS; i++) {
            const char *name = sqlite3_column_name(st, i);
            if (!strcmp(name, "id") || !strcmp(name, "fingerprint") ||
                !strcmp(name, "first_seen") || !strcmp(name, "kvm_present") ||
                !strcmp(name, "kvm_api"))
                continue;
            h->field[h->nfields] = xstrdup(name);
            h->value[h->nfields] = xstrdup(col(st, i));
            h->nfields++;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : dberr(db, e, "reading hosts");
}

size_t dataset_hypervisor_count(const struct dataset *ds)
{
    size_t n = 0;
    for (size_t i = 0; i < ds->nconfigs; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(ds_hv(&ds->configs[i]), ds_hv(&ds->configs[j])) == 0;
        n += !dup;
    }
    return n;
}

static size_t config_index(const struct dataset *ds, int64_t id)
{
    for (size_t i = 0; i < ds->nconfigs; i++)
        if (ds->configs[i].id == id)
            return i;
    return 0;
}

static int load_runs(sqlite3 *db, const char *where, struct dataset *ds, struct vmm_err *e)
{
    char *sql = sqlite3_mprintf(
        "SELECT r.id, r.host_id, r.config_id, r.workload, r.params, r.tag, r.status, "
        "coalesce(r.reason,''), r.rep, coalesce(r.started, 0) FROM runs r JOIN configs c ON "
        "c.id = r.config_id WHERE %s ORDER BY r.id", where);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return dberr(db, e, "reading runs");
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (ds->nruns == cap) {
            cap = cap ? cap * 2 : 64;
            struct ds_run *n = realloc(ds->runs, cap * sizeof *n);
            if (!n) {
                sqlite3_finalize(st);
                return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading runs");
            }
            ds->runs = n;
        }
        struct ds_run *r = &ds->runs[ds->nruns++];
        r->id = sqlite3_column_int64(st, 0);
        r->host_id = sqlite3_column_int64(st, 1);
        r->config = config_index(ds, sqlite3_column_int64(st, 2));
        r->workload = xstrdup(col(st, 3));
        r->params = xstrdup(col(st, 4));
        r->tag = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : xstrdup(col(st, 5));
        r->status = xstrdup(col(st, 6));
        r->reason = xstrdup(col(st, 7));
        r->rep = (unsigned)sqlite3_column_int64(st, 8);
        r->started = sqlite3_column_double(st, 9);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : dberr(db, e, "reading runs");
}

static const struct dataset *sort_ds;

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a, b);
}

/* Runs of one (host, config, workload, params) share their groups. */
static int cmp_run_key(const void *pa, const void *pb)
{
    const struct ds_run *a = &sort_ds->runs[*(const size_t *)pa];
    const struct ds_run *b = &sort_ds->runs[*(const size_t *)pb];
    int c;
    if (a->host_id != b->host_id)
        return a->host_id < b->host_id ? -1 : 1;
    if ((c = cmp_str(sort_ds->configs[a->config].name, sort_ds->configs[b->config].name)))
        return c;
    if (a->config != b->config)
        return a->config < b->config ? -1 : 1;
    if ((c = cmp_str(a->workload, b->workload)))
        return c;
    return cmp_str(a->params, b->params);
}

static int cmp_group(const void *pa, const void *pb)
{
    const struct ds_group *a = pa, *b = pb;
    int c;
    if (a->host_id != b->host_id)
        return a->host_id < b->host_id ? -1 : 1;
    if ((c = cmp_str(sort_ds->configs[a->config].name, sort_ds->configs[b->config].name)))
        return c;
    if (a->config != b->config)
        return a->config < b->config ? -1 : 1;
    if ((c = cmp_str(a->workload, b->workload)) || (c = cmp_str(a->params, b->params)) ||
        (c = cmp_str(a->metric, b->metric)))
        return c;
    return cmp_str(a->unit, b->unit);
}

static struct ds_group *find_or_add_group(struct dataset *ds, size_t first, size_t *cap,
                                          const struct ds_run *r, const char *metric,
                                          const char *unit)
{
    for (size_t i = ds->ngroups; i-- > first;) {
        struct ds_group *g = &ds->groups[i];
        if (strcmp(g->metric, metric) == 0 && strcmp(g->unit, unit) == 0)
            return g;
    }
    if (ds->ngroups == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        struct ds_group *n = realloc(ds->groups, nc * sizeof *n);
        if (!n)
            return NULL;
        ds->groups = n;
        *cap = nc;
    }
    struct ds_group *g = &ds->groups[ds->ngroups++];
    memset(g, 0, sizeof *g);
    g->host_id = r->host_id;
    g->config = r->config;
    g->workload = xstrdup(r->workload);
    g->params = xstrdup(r->params);
    g->metric = xstrdup(metric);
    g->unit = xstrdup(unit);
    return g;
}

static int load_samples(sqlite3 *db, struct dataset *ds, struct vmm_err *e)
{
    size_t nok = 0;
    size_t *order = malloc((ds->nruns ? ds->nruns : 1) * sizeof *order);
    if (!order)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
    for (size_t i = 0; i < ds->nruns; i++)
        if (strcmp(ds->runs[i].status, "ok") == 0)
            order[nok++] = i;
    sort_ds = ds;
    qsort(order, nok, sizeof *order, cmp_run_key);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT metric, unit, value FROM samples WHERE run_id = ?1 AND "
                           "warmup = 0", -1, &st, NULL) != SQLITE_OK) {
        free(order);
        return dberr(db, e, "reading samples");
    }
    size_t cap = 0, first = 0;
    int ret = 0;
    for (size_t k = 0; k < nok && !ret; k++) {
        const struct ds_run *r = &ds->runs[order[k]];
        if (k == 0 || cmp_run_key(&order[k - 1], &order[k]) != 0)
            first = ds->ngroups;             /* a new key: its groups start here */
        sqlite3_bind_int64(st, 1, r->id);
        int rc;
        struct ds_group *g = NULL;
        size_t before[64], start[64];
        size_t nbefore = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *m = col(st, 0), *u = col(st, 1);
            if (!g || strcmp(g->metric, m) != 0 || strcmp(g->unit, u) != 0) {
                g = find_or_add_group(ds, first, &cap, r, m, u);
                if (!g) {
                    ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading samples");
                    break;
                }
                size_t gi = (size_t)(g - ds->groups);
                bool seen = false;
                for (size_t i = 0; i < nbefore; i++)
                    seen |= before[i] == gi;
                if (!seen && nbefore < 64) {
                    start[nbefore] = g->n;
                    before[nbefore++] = gi;
                    g->nruns++;
                }
            }
            if (g->n == g->cap) {
                size_t nc = g->cap ? g->cap * 2 : 256;
                double *nv = realloc(g->v, nc * sizeof *nv);
                if (!nv) {
                    ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading samples");
                    break;
                }
                g->v = nv;
                g->cap = nc;
            }
            g->v[g->n++] = sqlite3_column_double(st, 2);
        }
        if (!ret && rc != SQLITE_DONE)
            ret = dberr(db, e, "reading samples");
        sqlite3_reset(st);
        /* The run's median per group: the unit of analysis when runs are many. */
        for (size_t t = 0; t < nbefore && !ret; t++) {
            struct ds_group *rg = &ds->groups[before[t]];
            size_t len = rg->n - start[t];
            double *tmp = malloc((len ? len : 1) * sizeof *tmp);
            double *nr = realloc(rg->rmed, (rg->nrmed + 1) * sizeof *nr);
            if (!tmp || !nr) {
                free(tmp);
                if (nr)
                    rg->rmed = nr;
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading samples");
                break;
            }
            rg->rmed = nr;
            size_t *no = realloc(rg->roff, (rg->nrmed + 2) * sizeof *no);
            if (!no) {
                free(tmp);
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading samples");
                break;
            }
            rg->roff = no;
            if (len) {
                memcpy(tmp, rg->v + start[t], len * sizeof *tmp);
                stats_sort(tmp, len);
                /* the segments of one group's runs follow each other in v */
                if (rg->nrmed == 0)
                    rg->roff[0] = start[t];
                rg->rmed[rg->nrmed++] = stats_quantile_sorted(tmp, len, 0.5);
                rg->roff[rg->nrmed] = rg->n;
            }
            free(tmp);
        }
    }
    sqlite3_finalize(st);
    free(order);
    if (ret)
        return ret;
    if (ds->ngroups > 1)
        qsort(ds->groups, ds->ngroups, sizeof *ds->groups, cmp_group);
    for (size_t i = 0; i < ds->ngroups; i++) {
        struct ds_group *g = &ds->groups[i];
        uint64_t seed = STATS_HASH_INIT;
        seed = stats_hash(seed, ds->configs[g->config].name);
        seed = stats_hash(seed, g->workload);
        seed = stats_hash(seed, g->params);
        seed = stats_hash(seed, g->metric);
        if (ds_describe_group(g, seed))
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory describing samples");
    }
    return 0;
}

int ds_describe_group(struct ds_group *g, uint64_t seed)
{
    /* keep the run-clustered copy before describe() sorts v */
    g->rv = malloc((g->n ? g->n : 1) * sizeof *g->rv);
    if (!g->rv)
        return -1;
    memcpy(g->rv, g->v, g->n * sizeof *g->rv);
    if (!g->roff) {
        g->roff = calloc(1, sizeof *g->roff);
        if (!g->roff)
            return -1;
    }
    stats_describe_values(g->v, g->n, &g->d);
    if (g->n == 0)
        return 0;
    /* batches of one run share its luck: the interval must hold run-to-run variance */
    double lo = NAN, hi = NAN;
    if (g->nrmed >= HIER_MIN_RUNS) {
        struct hsample hs = { g->rv, g->roff, g->nrmed };
        hier_location_ci(&hs, HIER_MEDIAN, seed, &lo, &hi);
    } else {
        g->d.flags |= STATS_FLAG_RUNVAR;
    }
    if (!isfinite(lo)) /* the batches' own interval, flagged above when runs are few */
        stats_median_ci(g->v, g->n, STATS_BOOT_REPS, 0.95, seed, &lo, &hi);
    stats_describe_set_ci(&g->d, lo, hi);
    return 0;
}

int dataset_load_db(sqlite3 *db, const struct selector *sel, struct dataset *ds,
                    struct vmm_err *e)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->label, sizeof ds->label, "%s", sel->label);
    snprintf(ds->db_path, sizeof ds->db_path, "%s", sqlite3_db_filename(db, "main"));
    char *where = NULL;
    if (where_clause(db, sel, &where, ds->label, sizeof ds->label, e))
        return -1;
    int rc = load_configs_hosts(db, where, ds, e) || load_runs(db, where, ds, e) ? -1 : 0;
    sqlite3_free(where);
    if (rc == 0 && ds->nruns == 0 && sel->kind != SEL_ALL)
        rc = vmm_err_set(e, VMM_EXIT_USAGE, "no runs match %s in %s", sel->label, ds->db_path);
    if (rc == 0)
        rc = load_samples(db, ds, e);
    if (rc)
        dataset_free(ds);
    return rc;
}

int dataset_load(const struct selector *sel, struct dataset *ds, struct vmm_err *e)
{
    sqlite3 *db;
    memset(ds, 0, sizeof *ds);
    if (adb_open(sel->db_path, &db, e))
        return -1;
    int rc = dataset_load_db(db, sel, ds, e);
    sqlite3_close(db);
    return rc;
}

int dataset_load_pair(const struct selector *a, const struct selector *b, struct dataset *da,
                      struct dataset *db, struct vmm_err *e)
{
    memset(da, 0, sizeof *da);
    memset(db, 0, sizeof *db);
    if (strcmp(a->db_path, b->db_path) != 0)
        return dataset_load(a, da, e) || dataset_load(b, db, e) ? -1 : 0;
    sqlite3 *h;
    if (adb_open(a->db_path, &h, e))
        return -1;
    int rc = dataset_load_db(h, a, da, e) || dataset_load_db(h, b, db, e) ? -1 : 0;
    sqlite3_close(h);
    return rc;
}

int selector_run_ids(const struct selector *sel, int64_t **ids, size_t *n, struct vmm_err *e)
{
    *ids = NULL;
    *n = 0;
    sqlite3 *db;
    if (adb_open(sel->db_path, &db, e))
        return -1;
    char *where = NULL, label[300];
    int ret = where_clause(db, sel, &where, label, sizeof label, e);
    char *sql = ret ? NULL : sqlite3_mprintf("SELECT r.id FROM runs r JOIN configs c ON c.id = "
                                             "r.config_id WHERE %s ORDER BY r.id", where);
    sqlite3_stmt *st = NULL;
    if (!ret && sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        ret = dberr(db, e, "reading runs");
    size_t cap = 0;
    int rc = SQLITE_DONE;
    while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *ni = realloc(*ids, cap * sizeof *ni);
            if (!ni) {
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
                break;
            }
            *ids = ni;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!ret && rc != SQLITE_DONE)
        ret = dberr(db, e, "reading runs");
    if (!ret && *n == 0)
        ret = vmm_err_set(e, VMM_EXIT_USAGE, "no runs match %s in %s", sel->label, sel->db_path);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    sqlite3_free(where);
    sqlite3_close(db);
    if (ret) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return ret;
}
