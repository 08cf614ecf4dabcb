/* Campaign files (see campaign.h), parsed with libinih. Like config.c, parsing goes
 * through ini_parse_stream() with a line-counting reader, because the packaged libinih
 * does not pass line numbers to the handler: every complaint names FILE:LINE. */
#include "campaign.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suites.h"

struct parse {
    FILE *f;
    int line;            /* the line the handler is looking at */
    int section_line;    /* the line of the newest [section] header */
    bool new_section;    /* a header was read since the handler last ran */
    int err_line;
    char err[400];
    struct campaign *c;
    struct campaign_set *set;   /* the current [set NAME], NULL in [campaign] */
    bool in_campaign;
    char seen[64][48];   /* "section.key" already given in this section */
    unsigned nseen;
};

static char *read_line(char *buf, int n, void *stream)
{
    struct parse *p = stream;
    char *r = fgets(buf, n, p->f);
    if (r) {
        p->line++;
        /* libinih gives no "new section" callback here: the reader sees the header, so
         * a section repeated right after itself still counts as a second one. */
        if (buf[strspn(buf, " \t")] == '[') {
            p->new_section = true;
            p->section_line = p->line;
        }
    }
    return r;
}

static int bad(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct parse *p, const char *fmt, ...)
{
    if (!p->err_line) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof p->err, fmt, ap);
        va_end(ap);
        p->err_line = p->line;
    }
    return 0;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CAMPAIGN_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
            return false;
    return true;
}

static bool copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* A relative path is taken from the campaign file's folder, so the file means the same
 * thing from any working directory and on every node. */
static bool absolute(const struct campaign *c, const char *p, char *out, size_t cap)
{
    int n = p[0] == '/' ? snprintf(out, cap, "%s", p) : snprintf(out, cap, "%s/%s", c->dir, p);
    return n > 0 && (size_t)n < cap;
}

static unsigned parse_uint(const char *v, unsigned lo, unsigned hi, bool *ok)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    *ok = *v && isdigit((unsigned char)*v) && !*end && !errno && x >= lo && x <= hi;
    return (unsigned)x;
}

static int campaign_key(struct parse *p, const char *key, const char *v)
{
    struct campaign *c = p->c;
    bool ok;
    if (!strcmp(key, "name")) {
        if (!good_name(v))
            return bad(p, "name '%s': use 1-63 letters, digits, '_', '.' or '-'", v);
        copy(c->name, sizeof c->name, v);
    } else if (!strcmp(key, "results")) {
        if (!*v || !absolute(c, v, c->results, sizeof c->results))
            return bad(p, "results: give the shared results directory");
    } else if (!strcmp(key, "partition")) {
        if (!*v || strpbrk(v, " \t,") || !copy(c->partition, sizeof c->partition, v))
            return bad(p, "partition '%s': give one Slurm partition name", v);
    } else if (!strcmp(key, "nodes")) {
        char buf[8192];
        if (!copy(buf, sizeof buf, v))
            return bad(p, "nodes: the list is too long");
        char *save = NULL;
        for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
            if (c->nnodes == CAMPAIGN_MAX_NODES)
                return bad(p, "nodes: more than %d nodes; split the campaign",
                           CAMPAIGN_MAX_NODES);
            for (unsigned i = 0; i < c->nnodes; i++)
                if (!strcmp(c->nodes[i], t))
                    return bad(p, "nodes: %s is listed twice; list each node once", t);
            if (!copy(c->nodes[c->nnodes], sizeof c->nodes[0], t))
                return bad(p, "nodes: node name '%.40s...' is too long", t);
            c->nnodes++;
        }
        if (!c->nnodes)
            return bad(p, "nodes: give Slurm node names separated by commas");
    } else if (!strcmp(key, "repetitions")) {
        c->reps = parse_uint(v, 1, 10000, &ok);
        if (!ok)
            return bad(p, "repetitions '%s': give a whole number from 1 to 10000", v);
    } else if (!strcmp(key, "timeout")) {
        char *end;
        double t = strtod(v, &end);
        if (end == v || *end || !(t > 0) || !copy(c->timeout, sizeof c->timeout, v))
            return bad(p, "timeout '%s': give a positive number of seconds per run", v);
    } else if (!strcmp(key, "time_limit")) {
        c->time_limit_min = parse_uint(v, 1, 525600, &ok);
        if (!ok)
            return bad(p, "time_limit '%s': give whole minutes per task, 1 to 525600", v);
    } else if (!strcmp(key, "tag")) {
        if (!good_name(v))
            return bad(p, "tag '%s': use 1-63 letters, digits, '_', '.' or '-'", v);
        copy(c->tag, sizeof c->tag, v);
    } else if (!strcmp(key, "vmmbench")) {
        if (!*v || !absolute(c, v, c->vmmbench, sizeof c->vmmbench))
            return bad(p, "vmmbench: give the path of the vmmbench program tasks run");
    } else {
        return bad(p, "unknown key '%s' in [campaign]; keys are name, results, nodes, "
                   "partition, repetitions, timeout, time_limit, tag, vmmbench", key);
    }
    return 1;
}

