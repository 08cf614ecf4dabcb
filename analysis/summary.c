/* `vmmbench show`: raw samples of successful runs, grouped per (host, config, workload,
 * params, metric, unit) and described by stats_describe(): n, median with its bootstrap
 * 95% CI, p5/p95, mean, sd, p99, min/max and a note for noisy, unstable or too-small
 * results; then the runs that failed. Warm-up samples are stored but never summarized. */
#include "summary.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "json.h"
#include "metrics.h"
#include "overhead.h"
#include "placement_report.h"
#include "stats.h"
#include "vmm/text_escape.h"

static int db_error(sqlite3 *db, struct vmm_err *e, const char *what)
{
    return vmm_err_set(e, VMM_EXIT_DATABASE, "%s: %s: %s", sqlite3_db_filename(db, "main"),
                       what, sqlite3_errmsg(db));
}

void summary_fmt_num(double v, char *buf, size_t cap)
{
    double a = fabs(v);
    if (!isfinite(v)) {
        snprintf(buf, cap, "-");
    } else if (a == 0.0) {
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

void summary_host_label(const struct dataset *ds, int64_t host_id, char *buf, size_t cap)
{
    const struct ds_host *h = dataset_host(ds, host_id);
    snprintf(buf, cap, "h%lld:%s", (long long)host_id, h ? ds_host_field(h, "hostname") : "?");
}

enum { NCOL = 18 };

static void row_cells(const struct dataset *ds, const struct ds_group *g, char cell[NCOL][96])
{
    const struct stats_desc *d = &g->d;
    summary_host_label(ds, g->host_id, cell[0], 96);
    /* several VMMs in one database: every config says which ran it */
    if (dataset_hypervisor_count(ds) > 1)
        snprintf(cell[1], 96, "%s [%s]", ds->configs[g->config].name,
                 ds_hv(&ds->configs[g->config]));
    else
        snprintf(cell[1], 96, "%s", ds->configs[g->config].name);
    snprintf(cell[2], 96, "%s", g->workload);
    snprintf(cell[3], 96, "%s", or_dash(g->params));
    snprintf(cell[4], 96, "%s", g->metric);
    snprintf(cell[5], 96, "%zu", d->n);
    summary_fmt_num(d->median, cell[6], 96);
    summary_fmt_num(d->p5, cell[7], 96);
    summary_fmt_num(d->p95, cell[8], 96);
    snprintf(cell[9], 96, "%s", g->unit);
    char lo[32], hi[32];
    summary_fmt_num(d->ci_lo, lo, sizeof lo);
    summary_fmt_num(d->ci_hi, hi, sizeof hi);
    snprintf(cell[10], 96, "%s..%s", lo, hi);
    if (isfinite(d->rel_ci))
        snprintf(cell[11], 96, "%.2f%%", d->rel_ci * 100);
    else
        snprintf(cell[11], 96, "-");
    summary_fmt_num(d->mean, cell[12], 96);
    summary_fmt_num(d->sd, cell[13], 96);
    summary_fmt_num(d->p99, cell[14], 96);
    summary_fmt_num(d->min, cell[15], 96);
    summary_fmt_num(d->max, cell[16], 96);
    snprintf(cell[17], 96, "%s", stats_flag_text(d->flags));
}

bool summary_is_diagnostic(const char *metric)
{
    /* The analysis's diagnostics, and the cycle twins of ns figures (show only). */
    size_t n = strlen(metric);
    return metric_info(metric)->diagnostic || (n > 7 && strcmp(metric + n - 7, "_cycles") == 0);
}

/* Whether "k=v" stands in every row of this workload (shown) in the table. */
static bool token_common(const struct dataset *ds, const bool *shown, const char *workload,
                         const char *tok, size_t toklen)
{
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        if (!shown[i] || strcmp(g->workload, workload) != 0)
            continue;
        const char *p = g->params;
        bool found = false;
        while (*p && !found) {
            size_t l = strcspn(p, " ");
            found = l == toklen && strncmp(p, tok, l) == 0;
            p += l;
            p += *p == ' ';
        }
        if (!found)
            return false;
    }
    return true;
}

/* The parameters of g that not every row of its workload shares ("-" when none); with
 * common, those it shares instead. */
static void params_split(const struct dataset *ds, const bool *shown, const struct ds_group *g,
                         bool common, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const char *p = g->params; *p;) {
        size_t l = strcspn(p, " ");
        if (token_common(ds, shown, g->workload, p, l) == common && used + l + 2 < cap) {
            if (used)
                buf[used++] = ' ';
            memcpy(buf + used, p, l);
            used += l;
            buf[used] = '\0';
        }
        p += l;
        p += *p == ' ';
    }
    if (!used && !common)
        snprintf(buf, cap, "-");
}

