/* vmmbench: git-style front end; each subcommand lives in its own cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vmm/error.h"
#include "vmmb_version.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    { "run", cmd_run, "run workloads under configs and store every sample" },
    { "show", cmd_show, "summarise stored results: median, p5, p95 per metric" },
    { "list", cmd_list, "list workloads, suites and configs" },
    { "host", cmd_host, "show what this host offers (KVM flavour, MMU, PMU, THP, ...)" },
    { "compare", cmd_compare, "compare two sets of runs: ratios, CIs, p-values, verdicts" },
    { "check", cmd_check, "CI regression gate against a baseline (exit 0/1/2/3)" },
    { "baseline", cmd_baseline, "save a run set as a named baseline, list baselines" },
    { "export", cmd_export, "export summaries or raw samples as CSV or JSON" },
    { "merge", cmd_merge, "merge databases from several hosts without duplicates" },
    { "plot", cmd_plot, "draw PNG and SVG plots with gnuplot" },
    { "report", cmd_report, "write a self-contained HTML report" },
    { "history", cmd_history, "follow every metric across revisions and flag change points" },
    { "campaign", cmd_campaign, "run a campaign file's plan on a Slurm cluster or locally" },
    { "lab", cmd_lab, "run a command on an emulated N-node NUMA host with SVM KVM (QEMU)" },
};

int cli_fail(const struct vmm_err *e)
{
    fprintf(stderr, "vmmbench: %s\n", e->msg);
    return e->code ? e->code : VMM_EXIT_INTERNAL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: vmmbench COMMAND [OPTIONS]   (vmmbench COMMAND --help for each)\n\n");
    for (unsigned i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return VMM_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vmmbench %s\n", VMMB_GIT_REV);
        return 0;
    }
    for (unsigned i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vmmbench: unknown command '%s'; `vmmbench --help` lists them\n", argv[1]);
    return VMM_EXIT_USAGE;
}
