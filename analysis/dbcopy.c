/* Copying runs between results databases; see dbcopy.h. */
#include "dbcopy.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

static int fail(sqlite3 *db, struct vmm_err *e, const char *what)
{
    return vmm_err_set(e, VMM_EXIT_DATABASE, "%s: %s: %s", sqlite3_db_filename(db, "main"),
                       what, sqlite3_errmsg(db));
}

/* "a, b, c" of TABLE's columns (without id) that both main and the attached src have:
 * a version 1 source lacks the placement columns, which then stay NULL. */
static char *columns(sqlite3 *db, const char *table, const char *pfx)
{
    char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q, 'main') WHERE name <> "
                                "'id' AND name IN (SELECT name FROM pragma_table_info(%Q, "
                                "'src')) ORDER BY cid", table, table);
    sqlite3_stmt *st;
    char *out = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        out = sqlite3_mprintf("");
        while (out && sqlite3_step(st) == SQLITE_ROW) {
            char *n = sqlite3_mprintf("%s%s%s%s", out, *out ? ", " : "", pfx ? pfx : "",
                                      (const char *)sqlite3_column_text(st, 0));
            sqlite3_free(out);
            out = n;
        }
        sqlite3_finalize(st);
    }
    sqlite3_free(sql);
    return out;
}

static bool src_has_placement(sqlite3 *db)
{
    return sqlite3_table_column_metadata(db, "src", "placement", "run_id", NULL, NULL, NULL,
                                         NULL, NULL) == SQLITE_OK;
}

/* A version 5 source says which hypervisor ran each config; older ones ran vmm-min. */
static bool src_has_hypervisor(sqlite3 *db)
{
    return sqlite3_table_column_metadata(db, "src", "configs", "hypervisor_version", NULL, NULL,
                                         NULL, NULL, NULL) == SQLITE_OK;
}

static int exec(sqlite3 *db, const char *sql, struct vmm_err *e)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(db, e, sql);
}

