/* The two-stage bootstrap's replicates (hier_boot, see hier.h), without drawing every
 * batch.
 *
 * A replicate draws R runs with replacement, then m_r batches of every drawn run r with
 * replacement, and takes the location of the pooled draw. Drawn one batch at a time that
 * costs reps x n random numbers: 25 s for `vmmbench show` over a million samples. The
 * location needs far less than every draw.
 *
 * Median, exact (runs of under BOOT_MIX_MIN batches). Sort all n values once (global
 * ranks 0..n-1). Run r, drawn k_r times in stage 1, contributes N_r = k_r m_r draws spread
 * multinomially over its own values. The middle rank of the pool is found by descending
 * the rank range [lo, hi) in halves: the draws of run r that fall in [lo, mid), given the
 * c_r that fell in [lo, hi), are Binomial(c_r, w_r(lo, mid) / w_r(lo, hi)), w_r counting
 * r's values in a range. That is how a multinomial is drawn by splitting, so the pooled
 * counts have exactly the distribution of the batch-by-batch draw; only the half holding
 * the middle rank (or the halves holding the two middle ranks) is followed: about
 * R log2(m) binomials instead of n uniform draws.
 *
 * Median, mixture (every run has BOOT_MIX_MIN batches or more). Stage 2 draws the pooled
 * N = sum N_r batches as N independent draws from the mixture G = sum (N_r / N) F_r of the
 * drawn runs' distributions, instead of exactly N_r from each run. Its k-th smallest draw
 * is G^-1 of a Beta(k, N - k + 1) variable, the next one G^-1 of the next uniform order
 * statistic: one Beta draw and a weighted rank search per replicate. The difference from
 * the exact draw is in the variance of the pooled count below the median:
 * sum N_r (F_r - G)^2 more, against stage 1's own m sum N_r (F_r - G)^2 (and against
 * stage 2's N G (1 - G) when runs are alike): at most 1/m of the variance, under 2% of the
 * standard error from 64 batches a run. tests/unit/test_hier_boot.c holds both methods to
 * the batch-by-batch bootstrap.
 *
 * Mean. The sum of N_r draws from run r is drawn exactly when N_r is small, and as the
 * normal N_r mu_r + sqrt(N_r) sigma_r Z (mu_r, sigma_r: the run's own mean and population
 * SD) when N_r > BOOT_EXACT_SUM; a replicate's mean only feeds a standard error, which
 * the central limit theorem gets right at that size. */
#include "hier.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOOT_EXACT_SUM 64
#define BOOT_MIX_MIN 64
/* The mixture's rank search: cumulative per-run counts every BOOT_BLOCK ranks (more when
 * that table would pass BOOT_TABLE_MAX entries), then a scan within one block. */
#define BOOT_BLOCK 256
#define BOOT_TABLE_MAX (4u << 20)

/* A run with draws inside the current rank range: which run, how many of its draws fell
 * in the range, how many of its values the range holds. */
struct live {
    size_t run;
    unsigned long draws;
    size_t weight;
    size_t below;     /* how many of its values rank below the range */
};

struct boot {
    const struct hsample *s;
    size_t n, R;
    gsl_rng *g;
    size_t *order;          /* order[g]: index into s->v of global rank g */
    unsigned long *picks;   /* stage 1: how often each run was drawn */
    /* exact median */
    size_t *rank;           /* run r's values' global ranks, ascending, at off[r] .. off[r+1] */
    struct live *scratch;   /* 4R entries: see descend */
    /* mixture median */
    size_t *run_at;         /* the run of global rank g */
    uint32_t *table;        /* table[j R + r]: run r's values ranked below j * block */
    size_t block, nblocks;
    size_t *drawn;          /* the runs drawn in stage 1, ndrawn of them */
    size_t ndrawn;
};

static int cmp_index(const void *pa, const void *pb, void *arg)
{
    const double *v = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    if (v[a] != v[b])
        return (v[a] > v[b]) - (v[a] < v[b]);
    return (a > b) - (a < b);    /* a total order, so the ranks do not depend on qsort */
}

