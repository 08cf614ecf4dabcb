/* gups' kernel: HPC Challenge RandomAccess. The update stream is HPCC's: a 64-bit LFSR
 * with polynomial x^63 + x^2 + x + 1 (POLY 0x7), entered at any position by HPCC_starts
 * (repeated squaring of the shift matrix), so threads each run one slice of the same
 * stream. Updates race between threads without locks, as HPCC allows: verification
 * counts the lost ones. */
#include "macrolib.h"

#define POLY 0x0000000000000007ull
#define PERIOD 1317624576693539401ll

/* HPCC_starts (RandomAccess/utility.c), restated: the stream's value at position n. */
uint64_t hpcc_starts(int64_t n)
{
    uint64_t m2[64];
    while (n < 0)
        n += PERIOD;
    while (n > PERIOD)
        n -= PERIOD;
    if (n == 0)
        return 0x1;
    uint64_t temp = 0x1;
    for (int i = 0; i < 64; i++) {
        m2[i] = temp;
        temp = (temp << 1) ^ ((int64_t)temp < 0 ? POLY : 0);
        temp = (temp << 1) ^ ((int64_t)temp < 0 ? POLY : 0);
    }
    int i;
    for (i = 62; i >= 0; i--)
        if ((n >> i) & 1)
            break;
    uint64_t ran = 0x2;
    while (i > 0) {
        temp = 0;
        for (int j = 0; j < 64; j++)
            if ((ran >> j) & 1)
                temp ^= m2[j];
        ran = temp;
        i -= 1;
        if ((n >> i) & 1)
            ran = (ran << 1) ^ ((int64_t)ran < 0 ? POLY : 0);
    }
    return ran;
}

void gups_init(uint64_t *t, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = lo; i < hi; i++)
        t[i] = i;
}

void gups_update(uint64_t *t, uint64_t size, uint64_t first, uint64_t count)
{
    uint64_t ran = hpcc_starts((int64_t)first), mask = size - 1;
    for (uint64_t i = 0; i < count; i++) {
        ran = (ran << 1) ^ ((int64_t)ran < 0 ? POLY : 0);
        t[ran & mask] ^= ran;
    }
}

uint64_t gups_verify(uint64_t *t, uint64_t size, uint64_t updates)
{
    gups_update(t, size, 0, updates);
    uint64_t errors = 0;
    for (uint64_t i = 0; i < size; i++)
        errors += t[i] != i;
    return errors;
}
