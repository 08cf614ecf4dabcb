/* Hostile and broken guests: each misbehaves in one way, and the VMM must end its run
 * with the right status and reason without taking the process down. Linked with the
 * guest kernel objects into build/tests/guest/hostile-guest.elf; driven by
 * tests/integration/test_guests.c.
 *
 * Every workload declares a `ring` parameter pinned to the one ring it is meant for, so
 * the kernel runs it there (the kernel calls ring=0 workloads before dropping to CPL3). */
#include "guest/lib.h"
#include "guest/workload.h"
#include "guest/x86.h"

#define RING3_ONLY WL_PARAM("ring", "privilege level (3 only)", 3, 3, 3)
#define RING0_ONLY WL_PARAM("ring", "privilege level (0 only)", 0, 0, 0)

static __attribute__((noreturn)) void spin_forever(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}

/* Spins at CPL3 in the boot phase: only the run timeout can end it. */
static void hang(struct wl_ctx *ctx)
{
    (void)ctx;
    spin_forever();
}

/* Announces a probe of its operation, which never comes back: the probe timeout turns
 * that into "unsupported", like vmcall on PVM. */
static void probe_hang(struct wl_ctx *ctx)
{
    (void)ctx;
    wl_phase(VMMB_PHASE_PROBE);
    spin_forever();
}

/* Ring 0: an IDT with limit 0 makes every exception undeliverable, so ud2 becomes
 * #GP, then #DF, then a triple fault (KVM_EXIT_SHUTDOWN). Not int3: on PVM hosts the
 * CPL0 instruction emulator cannot do int3 at all and the run ends with
 * KVM_EXIT_INTERNAL_ERROR instead (ud2, a non-canonical load and a divide by zero all
 * give SHUTDOWN). */
static void triple_fault(struct wl_ctx *ctx)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = { 0, 0 };
    (void)ctx;
    __asm__ volatile("lidt %0" :: "m"(d));
    __asm__ volatile("ud2");
    spin_forever();
}

/* #UD at CPL3: the kernel's exception stub reports vector 6 to the VMM. */
static void ud(struct wl_ctx *ctx)
{
    (void)ctx;
    __asm__ volatile("ud2");
    spin_forever();
}

/* Writes to the console forever with `rep outsb`. KVM still exits once per byte for
 * OUTS: on the PVM test host that is ~90 us an exit at CPL3 and ~16 us at CPL0, so the
 * VMM's flood limit must be small for this to end before the run timeout. Runs in
 * either ring. */
static void console_flood(struct wl_ctx *ctx)
{
    (void)ctx;
    static char line[4096];
    for (size_t i = 0; i < sizeof line; i++)
        line[i] = (char)('a' + i % 26);
    for (;;) {
        const char *src = line;
        uint64_t n = sizeof line;
        __asm__ volatile("rep outsb"
                         : "+S"(src), "+c"(n)
                         : "d"((uint16_t)VMMB_PORT_SERIAL)
                         : "memory");
    }
}

/* Reports a result area far outside guest RAM. */
static void bad_result_ptr(struct wl_ctx *ctx)
{
    (void)ctx;
    outl(VMMB_PORT_DONE, 0xfffff000u);
    spin_forever();
}

/* Reports a result area with the wrong magic. */
static void corrupt_result(struct wl_ctx *ctx)
{
    ctx->res->magic = 0x0123456789abcdefull;
    ctx->res->status = VMMB_RESULT_OK;
    ctx->res->nr_records = 0;
    outl(VMMB_PORT_DONE, (uint32_t)(uintptr_t)ctx->res);
    spin_forever();
}

/* A valid header claiming 2^32-1 records. */
static void huge_count(struct wl_ctx *ctx)
{
    ctx->res->status = VMMB_RESULT_OK;
    ctx->res->nr_records = 0xffffffffu;
    outl(VMMB_PORT_DONE, (uint32_t)(uintptr_t)ctx->res);
    spin_forever();
}

/* A port write the VMM has no device for (inside the TSS I/O bitmap, so it reaches the
 * VMM from CPL3 instead of faulting in the guest). */
static void wild_port(struct wl_ctx *ctx)
{
    (void)ctx;
    outb(0x7e0, 1);
    spin_forever();
}

/* A store to guest-physical memory with neither RAM nor a device behind it. */
static void wild_mmio(struct wl_ctx *ctx)
{
    (void)ctx;
    *(volatile uint32_t *)(uintptr_t)0xe0000000u = 0xdeadbeef;
    spin_forever();
}

/* Ring 0: hlt on vCPU 0 before reporting. */
static void halt(struct wl_ctx *ctx)
{
    (void)ctx;
    __asm__ volatile("cli; hlt");
    spin_forever();
}

WORKLOAD(hang, "hang", "spins forever at CPL3 without probing", "none", VMMB_RING3, hang,
         RING3_ONLY);
WORKLOAD(probe_hang, "probe-hang", "enters the probe phase, never returns", "none", VMMB_RING3,
         probe_hang, RING3_ONLY);
WORKLOAD(triple_fault, "triple-fault", "empty IDT then ud2: triple fault", "none", VMMB_RING0,
         triple_fault, RING0_ONLY);
WORKLOAD(ud, "ud", "ud2 at CPL3", "none", VMMB_RING3, ud, RING3_ONLY);
WORKLOAD(console_flood, "console-flood", "writes to the serial console forever", "none",
         VMMB_RING0 | VMMB_RING3, console_flood, WL_PARAM_RING(3, 0));
WORKLOAD(bad_result_ptr, "bad-result-ptr", "reports a result area outside RAM", "none",
         VMMB_RING3, bad_result_ptr, RING3_ONLY);
WORKLOAD(corrupt_result, "corrupt-result", "reports a result area with a bad magic", "none",
         VMMB_RING3, corrupt_result, RING3_ONLY);
WORKLOAD(huge_count, "huge-count", "reports 0xffffffff records", "none", VMMB_RING3,
         huge_count, RING3_ONLY);
WORKLOAD(wild_port, "wild-port", "writes a port with no device (0x7e0)", "none", VMMB_RING3,
         wild_port, RING3_ONLY);
WORKLOAD(wild_mmio, "wild-mmio", "stores to 0xe0000000: no RAM, no device", "none", VMMB_RING3,
         wild_mmio, RING3_ONLY);
WORKLOAD(halt, "halt", "hlt on vCPU 0 at CPL0 before reporting", "none", VMMB_RING0, halt,
         RING0_ONLY);
