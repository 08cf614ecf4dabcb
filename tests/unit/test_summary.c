/* summary_print over a real database: the numbers (worked out by hand with type-7
 * quantiles), warm-up exclusion, failed runs, the run filter, JSON, and empty files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "summary.h"
#include "testutil.h"

static char dir[PATH_MAX];
static struct db *db;
static int64_t id_a, id_crash, id_b;

static void store(const char *cfg_name, const char *workload, const char *params,
                  struct vmm_result *r, int64_t *id)
{
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "testhost");
    struct bench_config c;
    config_default(&c);
    snprintf(c.name, sizeof c.name, "%s", cfg_name);
    struct run_spec spec = { .workload = workload, .params = params };
    struct vmm_err e = { 0 };
    if (db_store_run(db, &h, &c, &spec, r, id, &e) != 0)
        fail_msg("db_store_run: %s", e.msg);
    vmm_result_free(r);
}

/* Run A (ok): lat = 1..100 plus five huge warm-up samples that must not count.
 *   n 100, median h=49.5 -> 50.5, p5 h=4.95 -> 5.95, p95 h=94.05 -> 95.05.
 * Run "crash" (guest-crash): samples that must not count either.
 * Run B (ok): wl2 lat = 30, 10, 20 -> n 3, median 20, p5 h=0.1 -> 11, p95 h=1.9 -> 29. */
static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/s.db", dir);
    struct vmm_err e = { 0 };
    if (db_open(path, &db, &e) != 0)
        return -1;
    struct vmm_result r;
    vmm_result_init(&r);
    for (int i = 0; i < 5; i++)
        vmm_result_add(&r, "lat", "ns", 0, true, 1e6);
    for (int i = 100; i >= 1; i--)
        vmm_result_add(&r, "lat", "ns", 1, false, i);
    store("cfgA", "wl", "n=1", &r, &id_a);

    vmm_result_init(&r);
    for (int i = 0; i < 10; i++)
        vmm_result_add(&r, "lat", "ns", 0, false, 5e5);
    vmm_result_fail(&r, VMM_STATUS_GUEST_CRASH, "triple fault at RIP 0x1234 \"ring3\"\nend");
    store("cfgA", "wl", "n=1", &r, &id_crash);

    vmm_result_init(&r);
    vmm_result_add(&r, "lat", "ns", 0, false, 30);
    vmm_result_add(&r, "lat", "ns", 0, false, 10);
    vmm_result_add(&r, "lat", "ns", 0, false, 20);
    store("cfgA", "wl2", "", &r, &id_b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_close(db);
    tu_rm_tree(dir);
    return 0;
}

/* Runs summary_print into a string the caller frees. */
static char *show(int64_t run_id, bool json, int *rc, struct vmm_err *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *rc = summary_print(db_handle(db), run_id, json, out, e);
    fclose(out);
    return buf;
}

/* Finds the table row of WORKLOAD and parses its columns. */
static void table_row(const char *text, const char *workload, size_t *n, double *med,
                      double *p5, double *p95)
{
    char *copy = strdup(text), *save = NULL;
    bool found = false;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char cfg[64], wl[64], params[64], metric[64], unit[64];
        if (sscanf(line, "%63s %63s %63s %63s %zu %lf %lf %lf %63s", cfg, wl, params, metric,
                   n, med, p5, p95, unit) == 9 && strcmp(wl, workload) == 0) {
            assert_string_equal(cfg, "cfgA");
            assert_string_equal(metric, "lat");
            assert_string_equal(unit, "ns");
            found = true;
            break;
        }
    }
    free(copy);
    if (!found)
        fail_msg("no row for %s in:\n%s", workload, text);
}

static void near(double got, double want)
{
    if (!(got > want - 1e-9 && got < want + 1e-9))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_table(void **state)
{
    (void)state;
    int rc;
    struct vmm_err e = { 0 };
    char *text = show(0, false, &rc, &e);
    assert_int_equal(rc, 0);
    size_t n;
    double med, p5, p95;
    table_row(text, "wl", &n, &med, &p5, &p95);
    assert_int_equal(n, 100);          /* warm-up and the crashed run's samples excluded */
    near(med, 50.5);
    near(p5, 5.95);
    near(p95, 95.05);
    table_row(text, "wl2", &n, &med, &p5, &p95);
    assert_int_equal(n, 3);
    near(med, 20);
    near(p5, 11);
    near(p95, 29);
    /* one ok run per workload: its interval holds batch noise only, and says so */
    assert_non_null(strstr(text, "<3 runs"));
    assert_non_null(strstr(text, "only with 3 or more runs"));
    assert_non_null(strstr(text, "median"));
    assert_non_null(strstr(text, "p95"));
    /* The failed run is listed with its id, status and reason. */
    char want[64];
    snprintf(want, sizeof want, "  %lld cfgA wl n=1: guest-crash, triple fault",
             (long long)id_crash);
    if (!strstr(text, want))
        fail_msg("no '%s' in:\n%s", want, text);
    free(text);
}

/* The numbers following "KEY": in s, in order of appearance, up to max. */
static size_t json_numbers(const char *s, const char *key, double *v, size_t max)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    size_t n = 0;
    for (const char *p = strstr(s, pat); p && n < max; p = strstr(p + 1, pat))
        v[n++] = strtod(p + strlen(pat), NULL);
    return n;
}

