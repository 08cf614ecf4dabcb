/* Comparing two sets of runs (A, the base, and B, the candidate): for every (config when
 * both sides span several, workload, parameters, metric) present in both, the medians,
 * the ratio B/A with its bootstrap 95% CI, the Mann-Whitney p, and a verdict: a change
 * needs p < alpha (0.01) and a CI wholly outside the noise band (default +-2%). A
 * geometric-mean row per workload combines its non-diagnostic rows (the CI from the
 * per-replicate geometric means). Differences between the hosts of A and B (kernel, KVM
 * flavour, suite revision, ...) are reported so the output can warn about them, and so
 * are the hypervisors of each side (vmm-min, QEMU and its version) when they differ: B/A
 * is then one VMM over the other. */
#ifndef ANALYSIS_COMPARE_H
#define ANALYSIS_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "dataset.h"
#include "stats.h"

#define CMP_MAX_FILTER 32

struct cmp_opts {
    double band;                          /* 0.02 = +-2% */
    double alpha;                         /* 0.01 */
    const char *metrics[CMP_MAX_FILTER];  /* only these metrics (none: all) */
    size_t nmetrics;
    const char *workloads[CMP_MAX_FILTER];
    size_t nworkloads;
    const char *ignore[CMP_MAX_FILTER];   /* parameters left out of the key */
    size_t nignore;
    bool skip_diagnostic;                 /* leave timing_floor & co. out (check) */
    int unit;                             /* CMP_UNIT_* */
};

/* The unit of analysis. Batches within one run are not independent of each other (a
 * busy host slows a whole run), so by default (auto, or run) the run is the unit: the CI
 * is the hierarchical bootstrap one and p is Welch's t on the run medians (hier.h). With
 * under 3 runs a side auto gives no verdict (run-to-run variance unknown). batch treats
 * batches as independent (Mann-Whitney on batches), only as good as the host is quiet. */
enum { CMP_UNIT_AUTO = 0, CMP_UNIT_BATCH, CMP_UNIT_RUN };

void cmp_opts_default(struct cmp_opts *o);

struct cmp_row {
    char *config;                         /* "" when configs are not part of the key */
    char *workload, *params, *metric, *unit;
    double *a, *b;                        /* merged, sorted */
    struct stats_desc da, db;
    double ratio, lo, hi, u, p;           /* ratio is B - A when diff */
    double se, df;                        /* of log B/A (or B - A); df of the interval */
    double mean_ratio;                    /* mean(B) / mean(A): the mean shift, reported */
    double *reps;                         /* HIER_REPS centred replicates of log B/A */
    size_t runs_a, runs_b;
    bool diff;                            /* values can be <= 0: compared on B - A */
    bool multimodal;                      /* bimodal and medians disagree with means:
                                             compared on means */
    enum stats_verdict verdict;
    const char *why_na;                   /* for VERDICT_NA */
    bool higher_is_better, diagnostic;
    bool by_run;                          /* the run is the unit (else the batch); a, b
                                             always hold the pooled batches */
};

struct cmp_geo {
    char *workload;
    size_t nrows;
    double gm, lo, hi, p;                 /* p: t on the combined log ratios */
    enum stats_verdict verdict;           /* p < alpha and the CI outside the band */
};

struct cmp_result {
    char label_a[300], label_b[300];
    bool with_config;
    struct cmp_row *rows;
    size_t nrows;
    struct cmp_geo *geo;
    size_t ngeo;
    char **only_a, **only_b;              /* "workload params metric" keys on one side only */
    size_t nonly_a, nonly_b;
    char host_diff[2048];                 /* "kernel (A: x; B: y), ..." or "" */
    char hv_a[600], hv_b[600];            /* each side's hypervisors with their versions:
                                             "vmm-min", "qemu-microvm (QEMU emulator ...)" */
    double band, alpha;
};

/* Errors (VMM_EXIT_USAGE): no (workload, params, metric) in common, naming what each
 * side has. */
int compare_datasets(const struct dataset *a, const struct dataset *b, const struct cmp_opts *o,
                     struct cmp_result *r, struct vmm_err *e);
void compare_free(struct cmp_result *r);

void compare_print_table(const struct cmp_result *r, FILE *out);
void compare_print_json(const struct cmp_result *r, FILE *out);
void compare_print_markdown(const struct cmp_result *r, const char *title, FILE *out);
/* "workload params metric" of a row (config first when it is part of the key). */
void compare_row_name(const struct cmp_result *r, const struct cmp_row *row, char *buf,
                      size_t cap);

/* Writes s as a Markdown table cell: a pipe would end the cell, a newline the row. */
void compare_md_cell(FILE *out, const char *s);

#endif