int dbcopy_runs(sqlite3 *dst, const char *src_path, const int64_t *ids, size_t nids,
                const char *tag, size_t *copied, size_t *skipped, struct vmm_err *e)
{
    *copied = *skipped = 0;
    sqlite3 *check;
    if (adb_open(src_path, &check, e))
        return -1;
    sqlite3_close(check);
    sqlite3_stmt *att;
    if (sqlite3_prepare_v2(dst, "ATTACH DATABASE ?1 AS src", -1, &att, NULL) != SQLITE_OK)
        return fail(dst, e, "attaching the source");
    sqlite3_bind_text(att, 1, src_path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(att);
    sqlite3_finalize(att);
    if (rc != SQLITE_DONE)
        return fail(dst, e, "attaching the source");
    if (exec(dst, "CREATE TEMP TABLE IF NOT EXISTS copy_ids(id INTEGER PRIMARY KEY); "
             "DELETE FROM copy_ids", e)) {
        sqlite3_exec(dst, "DETACH DATABASE src", NULL, NULL, NULL);
        return -1;
    }
    char *hcols = columns(dst, "hosts", NULL), *ccols = columns(dst, "configs", NULL);
    char *rcols = columns(dst, "runs", NULL);
    sqlite3_stmt *ins_id = NULL, *sel = NULL, *exists = NULL, *ins_run = NULL, *ins_s = NULL;
    sqlite3_stmt *ins_p = NULL;
    char *sql = NULL;
    int ret = 0;
    if (!hcols || !ccols || !rcols) {
        ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
        goto out;
    }
    if (exec(dst, "BEGIN IMMEDIATE", e)) {
        ret = -1;
        goto out;
    }
    if (ids) {
        if (sqlite3_prepare_v2(dst, "INSERT OR IGNORE INTO copy_ids VALUES(?1)", -1, &ins_id,
                               NULL) != SQLITE_OK) {
            ret = fail(dst, e, "selecting runs");
            goto rollback;
        }
        for (size_t i = 0; i < nids; i++) {
            sqlite3_bind_int64(ins_id, 1, ids[i]);
            if (sqlite3_step(ins_id) != SQLITE_DONE) {
                ret = fail(dst, e, "selecting runs");
                goto rollback;
            }
            sqlite3_reset(ins_id);
        }
    } else if (exec(dst, "INSERT INTO copy_ids SELECT id FROM src.runs", e)) {
        ret = -1;
        goto rollback;
    }
    /* A config is the same one when its key (db_schema.c's UNIQUE) matches, hypervisor
     * and its version included: a source without them has vmm-min's. */
    const char *hv_match = src_has_hypervisor(dst)
        ? " AND m.hypervisor = c.hypervisor AND m.hypervisor_version = c.hypervisor_version"
        : " AND m.hypervisor = 'vmm-min' AND m.hypervisor_version = 'vmm-min'";
    const char *hv_group = src_has_hypervisor(dst) ? ", hypervisor, hypervisor_version" : "";
    sql = sqlite3_mprintf(
        "INSERT OR IGNORE INTO main.hosts(%s) SELECT %s FROM src.hosts WHERE id IN "
        "(SELECT host_id FROM src.runs WHERE id IN (SELECT id FROM copy_ids));"
        /* UNIQUE(name, vcpus, mem_bytes, text) lets rows with a NULL text repeat, so
         * "OR IGNORE" alone would add the same config on every merge: match with IS */
        "INSERT INTO main.configs(%s) SELECT %s FROM src.configs c WHERE id IN "
        "(SELECT config_id FROM src.runs WHERE id IN (SELECT id FROM copy_ids)) AND NOT EXISTS "
        "(SELECT 1 FROM main.configs m WHERE m.name = c.name AND m.vcpus = c.vcpus AND "
        "m.mem_bytes = c.mem_bytes AND m.text IS c.text%s) GROUP BY name, vcpus, mem_bytes, "
        "text%s;",
        hcols, hcols, ccols, ccols, hv_match, hv_group);
    if (exec(dst, sql, e)) {
        ret = -1;
        goto rollback;
    }
    sqlite3_free(sql);
    /* Each source run with the ids its host and config have in the destination. */
    sql = sqlite3_mprintf(
        "SELECT r.id, mh.id, (SELECT min(m.id) FROM main.configs m WHERE m.name = c.name "
        "AND m.vcpus = c.vcpus AND m.mem_bytes = c.mem_bytes AND m.text IS c.text%s), "
        "r.workload, r.params, r.rep, coalesce(?1, r.tag), r.started "
        "FROM src.runs r JOIN src.hosts h ON h.id = r.host_id "
        "JOIN src.configs c ON c.id = r.config_id "
        "JOIN main.hosts mh ON mh.fingerprint = h.fingerprint "
        "WHERE r.id IN (SELECT id FROM copy_ids) ORDER BY r.id", hv_match);
    if (sqlite3_prepare_v2(dst, sql, -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(dst, "SELECT 1 FROM main.runs WHERE host_id = ?1 AND config_id = ?2 "
                           "AND workload = ?3 AND params = ?4 AND rep = ?5 AND tag IS ?6 AND "
                           "started IS ?7", -1, &exists, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(dst, "INSERT INTO main.samples(run_id, metric, unit, batch, warmup, "
                           "value) SELECT ?1, metric, unit, batch, warmup, value FROM "
                           "src.samples WHERE run_id = ?2 ORDER BY rowid", -1, &ins_s,
                           NULL) != SQLITE_OK) {
        ret = fail(dst, e, "preparing the copy");
        goto rollback;
    }
    /* what each run asked for and what was observed travels with it */
    if (src_has_placement(dst) &&
        sqlite3_prepare_v2(dst, "INSERT INTO main.placement(run_id, kind, subject, moment, "
                           "requested, observed, ok) SELECT ?1, kind, subject, moment, "
                           "requested, observed, ok FROM src.placement WHERE run_id = ?2 "
                           "ORDER BY rowid", -1, &ins_p, NULL) != SQLITE_OK) {
        ret = fail(dst, e, "preparing the copy");
        goto rollback;
    }
    sqlite3_free(sql);
    /* The run row: every column as in the source but host, config and tag. */
    {
        char *vals = sqlite3_mprintf("%s", rcols);
        char *p;
        /* rcols lists host_id, config_id, ..., tag, ...: substitute parameters */
        sql = NULL;
        if (vals) {
            char *sub = sqlite3_mprintf("");
            char *save = NULL;
            for (p = strtok_r(vals, ", ", &save); p && sub; p = strtok_r(NULL, ", ", &save)) {
                const char *v = !strcmp(p, "host_id") ? "?2" : !strcmp(p, "config_id") ? "?3"
                                : !strcmp(p, "tag") ? "?4" : p;
                char *n = sqlite3_mprintf("%s%s%s", sub, *sub ? ", " : "", v);
                sqlite3_free(sub);
                sub = n;
            }
            if (sub)
                sql = sqlite3_mprintf("INSERT INTO main.runs(%s) SELECT %s FROM src.runs "
                                      "WHERE id = ?1", rcols, sub);
            sqlite3_free(sub);
            sqlite3_free(vals);
        }
        if (!sql || sqlite3_prepare_v2(dst, sql, -1, &ins_run, NULL) != SQLITE_OK) {
            ret = fail(dst, e, "preparing the copy");
            goto rollback;
        }
    }
    if (tag)
        sqlite3_bind_text(sel, 1, tag, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        for (int i = 1; i <= 7; i++)
            sqlite3_bind_value(exists, i, sqlite3_column_value(sel, i));
        int ex = sqlite3_step(exists);
        sqlite3_reset(exists);
        if (ex == SQLITE_ROW) {
            (*skipped)++;
            continue;
        }
        sqlite3_bind_int64(ins_run, 1, sqlite3_column_int64(sel, 0));
        sqlite3_bind_int64(ins_run, 2, sqlite3_column_int64(sel, 1));
        sqlite3_bind_int64(ins_run, 3, sqlite3_column_int64(sel, 2));
        sqlite3_bind_value(ins_run, 4, sqlite3_column_value(sel, 6));
        if (sqlite3_step(ins_run) != SQLITE_DONE) {
            ret = fail(dst, e, "copying a run");
            goto rollback;
        }
        sqlite3_reset(ins_run);
        int64_t new_id = sqlite3_last_insert_rowid(dst);
        sqlite3_bind_int64(ins_s, 1, new_id);
        sqlite3_bind_int64(ins_s, 2, sqlite3_column_int64(sel, 0));
        if (sqlite3_step(ins_s) != SQLITE_DONE) {
            ret = fail(dst, e, "copying samples");
            goto rollback;
        }
        sqlite3_reset(ins_s);
        if (ins_p) {
            sqlite3_bind_int64(ins_p, 1, new_id);
            sqlite3_bind_int64(ins_p, 2, sqlite3_column_int64(sel, 0));
            if (sqlite3_step(ins_p) != SQLITE_DONE) {
                ret = fail(dst, e, "copying placement");
                goto rollback;
            }
            sqlite3_reset(ins_p);
        }
        (*copied)++;
    }
    if (rc != SQLITE_DONE) {
        ret = fail(dst, e, "reading the source runs");
        goto rollback;
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if (exec(dst, "COMMIT", e)) {
        ret = -1;
        goto rollback;
    }
    goto out;
rollback:
    sqlite3_finalize(sel);
    sel = NULL;
    sqlite3_exec(dst, "ROLLBACK", NULL, NULL, NULL);
    *copied = 0;
out:
    sqlite3_free(sql);
    sqlite3_finalize(ins_id);
    sqlite3_finalize(sel);
    sqlite3_finalize(exists);
    sqlite3_finalize(ins_run);
    sqlite3_finalize(ins_s);
    sqlite3_finalize(ins_p);
    sqlite3_free(hcols);
    sqlite3_free(ccols);
    sqlite3_free(rcols);
    sqlite3_exec(dst, "DROP TABLE IF EXISTS temp.copy_ids", NULL, NULL, NULL);
    sqlite3_exec(dst, "DETACH DATABASE src", NULL, NULL, NULL);
    return ret;
}
