/* irq_facts_read: the interrupt facts stored with every host, from a fake /sys and
 * /proc tree for each KVM flavour, and what it says when the host says nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "irq_facts.h"
#include "testutil.h"

static char root[256];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(root, sizeof root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_tree(root);
    return 0;
}

/* Writes ROOT/REL with TEXT, creating its directories. */
static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    tu_write_file(path, text, strlen(text));
}

static void test_pvm_host(void **state)
{
    (void)state;
    put("/sys/module/kvm/parameters/halt_poll_ns", "200000\n");
    put("/sys/module/kvm_pvm/parameters/no_x2apic", "N\n");
    put("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu apic x2apic tsc\n");
    struct irq_facts f;
    irq_facts_read(root, &f);
    assert_int_equal(f.halt_poll_ns, 200000);
    assert_string_equal(f.apicv, "pvm: none (software injection)");
    assert_string_equal(f.apic_mode, "host cpu x2apic=yes, pvm no_x2apic=N");
}

static void test_vmx_host(void **state)
{
    (void)state;
    put("/sys/module/kvm/parameters/halt_poll_ns", "0\n");
    put("/sys/module/kvm_intel/parameters/enable_apicv", "Y\n");
    put("/sys/module/kvm_intel/parameters/enable_ipiv", "N\n");
    /* x2apic only as part of another word: not the flag */
    put("/proc/cpuinfo", "flags\t\t: fpu x2apicfoo tsc\n");
    struct irq_facts f;
    irq_facts_read(root, &f);
    assert_int_equal(f.halt_poll_ns, 0);
    assert_string_equal(f.apicv, "vmx enable_apicv=Y enable_ipiv=N");
    assert_string_equal(f.apic_mode, "host cpu x2apic=no");
}

static void test_svm_host(void **state)
{
    (void)state;
    put("/sys/module/kvm/parameters/halt_poll_ns", "50000\n");
    put("/sys/module/kvm_amd/parameters/avic", "1\n");
    put("/proc/cpuinfo", "flags\t\t: fpu x2apic\n");
    struct irq_facts f;
    irq_facts_read(root, &f);
    assert_int_equal(f.halt_poll_ns, 50000);
    assert_string_equal(f.apicv, "svm avic=1");
    assert_string_equal(f.apic_mode, "host cpu x2apic=yes");
}

/* Nothing readable, or a value that is not a count: unknown (-1), never 0. */
static void test_unknown(void **state)
{
    (void)state;
    struct irq_facts f;
    irq_facts_read(root, &f);
    assert_int_equal(f.halt_poll_ns, -1);
    assert_string_equal(f.apicv, "none (no kvm vendor module)");
    put("/sys/module/kvm/parameters/halt_poll_ns", "lots\n");
    irq_facts_read(root, &f);
    assert_int_equal(f.halt_poll_ns, -1);
    put("/sys/module/kvm/parameters/halt_poll_ns", "-5\n");
    irq_facts_read(root, &f);
    assert_int_equal(f.halt_poll_ns, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pvm_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmx_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_svm_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
