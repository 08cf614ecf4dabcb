/* E-Divisive with means on one-dimensional data; see history.h for the method and its
 * parameters. The scan of a segment keeps every within-set distance sum up to date with
 * two Fenwick trees (count and sum of the values by rank), so each split point costs
 * O(log n) instead of a pass over the segment. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

void ediv_opts_default(struct ediv_opts *o)
{
    o->alpha = HIST_ALPHA;
    o->perms = HIST_PERMS;
    o->min_seg = HIST_MIN_SEG;
    o->seed = 0x68697374ULL; /* "hist" */
}

/* A value and its rank in its segment (ties broken by position: any order of equal
 * values gives the same distances). Permutations move both together. */
struct ranked {
    double v;
    size_t r;
};

struct scratch {
    double *cnt, *sum;     /* Fenwick trees, 1-based, n + 1 entries */
    double *wl, *wr;       /* within sums of x[0..t) and x[t..n), n + 1 entries */
};

static int scratch_init(struct scratch *s, size_t n)
{
    s->cnt = calloc(n + 1, sizeof *s->cnt);
    s->sum = calloc(n + 1, sizeof *s->sum);
    s->wl = malloc((n + 1) * sizeof *s->wl);
    s->wr = malloc((n + 1) * sizeof *s->wr);
    return s->cnt && s->sum && s->wl && s->wr ? 0 : -1;
}

static void scratch_free(struct scratch *s)
{
    free(s->cnt);
    free(s->sum);
    free(s->wl);
    free(s->wr);
}

static void fw_add(struct scratch *s, size_t n, size_t r, double v)
{
    for (size_t i = r + 1; i <= n; i += i & -i) {
        s->cnt[i] += 1;
        s->sum[i] += v;
    }
}

/* count and sum of the values of rank < r */
static void fw_below(const struct scratch *s, size_t r, double *c, double *sm)
{
    *c = 0;
    *sm = 0;
    for (size_t i = r; i > 0; i -= i & -i) {
        *c += s->cnt[i];
        *sm += s->sum[i];
    }
}

/* wl[t] = sum over pairs in x[0..t) of |xi - xj|; the same adding from the right for wr. */
static void within_sums(const struct ranked *x, size_t n, struct scratch *s)
{
    for (int side = 0; side < 2; side++) {
        double *w = side ? s->wr : s->wl;
        memset(s->cnt, 0, (n + 1) * sizeof *s->cnt);
        memset(s->sum, 0, (n + 1) * sizeof *s->sum);
        double total = 0, acc = 0;
        w[side ? n : 0] = 0;
        for (size_t k = 0; k < n; k++) {
            const struct ranked *p = &x[side ? n - 1 - k : k];
            double c, sm;
            fw_below(s, p->r, &c, &sm);
            /* k values already in: c of them below p->v, k - c at or above it */
            acc += p->v * c - sm + (total - sm) - p->v * ((double)k - c);
            fw_add(s, n, p->r, p->v);
            total += p->v;
            w[side ? n - 1 - k : k + 1] = acc;
        }
    }
}

static double q_at(const struct scratch *s, size_t n, size_t tau)
{
    double m = (double)tau, k = (double)(n - tau);
    double wl = s->wl[tau], wr = s->wr[tau], cross = s->wl[n] - wl - wr;
    return m * k / (double)n * (2 * cross / (m * k) - wl / (m * (m - 1) / 2) -
                                wr / (k * (k - 1) / 2));
}

/* The best split of x[0..n) with at least min points a side: *tau and its Q. */
static void best_split(const struct ranked *x, size_t n, size_t min, struct scratch *s,
                       size_t *tau, double *q)
{
    within_sums(x, n, s);
    *q = -INFINITY;
    *tau = 0;
    for (size_t t = min; t + min <= n; t++) {
        double v = q_at(s, n, t);
        if (v > *q) {
            *q = v;
            *tau = t;
        }
    }
}

static int cmp_pos(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* x's values with their ranks; NULL when out of memory. */
static struct ranked *rank_of(const double *x, size_t n)
{
    struct ranked *out = malloc(n * sizeof *out);
    double(*pair)[2] = malloc(n * sizeof *pair);
    if (!out || !pair) {
        free(out);
        free(pair);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        pair[i][0] = x[i];
        pair[i][1] = (double)i;
    }
    /* by value; equal values get distinct ranks in any order, their distance being 0 */
    qsort(pair, n, sizeof *pair, cmp_pos);
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)pair[i][1];
        out[at].v = x[at];
        out[at].r = i;
    }
    free(pair);
    return out;
}

