/* The TSC frequency without KVM (native runs on a host with no /dev/kvm): the TSC counted
 * against CLOCK_MONOTONIC_RAW over three 20 ms windows, the median kept. Only an
 * invariant TSC (constant_tsc and nonstop_tsc in /proc/cpuinfo) ticks at one rate; with
 * another the answer is 0, and the caller says why. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "vmm/native.h"

static int tsc_is_invariant(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[8192];
    int ok = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0) {
            ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
            break;
        }
    fclose(f);
    return ok;
}

static double mono_raw_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_RAW, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double one_window_khz(void)
{
    unsigned aux;
    double t0 = mono_raw_ns();
    unsigned long long c0 = __rdtscp(&aux);
    while (mono_raw_ns() - t0 < 20e6) {
    }
    unsigned long long c1 = __rdtscp(&aux);
    double t1 = mono_raw_ns();
    return (double)(c1 - c0) / (t1 - t0) * 1e6;
}

unsigned long long tsc_khz_calibrated(void)
{
    if (!tsc_is_invariant())
        return 0;
    double k[3];
    for (int i = 0; i < 3; i++)
        k[i] = one_window_khz();
    /* the median of three */
    double lo = k[0] < k[1] ? k[0] : k[1], hi = k[0] < k[1] ? k[1] : k[0];
    double med = k[2] < lo ? lo : k[2] > hi ? hi : k[2];
    return (unsigned long long)(med + 0.5);
}
