/* Which VMM runs a guest. vmm-min is the default and the floor; QEMU runs the very same
 * guest image, so a workload's figure can be compared across VMMs in one run.
 *
 *   hypervisor = vmm-min        this suite's own VMM (vmm_run.c)
 *              | qemu-microvm   QEMU -M microvm with vmm-min's reset stub as -bios: the
 *                               guest's 64-bit entry runs after a few dozen instructions
 *              | qemu-pc        QEMU -M q35 with its own firmware (SeaBIOS): the cost of a
 *                               stock setup; refused where that firmware is too slow
 *
 * QEMU is found as $VMMB_QEMU, else qemu-system-x86_64 on $PATH. */
#ifndef VMM_HYPERVISOR_H
#define VMM_HYPERVISOR_H

#include <stddef.h>

#include "vmm/error.h"

enum vmm_hypervisor {
    VMM_HV_VMM_MIN = 0,
    VMM_HV_QEMU_MICROVM,
    VMM_HV_QEMU_PC,
};

/* Errors: VMM_EXIT_USAGE naming the accepted values. */
int vmm_parse_hypervisor(const char *s, enum vmm_hypervisor *out, struct vmm_err *e);
const char *vmm_hypervisor_name(enum vmm_hypervisor h);

/* The QEMU binary to run: $VMMB_QEMU or "qemu-system-x86_64". */
const char *vmm_qemu_binary(void);

/* The version a run used, stored with its config: "vmm-min" for vmm-min (the suite's
 * revision is the host's), the first line of `QEMU --version` for QEMU.
 * Errors: VMM_EXIT_USAGE when QEMU cannot be run, naming the binary and the fix. */
int vmm_hypervisor_version(enum vmm_hypervisor h, char *buf, size_t len, struct vmm_err *e);

#endif