/* Cuts s to at most w characters, marking the cut with "..". */
static void fit(char *s, int w)
{
    if (w >= 3 && (int)strlen(s) > w) {
        s[w - 2] = '.';
        s[w - 1] = '.';
        s[w] = '\0';
    }
}

static bool group_emulated(const struct dataset *ds, const struct ds_group *g)
{
    return ds_host_field(dataset_host(ds, g->host_id), "emulated")[0] != '\0';
}

static void print_table(const struct dataset *ds, const struct summary_opts *o, FILE *out)
{
    static const char *const head[NCOL] = { "host", "config", "workload", "params", "metric",
                                            "n", "median", "p5", "p95", "unit", "ci95",
                                            "+-ci", "mean", "sd", "p99", "min", "max", "note" };
    static const bool right[NCOL] = { [5] = 1, [6] = 1, [7] = 1, [8] = 1, [10] = 1, [11] = 1,
                                      [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1 };
    /* The narrow table: what a reader needs first, in a 120-column terminal. */
    static const bool narrow[NCOL] = { [0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1,
                                       [6] = 1, [9] = 1, [10] = 1, [11] = 1, [17] = 1 };
    bool hosts = ds->nhosts > 1;
    bool *shown = calloc(ds->ngroups + 1, sizeof *shown);
    if (!shown)
        return;
    size_t hidden = 0;
    for (size_t i = 0; i < ds->ngroups; i++) {
        shown[i] = o->all || !summary_is_diagnostic(ds->groups[i].metric);
        hidden += !shown[i];
    }
    bool use[NCOL];
    for (int k = 0; k < NCOL; k++)
        use[k] = (o->wide || narrow[k]) && (k > 0 || hosts);
    int w[NCOL];
    char cell[NCOL][96];
    for (int i = 0; i < NCOL; i++)
        w[i] = (int)strlen(head[i]);
    for (size_t i = 0; i < ds->ngroups; i++) {
        if (!shown[i])
            continue;
        row_cells(ds, &ds->groups[i], cell);
        if (!o->wide)
            params_split(ds, shown, &ds->groups[i], false, cell[3], sizeof cell[3]);
        if (!o->wide && ds->groups[i].d.flags & STATS_FLAG_RUNVAR)
            snprintf(cell[17], sizeof cell[17], "<3 runs");
        for (int k = 0; k < NCOL; k++)
            w[k] = max_int(w[k], (int)strlen(cell[k]));
    }
    if (!o->wide) { /* the parameters give way to fit the width */
        int total = 0, width = o->width ? (int)o->width : 120;
        for (int k = 0; k < NCOL; k++)
            if (use[k] && k != NCOL - 1)
                total += w[k] + 2;
        total += w[NCOL - 1] < 10 ? w[NCOL - 1] : 10; /* room for the note */
        if (total > width)
            w[3] = max_int((int)strlen(head[3]), w[3] - (total - width));
    }
    int first = -1;
    for (int k = 0; k < NCOL; k++) {
        if (!use[k])
            continue;
        fprintf(out, "%s%*s", first >= 0 ? "  " : "", k == NCOL - 1 ? 0 : right[k] ? w[k] : -w[k],
                head[k]);
        if (first < 0)
            first = k;
    }
    fputc('\n', out);
    unsigned flagged = 0;
    bool emulated = false;
    for (size_t i = 0; i < ds->ngroups; i++) {
        if (!shown[i])
            continue;
        row_cells(ds, &ds->groups[i], cell);
        if (!o->wide) {
            params_split(ds, shown, &ds->groups[i], false, cell[3], sizeof cell[3]);
            fit(cell[3], w[3]);
            if (ds->groups[i].d.flags & STATS_FLAG_RUNVAR && !(ds->groups[i].d.flags & STATS_FLAG_FEW))
                snprintf(cell[17], sizeof cell[17], "<3 runs"); /* the footnote says why */
        }
        if (group_emulated(ds, &ds->groups[i])) {
            emulated = true;
            char note[96];
            memcpy(note, cell[17], sizeof note);
            snprintf(cell[17], sizeof cell[17], "emulated%s%.80s", note[0] ? ", " : "", note);
        }
        flagged |= ds->groups[i].d.flags;
        for (int k = 0; k < NCOL; k++) {
            if (!use[k])
                continue;
            const char *sep = k == first ? "" : "  ";
            if (k == NCOL - 1) /* the last column is not padded */
                fprintf(out, "%s%s", cell[k][0] ? sep : "", cell[k]);
            else
                fprintf(out, "%s%*s", sep, right[k] ? w[k] : -w[k], cell[k]);
        }
        fputc('\n', out);
    }
    if (!o->wide) { /* what every row of a workload shares, once */
        for (size_t i = 0; i < ds->ngroups; i++) {
            if (!shown[i])
                continue;
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = shown[j] && strcmp(ds->groups[j].workload, ds->groups[i].workload) == 0;
            char common[512];
            params_split(ds, shown, &ds->groups[i], true, common, sizeof common);
            if (!seen && common[0])
                fprintf(out, "params of every %s row: %s\n", ds->groups[i].workload, common);
        }
    }
    if (emulated)
        fputs("note: emulated = measured on a host QEMU emulates in software (the lab): "
              "functional only, not a measurement\n", out);
    if (hidden)
        fprintf(out, "(%zu diagnostic row%s hidden: timing_floor, *_cycles, vmm_cpu_*, ...; --all "
                "shows them%s)\n", hidden, hidden == 1 ? "" : "s",
                o->wide ? "" : ", --wide every column");
    else if (!o->wide)
        fputs("(--wide shows every column: p5, p95, mean, sd, p99, min, max)\n", out);
    free(shown);
    if (flagged)
        fprintf(out, "note: noisy = 95%% CI half-width over %.1f%% of the median, unstable = "
                "over %.0f%%, few = under %d samples (too few to compare)\n",
                STATS_NOISY_REL * 100, STATS_UNSTABLE_REL * 100, STATS_MIN_N);
    if (flagged & STATS_FLAG_RUNVAR)
        fputs("note: the 95% CI includes run-to-run variance (hierarchical bootstrap over runs, "
              "then batches) only with 3 or more runs; with fewer it holds batch noise alone, "
              "so the real uncertainty is unknown and larger: run --reps 3 or more\n", out);
}

static void json_num_field(FILE *out, const char *name, double v)
{
    fprintf(out, ",\"%s\":", name);
    json_write_number(out, v);
}

void summary_json_group(const struct dataset *ds, const struct ds_group *g, FILE *out)
{
    const struct stats_desc *d = &g->d;
    char host[160];
    summary_host_label(ds, g->host_id, host, sizeof host);
    fputs("{\"host\":", out);
    json_write_string(out, host);
    fputs(",\"config\":", out);
    json_write_string(out, ds->configs[g->config].name);
    fputs(",\"hypervisor\":", out);
    json_write_string(out, ds_hv(&ds->configs[g->config]));
    fputs(",\"hypervisor_version\":", out);
    json_write_string(out, ds_hv_version(&ds->configs[g->config]));
    fputs(",\"workload\":", out);
    json_write_string(out, g->workload);
    fputs(",\"params\":", out);
    json_write_string(out, g->params);
    fputs(",\"metric\":", out);
    json_write_string(out, g->metric);
    fprintf(out, ",\"n\":%zu,\"runs\":%zu", d->n, g->nruns);
    json_num_field(out, "median", d->median);
    json_num_field(out, "ci_lo", d->ci_lo);
    json_num_field(out, "ci_hi", d->ci_hi);
    json_num_field(out, "p5", d->p5);
    json_num_field(out, "p95", d->p95);
    json_num_field(out, "p99", d->p99);
    json_num_field(out, "mean", d->mean);
    json_num_field(out, "sd", d->sd);
    json_num_field(out, "min", d->min);
    json_num_field(out, "max", d->max);
    json_num_field(out, "rel_ci", d->rel_ci);
    fputs(",\"flag\":", out);
    json_write_string(out, stats_flag_text(d->flags));
    if (group_emulated(ds, g))
        fputs(",\"emulated\":true", out);
    fputs(",\"unit\":", out);
    json_write_string(out, g->unit);
    fputc('}', out);
}

/* Writes text with every line cut at width columns (at a space where there is one),
 * continuation lines indented by four. */
static void wrap_write(FILE *out, const char *text, unsigned width)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        const char *line = text;
        unsigned indent = 0;
        while (n + indent > width && width > 20) {
            size_t cut = width - indent;
            size_t sp = cut;
            while (sp > cut / 2 && line[sp] != ' ')
                sp--;
            if (line[sp] == ' ')
                cut = sp;
            fprintf(out, "%*s%.*s\n", (int)indent, "", (int)cut, line);
            line += cut;
            n -= cut;
            while (n && *line == ' ')
                line++, n--;
            indent = 4;
        }
        fprintf(out, "%*s%.*s\n", (int)indent, "", (int)n, line);
        text = line + n + (line[n] == '\n');
    }
}

