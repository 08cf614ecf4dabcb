/* Boots real guests on /dev/kvm through the libvmm API (vmm_image_open, vmm_plan_make,
 * vmm_run):
 *  - every workload of the guest image, in every ring it supports, at small sizes;
 *  - every hostile guest of build/tests/guest/hostile-guest.elf, each ending with its
 *    exact status and reason, after which the process still has no leaked descriptors or
 *    threads and a normal run still succeeds;
 *  - a 2-vCPU run (secondary vCPUs park).
 * Runs from the repo root. Without a usable /dev/kvm every test is skipped, naming why.
 * vmmb-test: parallel (it checks what runs, not figures: tests/run-all.sh runs it beside another such test) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vstate/vm.h"
#include "vmm/image.h"
#include "vmm/plan.h"
#include "vmm/result.h"
#include "vmm/vmm.h"

#include "kvm_gate.h"

/* The build tree: $BUILD as tests/run-all.sh exports it, else build/ (run from the repo
 * root). */
static const char *build_path(char *buf, size_t len, const char *rel)
{
    const char *b = getenv("BUILD");
    snprintf(buf, len, "%s/%s", b && *b ? b : "build", rel);
    return buf;
}

#define GUEST_ELF build_path((char[4096]){ 0 }, 4096, "share/vmmbench/guest/vmmbench-guest.elf")
#define HOSTILE_ELF build_path((char[4096]){ 0 }, 4096, "tests/guest/hostile-guest.elf")

#define ITERS 10
#define BATCHES 5
#define WARMUP 1
#define PROBE_S 1.0
#define STR_(x) #x
#define STR(x) STR_(x)

static struct vmm_image *guest_img, *hostile_img;
static bool kvm_ok;
static char kvm_why[VMM_ERR_MSG_MAX];

#define NEED_KVM() NEED_KVM_OR_SKIP(kvm_ok, kvm_why)

struct run_opts {
    const char *const *params;
    unsigned nparams;
    double timeout_s, probe_timeout_s;
    unsigned vcpus;
};

/* Plans and runs one guest; a refused plan fails the test. */
static void run_guest(const struct vmm_image *img, const char *workload,
                      const struct run_opts *o, struct vmm_result *res)
{
    struct vmm_request rq = {
        .image = img, .workload = workload, .params = o->params, .nparams = o->nparams,
        .mem_bytes = 64u << 20, .vcpus = o->vcpus ? o->vcpus : 1,
        .timeout_s = o->timeout_s ? o->timeout_s : 30, .probe_timeout_s = o->probe_timeout_s,
    };
    struct vmm_plan plan;
    struct vmm_err e = { 0 };
    if (vmm_plan_make(&rq, &plan, &e))
        fail_msg("plan for %s refused: %s", workload, e.msg);
    vmm_run(&plan, res);
}

static size_t count(const struct vmm_result *r, const char *metric, bool warmup)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nsamples; i++)
        n += strcmp(r->samples[i].metric, metric) == 0 && r->samples[i].warmup == warmup;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const struct vmm_result *r, const char *metric)
{
    double v[BATCHES * 2];
    size_t k = 0;
    for (size_t i = 0; i < r->nsamples && k < BATCHES * 2; i++)
        if (strcmp(r->samples[i].metric, metric) == 0 && !r->samples[i].warmup)
            v[k++] = r->samples[i].value;
    assert_true(k > 0);
    qsort(v, k, sizeof v[0], cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* ---- every workload of the real guest, in every ring it supports ---- */

struct wl_case {
    char name[64];
    const struct vmmb_workload_desc *desc;
    unsigned ring;
};

static bool declares(const struct vmmb_workload_desc *d, const char *param)
{
    for (unsigned i = 0; i < d->nr_params; i++)
        if (strcmp(d->params[i].name, param) == 0)
            return true;
    return false;
}

static void test_workload(void **state)
{
    NEED_KVM();
    const struct wl_case *c = *state;
    const struct vmmb_workload_desc *d = c->desc;
    char ring[16];
    snprintf(ring, sizeof ring, "ring=%u", c->ring);
    const char *params[4];
    unsigned n = 0;
    if (declares(d, "ring"))
        params[n++] = ring;
    if (declares(d, "iters"))
        params[n++] = "iters=" STR(ITERS);
    if (declares(d, "batches"))
        params[n++] = "batches=" STR(BATCHES);
    if (declares(d, "warmup"))
        params[n++] = "warmup=" STR(WARMUP);
    assert_int_equal(n, 4); /* every workload here is batch-timed */
    struct run_opts o = { .params = params, .nparams = n, .probe_timeout_s = PROBE_S };
    struct vmm_result res;
    run_guest(guest_img, d->name, &o, &res);

    if (strcmp(d->name, "hypercall") == 0 && res.status == VMM_STATUS_UNSUPPORTED) {
        /* vmcall/vmmcall never returns on PVM hosts: the probe must catch that promptly
         * and say which instruction it was. */
        if (!strstr(res.reason, "vmcall") && !strstr(res.reason, "vmmcall"))
            fail_msg("hypercall unsupported without naming the instruction: %s", res.reason);
        if (res.wall_seconds > PROBE_S + 4)
            fail_msg("hypercall took %.2f s to be found unsupported (probe %.1f s)",
                     res.wall_seconds, PROBE_S);
        printf("NOTE: hypercall ring=%u unsupported here (%.2f s): %s\n", c->ring,
               res.wall_seconds, res.reason);
        assert_int_equal(res.nsamples, 0);
        vmm_result_free(&res);
        return;
    }
    if (res.status != VMM_STATUS_OK)
        fail_msg("%s ring=%u: %s: %s", d->name, c->ring, vmm_status_name(res.status),
                 res.reason);
    assert_string_equal(res.reason, "");
    assert_int_equal(count(&res, "timing_floor", false), BATCHES);
    assert_int_equal(count(&res, "timing_floor", true), WARMUP);
    assert_int_equal(count(&res, "latency_cycles", false), BATCHES);
    assert_int_equal(count(&res, "latency_cycles", true), WARMUP);
    size_t with_ns = res.tsc_khz ? BATCHES : 0;
    assert_int_equal(count(&res, "latency", false), with_ns);
    assert_int_equal(count(&res, "latency", true), res.tsc_khz ? WARMUP : 0);
    /* and the VMM's own CPU time: the supervisor's, its placement sample, the vCPU's */
    assert_int_equal(count(&res, "vmm_cpu_supervisor", false), 1);
    assert_int_equal(count(&res, "vmm_cpu_placement_sample", false), 1);
    assert_int_equal(count(&res, "vmm_cpu_vcpu", false), 1);
    assert_int_equal(res.nsamples, (2 + (res.tsc_khz ? 1 : 0)) * (BATCHES + WARMUP) + 3);
    /* every batch number appears once per metric: 0..warmup+batches-1 */
    for (size_t i = 0; i < res.nsamples; i++)
        assert_true(res.samples[i].batch < BATCHES + WARMUP);
    /* the timing floor is a real measurement */
    assert_true(median_of(&res, "timing_floor") > 0);
    /* an exit costs something on top of the floor */
    if (strcmp(d->name, "null") != 0) {
        double lc = median_of(&res, "latency_cycles");
        if (!(lc > 0))
            fail_msg("%s ring=%u: median latency %.1f cycles is not positive", d->name,
                     c->ring, lc);
        if (res.tsc_khz)
            assert_true(median_of(&res, "latency") > 0);
    }
    printf("  %s ring=%u: latency median %.0f cycles, floor %.1f cycles, %.3f s\n", d->name,
           c->ring, median_of(&res, "latency_cycles"), median_of(&res, "timing_floor"),
           res.wall_seconds);
    vmm_result_free(&res);
}

/* ---- hostile guests ---- */

struct hostile_case {
    const char *name;
    const char *params[2];
    unsigned nparams;
    double timeout_s;
    enum vmm_status status;
    const char *word1, *word2;
    double max_seconds;      /* it must end at least this fast */
};

static const struct hostile_case hostile[] = {
    { "hang", { 0 }, 0, 1, VMM_STATUS_TIMEOUT, "timeout", "phase 0", 5 },
    { "probe-hang", { 0 }, 0, 30, VMM_STATUS_UNSUPPORTED, "probe", "probe-hang", 5 },
    { "triple-fault", { 0 }, 0, 30, VMM_STATUS_GUEST_CRASH, "SHUTDOWN", "RIP=", 10 },
    { "ud", { 0 }, 0, 30, VMM_STATUS_GUEST_CRASH, "vector 6", "RIP 0x", 10 },
    { "console-flood", { "ring=3" }, 1, 60, VMM_STATUS_GUEST_ERROR, "console flood", NULL,
      30 },
    { "console-flood", { "ring=0" }, 1, 60, VMM_STATUS_GUEST_ERROR, "console flood", NULL,
      30 },
    { "bad-result-ptr", { 0 }, 0, 30, VMM_STATUS_GUEST_ERROR, "outside guest memory",
      "0xfffff000", 10 },
    { "corrupt-result", { 0 }, 0, 30, VMM_STATUS_GUEST_ERROR, "corrupt", "magic", 10 },
    { "huge-count", { 0 }, 0, 30, VMM_STATUS_GUEST_ERROR, "4294967295", NULL, 10 },
    { "wild-port", { 0 }, 0, 30, VMM_STATUS_GUEST_CRASH, "unexpected port", "0x7e0", 10 },
    { "wild-mmio", { 0 }, 0, 30, VMM_STATUS_GUEST_CRASH, "unexpected MMIO", "0xe0000000", 10 },
    { "halt", { 0 }, 0, 30, VMM_STATUS_GUEST_CRASH, "halted", "RIP=", 10 },
    /* the whole 64-bit result address is kept: 4 GiB up is outside this 64 MiB guest */
    { "done-high", { 0 }, 0, 30, VMM_STATUS_GUEST_ERROR, "outside guest memory", "at 0x1",
      10 },
    /* irq-inject (VMMB_WL_IRQFD): the mailbox is checked, and nothing is injected before it */
    { "inject-bad-mbox", { 0 }, 0, 30, VMM_STATUS_GUEST_ERROR, "irq-inject mailbox at "
      "0xfffffff8 refused", "guest RAM", 10 },
    { "inject-unregistered", { 0 }, 0, 30, VMM_STATUS_GUEST_ERROR, "before registering", NULL,
      10 },
    /* one past the limits of guest output ends the run, naming the limit */
    { "max-output", { "points=1025", "console=0" }, 2, 30, VMM_STATUS_GUEST_ERROR,
      "over the limit of 1024 points", NULL, 10 },
    { "max-output", { "records=131073", "console=0" }, 2, 30, VMM_STATUS_GUEST_ERROR,
      "over the limit of 131072 records", NULL, 10 },
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])
_Static_assert(VMM_RESULT_MAX_POINTS == 1024 && VMM_RESULT_MAX_RECORDS == 131072,
               "the max-output cases above name the limits of vmm/result.h");

static unsigned count_dir(const char *path)
{
    DIR *d = opendir(path);
    unsigned n = 0;
    if (!d)
        return 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static unsigned fds_before, threads_before;
static unsigned hostile_done;

static void test_hostile(void **state)
{
    NEED_KVM();
    const struct hostile_case *c = *state;
    if (c == &hostile[0]) {
        fds_before = count_dir("/proc/self/fd");
        threads_before = count_dir("/proc/self/task");
    }
    struct run_opts o = { .params = c->params, .nparams = c->nparams, .timeout_s = c->timeout_s,
                          .probe_timeout_s = PROBE_S };
    struct vmm_result res;
    run_guest(hostile_img, c->name, &o, &res);
    printf("  %s %s: %s (%.2f s, %llu exits): %.160s\n", c->name,
           c->nparams ? c->params[0] : "", vmm_status_name(res.status),
           res.wall_seconds, (unsigned long long)res.exits, res.reason);
    if (res.status != c->status)
        fail_msg("%s ended %s, want %s: %s", c->name, vmm_status_name(res.status),
                 vmm_status_name(c->status), res.reason);
    if (!strstr(res.reason, c->word1))
        fail_msg("%s: reason '%s' does not mention '%s'", c->name, res.reason, c->word1);
    if (c->word2 && !strstr(res.reason, c->word2))
        fail_msg("%s: reason '%s' does not mention '%s'", c->name, res.reason, c->word2);
    assert_int_equal(res.nsamples, 0);
    if (res.wall_seconds > c->max_seconds)
        fail_msg("%s took %.1f s to end (limit %.0f s)", c->name, res.wall_seconds,
                 c->max_seconds);
    if (strcmp(c->name, "console-flood") == 0) {
        /* the console keeps its limit and says it dropped the rest */
        assert_int_equal(res.console_len, VMM_CONSOLE_KEEP);
        assert_true(res.console_truncated);
        assert_int_equal(strlen(res.console), VMM_CONSOLE_KEEP);
        assert_memory_equal(res.console, "abcdefghijklmnopqrstuvwxyzabc", 29);
        assert_true(res.exits > VMM_CONSOLE_FLOOD / 4096);
    }
    if (strcmp(c->name, "hang") == 0)
        assert_true(res.wall_seconds >= 1.0);
    vmm_result_free(&res);
    hostile_done++;
}

/* After every hostile guest: same descriptors and threads as before, and a normal guest
 * still runs. */
static void test_survives_hostile(void **state)
{
    (void)state;
    NEED_KVM();
    if (hostile_done != NHOSTILE)
        fail_msg("only %u of %zu hostile guests ran to their expected end", hostile_done,
                 NHOSTILE);
    unsigned fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
    if (fds != fds_before || threads != threads_before)
        fail_msg("hostile runs leaked: fds %u -> %u, threads %u -> %u", fds_before, fds,
                 threads_before, threads);
    const char *params[] = { "iters=" STR(ITERS), "batches=" STR(BATCHES), "warmup=" STR(WARMUP) };
    struct run_opts o = { .params = params, .nparams = 3, .probe_timeout_s = PROBE_S };
    struct vmm_result res;
    run_guest(guest_img, "null", &o, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("null after hostile guests: %s: %s", vmm_status_name(res.status), res.reason);
    assert_int_equal(count(&res, "latency_cycles", false), BATCHES);
    vmm_result_free(&res);
}

static void test_two_vcpus(void **state)
{
    (void)state;
    NEED_KVM();
    const char *params[] = { "iters=" STR(ITERS), "batches=" STR(BATCHES), "warmup=" STR(WARMUP) };
    struct run_opts o = { .params = params, .nparams = 3, .probe_timeout_s = PROBE_S,
                          .vcpus = 2 };
    struct vmm_result res;
    run_guest(guest_img, "cpuid", &o, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("cpuid on 2 vCPUs: %s: %s", vmm_status_name(res.status), res.reason);
    assert_int_equal(count(&res, "latency_cycles", false), BATCHES);
    assert_true(median_of(&res, "latency_cycles") > 0);
    vmm_result_free(&res);
}

int main(void)
{
    struct vmm_err e = { 0 };
    kvm_ok = vmm_kvm_check(&e) == 0;
    snprintf(kvm_why, sizeof kvm_why, "%s", e.msg);
    struct vmm_err e1 = { 0 }, e2 = { 0 };
    if (vmm_image_open(GUEST_ELF, &guest_img, &e1) ||
        vmm_image_open(HOSTILE_ELF, &hostile_img, &e2)) {
        fprintf(stderr, "test_guests: %s%s (run from the repo root after `make %s %s`)\n",
                e1.msg, e2.msg, GUEST_ELF, HOSTILE_ELF);
        return 1;
    }

    size_t max = 2 * guest_img->nworkloads + NHOSTILE + 2;
    struct CMUnitTest *tests = calloc(max, sizeof *tests);
    struct wl_case *cases = calloc(2 * guest_img->nworkloads, sizeof *cases);
    char (*hnames)[64] = calloc(NHOSTILE, sizeof *hnames);
    if (!tests || !cases || !hnames)
        return 1;
    size_t n = 0, nc = 0;
    for (unsigned i = 0; i < guest_img->nworkloads; i++) {
        const struct vmmb_workload_desc *d = &guest_img->workloads[i];
        static const unsigned rings[] = { 3, 0 };
        /* I/O workloads need devices and report other metrics: test_virtio.c runs them. */
        if (strncmp(d->name, "virtio-", 7) == 0)
            continue;
        /* Only batch-timed workloads here; `layout` (boot-info printout) is checked from
         * the guest's console in test_placement.sh. */
        if (!declares(d, "batches"))
            continue;
        /* Memory workloads sweep sizes and report per point: test_memory.c runs them. */
        if (d->flags & VMMB_WL_VECTOR)
            continue;
        for (unsigned r = 0; r < 2; r++) {
            if (!(d->rings & (rings[r] == 0 ? VMMB_RING0 : VMMB_RING3)))
                continue;
            struct wl_case *c = &cases[nc++];
            snprintf(c->name, sizeof c->name, "workload %s ring=%u", d->name, rings[r]);
            c->desc = d;
            c->ring = rings[r];
            tests[n++] = (struct CMUnitTest){ .name = c->name, .test_func = test_workload,
                                              .initial_state = c };
        }
    }
    tests[n++] = (struct CMUnitTest){ .name = "two vCPUs", .test_func = test_two_vcpus };
    for (size_t i = 0; i < NHOSTILE; i++) {
        snprintf(hnames[i], sizeof hnames[i], "hostile %s%s%s", hostile[i].name,
                 hostile[i].nparams ? " " : "", hostile[i].nparams ? hostile[i].params[0] : "");
        tests[n++] = (struct CMUnitTest){ .name = hnames[i], .test_func = test_hostile,
                                          .initial_state = (void *)&hostile[i] };
    }
    tests[n++] = (struct CMUnitTest){ .name = "VMM survives hostile guests",
                                      .test_func = test_survives_hostile };
    int rc = _cmocka_run_group_tests("guests", tests, n, NULL, NULL);
    free(tests);
    free(cases);
    free(hnames);
    vmm_image_close(guest_img);
    vmm_image_close(hostile_img);
    return rc;
}
