/* One run under QEMU (hypervisor = qemu-microvm): vmm-min builds the guest exactly as for
 * its own runs (vm_build_guest: memory, tables, image; vm_fill_boot_info) in a memfd,
 * starts QEMU paused on it with the reset stub as -bios, pins QEMU's vCPU threads as
 * planned (QMP query-cpus-fast gives their ids), lets it go, and supervises through the
 * boot info's mailbox, since QEMU drops the control-port writes vmm-min acts on. QEMU ends
 * at the guest's DONE write (isa-debug-exit); the results are then read from vmm-min's own
 * mapping of the same pages with the same checks as ever.
 *
 * Not measured under QEMU: exits (res->exits stays 0, QEMU does not count them for us)
 * and the VMM's per-thread CPU time samples. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu/qemu.h"
#include "qemu/reset_stub.h"
#include "vmm/image.h"
#include "vmm/text_escape.h"
#include "vstate/kvm_dev.h"
#include "vstate/vm.h"

_Static_assert(QEMU_BOOT_INFO_GPA == X86_BOOT_INFO_GPA, "reset_stub.h: boot info GPA");
_Static_assert(QEMU_GDT_GPA == X86_GDT_GPA, "reset_stub.h: GDT GPA");
_Static_assert(QEMU_GDT_LIMIT == VMMB_GDT_ENTRIES * 8 - 1, "reset_stub.h: GDT limit");
_Static_assert(QEMU_BI_NR_VCPUS == __builtin_offsetof(struct vmmb_boot_info, nr_vcpus),
               "reset_stub.h: nr_vcpus offset");
_Static_assert(QEMU_BI_ENTRY == __builtin_offsetof(struct vmmb_boot_info, entry),
               "reset_stub.h: entry offset");
_Static_assert(QEMU_BI_CR3 == __builtin_offsetof(struct vmmb_boot_info, cr3),
               "reset_stub.h: cr3 offset");

#define START_TIMEOUT_S 30.0   /* QEMU up and answering QMP */
#define LOOK_INTERVAL_MS 10    /* the supervisor's look at the mailbox while the guest runs */
#define REAP_GRACE_S 5.0       /* QEMU closed its pipes: it must be gone by then */
#define ERR_TAIL 1024

struct qrun {
    struct vm *vm;
    volatile struct vmmb_mailbox *mbox;
    pid_t pid;
    int out_fd, err_fd;
    char err_tail[ERR_TAIL];   /* the last bytes QEMU wrote to stderr */
    size_t err_len;
    pid_t tid[VMMB_MAX_VCPUS];
    unsigned long long ran_at_pin[VMMB_MAX_VCPUS]; /* each vCPU thread's CPU time at its pin */
    char dir[64], sock[96];
};

static void tail_add(struct qrun *q, const char *s, size_t n)
{
    if (n >= ERR_TAIL - 1) {
        s += n - (ERR_TAIL - 1);
        n = ERR_TAIL - 1;
    }
    if (q->err_len + n > ERR_TAIL - 1) {
        size_t drop = q->err_len + n - (ERR_TAIL - 1);
        memmove(q->err_tail, q->err_tail + drop, q->err_len - drop);
        q->err_len -= drop;
    }
    memcpy(q->err_tail + q->err_len, s, n);
    q->err_len += n;
    q->err_tail[q->err_len] = 0;
}

/* QEMU's stderr as one line for a reason: its last line(s), newlines as "; ". */
static const char *err_text(struct qrun *q)
{
    static char t[300];
    size_t n = 0;
    const char *s = q->err_tail;
    while (*s == '\n')
        s++;
    size_t len = strlen(s);
    if (len > sizeof t - 1)
        s += len - (sizeof t - 1);
    for (; *s && n < sizeof t - 1; s++)
        t[n++] = *s == '\n' ? ';' : *s;
    while (n && (t[n - 1] == ';' || t[n - 1] == ' '))
        n--;
    t[n] = 0;
    return n ? t : "(nothing on stderr)";
}

