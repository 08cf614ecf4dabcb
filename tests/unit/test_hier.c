/* The run-clustered statistics of analysis/hier.c on inputs whose answers are known:
 *   - Welch's t, df and two-sided p against a worked example (t 2, df 8, p 0.0805) and
 *     the constant cases (equal: p 1; different: p 0, t infinite);
 *   - the two-stage bootstrap's median of an even-sized resample is the mean of the two
 *     middle values (half-integers appear), its mean is the pooled mean;
 *   - the interval of one set holds run-to-run variance (runs at 100..140, each constant
 *     within: a batch-only interval would be a point) and needs 3 runs;
 *   - hier_compare's estimate is B/A (or B - A when a value is <= 0);
 *   - values whose spread overflows a double (a fuzzed database's) give no interval and
 *     no test, and a variance whose square overflows still gives a test: never an abort
 *     in GSL's t distribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "hier.h"

static void test_welch_known(void **state)
{
    (void)state;
    /* means 3 and 5, variances 2.5 each: se = sqrt(0.5 + 0.5) = 1, t = 2, df = 8;
     * two-sided p for t 2 on 8 df is 0.0805 (t tables) */
    const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 3, 4, 5, 6, 7 };
    double t, df, p;
    hier_welch(a, 5, b, 5, &t, &df, &p);
    assert_true(fabs(t - 2) < 1e-12);
    assert_true(fabs(df - 8) < 1e-9);
    if (fabs(p - 0.0805) > 5e-4)
        fail_msg("p %g, want 0.0805 (two-sided)", p);
    hier_welch(b, 5, a, 5, &t, &df, &p);
    assert_true(fabs(t + 2) < 1e-12);
    assert_true(fabs(p - 0.0805) < 5e-4);
    /* constants: different with certainty, or equal */
    const double c5[] = { 5, 5, 5 }, c7[] = { 7, 7, 7 };
    hier_welch(c5, 3, c7, 3, &t, &df, &p);
    assert_true(p == 0);
    assert_true(isinf(t) && t > 0);
    hier_welch(c5, 3, c5, 3, &t, &df, &p);
    assert_true(p == 1);
    assert_true(t == 0);
    /* under 2 values a side: no test */
    hier_welch(c5, 1, c7, 3, &t, &df, &p);
    assert_true(isnan(p));
}

/* Four runs of one batch, 1..4: each replicate draws four of them, so its median is the
 * mean of the 2nd and 3rd smallest draws: x.5 whenever they differ by an odd amount. */
static void test_boot_even_median_and_mean(void **state)
{
    (void)state;
    const double v[] = { 1, 2, 3, 4 };
    const size_t off[] = { 0, 1, 2, 3, 4 };
    struct hsample s = { v, off, 4 };
    double out[HIER_REPS];
    assert_int_equal(hier_boot(&s, HIER_MEDIAN, HIER_REPS, 7, out), 0);
    unsigned halves = 0;
    for (unsigned k = 0; k < HIER_REPS; k++) {
        assert_true(out[k] >= 1 && out[k] <= 4);
        assert_true(out[k] * 2 == floor(out[k] * 2));    /* a middle value or two */
        halves += out[k] != floor(out[k]);
    }
    if (halves < HIER_REPS / 10)
        fail_msg("%u of %u replicate medians are x.5: the even median is not the mean of "
                 "the two middle values", halves, HIER_REPS);
    assert_int_equal(hier_boot(&s, HIER_MEAN, HIER_REPS, 7, out), 0);
    unsigned quarters = 0;
    for (unsigned k = 0; k < HIER_REPS; k++) {
        assert_true(out[k] * 4 == floor(out[k] * 4));    /* a sum of four draws over 4 */
        quarters += out[k] * 2 != floor(out[k] * 2);
    }
    assert_true(quarters > 0);
}

/* Five runs at 100, 110, ..., 140, every batch of a run equal to its level: all the spread
 * is between runs, so the interval of the median must be wide (a bootstrap that kept one
 * run, or only resampled batches, gives a point). */
