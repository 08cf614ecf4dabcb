/* The inferential statistics against values computed independently: a fixed sample set
 * with known mean/sd/quantiles, Mann-Whitney U and p from published examples, brute-force
 * enumeration and the textbook normal approximation; the fast bootstrap of the median
 * against the exact binomial law of the resampled median and against naive resampling;
 * CI coverage of a known median over many seeded trials; the verdict at the band edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static void near(double got, double want, double eps)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("got %.17g, want %.17g (+-%g)", got, want, eps);
}

/* 1..20 in a scrambled order: mean 10.5, sd sqrt(35), median 10.5,
 * p5 h=0.95 -> 1.95, p95 h=18.05 -> 19.05, p99 h=18.81 -> 19.81. */
static void test_describe_fixed_set(void **state)
{
    (void)state;
    double v[20];
    for (int i = 0; i < 20; i++)
        v[i] = (double)((i * 7) % 20 + 1);
    struct stats_desc d;
    stats_describe(v, 20, 1, &d);
    assert_int_equal(d.n, 20);
    near(d.median, 10.5, 1e-12);
    near(d.mean, 10.5, 1e-12);
    near(d.sd, sqrt(35.0), 1e-12);
    near(d.p5, 1.95, 1e-12);
    near(d.p95, 19.05, 1e-12);
    near(d.p99, 19.81, 1e-12);
    near(d.min, 1, 0);
    near(d.max, 20, 0);
    assert_true(d.ci_lo <= d.median && d.median <= d.ci_hi);
    assert_true(d.ci_lo >= 1 && d.ci_hi <= 20 && d.ci_hi > d.ci_lo);
    near(d.rel_ci, (d.ci_hi - d.ci_lo) / 2 / 10.5, 1e-12);
    /* Same seed, same CI: results are reproducible. */
    struct stats_desc d2;
    stats_describe(v, 20, 1, &d2);
    near(d2.ci_lo, d.ci_lo, 0);
    near(d2.ci_hi, d.ci_hi, 0);
}

static void test_flags(void **state)
{
    (void)state;
    double v[40];
    struct stats_desc d;
    for (int i = 0; i < 40; i++)
        v[i] = 100 + (i % 5) * 0.01;          /* spread 0.04%: clean */
    stats_describe(v, 40, 3, &d);
    assert_int_equal(d.flags, 0);
    assert_string_equal(stats_flag_text(d.flags), "");
    for (int i = 0; i < 40; i++)
        v[i] = 50 + (i * 37 % 40) * 2.5;       /* 50..147.5: CI half-width >> 10% */
    stats_describe(v, 40, 3, &d);
    assert_true(d.flags & STATS_FLAG_UNSTABLE);
    assert_string_equal(stats_flag_text(d.flags), "unstable");
    for (int i = 0; i < 40; i++)
        v[i] = 100 + (i * 37 % 40) * 0.9;      /* 100..135.1: between 3.5% and 10% */
    stats_describe(v, 40, 3, &d);
    print_message("rel_ci %.4f\n", d.rel_ci);
    assert_true(d.rel_ci > STATS_NOISY_REL && d.rel_ci <= STATS_UNSTABLE_REL);
    assert_string_equal(stats_flag_text(d.flags), "noisy");
    stats_describe(v, 5, 3, &d);
    assert_true(d.flags & STATS_FLAG_FEW);
    assert_string_equal(stats_flag_text(d.flags), "few");
    /* exactly the minimum is enough: six samples are not "few" */
    for (int i = 0; i < STATS_MIN_N; i++)
        v[i] = 100 + i * 0.01;
    stats_describe(v, STATS_MIN_N, 3, &d);
    assert_false(d.flags & STATS_FLAG_FEW);
    stats_describe(v, 0, 3, &d);
    assert_true(isnan(d.median));
}

/* SciPy's documented example (males vs females): U1 = 17, exact two-sided p = 1/9. */
static void test_mw_published(void **state)
{
    (void)state;
    double a[] = { 16, 19, 22, 24, 29 }, b[] = { 11, 12, 17, 20 };
    double u, p;
    stats_mann_whitney(a, 5, b, 4, &u, &p);
    near(u, 17, 0);
    near(p, 1.0 / 9, 1e-12);
    /* Complete separation, 5 vs 5: U = 0, p = 2 / C(10,5) = 2/252. */
    double c[] = { 1, 2, 3, 4, 5 }, d[] = { 6, 7, 8, 9, 10 };
    stats_mann_whitney(c, 5, d, 5, &u, &p);
    near(u, 0, 0);
    near(p, 2.0 / 252, 1e-12);
    stats_mann_whitney(d, 5, c, 5, &u, &p);
    near(u, 25, 0);
    near(p, 2.0 / 252, 1e-12);
}

