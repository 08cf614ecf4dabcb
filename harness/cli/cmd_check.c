/* `vmmbench check`: the CI regression gate. Compares the newest run set (or --candidate)
 * against a baseline and exits 0 (nothing regressed), 1 (something regressed), 3 (only
 * improvements beyond the band, with --fail-on-improvement) or 2 (usage or data error:
 * no baseline, metrics missing from the candidate, too few samples: each named). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "compare.h"
#include "stats.h"

enum { CHECK_OK = 0, CHECK_REGRESSED = 1, CHECK_ERROR = 2, CHECK_IMPROVED = 3 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench check --baseline FILE_OR_TAG [--candidate SET] [--threshold PCT]\n"
            "                      [--alpha P] [--junit FILE] [--markdown FILE]\n"
            "                      [--fail-on-improvement] [--metric M]... [--workload W]...\n"
            "                      [--ignore-param P]... [--db PATH]\n"
            "\n"
            "The regression gate: compares the newest run set in the database (or --candidate)\n"
            "against the baseline, every (workload, parameters, metric) of the baseline, with\n"
            "diagnostic metrics (timing_floor) left out unless named with --metric. A regression\n"
            "needs p < alpha and the 95%% CI of candidate/baseline wholly beyond the band.\n"
            "  --baseline X      a database file, a baseline saved with `vmmbench baseline save X`\n"
            "                    (DIR/baselines/X.db next to --db), or a tag/config/run set in --db\n"
            "  --candidate SET   what to check (default: newest, the newest run set in --db)\n"
            "  --threshold PCT   noise band +-PCT%% (default 2)\n"
            "  --alpha P         significance level (default 0.01)\n"
            "  --unit U          auto (run medians when both sides have 6+ runs, else\n"
            "                    batches), run or batch\n"
            "  --junit FILE      JUnit XML, one test case per metric\n"
            "  --markdown FILE   a Markdown summary for CI pages\n"
            "  --fail-on-improvement  exit 3 when something got faster beyond the band\n"
            "  --metric, --workload, --ignore-param   as for `vmmbench compare`\n"
            "  --db PATH         the results database (default %s)\n"
            "Exit status: 0 nothing regressed, 1 something regressed, 2 usage or data error,\n"
            "3 improved beyond the band with --fail-on-improvement.\n",
            CLI_DEFAULT_DB);
}

static void xml(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
    }
}

static void describe_row(const struct cmp_row *x, char *buf, size_t cap)
{
    snprintf(buf, cap, "B/A %.4f (95%% CI %.4f..%.4f), p %.3g, median %.6g -> %.6g %s, n %zu/%zu",
             x->ratio, x->lo, x->hi, x->p, x->da.median, x->db.median, x->unit, x->da.n,
             x->db.n);
}

static int write_junit(const char *path, const struct cmp_result *r, bool fail_improve)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t failures = 0, skipped = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        failures += x->verdict == VERDICT_SLOWER || (fail_improve && x->verdict == VERDICT_FASTER);
        skipped += x->verdict == VERDICT_NA;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
            "<testsuite name=\"vmmbench check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"%zu\">\n", r->nrows, failures, skipped);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        char d[512];
        describe_row(x, d, sizeof d);
        fputs("  <testcase classname=\"vmmbench.", f);
        if (*x->config) {
            xml(f, x->config);
            fputc('.', f);
        }
        xml(f, x->workload);
        fputs("\" name=\"", f);
        xml(f, *x->params ? x->params : "-");
        fputc(' ', f);
        xml(f, x->metric);
        fputs("\">", f);
        if (x->verdict == VERDICT_SLOWER || (fail_improve && x->verdict == VERDICT_FASTER)) {
            fprintf(f, "<failure message=\"%s: ", stats_verdict_name(x->verdict));
            xml(f, d);
            fputs("\"/>", f);
        } else if (x->verdict == VERDICT_NA) {
            fputs("<skipped message=\"", f);
            xml(f, x->why_na);
            fputs("\"/>", f);
        } else {
            fputs("<system-out>", f);
            fprintf(f, "%s: ", stats_verdict_name(x->verdict));
            xml(f, d);
            fputs("</system-out>", f);
        }
        fputs("</testcase>\n", f);
    }
    fputs("</testsuite>\n</testsuites>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        { "baseline", required_argument, 0, 'b' }, { "candidate", required_argument, 0, 'c' },
        { "threshold", required_argument, 0, 't' }, { "alpha", required_argument, 0, 'a' },
        { "junit", required_argument, 0, 'J' }, { "markdown", required_argument, 0, 'M' },
        { "fail-on-improvement", no_argument, 0, 'F' }, { "metric", required_argument, 0, 'm' },
        { "workload", required_argument, 0, 'w' }, { "ignore-param", required_argument, 0, 'i' },
        { "db", required_argument, 0, 'd' }, { "unit", required_argument, 0, 'u' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct cmp_opts o;
    cmp_opts_default(&o);
    o.skip_diagnostic = true;
    const char *db = CLI_DEFAULT_DB, *base = NULL, *cand = "newest", *junit = NULL, *md = NULL;
    bool fail_improve = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'b': base = optarg; break;
        case 'c': cand = optarg; break;
        case 'J': junit = optarg; break;
        case 'M': md = optarg; break;
        case 'F': fail_improve = true; break;
        case 'd': db = optarg; break;
        case 'h': usage(stdout); return CHECK_OK;
        case ':': return cli_usage("check", "%s needs a value", argv[optind - 1]);
        default:
            if ((rc = cli_cmp_option("check", c, optarg, &o)) < 0)
                return cli_usage("check", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return CHECK_ERROR;
    }
    if (optind < argc)
        return cli_usage("check", "unexpected argument '%s'", argv[optind]);
    if (!base)
        return cli_usage("check", "--baseline is required (a database file or a baseline "
                         "saved with `vmmbench baseline save NAME`)");
    struct vmm_err e = { 0 };
    struct selector sa, sb;
    struct dataset da = { 0 }, dc = { 0 };
    struct cmp_result r = { 0 };
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    int ret = CHECK_OK;
    if (cli_resolve_baseline(base, db, &sa, &e) || selector_parse(cand, db, &sb, &e) ||
        dataset_load(&sa, &da, &e) || dataset_load(&sb, &dc, &e)) {
        fprintf(stderr, "vmmbench: check: %s\n", e.msg);
        ret = CHECK_ERROR;
        goto out;
    }
    snprintf(dc.label + strlen(dc.label), sizeof dc.label - strlen(dc.label), " in %s", db);
    if (compare_datasets(&da, &dc, &o, &r, &e)) {
        fprintf(stderr, "vmmbench: check: baseline and candidate cannot be compared: %s\n", e.msg);
        ret = CHECK_ERROR;
        goto out;
    }
    /* Data errors, each named. */
    if (r.nonly_a) {
        fprintf(stderr, "vmmbench: check: %zu metric(s) of the baseline are missing from the "
                "candidate %s:\n", r.nonly_a, r.label_b);
        for (size_t i = 0; i < r.nonly_a; i++)
            fprintf(stderr, "  missing: %s\n", r.only_a[i]);
        fprintf(stderr, "run them in the candidate, or narrow the gate with --workload/--metric\n");
        ret = CHECK_ERROR;
    }
    for (size_t i = 0; i < r.nrows; i++) {
        const struct cmp_row *x = &r.rows[i];
        if (x->da.n < STATS_MIN_N || x->db.n < STATS_MIN_N) {
            char name[512];
            compare_row_name(&r, x, name, sizeof name);
            fprintf(stderr, "vmmbench: check: too few samples to compare %s: baseline %zu, "
                    "candidate %zu, need at least %d each; run more batches or repetitions\n",
                    name, x->da.n, x->db.n, STATS_MIN_N);
            ret = CHECK_ERROR;
        }
    }
    if (ret == CHECK_ERROR)
        goto out;
    compare_print_table(&r, stdout);
    size_t slower = 0, faster = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        slower += r.rows[i].verdict == VERDICT_SLOWER;
        faster += r.rows[i].verdict == VERDICT_FASTER;
    }
    if (slower)
        ret = CHECK_REGRESSED;
    else if (faster && fail_improve)
        ret = CHECK_IMPROVED;
    printf("\ncheck: %zu compared, %zu regressed, %zu improved beyond +-%g%%: %s\n", r.nrows,
           slower, faster, o.band * 100,
           ret == CHECK_REGRESSED ? "REGRESSED" : ret == CHECK_IMPROVED ? "IMPROVED (failing "
           "as asked by --fail-on-improvement)" : "ok");
    if (junit && write_junit(junit, &r, fail_improve)) {
        fprintf(stderr, "vmmbench: check: cannot write %s\n", junit);
        ret = CHECK_ERROR;
    }
    if (md) {
        FILE *f = fopen(md, "w");
        if (!f) {
            fprintf(stderr, "vmmbench: check: cannot write %s\n", md);
            ret = CHECK_ERROR;
        } else {
            compare_print_markdown(&r, slower ? "vmmbench check: regressed" :
                                   "vmmbench check: no regression", f);
            fprintf(f, "%zu compared, %zu regressed, %zu improved.\n", r.nrows, slower, faster);
            if (fclose(f) != 0)
                ret = CHECK_ERROR;
        }
    }
out:
    compare_free(&r);
    dataset_free(&da);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
    return ret;
}
