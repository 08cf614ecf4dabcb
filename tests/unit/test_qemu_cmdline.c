/* The QEMU backend's pure parts: the command line built from plans (each placement key
 * mapped onto QEMU's options, nothing else changing), the plan-time refusals naming their
 * key, and the QMP query-cpus-fast scanner on a real reply and on hostile text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/qemu.h"
#include "vmm/image.h"
#include "vmm/plan.h"

static const struct qemu_launch LAUNCH = { "qemu-system-x86_64", "/share/qemu/vmmb-reset.bin",
                                           7, "/tmp/vmmb-qemu-x/qmp" };

/* A plan as vmm_plan_make leaves it, for the fields the command line reads. */
static struct vmm_plan plan(unsigned vcpus, uint64_t mem)
{
    struct vmm_plan p;
    memset(&p, 0, sizeof p);
    p.hypervisor = VMM_HV_QEMU_MICROVM;
    p.vcpus = vcpus;
    p.mem_bytes = mem;
    p.resolved.nvnodes = 1;
    p.resolved.vnode_size[0] = mem;
    p.resolved.vnode_host[0] = -1;
    for (unsigned i = 0; i < vcpus; i++)
        p.resolved.vcpu_cpu[i] = -1;
    return p;
}

static void build(const struct vmm_plan *p, struct qemu_argv *a)
{
    struct vmm_err e = { 0 };
    if (qemu_cmdline_build(p, &LAUNCH, a, &e))
        fail_msg("qemu_cmdline_build: %s", e.msg);
}

/* The argument after option `opt`; fails the test when the option is absent. */
static const char *arg_of(const struct qemu_argv *a, const char *opt)
{
    for (unsigned i = 0; i + 1 < a->argc; i++)
        if (strcmp(a->argv[i], opt) == 0)
            return a->argv[i + 1];
    fail_msg("no %s on the command line", opt);
    return NULL;
}

static bool has_arg(const struct qemu_argv *a, const char *s)
{
    for (unsigned i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], s) == 0)
            return true;
    return false;
}

static void contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("'%s' lacks '%s'", s, part);
}

static void lacks(const char *s, const char *part)
{
    if (strstr(s, part))
        fail_msg("'%s' has '%s'", s, part);
}

static void test_default_line(void **state)
{
    (void)state;
    struct vmm_plan p = plan(1, 64ull << 20);
    struct qemu_argv a;
    build(&p, &a);
    assert_string_equal(a.argv[0], "qemu-system-x86_64");
    assert_null(a.argv[a.argc]);
    assert_string_equal(arg_of(&a, "-accel"), "kvm,kernel-irqchip=on");
    assert_string_equal(arg_of(&a, "-cpu"), "host");
    assert_string_equal(arg_of(&a, "-smp"), "1,sockets=1,cores=1,threads=1");
    assert_string_equal(arg_of(&a, "-m"), "65536K");
    assert_string_equal(arg_of(&a, "-bios"), LAUNCH.bios);
    assert_string_equal(arg_of(&a, "-device"), "isa-debug-exit,iobase=0x7f0,iosize=4");
    assert_string_equal(arg_of(&a, "-serial"), "stdio");
    assert_string_equal(arg_of(&a, "-qmp"), "unix:/tmp/vmmb-qemu-x/qmp,server=on,wait=off");
    const char *m = arg_of(&a, "-M");
    contains(m, "microvm,");
    contains(m, "memory-backend=ram");
    contains(m, "x-option-roms=off");
    contains(m, "pit=off");
    contains(m, "pic=off");
    contains(m, "rtc=off");
    contains(m, "isa-serial=on");
    const char *o = arg_of(&a, "-object");
    assert_string_equal(o, "memory-backend-file,id=ram,mem-path=/proc/self/fd/7,share=on,"
                           "size=65536K");
    assert_true(has_arg(&a, "-S"));
    assert_true(has_arg(&a, "-nodefaults"));
    assert_true(has_arg(&a, "-no-reboot"));
    /* HLT exits stay on, as in vmm-min */
    for (unsigned i = 0; i < a.argc; i++)
        lacks(a.argv[i], "cpu-pm");
}