/* Exact p by enumerating every split of the pooled (tie-free) values into sizes m, n. */
static double brute_p(const double *pool, int m, int n, double u_obs)
{
    int N = m + n;
    double mean = m * n / 2.0, dist = fabs(u_obs - mean);
    long total = 0, tail = 0;
    for (unsigned mask = 0; mask < (1u << N); mask++) {
        if (__builtin_popcount(mask) != m)
            continue;
        double u = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                if ((mask >> i & 1) && !(mask >> j & 1) && pool[i] > pool[j])
                    u++;
        total++;
        if (fabs(u - mean) >= dist - 1e-9)
            tail++;
    }
    return (double)tail / (double)total;
}

static void test_mw_exact_vs_enumeration(void **state)
{
    (void)state;
    srand48(7);
    for (int trial = 0; trial < 20; trial++) {
        int m = 3 + trial % 5, n = 4 + trial % 4;
        double a[8], b[8], pool[16];
        for (int i = 0; i < m; i++)
            pool[i] = a[i] = drand48() + (trial % 3) * 0.2;
        for (int j = 0; j < n; j++)
            pool[m + j] = b[j] = drand48();
        stats_sort(a, (size_t)m);
        stats_sort(b, (size_t)n);
        double u, p, ucount = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                ucount += a[i] > b[j];
        stats_mann_whitney(a, (size_t)m, b, (size_t)n, &u, &p);
        near(u, ucount, 0);
        near(p, brute_p(pool, m, n, ucount), 1e-12);
    }
}

/* With ties: the normal approximation with tie and continuity correction. Reference
 * values computed separately (Python, from the formula in Hollander & Wolfe):
 * U = 10, p = 0.0790191624845224. */
static void test_mw_ties_normal(void **state)
{
    (void)state;
    double a[] = { 1, 2, 2, 3, 4, 7 }, b[] = { 2, 3, 5, 6, 6, 7, 8, 9 };
    double u, p;
    stats_mann_whitney(a, 6, b, 8, &u, &p);
    near(u, 10, 0);
    near(p, 0.0790191624845224, 1e-12);
    double e[] = { 3, 3, 3 }, f[] = { 3, 3, 3, 3 };
    stats_mann_whitney(e, 3, f, 4, &u, &p);
    near(p, 1, 0);
}

/* P(resampled median <= v[j]) for odd n is P(Binomial(n, (j+1)/n) >= k), k = (n+1)/2. */
static double binom_tail(int n, double q, int k)
{
    double s = 0;
    for (int i = k; i <= n; i++)
        s += exp(lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) + i * log(q) +
                 (i < n ? (n - i) * log1p(-q) : 0));
    return s;
}

static void test_boot_median_law(void **state)
{
    (void)state;
    enum { N = 41, R = 40000 };
    double v[N];
    for (int i = 0; i < N; i++)
        v[i] = i;          /* values = indices, so a replicate tells its order statistic */
    struct stats_rng *r = stats_rng_new(11);
    static int hits[N];
    memset(hits, 0, sizeof hits);
    for (int t = 0; t < R; t++)
        hits[(int)stats_boot_median(v, N, r)]++;
    stats_rng_free(r);
    double cum = 0;
    for (int j = 0; j < N; j++) {
        cum += (double)hits[j] / R;
        double want = binom_tail(N, (double)(j + 1) / N, (N + 1) / 2);
        near(cum, want, 0.01);   /* 0.01 is > 4 standard errors at R = 40000 */
    }
}

/* Even n: against naive resampling (draw n indices, sort, average the middle two). */
static void test_boot_median_even_vs_naive(void **state)
{
    (void)state;
    enum { N = 20, R = 20000 };
    double v[N], fast[R], naive[R], tmp[N];
    for (int i = 0; i < N; i++)
        v[i] = i * i;
    struct stats_rng *r = stats_rng_new(5);
    srand48(5);
    for (int t = 0; t < R; t++) {
        fast[t] = stats_boot_median(v, N, r);
        for (int i = 0; i < N; i++)
            tmp[i] = v[lrand48() % N];
        stats_sort(tmp, N);
        naive[t] = (tmp[N / 2 - 1] + tmp[N / 2]) / 2;
    }
    stats_rng_free(r);
    stats_sort(fast, R);
    stats_sort(naive, R);
    for (double q = 0.05; q < 1; q += 0.15) {
        double a = stats_quantile_sorted(fast, R, q), b = stats_quantile_sorted(naive, R, q);
        /* within one gap between neighbouring order statistics near the middle */
        near(a, b, 45);
    }
    near(fast[R / 2], naive[R / 2], 30);
}

/* 1000 seeded trials of 41 exponential samples: the 95% CI covers ln 2 about 95% of the
 * time (binomial sd 0.7%; the percentile bootstrap of a median runs slightly wide for
 * odd small n, so the band is 92..98%). */
static void test_ci_coverage(void **state)
{
    (void)state;
    enum { TRIALS = 1000, N = 41 };
    int covered = 0;
    double v[N];
    for (int t = 0; t < TRIALS; t++) {
        srand48(1000 + t);
        for (int i = 0; i < N; i++)
            v[i] = -log1p(-drand48());
        stats_sort(v, N);
        double lo, hi;
        stats_median_ci(v, N, 1000, 0.95, (uint64_t)t + 1, &lo, &hi);
        covered += lo <= M_LN2 && M_LN2 <= hi;
    }
    double rate = (double)covered / TRIALS;
    print_message("coverage %.3f\n", rate);
    assert_true(rate >= 0.92 && rate <= 0.98);
}