/* Binomial(n, p) for n beyond gsl's unsigned int: a sum of binomials is one. */
static unsigned long binom(gsl_rng *g, double p, unsigned long n)
{
    unsigned long k = 0;
    while (n > UINT_MAX) {
        k += gsl_ran_binomial(g, p, UINT_MAX);
        n -= UINT_MAX;
    }
    return k + gsl_ran_binomial(g, p, (unsigned)n);
}

/* How many of x's values in the range rank below g: a search of only the part of the
 * run's ranks that the range holds, rank[off + below .. off + below + weight). */
static size_t ranks_below(const struct boot *b, const struct live *x, size_t g)
{
    const size_t *rk = b->rank + b->s->off[x->run] + x->below;
    size_t lo = 0, hi = x->weight;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rk[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The values at pooled ranks want[0..nwant) (ascending, 1 or 2 of them), found among the
 * nl live runs' draws in global ranks [lo, hi); cum draws lie below lo.
 * Room: a level writes its two children after its own list (3 lists), then continues
 * in the one half that holds every wanted rank, moving that child to the front. Where the
 * two middle ranks part, the right child goes to the front and the left child after it,
 * so the left half's descent (3 lists from there) never reaches the right child: 4R
 * entries in all. */
static void descend(struct boot *b, struct live *live, size_t nl, size_t lo, size_t hi,
                    unsigned long cum, const unsigned long *want, size_t nwant, double *got)
{
    /* down to one rank, or to a range of equal values (ties are common: nanoseconds
     * and cycles are integers), where every rank holds the same answer */
    while (hi - lo > 1 && b->s->v[b->order[lo]] != b->s->v[b->order[hi - 1]]) {
        size_t mid = lo + (hi - lo) / 2;
        struct live *left = live + nl, *right = left + nl;
        size_t nleft = 0, nright = 0;
        unsigned long in_left = 0;
        for (size_t j = 0; j < nl; j++) {
            const struct live *x = &live[j];
            size_t wl = ranks_below(b, x, mid), wr = x->weight - wl;
            unsigned long dl = wl == 0   ? 0
                               : wr == 0 ? x->draws
                                         : binom(b->g, (double)wl / (double)x->weight, x->draws);
            unsigned long dr = x->draws - dl;
            if (dl)
                left[nleft++] = (struct live){ x->run, dl, wl, x->below };
            if (dr)
                right[nright++] = (struct live){ x->run, dr, wr, x->below + wl };
            in_left += dl;
        }
        bool first_left = want[0] < cum + in_left;
        bool last_left = want[nwant - 1] < cum + in_left;
        if (first_left && !last_left) {    /* the two middle ranks part here */
            memcpy(live, right, nright * sizeof *right);
            memmove(live + nright, left, nleft * sizeof *left);
            descend(b, live + nright, nleft, lo, mid, cum, want, 1, got);
            descend(b, live, nright, mid, hi, cum + in_left, want + 1, 1, got + 1);
            return;
        }
        if (first_left) {
            memmove(live, left, nleft * sizeof *left);
            nl = nleft;
            hi = mid;
        } else {
            memmove(live, right, nright * sizeof *right);
            nl = nright;
            cum += in_left;
            lo = mid;
        }
    }
    for (size_t i = 0; i < nwant; i++)
        got[i] = b->s->v[b->order[lo]];
}

/* W(j): the drawn batches' weight of the ranks below block j's start,
 * sum over drawn runs of k_r x (run r's values among them). */
static double block_weight(const struct boot *b, size_t j)
{
    const uint32_t *row = b->table + j * b->R;
    double w = 0;
    for (size_t i = 0; i < b->ndrawn; i++)
        w += (double)b->picks[b->drawn[i]] * row[b->drawn[i]];
    return w;
}

/* G^-1(u): the smallest rank g with W(g + 1) >= u N, W(g) the stage-1 weight of the ranks
 * below g (each value weighs its run's k_r). */
static size_t mixture_rank(const struct boot *b, double u, double total)
{
    double t = u * total;
    size_t lo = 0, hi = b->nblocks;    /* the last block start with W < t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (block_weight(b, mid) < t)
            lo = mid;
        else
            hi = mid;
    }
    double w = block_weight(b, lo);
    size_t g = lo * b->block, end = g + b->block < b->n ? g + b->block : b->n;
    for (; g < end; g++) {
        w += (double)b->picks[b->run_at[g]];
        if (w >= t)
            return g;
    }
    return b->n - 1;    /* rounding at u near 1 */
}

/* The values at pooled ranks k1 and k1 + 1 of N mixture draws (see the top). */
static void mixture_median(struct boot *b, unsigned long total, unsigned long k1, bool two,
                           double *got)
{
    double u1 = gsl_ran_beta(b->g, (double)k1 + 1, (double)(total - k1));
    got[0] = b->s->v[b->order[mixture_rank(b, u1, (double)total)]];
    if (two) {
        /* the next of N uniforms: the least of the N - k1 - 1 above u1 */
        double u2 = 1 - (1 - u1) * pow(gsl_rng_uniform_pos(b->g), 1.0 / (double)(total - k1 - 1));
        got[1] = b->s->v[b->order[mixture_rank(b, u2, (double)total)]];
    }
}

/* Sum of n draws (with replacement) from run r's values. */
static double draw_sum(struct boot *b, size_t r, unsigned long n, const double *mu,
                       const double *sd)
{
    size_t base = b->s->off[r], m = b->s->off[r + 1] - base;
    if (n <= BOOT_EXACT_SUM) {
        double sum = 0;
        for (unsigned long i = 0; i < n; i++)
            sum += b->s->v[base + gsl_rng_uniform_int(b->g, m)];
        return sum;
    }
    return (double)n * mu[r] + sqrt((double)n) * sd[r] * gsl_ran_ugaussian(b->g);
}

/* The sorted order, every rank's run, and what the chosen median method needs. */
static int boot_setup(struct boot *b, bool mixture)
{
    const struct hsample *s = b->s;
    size_t n = b->n, R = b->R;
    b->order = malloc((n ? n : 1) * sizeof *b->order);
    b->run_at = malloc((n ? n : 1) * sizeof *b->run_at);
    size_t *run_of = malloc((n ? n : 1) * sizeof *run_of);
    int ret = -1;
    if (!b->order || !b->run_at || !run_of)
        goto out;
    for (size_t i = 0; i < n; i++)
        b->order[i] = i;
    qsort_r(b->order, n, sizeof *b->order, cmp_index, (void *)s->v);
    for (size_t r = 0; r < R; r++)
        for (size_t j = s->off[r]; j < s->off[r + 1]; j++)
            run_of[j] = r;
    for (size_t g = 0; g < n; g++)
        b->run_at[g] = run_of[b->order[g]];
    if (mixture) {
        b->block = BOOT_BLOCK;
        if (R && n / BOOT_BLOCK + 1 > BOOT_TABLE_MAX / R)
            b->block = n / (BOOT_TABLE_MAX / R) + 1;
        b->nblocks = n / b->block + 1;
        b->table = malloc(b->nblocks * (R ? R : 1) * sizeof *b->table);
        uint32_t *count = calloc(R ? R : 1, sizeof *count);
        if (!b->table || !count) {
            free(count);
            goto out;
        }
        for (size_t g = 0; g < n; g++) {
            if (g % b->block == 0)
                memcpy(b->table + g / b->block * R, count, R * sizeof *count);
            count[b->run_at[g]]++;
        }
        if (n % b->block == 0)    /* a last block start at n: weight of everything */
            memcpy(b->table + n / b->block * R, count, R * sizeof *count);
        free(count);
    } else {
        b->rank = malloc((n ? n : 1) * sizeof *b->rank);
        b->scratch = malloc(4 * (R ? R : 1) * sizeof *b->scratch);
        size_t *fill = calloc(R ? R : 1, sizeof *fill);
        if (!b->rank || !b->scratch || !fill) {
            free(fill);
            goto out;
        }
        for (size_t g = 0; g < n; g++) {
            size_t r = b->run_at[g];
            b->rank[s->off[r] + fill[r]++] = g;
        }
        free(fill);
    }
    ret = 0;
out:
    free(run_of);
    return ret;
}

int hier_boot(const struct hsample *s, enum hier_loc loc, unsigned reps, uint64_t seed,
              double *out)
{
    size_t n = s->off[s->nruns], R = s->nruns, one = R ? R : 1;
    struct boot b = { .s = s, .n = n, .R = R };
    /* the mixture when every run with batches has enough of them */
    bool mixture = loc == HIER_MEDIAN;
    for (size_t r = 0; r < R; r++) {
        size_t m = s->off[r + 1] - s->off[r];
        if (m && m < BOOT_MIX_MIN)
            mixture = false;
    }
    b.picks = calloc(one, sizeof *b.picks);
    b.drawn = malloc(one * sizeof *b.drawn);
    double *mu = malloc(one * sizeof *mu), *sd = malloc(one * sizeof *sd);
    b.g = gsl_rng_alloc(gsl_rng_mt19937);
    int ret = -1;
    if (!b.picks || !b.drawn || !mu || !sd || !b.g)
        goto out;
    /* the median needs the sorted ranks; the mean only each run's mean and SD */
    if (loc == HIER_MEDIAN && boot_setup(&b, mixture))
        goto out;
    ret = 0;
    for (size_t r = 0; r < R && loc == HIER_MEAN; r++) {
        const double *x = s->v + s->off[r];
        size_t m = s->off[r + 1] - s->off[r];
        mu[r] = m ? gsl_stats_mean(x, 1, m) : 0;
        sd[r] = m ? gsl_stats_sd_with_fixed_mean(x, 1, m, mu[r]) : 0; /* population SD */
    }
    unsigned long sd_seed = (unsigned long)(seed ^ (seed >> 32));
    gsl_rng_set(b.g, sd_seed ? sd_seed : 5489UL);
    for (unsigned k = 0; k < reps; k++) {
        memset(b.picks, 0, R * sizeof *b.picks);
        for (size_t i = 0; i < R; i++)
            b.picks[gsl_rng_uniform_int(b.g, R)]++;    /* stage 1: the runs */
        size_t nl = 0;
        unsigned long total = 0;
        double sum = 0;
        b.ndrawn = 0;
        for (size_t r = 0; r < R; r++) {
            size_t m = s->off[r + 1] - s->off[r];
            unsigned long draws = b.picks[r] * m;    /* stage 2: their batches */
            if (!draws)
                continue;
            total += draws;
            b.drawn[b.ndrawn++] = r;
            if (loc == HIER_MEAN)
                sum += draw_sum(&b, r, draws, mu, sd);
            else if (!mixture)
                b.scratch[nl++] = (struct live){ r, draws, m, 0 };
        }
        if (total == 0) {
            out[k] = NAN;
            continue;
        }
        if (loc == HIER_MEAN) {
            out[k] = sum / (double)total;
            continue;
        }
        /* 0-based ranks of the middle one or two of the resample */
        unsigned long want[2] = { (total - 1) / 2, total / 2 };
        bool two = want[0] != want[1];
        double got[2];
        if (mixture)
            mixture_median(&b, total, want[0], two, got);
        else
            descend(&b, b.scratch, nl, 0, n, 0, want, two ? 2 : 1, got);
        out[k] = two ? (got[0] + got[1]) / 2 : got[0];
    }
out:
    if (b.g)
        gsl_rng_free(b.g);
    free(b.picks);
    free(b.drawn);
    free(mu);
    free(sd);
    free(b.order);
    free(b.run_at);
    free(b.rank);
    free(b.scratch);
    free(b.table);
    return ret;
}
