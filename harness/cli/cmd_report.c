/* `vmmbench report`: the static HTML report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_output.h"
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
    struct cli_output o;
    int ret = cli_output_load("report", "report", usage, argc, argv, &o);
    struct vmm_err e = { 0 };
    if (ret == 0) {
        if (report_write(&o.ds, o.has_cmp ? &o.cmp : NULL, o.dir, &e)) {
            fprintf(stderr, "vmmbench: report: %s\n", e.msg);
            ret = VMM_EXIT_USAGE;
        } else {
            printf("report written to %s/index.html\n", o.dir);
        }
    }
    cli_output_free(&o);
    return ret < 0 ? 0 : ret;
}
