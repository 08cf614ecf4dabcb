/* hier_boot against the batch-by-batch two-stage bootstrap it replaces (reference_boot
 * below: draw R runs, then every batch of each drawn run, one uniform draw at a time).
 * Both the exact descent (runs of under 64 batches) and the mixture draw (64 or more) must
 * give replicate medians of the same centre and spread, on data where run-to-run
 * variance dominates (a method that loses stage 1 shrinks the spread several times),
 * where runs are alike (one that loses stage 2 shrinks it by ~sqrt 2), and with one
 * batch a run; and the mean, exact and normal. 4000 replicates a side: the SD ratio is
 * held to 0.88..1.12, over 5 of its own standard errors (~2.2%). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "hier.h"

#define REPS 4000

static double median_of(double *v, size_t n)
{
    return gsl_stats_median(v, 1, n);
}

/* The definition: replicate = median of the pooled batch-by-batch two-stage draw. */
static void reference_boot(const struct hsample *s, enum hier_loc loc, unsigned reps, uint64_t seed,
                           double *out)
{
    size_t n = s->off[s->nruns];
    double *pool = malloc(n * s->nruns * sizeof *pool);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, (unsigned long)seed + 1);
    for (unsigned k = 0; k < reps; k++) {
        size_t np = 0;
        for (size_t i = 0; i < s->nruns; i++) {
            size_t r = gsl_rng_uniform_int(g, s->nruns);
            size_t b = s->off[r], m = s->off[r + 1] - b;
            for (size_t j = 0; j < m; j++)
                pool[np++] = s->v[b + gsl_rng_uniform_int(g, m)];
        }
        if (!np)
            out[k] = NAN;    /* only empty runs drawn */
        else
            out[k] = loc == HIER_MEAN ? gsl_stats_mean(pool, 1, np) : median_of(pool, np);
    }
    gsl_rng_free(g);
    free(pool);
}

struct shape {
    size_t runs, batches;
    double run_sd, batch_sd;    /* run levels and batches within a run, around 1000 */
    bool integers;              /* ties, as nanosecond counts have */
};

static void check_shape_loc(const struct shape *sh, enum hier_loc loc, const char *what)
{
    size_t n = sh->runs * sh->batches;
    double *v = malloc(n * sizeof *v);
    size_t *off = malloc((sh->runs + 1) * sizeof *off);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 12345);
    for (size_t r = 0; r < sh->runs; r++) {
        off[r] = r * sh->batches;
        double level = 1000 + gsl_ran_gaussian(g, sh->run_sd);
        for (size_t b = 0; b < sh->batches; b++) {
            double x = level + gsl_ran_gaussian(g, sh->batch_sd);
            v[r * sh->batches + b] = sh->integers ? round(x) : x;
        }
    }
    off[sh->runs] = n;
    struct hsample s = { v, off, sh->runs };
    double *got = malloc(REPS * sizeof *got), *want = malloc(REPS * sizeof *want);
    assert_int_equal(hier_boot(&s, loc, REPS, 99, got), 0);
    reference_boot(&s, loc, REPS, 99, want);
    double sd_got = gsl_stats_sd(got, 1, REPS), sd_want = gsl_stats_sd(want, 1, REPS);
    double c_got = gsl_stats_mean(got, 1, REPS), c_want = gsl_stats_mean(want, 1, REPS);
    double ratio = sd_got / sd_want;
    print_message("# %s: replicate SD %.4g (reference %.4g, ratio %.3f), centre %.6g (%.6g)\n",
                  what, sd_got, sd_want, ratio, c_got, c_want);
    if (!(ratio > 0.88 && ratio < 1.12))
        fail_msg("%s: replicate SD %g against the batch-by-batch bootstrap's %g", what, sd_got,
                 sd_want);
    /* the centres agree within a fraction of the spread */
    if (!(fabs(c_got - c_want) < 0.15 * sd_want + 1e-9))
        fail_msg("%s: replicate centre %g against %g", what, c_got, c_want);
    gsl_rng_free(g);
    free(v);
    free(off);
    free(got);
    free(want);
}

static void check_shape(const struct shape *sh, const char *what)
{
    check_shape_loc(sh, HIER_MEDIAN, what);
}

static void test_exact_runs_dominate(void **state)
{
    (void)state;
    check_shape(&(struct shape){ 8, 20, 40, 5, false }, "exact, run-to-run variance");
}

static void test_exact_runs_alike(void **state)
{
    (void)state;
    check_shape(&(struct shape){ 6, 40, 0, 30, true }, "exact, runs alike, integers");
}

static void test_exact_one_batch_a_run(void **state)
{
    (void)state;
    check_shape(&(struct shape){ 15, 1, 30, 0, false }, "exact, one batch a run");
}

static void test_mixture_runs_dominate(void **state)
{
    (void)state;
    check_shape(&(struct shape){ 10, 200, 40, 5, false }, "mixture, run-to-run variance");
}

static void test_mixture_runs_alike(void **state)
{
    (void)state;
    check_shape(&(struct shape){ 5, 300, 0, 30, false }, "mixture, runs alike");
}

