/* What qemu-pc refuses before any run, in one function (qemu_pc_plan_check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu/qemu_pc.h"

/* SeaBIOS's POST runs about 5.7 million instructions before a kernel (issue 15, counted
 * under TCG), nearly all in ring 0, which a PVM host emulates at about 500 ns each. On a
 * PVM host a q35 boot to a kernel that exits at once took 6.7-7.2 s of wall time, against
 * 0.12-0.15 s for microvm with vmm-min's reset stub (qemu-system-x86_64 7.2, -m 64). */
#define SEABIOS_INSNS_M 5.7
#define PVM_RING0_NS 500
#define PVM_BOOT_S_MEASURED "7"

int qemu_pc_plan_check(const struct vmm_plan *p, const char *kvm_flavour, struct vmm_err *e)
{
    if (!strcmp(kvm_flavour, "pvm"))
        return vmm_err_set(e, VMM_EXIT_USAGE, "hypervisor = qemu-pc is refused on this host: "
                           "its KVM is PVM, which emulates guest ring-0 code at about %d ns an "
                           "instruction, and SeaBIOS runs about %.1f million of them before the "
                           "guest (about %s s a boot, measured); use hypervisor = qemu-microvm",
                           PVM_RING0_NS, SEABIOS_INSNS_M, PVM_BOOT_S_MEASURED);
    if (p->mem_bytes >= QEMU_PC_RAM_MAX)
        return vmm_err_set(e, VMM_EXIT_USAGE, "memory = %llu MiB: hypervisor qemu-pc takes "
                           "less than %llu MiB (q35 moves RAM from there on above 4 GiB, "
                           "elsewhere than vmm-min's layout); give less memory",
                           (unsigned long long)(p->mem_bytes >> 20),
                           (unsigned long long)(QEMU_PC_RAM_MAX >> 20));
    return 0;
}

const char *qemu_pc_kvm_flavour(void)
{
    const char *root = getenv("VMMB_SYSFS_ROOT");
    char path[512];
    snprintf(path, sizeof path, "%s/module/kvm_pvm", root && *root ? root : "/sys");
    return access(path, F_OK) == 0 ? "pvm" : "hardware";
}
