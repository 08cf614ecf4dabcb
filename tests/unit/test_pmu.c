/* Host PMU counters: libpfm4 encoding of aliases and event strings, refusals, and
 * opening them on this thread (which fails, and must say why, on hosts without a PMU). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "vmm/pmu.h"

static void test_explicit_event_encodes(void **state)
{
    (void)state;
    struct vmm_counters cs;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_counters_parse("perf::INSTRUCTIONS, perf::CYCLES", &cs, &e), 0);
    assert_int_equal(cs.n, 2);
    assert_string_equal(cs.c[0].name, "perf::INSTRUCTIONS");
    assert_int_equal(cs.c[0].attr.type, PERF_TYPE_HARDWARE);
    assert_int_equal(cs.c[0].attr.config, PERF_COUNT_HW_INSTRUCTIONS);
    assert_int_equal(cs.c[1].attr.config, PERF_COUNT_HW_CPU_CYCLES);
    assert_int_equal(cs.c[0].attr.size, sizeof(struct perf_event_attr));
}

static void test_aliases_resolve_or_are_dropped_with_reason(void **state)
{
    (void)state;
    struct vmm_counters cs;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_counters_parse("dtlb,walk,llc,instructions", &cs, &e), 0);
    /* instructions always has libpfm4's generic event; every alias either resolved to an
     * event libpfm4 encoded, or is named as dropped. */
    bool saw_instructions = false;
    for (unsigned i = 0; i < cs.n; i++) {
        assert_true(cs.c[i].event[0] != '\0');
        saw_instructions |= strcmp(cs.c[i].name, "instructions") == 0;
    }
    assert_true(saw_instructions);
    const char *names[] = { "dtlb", "walk", "llc" };
    for (unsigned k = 0; k < 3; k++) {
        bool resolved = false;
        for (unsigned i = 0; i < cs.n; i++)
            resolved |= strcmp(cs.c[i].name, names[k]) == 0;
        if (!resolved && !strstr(cs.dropped, names[k]))
            fail_msg("%s neither resolved nor dropped (dropped: %s)", names[k], cs.dropped);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    struct vmm_counters cs;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_counters_parse("perf::INSTRUCTIONS,NO_SUCH_EVENT:FOO", &cs, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    assert_non_null(strstr(e.msg, "'NO_SUCH_EVENT:FOO'"));
    assert_non_null(strstr(e.msg, "cannot encode"));
    struct vmm_err e2 = { 0 };
    assert_int_equal(vmm_counters_parse("cycles,cycles,cycles,cycles,cycles,cycles,cycles,"
                                        "cycles,cycles", &cs, &e2), -1);
    assert_non_null(strstr(e2.msg, "more than 8 counters"));
}

/* Where the host has a PMU the counts move; where it has none the failure says why. */
static void test_open_counts_or_explains(void **state)
{
    (void)state;
    struct vmm_counters cs;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_counters_parse("perf::INSTRUCTIONS", &cs, &e), 0);
    int fds[VMM_MAX_COUNTERS];
    char why[192] = "";
    int n = vmm_counters_open(&cs, fds, why, sizeof why);
    if (n < 0) {
        assert_non_null(strstr(why, "perf_event_open(perf::INSTRUCTIONS): "));
        print_message("no host PMU here: %s\n", why);
        return;
    }
    assert_int_equal(n, 1);
    volatile uint64_t x = 0;
    for (int i = 0; i < 1000000; i++)
        x += (uint64_t)i;
    uint64_t counts[VMM_MAX_COUNTERS];
    vmm_counters_close(&cs, fds, counts);
    assert_true(counts[0] != UINT64_MAX && counts[0] >= 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explicit_event_encodes),
        cmocka_unit_test(test_aliases_resolve_or_are_dropped_with_reason),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_open_counts_or_explains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
