/* compute's kernel: a cache-blocked DGEMM (i-k-j order, the inner loop streams a row of
 * B into a row of C) and Freivalds' O(n^2) check of its result. */
#include "macrolib.h"

#define BLOCK_I 32
#define BLOCK_K 64

void dgemm_fill(double *a, double *b, uint64_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (uint64_t i = 0; i < n * n; i++) {
        a[i] = (double)((int64_t)(mac_rng(&s) % 9) - 4);
        b[i] = (double)((int64_t)(mac_rng(&s) % 9) - 4);
    }
}

void dgemm_rows(const double *a, const double *b, double *c, uint64_t n, uint64_t r0,
                uint64_t r1)
{
    for (uint64_t i0 = r0; i0 < r1; i0 += BLOCK_I) {
        uint64_t i1 = i0 + BLOCK_I < r1 ? i0 + BLOCK_I : r1;
        for (uint64_t k0 = 0; k0 < n; k0 += BLOCK_K) {
            uint64_t k1 = k0 + BLOCK_K < n ? k0 + BLOCK_K : n;
            for (uint64_t i = i0; i < i1; i++) {
                double *ci = c + i * n;
                const double *ai = a + i * n;
                for (uint64_t k = k0; k < k1; k++) {
                    double aik = ai[k];
                    const double *bk = b + k * n;
                    for (uint64_t j = 0; j < n; j++)
                        ci[j] += aik * bk[j];
                }
            }
        }
    }
}

uint64_t dgemm_verify(const double *a, const double *b, const double *c, uint64_t n,
                      uint64_t seed, double *scratch)
{
    double *x = scratch, *bx = scratch + n;
    uint64_t s = seed ^ 0x5eed;
    for (uint64_t j = 0; j < n; j++)
        x[j] = (double)(1 + mac_rng(&s) % 15); /* never 0: every entry of C counts */
    for (uint64_t k = 0; k < n; k++) {
        double acc = 0;
        for (uint64_t j = 0; j < n; j++)
            acc += b[k * n + j] * x[j];
        bx[k] = acc;
    }
    uint64_t bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        double want = 0, got = 0;
        for (uint64_t k = 0; k < n; k++)
            want += a[i * n + k] * bx[k];
        for (uint64_t j = 0; j < n; j++)
            got += c[i * n + j] * x[j];
        bad += want != got; /* integers below 2^53: exact */
    }
    return bad;
}
