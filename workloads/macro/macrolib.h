/* The application kernels of the macro workloads (compute, sort, gups, kvs, graph):
 * portable C over plain memory, no workload API, so the same code runs in the guest
 * (ring 3, SSE allowed), in the host's native twin and in the unit tests. Each kernel
 * comes with the check of its own result: a wrong answer is caught, never timed. Work
 * that several vCPUs share takes (t, threads) and a barrier all of them pass. */
#ifndef WORKLOADS_MACROLIB_H
#define WORKLOADS_MACROLIB_H

#include <stdint.h>

#include "guest/workload.h"

/* ---- shared ---- */
/* splitmix64's finaliser: a bijection of 64-bit words (0 maps to 0), used to make keys
 * and checksums; and the generator built on it (a fixed seed: the same stream in the
 * guest and on the host). */
uint64_t mac_mix64(uint64_t x);
uint64_t mac_rng(uint64_t *state);
/* Uniform double in [0, 1). */
double mac_rng_unit(uint64_t *state);
/* [lo, hi) of n items for thread t of `threads`. */
void mac_slice(uint64_t n, unsigned t, unsigned threads, uint64_t *lo, uint64_t *hi);
/* exp and natural log for doubles: the guest has no libm (relative error < 1e-13). */
double mac_exp(double x);
double mac_log(double x);
double mac_pow(double x, double y); /* x > 0 */

/* ---- compute: DGEMM, C = A * B, n x n row-major, blocked for the cache ----
 * A and B hold small integers (|v| <= 4), so every product and sum is exact in double
 * and the check can demand equality. */
void dgemm_fill(double *a, double *b, uint64_t n, uint64_t seed);
/* Rows [r0, r1) of C, which must be zero on entry. */
void dgemm_rows(const double *a, const double *b, double *c, uint64_t n, uint64_t r0,
                uint64_t r1);
/* Freivalds' check: C x == A (B x) for a random integer vector x (scratch: 2n doubles).
 * Returns the number of rows that disagree (0: C is right with certainty for any single
 * wrong entry, since x has no zero element). */
uint64_t dgemm_verify(const double *a, const double *b, const double *c, uint64_t n,
                      uint64_t seed, double *scratch);
static inline uint64_t dgemm_flops(uint64_t n) { return 2 * n * n * n; }

/* ---- sort: parallel LSD radix sort of 64-bit keys (8 passes of 8 bits) ---- */
struct radix_sort {
    uint64_t *keys, *tmp;        /* n keys each; the result ends in keys */
    uint64_t n;
    unsigned threads;
    uint64_t (*hist)[256];       /* threads x 256 counts */
    struct wl_barrier bar;
};
/* Called by every thread t < threads; returns when keys is sorted. */
void radix_sort_thread(struct radix_sort *s, unsigned t);
/* Keys [lo, hi) from the stream `seed`, position-seeded so threads fill in parallel. */
void sort_fill(uint64_t *keys, uint64_t lo, uint64_t hi, uint64_t seed);
/* Order-independent checksum of a multiset of keys (sum and xor of their mixes). */
struct sort_sum {
    uint64_t sum, xr;
};
void sort_checksum(const uint64_t *keys, uint64_t lo, uint64_t hi, struct sort_sum *out);
/* 0 when keys is ascending and its checksum equals `before` (a permutation of the
 * input); 1 when out of order, 2 when not the same keys. */
int sort_verify(const uint64_t *keys, uint64_t n, const struct sort_sum *before);

/* ---- gups: HPCC RandomAccess ----
 * Table of 2^log2n words, t[i] = i; updates = 4 x the table; the stream is HPCC's LFSR
 * (polynomial 0x7), thread t running its slice from HPCC_starts(first index). */
uint64_t hpcc_starts(int64_t n);
void gups_init(uint64_t *t, uint64_t lo, uint64_t hi);
void gups_update(uint64_t *t, uint64_t size, uint64_t first, uint64_t count);
/* HPCC's verification: applies the whole stream again on one thread (xor undoes it) and
 * counts the words that are not back to their index (lost updates of racing threads).
 * HPCC passes a run with errors <= 1% of the table. */
uint64_t gups_verify(uint64_t *t, uint64_t size, uint64_t updates);

/* ---- kvs: open-addressing (linear probing) hash table of 64-bit keys and values ---- */
struct kv_slot {
    uint64_t key;                /* 0: empty */
    uint64_t val;                /* low 32 bits always equal the key's: the check */
};
struct kv_table {
    struct kv_slot *slot;
    uint64_t mask;               /* capacity - 1, capacity a power of two */
};
/* The key of record i (distinct and non-zero for every i). */
static inline uint64_t kv_key(uint64_t i) { return mac_mix64(i + 1); }
void kv_clear(struct kv_table *t, uint64_t lo, uint64_t hi);
/* 0, or -1 when the table is full. */
int kv_insert(struct kv_table *t, uint64_t key, uint64_t val);
/* The slot holding key, NULL when absent. */
struct kv_slot *kv_find(const struct kv_table *t, uint64_t key);
static inline uint64_t kv_value(uint64_t key, uint64_t version)
{
    return version << 32 | (key & 0xffffffffu);
}
/* Counts records 0..nkeys-1 that are missing or whose value breaks the check. */
uint64_t kv_verify(const struct kv_table *t, uint64_t nkeys);
/* Zipf-distributed ranks in [0, n) with exponent theta (0 < theta < 1), Gray et al.'s
 * method ("Quickly generating billion-record synthetic databases", SIGMOD 1994), as
 * YCSB does; rank 0 the most popular. */
struct zipf {
    uint64_t n;
    double theta, alpha, zetan, eta, half_pow_theta;
};
void zipf_init(struct zipf *z, uint64_t n, double theta);
uint64_t zipf_next(const struct zipf *z, uint64_t *rng);
/* ZETA(n, theta) = sum 1/i^theta, i = 1..n. */
double zipf_zeta(uint64_t n, double theta);

/* ---- graph: Graph500 Kronecker generator, CSR, parallel BFS, parent validation ---- */
struct kron_edge {
    uint32_t u, v;
};
/* Edges [lo, hi) of a scale-`scale` Kronecker graph (A, B, C = 0.57, 0.19, 0.19), vertex
 * labels scrambled by `perm` (a permutation of 2^scale vertices from kron_perm). */
void kron_edges(struct kron_edge *e, uint64_t lo, uint64_t hi, unsigned scale,
                const uint32_t *perm, uint64_t seed);
void kron_perm(uint32_t *perm, uint64_t nv, uint64_t seed);
/* Undirected CSR: xoff[nv + 1], adj[2 * ne] (self loops left out). deg is nv counts of
 * scratch. */
struct csr {
    uint64_t nv;
    uint64_t *xoff;
    uint32_t *adj;
};
void csr_build(struct csr *g, const struct kron_edge *e, uint64_t ne, uint64_t *deg);
/* Level-synchronous top-down BFS shared by `threads` threads; parent[v] = -1 unreached. */
struct bfs {
    const struct csr *g;
    int64_t *parent;
    uint32_t *cur, *next;        /* frontier queues, nv each */
    volatile uint64_t ncur, nnext;
    uint64_t root;
    unsigned threads;
    struct wl_barrier bar;
};
void bfs_thread(struct bfs *b, unsigned t);
/* Graph500's validation of a BFS tree: the root is its own parent, every tree edge is a
 * graph edge, levels of an edge's ends differ by at most one, and every vertex of the
 * root's component is reached. level: nv scratch words. Returns 0 when valid (and the
 * input edges inside the component in *edges: what TEPS counts), else a code 1..5. */
int bfs_validate(const struct csr *g, const struct kron_edge *e, uint64_t ne,
                 const int64_t *parent, uint64_t root, int64_t *level, uint64_t *edges);

#endif