static void test_smp_and_memory(void **state)
{
    (void)state;
    struct vmm_plan p = plan(4, 3ull << 30);
    struct qemu_argv a;
    build(&p, &a);
    assert_string_equal(arg_of(&a, "-smp"), "4,sockets=1,cores=4,threads=1");
    assert_string_equal(arg_of(&a, "-m"), "3145728K");
    contains(arg_of(&a, "-object"), ",size=3145728K");
}

static void test_prefault_and_numa(void **state)
{
    (void)state;
    struct vmm_plan p = plan(1, 64ull << 20);
    p.placement.prefault = true;
    p.resolved.vnode_host[0] = 1; /* numa = bind:1 */
    struct qemu_argv a;
    build(&p, &a);
    const char *o = arg_of(&a, "-object");
    contains(o, ",prealloc=on");
    contains(o, ",host-nodes=1,policy=bind");
    lacks(o, "host-nodes=0");

    p = plan(1, 64ull << 20);
    p.placement.numa = VMM_NUMA_INTERLEAVE;
    p.placement.numa_nodes = 0x5; /* nodes 0 and 2 */
    build(&p, &a);
    o = arg_of(&a, "-object");
    contains(o, ",host-nodes=0,host-nodes=2,policy=interleave");
    lacks(o, "prealloc");

    p.placement.numa = VMM_NUMA_PREFERRED;
    p.placement.numa_nodes = 0x2;
    build(&p, &a);
    contains(arg_of(&a, "-object"), ",host-nodes=1,policy=preferred");
}

/* Pinning and the backing's page size are vmm-min's work on its side (thread affinity
 * over QMP, the memfd's flags): the command line is the same with or without them. */
static void test_pin_and_backing_leave_line_alone(void **state)
{
    (void)state;
    struct vmm_plan p = plan(2, 64ull << 20), q = p;
    q.placement.npin = 2;
    q.placement.pin[0] = 1;
    q.placement.pin[1] = 0;
    q.resolved.vcpu_cpu[0] = 1;
    q.resolved.vcpu_cpu[1] = 0;
    q.placement.nvmm_pin = 1;
    q.placement.backing = VMM_BACKING_HUGETLB_2MB;
    struct qemu_argv a, b;
    build(&p, &a);
    build(&q, &b);
    assert_int_equal(a.argc, b.argc);
    for (unsigned i = 0; i < a.argc; i++)
        assert_string_equal(a.argv[i], b.argv[i]);
}

/* vNUMA: the guest reads its layout from the boot info and vmm-min binds each node's
 * range of the memfd itself, so the line is the plain one: no -numa, and no host-nodes or
 * policy (QEMU would set one policy over the whole file, undoing the per-node ranges). */
static void test_vnuma_leaves_line_plain(void **state)
{
    (void)state;
    for (int pc = 0; pc < 2; pc++) {
        struct vmm_plan p = plan(2, 64ull << 20), q = p;
        p.hypervisor = q.hypervisor = pc ? VMM_HV_QEMU_PC : VMM_HV_QEMU_MICROVM;
        q.resolved.nvnodes = 2;
        q.resolved.vnode_size[0] = q.resolved.vnode_size[1] = 32ull << 20;
        q.resolved.vnode_host[0] = 0;
        q.resolved.vnode_host[1] = 1;
        q.resolved.vcpu_vnode[1] = 1;
        struct qemu_argv a, b;
        build(&p, &a);
        build(&q, &b);
        assert_int_equal(a.argc, b.argc);
        for (unsigned i = 0; i < b.argc; i++) {
            assert_string_equal(a.argv[i], b.argv[i]);
            lacks(b.argv[i], "-numa");
            lacks(b.argv[i], "host-nodes");
        }
    }
}

static void test_refuses_what_it_cannot_say(void **state)
{
    (void)state;
    /* (qemu-pc's command line: tests/unit/test_qemu_pc.c) */
    struct vmm_plan p = plan(1, 64ull << 20);
    struct qemu_argv a;
    struct vmm_err e = { 0 };
    /* a path too long for the argument buffer is an error, never a cut-off argv */
    char longpath[5000];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    struct qemu_launch l = LAUNCH;
    l.bios = longpath;
    p = plan(1, 64ull << 20);
    e = (struct vmm_err){ 0 };
    assert_int_equal(qemu_cmdline_build(&p, &l, &a, &e), -1);
    contains(e.msg, "too long");
}

