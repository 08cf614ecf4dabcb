/* vmm_plan_make against the real guest image: every refusal names the fix (the known
 * workloads or parameters, the allowed range), and an accepted plan has every parameter
 * filled and a canonical, sorted params_text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/image.h"
#include "vmm/plan.h"

/* The build tree: $BUILD as tests/run-all.sh exports it, else build/ (run from the repo
 * root). */
static const char *build_path(char *buf, size_t len, const char *rel)
{
    const char *b = getenv("BUILD");
    snprintf(buf, len, "%s/%s", b && *b ? b : "build", rel);
    return buf;
}

#define GUEST_ELF build_path((char[4096]){ 0 }, 4096, "share/vmmbench/guest/vmmbench-guest.elf")

static int setup(void **state)
{
    struct vmm_image *img = NULL;
    struct vmm_err e = { 0 };
    if (vmm_image_open(GUEST_ELF, &img, &e)) {
        fprintf(stderr, "cannot open %s: %s (run from the repo root after `make`)\n",
                GUEST_ELF, e.msg);
        return -1;
    }
    *state = img;
    return 0;
}

static int teardown(void **state)
{
    vmm_image_close(*state);
    return 0;
}

static struct vmm_request req(const struct vmm_image *img, const char *wl,
                              const char *const *params, unsigned n)
{
    return (struct vmm_request){ .image = img, .workload = wl, .params = params,
                                 .nparams = n, .mem_bytes = 64u << 20, .vcpus = 1 };
}

/* Refused with code, and the message contains every word given. */
static void refused(const struct vmm_request *rq, int code, const char *w1, const char *w2)
{
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(rq, &p, &e), -1);
    assert_int_equal(e.code, code);
    if (w1 && !strstr(e.msg, w1))
        fail_msg("message '%s' does not mention '%s'", e.msg, w1);
    if (w2 && !strstr(e.msg, w2))
        fail_msg("message '%s' does not mention '%s'", e.msg, w2);
}

static void test_unknown_workload(void **state)
{
    const struct vmm_image *img = *state;
    struct vmm_request rq = req(img, "no-such-thing", NULL, 0);
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &p, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    assert_non_null(strstr(e.msg, "no-such-thing"));
    /* every workload of the image is listed */
    for (unsigned i = 0; i < img->nworkloads; i++)
        if (!strstr(e.msg, img->workloads[i].name))
            fail_msg("message '%s' does not list %s", e.msg, img->workloads[i].name);
}

static void test_unknown_param(void **state)
{
    const struct vmm_image *img = *state;
    const char *params[] = { "bogus=1" };
    struct vmm_request rq = req(img, "cpuid", params, 1);
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &p, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    assert_non_null(strstr(e.msg, "bogus"));
    const struct vmmb_workload_desc *d = vmm_image_find(img, "cpuid");
    assert_non_null(d);
    for (unsigned i = 0; i < d->nr_params; i++)
        if (!strstr(e.msg, d->params[i].name))
            fail_msg("message '%s' does not list parameter %s", e.msg, d->params[i].name);
    /* a prefix of a real name is not that name */
    const char *prefix[] = { "iter=5" };
    rq = req(img, "cpuid", prefix, 1);
    refused(&rq, VMM_EXIT_USAGE, "iter", "iters");
    /* not key=value at all */
    const char *nokv[] = { "iters" };
    rq = req(img, "cpuid", nokv, 1);
    refused(&rq, VMM_EXIT_USAGE, "key=value", "iters");
    const char *noname[] = { "=5" };
    rq = req(img, "cpuid", noname, 1);
    refused(&rq, VMM_EXIT_USAGE, "key=value", NULL);
}

static void test_bad_values(void **state)
{
    const struct vmm_image *img = *state;
    const struct vmmb_workload_desc *d = vmm_image_find(img, "cpuid");
    const struct vmmb_param_desc *iters = NULL;
    for (unsigned i = 0; i < d->nr_params; i++)
        if (strcmp(d->params[i].name, "iters") == 0)
            iters = &d->params[i];
    assert_non_null(iters);
    char too_big[64], too_small[64], range[64];
    snprintf(too_big, sizeof too_big, "iters=%llu", (unsigned long long)iters->max + 1);
    snprintf(too_small, sizeof too_small, "iters=%llu", (unsigned long long)iters->min - 1);
    snprintf(range, sizeof range, "%llu", (unsigned long long)iters->max);

    const char *big[] = { too_big };
    struct vmm_request rq = req(img, "cpuid", big, 1);
    refused(&rq, VMM_EXIT_USAGE, "out of range", range);
    const char *small[] = { too_small };
    rq = req(img, "cpuid", small, 1);
    refused(&rq, VMM_EXIT_USAGE, "out of range", range);

    static const char *const not_numbers[] = { "iters=abc", "iters=", "iters=12x", "iters=-5",
                                               "iters=1.5", "iters=99999999999999999999999" };
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        const char *one[] = { not_numbers[i] };
        rq = req(img, "cpuid", one, 1);
        refused(&rq, VMM_EXIT_USAGE, "whole number", range);
    }
    /* hex is a whole number */
    const char *hex[] = { "iters=0x10" };
    rq = req(img, "cpuid", hex, 1);
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    assert_int_equal(vmm_plan_param(&p, "iters", 0), 16);
}

