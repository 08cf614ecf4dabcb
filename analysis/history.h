/* Metrics across revisions: one series per (host, config, workload, params, metric, unit),
 * one point per run set (a tag, or with --by rev a suite revision), ordered by the time
 * the point first appears. A point is the median of its runs' medians (the run is the unit
 * of evidence, hier.h) with the run-clustered 95% CI of hier_location_ci (3+ runs).
 *
 * Change points: E-Divisive with means (Matteson & James 2014, "A nonparametric approach
 * for multiple change point analysis of multivariate data", JASA 109(505)), the method
 * MongoDB's performance CI uses (Daly et al. 2020, "Change Point Detection in Software
 * Performance Testing", ICPE). Why this one:
 *  - nonparametric: the energy distance compares whole distributions, so skewed or
 *    bimodal benchmark medians need no normality assumption (a CUSUM on means would);
 *  - it finds several changes by divisive (binary) segmentation, and each new change must
 *    pass a permutation test, so the false-alarm rate is set by one number, alpha;
 *  - it is the established choice for exactly this job (MongoDB, Hunter at DataStax).
 * Statistic (alpha = 1 in the paper's notation, i.e. plain distances): for a segment of n
 * points split at tau into X (m points) and Y (k = n - m),
 *     Q(tau) = m k / n * ( 2/(m k) sum|X-Y| - 1/C(m,2) sum|X-X'| - 1/C(k,2) sum|Y-Y'| ),
 * maximised over tau with the segment end fixed (as MongoDB's implementation does; the
 * paper's extra search over the end point costs O(n^2) per segment and only matters when
 * a change is later undone within one segment, which the next divisive step finds
 * anyway). For one-dimensional data every within-set distance sum is updated in O(log n)
 * per added point with Fenwick trees over ranks, so a scan of a segment costs O(n log n)
 * instead of O(n^2): 10,000 run sets and 199 permutations fit in seconds.
 * Significance: after each division, the values inside every current segment are
 * permuted independently (R = 199 times, ecp's default) and the largest Q over all
 * segments is recomputed; p = (1 + #{permuted >= observed}) / (R + 1). The division
 * stands when p <= alpha = 0.05 (ecp's and MongoDB's level); the search stops at the
 * first division that fails. The permutation maxima of a segment do not depend on the
 * other segments, so they are computed once per segment and reused.
 * Minimum segment: 5 points each side. Below that the median of a side moves with one
 * noisy run set, and the permutation test has too few arrangements to reach alpha; above
 * it a regression in the newest revisions is flagged later (5 run sets after it landed).
 * Seeded: the same data always gives the same changes. */
#ifndef ANALYSIS_HISTORY_H
#define ANALYSIS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plot.h"
#include "vmm/error.h"

#define HIST_ALPHA 0.05
#define HIST_PERMS 199
#define HIST_MIN_SEG 5

/* One detected change: the first point of the new segment is at. */
struct ediv_change {
    size_t at;             /* x[at - 1] is the last point before, x[at] the first after */
    double q;              /* the E-Divisive statistic of the division */
    double p;              /* permutation p-value */
};

struct ediv_opts {
    double alpha;          /* HIST_ALPHA */
    unsigned perms;        /* HIST_PERMS */
    size_t min_seg;        /* HIST_MIN_SEG */
    uint64_t seed;
};
void ediv_opts_default(struct ediv_opts *o);

/* E-Divisive means on x[0..n): the accepted changes, sorted by position, into out (cap
 * entries); *nout is their number. Returns -1 when out of memory. */
int ediv_detect(const double *x, size_t n, const struct ediv_opts *o, struct ediv_change *out,
                size_t cap, size_t *nout);

/* The E-Divisive statistic of splitting x[0..n) before every tau in [lo, hi): q[tau - lo].
 * Exposed so tests can hold the O(n log n) scan to the O(n^2) definition. -1 on OOM. */
int ediv_scan(const double *x, size_t n, size_t lo, size_t hi, double *q);

enum hist_order { HIST_BY_TIME, HIST_BY_REV };

struct hist_point {
    char *label;           /* the tag (by time) or the suite revision (by rev) */
    double first;          /* earliest start of its runs (Unix time) */
    double value;          /* median of the run medians */
    double lo, hi;         /* run-clustered 95% CI; NaN with under 3 runs or no CI asked */
    size_t nruns;
};

struct hist_change {
    size_t at;             /* index of the first point after the change */
    double before, after;  /* medians of the point values of the segments around it */
    double size;           /* after / before - 1 */
    double confidence;     /* 1 - permutation p */
};

struct hist_series {
    char *host, *config, *workload, *params, *metric, *unit;
    struct hist_point *pts;
    size_t n;
    struct hist_change *chg;
    size_t nchg;
};

struct history {
    enum hist_order by;
    struct hist_series *s;
    size_t n;
    size_t npoints;        /* distinct run sets (revisions) over all series */
};

struct hist_opts {
    enum hist_order by;
    const char *const *metrics;    /* only these (NULL/0: all) */
    size_t nmetrics;
    const char *const *workloads;
    size_t nworkloads;
    bool ci;               /* compute every point's CI (plots, JSON; costs a bootstrap each) */
    struct ediv_opts ed;
};
void hist_opts_default(struct hist_opts *o);

/* Reads the ok runs' non-warm-up samples of the database at path (read-only), builds the
 * series and detects their changes. A database without matching samples is an error
 * (VMM_EXIT_USAGE) that says what was looked for. */
int history_build(const char *path, const struct hist_opts *o, struct history *h,
                  struct vmm_err *e);
/* Detects the changes of one built series (history_build calls it). -1 on OOM. */
int history_detect(struct hist_series *s, const struct ediv_opts *o);
void history_free(struct history *h);

/* Distinct suite revisions among the ok runs of an open database (-1 on error). */
struct sqlite3;
long history_count_revisions(struct sqlite3 *db);

/* The table of detected changes, and the JSON of every series with its changes. */
void history_print_table(const struct history *h, FILE *out);
void history_print_json(const struct history *h, FILE *out);
/* One plot per series that has 2+ points (up to PLOT_MAX): the series with its CI bars,
 * change points as vertical lines. Family "history". dir must exist. */
int history_plot(const struct history *h, const char *dir, struct plot_set *ps,
                 struct vmm_err *e);

#endif
