/* Shared by the memory workloads (tlb, bw, numa-matrix, contention): the dependent
 * pointer chase, STREAM's kernels and byte counts, the timed loops. Portable C: built
 * for the guest (ring 3, SSE allowed) and, unchanged, for the host's native runs. */
#ifndef WORKLOADS_MEMLIB_H
#define WORKLOADS_MEMLIB_H

#include <stdint.h>

#include "guest/workload.h"

/* xorshift64*: a fixed seed gives the same chase in the guest and on the host. */
uint64_t mem_rng(uint64_t *state);
/* Uniform in [0, bound). */
uint64_t mem_rng_below(uint64_t *state, uint64_t bound);

/* Links n elements `stride` bytes apart from base into ONE cycle in random order, one
 * pointer per element (at its start). window_elems 0 (or >= n): the whole set in one
 * random cycle (Sattolo's algorithm, in place). Otherwise (multichase's TLB-locality
 * window): the cycle visits every element of one window of window_elems elements, in
 * random order, before moving on, windows in random order; that needs
 * chase_scratch_bytes() of scratch. stride >= 8 and a multiple of 8. */
void chase_build(void *base, uint64_t n, uint64_t stride, uint64_t window_elems,
                 uint64_t seed, uint32_t *scratch);
uint64_t chase_scratch_bytes(uint64_t n, uint64_t window_elems);
/* Follows `accesses` dependent loads from p and returns where it ended. */
void *chase_run(void *p, uint64_t accesses);
/* Steps from base back to base (at most limit), 0 when the chain leaves the n elements
 * or does not return: the check that a chase is one cycle over all of them. */
uint64_t chase_cycle_len(void *base, uint64_t n, uint64_t stride, uint64_t limit);

/* STREAM (McCalpin): the four kernels over elements [lo, hi), and the bytes STREAM
 * counts for n elements (reads plus writes, 8-byte doubles, no write-allocate):
 * copy 16n, scale 16n, add 24n, triad 24n. */
enum stream_kernel { STREAM_COPY = 0, STREAM_SCALE, STREAM_ADD, STREAM_TRIAD, STREAM_KERNELS };
extern const char *const stream_kernel_name[STREAM_KERNELS];
uint64_t stream_bytes(enum stream_kernel k, uint64_t n);
void stream_run(enum stream_kernel k, double *a, double *b, double *c, double scalar,
                uint64_t lo, uint64_t hi);
/* STREAM's check of the arrays after `times` rounds of the four kernels: 0 when every
 * element holds the value the recurrence predicts (relative error 1e-13). */
int stream_check(const double *a, const double *b, const double *c, uint64_t n,
                 double scalar, unsigned times);
/* Reads [p, p+bytes) (8-byte loads, summed so they cannot be dropped). */
double mem_read(const double *p, uint64_t elems);

#endif
