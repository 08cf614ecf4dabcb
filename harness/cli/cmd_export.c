/* `vmmbench export --csv|--json [SET]`: the summaries (or, with --samples, every raw
 * sample) of a set of runs, for spreadsheets and other tools. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "export.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench export --csv|--json [SET] [--samples] [--out FILE] [--db PATH]\n"
            "\n"
            "Writes one row per (host, config, workload, params, metric): n, median, its 95%%\n"
            "CI, p5, p95, p99, mean, sd, min, max, relative CI and flag; with --samples every\n"
            "raw sample with its run, batch and warm-up flag instead.\n"
            "  SET          as for compare (default all)\n"
            "  --out FILE   write there instead of standard output\n"
            "  --db PATH    the results database (default %s)\n",
            CLI_DEFAULT_DB);
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "csv", no_argument, 0, 'c' }, { "json", no_argument, 0, 'j' },
        { "samples", no_argument, 0, 's' }, { "out", required_argument, 0, 'o' },
        { "db", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *db = CLI_DEFAULT_DB, *outp = NULL;
    int fmt = 0;
    bool samples = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': fmt = fmt && fmt != 1 ? -1 : 1; break;
        case 'j': fmt = fmt && fmt != 2 ? -1 : 2; break;
        case 's': samples = true; break;
        case 'o': outp = optarg; break;
        case 'd': db = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage("export", "%s needs a value", argv[optind - 1]);
        default: return cli_usage("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (fmt <= 0)
        return cli_usage("export", "give exactly one of --csv or --json");
    if (argc - optind > 1)
        return cli_usage("export", "give at most one set");
    struct vmm_err e = { 0 };
    struct selector sel;
    struct dataset ds = { 0 };
    if (selector_parse(optind < argc ? argv[optind] : "all", db, &sel, &e) ||
        dataset_load(&sel, &ds, &e)) {
        fprintf(stderr, "vmmbench: export: %s\n", e.msg);
        selector_free(&sel);
        return VMM_EXIT_USAGE;
    }
    FILE *out = outp ? fopen(outp, "w") : stdout;
    int ret = 0;
    if (!out) {
        perror(outp);
        ret = VMM_EXIT_USAGE;
    } else {
        if (samples)
            ret = export_samples(&ds, sel.db_path, fmt == 2, out, &e) ? VMM_EXIT_USAGE : 0;
        else
            export_summary(&ds, fmt == 2, out);
        if (ret)
            fprintf(stderr, "vmmbench: export: %s\n", e.msg);
        if ((outp ? fclose(out) : fflush(out)) != 0)
            ret = VMM_EXIT_USAGE;
    }
    dataset_free(&ds);
    selector_free(&sel);
    return ret;
}
