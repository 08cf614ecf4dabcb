/* Guest kernel entry, exception stubs, and the two privilege transitions.
 * Every instruction here runs at CPL0, which this project's test host emulates at about
 * 500 ns each: keep it short. */
#define ASM_FILE
#define KSTACK_SIZE 8192
#define USTACK_SIZE 32768
#define MAX_VCPUS 64
#define PORT_FAULT 0x7f8
#define MBOX_FAULT 12                 /* offsetof(struct vmmb_mailbox, fault) */
#define MBOX_FAULTED 0x100            /* VMMB_MBOX_FAULTED */

    .section .text.entry, "ax"
    .globl _start
    .code64
/* rdi = boot info, rsi = vCPU index (guest_abi.h). */
_start:
    cmp $MAX_VCPUS, %rsi
    jae park
    lea kstacks(%rip), %rsp
    mov %rsi, %rax
    inc %rax
    shl $13, %rax                 /* (index + 1) * KSTACK_SIZE */
    add %rax, %rsp
    call kmain                    /* kmain(boot_info, index) does not return */
park:
    hlt
    jmp park

/* enter_user(entry, user_rsp, arg, arg2): iretq to CPL3 with IOPL 3 so the workload may
 * use port I/O without trapping to the guest kernel; entry(arg, arg2). */
    .text
    .globl enter_user
enter_user:
    sub $8, %rsi                  /* as after a call: entry sees RSP = 8 mod 16 (SSE spills) */
    push $0x1b                    /* SS: user data */
    push %rsi                     /* RSP */
    push $0x3002                  /* RFLAGS: IOPL 3, interrupts off */
    push $0x23                    /* CS: user code */
    push %rdi                     /* RIP */
    mov %rdx, %rdi                /* first argument of the user entry */
    mov %rcx, %rsi                /* second argument */
    iretq

/* enter_user_irq(entry, user_rsp, arg, arg2): the same with interrupts on at CPL3 (the
 * spinning receivers of the interrupt workloads, VMMB_WL_IRQ). */
    .globl enter_user_irq
enter_user_irq:
    sub $8, %rsi
    push $0x1b
    push %rsi
    push $0x3202                  /* RFLAGS: IOPL 3, interrupts on */
    push $0x23
    push %rdi
    mov %rdx, %rdi
    mov %rcx, %rsi
    iretq

/* Exceptions: make the frame uniform (error code on top), report the vector to the VMM,
 * whose handler reads the frame at RSP. The VMM ends the run there. The vector goes to
 * the boot info's mailbox first (when kmain has set it), for VMMs that drop the port. */
.macro isr vec, has_err
isr_\vec:
    .if \has_err == 0
    push $0
    .endif
    mov vmmb_mbox(%rip), %rax
    test %rax, %rax
    jz 2f
    movl $(MBOX_FAULTED | \vec), MBOX_FAULT(%rax)
2:  mov $\vec, %eax
    mov $PORT_FAULT, %dx
    out %eax, %dx
1:  hlt
    jmp 1b
.endm

isr 0,0;  isr 1,0;  isr 2,0;  isr 3,0;  isr 4,0;  isr 5,0;  isr 6,0;  isr 7,0
isr 8,1;  isr 9,0;  isr 10,1; isr 11,1; isr 12,1; isr 13,1; isr 14,1; isr 15,0
isr 16,0; isr 17,1; isr 18,0; isr 19,0; isr 20,0; isr 21,1; isr 22,0; isr 23,0
isr 24,0; isr 25,0; isr 26,0; isr 27,0; isr 28,0; isr 29,1; isr 30,1; isr 31,0

    .section .rodata
    .globl isr_table
    .balign 8
isr_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad isr_\v
    .endr

    .bss
    .balign 16
    .globl kstacks, ustacks
kstacks: .skip KSTACK_SIZE * MAX_VCPUS
ustacks: .skip USTACK_SIZE * MAX_VCPUS
    .section .note.GNU-stack, "", @progbits
