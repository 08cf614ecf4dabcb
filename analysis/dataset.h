/* Reading the results database for analysis: which runs a user means (a selector),
 * and their non-warm-up samples grouped per (host, config, workload, params, metric,
 * unit), each group described by stats_describe().
 *
 * Selectors (compare A B, check --baseline, export, report --compare):
 *   tag:NAME | config:NAME | run:ID[,ID|ID-ID...] | db:FILE | newest | all
 * or unprefixed: an existing file is a database, digits are run ids, otherwise a tag or
 * a config name of the database (an ambiguous or unknown name is an error that lists
 * the tags and configs there are). "newest" is the newest run set: the runs that share
 * the tag of the newest run (every `vmmbench run` tags its runs, "run-DATE-TIME-PID" when
 * no --tag is given); for an untagged newest run, the untagged runs after the last
 * tagged one. */
#ifndef ANALYSIS_DATASET_H
#define ANALYSIS_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "vmm/error.h"

struct sqlite3;

enum sel_kind { SEL_ALL, SEL_CONFIG, SEL_TAG, SEL_RUNS, SEL_NEWEST };

struct selector {
    enum sel_kind kind;
    char name[256];          /* tag or config name */
    char db_path[4096];      /* the database the runs live in */
    int64_t *ids;            /* SEL_RUNS */
    size_t nids;
    char label[300];         /* how to name it in output: "tag:base", "db:x.db", ... */
};

/* Opens an existing results database read-only, checking it is SQLite and of this
 * schema version. Errors are VMM_EXIT_USAGE (2): for analysis commands a missing, corrupt
 * or foreign database is a data error. */
int adb_open(const char *path, struct sqlite3 **out, struct vmm_err *e);

/* Resolves ARG against the database default_db (used for names and ids). */
int selector_parse(const char *arg, const char *default_db, struct selector *s,
                   struct vmm_err *e);
void selector_free(struct selector *s);
/* The ids of the runs SEL names (in its database), ascending; *ids is malloc'd. */
int selector_run_ids(const struct selector *sel, int64_t **ids, size_t *n, struct vmm_err *e);

#define DS_HOST_FIELDS 48

struct ds_host {
    int64_t id;
    /* field names and values, in hosts-table order (hostname, cpu_model, ...) */
    char *field[DS_HOST_FIELDS], *value[DS_HOST_FIELDS];
    unsigned nfields;
};

struct ds_config {
    int64_t id;
    char *name, *text;
    char *hypervisor, *hypervisor_version; /* "vmm-min" in files older than version 5 */
    unsigned vcpus;
    uint64_t mem_bytes;
};

struct ds_run {
    int64_t id, host_id;
    size_t config;           /* index into configs */
    char *workload, *params, *tag, *status, *reason;
    unsigned rep;
    double started;
};

struct ds_group {
    int64_t host_id;
    size_t config;           /* index into configs */
    char *workload, *params, *metric, *unit;
    double *v;               /* sorted after dataset_load */
    size_t n, cap;
    size_t nruns;            /* runs that contributed */
    double *rmed;            /* each contributing run's median, in run order */
    size_t nrmed;
    double *rv;              /* the samples again, clustered by run: run i holds */
    size_t *roff;            /* rv[roff[i] .. roff[i+1]) (nrmed + 1 offsets) */
    struct stats_desc d;     /* with 3+ runs the CI is the hierarchical one (hier.h) */
};

struct dataset {
    char label[300];
    char db_path[4096];
    struct ds_host *hosts;
    size_t nhosts;
    struct ds_config *configs;
    size_t nconfigs;
    struct ds_run *runs;     /* every selected run, failed ones too, by id */
    size_t nruns;
    struct ds_group *groups; /* ok runs only, sorted by (host, config, workload, params,
                                metric, unit) */
    size_t ngroups;
};

/* Loads the runs SEL names from its database and describes every group. A selector
 * that matches no run is an error (VMM_EXIT_USAGE) naming it. */
int dataset_load(const struct selector *sel, struct dataset *ds, struct vmm_err *e);
/* Loads the two sides of a comparison: when both name the same database it is opened
 * and checked (PRAGMA quick_check reads every page) once, not once per side. */
int dataset_load_pair(const struct selector *a, const struct selector *b, struct dataset *da,
                      struct dataset *db, struct vmm_err *e);
/* The same from an open handle (used by `show`, which opens read-write). */
int dataset_load_db(struct sqlite3 *db, const struct selector *sel, struct dataset *ds,
                    struct vmm_err *e);
void dataset_free(struct dataset *ds);
/* Describes a loaded group (v in run order, roff set): the summary of stats_describe(),
 * with the hierarchical 95% CI (hier.h) when it has 3+ runs, else STATS_FLAG_RUNVAR.
 * Keeps the run-clustered copy in rv. -1 when out of memory. */
int ds_describe_group(struct ds_group *g, uint64_t seed);

/* A config's hypervisor and version; a dataset built by hand (tests, tools) may leave them
 * NULL, which means vmm-min's, as in files older than version 5. */
static inline const char *ds_hv(const struct ds_config *c)
{
    return c->hypervisor ? c->hypervisor : "vmm-min";
}
static inline const char *ds_hv_version(const struct ds_config *c)
{
    return c->hypervisor_version ? c->hypervisor_version : ds_hv(c);
}
/* How many distinct hypervisors the dataset's configs name (1 for files before version 5). */
size_t dataset_hypervisor_count(const struct dataset *ds);
const struct ds_host *dataset_host(const struct dataset *ds, int64_t id);
/* The value of a host field ("kernel", ...), "" when unknown. */
const char *ds_host_field(const struct ds_host *h, const char *field);
/* The value of KEY in an INI text (any section), or def. Into buf. */
const char *ini_value(const char *text, const char *key, const char *def, char *buf,
                      size_t cap);
/* Value of parameter KEY in a canonical "k=v k=v" params text, or NULL; into buf. */
const char *param_value(const char *params, const char *key, char *buf, size_t cap);
/* params without the named keys (and without the batch-shape keys when drop_shape:
 * batches, warmup, iters), into buf. */
void params_without(const char *params, const char *const *keys, size_t nkeys, bool drop_shape,
                    char *buf, size_t cap);

#endif
