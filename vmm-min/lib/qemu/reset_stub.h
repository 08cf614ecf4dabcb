/* What QEMU's reset stub (reset_stub.S, built into share/vmmbench/qemu/vmmb-reset.bin)
 * and vmm-min agree on. Plain #defines, so the assembler reads this file too; the C side
 * checks each against the structures it mirrors (qemu_run.c). */
#ifndef VMM_QEMU_RESET_STUB_H
#define VMM_QEMU_RESET_STUB_H

#define QEMU_STUB_SIZE        0x10000  /* -bios: a non-zero multiple of 64 KiB */
#define QEMU_STUB_REL         "qemu/vmmb-reset.bin"
#define QEMU_BOOT_INFO_GPA    0x2000   /* X86_BOOT_INFO_GPA */
#define QEMU_GDT_GPA          0x1000   /* X86_GDT_GPA */
#define QEMU_GDT_LIMIT        (7 * 8 - 1) /* VMMB_GDT_ENTRIES * 8 - 1 */
#define QEMU_BI_NR_VCPUS      24       /* offsetof(struct vmmb_boot_info, nr_vcpus) */
#define QEMU_BI_ENTRY         1168     /* offsetof(struct vmmb_boot_info, entry) */
#define QEMU_BI_CR3           1176     /* offsetof(struct vmmb_boot_info, cr3) */
/* The application processors start at the SIPI vector's page: 0xf0 is 0xf0000, where
 * QEMU aliases the last 64 KiB of the -bios, so they run the stub's first byte. */
#define QEMU_SIPI_VECTOR      0xf0

#endif
