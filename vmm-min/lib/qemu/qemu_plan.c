/* What QEMU cannot run, refused at plan time naming the key, before any run starts. */
#include <stdbool.h>
#include <stdio.h>

#include "qemu/qemu.h"
#include "qemu/qemu_pc.h"

int qemu_plan_check(const struct vmm_plan *p, struct vmm_err *e)
{
    const char *hv = vmm_hypervisor_name(p->hypervisor);
    char version[256];
    if (vmm_hypervisor_version(p->hypervisor, version, sizeof version, e))
        return -1;
    if (p->placement.native)
        return vmm_err_set(e, VMM_EXIT_USAGE, "native = yes runs on host threads, with no "
                           "hypervisor; drop native or use hypervisor = vmm-min");
    if (p->placement.backing == VMM_BACKING_ANONYMOUS_THP)
        return vmm_err_set(e, VMM_EXIT_USAGE, "backing = anonymous_thp is private memory QEMU "
                           "cannot map; use backing = shmem or a hugetlb backing with "
                           "hypervisor %s", hv);
    /* vNUMA binds each guest node's range of the memfd with vmm-min's mbind. On shmem that
     * is the file's shared policy, which QEMU's page faults obey too; hugetlbfs keeps no
     * shared policy (the policy is vmm-min's mapping's alone), so there only pages vmm-min
     * faults in itself are placed: every page, with prefault. */
    bool huge = p->placement.backing == VMM_BACKING_HUGETLB_2MB ||
                p->placement.backing == VMM_BACKING_HUGETLB_1GB;
    if (p->resolved.nvnodes > 1 && huge && !p->placement.prefault)
        return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma with backing = %s needs prefault = yes "
                           "under hypervisor %s (hugetlb memory has no shared NUMA policy, so "
                           "QEMU's own page faults would ignore the per-node binding); set "
                           "prefault = yes or use backing = shmem",
                           vmm_backing_name(p->placement.backing), hv);
    /* qemu-pc: PVM hosts (SeaBIOS too slow) and q35's RAM split (qemu_pc_plan.c). */
    if (p->hypervisor == VMM_HV_QEMU_PC && qemu_pc_plan_check(p, qemu_pc_kvm_flavour(), e))
        return -1;
    /* qemu-microvm: memory above VMM_LOW_RAM_MAX needs nothing here: QEMU 7.2's microvm
     * splits RAM exactly as vmm-min does (0-3 GiB, the rest from 4 GiB; `info mtree`), so
     * vmm-min's page tables and boot-info ranges describe QEMU's RAM. test_hypervisors.sh
     * runs a guest across the split. */
    if (p->counters.n > 0 || p->counters.dropped[0])
        return vmm_err_set(e, VMM_EXIT_USAGE, "counters are opened on vmm-min's own vCPU "
                           "threads; drop counters for hypervisor %s", hv);
    if (p->workload->flags & VMMB_WL_IRQFD)
        return vmm_err_set(e, VMM_EXIT_USAGE, "workload %s needs vmm-min's irq-inject host "
                           "thread, which QEMU does not have; run it with hypervisor = vmm-min",
                           p->workload->name);
    /* Devices asked for are refused here; a device workload's default device only makes
     * its run end unsupported (qemu_run.c), so a suite under QEMU still runs the rest. */
    if (p->virtio.ndev > (p->default_device[0] ? 1u : 0u))
        return vmm_err_set(e, VMM_EXIT_USAGE, "blk/net devices are vmm-min's virtio-mmio "
                           "models, which QEMU's microvm does not serve to this guest yet; "
                           "drop the devices for hypervisor %s", hv);
    if (p->virtio.notify != VMM_NOTIFY_EXIT)
        return vmm_err_set(e, VMM_EXIT_USAGE, "notify = %s is vmm-min's device path; drop "
                           "notify for hypervisor %s", vmm_notify_name(p->virtio.notify), hv);
    return 0;
}
