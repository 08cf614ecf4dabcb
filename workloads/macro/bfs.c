/* graph's kernel: level-synchronous top-down BFS on `threads` threads (each expands its
 * slice of the frontier, claims vertices with a compare-and-swap on their parent, and
 * appends them to the next frontier in chunks), and Graph500's validation of the tree. */
#include "macrolib.h"

#define CHUNK 128

static void flush(struct bfs *b, const uint32_t *buf, unsigned n)
{
    uint64_t at = __atomic_fetch_add(&b->nnext, n, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < n; i++)
        b->next[at + i] = buf[i];
}

void bfs_thread(struct bfs *b, unsigned t)
{
    const struct csr *g = b->g;
    uint32_t buf[CHUNK];
    for (;;) {
        uint64_t n = b->ncur, lo, hi;
        if (n == 0)
            break;
        const uint32_t *cur = b->cur;
        mac_slice(n, t, b->threads, &lo, &hi);
        unsigned nb = 0;
        for (uint64_t i = lo; i < hi; i++) {
            uint32_t v = cur[i];
            for (uint64_t k = g->xoff[v]; k < g->xoff[v + 1]; k++) {
                uint32_t w = g->adj[k];
                int64_t expect = -1;
                if (b->parent[w] != -1 ||
                    !__atomic_compare_exchange_n(&b->parent[w], &expect, (int64_t)v, 0,
                                                 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                    continue;
                buf[nb++] = w;
                if (nb == CHUNK)
                    flush(b, buf, nb), nb = 0;
            }
        }
        if (nb)
            flush(b, buf, nb);
        wl_barrier_wait(&b->bar, b->threads);
        if (t == 0) {
            uint32_t *x = b->cur;
            b->cur = b->next;
            b->next = x;
            b->ncur = b->nnext;
            b->nnext = 0;
        }
        wl_barrier_wait(&b->bar, b->threads);
        if (smp_abort_flag())
            return;
    }
}

static int is_neighbour(const struct csr *g, uint64_t v, uint64_t w)
{
    for (uint64_t k = g->xoff[v]; k < g->xoff[v + 1]; k++)
        if (g->adj[k] == w)
            return 1;
    return 0;
}

int bfs_validate(const struct csr *g, const struct kron_edge *e, uint64_t ne,
                 const int64_t *parent, uint64_t root, int64_t *level, uint64_t *edges)
{
    uint64_t nv = g->nv;
    if (root >= nv || parent[root] != (int64_t)root)
        return 1;
    /* Levels from the parent links: -1 unreached, -2 reached but not yet known. */
    for (uint64_t v = 0; v < nv; v++) {
        if (parent[v] < -1 || parent[v] >= (int64_t)nv)
            return 2;
        level[v] = parent[v] == -1 ? -1 : -2;
    }
    level[root] = 0;
    for (uint64_t v = 0; v < nv; v++) {
        if (level[v] != -2)
            continue;
        uint64_t u = v, steps = 0;
        while (level[u] == -2) {
            u = (uint64_t)parent[u];
            if (++steps > nv || level[u] == -1)
                return 2; /* a cycle, or a parent that was never reached */
        }
        int64_t l = level[u] + (int64_t)steps;
        for (u = v; level[u] == -2; u = (uint64_t)parent[u])
            level[u] = l--;
    }
    for (uint64_t v = 0; v < nv; v++)
        if (level[v] > 0 && !is_neighbour(g, v, (uint64_t)parent[v]))
            return 3; /* a tree edge the graph does not have */
    uint64_t in = 0;
    for (uint64_t k = 0; k < ne; k++) {
        int64_t lu = level[e[k].u], lv = level[e[k].v];
        if (lu < 0 && lv < 0)
            continue;
        if (lu < 0 || lv < 0)
            return 4; /* an edge leaves the tree: its component was not fully reached */
        if (lu - lv > 1 || lv - lu > 1)
            return 5; /* not a breadth-first tree */
        in++;
    }
    *edges = in;
    return 0;
}
