/* vmmbench run: plan, check everything, then run each (config, workload, repetition)
 * in its own child process and store every run as it finishes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "db.h"
#include "hostinfo.h"
#include "progress.h"
#include "run_child.h"
#include "run_plan.h"
#include "stats.h"
#include "suites.h"
#include "vmm/image.h"
#include "vmm/vmm.h"

#define MAX_CONFIGS 16
#define MAX_SPECS 256
#define DEFAULT_REPS 3

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmmbench run [WORKLOAD[:k=v,...]]... [--suite NAME] [--config FILE]...\n"
            "                    [--configs A,B,...] [--interleave|--no-interleave] [--native]\n"
            "                    [--reps N] [--db PATH] [--tag NAME] [--timeout S] [--kernel FILE]\n"
            "\n"
            "Runs each workload under each config N times, every run in its own child process\n"
            "with a watchdog, and stores every sample in the database.\n"
            "  WORKLOAD          a workload name, optionally with parameters: cpuid:ring=0,iters=500\n"
            "                    (`vmmbench list` shows workloads and parameters)\n"
            "  --suite NAME      run a named suite (default quick when no workload is given)\n"
            "  --config FILE     hypervisor config INI file, or the name of an installed one\n"
            "                    (repeatable; default: the built-in default config)\n"
            "  --configs A,B     several configs at once (files or installed names)\n"
            "  --interleave      alternate configs run by run, A B A B ... (the default), so\n"
            "                    drift of the host spreads evenly over them\n"
            "  --no-interleave   all runs of A, then all of B (to see what drift does)\n"
            "  --native          also run every memory workload natively on the host under a\n"
            "                    twin of each config (NAME-native: native = yes), interleaved,\n"
            "                    so each guest figure has its host reference in the same job\n"
            "  --reps N          repetitions of every run, each a fresh VM (default %d)\n"
            "  --db PATH         results database (default %s)\n"
            "  --tag NAME        name this run set, for later comparison (default:\n"
            "                    run-YYYYMMDD-HHMMSS-PID, so every run set can be named)\n"
            "  --timeout S       per-run timeout in seconds (default 60)\n"
            "  --kernel FILE     guest kernel image (default: the installed one)\n"
            "Exit status: 0 all runs ok or unsupported here, 1 some run failed, 2 usage,\n"
            "3 config, 4 no KVM, 5 database, 6 guest image, 7 memory.\n",
            DEFAULT_REPS, CLI_DEFAULT_DB);
}

/* A --config argument that is not a file is looked up among the installed configs. */
static int load_config(const char *arg, struct bench_config *c, struct vmm_err *e)
{
    struct stat st;
    if (stat(arg, &st) == 0 || strchr(arg, '/'))
        return config_load(arg, c, e);
    char path[4096], rel[512];
    snprintf(rel, sizeof rel, "configs/%s.ini", arg);
    if (vmm_share_path(rel, path, sizeof path) == 0 && stat(path, &st) == 0)
        return config_load(path, c, e);
    return vmm_err_set(e, VMM_EXIT_CONFIG, "config %s: no such file, and no installed config of "
                       "that name; `vmmbench list` shows the installed ones", arg);
}

/* The default database's folder is created on demand; a path the user names (--db,
 * VMMB_DB) is not. */
static int prepare_default_db_dir(const char *db_path, struct vmm_err *e)
{
    if (strcmp(db_path, CLI_BUILTIN_DB) != 0)
        return 0;
    if (mkdir("results", 0777) < 0 && errno != EEXIST)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot create results/: %s; pass --db PATH",
                           strerror(errno));
    return 0;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The headline for a progress line: median latency, or the reason it failed. */
static void headline(const struct vmm_result *r, char *buf, size_t len)
{
    buf[0] = '\0';
    if (r->status != VMM_STATUS_OK) {
        snprintf(buf, len, "%.200s", r->reason);
        return;
    }
    double *v = malloc((r->nsamples ? r->nsamples : 1) * sizeof *v);
    size_t n = 0;
    if (!v)
        return;
    for (size_t i = 0; i < r->nsamples; i++)
        if (!r->samples[i].warmup && strcmp(r->samples[i].metric, "latency") == 0)
            v[n++] = r->samples[i].value;
    if (n) {
        stats_sort(v, n);
        snprintf(buf, len, "median %.4g ns over %zu batches", stats_quantile_sorted(v, n, 0.5),
                 n);
    }
    free(v);
}

