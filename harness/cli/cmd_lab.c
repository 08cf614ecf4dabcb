/* `vmmbench lab [OPTIONS] -- COMMAND...`: runs COMMAND on an emulated N-node NUMA host
 * with SVM-based KVM (QEMU TCG), for checking configs, vNUMA layouts and the analysis
 * pipeline without NUMA hardware. This file checks the options and hands over to the
 * shipped launcher (share/vmmbench/lab/vmmbench-lab.sh), which boots the lab; the
 * database goes in and out through lab_db.c. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_common.h"
#include "commands.h"
#include "lab_db.h"
#include "lab_launch.h"
#include "vmm/image.h"
#include "vmm/size.h"

/* The launcher's own exit codes (as timeout(1) and env(1) use them). */
#define LAB_EXIT_TIMEOUT 124
#define LAB_EXIT_NO_START 125

#define LAB_MAX_NODES 4
#define LAB_MAX_CPUS 16
#define LAB_MIN_NODE_MIB 256
#define LAB_DEFAULT_MIB 2048
#define LAB_DEFAULT_TIMEOUT 3600

struct lab_opts {
    unsigned nodes, cpus, timeout;
    uint64_t mem_mib;
    const char *db;
    char **cmd;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench lab [--nodes N] [--cpus N] [--mem SIZE] [--db PATH] [--timeout S]\n"
            "                    -- COMMAND...\n"
            "\n"
            "Runs COMMAND (a vmmbench or vmm-min command, e.g. `vmmbench run --suite quick`)\n"
            "on an emulated host with N NUMA nodes and SVM-based KVM: QEMU in software emulation\n"
            "(-cpu max,+svm) booting Debian's kernel with kvm-amd. The command sees this host's\n"
            "files read-only, in the current folder, and `vmmbench` is this one. Its stdout and\n"
            "stderr come here; the exit status is the command's. For checking configs, vNUMA\n"
            "layouts and the analysis pipeline without NUMA hardware: the lab's figures are\n"
            "stored as emulated (`show` and `report` say so) and are functional only.\n"
            "  --nodes N     NUMA nodes, 1 to %d (default 2)\n"
            "  --cpus N      CPUs, %u at most, at least one per node, in blocks over the nodes\n"
            "                (default 2, or --nodes when more)\n"
            "  --mem SIZE    the lab's memory, split evenly over its nodes, at least %u MiB a\n"
            "                node (default %uM)\n"
            "  --db PATH     the command's database (VMMB_DB in the lab) is a copy of PATH; the\n"
            "                runs it adds are merged into PATH afterwards (nothing there is lost;\n"
            "                PATH is created when missing). Without it the lab's database is\n"
            "                discarded. Give it here, not as the command's --db\n"
            "  --timeout S   the command's time limit in the lab (default %u); the boot gets\n"
            "                VMMB_LAB_BOOT_SECONDS (300) more\n"
            "Needs qemu-system-x86 and cpio (installed when run as root) and downloads\n"
            "Debian's linux-image and busybox-static once into $VMMB_LAB_CACHE (default\n"
            "~/.cache/vmmbench/lab). A boot takes about 30-60 s.\n"
            "Exit status: the command's; 2 usage, 5 --db unusable, %d the lab timed out,\n"
            "%d the lab could not start (QEMU missing, kernel download failed, no boot).\n",
            LAB_MAX_NODES, LAB_MAX_CPUS, LAB_MIN_NODE_MIB, LAB_DEFAULT_MIB, LAB_DEFAULT_TIMEOUT,
            LAB_EXIT_TIMEOUT, LAB_EXIT_NO_START);
}

