/* `vmmbench show`: raw samples of successful runs, grouped by (config, workload,
 * params, metric, unit), reduced to n / median / p5 / p95; then the runs that failed.
 * Warm-up samples are stored but never summarized. */
#include "summary.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "stats.h"

struct group {
    char *config, *workload, *params, *metric, *unit;
    size_t n;
    double median, p5, p95;
};

struct groups {
    struct group *v;
    size_t n, cap;
};

static void groups_free(struct groups *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].config);
        free(g->v[i].workload);
        free(g->v[i].params);
        free(g->v[i].metric);
        free(g->v[i].unit);
    }
    free(g->v);
}

static int db_error(sqlite3 *db, struct vmm_err *e, const char *what)
{
    return vmm_err_set(e, VMM_EXIT_DATABASE, "%s: %s: %s", sqlite3_db_filename(db, "main"),
                       what, sqlite3_errmsg(db));
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

/* True when the current row belongs to group g (columns 0..4 are its key). */
static int same_key(sqlite3_stmt *st, const struct group *g)
{
    return strcmp(col(st, 0), g->config) == 0 && strcmp(col(st, 1), g->workload) == 0 &&
           strcmp(col(st, 2), g->params) == 0 && strcmp(col(st, 3), g->metric) == 0 &&
           strcmp(col(st, 4), g->unit) == 0;
}

static struct group *new_group(struct groups *gs, sqlite3_stmt *st)
{
    if (gs->n == gs->cap) {
        size_t cap = gs->cap ? gs->cap * 2 : 16;
        struct group *v = realloc(gs->v, cap * sizeof *v);
        if (!v)
            return NULL;
        gs->v = v;
        gs->cap = cap;
    }
    struct group *g = &gs->v[gs->n];
    memset(g, 0, sizeof *g);
    g->config = strdup(col(st, 0));
    g->workload = strdup(col(st, 1));
    g->params = strdup(col(st, 2));
    g->metric = strdup(col(st, 3));
    g->unit = strdup(col(st, 4));
    gs->n++;   /* counted now so groups_free() releases partial allocations */
    if (!g->config || !g->workload || !g->params || !g->metric || !g->unit)
        return NULL;
    return g;
}

static void reduce(struct group *g, double *vals, size_t n)
{
    stats_sort(vals, n);
    g->n = n;
    g->median = stats_quantile_sorted(vals, n, 0.5);
    g->p5 = stats_quantile_sorted(vals, n, 0.05);
    g->p95 = stats_quantile_sorted(vals, n, 0.95);
}

/* Streams the samples in group order and reduces each group as it ends. */
static int collect_groups(sqlite3 *db, int64_t run_id, struct groups *gs, struct vmm_err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
            "SELECT c.name, r.workload, r.params, s.metric, s.unit, s.value "
            "FROM samples s JOIN runs r ON r.id = s.run_id JOIN configs c ON c.id = r.config_id "
            "WHERE r.status = 'ok' AND s.warmup = 0 AND (?1 = 0 OR r.id = ?1) "
            "ORDER BY c.name, r.workload, r.params, s.metric, s.unit", -1, &st, NULL) != SQLITE_OK)
        return db_error(db, e, "reading samples");
    sqlite3_bind_int64(st, 1, run_id);
    double *vals = NULL;
    size_t n = 0, cap = 0;
    struct group *g = NULL;
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!g || !same_key(st, g)) {
            if (g)
                reduce(g, vals, n);
            n = 0;
            if (!(g = new_group(gs, st))) {
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory summarizing samples");
                break;
            }
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            double *nv = realloc(vals, ncap * sizeof *nv);
            if (!nv) {
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory summarizing samples");
                break;
            }
            vals = nv;
            cap = ncap;
        }
        vals[n++] = sqlite3_column_double(st, 5);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_error(db, e, "reading samples");
    if (ret == 0 && g)
        reduce(g, vals, n);
    free(vals);
    sqlite3_finalize(st);
    return ret;
}

/* Four significant digits, without an exponent for the everyday range. */
static void fmt_num(double v, char *buf, size_t cap)
{
    double a = fabs(v);
    if (a == 0.0) {
        snprintf(buf, cap, "0");
    } else if (a >= 1e9 || a < 1e-3) {
        snprintf(buf, cap, "%.4g", v);
    } else {
        int decimals = 3 - (int)floor(log10(a));
        snprintf(buf, cap, "%.*f", decimals < 0 ? 0 : decimals, v);
    }
}

