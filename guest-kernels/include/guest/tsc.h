/* Fenced TSC reads, per the design's measurement rules: the start read may not move
 * before earlier work (lfence; rdtsc); the end read waits for the timed work and later
 * work may not start before it (rdtscp; lfence).
 *
 * At CPL0 on PVM hosts every instruction is emulated and the emulator cannot do rdtscp
 * (KVM_EXIT_INTERNAL_ERROR), so ring-0 runs end with lfence; rdtsc; lfence, which orders
 * the read the same way. The choice is made once per run (tsc_init). */
#ifndef GUEST_TSC_H
#define GUEST_TSC_H

#include <stdint.h>

extern int tsc_end_uses_rdtscp;

static inline void tsc_init(int ring0)
{
    tsc_end_uses_rdtscp = !ring0;
}

static inline uint64_t tsc_begin(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t tsc_end(void)
{
    uint32_t lo, hi;
    if (tsc_end_uses_rdtscp)
        __asm__ volatile("rdtscp; lfence" : "=a"(lo), "=d"(hi) :: "rcx", "memory");
    else
        __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

#endif