static void test_mixture_mixed_integers(void **state)
{
    (void)state;
    check_shape(&(struct shape){ 12, 64, 10, 10, true }, "mixture, both, integers");
}

/* The mean (for multimodal rows): exact sums of few draws, the normal sum of many. */
static void test_mean_small_and_large_runs(void **state)
{
    (void)state;
    check_shape_loc(&(struct shape){ 8, 20, 40, 5, false }, HIER_MEAN, "mean, 20 batches a run");
    check_shape_loc(&(struct shape){ 6, 300, 10, 30, false }, HIER_MEAN, "mean, 300 batches a run");
}

/* No runs, or runs without values: no location, and no failure. */
static void test_nothing_to_draw(void **state)
{
    (void)state;
    const size_t off0[] = { 0 }, off3[] = { 0, 0, 0, 0 };
    double out[8];
    struct hsample none = { NULL, off0, 0 }, empty = { NULL, off3, 3 };
    assert_int_equal(hier_boot(&none, HIER_MEDIAN, 8, 1, out), 0);
    for (int k = 0; k < 8; k++)
        assert_true(isnan(out[k]));
    assert_int_equal(hier_boot(&empty, HIER_MEDIAN, 8, 1, out), 0);
    assert_int_equal(hier_boot(&empty, HIER_MEAN, 8, 1, out), 0);
    for (int k = 0; k < 8; k++)
        assert_true(isnan(out[k]));
}

/* SD of the replicates that drew any batch. */
static double sd_drawn(const double *x, size_t n, size_t *nan)
{
    double *y = malloc(n * sizeof *y);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            y[m++] = x[i];
    *nan = n - m;
    double sd = gsl_stats_sd(y, 1, m);
    free(y);
    return sd;
}

/* Runs of unequal size, one of them empty: both methods skip it and count the rest; a
 * replicate that drew only the empty run has no median (NaN, 1 in 4^4). */
static void test_uneven_runs(void **state)
{
    (void)state;
    double v[300];
    size_t off[] = { 0, 100, 100, 230, 300 };
    for (size_t i = 0; i < 300; i++)
        v[i] = i < 100 ? 10 + (double)(i % 7) : i < 230 ? 20 + (double)(i % 5) : 30;
    struct hsample s = { v, off, 4 };
    double *got = malloc(REPS * sizeof *got), *want = malloc(REPS * sizeof *want);
    assert_int_equal(hier_boot(&s, HIER_MEDIAN, REPS, 5, got), 0);
    reference_boot(&s, HIER_MEDIAN, REPS, 5, want);
    size_t nan_got, nan_want;
    double sd_got = sd_drawn(got, REPS, &nan_got), sd_want = sd_drawn(want, REPS, &nan_want);
    for (unsigned k = 0; k < REPS; k++)
        assert_true(isnan(got[k]) || (got[k] >= 10 && got[k] <= 30));
    if (nan_got > 40 || nan_want > 40)    /* 15.6 expected of 4000 */
        fail_msg("%zu and %zu replicates without a median", nan_got, nan_want);
    if (!(sd_got / sd_want > 0.85 && sd_got / sd_want < 1.15))
        fail_msg("uneven runs: replicate SD %g against %g", sd_got, sd_want);
    free(got);
    free(want);
}

/* Mixture path, even pooled totals: runs of 64 batches, half 1 and half 2. The pooled
 * median is 1.5 whenever the two middle draws straddle, about 1 replicate in 20 for 256
 * draws; the reference says how often. */
static void test_mixture_even_median(void **state)
{
    (void)state;
    double v[4 * 64];
    size_t off[] = { 0, 64, 128, 192, 256 };
    for (size_t i = 0; i < 256; i++)
        v[i] = 1 + (double)(i % 2);
    struct hsample s = { v, off, 4 };
    double *got = malloc(REPS * sizeof *got), *want = malloc(REPS * sizeof *want);
    assert_int_equal(hier_boot(&s, HIER_MEDIAN, REPS, 3, got), 0);
    reference_boot(&s, HIER_MEDIAN, REPS, 3, want);
    unsigned half_got = 0, half_want = 0;
    for (unsigned k = 0; k < REPS; k++) {
        half_got += got[k] == 1.5;
        half_want += want[k] == 1.5;
    }
    print_message("# mixture, even totals: %u of %u medians are 1.5 (reference %u)\n",
                  half_got, REPS, half_want);
    if (!(half_got > half_want / 2 && half_got < half_want * 2))
        fail_msg("%u medians of 1.5, the batch-by-batch bootstrap %u", half_got, half_want);
    free(got);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_runs_dominate),
        cmocka_unit_test(test_exact_runs_alike),
        cmocka_unit_test(test_exact_one_batch_a_run),
        cmocka_unit_test(test_mixture_runs_dominate),
        cmocka_unit_test(test_mixture_runs_alike),
        cmocka_unit_test(test_mixture_mixed_integers),
        cmocka_unit_test(test_uneven_runs),
        cmocka_unit_test(test_mixture_even_median),
        cmocka_unit_test(test_mean_small_and_large_runs),
        cmocka_unit_test(test_nothing_to_draw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
