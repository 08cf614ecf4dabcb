/* hypervisor = qemu-pc's pure parts: the refusal decision (PVM, memory, vcpus) through
 * qemu_pc_plan_check and through vmm_plan_make with the real guest image; its command
 * line against qemu-microvm's; the page-table ceiling against the RAM SeaBIOS was
 * measured to write; the hand-off block the boot stub checks; and the built stub's
 * Multiboot header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu/qemu.h"
#include "qemu/qemu_pc.h"
#include "qemu/qemu_pc_boot.h"
#include "vmm/elf_loader.h"
#include "vmm/image.h"
#include "vmm/plan.h"

#define MiB (1ull << 20)

static void contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        fail_msg("'%s' lacks '%s'", s, part);
}

static struct vmm_plan plan(enum vmm_hypervisor hv, unsigned vcpus, uint64_t mem)
{
    struct vmm_plan p;
    memset(&p, 0, sizeof p);
    p.hypervisor = hv;
    p.vcpus = vcpus;
    p.mem_bytes = mem;
    p.resolved.nvnodes = 1;
    p.resolved.vnode_size[0] = mem;
    p.resolved.vnode_host[0] = -1;
    for (unsigned i = 0; i < vcpus; i++)
        p.resolved.vcpu_cpu[i] = -1;
    return p;
}

/* ---- the refusal decision ---- */

static void refused(const struct vmm_plan *p, const char *flavour, const char *word)
{
    struct vmm_err e = { 0 };
    if (qemu_pc_plan_check(p, flavour, &e) == 0)
        fail_msg("qemu-pc accepted on %s (vcpus %u, %llu MiB)", flavour, p->vcpus,
                 (unsigned long long)(p->mem_bytes >> 20));
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    contains(e.msg, word);
}

static void accepted(const struct vmm_plan *p, const char *flavour)
{
    struct vmm_err e = { 0 };
    if (qemu_pc_plan_check(p, flavour, &e))
        fail_msg("qemu-pc refused on %s: %s", flavour, e.msg);
}

static void test_decision(void **state)
{
    (void)state;
    struct vmm_plan p = plan(VMM_HV_QEMU_PC, 1, 64 * MiB);
    accepted(&p, "svm");
    accepted(&p, "vmx");
    accepted(&p, "hardware");
    /* PVM: refused with the reason, the figure and the way out */
    refused(&p, "pvm", "PVM");
    refused(&p, "pvm", "SeaBIOS");
    refused(&p, "pvm", "s a boot");
    refused(&p, "pvm", "hypervisor = qemu-microvm");
    /* memory: q35 keeps RAM below 4 GiB only under 0xb0000000 bytes */
    p.mem_bytes = QEMU_PC_RAM_MAX - 4096;
    accepted(&p, "svm");
    p.mem_bytes = QEMU_PC_RAM_MAX;
    refused(&p, "svm", "memory = 2816 MiB");
    /* vCPUs: the stub starts the others (INIT-SIPI-SIPI) */
    p = plan(VMM_HV_QEMU_PC, 4, 64 * MiB);
    accepted(&p, "svm");
    refused(&p, "pvm", "PVM");
}

static const char *guest_elf(void)
{
    static char buf[4096];
    const char *b = getenv("BUILD");
    snprintf(buf, sizeof buf, "%s/share/vmmbench/guest/vmmbench-guest.elf", b && *b ? b : "build");
    return buf;
}

/* vmm_plan_make for cpuid under qemu-pc with $VMMB_SYSFS_ROOT at `sysroot`. */
static int make_plan(const char *sysroot, unsigned vcpus, struct vmm_err *e)
{
    struct vmm_image *img = NULL;
    if (vmm_image_open(guest_elf(), &img, e))
        fail_msg("cannot open %s: %s (run after `make`)", guest_elf(), e->msg);
    struct vmm_request rq = { .image = img, .workload = "cpuid", .mem_bytes = 64 * MiB,
                              .vcpus = vcpus, .hypervisor = VMM_HV_QEMU_PC };
    setenv("VMMB_SYSFS_ROOT", sysroot, 1);
    struct vmm_plan p;
    int rc = vmm_plan_make(&rq, &p, e);
    unsetenv("VMMB_SYSFS_ROOT");
    vmm_image_close(img);
    return rc;
}

