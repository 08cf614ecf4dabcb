/* The HTML report; see report.h. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dataset.h"
#include "export.h"
#include "history.h"
#include "json.h"
#include "metrics.h"
#include "overhead.h"
#include "plot.h"
#include "report_hv.h"
#include "report_irq.h"
#include "summary.h"
#include "vmm/text_escape.h"

static void h(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static int mkdir_p(const char *dir, struct vmm_err *e)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot create %s: %s; pass another --out",
                           dir, strerror(errno));
    return 0;
}

static FILE *open_out(const char *dir, const char *name, struct vmm_err *e)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        vmm_err_set(e, VMM_EXIT_USAGE, "cannot write %s: %s", path, strerror(errno));
    return f;
}

static const char *const css =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.85em}"
    "th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}"
    "tr.noisy td{background:#fff6dd}tr.unstable td,tr.few td{background:#fde2e2}"
    "td.slower{color:#b00;font-weight:bold}td.faster{color:#070;font-weight:bold}"
    "img{max-width:100%;border:1px solid #eee;margin:.5em 0}pre{background:#f7f7f7;"
    "padding:.5em;overflow:auto}.note{color:#666;font-style:italic}.warn{color:#a60}"
    "img[data-broken]{outline:3px solid red}"
    /* nothing wider than the page: cells wrap anywhere, tables never exceed the body */
    "table{max-width:100%}td,th{overflow-wrap:anywhere}"
    "details{margin:.4em 0}details>summary{cursor:pointer;font-weight:600;padding:.2em 0}"
    "#verdict{border:2px solid #ccc;border-radius:6px;padding:.6em 1em;margin:1em 0}"
    "#verdict.bad{border-color:#b00;background:#fff5f5}#verdict.good{border-color:#070}"
    "#verdict.unknown{border-color:#a60;background:#fffaf0}"
    "#verdict h2{margin:.1em 0 .3em;border:0}.headline td,.headline th{font-size:1.05em}"
    "ul.verdicts{margin:.3em 0;padding-left:1.2em}li.slower{color:#b00}li.faster{color:#070}"
    "li.na{color:#a60}";

static const char *const img_check =
    "<script>window.addEventListener('load',function(){var im=document.images,b=0;"
    "for(var i=0;i<im.length;i++){if(!im[i].complete||im[i].naturalWidth===0){"
    "im[i].setAttribute('data-broken','1');b++;}else{im[i].setAttribute('data-loaded','1');}}"
    "document.body.setAttribute('data-images',im.length);"
    "document.body.setAttribute('data-broken-images',b);"
    "document.body.setAttribute('data-tables',document.getElementsByTagName('table').length);"
    /* what the browser test reads: elements sticking out to the right of the window, and
     * where the verdict summary ends */
    "var w=document.documentElement.clientWidth,all=document.body.getElementsByTagName('*'),o=0;"
    "for(var j=0;j<all.length;j++){var r=all[j].getBoundingClientRect();"
    "if(r.width>0&&r.right>w+1){o++;all[j].setAttribute('data-overflow','1');}}"
    "if(document.documentElement.scrollWidth>w+1)o++;"
    "document.body.setAttribute('data-overflowing',o);"
    "var v=document.getElementById('verdict');if(v){"
    "document.body.setAttribute('data-verdict-bottom',Math.round(v.getBoundingClientRect().bottom"
    "+window.scrollY));}"
    "});</script>";

static void num_td(FILE *f, double v)
{
    char b[64];
    summary_fmt_num(v, b, sizeof b);
    fprintf(f, "<td class=n>%s</td>", b);
}

