/* Order statistics on raw samples. */
#ifndef ANALYSIS_STATS_H
#define ANALYSIS_STATS_H

#include <stddef.h>

/* Sorts v in place. */
void stats_sort(double *v, size_t n);
/* Quantile q in [0,1] of sorted v by linear interpolation between closest ranks
 * (type 7, as R and NumPy default). n must be > 0. */
double stats_quantile_sorted(const double *v, size_t n, double q);

#endif