/* The host's flavour comes from the kvm_pvm module's sysfs directory, and vmm_plan_make
 * asks the decision for every qemu-pc plan. */
static void test_plan_make_asks_the_host(void **state)
{
    (void)state;
    char root[] = "/tmp/vmmb-qemu-pc-XXXXXX", mod[128], pvm[160];
    assert_non_null(mkdtemp(root));
    snprintf(mod, sizeof mod, "%s/module", root);
    snprintf(pvm, sizeof pvm, "%s/module/kvm_pvm", root);
    assert_int_equal(mkdir(mod, 0700), 0);

    setenv("VMMB_SYSFS_ROOT", root, 1);
    assert_string_equal(qemu_pc_kvm_flavour(), "hardware");
    struct vmm_err e = { 0 };
    if (make_plan(root, 1, &e))
        fail_msg("qemu-pc refused without kvm_pvm: %s", e.msg);
    e = (struct vmm_err){ 0 };
    if (make_plan(root, 2, &e))
        fail_msg("qemu-pc refused 2 vCPUs: %s", e.msg);

    assert_int_equal(mkdir(pvm, 0700), 0);
    setenv("VMMB_SYSFS_ROOT", root, 1);
    assert_string_equal(qemu_pc_kvm_flavour(), "pvm");
    e = (struct vmm_err){ 0 };
    assert_int_equal(make_plan(root, 1, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    contains(e.msg, "hypervisor = qemu-pc is refused on this host");
    unsetenv("VMMB_SYSFS_ROOT");
    rmdir(pvm);
    rmdir(mod);
    rmdir(root);
}

/* ---- the command line: qemu-microvm's but for the machine and the way in ---- */

static void test_cmdline(void **state)
{
    (void)state;
    const struct qemu_launch l = { "qemu-system-x86_64", "/share/qemu/stub.bin", 7,
                                   "/tmp/vmmb-qemu-x/qmp" };
    struct vmm_plan pc = plan(VMM_HV_QEMU_PC, 1, 256 * MiB);
    struct vmm_plan mv = plan(VMM_HV_QEMU_MICROVM, 1, 256 * MiB);
    pc.placement.prefault = mv.placement.prefault = true;
    struct qemu_argv a, b;
    struct vmm_err e = { 0 };
    if (qemu_cmdline_build(&pc, &l, &a, &e) || qemu_cmdline_build(&mv, &l, &b, &e))
        fail_msg("qemu_cmdline_build: %s", e.msg);
    assert_int_equal(a.argc, b.argc);
    unsigned differ = 0;
    for (unsigned i = 0; i < a.argc; i++) {
        if (!strcmp(a.argv[i], b.argv[i]))
            continue;
        differ++;
        if (!strcmp(a.argv[i], "-kernel")) {
            assert_string_equal(b.argv[i], "-bios");
            assert_string_equal(a.argv[i + 1], l.bios);
        } else if (i > 0 && !strcmp(a.argv[i - 1], "-M")) {
            /* the stock machine: no microvm trimming, RAM from vmm-min's memfd */
            assert_string_equal(a.argv[i], "q35,memory-backend=ram");
        } else {
            fail_msg("argument %u differs: %s vs %s", i, a.argv[i], b.argv[i]);
        }
    }
    assert_int_equal(differ, 2);
    /* what both share, checked once more on qemu-pc's own line */
    bool irqchip = false, exitdev = false, backend = false;
    for (unsigned i = 0; i < a.argc; i++) {
        irqchip |= !strcmp(a.argv[i], "kvm,kernel-irqchip=on");
        exitdev |= !strcmp(a.argv[i], "isa-debug-exit,iobase=0x7f0,iosize=4");
        backend |= strstr(a.argv[i], "mem-path=/proc/self/fd/7,share=on,size=262144K,"
                                     "prealloc=on") != NULL;
    }
    assert_true(irqchip && exitdev && backend);
}

/* ---- the layout ---- */

/* The lowest byte at or above 1 MiB SeaBIOS wrote (qemu_pc_layout.c's measurement),
 * by the end of low RAM. */
static const struct { uint64_t top, first_written; } SEABIOS[] = {
    { 16 * MiB, 0xfa1000 },   { 32 * MiB, 0x1fa1000 },   { 40 * MiB, 0x17e1000 },
    { 48 * MiB, 0x1fe1000 },  { 56 * MiB, 0x27e1000 },   { 64 * MiB, 0x2fe1000 },
    { 256 * MiB, 0xefe1000 }, { 1024 * MiB, 0x3efe1000 }, { 2048 * MiB, 0x7efe1000 },
};

static void test_ceiling_below_seabios(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof SEABIOS / sizeof SEABIOS[0]; i++) {
        uint64_t c = qemu_pc_tables_ceiling(SEABIOS[i].top);
        if (c > SEABIOS[i].first_written)
            fail_msg("%llu MiB: tables up to 0x%llx, SeaBIOS writes from 0x%llx",
                     (unsigned long long)(SEABIOS[i].top >> 20), (unsigned long long)c,
                     (unsigned long long)SEABIOS[i].first_written);
        /* and the guest loses no more than the zones and a margin */
        assert_true(SEABIOS[i].top - c <= 18 * MiB);
        assert_true(c > 1 * MiB);
    }
}

/* The check the stub makes (qemu_pc_boot.S), in C: magic, range count, sum. */
static bool stub_accepts(const struct guest_mem *gm)
{
    const uint32_t *h = guest_mem_ptr(gm, QPC_HANDOFF_GPA, QPC_OFF_RANGES + 8 * QPC_MAX_RANGES);
    if (!h || h[QPC_OFF_MAGIC / 4] != QPC_HANDOFF_MAGIC)
        return false;
    uint32_t n = h[QPC_OFF_NRANGES / 4], sum = 0;
    if (n < 1 || n > QPC_MAX_RANGES)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s, a = h[QPC_OFF_RANGES / 4 + 2 * i], b = h[QPC_OFF_RANGES / 4 + 2 * i + 1];
        if (qemu_pc_sum(gm, a, b, &s))
            return false;
        sum += s;
    }
    return sum == h[QPC_OFF_SUM / 4];
}

