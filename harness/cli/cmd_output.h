/* What `vmmbench plot` and `vmmbench report` share: the same arguments (SET, --out DIR,
 * --compare A,B, --ignore-param P, --db PATH), the same gnuplot check, and the same data
 * loaded from them. */
#ifndef HARNESS_CLI_CMD_OUTPUT_H
#define HARNESS_CLI_CMD_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "compare.h"
#include "dataset.h"

struct cli_output {
    char dir[4400];                  /* --out, or DEFAULT_SUBDIR next to the database */
    struct selector sel, sa, sb;
    struct dataset ds, da, db;       /* the set; A and B of --compare */
    struct cmp_result cmp;
    bool has_cmp;
};

/* Parses the arguments and loads the data. Returns 0 when ready, -1 after printing --help,
 * or an exit code after printing the problem (usage, data, gnuplot missing). The caller
 * calls cli_output_free() in every case. */
int cli_output_load(const char *cmd, const char *default_subdir, void (*usage)(FILE *),
                    int argc, char **argv, struct cli_output *o);
void cli_output_free(struct cli_output *o);

#endif
