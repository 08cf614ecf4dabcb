/* graph's input: Graph500's Kronecker generator (each of `scale` levels picks a quadrant
 * with probabilities A, B, C, D = 0.57, 0.19, 0.19, 0.05), vertex labels scrambled by a
 * random permutation as the specification asks, and the undirected CSR the BFS walks. */
#include "macrolib.h"

#define KRON_A 0.57
#define KRON_B 0.19
#define KRON_C 0.19

void kron_perm(uint32_t *perm, uint64_t nv, uint64_t seed)
{
    uint64_t s = seed ^ 0x7e57;
    for (uint64_t i = 0; i < nv; i++)
        perm[i] = (uint32_t)i;
    for (uint64_t i = nv - 1; i > 0; i--) {
        uint64_t j = mac_rng(&s) % (i + 1);
        uint32_t x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
}

void kron_edges(struct kron_edge *e, uint64_t lo, uint64_t hi, unsigned scale,
                const uint32_t *perm, uint64_t seed)
{
    const double ab = KRON_A + KRON_B, c_norm = KRON_C / (1.0 - ab), a_norm = KRON_A / ab;
    for (uint64_t k = lo; k < hi; k++) {
        /* Each edge from its own position in the stream: threads generate in parallel. */
        uint64_t s = seed + k * 0x2545f4914f6cdd1dull;
        uint64_t u = 0, v = 0;
        for (unsigned bit = 0; bit < scale; bit++) {
            int ii = mac_rng_unit(&s) > ab;
            int jj = mac_rng_unit(&s) > (ii ? c_norm : a_norm);
            u |= (uint64_t)ii << bit;
            v |= (uint64_t)jj << bit;
        }
        e[k].u = perm[u];
        e[k].v = perm[v];
    }
}

void csr_build(struct csr *g, const struct kron_edge *e, uint64_t ne, uint64_t *deg)
{
    uint64_t nv = g->nv;
    for (uint64_t v = 0; v < nv; v++)
        deg[v] = 0;
    for (uint64_t k = 0; k < ne; k++)
        if (e[k].u != e[k].v)
            deg[e[k].u]++, deg[e[k].v]++;
    g->xoff[0] = 0;
    for (uint64_t v = 0; v < nv; v++) {
        g->xoff[v + 1] = g->xoff[v] + deg[v];
        deg[v] = g->xoff[v]; /* now the fill cursor */
    }
    for (uint64_t k = 0; k < ne; k++)
        if (e[k].u != e[k].v) {
            g->adj[deg[e[k].u]++] = e[k].v;
            g->adj[deg[e[k].v]++] = e[k].u;
        }
}
