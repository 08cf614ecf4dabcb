/* Helpers shared by the analysis subcommands; see cmd_common.h. */
#include "cmd_common.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "hier.h"

const char *cli_default_db(void)
{
    const char *env = getenv("VMMB_DB");
    return env && *env ? env : CLI_BUILTIN_DB;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    fprintf(stderr, "vmmbench: %s: %s; see `vmmbench %s --help`\n", cmd, what, cmd);
    return VMM_EXIT_USAGE;
}

bool cli_parse_pct(const char *s, double *frac)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "%") != 0) || !(v > 0) || !(v < 1000))
        return false;
    *frac = v / 100;
    return true;
}

int cli_add_filter(const char *cmd, const char *opt, char *value, const char **list, size_t *n)
{
    char *save = NULL;
    for (char *t = strtok_r(value, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == CMP_MAX_FILTER)
            return cli_usage(cmd, "more than %d values for %s", CMP_MAX_FILTER, opt);
        list[(*n)++] = t;
    }
    return 0;
}

void cli_baseline_path(const char *db_path, const char *name, char *buf, size_t cap)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", db_path);
    snprintf(buf, cap, "%s/baselines/%s.db", dirname(copy), name);
}

int cli_resolve_baseline(const char *arg, const char *db_path, struct selector *s,
                         struct vmm_err *e)
{
    struct stat st;
    char path[4400];
    if (stat(arg, &st) == 0 || strncmp(arg, "db:", 3) == 0)
        return selector_parse(arg, db_path, s, e);
    cli_baseline_path(db_path, arg, path, sizeof path);
    if (!strchr(arg, '/') && stat(path, &st) == 0) {
        if (selector_parse(path, db_path, s, e))
            return -1;
        snprintf(s->label, sizeof s->label, "baseline %.60s (%.200s)", arg, path);
        return 0;
    }
    if (stat(db_path, &st) != 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "no baseline '%s': not a file, no %s, and no "
                           "database %s to look for a tag in; make one with `vmmbench baseline "
                           "save %s`", arg, path, db_path, arg);
    struct vmm_err sub = { 0 };
    if (selector_parse(arg, db_path, s, &sub) == 0)
        return 0;
    return vmm_err_set(e, VMM_EXIT_USAGE, "no baseline '%s': not a file, no %s, and %s; make "
                       "one with `vmmbench baseline save %s`", arg, path, sub.msg, arg);
}

int cli_parse_unit(const char *cmd, const char *s, int *unit)
{
    if (strcmp(s, "auto") == 0)
        *unit = CMP_UNIT_AUTO;
    else if (strcmp(s, "run") == 0 || strcmp(s, "runs") == 0)
        *unit = CMP_UNIT_RUN;
    else if (strcmp(s, "batch") == 0 || strcmp(s, "batches") == 0)
        *unit = CMP_UNIT_BATCH;
    else
        return cli_usage(cmd, "--unit %s: say auto, run or batch", s);
    return 0;
}

int cli_cmp_option(const char *cmd, int c, char *arg, struct cmp_opts *o)
{
    char *end;
    switch (c) {
    case 'm': return cli_add_filter(cmd, "--metric", arg, o->metrics, &o->nmetrics);
    case 'w': return cli_add_filter(cmd, "--workload", arg, o->workloads, &o->nworkloads);
    case 'i': return cli_add_filter(cmd, "--ignore-param", arg, o->ignore, &o->nignore);
    case 't':
        if (!cli_parse_pct(arg, &o->band))
            return cli_usage(cmd, "--threshold %s: give a percentage above 0 and below 1000",
                             arg);
        return 0;
    case 'a':
        o->alpha = strtod(arg, &end);
        if (*end || !(o->alpha > 0 && o->alpha < 1))
            return cli_usage(cmd, "--alpha %s: give a probability between 0 and 1", arg);
        return 0;
    case 'u': return cli_parse_unit(cmd, arg, &o->unit);
    default: return -1;
    }
}

void cli_warn_alpha(const char *cmd, const struct cmp_result *r, FILE *out)
{
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        if (x->by_run || x->da.n == 0 || x->db.n == 0)
            continue;
        double minp = hier_mw_min_p(x->da.n, x->db.n);
        if (minp >= r->alpha) {
            char name[600];
            compare_row_name(r, x, name, sizeof name);
            fprintf(out, "warning: %s: --alpha %g is below the smallest p-value %zu vs %zu "
                    "batches can give (%.3g): %s can never get a verdict; raise --alpha or "
                    "measure more\n", cmd, r->alpha, x->da.n, x->db.n, minp, name);
        }
    }
}
