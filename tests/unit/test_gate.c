/* The regression gate, end to end: real SQLite databases built here with planted effects,
 * judged by the real `vmmbench check` binary (its exit code and its JUnit and Markdown
 * files) and by the library underneath. Each case is a defect of issue 10 that let the
 * gate pass or mislead:
 *   - a metric that can be zero (kicks per request 1 -> 4, exits per request 0 -> 1) must
 *     be compared on the difference and fail the gate, not be skipped as "no ratio";
 *   - failed candidate runs fail the gate, named with their status and reason;
 *   - what cannot be judged (too few runs, missing) exits 2 unless --allow-missing;
 *   - JUnit and Markdown are written on every exit, replacing a stale green file;
 *   - the Markdown title matches the exit (not "no regression" on exit 3);
 *   - JUnit stays valid XML with a name that is not UTF-8, and carries time, timestamp,
 *     hostname and failure/@type;
 *   - the geometric-mean verdict needs p < alpha;
 *   - --alpha out of reach of the batch test warns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compare.h"
#include "dataset.h"
#include "db.h"
#include "gate.h"
#include "plot.h"
#include "testutil.h"

static char dir[PATH_MAX];
static char vb[PATH_MAX];        /* the vmmbench binary of this build */
static gsl_rng *rng;

/* Values of one batch: a generator and its parameters. */
struct gen {
    double level;       /* centre */
    double run_sd;      /* relative run offset sd */
    double batch_sd;    /* relative batch noise sd */
    bool integer;       /* counts: rounded (kicks, exits) */
    double upper_w;     /* > 0: bimodal, this share of batches in a mode 40% higher */
};

static double draw(const struct gen *g, double off)
{
    double v = g->level * (1 + off + gsl_ran_gaussian(rng, g->batch_sd));
    if (g->integer)
        v = round(g->level + gsl_ran_gaussian(rng, g->batch_sd));
    if (g->upper_w > 0 && gsl_rng_uniform(rng) < g->upper_w)
        v *= 1.4;
    return v;
}

