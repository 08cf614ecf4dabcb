/* `vmmbench plot`: PNG and SVG plots through gnuplot, scripts kept beside them. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_common.h"
#include "commands.h"
#include "plot.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench plot [SET] [--out DIR] [--compare A,B] [--ignore-param P] [--db PATH]\n"
            "\n"
            "Writes, for every plot family with data, NAME.png and NAME.svg through gnuplot,\n"
            "with the script NAME.gp and data NAME.dat beside them (edit, then `gnuplot\n"
            "NAME.gp`): exit latencies per exit kind grouped by config; the TLB curve; NUMA\n"
            "matrices; loaded latency against bandwidth; virtio throughput against request\n"
            "size; with --compare, the ratio chart with CI bars and the noise band shaded.\n"
            "Families without data are skipped with a note.\n"
            "  SET            the runs to plot, as for compare (default all)\n"
            "  --out DIR      output directory (default: plots/ next to the database)\n"
            "  --ignore-param P  leave parameter P out when matching A and B\n"
            "  --compare A,B  also draw the comparison of A and B\n"
            "  --db PATH      the results database (default %s)\n"
            "Exit status: 0 plotted, 2 usage or data error, or gnuplot missing or failing.\n",
            CLI_DEFAULT_DB);
}

int cmd_plot(int argc, char **argv)
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
            if (cli_add_filter("plot", "--ignore-param", optarg, ignore, &nignore))
                return VMM_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage("plot", "%s needs a value", argv[optind - 1]);
        default: return cli_usage("plot", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage("plot", "give at most one set");
    char *cb = NULL;
    if (cmpspec && (!(cb = strchr(cmpspec, ',')) || cb == cmpspec || !cb[1] || strchr(cb + 1, ',')))
        return cli_usage("plot", "--compare %s: give two sets as A,B", cmpspec);
    char dir[4400];
    if (outp) {
        snprintf(dir, sizeof dir, "%s", outp);
    } else {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", db);
        snprintf(dir, sizeof dir, "%s/plots", dirname(copy));
    }
    struct vmm_err e = { 0 };
    char gp[1024];
    if (plot_find_gnuplot(gp, sizeof gp, &e)) {
        fprintf(stderr, "vmmbench: plot: %s\n", e.msg);
        return VMM_EXIT_USAGE;
    }
    struct selector sel = { 0 }, sa = { 0 }, sb = { 0 };
    struct dataset ds = { 0 }, da = { 0 }, dbs = { 0 };
    struct cmp_result r = { 0 };
    struct plot_set *ps = calloc(1, sizeof *ps);
    int ret = 0;
    if (cb)
        *cb = '\0';
    if (!ps || selector_parse(optind < argc ? argv[optind] : "all", db, &sel, &e) ||
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
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        vmm_err_set(&e, VMM_EXIT_USAGE, "cannot create %s: %s; pass another --out", dir,
                    strerror(errno));
        goto fail;
    }
    if (plot_all(&ds, cb ? &r : NULL, dir, ps, &e))
        goto fail;
    for (size_t i = 0; i < ps->n; i++)
        printf("%s/%s.png, .svg  %s\n", dir, ps->made[i].name, ps->made[i].title);
    for (size_t i = 0; i < ps->nnotes; i++)
        printf("note: %s\n", ps->notes[i]);
    goto out;
fail:
    fprintf(stderr, "vmmbench: plot: %s\n", e.msg[0] ? e.msg : "out of memory");
    ret = VMM_EXIT_USAGE;
out:
    free(ps);
    compare_free(&r);
    dataset_free(&ds);
    dataset_free(&da);
    dataset_free(&dbs);
    selector_free(&sel);
    selector_free(&sa);
    selector_free(&sb);
    return ret;
}
