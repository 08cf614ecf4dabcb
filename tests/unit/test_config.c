/* config_load: valid files give the values and keep the text; every bad input is
 * refused with VMM_EXIT_CONFIG and a message that starts with FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "vmm/virtio_plan.h"
#include "testutil.h"

static char dir[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_tree(dir);
    return 0;
}

/* Writes TEXT to a file in the test directory and returns its path. */
static const char *write_cfg(const char *text)
{
    static char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/c.ini", dir);
    tu_write_file(path, text, strlen(text));
    return path;
}

static void test_default(void **state)
{
    (void)state;
    struct bench_config c;
    config_default(&c);
    assert_string_equal(c.name, "default");
    assert_int_equal(c.vcpus, 1);
    assert_int_equal(c.mem_bytes, 64ULL << 20);
    assert_string_equal(c.source, "(built-in)");
    assert_null(c.text);
    config_free(&c);
}

static void test_valid(void **state)
{
    (void)state;
    const char *text = "; a comment\n"
                       "# another\n"
                       "[vm]\n"
                       "name   = quick-2vcpu.v1   ; inline comment\n"
                       "vcpus  = 2\n"
                       "\n"
                       "memory = 2GiB\n";
    const char *path = write_cfg(text);
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(path, &c, &e), 0);
    assert_int_equal(e.code, 0);
    assert_string_equal(c.name, "quick-2vcpu.v1");
    assert_int_equal(c.vcpus, 2);
    assert_int_equal(c.mem_bytes, 2ULL << 30);
    assert_string_equal(c.source, path);
    assert_non_null(c.text);
    assert_string_equal(c.text, text);
    config_free(&c);
    assert_null(c.text);
}

static void test_only_name_takes_defaults(void **state)
{
    (void)state;
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(write_cfg("[vm]\nname = x\n"), &c, &e), 0);
    assert_string_equal(c.name, "x");
    assert_int_equal(c.vcpus, 1);
    assert_int_equal(c.mem_bytes, 64ULL << 20);
    config_free(&c);
}

static void test_limits_accepted(void **state)
{
    (void)state;
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(write_cfg("[vm]\nname=a\nvcpus=64\nmemory=16M\n"), &c, &e), 0);
    assert_int_equal(c.vcpus, 64);
    assert_int_equal(c.mem_bytes, 16ULL << 20);
    config_free(&c);
}

/* Loads TEXT and expects refusal: "PATH:LINE: ..." containing WHAT (line 0: "PATH: "). */
static void refused(const char *text, int line, const char *what)
{
    const char *path = write_cfg(text);
    struct bench_config c;
    struct vmm_err e = { 0 };
    if (config_load(path, &c, &e) == 0)
        fail_msg("accepted:\n%s", text);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    char prefix[PATH_MAX + 32];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", e.msg, prefix);
    if (!strstr(e.msg, what))
        fail_msg("message '%s' does not mention '%s'", e.msg, what);
    /* Every message says what to do about it. */
    if (!strchr(e.msg, ';'))
        fail_msg("message '%s' has no fix", e.msg);
    assert_null(c.text);
    config_free(&c);
}

static void test_unknown_key_and_section(void **state)
{
    (void)state;
    refused("[vm]\nname = a\ncolour = red\n", 3, "unknown key 'colour'");
    refused("[vm]\nname = a\n[net]\nmtu = 1500\n", 4, "unknown section [net]");
    refused("name = a\n[vm]\n", 1, "outside any section");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    refused("[vm]\nname = a\nvcpus = 1\n\nvcpus = 2\n", 5, "duplicate key 'vcpus'");
    refused("[vm]\nname = a\n[vm]\nname = b\n", 4, "duplicate key 'name'");
}

static void test_bad_vcpus(void **state)
{
    (void)state;
    refused("[vm]\nname = a\nvcpus = 0\n", 3, "vcpus");
    refused("[vm]\nname = a\nvcpus = 65\n", 3, "vcpus");
    refused("[vm]\nname = a\nvcpus = two\n", 3, "vcpus");
    refused("[vm]\nname = a\nvcpus = -1\n", 3, "vcpus");
    refused("[vm]\nname = a\nvcpus = 4x\n", 3, "vcpus");
    refused("[vm]\nname = a\nvcpus = 99999999999999999999999\n", 3, "vcpus");
    refused("[vm]\nname = a\nvcpus =\n", 3, "vcpus");
}

static void test_bad_memory(void **state)
{
    (void)state;
    refused("[vm]\nname = a\nmemory = lots\n", 3, "bad memory 'lots'");
    refused("[vm]\nname = a\nmemory = 0\n", 3, "memory");
    refused("[vm]\nname = a\nmemory = 99999999999T\n", 3, "memory");
    refused("[vm]\nname = a\nmemory = 8M\n", 3, "16M");
    refused("[vm]\nname = a\nmemory = 16777215\n", 3, "16M");   /* one byte short */
}

