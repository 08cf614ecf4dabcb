/* virtio on the real /dev/kvm, through the libvmm API, for every notification path
 * (exit, ioeventfd, poll):
 *  - virtio-blk verify on a file backend: the guest writes a pattern, reads it back and
 *    compares; then this test checks the file holds the pattern (the bytes really went
 *    through the device to the file);
 *  - the VMM's per-request figures are there and plausible (kicks, exits, rates);
 *  - event-idx suppression on the poll path cuts kicks against a driver that ignores it;
 *  - hostile drivers (tests/guests/virtio_hostile.c): every broken ring and setup is
 *    answered per the spec inside the guest, recorded by the VMM by kind, and the run
 *    ends ok; afterwards no descriptor or thread leaked.
 * Without a usable /dev/kvm every test is skipped, naming why.
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
#include <unistd.h>

#include "../unit/testutil.h"
#include "vmm/image.h"
#include "vmm/plan.h"
#include "vmm/result.h"
#include "vmm/vmm.h"

#include "kvm_gate.h"

static const char *build_path(char *buf, size_t len, const char *rel)
{
    const char *b = getenv("BUILD");
    snprintf(buf, len, "%s/%s", b && *b ? b : "build", rel);
    return buf;
}

#define GUEST_ELF build_path((char[4096]){ 0 }, 4096, "share/vmmbench/guest/vmmbench-guest.elf")
#define HOSTILE_ELF build_path((char[4096]){ 0 }, 4096, "tests/guest/hostile-guest.elf")

static struct vmm_image *guest_img, *hostile_img;
static bool kvm_ok;
static char kvm_why[VMM_ERR_MSG_MAX];
static const char *const paths[] = { "exit", "ioeventfd", "poll" };

#define NEED_KVM() NEED_KVM_OR_SKIP(kvm_ok, kvm_why)

/* pinned: vCPU on CPU 0, the I/O thread on CPU 1, so a polling thread never shares a
 * CPU with the vCPU it serves. poll_us: the poll path's window (0: vmm-min's default). */
static void run_pinned(const struct vmm_image *img, const char *wl, const char *const *params,
                       unsigned np, const char *dev, const char *notify, bool pinned,
                       unsigned poll_us, struct vmm_result *res)
{
    const char *devs[] = { dev };
    struct vmm_request rq = {
        .image = img, .workload = wl, .params = params, .nparams = np, .mem_bytes = 64u << 20,
        .vcpus = 1, .timeout_s = 60, .probe_timeout_s = 5,
        .virtio = { .devices = devs, .ndevices = 1, .notify = notify, .io_cpu = 1,
                    .io_cpu_set = pinned, .poll_us = poll_us },
    };
    struct vmm_plan plan;
    struct vmm_err e = { 0 };
    if (pinned && vmm_placement_set(&rq.placement, "pin", "0", &e))
        fail_msg("pin: %s", e.msg);
    if (vmm_plan_make(&rq, &plan, &e))
        fail_msg("plan for %s refused: %s", wl, e.msg);
    vmm_run(&plan, res);
}

static void run(const struct vmm_image *img, const char *wl, const char *const *params,
                unsigned np, const char *dev, const char *notify, struct vmm_result *res)
{
    run_pinned(img, wl, params, np, dev, notify, false, 0, res);
}

static double metric(const struct vmm_result *r, const char *m, size_t *n)
{
    double v = 0;
    size_t k = 0;
    for (size_t i = 0; i < r->nsamples; i++)
        if (strcmp(r->samples[i].metric, m) == 0 && !r->samples[i].warmup) {
            v = r->samples[i].value;
            k++;
        }
    if (n)
        *n = k;
    return v;
}

static uint64_t pattern(uint64_t off)
{
    return (off + 1) * 0x9E3779B97F4A7C15ull ^ (off >> 9);
}

#define VSIZE 4096
#define VITERS 64

