/* The macro overhead table (overhead.h): each config paired with its native twin and
 * handed to compare_datasets as two one-config datasets (A native, B guest), so the
 * ratio, its run-clustered CI, p and verdict are exactly those of `vmmbench compare`. */
#include "overhead.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "json.h"

static const char *const macro_workloads[] = { "compute", "sort", "gups", "kvs", "graph",
                                               "kvs-io" };
#define NMACRO (sizeof macro_workloads / sizeof macro_workloads[0])
#define HEADLINE "throughput"
#define TWIN_SUFFIX "-native"

bool overhead_is_macro(const char *workload)
{
    for (size_t i = 0; i < NMACRO; i++)
        if (strcmp(workload, macro_workloads[i]) == 0)
            return true;
    return false;
}

/* A view of ds holding config `c`'s macro headline groups only, as a one-config dataset
 * (the comparison then keys on workload, params and metric, not on the config's name).
 * Shares ds's memory: free only v->groups. */
static int view_of(const struct dataset *ds, size_t c, struct dataset *v)
{
    *v = *ds;
    v->configs = &ds->configs[c];
    v->nconfigs = 1;
    v->groups = calloc(ds->ngroups ? ds->ngroups : 1, sizeof *v->groups);
    v->ngroups = 0;
    if (!v->groups)
        return -1;
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        if (g->config != c || !overhead_is_macro(g->workload) || strcmp(g->metric, HEADLINE))
            continue;
        v->groups[v->ngroups] = *g;
        v->groups[v->ngroups++].config = 0;
    }
    snprintf(v->label, sizeof v->label, "config:%s", ds->configs[c].name);
    return 0;
}

/* The config named NAME-native, or -1. */
static long twin_of(const struct dataset *ds, size_t c)
{
    const char *name = ds->configs[c].name;
    size_t nl = strlen(name), sl = strlen(TWIN_SUFFIX);
    if (nl >= sl && strcmp(name + nl - sl, TWIN_SUFFIX) == 0)
        return -1; /* a twin itself */
    for (size_t j = 0; j < ds->nconfigs; j++) {
        const char *n = ds->configs[j].name;
        if (strlen(n) == nl + sl && strncmp(n, name, nl) == 0 && strcmp(n + nl, TWIN_SUFFIX) == 0)
            return (long)j;
    }
    return -1;
}

static int cmp_row(const void *x, const void *y)
{
    const struct ovh_row *a = x, *b = y;
    int c = strcmp(a->workload, b->workload);
    if (!c)
        c = strcmp(a->config, b->config);
    return c ? c : strcmp(a->params, b->params);
}

static int add_rows(struct ovh_table *t, const char *config, const struct cmp_result *r)
{
    struct ovh_row *nr = realloc(t->rows, (t->n + r->nrows + 1) * sizeof *nr);
    if (!nr)
        return -1;
    t->rows = nr;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        struct ovh_row *o = &t->rows[t->n];
        char params[1024];
        params_without(x->params, NULL, 0, true, params, sizeof params);
        *o = (struct ovh_row){
            .config = strdup(config), .workload = strdup(x->workload), .params = strdup(params),
            .ratio = x->ratio, .lo = x->lo, .hi = x->hi, .p = x->p,
            .guest = x->db.median, .native = x->da.median,
            .runs_guest = x->runs_b, .runs_native = x->runs_a,
            .verdict = x->verdict, .why_na = x->why_na,
        };
        if (!o->config || !o->workload || !o->params) {
            free(o->config), free(o->workload), free(o->params);
            return -1;
        }
        t->n++;
    }
    return 0;
}

int overhead_build(const struct dataset *ds, struct ovh_table *t, struct vmm_err *e)
{
    memset(t, 0, sizeof *t);
    struct cmp_opts o;
    cmp_opts_default(&o);
    o.metrics[o.nmetrics++] = HEADLINE;
    for (size_t c = 0; c < ds->nconfigs; c++) {
        long tw = twin_of(ds, c);
        if (tw < 0)
            continue;
        struct dataset guest, native;
        if (view_of(ds, c, &guest) || view_of(ds, (size_t)tw, &native)) {
            free(guest.groups);
            overhead_free(t);
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory building the overhead "
                               "table");
        }
        struct cmp_result r;
        struct vmm_err sub = { 0 };
        int rc = guest.ngroups && native.ngroups ? compare_datasets(&native, &guest, &o, &r, &sub)
                                                 : 1;
        int oom = rc == 0 && add_rows(t, ds->configs[c].name, &r);
        if (rc == 0)
            compare_free(&r);
        free(guest.groups);
        free(native.groups);
        if (oom || (rc < 0 && sub.code == VMM_EXIT_INTERNAL)) {
            overhead_free(t);
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory building the overhead "
                               "table");
        }
        /* rc < 0 otherwise: nothing in common (a workload run on one side only). */
    }
    if (t->n > 1)
        qsort(t->rows, t->n, sizeof *t->rows, cmp_row);
    return 0;
}


