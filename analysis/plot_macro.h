/* The macro overhead chart (plot family "macro"): see plot_macro.c. */
#ifndef ANALYSIS_PLOT_MACRO_H
#define ANALYSIS_PLOT_MACRO_H

#include "dataset.h"
#include "plot.h"

/* Draws macro-overhead.{png,svg} when the dataset holds a config and its native twin for
 * some macro workload; otherwise adds a note to ps. */
int plot_macro(const struct dataset *ds, const char *dir, struct plot_set *ps,
               struct vmm_err *e);

#endif
