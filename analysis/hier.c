/* Statistics for batches nested in runs; see hier.h. */
#include "hier.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Median of buf, which GSL's quickselect reorders (the mean of the two middle values for
 * even n, as stats_quantile_sorted at 0.5). */
static double median_inplace(double *buf, size_t n)
{
    return gsl_stats_median(buf, 1, n);
}

double hier_location(const double *v, size_t n, enum hier_loc loc, double *buf)
{
    if (n == 0)
        return NAN;
    if (loc == HIER_MEAN) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += v[i];
        return s / (double)n;
    }
    memcpy(buf, v, n * sizeof *buf);
    return median_inplace(buf, n);
}

static double sd_of(const double *v, size_t n)
{
    return n > 1 ? gsl_stats_sd(v, 1, n) : 0;
}

void hier_location_ci(const struct hsample *s, enum hier_loc loc, uint64_t seed, double *lo,
                      double *hi)
{
    *lo = *hi = NAN;
    size_t n = s->off[s->nruns];
    if (s->nruns < HIER_MIN_RUNS || n == 0)
        return;
    double *reps = malloc(HIER_REPS * sizeof *reps);
    double *buf = malloc(n * sizeof *buf);
    if (reps && buf && hier_boot(s, loc, HIER_REPS, seed, reps) == 0) {
        double est = hier_location(s->v, n, loc, buf);
        double tq = gsl_cdf_tdist_Pinv(0.975, (double)s->nruns - 1);
        /* positive data on the log scale: the interval stays positive and follows the
         * skew of latencies; otherwise on the values themselves */
        bool logs = est > 0;
        for (unsigned k = 0; k < HIER_REPS && logs; k++)
            logs = reps[k] > 0;
        if (logs) {
            for (unsigned k = 0; k < HIER_REPS; k++)
                reps[k] = log(reps[k]);
            double half = tq * sd_of(reps, HIER_REPS);
            *lo = est * exp(-half);
            *hi = est * exp(half);
        } else {
            double half = tq * sd_of(reps, HIER_REPS);
            *lo = est - half;
            *hi = est + half;
        }
    }
    free(reps);
    free(buf);
}

/* Welch-Satterthwaite degrees of freedom of two variances of the mean, VA on NA1 + 1 and
 * VB on NB1 + 1 values, va + vb > 0 and finite: (va + vb)^2 / (va^2/na1 + vb^2/nb1) with
 * both shares taken relative to the sum first, so that squaring large variances cannot
 * overflow to inf/inf (a NaN on which GSL's t distribution aborts the process). */
static double welch_df(double va, double na1, double vb, double nb1)
{
    double sa = va / (va + vb), sb = vb / (va + vb);
    return 1 / (sa * sa / na1 + sb * sb / nb1);
}

void hier_welch(const double *a, size_t na, const double *b, size_t nb, double *t, double *df,
                double *p)
{
    *t = *df = *p = NAN;
    if (na < 2 || nb < 2)
        return;
    double ma = gsl_stats_mean(a, 1, na), mb = gsl_stats_mean(b, 1, nb);
    double va = gsl_stats_variance(a, 1, na) / (double)na;
    double vb = gsl_stats_variance(b, 1, nb) / (double)nb;
    double se2 = va + vb;
    /* values so far apart that their variance overflows: no test (GSL's t distribution
     * aborts the process on the NaN degrees of freedom that would follow) */
    if (!isfinite(se2) || !isfinite(ma) || !isfinite(mb))
        return;
    if (!(se2 > 0)) {
        /* constants on both sides: equal or not, with certainty */
        *t = mb == ma ? 0 : (mb > ma ? INFINITY : -INFINITY);
        *df = (double)(na + nb - 2);
        *p = mb == ma ? 1 : 0;
        return;
    }
    *t = (mb - ma) / sqrt(se2);
    *df = welch_df(va, (double)(na - 1), vb, (double)(nb - 1));
    /* means so far apart that their difference overflows: certainly different */
    *p = isinf(*t) ? 0 : 2 * gsl_cdf_tdist_Q(fabs(*t), *df);
    if (*p > 1)
        *p = 1;
}

/* Per-run locations of s, transformed (log when ratio). */
static double *run_locations(const struct hsample *s, enum hier_loc loc, bool logs, double *buf)
{
    double *r = malloc((s->nruns ? s->nruns : 1) * sizeof *r);
    if (!r)
        return NULL;
    for (size_t i = 0; i < s->nruns; i++) {
        double x = hier_location(s->v + s->off[i], s->off[i + 1] - s->off[i], loc, buf);
        r[i] = logs ? log(x) : x;
    }
    return r;
}

static bool all_positive(const struct hsample *s)
{
    for (size_t i = 0; i < s->off[s->nruns]; i++)
        if (!(s->v[i] > 0))
            return false;
    return true;
}

int hier_compare(const struct hsample *a, const struct hsample *b, enum hier_loc loc,
                 uint64_t seed, struct hier_cmp *c, double *reps_out)
{
    memset(c, 0, sizeof *c);
    c->est = c->lo = c->hi = c->se = c->df = c->t = c->p = c->df_test = NAN;
    size_t na = a->off[a->nruns], nb = b->off[b->nruns];
    size_t big = na > nb ? na : nb;
    double *buf = malloc((big ? big : 1) * sizeof *buf);
    double *ra = malloc(HIER_REPS * sizeof *ra), *rb = malloc(HIER_REPS * sizeof *rb);
    double *la = NULL, *lb = NULL;
    int ret = -1;
    if (!buf || !ra || !rb)
        goto out;
    c->diff = !(all_positive(a) && all_positive(b));
    c->loc_a = hier_location(a->v, na, loc, buf);
    c->loc_b = hier_location(b->v, nb, loc, buf);
    c->est = c->diff ? c->loc_b - c->loc_a : c->loc_b / c->loc_a;
    ret = 0;
    if (reps_out)
        for (unsigned k = 0; k < HIER_REPS; k++)
            reps_out[k] = NAN;
    if (a->nruns < 2 || b->nruns < 2 || na == 0 || nb == 0)
        goto out;
    ret = -1;
    la = run_locations(a, loc, !c->diff, buf);
    lb = run_locations(b, loc, !c->diff, buf);
    if (!la || !lb || hier_boot(a, loc, HIER_REPS, seed, ra) ||
        hier_boot(b, loc, HIER_REPS, seed * 31 + 17, rb))
        goto out;
    ret = 0;
    hier_welch(la, a->nruns, lb, b->nruns, &c->t, &c->df_test, &c->p);
    if (!c->diff)
        for (unsigned k = 0; k < HIER_REPS; k++) {
            ra[k] = log(ra[k]);
            rb[k] = log(rb[k]);
        }
    /* variance of each side's location (see hier.h for why no R/(R-1) factor) */
    double va = gsl_stats_variance(ra, 1, HIER_REPS);
    double vb = gsl_stats_variance(rb, 1, HIER_REPS);
    double theta = c->diff ? c->est : log(c->est);
    c->se = sqrt(va + vb);
    if (va + vb > 0 && isfinite(va + vb))
        c->df = welch_df(va, (double)(a->nruns - 1), vb, (double)(b->nruns - 1));
    else
        c->df = (double)(a->nruns + b->nruns - 2);
    /* replicates so far apart that their variance overflows leave no interval (lo and hi
     * stay NaN: the verdict is n/a); GSL's t quantile would abort on the NaN df */
    if (isfinite(c->se) && c->df > 0) {
        double half = gsl_cdf_tdist_Pinv(0.975, c->df) * c->se;
        c->lo = c->diff ? theta - half : exp(theta - half);
        c->hi = c->diff ? theta + half : exp(theta + half);
    }
    if (reps_out) {
        double ma = gsl_stats_mean(ra, 1, HIER_REPS), mb = gsl_stats_mean(rb, 1, HIER_REPS);
        for (unsigned k = 0; k < HIER_REPS; k++)
            reps_out[k] = theta + (rb[k] - mb) - (ra[k] - ma);
    }
out:
    free(la);
    free(lb);
    free(buf);
    free(ra);
    free(rb);
    return ret;
}

double hier_mw_min_p(size_t na, size_t nb)
{
    /* C(na+nb, na) in floating point: exact enough for a warning */
    double c = 1;
    for (size_t i = 1; i <= na; i++)
        c = c * (double)(nb + i) / (double)i;
    double p = 2 / c;
    return p > 1 ? 1 : p;
}

double hier_bimodality(const double *v, size_t n)
{
    if (n < 4)
        return NAN;
    double sd = gsl_stats_sd(v, 1, n);
    if (!(sd > 0))
        return 0;
    double g = gsl_stats_skew(v, 1, n), k = gsl_stats_kurtosis(v, 1, n);
    double dn = (double)n;
    return (g * g + 1) / (k + 3 * (dn - 1) * (dn - 1) / ((dn - 2) * (dn - 3)));
}
