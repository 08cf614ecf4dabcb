/* Order statistics on raw samples. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void stats_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

/* Type 7 (Hyndman & Fan): h = (n-1)q, interpolate between v[floor h] and the next. */
double stats_quantile_sorted(const double *v, size_t n, double q)
{
    if (q <= 0.0 || n == 1)
        return v[0];
    if (q >= 1.0)
        return v[n - 1];
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}