/* Reads what one pipe has; returns 0 at EOF (fd closed and set to -1), 1 otherwise. */
static int drain(struct qrun *q, int *fd, bool console)
{
    char buf[4096];
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 1 : (close(*fd), *fd = -1, 0);
    if (n == 0) {
        close(*fd);
        *fd = -1;
        return 0;
    }
    if (!console) {
        tail_add(q, buf, (size_t)n);
        return 1;
    }
    struct vm *vm = q->vm;
    uint64_t total = atomic_fetch_add(&vm->console_total, (uint64_t)n) + (uint64_t)n;
    vm_console_put(vm, buf, (size_t)n);
    if (vm->plan->echo_console) /* guest bytes: control characters shown, not sent */
        vmm_text_escape_write(stderr, buf, (size_t)n, VMM_ESC_KEEP_LINES);
    if (total > VMM_CONSOLE_FLOOD) {
        vm_fail(vm, VMM_STATUS_GUEST_ERROR, "console flood: the guest wrote more than %u "
                "bytes to the serial console", VMM_CONSOLE_FLOOD);
        kill(q->pid, SIGKILL);
    }
    return 1;
}

static int build(struct qrun *q, struct vmm_err *e)
{
    struct vm *vm = q->vm;
    if (vm_build_guest(vm, true, e))
        return -1;
    /* The frequency KVM gives every guest on this host (a scratch vCPU's KVM_GET_TSC_KHZ);
     * QEMU's -cpu host keeps it, so the guest's cycles convert as under vmm-min. */
    unsigned long long khz = kvm_host_tsc_khz();
    if (!khz)
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_GET_TSC_KHZ failed: this host's KVM cannot "
                           "give the guest's TSC frequency, which every figure needs");
    vm->res->tsc_khz = khz;
    if (vm_fill_boot_info(vm, vm->image_end, khz))
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory is too small for the boot-info "
                           "page; give the VM more memory");
    struct vmmb_boot_info *bi = guest_mem_ptr(&vm->mem, X86_BOOT_INFO_GPA, sizeof *bi);
    q->mbox = &bi->mbox;
    vm->nvcpus = vm->plan->vcpus;
    return 0;
}

/* fork + exec, no shell. The child dies with this process (PDEATHSIG): a killed run never
 * leaves QEMU behind. Its threads start on the others mask; vCPU threads are pinned later. */
static int launch(struct qrun *q, struct vmm_err *e)
{
    struct vm *vm = q->vm;
    char bios[4096];
    if (vmm_share_path(QEMU_STUB_REL, bios, sizeof bios) || access(bios, R_OK))
        return vmm_err_set(e, VMM_EXIT_USAGE, "the QEMU reset stub %s is missing; build it "
                           "with make (share/vmmbench/%s)", bios, QEMU_STUB_REL);
    const char *tmp = getenv("TMPDIR");
    snprintf(q->dir, sizeof q->dir, "%s/vmmb-qemu-XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp(q->dir)) { /* mode 0700: the QMP socket is ours alone */
        q->dir[0] = 0;
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "mkdtemp for QEMU's QMP socket: %s",
                           strerror(errno));
    }
    snprintf(q->sock, sizeof q->sock, "%s/qmp", q->dir);
    struct qemu_launch l = { vmm_qemu_binary(), bios, vm->mem.fd, q->sock };
    struct qemu_argv a;
    if (qemu_cmdline_build(vm->plan, &l, &a, e))
        return -1;
    pid_t parent = getpid();
    int fds[6] = { -1, -1, -1, -1, -1, -1 };
    int *outp = fds, *errp = fds + 2, *execp = fds + 4;
    if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(execp, O_CLOEXEC) ||
        (q->pid = fork()) < 0) {
        int err = errno;
        for (int i = 0; i < 6; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        q->pid = -1;
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "starting QEMU (pipe, fork): %s",
                           strerror(err));
    }
    if (q->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        fcntl(vm->mem.fd, F_SETFD, 0); /* QEMU opens it as /proc/self/fd/N */
        if (vm->others_set)
            sched_setaffinity(0, sizeof vm->others, &vm->others);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(a.argv[0], a.argv);
        int err = errno;
        (void)!write(execp[1], &err, sizeof err);
        _exit(127);
    }
    close(outp[1]);
    close(errp[1]);
    close(execp[1]);
    q->out_fd = outp[0];
    q->err_fd = errp[0];
    fcntl(q->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(q->err_fd, F_SETFL, O_NONBLOCK);
    int err = 0;
    ssize_t n;
    while ((n = read(execp[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(execp[0]);
    if (n == (ssize_t)sizeof err)
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot run QEMU '%s': %s; install "
                           "qemu-system-x86 or set VMMB_QEMU to the binary", l.binary,
                           strerror(err));
    return 0;
}

/* The CPU a thread last ran on (field 39 of /proc/PID/task/TID/stat) and its time on a
 * CPU so far in ns (schedstat's first field); -1 when it is gone. */
static int last_cpu(pid_t pid, pid_t tid, unsigned long long *ran_ns)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int ok = fscanf(f, "%llu", ran_ns) == 1;
    fclose(f);
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!ok || fd < 0)
        return fd >= 0 ? (close(fd), -1) : -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *s = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    if (!s)
        return -1;
    for (int field = 2; field < 39 && s; field++)
        s = strchr(s + 1, ' ');
    if (!s)
        return -1;
    int cpu = atoi(s + 1);
    return cpu >= 0 && cpu < VMM_CPUSET_WORDS * 64 ? cpu : -1;
}

/* Where each vCPU thread ran: a CPU counts once the thread has run since it was pinned
 * (a thread paused before cont still shows its CPU from before the pin). Sampled at every
 * look: once QEMU exits its threads are gone from /proc. */
static void sample_cpus(struct qrun *q)
{
    for (unsigned i = 0; i < q->vm->nvcpus; i++) {
        unsigned long long ran = 0;
        int c = last_cpu(q->pid, q->tid[i], &ran);
        if (c >= 0 && ran > q->ran_at_pin[i])
            q->vm->vcpu[i].ran_on[c / 64] |= 1ull << (c % 64);
    }
}

static void set_of(const int *cpus, unsigned n, cpu_set_t *set)
{
    CPU_ZERO(set);
    for (unsigned i = 0; i < n; i++)
        CPU_SET(cpus[i], set);
}

/* vCPU threads onto their planned CPUs (unpinned: the others mask when vmm_pin is given),
 * every other QEMU thread onto vmm_pin's CPUs when given; what each vCPU thread got is
 * read back for the placement record. */
static int pin_threads(struct qrun *q, struct vmm_err *e)
{
    struct vm *vm = q->vm;
    const struct vmm_plan *p = vm->plan;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        int cpu = p->resolved.vcpu_cpu[i];
        cpu_set_t set;
        /* A thread id from QMP is QEMU's word: pin only a thread of QEMU's own process. */
        char task[64];
        snprintf(task, sizeof task, "/proc/%d/task/%d", (int)q->pid, (int)q->tid[i]);
        if (access(task, F_OK))
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "QMP named thread %d for vCPU %u, which "
                               "is not a thread of QEMU (pid %d)", (int)q->tid[i], i,
                               (int)q->pid);
        if (cpu >= 0)
            set_of(&cpu, 1, &set);
        if ((cpu >= 0 || vm->others_set) &&
            sched_setaffinity(q->tid[i], sizeof set, cpu >= 0 ? &set : &vm->others))
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "cannot pin QEMU's vCPU %u thread %d to "
                               "CPU %d: %s", i, (int)q->tid[i], cpu, strerror(errno));
        if (sched_getaffinity(q->tid[i], sizeof set, &set) == 0)
            for (int c = 0; c < VMM_CPUSET_WORDS * 64 && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &set))
                    vm->vcpu[i].affinity[c / 64] |= 1ull << (c % 64);
    }
    if (!p->placement.nvmm_pin)
        return 0;
    cpu_set_t vmm;
    set_of(p->placement.vmm_pin, p->placement.nvmm_pin, &vmm);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)q->pid);
    DIR *d = opendir(path);
    if (!d)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "cannot list QEMU's threads: %s",
                           strerror(errno));
    for (struct dirent *de; (de = readdir(d));) {
        pid_t t = (pid_t)atoi(de->d_name);
        bool is_vcpu = false;
        for (unsigned i = 0; i < vm->nvcpus; i++)
            is_vcpu |= q->tid[i] == t;
        if (t > 0 && !is_vcpu)
            sched_setaffinity(t, sizeof vmm, &vmm);
    }
    closedir(d);
    return 0;
}