static void test_ci_holds_run_to_run_variance(void **state)
{
    (void)state;
    double v[5 * 20];
    size_t off[6];
    for (size_t r = 0; r < 5; r++) {
        off[r] = r * 20;
        for (size_t b = 0; b < 20; b++)
            v[r * 20 + b] = 100 + 10 * (double)r;
    }
    off[5] = 100;
    struct hsample s = { v, off, 5 };
    double lo, hi;
    hier_location_ci(&s, HIER_MEDIAN, 42, &lo, &hi);
    if (!(lo < 115 && hi > 125 && lo > 70 && hi < 200))
        fail_msg("interval [%g, %g] of runs at 100..140 (median 120)", lo, hi);
    /* two runs: run-to-run variance unknown, no interval */
    s.nruns = 2;
    hier_location_ci(&s, HIER_MEDIAN, 42, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    s.nruns = 3;
    hier_location_ci(&s, HIER_MEDIAN, 42, &lo, &hi);
    assert_true(isfinite(lo) && isfinite(hi) && lo < 110 && hi > 110);
}

static void test_compare_ratio_and_difference(void **state)
{
    (void)state;
    /* A: runs at 100, 101, 102; B the same times 1.5 */
    double a[15], b[15];
    size_t off[4] = { 0, 5, 10, 15 };
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 5; k++) {
            a[r * 5 + k] = 100 + r + 0.01 * k;
            b[r * 5 + k] = 1.5 * a[r * 5 + k];
        }
    struct hsample ha = { a, off, 3 }, hb = { b, off, 3 };
    struct hier_cmp c;
    assert_int_equal(hier_compare(&ha, &hb, HIER_MEDIAN, 1, &c, NULL), 0);
    assert_false(c.diff);
    if (fabs(c.est - 1.5) > 1e-9)
        fail_msg("B/A estimated as %g, want 1.5", c.est);
    assert_true(c.lo < 1.5 && c.hi > 1.5 && c.lo > 1.3 && c.hi < 1.7);
    assert_true(c.p < 0.01);
    /* a zero among A's values: compared on B - A */
    a[0] = 0;
    assert_int_equal(hier_compare(&ha, &hb, HIER_MEDIAN, 1, &c, NULL), 0);
    assert_true(c.diff);
    assert_true(fabs(c.est - (c.loc_b - c.loc_a)) < 1e-9);
    assert_true(c.est > 40 && c.est < 60);
}

/* A run at 1e308 among runs at 1.61: replicates that draw it twice have medians near
 * 1e308, so their variance is infinite. The fuzzer's database that found it: compare
 * aborted in gsl_cdf_tdist_Pinv (tests/fuzz/corpus/db/crash-gsl-abort-infinite-variance). */
static void test_compare_overflowing_spread(void **state)
{
    (void)state;
    double a[15], b[15];
    size_t off[4] = { 0, 5, 10, 15 };
    for (int k = 0; k < 15; k++)
        a[k] = b[k] = k >= 10 ? 1e308 : 1.61;
    a[0] = 0;    /* a value <= 0: compared on B - A */
    struct hsample ha = { a, off, 3 }, hb = { b, off, 3 };
    struct hier_cmp c;
    assert_int_equal(hier_compare(&ha, &hb, HIER_MEDIAN, 1, &c, NULL), 0);
    assert_true(c.diff);
    assert_true(isinf(c.se));
    assert_true(isnan(c.lo) && isnan(c.hi));
    /* the run locations' variance overflows too: no Welch test */
    double t, df, p;
    const double la[] = { 1.61, 1.61, 1e308 }, lb[] = { 1.61, -1e308, 1e308 };
    hier_welch(la, 3, lb, 3, &t, &df, &p);
    assert_true(isnan(t) && isnan(df) && isnan(p));
    /* a finite variance whose square overflows (runs 1e100 apart): the degrees of freedom
     * must still come out between min(na, nb) - 1 and na + nb - 2, not inf/inf (the second
     * fuzzed database: compare aborted in gsl_cdf_tdist_Q) */
    const double wa[] = { 0, 1e100, 2e100 }, wb[] = { 5e100, 6e100, 8e100, 9e100 };
    hier_welch(wa, 3, wb, 4, &t, &df, &p);
    if (!(df >= 2 && df <= 5 && t > 0 && p >= 0 && p <= 1))
        fail_msg("t %g, df %g, p %g for variances near 1e200", t, df, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welch_known),
        cmocka_unit_test(test_boot_even_median_and_mean),
        cmocka_unit_test(test_ci_holds_run_to_run_variance),
        cmocka_unit_test(test_compare_ratio_and_difference),
        cmocka_unit_test(test_compare_overflowing_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
