/* Change points of analysis/ediv.c and history.c on series whose answers are known:
 *   - the O(n log n) scan equals the E-Divisive statistic computed from its O(n^2)
 *     definition at every split (ties included);
 *   - 200 revisions with planted steps of +3% (at 50), +5% (at 100) and -10% (at 150) on
 *     1% Gaussian noise, 20 seeds: every step of 5% or more is found within 2 revisions,
 *     with its size within 1.5 points, and at most 1 change is false (more than 2
 *     revisions from every planted step); how often the 3% step is found is printed;
 *   - 200 revisions of noise alone: at most 1 change, for each of 20 seeds;
 *   - a clean step: found exactly, size exactly 10%, confidence 1 - 1/(R+1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

#define NREV 200
#define SEEDS 20

static double q_definition(const double *x, size_t n, size_t tau)
{
    double cross = 0, wl = 0, wr = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double d = fabs(x[i] - x[j]);
            if (j < tau)
                wl += d;
            else if (i >= tau)
                wr += d;
            else
                cross += d;
        }
    double m = (double)tau, k = (double)(n - tau);
    return m * k / (double)n * (2 * cross / (m * k) - wl / (m * (m - 1) / 2) -
                                wr / (k * (k - 1) / 2));
}

static void test_scan_matches_definition(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    double x[41], q[41];
    for (size_t i = 0; i < 41; i++)
        x[i] = i % 7 == 0 ? 5.0 : floor(10 * gsl_rng_uniform(r)) + (i > 25 ? 3 : 0);
    assert_int_equal(ediv_scan(x, 41, 2, 40, q), 0);
    for (size_t t = 2; t < 40; t++) {
        double want = q_definition(x, 41, t);
        if (fabs(q[t - 2] - want) > 1e-9 * (1 + fabs(want)))
            fail_msg("tau %zu: scan %.12g, definition %.12g", t, q[t - 2], want);
    }
    gsl_rng_free(r);
}

/* A series of NREV points around 1000 with the given steps (relative, cumulative). */
static void make_series(struct hist_series *s, struct hist_point *pts, char labels[][16],
                        uint64_t seed, bool steps)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, (unsigned long)seed);
    memset(s, 0, sizeof *s);
    double level = 1000;
    for (size_t i = 0; i < NREV; i++) {
        if (steps && i == 50)
            level *= 1.03;
        if (steps && i == 100)
            level *= 1.05;
        if (steps && i == 150)
            level *= 0.90;
        snprintf(labels[i], 16, "rev%03zu", i);
        pts[i] = (struct hist_point){ .label = labels[i], .first = (double)i, .nruns = 3,
                                      .value = level * (1 + gsl_ran_gaussian(r, 0.01)),
                                      .lo = NAN, .hi = NAN };
    }
    s->pts = pts;
    s->n = NREV;
    s->metric = "latency";
    gsl_rng_free(r);
}

static const struct hist_change *near(const struct hist_series *s, size_t at)
{
    for (size_t i = 0; i < s->nchg; i++)
        if (s->chg[i].at + 2 >= at && s->chg[i].at <= at + 2)
            return &s->chg[i];
    return NULL;
}

static void test_planted_steps(void **state)
{
    (void)state;
    static struct hist_point pts[NREV];
    static char labels[NREV][16];
    struct ediv_opts o;
    ediv_opts_default(&o);
    unsigned found3 = 0, falses = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        struct hist_series s;
        make_series(&s, pts, labels, seed, true);
        assert_int_equal(history_detect(&s, &o), 0);
        const struct hist_change *c5 = near(&s, 100), *c10 = near(&s, 150), *c3 = near(&s, 50);
        if (!c5 || !c10)
            fail_msg("seed %llu: the %s step was not found within 2 revisions (%zu changes)",
                     (unsigned long long)seed, !c5 ? "5%" : "10%", s.nchg);
        if (fabs(c5->size - 0.05) > 0.015 || fabs(c10->size + 0.10) > 0.015)
            fail_msg("seed %llu: sizes %+.4f and %+.4f, want +0.05 and -0.10",
                     (unsigned long long)seed, c5->size, c10->size);
        assert_true(c5->confidence >= 1 - o.alpha && c10->confidence >= 1 - o.alpha);
        found3 += c3 != NULL;
        size_t f = 0;
        for (size_t i = 0; i < s.nchg; i++) {
            size_t at = s.chg[i].at;
            f += !((at + 2 >= 50 && at <= 52) || (at + 2 >= 100 && at <= 102) ||
                   (at + 2 >= 150 && at <= 152));
        }
        if (f > 1)
            fail_msg("seed %llu: %zu false changes", (unsigned long long)seed, f);
        falses += (unsigned)f;
        free(s.chg);
    }
    print_message("planted steps, %d seeds: 5%% and 10%% found in all; 3%% found in %u; "
                  "%u false changes in all\n", SEEDS, found3, falses);
}

static void test_no_change(void **state)
{
    (void)state;
    static struct hist_point pts[NREV];
    static char labels[NREV][16];
    struct ediv_opts o;
    ediv_opts_default(&o);
    unsigned total = 0;
    for (uint64_t seed = 101; seed < 101 + SEEDS; seed++) {
        struct hist_series s;
        make_series(&s, pts, labels, seed, false);
        assert_int_equal(history_detect(&s, &o), 0);
        if (s.nchg > 1)
            fail_msg("seed %llu: %zu changes in noise alone", (unsigned long long)seed, s.nchg);
        total += (unsigned)s.nchg;
        free(s.chg);
    }
    print_message("noise only, %d seeds: %u changes in all\n", SEEDS, total);
}

static void test_clean_step(void **state)
{
    (void)state;
    double x[30];
    for (size_t i = 0; i < 30; i++)
        x[i] = i < 17 ? 100 + (double)(i % 3) * 0.1 : 110 + (double)(i % 3) * 0.11;
    struct hist_point pts[30];
    char labels[30][16];
    for (size_t i = 0; i < 30; i++) {
        snprintf(labels[i], 16, "r%zu", i);
        pts[i] = (struct hist_point){ .label = labels[i], .value = x[i] };
    }
    struct hist_series s = { .pts = pts, .n = 30, .metric = "m" };
    struct ediv_opts o;
    ediv_opts_default(&o);
    assert_int_equal(history_detect(&s, &o), 0);
    assert_int_equal(s.nchg, 1);
    assert_int_equal(s.chg[0].at, 17);
    assert_true(fabs(s.chg[0].before - 100.1) < 1e-9);
    assert_true(fabs(s.chg[0].after - 110.11) < 1e-9);
    assert_true(fabs(s.chg[0].size - (110.11 / 100.1 - 1)) < 1e-12);
    assert_true(fabs(s.chg[0].confidence - (1 - 1.0 / (o.perms + 1))) < 1e-12);
    free(s.chg);
    /* too short to split on both sides: nothing */
    s.n = 2 * o.min_seg - 1;
    assert_int_equal(history_detect(&s, &o), 0);
    assert_int_equal(s.nchg, 0);
    free(s.chg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_matches_definition),
        cmocka_unit_test(test_planted_steps),
        cmocka_unit_test(test_no_change),
        cmocka_unit_test(test_clean_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
