/* See memlib.h. */
#include "memlib.h"

#include "guest/lib.h"

uint64_t mem_rng(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t mem_rng_below(uint64_t *s, uint64_t bound)
{
    return (uint64_t)(((unsigned __int128)mem_rng(s) * bound) >> 64);
}

static inline uint64_t *slot(void *base, uint64_t i, uint64_t stride)
{
    return (uint64_t *)((char *)base + i * stride);
}

uint64_t chase_scratch_bytes(uint64_t n, uint64_t window_elems)
{
    if (window_elems == 0 || window_elems >= n)
        return 0;
    uint64_t nw = (n + window_elems - 1) / window_elems;
    return (nw + window_elems) * sizeof(uint32_t);
}

void chase_build(void *base, uint64_t n, uint64_t stride, uint64_t window_elems,
                 uint64_t seed, uint32_t *scratch)
{
    uint64_t rng = seed | 1;
    if (n == 0)
        return;
    if (window_elems == 0 || window_elems >= n) {
        /* Sattolo: a uniformly random cyclic permutation, next(i) = a[i], built in the
         * elements themselves as indices, then turned into pointers. */
        for (uint64_t i = 0; i < n; i++)
            *slot(base, i, stride) = i;
        for (uint64_t i = n - 1; i > 0; i--) {
            uint64_t j = mem_rng_below(&rng, i);
            uint64_t t = *slot(base, i, stride);
            *slot(base, i, stride) = *slot(base, j, stride);
            *slot(base, j, stride) = t;
        }
        for (uint64_t i = 0; i < n; i++)
            *slot(base, i, stride) = (uint64_t)(uintptr_t)slot(base, *slot(base, i, stride), stride);
        return;
    }
    uint64_t we = window_elems, nw = (n + we - 1) / we;
    uint32_t *order = scratch, *local = scratch + nw;
    for (uint64_t w = 0; w < nw; w++)
        order[w] = (uint32_t)w;
    for (uint64_t w = nw - 1; w > 0; w--) {
        uint64_t j = mem_rng_below(&rng, w + 1);
        uint32_t t = order[w];
        order[w] = order[j];
        order[j] = t;
    }
    uint64_t *prev = 0, *first = 0;
    for (uint64_t k = 0; k < nw; k++) {
        uint64_t w0 = (uint64_t)order[k] * we;
        uint64_t m = n - w0 < we ? n - w0 : we;
        for (uint64_t i = 0; i < m; i++)
            local[i] = (uint32_t)i;
        for (uint64_t i = m - 1; i > 0; i--) {
            uint64_t j = mem_rng_below(&rng, i + 1);
            uint32_t t = local[i];
            local[i] = local[j];
            local[j] = t;
        }
        for (uint64_t i = 0; i < m; i++) {
            uint64_t *e = slot(base, w0 + local[i], stride);
            if (prev)
                *prev = (uint64_t)(uintptr_t)e;
            else
                first = e;
            prev = e;
        }
    }
    *prev = (uint64_t)(uintptr_t)first;
}

void *chase_run(void *start, uint64_t accesses)
{
    void **p = start;
    uint64_t i = 0;
    for (; i + 8 <= accesses; i += 8) {
        p = (void **)*p; p = (void **)*p; p = (void **)*p; p = (void **)*p;
        p = (void **)*p; p = (void **)*p; p = (void **)*p; p = (void **)*p;
    }
    for (; i < accesses; i++)
        p = (void **)*p;
    __asm__ volatile("" : "+r"(p));
    return p;
}

uint64_t chase_cycle_len(void *base, uint64_t n, uint64_t stride, uint64_t limit)
{
    uintptr_t lo = (uintptr_t)base, hi = lo + n * stride;
    uint64_t *p = base;
    for (uint64_t steps = 1; steps <= limit; steps++) {
        uintptr_t next = (uintptr_t)*p;
        if (next < lo || next >= hi || (next - lo) % stride)
            return 0;
        if (next == lo)
            return steps;
        p = (uint64_t *)next;
    }
    return 0;
}

const char *const stream_kernel_name[STREAM_KERNELS] = { "copy", "scale", "add", "triad" };

uint64_t stream_bytes(enum stream_kernel k, uint64_t n)
{
    return (k == STREAM_COPY || k == STREAM_SCALE ? 2 : 3) * sizeof(double) * n;
}

void stream_run(enum stream_kernel k, double *a, double *b, double *c, double scalar,
                uint64_t lo, uint64_t hi)
{
    switch (k) {
    case STREAM_COPY:
        for (uint64_t j = lo; j < hi; j++)
            c[j] = a[j];
        break;
    case STREAM_SCALE:
        for (uint64_t j = lo; j < hi; j++)
            b[j] = scalar * c[j];
        break;
    case STREAM_ADD:
        for (uint64_t j = lo; j < hi; j++)
            c[j] = a[j] + b[j];
        break;
    case STREAM_TRIAD:
        for (uint64_t j = lo; j < hi; j++)
            a[j] = b[j] + scalar * c[j];
        break;
    default:
        break;
    }
}

static double absd(double x) { return x < 0 ? -x : x; }

int stream_check(const double *a, const double *b, const double *c, uint64_t n,
                 double scalar, unsigned times)
{
    double aj = 1.0, bj = 2.0, cj = 0.0;
    for (unsigned k = 0; k < times; k++) {
        cj = aj;
        bj = scalar * cj;
        cj = aj + bj;
        aj = bj + scalar * cj;
    }
    for (uint64_t j = 0; j < n; j++)
        if (absd(a[j] - aj) > 1e-13 * absd(aj) || absd(b[j] - bj) > 1e-13 * absd(bj) ||
            absd(c[j] - cj) > 1e-13 * absd(cj))
            return -1;
    return 0;
}

double mem_read(const double *p, uint64_t elems)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint64_t i = 0;
    for (; i + 4 <= elems; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    for (; i < elems; i++)
        s0 += p[i];
    return s0 + s1 + s2 + s3;
}