/* ---- plan-time refusals, through vmm_plan_make and the real guest image ---- */

static const char *guest_elf(void)
{
    static char buf[4096];
    const char *b = getenv("BUILD");
    snprintf(buf, sizeof buf, "%s/share/vmmbench/guest/vmmbench-guest.elf", b && *b ? b : "build");
    return buf;
}

static void plan_refused(const char *wl, const char *key, const char *value, const char *word)
{
    struct vmm_image *img = NULL;
    struct vmm_err e = { 0 };
    if (vmm_image_open(guest_elf(), &img, &e))
        fail_msg("cannot open %s: %s (run after `make`)", guest_elf(), e.msg);
    struct vmm_request rq = { .image = img, .workload = wl, .mem_bytes = 64ull << 20,
                              .vcpus = 1, .hypervisor = VMM_HV_QEMU_MICROVM };
    if (key && strcmp(key, "counters") == 0)
        rq.counters = value;
    else if (key && vmm_placement_set(&rq.placement, key, value, &e))
        fail_msg("%s=%s: %s", key, value, e.msg);
    struct vmm_plan p;
    e = (struct vmm_err){ 0 };
    int rc = vmm_plan_make(&rq, &p, &e);
    vmm_image_close(img);
    if (rc == 0)
        fail_msg("%s %s=%s was accepted under qemu-microvm", wl, key, value);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    contains(e.msg, word);
}

static void test_plan_refusals_name_the_key(void **state)
{
    (void)state;
    plan_refused("cpuid", "backing", "anonymous_thp", "backing");
    plan_refused("cpuid", "native", "yes", "native");
    plan_refused("irq-inject", NULL, NULL, "irq-inject");
    plan_refused("cpuid", "counters", "cycles", "counters");
}

/* plan_make of cpuid under qemu-microvm with placement keys set as key=value pairs. */
static int plan_with(const char *const *kv, unsigned n, struct vmm_err *e)
{
    struct vmm_image *img = NULL;
    if (vmm_image_open(guest_elf(), &img, e))
        fail_msg("cannot open %s: %s (run after `make`)", guest_elf(), e->msg);
    struct vmm_request rq = { .image = img, .workload = "cpuid", .mem_bytes = 64ull << 20,
                              .vcpus = 2, .hypervisor = VMM_HV_QEMU_MICROVM };
    for (unsigned i = 0; i + 1 < n; i += 2)
        if (vmm_placement_set(&rq.placement, kv[i], kv[i + 1], e))
            fail_msg("%s=%s: %s", kv[i], kv[i + 1], e->msg);
    struct vmm_plan p;
    *e = (struct vmm_err){ 0 };
    int rc = vmm_plan_make(&rq, &p, e);
    vmm_image_close(img);
    return rc;
}

/* vNUMA runs under QEMU on shmem (the memfd's shared policy); on hugetlb, whose policy is
 * vmm-min's mapping's alone, only with prefault, the refusal naming both keys. */
