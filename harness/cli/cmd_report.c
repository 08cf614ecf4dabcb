/* `vmmbench report`: the static HTML report. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "plot.h"
#include "report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench report [SET] [--out DIR] [--compare A,B] [--ignore-param P] [--db PATH]\n"
            "\n"
            "Writes DIR/index.html, a self-contained page (no network fetches): host summary\n"
            "and topology, configs, each workload's table and plots, the comparison with\n"
            "verdicts (--compare), flagged noisy results and failed runs, with links to the\n"
            "CSV/JSON of every table and to the plots' SVG and gnuplot scripts in DIR/plots.\n"
            "  SET            the runs to report, as for compare (default all)\n"
            "  --out DIR      output directory (default: report/ next to the database)\n"
            "  --ignore-param P  leave parameter P out when matching A and B\n"
            "  --compare A,B  include the comparison of A and B\n"
            "  --db PATH      the results database (default %s)\n"
            "Exit status: 0 written, 2 usage or data error, or gnuplot missing or failing.\n",
            CLI_DEFAULT_DB);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, 0, 'o' }, { "compare", required_argument, 0, 'c' },
        { "db", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' },
        { "ignore-param", required_argument, 0, 'i' }, { 0, 0, 0, 0 },
    };
    const char *db = CLI_DEFAULT_DB, *outp = NULL;
    char *cmpspec = NULL;
    const char *ignore[CMP_MAX_FILTER];
    size_t nignore = 0;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': outp = optarg; break;
        case 'c': cmpspec = optarg; break;
        case 'd': db = optarg; break;
        case 'i':
            if (cli_add_filter("report", "--ignore-param", optarg, ignore, &nignore))
                return VMM_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage("report", "%s needs a value", argv[optind - 1]);
        default: return cli_usage("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage("report", "give at most one set");
    char *cb = NULL;
    if (cmpspec && (!(cb = strchr(cmpspec, ',')) || cb == cmpspec || !cb[1] || strchr(cb + 1, ',')))
        return cli_usage("report", "--compare %s: give two sets as A,B", cmpspec);
    char dir[4400];
    if (outp) {
        snprintf(dir, sizeof dir, "%s", outp);
    } else {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", db);
        snprintf(dir, sizeof dir, "%s/report", dirname(copy));
    }
    struct vmm_err e = { 0 };
    char gp[1024];
    if (plot_find_gnuplot(gp, sizeof gp, &e)) {
        fprintf(stderr, "vmmbench: report: %s\n", e.msg);
        return VMM_EXIT_USAGE;
    }
    struct selector sel = { 0 }, sa = { 0 }, sb = { 0 };
    struct dataset ds = { 0 }, da = { 0 }, dbs = { 0 };
    struct cmp_result r = { 0 };
    int ret = 0;
    if (cb)
        *cb = '\0';
    if (selector_parse(optind < argc ? argv[optind] : "all", db, &sel, &e) ||
        dataset_load(&sel, &ds, &e))
        goto fail;
    if (cb) {
        struct cmp_opts o;
        cmp_opts_default(&o);
        memcpy(o.ignore, ignore, nignore * sizeof *ignore);
        o.nignore = nignore;
        if (selector_parse(cmpspec, db, &sa, &e) || selector_parse(cb + 1, db, &sb, &e) ||
            dataset_load(&sa, &da, &e) || dataset_load(&sb, &dbs, &e) ||
            compare_datasets(&da, &dbs, &o, &r, &e))
            goto fail;
    }
    if (report_write(&ds, cb ? &r : NULL, dir, &e))
        goto fail;
    printf("report written to %s/index.html\n", dir);
    goto out;
fail:
    fprintf(stderr, "vmmbench: report: %s\n", e.msg);
    ret = VMM_EXIT_USAGE;
out:
    compare_free(&r);
    dataset_free(&ds);
    dataset_free(&da);
    dataset_free(&dbs);
    selector_free(&sel);
    selector_free(&sa);
    selector_free(&sb);
    return ret;
}
