/* The contract between the VMM and the qemu-pc boot stub (qemu_pc_boot.S), in #defines
 * only, so the assembler and C read the same numbers (qemu_pc_layout.c checks them
 * against the C structs with _Static_assert).
 *
 * qemu-pc boots QEMU's q35 machine the stock way: SeaBIOS runs its POST, then QEMU's
 * multiboot option ROM loads the stub (`-kernel`, a Multiboot 1 image with the a.out
 * kludge header) at QPC_STUB_GPA and enters it in 32-bit protected mode. The VMM has
 * already built everything else in the shared guest RAM (GDT, boot info, page tables,
 * the guest image) at places SeaBIOS does not write (measured: qemu_pc_layout.c). The
 * stub checks that (a checksum the VMM left in the hand-off block), then enters long
 * mode with exactly vmm-min's initial vCPU state and jumps to the guest's entry. The
 * GDT, boot-info fields (entry, cr3) and their offsets are reset_stub.h's, shared with
 * qemu-microvm's stub. */
#ifndef VMM_QEMU_PC_BOOT_H
#define VMM_QEMU_PC_BOOT_H

/* Where QEMU's multiboot loader puts the stub: below the EBDA, in 0x90000-0x9efff,
 * which SeaBIOS leaves alone (its temporary zone ends at 0x90000). Multiboot's info
 * block follows the stub there. */
#define QPC_STUB_GPA 0x90000
#define QPC_STUB_REL "qemu/vmmb-pc-boot.bin"   /* -kernel, under share/vmmbench */
/* The application processors start at the stub's first byte: the SIPI vector is its page. */
#define QPC_SIPI_VECTOR (QPC_STUB_GPA >> 12)
#if QPC_STUB_GPA & 0xfff || QPC_STUB_GPA >= 0x100000
#error "QPC_STUB_GPA must be a page below 1 MiB: APs start there in real mode"
#endif

/* The hand-off block the VMM writes before QEMU starts: after the boot info (0x2000)
 * and below SeaBIOS's stack (0x6000-0x7000), in pages no firmware writes. */
#define QPC_HANDOFF_GPA 0x5000
#define QPC_HANDOFF_MAGIC 0x43504d56       /* "VMPC" */
#define QPC_OFF_MAGIC     0                /* u32 */
#define QPC_OFF_SUM       4                /* u32: sum of the dwords of every range */
#define QPC_OFF_NRANGES   8                /* u32: 1..QPC_MAX_RANGES */
#define QPC_OFF_ENTERED   12               /* u32: the stub sets QPC_ENTERED first thing,
                                              so a run that times out tells a firmware that
                                              never handed over from a guest that hung */
#define QPC_OFF_RANGES    16               /* {u32 start, u32 end} each, 4-byte aligned */
#define QPC_ENTERED       0x52544e45       /* "ENTR" */
#define QPC_MAX_RANGES    4

/* The stub ends QEMU through isa-debug-exit (iobase QPC_EXIT_PORT) with this value when
 * the checksum fails; QEMU's exit status is then (value << 1) | 1. */
#define QPC_EXIT_PORT      0x7f0
#define QPC_EXIT_CLOBBERED 0x5a
#define QPC_EXIT_STATUS_CLOBBERED ((QPC_EXIT_CLOBBERED << 1) | 1)

#endif
