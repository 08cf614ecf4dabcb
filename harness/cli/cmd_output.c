#include "cmd_output.h"

#include <getopt.h>
#include <libgen.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "plot.h"

static int fail(const char *cmd, const struct vmm_err *e)
{
    fprintf(stderr, "vmmbench: %s: %s\n", cmd, e->msg);
    return VMM_EXIT_USAGE;
}

int cli_output_load(const char *cmd, const char *default_subdir, void (*usage)(FILE *),
                    int argc, char **argv, struct cli_output *o)
{
    static const struct option opts[] = {
        { "out", required_argument, 0, 'o' }, { "compare", required_argument, 0, 'c' },
        { "db", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' },
        { "ignore-param", required_argument, 0, 'i' }, { 0, 0, 0, 0 },
    };
    memset(o, 0, sizeof *o);
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
            if (cli_add_filter(cmd, "--ignore-param", optarg, ignore, &nignore))
                return VMM_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return -1;
        case ':': return cli_usage(cmd, "%s needs a value", argv[optind - 1]);
        default: return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage(cmd, "give at most one set");
    char *cb = NULL;
    if (cmpspec && (!(cb = strchr(cmpspec, ',')) || cb == cmpspec || !cb[1] || strchr(cb + 1, ',')))
        return cli_usage(cmd, "--compare %s: give two sets as A,B", cmpspec);
    if (outp) {
        snprintf(o->dir, sizeof o->dir, "%s", outp);
    } else {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", db);
        snprintf(o->dir, sizeof o->dir, "%s/%s", dirname(copy), default_subdir);
    }
    struct vmm_err e = { 0 };
    char gp[1024];
    if (plot_find_gnuplot(gp, sizeof gp, &e))
        return fail(cmd, &e);
    if (selector_parse(optind < argc ? argv[optind] : "all", db, &o->sel, &e) ||
        dataset_load(&o->sel, &o->ds, &e))
        return fail(cmd, &e);
    if (!cb)
        return 0;
    *cb = '\0';
    struct cmp_opts co;
    cmp_opts_default(&co);
    memcpy(co.ignore, ignore, nignore * sizeof *ignore);
    co.nignore = nignore;
    if (selector_parse(cmpspec, db, &o->sa, &e) || selector_parse(cb + 1, db, &o->sb, &e) ||
        dataset_load_pair(&o->sa, &o->sb, &o->da, &o->db, &e) ||
        compare_datasets(&o->da, &o->db, &co, &o->cmp, &e))
        return fail(cmd, &e);
    o->has_cmp = true;
    return 0;
}

void cli_output_free(struct cli_output *o)
{
    compare_free(&o->cmp);
    dataset_free(&o->ds);
    dataset_free(&o->da);
    dataset_free(&o->db);
    selector_free(&o->sel);
    selector_free(&o->sa);
    selector_free(&o->sb);
}