static void test_bad_name(void **state)
{
    (void)state;
    refused("[vm]\nname = bad name!\n", 2, "bad name");
    refused("[vm]\nname =\n", 2, "bad name");
    refused("[vm]\nname = a/b\n", 2, "bad name");
    char text[256];
    snprintf(text, sizeof text, "[vm]\nname = %064d\n", 0);   /* 64 characters: one too many */
    refused(text, 2, "bad name");
}

static void test_missing_name(void **state)
{
    (void)state;
    refused("[vm]\nvcpus = 2\n", 0, "missing required key 'name'");
    refused("", 0, "missing required key 'name'");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    refused("[vm]\nname = a\nthis is not ini\n", 3, "not a section header");
    /* The syntax error on line 1 comes first, not the handler's complaint on line 2. */
    refused("[vm\nname = a\n", 1, "not a section header");
    char text[512];
    snprintf(text, sizeof text, "[vm]\nname = a\n; %0300d\n", 0);
    refused(text, 3, "longer than");
}

/* Placement and device keys: parsed into the config, refused at their line. */
static void test_placement_and_device_keys(void **state)
{
    (void)state;
    const char *path = write_cfg("[vm]\nname = p\npin = 1,0\nbacking = shmem\n"
                                 "vnuma = 0:32M@host0,1:32M@host0\nblk = ram:64M\n"
                                 "net = loop\nnotify = poll\npoll_us = 50\nio_cpu = 1\n");
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(path, &c, &e), 0);
    assert_int_equal(c.placement.pin_policy, VMM_PIN_LIST);
    assert_int_equal(c.placement.pin[0], 1);
    assert_int_equal(c.placement.backing, VMM_BACKING_SHMEM);
    assert_int_equal(c.placement.nvnodes, 2);
    assert_int_equal(c.ndevices, 2);
    assert_string_equal(c.devices[0], "blk:ram:64M");
    assert_string_equal(c.devices[1], "net:loop");
    assert_string_equal(c.notify, "poll");
    assert_int_equal(c.poll_us, 50);
    assert_int_equal(c.io_cpu, 1);
    const char *devs[2];
    struct vmm_virtio_request rq;
    config_virtio_request(&c, devs, &rq);
    assert_int_equal(rq.ndevices, 2);
    assert_string_equal(rq.devices[1], "net:loop");
    assert_true(rq.io_cpu_set);
    config_free(&c);
    assert_int_equal(config_load(write_cfg("[vm]\nname = i\nnotify = irq\n"), &c, &e), 0);
    assert_string_equal(c.notify, "irq");
    config_free(&c);
    refused("[vm]\nname = a\nbacking = anon\n", 3, "backing 'anon' is unknown");
    refused("[vm]\nname = a\npin = 1\npin = 2\n", 4, "duplicate key 'pin' (first set on line 3)");
    refused("[vm]\nname = a\nnotify = mwait\n", 3,
            "bad notify 'mwait'; use exit, ioeventfd, poll or irq");
    refused("[vm]\nname = a\nnet = tap0\n", 3, "bad net 'tap0'");
    refused("[vm]\nname = a\nnet = tap:\n", 3, "use null, loop or tap:NAME");
    /* A tap is taken by name here; whether it may be used is the plan's question. */
    const char *tpath = write_cfg("[vm]\nname = t\nnet = tap:vmmb0\n");
    assert_int_equal(config_load(tpath, &c, &e), 0);
    assert_int_equal(c.ndevices, 1);
    assert_string_equal(c.devices[0], "net:tap:vmmb0");
    config_free(&c);
    refused("[vm]\nname = a\npoll_us = forever\n", 3, "bad poll_us");
    refused("[vm]\nname = a\nvnuma = 0:1G\n", 3, "vnuma '0:1G' does not parse");
}

