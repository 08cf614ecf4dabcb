/* The qemu-pc boot stub: a Multiboot 1 kernel (a.out kludge, so QEMU loads it as raw
 * bytes at QPC_STUB_GPA) that SeaBIOS and QEMU's multiboot option ROM start on the
 * bootstrap vCPU in 32-bit protected mode, paging off, interrupts off. It checks that the
 * firmware left the VMM's structures alone, then enters long mode with exactly vmm-min's
 * initial vCPU state (vstate/x86_setup.c: x86_setup_vcpu) and jumps to the guest image's
 * entry:
 *   GDT at X86_GDT_GPA (its descriptors' accessed bits are preset, so loading the
 *   selectors writes nothing), CS 0x08, DS/ES/FS/GS/SS 0x10, CR3 = the VMM's tables,
 *   CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = SCE|LME|LMA|NXE,
 *   RFLAGS = 2, RSP = 0, RDI = the boot info, RSI = the vCPU's index, all other GPRs 0.
 * With more than one vCPU the bootstrap one first sends INIT-SIPI-SIPI to the others
 * (SeaBIOS left them halted in its own code); the SIPI's vector is this stub's first
 * page, where they start in real mode, take their index from their APIC ID (QEMU's
 * -smp N,sockets=1,cores=N,threads=1 numbers them 0..N-1) and take the same way in.
 * The contract with the VMM is qemu_pc_boot.h; the GDT and boot-info offsets are
 * reset_stub.h's, shared with qemu-microvm's stub. */
#include "qemu_pc_boot.h"
#include "reset_stub.h"

#define MB_MAGIC 0x1badb002
#define MB_AOUT_KLUDGE (1 << 16)     /* the header gives the load addresses */

#define SEL_KCODE 0x08               /* VMMB_SEL_KCODE */
#define SEL_KDATA 0x10               /* VMMB_SEL_KDATA */
#define CR0_VALUE 0x80010033         /* PG | WP | NE | ET | MP | PE */
#define CR4_VALUE 0x620              /* OSXMMEXCPT | OSFXSR | PAE */
#define MSR_EFER 0xc0000080
#define EFER_VALUE 0x901             /* NXE | LME | SCE (LMA follows from PG) */
#define COM1 0x3f8
#define APIC_ICR_LO 0xfee00300
#define ICR_INIT_OTHERS 0x000c4500   /* all excluding self, assert, INIT */
#define ICR_SIPI_OTHERS (0x000c4600 | QPC_SIPI_VECTOR)

    .text
    .code16
    .globl _start
_start:
    /* ---- an application processor, after the SIPI: real mode, CS base QPC_STUB_GPA,
     * DS base 0, RFLAGS 2 ---- */
ap16:
    mov $1, %eax
    cpuid
    shr $24, %ebx
    mov %ebx, %esi                   /* its index: the initial APIC ID */
    lgdtl %cs:(gdt_pointer - ap16)
    movl QEMU_BOOT_INFO_GPA + QEMU_BI_CR3, %eax
    mov %eax, %cr3
    mov $CR4_VALUE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    mov $EFER_VALUE, %eax
    xor %edx, %edx
    wrmsr
    mov $CR0_VALUE, %eax
    mov %eax, %cr0                   /* PE and PG at once: long mode, still a 16-bit CS */
    ljmpl *%cs:(ap_long_ptr - ap16)  /* CS 0x08 from the VMM's GDT: 64-bit code */

    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_AOUT_KLUDGE
    .long -(MB_MAGIC + MB_AOUT_KLUDGE)
    .long mb_header                  /* header_addr */
    .long _start                     /* load_addr: the file's first byte */
    .long 0                          /* load_end_addr: the whole file */
    .long 0                          /* bss_end_addr: none */
    .long bsp32                      /* entry */

    /* ---- the bootstrap processor, from the multiboot option ROM ---- */
    .code32