static void test_verify_file(void **state)
{
    NEED_KVM();
    const char *notify = *state;
    char dir[256], path[300], dev[320];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/disk.img", dir);
    snprintf(dev, sizeof dev, "blk:file:%s", path);
    char *zero = calloc(1, 1 << 20);
    tu_write_file(path, zero, 1 << 20);
    free(zero);
    const char *params[] = { "op=4", "size=4096", "qd=8", "iters=64", "batches=2", "warmup=1" };
    struct vmm_result res;
    run(guest_img, "virtio-blk", params, 6, dev, notify, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("verify on %s: %s: %s", notify, vmm_status_name(res.status), res.reason);
    /* every request's latency, measured batches only counted here */
    size_t n;
    metric(&res, "req_latency", &n);
    assert_int_equal(n, 2 * 2 * VITERS);
    double reqs = metric(&res, "requests", NULL);
    assert_true(reqs >= 3 * 2 * VITERS); /* warm-up + 2 batches, writes and reads */
    double kicks = metric(&res, "kicks_per_req", NULL);
    assert_true(kicks <= 1.0);
    double exits = metric(&res, "exits_per_req", NULL);
    if (strcmp(notify, "exit") == 0)
        assert_true(kicks > 0 && exits >= kicks); /* each kick is an exit to this process */
    else
        assert_true(exits < 0.01); /* kicks stay inside KVM (ioeventfd), or are suppressed */
    assert_true(metric(&res, "bytes_per_s", &n) > 0);
    assert_int_equal(n, 2);
    printf("  %s: %.0f requests, %.3f kicks/req, %.3f exits/req, %.3g B/s\n", notify, reqs,
           kicks, exits, metric(&res, "bytes_per_s", NULL));
    vmm_result_free(&res);
    /* The file holds what the guest wrote. */
    size_t len;
    char *f = tu_read_file(path, &len);
    assert_int_equal(len, 1 << 20);
    for (uint64_t off = 0; off < VITERS * VSIZE; off += 8) {
        uint64_t w;
        memcpy(&w, f + off, 8);
        if (w != pattern(off))
            fail_msg("%s: file word at %llu is 0x%llx, want 0x%llx", notify,
                     (unsigned long long)off, (unsigned long long)w,
                     (unsigned long long)pattern(off));
    }
    assert_int_equal(f[VITERS * VSIZE], 0); /* nothing beyond */
    free(f);
    tu_rm_tree(dir);
}

static void test_ram_and_null(void **state)
{
    NEED_KVM();
    const char *notify = *state;
    const char *params[] = { "op=4", "size=65536", "qd=4", "iters=16", "batches=1", "warmup=0" };
    struct vmm_result res;
    run(guest_img, "virtio-blk", params, 6, "blk:ram:4M", notify, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("verify on ram, %s: %s", notify, res.reason);
    vmm_result_free(&res);
    /* null moves no data: verify must fail, and say so cleanly */
    run(guest_img, "virtio-blk", params, 6, "blk:null", notify, &res);
    assert_int_equal(res.status, VMM_STATUS_GUEST_ERROR);
    assert_non_null(strstr(res.reason, "differs"));
    vmm_result_free(&res);
}

/* Frames echoed through virtio-net's loop backend (the guest checks each one came back
 * unchanged), and the tx and rx streams on the null backend. */
static void test_net(void **state)
{
    NEED_KVM();
    const char *notify = *state;
    const char *pe[] = { "mode=2", "size=1500", "iters=50", "batches=2", "warmup=0" };
    struct vmm_result res;
    run(guest_img, "virtio-net", pe, 5, "net:loop", notify, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("net echo on %s: %s: %s", notify, vmm_status_name(res.status), res.reason);
    size_t n;
    metric(&res, "req_latency", &n);
    assert_int_equal(n, 100);
    assert_true(metric(&res, "requests", NULL) >= 200); /* each echo: a tx and an rx chain */
    vmm_result_free(&res);
    for (unsigned mode = 0; mode < 2; mode++) {
        const char *ps[] = { mode ? "mode=1" : "mode=0", "size=9000", "qd=16", "iters=100",
                             "batches=2" };
        run(guest_img, "virtio-net", ps, 5, "net:null", notify, &res);
        if (res.status != VMM_STATUS_OK)
            fail_msg("net mode %u on %s: %s", mode, notify, res.reason);
        assert_true(metric(&res, "bytes_per_s", &n) > 0);
        assert_int_equal(n, 2);
        vmm_result_free(&res);
    }
}

static void test_suppression(void **state)
{
    (void)state;
    NEED_KVM();
    const char *p0[] = { "suppress=0", "iters=500", "batches=3" };
    const char *p2[] = { "suppress=2", "iters=500", "batches=3" };
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        printf("SKIP: a polling I/O thread needs a second host CPU\n");
        skip();
    }
    struct vmm_result r0, r2;
    /* Event-idx spares kicks only while the I/O thread polls: once the guest takes longer
     * than the window to refill its 32 slots, the thread re-arms and the next refill
     * kicks, as a naive driver's does. The default 200 us window holds a refill on KVM,
     * but not under QEMU's TCG (the lab), where the guest is ~1000x slower and both runs
     * measured 0.032 kicks/req. A 100 ms window holds a refill in both places, so the
     * difference below is the suppression's alone, as it should be. */
    run_pinned(guest_img, "virtio-blk", p0, 3, "blk:null", "poll", true, 100000, &r0);
    run_pinned(guest_img, "virtio-blk", p2, 3, "blk:null", "poll", true, 100000, &r2);
    assert_int_equal(r0.status, VMM_STATUS_OK);
    assert_int_equal(r2.status, VMM_STATUS_OK);
    double k0 = metric(&r0, "kicks_per_req", NULL), k2 = metric(&r2, "kicks_per_req", NULL);
    printf("  poll path: kicks/req %.4f ignoring suppression, %.4f with event-idx\n", k0, k2);
    /* qd=32: a driver that ignores suppression kicks once per refill */
    assert_true(k0 > 0.02);
    assert_true(k2 < k0 / 2);
    vmm_result_free(&r0);
    vmm_result_free(&r2);
}

/* A workload brings its device when the run names none (blk null); ping, which needs a tap
 * only the user can name, still ends unsupported with the flag to use. */
static void test_no_device(void **state)
{
    (void)state;
    NEED_KVM();
    const char *small[] = { "iters=100", "batches=2", "size=4096", "qd=4" };
    struct vmm_request rq = { .image = guest_img, .workload = "virtio-blk", .params = small,
                              .nparams = 4, .mem_bytes = 64u << 20, .vcpus = 1 };
    struct vmm_plan plan;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &plan, &e), 0);
    assert_int_equal(plan.virtio.ndev, 1);
    assert_string_equal(plan.default_device, "blk = null");
    struct vmm_result res;
    vmm_run(&plan, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("virtio-blk with its default device: %s", res.reason);
    assert_non_null(strstr(res.console, "vmm: blk = null: the workload's default device"));
    vmm_result_free(&res);

    const char *ping[] = { "mode=3", "size=64" };
    struct vmm_request rq2 = { .image = guest_img, .workload = "virtio-net", .params = ping,
                               .nparams = 2, .mem_bytes = 64u << 20, .vcpus = 1 };
    assert_int_equal(vmm_plan_make(&rq2, &plan, &e), 0);
    assert_int_equal(plan.virtio.ndev, 0);
    vmm_run(&plan, &res);
    assert_int_equal(res.status, VMM_STATUS_UNSUPPORTED);
    assert_non_null(strstr(res.reason, "--net tap:NAME"));
    vmm_result_free(&res);
}

struct hostile_case {
    const char *wl;
    const char *notify;
    const char *errs[5];
    char name[64];
};

static struct hostile_case hcases[] = {
    { "virtio-bad-chains", "exit", { "virtio_err_chain_loop", "virtio_err_buf_addr",
      "virtio_err_bad_index", "virtio_err_indirect", "virtio_err_bad_request" }, "" },
    { "virtio-bad-chains", "ioeventfd", { "virtio_err_chain_loop", "virtio_err_buf_addr",
      "virtio_err_bad_index", "virtio_err_desc_order", "virtio_err_bad_request" }, "" },
    { "virtio-bad-chains", "poll", { "virtio_err_chain_loop", "virtio_err_buf_addr", 0 }, "" },
    { "virtio-bad-setup", "exit", { "virtio_err_queue_size", "virtio_err_ring_addr",
      "virtio_err_notify_before_ready", "virtio_err_notify_bad_queue", 0 }, "" },
    { "virtio-bad-setup", "ioeventfd", { "virtio_err_queue_size", "virtio_err_ring_addr",
      "virtio_err_notify_before_ready", "virtio_err_notify_bad_queue", 0 }, "" },
    { "virtio-bad-setup", "poll", { "virtio_err_queue_size", "virtio_err_notify_before_ready",
      0 }, "" },
    /* --notify irq: kicks as with ioeventfd, completions raising interrupts */
    { "virtio-bad-chains-irq", "irq", { "virtio_err_chain_loop", "virtio_err_buf_addr",
      "virtio_err_bad_index", "virtio_err_desc_order", "virtio_err_bad_request" }, "" },
    { "virtio-bad-setup-irq", "irq", { "virtio_err_queue_size", "virtio_err_ring_addr",
      "virtio_err_notify_before_ready", "virtio_err_notify_bad_queue", 0 }, "" },
};
#define NH (sizeof hcases / sizeof hcases[0])

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

static unsigned fds0, threads0;

static void test_hostile(void **state)
{
    NEED_KVM();
    const struct hostile_case *c = *state;
    if (c == &hcases[0]) {
        fds0 = count_dir("/proc/self/fd");
        threads0 = count_dir("/proc/self/task");
    }
    struct vmm_result res;
    run(hostile_img, c->wl, NULL, 0, "blk:null", c->notify, &res);
    if (res.status != VMM_STATUS_OK)
        fail_msg("%s on %s: %s: %s", c->wl, c->notify, vmm_status_name(res.status),
                 res.reason);
    for (unsigned i = 0; i < 5 && c->errs[i]; i++) {
        size_t n;
        double v = metric(&res, c->errs[i], &n);
        if (n != 1 || !(v >= 1))
            fail_msg("%s on %s: no %s recorded", c->wl, c->notify, c->errs[i]);
    }
    assert_non_null(strstr(res.console, "vmm: virtio-blk at 0xd0001000"));
    vmm_result_free(&res);
}

static void test_no_leaks(void **state)
{
    (void)state;
    NEED_KVM();
    unsigned fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
    if (fds != fds0 || threads != threads0)
        fail_msg("virtio runs leaked: fds %u -> %u, threads %u -> %u", fds0, fds, threads0,
                 threads);
}

int main(void)
{
    struct vmm_err e = { 0 };
    kvm_ok = vmm_kvm_check(&e) == 0;
    snprintf(kvm_why, sizeof kvm_why, "%s", e.msg);
    struct vmm_err e1 = { 0 }, e2 = { 0 };
    if (vmm_image_open(GUEST_ELF, &guest_img, &e1) ||
        vmm_image_open(HOSTILE_ELF, &hostile_img, &e2)) {
        fprintf(stderr, "test_virtio: %s%s\n", e1.msg, e2.msg);
        return 1;
    }
    struct CMUnitTest tests[32];
    char names[3][3][64];
    size_t n = 0;
    for (unsigned i = 0; i < 3; i++) {
        snprintf(names[i][0], 64, "blk verify on a file, %s", paths[i]);
        tests[n++] = (struct CMUnitTest){ .name = names[i][0], .test_func = test_verify_file,
                                          .initial_state = (void *)paths[i] };
        snprintf(names[i][1], 64, "blk ram verify, null refuses, %s", paths[i]);
        tests[n++] = (struct CMUnitTest){ .name = names[i][1], .test_func = test_ram_and_null,
                                          .initial_state = (void *)paths[i] };
        snprintf(names[i][2], 64, "net echo, tx, rx, %s", paths[i]);
        tests[n++] = (struct CMUnitTest){ .name = names[i][2], .test_func = test_net,
                                          .initial_state = (void *)paths[i] };
    }
    tests[n++] = (struct CMUnitTest){ .name = "event-idx suppression on the poll path",
                                      .test_func = test_suppression };
    tests[n++] = (struct CMUnitTest){ .name = "no device: the workload brings its own, ping names --net",
                                      .test_func = test_no_device };
    for (unsigned i = 0; i < NH; i++) {
        snprintf(hcases[i].name, sizeof hcases[i].name, "hostile %s, %s", hcases[i].wl,
                 hcases[i].notify);
        tests[n++] = (struct CMUnitTest){ .name = hcases[i].name, .test_func = test_hostile,
                                          .initial_state = &hcases[i] };
    }
    tests[n++] = (struct CMUnitTest){ .name = "no leaked fds or threads",
                                      .test_func = test_no_leaks };
    int rc = _cmocka_run_group_tests("virtio", tests, n, NULL, NULL);
    vmm_image_close(guest_img);
    vmm_image_close(hostile_img);
    return rc;
}
