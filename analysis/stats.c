/* Statistics on raw samples; see stats.h. */
#include "stats.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

uint64_t stats_hash(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff;               /* a separator, so ("ab","c") and ("a","bc") differ */
    h *= 0x100000001b3ULL;
    return h;
}

/* ---- random source ---- */

struct stats_rng {
    gsl_rng *g;
};

struct stats_rng *stats_rng_new(uint64_t seed)
{
    struct stats_rng *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g) {
        free(r);
        return NULL;
    }
    /* mt19937 takes an unsigned long seed; 0 means "default" to GSL, avoid it. */
    unsigned long s = (unsigned long)(seed ^ (seed >> 32));
    gsl_rng_set(r->g, s ? s : 5489UL);
    return r;
}

void stats_rng_free(struct stats_rng *r)
{
    if (!r)
        return;
    gsl_rng_free(r->g);
    free(r);
}

static size_t index_of(double u, size_t n)
{
    size_t i = (size_t)(u * (double)n);
    return i < n ? i : n - 1;
}

/* Resampling draws index floor(n*U_i); the k-th smallest draw is therefore
 * v[floor(n*U_(k))], and U_(k) ~ Beta(k, n-k+1). For even n the next order statistic,
 * given U_(k) = u, is u + (1-u) * Beta(1, n-k) (the minimum of the n-k uniforms above u). */
double stats_boot_median(const double *v, size_t n, struct stats_rng *r)
{
    if (n == 1)
        return v[0];
    double dn = (double)n;
    if (n % 2) {
        double k = (dn + 1) / 2;
        return v[index_of(gsl_ran_beta(r->g, k, dn - k + 1), n)];
    }
    double k = dn / 2;
    double u1 = gsl_ran_beta(r->g, k, dn - k + 1);
    double u2 = u1 + (1 - u1) * gsl_ran_beta(r->g, 1, dn - k);
    return (v[index_of(u1, n)] + v[index_of(u2, n)]) / 2;
}

static void percentile_ci(double *reps, unsigned nreps, double level, double *lo, double *hi)
{
    stats_sort(reps, nreps);
    *lo = stats_quantile_sorted(reps, nreps, (1 - level) / 2);
    *hi = stats_quantile_sorted(reps, nreps, 1 - (1 - level) / 2);
}

void stats_median_ci(const double *v, size_t n, unsigned reps, double level, uint64_t seed,
                     double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n == 0 || reps == 0)
        return;
    if (n == 1) {
        *lo = *hi = v[0];
        return;
    }
    double *b = malloc(reps * sizeof *b);
    struct stats_rng *r = stats_rng_new(seed);
    if (b && r) {
        for (unsigned i = 0; i < reps; i++)
            b[i] = stats_boot_median(v, n, r);
        percentile_ci(b, reps, level, lo, hi);
    }
    stats_rng_free(r);
    free(b);
}

void stats_describe_values(double *v, size_t n, struct stats_desc *d)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->ci_lo = d->ci_hi = d->rel_ci = NAN;
    if (n == 0) {
        d->median = d->mean = d->sd = NAN;
        d->p5 = d->p95 = d->p99 = d->min = d->max = NAN;
        d->flags = STATS_FLAG_FEW;
        return;
    }
    stats_sort(v, n);
    d->median = stats_quantile_sorted(v, n, 0.5);
    d->p5 = stats_quantile_sorted(v, n, 0.05);
    d->p95 = stats_quantile_sorted(v, n, 0.95);
    d->p99 = stats_quantile_sorted(v, n, 0.99);
    d->min = v[0];
    d->max = v[n - 1];
    /* Welford's update: stable for large means with small spread (cycle counts). */
    double mean = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
        double delta = v[i] - mean;
        mean += delta / (double)(i + 1);
        m2 += delta * (v[i] - mean);
    }
    d->mean = mean;
    d->sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
    if (n < STATS_MIN_N)
        d->flags |= STATS_FLAG_FEW;
}

void stats_describe_set_ci(struct stats_desc *d, double lo, double hi)
{
    d->ci_lo = lo;
    d->ci_hi = hi;
    double half = (hi - lo) / 2;
    d->rel_ci = d->median != 0 ? half / fabs(d->median) : (half == 0 ? 0 : INFINITY);
    d->flags &= ~(unsigned)(STATS_FLAG_NOISY | STATS_FLAG_UNSTABLE);
    if (d->rel_ci > STATS_NOISY_REL)
        d->flags |= STATS_FLAG_NOISY;
    if (d->rel_ci > STATS_UNSTABLE_REL)
        d->flags |= STATS_FLAG_UNSTABLE;
}

void stats_describe(double *v, size_t n, uint64_t seed, struct stats_desc *d)
{
    stats_describe_values(v, n, d);
    if (n == 0)
        return;
    double lo, hi;
    stats_median_ci(v, n, STATS_BOOT_REPS, 0.95, seed, &lo, &hi);
    stats_describe_set_ci(d, lo, hi);
}

const char *stats_flag_text(unsigned flags)
{
    if (flags & STATS_FLAG_FEW)
        return "few";
    if (flags & STATS_FLAG_RUNVAR)
        return "run-to-run variance unknown (<3 runs)";
    if (flags & STATS_FLAG_UNSTABLE)
        return "unstable";
    if (flags & STATS_FLAG_NOISY)
        return "noisy";
    return "";
}

/* ---- Mann-Whitney U ---- */

