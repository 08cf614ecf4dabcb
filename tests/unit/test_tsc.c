/* The TSC frequency measured without KVM (native runs on hosts with no /dev/kvm) agrees
 * with what KVM says where there is a KVM: the independent reference.
 * vmmb-test: kvm (on a host without /dev/kvm, tests/lab/guest-tests.sh runs it in the lab) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "vmm/native.h"
#include "vstate/kvm_dev.h"

static void test_calibrated_matches_kvm(void **state)
{
    (void)state;
    unsigned long long cal = tsc_khz_calibrated();
    unsigned long long kvm = kvm_host_tsc_khz();
    printf("NOTE: TSC measured %llu kHz, KVM_GET_TSC_KHZ %llu kHz\n", cal, kvm);
    if (!cal) {
        printf("SKIP: capability: an invariant TSC (constant_tsc, nonstop_tsc)\n");
        skip();
    }
    assert_true(cal > 100000 && cal < 10000000); /* 100 MHz .. 10 GHz */
    if (!kvm) {
        printf("SKIP: capability: /dev/kvm, for the reference figure\n");
        skip();
    }
    double rel = ((double)cal - (double)kvm) / (double)kvm;
    if (rel > 0.005 || rel < -0.005)
        fail_msg("measured %llu kHz vs KVM's %llu kHz: %.3f%% apart (> 0.5%%)", cal, kvm,
                 rel * 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_calibrated_matches_kvm) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