static int set_key(struct parse *p, const char *key, const char *v)
{
    struct campaign_set *s = p->set;
    if (!strcmp(key, "configs")) {
        char buf[2048], *save = NULL;
        if (!copy(buf, sizeof buf, v))
            return bad(p, "configs: the list is too long");
        s->configs[0] = '\0';
        for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
            char one[PATH_MAX];
            /* A name is an installed config; anything with a slash is a file. */
            if (strchr(t, '/') && !absolute(p->c, t, one, sizeof one))
                return bad(p, "configs: path %.60s is too long", t);
            if (!strchr(t, '/'))
                snprintf(one, sizeof one, "%s", t);
            size_t used = strlen(s->configs), len = strlen(one);
            if (used + len + 2 > sizeof s->configs)
                return bad(p, "configs: the list is too long");
            if (used)
                s->configs[used++] = ',';
            memcpy(s->configs + used, one, len + 1);
        }
        if (!s->configs[0])
            return bad(p, "configs: give config names or files separated by commas");
    } else if (!strcmp(key, "workloads")) {
        if (!*v || !copy(s->workloads, sizeof s->workloads, v))
            return bad(p, "workloads: give workload specs separated by spaces");
    } else if (!strcmp(key, "suite")) {
        if (!suite_find(v))
            return bad(p, "suite '%s' is unknown; `vmmbench list` shows the suites", v);
        copy(s->suite, sizeof s->suite, v);
    } else if (!strcmp(key, "native")) {
        if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
            s->native = true;
        else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
            s->native = false;
        else
            return bad(p, "native '%s': say yes or no", v);
    } else {
        return bad(p, "unknown key '%s' in [set %s]; keys are configs, workloads, suite, "
                   "native", key, s->name);
    }
    return 1;
}

/* Opens a section: [campaign] or [set NAME]. */
static int open_section_here(struct parse *p, const char *section)
{
    p->nseen = 0;
    if (!strcmp(section, "campaign")) {
        if (p->in_campaign || p->c->name[0])
            return bad(p, "[campaign] given twice; keep one");
        p->in_campaign = true;
        p->set = NULL;
        return 1;
    }
    p->in_campaign = false;
    if (strncmp(section, "set ", 4) != 0 || !good_name(section + 4))
        return bad(p, "section [%s]: write [campaign] or [set NAME] (NAME: letters, digits, "
                   "'_', '.', '-')", section);
    struct campaign *c = p->c;
    for (unsigned i = 0; i < c->nsets; i++)
        if (!strcmp(c->sets[i].name, section + 4))
            return bad(p, "[%s] given twice; give each set one name", section);
    if (c->nsets == CAMPAIGN_MAX_SETS)
        return bad(p, "more than %d sets; split the campaign", CAMPAIGN_MAX_SETS);
    p->set = &c->sets[c->nsets++];
    copy(p->set->name, sizeof p->set->name, section + 4);
    return 1;
}

/* Complaints about a section name the line of its header. */
static int open_section(struct parse *p, const char *section)
{
    int key_line = p->line;
    p->line = p->section_line;
    int ok = open_section_here(p, section);
    p->line = key_line;
    return ok;
}

static int handle(void *user, const char *section, const char *key, const char *value)
{
    struct parse *p = user;
    if (p->err_line)
        return 0;
    if (!key) /* INI_CALL_HANDLER_ON_NEW_SECTION is off in the packaged libinih */
        return 1;
    if (p->new_section) {
        p->new_section = false;
        if (!open_section(p, section))
            return 0;
    }
    for (unsigned i = 0; i < p->nseen; i++)
        if (!strcmp(p->seen[i], key))
            return bad(p, "'%s' given twice in [%s]; keep one", key, section);
    if (p->nseen < sizeof p->seen / sizeof p->seen[0])
        copy(p->seen[p->nseen++], sizeof p->seen[0], key);
    return p->in_campaign ? campaign_key(p, key, value) : set_key(p, key, value);
}

/* Whole-file checks once every line parsed. */
static int check(const struct campaign *c, struct vmm_err *e)
{
    const char *f = c->path;
    if (!c->name[0])
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: no [campaign] name; add 'name = ...' under "
                           "[campaign]", f);
    if (!c->results[0])
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: no results directory; add 'results = DIR' "
                           "(shared by every node) under [campaign]", f);
    if (!c->nnodes && !c->partition[0])
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: say where to run: 'nodes = a,b' and/or "
                           "'partition = NAME' under [campaign]", f);
    if (!c->nsets)
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: no config set; add a [set NAME] with "
                           "workloads or a suite", f);
    for (unsigned i = 0; i < c->nsets; i++) {
        const struct campaign_set *s = &c->sets[i];
        if (s->suite[0] && s->workloads[0])
            return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: [set %s] names both workloads and a "
                               "suite; keep one", f, s->name);
        if (!s->suite[0] && !s->workloads[0])
            return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: [set %s] runs nothing; add "
                               "'workloads = ...' or 'suite = NAME'", f, s->name);
    }
    if (campaign_ntasks(c) > CAMPAIGN_MAX_TASKS)
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: %u nodes x %u sets is more than %d tasks; "
                           "split the campaign", f, c->nnodes, c->nsets, CAMPAIGN_MAX_TASKS);
    return 0;
}

