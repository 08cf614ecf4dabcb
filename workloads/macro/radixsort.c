/* sort's kernel: a parallel LSD radix sort of 64-bit keys, 8 passes of 8 bits. Each pass:
 * every thread counts the digits of its slice, then (after a barrier) computes where its
 * keys of each digit go (all smaller digits of every thread, then this digit of the
 * threads before it) and scatters them; the order within a digit is kept, which is what
 * makes LSD passes compose. An even pass count leaves the result in `keys`. */
#include "macrolib.h"

#define RADIX_BITS 8
#define RADIX 256
#define PASSES (64 / RADIX_BITS)

void radix_sort_thread(struct radix_sort *s, unsigned t)
{
    uint64_t lo, hi;
    mac_slice(s->n, t, s->threads, &lo, &hi);
    uint64_t *src = s->keys, *dst = s->tmp;
    for (unsigned pass = 0; pass < PASSES; pass++) {
        unsigned shift = pass * RADIX_BITS;
        uint64_t *h = s->hist[t];
        for (unsigned d = 0; d < RADIX; d++)
            h[d] = 0;
        for (uint64_t i = lo; i < hi; i++)
            h[src[i] >> shift & (RADIX - 1)]++;
        wl_barrier_wait(&s->bar, s->threads);
        uint64_t off[RADIX], base = 0;
        for (unsigned d = 0; d < RADIX; d++) {
            uint64_t before = 0, total = 0;
            for (unsigned u = 0; u < s->threads; u++) {
                total += s->hist[u][d];
                if (u < t)
                    before += s->hist[u][d];
            }
            off[d] = base + before;
            base += total;
        }
        for (uint64_t i = lo; i < hi; i++) {
            uint64_t k = src[i];
            dst[off[k >> shift & (RADIX - 1)]++] = k;
        }
        /* Nobody counts the next pass (overwriting hist) before all have scattered. */
        wl_barrier_wait(&s->bar, s->threads);
        uint64_t *x = src;
        src = dst;
        dst = x;
    }
}

void sort_fill(uint64_t *keys, uint64_t lo, uint64_t hi, uint64_t seed)
{
    for (uint64_t i = lo; i < hi; i++)
        keys[i] = mac_mix64(seed + i * 0x9e3779b97f4a7c15ull);
}

void sort_checksum(const uint64_t *keys, uint64_t lo, uint64_t hi, struct sort_sum *out)
{
    uint64_t sum = 0, xr = 0;
    for (uint64_t i = lo; i < hi; i++) {
        uint64_t m = mac_mix64(keys[i] ^ 0xa5a5a5a5a5a5a5a5ull);
        sum += m;
        xr ^= m;
    }
    out->sum = sum;
    out->xr = xr;
}

int sort_verify(const uint64_t *keys, uint64_t n, const struct sort_sum *before)
{
    for (uint64_t i = 1; i < n; i++)
        if (keys[i - 1] > keys[i])
            return 1;
    struct sort_sum after;
    sort_checksum(keys, 0, n, &after);
    return after.sum != before->sum || after.xr != before->xr ? 2 : 0;
}
