/* CSV and JSON of what `show` and the report display: summaries per group, or the raw
 * samples of a dataset's runs. CSV quoting per RFC 4180. */
#ifndef ANALYSIS_EXPORT_H
#define ANALYSIS_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "dataset.h"

void export_summary(const struct dataset *ds, bool json, FILE *out);
int export_samples(const struct dataset *ds, const char *db_path, bool json, FILE *out,
                   struct vmm_err *e);
/* A CSV field, quoted when it needs to be. */
void export_csv_field(FILE *out, const char *s);

#endif
