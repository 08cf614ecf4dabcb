/* `vmmbench host`: what this host offers and what could bias a result on it. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "hostinfo.h"
#include "vmm/error.h"

static void usage(FILE *out)
{
    fputs("usage: vmmbench host [--topology]\n"
          "\n"
          "Prints the host facts stored with every run: CPU and microcode, kernel, KVM\n"
          "flavour and MMU mode, PMU availability, THP and hugepage pools, governor, SMT,\n"
          "NUMA nodes and the suite's git revision.\n"
          "\n"
          "  --topology  also the hwloc topology: NUMA nodes, their CPUs, distances\n"
          "  --help      this text\n", out);
}

int cmd_host(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "topology", no_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    int c, topology = 0;
    optind = 0;    /* glibc: start a fresh scan */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return VMM_EXIT_OK;
        }
        if (c == 't') {
            topology = 1;
            continue;
        }
        struct vmm_err e = { 0 };
        vmm_err_set(&e, VMM_EXIT_USAGE, "host: unknown option '%s'; see `vmmbench host "
                    "--help`", argv[optind - 1]);
        return cli_fail(&e);
    }
    if (optind < argc) {
        struct vmm_err e = { 0 };
        vmm_err_set(&e, VMM_EXIT_USAGE, "host: unexpected argument '%s'; see `vmmbench host "
                    "--help`", argv[optind]);
        return cli_fail(&e);
    }
    struct host_info h;
    hostinfo_collect(&h);
    hostinfo_print(&h, stdout);
    if (topology)
        hostinfo_print_topology(&h, stdout);
    hostinfo_free(&h);
    return VMM_EXIT_OK;
}
