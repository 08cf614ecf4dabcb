/* vmm_parse_size: the accepted spellings, and everything it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/size.h"

static void accepts(const char *s, uint64_t want)
{
    uint64_t got = 0;
    if (vmm_parse_size(s, &got) != 0)
        fail_msg("'%s' was refused", s);
    if (got != want)
        fail_msg("'%s' gave %ju, want %ju", s, (uintmax_t)got, (uintmax_t)want);
}

static void refuses(const char *s)
{
    uint64_t got = 12345;
    if (vmm_parse_size(s, &got) == 0)
        fail_msg("'%s' was accepted as %ju", s ? s : "(null)", (uintmax_t)got);
    /* A refused input must not clobber the caller's value. */
    assert_int_equal(got, 12345);
}

static void test_plain_and_suffixes(void **state)
{
    (void)state;
    accepts("4096", 4096);
    accepts("1", 1);
    accepts("512K", 512ULL << 10);
    accepts("64M", 64ULL << 20);
    accepts("1G", 1ULL << 30);
    accepts("3T", 3ULL << 40);
    accepts("2GiB", 2ULL << 30);
    accepts("16MB", 16ULL << 20);
}

static void test_case_insensitive(void **state)
{
    (void)state;
    accepts("64m", 64ULL << 20);
    accepts("1g", 1ULL << 30);
    accepts("8kib", 8ULL << 10);
    accepts("2GIB", 2ULL << 30);
    accepts("4kb", 4ULL << 10);
}

static void test_zero_refused(void **state)
{
    (void)state;
    refuses("0");
    refuses("0M");
    refuses("00G");
}

static void test_overflow_refused(void **state)
{
    (void)state;
    accepts("18446744073709551615", UINT64_MAX);
    refuses("18446744073709551616");
    refuses("99999999999999999999999");
    /* 2^34 G and 2^24 T are exactly 2^64: one past the largest. */
    accepts("17179869183G", 17179869183ULL << 30);
    refuses("17179869184G");
    accepts("16777215T", 16777215ULL << 40);
    refuses("16777216T");
    refuses("18014398509481984K");   /* 2^54 K = 2^64 */
}

static void test_garbage_refused(void **state)
{
    (void)state;
    refuses(NULL);
    refuses("");
    refuses("M");
    refuses("12X");
    refuses("12MB5");
    refuses("12MiBx");
    refuses(" 12");
    refuses("12 ");
    refuses("12 M");
    refuses("-1");
    refuses("+1");
    refuses("1.5G");
    refuses("0x10");
    refuses("1P");
    refuses("1MM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_suffixes),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_zero_refused),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_garbage_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