/* Brackets balance outside strings, strings close, nothing follows the object. */
static void assert_json_structure(const char *s)
{
    int depth = 0;
    bool in_str = false;
    size_t i = 0;
    while (s[i] == ' ')
        i++;
    assert_int_equal(s[i], '{');
    for (; s[i]; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            else if ((unsigned char)c < 0x20)
                fail_msg("raw control character in a JSON string at %zu", i);
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                assert_true(strspn(s + i + 1, " \n") == strlen(s + i + 1));
                return;
            }
        }
    }
    fail_msg("JSON does not close: %s", s);
}

static void test_json(void **state)
{
    (void)state;
    int rc;
    struct vmm_err e = { 0 };
    char *js = show(0, true, &rc, &e);
    assert_int_equal(rc, 0);
    assert_json_structure(js);
    assert_non_null(strstr(js, "\"results\":["));
    assert_non_null(strstr(js, "\"failed_runs\":["));
    double med[4], p5[4], p95[4], n[4];
    assert_int_equal(json_numbers(js, "median", med, 4), 2);   /* groups sort wl, wl2 */
    assert_int_equal(json_numbers(js, "p5", p5, 4), 2);
    assert_int_equal(json_numbers(js, "p95", p95, 4), 2);
    assert_int_equal(json_numbers(js, "n", n, 4), 2);
    near(med[0], 50.5);
    near(p5[0], 5.95);
    near(p95[0], 95.05);
    near(n[0], 100);
    near(med[1], 20);
    near(p5[1], 11);
    near(p95[1], 29);
    /* The reason's quote and newline arrive escaped. */
    assert_non_null(strstr(js, "\"reason\":\"triple fault at RIP 0x1234 \\\"ring3\\\"\\nend\""));
    assert_non_null(strstr(js, "\"status\":\"guest-crash\""));
    double ids[4];
    assert_int_equal(json_numbers(js, "id", ids, 4), 1);
    near(ids[0], (double)id_crash);
    free(js);
}

static void test_one_run(void **state)
{
    (void)state;
    int rc;
    struct vmm_err e = { 0 };
    char *text = show(id_b, false, &rc, &e);
    assert_int_equal(rc, 0);
    assert_null(strstr(text, "wl "));      /* run A is not in it */
    assert_null(strstr(text, "guest-crash"));
    size_t n;
    double med, p5, p95;
    table_row(text, "wl2", &n, &med, &p5, &p95);
    assert_int_equal(n, 3);
    free(text);

    /* Only the failed run: no table, but the failure. */
    text = show(id_crash, false, &rc, &e);
    assert_int_equal(rc, 0);
    assert_null(strstr(text, "median"));
    assert_non_null(strstr(text, "guest-crash"));
    free(text);
}

