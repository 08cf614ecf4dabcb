/* Helpers shared by the analysis subcommands (compare, check, baseline, export, merge,
 * plot, report). */
#ifndef HARNESS_CLI_CMD_COMMON_H
#define HARNESS_CLI_CMD_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "compare.h"
#include "dataset.h"
#include "vmm/error.h"

/* Prints "vmmbench: CMD: MSG; see `vmmbench CMD --help`" and returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a percentage ("2", "2.5", "2%") into a fraction; false when it is not one in
 * (0, 1000). */
bool cli_parse_pct(const char *s, double *frac);
/* --unit auto|run|batch into CMP_UNIT_*; a usage error (2) otherwise. */
int cli_parse_unit(const char *cmd, const char *s, int *unit);
/* Adds VALUE to a filter list (--metric, --workload, --ignore-param); comma lists too. */
int cli_add_filter(const char *cmd, const char *opt, char *value, const char **list,
                   size_t *n);
/* The comparison options compare and check share, by their getopt letters: m --metric,
 * w --workload, i --ignore-param, t --threshold, a --alpha, u --unit. Returns 0 when c
 * was one and is applied, an exit code (2, message printed) when its value is bad, -1
 * when c is not a comparison option. */
int cli_cmp_option(const char *cmd, int c, char *arg, struct cmp_opts *o);
/* A baseline: an existing file, DIR(db)/baselines/NAME.db, or a selector in db. */
int cli_resolve_baseline(const char *arg, const char *db_path, struct selector *s,
                         struct vmm_err *e);
/* Warns on out when alpha is out of reach: with --unit batch the Mann-Whitney p cannot go
 * below 2 / C(na+nb, na); on the run unit, when a side has under 3 runs. */
void cli_warn_alpha(const char *cmd, const struct cmp_result *r, FILE *out);
/* DIR(db)/baselines/NAME.db into buf. */
void cli_baseline_path(const char *db_path, const char *name, char *buf, size_t cap);

#endif
