/* Fuzz target: the results database as the read paths meet it. Input = one byte that
 * picks the command, then a whole SQLite file, handed to that command through its
 * in-process entry point (cmd_show, cmd_compare: the same code as the command line, which
 * only adds main()): `show`, `show --json`, `show --wide --all`, `compare newest all`,
 * `compare --json --unit batch all newest` or `compare --plan 5 all`.
 * Property, the clear-error contract: the command returns success, a database error
 * (show: 5) or a data error (2), never anything else; a failed show comes with a
 * message, a command that succeeds prints; no crash, leak or undefined behaviour on any
 * file.
 *
 * Speed (issue 17: 110-150 executions a second when every input ran three commands from
 * a file, about 4.5 times as many now): one command per input, and the file is held in
 * memory. SQLite's own in-memory VFS ("memdb") is made the process's default, so the
 * commands open their --db path as always (adb_open still finds a regular file there: an
 * empty placeholder) and SQLite reads the input's bytes from memdb's shared store of that
 * name, which a keeper connection holds open and rewrites per input. No -wal/-shm files,
 * no file I/O. What is left per input is the command's own work: an open, PRAGMA
 * quick_check and the schema parse, all malloc-heavy under ASan's allocator. */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"
#include "fuzz_util.h"
#include "vmm/error.h"

static char path[64];
static FILE *out_file;         /* a command's stdout: a memory file, to see that it printed */
static FILE *err_file;         /* its stderr: /dev/null */
static char last_msg[VMM_ERR_MSG_MAX];
static sqlite3 *keeper;        /* holds memdb's shared store named PATH open */
static sqlite3_file *store;    /* that store, written directly */

/* What vmmbench.c's main prints for a failed command; kept here to check the message. */
int cli_fail(const struct vmm_err *e)
{
    snprintf(last_msg, sizeof last_msg, "%s", e->msg);
    fprintf(stderr, "vmmbench: %s\n", e->msg);
    return e->code ? e->code : VMM_EXIT_INTERNAL;
}

/* The commands an input can pick with its first byte. */
enum { MAX_ARGS = 8 };
static const struct command {
    int (*run)(int, char **);
    const char *argv[MAX_ARGS];  /* "DB" stands for the database path */
} commands[] = {
    { cmd_show, { "show", "--db", "DB" } },
    { cmd_show, { "show", "--json", "--db", "DB" } },
    { cmd_show, { "show", "--wide", "--all", "--db", "DB" } },
    /* compare writes its own message (vmmbench: compare: ...), so only its status is
     * checked. */
    { cmd_compare, { "compare", "--db", "DB", "newest", "all" } },
    { cmd_compare, { "compare", "--json", "--unit", "batch", "--db", "DB", "all", "newest" } },
    { cmd_compare, { "compare", "--plan", "5", "--db", "DB", "all" } },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Runs a command with its stdout into out_file and its stderr into err_file (/dev/null),
 * swapping the FILE variables, not the descriptors: the sanitizers' reports and libFuzzer's
 * own messages (a crash, a timeout) go to descriptor 2 and must stay visible. *printed is
 * how many bytes the command wrote to stdout. */
static int quietly(const struct command *c, long *printed)
{
    /* a fresh argv each time: getopt_long permutes the one it is given */
    char *argv[MAX_ARGS + 1] = { 0 };
    int argc = 0;
    while (argc < MAX_ARGS && c->argv[argc]) {
        argv[argc] = strcmp(c->argv[argc], "DB") == 0 ? path : (char *)c->argv[argc];
        argc++;
    }
    rewind(out_file);
    FILE *out = stdout, *err = stderr;
    stdout = out_file; /* glibc's stdout and stderr are plain variables */
    stderr = err_file;
    last_msg[0] = '\0';
    int rc = c->run(argc, argv);
    stdout = out;
    stderr = err;
    *printed = ftell(out_file);
    return rc;
}

static void remove_placeholder(void)
{
    sqlite3_close(keeper);
    unlink(path);
}

static void setup(void)
{
    int outfd = memfd_create("fuzz-db-stdout", 0);
    out_file = outfd >= 0 ? fdopen(outfd, "w") : NULL;
    err_file = fopen("/dev/null", "w");
    FUZZ_ASSERT(out_file && err_file);
    snprintf(path, sizeof path, "/tmp/vmmb-fuzz-db-%d.db", (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_ASSERT(fd >= 0 && close(fd) == 0);
    FUZZ_ASSERT(sqlite3_initialize() == SQLITE_OK);
    sqlite3_vfs *memdb = sqlite3_vfs_find("memdb");
    FUZZ_ASSERT(memdb && sqlite3_vfs_register(memdb, 1) == SQLITE_OK);
    /* memdb shares a store between the connections that open the same name starting
     * with '/'; the keeper's open creates it and keeps it alive between inputs. */
    FUZZ_ASSERT(sqlite3_open_v2(path, &keeper, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                NULL) == SQLITE_OK);
    FUZZ_ASSERT(sqlite3_file_control(keeper, "main", SQLITE_FCNTL_FILE_POINTER, &store) ==
                SQLITE_OK && store && store->pMethods);
    atexit(remove_placeholder);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keeper)
        setup();
    if (size < 1 || size > 64 << 20)
        return 0;
    const struct command *c = &commands[data[0] % NCOMMANDS];
    /* the file's bytes become the store's whole content */
    FUZZ_ASSERT(store->pMethods->xTruncate(store, 0) == SQLITE_OK);
    if (size > 1)
        FUZZ_ASSERT(store->pMethods->xWrite(store, data + 1, (int)(size - 1), 0) == SQLITE_OK);

    long printed;
    int rc = quietly(c, &printed);
    /* a database the command accepts gives output */
    if (rc == VMM_EXIT_OK)
        FUZZ_ASSERT(printed > 0);
    if (c->run == cmd_show) {
        /* ok, or a clear refusal: 2 for a damaged or foreign file (quick_check, schema),
         * 5 for what the database layer says */
        FUZZ_ASSERT(rc == VMM_EXIT_OK || rc == VMM_EXIT_USAGE || rc == VMM_EXIT_DATABASE);
        if (rc)
            FUZZ_ASSERT(last_msg[0]);
    } else {
        FUZZ_ASSERT(rc == VMM_EXIT_OK || rc == VMM_EXIT_USAGE);
    }
    if (getenv("FUZZ_VERBOSE")) /* for writing seeds: what the input reached */
        fprintf(stderr, "db: %s %s: %d, %lld bytes out %s\n", c->argv[0], c->argv[1], rc,
                (long long)printed, last_msg);
    return 0;
}