bsp32:
    /* SeaBIOS handed over (outside the checksum's ranges: the VMM reads it on a timeout) */
    movl $QPC_ENTERED, QPC_HANDOFF_GPA + QPC_OFF_ENTERED
    /* SeaBIOS leaves the PIT ticking through the 8259s (and LINT0 in ExtINT mode): mask
     * both PICs so no legacy interrupt reaches the guest, which expects none. */
    mov $0xff, %al
    out %al, $0xa1
    out %al, $0x21

    /* Sum the dwords of the ranges the VMM listed and compare with its sum. */
    mov $QPC_HANDOFF_GPA, %ebx
    cmpl $QPC_HANDOFF_MAGIC, QPC_OFF_MAGIC(%ebx)
    jne clobbered
    mov QPC_OFF_NRANGES(%ebx), %ecx
    dec %ecx
    cmp $QPC_MAX_RANGES - 1, %ecx    /* 1..QPC_MAX_RANGES, unsigned */
    ja clobbered
    inc %ecx
    lea QPC_OFF_RANGES(%ebx), %ebp
    xor %eax, %eax
1:  mov (%ebp), %esi
    mov 4(%ebp), %edi
    jmp 3f
2:  add (%esi), %eax
    add $4, %esi
3:  cmp %edi, %esi
    jb 2b
    add $8, %ebp
    loop 1b
    cmp QPC_OFF_SUM(%ebx), %eax
    jne clobbered

    lgdt gdt_pointer
    mov QEMU_BOOT_INFO_GPA + QEMU_BI_CR3, %eax   /* below 4 GiB */
    mov %eax, %cr3
    mov $CR4_VALUE, %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    mov $EFER_VALUE, %eax
    xor %edx, %edx
    wrmsr
    /* RFLAGS = 2 but for the arithmetic flags, which the tail sets (DF, IF, TF, AC: 0) */
    mov $stack_top, %esp
    pushl $2
    popfl
    mov $CR0_VALUE, %eax
    mov %eax, %cr0
    ljmp $SEL_KCODE, $bsp64

    .code64
bsp64:
    mov $0, %esi                     /* index 0 */
    cmpl $2, QEMU_BOOT_INFO_GPA + QEMU_BI_NR_VCPUS
    jb long_tail
    mov $APIC_ICR_LO, %ebx           /* SeaBIOS left the local APIC in xAPIC mode */
    movl $ICR_INIT_OTHERS, (%rbx)
    movl $ICR_SIPI_OTHERS, (%rbx)
    movl $ICR_SIPI_OTHERS, (%rbx)
    jmp long_tail

ap64:
long_tail:
    mov $SEL_KDATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    /* The arithmetic flags as vmm-min leaves them: xor clears OF and CF, sahf loads SF ZF
     * AF PF CF from AH = 2 (bit 1 is always set); mov changes no flag. */
    xor %eax, %eax
    mov $2, %ah
    sahf
    /* 32-bit moves zero the upper halves, which are undefined after the mode switch. */
    mov $0, %eax
    mov $0, %ebx
    mov $0, %ecx
    mov $0, %edx
    mov $0, %ebp
    mov $0, %esp
    mov $QEMU_BOOT_INFO_GPA, %edi
    mov $0, %r8d
    mov $0, %r9d
    mov $0, %r10d
    mov $0, %r11d
    mov $0, %r12d
    mov $0, %r13d
    mov $0, %r14d
    mov $0, %r15d
    jmp *(QEMU_BOOT_INFO_GPA + QEMU_BI_ENTRY)

    .code32
    /* The firmware (or the multiboot loader) wrote over what the VMM built: say so on
     * COM1 and end QEMU with QPC_EXIT_CLOBBERED, so the run fails with that reason
     * instead of running a guest on corrupted tables. */
clobbered:
    mov $clobbered_msg, %esi
    mov $COM1, %edx
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  mov $QPC_EXIT_PORT, %edx
    mov $QPC_EXIT_CLOBBERED, %eax
    out %eax, %dx
3:  hlt
    jmp 3b

    .balign 8
gdt_pointer:
    .word QEMU_GDT_LIMIT
    .long QEMU_GDT_GPA
ap_long_ptr:
    .long ap64
    .word SEL_KCODE
clobbered_msg:
    .asciz "vmmb-pc-boot: the VMM's GDT, boot info, image or page tables changed under the firmware (checksum mismatch)\n"
    .balign 16
    .fill 16, 1, 0
stack_top:
