/* qemu-pc's boot stub under the real thing: QEMU's q35 with SeaBIOS on /dev/kvm, the
 * command line qemu_cmdline_build makes for hypervisor = qemu-pc, guest RAM in a memfd
 * laid out by the VMM's own code (x86_build_tables_below under qemu_pc_tables_ceiling,
 * qemu_pc_handoff_write). In place of the guest image, a probe at 1 MiB stores the state
 * it was entered with and ends QEMU through isa-debug-exit:
 *  - the bootstrap vCPU enters with exactly vmm-min's state (x86_setup_vcpu): RDI = boot
 *    info, RSI = 0, RSP = 0, RFLAGS = 2, CR0, CR4, CR3 = the VMM's tables, EFER, CS, SS;
 *  - with 2 vCPUs the stub's INIT-SIPI-SIPI brings vCPU 1 in the same way, RSI = 1;
 *  - one byte of the page tables changed after the hand-off (what SeaBIOS writing there
 *    would do): the stub refuses to enter, says so on COM1 and ends QEMU with
 *    QPC_EXIT_STATUS_CLOBBERED, which qemu_run reports as the reason.
 * Each case boots SeaBIOS: about 7 s on a PVM host (where vmm_plan_make refuses qemu-pc
 * for that reason; this checks the stub, not the policy), a few seconds in the lab.
 * Without a usable /dev/kvm every case is skipped, naming why; without QEMU it fails.
 * vmmb-test: parallel (it checks what runs, not figures: tests/run-all.sh runs it beside another such test)
 * vmmb-test: plain only (what it checks runs inside QEMU; its own code, the layout and the
 * hand-off sum, runs under ASan+UBSan in tests/unit/test_qemu_pc.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu/qemu.h"
#include "qemu/qemu_pc.h"
#include "qemu/qemu_pc_boot.h"
#include "vmm/elf_loader.h"
#include "vmm/vmm.h"

#include "kvm_gate.h"

#define MEM (64ull << 20)
#define PROBE_GPA VMM_IMAGE_MIN_GPA
#define DUMP_GPA 0x110000ull    /* the probe's record: 0x100 bytes per vCPU index */
#define PROBE_EXIT 0x11         /* what the probe writes to isa-debug-exit */
#define DEADLINE_S 180.0

/* The probe (x86-64, linked at 1 MiB), from this source:
 *   lea 0(,%rsi,8),%rbx; lea 0(,%rbx,8),%rbx          record = DUMP_GPA + index * 0x100,
 *   lea 0x110000(,%rbx,4),%rbx                           with no flag changed yet
 *   mov %rsp,0x10(%rbx); lea 0x100(%rbx),%rsp; pushfq; popq %rax; mov %rax,0x18(%rbx)
 *   mov %rdi,(%rbx); mov %rsi,8(%rbx)
 *   mov %cr0,%rax; mov %rax,0x20(%rbx); mov %cr4,%rax; mov %rax,0x28(%rbx)
 *   mov %cr3,%rax; mov %rax,0x30(%rbx)
 *   mov $0xc0000080,%ecx; rdmsr; mov %eax,0x38(%rbx)
 *   mov %cs,%eax; mov %eax,0x40(%rbx); mov %ss,%eax; mov %eax,0x44(%rbx)
 *   movl $1,0x48(%rbx)                                  done
 *   test %rsi,%rsi; jnz 2f                              the APs halt
 *   mov 0x2018,%ecx                                     boot info's nr_vcpus
 * 1: cmp $2,%ecx; jb 3f; cmpl $1,0x110148; jne 1b        vCPU 0 waits for vCPU 1
 * 3: mov $0x7f0,%dx; mov $0x11,%eax; out %eax,%dx
 * 2: hlt; jmp 2b */
static const uint8_t PROBE[] = {
    0x48, 0x8d, 0x1c, 0xf5, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x1c, 0xdd, 0x00, 0x00,
    0x00, 0x00, 0x48, 0x8d, 0x1c, 0x9d, 0x00, 0x00, 0x11, 0x00, 0x48, 0x89, 0x63, 0x10,
    0x48, 0x8d, 0xa3, 0x00, 0x01, 0x00, 0x00, 0x9c, 0x58, 0x48, 0x89, 0x43, 0x18, 0x48,
    0x89, 0x3b, 0x48, 0x89, 0x73, 0x08, 0x0f, 0x20, 0xc0, 0x48, 0x89, 0x43, 0x20, 0x0f,
    0x20, 0xe0, 0x48, 0x89, 0x43, 0x28, 0x0f, 0x20, 0xd8, 0x48, 0x89, 0x43, 0x30, 0xb9,
    0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x89, 0x43, 0x38, 0x8c, 0xc8, 0x89, 0x43, 0x40,
    0x8c, 0xd0, 0x89, 0x43, 0x44, 0xc7, 0x43, 0x48, 0x01, 0x00, 0x00, 0x00, 0x48, 0x85,
    0xf6, 0x75, 0x20, 0x8b, 0x0c, 0x25, 0x18, 0x20, 0x00, 0x00, 0x83, 0xf9, 0x02, 0x72,
    0x0a, 0x83, 0x3c, 0x25, 0x48, 0x01, 0x11, 0x00, 0x01, 0x75, 0xf1, 0x66, 0xba, 0xf0,
    0x07, 0xb8, 0x11, 0x00, 0x00, 0x00, 0xef, 0xf4, 0xeb, 0xfd,
};
_Static_assert(offsetof(struct vmmb_boot_info, nr_vcpus) == 0x18, "the probe reads 0x2018");

