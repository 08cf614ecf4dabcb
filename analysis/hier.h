/* Statistics that respect how benchmark samples are nested: batches within runs. Batches
 * of one run share that run's luck (boot, placement, a busy host), so they are not
 * independent; treating them as such makes intervals far too narrow and p-values far too
 * small. Everything here takes its data clustered by run.
 *
 * Intervals: a two-stage (hierarchical) bootstrap, after Davison & Hinkley (1997,
 * "Bootstrap Methods and their Application", section 3.8) and Saravanan et al. (2020,
 * "Application of the hierarchical bootstrap to multi-level data in neuroscience"): each
 * replicate draws the runs with replacement, then the batches of every drawn run with
 * replacement, and takes the location (median) of the pooled draw. The spread of the
 * replicates is the standard error, and since a normal quantile is far too short for few
 * runs, the interval is estimate +- t(df, 0.975) * SE (a Student-t bootstrap-SE interval;
 * df R-1 for one set, Welch-Satterthwaite for two). No R/(R-1) factor: the bootstrap
 * variance of a median over few runs is inflated by the median's discreteness about as
 * much as resampling R runs shrinks it, and resampling batches a second time counts
 * within-run noise twice; with the factor, 95% intervals covered 98-99% in
 * tests/unit/test_gate_sim.c, without it 95-97% when run-to-run variance dominates (and
 * more, conservatively, when batch noise dominates).
 *
 * Tests: Welch's t on the per-run locations (log scale for ratios), so the run, not the
 * batch, is the unit that carries evidence. */
#ifndef ANALYSIS_HIER_H
#define ANALYSIS_HIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replicates of the hierarchical bootstrap (SE estimation needs far fewer than
 * percentile intervals; 1000 keeps the SE within ~2% of its limit). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* fuzz builds (libFuzzer's convention): the same paths with few replicates, so a fuzzed
 * database costs milliseconds, not the figures' precision */
#define HIER_REPS 40
#else
#define HIER_REPS 1000
#endif
/* Below this many runs on a side, run-to-run variance is unknown (two runs give one
 * degree of freedom: no honest estimate). */
#define HIER_MIN_RUNS 3

/* Samples clustered by run: run i holds v[off[i] .. off[i+1]). */
struct hsample {
    const double *v;
    const size_t *off;     /* nruns + 1 entries, off[0] = 0 */
    size_t nruns;
};

/* The location statistic: the median, or the mean for multimodal data (where the median
 * jumps between modes when their weights shift a little). */
enum hier_loc { HIER_MEDIAN = 0, HIER_MEAN };

/* Location of pooled values (unsorted input is fine; buf is scratch of n doubles). */
double hier_location(const double *v, size_t n, enum hier_loc loc, double *buf);

/* out[k] (reps of them) = location of one two-stage resample of s. Returns -1 on OOM.
 * hier_boot.c draws them without drawing every batch, exactly or, from 64 batches a run,
 * within 1/m of the variance; see there. */
int hier_boot(const struct hsample *s, enum hier_loc loc, unsigned reps, uint64_t seed,
              double *out);

/* 95% interval of one set's location: the Student-t bootstrap-SE interval above, on the
 * log scale when the location and its replicates are positive (so it stays positive and
 * follows a latency's skew). Needs nruns >= HIER_MIN_RUNS (else lo = hi = NaN). */
void hier_location_ci(const struct hsample *s, enum hier_loc loc, uint64_t seed, double *lo,
                      double *hi);

/* Two sets, B against A. On the ratio (log scale) when every value of both is > 0, else
 * on the difference B - A (metrics that can be zero or negative). */
struct hier_cmp {
    bool diff;              /* compared on the difference */
    double loc_a, loc_b;    /* pooled locations */
    double est, lo, hi;     /* ratio B/A (or difference) and its 95% interval */
    double se, df;          /* of the log ratio (or the difference) */
    double t, p;            /* Welch's t on run locations; p two-sided */
    double df_test;         /* the test's Welch-Satterthwaite degrees of freedom */
};

/* Needs both nruns >= 2 (else est only, the rest NaN). reps_out (HIER_REPS values, or
 * NULL) receives the per-replicate log ratios (differences) so callers can combine rows
 * (geometric means); they are centred on the estimate and their sd is se. Returns -1 on
 * OOM. */
int hier_compare(const struct hsample *a, const struct hsample *b, enum hier_loc loc,
                 uint64_t seed, struct hier_cmp *c, double *reps_out);

/* Welch's t test of two samples: t, df and two-sided p; identical constants give p 1,
 * different constants p 0. Needs na, nb >= 2. */
void hier_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
                double *p);

/* Smallest two-sided p Welch's t can give is 0, so any alpha is reachable; this is the
 * smallest Mann-Whitney p for sizes na, nb (2 / C(na+nb, na)), used to warn when alpha is
 * out of reach of the batch-unit test. */
double hier_mw_min_p(size_t na, size_t nb);

/* Sarle's bimodality coefficient (g^2 + 1) / (k + 3(n-1)^2/((n-2)(n-3))); above 5/9
 * suggests two modes. NaN below 4 values. */
double hier_bimodality(const double *v, size_t n);
#define HIER_BIMODAL 0.555

#endif
