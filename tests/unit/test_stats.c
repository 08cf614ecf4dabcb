/* Order statistics against values worked out by hand with the type-7 rule
 * h = (n-1)q, x = v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "stats.h"

#define EPS 1e-12

static void near(double got, double want)
{
    if (!(got > want - EPS && got < want + EPS))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_odd_n(void **state)
{
    (void)state;
    const double v[] = { 15, 20, 35, 40, 50 };
    near(stats_quantile_sorted(v, 5, 0.5), 35);    /* h = 2 */
    near(stats_quantile_sorted(v, 5, 0.05), 16);   /* h = 0.2: 15 + 0.2*5 */
    near(stats_quantile_sorted(v, 5, 0.95), 48);   /* h = 3.8: 40 + 0.8*10 */
    near(stats_quantile_sorted(v, 5, 0.25), 20);   /* h = 1 */
    near(stats_quantile_sorted(v, 5, 0.4), 29);    /* h = 1.6: 20 + 0.6*15 */
}

static void test_even_n(void **state)
{
    (void)state;
    const double v[] = { 1, 2, 3, 4 };
    near(stats_quantile_sorted(v, 4, 0.5), 2.5);    /* h = 1.5 */
    near(stats_quantile_sorted(v, 4, 0.05), 1.15);  /* h = 0.15 */
    near(stats_quantile_sorted(v, 4, 0.95), 3.85);  /* h = 2.85 */
}

static void test_ends_and_single(void **state)
{
    (void)state;
    const double v[] = { -3, 7, 9 };
    near(stats_quantile_sorted(v, 3, 0.0), -3);
    near(stats_quantile_sorted(v, 3, 1.0), 9);
    const double one[] = { 42 };
    near(stats_quantile_sorted(one, 1, 0.0), 42);
    near(stats_quantile_sorted(one, 1, 0.5), 42);
    near(stats_quantile_sorted(one, 1, 1.0), 42);
}

static void test_sort(void **state)
{
    (void)state;
    enum { N = 1000 };
    double v[N];
    double sum = 0;
    srand(7);
    for (int i = 0; i < N; i++) {
        v[i] = (double)(rand() % 200) - 100.5;   /* negatives and duplicates */
        sum += v[i];
    }
    stats_sort(v, N);
    double sum_after = 0;
    for (int i = 0; i < N; i++) {
        sum_after += v[i];
        if (i > 0 && v[i - 1] > v[i])
            fail_msg("not sorted at %d: %g > %g", i, v[i - 1], v[i]);
    }
    near(sum_after, sum);
    /* Sorting then taking the median of a shuffled known set. */
    double w[] = { 50, 15, 40, 35, 20 };
    stats_sort(w, 5);
    near(stats_quantile_sorted(w, 5, 0.5), 35);
    stats_sort(w, 0);   /* must not touch anything */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_odd_n),
        cmocka_unit_test(test_even_n),
        cmocka_unit_test(test_ends_and_single),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