/* A whole number in [lo, hi], nothing else. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *s == '-' || *s == '+' || *end || errno || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_mem(const char *s, uint64_t *mib)
{
    uint64_t bytes;
    if (vmm_parse_size(s, &bytes) || bytes % (1u << 20))
        return cli_usage("lab", "--mem takes a size in whole MiB such as 2G or 1536M, not '%s'",
                         s);
    *mib = bytes >> 20;
    return 0;
}

/* The whole command line checked before anything boots: every error names the option. */
static int parse(int argc, char **argv, struct lab_opts *o)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },       { "nodes", required_argument, NULL, 'n' },
        { "cpus", required_argument, NULL, 'c' }, { "mem", required_argument, NULL, 'm' },
        { "db", required_argument, NULL, 'd' },   { "timeout", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct lab_opts){ .nodes = 2, .timeout = LAB_DEFAULT_TIMEOUT,
                            .mem_mib = LAB_DEFAULT_MIB };
    int c, cpus_given = 0;
    optind = 0; /* glibc: start a fresh scan */
    opterr = 0;
    /* "+": stop at the command, whose own options are not ours; ":": a missing value */
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return -1;
        case 'n':
            if (parse_uint(optarg, 1, LAB_MAX_NODES, &o->nodes))
                return cli_usage("lab", "--nodes takes 1 to %d NUMA nodes, not '%s'",
                                 LAB_MAX_NODES, optarg);
            break;
        case 'c':
            if (parse_uint(optarg, 1, LAB_MAX_CPUS, &o->cpus))
                return cli_usage("lab", "--cpus takes 1 to %d CPUs, not '%s'", LAB_MAX_CPUS,
                                 optarg);
            cpus_given = 1;
            break;
        case 'm':
            if (parse_mem(optarg, &o->mem_mib))
                return VMM_EXIT_USAGE;
            break;
        case 'd':
            if (!*optarg)
                return cli_usage("lab", "--db takes a file name");
            o->db = optarg;
            break;
        case 't':
            if (parse_uint(optarg, 1, 7 * 86400, &o->timeout))
                return cli_usage("lab", "--timeout takes 1 to %d seconds, not '%s'", 7 * 86400,
                                 optarg);
            break;
        case ':':
            return cli_usage("lab", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage("lab", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind == 0 || optind > argc || strcmp(argv[optind - 1], "--") != 0)
        return cli_usage("lab", "put `--` before the command: vmmbench lab [OPTIONS] -- "
                         "vmmbench run ...");
    if (optind == argc)
        return cli_usage("lab", "give the command to run after `--`, e.g. -- vmmbench run "
                         "--suite quick");
    o->cmd = argv + optind;
    if (!cpus_given)
        o->cpus = o->nodes > 2 ? o->nodes : 2;
    if (o->cpus < o->nodes)
        return cli_usage("lab", "--cpus %u is fewer than --nodes %u: every node needs a CPU; "
                         "give --cpus %u or more", o->cpus, o->nodes, o->nodes);
    if (o->mem_mib / o->nodes < LAB_MIN_NODE_MIB)
        return cli_usage("lab", "--mem %lluM is under %u MiB a node for %u nodes; give --mem "
                         "%uM or more", (unsigned long long)o->mem_mib, LAB_MIN_NODE_MIB,
                         o->nodes, LAB_MIN_NODE_MIB * o->nodes);
    uint64_t host_mib = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) >> 20;
    if (o->mem_mib > host_mib)
        return cli_usage("lab", "--mem %lluM is more than this host's %llu MiB; give less",
                         (unsigned long long)o->mem_mib, (unsigned long long)host_mib);
    /* The lab mounts its own /tmp, /run and /dev/shm over the host's (read-only) root. */
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) {
        static const char *const own[] = { "/tmp", "/run", "/dev/shm" };
        for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
            size_t n = strlen(own[i]);
            if (!strncmp(cwd, own[i], n) && (cwd[n] == '/' || !cwd[n]))
                return cli_usage("lab", "the lab has its own %s, so it cannot run the command "
                                 "in %s; run vmmbench lab from a folder outside /tmp, /run "
                                 "and /dev/shm", own[i], cwd);
        }
    }
    /* The lab works on a copy of --db in its own memory (tmpfs, half the lab's RAM). */
    struct stat st;
    if (o->db && stat(o->db, &st) == 0 && (uint64_t)st.st_size > (o->mem_mib << 20) / 4)
        return cli_usage("lab", "--db %s is %llu MiB and the lab copies it into its memory: "
                         "give --mem %lluM or more, or a new --db (merge it afterwards)", o->db,
                         (unsigned long long)st.st_size >> 20,
                         (unsigned long long)((st.st_size >> 20) + 1) * 4);
    /* The command's database is the lab's copy of --db (VMMB_DB): a --db of its own would
     * name a file of this host, which the lab sees read-only. */
    const char *base = strrchr(o->cmd[0], '/') ? strrchr(o->cmd[0], '/') + 1 : o->cmd[0];
    for (char **a = o->cmd + 1; !strcmp(base, "vmmbench") && *a; a++)
        if (!strcmp(*a, "--db") || !strncmp(*a, "--db=", 5))
            return cli_usage("lab", "give the database to the lab, before `--`: vmmbench lab "
                             "--db PATH -- %s ... (the lab sees this host's files read-only)",
                             o->cmd[0]);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Runs the launcher and returns its exit status (the command's, or 124/125). */
static int launch(const struct lab_opts *o, const char *launcher, const char *dir)
{
    char exe[4096], nodes[16], cpus[16], mem[32], timeout[16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(nodes, sizeof nodes, "%u", o->nodes);
    snprintf(cpus, sizeof cpus, "%u", o->cpus);
    snprintf(mem, sizeof mem, "%llu", (unsigned long long)o->mem_mib);
    snprintf(timeout, sizeof timeout, "%u", o->timeout);
    size_t ncmd = 0;
    while (o->cmd[ncmd])
        ncmd++;
    char *fixed[] = { (char *)launcher, "--nodes", nodes, "--cpus", cpus, "--mem", mem,
                      "--timeout", timeout, "--dir", (char *)dir, "--bin", dirname(exe), "--" };
    size_t k = sizeof fixed / sizeof fixed[0];
    char **args = calloc(k + ncmd + 1, sizeof *args);
    if (!args)
        return VMM_EXIT_INTERNAL;
    memcpy(args, fixed, sizeof fixed);
    memcpy(args + k, o->cmd, ncmd * sizeof *args);
    int rc = lab_launch(args, LAB_EXIT_NO_START);
    if (rc < 0) {
        fprintf(stderr, "vmmbench: lab: cannot start %s: %s\n", launcher, strerror(errno));
        rc = LAB_EXIT_NO_START;
    }
    free(args);
    return rc;
}

/* What the lab's command left in its database goes into --db; returns 0 or 5. */
static int store(const struct lab_opts *o, const char *out_db, int *keep_dir)
{
    if (access(out_db, F_OK) != 0)
        return 0;
    if (!o->db) {
        long n = lab_db_count_runs(out_db);
        if (n > 0)
            fprintf(stderr, "vmmbench lab: the lab's %ld runs were not kept; give --db PATH to "
                    "keep them\n", n);
        return 0;
    }
    size_t copied, skipped;
    struct vmm_err e = { 0 };
    if (lab_db_merge_back(o->db, out_db, &copied, &skipped, &e)) {
        fprintf(stderr, "vmmbench lab: the lab's runs could not be stored in %s: %s; they are "
                "kept in %s (`vmmbench merge %s %s` stores them)\n", o->db, e.msg, out_db,
                o->db, out_db);
        *keep_dir = 1;
        return VMM_EXIT_DATABASE;
    }
    fprintf(stderr, "vmmbench lab: %zu new run%s stored in %s\n", copied, copied == 1 ? "" : "s",
            o->db);
    return 0;
}

int cmd_lab(int argc, char **argv)
{
    struct lab_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? VMM_EXIT_OK : rc;
    struct vmm_err e = { 0 };
    if (o.db && lab_db_check(o.db, &e))
        return cli_fail(&e);
    char launcher[4096];
    if (vmm_share_path("lab/vmmbench-lab.sh", launcher, sizeof launcher) ||
        access(launcher, X_OK) != 0) {
        fprintf(stderr, "vmmbench: lab: the lab's launcher %s is missing: reinstall vmmbench "
                "(make install) or point VMMB_SHARE_DIR at its share/vmmbench\n", launcher);
        return LAB_EXIT_NO_START;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/vmmbench-lab.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "vmmbench: lab: cannot create a work folder in %s: %s; set TMPDIR to a "
                "writable folder\n", tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return LAB_EXIT_NO_START;
    }
    snprintf(path, sizeof path, "%s/in.db", dir);
    if (o.db && lab_db_copy_in(o.db, path, &e)) {
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return cli_fail(&e);
    }
    rc = launch(&o, launcher, dir);
    snprintf(path, sizeof path, "%s/out.db", dir);
    int keep = 0, src = store(&o, path, &keep);
    if (!keep)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return src ? src : rc;
}
