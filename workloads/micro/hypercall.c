/* hypercall: vmcall on Intel, vmmcall on AMD (chosen from the CPUID vendor), asking KVM
 * for KVM_HC_VAPIC_POLL_IRQ, which does nothing. Ring 0 only: a hypercall from CPL3 is
 * refused by KVM. On hosts where it never returns (PVM), the probe reports that. */
#include "guest/workload.h"
#include "guest/x86.h"

#define KVM_HC_VAPIC_POLL_IRQ 1

static void body_vmcall(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t ax = KVM_HC_VAPIC_POLL_IRQ;
        __asm__ volatile("vmcall" : "+a"(ax) :: "rbx", "rcx", "rdx", "rsi", "memory");
    }
}

static void body_vmmcall(struct wl_ctx *ctx, uint64_t iters)
{
    (void)ctx;
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t ax = KVM_HC_VAPIC_POLL_IRQ;
        __asm__ volatile("vmmcall" : "+a"(ax) :: "rbx", "rcx", "rdx", "rsi", "memory");
    }
}

static int is_amd(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    return b == 0x68747541 /* "Auth" */ || b == 0x6f677948 /* "Hygo" */;
}

static void measure(struct wl_ctx *ctx)
{
    wl_run_batches(ctx, is_amd() ? body_vmmcall : body_vmcall);
}


WORKLOAD(hypercall, "hypercall", "vmcall/vmmcall exit handled inside KVM", "ns", VMMB_RING0, measure,
         WL_PARAM_RING(0, 0), WL_PARAM_ITERS(100), WL_PARAM_BATCHES(30), WL_PARAM_WARMUP(3));