struct record {
    uint64_t rdi, rsi, rsp, rflags, cr0, cr4, cr3;
    uint32_t efer, pad, cs, ss, done;
};

static bool kvm_ok;
static char kvm_why[VMM_ERR_MSG_MAX];

struct boot {
    int fd;
    uint8_t *ram;
    struct guest_mem gm;
    struct x86_tables t;
    char console[4096];
    int status;                 /* QEMU's wait status */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Guest RAM as the VMM builds it for qemu-pc, with the probe as the image. */
static void build(struct boot *b, unsigned vcpus)
{
    memset(b, 0, sizeof *b);
    b->fd = memfd_create("qemu-pc-stub-test", 0); /* inherited by QEMU: no CLOEXEC */
    assert_true(b->fd >= 0);
    assert_int_equal(ftruncate(b->fd, (off_t)MEM), 0);
    b->ram = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
    assert_true(b->ram != MAP_FAILED);
    guest_mem_layout(&b->gm, b->ram, MEM);
    struct vmm_err e = { 0 };
    uint64_t image_end = PROBE_GPA + sizeof PROBE;
    if (x86_build_tables_below(&b->gm, VMM_GPAGES_2M, image_end,
                               qemu_pc_tables_ceiling(MEM), &b->t, &e))
        fail_msg("x86_build_tables_below: %s", e.msg);
    memcpy(guest_mem_ptr(&b->gm, PROBE_GPA, sizeof PROBE), PROBE, sizeof PROBE);
    struct vmmb_boot_info *bi = guest_mem_ptr(&b->gm, X86_BOOT_INFO_GPA, sizeof *bi);
    bi->magic = VMMB_BOOT_MAGIC;
    bi->abi_version = VMMB_ABI_VERSION;
    bi->size = sizeof *bi;
    bi->nr_vcpus = vcpus;
    bi->entry = PROBE_GPA;
    bi->cr3 = b->t.cr3;
    if (qemu_pc_handoff_write(&b->gm, image_end, &b->t, &e))
        fail_msg("qemu_pc_handoff_write: %s", e.msg);
}

/* QEMU with qemu-pc's own command line, let go over QMP, until it exits. */
static void boot(struct boot *b, unsigned vcpus)
{
    char stub[4096], dir[] = "/tmp/vmmb-qpc-XXXXXX", sock[64];
    const char *bd = getenv("BUILD");
    snprintf(stub, sizeof stub, "%s/share/vmmbench/%s", bd && *bd ? bd : "build", QPC_STUB_REL);
    if (access(stub, R_OK))
        fail_msg("no boot stub at %s: run after `make`", stub);
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/qmp", dir);
    struct vmm_plan p;
    memset(&p, 0, sizeof p);
    p.hypervisor = VMM_HV_QEMU_PC;
    p.vcpus = vcpus;
    p.mem_bytes = MEM;
    p.resolved.nvnodes = 1;
    p.resolved.vnode_size[0] = MEM;
    p.resolved.vnode_host[0] = -1;
    struct qemu_launch l = { vmm_qemu_binary(), stub, b->fd, sock };
    struct qemu_argv a;
    struct vmm_err e = { 0 };
    if (qemu_cmdline_build(&p, &l, &a, &e))
        fail_msg("qemu_cmdline_build: %s", e.msg);
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(out[1], 1);
        execvp(a.argv[0], a.argv);
        fprintf(stderr, "cannot run %s: %s\n", a.argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    double dl = now() + DEADLINE_S;
    struct qmp m = { .fd = -1 };
    char why[300];
    const char *reply;
    size_t rlen;
    if (qmp_connect(&m, sock, now() + 30, pid, why, sizeof why) ||
        qmp_command(&m, "{\"execute\":\"qmp_capabilities\"}\n", dl, &reply, &rlen, why,
                    sizeof why) ||
        qmp_command(&m, "{\"execute\":\"cont\"}\n", dl, &reply, &rlen, why, sizeof why)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("QEMU did not start: %s", why);
    }
    size_t used = 0;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd pf = { out[0], POLLIN, 0 };
        poll(&pf, 1, 100);
        ssize_t n;
        while ((n = read(out[0], b->console + used, sizeof b->console - 1 - used)) > 0)
            used += (size_t)n;
        if (waitpid(pid, &b->status, WNOHANG) == pid)
            break;
        if (now() > dl) {
            kill(pid, SIGKILL);
            waitpid(pid, &b->status, 0);
            break;
        }
    }
    b->console[used] = 0;
    qmp_close(&m);
    close(out[0]);
    unlink(sock);
    rmdir(dir);
}

static void done(struct boot *b)
{
    munmap(b->ram, MEM);
    close(b->fd);
}

static const struct record *record_of(struct boot *b, unsigned index)
{
    return guest_mem_ptr(&b->gm, DUMP_GPA + index * 0x100ull, sizeof(struct record));
}

static void check_entry(struct boot *b, unsigned index)
{
    const struct record *r = record_of(b, index);
    if (r->done != 1)
        fail_msg("vCPU %u never reached the probe (console: %s)", index, b->console);
    assert_int_equal(r->rdi, X86_BOOT_INFO_GPA);
    assert_int_equal(r->rsi, index);
    assert_int_equal(r->rsp, 0);
    assert_int_equal(r->rflags, 2);
    assert_int_equal(r->cr0, 0x80010033);  /* PG WP NE ET MP PE */
    assert_int_equal(r->cr4, 0x620);       /* OSXMMEXCPT OSFXSR PAE */
    assert_int_equal(r->cr3, b->t.cr3);
    assert_int_equal(r->efer, 0xd01);      /* NXE LMA LME SCE */
    assert_int_equal(r->cs, VMMB_SEL_KCODE);
    assert_int_equal(r->ss, VMMB_SEL_KDATA);
}

static void test_entry_state(void **state)
{
    (void)state;
    NEED_KVM_OR_SKIP(kvm_ok, kvm_why);
    struct boot b;
    build(&b, 1);
    boot(&b, 1);
    if (!WIFEXITED(b.status) || WEXITSTATUS(b.status) != ((PROBE_EXIT << 1) | 1))
        fail_msg("QEMU ended with wait status 0x%x, not the probe's exit (console: %s)",
                 b.status, b.console);
    check_entry(&b, 0);
    assert_int_equal(record_of(&b, 1)->done, 0);
    assert_true(qemu_pc_stub_entered(&b.gm));
    done(&b);
}

static void test_smp_entry_state(void **state)
{
    (void)state;
    NEED_KVM_OR_SKIP(kvm_ok, kvm_why);
    struct boot b;
    build(&b, 2);
    boot(&b, 2);
    if (!WIFEXITED(b.status) || WEXITSTATUS(b.status) != ((PROBE_EXIT << 1) | 1))
        fail_msg("QEMU ended with wait status 0x%x, not the probe's exit (console: %s)",
                 b.status, b.console);
    check_entry(&b, 0);
    check_entry(&b, 1);
    done(&b);
}

static void test_clobbered_tables_refused(void **state)
{
    (void)state;
    NEED_KVM_OR_SKIP(kvm_ok, kvm_why);
    struct boot b;
    build(&b, 1);
    /* what SeaBIOS writing into the tables would do: one byte, after the hand-off */
    uint8_t *pte = guest_mem_ptr(&b.gm, b.t.gpa + 8, 1);
    *pte ^= 0x10;
    boot(&b, 1);
    if (!WIFEXITED(b.status) || WEXITSTATUS(b.status) != QPC_EXIT_STATUS_CLOBBERED)
        fail_msg("QEMU ended with wait status 0x%x, not the stub's refusal (console: %s)",
                 b.status, b.console);
    assert_non_null(strstr(b.console, "vmmb-pc-boot: the VMM's GDT, boot info, image or "
                                      "page tables changed under the firmware"));
    assert_int_equal(record_of(&b, 0)->done, 0); /* the probe never ran */
    assert_true(qemu_pc_stub_entered(&b.gm));    /* but SeaBIOS handed over */
    done(&b);
}

int main(void)
{
    struct vmm_err e = { 0 };
    kvm_ok = vmm_kvm_check(&e) == 0;
    snprintf(kvm_why, sizeof kvm_why, "%s", e.msg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_state),
        cmocka_unit_test(test_smp_entry_state),
        cmocka_unit_test(test_clobbered_tables_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