static void test_rings(void **state)
{
    const struct vmm_image *img = *state;
    /* hypercall is ring 0 only: ring=3 is in the parameter's range but refused */
    const char *r3[] = { "ring=3" };
    struct vmm_request rq = req(img, "hypercall", r3, 1);
    refused(&rq, VMM_EXIT_USAGE, "ring 3", "hypercall");
    /* ring 1 is no ring the guest kernel runs workloads in */
    const char *r1[] = { "ring=1" };
    rq = req(img, "cpuid", r1, 1);
    refused(&rq, VMM_EXIT_USAGE, "ring 1", "0 or 3");
    const char *r2[] = { "ring=2" };
    rq = req(img, "cpuid", r2, 1);
    refused(&rq, VMM_EXIT_USAGE, "ring 2", NULL);
    /* both supported rings of cpuid are accepted */
    const char *r0[] = { "ring=0" };
    rq = req(img, "cpuid", r0, 1);
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    assert_int_equal(vmm_plan_param(&p, "ring", 99), 0);
    rq = req(img, "cpuid", r3, 1);
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    assert_int_equal(vmm_plan_param(&p, "ring", 99), 3);
    assert_int_equal(e.code, 0);
}

static void test_defaults_and_text(void **state)
{
    const struct vmm_image *img = *state;
    const struct vmmb_workload_desc *d = vmm_image_find(img, "null");
    assert_non_null(d);
    const char *params[] = { "warmup=2", "iters=77" };
    struct vmm_request rq = req(img, "null", params, 2);
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    assert_ptr_equal(p.workload, d);
    assert_int_equal(p.nparams, d->nr_params);
    /* every declared parameter is there, in declaration order; unset ones have defaults */
    for (unsigned i = 0; i < d->nr_params; i++) {
        assert_string_equal(p.params[i].name, d->params[i].name);
        uint64_t want = strcmp(d->params[i].name, "warmup") == 0  ? 2
                        : strcmp(d->params[i].name, "iters") == 0 ? 77
                                                                  : d->params[i].def;
        assert_int_equal(p.params[i].value, want);
    }
    assert_int_equal(vmm_plan_param(&p, "nope", 4242), 4242);
    /* params_text: "k=v" joined by single spaces, sorted by key, every parameter */
    char copy[VMM_PARAMS_TEXT_MAX];
    snprintf(copy, sizeof copy, "%s", p.params_text);
    unsigned count = 0;
    char prev[32] = "";
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        if (strcmp(prev, tok) >= 0)
            fail_msg("params_text '%s' is not sorted at '%s'", p.params_text, tok);
        snprintf(prev, sizeof prev, "%s", tok);
        assert_int_equal(strtoull(eq + 1, NULL, 10), vmm_plan_param(&p, tok, UINT64_MAX));
        count++;
    }
    assert_int_equal(count, d->nr_params);
    assert_non_null(strstr(p.params_text, "iters=77"));
    assert_non_null(strstr(p.params_text, "warmup=2"));
    /* the same parameters in another order give the same text */
    const char *swapped[] = { "iters=77", "warmup=2" };
    struct vmm_plan p2;
    rq = req(img, "null", swapped, 2);
    assert_int_equal(vmm_plan_make(&rq, &p2, &e), 0);
    assert_string_equal(p.params_text, p2.params_text);
    /* a later setting of the same key wins */
    const char *twice[] = { "iters=5", "iters=6" };
    rq = req(img, "null", twice, 2);
    assert_int_equal(vmm_plan_make(&rq, &p2, &e), 0);
    assert_int_equal(vmm_plan_param(&p2, "iters", 0), 6);
    /* timeouts default when 0 */
    assert_true(p.timeout_s == VMM_DEFAULT_TIMEOUT_S);
    assert_true(p.probe_timeout_s == VMM_DEFAULT_PROBE_TIMEOUT_S);
    assert_int_equal(p.vcpus, 1);
    assert_int_equal(p.mem_bytes, 64u << 20);
    assert_int_equal(e.code, 0);
}

static void test_vcpus_and_memory(void **state)
{
    const struct vmm_image *img = *state;
    struct vmm_request rq = req(img, "cpuid", NULL, 0);
    rq.vcpus = 0;
    refused(&rq, VMM_EXIT_USAGE, "vCPU", "64");
    rq.vcpus = VMMB_MAX_VCPUS + 1;
    refused(&rq, VMM_EXIT_USAGE, "vCPU", "64");
    rq.vcpus = VMMB_MAX_VCPUS;
    struct vmm_plan p;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    assert_int_equal(p.vcpus, VMMB_MAX_VCPUS);

    rq = req(img, "cpuid", NULL, 0);
    rq.mem_bytes = (16u << 20) - 4096;
    refused(&rq, VMM_EXIT_RESOURCES, "too small", "16M");
    rq.mem_bytes = 0;
    refused(&rq, VMM_EXIT_RESOURCES, "16M", NULL);
    rq.mem_bytes = (64u << 20) + 1;
    refused(&rq, VMM_EXIT_RESOURCES, "4 KiB", NULL);
    rq.mem_bytes = 16u << 20;
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    /* more than any host has: refused at plan time, before any VM exists */
    rq.mem_bytes = 1ull << 50;
    refused(&rq, VMM_EXIT_RESOURCES, "does not fit", "MiB");

    rq = req(img, "cpuid", NULL, 0);
    rq.timeout_s = -1;
    refused(&rq, VMM_EXIT_USAGE, "timeout", NULL);
    rq = req(img, "cpuid", NULL, 0);
    rq.probe_timeout_s = -0.5;
    refused(&rq, VMM_EXIT_USAGE, "timeout", NULL);
    rq = req(img, "cpuid", NULL, 0);
    rq.timeout_s = 2.5;
    rq.probe_timeout_s = 0.25;
    assert_int_equal(vmm_plan_make(&rq, &p, &e), 0);
    assert_true(p.timeout_s == 2.5);
    assert_true(p.probe_timeout_s == 0.25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_workload),
        cmocka_unit_test(test_unknown_param),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_rings),
        cmocka_unit_test(test_defaults_and_text),
        cmocka_unit_test(test_vcpus_and_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
