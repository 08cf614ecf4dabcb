/* vmm-min's reset stub: QEMU's -bios for hypervisor = qemu-microvm. It takes a vCPU from
 * reset (real mode) to exactly the state vmm-min gives its vCPUs with KVM_SET_SREGS/REGS
 * (vstate/x86_setup.c): the VMM's GDT (accessed bits preset, so loading a selector writes
 * nothing) and page tables, CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER =
 * SCE|LME|LMA|NXE, CS 0x08, DS/ES/FS/GS/SS 0x10, RFLAGS 2, RSP 0 and every other GPR 0 but
 * RDI = boot info and RSI = vCPU index, then jumps to the guest's ELF entry. Entry and CR3
 * come from the boot info, which vmm-min wrote into the shared guest RAM.
 *
 * Every instruction here runs at CPL0, emulated at about 500 ns each on PVM hosts: the
 * bootstrap vCPU of a 1-vCPU VM runs 30 of them (13 in real mode with the reset vector's
 * jump, 17 in long mode; counted in a QEMU TCG -singlestep -d exec trace up to the first
 * guest instruction), 34 with more vCPUs (the IPIs); each AP runs 31.
 *
 * Image layout (64 KiB, mapped at 4 GiB - 64 KiB and aliased at 0xf0000):
 *   offset 0       application processors, after the BSP's SIPI (vector 0xf0: CS base
 *                  0xf0000, IP 0); they take their index from their APIC ID
 *   offset 0xfff0  the reset vector (CS base 0xffff0000, IP 0xfff0): the BSP, index 0
 * Both reach long mode through the 4 GiB - 64 KiB mapping, which the VMM's page tables
 * identity-map (the MMIO window's 2 MiB pages). */
#include "reset_stub.h"

#define CR0_LONG  0x80010033  /* PG | WP | NE | ET | MP | PE */
#define CR4_LONG  0x00000620  /* OSXMMEXCPT | OSFXSR | PAE */
#define EFER_MSR  0xc0000080
#define EFER_LONG 0x00000901  /* NXE | LME | SCE; the CPU sets LMA */
#define HIGH_BASE 0xffff0000  /* where QEMU maps the image below 4 GiB */
#define APIC_ICR_LO 0xfee00300
#define ICR_INIT_OTHERS 0x000c4500  /* all excluding self, assert, INIT */
#define ICR_SIPI_OTHERS (0x000c4600 | QEMU_SIPI_VECTOR)

    .section .text, "ax"
    .code16
    .globl _start
_start:
ap_entry:
    /* An AP's index is its initial APIC ID (QEMU's -smp N,sockets=1,cores=N,threads=1
     * numbers them 0..N-1); RSI is zero on the BSP from reset. */
    mov $1, %eax
    cpuid
    shr $24, %ebx
    mov %ebx, %esi
common16:
    /* DS is 0 from reset and from the SIPI: the boot info is at its physical address. */
    lgdtl %cs:gdt_ptr
    movl QEMU_BOOT_INFO_GPA + QEMU_BI_CR3, %eax
    mov %eax, %cr3
    mov $CR4_LONG, %eax
    mov %eax, %cr4
    mov $EFER_MSR, %ecx
    mov $EFER_LONG, %eax
    xor %edx, %edx
    wrmsr
    mov $CR0_LONG, %eax
    mov %eax, %cr0             /* PE and PG at once: long mode, still the 16-bit CS */
    ljmpl *%cs:long_ptr        /* loads CS 0x08 from the VMM's GDT: 64-bit code */

    .code64
long64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    /* The BSP of a multi-vCPU VM starts the others, which wait for INIT-SIPI. */
    test %esi, %esi
    jnz 1f
    cmpl $2, QEMU_BOOT_INFO_GPA + QEMU_BI_NR_VCPUS
    jb 1f
    mov $APIC_ICR_LO, %ebx
    movl $ICR_INIT_OTHERS, (%rbx)
    movl $ICR_SIPI_OTHERS, (%rbx)
    movl $ICR_SIPI_OTHERS, (%rbx)
1:  xor %ebx, %ebx
    xor %ecx, %ecx             /* EDX is 0 from the wrmsr above */
    /* RFLAGS = 2 as vmm-min sets it: sahf writes SF ZF AF PF CF (and bit 1) from AH, the
     * xor above cleared OF; mov leaves the flags alone. */
    mov $2, %ah
    sahf
    mov $0, %eax
    mov $QEMU_BOOT_INFO_GPA, %edi
    jmp *QEMU_BOOT_INFO_GPA + QEMU_BI_ENTRY

    .balign 8
gdt_ptr:
    .word QEMU_GDT_LIMIT
    .long QEMU_GDT_GPA
long_ptr:
    .long HIGH_BASE + long64
    .word 0x08

    /* The reset vector: the last 16 bytes of the image. A near jump spelled out: gas
     * leaves a plain `jmp` here to the linker as a 32-bit relocation, which the CPU
     * (16-bit code) would read as a 16-bit displacement and land 2 bytes short. */
    .org 0xfff0
    .byte 0xe9
    .word common16 - (. + 2)
    .org QEMU_STUB_SIZE
