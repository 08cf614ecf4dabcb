/* What a stopped vCPU's in-kernel local APIC held: explains a hang in HLT (an interrupt
 * pending in the IRR but not taken, one in service never ended, a TSC-deadline timer
 * past due that never fired, or nothing at all: the wake-up never reached the APIC). */
#ifndef VMM_VSTATE_APIC_NOTE_H
#define VMM_VSTATE_APIC_NOTE_H

#include <stddef.h>
#include <stdint.h>

/* Writes "; halted|runnable, IF=0|1, APIC IRR ... ISR ..., TSC deadline ..." into out
 * (empty when KVM does not tell). rflags: the vCPU's, from KVM_GET_REGS. */
void apic_note(int vcpu_fd, uint64_t rflags, uint64_t tsc_khz, char *out, size_t n);

#endif