int campaign_load(const char *path, struct campaign *c, struct vmm_err *e)
{
    memset(c, 0, sizeof *c);
    c->reps = 3;
    char *real = realpath(path, NULL);
    if (!real)
        return vmm_err_set(e, VMM_EXIT_CONFIG, "campaign file %s: %s; check the path", path,
                           strerror(errno));
    copy(c->path, sizeof c->path, real);
    free(real);
    char d[PATH_MAX];
    copy(d, sizeof d, c->path);
    copy(c->dir, sizeof c->dir, dirname(d));
    struct parse p = { .c = c };
    if (!(p.f = fopen(c->path, "r")))
        return vmm_err_set(e, VMM_EXIT_CONFIG, "campaign file %s: %s; check the path", path,
                           strerror(errno));
    int rc = ini_parse_stream(read_line, &p, handle, &p);
    fclose(p.f);
    if (rc < 0)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "%s: out of memory parsing", path);
    if (p.err_line)
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: %s", path, p.err_line, p.err);
    if (rc > 0)
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: not a section header or key = value; "
                           "write [campaign], [set NAME] or key = value", path, rc);
    if (!c->tag[0])
        copy(c->tag, sizeof c->tag, c->name);
    if (!c->vmmbench[0]) {
        /* The program that read the file: on a cluster, the shared install. */
        ssize_t n = readlink("/proc/self/exe", c->vmmbench, sizeof c->vmmbench - 1);
        if (n <= 0)
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "cannot find this program's path; give "
                               "'vmmbench = PATH' under [campaign]");
        c->vmmbench[n] = '\0';
    }
    return check(c, e);
}

unsigned campaign_ntasks(const struct campaign *c)
{
    return (c->nnodes ? c->nnodes : 1) * c->nsets;
}

const char *campaign_task_node(const struct campaign *c, unsigned i)
{
    return c->nnodes ? c->nodes[i / c->nsets] : "";
}

const struct campaign_set *campaign_task_set(const struct campaign *c, unsigned i)
{
    return &c->sets[i % c->nsets];
}

void campaign_file(const struct campaign *c, char *buf, size_t cap, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    snprintf(buf, cap, "%s/%s", c->results, name);
}

int campaign_run_argv(const struct campaign *c, unsigned i, struct campaign_argv *a,
                      struct vmm_err *e)
{
    const struct campaign_set *s = campaign_task_set(c, i);
    size_t n = 0, used = 0;
    memset(a, 0, sizeof a->argv);
/* Copies a string into the store and appends it to argv. */
#define ARG(str)                                                                           \
    do {                                                                                   \
        size_t len_ = strlen(str) + 1;                                                     \
        if (n == CAMPAIGN_MAX_ARGS || used + len_ > sizeof a->store)                      \
            return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: [set %s] gives too many workloads " \
                               "for one task; split the set", c->path, s->name);           \
        memcpy(a->store + used, str, len_);                                                \
        a->argv[n++] = a->store + used;                                                    \
        used += len_;                                                                      \
    } while (0)
    char db[PATH_MAX + 64], reps[16];
    campaign_file(c, db, sizeof db, CAMPAIGN_TASK_PARTIAL, i);
    snprintf(reps, sizeof reps, "%u", c->reps);
    ARG(c->vmmbench);
    ARG("run");
    ARG("--db");
    ARG(db);
    ARG("--tag");
    ARG(c->tag);
    ARG("--reps");
    ARG(reps);
    if (c->timeout[0]) {
        ARG("--timeout");
        ARG(c->timeout);
    }
    if (s->configs[0]) {
        ARG("--configs");
        ARG(s->configs);
    }
    if (s->native)
        ARG("--native");
    if (s->suite[0]) {
        ARG("--suite");
        ARG(s->suite);
    } else {
        char buf[sizeof s->workloads], *save = NULL;
        copy(buf, sizeof buf, s->workloads);
        for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
            ARG(t);
    }
#undef ARG
    a->argv[n] = NULL;
    return 0;
}

const char *campaign_exit_meaning(int code)
{
    switch (code) {
    case VMM_EXIT_OK: return "all runs ok";
    case VMM_EXIT_RUNS_FAILED: return "some runs failed (stored with their reason)";
    case VMM_EXIT_USAGE: return "usage error (bad workload or option)";
    case VMM_EXIT_CONFIG: return "config error";
    case VMM_EXIT_NO_KVM: return "no usable /dev/kvm on the node";
    case VMM_EXIT_DATABASE: return "database error";
    case VMM_EXIT_GUEST_IMAGE: return "guest image invalid or missing";
    case VMM_EXIT_RESOURCES: return "memory does not fit the node";
    case VMM_EXIT_INTERNAL: return "internal error";
    default:
        /* proc_run reports a child ended by signal N as 128 + N, as shells do. */
        return code > 128 ? "killed by a signal, 128 + its number (scancel and the time "
                            "limit send SIGTERM, 15)" : "unexpected exit status";
    }
}