static void poke(struct guest_mem *gm, uint64_t gpa)
{
    uint8_t *b = guest_mem_ptr(gm, gpa, 1);
    assert_non_null(b);
    *b ^= 0x5a;
}

static void test_handoff_covers_what_the_vmm_built(void **state)
{
    (void)state;
    struct guest_mem gm;
    struct vmm_err e = { 0 };
    if (guest_mem_create(&gm, 64 * MiB, &e))
        fail_msg("guest_mem_create: %s", e.msg);
    uint64_t image_end = VMM_IMAGE_MIN_GPA + 0x2a6af1; /* the guest ELF's size, odd */
    for (uint64_t a = VMM_IMAGE_MIN_GPA; a < image_end; a += 4096)
        poke(&gm, a); /* some image bytes */
    struct x86_tables t;
    uint64_t ceiling = qemu_pc_tables_ceiling(64 * MiB);
    if (x86_build_tables_below(&gm, VMM_GPAGES_4K, image_end, ceiling, &t, &e))
        fail_msg("x86_build_tables_below: %s", e.msg);
    assert_int_equal(t.gpa + t.size, ceiling);
    assert_true(t.gpa >= image_end);
    poke(&gm, X86_BOOT_INFO_GPA + 100);
    if (qemu_pc_handoff_write(&gm, image_end, &t, &e))
        fail_msg("qemu_pc_handoff_write: %s", e.msg);
    assert_true(stub_accepts(&gm));
    assert_false(qemu_pc_stub_entered(&gm));

    /* any byte of what the VMM built, changed, is caught */
    const uint64_t built[] = { X86_GDT_GPA + 8, X86_BOOT_INFO_GPA, X86_BOOT_INFO_GPA + 100,
                               VMM_IMAGE_MIN_GPA, image_end - 1, t.gpa, t.cr3,
                               ceiling - 1 };
    for (size_t i = 0; i < sizeof built / sizeof built[0]; i++) {
        poke(&gm, built[i]);
        if (stub_accepts(&gm))
            fail_msg("a change at 0x%llx went unseen", (unsigned long long)built[i]);
        poke(&gm, built[i]);
        assert_true(stub_accepts(&gm));
    }
    /* what SeaBIOS writes is outside the check: IVT, stack and temporary zone, EBDA,
     * shadow ROMs, both zones near the top */
    const uint64_t seabios[] = { 0x400, 0x6000, 0x8fffc, 0x9f000, 0xc0000, 0xffff0,
                                 0x2fe1000, 0x2fff000, 64 * MiB - 0x20000, 64 * MiB - 1 };
    for (size_t i = 0; i < sizeof seabios / sizeof seabios[0]; i++)
        poke(&gm, seabios[i]);
    assert_true(stub_accepts(&gm));
    /* a hand-off block the firmware overwrote is refused too */
    poke(&gm, QPC_HANDOFF_GPA);
    assert_false(stub_accepts(&gm));
    guest_mem_destroy(&gm);
}

