/* Statistics on raw samples: order statistics, a descriptive summary with a bootstrap
 * confidence interval of the median, the Mann-Whitney U test, the ratio of two medians
 * with its bootstrap CI, and the verdict rule that turns those into faster/slower/no
 * change. Random numbers and beta variates come from GSL (seeded, so every figure is
 * reproducible); everything here is pure computation, no I/O. */
#ifndef ANALYSIS_STATS_H
#define ANALYSIS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sorts v in place. */
void stats_sort(double *v, size_t n);
/* Quantile q in [0,1] of sorted v by linear interpolation between closest ranks
 * (type 7, as R and NumPy default). n must be > 0. */
double stats_quantile_sorted(const double *v, size_t n, double q);

/* Bootstrap replicates used for every CI unless a caller asks otherwise. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* fuzz builds (libFuzzer's convention): the same paths with few replicates, so a fuzzed
 * database costs milliseconds, not the figures' precision */
#define STATS_BOOT_REPS 40
#else
#define STATS_BOOT_REPS 2000
#endif
/* A result is flagged when its relative CI half-width (half the width of the median's 95%
 * CI over |median|) exceeds these, and "too few" below STATS_MIN_N samples: such a result
 * is shown, but not compared (compare says n/a, check refuses it). */
#define STATS_NOISY_REL 0.035
#define STATS_UNSTABLE_REL 0.10
#define STATS_MIN_N 6

enum {
    STATS_FLAG_FEW = 1,       /* n < STATS_MIN_N */
    STATS_FLAG_NOISY = 2,     /* rel_ci > STATS_NOISY_REL */
    STATS_FLAG_UNSTABLE = 4,  /* rel_ci > STATS_UNSTABLE_REL (NOISY is then set too) */
    STATS_FLAG_RUNVAR = 8,    /* under 3 runs: the CI holds batch noise only, run-to-run
                                 variance is unknown */
};

struct stats_desc {
    size_t n;
    double median, ci_lo, ci_hi;   /* 95% percentile-bootstrap CI of the median */
    double mean, sd;               /* sd: sample standard deviation (n-1), 0 for n = 1 */
    double p5, p95, p99, min, max; /* type-7 quantiles */
    double rel_ci;                 /* (ci_hi - ci_lo) / 2 / |median|; inf for median 0 */
    unsigned flags;                /* STATS_FLAG_* */
};

/* Sorts v in place and describes it. seed makes the bootstrap reproducible (callers
 * derive it from the group's key). n = 0 gives n = 0 and NaNs. */
void stats_describe(double *v, size_t n, uint64_t seed, struct stats_desc *d);
/* stats_describe in two steps, for a caller with an interval of its own (a run-clustered
 * one): everything but the interval (ci_lo, ci_hi, rel_ci NaN), then the interval with
 * the noisy/unstable flags it implies. */
void stats_describe_values(double *v, size_t n, struct stats_desc *d);
void stats_describe_set_ci(struct stats_desc *d, double lo, double hi);
/* "few", "unstable", "noisy" or "" for a flags word. */
const char *stats_flag_text(unsigned flags);

/* A seeded random source for the bootstrap (a GSL generator underneath). */
struct stats_rng;
struct stats_rng *stats_rng_new(uint64_t seed);
void stats_rng_free(struct stats_rng *r);
/* One bootstrap replicate of the median of sorted v (n > 0): the median of n draws with
 * replacement. Drawn in O(1) from the order statistics of uniforms (the k-th smallest of
 * n uniforms is Beta(k, n-k+1)), which has exactly the distribution of resampling. */
double stats_boot_median(const double *sorted, size_t n, struct stats_rng *r);
/* Percentile-bootstrap CI at level (0.95) of the median of sorted v, reps replicates. */
void stats_median_ci(const double *sorted, size_t n, unsigned reps, double level,
                     uint64_t seed, double *lo, double *hi);

/* Mann-Whitney U of a against b (both sorted): u = U of a (pairs a > b count 1, ties
 * 1/2), two-sided p. Exact distribution when there are no ties and n_a + n_b <= 60,
 * otherwise the normal approximation with tie and continuity correction. */
void stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u,
                        double *p);

/* Ratio median(b) / median(a) with a percentile-bootstrap CI from reps independent
 * replicates of each median. When reps_out is given it receives the replicate ratios
 * (reps of them, unsorted, in replicate order) so callers can combine replicates across
 * rows (geometric means). Ratio and CI are NaN when a median (or a replicate) is <= 0. */
void stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, unsigned reps,
                    uint64_t seed, double *ratio, double *lo, double *hi, double *reps_out);

enum stats_verdict { VERDICT_NO_CHANGE = 0, VERDICT_FASTER, VERDICT_SLOWER, VERDICT_NA };
/* A change needs both p < alpha and a CI lying wholly outside [1 - band, 1 + band]
 * (touching the band edge is inside). higher_is_better flips what a ratio above 1
 * means (throughput) . NaN ratio bounds or p give VERDICT_NA. */
enum stats_verdict stats_verdict(double lo, double hi, double p, double band, double alpha,
                                 bool higher_is_better);
const char *stats_verdict_name(enum stats_verdict v);

/* 64-bit FNV-1a of a string, folded into h: deterministic seeds from group keys. */
uint64_t stats_hash(uint64_t h, const char *s);
#define STATS_HASH_INIT 0xcbf29ce484222325ULL

#endif