/* QMP: capabilities, the vCPU threads, pinning, then cont. */
static int start(struct qrun *q, struct vmm_err *e)
{
    struct qmp m = { .fd = -1 };
    char why[300];
    const char *reply;
    size_t rlen;
    double dl = vm_now() + START_TIMEOUT_S;
    int rc = -1;
    if (qmp_connect(&m, q->sock, dl, q->pid, why, sizeof why) ||
        qmp_command(&m, "{\"execute\":\"qmp_capabilities\"}\n", dl, &reply, &rlen, why,
                    sizeof why) ||
        qmp_command(&m, "{\"execute\":\"query-cpus-fast\"}\n", dl, &reply, &rlen, why,
                    sizeof why))
        goto fail;
    if (qmp_scan_cpus(reply, rlen, q->tid, q->vm->nvcpus)) {
        snprintf(why, sizeof why, "QMP query-cpus-fast did not list %u vCPU threads: %.200s",
                 q->vm->nvcpus, reply);
        goto fail;
    }
    if (pin_threads(q, e))
        goto out;
    for (unsigned i = 0; i < q->vm->nvcpus; i++)
        last_cpu(q->pid, q->tid[i], &q->ran_at_pin[i]);
    /* A short guest can reach its DONE write, and QEMU exit, before cont's reply comes:
     * QMP closing then is the run ending, which supervise() sees. */
    if (qmp_command(&m, "{\"execute\":\"cont\"}\n", dl, &reply, &rlen, why, sizeof why) &&
        strcmp(why, QMP_CLOSED) != 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    /* Give QEMU a moment to say why on stderr, then quote it. */
    for (int k = 0; k < 50 && q->err_fd >= 0 && drain(q, &q->err_fd, false); k++) {
        struct pollfd pf = { q->err_fd, POLLIN, 0 };
        poll(&pf, 1, 20);
    }
    vmm_err_set(e, VMM_EXIT_INTERNAL, "QEMU did not start the guest: %s; QEMU said: %s", why,
                err_text(q));
out:
    qmp_close(&m);
    return rc;
}

/* The placement record reads vmm-min's own mapping (smaps, move_pages), where only the
 * pages vmm-min itself touched are mapped; the guest touched its pages through QEMU's.
 * So first map in every page the memfd holds (mincore sees its page cache through any
 * mapping): read-only touches of pages that exist, none allocated. */
static void map_resident(const struct guest_mem *gm)
{
    const uint64_t pg = 4096; /* mincore's unit, whatever backs the mapping */
    size_t n = (size_t)(gm->total / pg);
    unsigned char *vec = malloc(n ? n : 1);
    if (vec && mincore(gm->mapping, gm->total, vec) == 0)
        for (size_t i = 0; i < n; i++)
            if (vec[i] & 1)
                (void)*(volatile const uint8_t *)(gm->mapping + i * pg);
    free(vec);
}

static void stop_qemu(struct qrun *q)
{
    if (q->pid > 0)
        kill(q->pid, SIGKILL);
}

/* Looks at the mailbox every LOOK_INTERVAL_MS (woken earlier by console output or QEMU
 * ending, which closes its pipes), enforcing the run and probe timeouts as vm_supervise
 * does. This thread is on vmm_pin's CPUs or the others mask, never a vCPU's own. */
static void supervise(struct qrun *q, double deadline)
{
    struct vm *vm = q->vm;
    const struct vmm_plan *p = vm->plan;
    double cpu0 = vm_thread_cpu(), probe_deadline = 0;
    uint32_t phase = VMMB_PHASE_BOOT;
    while (q->out_fd >= 0 || q->err_fd >= 0) {
        struct pollfd pf[2] = { { q->out_fd, POLLIN, 0 }, { q->err_fd, POLLIN, 0 } };
        poll(pf, 2, LOOK_INTERVAL_MS);
        if (q->out_fd >= 0 && pf[0].revents)
            drain(q, &q->out_fd, true);
        if (q->err_fd >= 0 && pf[1].revents)
            drain(q, &q->err_fd, false);
        sample_cpus(q);
        double now = vm_now();
        uint32_t ph = q->mbox->phase;
        if (ph != phase) {
            phase = ph;
            probe_deadline = ph == VMMB_PHASE_PROBE ? now + p->probe_timeout_s : 0;
            if (ph == VMMB_PHASE_MEASURE) {
                double o0 = vm_thread_cpu();
                map_resident(&vm->mem);
                vm_observe_after_touch(vm);
                vm->observe_cpu_s += vm_thread_cpu() - o0;
            }
        }
        uint32_t fault = q->mbox->fault;
        if (fault & VMMB_MBOX_FAULTED) {
            vm_fail(vm, VMM_STATUS_GUEST_CRASH, "guest exception vector %u (from the boot "
                    "info's mailbox: QEMU gives no registers)", fault & 0xff);
            stop_qemu(q);
            break;
        }
        if (now >= deadline) {
            vm_fail(vm, VMM_STATUS_TIMEOUT, "run exceeded its %.1f s timeout in phase %u under "
                    "QEMU; stopped it", p->timeout_s, phase);
            stop_qemu(q);
            break;
        }
        if (probe_deadline > 0 && now >= probe_deadline) {
            vm_fail(vm, VMM_STATUS_UNSUPPORTED, "workload %s: its operation did not return "
                    "within the %.1f s probe on this host; stopped QEMU", p->workload->name,
                    p->probe_timeout_s);
            stop_qemu(q);
            break;
        }
    }
    vm->supervisor_cpu_s = vm_thread_cpu() - cpu0 - vm->observe_cpu_s;
}

/* Waits for QEMU, killing it if it outstays REAP_GRACE_S; returns its wait status. */
static int reap(struct qrun *q)
{
    int st = 0;
    double until = vm_now() + REAP_GRACE_S;
    for (;;) {
        pid_t r = waitpid(q->pid, &st, WNOHANG);
        if (r == q->pid || (r < 0 && errno != EINTR))
            break;
        if (vm_now() >= until) {
            stop_qemu(q);
            while (waitpid(q->pid, &st, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    q->pid = -1;
    return st;
}

/* After QEMU ended: the results through the checked path, or why there are none. */
static void conclude(struct qrun *q, int st)
{
    struct vm *vm = q->vm;
    const struct vmm_plan *p = vm->plan;
    if (q->err_fd >= 0)
        while (drain(q, &q->err_fd, false) && q->err_fd >= 0) {
            struct pollfd pf = { q->err_fd, POLLIN, 0 };
            if (poll(&pf, 1, 0) <= 0)
                break;
        }
    if (vm->res->status != VMM_STATUS_OK)
        return;
    uint64_t gpa = q->mbox->done_gpa;
    uint32_t fault = q->mbox->fault;
    if (gpa) {
        const char *names[VMMB_MAX_PARAMS + 1] = { 0 };
        for (unsigned i = 0; i < p->nparams && i < VMMB_MAX_PARAMS; i++)
            names[i] = p->params[i].name;
        results_collect_checked(&vm->mem, gpa, vm->res->tsc_khz, p->vcpus, names, vm->res);
    } else if (fault & VMMB_MBOX_FAULTED) {
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "guest exception vector %u (from the boot info's "
                "mailbox: QEMU gives no registers)", fault & 0xff);
    } else if (WIFEXITED(st) && (WEXITSTATUS(st) & 1) && WEXITSTATUS(st) != 1) {
        /* isa-debug-exit's status (value << 1) | 1: the guest wrote the DONE port without
         * a result address in the mailbox. */
        vm_fail(vm, VMM_STATUS_GUEST_ERROR, "the guest ended the run (DONE port) without "
                "leaving its result address in the boot info's mailbox");
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        vm_fail(vm, VMM_STATUS_GUEST_CRASH, "QEMU ended (the guest reset or shut down: a "
                "triple fault?) before the guest reported results; QEMU said: %s",
                err_text(q));
    } else {
        char how[48];
        if (WIFSIGNALED(st))
            snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(st));
        else
            snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
        vm_fail(vm, VMM_STATUS_HOST_ERROR, "QEMU %s before the guest reported results; QEMU "
                "said: %s", how, err_text(q));
    }
}

static void cleanup(struct qrun *q)
{
    if (q->pid > 0) {
        stop_qemu(q);
        while (waitpid(q->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (q->out_fd >= 0)
        close(q->out_fd);
    if (q->err_fd >= 0)
        close(q->err_fd);
    if (q->sock[0])
        unlink(q->sock);
    if (q->dir[0])
        rmdir(q->dir);
}

void qemu_run(const struct vmm_plan *plan, struct vmm_result *res)
{
    double t0 = vm_now();
    struct vm *vm = vm_create(plan, res);
    if (!vm)
        return;
    struct qrun q = { .vm = vm, .pid = -1, .out_fd = -1, .err_fd = -1 };
    cpu_set_t saved;
    bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
    if (have_saved)
        vm_plan_thread_masks(vm, &saved);
    bool pinned = false;
    struct vmm_err e = { 0 };
    if (plan->virtio.ndev > 0) {
        vmm_result_fail(res, VMM_STATUS_UNSUPPORTED, "workload %s needs a virtio device (%s), "
                        "which QEMU's microvm does not serve to this guest yet; run it with "
                        "hypervisor = vmm-min", plan->workload->name, plan->default_device);
        goto out;
    }
    if (build(&q, &e)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "%s", e.msg);
        goto out;
    }
    vm_observe_start(vm);
    if (launch(&q, &e) || start(&q, &e)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "%s", e.msg);
        goto out;
    }
    pinned = have_saved && vm_pin_supervisor(&plan->placement);
    supervise(&q, vm_now() + plan->timeout_s);
    conclude(&q, reap(&q));
    map_resident(&vm->mem);
    vm_observe_end(vm);
out:
    cleanup(&q);
    vm_destroy(vm);
    free(vm);
    if (pinned)
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    res->wall_seconds = vm_now() - t0;
}