struct run_args {
    const char *specs[MAX_SPECS];
    unsigned nspecs;
    const char *config_args[MAX_CONFIGS];
    unsigned nconfigs;
    const char *suite, *db_path, *tag, *kernel;
    const struct suite *suite_def;   /* expanded once the host's topology is known */
    char auto_tag[64];
    char configs_buf[4096];   /* --configs lists, split in place */
    size_t configs_used;
    bool no_interleave;
    bool native;
    unsigned reps;
    double timeout_s;
};

static int parse_args(int argc, char **argv, struct run_args *a, struct vmm_err *e)
{
    static const struct option opts[] = {
        { "suite", required_argument, 0, 's' }, { "config", required_argument, 0, 'c' },
        { "reps", required_argument, 0, 'r' }, { "db", required_argument, 0, 'd' },
        { "tag", required_argument, 0, 'T' }, { "timeout", required_argument, 0, 't' },
        { "kernel", required_argument, 0, 'k' }, { "help", no_argument, 0, 'h' },
        { "configs", required_argument, 0, 'C' }, { "interleave", no_argument, 0, 'I' },
        { "no-interleave", no_argument, 0, 'N' }, { "native", no_argument, 0, 'V' },
        { 0, 0, 0, 0 },
    };
    memset(a, 0, sizeof *a);
    a->db_path = CLI_DEFAULT_DB;
    a->reps = DEFAULT_REPS;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's': a->suite = optarg; break;
        case 'd': a->db_path = optarg; break;
        case 'T': a->tag = optarg; break;
        case 'k': a->kernel = optarg; break;
        case 'c':
            if (a->nconfigs == MAX_CONFIGS)
                return vmm_err_set(e, VMM_EXIT_USAGE, "more than %d --config options",
                                   MAX_CONFIGS);
            a->config_args[a->nconfigs++] = optarg;
            break;
        case 'C': {
            size_t len = strlen(optarg) + 1;
            if (a->configs_used + len > sizeof a->configs_buf)
                return vmm_err_set(e, VMM_EXIT_USAGE, "--configs lists are too long");
            char *copy = a->configs_buf + a->configs_used;
            memcpy(copy, optarg, len);
            a->configs_used += len;
            char *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (a->nconfigs == MAX_CONFIGS)
                    return vmm_err_set(e, VMM_EXIT_USAGE, "more than %d configs", MAX_CONFIGS);
                a->config_args[a->nconfigs++] = t;
            }
            if (!*copy || copy[len - 2] == ',' || strstr(optarg, ",,"))
                return vmm_err_set(e, VMM_EXIT_USAGE, "--configs %s: give config names or files "
                                   "separated by single commas", optarg);
            break;
        }
        case 'I': a->no_interleave = false; break;
        case 'N': a->no_interleave = true; break;
        case 'V': a->native = true; break;
        case 'r': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || v < 1 || v > 10000)
                return vmm_err_set(e, VMM_EXIT_USAGE, "--reps %s: give a whole number from 1 "
                                   "to 10000", optarg);
            a->reps = (unsigned)v;
            break;
        }
        case 't':
            a->timeout_s = strtod(optarg, &end);
            if (*end || !*optarg || !(a->timeout_s > 0))
                return vmm_err_set(e, VMM_EXIT_USAGE, "--timeout %s: give a positive number of "
                                   "seconds", optarg);
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return vmm_err_set(e, VMM_EXIT_USAGE, "see the usage above");
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->nspecs == MAX_SPECS)
            return vmm_err_set(e, VMM_EXIT_USAGE, "more than %d workloads", MAX_SPECS);
        a->specs[a->nspecs++] = argv[i];
    }
    for (unsigned i = 0; i < a->nconfigs; i++)
        for (unsigned j = 0; j < i; j++)
            if (strcmp(a->config_args[i], a->config_args[j]) == 0)
                return vmm_err_set(e, VMM_EXIT_USAGE, "config %s is given twice",
                                   a->config_args[i]);
    if (!a->tag) {
        /* Every run set gets a name, so `compare`, `check` and `baseline save` can find
         * "the newest run set" and any earlier one. */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(a->auto_tag, sizeof a->auto_tag, "run-%s-%d", stamp, (int)getpid());
        a->tag = a->auto_tag;
    } else if (!*a->tag) {
        return vmm_err_set(e, VMM_EXIT_USAGE, "--tag needs a non-empty name");
    }
    if (a->suite && a->nspecs)
        return vmm_err_set(e, VMM_EXIT_USAGE, "give workloads or --suite, not both");
    if (!a->nspecs) {
        const char *name = a->suite ? a->suite : "quick";
        if (!(a->suite_def = suite_find(name)))
            return vmm_err_set(e, VMM_EXIT_USAGE, "unknown suite '%s'; `vmmbench list` shows "
                               "the suites", name);
    }
    return 0;
}

