/* `vmmbench plot`: PNG and SVG plots through gnuplot, scripts kept beside them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_output.h"
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
    struct cli_output o;
    int ret = cli_output_load("plot", "plots", usage, argc, argv, &o);
    struct plot_set *ps = ret ? NULL : calloc(1, sizeof *ps);
    struct vmm_err e = { 0 };
    if (ret)
        goto out;
    if (!ps) {
        vmm_err_set(&e, VMM_EXIT_USAGE, "out of memory");
        goto fail;
    }
    if (mkdir(o.dir, 0777) != 0 && errno != EEXIST) {
        vmm_err_set(&e, VMM_EXIT_USAGE, "cannot create %s: %s; pass another --out", o.dir,
                    strerror(errno));
        goto fail;
    }
    if (plot_all(&o.ds, o.has_cmp ? &o.cmp : NULL, o.dir, ps, &e))
        goto fail;
    for (size_t i = 0; i < ps->n; i++)
        printf("%s/%s.png, .svg  %s\n", o.dir, ps->made[i].name, ps->made[i].title);
    for (size_t i = 0; i < ps->nnotes; i++)
        printf("note: %s\n", ps->notes[i]);
    goto out;
fail:
    fprintf(stderr, "vmmbench: plot: %s\n", e.msg);
    ret = VMM_EXIT_USAGE;
out:
    free(ps);
    cli_output_free(&o);
    return ret < 0 ? 0 : ret;
}