static void store_set(const char *path, const char *tag, const char *workload,
                      const char *params, const char *metric, const struct gen *g,
                      unsigned nruns, unsigned batches, unsigned nfail)
{
    struct db *db;
    struct vmm_err e = { 0 };
    if (db_open(path, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "testhost");
    struct bench_config c;
    config_default(&c);
    snprintf(c.name, sizeof c.name, "cfg");
    for (unsigned r = 0; r < nruns; r++) {
        struct vmm_result res;
        vmm_result_init(&res);
        double off = gsl_ran_gaussian(rng, g->run_sd);
        for (unsigned b = 0; b < batches; b++) {
            vmm_result_add(&res, metric, "count", b, false, draw(g, off));
            vmm_result_add(&res, "latency", "ns", b, false, 1000 * (1 + off * 0.1 +
                           gsl_ran_gaussian(rng, 0.002)));
        }
        if (r < nfail)
            vmm_result_fail(&res, r % 2 ? VMM_STATUS_TIMEOUT : VMM_STATUS_GUEST_CRASH,
                            r % 2 ? "watchdog after 30 s" : "triple fault at RIP 0xdead");
        struct run_spec spec = { .workload = workload, .params = params, .rep = r, .tag = tag };
        int64_t id;
        if (db_store_run(db, &h, &c, &spec, &res, &id, &e) != 0)
            fail_msg("db_store_run: %s", e.msg);
        vmm_result_free(&res);
    }
    db_close(db);
}

/* Runs `vmmbench ARGS...` with output to dir/out.txt; returns its exit code. */
static int vmmbench(const char *fmtargs, ...)
{
    char args[4096], cmd[16384];
    va_list ap;
    va_start(ap, fmtargs);
    vsnprintf(args, sizeof args, fmtargs, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out.txt' 2>&1", vb, args, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_in(const char *name)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *t = tu_read_file(p, NULL);
    if (!t)
        fail_msg("cannot read %s", p);
    return t;
}

static void out_has(const char *what)
{
    char *t = read_in("out.txt");
    if (!strstr(t, what))
        fail_msg("output lacks '%s':\n%s", what, t);
    free(t);
}

static void file_has(const char *name, const char *what)
{
    char *t = read_in(name);
    if (!strstr(t, what))
        fail_msg("%s lacks '%s':\n%s", name, what, t);
    free(t);
}

static void path_in(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* kicks per request 1 -> 4 (zeros among the values) and exits per request 0 -> 1: values
 * at or below zero made the ratio "n/a" and the gate green. */
static void test_zero_metrics_regress(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("zero.db", db, sizeof db);
    struct gen kicks_a = { 1, 0, 0.8, true, 0 }, kicks_b = { 4, 0, 0.8, true, 0 };
    struct gen exits_a = { 0, 0, 0, true, 0 }, exits_b = { 1, 0, 0, true, 0 };
    store_set(db, "base", "virtio-blk", "size=4096", "kicks_per_req", &kicks_a, 6, 20, 0);
    store_set(db, "base", "null", "", "exits_per_req", &exits_a, 6, 20, 0);
    store_set(db, "cand", "virtio-blk", "size=4096", "kicks_per_req", &kicks_b, 6, 20, 0);
    store_set(db, "cand", "null", "", "exits_per_req", &exits_b, 6, 20, 0);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--metric kicks_per_req,exits_per_req --junit '%s/z.xml'", db, dir),
                     1);
    out_has("REGRESSED");
    file_has("z.xml", "type=\"regression\"");
    file_has("z.xml", "exits_per_req");
    char *x = read_in("z.xml");
    /* both rows regressed, none skipped */
    assert_null(strstr(x, "<skipped"));
    const char *p = x;
    int n = 0;
    while ((p = strstr(p, "type=\"regression\"")))
        n++, p++;
    assert_int_equal(n, 2);
    free(x);
    /* and the identical rerun of a zero metric passes: 0 -> 0 is no change */
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:base "
                              "--metric exits_per_req", db), 0);
}

/* 2 of 3 candidate runs crash or time out: the survivor alone must not pass the gate. */
static void test_failed_runs_fail(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("fail.db", db, sizeof db);
    struct gen g = { 100, 0.005, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &g, 3, 20, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &g, 5, 20, 2);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--junit '%s/f.xml' --markdown '%s/f.md'", db, dir, dir), 1);
    out_has("guest-crash: triple fault at RIP 0xdead");
    out_has("timeout: watchdog after 30 s");
    file_has("f.xml", "type=\"run-failed\"");
    file_has("f.md", "candidate runs failed");
}

/* Too few runs to know run-to-run variance, and a metric missing from the candidate: exit
 * 2 naming them; --allow-missing lets them through as skipped. */
static void test_unjudgeable_fails_unless_allowed(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("few.db", db, sizeof db);
    struct gen g = { 100, 0.005, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &g, 2, 20, 0);
    store_set(db, "base", "mmio", "", "lat", &g, 3, 20, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &g, 2, 20, 0);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--junit '%s/u.xml'", db, dir), 2);
    out_has("run-to-run variance unknown");
    out_has("missing: vmmbench.missing mmio - lat");
    out_has("CANNOT JUDGE");
    file_has("u.xml", "type=\"unjudged\"");
    file_has("u.xml", "type=\"missing\"");
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--allow-missing 'lat*' --junit '%s/u.xml'", db, dir), 0);
    file_has("u.xml", "<skipped message=\"cannot judge: run-to-run variance unknown");
    /* a glob over the row name allows only what it names */
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--allow-missing 'mmio *'", db), 2);
}

