/* Hostile irq-inject guests: a mailbox the VMM must refuse, and a request before any
 * mailbox. Each run must end guest-error with the reason, the VMM (and its irq-inject
 * host thread) unharmed. */
#include "guest/workload.h"
#include "guest/x86.h"

#define RING0_ONLY WL_PARAM("ring", "privilege level (0 only)", 0, 0, 0)

/* The last 8 bytes below 4 GiB: the MMIO hole, never RAM. */
static void bad_mbox(struct wl_ctx *ctx)
{
    (void)ctx;
    outl(VMMB_PORT_INJECT_MBOX, 0xfffffff8u);
    for (;;)
        __asm__ volatile("pause");
}

static void unregistered(struct wl_ctx *ctx)
{
    (void)ctx;
    outl(VMMB_PORT_INJECT, 1);
    for (;;)
        __asm__ volatile("pause");
}

WORKLOAD_FLAGS(inject_bad_mbox, "inject-bad-mbox", "registers an irq-inject mailbox outside RAM",
               "none", VMMB_RING0, VMMB_WL_IRQ | VMMB_WL_IRQFD, bad_mbox, RING0_ONLY);
WORKLOAD_FLAGS(inject_unregistered, "inject-unregistered",
               "asks for an injected interrupt before registering a mailbox", "none", VMMB_RING0,
               VMMB_WL_IRQ | VMMB_WL_IRQFD, unregistered, RING0_ONLY);