static void host_section(FILE *f, const struct dataset *ds)
{
    fputs("<h2 id=host>Hosts and topology</h2>\n", f);
    if (!ds->nhosts) {
        fputs("<p class=note>No host recorded.</p>\n", f);
        return;
    }
    fputs("<table class=hosts><tr><th>field</th>", f);
    for (size_t i = 0; i < ds->nhosts; i++) {
        char lab[160];
        summary_host_label(ds, ds->hosts[i].id, lab, sizeof lab);
        fputs("<th>", f);
        h(f, lab);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    const struct ds_host *h0 = &ds->hosts[0];
    for (unsigned k = 0; k < h0->nfields; k++) {
        fputs("<tr><td>", f);
        h(f, h0->field[k]);
        fputs("</td>", f);
        /* The hwloc XML export is kept whole but folded: it is for reading on demand. */
        bool xml = strcmp(h0->field[k], "topology_xml") == 0;
        for (size_t i = 0; i < ds->nhosts; i++) {
            const char *v = ds_host_field(&ds->hosts[i], h0->field[k]);
            fputs("<td>", f);
            if (xml && v && *v) {
                fprintf(f, "<details><summary>hwloc XML export (%zu bytes)</summary><pre>",
                        strlen(v));
                h(f, v);
                fputs("</pre></details>", f);
            } else {
                h(f, v);
            }
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void config_section(FILE *f, const struct dataset *ds)
{
    fputs("<h2 id=configs>Configs</h2>\n<table class=configs><tr><th>name</th><th>vCPUs</th>"
          "<th>memory</th><th>hypervisor</th><th>file</th></tr>\n", f);
    for (size_t i = 0; i < ds->nconfigs; i++) {
        const struct ds_config *c = &ds->configs[i];
        fputs("<tr><td>", f);
        h(f, c->name);
        fprintf(f, "</td><td class=n>%u</td><td class=n>%llu MiB</td><td>", c->vcpus,
                (unsigned long long)(c->mem_bytes >> 20));
        h(f, ds_hv(c));
        if (strcmp(ds_hv(c), ds_hv_version(c)) != 0) {
            fputs(" (", f);
            h(f, ds_hv_version(c));
            fputs(")", f);
        }
        fputs("</td><td><pre>", f);
        h(f, *c->text ? c->text : "(built-in default)");
        fputs("</pre></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void group_table(FILE *f, const struct dataset *ds, const char *workload)
{
    /* the headline statistics only; mean, sd, p99, min and max are in summary.csv */
    fputs("<table class=results><tr><th>config</th><th>params</th><th>metric</th>"
          "<th>n / runs</th><th>median</th><th>95% CI</th><th>±CI</th><th>p5..p95</th>"
          "<th>unit</th><th>note</th></tr>\n", f);
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        if (strcmp(g->workload, workload) != 0)
            continue;
        const struct stats_desc *d = &g->d;
        const char *flag = stats_flag_text(d->flags);
        fprintf(f, "<tr class=\"%s\"><td>", (d->flags & STATS_FLAG_RUNVAR) &&
                !(d->flags & STATS_FLAG_FEW) ? "runvar" : flag);
        h(f, ds->configs[g->config].name);
        if (ds->nhosts > 1) {
            char lab[160];
            summary_host_label(ds, g->host_id, lab, sizeof lab);
            fputs(" <small>", f);
            h(f, lab);
            fputs("</small>", f);
        }
        fputs("</td><td>", f);
        h(f, *g->params ? g->params : "-");
        fputs("</td><td>", f);
        h(f, g->metric);
        fprintf(f, " <small>(%s is better)</small>", metric_info(g->metric)->higher_is_better ?
                "higher" : "lower");
        fprintf(f, "</td><td class=n>%zu / %zu</td>", d->n, g->nruns);
        num_td(f, d->median);
        char lo[32], hi[32];
        summary_fmt_num(d->ci_lo, lo, sizeof lo);
        summary_fmt_num(d->ci_hi, hi, sizeof hi);
        fprintf(f, "<td class=n>%s..%s</td>", lo, hi);
        if (isfinite(d->rel_ci))
            fprintf(f, "<td class=n>%.2f%%</td>", d->rel_ci * 100);
        else
            fputs("<td class=n>-</td>", f);
        summary_fmt_num(d->p5, lo, sizeof lo);
        summary_fmt_num(d->p95, hi, sizeof hi);
        fprintf(f, "<td class=n>%s..%s</td><td>", lo, hi);
        h(f, g->unit);
        fputs("</td><td>", f);
        h(f, flag);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void img(FILE *f, const struct plot_made *m)
{
    fprintf(f, "<figure><img src=\"plots/%s.png\" alt=\"", m->name);
    h(f, m->title);
    fprintf(f, "\"><figcaption>");
    h(f, m->title);
    fprintf(f, " (<a href=\"plots/%s.svg\">SVG</a>, <a href=\"plots/%s.gp\">gnuplot script</a>,"
            " <a href=\"plots/%s.dat\">data</a>)</figcaption></figure>\n", m->name, m->name,
            m->name);
}

static const char *family_of(const char *workload)
{
    static const char *const exits[] = { "null", "cpuid", "pio-user", "mmio-user", "hypercall",
                                         "rdmsr", "wrmsr" };
    for (size_t i = 0; i < sizeof exits / sizeof exits[0]; i++)
        if (strcmp(workload, exits[i]) == 0)
            return "exits";
    if (strcmp(workload, "tlb") == 0)
        return "tlb";
    if (strcmp(workload, "numa") == 0)
        return "numa";
    if (strcmp(workload, "loaded-latency") == 0)
        return "loaded-latency";
    if (strncmp(workload, "virtio", 6) == 0)
        return "virtio";
    if (strcmp(workload, "ipi") == 0 || strcmp(workload, "ipi-halt") == 0 ||
        strcmp(workload, "irq-inject") == 0)
        return "interrupts";
    return "";
}

/* The worst verdict among a workload's comparison rows, for its summary line. */
static const char *workload_verdict(const struct cmp_result *r, const char *workload)
{
    int worst = -1;    /* 3 slower, 2 faster, 1 n/a, 0 no change */
    for (size_t i = 0; r && i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        if (strcmp(x->workload, workload) != 0 || x->diagnostic)
            continue;
        int v = x->verdict == VERDICT_SLOWER ? 3 : x->verdict == VERDICT_FASTER ? 2 :
                x->verdict == VERDICT_NA ? 1 : 0;
        if (v > worst)
            worst = v;
    }
    static const char *const names[] = { "no change", "no verdict", "faster", "SLOWER" };
    return worst < 0 ? NULL : names[worst];
}

static void workload_sections(FILE *f, const struct dataset *ds, const struct plot_set *ps,
                              const struct cmp_result *cmp)
{
    fputs("<h2 id=workloads>Details per workload</h2>\n<p class=note>Medians with 95% CIs over "
          "the non-warm-up samples; with 3 or more runs the CI holds run-to-run variance "
          "(hierarchical bootstrap over runs, then batches), with fewer it holds batch noise "
          "only and is marked. Rows are marked noisy when the CI half-width exceeds 3.5% of the "
          "median, unstable above 10%, few under 6 samples. Click a workload to open it.</p>\n",
          f);
    const char *done_fam[8];
    size_t nfam = 0;
    for (size_t i = 0; i < ds->ngroups; i++) {
        const char *w = ds->groups[i].workload;
        if (i && strcmp(ds->groups[i - 1].workload, w) == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(ds->groups[k].workload, w) == 0;
        if (seen)
            continue;
        size_t n = 0;
        for (size_t k = 0; k < ds->ngroups; k++)
            n += strcmp(ds->groups[k].workload, w) == 0;
        const char *v = workload_verdict(cmp, w);
        fputs("<details class=workload><summary>", f);
        h(f, w);
        fprintf(f, " <small>(%zu result%s%s%s)</small></summary>\n", n, n == 1 ? "" : "s",
                v ? "; comparison: " : "", v ? v : "");
        group_table(f, ds, w);
        const char *fam = family_of(w);
        bool fam_done = false;
        for (size_t k = 0; k < nfam && !fam_done; k++)
            fam_done = strcmp(done_fam[k], fam) == 0;
        if (*fam && !fam_done) {
            for (size_t k = 0; k < ps->n; k++)
                if (strcmp(ps->made[k].family, fam) == 0)
                    img(f, &ps->made[k]);
            if (nfam < 8)
                done_fam[nfam++] = fam;
        }
        fputs("</details>\n", f);
    }
}

/* ---- the macro workloads' overhead: the headline when they ran with native twins ---- */

static void macro_section(FILE *f, const struct ovh_table *t, const struct plot_set *ps)
{
    fputs("<h2 id=macro>What virtualization costs applications</h2>\n<p class=note>Each macro "
          "workload ran in the guest and natively (its <code>-native</code> twin config: the same "
          "code, buffers and pinning on the host). Guest/native of the median throughput with its "
          "95% CI (the run is the unit); 1.00 means virtualization costs nothing, below it the "
          "guest is slower. A verdict needs p &lt; 0.01 and the CI outside &plusmn;2%.</p>\n"
          "<table class=macro><tr><th>workload</th><th>config</th><th>params</th>"
          "<th>guest/native</th><th>95% CI</th><th>guest (ops/s)</th><th>native (ops/s)</th>"
          "<th>runs g/n</th><th>verdict</th></tr>\n", f);
    for (size_t i = 0; i < t->n; i++) {
        const struct ovh_row *r = &t->rows[i];
        char g[64], n[64];
        summary_fmt_num(r->guest, g, sizeof g);
        summary_fmt_num(r->native, n, sizeof n);
        fputs("<tr><td>", f);
        h(f, r->workload);
        fputs("</td><td>", f);
        h(f, r->config);
        fputs("</td><td>", f);
        h(f, r->params[0] ? r->params : "-");
        fprintf(f, "</td><td class=num>%.3f</td><td class=num>[%.3f, %.3f]</td><td class=num>",
                r->ratio, r->lo, r->hi);
        h(f, g);
        fputs("</td><td class=num>", f);
        h(f, n);
        fprintf(f, "</td><td class=num>%zu/%zu</td><td>", r->runs_guest, r->runs_native);
        h(f, stats_verdict_name(r->verdict));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    for (size_t k = 0; k < ps->n; k++)
        if (strcmp(ps->made[k].family, "macro") == 0)
            img(f, &ps->made[k]);
}

/* ---- the verdict, first thing on the page ---- */

static int verdict_rank(enum stats_verdict v)
{
    return v == VERDICT_SLOWER ? 0 : v == VERDICT_FASTER ? 1 : v == VERDICT_NA ? 2 : 3;
}

static void change_text(const struct cmp_row *x, char *buf, size_t cap)
{
    if (!isfinite(x->ratio))
        snprintf(buf, cap, "-");
    else if (x->diff)
        snprintf(buf, cap, "B-A %+.4g (CI %+.4g..%+.4g)", x->ratio, x->lo, x->hi);
    else if (isfinite(x->lo))
        snprintf(buf, cap, "%+.1f%% (CI %+.1f..%+.1f%%)", (x->ratio - 1) * 100,
                 (x->lo - 1) * 100, (x->hi - 1) * 100);
    else
        snprintf(buf, cap, "%+.1f%% (no CI)", (x->ratio - 1) * 100);
}

/* "config workload params" of a comparison row, escaped. */
static void row_where(FILE *f, const struct cmp_row *x)
{
    if (*x->config) {
        h(f, x->config);
        fputc(' ', f);
    }
    h(f, x->workload);
    fputc(' ', f);
    h(f, *x->params ? x->params : "-");
}

static void row_label(FILE *f, const struct cmp_row *x)
{
    row_where(f, x);
    fputc(' ', f);
    h(f, x->metric);
}

/* Among a workload's rows of its headline metric, the one shown: a verdict (slower, then
 * faster) before no change, and a judged row before one without a verdict. */
static int headline_rank(const struct cmp_row *x)
{
    return x->verdict == VERDICT_SLOWER ? 0 : x->verdict == VERDICT_FASTER ? 1 :
           x->verdict == VERDICT_NO_CHANGE ? 2 : 3;
}

/* Which metric heads a workload: the one a reader means by "how fast". */
static int headline_pref(const char *metric)
{
    static const char *const pref[] = { "latency", "throughput", "bytes_per_s", "bandwidth",
                                        "iops" };
    for (int i = 0; i < 5; i++)
        if (strcmp(metric, pref[i]) == 0)
            return i;
    return 5;
}

#define VERDICT_LIST_MAX 6
#define HEADLINE_MAX 14

static void verdict_section(FILE *f, const struct cmp_result *r)
{
    size_t cnt[4] = { 0 };
    for (size_t i = 0; i < r->nrows; i++)
        if (!r->rows[i].diagnostic)
            cnt[verdict_rank(r->rows[i].verdict)]++;
    const char *cls = cnt[0] ? "bad" : cnt[2] ? "unknown" : "good";
    fprintf(f, "<section id=verdict class=%s><h2>Verdict: ", cls);
    if (cnt[0])
        fprintf(f, "%zu regressed", cnt[0]);
    else
        fputs("no regression", f);
    fprintf(f, " <small>(%zu faster, %zu no change, %zu without a verdict)</small></h2>\n",
            cnt[1], cnt[3], cnt[2]);
    fputs("<p>B = <code>", f);
    h(f, r->label_b);
    fputs("</code> against A = <code>", f);
    h(f, r->label_a);
    fprintf(f, "</code>. A change needs p &lt; %g (Welch's t on run medians) and the 95%% CI "
            "wholly outside ±%g%%.</p>\n", r->alpha, r->band * 100);
    if (r->host_diff[0]) {
        fputs("<p class=warn>Warning: A and B come from different hosts or builds: ", f);
        h(f, r->host_diff);
        fputs("</p>\n", f);
    }
    /* the verdicts, regressions first, then improvements, then what could not be judged */
    static const char *const kcls[3] = { "slower", "faster", "na" };
    static const char *const kword[3] = { "slower", "faster", "no verdict" };
    bool any = false;
    for (int k = 0; k < 3; k++) {
        size_t shown = 0;
        for (size_t i = 0; i < r->nrows; i++) {
            const struct cmp_row *x = &r->rows[i];
            if (x->diagnostic || verdict_rank(x->verdict) != k)
                continue;
            if (shown == VERDICT_LIST_MAX) {
                fprintf(f, "<li class=%s>and %zu more %s (details below)</li>\n", kcls[k],
                        cnt[k] - shown, kword[k]);
                break;
            }
            if (!any)
                fputs("<ul class=verdicts>\n", f);
            any = true;
            char c[160];
            change_text(x, c, sizeof c);
            fprintf(f, "<li class=%s><b>%s</b> ", kcls[k], kword[k]);
            row_label(f, x);
            fputs(": ", f);
            h(f, k == 2 ? x->why_na : c);
            fputs("</li>\n", f);
            shown++;
        }
    }
    if (any)
        fputs("</ul>\n", f);
    /* one row per (config, workload): its headline metric, worst verdict first */
    size_t *head = malloc((r->nrows ? r->nrows : 1) * sizeof *head), nh = 0;
    if (!head) {
        fputs("</section>\n", f);
        return;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        if (x->diagnostic)
            continue;
        size_t k;
        for (k = 0; k < nh; k++) {
            const struct cmp_row *y = &r->rows[head[k]];
            if (strcmp(y->workload, x->workload) == 0 && strcmp(y->config, x->config) == 0)
                break;
        }
        if (k == nh) {
            head[nh++] = i;
            continue;
        }
        const struct cmp_row *y = &r->rows[head[k]];
        int px = headline_pref(x->metric), py = headline_pref(y->metric);
        if (px < py || (px == py && headline_rank(x) < headline_rank(y)))
            head[k] = i;
    }
    /* worst first: a simple insertion sort, the table is short */
    for (size_t a = 1; a < nh; a++)
        for (size_t b = a; b > 0 && verdict_rank(r->rows[head[b]].verdict) <
                                    verdict_rank(r->rows[head[b - 1]].verdict); b--) {
            size_t t = head[b];
            head[b] = head[b - 1];
            head[b - 1] = t;
        }
    fputs("<table class=headline><tr><th>workload</th><th>headline metric</th><th>median A"
          "</th><th>median B</th><th>change B vs A, 95% CI</th><th>verdict</th></tr>\n", f);
    for (size_t k = 0; k < nh && k < HEADLINE_MAX; k++) {
        const struct cmp_row *x = &r->rows[head[k]];
        fputs("<tr><td>", f);
        if (*x->config) {
            h(f, x->config);
            fputc(' ', f);
        }
        h(f, x->workload);
        fputs("</td><td>", f);
        h(f, x->metric);
        fprintf(f, " <small>(%s, %s is better)</small>", x->unit, x->higher_is_better ?
                "higher" : "lower");
        fputs("</td>", f);
        num_td(f, x->da.median);
        num_td(f, x->db.median);
        char c[160];
        change_text(x, c, sizeof c);
        fputs("<td class=n>", f);
        h(f, c);
        const char *v = x->verdict == VERDICT_NA ? "no verdict" : stats_verdict_name(x->verdict);
        fprintf(f, "</td><td class=\"%s\">%s</td></tr>\n", stats_verdict_name(x->verdict), v);
    }
    fputs("</table>\n", f);
    if (nh > HEADLINE_MAX)
        fprintf(f, "<p class=note>%zu more workloads in the comparison below.</p>\n",
                nh - HEADLINE_MAX);
    free(head);
    fputs("<p class=note><a href=#compare>every comparison row and the ratio chart</a></p>\n"
          "</section>\n", f);
}

static void compare_section(FILE *f, const struct cmp_result *r, const struct plot_set *ps)
{
    fputs("<h2 id=compare>Comparison</h2>\n<p>A = <code>", f);
    h(f, r->label_a);
    fputs("</code>, B = <code>", f);
    h(f, r->label_b);
    fprintf(f, "</code>. A change needs p &lt; %g (Welch's t on run medians) and the 95%% CI of "
            "B/A (hierarchical bootstrap: runs, then batches) wholly outside 1 ± %g%%; "
            "metrics that can be zero or negative are compared on B-A. "
            "<a href=\"compare.json\">JSON</a> · <a href=\"compare.csv\">CSV</a></p>\n",
            r->alpha, r->band * 100);
    for (size_t k = 0; k < ps->n; k++)
        if (strcmp(ps->made[k].family, "compare") == 0)
            img(f, &ps->made[k]);
    fprintf(f, "<details class=compare-rows><summary>All %zu comparison rows</summary>\n",
            r->nrows);
    fputs("<table class=compare><tr><th>workload, params</th><th>metric</th>"
          "<th>median A</th><th>median B</th><th>unit</th><th>B/A</th><th>95% CI</th>"
          "<th>p</th><th>runs A/B</th><th>verdict</th></tr>\n", f);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        fputs("<tr><td>", f);
        row_where(f, x);
        fputs("</td><td>", f);
        h(f, x->metric);
        fputs("</td>", f);
        num_td(f, x->da.median);
        num_td(f, x->db.median);
        fputs("<td>", f);
        h(f, x->unit);
        fputs("</td>", f);
        if (isfinite(x->ratio) && isfinite(x->lo) && x->diff)
            fprintf(f, "<td class=n>B-A %+.4g</td><td class=n>%+.4g..%+.4g</td>", x->ratio,
                    x->lo, x->hi);
        else if (isfinite(x->ratio) && isfinite(x->lo))
            fprintf(f, "<td class=n>%.4f</td><td class=n>%.4f..%.4f</td>", x->ratio, x->lo, x->hi);
        else
            fputs("<td class=n>-</td><td class=n>-</td>", f);
        fprintf(f, "<td class=n>%.3g</td><td class=n>%zu/%zu</td>", x->p, x->runs_a, x->runs_b);
        const char *v = x->verdict == VERDICT_NA ? x->why_na : stats_verdict_name(x->verdict);
        fprintf(f, "<td class=\"%s\">%s%s</td></tr>\n", stats_verdict_name(x->verdict), v,
                x->diagnostic ? " (diagnostic)" : x->multimodal ? " (multimodal: means)" : "");
    }
    fputs("</table>\n", f);
    if (r->ngeo) {
        fputs("<table class=geomean><tr><th>workload</th><th>rows</th><th>geomean B/A</th>"
              "<th>95% CI</th><th>p</th><th>verdict</th></tr>\n", f);
        for (size_t i = 0; i < r->ngeo; i++) {
            const struct cmp_geo *g = &r->geo[i];
            fputs("<tr><td>", f);
            h(f, g->workload);
            fprintf(f, "</td><td class=n>%zu</td><td class=n>%.4f</td>", g->nrows, g->gm);
            if (isfinite(g->lo))
                fprintf(f, "<td class=n>%.4f..%.4f</td><td class=n>%.3g</td>", g->lo, g->hi, g->p);
            else
                fputs("<td class=n>-</td><td class=n>-</td>", f);
            fprintf(f, "<td class=\"%s\">%s</td></tr>\n", stats_verdict_name(g->verdict),
                    stats_verdict_name(g->verdict));
        }
        fputs("</table>\n", f);
    }
    fputs("</details>\n", f);
}

static void flagged_section(FILE *f, const struct dataset *ds)
{
    fputs("<h2 id=flagged>Flagged results</h2>\n", f);
    size_t n = 0;
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        if (!g->d.flags)
            continue;
        if (!n++)
            fputs("<ul class=flagged>\n", f);
        fputs("<li>", f);
        h(f, ds->configs[g->config].name);
        fputc(' ', f);
        h(f, g->workload);
        fputc(' ', f);
        h(f, *g->params ? g->params : "-");
        fputc(' ', f);
        h(f, g->metric);
        fprintf(f, ": <b>%s</b> (n %zu, ±%.1f%% CI)</li>\n", stats_flag_text(g->d.flags), g->d.n,
                isfinite(g->d.rel_ci) ? g->d.rel_ci * 100 : 0.0);
    }
    fputs(n ? "</ul>\n" : "<p>None: every result is within 3.5% CI half-width with at least "
          "6 samples.</p>\n", f);
    size_t nf = 0;
    for (size_t i = 0; i < ds->nruns; i++) {
        const struct ds_run *r = &ds->runs[i];
        if (strcmp(r->status, "ok") == 0)
            continue;
        if (!nf++)
            fputs("<h3>Runs that did not complete</h3>\n<table class=failed><tr><th>id</th>"
                  "<th>config</th><th>workload</th><th>params</th><th>status</th><th>reason"
                  "</th></tr>\n", f);
        fprintf(f, "<tr><td class=n>%lld</td><td>", (long long)r->id);
        h(f, ds->configs[r->config].name);
        fputs("</td><td>", f);
        h(f, r->workload);
        fputs("</td><td>", f);
        h(f, r->params);
        fputs("</td><td>", f);
        h(f, r->status);
        fputs("</td><td>", f);
        char reason[2049]; /* a guest's words: control bytes shown as \xNN, not written */
        h(f, vmm_text_escape(reason, sizeof reason, r->reason, 0));
        fputs("</td></tr>\n", f);
    }
    if (nf)
        fputs("</table>\n", f);
}

/* The history of the whole database, by suite revision, when it has more than one: its
 * changes and a plot per series. 1 when built, 0 when there is one revision or fewer. */
static int history_load(const struct dataset *ds, const char *plots, struct plot_set *ps,
                        struct history *hist, size_t *first_plot, struct vmm_err *e)
{
    struct sqlite3 *db;
    if (adb_open(ds->db_path, &db, e))
        return -1;
    long revs = history_count_revisions(db);
    sqlite3_close(db);
    if (revs <= 1)
        return 0;
    struct hist_opts o;
    hist_opts_default(&o);
    o.by = HIST_BY_REV;
    o.ci = true;
    *first_plot = ps->n;
    if (history_build(ds->db_path, &o, hist, e))
        return -1;
    if (history_plot(hist, plots, ps, e)) {
        history_free(hist);
        return -1;
    }
    return 1;
}

static void history_section(FILE *f, const struct history *hist, const struct plot_set *ps,
                            size_t first_plot)
{
    size_t nchg = 0;
    for (size_t i = 0; i < hist->n; i++)
        nchg += hist->s[i].nchg;
    fprintf(f, "<h2 id=history>History</h2>\n<p>Every series of the database across its %zu "
            "suite revisions, oldest first (each point the median of its run medians with the "
            "run-clustered 95%% CI); changes found by E-Divisive means (permutation test, alpha "
            "%g, %d permutations, at least %d revisions a side): <b>%zu</b>. Data: <a "
            "href=\"history.json\">history.json</a></p>\n", hist->npoints, HIST_ALPHA, HIST_PERMS,
            HIST_MIN_SEG, nchg);
    if (nchg) {
        fputs("<table class=history><tr><th>metric</th><th>workload</th><th>config</th><th>host"
              "</th><th>last before</th><th>first after</th><th>before</th><th>after</th>"
              "<th>size</th><th>confidence</th></tr>\n", f);
        for (size_t i = 0; i < hist->n; i++) {
            const struct hist_series *s = &hist->s[i];
            for (size_t j = 0; j < s->nchg; j++) {
                const struct hist_change *c = &s->chg[j];
                const char *cell[] = { s->metric, s->workload, s->config, s->host,
                                       s->pts[c->at - 1].label, s->pts[c->at].label };
                fputs("<tr>", f);
                for (size_t k = 0; k < sizeof cell / sizeof cell[0]; k++) {
                    fputs("<td>", f);
                    h(f, cell[k]);
                    fputs("</td>", f);
                }
                fprintf(f, "<td class=n>%.6g</td><td class=n>%.6g</td><td class=n>%+.1f%%</td>"
                        "<td class=n>%.3f</td></tr>\n", c->before, c->after, 100 * c->size,
                        c->confidence);
            }
        }
        fputs("</table>\n", f);
    }
    for (size_t i = first_plot; i < ps->n; i++)
        if (strcmp(ps->made[i].family, "history") == 0)
            img(f, &ps->made[i]);
}

static void compare_csv(FILE *f, const struct cmp_result *r)
{
    fputs("config,workload,params,metric,unit,n_a,median_a,n_b,median_b,ratio,ci_lo,ci_hi,p,"
          "verdict\n", f);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        const char *t[] = { x->config, x->workload, x->params, x->metric, x->unit };
        for (int k = 0; k < 5; k++) {
            if (k)
                fputc(',', f);
            export_csv_field(f, t[k]);
        }
        fprintf(f, ",%zu,%.17g,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,", x->da.n, x->da.median,
                x->db.n, x->db.median, x->ratio, x->lo, x->hi, x->p);
        export_csv_field(f, stats_verdict_name(x->verdict));
        fputc('\n', f);
    }
}

int report_write(const struct dataset *ds, const struct cmp_result *cmp, const char *dir,
                 struct vmm_err *e)
{
    char plots[4400];
    snprintf(plots, sizeof plots, "%s/plots", dir);
    if (mkdir_p(dir, e) || mkdir_p(plots, e))
        return -1;
    struct plot_set *ps = calloc(1, sizeof *ps);
    if (!ps)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
    int ret = plot_all(ds, cmp, plots, ps, e);
    struct history hist = { 0 };
    size_t hist_plot = 0;
    int has_hist = ret ? 0 : history_load(ds, plots, ps, &hist, &hist_plot, e);
    if (has_hist < 0)
        ret = -1;
    FILE *f = NULL;
    if (!ret && (f = open_out(dir, "summary.csv", e))) {
        export_summary(ds, false, f);
        ret |= fclose(f);
    }
    if (!ret && (f = open_out(dir, "summary.json", e))) {
        export_summary(ds, true, f);
        ret |= fclose(f);
    }
    if (!ret && cmp && (f = open_out(dir, "compare.json", e))) {
        compare_print_json(cmp, f);
        ret |= fclose(f);
    }
    if (!ret && cmp && (f = open_out(dir, "compare.csv", e))) {
        compare_csv(f, cmp);
        ret |= fclose(f);
    }
    if (!ret && has_hist > 0 && (f = open_out(dir, "history.json", e))) {
        history_print_json(&hist, f);
        ret |= fclose(f);
    }
    if (!ret && !(f = open_out(dir, "index.html.tmp", e)))
        ret = -1;
    if (ret) {
        if (has_hist > 0)
            history_free(&hist);
        free(ps);
        return -1;
    }
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
          "<meta name=viewport content=\"width=device-width\"><title>vmmbench report</title>"
          "<style>", f);
    fputs(css, f);
    fputs("</style></head>\n<body>\n<h1>vmmbench report</h1>\n<p>", f);
    h(f, ds->label);
    fputs(" from <code>", f);
    h(f, ds->db_path);
    fprintf(f, "</code>: %zu runs, %zu results; generated %s. Data: <a href=\"summary.csv\">"
            "summary.csv</a> · <a href=\"summary.json\">summary.json</a></p>\n", ds->nruns,
            ds->ngroups, when);
    /* Figures from a host QEMU emulates in software (the lab) are checks, not numbers. */
    for (size_t i = 0; i < ds->nhosts; i++)
        if (ds_host_field(&ds->hosts[i], "emulated")[0]) {
            fputs("<p class=warn id=emulated>Emulated: some results come from a host that QEMU "
                  "emulates in software (kvm under TCG, the two-node lab): functional only, not "
                  "a measurement.</p>\n", f);
            break;
        }
    /* the answer first: what virtualization costs the applications (when the macro
     * workloads ran with native twins), the verdict and the headline table, then the
     * evidence */
    struct ovh_table ovh;
    if (overhead_build_trimmed(ds, &ovh, e)) {
        fclose(f);
        free(ps);
        return -1;
    }
    bool has_macro = ovh.n > 0;
    if (has_macro)
        macro_section(f, &ovh, ps);
    overhead_free(&ovh);
    if (cmp)
        verdict_section(f, cmp);
    bool irq = report_irq_present(ds);
    /* runs under several VMMs: QEMU/vmm-min per workload, its own section */
    struct hv_section hvs = { 0 };
    bool hv = report_hv_present(ds);
    if (hv && report_hv_build(ds, &hvs, e)) {
        fclose(f);
        if (has_hist > 0)
            history_free(&hist);
        free(ps);
        return -1;
    }
    fprintf(f, "<nav>%s%s%s<a href=#workloads>workloads</a> · %s%s<a href=#flagged>flagged</a> · "
            "<a href=#host>hosts</a> · <a href=#configs>configs</a></nav>\n",
            has_macro ? "<a href=#macro>macro overhead</a> · " : "",
            cmp ? "<a href=#compare>comparison</a> · " : "",
            hv ? "<a href=#hypervisors>hypervisors</a> · " : "",
            irq ? "<a href=#interrupts>interrupts</a> · " : "",
            has_hist > 0 ? "<a href=#history>history</a> · " : "");
    if (cmp)
        compare_section(f, cmp, ps);
    if (hv) {
        report_hv_section(f, ds, &hvs, h);
        report_hv_free(&hvs);
    }
    workload_sections(f, ds, ps, cmp);
    if (irq)
        report_irq_section(f, ds, h);
    if (has_hist > 0) {
        history_section(f, &hist, ps, hist_plot);
        history_free(&hist);
    }
    flagged_section(f, ds);
    host_section(f, ds);
    config_section(f, ds);
    if (ps->nnotes) {
        fputs("<h2 id=notes>Plot notes</h2>\n<ul class=notes>\n", f);
        for (size_t i = 0; i < ps->nnotes; i++) {
            fputs("<li>", f);
            h(f, ps->notes[i]);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    fputs(img_check, f);
    fputs("\n</body></html>\n", f);
    free(ps);
    if (fclose(f) != 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "writing the report in %s failed", dir);
    char from[4400], to[4400];
    snprintf(from, sizeof from, "%s/index.html.tmp", dir);
    snprintf(to, sizeof to, "%s/index.html", dir);
    if (rename(from, to) != 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot write %s: %s", to, strerror(errno));
    return 0;
}
