/* Comparing two sets of runs; see compare.h. */
#include "compare.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hier.h"
#include "json.h"
#include "metrics.h"
#include "summary.h"

void cmp_opts_default(struct cmp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->band = 0.02;
    o->alpha = 0.01;
}

/* One side's groups merged by comparison key. */
struct mgroup {
    char *key;                  /* config \x1f workload \x1f params \x1f metric \x1f unit */
    const char *config, *workload, *metric, *unit;
    char *params;
    double *v;
    size_t n;
    double *rm;                 /* run medians */
    size_t nrm;
    double *rv;                 /* the samples clustered by run (hier.h) */
    size_t *roff;               /* nrm + 1 offsets into rv */
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static int cmp_mgroup(const void *pa, const void *pb)
{
    return strcmp(((const struct mgroup *)pa)->key, ((const struct mgroup *)pb)->key);
}

static void mgroups_free(struct mgroup *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].params);
        free(m[i].v);
        free(m[i].rm);
        free(m[i].rv);
        free(m[i].roff);
    }
    free(m);
}

static int merge_groups(const struct dataset *ds, const struct cmp_opts *o, bool with_config,
                        struct mgroup **out, size_t *nout, struct vmm_err *e)
{
    struct mgroup *m = calloc(ds->ngroups ? ds->ngroups : 1, sizeof *m);
    size_t n = 0;
    if (!m)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        const struct metric_info *mi = metric_info(g->metric);
        if (o->nmetrics && !in_list(g->metric, o->metrics, o->nmetrics))
            continue;
        if (!o->nmetrics && o->skip_diagnostic && mi->diagnostic)
            continue;
        if (o->nworkloads && !in_list(g->workload, o->workloads, o->nworkloads))
            continue;
        char params[1024];
        params_without(g->params, o->ignore, o->nignore, false, params, sizeof params);
        const char *cfg = with_config ? ds->configs[g->config].name : "";
        size_t klen = strlen(cfg) + strlen(g->workload) + strlen(params) + strlen(g->metric) +
                      strlen(g->unit) + 8;
        struct mgroup *x = &m[n++];
        x->key = malloc(klen);
        x->params = strdup(params);
        x->v = malloc((g->n ? g->n : 1) * sizeof *x->v);
        x->rm = malloc((g->nrmed ? g->nrmed : 1) * sizeof *x->rm);
        x->rv = malloc((g->n ? g->n : 1) * sizeof *x->rv);
        x->roff = malloc((g->nrmed + 1) * sizeof *x->roff);
        if (!x->key || !x->params || !x->v || !x->rm || !x->rv || !x->roff) {
            mgroups_free(m, n);
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
        }
        snprintf(x->key, klen, "%s\x1f%s\x1f%s\x1f%s\x1f%s", cfg, g->workload, params, g->metric,
                 g->unit);
        x->config = cfg;
        x->workload = g->workload;
        x->metric = g->metric;
        x->unit = g->unit;
        memcpy(x->v, g->v, g->n * sizeof *x->v);
        x->n = g->n;
        if (g->nrmed)
            memcpy(x->rm, g->rmed, g->nrmed * sizeof *x->rm);
        x->nrm = g->nrmed;
        memcpy(x->rv, g->rv, g->n * sizeof *x->rv);
        x->roff[0] = 0;
        for (size_t k = 1; k <= g->nrmed; k++)
            x->roff[k] = g->roff ? g->roff[k] : 0;
    }
    if (n > 1)
        qsort(m, n, sizeof *m, cmp_mgroup);
    /* Merge neighbours with equal keys (several hosts or configs folded together). */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w && strcmp(m[w - 1].key, m[i].key) == 0) {
            struct mgroup *d = &m[w - 1];
            double *nv = realloc(d->v, (d->n + m[i].n) * sizeof *nv);
            if (nv)
                d->v = nv;
            double *nr = realloc(d->rm, (d->nrm + m[i].nrm + 1) * sizeof *nr);
            if (nr)
                d->rm = nr;
            double *nrv = realloc(d->rv, (d->n + m[i].n + 1) * sizeof *nrv);
            if (nrv)
                d->rv = nrv;
            size_t *no = realloc(d->roff, (d->nrm + m[i].nrm + 1) * sizeof *no);
            if (no)
                d->roff = no;
            if (!nv || !nr || !nrv || !no) {
                mgroups_free(m, n);
                return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
            }
            memcpy(nv + d->n, m[i].v, m[i].n * sizeof *nv);
            /* the other group's runs follow, their offsets shifted past ours */
            memcpy(nrv + d->n, m[i].rv, m[i].n * sizeof *nrv);
            for (size_t k = 1; k <= m[i].nrm; k++)
                no[d->nrm + k] = d->n + m[i].roff[k];
            d->n += m[i].n;
            memcpy(nr + d->nrm, m[i].rm, m[i].nrm * sizeof *nr);
            d->nrm += m[i].nrm;
            free(m[i].key);
            free(m[i].params);
            free(m[i].v);
            free(m[i].rm);
            free(m[i].rv);
            free(m[i].roff);
        } else {
            m[w++] = m[i];
        }
    }
    for (size_t i = 0; i < w; i++) {
        stats_sort(m[i].v, m[i].n);
        stats_sort(m[i].rm, m[i].nrm);
    }
    *out = m;
    *nout = w;
    return 0;
}

