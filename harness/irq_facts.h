/* The host's interrupt facts stored with every run (issue 13): what decides how fast a
 * guest interrupt or wake-up is, read from the KVM module parameters under ROOT/sys/module
 * (ROOT "" on a real host; a directory tree in the unit tests). */
#ifndef HARNESS_IRQ_FACTS_H
#define HARNESS_IRQ_FACTS_H

#include <stddef.h>

struct irq_facts {
    long long halt_poll_ns;   /* kvm.halt_poll_ns; -1 when the host does not say */
    char apicv[128];          /* APIC virtualization / posted interrupts, e.g. "vmx
                                 enable_apicv=Y", "svm avic=N", "pvm: none" */
    char apic_mode[64];       /* the host CPU's x2APIC, and PVM's no_x2apic when loaded */
};

/* Fills f from ROOT's module parameters and ROOT/proc/cpuinfo's flags. */
void irq_facts_read(const char *root, struct irq_facts *f);

#endif
