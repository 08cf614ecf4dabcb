/* hypervisor = qemu-pc: QEMU's stock q35 machine with its own firmware (SeaBIOS), running
 * the same guest image as vmm-min and qemu-microvm. It is qemu-microvm's launcher
 * (qemu_run.c) with another machine, firmware and way in: SeaBIOS boots the qemu-pc boot
 * stub as a Multiboot kernel (qemu_pc_boot.S), which enters the guest with vmm-min's
 * state. The VMM's structures in the shared RAM are placed where SeaBIOS does not write
 * (qemu_pc_layout.c), and the stub checks they survived. */
#ifndef VMM_QEMU_PC_H
#define VMM_QEMU_PC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/plan.h"
#include "vstate/x86_setup.h"

/* q35 keeps all guest RAM below 4 GiB only under 0xb0000000 bytes (QEMU's pc_q35.c: from
 * there it puts low RAM at 2 GiB and the rest above 4 GiB, where vmm-min's layout differs). */
#define QEMU_PC_RAM_MAX 0xb0000000ull

/* The one decision on whether a plan may run under qemu-pc on a host whose KVM is
 * `kvm_flavour` ("pvm", "svm", "vmx", ...: harness/hostinfo.c's names). Refuses, naming the
 * key, on PVM (SeaBIOS's boot would cost seconds there) and for memory of
 * QEMU_PC_RAM_MAX or more.
 * Errors: VMM_EXIT_USAGE. */
int qemu_pc_plan_check(const struct vmm_plan *p, const char *kvm_flavour, struct vmm_err *e);

/* This host's KVM flavour as far as qemu-pc cares: "pvm" when the kvm_pvm module is
 * loaded ($VMMB_SYSFS_ROOT/module/kvm_pvm, /sys by default), else "hardware". */
const char *qemu_pc_kvm_flavour(void);

/* The GPA below which the VMM's page tables go (they grow down from it): under the zones
 * near the top of low RAM that SeaBIOS writes. low_top is the end of guest RAM below
 * 4 GiB. */
uint64_t qemu_pc_tables_ceiling(uint64_t low_top);

/* Writes the boot stub's hand-off block (qemu_pc_boot.h): the ranges the VMM built (GDT
 * and boot info, the image, the page tables) and the sum of their dwords, for the stub to
 * check after SeaBIOS ran. Call after vm_fill_boot_info; nothing may change them after.
 * Errors: VMM_EXIT_RESOURCES when a range is not guest RAM below 4 GiB. */
int qemu_pc_handoff_write(struct guest_mem *gm, uint64_t image_end,
                          const struct x86_tables *t, struct vmm_err *e);

/* Whether the boot stub has started (SeaBIOS handed over), from the hand-off block. */
bool qemu_pc_stub_entered(const struct guest_mem *gm);

/* The sum the stub computes: 32-bit wrapping sum of the dwords in [start, end) (4-byte
 * aligned). Returns -1 when a range is not guest RAM. */
int qemu_pc_sum(const struct guest_mem *gm, uint32_t start, uint32_t end, uint32_t *sum);

#endif