static size_t distinct_configs(const struct dataset *ds)
{
    size_t n = 0;
    for (size_t i = 0; i < ds->nconfigs; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(ds->configs[i].name, ds->configs[j].name) == 0;
        n += !dup;
    }
    return n;
}

/* Host fields whose differences can bias a comparison. The hugepage pools are left out:
 * their free counts change from run to run. */
static const char *const bias_fields[] = { "hostname", "cpu_model", "microcode", "kernel",
                                           "kvm_flavour", "kvm_modules", "mmu_mode",
                                           "pmu_available", "thp", "governor", "smt",
                                           "numa_nodes", "suite_rev" };

static void values_of(const struct dataset *ds, const char *field, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ds->nhosts; i++) {
        const char *v = ds_host_field(&ds->hosts[i], field);
        /* skip values already listed */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(ds_host_field(&ds->hosts[j], field), v) == 0;
        if (!dup && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? " | " : "", v);
    }
}

static void host_diff(const struct dataset *a, const struct dataset *b, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof bias_fields / sizeof bias_fields[0]; i++) {
        char va[512], vb[512];
        values_of(a, bias_fields[i], va, sizeof va);
        values_of(b, bias_fields[i], vb, sizeof vb);
        if (strcmp(va, vb) != 0 && len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s (A: %s; B: %s)",
                                    len ? ", " : "", bias_fields[i], va, vb);
    }
}

/* The hypervisors of the configs that have results, each once, QEMU's with its version. */
static void hypervisors_of(const struct dataset *ds, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ds->nconfigs; i++) {
        const struct ds_config *c = &ds->configs[i];
        bool used = false, dup = false;
        for (size_t g = 0; g < ds->ngroups && !used; g++)
            used = ds->groups[g].config == i;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(ds_hv(&ds->configs[j]), ds_hv(c)) == 0 &&
                  strcmp(ds_hv_version(&ds->configs[j]), ds_hv_version(c)) == 0;
        if (!used || dup || len >= cap)
            continue;
        bool same = strcmp(ds_hv(c), ds_hv_version(c)) == 0;
        len += (size_t)snprintf(out + len, cap - len, "%s%s%s%s%s", len ? " | " : "",
                                ds_hv(c), same ? "" : " (", same ? "" : ds_hv_version(c),
                                same ? "" : ")");
    }
}

static char *key_text(const struct mgroup *g)
{
    size_t n = strlen(g->config) + strlen(g->workload) + strlen(g->params) +
               strlen(g->metric) + 8;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s %s %s", g->config, *g->config ? " " : "", g->workload,
                 *g->params ? g->params : "-", g->metric);
    return s;
}

static int push_str(char ***list, size_t *n, char *s)
{
    char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl || !s) {
        free(s);
        if (nl)
            *list = nl;
        return -1;
    }
    nl[(*n)++] = s;
    *list = nl;
    return 0;
}

