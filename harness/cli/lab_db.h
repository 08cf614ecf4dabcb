/* The database side of `vmmbench lab`: the command in the lab works on a copy of --db
 * (taken with SQLite's online backup, so a database in use copies consistently), and
 * what it leaves is merged back with dbcopy (runs already there are skipped), so rows
 * the host had can never be lost, whatever happens in the lab. */
#ifndef HARNESS_CLI_LAB_DB_H
#define HARNESS_CLI_LAB_DB_H

#include <stddef.h>

#include "vmm/error.h"

/* PATH exists and is a results database, or does not exist and its folder is writable.
 * Errors are VMM_EXIT_DATABASE and name the file and the fix. */
int lab_db_check(const char *path, struct vmm_err *e);
/* Copies an existing PATH to DST (a new file). Nothing to do when PATH does not exist. */
int lab_db_copy_in(const char *path, const char *dst, struct vmm_err *e);
/* Merges the runs of SRC into PATH (created when missing). */
int lab_db_merge_back(const char *path, const char *src, size_t *copied, size_t *skipped,
                      struct vmm_err *e);
/* The number of runs in SRC; -1 when it cannot be read. */
long lab_db_count_runs(const char *src);

#endif
