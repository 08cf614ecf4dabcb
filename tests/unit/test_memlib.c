/* The memory workloads' building blocks, as built for native runs (the same source the
 * guest runs): the pointer chase is one cycle over every element (with and without a
 * TLB-locality window, which must also keep each window's elements together), STREAM's
 * byte counts and kernels, and the point texts a sweeping run's records carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../workloads/memory/memlib.h"
#include "vmm/result.h"

static void check_cycle(uint64_t n, uint64_t stride, uint64_t window, uint64_t seed)
{
    uint8_t *buf = aligned_alloc(64, n * stride);
    assert_non_null(buf);
    uint32_t *scratch = NULL;
    uint64_t sb = chase_scratch_bytes(n, window);
    if (sb)
        assert_non_null(scratch = malloc(sb));
    chase_build(buf, n, stride, window, seed, scratch);
    /* One cycle through all n elements: back at the start after exactly n steps. */
    assert_int_equal(chase_cycle_len(buf, n, stride, n + 1), n);
    /* ...and every element visited once (a cycle of length n over n slots). */
    uint8_t *seen = calloc(n, 1);
    uint64_t *p = (uint64_t *)buf;
    uint64_t window_changes = 0, last_w = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t idx = (uint64_t)((uint8_t *)p - buf) / stride;
        assert_false(seen[idx]);
        seen[idx] = 1;
        if (window && idx / window != last_w)
            window_changes++;
        last_w = window ? idx / window : 0;
        p = (uint64_t *)(uintptr_t)*p;
    }
    if (window && window < n)
        /* A window is left only when all of it was visited: one change per window. */
        assert_true(window_changes <= (n + window - 1) / window);
    free(seen);
    free(scratch);
    free(buf);
}

static void test_chase_one_cycle(void **state)
{
    (void)state;
    check_cycle(1, 64, 0, 1);
    check_cycle(2, 64, 0, 1);
    check_cycle(1000, 64, 0, 7);
    check_cycle(4096, 8, 0, 99);
    check_cycle(65536, 64, 0, 12345);
}

static void test_chase_window(void **state)
{
    (void)state;
    check_cycle(4096, 64, 64, 3);    /* 4 KiB windows of 64-byte lines */
    check_cycle(1000, 64, 64, 5);    /* a partial last window */
    check_cycle(100, 64, 1000, 5);   /* a window larger than the set: one cycle */
}

static void test_chase_random_order(void **state)
{
    (void)state;
    /* Not the identity walk: a prefetcher would hide the latency. */
    uint64_t n = 4096, stride = 64, sequential = 0;
    uint8_t *buf = aligned_alloc(64, n * stride);
    chase_build(buf, n, stride, 0, 42, NULL);
    uint64_t *p = (uint64_t *)buf;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *next = (uint64_t *)(uintptr_t)*p;
        sequential += (uint8_t *)next == (uint8_t *)p + stride;
        p = next;
    }
    assert_true(sequential < n / 100);
    /* chase_run ends where following the pointers by hand ends */
    p = (uint64_t *)buf;
    for (int i = 0; i < 1234; i++)
        p = (uint64_t *)(uintptr_t)*p;
    assert_ptr_equal(chase_run(buf, 1234), p);
    free(buf);
}

static void test_chase_detects_broken(void **state)
{
    (void)state;
    uint64_t n = 64, stride = 64;
    uint8_t *buf = aligned_alloc(64, n * stride);
    chase_build(buf, n, stride, 0, 9, NULL);
    /* point one element at itself: the cycle from the start no longer closes over n */
    uint64_t *e = (uint64_t *)(uintptr_t)*(uint64_t *)buf;
    *e = (uint64_t)(uintptr_t)e;
    assert_int_equal(chase_cycle_len(buf, n, stride, n + 1), 0);
    free(buf);
}

static void test_stream_bytes(void **state)
{
    (void)state;
    /* STREAM's counting: copy and scale move 2 arrays, add and triad 3, of 8-byte words */
    assert_int_equal(stream_bytes(STREAM_COPY, 1000), 16000);
    assert_int_equal(stream_bytes(STREAM_SCALE, 1000), 16000);
    assert_int_equal(stream_bytes(STREAM_ADD, 1000), 24000);
    assert_int_equal(stream_bytes(STREAM_TRIAD, 1000), 24000);
    assert_string_equal(stream_kernel_name[STREAM_TRIAD], "triad");
}

static void test_stream_kernels_check(void **state)
{
    (void)state;
    uint64_t n = 10000;
    double *a = malloc(n * 8), *b = malloc(n * 8), *c = malloc(n * 8);
    for (uint64_t i = 0; i < n; i++)
        a[i] = 1, b[i] = 2, c[i] = 0;
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < STREAM_KERNELS; k++) {
            stream_run((enum stream_kernel)k, a, b, c, 3.0, 0, n / 2);
            stream_run((enum stream_kernel)k, a, b, c, 3.0, n / 2, n);
        }
    assert_int_equal(stream_check(a, b, c, n, 3.0, 3), 0);
    assert_int_not_equal(stream_check(a, b, c, n, 3.0, 2), 0);
    a[n - 1] += 1;
    assert_int_not_equal(stream_check(a, b, c, n, 3.0, 3), 0);
    free(a);
    free(b);
    free(c);
}

static void test_points(void **state)
{
    (void)state;
    const char *taken[] = { "size", "iters", NULL };
    assert_null(vmm_point_check("", taken));
    assert_null(vmm_point_check("cpu_node=0 mem_node=1", taken));
    assert_null(vmm_point_check("kernel=triad vcpus=2", NULL));
    assert_non_null(vmm_point_check("size=4096", taken));          /* a run parameter */
    assert_non_null(vmm_point_check("a=1 a=2", NULL));             /* twice */
    assert_non_null(vmm_point_check("a=1  b=2", NULL));            /* double space */
    assert_non_null(vmm_point_check("a=1 ", NULL));                /* trailing space */
    assert_non_null(vmm_point_check("A=1", NULL));                 /* key chars */
    assert_non_null(vmm_point_check("a=", NULL));                  /* empty value */
    assert_non_null(vmm_point_check("a=x;rm", NULL));              /* value chars */
    assert_non_null(vmm_point_check("a=1 b=2 c=3 d=4 e=5", NULL)); /* too many */
    char out[128];
    vmm_params_merge("iters=5 ring=3", "size=4096", out, sizeof out);
    assert_string_equal(out, "iters=5 ring=3 size=4096");
    vmm_params_merge("batches=3 warmup=1", "mem_node=1 cpu_node=0", out, sizeof out);
    assert_string_equal(out, "batches=3 cpu_node=0 mem_node=1 warmup=1");
    vmm_params_merge("", "", out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chase_one_cycle),   cmocka_unit_test(test_chase_window),
        cmocka_unit_test(test_chase_random_order), cmocka_unit_test(test_chase_detects_broken),
        cmocka_unit_test(test_stream_bytes),      cmocka_unit_test(test_stream_kernels_check),
        cmocka_unit_test(test_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