static const char *or_dash(const char *s)
{
    return s[0] ? s : "-";
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void print_table(const struct groups *gs, FILE *out)
{
    enum { NCOL = 9 };
    static const char *const head[NCOL] = { "config", "workload", "params", "metric", "n",
                                            "median", "p5", "p95", "unit" };
    int w[NCOL];
    for (int i = 0; i < NCOL; i++)
        w[i] = (int)strlen(head[i]);
    char num[32];
    for (size_t i = 0; i < gs->n; i++) {
        const struct group *g = &gs->v[i];
        w[0] = max_int(w[0], (int)strlen(g->config));
        w[1] = max_int(w[1], (int)strlen(g->workload));
        w[2] = max_int(w[2], (int)strlen(or_dash(g->params)));
        w[3] = max_int(w[3], (int)strlen(g->metric));
        w[4] = max_int(w[4], snprintf(num, sizeof num, "%zu", g->n));
        double q[3] = { g->median, g->p5, g->p95 };
        for (int k = 0; k < 3; k++) {
            fmt_num(q[k], num, sizeof num);
            w[5 + k] = max_int(w[5 + k], (int)strlen(num));
        }
        w[8] = max_int(w[8], (int)strlen(g->unit));
    }
    /* Text columns left-aligned, numbers right-aligned. */
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s  %*s  %s\n", w[0], head[0], w[1],
            head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5], head[5], w[6],
            head[6], w[7], head[7], head[8]);
    for (size_t i = 0; i < gs->n; i++) {
        const struct group *g = &gs->v[i];
        char med[32], p5[32], p95[32];
        fmt_num(g->median, med, sizeof med);
        fmt_num(g->p5, p5, sizeof p5);
        fmt_num(g->p95, p95, sizeof p95);
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %*zu  %*s  %*s  %*s  %s\n", w[0], g->config,
                w[1], g->workload, w[2], or_dash(g->params), w[3], g->metric, w[4], g->n,
                w[5], med, w[6], p5, w[7], p95, g->unit);
    }
}

static void print_json_results(const struct groups *gs, FILE *out)
{
    fputs("\"results\":[", out);
    for (size_t i = 0; i < gs->n; i++) {
        const struct group *g = &gs->v[i];
        fputs(i ? ",{" : "{", out);
        fputs("\"config\":", out);
        json_write_string(out, g->config);
        fputs(",\"workload\":", out);
        json_write_string(out, g->workload);
        fputs(",\"params\":", out);
        json_write_string(out, g->params);
        fputs(",\"metric\":", out);
        json_write_string(out, g->metric);
        fprintf(out, ",\"n\":%zu,\"median\":", g->n);
        json_write_number(out, g->median);
        fputs(",\"p5\":", out);
        json_write_number(out, g->p5);
        fputs(",\"p95\":", out);
        json_write_number(out, g->p95);
        fputs(",\"unit\":", out);
        json_write_string(out, g->unit);
        fputc('}', out);
    }
    fputc(']', out);
}

/* The runs that did not complete, with why; as JSON or as an indented list. */
static int print_failed(sqlite3 *db, int64_t run_id, bool json, FILE *out, struct vmm_err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
            "SELECT r.id, c.name, r.workload, r.params, r.status, coalesce(r.reason, '') "
            "FROM runs r JOIN configs c ON c.id = r.config_id "
            "WHERE r.status <> 'ok' AND (?1 = 0 OR r.id = ?1) ORDER BY r.id",
            -1, &st, NULL) != SQLITE_OK)
        return db_error(db, e, "reading runs");
    sqlite3_bind_int64(st, 1, run_id);
    if (json)
        fputs("\"failed_runs\":[", out);
    int rc, count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        if (json) {
            fprintf(out, "%s{\"id\":%lld,\"config\":", count ? "," : "", id);
            json_write_string(out, col(st, 1));
            fputs(",\"workload\":", out);
            json_write_string(out, col(st, 2));
            fputs(",\"params\":", out);
            json_write_string(out, col(st, 3));
            fputs(",\"status\":", out);
            json_write_string(out, col(st, 4));
            fputs(",\"reason\":", out);
            json_write_string(out, col(st, 5));
            fputc('}', out);
        } else {
            if (count == 0)
                fputs("\nruns that did not complete (id config workload params: status, "
                      "reason):\n", out);
            fprintf(out, "  %lld %s %s %s: %s, %s\n", id, col(st, 1), col(st, 2),
                    or_dash(col(st, 3)), col(st, 4), or_dash(col(st, 5)));
        }
        count++;
    }
    if (json)
        fputc(']', out);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(db, e, "reading runs");
    return 0;
}

static int count_runs(sqlite3 *db, int64_t run_id, long long *n, struct vmm_err *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs WHERE ?1 = 0 OR id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(db, e, "counting runs");
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_error(db, e, "counting runs");
}

int summary_print(struct sqlite3 *db, int64_t run_id, bool json, FILE *out, struct vmm_err *e)
{
    const char *file = sqlite3_db_filename(db, "main");
    long long nruns = 0;
    if (run_id < 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "run id %lld is not valid; run ids are "
                           "positive", (long long)run_id);
    if (count_runs(db, run_id, &nruns, e) != 0)
        return -1;
    if (run_id > 0 && nruns == 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "no run with id %lld in %s; `vmmbench show` "
                           "lists the failed runs by id, `sqlite3 %s 'SELECT id, workload, "
                           "status FROM runs'` lists all", (long long)run_id, file, file);
    if (nruns == 0 && !json) {
        fprintf(out, "No runs in %s yet; make some with `vmmbench run` (for example "
                "`vmmbench run --suite quick`).\n", file);
        return 0;
    }

    struct groups gs = { 0 };
    if (collect_groups(db, run_id, &gs, e) != 0) {
        groups_free(&gs);
        return -1;
    }
    int rc;
    if (json) {
        fputc('{', out);
        print_json_results(&gs, out);
        fputc(',', out);
        rc = print_failed(db, run_id, true, out, e);
        fputs("}\n", out);
    } else {
        if (gs.n)
            print_table(&gs, out);
        else
            fputs("No successful runs to summarize.\n", out);
        rc = print_failed(db, run_id, false, out, e);
    }
    groups_free(&gs);
    return rc;
}