/* Whether token tok ("k=v") is in a space-separated params text. */
static bool has_token(const char *params, const char *tok, size_t len)
{
    for (const char *p = params; *p;) {
        const char *end = strchr(p, ' ');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == len && strncmp(p, tok, len) == 0)
            return true;
        p += l + (end != NULL);
    }
    return false;
}

/* Per workload, the parameters every one of its rows shares are left out of the rows
 * (the summary table above lists them): what remains tells the rows apart. */
static int trim_common(struct ovh_table *t)
{
    char **keep = calloc(t->n ? t->n : 1, sizeof *keep);
    if (!keep)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        const char *p = t->rows[i].params;
        size_t cap = strlen(p) + 1, len = 0;
        if (!(keep[i] = malloc(cap))) {
            for (size_t k = 0; k < i; k++)
                free(keep[k]);
            free(keep);
            return -1;
        }
        keep[i][0] = '\0';
        while (*p) {
            const char *end = strchr(p, ' ');
            size_t l = end ? (size_t)(end - p) : strlen(p);
            bool common = true;
            for (size_t j = 0; j < t->n && common; j++)
                if (strcmp(t->rows[j].workload, t->rows[i].workload) == 0)
                    common = has_token(t->rows[j].params, p, l);
            if (!common)
                len += (size_t)snprintf(keep[i] + len, cap - len, "%s%.*s", len ? " " : "",
                                        (int)l, p);
            p += l + (end != NULL);
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].params);
        t->rows[i].params = keep[i];
    }
    free(keep);
    return 0;
}

int overhead_build_trimmed(const struct dataset *ds, struct ovh_table *t, struct vmm_err *e)
{
    if (overhead_build(ds, t, e))
        return -1;
    if (trim_common(t)) {
        overhead_free(t);
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory building the overhead table");
    }
    return 0;
}

void overhead_free(struct ovh_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].config);
        free(t->rows[i].workload);
        free(t->rows[i].params);
    }
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

static void fmt_ratio(double v, char *buf, size_t cap)
{
    if (isfinite(v))
        snprintf(buf, cap, "%.3f", v);
    else
        snprintf(buf, cap, "-");
}

void overhead_print(const struct ovh_table *t, FILE *out)
{
    if (!t->n)
        return;
    int wc = 6, ww = 8, wp = 6;
    for (size_t i = 0; i < t->n; i++) {
        int a = (int)strlen(t->rows[i].config), b = (int)strlen(t->rows[i].workload),
            c = (int)strlen(t->rows[i].params);
        wc = a > wc ? a : wc;
        ww = b > ww ? b : ww;
        wp = c > wp ? c : wp;
    }
    wp = wp > 40 ? 40 : wp;
    fprintf(out, "\nMacro overhead: guest/native throughput per config (1.000: virtualization "
                 "costs nothing; below: the guest is slower), median ratio with its 95%% CI\n");
    fprintf(out, "  %-*s  %-*s  %-*s  %12s  %-17s  %9s  %s\n", ww, "workload", wc, "config", wp,
            "params", "guest/native", "95% CI", "runs g/n", "verdict");
    for (size_t i = 0; i < t->n; i++) {
        const struct ovh_row *r = &t->rows[i];
        char ra[32], lo[32], hi[32], ci[80], runs[32];
        fmt_ratio(r->ratio, ra, sizeof ra);
        fmt_ratio(r->lo, lo, sizeof lo);
        fmt_ratio(r->hi, hi, sizeof hi);
        snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        snprintf(runs, sizeof runs, "%zu/%zu", r->runs_guest, r->runs_native);
        fprintf(out, "  %-*s  %-*s  %-*.*s  %12s  %-17s  %9s  %s%s%s\n", ww, r->workload, wc,
                r->config, wp, wp, r->params[0] ? r->params : "-", ra, ci, runs, stats_verdict_name(r->verdict),
                r->verdict == VERDICT_NA && r->why_na ? ": " : "",
                r->verdict == VERDICT_NA && r->why_na ? r->why_na : "");
    }
}

static void json_num(FILE *out, const char *name, double v)
{
    fprintf(out, ",\"%s\":", name);
    json_write_number(out, v);
}

void overhead_print_json(const struct ovh_table *t, FILE *out)
{
    fputc('[', out);
    for (size_t i = 0; i < t->n; i++) {
        const struct ovh_row *r = &t->rows[i];
        fputs(i ? ",{\"workload\":" : "{\"workload\":", out);
        json_write_string(out, r->workload);
        fputs(",\"config\":", out);
        json_write_string(out, r->config);
        fputs(",\"params\":", out);
        json_write_string(out, r->params);
        json_num(out, "ratio", r->ratio);
        json_num(out, "ci_lo", r->lo);
        json_num(out, "ci_hi", r->hi);
        json_num(out, "p", r->p);
        json_num(out, "guest", r->guest);
        json_num(out, "native", r->native);
        fprintf(out, ",\"runs_guest\":%zu,\"runs_native\":%zu,\"verdict\":", r->runs_guest,
                r->runs_native);
        json_write_string(out, stats_verdict_name(r->verdict));
        fputc('}', out);
    }
    fputc(']', out);
}
