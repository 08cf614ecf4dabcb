/* Hostile and broken guests: each misbehaves in one way, and the VMM must end its run
 * with the right status and reason without taking the process down. Linked with the
 * guest kernel objects into build/tests/guest/hostile-guest.elf; driven by
 * tests/integration/test_guests.c.
 *
 * Every workload declares a `ring` parameter pinned to the one ring it is meant for, so
 * the kernel runs it there (the kernel calls ring=0 workloads before dropping to CPL3). */
#include "guest/kernel.h"
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

/* Reports `gpa` as its result area the way the guest ABI does (the mailbox, then the
 * ports), so a VMM reading either gets the same planted value. */
static void report_raw(uint64_t gpa)
{
    vmmb_mbox->done_gpa = gpa;
    if (gpa >> 32)
        outl(VMMB_PORT_DONE_HI, (uint32_t)(gpa >> 32));
    outl(VMMB_PORT_DONE, (uint32_t)gpa);
}

/* Reports a result area far outside guest RAM. */
static void bad_result_ptr(struct wl_ctx *ctx)
{
    (void)ctx;
    report_raw(0xfffff000u);
    spin_forever();
}

/* Reports a result area with the wrong magic. */
static void corrupt_result(struct wl_ctx *ctx)
{
    ctx->res->magic = 0x0123456789abcdefull;
    ctx->res->status = VMMB_RESULT_OK;
    ctx->res->nr_records = 0;
    report_raw((uintptr_t)ctx->res);
    spin_forever();
}

/* A valid header claiming 2^32-1 records. */
static void huge_count(struct wl_ctx *ctx)
{
    ctx->res->status = VMMB_RESULT_OK;
    ctx->res->nr_records = 0xffffffffu;
    report_raw((uintptr_t)ctx->res);
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

/* Writes n bytes of `text` (repeated) to the console with `rep outsb`. */
static void console_write(const char *text, size_t len, uint64_t n)
{
    while (n) {
        const char *src = text;
        uint64_t k = n < len ? n : len;
        n -= k;
        __asm__ volatile("rep outsb" : "+S"(src), "+c"(k) : "d"((uint16_t)VMMB_PORT_SERIAL)
                         : "memory");
    }
}

/* The most a guest may report: `records` records (default the limit), every one a
 * measurement (two samples each) with the largest batch number, spread round-robin over
 * `points` distinct points of the longest form a point may take (default the limit), and
 * a full console (`console`=1). Records are written straight into the area, past the
 * guest's own capacity check, so counts over the limits reach the VMM. */
static void max_output(struct wl_ctx *ctx)
{
    uint64_t nrec = wl_param(ctx, "records"), npts = wl_param(ctx, "points");
    uint64_t room = (ctx->bi->free_size - sizeof *ctx->res) / sizeof *ctx->rec;
    if (nrec > room)
        wl_error(ctx, "max-output: records do not fit in guest memory; give more memory");
    if (wl_param(ctx, "console")) {
        static char line[64];
        for (size_t i = 0; i < sizeof line; i++)
            line[i] = (char)('A' + i % 26);
        line[sizeof line - 1] = '\n';
        console_write(line, sizeof line, 16u << 10); /* VMM_CONSOLE_KEEP: no flood */
    }
    for (uint64_t i = 0; i < nrec; i++) {
        struct vmmb_record *r = &ctx->rec[i];
        memset(r, 0, sizeof *r);
        r->kind = VMMB_REC_MEASURE;
        r->batch = 0xffffffffu;
        r->iters = 1;
        r->cycles = 1000 + i;
        /* "longest_key_abc=0000...0NNNN": a 15-character key, a 31-character value */
        static const char key[] = "longest_key_abc=";
        memcpy(r->point, key, sizeof key - 1);
        uint64_t v = i % npts;
        for (int d = 30; d >= 0; d--, v /= 10)
            r->point[sizeof key - 1 + d] = (char)('0' + v % 10);
    }
    ctx->res->nr_records = (uint32_t)nrec;
    ctx->res->status = VMMB_RESULT_OK;
    wl_report_done(ctx);
    spin_forever();
}

/* Terminal escape sequences in the console (also on a "vmm: " line, which vmm-min
 * repeats) and in the reason it fails with: every printer must show them, not send
 * them. */
static void escapes(struct wl_ctx *ctx)
{
    console_puts("clear \x1b[2J\x1b]0;title\x07 done\nvmm: \x1b[31mred note\x1b[0m\n");
    wl_error(ctx, "bad \x1b[2J\x1b[31mred\x1b]0;title\x07 reason");
}

/* A valid result area, reported with the high half of its address set: a VMM that keeps
 * only the low 32 bits reads it as valid; one that keeps all 64 finds 4 GiB past RAM. */
static void done_high(struct wl_ctx *ctx)
{
    wl_record(ctx, VMMB_REC_CALIBRATION, 0, 0, 10, 50);
    wl_record(ctx, VMMB_REC_MEASURE, 0, 0, 10, 500);
    ctx->res->status = VMMB_RESULT_OK;
    report_raw(1ull << 32 | (uintptr_t)ctx->res);
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
WORKLOAD(max_output, "max-output", "reports the most records, points and console allowed",
         "none", VMMB_RING3, max_output, RING3_ONLY,
         WL_PARAM("records", "records reported", VMMB_MAX_RECORDS, 1, 4 * VMMB_MAX_RECORDS),
         WL_PARAM("points", "distinct points among them", 1024, 1, 1 << 16),
         WL_PARAM("console", "1: fill the console first", 1, 0, 1));
WORKLOAD(escapes, "escapes", "terminal escape sequences in console and reason", "none",
         VMMB_RING3, escapes, RING3_ONLY);
WORKLOAD(done_high, "done-high", "reports its result area with DONE_HI = 1", "none",
         VMMB_RING3, done_high, RING3_ONLY);