static void print_failed(const struct dataset *ds, bool json, FILE *out)
{
    if (json)
        fputs("\"failed_runs\":[", out);
    int count = 0;
    for (size_t i = 0; i < ds->nruns; i++) {
        const struct ds_run *r = &ds->runs[i];
        if (strcmp(r->status, "ok") == 0)
            continue;
        const char *cfg = ds->configs[r->config].name;
        if (json) {
            fprintf(out, "%s{\"id\":%lld,\"config\":", count ? "," : "", (long long)r->id);
            json_write_string(out, cfg);
            fputs(",\"workload\":", out);
            json_write_string(out, r->workload);
            fputs(",\"params\":", out);
            json_write_string(out, r->params);
            fputs(",\"status\":", out);
            json_write_string(out, r->status);
            fputs(",\"reason\":", out);
            json_write_string(out, r->reason);
            fputc('}', out);
        } else {
            if (count == 0)
                fputs("\nruns that did not complete (id config workload params: status, "
                      "reason):\n", out);
            fprintf(out, "  %lld %s %s %s: %s, ", (long long)r->id, cfg, r->workload,
                    or_dash(r->params), r->status);
            vmm_text_escape_puts(out, or_dash(r->reason), 0); /* a guest's words */
            fputc('\n', out);
        }
        count++;
    }
    if (json)
        fputc(']', out);
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
    struct summary_opts o = { .json = json, .wide = true, .all = true };
    return summary_print_opts(db, run_id, &o, out, e);
}