static uint64_t row_seed(const struct mgroup *g)
{
    return stats_hash(STATS_HASH_INIT, g->key);
}

/* Multimodal data: the median jumps between modes when their weights shift a little
 * (48% -> 52% moves it from one mode to the other), so when either side looks bimodal and
 * the medians and the means disagree by more than the band, the means are compared. */
static bool looks_multimodal(const struct mgroup *ga, const struct mgroup *gb, double band)
{
    if (ga->n < 20 || gb->n < 20)
        return false;
    if (!(hier_bimodality(ga->v, ga->n) > HIER_BIMODAL) &&
        !(hier_bimodality(gb->v, gb->n) > HIER_BIMODAL))
        return false;
    double ma = stats_quantile_sorted(ga->v, ga->n, 0.5), mb = stats_quantile_sorted(gb->v, gb->n, 0.5);
    double sa = 0, sb = 0;
    for (size_t i = 0; i < ga->n; i++)
        sa += ga->v[i];
    for (size_t i = 0; i < gb->n; i++)
        sb += gb->v[i];
    double mean_a = sa / (double)ga->n, mean_b = sb / (double)gb->n;
    if (!(ma > 0 && mb > 0 && mean_a > 0 && mean_b > 0))
        return false;
    return fabs(log(mb / ma) - log(mean_b / mean_a)) > band;
}

/* The verdict on a difference B - A (metrics that can be zero or negative): the band is
 * relative to |A| (with A = 0 any difference outside the CI counts). */
static enum stats_verdict diff_verdict(double lo, double hi, double p, double loc_a, double band,
                                       double alpha, bool higher_is_better)
{
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(p))
        return VERDICT_NA;
    if (!(p < alpha))
        return VERDICT_NO_CHANGE;
    double b = band * fabs(loc_a);
    bool up = lo > b, down = hi < -b;
    if (!up && !down)
        return VERDICT_NO_CHANGE;
    if (higher_is_better)
        return up ? VERDICT_FASTER : VERDICT_SLOWER;
    return up ? VERDICT_SLOWER : VERDICT_FASTER;
}

static int fill_row(struct cmp_row *row, struct mgroup *ga, struct mgroup *gb,
                    const struct cmp_opts *o)
{
    const struct metric_info *mi = metric_info(ga->metric);
    row->higher_is_better = mi->higher_is_better;
    row->diagnostic = mi->diagnostic;
    row->runs_a = ga->nrm;
    row->runs_b = gb->nrm;
    row->by_run = o->unit != CMP_UNIT_BATCH;
    uint64_t seed = row_seed(ga);
    row->multimodal = looks_multimodal(ga, gb, o->band);
    enum hier_loc loc = row->multimodal ? HIER_MEAN : HIER_MEDIAN;
    /* the batch unit treats every batch as its own run: an ordinary bootstrap */
    size_t *oa = NULL, *ob = NULL;
    struct hsample ha = { ga->rv, ga->roff, ga->nrm }, hb = { gb->rv, gb->roff, gb->nrm };
    if (!row->by_run) {
        oa = malloc((ga->n + 1) * sizeof *oa);
        ob = malloc((gb->n + 1) * sizeof *ob);
        if (!oa || !ob) {
            free(oa);
            free(ob);
            return -1;
        }
        for (size_t k = 0; k <= ga->n; k++)
            oa[k] = k;
        for (size_t k = 0; k <= gb->n; k++)
            ob[k] = k;
        ha = (struct hsample){ ga->v, oa, ga->n };
        hb = (struct hsample){ gb->v, ob, gb->n };
    }
    struct hier_cmp hc;
    int rc = hier_compare(&ha, &hb, loc, seed, &hc, row->reps);
    free(oa);
    free(ob);
    if (rc)
        return -1;
    row->a = ga->v;
    row->b = gb->v;
    ga->v = gb->v = NULL;
    size_t na = ga->n, nb = gb->n;
    /* describe() sorts in place: the arrays are sorted already, so this only describes */
    stats_describe(row->a, na, seed, &row->da);
    stats_describe(row->b, nb, seed ^ 0x5bd1e995, &row->db);
    row->diff = hc.diff;
    row->ratio = hc.est;
    row->lo = hc.lo;
    row->hi = hc.hi;
    row->se = hc.se;
    row->df = hc.df;
    row->p = hc.p;
    row->u = NAN;
    row->mean_ratio = row->da.mean != 0 ? row->db.mean / row->da.mean : NAN;
    if (!row->by_run)   /* batches: the rank test, as before */
        stats_mann_whitney(row->a, na, row->b, nb, &row->u, &row->p);
    if (na < STATS_MIN_N || nb < STATS_MIN_N) {
        row->verdict = VERDICT_NA;
        row->why_na = "too few samples";
    } else if (row->by_run && (ga->nrm < HIER_MIN_RUNS || gb->nrm < HIER_MIN_RUNS) &&
               o->unit == CMP_UNIT_AUTO) {
        row->verdict = VERDICT_NA;
        row->why_na = "run-to-run variance unknown (under 3 runs a side)";
    } else if (!isfinite(row->lo) || !isfinite(row->p)) {
        row->verdict = VERDICT_NA;
        row->why_na = row->by_run ? "under 2 runs a side, no test" : "no interval";
    } else if (row->diff) {
        row->verdict = diff_verdict(row->lo, row->hi, row->p, hc.loc_a, o->band, o->alpha,
                                    row->higher_is_better);
    } else {
        row->verdict = stats_verdict(row->lo, row->hi, row->p, o->band, o->alpha,
                                     row->higher_is_better);
    }
    return 0;
}

