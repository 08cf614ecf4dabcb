/* `vmmbench compare A B`: two sets of runs side by side with ratios, CIs, p-values and
 * verdicts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "compare.h"
#include "plan_runs.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench compare A B [--metric M]... [--workload W]... [--ignore-param P]...\n"
            "                        [--threshold PCT] [--alpha P] [--json] [--markdown FILE]\n"
            "                        [--db PATH]\n"
            "       vmmbench compare --plan CHANGE_PCT SET [--threshold PCT] [--alpha P] [--db PATH]\n"
            "\n"
            "Compares B against A for every (workload, parameters, metric) both have: medians,\n"
            "the ratio B/A with its 95%% CI (hierarchical bootstrap: runs, then batches), the\n"
            "p-value (Welch's t on run medians), and a verdict (faster, slower, no change) that\n"
            "needs p < alpha and the CI wholly outside the noise band; metrics with values at\n"
            "or below zero on the difference B-A; then a geometric mean of B/A per workload.\n"
            "  A, B              config:NAME, tag:NAME, run:ID[,ID|FROM-TO], db:FILE, newest, all,\n"
            "                    or unprefixed: a file, run ids, a tag or a config name\n"
            "  --metric M        only metric M (repeatable or comma list)\n"
            "  --workload W      only workload W (repeatable or comma list)\n"
            "  --ignore-param P  leave parameter P out when matching (e.g. spin)\n"
            "  --threshold PCT   noise band, +-PCT%% (default 2)\n"
            "  --alpha P         significance level (default 0.01)\n"
            "  --unit U          run (default, also auto): p from Welch's t on run medians,\n"
            "                    CI from the hierarchical bootstrap; no verdict with under 3\n"
            "                    runs a side; batch: batches as independent (overconfident)\n"
            "  --plan CHANGE_PCT runs per side needed to detect a CHANGE_PCT%% change with 80%%\n"
            "                    power, from the run-to-run noise of the one run set SET\n"
            "  --json            JSON instead of the table\n"
            "  --markdown FILE   also write a Markdown table to FILE\n"
            "  --db PATH         the database names and ids refer to (default %s)\n"
            "Exit status: 0 compared, 2 usage or data error (unknown name, nothing in common).\n",
            CLI_DEFAULT_DB);
}

/* --plan: the noise of one run set, and the runs a comparison would need. */
static int plan_cmd(const char *set, const char *db, double change, const struct cmp_opts *o)
{
    if (!set)
        return cli_usage("compare", "--plan takes one run set to learn the noise from");
    struct vmm_err e = { 0 };
    struct selector s;
    struct dataset ds = { 0 };
    memset(&s, 0, sizeof s);
    int ret = 0;
    if (selector_parse(set, db, &s, &e) || dataset_load(&s, &ds, &e)) {
        fprintf(stderr, "vmmbench: compare: %s\n", e.msg);
        ret = VMM_EXIT_USAGE;
    } else {
        plan_print(&ds, change, o->band, o->alpha, stdout);
    }
    dataset_free(&ds);
    selector_free(&s);
    return ret;
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        { "metric", required_argument, 0, 'm' }, { "workload", required_argument, 0, 'w' },
        { "ignore-param", required_argument, 0, 'i' }, { "threshold", required_argument, 0, 't' },
        { "alpha", required_argument, 0, 'a' }, { "json", no_argument, 0, 'j' },
        { "markdown", required_argument, 0, 'M' }, { "db", required_argument, 0, 'd' },
        { "unit", required_argument, 0, 'u' }, { "plan", required_argument, 0, 'P' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct cmp_opts o;
    cmp_opts_default(&o);
    const char *db = CLI_DEFAULT_DB, *md = NULL;
    double plan = 0;
    bool json = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'j': json = true; break;
        case 'M': md = optarg; break;
        case 'd': db = optarg; break;
        case 'P':
            if (!cli_parse_pct(optarg, &plan))
                return cli_usage("compare", "--plan %s: give the change to detect as a "
                                 "percentage above 0, like 5", optarg);
            break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage("compare", "%s needs a value", argv[optind - 1]);
        default:
            if ((rc = cli_cmp_option("compare", c, optarg, &o)) < 0)
                return cli_usage("compare", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc)
            return rc;
    }
    if (plan > 0)
        return plan_cmd(argc - optind == 1 ? argv[optind] : NULL, db, plan, &o);
    if (argc - optind != 2)
        return cli_usage("compare", "give exactly two sets to compare, A and B");
    struct vmm_err e = { 0 };
    struct selector sa, sb;
    struct dataset da = { 0 }, dbs = { 0 };
    struct cmp_result r = { 0 };
    int ret = 0;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    if (selector_parse(argv[optind], db, &sa, &e) || selector_parse(argv[optind + 1], db, &sb, &e) ||
        dataset_load_pair(&sa, &sb, &da, &dbs, &e) ||
        compare_datasets(&da, &dbs, &o, &r, &e)) {
        fprintf(stderr, "vmmbench: compare: %s\n", e.msg);
        ret = VMM_EXIT_USAGE;
        goto out;
    }
    cli_warn_alpha("compare", &r, json ? stderr : stdout);
    if (json)
        compare_print_json(&r, stdout);
    else
        compare_print_table(&r, stdout);
    if (md) {
        FILE *f = fopen(md, "w");
        if (!f) {
            perror(md);
            ret = VMM_EXIT_USAGE;
        } else {
            compare_print_markdown(&r, "vmmbench compare", f);
            if (fclose(f) != 0)
                ret = VMM_EXIT_USAGE;
        }
    }
out:
    compare_free(&r);
    dataset_free(&da);
    dataset_free(&dbs);
    selector_free(&sa);
    selector_free(&sb);
    return ret;
}
