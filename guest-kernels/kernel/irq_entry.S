/* Interrupt handlers of the VMMB_WL_IRQ workloads (guest/irq.h). Each stamps the TSC as
 * its first work, into this vCPU's struct irq_cpu (GS base), then counts the interrupt,
 * notes its vector and sends EOI. Only rax, rcx and rdx are touched, and saved.
 * At CPL0 on PVM hosts every instruction costs about 500 ns: keep it this short. */
#define MSR_X2APIC_EOI 0x80b

    .text
/* An interrupt taken at irq_sti_hlt's hlt, inside sti's one-instruction shadow where the
 * architecture allows none, returns past that hlt instead of into it: otherwise the hlt
 * waits for an interrupt that has come already. The lab's emulated SVM (QEMU TCG under
 * kvm-amd) was seen doing this: timer and irqfd waits hung halted with IF=1, nothing in
 * the APIC's IRR or ISR and the TSC deadline consumed. Saved RIP at (%rsp). */
.macro hlt_fixup
    cmpq $irq_hlt_insn, (%rsp)
    jne 1f
    movq $irq_hlt_done, (%rsp)
1:
.endm

/* EOI through the x2APIC MSR; clobbers rax and rdx (the stubs saved them), keeps rcx. */
.macro x2apic_eoi
    push %rcx
    mov $MSR_X2APIC_EOI, %ecx
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    pop %rcx
.endm

.macro irqstub vec
irq_stub_\vec:
    push %rax
    push %rdx
    rdtsc
    mov %eax, %gs:0
    mov %edx, %gs:4
    movq $\vec, %gs:16
    incq %gs:8                    /* only this vCPU writes its count: no lock needed */
    x2apic_eoi
    pop %rdx
    pop %rax
    hlt_fixup
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
    incq %gs:24
    x2apic_eoi
    pop %rdx
    pop %rax
    hlt_fixup
    iretq

/* The spurious vector: no EOI (the APIC did not set an in-service bit for it). */
irq_stub_0xff:
    hlt_fixup
    iretq

/* void irq_sti_hlt(void): interrupts off on entry and on return; waits in HLT for one
 * interrupt with no window for it to come first (see hlt_fixup). */
    .globl irq_sti_hlt
irq_sti_hlt:
    sti
irq_hlt_insn:
    hlt
irq_hlt_done:
    cli
    ret

    .section .rodata
    .globl irq_stub_table
    .balign 8
irq_stub_table:
    .irp v, 0xf0,0xf1,0xf2,0xf3,0xf4,0xf5,0xf6,0xf7,0xf8,0xf9,0xfa,0xfb,0xfc,0xfd,0xfe,0xff
    .quad irq_stub_\v
    .endr
    .section .note.GNU-stack, "", @progbits