/* Geometric mean of B/A per workload over its non-diagnostic ratio rows: the mean of the
 * log ratios, its SE from the per-replicate means (rows' replicates are independent
 * draws), a t interval on the smallest degrees of freedom among the rows, and p from the
 * same t, so that the verdict needs significance like any row. */
static int add_geo(struct cmp_result *r, const struct cmp_opts *o)
{
    double *acc = malloc(HIER_REPS * sizeof *acc);
    if (!acc)
        return -1;
    for (size_t i = 0; i < r->nrows;) {
        size_t j = i;
        const char *wl = r->rows[i].workload;
        size_t used = 0;
        double sum = 0, df = INFINITY;
        memset(acc, 0, HIER_REPS * sizeof *acc);
        bool reps_ok = true;
        while (j < r->nrows && strcmp(r->rows[j].workload, wl) == 0 &&
               strcmp(r->rows[j].config, r->rows[i].config) == 0) {
            const struct cmp_row *row = &r->rows[j];
            if (!row->diagnostic && !row->diff && row->verdict != VERDICT_NA) {
                /* lower-is-better and higher-is-better rows point the same way in the
                 * mean when the latter enter inverted: the geomean is a "time" ratio */
                double s = row->higher_is_better ? -1 : 1;
                sum += s * log(row->ratio);
                for (unsigned k = 0; k < HIER_REPS; k++) {
                    if (!isfinite(row->reps[k]))
                        reps_ok = false;
                    else
                        acc[k] += s * row->reps[k];
                }
                if (row->df < df)
                    df = row->df;
                used++;
            }
            j++;
        }
        if (used) {
            struct cmp_geo *ng = realloc(r->geo, (r->ngeo + 1) * sizeof *ng);
            if (!ng) {
                free(acc);
                return -1;
            }
            r->geo = ng;
            struct cmp_geo *g = &r->geo[r->ngeo++];
            size_t wl_len = strlen(r->rows[i].config) + strlen(wl) + 2;
            g->workload = malloc(wl_len);
            if (g->workload)
                snprintf(g->workload, wl_len, "%s%s%s", r->rows[i].config,
                         *r->rows[i].config ? " " : "", wl);
            g->nrows = used;
            double mean = sum / (double)used;
            g->gm = exp(mean);
            g->lo = g->hi = g->p = NAN;
            g->verdict = VERDICT_NA;
            if (reps_ok && isfinite(df)) {
                for (unsigned k = 0; k < HIER_REPS; k++)
                    acc[k] /= (double)used;
                double se = gsl_stats_sd(acc, 1, HIER_REPS);
                double half = gsl_cdf_tdist_Pinv(0.975, df) * se;
                g->lo = exp(mean - half);
                g->hi = exp(mean + half);
                g->p = se > 0 ? 2 * gsl_cdf_tdist_Q(fabs(mean) / se, df) : (mean == 0 ? 1 : 0);
                g->verdict = stats_verdict(g->lo, g->hi, g->p, o->band, o->alpha, false);
            }
        }
        i = j;
    }
    free(acc);
    return 0;
}

