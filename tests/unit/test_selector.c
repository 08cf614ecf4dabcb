/* Run-list selectors (`run:12-20,31`, bare `12,15`), which name runs without touching a
 * database: the ids they give, and the lists they must refuse with a usage error (a
 * reversed range, run 0, a dangling dash, junk) instead of selecting nothing or all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dataset.h"

static void ids_are(const char *arg, const int64_t *want, size_t n)
{
    struct selector s;
    struct vmm_err e = { 0 };
    if (selector_parse(arg, "/nonexistent/results.db", &s, &e) != 0)
        fail_msg("'%s' refused: %s", arg, e.msg);
    assert_int_equal(s.kind, SEL_RUNS);
    assert_int_equal(s.nids, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(s.ids[i], want[i]);
    selector_free(&s);
}

static void refused(const char *arg, const char *why)
{
    struct selector s;
    struct vmm_err e = { 0 };
    if (selector_parse(arg, "/nonexistent/results.db", &s, &e) == 0)
        fail_msg("'%s' accepted (%zu ids)", arg, s.nids);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    if (!strstr(e.msg, why))
        fail_msg("'%s': message '%s' lacks '%s'", arg, e.msg, why);
    selector_free(&s);
}

static void test_run_lists(void **state)
{
    (void)state;
    ids_are("run:12-14,31", (const int64_t[]){ 12, 13, 14, 31 }, 4);
    ids_are("12,15", (const int64_t[]){ 12, 15 }, 2);
    ids_are("run:7-7", (const int64_t[]){ 7 }, 1);
    ids_are("3", (const int64_t[]){ 3 }, 1);
}

static void test_bad_run_lists(void **state)
{
    (void)state;
    refused("run:20-12", "FROM <= TO");
    refused("run:0", "positive run ids");
    refused("run:5-", "FROM <= TO");
    refused("run:1,,2", "positive run ids");
    refused("run:abc", "give run ids like run:12");
    refused("run:", "give run ids like run:12");
}

static void test_other_kinds(void **state)
{
    (void)state;
    struct selector s;
    struct vmm_err e = { 0 };
    assert_int_equal(selector_parse("all", "/x/r.db", &s, &e), 0);
    assert_int_equal(s.kind, SEL_ALL);
    assert_string_equal(s.db_path, "/x/r.db");
    selector_free(&s);
    assert_int_equal(selector_parse("newest", "/x/r.db", &s, &e), 0);
    assert_int_equal(s.kind, SEL_NEWEST);
    selector_free(&s);
    assert_int_equal(selector_parse("db:/y/other.db", "/x/r.db", &s, &e), 0);
    assert_int_equal(s.kind, SEL_ALL);
    assert_string_equal(s.db_path, "/y/other.db");
    selector_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_lists),
        cmocka_unit_test(test_bad_run_lists),
        cmocka_unit_test(test_other_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
