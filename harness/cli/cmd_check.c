/* `vmmbench check`: the CI regression gate. Compares the newest run set (or --candidate)
 * against a baseline; the judgement, exit codes and the JUnit/Markdown files are in
 * analysis/gate.h: 0 nothing regressed, 1 something regressed or a candidate run failed,
 * 2 something could not be judged (or a usage/data error), 3 improved beyond the band with
 * --fail-on-improvement. JUnit and Markdown are written on every exit. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "compare.h"
#include "gate.h"
#include "stats.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench check --baseline FILE_OR_TAG [--candidate SET] [--threshold PCT]\n"
            "                      [--alpha P] [--junit FILE] [--markdown FILE]\n"
            "                      [--fail-on-improvement] [--allow-missing GLOB]...\n"
            "                      [--metric M]... [--workload W]... [--ignore-param P]...\n"
            "                      [--unit U] [--db PATH]\n"
            "\n"
            "The regression gate: compares the newest run set in the database (or --candidate)\n"
            "against the baseline, every (workload, parameters, metric) of the baseline, with\n"
            "diagnostic metrics (timing_floor) left out unless named with --metric. A regression\n"
            "needs p < alpha (Welch's t on run medians) and the 95%% CI of candidate/baseline\n"
            "(hierarchical bootstrap over runs, then batches) wholly beyond the band. Metrics\n"
            "that can be zero or negative are compared on the difference. Every metric of the\n"
            "baseline gets a verdict or fails the gate with its reason (missing, too few\n"
            "samples, under 3 runs a side: run-to-run variance unknown); failed candidate runs\n"
            "fail it too.\n"
            "  --baseline X      a database file, a baseline saved with `vmmbench baseline save X`\n"
            "                    (DIR/baselines/X.db next to --db), or a tag/config/run set in --db\n"
            "  --candidate SET   what to check (default: newest, the newest run set in --db)\n"
            "  --threshold PCT   noise band +-PCT%% (default 2)\n"
            "  --alpha P         significance level (default 0.01)\n"
            "  --unit U          run (default; auto is the same) or batch (batches as independent:\n"
            "                    overconfident, for single-run smoke tests only)\n"
            "  --allow-missing GLOB  a metric (or \"workload params metric\" name, fnmatch glob)\n"
            "                    that may be missing or unjudgeable without failing (repeatable)\n"
            "  --junit FILE      JUnit XML, one test case per metric and per failed run\n"
            "  --markdown FILE   a Markdown summary for CI pages\n"
            "  --fail-on-improvement  exit 3 when something got faster beyond the band\n"
            "  --metric, --workload, --ignore-param   as for `vmmbench compare`\n"
            "  --db PATH         the results database (default %s)\n"
            "Exit status: 0 nothing regressed and everything judged; 1 something regressed or\n"
            "a candidate run failed; 2 something could not be judged, or a usage or data error;\n"
            "3 improved beyond the band with --fail-on-improvement. JUnit and Markdown are\n"
            "written whatever the exit.\n",
            CLI_DEFAULT_DB);
}

/* Both files, whatever happened: a stale green file must never survive a failing check. */
static int write_outputs(const struct gate *g, const struct cmp_result *r, const char *junit,
                         const char *md)
{
    int ret = 0;
    if (junit && gate_write_junit(g, junit)) {
        fprintf(stderr, "vmmbench: check: cannot write %s\n", junit);
        ret = -1;
    }
    if (md && gate_write_markdown(g, r, md)) {
        fprintf(stderr, "vmmbench: check: cannot write %s\n", md);
        ret = -1;
    }
    return ret;
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        { "baseline", required_argument, 0, 'b' }, { "candidate", required_argument, 0, 'c' },
        { "threshold", required_argument, 0, 't' }, { "alpha", required_argument, 0, 'a' },
        { "junit", required_argument, 0, 'J' }, { "markdown", required_argument, 0, 'M' },
        { "fail-on-improvement", no_argument, 0, 'F' }, { "metric", required_argument, 0, 'm' },
        { "workload", required_argument, 0, 'w' }, { "ignore-param", required_argument, 0, 'i' },
        { "allow-missing", required_argument, 0, 'A' }, { "db", required_argument, 0, 'd' },
        { "unit", required_argument, 0, 'u' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct cmp_opts o;
    cmp_opts_default(&o);
    o.skip_diagnostic = true;
    struct gate_opts go = { 0 };
    const char *db = CLI_DEFAULT_DB, *base = NULL, *cand = "newest", *junit = NULL, *md = NULL;
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
        case 'F': go.fail_improve = true; break;
        case 'd': db = optarg; break;
        case 'A': rc = cli_add_filter("check", "--allow-missing", optarg, go.allow, &go.nallow);
                  break;
        case 'h': usage(stdout); return GATE_OK;
        case ':': return cli_usage("check", "%s needs a value", argv[optind - 1]);
        default:
            if ((rc = cli_cmp_option("check", c, optarg, &o)) < 0)
                return cli_usage("check", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return GATE_ERROR;
    }
    if (optind < argc)
        return cli_usage("check", "unexpected argument '%s'", argv[optind]);
    if (!base)
        return cli_usage("check", "--baseline is required (a database file or a baseline "
                         "saved with `vmmbench baseline save NAME`)");
    struct gate g;
    gate_init(&g, &go);
    struct vmm_err e = { 0 };
    struct selector sa, sb;
    struct dataset da = { 0 }, dc = { 0 };
    struct cmp_result r = { 0 };
    bool compared = false;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    if (cli_resolve_baseline(base, db, &sa, &e) || selector_parse(cand, db, &sb, &e) ||
        dataset_load_pair(&sa, &sb, &da, &dc, &e)) {
        fprintf(stderr, "vmmbench: check: %s\n", e.msg);
        gate_error(&g, e.msg);
        goto out;
    }
    snprintf(dc.label + strlen(dc.label), sizeof dc.label - strlen(dc.label), " in %s", db);
    if (compare_datasets(&da, &dc, &o, &r, &e)) {
        fprintf(stderr, "vmmbench: check: baseline and candidate cannot be compared: %s\n", e.msg);
        gate_error(&g, e.msg);
        goto out;
    }
    compared = true;
    cli_warn_alpha("check", &r, stdout);
    compare_print_table(&r, stdout);
    fputc('\n', stdout);
    if (gate_judge(&g, &r, &da, &dc, &o, &go)) {
        fprintf(stderr, "vmmbench: check: out of memory\n");
        gate_error(&g, "out of memory");
    }
    gate_print(&g, stdout);
out:
    if (write_outputs(&g, compared ? &r : NULL, junit, md) && g.exit == GATE_OK)
        g.exit = GATE_ERROR;
    int ret = g.exit;
    gate_free(&g);
    compare_free(&r);
    dataset_free(&da);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
    return ret;
}