/* ---- the built stub ---- */

static void test_stub_header(void **state)
{
    (void)state;
    char path[4096];
    const char *b = getenv("BUILD");
    snprintf(path, sizeof path, "%s/share/vmmbench/%s", b && *b ? b : "build", QPC_STUB_REL);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run after `make`)", path);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n >= 32 && n < 0x2000); /* it and multiboot's info stay under 0x9f000 */
    /* the header: 4-aligned in the first 8 KiB (Multiboot 1, 3.1.1) */
    size_t at = 0;
    uint32_t h[8] = { 0 };
    for (; at + sizeof h <= n; at += 4) {
        memcpy(h, buf + at, sizeof h);
        if (h[0] == 0x1badb002 && (uint32_t)(h[0] + h[1] + h[2]) == 0)
            break;
    }
    if (at + sizeof h > n)
        fail_msg("no Multiboot header in %s", path);
    assert_int_equal(h[1], 1u << 16);             /* a.out kludge: the addresses below */
    assert_int_equal(h[4], QPC_STUB_GPA);         /* load_addr: the file's first byte... */
    assert_int_equal(h[3] - h[4], at);            /* ...so the header is where it says */
    assert_true(h[7] > QPC_STUB_GPA && h[7] < QPC_STUB_GPA + n); /* entry inside */
    /* the APs' real-mode entry is the first byte (SIPI vector = the stub's page): it
     * starts with mov $1, %eax (66 b8 01 00 00 00) and cpuid (0f a2) */
    static const uint8_t ap[] = { 0x66, 0xb8, 1, 0, 0, 0, 0x0f, 0xa2 };
    assert_memory_equal(buf, ap, sizeof ap);
    assert_int_equal(QPC_SIPI_VECTOR << 12, QPC_STUB_GPA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_plan_make_asks_the_host),
        cmocka_unit_test(test_cmdline),
        cmocka_unit_test(test_ceiling_below_seabios),
        cmocka_unit_test(test_handoff_covers_what_the_vmm_built),
        cmocka_unit_test(test_stub_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
