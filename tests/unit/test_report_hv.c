/* The report's hypervisors section on real SQLite files with planted effects: vmm-min and
 * qemu-microvm configs whose pio-user latency is 1.0x and 1.5x and whose cpuid latency is
 * equal. The section must pair the QEMU config with the vmm-min config it differs from only
 * in `hypervisor` (not with a decoy of the same size that also pins, whose pio-user is 3x),
 * give QEMU/vmm-min (not its inverse) with verdict slower for pio-user and no change for
 * cpuid, show the QEMU version, say why a QEMU config without a vmm-min partner is not
 * compared, and be absent from a report of one hypervisor. compare, show and export name
 * the hypervisors too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dataset.h"
#include "db.h"
#include "export.h"
#include "summary.h"
#include "report.h"
#include "report_hv.h"
#include "testutil.h"

static char dir[PATH_MAX];
static gsl_rng *rng;

static const char qemu_version[] = "QEMU emulator version 7.2.22 (test build)";

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 15);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gsl_rng_free(rng);
    tu_rm_tree(dir);
    return 0;
}

/* NRUNS runs of config TEXT under HV, each with 20 batches of pio-user and cpuid latency
 * around the planted levels (1% noise between runs and between batches). */
static void store_config_runs(const char *db_path, const char *text, enum vmm_hypervisor hv,
                              double pio_ns, double cpuid_ns, unsigned nruns)
{
    struct db *db;
    struct vmm_err e = { 0 };
    if (db_open(db_path, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "testhost");
    /* the config as `vmmbench run` has it: parsed from its file */
    char cfg_path[PATH_MAX + 16];
    snprintf(cfg_path, sizeof cfg_path, "%s/c.ini", dir);
    tu_write_file(cfg_path, text, strlen(text));
    struct bench_config c;
    if (config_load(cfg_path, &c, &e) != 0)
        fail_msg("config_load: %s", e.msg);
    assert_int_equal(c.hypervisor, hv);
    snprintf(c.hypervisor_version, sizeof c.hypervisor_version, "%s",
             hv == VMM_HV_VMM_MIN ? "vmm-min" : qemu_version);
    static const char *const wl[2] = { "pio-user", "cpuid" };
    for (unsigned r = 0; r < nruns; r++) {
        for (int w = 0; w < 2; w++) {
            struct vmm_result res;
            vmm_result_init(&res);
            double level = w ? cpuid_ns : pio_ns;
            double off = gsl_ran_gaussian(rng, 0.01);
            for (unsigned b = 0; b < 20; b++)
                vmm_result_add(&res, "latency", "ns", b, false,
                               level * (1 + off + gsl_ran_gaussian(rng, 0.01)));
            struct run_spec spec = { .workload = wl[w], .params = "", .rep = r, .tag = "t" };
            int64_t id;
            if (db_store_run(db, &h, &c, &spec, &res, &id, &e) != 0)
                fail_msg("db_store_run: %s", e.msg);
            vmm_result_free(&res);
        }
    }
    config_free(&c);
    db_close(db);
}

static void load_all(const char *db_path, struct dataset *ds)
{
    struct selector sel;
    struct vmm_err e = { 0 };
    if (selector_parse("all", db_path, &sel, &e) || dataset_load(&sel, ds, &e))
        fail_msg("loading %s: %s", db_path, e.msg);
    selector_free(&sel);
}

static size_t config_named(const struct dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->nconfigs; i++)
        if (!strcmp(ds->configs[i].name, name))
            return i;
    fail_msg("no config %s", name);
    return 0;
}

static const struct cmp_row *row_of(const struct hv_pair *p, const char *workload)
{
    for (size_t i = 0; i < p->cmp.nrows; i++)
        if (!strcmp(p->cmp.rows[i].workload, workload) &&
            !strcmp(p->cmp.rows[i].metric, "latency"))
            return &p->cmp.rows[i];
    fail_msg("no %s row", workload);
    return NULL;
}

/* The table row that starts with START carries ATTR in its <tr> tag. */
static void row_says(const char *html, const char *start, const char *attr)
{
    const char *r = strstr(html, start);
    if (!r)
        fail_msg("no row starting %s", start);
    const char *a = strstr(r, attr), *end = strchr(r, '>');
    if (!a || a > end)
        fail_msg("row %.*s lacks %s", (int)(end - r + 1), r, attr);
}