/* Ratio of medians: two samples from one law cover ratio 1 about 95% of the time; a
 * sample scaled by 1.5 gives ratio 1.5 inside its CI. */
static void test_ratio_ci(void **state)
{
    (void)state;
    enum { TRIALS = 400, N = 51 };
    double a[N], b[N];
    int covered = 0;
    for (int t = 0; t < TRIALS; t++) {
        srand48(5000 + t);
        for (int i = 0; i < N; i++) {
            a[i] = 100 - 10 * log1p(-drand48());
            b[i] = 100 - 10 * log1p(-drand48());
        }
        stats_sort(a, N);
        stats_sort(b, N);
        double r, lo, hi;
        stats_ratio_ci(a, N, b, N, 1000, (uint64_t)t + 9, &r, &lo, &hi, NULL);
        covered += lo <= 1 && 1 <= hi;
    }
    double rate = (double)covered / TRIALS;
    print_message("ratio coverage %.3f\n", rate);
    assert_true(rate >= 0.91 && rate <= 0.99);
    for (int i = 0; i < N; i++)
        b[i] = a[i] * 1.5;
    double r, lo, hi, reps[500];
    stats_ratio_ci(a, N, b, N, 500, 3, &r, &lo, &hi, reps);
    near(r, 1.5, 1e-12);
    assert_true(lo < 1.5 && 1.5 < hi && lo > 1.3 && hi < 1.7);
    for (int i = 0; i < 500; i++)
        assert_true(reps[i] > 1.2 && reps[i] < 1.8);
    /* A median at or below zero has no meaningful ratio. */
    double z[] = { -1, 0, 0 };
    stats_ratio_ci(z, 3, a, N, 100, 1, &r, &lo, &hi, NULL);
    assert_true(isnan(r) && isnan(lo) && isnan(hi));
}

static void test_verdict_edges(void **state)
{
    (void)state;
    const double band = 0.02, alpha = 0.01;
    assert_int_equal(stats_verdict(1.0201, 1.05, 0.001, band, alpha, false), VERDICT_SLOWER);
    assert_int_equal(stats_verdict(1.02, 1.05, 0.001, band, alpha, false), VERDICT_NO_CHANGE);
    assert_int_equal(stats_verdict(1.0201, 1.05, 0.01, band, alpha, false), VERDICT_NO_CHANGE);
    assert_int_equal(stats_verdict(1.0201, 1.05, 0.0099, band, alpha, false), VERDICT_SLOWER);
    assert_int_equal(stats_verdict(0.90, 0.9799, 0.001, band, alpha, false), VERDICT_FASTER);
    assert_int_equal(stats_verdict(0.90, 0.98, 0.001, band, alpha, false), VERDICT_NO_CHANGE);
    assert_int_equal(stats_verdict(0.97, 1.03, 0.0001, band, alpha, false), VERDICT_NO_CHANGE);
    assert_int_equal(stats_verdict(0.99, 1.05, 0.0001, band, alpha, false), VERDICT_NO_CHANGE);
    /* higher is better: the same ratios mean the opposite */
    assert_int_equal(stats_verdict(1.0201, 1.05, 0.001, band, alpha, true), VERDICT_FASTER);
    assert_int_equal(stats_verdict(0.90, 0.9799, 0.001, band, alpha, true), VERDICT_SLOWER);
    /* a wider band swallows the same change */
    assert_int_equal(stats_verdict(1.04, 1.06, 0.001, 0.05, alpha, false), VERDICT_NO_CHANGE);
    assert_int_equal(stats_verdict(NAN, 1.06, 0.001, band, alpha, false), VERDICT_NA);
    assert_string_equal(stats_verdict_name(VERDICT_SLOWER), "slower");
    assert_string_equal(stats_verdict_name(VERDICT_FASTER), "faster");
    assert_string_equal(stats_verdict_name(VERDICT_NO_CHANGE), "no change");
}

static void test_hash_seeds(void **state)
{
    (void)state;
    uint64_t a = stats_hash(stats_hash(STATS_HASH_INIT, "ab"), "c");
    uint64_t b = stats_hash(stats_hash(STATS_HASH_INIT, "a"), "bc");
    assert_true(a != b);
    assert_true(a == stats_hash(stats_hash(STATS_HASH_INIT, "ab"), "c"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_fixed_set),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_mw_published),
        cmocka_unit_test(test_mw_exact_vs_enumeration),
        cmocka_unit_test(test_mw_ties_normal),
        cmocka_unit_test(test_boot_median_law),
        cmocka_unit_test(test_boot_median_even_vs_naive),
        cmocka_unit_test(test_ci_coverage),
        cmocka_unit_test(test_ratio_ci),
        cmocka_unit_test(test_verdict_edges),
        cmocka_unit_test(test_hash_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