int compare_datasets(const struct dataset *a, const struct dataset *b, const struct cmp_opts *o,
                     struct cmp_result *r, struct vmm_err *e)
{
    memset(r, 0, sizeof *r);
    snprintf(r->label_a, sizeof r->label_a, "%s", a->label);
    snprintf(r->label_b, sizeof r->label_b, "%s", b->label);
    r->band = o->band;
    r->alpha = o->alpha;
    r->with_config = distinct_configs(a) > 1 || distinct_configs(b) > 1;
    host_diff(a, b, r->host_diff, sizeof r->host_diff);
    hypervisors_of(a, r->hv_a, sizeof r->hv_a);
    hypervisors_of(b, r->hv_b, sizeof r->hv_b);
    struct mgroup *ma = NULL, *mb = NULL;
    size_t na = 0, nb = 0;
    if (merge_groups(a, o, r->with_config, &ma, &na, e) ||
        merge_groups(b, o, r->with_config, &mb, &nb, e)) {
        mgroups_free(ma, na);
        return -1;
    }
    int ret = 0;
    r->rows = calloc(na < nb ? (na ? na : 1) : (nb ? nb : 1), sizeof *r->rows);
    if (!r->rows)
        ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
    size_t i = 0, j = 0;
    while (!ret && (i < na || j < nb)) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(ma[i].key, mb[j].key);
        if (c < 0) {
            push_str(&r->only_a, &r->nonly_a, key_text(&ma[i++]));
        } else if (c > 0) {
            push_str(&r->only_b, &r->nonly_b, key_text(&mb[j++]));
        } else {
            struct cmp_row *row = &r->rows[r->nrows++];
            row->config = strdup(ma[i].config);
            row->workload = strdup(ma[i].workload);
            row->params = strdup(ma[i].params);
            row->metric = strdup(ma[i].metric);
            row->unit = strdup(ma[i].unit);
            row->reps = malloc(HIER_REPS * sizeof *row->reps);
            if (!row->config || !row->workload || !row->params || !row->metric || !row->unit ||
                !row->reps) {
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
                break;
            }
            if (fill_row(row, &ma[i], &mb[j], o)) {
                ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
                break;
            }
            i++;
            j++;
        }
    }
    if (!ret && r->nrows == 0) {
        char ha[600] = "", hb[600] = "";
        size_t la = 0, lb = 0;
        for (size_t k = 0; k < r->nonly_a && la < sizeof ha; k++)
            la += (size_t)snprintf(ha + la, sizeof ha - la, "%s%s", k ? ", " : "", r->only_a[k]);
        for (size_t k = 0; k < r->nonly_b && lb < sizeof hb; k++)
            lb += (size_t)snprintf(hb + lb, sizeof hb - lb, "%s%s", k ? ", " : "", r->only_b[k]);
        ret = vmm_err_set(e, VMM_EXIT_USAGE, "%s and %s have no (workload, parameters, metric) "
                          "in common%s; %s has: %s; %s has: %s", a->label, b->label,
                          o->nmetrics || o->nworkloads ? " among the selected ones" : "",
                          a->label, na ? ha : "nothing", b->label, nb ? hb : "nothing");
    }
    if (!ret && add_geo(r, o))
        ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory comparing");
    mgroups_free(ma, na);
    mgroups_free(mb, nb);
    if (ret)
        compare_free(r);
    return ret;
}

void compare_free(struct cmp_result *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        struct cmp_row *x = &r->rows[i];
        free(x->config);
        free(x->workload);
        free(x->params);
        free(x->metric);
        free(x->unit);
        free(x->a);
        free(x->b);
        free(x->reps);
    }
    free(r->rows);
    for (size_t i = 0; i < r->ngeo; i++)
        free(r->geo[i].workload);
    free(r->geo);
    for (size_t i = 0; i < r->nonly_a; i++)
        free(r->only_a[i]);
    for (size_t i = 0; i < r->nonly_b; i++)
        free(r->only_b[i]);
    free(r->only_a);
    free(r->only_b);
    memset(r, 0, sizeof *r);
}