/* Two-sided exact p of U = u for sizes (m, n) without ties: the distribution of U is
 * the number of ways to get each value, built up one observation at a time. */
static double mw_exact_p(size_t m, size_t n, double u)
{
    size_t max = m * n;
    /* f[i][j][k]: count of arrangements of i a's and j b's with U = k; keep two planes. */
    size_t w = max + 1;
    double *prev = calloc((n + 1) * w, sizeof *prev);
    double *cur = calloc((n + 1) * w, sizeof *cur);
    double p = NAN;
    if (!prev || !cur)
        goto out;
    /* i = 0: U is 0 for every j. */
    for (size_t j = 0; j <= n; j++)
        prev[j * w] = 1;
    for (size_t i = 1; i <= m; i++) {
        memset(cur, 0, (n + 1) * w * sizeof *cur);
        cur[0] = 1;   /* j = 0 */
        for (size_t j = 1; j <= n; j++)
            for (size_t k = 0; k <= i * j; k++) {
                /* Largest element is an a (beats all j b's) or a b (beats nothing). */
                double x = k >= j ? prev[j * w + (k - j)] : 0;
                x += cur[(j - 1) * w + k];
                cur[j * w + k] = x;
            }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    double total = 0, tail = 0;
    double mean = (double)max / 2;
    double dist = fabs(u - mean);
    for (size_t k = 0; k <= max; k++) {
        double c = prev[n * w + k];
        total += c;
        if (fabs((double)k - mean) >= dist - 1e-9)
            tail += c;
    }
    p = tail / total;
    if (p > 1)
        p = 1;
out:
    free(prev);
    free(cur);
    return p;
}

void stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u,
                        double *p)
{
    *u = NAN;
    *p = NAN;
    if (na == 0 || nb == 0)
        return;
    /* Walk the two sorted arrays as one, giving each tie group its mid-rank. */
    double rank_a = 0, tie_term = 0;
    size_t i = 0, j = 0, pos = 0;
    bool ties = false;
    while (i < na || j < nb) {
        double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
        size_t ca = 0, cb = 0;
        while (i < na && a[i] == x) { i++; ca++; }
        while (j < nb && b[j] == x) { j++; cb++; }
        double t = (double)(ca + cb);
        double mid = (double)pos + (t + 1) / 2;
        rank_a += mid * (double)ca;
        if (t > 1) {
            ties = true;
            tie_term += t * t * t - t;
        }
        pos += ca + cb;
    }
    double n1 = (double)na, n2 = (double)nb, nn = n1 + n2;
    *u = rank_a - n1 * (n1 + 1) / 2;
    if (!ties && na + nb <= 60) {
        *p = mw_exact_p(na, nb, *u);
        return;
    }
    double mu = n1 * n2 / 2;
    double var = n1 * n2 / 12 * ((nn + 1) - tie_term / (nn * (nn - 1)));
    if (!(var > 0)) {
        *p = 1;   /* every value equal: no evidence of any difference */
        return;
    }
    double z = (fabs(*u - mu) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    *p = erfc(z / sqrt(2.0));
    if (*p > 1)
        *p = 1;
}

/* ---- ratio of medians ---- */

void stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, unsigned reps,
                    uint64_t seed, double *ratio, double *lo, double *hi, double *reps_out)
{
    *ratio = *lo = *hi = NAN;
    if (na == 0 || nb == 0 || reps == 0)
        return;
    double ma = stats_quantile_sorted(a, na, 0.5), mb = stats_quantile_sorted(b, nb, 0.5);
    if (!(ma > 0) || !(mb > 0)) {
        if (reps_out)
            for (unsigned i = 0; i < reps; i++)
                reps_out[i] = NAN;
        return;
    }
    *ratio = mb / ma;
    double *r = malloc(reps * sizeof *r);
    struct stats_rng *ga = stats_rng_new(seed), *gb = stats_rng_new(seed * 31 + 17);
    bool ok = r && ga && gb;
    for (unsigned i = 0; ok && i < reps; i++) {
        double x = stats_boot_median(a, na, ga), y = stats_boot_median(b, nb, gb);
        r[i] = x > 0 ? y / x : NAN;
        if (!(r[i] > 0))
            ok = false;
    }
    if (ok && reps_out)
        memcpy(reps_out, r, reps * sizeof *r);
    else if (reps_out)
        for (unsigned i = 0; i < reps; i++)
            reps_out[i] = NAN;
    if (ok)
        percentile_ci(r, reps, 0.95, lo, hi);
    stats_rng_free(ga);
    stats_rng_free(gb);
    free(r);
}

enum stats_verdict stats_verdict(double lo, double hi, double p, double band, double alpha,
                                 bool higher_is_better)
{
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(p))
        return VERDICT_NA;
    if (!(p < alpha))
        return VERDICT_NO_CHANGE;
    bool up = lo > 1 + band, down = hi < 1 - band;
    if (!up && !down)
        return VERDICT_NO_CHANGE;
    if (higher_is_better)
        return up ? VERDICT_FASTER : VERDICT_SLOWER;
    return up ? VERDICT_SLOWER : VERDICT_FASTER;
}

const char *stats_verdict_name(enum stats_verdict v)
{
    switch (v) {
    case VERDICT_FASTER: return "faster";
    case VERDICT_SLOWER: return "slower";
    case VERDICT_NO_CHANGE: return "no change";
    default: return "n/a";
    }
}
