/* `vmmbench merge OUT.db IN.db...`: results from several hosts in one database, without
 * duplicating hosts, configs or runs (merging a file twice adds nothing). */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "db.h"
#include "dbcopy.h"

int cmd_merge(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: vmmbench merge OUT.db IN.db...\n\n"
               "Copies every run of each IN.db (with its host, config and samples) into OUT.db,\n"
               "created when missing. Hosts are matched by their fingerprint, configs by name,\n"
               "vCPUs, memory and text, runs by host, config, workload, parameters, repetition,\n"
               "tag and start time: nothing is stored twice. Each input goes in one transaction.\n"
               "Exit status: 0 merged, 2 usage or an input that is not a results database,\n"
               "5 OUT.db cannot be written.\n");
        return 0;
    }
    if (argc < 3)
        return cli_usage("merge", "give the output database and at least one input");
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-')
            return cli_usage("merge", "unknown option '%s'", argv[i]);
    struct vmm_err e = { 0 };
    /* Check every input first: a bad one stops the merge before anything is written. */
    for (int i = 2; i < argc; i++) {
        struct sqlite3 *h;
        if (adb_open(argv[i], &h, &e)) {
            fprintf(stderr, "vmmbench: merge: %s\n", e.msg);
            return VMM_EXIT_USAGE;
        }
        sqlite3_close(h);
    }
    struct db *out;
    if (db_open(argv[1], &out, &e))
        return cli_fail(&e);
    int ret = 0;
    for (int i = 2; i < argc && !ret; i++) {
        size_t copied, skipped;
        if (dbcopy_runs(db_handle(out), argv[i], NULL, 0, NULL, &copied, &skipped, &e)) {
            fprintf(stderr, "vmmbench: merge: %s (nothing of %s was merged)\n", e.msg, argv[i]);
            ret = e.code ? e.code : VMM_EXIT_DATABASE;
        } else {
            printf("%s: %zu runs merged, %zu already present\n", argv[i], copied, skipped);
        }
    }
    db_close(out);
    return ret;
}