int ediv_scan(const double *x, size_t n, size_t lo, size_t hi, double *q)
{
    struct ranked *rx = rank_of(x, n);
    struct scratch s;
    int ok = rx && scratch_init(&s, n) == 0;
    if (ok) {
        within_sums(rx, n, &s);
        for (size_t t = lo; t < hi; t++)
            q[t - lo] = t >= 2 && n - t >= 2 ? q_at(&s, n, t) : NAN;
    }
    if (rx)
        scratch_free(&s);
    free(rx);
    return ok ? 0 : -1;
}

struct segment {
    size_t a, b;           /* x[a..b) */
    size_t tau;            /* best split, absolute; 0 when too short to split */
    double q;
    double *perm;          /* the best Q of each permutation (perms entries) */
};

/* Evaluates a segment: its best split and the best split of each permutation. */
static int seg_eval(const double *x, struct segment *g, const struct ediv_opts *o,
                    struct scratch *s, gsl_rng *rng)
{
    size_t n = g->b - g->a;
    g->tau = 0;
    g->q = -INFINITY;
    g->perm = NULL;
    if (n < 2 * o->min_seg || n < 4)
        return 0;
    struct ranked *rx = rank_of(x + g->a, n);
    g->perm = malloc((o->perms ? o->perms : 1) * sizeof *g->perm);
    if (!rx || !g->perm) {
        free(rx);
        return -1;
    }
    size_t t;
    best_split(rx, n, o->min_seg, s, &t, &g->q);
    g->tau = g->a + t;
    /* the generator is seeded from the segment, so results do not depend on the order in
     * which segments are evaluated */
    gsl_rng_set(rng, (unsigned long)(o->seed ^ (g->a * 0x9E3779B97F4A7C15ULL) ^
                                     (g->b * 0xC2B2AE3D27D4EB4FULL)));
    for (unsigned k = 0; k < o->perms; k++) {
        gsl_ran_shuffle(rng, rx, n, sizeof *rx);
        best_split(rx, n, o->min_seg, s, &t, &g->perm[k]);
    }
    free(rx);
    return 0;
}

static int cmp_change(const void *a, const void *b)
{
    const struct ediv_change *x = a, *y = b;
    return (x->at > y->at) - (x->at < y->at);
}

int ediv_detect(const double *x, size_t n, const struct ediv_opts *o, struct ediv_change *out,
                size_t cap, size_t *nout)
{
    *nout = 0;
    if (n < 2 * o->min_seg || n < 4)
        return 0;
    size_t nseg = 1, segcap = cap + 1;
    struct segment *seg = calloc(segcap, sizeof *seg);
    struct scratch s;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int ret = -1;
    if (!seg || !rng || scratch_init(&s, n)) {
        free(seg);
        if (rng)
            gsl_rng_free(rng);
        return -1;
    }
    seg[0].a = 0;
    seg[0].b = n;
    if (seg_eval(x, &seg[0], o, &s, rng))
        goto out;
    while (*nout < cap) {
        size_t best = nseg;
        for (size_t i = 0; i < nseg; i++)
            if (seg[i].tau && (best == nseg || seg[i].q > seg[best].q))
                best = i;
        if (best == nseg)
            break;
        /* permuted statistic: the largest best-Q over all splittable segments, each
         * permuted on its own */
        unsigned above = 0;
        for (unsigned k = 0; k < o->perms; k++) {
            double m = -INFINITY;
            for (size_t i = 0; i < nseg; i++)
                if (seg[i].tau && seg[i].perm[k] > m)
                    m = seg[i].perm[k];
            above += m >= seg[best].q;
        }
        double p = (1.0 + above) / (o->perms + 1.0);
        if (p > o->alpha)
            break;
        out[(*nout)++] = (struct ediv_change){ .at = seg[best].tau, .q = seg[best].q, .p = p };
        struct segment right = { .a = seg[best].tau, .b = seg[best].b };
        free(seg[best].perm);
        seg[best].b = right.a;
        if (seg_eval(x, &seg[best], o, &s, rng))
            goto out;
        seg[nseg] = right;
        if (seg_eval(x, &seg[nseg++], o, &s, rng))
            goto out;
    }
    qsort(out, *nout, sizeof *out, cmp_change);
    ret = 0;
out:
    for (size_t i = 0; i < nseg; i++)
        free(seg[i].perm);
    free(seg);
    scratch_free(&s);
    gsl_rng_free(rng);
    return ret;
}