void compare_row_name(const struct cmp_result *r, const struct cmp_row *row, char *buf,
                      size_t cap)
{
    (void)r;
    snprintf(buf, cap, "%s%s%s %s %s", row->config, *row->config ? " " : "", row->workload,
             *row->params ? row->params : "-", row->metric);
}

static void fmt_p(double p, char *buf, size_t cap)
{
    if (!isfinite(p))
        snprintf(buf, cap, "-");
    else if (p < 1e-4)
        snprintf(buf, cap, "<1e-4");
    else
        snprintf(buf, cap, "%.4f", p);
}

static const char *verdict_text(const struct cmp_row *row)
{
    return row->verdict == VERDICT_NA ? row->why_na : stats_verdict_name(row->verdict);
}

static const char *row_note(const struct cmp_row *row)
{
    unsigned f = (row->da.flags | row->db.flags) & ~(unsigned)STATS_FLAG_RUNVAR;
    if (row->diagnostic)
        return "diagnostic";
    if (row->multimodal)
        return "multimodal: compared on means";
    if (row->diff)
        return "values <= 0: compared on B-A";
    return stats_flag_text(f);
}

enum { CC = 14 };

static void cells(const struct cmp_row *row, char c[CC][128])
{
    snprintf(c[0], 128, "%s", *row->config ? row->config : "");
    snprintf(c[1], 128, "%s", row->workload);
    snprintf(c[2], 128, "%s", *row->params ? row->params : "-");
    snprintf(c[3], 128, "%s", row->metric);
    snprintf(c[4], 128, "%zu", row->da.n);
    summary_fmt_num(row->da.median, c[5], 128);
    snprintf(c[6], 128, "%zu", row->db.n);
    summary_fmt_num(row->db.median, c[7], 128);
    snprintf(c[8], 128, "%s", row->unit);
    if (!isfinite(row->ratio))
        snprintf(c[9], 128, "-");
    else if (row->diff)
        snprintf(c[9], 128, "B-A %+.4g", row->ratio);
    else
        snprintf(c[9], 128, "%.4f", row->ratio);
    if (!isfinite(row->lo))
        snprintf(c[10], 128, "-");
    else if (row->diff)
        snprintf(c[10], 128, "%+.4g..%+.4g", row->lo, row->hi);
    else
        snprintf(c[10], 128, "%.4f..%.4f", row->lo, row->hi);
    fmt_p(row->p, c[11], 128);
    if (row->by_run)
        snprintf(c[12], 128, "%zu/%zu runs", row->runs_a, row->runs_b);
    else
        snprintf(c[12], 128, "batches");
    snprintf(c[13], 128, "%s%s%s", verdict_text(row), *row_note(row) ? ", " : "", row_note(row));
}