/* An error (no such baseline) still writes both files, over a stale green one. */
static void test_outputs_on_every_exit(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("fail.db", db, sizeof db);
    char stale[PATH_MAX + 64];
    path_in("stale.xml", stale, sizeof stale);
    tu_write_file(stale, "<testsuite tests=\"1\" failures=\"0\"/>", 36);
    path_in("stale.md", stale, sizeof stale);
    tu_write_file(stale, "## vmmbench check: no regression\n", 33);
    assert_int_equal(vmmbench("check --db '%s' --baseline nosuch --junit '%s/stale.xml' "
                              "--markdown '%s/stale.md'", db, dir, dir), 2);
    file_has("stale.xml", "<error type=\"error\" message=\"no baseline &apos;nosuch&apos;");
    file_has("stale.md", "## vmmbench check: error, nothing compared");
    char *m = read_in("stale.md");
    assert_null(strstr(m, "no regression"));
    free(m);
}

/* Exit 3 (improved, failing on request): the title says so. */
static void test_markdown_title_on_improvement(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("imp.db", db, sizeof db);
    struct gen a = { 100, 0.005, 0.005, false, 0 }, b = { 80, 0.005, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &a, 4, 20, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &b, 4, 20, 0);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--metric lat --fail-on-improvement --markdown '%s/i.md'", db, dir),
                     3);
    file_has("i.md", "## vmmbench check: improved (failing");
    char *m = read_in("i.md");
    assert_null(strstr(m, "no regression"));
    free(m);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--metric lat --markdown '%s/i.md'", db, dir), 0);
    file_has("i.md", "## vmmbench check: no regression");
}

/* A workload name with bytes that are not UTF-8 and XML specials: still valid XML, with
 * the attributes CI systems read. */
