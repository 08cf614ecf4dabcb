/* `vmmbench history`: every metric across run sets or revisions, with change points. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_common.h"
#include "commands.h"
#include "history.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench history [--db PATH] [--by time|rev] [--metric M]... [--workload W]...\n"
            "                        [--plot DIR] [--json]\n"
            "\n"
            "Follows every (host, config, workload, parameters, metric) across the run sets\n"
            "of a database (merged from CI runs, say): one point per run set, the median of\n"
            "its run medians with the run-clustered 95%% CI, oldest first. Change points come\n"
            "from E-Divisive with means (Matteson & James 2014; as MongoDB's performance CI):\n"
            "a division stands when a permutation test (%d permutations) gives p <= %g, with\n"
            "at least %d points on each side. Prints a table of changes: metric, the last\n"
            "run set before and the first after, the medians of the segments around it, the\n"
            "size (after / before - 1) and the confidence (1 - p).\n"
            "  --by time      a point per run set (tag; untagged runs each on their own),\n"
            "                 ordered by its first start (default)\n"
            "  --by rev       a point per suite revision (git, as `vmmbench host` records it),\n"
            "                 ordered by its first appearance in time\n"
            "  --metric M     only metric M (repeatable or comma list)\n"
            "  --workload W   only workload W (repeatable or comma list)\n"
            "  --plot DIR     also draw one PNG and SVG per series (up to %d) into DIR, with\n"
            "                 CI bars and the changes as vertical lines\n"
            "  --json         JSON (every series, its points with CIs and its changes) instead\n"
            "                 of the table\n"
            "  --db PATH      the results database (default %s)\n"
            "Exit status: 0 done (changes or not), 2 usage or data error (no database, no\n"
            "matching samples, gnuplot missing or failing), 9 out of memory.\n",
            HIST_PERMS, HIST_ALPHA, HIST_MIN_SEG, PLOT_MAX, CLI_DEFAULT_DB);
}

int cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, 0, 'd' }, { "by", required_argument, 0, 'b' },
        { "metric", required_argument, 0, 'm' }, { "workload", required_argument, 0, 'w' },
        { "plot", required_argument, 0, 'p' }, { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *metrics[CMP_MAX_FILTER], *workloads[CMP_MAX_FILTER];
    struct hist_opts o;
    hist_opts_default(&o);
    o.metrics = metrics;
    o.workloads = workloads;
    const char *db = CLI_DEFAULT_DB, *dir = NULL;
    bool json = false;
    int c, rc;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b':
            if (strcmp(optarg, "time") == 0)
                o.by = HIST_BY_TIME;
            else if (strcmp(optarg, "rev") == 0 || strcmp(optarg, "revision") == 0)
                o.by = HIST_BY_REV;
            else
                return cli_usage("history", "--by %s: say time or rev", optarg);
            break;
        case 'm':
            if ((rc = cli_add_filter("history", "--metric", optarg, metrics, &o.nmetrics)))
                return rc;
            break;
        case 'w':
            if ((rc = cli_add_filter("history", "--workload", optarg, workloads,
                                     &o.nworkloads)))
                return rc;
            break;
        case 'p': dir = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage("history", "%s needs a value", argv[optind - 1]);
        default: return cli_usage("history", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("history", "unexpected argument '%s' (the database is --db PATH)",
                         argv[optind]);
    if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vmmbench: history: cannot create %s: %s; pass another --plot\n", dir,
                strerror(errno));
        return VMM_EXIT_USAGE;
    }
    /* the per-point CIs cost a bootstrap each: only computed where they are shown */
    o.ci = json || dir;
    struct history h;
    struct vmm_err e = { 0 };
    if (history_build(db, &o, &h, &e)) {
        fprintf(stderr, "vmmbench: history: %s\n", e.msg);
        return e.code ? e.code : VMM_EXIT_USAGE;
    }
    int ret = 0;
    if (json)
        history_print_json(&h, stdout);
    else
        history_print_table(&h, stdout);
    if (dir) {
        struct plot_set *ps = calloc(1, sizeof *ps);
        if (!ps) {
            ret = VMM_EXIT_INTERNAL;
            fprintf(stderr, "vmmbench: history: out of memory\n");
        } else if (history_plot(&h, dir, ps, &e)) {
            fprintf(stderr, "vmmbench: history: %s\n", e.msg);
            ret = e.code ? e.code : VMM_EXIT_USAGE;
        } else {
            for (size_t i = 0; i < ps->n; i++)
                fprintf(json ? stderr : stdout, "%s/%s.png, .svg  %s\n", dir, ps->made[i].name,
                        ps->made[i].title);
        }
        free(ps);
    }
    history_free(&h);
    return ret;
}
