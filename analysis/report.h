/* `vmmbench report`: a static HTML report in one directory: index.html (inline CSS, no
 * network fetches), plots/ (PNG, SVG and their gnuplot scripts), and the CSV/JSON of
 * every table shown. Sections: host summary and topology, configs, each workload's
 * table and plots, the comparison with verdicts, flagged noisy results, failed runs.
 * A small inline script marks images that failed to load (data-broken) and counts them
 * on <body data-images=N data-broken-images=M>, so a headless browser can check. */
#ifndef ANALYSIS_REPORT_H
#define ANALYSIS_REPORT_H

#include "compare.h"
#include "dataset.h"

int report_write(const struct dataset *ds, const struct cmp_result *cmp, const char *dir,
                 struct vmm_err *e);

#endif