static void test_plan_vnuma(void **state)
{
    (void)state;
    struct vmm_err e = { 0 };
    const char *shmem[] = { "vnuma", "0:32M@host0,1:32M@host0" };
    if (plan_with(shmem, 2, &e))
        fail_msg("vnuma under qemu-microvm refused: %s", e.msg);
    const char *huge[] = { "vnuma", "0:32M@host0,1:32M@host0", "backing", "anonymous_hugetlb_2mb" };
    assert_int_equal(plan_with(huge, 4, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    contains(e.msg, "vnuma");
    contains(e.msg, "prefault = yes");
    contains(e.msg, "anonymous_hugetlb_2mb");
    /* with prefault the refusal is gone (a missing hugetlb pool may still refuse it) */
    const char *huge_pf[] = { "vnuma", "0:32M@host0,1:32M@host0", "backing",
                              "anonymous_hugetlb_2mb", "prefault", "yes" };
    if (plan_with(huge_pf, 6, &e))
        lacks(e.msg, "prefault = yes");
}

static void test_plan_refuses_missing_qemu(void **state)
{
    (void)state;
    const char *old = getenv("VMMB_QEMU");
    char saved[4096] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    setenv("VMMB_QEMU", "/nonexistent/qemu-system-x86_64", 1);
    plan_refused("cpuid", NULL, NULL, "/nonexistent/qemu-system-x86_64");
    if (old)
        setenv("VMMB_QEMU", saved, 1);
    else
        unsetenv("VMMB_QEMU");
}

/* ---- the QMP scanner ---- */

/* QEMU 7.2's reply to query-cpus-fast for -smp 2 (one line). */
static const char REAL[] =
    "{\"return\": [{\"thread-id\": 30147, \"props\": {\"core-id\": 0, \"thread-id\": 0, "
    "\"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, "
    "\"target\": \"x86_64\"}, {\"thread-id\": 30148, \"props\": {\"core-id\": 1, "
    "\"thread-id\": 0, \"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[1]\", "
    "\"cpu-index\": 1, \"target\": \"x86_64\"}]}";

static int scan(const char *s, pid_t *tid, unsigned n)
{
    return qmp_scan_cpus(s, strlen(s), tid, n);
}

static void test_scan_real_reply(void **state)
{
    (void)state;
    pid_t tid[2];
    assert_int_equal(scan(REAL, tid, 2), 0);
    /* props' own "thread-id" (an SMT index) is nested: not the thread */
    assert_int_equal(tid[0], 30147);
    assert_int_equal(tid[1], 30148);
    /* the same reply for a VM the plan says has 3 vCPUs: one missing */
    pid_t t3[3];
    assert_int_equal(scan(REAL, t3, 3), -1);
    /* ... or 1: an index beyond the plan */
    assert_int_equal(scan(REAL, tid, 1), -1);
    /* order of keys and whitespace do not matter */
    assert_int_equal(scan("{\"return\":[{\"cpu-index\":0,\"thread-id\":9}]}", tid, 1), 0);
    assert_int_equal(tid[0], 9);
}

static void test_scan_hostile(void **state)
{
    (void)state;
    pid_t tid[2];
    static const char *const bad[] = {
        "",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}",
        "{\"return\": []}",
        "{\"return\": [{\"cpu-index\": 0}]}",                           /* no thread */
        "{\"return\": [{\"thread-id\": 5}]}",                           /* no index */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 0}]}",         /* thread 0 */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": -5}]}",        /* negative */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 99999999999}]}", /* overflows pid_t */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": \"12\"}]}",    /* a string */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7, \"thread-id\": 8}]}", /* twice */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}, {\"cpu-index\": 0, "
        "\"thread-id\": 8}]}",                                          /* index twice */
        "{\"return\": [{\"cpu-index\": 4294967296, \"thread-id\": 7}]}",
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}",           /* cut off */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}]}}",        /* one } too many */
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7, \"x\": \"unterminated}]}",
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7, \"x\": \"\\",
        /* keys inside a string value are text, not keys */
        "{\"return\": [{\"note\": \"\\\"cpu-index\\\": 0, \\\"thread-id\\\": 7\"}]}",
        /* the same keys outside the return array count for nothing */
        "{\"cpu-index\": 0, \"thread-id\": 7, \"return\": []}",
        "{\"return\": [{\"props\": {\"cpu-index\": 0, \"thread-id\": 7}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (scan(bad[i], tid, 1) != -1)
            fail_msg("accepted hostile reply %zu: %s", i, bad[i]);
    /* deep nesting is refused, not recursed into */
    char deep[4096];
    size_t n = (size_t)snprintf(deep, sizeof deep, "{\"return\": [");
    for (int k = 0; k < 1000; k++)
        deep[n++] = '[';
    deep[n] = 0;
    assert_int_equal(scan(deep, tid, 1), -1);
    /* a length shorter than the text: the scanner stops there */
    assert_int_equal(qmp_scan_cpus(REAL, 40, tid, 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_line),
        cmocka_unit_test(test_smp_and_memory),
        cmocka_unit_test(test_prefault_and_numa),
        cmocka_unit_test(test_pin_and_backing_leave_line_alone),
        cmocka_unit_test(test_vnuma_leaves_line_plain),
        cmocka_unit_test(test_refuses_what_it_cannot_say),
        cmocka_unit_test(test_plan_refusals_name_the_key),
        cmocka_unit_test(test_plan_vnuma),
        cmocka_unit_test(test_plan_refuses_missing_qemu),
        cmocka_unit_test(test_scan_real_reply),
        cmocka_unit_test(test_scan_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