/* --no-interleave: every run of the first config, then the next, each in plan order. */
static void block_order(struct run_plan *plan, const struct bench_config *configs,
                        unsigned nconfigs)
{
    struct run_item *sorted = malloc(plan->n * sizeof *sorted);
    if (!sorted)
        return;   /* keep the interleaved order rather than fail the run */
    size_t k = 0;
    for (unsigned c = 0; c < nconfigs; c++)
        for (size_t i = 0; i < plan->n; i++)
            if (plan->items[i].config == &configs[c])
                sorted[k++] = plan->items[i];
    memcpy(plan->items, sorted, k * sizeof *sorted);
    free(sorted);
}

/* --native: a twin of every config that is not native already, right after it (so the
 * interleaved order alternates guest and host runs), named NAME-native, whose stored text
 * is the original plus `native = yes`. */
static int add_native_twins(struct bench_config *configs, unsigned *n, struct vmm_err *e)
{
    unsigned orig = *n, out = 0;
    struct bench_config tmp[MAX_CONFIGS];
    for (unsigned i = 0; i < orig; i++) {
        if (out + 2 > MAX_CONFIGS)
            return vmm_err_set(e, VMM_EXIT_USAGE, "--native doubles the configs; give at most "
                               "%d", MAX_CONFIGS / 2);
        tmp[out++] = configs[i];
        if (configs[i].placement.native)
            continue;
        struct bench_config *t = &tmp[out++];
        *t = configs[i];
        t->placement.native = true;
        /* the twin runs on the host: no VMM, whichever the guest config names */
        t->hypervisor = VMM_HV_VMM_MIN;
        char name[CONFIG_NAME_MAX];
        snprintf(name, sizeof name, "%.*s-native", CONFIG_NAME_MAX - 8, configs[i].name);
        memcpy(t->name, name, sizeof name);
        const char *text = configs[i].text ? configs[i].text : "";
        size_t len = strlen(text) + 64;
        if (!(t->text = malloc(len)))
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
        snprintf(t->text, len, "%s%s; vmmbench run --native\nnative = yes\n", text,
                 *text && text[strlen(text) - 1] != '\n' ? "\n" : "");
    }
    memcpy(configs, tmp, out * sizeof *configs);
    *n = out;
    return 0;
}

/* Native runs (host threads over host memory) need no KVM: a plan of only those runs
 * on a host without /dev/kvm. */
