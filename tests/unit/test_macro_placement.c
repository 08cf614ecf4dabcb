/* The macro workloads' `placement` (workloads/macro/macwl.c, as built for native runs):
 * over two guest nodes that meet, split puts the first buffer across the boundary about
 * half on each node and balances the rest, node0 keeps everything on node 0, and the
 * bytes each node holds are reported as info records at point node=<N>. The "guest
 * memory" here is a real host buffer described by a boot info, as native runs do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workloads/macro/macwl.h"

#define NODE (32ull << 20)

struct fake {
    struct vmmb_boot_info bi;
    struct vmmb_result_header hdr;
    struct vmmb_record rec[16];
    struct wl_ctx ctx;
    uint8_t *mem, *base;
};

/* Two guest nodes of 32 MiB, node 0 below node 1, `placement` as given, starting `skew`
 * bytes past a 2 MiB boundary (a native twin's host mapping need not be aligned). */
static void fake_init_at(struct fake *f, uint64_t placement, uint64_t skew)
{
    memset(f, 0, sizeof *f);
    f->mem = malloc(2 * NODE + (4ull << 20));
    assert_non_null(f->mem);
    f->base = (uint8_t *)(((uintptr_t)f->mem + (2ull << 20) - 1) & ~(uintptr_t)((2ull << 20) - 1));
    f->base += skew;
    f->bi.nr_vcpus = 2;
    f->bi.nr_vnodes = 2;
    f->bi.nr_mem = 2;
    for (uint32_t n = 0; n < 2; n++)
        f->bi.mem[n] = (struct vmmb_mem_range){ (uint64_t)(uintptr_t)(f->base + n * NODE), NODE,
                                                VMMB_MEM_RAM, n };
    f->bi.nr_params = 1;
    strcpy(f->bi.params[0].name, "placement");
    f->bi.params[0].value = placement;
    f->ctx.bi = &f->bi;
    f->ctx.res = &f->hdr;
    f->ctx.rec = f->rec;
    f->ctx.capacity = 16;
    f->ctx.mem_floor = (uint64_t)(uintptr_t)f->base;
    macwl_placement(&f->ctx);
}

static void fake_init(struct fake *f, uint64_t placement)
{
    fake_init_at(f, placement, 0);
}

/* The bytes the report gave for node n (0: no record). */
static uint64_t reported(const struct fake *f, unsigned n)
{
    char want[16];
    snprintf(want, sizeof want, "node=%u", n);
    for (uint32_t i = 0; i < f->hdr.nr_records; i++)
        if (f->rec[i].kind == VMMB_REC_INFO && f->rec[i].batch == VMMB_INFO_DATA_BYTES &&
            strcmp(f->rec[i].point, want) == 0)
            return f->rec[i].iters;
    return 0;
}

static void test_split(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, MACWL_SPLIT);
    uint8_t *b = f.base + NODE; /* the boundary */
    uint8_t *t = macwl_alloc(&f.ctx, 8ull << 20, "no room");
    assert_true(t < b && t + (8ull << 20) > b);
    assert_int_equal(b - t, 4ull << 20); /* half on each node */
    /* Later buffers go whole to the node with fewer bytes: both 2 MiB ones, one each. */
    uint8_t *x = macwl_alloc(&f.ctx, 2ull << 20, "no room");
    uint8_t *y = macwl_alloc(&f.ctx, 2ull << 20, "no room");
    assert_true((x < b) != (y < b));
    assert_true(x + (2ull << 20) <= t || x >= t + (8ull << 20)); /* no overlap */
    assert_true(y + (2ull << 20) <= t || y >= t + (8ull << 20));
    macwl_placement_report(&f.ctx);
    assert_int_equal(reported(&f, 0), 6ull << 20);
    assert_int_equal(reported(&f, 1), 6ull << 20);
    free(f.mem);
}

/* The boundary off 2 MiB (196 KiB past, as a native run in the lab had it): a 4 MiB
 * buffer still splits in halves, not 3.8 to 0.2 MiB by aligning its start. */
static void test_split_unaligned(void **state)
{
    (void)state;
    struct fake f;
    fake_init_at(&f, MACWL_SPLIT, 196ull << 10);
    uint8_t *b = f.base + NODE;
    uint8_t *t = macwl_alloc(&f.ctx, 4ull << 20, "no room");
    assert_int_equal(b - t, 2ull << 20);
    macwl_placement_report(&f.ctx);
    assert_int_equal(reported(&f, 0), 2ull << 20);
    assert_int_equal(reported(&f, 1), 2ull << 20);
    free(f.mem);
}

static void test_node0(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, MACWL_NODE0);
    for (int i = 0; i < 3; i++) {
        uint8_t *p = macwl_alloc(&f.ctx, 8ull << 20, "no room");
        assert_true(p >= f.base && p + (8ull << 20) <= f.base + NODE);
    }
    macwl_placement_report(&f.ctx);
    assert_int_equal(reported(&f, 0), 24ull << 20);
    assert_int_equal(reported(&f, 1), 0);
    free(f.mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_unaligned),
        cmocka_unit_test(test_node0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
