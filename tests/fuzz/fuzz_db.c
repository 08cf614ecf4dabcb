/* Fuzz target: the results database as the read paths meet it. Input = a whole SQLite
 * file, handed to `vmmbench show`, `show --json` and `compare newest all` through their
 * in-process entry points (cmd_show, cmd_compare: the same code as the command line, which
 * only adds main()).
 * Property, the clear-error contract: each command returns success, a database error
 * (show: 5) or a data error (compare: 2), never anything else, and a failure comes with
 * a message; no crash, leak or undefined behaviour on any file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fuzz_util.h"
#include "vmm/error.h"

static char path[64], wal[80], shm[80];
static int devnull = -1;
static char last_msg[VMM_ERR_MSG_MAX];

/* What vmmbench.c's main prints for a failed command; kept here to check the message. */
int cli_fail(const struct vmm_err *e)
{
    snprintf(last_msg, sizeof last_msg, "%s", e->msg);
    fprintf(stderr, "vmmbench: %s\n", e->msg);
    return e->code ? e->code : VMM_EXIT_INTERNAL;
}

/* Runs a command with its stdout and stderr going nowhere (libFuzzer keeps its own). */
static int quietly(int (*cmd)(int, char **), int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    dup2(devnull, 1);
    dup2(devnull, 2);
    last_msg[0] = '\0';
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (devnull < 0) {
        devnull = open("/dev/null", O_WRONLY);
        int pid = (int)getpid();
        snprintf(path, sizeof path, "/tmp/vmmb-fuzz-db-%d.db", pid);
        snprintf(wal, sizeof wal, "%s-wal", path);
        snprintf(shm, sizeof shm, "%s-shm", path);
    }
    unlink(wal);
    unlink(shm);
    FILE *f = fopen(path, "wb");
    FUZZ_ASSERT(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);

    char *show[] = { "show", "--db", path, NULL };
    /* ok, or a clear refusal: 2 for a damaged or foreign file (quick_check, schema), 5
     * for what the database layer says */
    int rc = quietly(cmd_show, 3, show);
    FUZZ_ASSERT(rc == VMM_EXIT_OK || rc == VMM_EXIT_USAGE || rc == VMM_EXIT_DATABASE);
    if (rc)
        FUZZ_ASSERT(last_msg[0]);
    char *json[] = { "show", "--json", "--db", path, NULL };
    rc = quietly(cmd_show, 4, json);
    FUZZ_ASSERT(rc == VMM_EXIT_OK || rc == VMM_EXIT_USAGE || rc == VMM_EXIT_DATABASE);
    if (rc)
        FUZZ_ASSERT(last_msg[0]);
    /* compare writes its own message (vmmbench: compare: ...), so only its status is
     * checked here. */
    char *cmp[] = { "compare", "--db", path, "newest", "all", NULL };
    rc = quietly(cmd_compare, 5, cmp);
    FUZZ_ASSERT(rc == VMM_EXIT_OK || rc == VMM_EXIT_USAGE);
    if (getenv("FUZZ_VERBOSE")) /* for writing seeds: what the input reached */
        fprintf(stderr, "db: show %s, compare %d\n", last_msg[0] ? last_msg : "ok", rc);
    unlink(wal);
    unlink(shm);
    return 0;
}
