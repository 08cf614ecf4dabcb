/* The macro workloads' kernels, as built for native runs (the same source the guest
 * runs): each computes the right answer (against a plain reference here: libm, a naive
 * product, qsort, a serial BFS), on one thread and on two real threads sharing the
 * workload's barrier, and each one's verification catches a planted error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/macro/macrolib.h"

static void test_exp_log_pow(void **state)
{
    (void)state;
    for (double x = -700; x < 700; x += 0.731) {
        double want = exp(x);
        assert_true(fabs(mac_exp(x) - want) <= 1e-13 * want);
    }
    for (double x = 1e-300; x < 1e300; x *= 3.7) {
        double want = log(x);
        assert_true(fabs(mac_log(x) - want) <= 1e-13 * fabs(want) + 1e-15);
    }
    assert_true(fabs(mac_log(1.0)) < 1e-16);
    assert_true(fabs(mac_pow(0.5, 0.99) - pow(0.5, 0.99)) < 1e-14);
    assert_true(fabs(mac_pow(123456.0, 50.0) / pow(123456.0, 50.0) - 1) < 1e-12);
}

/* ---- compute ---- */

static void test_dgemm(void **state)
{
    (void)state;
    const uint64_t n = 77; /* not a multiple of the blocks */
    double *a = malloc(n * n * 8), *b = malloc(n * n * 8), *c = calloc(n * n, 8);
    double *scratch = malloc(2 * n * 8);
    dgemm_fill(a, b, n, 3);
    dgemm_rows(a, b, c, n, 0, 40); /* two slices, as two vCPUs do */
    dgemm_rows(a, b, c, n, 40, n);
    for (uint64_t i = 0; i < n; i++)
        for (uint64_t j = 0; j < n; j++) {
            double want = 0;
            for (uint64_t k = 0; k < n; k++)
                want += a[i * n + k] * b[k * n + j];
            assert_true(c[i * n + j] == want);
        }
    assert_int_equal(dgemm_verify(a, b, c, n, 1, scratch), 0);
    c[5 * n + 70] += 1; /* one wrong entry */
    assert_int_equal(dgemm_verify(a, b, c, n, 1, scratch), 1);
    c[5 * n + 70] -= 1;
    c[60 * n + 2] -= 2, c[61 * n] += 2;
    assert_int_equal(dgemm_verify(a, b, c, n, 9, scratch), 2);
    assert_int_equal(dgemm_flops(n), 2 * n * n * n);
    free(a), free(b), free(c), free(scratch);
}

/* ---- sort ---- */

struct sort_arg {
    struct radix_sort *rs;
    unsigned t;
};

