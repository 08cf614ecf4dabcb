#include "vstate/apic_note.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define APIC_ISR 0x100u  /* 8 registers of 32 vectors, 16 bytes apart */
#define APIC_IRR 0x200u
#define MSR_IA32_TSC 0x10u
#define MSR_TSC_DEADLINE 0x6e0u
#define RFLAGS_IF (1u << 9)

/* The highest vector set in the 256-bit register at off, or -1. */
static int top_vector(const struct kvm_lapic_state *la, unsigned off)
{
    for (int r = 7; r >= 0; r--) {
        uint32_t w;
        memcpy(&w, &la->regs[off + 16u * (unsigned)r], sizeof w);
        if (w)
            return r * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

static void vec_str(int v, char *s, size_t n)
{
    if (v < 0)
        snprintf(s, n, "none");
    else
        snprintf(s, n, "0x%x", (unsigned)v);
}

void apic_note(int vcpu_fd, uint64_t rflags, uint64_t tsc_khz, char *out, size_t n)
{
    struct kvm_mp_state mp;
    struct kvm_lapic_state la;
    out[0] = '\0';
    if (ioctl(vcpu_fd, KVM_GET_MP_STATE, &mp) != 0 || ioctl(vcpu_fd, KVM_GET_LAPIC, &la) != 0)
        return;
    char irr[16], isr[16], dl[48];
    vec_str(top_vector(&la, APIC_IRR), irr, sizeof irr);
    vec_str(top_vector(&la, APIC_ISR), isr, sizeof isr);
    /* struct kvm_msrs ends in a flexible array: room for two entries after it */
    union {
        struct kvm_msrs h;
        uint8_t room[sizeof(struct kvm_msrs) + 2 * sizeof(struct kvm_msr_entry)];
    } m;
    memset(&m, 0, sizeof m);
    struct kvm_msr_entry *e = m.h.entries;
    m.h.nmsrs = 2;
    e[0].index = MSR_TSC_DEADLINE;
    e[1].index = MSR_IA32_TSC;
    if (ioctl(vcpu_fd, KVM_GET_MSRS, &m) != 2)
        snprintf(dl, sizeof dl, "unknown");
    else if (!e[0].data)
        snprintf(dl, sizeof dl, "not armed");
    else if (e[1].data >= e[0].data && tsc_khz)
        snprintf(dl, sizeof dl, "due %.1f ms ago", (double)(e[1].data - e[0].data) / (double)tsc_khz);
    else
        snprintf(dl, sizeof dl, "armed, not due");
    snprintf(out, n, "; %s, IF=%d, APIC IRR %s ISR %s, TSC deadline %s",
             mp.mp_state == KVM_MP_STATE_HALTED ? "halted" : "runnable",
             (rflags & RFLAGS_IF) != 0, irr, isr, dl);
}