static void test_junit_valid_xml(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("xml.db", db, sizeof db);
    struct gen a = { 100, 0.005, 0.005, false, 0 }, b = { 130, 0.005, 0.005, false, 0 };
    store_set(db, "base", "w\xff\xfe<&\"x", "k=\xc3", "lat", &a, 3, 20, 0);
    store_set(db, "cand", "w\xff\xfe<&\"x", "k=\xc3", "lat", &b, 3, 20, 0);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--metric lat --junit '%s/x.xml'", db, dir), 1);
    char *x = read_in("x.xml");
    assert_null(strchr(x, '\xff'));
    assert_non_null(strstr(x, "w\xef\xbf\xbd\xef\xbf\xbd&lt;&amp;&quot;x"));
    assert_non_null(strstr(x, "timestamp=\""));
    assert_non_null(strstr(x, "hostname=\""));
    assert_non_null(strstr(x, " time=\""));
    assert_non_null(strstr(x, "<failure type=\"regression\""));
    free(x);
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        char cmd[PATH_MAX + 128];
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s/x.xml'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* Geometric mean with an alpha no comparison of 6 runs can reach: its CI lies far outside
 * the band, but without p < alpha it is no verdict (it used to be "slower" on the CI). */
static void test_geomean_respects_p(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("geo.db", db, sizeof db);
    struct gen a = { 100, 0.01, 0.005, false, 0 }, b = { 110, 0.01, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &a, 6, 20, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &b, 6, 20, 0);
    struct selector sa, sb;
    struct dataset da, dc;
    struct vmm_err e = { 0 };
    char arg[PATH_MAX + 64];
    if (selector_parse("tag:base", db, &sa, &e) || selector_parse("tag:cand", db, &sb, &e) ||
        dataset_load(&sa, &da, &e) || dataset_load(&sb, &dc, &e))
        fail_msg("load: %s", e.msg);
    (void)arg;
    struct cmp_opts o;
    cmp_opts_default(&o);
    o.alpha = 1e-30;
    struct cmp_result r;
    if (compare_datasets(&da, &dc, &o, &r, &e))
        fail_msg("compare: %s", e.msg);
    assert_true(r.ngeo >= 1);
    for (size_t i = 0; i < r.ngeo; i++) {
        assert_true(r.geo[i].lo > 1.02);               /* clearly outside the band */
        assert_true(r.geo[i].p > 1e-30);
        assert_int_equal(r.geo[i].verdict, VERDICT_NO_CHANGE);
    }
    compare_free(&r);
    o.alpha = 0.01;
    if (compare_datasets(&da, &dc, &o, &r, &e))
        fail_msg("compare: %s", e.msg);
    for (size_t i = 0; i < r.ngeo; i++)
        assert_int_equal(r.geo[i].verdict, VERDICT_SLOWER);
    compare_free(&r);
    dataset_free(&da);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
}

/* compare loads both sides with dataset_load_pair (one open and quick_check when they
 * share a database): each side must hold what dataset_load gives it alone, also when the
 * sides live in two files. */
static void test_load_pair_matches_single_loads(void **state)
{
    (void)state;
    char db[PATH_MAX + 64], other[PATH_MAX + 64], arg[PATH_MAX + 80];
    path_in("pair.db", db, sizeof db);
    path_in("pair-other.db", other, sizeof other);
    struct gen a = { 100, 0.01, 0.005, false, 0 }, b = { 150, 0.01, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &a, 3, 10, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &b, 4, 10, 0);
    store_set(other, "cand", "cpuid", "ring=3", "lat", &b, 5, 10, 0);
    struct selector sa, sb, so;
    struct dataset pa, pb, la, lb;
    struct vmm_err e = { 0 };
    snprintf(arg, sizeof arg, "db:%s", other);
    if (selector_parse("tag:base", db, &sa, &e) || selector_parse("tag:cand", db, &sb, &e) ||
        selector_parse(arg, db, &so, &e))
        fail_msg("selectors: %s", e.msg);
    if (dataset_load_pair(&sa, &sb, &pa, &pb, &e) || dataset_load(&sa, &la, &e) ||
        dataset_load(&sb, &lb, &e))
        fail_msg("load: %s", e.msg);
    assert_int_equal(pa.nruns, 3);
    assert_int_equal(pb.nruns, 4);
    assert_int_equal(pa.ngroups, la.ngroups);
    assert_int_equal(pb.ngroups, lb.ngroups);
    for (size_t i = 0; i < pa.ngroups; i++) {
        assert_string_equal(pa.groups[i].metric, la.groups[i].metric);
        assert_true(pa.groups[i].d.median == la.groups[i].d.median);
    }
    for (size_t i = 0; i < pb.ngroups; i++) {
        assert_string_equal(pb.groups[i].metric, lb.groups[i].metric);
        assert_true(pb.groups[i].d.median == lb.groups[i].d.median);
        /* B's own values (level 150), not A's (100) */
        if (i < pa.ngroups && strcmp(pb.groups[i].metric, "lat") == 0)
            assert_true(pb.groups[i].d.median > 1.3 * pa.groups[i].d.median);
    }
    dataset_free(&pa);
    dataset_free(&pb);
    /* two files: each side from its own */
    if (dataset_load_pair(&sa, &so, &pa, &pb, &e))
        fail_msg("load from two files: %s", e.msg);
    assert_int_equal(pa.nruns, 3);
    assert_int_equal(pb.nruns, 5);
    dataset_free(&pa);
    dataset_free(&pb);
    dataset_free(&la);
    dataset_free(&lb);
    selector_free(&sa);
    selector_free(&sb);
    selector_free(&so);
}

/* Two modes 40% apart, their weights 48/52 -> 52/48: the medians jump from one mode to
 * the other (B/A about 1.3) while the mean moves about 1.3%. Comparing medians called
 * that a regression; the gate must see the modes and compare means. */
static void test_bimodal_compared_on_means(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("bimodal.db", db, sizeof db);
    struct gen a = { 100, 0.002, 0.005, false, 0.48 }, b = { 100, 0.002, 0.005, false, 0.52 };
    store_set(db, "base", "tlb", "size=2M", "lat", &a, 6, 400, 0);
    store_set(db, "cand", "tlb", "size=2M", "lat", &b, 6, 400, 0);
    struct selector sa, sb;
    struct dataset da, dc;
    struct vmm_err e = { 0 };
    if (selector_parse("tag:base", db, &sa, &e) || selector_parse("tag:cand", db, &sb, &e) ||
        dataset_load(&sa, &da, &e) || dataset_load(&sb, &dc, &e))
        fail_msg("load: %s", e.msg);
    struct cmp_opts o;
    cmp_opts_default(&o);
    o.metrics[o.nmetrics++] = "lat";
    struct cmp_result r;
    if (compare_datasets(&da, &dc, &o, &r, &e))
        fail_msg("compare: %s", e.msg);
    assert_int_equal(r.nrows, 1);
    const struct cmp_row *x = &r.rows[0];
    assert_true(x->db.median / x->da.median > 1.2);     /* the medians did jump */
    assert_true(x->multimodal);
    assert_true(fabs(x->ratio - x->mean_ratio) < 0.005); /* the mean shift is reported */
    assert_true(x->ratio < 1.03);
    assert_int_not_equal(x->verdict, VERDICT_SLOWER);
    compare_free(&r);
    dataset_free(&da);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
}

/* The ratio chart: a throughput (higher is better) that fell 20% is drawn inverted, right
 * of 1 where worse is, in the regression colour; a latency that did not move sits in the
 * no-change colour; the x range holds 1 and the whole band. */
static void test_ratio_chart_direction_and_colour(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("chart.db", db, sizeof db);
    struct gen a = { 100, 0.003, 0.003, false, 0 }, b = { 80, 0.003, 0.003, false, 0 };
    store_set(db, "base", "virtio-blk", "size=4096", "bandwidth", &a, 4, 20, 0);
    store_set(db, "cand", "virtio-blk", "size=4096", "bandwidth", &b, 4, 20, 0);
    struct selector sa, sb;
    struct dataset da, dc;
    struct vmm_err e = { 0 };
    if (selector_parse("tag:base", db, &sa, &e) || selector_parse("tag:cand", db, &sb, &e) ||
        dataset_load(&sa, &da, &e) || dataset_load(&sb, &dc, &e))
        fail_msg("load: %s", e.msg);
    struct cmp_opts o;
    cmp_opts_default(&o);
    struct cmp_result r;
    if (compare_datasets(&da, &dc, &o, &r, &e))
        fail_msg("compare: %s", e.msg);
    char out[PATH_MAX + 16];
    snprintf(out, sizeof out, "%s/chart", dir);
    mkdir(out, 0777);
    struct plot_set ps;
    if (plot_all(&dc, &r, out, &ps, &e))
        fail_msg("plot: %s", e.msg);
    char *d = read_in("chart/compare.dat");
    /* "virtio-blk size=4096 bandwidth (inverted)" 1.25 lo hi 13382417 (0xcc3311, red) */
    const char *bw = strstr(d, "bandwidth (inverted)\"");
    assert_non_null(bw);
    double t, lo, hi;
    unsigned colour;
    assert_int_equal(sscanf(bw + strlen("bandwidth (inverted)\""), "%lf %lf %lf %u", &t, &lo,
                            &hi, &colour), 4);
    assert_true(t > 1.2 && t < 1.3);
    assert_true(lo > 1.02);
    assert_int_equal(colour, 0xcc3311);
    const char *lat = strstr(d, "latency\"");
    assert_non_null(lat);
    assert_int_equal(sscanf(lat + strlen("latency\""), "%lf %lf %lf %u", &t, &lo, &hi, &colour),
                     4);
    assert_int_equal(colour, 0x4477aa);
    free(d);
    char *g = read_in("chart/compare.gp");
    const char *xr = strstr(g, "set xrange [");
    assert_non_null(xr);
    double x0, x1;
    assert_int_equal(sscanf(xr, "set xrange [%lf:%lf]", &x0, &x1), 2);
    assert_true(x0 < 0.98 && x1 > 1.25);
    assert_non_null(strstr(g, "right of 1 is worse"));
    free(g);
    compare_free(&r);
    dataset_free(&da);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
}

/* --unit batch on 6 v 6 batches cannot go below p = 0.0022: --alpha 0.001 warns. */
static void test_alpha_out_of_reach_warns(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("alpha.db", db, sizeof db);
    struct gen a = { 100, 0.005, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &a, 1, 6, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &a, 1, 6, 0);
    vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand --metric lat "
             "--unit batch --alpha 0.001", db);
    out_has("--alpha 0.001 is below the smallest p-value 6 vs 6 batches can give (0.00216)");
    vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand --metric lat "
             "--unit batch --alpha 0.01", db);
    char *t = read_in("out.txt");
    assert_null(strstr(t, "is below the smallest p-value"));
    free(t);
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    /* build/tests/unit/test_gate or build/asan/tests/unit/test_gate -> build/bin/vmmbench */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *b = dirname(dirname(dirname(self)));
    if (strcmp(b + strlen(b) - 5, "/asan") == 0)
        b[strlen(b) - 5] = '\0';
    snprintf(vb, sizeof vb, "%s/bin/vmmbench", b);
    if (access(vb, X_OK) != 0) {
        fprintf(stderr, "no vmmbench binary at %s: run make first\n", vb);
        return -1;
    }
    rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gsl_rng_free(rng);
    if (!getenv("VMMB_KEEP_TEST_DIR"))
        tu_rm_tree(dir);
    else
        fprintf(stderr, "kept %s\n", dir);
    return 0;
}

