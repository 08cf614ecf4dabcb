#include "vmm/hypervisor.h"

#include <string.h>

static const char *const names[] = {
    [VMM_HV_VMM_MIN] = "vmm-min",
    [VMM_HV_QEMU_MICROVM] = "qemu-microvm",
    [VMM_HV_QEMU_PC] = "qemu-pc",
};

int vmm_parse_hypervisor(const char *s, enum vmm_hypervisor *out, struct vmm_err *e)
{
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i])) {
            *out = (enum vmm_hypervisor)i;
            return 0;
        }
    return vmm_err_set(e, VMM_EXIT_USAGE, "hypervisor '%s' is not known; use vmm-min, "
                       "qemu-microvm or qemu-pc", s);
}

const char *vmm_hypervisor_name(enum vmm_hypervisor h)
{
    return (unsigned)h < sizeof names / sizeof names[0] ? names[h] : "?";
}
