/* The KVM gate of the C integration tests, one call per test case: without a usable
 * /dev/kvm the case is skipped (cmocka counts one skip per case, naming why), unless
 * VMMB_REQUIRE_KVM=1 (set by .ci/run on machines whose /dev/kvm opens read-write), where
 * a KVM that went missing must turn the job red instead of quietly skipping everything.
 * Include after <cmocka.h>. */
#ifndef VMMB_TESTS_KVM_GATE_H
#define VMMB_TESTS_KVM_GATE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool kvm_required(void)
{
    const char *r = getenv("VMMB_REQUIRE_KVM");
    return r && strcmp(r, "1") == 0;
}

#define NEED_KVM_OR_SKIP(ok, why)                                                          \
    do {                                                                                   \
        if (!(ok)) {                                                                       \
            if (kvm_required())                                                            \
                fail_msg("KVM is required here (VMMB_REQUIRE_KVM=1) but /dev/kvm is not "  \
                         "usable: %s",                                                     \
                         (why));                                                           \
            printf("SKIP: /dev/kvm not available (%s)\n", (why));                          \
            skip();                                                                        \
        }                                                                                  \
    } while (0)

#endif
