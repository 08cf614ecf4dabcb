/* Interrupt handlers of the VMMB_WL_IRQ workloads (guest/irq.h). Each stamps the TSC as
 * its first work, into this vCPU's struct irq_cpu (GS base), then counts the interrupt,
 * notes its vector and sends EOI. Only rax, rcx and rdx are touched, and saved.
 * At CPL0 on PVM hosts every instruction costs about 500 ns: keep it this short. */
#define MSR_X2APIC_EOI 0x80b

    .text
.macro irqstub vec
irq_stub_\vec:
    push %rax
    push %rdx
    rdtsc
    mov %eax, %gs:0
    mov %edx, %gs:4
    movq $\vec, %gs:16
    incq %gs:8                    /* only this vCPU writes its count: no lock needed */
    push %rcx
    mov $MSR_X2APIC_EOI, %ecx
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    pop %rcx
    pop %rdx
    pop %rax
    iretq
.endm

irqstub 0xf0; irqstub 0xf1; irqstub 0xf2; irqstub 0xf3; irqstub 0xf4; irqstub 0xf5
irqstub 0xf6; irqstub 0xf7; irqstub 0xf8; irqstub 0xf9; irqstub 0xfa; irqstub 0xfb
irqstub 0xfc; irqstub 0xfd

/* The halt watchdog's vector (IRQ_VEC_WAKE): it only ends a hlt, so it is counted apart
 * from the interrupts a workload waits for. */
irq_stub_0xfe:
    push %rax
    push %rdx
    push %rcx
    incq %gs:24
    mov $MSR_X2APIC_EOI, %ecx
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    pop %rcx
    pop %rdx
    pop %rax
    iretq

/* The spurious vector: no EOI (the APIC did not set an in-service bit for it). */
irq_stub_0xff:
    iretq

    .section .rodata
    .globl irq_stub_table
    .balign 8
irq_stub_table:
    .irp v, 0xf0,0xf1,0xf2,0xf3,0xf4,0xf5,0xf6,0xf7,0xf8,0xf9,0xfa,0xfb,0xfc,0xfd,0xfe,0xff
    .quad irq_stub_\v
    .endr
    .section .note.GNU-stack, "", @progbits
