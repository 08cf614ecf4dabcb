/* Copying runs between results databases (merge, baseline save): hosts and configs are
 * deduplicated by their natural keys (host fingerprint; config name, vCPUs, memory and
 * text), runs by (host, config, workload, params, rep, tag, start time), so merging the
 * same file twice adds nothing. Everything happens in one transaction on the
 * destination: all or nothing. */
#ifndef ANALYSIS_DBCOPY_H
#define ANALYSIS_DBCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/error.h"

struct sqlite3;

/* ids == NULL: every run of src_path. tag != NULL: the copies carry that tag. */
int dbcopy_runs(struct sqlite3 *dst, const char *src_path, const int64_t *ids, size_t nids,
                const char *tag, size_t *copied, size_t *skipped, struct vmm_err *e);

#endif