static bool plan_needs_kvm(const struct run_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++)
        if (!plan->items[i].plan.placement.native)
            return true;
    return false;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    struct vmm_err e = { 0 };
    int rc = parse_args(argc, argv, &a, &e);
    if (rc > 0)
        return 0; /* --help */
    if (rc < 0)
        return cli_fail(&e);

    struct bench_config configs[MAX_CONFIGS];
    unsigned nconfigs = 0;
    struct vmm_image *img = NULL;
    struct db *db = NULL;
    struct vmm_topology *topo = NULL;
    struct run_plan plan = { 0 };
    int exit_code = VMM_EXIT_OK;
    if (!a.nconfigs) {
        config_default(&configs[0]);
        nconfigs = 1;
    }
    for (unsigned i = 0; i < a.nconfigs; i++, nconfigs++)
        if (load_config(a.config_args[i], &configs[i], &e))
            goto fail;
    if (a.native && add_native_twins(configs, &nconfigs, &e))
        goto fail;
    /* Every hypervisor's version now, so a missing QEMU stops the plan before any run. */
    for (unsigned i = 0; i < nconfigs; i++)
        if (config_resolve_hypervisor(&configs[i], &e))
            goto fail;
    char kernel[4096];
    if (a.kernel)
        snprintf(kernel, sizeof kernel, "%s", a.kernel);
    else if (vmm_share_path(VMM_DEFAULT_GUEST, kernel, sizeof kernel)) {
        vmm_err_set(&e, VMM_EXIT_USAGE, "cannot locate the guest kernel; pass --kernel");
        goto fail;
    }
    if (vmm_image_open(kernel, &img, &e))
        goto fail;
    /* One topology for the whole plan: every (workload, config) pair resolves against it. */
    if (vmm_topology_load(NULL, &topo, &e))
        goto fail;
    double estimate = 0;
    if (a.suite_def) {
        unsigned nodes = vmm_topology_nr_nodes(topo);
        for (const struct suite_item *it = a.suite_def->items; it->spec; it++)
            if (it->min_nodes <= nodes && a.nspecs < MAX_SPECS)
                a.specs[a.nspecs++] = it->spec;
        estimate = suite_estimate(a.suite_def, nodes) * a.reps * nconfigs;
    }
    struct run_plan_request prq = {
        .image = img, .configs = configs, .nconfigs = nconfigs, .specs = a.specs,
        .nspecs = a.nspecs, .reps = a.reps, .timeout_s = a.timeout_s, .topology = topo,
    };
    if (run_plan_build(&prq, &plan, &e) || (plan_needs_kvm(&plan) && vmm_kvm_check(&e)) ||
        prepare_default_db_dir(a.db_path, &e) || db_open(a.db_path, &db, &e))
        goto fail;
    if (a.no_interleave)
        block_order(&plan, configs, nconfigs);

    struct host_info host;
    hostinfo_collect(&host);
    struct progress prog;
    progress_init(&prog, stdout, plan.n);
    progress_estimate(&prog, estimate);
    size_t failed = 0, unsupported = 0;
    for (size_t i = 0; i < plan.n; i++) {
        const struct run_item *it = &plan.items[i];
        char what[384];
        snprintf(what, sizeof what, "%s %s [%s] rep %u", it->config->name,
                 it->plan.workload->name, it->plan.params_text, it->rep + 1);
        progress_start(&prog, i, what);
        struct vmm_result res;
        struct run_spec spec = {
            .workload = it->plan.workload->name, .params = it->plan.params_text,
            .rep = it->rep, .tag = a.tag, .started = wall_now(),
        };
        run_in_child(&it->plan, &res);
        spec.ended = wall_now();
        int64_t run_id;
        if (db_store_run(db, &host, it->config, &spec, &res, &run_id, &e)) {
            vmm_result_free(&res);
            hostinfo_free(&host);
            progress_finish(&prog);
            goto fail;
        }
        char note[256];
        headline(&res, note, sizeof note);
        progress_done(&prog, i, what, vmm_status_name(res.status), note);
        if (res.status == VMM_STATUS_UNSUPPORTED)
            unsupported++;
        else if (res.status != VMM_STATUS_OK)
            failed++;
        vmm_result_free(&res);
    }
    progress_finish(&prog);
    hostinfo_free(&host);
    printf("stored %zu runs (%zu ok, %zu unsupported on this host, %zu failed) in %s, tag %s\n",
           plan.n, plan.n - failed - unsupported, unsupported, failed, a.db_path, a.tag);
    if (failed)
        exit_code = VMM_EXIT_RUNS_FAILED;
    goto out;
fail:
    exit_code = cli_fail(&e);
out:
    if (db)
        db_close(db);
    run_plan_free(&plan);
    vmm_topology_free(topo);
    vmm_image_close(img);
    for (unsigned i = 0; i < nconfigs; i++)
        config_free(&configs[i]);
    return exit_code;
}