/* Compares tag:base with tag:cand of DB on METRIC through the library; one row. */
static void compare_one(const char *db, const char *metric, struct cmp_result *r)
{
    struct selector sa, sb;
    struct dataset da, dc;
    struct vmm_err e = { 0 };
    if (selector_parse("tag:base", db, &sa, &e) || selector_parse("tag:cand", db, &sb, &e) ||
        dataset_load(&sa, &da, &e) || dataset_load(&sb, &dc, &e))
        fail_msg("load: %s", e.msg);
    struct cmp_opts o;
    cmp_opts_default(&o);
    o.metrics[o.nmetrics++] = metric;
    if (compare_datasets(&da, &dc, &o, r, &e))
        fail_msg("compare: %s", e.msg);
    assert_int_equal(r->nrows, 1);
    dataset_free(&da);
    dataset_free(&dc);
    selector_free(&sa);
    selector_free(&sb);
}

/* Values at or below zero are compared on B - A with the band relative to |A|: a shift
 * of 0.5% of A, however significant, is no change; 10% is one, its direction kept. */
static void test_difference_band(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("diffband.db", db, sizeof db);
    struct gen a = { -100, 0.0002, 0.0002, false, 0 }, b = { -100.5, 0.0002, 0.0002, false, 0 };
    struct gen c = { -110, 0.0002, 0.0002, false, 0 };
    store_set(db, "base", "null", "", "offset", &a, 4, 20, 0);
    store_set(db, "cand", "null", "", "offset", &b, 4, 20, 0);
    struct cmp_result r;
    compare_one(db, "offset", &r);
    const struct cmp_row *x = &r.rows[0];
    assert_true(x->diff);
    assert_true(x->p < 0.01);                        /* significant, */
    assert_true(x->hi < 0 && x->lo > -2);            /* but inside 2% of |A| = 2 */
    assert_int_equal(x->verdict, VERDICT_NO_CHANGE);
    compare_free(&r);
    path_in("diffbig.db", db, sizeof db);
    store_set(db, "base", "null", "", "offset", &a, 4, 20, 0);
    store_set(db, "cand", "null", "", "offset", &c, 4, 20, 0);
    compare_one(db, "offset", &r);
    x = &r.rows[0];
    assert_true(x->diff && x->hi < -2);
    assert_int_equal(x->verdict, VERDICT_FASTER);    /* lower is better, and it fell */
    compare_free(&r);
}

