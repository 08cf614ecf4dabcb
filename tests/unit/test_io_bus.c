/* io_bus_add / io_bus_find: ranges that may not be empty, wrap or overlap; accesses that
 * must lie wholly inside one range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vmm/io_bus.h"

static enum io_result nop(void *ctx, unsigned vcpu, uint64_t off, uint8_t *data,
                          unsigned size, bool is_write)
{
    (void)ctx, (void)vcpu, (void)off, (void)data, (void)size, (void)is_write;
    return IO_CONTINUE;
}

static void test_add_and_find(void **state)
{
    (void)state;
    struct io_bus bus;
    memset(&bus, 0, sizeof bus);
    int a, b;
    assert_int_equal(io_bus_add(&bus, 0x3f8, 8, nop, &a, "serial"), 0);
    assert_int_equal(io_bus_add(&bus, 0x7f0, 16, nop, &b, "control"), 0);
    assert_int_equal(bus.n, 2);

    const struct io_range *r = io_bus_find(&bus, 0x3f8, 1);
    assert_non_null(r);
    assert_string_equal(r->name, "serial");
    assert_ptr_equal(r->ctx, &a);
    assert_string_equal(io_bus_find(&bus, 0x3ff, 1)->name, "serial");
    assert_string_equal(io_bus_find(&bus, 0x7fc, 4)->name, "control");
    assert_string_equal(io_bus_find(&bus, 0x7f0, 8)->name, "control");
    /* gaps and one past */
    assert_null(io_bus_find(&bus, 0x3f7, 1));
    assert_null(io_bus_find(&bus, 0x400, 1));
    assert_null(io_bus_find(&bus, 0x800, 1));
    assert_null(io_bus_find(&bus, 0x7e0, 1));
}

static void test_straddle_and_size0(void **state)
{
    (void)state;
    struct io_bus bus;
    memset(&bus, 0, sizeof bus);
    assert_int_equal(io_bus_add(&bus, 0x100, 0x10, nop, NULL, "a"), 0);
    assert_int_equal(io_bus_add(&bus, 0x110, 0x10, nop, NULL, "b"), 0);
    /* inside a, ending exactly at its end */
    assert_string_equal(io_bus_find(&bus, 0x10c, 4)->name, "a");
    /* straddling a's end into b: handled by neither */
    assert_null(io_bus_find(&bus, 0x10e, 4));
    assert_null(io_bus_find(&bus, 0x10f, 2));
    /* straddling b's end into nothing */
    assert_null(io_bus_find(&bus, 0x11e, 4));
    /* straddling a's start */
    assert_null(io_bus_find(&bus, 0xfe, 4));
    /* size 0 finds nothing, even at a range's base */
    assert_null(io_bus_find(&bus, 0x100, 0));
    /* accesses that wrap the address space */
    assert_null(io_bus_find(&bus, UINT64_MAX, 2));
    assert_null(io_bus_find(&bus, UINT64_MAX - 2, 8));
}

static void test_refusals(void **state)
{
    (void)state;
    struct io_bus bus;
    memset(&bus, 0, sizeof bus);
    assert_int_equal(io_bus_add(&bus, 0x1000, 0x100, nop, NULL, "base"), 0);
    /* empty */
    assert_int_equal(io_bus_add(&bus, 0x5000, 0, nop, NULL, "empty"), -1);
    /* wraps: base + len past UINT64_MAX */
    assert_int_equal(io_bus_add(&bus, UINT64_MAX - 0xf, 0x20, nop, NULL, "wrap"), -1);
    assert_int_equal(io_bus_add(&bus, 1, UINT64_MAX, nop, NULL, "wrap2"), -1);
    /* overlaps: same, inside, covering, touching the first and the last byte */
    assert_int_equal(io_bus_add(&bus, 0x1000, 0x100, nop, NULL, "same"), -1);
    assert_int_equal(io_bus_add(&bus, 0x1010, 0x10, nop, NULL, "inside"), -1);
    assert_int_equal(io_bus_add(&bus, 0x0f00, 0x1000, nop, NULL, "covers"), -1);
    assert_int_equal(io_bus_add(&bus, 0x0f00, 0x101, nop, NULL, "first"), -1);
    assert_int_equal(io_bus_add(&bus, 0x10ff, 0x10, nop, NULL, "last"), -1);
    /* no handler */
    assert_int_equal(io_bus_add(&bus, 0x9000, 0x10, NULL, NULL, "nofn"), -1);
    assert_int_equal(bus.n, 1);
    /* adjacent on both sides is fine */
    assert_int_equal(io_bus_add(&bus, 0x0f00, 0x100, nop, NULL, "below"), 0);
    assert_int_equal(io_bus_add(&bus, 0x1100, 0x100, nop, NULL, "above"), 0);
    assert_int_equal(bus.n, 3);
    assert_string_equal(io_bus_find(&bus, 0x0fff, 1)->name, "below");
    assert_string_equal(io_bus_find(&bus, 0x1100, 1)->name, "above");
}

static void test_full_bus(void **state)
{
    (void)state;
    struct io_bus bus;
    memset(&bus, 0, sizeof bus);
    for (unsigned i = 0; i < IO_BUS_MAX_RANGES; i++)
        assert_int_equal(io_bus_add(&bus, 0x100 * (uint64_t)(i + 1), 0x10, nop, NULL, "r"), 0);
    assert_int_equal(bus.n, IO_BUS_MAX_RANGES);
    assert_int_equal(io_bus_add(&bus, 0x100000, 0x10, nop, NULL, "one too many"), -1);
    assert_int_equal(bus.n, IO_BUS_MAX_RANGES);
    assert_null(io_bus_find(&bus, 0x100000, 1));
    /* the last one added is still found */
    assert_non_null(io_bus_find(&bus, 0x100 * (uint64_t)IO_BUS_MAX_RANGES, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_find),
        cmocka_unit_test(test_straddle_and_size0),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_full_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