/* hypervisor = vmm-min | qemu-microvm | qemu-pc; the default is vmm-min. */
static void test_hypervisor_key(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        enum vmm_hypervisor want;
    } good[] = { { "vmm-min", VMM_HV_VMM_MIN }, { "qemu-microvm", VMM_HV_QEMU_MICROVM },
                 { "qemu-pc", VMM_HV_QEMU_PC } };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "[vm]\nname = a\nhypervisor = %s\n", good[i].value);
        struct bench_config c;
        struct vmm_err e = { 0 };
        assert_int_equal(config_load(write_cfg(text), &c, &e), 0);
        assert_int_equal(c.hypervisor, good[i].want);
        config_free(&c);
    }
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(write_cfg("[vm]\nname = a\n"), &c, &e), 0);
    assert_int_equal(c.hypervisor, VMM_HV_VMM_MIN);
    assert_string_equal(c.hypervisor_version, "vmm-min");
    config_free(&c);
    /* native = no says nothing against a VMM */
    assert_int_equal(config_load(write_cfg("[vm]\nname = a\nnative = no\nhypervisor = qemu-pc\n"),
                                 &c, &e), 0);
    assert_int_equal(c.hypervisor, VMM_HV_QEMU_PC);
    config_free(&c);

    refused("[vm]\nname = a\nhypervisor = kvmtool\n", 3,
            "hypervisor 'kvmtool' is not known; use vmm-min, qemu-microvm or qemu-pc");
    refused("[vm]\nname = a\nhypervisor = QEMU-microvm\n", 3, "not known");
    refused("[vm]\nname = a\nhypervisor =\n", 3, "not known");
    refused("[vm]\nname = a\nhypervisor = qemu-pc\nvcpus = 1\nhypervisor = qemu-pc\n", 5,
            "duplicate key 'hypervisor' (first set on line 3)");
    /* a native run has no VMM: the message names both keys and where they are */
    refused("[vm]\nname = a\nnative = yes\nhypervisor = qemu-microvm\n", 4,
            "native = yes (line 3)");
    refused("[vm]\nname = a\nhypervisor = qemu-pc\nnative = yes\n", 3,
            "hypervisor = qemu-pc cannot apply");
}

/* The version is asked of the very binary $VMMB_QEMU names, before any run; a missing one
 * is refused with the binary's name and the fix. */
static void test_hypervisor_version(void **state)
{
    (void)state;
    char fake[PATH_MAX + 16];
    snprintf(fake, sizeof fake, "%s/fake-qemu", dir);
    static const char script[] = "#!/bin/sh\n[ \"$1\" = --version ] || exit 3\n"
                                 "echo 'QEMU emulator version 9.8.7 (test)'\necho 'Copyright'\n";
    tu_write_file(fake, script, strlen(script));
    assert_int_equal(chmod(fake, 0755), 0);

    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(write_cfg("[vm]\nname = q\nhypervisor = qemu-microvm\n"), &c,
                                 &e), 0);
    setenv("VMMB_QEMU", fake, 1);
    assert_int_equal(config_resolve_hypervisor(&c, &e), 0);
    assert_string_equal(c.hypervisor_version, "QEMU emulator version 9.8.7 (test)");

    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/no-such-qemu", dir);
    setenv("VMMB_QEMU", missing, 1);
    assert_int_equal(config_resolve_hypervisor(&c, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    if (!strstr(e.msg, missing) || !strstr(e.msg, "install qemu-system-x86") ||
        !strstr(e.msg, "VMMB_QEMU") || !strstr(e.msg, "config q"))
        fail_msg("message '%s' lacks the binary, the config or the fix", e.msg);
    config_free(&c);

    /* vmm-min needs no binary at all */
    config_default(&c);
    assert_int_equal(config_resolve_hypervisor(&c, &e), 0);
    assert_string_equal(c.hypervisor_version, "vmm-min");
    unsetenv("VMMB_QEMU");
}

static void test_unreadable(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/missing.ini", dir);
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(path, &c, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "No such file"));
    /* A directory is not a config either. */
    struct vmm_err e2 = { 0 };
    assert_int_equal(config_load(dir, &c, &e2), -1);
    assert_int_equal(e2.code, VMM_EXIT_CONFIG);
    assert_non_null(strstr(e2.msg, dir));
}

/* Edges: a NUL byte, and a file over the 64 KiB a config may be, are refused by name. */
static void test_nul_and_oversize(void **state)
{
    (void)state;
    static const char nul[] = "[vm]\nname = a\0b\nvcpus = 1\n";
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/nul.ini", dir);
    tu_write_file(path, nul, sizeof nul - 1);
    struct bench_config c;
    struct vmm_err e = { 0 };
    assert_int_equal(config_load(path, &c, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    assert_non_null(strstr(e.msg, "NUL"));
    size_t big = 64 * 1024 + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ';', big); /* comments, each line short: only the size is wrong */
    for (size_t i = 79; i < big; i += 80)
        text[i] = '\n';
    memcpy(text, "[vm]\nname = big\n", 16);
    snprintf(path, sizeof path, "%s/big.ini", dir);
    tu_write_file(path, text, big);
    e = (struct vmm_err){ 0 };
    assert_int_equal(config_load(path, &c, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    assert_non_null(strstr(e.msg, "larger than 65536 bytes"));
    /* one byte less is a config */
    tu_write_file(path, text, big - 1);
    e = (struct vmm_err){ 0 };
    assert_int_equal(config_load(path, &c, &e), 0);
    config_free(&c);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_only_name_takes_defaults),
        cmocka_unit_test(test_limits_accepted),
        cmocka_unit_test(test_unknown_key_and_section),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_bad_vcpus),
        cmocka_unit_test(test_bad_memory),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_missing_name),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_placement_and_device_keys),
        cmocka_unit_test(test_hypervisor_key),
        cmocka_unit_test(test_hypervisor_version),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_nul_and_oversize),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
