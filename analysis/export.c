/* CSV and JSON export; see export.h. */
#include "export.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "json.h"
#include "summary.h"

void export_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_num(FILE *out, double v)
{
    fputc(',', out);
    json_write_number(out, v);   /* shortest round-trip form; "null" never: NaN -> empty */
}

void export_summary(const struct dataset *ds, bool json, FILE *out)
{
    if (json) {
        fputs("{\"source\":", out);
        json_write_string(out, ds->label);
        fputs(",\"results\":[", out);
        for (size_t i = 0; i < ds->ngroups; i++) {
            if (i)
                fputc(',', out);
            summary_json_group(ds, &ds->groups[i], out);
        }
        fputs("]}\n", out);
        return;
    }
    fputs("host,config,workload,params,metric,unit,n,runs,median,ci_lo,ci_hi,p5,p95,p99,mean,"
          "sd,min,max,rel_ci,flag,hypervisor,hypervisor_version\n", out);
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        const struct stats_desc *d = &g->d;
        char host[160];
        summary_host_label(ds, g->host_id, host, sizeof host);
        export_csv_field(out, host);
        const char *f[] = { ds->configs[g->config].name, g->workload, g->params, g->metric,
                            g->unit };
        for (int k = 0; k < 5; k++) {
            fputc(',', out);
            export_csv_field(out, f[k]);
        }
        fprintf(out, ",%zu,%zu", d->n, g->nruns);
        double v[] = { d->median, d->ci_lo, d->ci_hi, d->p5, d->p95, d->p99, d->mean, d->sd,
                       d->min, d->max, d->rel_ci };
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (isfinite(v[k]))
                csv_num(out, v[k]);
            else
                fputc(',', out);
        }
        fputc(',', out);
        export_csv_field(out, stats_flag_text(d->flags));
        fputc(',', out);
        export_csv_field(out, ds_hv(&ds->configs[g->config]));
        fputc(',', out);
        export_csv_field(out, ds_hv_version(&ds->configs[g->config]));
        fputc('\n', out);
    }
}

int export_samples(const struct dataset *ds, const char *db_path, bool json, FILE *out,
                   struct vmm_err *e)
{
    sqlite3 *db;
    if (adb_open(db_path, &db, e))
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT metric, unit, batch, warmup, value FROM samples WHERE "
                           "run_id = ?1 ORDER BY rowid", -1, &st, NULL) != SQLITE_OK) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s: %s", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    if (json)
        fputs("{\"samples\":[", out);
    else
        fputs("run_id,config,workload,params,tag,rep,status,metric,unit,batch,warmup,value,"
              "hypervisor\n", out);
    bool first = true;
    for (size_t i = 0; i < ds->nruns; i++) {
        const struct ds_run *r = &ds->runs[i];
        sqlite3_bind_int64(st, 1, r->id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *metric = (const char *)sqlite3_column_text(st, 0);
            const char *unit = (const char *)sqlite3_column_text(st, 1);
            long long batch = sqlite3_column_int64(st, 2);
            int warm = sqlite3_column_int(st, 3);
            double v = sqlite3_column_double(st, 4);
            if (json) {
                fprintf(out, "%s{\"run_id\":%" PRId64 ",\"config\":", first ? "" : ",", r->id);
                json_write_string(out, ds->configs[r->config].name);
                fputs(",\"hypervisor\":", out);
                json_write_string(out, ds_hv(&ds->configs[r->config]));
                fputs(",\"workload\":", out);
                json_write_string(out, r->workload);
                fputs(",\"params\":", out);
                json_write_string(out, r->params);
                fputs(",\"tag\":", out);
                if (r->tag)
                    json_write_string(out, r->tag);
                else
                    fputs("null", out);
                fprintf(out, ",\"rep\":%u,\"metric\":", r->rep);
                json_write_string(out, metric ? metric : "");
                fputs(",\"unit\":", out);
                json_write_string(out, unit ? unit : "");
                fprintf(out, ",\"batch\":%lld,\"warmup\":%s,\"value\":", batch,
                        warm ? "true" : "false");
                json_write_number(out, v);
                fputc('}', out);
            } else {
                fprintf(out, "%" PRId64 ",", r->id);
                export_csv_field(out, ds->configs[r->config].name);
                fputc(',', out);
                export_csv_field(out, r->workload);
                fputc(',', out);
                export_csv_field(out, r->params);
                fputc(',', out);
                export_csv_field(out, r->tag ? r->tag : "");
                fprintf(out, ",%u,", r->rep);
                export_csv_field(out, r->status);
                fputc(',', out);
                export_csv_field(out, metric ? metric : "");
                fputc(',', out);
                export_csv_field(out, unit ? unit : "");
                fprintf(out, ",%lld,%d,", batch, warm);
                json_write_number(out, v);
                fputc(',', out);
                export_csv_field(out, ds_hv(&ds->configs[r->config]));
                fputc('\n', out);
            }
            first = false;
        }
        sqlite3_reset(st);
    }
    if (json)
        fputs("]}\n", out);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
