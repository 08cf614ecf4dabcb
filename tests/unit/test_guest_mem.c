/* guest_mem_layout / guest_mem_ptr: the one checked guest-physical translation, at every
 * edge a hostile guest can aim for. The big layouts never touch memory: only pointers are
 * compared, so a fake base is fine (pointer arithmetic is done by the library on uint8_t*
 * inside a range we pretend to own; we never dereference). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vmm/guest_mem.h"

#define SMALL (64u << 10)

static void test_small_layout(void **state)
{
    (void)state;
    uint8_t *buf = malloc(SMALL);
    assert_non_null(buf);
    struct guest_mem gm;
    guest_mem_layout(&gm, buf, SMALL);
    assert_int_equal(gm.nslots, 1);
    assert_int_equal(gm.slot[0].gpa, 0);
    assert_int_equal(gm.slot[0].size, SMALL);
    assert_ptr_equal(gm.slot[0].host, buf);
    assert_int_equal(gm.total, SMALL);
    assert_int_equal(guest_mem_top(&gm), SMALL);
    free(buf);
}

static void test_edges(void **state)
{
    (void)state;
    uint8_t *buf = malloc(SMALL);
    assert_non_null(buf);
    struct guest_mem gm;
    guest_mem_layout(&gm, buf, SMALL);

    /* start, whole range, last byte */
    assert_ptr_equal(guest_mem_ptr(&gm, 0, 1), buf);
    assert_ptr_equal(guest_mem_ptr(&gm, 0, SMALL), buf);
    assert_ptr_equal(guest_mem_ptr(&gm, SMALL - 1, 1), buf + SMALL - 1);
    assert_ptr_equal(guest_mem_ptr(&gm, SMALL - 8, 8), buf + SMALL - 8);
    /* one past the end, and ranges running one byte past */
    assert_null(guest_mem_ptr(&gm, SMALL, 1));
    assert_null(guest_mem_ptr(&gm, 0, SMALL + 1));
    assert_null(guest_mem_ptr(&gm, SMALL - 1, 2));
    assert_null(guest_mem_ptr(&gm, SMALL - 8, 9));
    /* len 0 means 1: valid inside, refused one past the end */
    assert_ptr_equal(guest_mem_ptr(&gm, 17, 0), buf + 17);
    assert_ptr_equal(guest_mem_ptr(&gm, SMALL - 1, 0), buf + SMALL - 1);
    assert_null(guest_mem_ptr(&gm, SMALL, 0));
    /* lengths and addresses that overflow uint64 */
    assert_null(guest_mem_ptr(&gm, 16, UINT64_MAX));
    assert_null(guest_mem_ptr(&gm, 16, UINT64_MAX - 15));
    assert_null(guest_mem_ptr(&gm, SMALL - 1, UINT64_MAX));
    assert_null(guest_mem_ptr(&gm, UINT64_MAX, 1));
    assert_null(guest_mem_ptr(&gm, UINT64_MAX, 0));
    assert_null(guest_mem_ptr(&gm, UINT64_MAX - 3, 8));
    /* far outside */
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE, 1));
    assert_null(guest_mem_ptr(&gm, 0xfffff000u, 4));
    free(buf);
}

/* A layout bigger than VMM_LOW_RAM_MAX: slot 0 ends at the hole, slot 1 continues at
 * 4 GiB with the rest. Base pointer is never dereferenced. */
