/* Creating and pre-faulting guest memory: guest_mem_create_placed(prefault=yes) against
 * the plainest reference, one thread doing mmap (+ the same madvise) and touching every
 * page, in the same process, interleaved. usage: bench_prefault BACKING SIZE ROUNDS
 * Prints "vmm_s X ref_s Y ratio Z" (medians). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "stats.h"
#include "vmm/guest_mem.h"
#include "vmm/placement.h"
#include "vmm/size.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int reference(enum vmm_backing b, uint64_t bytes)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    uint64_t step = 4096;
    if (b == VMM_BACKING_HUGETLB_2MB) {
        flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT);
        step = 2ull << 20;
    }
    uint8_t *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (b == VMM_BACKING_ANONYMOUS)
        madvise(p, bytes, MADV_NOHUGEPAGE);
    if (b == VMM_BACKING_ANONYMOUS_THP)
        madvise(p, bytes, MADV_HUGEPAGE);
    for (uint64_t off = 0; off < bytes; off += step)
        ((volatile uint8_t *)p)[off] = 0;
    munmap(p, bytes);
    return 0;
}

int main(int argc, char **argv)
{
    struct vmm_placement pl;
    struct vmm_err e = { 0 };
    uint64_t bytes;
    memset(&pl, 0, sizeof pl);
    if (argc != 4 || vmm_parse_backing(argv[1], &pl.backing, &e) || vmm_parse_size(argv[2], &bytes))
        return fprintf(stderr, "usage: bench_prefault BACKING SIZE ROUNDS\n"), 2;
    int rounds = atoi(argv[3]);
    if (rounds < 1 || rounds > 50)
        return 2;
    pl.prefault = true;
    struct vmm_resolved r = { .nvnodes = 1, .vnode_size = { bytes }, .vnode_host = { -1 } };
    double *tv = calloc((size_t)rounds, sizeof *tv), *tr = calloc((size_t)rounds, sizeof *tr);
    /* Alternate which goes first, so neither always meets the other's leftovers. */
    for (int i = 0; i < 2 * rounds; i++) {
        bool ref = (i % 2) == (i / 2 % 2);
        double t0 = now();
        if (ref) {
            if (reference(pl.backing, bytes))
                return fprintf(stderr, "bench_prefault: reference mmap failed\n"), 1;
            tr[i / 2] = now() - t0;
        } else {
            struct guest_mem gm;
            if (guest_mem_create_placed(&gm, bytes, &pl, &r, &e))
                return fprintf(stderr, "bench_prefault: %s\n", e.msg), 1;
            guest_mem_destroy(&gm);
            tv[i / 2] = now() - t0;
        }
    }
    stats_sort(tv, (size_t)rounds);
    stats_sort(tr, (size_t)rounds);
    double a = stats_quantile_sorted(tv, (size_t)rounds, 0.5);
    double b = stats_quantile_sorted(tr, (size_t)rounds, 0.5);
    printf("vmm_s %.3f ref_s %.3f ratio %.3f\n", a, b, a / b);
    free(tv);
    free(tr);
    return 0;
}
