/* The results database: one SQLite file, schema created and versioned here.
 *
 * Tables: schema_version, hosts, configs, runs, samples (see db_schema.c).
 * Every run is stored in one transaction: host and config (deduplicated), the run, and
 * all of its samples, or nothing. A sweeping run is one run row per point; its console
 * and placement rows go with the first of them only (see store_points in db.c). WAL mode
 * and a busy timeout let two `vmmbench run` processes share a file. */
#ifndef HARNESS_DB_H
#define HARNESS_DB_H

#include <stdint.h>

#include "config.h"
#include "hostinfo.h"
#include "vmm/error.h"
#include "vmm/result.h"

#define DB_SCHEMA_VERSION 5

struct db;

struct run_spec {
    const char *workload;
    const char *params;       /* canonical "k=v k=v", sorted by key; "" when none */
    unsigned rep;             /* 0-based repetition index */
    const char *tag;          /* run-set tag, NULL for none */
    double started, ended;    /* Unix time, seconds */
};

/* Opens or creates PATH, upgrading a version 1 file in place. Errors (VMM_EXIT_DATABASE):
 * directory missing or unwritable, not a SQLite database, or a schema version this build
 * does not know (the message says which version the file has and what to do). Never
 * modifies a file of an unknown version. */
int db_open(const char *path, struct db **out, struct vmm_err *e);
void db_close(struct db *db);
struct sqlite3 *db_handle(struct db *db);

/* Stores one run, all or nothing. *run_id receives the new run's id. */
int db_store_run(struct db *db, const struct host_info *h, const struct bench_config *c,
                 const struct run_spec *spec, const struct vmm_result *r, int64_t *run_id,
                 struct vmm_err *e);

#endif