int summary_print_opts(struct sqlite3 *db, int64_t run_id, const struct summary_opts *o,
                       FILE *out, struct vmm_err *e)
{
    bool json = o->json;
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
    struct selector sel = { .kind = run_id > 0 ? SEL_RUNS : SEL_ALL };
    int64_t id = run_id;
    if (run_id > 0) {
        sel.ids = &id;
        sel.nids = 1;
    }
    snprintf(sel.label, sizeof sel.label, "all");
    struct dataset ds;
    struct vmm_err sub = { 0 };
    if (dataset_load_db(db, &sel, &ds, &sub) != 0)
        return vmm_err_set(e, sub.code == VMM_EXIT_INTERNAL ? sub.code : VMM_EXIT_DATABASE,
                           "%s", sub.msg);
    /* The macro workloads' guest/native table, when a config ran with its native twin. */
    struct ovh_table ovh;
    if ((json ? overhead_build(&ds, &ovh, e) : overhead_build_trimmed(&ds, &ovh, e)) != 0) {
        dataset_free(&ds);
        return -1;
    }
    if (json) {
        fputs("{\"results\":[", out);
        for (size_t i = 0; i < ds.ngroups; i++) {
            if (i)
                fputc(',', out);
            summary_json_group(&ds, &ds.groups[i], out);
        }
        fputs("],\"overhead\":", out);
        overhead_print_json(&ovh, out);
        fputc(',', out);
        print_failed(&ds, true, out);
        fputs(",\"placement\":", out);
        if (placement_report_json(db, run_id, out) < 0)
            vmm_err_set(e, VMM_EXIT_DATABASE, "reading placement from %s failed", file);
        fputs("}\n", out);
    } else {
        /* The narrow layout fits its width: lines that still run over (notes, reasons,
         * shared parameters) are wrapped, continued with an indent. */
        char *text = NULL;
        size_t len = 0;
        FILE *buf = o->wide ? NULL : open_memstream(&text, &len);
        FILE *to = buf ? buf : out;
        if (ds.ngroups)
            print_table(&ds, o, to);
        else
            fputs("No successful runs to summarize.\n", to);
        overhead_print(&ovh, to);
        print_failed(&ds, false, to);
        if (buf) {
            fclose(buf);
            wrap_write(out, text, o->width ? o->width : 120);
            free(text);
        }
    }
    overhead_free(&ovh);
    dataset_free(&ds);
    return 0;
}