/* Two modes in under 20 samples a side are not judged multimodal: too few to tell modes
 * from noise, so the medians are compared. A: 3 runs of 4 batches near 100 and 2 near 140
 * (median 100, mean 113); B: 2 and 4 (median 140, mean 127): the ratio is 1.4, not the
 * means' 1.12. */
static void test_small_samples_not_multimodal(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("smallmodes.db", db, sizeof db);
    struct db *d;
    struct vmm_err e = { 0 };
    if (db_open(db, &d, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    struct host_info h;
    memset(&h, 0, sizeof h);
    snprintf(h.hostname, sizeof h.hostname, "testhost");
    struct bench_config c;
    config_default(&c);
    snprintf(c.name, sizeof c.name, "cfg");
    for (int side = 0; side < 2; side++)
        for (unsigned run = 0; run < 3; run++) {
            struct vmm_result res;
            vmm_result_init(&res);
            for (unsigned b = 0; b < 6; b++) {
                double mode = b < (side ? 2u : 4u) ? 100 : 140;
                vmm_result_add(&res, "lat", "ns", b, false, mode + 0.1 * run + 0.01 * b);
            }
            struct run_spec spec = { .workload = "tlb", .params = "size=2M", .rep = run,
                                     .tag = side ? "cand" : "base" };
            int64_t id;
            if (db_store_run(d, &h, &c, &spec, &res, &id, &e) != 0)
                fail_msg("db_store_run: %s", e.msg);
            vmm_result_free(&res);
        }
    db_close(d);
    struct cmp_result r;
    compare_one(db, "lat", &r);
    const struct cmp_row *x = &r.rows[0];
    assert_false(x->multimodal);
    if (!(x->ratio > 1.35 && x->ratio < 1.45))
        fail_msg("ratio %g, want the medians' 1.4", x->ratio);
    assert_int_equal(x->verdict, VERDICT_SLOWER);
    compare_free(&r);
}

/* A baseline metric the candidate lacks fails the gate on its own (exit 2, "missing"),
 * even when everything the candidate has is judged and passes; naming it in
 * --allow-missing lets it through. */
static void test_missing_alone_fails(void **state)
{
    (void)state;
    char db[PATH_MAX + 64];
    path_in("missing.db", db, sizeof db);
    struct gen g = { 100, 0.005, 0.005, false, 0 };
    store_set(db, "base", "cpuid", "ring=3", "lat", &g, 3, 20, 0);
    store_set(db, "base", "mmio", "", "lat", &g, 3, 20, 0);
    store_set(db, "cand", "cpuid", "ring=3", "lat", &g, 3, 20, 0);
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--junit '%s/m.xml'", db, dir), 2);
    out_has("missing: vmmbench.missing mmio - lat");
    file_has("m.xml", "type=\"missing\"");
    assert_int_equal(vmmbench("check --db '%s' --baseline tag:base --candidate tag:cand "
                              "--allow-missing 'mmio *'", db), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_metrics_regress),
        cmocka_unit_test(test_failed_runs_fail),
        cmocka_unit_test(test_unjudgeable_fails_unless_allowed),
        cmocka_unit_test(test_outputs_on_every_exit),
        cmocka_unit_test(test_markdown_title_on_improvement),
        cmocka_unit_test(test_junit_valid_xml),
        cmocka_unit_test(test_geomean_respects_p),
        cmocka_unit_test(test_load_pair_matches_single_loads),
        cmocka_unit_test(test_alpha_out_of_reach_warns),
        cmocka_unit_test(test_bimodal_compared_on_means),
        cmocka_unit_test(test_ratio_chart_direction_and_colour),
        cmocka_unit_test(test_missing_alone_fails),
        cmocka_unit_test(test_difference_band),
        cmocka_unit_test(test_small_samples_not_multimodal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