static void test_high_slot(void **state)
{
    (void)state;
    const uint64_t extra = 256ull << 20;
    const uint64_t bytes = VMM_LOW_RAM_MAX + extra;
    /* A fake base address: only compared, never read or written. */
    uint8_t *base = (uint8_t *)(uintptr_t)0x100000000000ull;
    struct guest_mem gm;
    guest_mem_layout(&gm, base, bytes);
    assert_int_equal(gm.nslots, 2);
    assert_int_equal(gm.slot[0].gpa, 0);
    assert_int_equal(gm.slot[0].size, VMM_LOW_RAM_MAX);
    assert_int_equal(gm.slot[1].gpa, VMM_HIGH_RAM_BASE);
    assert_int_equal(gm.slot[1].size, extra);
    assert_ptr_equal(gm.slot[1].host, base + VMM_LOW_RAM_MAX);
    assert_int_equal(guest_mem_top(&gm), VMM_HIGH_RAM_BASE + extra);

    /* last byte of slot 0, and ranges straddling its end (into the hole) */
    assert_ptr_equal(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX - 1, 1), base + VMM_LOW_RAM_MAX - 1);
    assert_ptr_equal(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX - 16, 16), base + VMM_LOW_RAM_MAX - 16);
    assert_null(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX - 1, 2));
    assert_null(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX - 16, 17));
    /* a range that spans the whole hole into slot 1 is not one slot: refused, even though
     * the host mapping happens to be contiguous */
    assert_null(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX - 4, VMM_HIGH_RAM_BASE - VMM_LOW_RAM_MAX + 8));

    /* gpa in the hole (the MMIO window lives there) */
    assert_null(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX, 1));
    assert_null(guest_mem_ptr(&gm, 0xd0000000ull, 4));
    assert_null(guest_mem_ptr(&gm, 0xe0000000ull, 4));
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE - 1, 1));
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE - 1, 2));

    /* slot 1: start, last byte, one past, straddling its end, overflow */
    assert_ptr_equal(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE, 1), base + VMM_LOW_RAM_MAX);
    assert_ptr_equal(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE, extra), base + VMM_LOW_RAM_MAX);
    assert_ptr_equal(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE + extra - 1, 0),
                     base + bytes - 1);
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE + extra, 1));
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE, extra + 1));
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE + extra - 1, 2));
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE + 8, UINT64_MAX - 4));
}

/* Exactly VMM_LOW_RAM_MAX: one slot, nothing above the hole. */
static void test_exactly_low_max(void **state)
{
    (void)state;
    uint8_t *base = (uint8_t *)(uintptr_t)0x100000000000ull;
    struct guest_mem gm;
    guest_mem_layout(&gm, base, VMM_LOW_RAM_MAX);
    assert_int_equal(gm.nslots, 1);
    assert_int_equal(guest_mem_top(&gm), VMM_LOW_RAM_MAX);
    assert_null(guest_mem_ptr(&gm, VMM_HIGH_RAM_BASE, 1));
    assert_ptr_equal(guest_mem_ptr(&gm, VMM_LOW_RAM_MAX - 1, 1), base + VMM_LOW_RAM_MAX - 1);
}

/* guest_mem_create refuses sizes the VMM cannot use, with the right code. */
static void test_create_refuses(void **state)
{
    (void)state;
    struct guest_mem gm;
    struct vmm_err e = { 0 };
    assert_int_equal(guest_mem_create(&gm, 1u << 20, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_RESOURCES);
    struct vmm_err e2 = { 0 };
    assert_int_equal(guest_mem_create(&gm, (16u << 20) + 1, &e2), -1);
    assert_int_equal(e2.code, VMM_EXIT_RESOURCES);
    struct vmm_err e3 = { 0 };
    assert_int_equal(guest_mem_create(&gm, 16u << 20, &e3), 0);
    assert_int_equal(e3.code, 0);
    assert_non_null(guest_mem_ptr(&gm, (16u << 20) - 1, 1));
    guest_mem_destroy(&gm);
    assert_null(gm.mapping);
}

/* Two slots back to back: the first byte past one is the first byte of the next, found
 * there, and a range across the seam (two host mappings) is refused. */
static void test_adjacent_slots(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    struct guest_mem gm;
    memset(&gm, 0, sizeof gm);
    gm.slot[0] = (struct guest_ram_slot){ .gpa = 0x1000, .size = 16, .host = a };
    gm.slot[1] = (struct guest_ram_slot){ .gpa = 0x1010, .size = 16, .host = b };
    gm.nslots = 2;
    assert_ptr_equal(guest_mem_ptr(&gm, 0x100f, 1), a + 15);
    assert_ptr_equal(guest_mem_ptr(&gm, 0x1010, 1), b);
    assert_ptr_equal(guest_mem_ptr(&gm, 0x1010, 16), b);
    assert_null(guest_mem_ptr(&gm, 0x100f, 2));
    assert_null(guest_mem_ptr(&gm, 0x1020, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_layout),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_high_slot),
        cmocka_unit_test(test_exactly_low_max),
        cmocka_unit_test(test_create_refuses),
        cmocka_unit_test(test_adjacent_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
