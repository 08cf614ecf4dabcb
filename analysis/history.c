/* Metrics across revisions: series from the database and their change points; see
 * history.h. */
#include "history.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "hier.h"
#include "json.h"
#include "stats.h"

void hist_opts_default(struct hist_opts *o)
{
    memset(o, 0, sizeof *o);
    o->by = HIST_BY_TIME;
    ediv_opts_default(&o->ed);
}

/* One run of the series being read: its point label, start and samples. */
struct hrun {
    char *label;
    double started;
    size_t off, n;          /* values[off .. off + n) */
    double median;
};

struct reader {
    struct hrun *runs;
    size_t nruns, capruns;
    double *v;
    size_t nv, capv;
    int64_t last_run;       /* the run whose values are being appended (ids are > 0) */
};

static int push_value(struct reader *r, double x)
{
    if (r->nv == r->capv) {
        size_t cap = r->capv ? 2 * r->capv : 4096;
        double *p = realloc(r->v, cap * sizeof *p);
        if (!p)
            return -1;
        r->v = p;
        r->capv = cap;
    }
    r->v[r->nv++] = x;
    return 0;
}

static int push_run(struct reader *r, const char *label, double started)
{
    if (r->nruns == r->capruns) {
        size_t cap = r->capruns ? 2 * r->capruns : 256;
        struct hrun *p = realloc(r->runs, cap * sizeof *p);
        if (!p)
            return -1;
        r->runs = p;
        r->capruns = cap;
    }
    char *l = strdup(label);
    if (!l)
        return -1;
    r->runs[r->nruns++] = (struct hrun){ .label = l, .started = started, .off = r->nv };
    return 0;
}

