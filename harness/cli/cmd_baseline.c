/* `vmmbench baseline save NAME` / `baseline list`: a baseline is a small results database
 * (DIR/baselines/NAME.db next to the results database) holding one run set, tagged NAME;
 * `vmmbench check --baseline NAME` finds it there, and CI can keep the file. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_common.h"
#include "commands.h"
#include "db.h"
#include "dbcopy.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench baseline save NAME [--from SET] [--out FILE] [--force] [--db PATH]\n"
            "       vmmbench baseline list [--db PATH]\n"
            "\n"
            "save copies a run set (default: newest, the newest run set) with its hosts,\n"
            "configs and samples into DIR/baselines/NAME.db next to the database (or --out),\n"
            "tagged NAME. `vmmbench check --baseline NAME` reads it. An existing baseline is\n"
            "kept unless --force is given.\n"
            "  --from SET   what to save: tag:NAME, config:NAME, run:IDS, newest, all\n"
            "  --db PATH    the results database (default %s)\n",
            CLI_DEFAULT_DB);
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_.-") == n && s[0] != '.';
}

static int list(const char *db)
{
    char dir[4400];
    cli_baseline_path(db, "x", dir, sizeof dir);
    *strrchr(dir, '/') = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        printf("No baselines in %s yet; `vmmbench baseline save NAME` makes one.\n", dir);
        return 0;
    }
    struct dirent *de;
    printf("Baselines in %s:\n", dir);
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > 3 && strcmp(de->d_name + n - 3, ".db") == 0)
            printf("  %.*s\n", (int)(n - 3), de->d_name);
    }
    closedir(d);
    return 0;
}

int cmd_baseline(int argc, char **argv)
{
    static const struct option opts[] = {
        { "from", required_argument, 0, 'f' }, { "out", required_argument, 0, 'o' },
        { "force", no_argument, 0, 'F' }, { "db", required_argument, 0, 'd' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *db = CLI_DEFAULT_DB, *from = "newest", *outp = NULL;
    bool force = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'o': outp = optarg; break;
        case 'F': force = true; break;
        case 'd': db = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage("baseline", "%s needs a value", argv[optind - 1]);
        default: return cli_usage("baseline", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage("baseline", "say `save NAME` or `list`");
    if (strcmp(argv[optind], "list") == 0 && optind + 1 == argc)
        return list(db);
    if (strcmp(argv[optind], "save") != 0 || optind + 2 != argc)
        return cli_usage("baseline", "say `save NAME` or `list`");
    const char *name = argv[optind + 1];
    if (!valid_name(name))
        return cli_usage("baseline", "name '%s': use letters, digits, '_', '.', '-' (up to 63)",
                         name);
    char path[4400];
    if (outp)
        snprintf(path, sizeof path, "%s", outp);
    else
        cli_baseline_path(db, name, path, sizeof path);
    struct vmm_err e = { 0 };
    if (access(path, F_OK) == 0 && !force) {
        fprintf(stderr, "vmmbench: baseline: %s exists; keep it, pick another name, or pass "
                "--force to replace it\n", path);
        return VMM_EXIT_USAGE;
    }
    struct selector sel;
    int64_t *ids = NULL;
    size_t n = 0;
    if (selector_parse(from, db, &sel, &e) || selector_run_ids(&sel, &ids, &n, &e)) {
        fprintf(stderr, "vmmbench: baseline: %s\n", e.msg);
        selector_free(&sel);
        return VMM_EXIT_USAGE;
    }
    if (!outp) {
        char dir[4400];
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "vmmbench: baseline: cannot create %s: %s\n", dir, strerror(errno));
            free(ids);
            selector_free(&sel);
            return VMM_EXIT_USAGE;
        }
    }
    /* Built beside the target and renamed over it: an old baseline survives any failure. */
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    struct db *out = NULL;
    size_t copied = 0, skipped = 0;
    int ret = 0;
    if (db_open(tmp, &out, &e) ||
        dbcopy_runs(db_handle(out), sel.db_path, ids, n, name, &copied, &skipped, &e)) {
        fprintf(stderr, "vmmbench: baseline: %s\n", e.msg);
        ret = VMM_EXIT_USAGE;
    }
    if (out) {
        sqlite3_exec(db_handle(out), "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
        db_close(out);
    }
    if (ret == 0 && rename(tmp, path) != 0) {
        fprintf(stderr, "vmmbench: baseline: cannot write %s: %s\n", path, strerror(errno));
        ret = VMM_EXIT_USAGE;
    }
    if (ret) {
        unlink(tmp);
    } else {
        printf("saved %zu runs of %s as baseline %s in %s\n", copied, sel.label, name, path);
    }
    char side[4600];
    snprintf(side, sizeof side, "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp);
    unlink(side);
    free(ids);
    selector_free(&sel);
    return ret;
}