void compare_print_table(const struct cmp_result *r, FILE *out)
{
    static const char *const head[CC] = { "config", "workload", "params", "metric", "n(A)",
                                          "median(A)", "n(B)", "median(B)", "unit", "B/A",
                                          "ci95", "p", "n of", "verdict" };
    static const bool right[CC] = { [4] = 1, [5] = 1, [6] = 1, [7] = 1, [9] = 1, [10] = 1,
                                    [11] = 1 };
    fprintf(out, "A = %s\nB = %s\n", r->label_a, r->label_b);
    if (r->host_diff[0])
        fprintf(out, "warning: A and B come from different hosts or builds: %s\n",
                r->host_diff);
    if (strcmp(r->hv_a, r->hv_b) != 0)
        fprintf(out, "hypervisors: A runs under %s; B under %s (B/A is one VMM over the "
                "other)\n", r->hv_a, r->hv_b);
    bool batch = false, unknown = false;
    for (size_t i = 0; i < r->nrows; i++) {
        batch |= !r->rows[i].by_run;
        unknown |= r->rows[i].runs_a < HIER_MIN_RUNS || r->rows[i].runs_b < HIER_MIN_RUNS;
    }
    fprintf(out, "verdict: a change needs p < %g (%s) and the 95%% CI of B/A wholly outside "
            "1 +- %g%%;\nthe CI is a hierarchical bootstrap (runs, then batches within runs) "
            "with a Student-t small-sample factor\n", r->alpha,
            batch ? "Mann-Whitney on batches, as if independent" : "Welch's t on run medians",
            r->band * 100);
    if (unknown)
        fputs("warning: some rows have under 3 runs on a side: run-to-run variance is unknown "
              "there and no verdict is given; run --reps 3 or more (6 for power)\n", out);
    if (batch)
        fputs("warning: --unit batch treats the batches of one run as independent: p and CI "
              "ignore run-to-run variance and overstate certainty\n", out);
    fputc('\n', out);
    int w[CC];
    char c[CC][128];
    for (int k = 0; k < CC; k++)
        w[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < r->nrows; i++) {
        cells(&r->rows[i], c);
        for (int k = 0; k < CC; k++)
            if ((int)strlen(c[k]) > w[k])
                w[k] = (int)strlen(c[k]);
    }
    int first = r->with_config ? 0 : 1;
    for (int k = first; k < CC; k++)
        fprintf(out, "%s%*s", k > first ? "  " : "", k == CC - 1 ? 0 : right[k] ? w[k] : -w[k],
                head[k]);
    fputc('\n', out);
    for (size_t i = 0; i < r->nrows; i++) {
        cells(&r->rows[i], c);
        for (int k = first; k < CC; k++)
            fprintf(out, "%s%*s", k > first ? "  " : "",
                    k == CC - 1 ? 0 : right[k] ? w[k] : -w[k], c[k]);
        fputc('\n', out);
    }
    if (r->ngeo) {
        fputs("\ngeometric mean of B/A per workload (non-diagnostic metrics; throughput "
              "inverted, so above 1 is slower):\n", out);
        for (size_t i = 0; i < r->ngeo; i++) {
            const struct cmp_geo *g = &r->geo[i];
            fprintf(out, "  %-24s %zu rows  %.4f", g->workload, g->nrows, g->gm);
            if (isfinite(g->lo))
                fprintf(out, "  ci95 %.4f..%.4f  p %.3g", g->lo, g->hi, g->p);
            fprintf(out, "  %s\n", g->verdict == VERDICT_NA ? "n/a" : stats_verdict_name(g->verdict));
        }
    }
    for (size_t i = 0; i < r->nonly_a; i++)
        fprintf(out, "%sonly in A: %s\n", i ? "" : "\n", r->only_a[i]);
    for (size_t i = 0; i < r->nonly_b; i++)
        fprintf(out, "%sonly in B: %s\n", i || r->nonly_a ? "" : "\n", r->only_b[i]);
}

static void jnum(FILE *out, const char *k, double v)
{
    fprintf(out, ",\"%s\":", k);
    json_write_number(out, v);
}

