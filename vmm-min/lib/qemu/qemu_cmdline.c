/* The QEMU command line of a run: every option says what vmm-min does on its own path.
 *
 *   -accel kvm,kernel-irqchip=on   microvm defaults to a split irqchip; vmm-min's
 *                                  interrupt workloads use KVM's in-kernel one
 *   -cpu host                      the host's CPUID, as vmm-min gives (the supported table)
 *   -smp N,sockets=1,cores=N,threads=1   APIC ID = vCPU index, which the stub relies on
 *   -M microvm,...,memory-backend=ram    no option ROMs, PIT, PIC or RTC; isa-serial kept
 *                                  (the console at 0x3f8); no PCIe (0xd0000000, the MMIO
 *                                  bench page, stays unassigned: QEMU's userspace exit)
 *   -object memory-backend-file    vmm-min's memfd (/proc/self/fd/N), share=on, with the
 *                                  placement vmm-min already applied written out:
 *                                  prealloc=on, host-nodes/policy
 *                                  (a vNUMA layout of several nodes: none; see below)
 *   -bios                          the reset stub
 *   -device isa-debug-exit,iobase=0x7f0,iosize=4   QEMU ends at the guest's DONE write
 *   -serial stdio                  a pipe vmm-min reads into the console log
 *   -qmp unix:PATH -S              paused until vmm-min has pinned the vCPU threads
 *   -no-reboot                     a triple fault ends QEMU instead of re-running the stub
 * vNUMA puts no -numa on the line. The guest learns its layout from the boot-info page
 * vmm-min writes (never from ACPI; microvm has no SRAT anyway), and QEMU 7.2's
 * memory-backend-file has no offset, so one memfd cannot be cut into per-node memdevs.
 * The binding is vmm-min's: its per-node mbind of the memfd (guest_mem_backing.c) is the
 * file's shared policy on shmem, which QEMU's faults obey (QEMU 7.2.22 makes no mbind
 * of its own without host-nodes: strace; numa_maps shows QEMU's mapping bound), and no
 * host-nodes go on the line, whose one policy would cover the whole file. hugetlb has no
 * shared policy: refused without prefault (qemu_plan.c). Each vCPU thread is pinned as
 * planned (qemu_run.c). The placement record checks both (test_hypervisors.sh).
 * hypervisor = qemu-pc (qemu_pc.h) differs in two places, the rest being the same:
 *   -M q35,memory-backend=ram      QEMU's stock PC: its chipset, PCI, SeaBIOS
 *   -kernel                        the qemu-pc boot stub, a Multiboot kernel SeaBIOS boots
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "qemu/qemu.h"
#include "vmm/guest_abi.h"

__attribute__((format(printf, 2, 3))) static int add(struct qemu_argv *a, const char *fmt, ...)
{
    if (a->argc >= QEMU_ARGV_MAX || a->used >= sizeof a->text)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof a->text - a->used;
    int n = vsnprintf(a->text + a->used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        return -1;
    a->argv[a->argc++] = a->text + a->used;
    a->argv[a->argc] = NULL;
    a->used += (size_t)n + 1;
    return 0;
}

/* ",host-nodes=A,host-nodes=B,policy=P" for a bitmask of host nodes (QEMU's list form). */
static void nodes_text(char *buf, size_t len, uint64_t mask, const char *policy)
{
    size_t used = 0;
    buf[0] = 0;
    for (unsigned n = 0; n < 64; n++)
        if (mask >> n & 1)
            used += (size_t)snprintf(buf + used, used < len ? len - used : 0, ",host-nodes=%u", n);
    if (used < len)
        snprintf(buf + used, len - used, ",policy=%s", policy);
}

static void memory_policy(const struct vmm_plan *p, char *buf, size_t len)
{
    const struct vmm_placement *pl = &p->placement;
    buf[0] = 0;
    if (pl->numa == VMM_NUMA_INTERLEAVE)
        nodes_text(buf, len, pl->numa_nodes, "interleave");
    else if (pl->numa == VMM_NUMA_PREFERRED)
        nodes_text(buf, len, pl->numa_nodes, "preferred");
    else if (p->resolved.nvnodes == 1 && p->resolved.vnode_host[0] >= 0)
        nodes_text(buf, len, 1ull << p->resolved.vnode_host[0], "bind");
}

int qemu_cmdline_build(const struct vmm_plan *p, const struct qemu_launch *l,
                       struct qemu_argv *a, struct vmm_err *e)
{
    memset(a, 0, sizeof *a);
    if (p->hypervisor != VMM_HV_QEMU_MICROVM && p->hypervisor != VMM_HV_QEMU_PC)
        return vmm_err_set(e, VMM_EXIT_USAGE, "hypervisor %s has no QEMU command line here; "
                           "use qemu-microvm", vmm_hypervisor_name(p->hypervisor));
    bool pc = p->hypervisor == VMM_HV_QEMU_PC;
    char policy[256];
    memory_policy(p, policy, sizeof policy);
    unsigned long long kib = (unsigned long long)(p->mem_bytes >> 10);
    int bad = add(a, "%s", l->binary);
    bad |= add(a, "-accel") | add(a, "kvm,kernel-irqchip=on");
    bad |= add(a, "-cpu") | add(a, "host");
    bad |= add(a, "-smp") | add(a, "%u,sockets=1,cores=%u,threads=1", p->vcpus, p->vcpus);
    bad |= add(a, "-M") |
           add(a, "%s", pc ? "q35,memory-backend=ram"
                           : "microvm,x-option-roms=off,pit=off,pic=off,rtc=off,isa-serial=on,"
                             "pcie=off,memory-backend=ram");
    bad |= add(a, "-m") | add(a, "%lluK", kib);
    bad |= add(a, "-object") |
           add(a, "memory-backend-file,id=ram,mem-path=/proc/self/fd/%d,share=on,size=%lluK%s%s",
               l->mem_fd, kib, p->placement.prefault ? ",prealloc=on" : "", policy);
    bad |= add(a, "-nodefaults") | add(a, "-no-user-config") | add(a, "-display") | add(a, "none");
    bad |= add(a, "-no-reboot");
    bad |= add(a, pc ? "-kernel" : "-bios") | add(a, "%s", l->bios);
    bad |= add(a, "-device") | add(a, "isa-debug-exit,iobase=0x%x,iosize=4", VMMB_PORT_DONE);
    bad |= add(a, "-serial") | add(a, "stdio");
    bad |= add(a, "-qmp") | add(a, "unix:%s,server=on,wait=off", l->qmp_path);
    bad |= add(a, "-S");
    if (bad)
        return vmm_err_set(e, VMM_EXIT_USAGE, "QEMU's command line is too long (paths of %zu "
                           "and %zu bytes); use shorter paths", strlen(l->bios),
                           strlen(l->qmp_path));
    return 0;
}
