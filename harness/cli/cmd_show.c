/* `vmmbench show`: summarize the results database. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include <sqlite3.h>

#include "dataset.h"
#include "db.h"
#include "placement_report.h"
#include "summary.h"
#include "vmm/error.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench show [--run ID] [--json] [--wide] [--all] [--db PATH]\n"
            "\n"
            "Summarizes the stored runs: per config, workload, parameters and metric, the\n"
            "number of samples, median, p5 and p95 (warm-up samples excluded), then the runs\n"
            "that did not complete with their status and reason.\n"
            "\n"
            "  --run ID    only the run with this id\n"
            "  --json      one JSON object {\"results\":[...],\"failed_runs\":[...]}\n"
            "  --wide      every column (p5, p95, mean, sd, p99, min, max) and every parameter;\n"
            "              by default the table fits 120 columns and shows per workload only\n"
            "              the parameters that differ between its rows\n"
            "  --all       the diagnostic metrics too (timing_floor, *_cycles, vmm_cpu_*)\n"
            "  --db PATH   the results database (default %s)\n"
            "  --help      this text\n",
            CLI_DEFAULT_DB);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    struct vmm_err e = { 0 };
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    vmm_err_set(&e, VMM_EXIT_USAGE, "show: %s; see `vmmbench show --help`", what);
    return cli_fail(&e);
}

int cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {
        { "run", required_argument, NULL, 'r' },
        { "json", no_argument, NULL, 'j' },
        { "wide", no_argument, NULL, 'w' },
        { "all", no_argument, NULL, 'a' },
        { "db", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *db_path = CLI_DEFAULT_DB;
    long long run_id = 0;
    bool json = false, wide = false, all = false;
    int c;
    optind = 0;    /* glibc: start a fresh scan, whatever parsed argv before us */
    opterr = 0;    /* we word the errors ourselves */
    while ((c = getopt_long(argc, argv, ":r:jwad:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': {
            char *end;
            errno = 0;
            run_id = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || run_id <= 0)
                return usage_error("--run needs a positive run id, not '%s'", optarg);
            break;
        }
        case 'j':
            json = true;
            break;
        case 'w':
            wide = true;
            break;
        case 'a':
            all = true;
            break;
        case 'd':
            db_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return VMM_EXIT_OK;
        case ':':
            return usage_error("%s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);

    struct vmm_err e = { 0 };
    /* show only reads: a missing file means nothing was run yet, not "create one". */
    if (access(db_path, F_OK) != 0) {
        vmm_err_set(&e, VMM_EXIT_DATABASE, "no results database at %s; run `vmmbench run` "
                    "first, or pass --db PATH", db_path);
        return cli_fail(&e);
    }
    /* read-only: never switches the journal, migrates or creates a schema */
    sqlite3 *db;
    if (adb_open(db_path, &db, &e) != 0)
        return cli_fail(&e);
    struct summary_opts o = { .json = json, .wide = wide, .all = all };
    int rc = summary_print_opts(db, run_id, &o, stdout, &e);
    if (rc == 0 && !json && placement_report_print(db, run_id, stdout) < 0)
        vmm_err_set(&e, VMM_EXIT_DATABASE, "show: reading placement from %s failed", db_path);
    sqlite3_close(db);
    if (fflush(stdout) != 0 && rc == 0)
        vmm_err_set(&e, VMM_EXIT_INTERNAL, "show: writing the output: %s", strerror(errno));
    return e.code ? cli_fail(&e) : VMM_EXIT_OK;
}