static void build_two_hypervisor_db(const char *path)
{
    /* the decoy sorts first, has the same vCPUs and memory, and also pins */
    store_config_runs(path, "[vm]\nname = a-decoy\nvcpus = 1\nmemory = 64M\npin = 0\n",
                      VMM_HV_VMM_MIN, 3000, 2000, 6);
    store_config_runs(path, "[vm]\nname = base\nvcpus = 1\nmemory = 64M\n", VMM_HV_VMM_MIN,
                      1000, 2000, 6);
    store_config_runs(path, "[vm]\nname = qm\nvcpus = 1\n; same guest\nmemory = 64M\n"
                      "hypervisor = qemu-microvm\n", VMM_HV_QEMU_MICROVM, 1500, 2000, 6);
    /* no vmm-min config has 2 vCPUs */
    store_config_runs(path, "[vm]\nname = qpc\nvcpus = 2\nmemory = 64M\nhypervisor = qemu-pc\n",
                      VMM_HV_QEMU_PC, 1800, 2000, 3);
}

static void test_pairs_and_ratios(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/hv.db", dir);
    build_two_hypervisor_db(path);
    struct dataset ds;
    load_all(path, &ds);
    assert_true(report_hv_present(&ds));

    struct hv_section s;
    struct vmm_err e = { 0 };
    assert_int_equal(report_hv_build(&ds, &s, &e), 0);
    assert_int_equal(s.npairs, 2);
    const struct hv_pair *qm = NULL, *qpc = NULL;
    for (size_t i = 0; i < s.npairs; i++) {
        if (s.pairs[i].other == config_named(&ds, "qm"))
            qm = &s.pairs[i];
        if (s.pairs[i].other == config_named(&ds, "qpc"))
            qpc = &s.pairs[i];
    }
    assert_non_null(qm);
    assert_non_null(qpc);

    assert_int_equal(qm->match, HV_MATCH_ONLY_HYPERVISOR);
    assert_int_equal(qm->base, config_named(&ds, "base"));
    assert_true(qm->compared);
    const struct cmp_row *pio = row_of(qm, "pio-user"), *cpuid = row_of(qm, "cpuid");
    if (!(pio->ratio > 1.45 && pio->ratio < 1.55))
        fail_msg("pio-user QEMU/vmm-min %g, planted 1.5", pio->ratio);
    assert_true(pio->lo > 1.4 && pio->hi < 1.6);
    assert_int_equal(pio->verdict, VERDICT_SLOWER);
    if (!(cpuid->ratio > 0.98 && cpuid->ratio < 1.02))
        fail_msg("cpuid QEMU/vmm-min %g, planted 1.0", cpuid->ratio);
    assert_int_equal(cpuid->verdict, VERDICT_NO_CHANGE);

    assert_int_equal(qpc->match, HV_MATCH_NONE);
    assert_false(qpc->compared);
    assert_non_null(strstr(qpc->why, "no vmm-min config with 2 vCPUs"));

    report_hv_free(&s);

    /* The report itself: the section is there, with the pairing, the version and each
     * row's ratio and verdict. */
    char out[PATH_MAX + 16], index[PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/report", dir);
    assert_int_equal(report_write(&ds, NULL, out, &e), 0);
    snprintf(index, sizeof index, "%s/index.html", out);
    char *html = tu_read_file(index, NULL);
    assert_non_null(strstr(html, "<h2 id=hypervisors>"));
    assert_non_null(strstr(html, "<a href=#hypervisors>"));
    char cell[128];   /* the configs table names the hypervisor, then its version */
    snprintf(cell, sizeof cell, "<td>qemu-microvm (%s)</td>", qemu_version);
    assert_non_null(strstr(html, cell));
    assert_non_null(strstr(html, "Paired: the two configs differ only in <code>hypervisor</code>"));
    assert_non_null(strstr(html, "no vmm-min config with 2 vCPUs"));
    row_says(html, "<tr data-workload=\"pio-user\" data-metric=\"latency\" data-ratio=\"1.",
             "data-verdict=\"slower\"");
    row_says(html, "<tr data-workload=\"cpuid\" data-metric=\"latency\" data-ratio=\"",
             "data-verdict=\"no change\"");
    free(html);
    dataset_free(&ds);
}

/* Text written by FN into a memory stream. */
#define CAPTURE(buf, stmt)                                                                \
    do {                                                                                  \
        size_t len_;                                                                      \
        FILE *out = open_memstream(&(buf), &len_);                                        \
        stmt;                                                                             \
        fclose(out);                                                                      \
    } while (0)

/* compare names both sides' hypervisors when they differ (and not when they do not);
 * show labels each config with its hypervisor; export carries it. */
static void test_compare_show_export(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/hv.db", dir);
    build_two_hypervisor_db(path);
    struct selector sa, sb, sc;
    struct dataset da, db, dc;
    struct vmm_err e = { 0 };
    if (selector_parse("config:base", path, &sa, &e) || selector_parse("config:qm", path, &sb, &e) ||
        selector_parse("config:a-decoy", path, &sc, &e) || dataset_load(&sa, &da, &e) ||
        dataset_load(&sb, &db, &e) || dataset_load(&sc, &dc, &e))
        fail_msg("%s", e.msg);
    struct cmp_opts o;
    cmp_opts_default(&o);
    struct cmp_result r;
    assert_int_equal(compare_datasets(&da, &db, &o, &r, &e), 0);
    char *text = NULL, *json = NULL;
    CAPTURE(text, compare_print_table(&r, out));
    CAPTURE(json, compare_print_json(&r, out));
    char want[256];
    snprintf(want, sizeof want, "hypervisors: A runs under vmm-min; B under qemu-microvm (%s)",
             qemu_version);
    if (!strstr(text, want))
        fail_msg("compare does not say '%s':\n%s", want, text);
    snprintf(want, sizeof want, "\"hypervisor_b\":\"qemu-microvm (%s)\"", qemu_version);
    assert_non_null(strstr(json, want));
    free(text);
    free(json);
    compare_free(&r);
    /* two vmm-min configs: no hypervisor line */
    assert_int_equal(compare_datasets(&da, &dc, &o, &r, &e), 0);
    CAPTURE(text, compare_print_table(&r, out));
    assert_null(strstr(text, "hypervisors:"));
    free(text);
    compare_free(&r);

    sqlite3 *h;
    assert_int_equal(adb_open(path, &h, &e), 0);
    struct summary_opts so = { 0 };
    CAPTURE(text, assert_int_equal(summary_print_opts(h, 0, &so, out, &e), 0));
    sqlite3_close(h);
    assert_non_null(strstr(text, "qm [qemu-microvm]"));
    assert_non_null(strstr(text, "base [vmm-min]"));
    free(text);

    CAPTURE(json, export_summary(&db, true, out));
    snprintf(want, sizeof want, "\"hypervisor\":\"qemu-microvm\",\"hypervisor_version\":\"%s\"",
             qemu_version);
    assert_non_null(strstr(json, want));
    free(json);
    CAPTURE(text, export_summary(&da, false, out));
    assert_non_null(strstr(text, ",hypervisor,hypervisor_version\n"));
    assert_non_null(strstr(text, ",vmm-min,vmm-min\n"));
    free(text);
    dataset_free(&da);
    dataset_free(&db);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
    selector_free(&sc);
}

/* One hypervisor: no section, and nothing to pair. */
static void test_absent_with_one_hypervisor(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/one.db", dir);
    store_config_runs(path, "[vm]\nname = base\nvcpus = 1\nmemory = 64M\n", VMM_HV_VMM_MIN,
                      1000, 2000, 3);
    store_config_runs(path, "[vm]\nname = big\nvcpus = 1\nmemory = 128M\n", VMM_HV_VMM_MIN,
                      1000, 2000, 3);
    struct dataset ds;
    load_all(path, &ds);
    assert_false(report_hv_present(&ds));
    char out[PATH_MAX + 16], index[PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/report1", dir);
    struct vmm_err e = { 0 };
    assert_int_equal(report_write(&ds, NULL, out, &e), 0);
    snprintf(index, sizeof index, "%s/index.html", out);
    char *html = tu_read_file(index, NULL);
    assert_null(strstr(html, "id=hypervisors"));
    free(html);
    dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pairs_and_ratios, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_with_one_hypervisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_show_export, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
