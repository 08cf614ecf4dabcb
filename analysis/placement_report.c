#include "placement_report.h"

#include <sqlite3.h>
#include <stdbool.h>

#include "json.h"

/* A sweep's points are stored as sibling run rows (same host, config, workload,
 * repetition, tag and times) whose placement facts are stored once, with the first of
 * them (harness/db.c): any sibling's facts are the first sibling's. */
#define PLACEMENT_RUN_ID                                                                  \
    "(SELECT min(s.id) FROM runs s, runs r WHERE r.id = ?1 AND s.host_id = r.host_id AND " \
    "s.config_id = r.config_id AND s.workload = r.workload AND s.rep = r.rep AND "         \
    "s.tag IS r.tag AND s.started IS r.started AND s.ended IS r.ended)"

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* A version 1 file (opened read-only, never migrated) has no placement: nothing to say. */
static bool has_placement(sqlite3 *db)
{
    return sqlite3_table_column_metadata(db, "main", "placement", "run_id", NULL, NULL, NULL,
                                         NULL, NULL) == SQLITE_OK;
}

static int one_run(sqlite3 *db, int64_t run_id, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT placement_requested, placement_mismatch FROM runs "
                           "WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
        sqlite3_finalize(st);
        return 0; /* no placement observed (the run failed before the VM existed) */
    }
    fprintf(out, "\nplacement of run %lld: requested %s\n", (long long)run_id, text(st, 0));
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT kind, subject, moment, requested, observed, ok FROM "
                           "placement WHERE run_id = " PLACEMENT_RUN_ID " ORDER BY rowid", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, run_id);
    int bad = 0;
    fprintf(out, "  %-8s %-3s %-12s %-16s %-50s %s\n", "what", "#", "when", "requested",
            "observed", "verdict");
    while (sqlite3_step(st) == SQLITE_ROW) {
        int ok = sqlite3_column_int(st, 5);
        bad += !ok;
        fprintf(out, "  %-8s %-3d %-12s %-16s %-50s %s\n", text(st, 0), sqlite3_column_int(st, 1),
                text(st, 2), text(st, 3), text(st, 4), ok ? "ok" : "MISMATCH");
    }
    sqlite3_finalize(st);
    return bad;
}

static int all_runs(sqlite3 *db, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT r.id, c.name, r.workload, r.placement_mismatch FROM runs r "
                           "JOIN configs c ON c.id = r.config_id WHERE r.placement_mismatch <> '' "
                           "ORDER BY r.id", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == 0)
            fprintf(out, "\nruns whose placement did not match the request (vmmbench show --run "
                    "ID for details):\n");
        fprintf(out, "  %lld %s %s: %s\n", (long long)sqlite3_column_int64(st, 0), text(st, 1),
                text(st, 2), text(st, 3));
    }
    sqlite3_finalize(st);
    return n;
}

int placement_report_print(sqlite3 *db, int64_t run_id, FILE *out)
{
    if (!has_placement(db))
        return 0;
    return run_id > 0 ? one_run(db, run_id, out) : all_runs(db, out);
}

static void json_text(FILE *out, const char *key, sqlite3_stmt *st, int col, bool first)
{
    fprintf(out, "%s\"%s\":", first ? "" : ",", key);
    json_write_string(out, text(st, col));
}

int placement_report_json(sqlite3 *db, int64_t run_id, FILE *out)
{
    if (!has_placement(db)) {
        fputs("[]", out);
        return 0;
    }
    sqlite3_stmt *st;
    const char *sql = run_id > 0
        ? "SELECT ?1, kind, subject, moment, requested, observed, ok FROM placement "
          "WHERE run_id = " PLACEMENT_RUN_ID " ORDER BY rowid"
        : "SELECT r.id, c.name, r.workload, r.placement_mismatch FROM runs r JOIN configs c "
          "ON c.id = r.config_id WHERE r.placement_mismatch <> '' ORDER BY r.id";
    fputc('[', out);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fputc(']', out);
        return -1;
    }
    if (run_id > 0)
        sqlite3_bind_int64(st, 1, run_id);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        fprintf(out, "%s{\"run\":%lld", n ? "," : "", (long long)sqlite3_column_int64(st, 0));
        if (run_id > 0) {
            json_text(out, "kind", st, 1, false);
            fprintf(out, ",\"subject\":%d", sqlite3_column_int(st, 2));
            json_text(out, "moment", st, 3, false);
            json_text(out, "requested", st, 4, false);
            json_text(out, "observed", st, 5, false);
            fprintf(out, ",\"ok\":%s}", sqlite3_column_int(st, 6) ? "true" : "false");
        } else {
            json_text(out, "config", st, 1, false);
            json_text(out, "workload", st, 2, false);
            json_text(out, "mismatch", st, 3, false);
            fputc('}', out);
        }
    }
    sqlite3_finalize(st);
    fputc(']', out);
    return 0;
}