static void *sort_thread(void *p)
{
    struct sort_arg *a = p;
    radix_sort_thread(a->rs, a->t);
    return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static void sort_with(unsigned threads, uint64_t n)
{
    uint64_t *keys = malloc(n * 8), *tmp = malloc(n * 8), *ref = malloc(n * 8);
    uint64_t(*hist)[256] = calloc(threads, sizeof *hist);
    sort_fill(keys, 0, n / 2, 77);
    sort_fill(keys, n / 2, n, 77); /* filled in two slices: the same as in one */
    for (uint64_t i = 0; i < n / 100; i++)
        keys[i * 100] = keys[i]; /* duplicates too */
    memcpy(ref, keys, n * 8);
    struct sort_sum before;
    sort_checksum(keys, 0, n, &before);
    struct radix_sort rs = { .keys = keys, .tmp = tmp, .n = n, .threads = threads,
                             .hist = hist };
    pthread_t th[4];
    struct sort_arg args[4];
    for (unsigned t = 0; t < threads; t++) {
        args[t] = (struct sort_arg){ &rs, t };
        assert_int_equal(pthread_create(&th[t], NULL, sort_thread, &args[t]), 0);
    }
    for (unsigned t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    qsort(ref, n, 8, cmp_u64);
    assert_memory_equal(keys, ref, n * 8);
    assert_int_equal(sort_verify(keys, n, &before), 0);
    if (n < 100) {
        free(keys), free(tmp), free(ref), free(hist);
        return;
    }
    uint64_t at = 10;
    while (keys[at] == keys[at + 1])
        at++;
    uint64_t x = keys[at];
    keys[at] = keys[at + 1]; /* still in order, but one key lost and one doubled */
    assert_int_equal(sort_verify(keys, n, &before), 2);
    keys[at] = keys[n - 1] + 1; /* out of order */
    assert_int_equal(sort_verify(keys, n, &before), 1);
    keys[at] = x;
    assert_int_equal(sort_verify(keys, n, &before), 0);
    free(keys), free(tmp), free(ref), free(hist);
}

static void test_sort(void **state)
{
    (void)state;
    sort_with(1, 1000);
    sort_with(1, 100003);
    sort_with(2, 100003);
    sort_with(3, 5);
}

/* ---- gups ---- */

static void test_hpcc_stream(void **state)
{
    (void)state;
    assert_int_equal(hpcc_starts(0), 1);
    /* starts(n) is the stream stepped n times from its start, for any n. */
    uint64_t ran = 1;
    for (int64_t i = 1; i <= 300000; i++) {
        ran = (ran << 1) ^ ((int64_t)ran < 0 ? 7 : 0);
        if (i == 1 || i == 2 || i == 63 || i == 64 || i == 1000 || i == 299999 || i == 300000)
            assert_int_equal(hpcc_starts(i), ran);
    }
}

static void test_gups(void **state)
{
    (void)state;
    const uint64_t words = 1u << 12, updates = 4 * words;
    uint64_t *t = malloc(words * 8);
    gups_init(t, 0, words);
    /* Two slices of the stream, as two threads run them: the same as the whole stream. */
    gups_update(t, words, 0, updates / 3);
    gups_update(t, words, updates / 3, updates - updates / 3);
    uint64_t changed = 0;
    for (uint64_t i = 0; i < words; i++)
        changed += t[i] != i;
    assert_true(changed > words / 2); /* the updates did something */
    assert_int_equal(gups_verify(t, words, updates), 0);
    gups_update(t, words, 0, updates);
    t[17] ^= 1; /* one lost update */
    assert_int_equal(gups_verify(t, words, updates), 1);
    free(t);
}

/* ---- kvs ---- */

static void test_kv_table(void **state)
{
    (void)state;
    struct kv_table t = { calloc(2048, sizeof(struct kv_slot)), 2047 };
    kv_clear(&t, 0, 2048);
    for (uint64_t i = 0; i < 1500; i++)
        assert_int_equal(kv_insert(&t, kv_key(i), kv_value(kv_key(i), 0)), 0);
    for (uint64_t i = 0; i < 1500; i++) {
        struct kv_slot *s = kv_find(&t, kv_key(i));
        assert_non_null(s);
        assert_int_equal(s->key, kv_key(i));
    }
    assert_null(kv_find(&t, kv_key(1500)));
    assert_int_equal(kv_verify(&t, 1500), 0);
    assert_int_equal(kv_verify(&t, 1501), 1); /* a record that was never stored */
    kv_find(&t, kv_key(7))->val = kv_value(kv_key(7), 3); /* a SET keeps the check */
    assert_int_equal(kv_verify(&t, 1500), 0);
    kv_find(&t, kv_key(8))->val ^= 1; /* a corrupt value */
    assert_int_equal(kv_verify(&t, 1500), 1);
    for (uint64_t i = 1500; i < 2048; i++)
        kv_insert(&t, kv_key(i), 0);
    assert_int_equal(kv_insert(&t, kv_key(5000), 0), -1); /* full */
    free(t.slot);
}

static void test_zipf(void **state)
{
    (void)state;
    const uint64_t n = 10000, draws = 400000;
    double ref = 0;
    for (uint64_t i = 1; i <= n; i++)
        ref += pow((double)i, -0.99);
    assert_true(fabs(zipf_zeta(n, 0.99) - ref) < 1e-9 * ref);
    struct zipf z;
    zipf_init(&z, n, 0.99);
    uint64_t *count = calloc(n, 8), rng = 5;
    for (uint64_t i = 0; i < draws; i++) {
        uint64_t r = zipf_next(&z, &rng);
        assert_true(r < n);
        count[r]++;
    }
    /* P(rank k) = 1 / (k+1)^theta / zeta(n): ranks 0 and 1 (exact in Gray's method)
     * within 3%, the mass of the top 1% and 10% (approximated) within 5%, and heavy. */
    for (uint64_t k = 0; k < 2; k++) {
        double want = draws * pow((double)(k + 1), -0.99) / ref;
        assert_true(fabs((double)count[k] - want) < 0.03 * want);
    }
    for (uint64_t top = n / 100; top <= n / 10; top *= 10) {
        double want = 0, got = 0;
        for (uint64_t k = 0; k < top; k++)
            want += draws * pow((double)(k + 1), -0.99) / ref, got += (double)count[k];
        assert_true(fabs(got - want) < 0.05 * want);
    }
    assert_true(count[0] > 20 * count[n / 2] + 1000);
    free(count);
}

/* ---- graph ---- */

struct bfs_arg {
    struct bfs *b;
    unsigned t;
};

static void *bfs_run(void *p)
{
    struct bfs_arg *a = p;
    bfs_thread(a->b, a->t);
    return NULL;
}

struct graph_fix {
    unsigned scale;
    uint64_t nv, ne;
    struct kron_edge *e;
    uint32_t *perm;
    struct csr g;
    uint64_t *deg;
};

static void graph_make(struct graph_fix *f, unsigned scale)
{
    f->scale = scale;
    f->nv = 1ull << scale;
    f->ne = 16 * f->nv;
    f->e = malloc(f->ne * sizeof *f->e);
    f->perm = malloc(f->nv * 4);
    kron_perm(f->perm, f->nv, 1);
    kron_edges(f->e, 0, f->ne / 2, scale, f->perm, 2);
    kron_edges(f->e, f->ne / 2, f->ne, scale, f->perm, 2);
    f->g.nv = f->nv;
    f->g.xoff = malloc((f->nv + 1) * 8);
    f->g.adj = malloc(2 * f->ne * 4);
    f->deg = malloc(f->nv * 8);
    csr_build(&f->g, f->e, f->ne, f->deg);
}

static void graph_free(struct graph_fix *f)
{
    free(f->e), free(f->perm), free(f->g.xoff), free(f->g.adj), free(f->deg);
}

static void test_kronecker(void **state)
{
    (void)state;
    struct graph_fix f;
    graph_make(&f, 10);
    uint8_t *seen = calloc(f.nv, 1);
    for (uint64_t v = 0; v < f.nv; v++) {
        assert_true(f.perm[v] < f.nv);
        assert_false(seen[f.perm[v]]);
        seen[f.perm[v]] = 1;
    }
    uint64_t loops = 0;
    for (uint64_t k = 0; k < f.ne; k++) {
        assert_true(f.e[k].u < f.nv && f.e[k].v < f.nv);
        loops += f.e[k].u == f.e[k].v;
    }
    assert_int_equal(f.g.xoff[f.nv], 2 * (f.ne - loops));
    /* Kronecker graphs are skewed: the largest degree far above the mean of 32. */
    uint64_t maxdeg = 0;
    for (uint64_t v = 0; v < f.nv; v++)
        if (f.g.xoff[v + 1] - f.g.xoff[v] > maxdeg)
            maxdeg = f.g.xoff[v + 1] - f.g.xoff[v];
    assert_true(maxdeg > 10 * 32);
    free(seen);
    graph_free(&f);
}

static uint64_t bfs_with(struct graph_fix *f, unsigned threads, uint64_t root, int64_t *parent)
{
    uint32_t *qa = malloc(f->nv * 4), *qb = malloc(f->nv * 4);
    for (uint64_t v = 0; v < f->nv; v++)
        parent[v] = -1;
    struct bfs b = { .g = &f->g, .parent = parent, .cur = qa, .next = qb, .ncur = 1,
                     .root = root, .threads = threads };
    parent[root] = (int64_t)root;
    qa[0] = (uint32_t)root;
    pthread_t th[4];
    struct bfs_arg args[4];
    for (unsigned t = 0; t < threads; t++) {
        args[t] = (struct bfs_arg){ &b, t };
        assert_int_equal(pthread_create(&th[t], NULL, bfs_run, &args[t]), 0);
    }
    for (unsigned t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    free(qa), free(qb);
    uint64_t reached = 0;
    for (uint64_t v = 0; v < f->nv; v++)
        reached += parent[v] != -1;
    return reached;
}

static void test_bfs_validate(void **state)
{
    (void)state;
    struct graph_fix f;
    graph_make(&f, 11);
    int64_t *parent = malloc(f.nv * 8), *level = malloc(f.nv * 8), *dist = malloc(f.nv * 8);
    uint64_t root = 0;
    while (f.g.xoff[root + 1] == f.g.xoff[root])
        root++;
    /* The reference: a serial BFS's distances. */
    uint64_t *q = malloc(f.nv * 8), qh = 0, qt = 0, reach = 0;
    for (uint64_t v = 0; v < f.nv; v++)
        dist[v] = -1;
    dist[root] = 0, q[qt++] = root;
    while (qh < qt) {
        uint64_t v = q[qh++];
        reach++;
        for (uint64_t k = f.g.xoff[v]; k < f.g.xoff[v + 1]; k++)
            if (dist[f.g.adj[k]] < 0)
                dist[f.g.adj[k]] = dist[v] + 1, q[qt++] = f.g.adj[k];
    }
    for (unsigned threads = 1; threads <= 2; threads++) {
        assert_int_equal(bfs_with(&f, threads, root, parent), reach);
        uint64_t edges = 0;
        assert_int_equal(bfs_validate(&f.g, f.e, f.ne, parent, root, level, &edges), 0);
        assert_memory_equal(level, dist, f.nv * 8); /* breadth-first: shortest distances */
        assert_true(edges > f.ne / 2 && edges <= f.ne);
    }
    uint64_t edges = 0, leaf = 0, far = 0;
    for (uint64_t v = 0; v < f.nv; v++) {
        if (dist[v] == 2)
            leaf = v;
        if (dist[v] > dist[far])
            far = v;
    }
    assert_true(dist[far] >= 3);
    parent[root] = (int64_t)leaf; /* the root not its own parent */
    assert_int_equal(bfs_validate(&f.g, f.e, f.ne, parent, root, level, &edges), 1);
    parent[root] = (int64_t)root;
    parent[leaf] = (int64_t)leaf; /* a cycle of one */
    assert_int_equal(bfs_validate(&f.g, f.e, f.ne, parent, root, level, &edges), 2);
    parent[leaf] = (int64_t)root; /* a tree edge the graph lacks, or a level jump */
    int r = bfs_validate(&f.g, f.e, f.ne, parent, root, level, &edges);
    assert_true(r == 3 || r == 5);
    bfs_with(&f, 1, root, parent);
    parent[far] = -1; /* a reached vertex dropped (the farthest has no children) */
    assert_int_equal(bfs_validate(&f.g, f.e, f.ne, parent, root, level, &edges), 4);
    bfs_with(&f, 2, root, parent);
    assert_int_equal(bfs_validate(&f.g, f.e, f.ne, parent, root, level, &edges), 0);
    free(parent), free(level), free(dist), free(q);
    graph_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_log_pow), cmocka_unit_test(test_dgemm),
        cmocka_unit_test(test_sort),        cmocka_unit_test(test_hpcc_stream),
        cmocka_unit_test(test_gups),        cmocka_unit_test(test_kv_table),
        cmocka_unit_test(test_zipf),        cmocka_unit_test(test_kronecker),
        cmocka_unit_test(test_bfs_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