void compare_print_json(const struct cmp_result *r, FILE *out)
{
    fputs("{\"a\":", out);
    json_write_string(out, r->label_a);
    fputs(",\"b\":", out);
    json_write_string(out, r->label_b);
    jnum(out, "band", r->band);
    jnum(out, "alpha", r->alpha);
    fputs(",\"host_differences\":", out);
    json_write_string(out, r->host_diff);
    fputs(",\"hypervisor_a\":", out);
    json_write_string(out, r->hv_a);
    fputs(",\"hypervisor_b\":", out);
    json_write_string(out, r->hv_b);
    fputs(",\"rows\":[", out);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        fputs(i ? ",{\"config\":" : "{\"config\":", out);
        json_write_string(out, x->config);
        fputs(",\"workload\":", out);
        json_write_string(out, x->workload);
        fputs(",\"params\":", out);
        json_write_string(out, x->params);
        fputs(",\"metric\":", out);
        json_write_string(out, x->metric);
        fputs(",\"unit\":", out);
        json_write_string(out, x->unit);
        fprintf(out, ",\"n_a\":%zu,\"n_b\":%zu,\"runs_a\":%zu,\"runs_b\":%zu,"
                "\"unit_of_test\":\"%s\",\"compared_on\":\"%s\",\"location\":\"%s\"",
                x->da.n, x->db.n, x->runs_a, x->runs_b, x->by_run ? "runs" : "batches",
                x->diff ? "difference" : "ratio", x->multimodal ? "mean" : "median");
        jnum(out, "mean_ratio", x->mean_ratio);
        jnum(out, "median_a", x->da.median);
        jnum(out, "median_b", x->db.median);
        jnum(out, "ratio", x->ratio);
        jnum(out, "ci_lo", x->lo);
        jnum(out, "ci_hi", x->hi);
        jnum(out, "u", x->u);
        jnum(out, "p", x->p);
        fputs(",\"verdict\":", out);
        json_write_string(out, stats_verdict_name(x->verdict));
        fputs(",\"note\":", out);
        json_write_string(out, x->verdict == VERDICT_NA ? x->why_na : row_note(x));
        fputc('}', out);
    }
    fputs("],\"geomean\":[", out);
    for (size_t i = 0; i < r->ngeo; i++) {
        const struct cmp_geo *g = &r->geo[i];
        fputs(i ? ",{\"workload\":" : "{\"workload\":", out);
        json_write_string(out, g->workload);
        fprintf(out, ",\"rows\":%zu", g->nrows);
        jnum(out, "ratio", g->gm);
        jnum(out, "ci_lo", g->lo);
        jnum(out, "ci_hi", g->hi);
        jnum(out, "p", g->p);
        fputs(",\"verdict\":", out);
        json_write_string(out, stats_verdict_name(g->verdict));
        fputc('}', out);
    }
    fputs("],\"only_a\":[", out);
    for (size_t i = 0; i < r->nonly_a; i++) {
        if (i)
            fputc(',', out);
        json_write_string(out, r->only_a[i]);
    }
    fputs("],\"only_b\":[", out);
    for (size_t i = 0; i < r->nonly_b; i++) {
        if (i)
            fputc(',', out);
        json_write_string(out, r->only_b[i]);
    }
    fputs("]}\n", out);
}

void compare_md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

void compare_print_markdown(const struct cmp_result *r, const char *title, FILE *out)
{
    fprintf(out, "## %s\n\n", title);
    fputs("A (baseline): `", out);
    compare_md_cell(out, r->label_a);
    fputs("`, B (candidate): `", out);
    compare_md_cell(out, r->label_b);
    fprintf(out, "`. A change needs p < %g and the 95%% CI of B/A wholly outside 1 ± %g%%.\n\n",
            r->alpha, r->band * 100);
    if (r->host_diff[0]) {
        fputs("> **Warning:** A and B differ: ", out);
        compare_md_cell(out, r->host_diff);
        fputs("\n\n", out);
    }
    if (strcmp(r->hv_a, r->hv_b) != 0) {
        fputs("Hypervisors: A runs under ", out);
        compare_md_cell(out, r->hv_a);
        fputs(", B under ", out);
        compare_md_cell(out, r->hv_b);
        fputs(".\n\n", out);
    }
    fputs("| workload | params | metric | median A | median B | unit | B/A | 95% CI | p | "
          "verdict |\n|---|---|---|---:|---:|---|---:|---|---:|---|\n", out);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        char c[CC][128];
        cells(x, c);
        fputs("| ", out);
        if (*x->config) {
            compare_md_cell(out, x->config);
            fputc(' ', out);
        }
        compare_md_cell(out, x->workload);
        fputs(" | ", out);
        compare_md_cell(out, c[2]);
        fputs(" | ", out);
        compare_md_cell(out, x->metric);
        fprintf(out, " | %s | %s | ", c[5], c[7]);
        compare_md_cell(out, x->unit);
        const char *mark = x->verdict == VERDICT_SLOWER ? " :x:" :
                           x->verdict == VERDICT_FASTER ? " :rocket:" : "";
        fprintf(out, " | %s | %s | %s | **%s**%s |\n", c[9], c[10], c[11], verdict_text(x), mark);
    }
    fputc('\n', out);
}