static void reader_reset(struct reader *r)
{
    for (size_t i = 0; i < r->nruns; i++)
        free(r->runs[i].label);
    r->nruns = 0;
    r->nv = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_run_label(const void *a, const void *b)
{
    const struct hrun *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    return c ? c : (x->started > y->started) - (x->started < y->started);
}

static int cmp_point(const void *a, const void *b)
{
    const struct hist_point *x = a, *y = b;
    if (x->first != y->first)
        return (x->first > y->first) - (x->first < y->first);
    return strcmp(x->label, y->label);
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return stats_quantile_sorted(v, n, 0.5);
}

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* The reader's runs become the series' points: grouped by label, ordered by their first
 * start; each the median of its run medians, with the run-clustered CI when asked. */
static int make_points(struct reader *r, struct hist_series *s, bool ci)
{
    for (size_t i = 0; i < r->nruns; i++) {
        r->runs[i].n = (i + 1 < r->nruns ? r->runs[i + 1].off : r->nv) - r->runs[i].off;
        r->runs[i].median = median_of(r->v + r->runs[i].off, r->runs[i].n);
    }
    qsort(r->runs, r->nruns, sizeof *r->runs, cmp_run_label);
    s->pts = calloc(r->nruns, sizeof *s->pts);
    double *med = malloc(r->nruns * sizeof *med);
    double *pool = ci ? malloc(r->nv * sizeof *pool) : NULL;
    size_t *off = ci ? malloc((r->nruns + 1) * sizeof *off) : NULL;
    int ret = -1;
    if (!s->pts || !med || (ci && (!pool || !off)))
        goto out;
    for (size_t i = 0; i < r->nruns;) {
        size_t j = i;
        struct hist_point *p = &s->pts[s->n];
        p->first = r->runs[i].started;
        for (; j < r->nruns && strcmp(r->runs[j].label, r->runs[i].label) == 0; j++) {
            med[j - i] = r->runs[j].median;
            if (r->runs[j].started < p->first)
                p->first = r->runs[j].started;
        }
        p->nruns = j - i;
        p->value = median_of(med, p->nruns);
        p->lo = p->hi = NAN;
        if (!(p->label = strdup(r->runs[i].label)))
            goto out;
        s->n++;
        if (ci && p->nruns >= HIER_MIN_RUNS) {
            size_t nv = 0;
            for (size_t k = i; k < j; k++) {
                off[k - i] = nv;
                memcpy(pool + nv, r->v + r->runs[k].off, r->runs[k].n * sizeof *pool);
                nv += r->runs[k].n;
            }
            off[p->nruns] = nv;
            struct hsample hs = { .v = pool, .off = off, .nruns = p->nruns };
            uint64_t seed = fnv(p->label, fnv(s->metric, fnv(s->workload, 0xcbf29ce484222325ULL)));
            hier_location_ci(&hs, HIER_MEDIAN, seed, &p->lo, &p->hi);
        }
        i = j;
    }
    qsort(s->pts, s->n, sizeof *s->pts, cmp_point);
    ret = 0;
out:
    free(med);
    free(pool);
    free(off);
    return ret;
}

static double seg_median(const struct hist_series *s, size_t a, size_t b, double *buf)
{
    for (size_t i = a; i < b; i++)
        buf[i - a] = s->pts[i].value;
    return median_of(buf, b - a);
}

int history_detect(struct hist_series *s, const struct ediv_opts *o)
{
    s->nchg = 0;
    if (s->n < 2)
        return 0;
    double *x = malloc(s->n * sizeof *x);
    struct ediv_change *c = malloc(s->n * sizeof *c);
    s->chg = calloc(s->n, sizeof *s->chg);
    size_t nc = 0;
    int ret = -1;
    if (!x || !c || !s->chg)
        goto out;
    for (size_t i = 0; i < s->n; i++)
        x[i] = s->pts[i].value;
    if (ediv_detect(x, s->n, o, c, s->n, &nc))
        goto out;
    for (size_t i = 0; i < nc; i++) {
        size_t a = i ? c[i - 1].at : 0, b = i + 1 < nc ? c[i + 1].at : s->n;
        struct hist_change *h = &s->chg[s->nchg++];
        h->at = c[i].at;
        h->before = seg_median(s, a, c[i].at, x);
        h->after = seg_median(s, c[i].at, b, x);
        h->size = h->before != 0 ? h->after / h->before - 1 : NAN;
        h->confidence = 1 - c[i].p;
    }
    ret = 0;
out:
    free(x);
    free(c);
    return ret;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static bool listed(const char *v, const char *const *list, size_t n)
{
    if (!n)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

/* The build state: series of the current (host, config, workload, params) group, each
 * with its reader; a group's series are finished when the next group starts, so the
 * samples of one group at a time are in memory. */
struct builder {
    struct history *h;
    size_t cap;
    struct reader *rd;       /* parallel to h->s */
    size_t group;            /* first series of the current group */
    const struct hist_opts *o;
};

/* The series of the current group for (metric, unit), created when new. */
static struct hist_series *series_for(struct builder *b, sqlite3_stmt *run, const char *metric,
                                      const char *unit, struct reader **rd)
{
    struct history *h = b->h;
    for (size_t i = b->group; i < h->n; i++)
        if (!strcmp(h->s[i].metric, metric) && !strcmp(h->s[i].unit, unit)) {
            *rd = &b->rd[i];
            return &h->s[i];
        }
    if (h->n == b->cap) {
        size_t c = b->cap ? 2 * b->cap : 16;
        struct hist_series *p = realloc(h->s, c * sizeof *p);
        if (p)
            h->s = p;
        struct reader *q = p ? realloc(b->rd, c * sizeof *q) : NULL;
        if (!q)
            return NULL;
        b->rd = q;
        b->cap = c;
    }
    struct hist_series *s = &h->s[h->n];
    memset(s, 0, sizeof *s);
    memset(&b->rd[h->n], 0, sizeof b->rd[h->n]);
    *rd = &b->rd[h->n++];
    s->host = strdup(col(run, 1));
    s->config = strdup(col(run, 2));
    s->workload = strdup(col(run, 3));
    s->params = strdup(col(run, 4));
    s->metric = strdup(metric);
    s->unit = strdup(unit);
    return s->host && s->config && s->workload && s->params && s->metric && s->unit ? s : NULL;
}

static int cmp_series(const void *a, const void *b)
{
    const struct hist_series *x = a, *y = b;
    int c = strcmp(x->metric, y->metric);
    return c ? c : strcmp(x->unit, y->unit);
}

/* Points and changes of every series of the current group; their readers are freed. */
static int finish_group(struct builder *b)
{
    int ret = 0;
    for (size_t i = b->group; i < b->h->n; i++) {
        if (!ret && (make_points(&b->rd[i], &b->h->s[i], b->o->ci) ||
                     history_detect(&b->h->s[i], &b->o->ed)))
            ret = -1;
        reader_reset(&b->rd[i]);
        free(b->rd[i].runs);
        free(b->rd[i].v);
    }
    /* metrics in name order within a group, like show */
    if (b->h->n > b->group)
        qsort(b->h->s + b->group, b->h->n - b->group, sizeof *b->h->s, cmp_series);
    b->group = b->h->n;
    return ret;
}

static bool same_group(const struct hist_series *s, sqlite3_stmt *run)
{
    return !strcmp(s->workload, col(run, 3)) && !strcmp(s->params, col(run, 4)) &&
           !strcmp(s->config, col(run, 2)) && !strcmp(s->host, col(run, 1));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct point labels over every series. */
static int count_points(struct history *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += h->s[i].n;
    char **l = malloc((n ? n : 1) * sizeof *l);
    if (!l)
        return -1;
    n = 0;
    for (size_t i = 0; i < h->n; i++)
        for (size_t j = 0; j < h->s[i].n; j++)
            l[n++] = h->s[i].pts[j].label;
    qsort(l, n, sizeof *l, cmp_str);
    h->npoints = 0;
    for (size_t i = 0; i < n; i++)
        h->npoints += i == 0 || strcmp(l[i], l[i - 1]) != 0;
    free(l);
    return 0;
}

/* The ok runs sorted by group, each with its point label and start. The label: the tag,
 * or for untagged runs the run itself; by revision the host's suite_rev. Sorting the
 * runs, not the samples, keeps the sort small; each run's samples then come through the
 * (run_id, metric) index. */
static const char runs_sql[] =
    "SELECT r.id, coalesce(h.hostname, ''), c.name, r.workload, r.params, "
    "  CASE WHEN ?1 THEN coalesce(nullif(h.suite_rev, ''), 'unknown') "
    "       ELSE coalesce(r.tag, 'run-' || r.id) END, coalesce(r.started, 0) "
    "FROM runs r JOIN hosts h ON h.id = r.host_id JOIN configs c ON c.id = r.config_id "
    "WHERE r.status = 'ok' ORDER BY 2, 3, 4, 5, r.id";
static const char samples_sql[] =
    "SELECT metric, unit, value FROM samples WHERE run_id = ?1 AND warmup = 0";

/* Adds one run's samples to the series of its group. */
static int add_run(struct builder *b, sqlite3_stmt *run, sqlite3_stmt *smp)
{
    struct hist_series *cur = NULL;
    struct reader *rd = NULL;
    int rc;
    sqlite3_reset(smp);
    sqlite3_bind_int64(smp, 1, sqlite3_column_int64(run, 0));
    while ((rc = sqlite3_step(smp)) == SQLITE_ROW) {
        const char *metric = col(smp, 0), *unit = col(smp, 1);
        if (!listed(metric, b->o->metrics, b->o->nmetrics))
            continue;
        if (!cur || strcmp(cur->metric, metric) || strcmp(cur->unit, unit)) {
            if (!(cur = series_for(b, run, metric, unit, &rd)))
                return -1;
            int64_t id = sqlite3_column_int64(run, 0);
            if (rd->last_run != id) {
                if (push_run(rd, col(run, 5), sqlite3_column_double(run, 6)))
                    return -1;
                rd->last_run = id;
            }
        }
        if (push_value(rd, sqlite3_column_double(smp, 2)))
            return -1;
    }
    return rc == SQLITE_DONE ? 0 : -2;
}

int history_build(const char *path, const struct hist_opts *o, struct history *h,
                  struct vmm_err *e)
{
    memset(h, 0, sizeof *h);
    h->by = o->by;
    sqlite3 *db;
    if (adb_open(path, &db, e))
        return -1;
    sqlite3_stmt *run = NULL, *smp = NULL;
    struct builder b = { .h = h, .o = o };
    int rc, ret = -1;
    if (sqlite3_prepare_v2(db, runs_sql, -1, &run, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, samples_sql, -1, &smp, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_int(run, 1, o->by == HIST_BY_REV);
    while ((rc = sqlite3_step(run)) == SQLITE_ROW) {
        if (!listed(col(run, 3), o->workloads, o->nworkloads))
            continue;
        if (b.group < h->n && !same_group(&h->s[b.group], run) && finish_group(&b))
            goto oom;
        int r = add_run(&b, run, smp);
        if (r == -1)
            goto oom;
        if (r == -2)
            goto sqlerr;
    }
    if (rc != SQLITE_DONE)
        goto sqlerr;
    if (finish_group(&b))
        goto oom;
    if (!h->n) {
        vmm_err_set(e, VMM_EXIT_USAGE, "%s has no samples of ok runs%s%s%s%s; run `vmmbench "
                    "run` first, or check the names with `vmmbench show --db %s`", path,
                    o->nmetrics ? " of metric " : "", o->nmetrics ? o->metrics[0] : "",
                    o->nworkloads ? " of workload " : "", o->nworkloads ? o->workloads[0] : "",
                    path);
        goto out;
    }
    if (count_points(h))
        goto oom;
    ret = 0;
    goto out;
sqlerr:
    vmm_err_set(e, VMM_EXIT_USAGE, "reading %s: %s", path, sqlite3_errmsg(db));
    goto out;
oom:
    vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading the history of %s", path);
out:
    for (size_t i = b.group; i < h->n; i++) {
        reader_reset(&b.rd[i]);
        free(b.rd[i].runs);
        free(b.rd[i].v);
    }
    free(b.rd);
    sqlite3_finalize(run);
    sqlite3_finalize(smp);
    sqlite3_close(db);
    if (ret)
        history_free(h);
    return ret;
}

void history_free(struct history *h)
{
    for (size_t i = 0; i < h->n; i++) {
        struct hist_series *s = &h->s[i];
        for (size_t j = 0; j < s->n; j++)
            free(s->pts[j].label);
        free(s->pts);
        free(s->chg);
        free(s->host);
        free(s->config);
        free(s->workload);
        free(s->params);
        free(s->metric);
        free(s->unit);
    }
    free(h->s);
    memset(h, 0, sizeof *h);
}

long history_count_revisions(sqlite3 *db)
{
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(DISTINCT coalesce(h.suite_rev, '')) FROM runs r "
                           "JOIN hosts h ON h.id = r.host_id WHERE r.status = 'ok'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static const char *by_name(enum hist_order by)
{
    return by == HIST_BY_REV ? "rev" : "time";
}

void history_print_table(const struct history *h, FILE *out)
{
    size_t nchg = 0;
    for (size_t i = 0; i < h->n; i++)
        nchg += h->s[i].nchg;
    fprintf(out, "%zu series over %zu %s; %zu change%s (E-Divisive means: alpha %g, %d "
            "permutations, at least %d points a side)\n", h->n, h->npoints,
            h->by == HIST_BY_REV ? "revisions" : "run sets", nchg, nchg == 1 ? "" : "s",
            HIST_ALPHA, HIST_PERMS, HIST_MIN_SEG);
    if (!nchg)
        return;
    fprintf(out, "\n%-14s %-12s %-12s %-14s %-24s %-40s %12s %12s %8s %6s\n", "metric", "workload",
            "config", "host", "params", "last before -> first after", "before", "after",
            "size", "conf");
    for (size_t i = 0; i < h->n; i++) {
        const struct hist_series *s = &h->s[i];
        for (size_t j = 0; j < s->nchg; j++) {
            const struct hist_change *c = &s->chg[j];
            char range[600];
            snprintf(range, sizeof range, "%s -> %s", s->pts[c->at - 1].label,
                     s->pts[c->at].label);
            fprintf(out, "%-14s %-12s %-12s %-14s %-24s %-40s %12.6g %12.6g %+7.1f%% %6.3f\n",
                    s->metric, s->workload, s->config, s->host, s->params[0] ? s->params : "-",
                    range, c->before, c->after, 100 * c->size, c->confidence);
        }
    }
}

static void jkey(FILE *out, const char *k, const char *v)
{
    json_write_string(out, k);
    fputc(':', out);
    json_write_string(out, v);
}

static void jnum(FILE *out, const char *k, double v)
{
    json_write_string(out, k);
    fputc(':', out);
    json_write_number(out, v);
}

void history_print_json(const struct history *h, FILE *out)
{
    fputs("{", out);
    jkey(out, "by", by_name(h->by));
    fprintf(out, ",\"method\":{\"name\":\"e-divisive-means\",\"alpha\":%g,\"permutations\":%d,"
            "\"min_segment\":%d},\"points\":%zu,\"series\":[", HIST_ALPHA, HIST_PERMS,
            HIST_MIN_SEG, h->npoints);
    for (size_t i = 0; i < h->n; i++) {
        const struct hist_series *s = &h->s[i];
        fputs(i ? ",\n{" : "\n{", out);
        jkey(out, "host", s->host);
        fputc(',', out);
        jkey(out, "config", s->config);
        fputc(',', out);
        jkey(out, "workload", s->workload);
        fputc(',', out);
        jkey(out, "params", s->params);
        fputc(',', out);
        jkey(out, "metric", s->metric);
        fputc(',', out);
        jkey(out, "unit", s->unit);
        fputs(",\"changes\":[", out);
        for (size_t j = 0; j < s->nchg; j++) {
            const struct hist_change *c = &s->chg[j];
            fputs(j ? ",{" : "{", out);
            jkey(out, "last_before", s->pts[c->at - 1].label);
            fputc(',', out);
            jkey(out, "first_after", s->pts[c->at].label);
            fprintf(out, ",\"index\":%zu,", c->at);
            jnum(out, "before", c->before);
            fputc(',', out);
            jnum(out, "after", c->after);
            fputc(',', out);
            jnum(out, "size", c->size);
            fputc(',', out);
            jnum(out, "confidence", c->confidence);
            fputc('}', out);
        }
        fputs("],\"points\":[", out);
        for (size_t j = 0; j < s->n; j++) {
            const struct hist_point *p = &s->pts[j];
            fputs(j ? ",{" : "{", out);
            jkey(out, "label", p->label);
            fputc(',', out);
            jnum(out, "first", p->first);
            fputc(',', out);
            jnum(out, "value", p->value);
            fputc(',', out);
            jnum(out, "ci_lo", p->lo);
            fputc(',', out);
            jnum(out, "ci_hi", p->hi);
            fprintf(out, ",\"runs\":%zu}", p->nruns);
        }
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

int history_plot(const struct history *h, const char *dir, struct plot_set *ps,
                 struct vmm_err *e)
{
    size_t made = 0;
    for (size_t i = 0; i < h->n && ps->n < PLOT_MAX; i++) {
        const struct hist_series *s = &h->s[i];
        if (s->n < 2)
            continue;
        char name[64], title[800];
        snprintf(name, sizeof name, "history-%zu", ++made);
        snprintf(title, sizeof title, "%s (%s): %s%s%s, %s on %s", s->metric, s->unit,
                 s->workload, s->params[0] ? " " : "", s->params, s->config, s->host);
        FILE *d, *f;
        if (plot_pair_open(dir, name, &d, &f, e))
            return -1;
        fprintf(d, "# index value ci_lo ci_hi label (%s)\n", by_name(h->by));
        for (size_t j = 0; j < s->n; j++) {
            const struct hist_point *p = &s->pts[j];
            fprintf(d, "%zu %.17g ", j, p->value);
            if (isfinite(p->lo) && isfinite(p->hi))
                fprintf(d, "%.17g %.17g ", p->lo, p->hi);
            else
                fprintf(d, "? ? ");
            plot_label(d, p->label);
            fputc('\n', d);
        }
        plot_head(f, name, 1000, 420);
        fputs("  set title ", f);
        plot_quote(f, title);
        fprintf(f, "\n  set xlabel 'run set, oldest first (by %s)'\n  set ylabel ", by_name(h->by));
        plot_quote(f, s->unit);
        fputc('\n', f);
        for (size_t j = 0; j < s->nchg; j++) {
            const struct hist_change *c = &s->chg[j];
            char lab[300];
            snprintf(lab, sizeof lab, "%+.1f%% at %s", 100 * c->size, s->pts[c->at].label);
            fprintf(f, "  set arrow %zu from %.1f, graph 0 to %.1f, graph 1 nohead lw 2 "
                    "lc rgb '#d62728' dt 2\n  set label %zu ", j + 1, c->at - 0.5, c->at - 0.5,
                    j + 1);
            plot_quote(f, lab);
            fprintf(f, " at %.1f, graph 0.97 left offset 0.5,0 tc rgb '#d62728'\n", c->at - 0.5);
        }
        fprintf(f, "  plot '%s.dat' using 1:2 with lines lc rgb '#1f77b4' title 'median of run "
              "medians', \\\n       '' using 1:2:3:4 with yerrorbars pt 7 ps 0.4 lc rgb "
              "'#1f77b4' title '95%% CI (runs)'\n}\n", name);
        int bad = ferror(d) | ferror(f);
        bad |= fclose(d) | fclose(f);
        if (bad)
            return vmm_err_set(e, VMM_EXIT_USAGE, "cannot write the plot %s in %s", name, dir);
        if (plot_finish(ps, dir, name, title, "history", e))
            return -1;
    }
    return 0;
}