static void test_unknown_run(void **state)
{
    (void)state;
    int rc;
    struct vmm_err e = { 0 };
    char *text = show(999, false, &rc, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    assert_non_null(strstr(e.msg, "no run with id 999"));
    assert_non_null(strstr(e.msg, "vmmbench show"));
    assert_string_equal(text, "");
    free(text);
}

static void test_empty_database(void **state)
{
    (void)state;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/empty.db", dir);
    struct db *empty;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(path, &empty, &e), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(summary_print(db_handle(empty), 0, false, out, &e), 0);
    fclose(out);
    assert_non_null(strstr(buf, "No runs"));
    assert_non_null(strstr(buf, "vmmbench run"));
    free(buf);
    /* JSON stays parseable when there is nothing to report. */
    out = open_memstream(&buf, &len);
    assert_int_equal(summary_print(db_handle(empty), 0, true, out, &e), 0);
    fclose(out);
    assert_json_structure(buf);
    assert_non_null(strstr(buf, "\"results\":[]"));
    assert_non_null(strstr(buf, "\"failed_runs\":[]"));
    free(buf);
    db_close(empty);
}

/* show's default layout: within 120 columns, per workload only the parameters that differ
 * (the shared ones listed once), diagnostics counted but hidden until --all, every
 * column with --wide. */
static void test_narrow_layout(void **state)
{
    (void)state;
    char ndir[PATH_MAX], path[PATH_MAX + 32];
    tu_mkdtemp(ndir, sizeof ndir);
    snprintf(path, sizeof path, "%s/n.db", ndir);
    struct db *ndb;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(path, &ndb, &e), 0);
    struct db *saved = db;
    db = ndb;
    const char *long_common = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1";
    for (int b = 2; b <= 3; b++) {
        struct vmm_result r;
        vmm_result_init(&r);
        for (int i = 1; i <= 10; i++) {
            vmm_result_add(&r, "latency", "ns", (unsigned)i, false, 100.0 * b + i);
            vmm_result_add(&r, "timing_floor", "cycles", (unsigned)i, false, 2);
        }
        vmm_result_add(&r, "vmm_cpu_supervisor", "s", 0, false, 0.001);
        char params[256];
        snprintf(params, sizeof params, "%s b=%d", long_common, b);
        int64_t id;
        store("cfgN", "wk", params, &r, &id);
    }
    db = saved;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct summary_opts o = { 0 };
    assert_int_equal(summary_print_opts(db_handle(ndb), 0, &o, out, &e), 0);
    fclose(out);
    for (char *l = buf, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        assert_non_null(nl);
        if (nl - l > 120)
            fail_msg("a line of %d columns:\n%s", (int)(nl - l), buf);
    }
    assert_non_null(strstr(buf, "b=2"));
    assert_non_null(strstr(buf, "b=3"));
    assert_null(strstr(buf, "timing_floor  ")); /* not a row */
    assert_null(strstr(buf, "vmm_cpu_supervisor  "));
    assert_non_null(strstr(buf, "(4 diagnostic rows hidden"));
    assert_non_null(strstr(buf, "params of every wk row: aaaa"));
    char *row = strstr(buf, "cfgN");
    assert_non_null(row);
    assert_true(strstr(row, "aaaa") == NULL || strstr(row, "aaaa") > strchr(row, '\n'));
    free(buf);
    buf = NULL;
    out = open_memstream(&buf, &len);
    o.all = o.wide = true;
    assert_int_equal(summary_print_opts(db_handle(ndb), 0, &o, out, &e), 0);
    fclose(out);
    assert_non_null(strstr(buf, "timing_floor"));
    assert_non_null(strstr(buf, "vmm_cpu_supervisor"));
    assert_non_null(strstr(buf, "p99"));
    assert_non_null(strstr(buf, long_common));
    free(buf);
    db_close(ndb);
    tu_rm_tree(ndir);
}

/* Results from a host QEMU emulates in software (the lab) say so in the table and JSON. */
static void test_emulated_host(void **state)
{
    (void)state;
    char edir[PATH_MAX], path[PATH_MAX + 32];
    tu_mkdtemp(edir, sizeof edir);
    snprintf(path, sizeof path, "%s/e.db", edir);
    struct db *edb;
    struct vmm_err e = { 0 };
    assert_int_equal(db_open(path, &edb, &e), 0);
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "lab");
    snprintf(h.emulated, sizeof h.emulated, "tcg");
    struct bench_config c;
    config_default(&c);
    struct run_spec spec = { .workload = "wl", .params = "" };
    struct vmm_result r;
    vmm_result_init(&r);
    for (int i = 1; i <= 10; i++)
        vmm_result_add(&r, "latency", "ns", (unsigned)i, false, i);
    int64_t id;
    assert_int_equal(db_store_run(edb, &h, &c, &spec, &r, &id, &e), 0);
    vmm_result_free(&r);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct summary_opts o = { 0 };
    assert_int_equal(summary_print_opts(db_handle(edb), 0, &o, out, &e), 0);
    fclose(out);
    assert_non_null(strstr(buf, "  emulated"));
    assert_non_null(strstr(buf, "functional only, not a measurement"));
    free(buf);
    buf = NULL;
    out = open_memstream(&buf, &len);
    o.json = true;
    assert_int_equal(summary_print_opts(db_handle(edb), 0, &o, out, &e), 0);
    fclose(out);
    assert_non_null(strstr(buf, "\"emulated\":true"));
    free(buf);
    db_close(edb);
    tu_rm_tree(edir);
}

/* Figures print with 4 significant digits: fixed point from 0.001 up to 1e9, %g outside,
 * so a tiny value keeps its digits instead of rounding to zeros. */
static void test_number_format(void **state)
{
    (void)state;
    static const struct { double v; const char *want; } cases[] = {
        { 0, "0" },           { 12.3456, "12.35" },   { 1234.4, "1234" },
        { 0.0012345, "0.001234" }, { 0.0005, "0.0005" }, { 1.5e-6, "1.5e-06" },
        { -2.5e-7, "-2.5e-07" }, { 2.5e9, "2.5e+09" }, { 999999999, "999999999" },
        { NAN, "-" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[32];
        summary_fmt_num(cases[i].v, buf, sizeof buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%g printed as '%s', want '%s'", cases[i].v, buf, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_one_run),
        cmocka_unit_test(test_unknown_run),
        cmocka_unit_test(test_empty_database),
        cmocka_unit_test(test_narrow_layout),
        cmocka_unit_test(test_emulated_host),
        cmocka_unit_test(test_number_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
