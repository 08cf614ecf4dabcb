/* What the macro kernels share: the mixer and generator behind keys and checksums, the
 * split of work between threads, and exp/log for the Zipf generator (the guest has no
 * libm; the unit tests hold these to the host's libm). */
#include "macrolib.h"

uint64_t mac_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t mac_rng(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return mac_mix64(*state);
}

double mac_rng_unit(uint64_t *state)
{
    return (double)(mac_rng(state) >> 11) * (1.0 / 9007199254740992.0);
}

void mac_slice(uint64_t n, unsigned t, unsigned threads, uint64_t *lo, uint64_t *hi)
{
    *lo = n * t / threads;
    *hi = n * (t + 1) / threads;
}

union mac_bits {
    double d;
    uint64_t u;
};

#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define LN2 0.6931471805599453094

double mac_exp(double x)
{
    if (x > 709.0)
        x = 709.0;
    if (x < -708.0)
        return 0.0;
    double kf = x / LN2;
    int64_t k = (int64_t)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double r = (x - (double)k * LN2_HI) - (double)k * LN2_LO;
    /* |r| <= ln2/2: Taylor to r^16 is below double precision. */
    double term = 1.0, sum = 1.0;
    for (int i = 1; i <= 16; i++) {
        term *= r / i;
        sum += term;
    }
    union mac_bits s = { .u = (uint64_t)(k + 1023) << 52 };
    return sum * s.d;
}

double mac_log(double x)
{
    union mac_bits b = { .d = x };
    int64_t e = (int64_t)(b.u >> 52 & 0x7ff) - 1023;
    b.u = (b.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
    double m = b.d;
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    /* ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172: the odd series converges fast. */
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = s, sum = 0.0;
    for (int k = 1; k <= 41; k += 2) {
        sum += p / k;
        p *= s2;
    }
    return (double)e * LN2_HI + ((double)e * LN2_LO + 2.0 * sum);
}

double mac_pow(double x, double y)
{
    return mac_exp(y * mac_log(x));
}
