/* Builds one VM from a plan, runs it under supervision (run timeout, probe timeout,
 * stopping the other vCPUs once vCPU 0 is done) and collects its results. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"
#include "vmm/elf_loader.h"
#include "vmm/vmm.h"
#include "x86_setup.h"

double vm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void vm_fail(struct vm *vm, enum vmm_status s, const char *fmt, ...)
{
    char msg[sizeof vm->res->reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&vm->lock);
    vmm_result_fail(vm->res, s, "%s", msg);
    pthread_mutex_unlock(&vm->lock);
}

/* $VMMB_KVM_DEV names another device node (containers that bind-mount it elsewhere). */
static const char *kvm_path(void)
{
    const char *p = getenv("VMMB_KVM_DEV");
    return p && *p ? p : "/dev/kvm";
}

static int open_kvm(struct vmm_err *e)
{
    const char *dev = kvm_path();
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "no %s: KVM is not available on this host; "
                               "load kvm_intel or kvm_amd, or run on a host with hardware "
                               "virtualization", dev);
        if (errno == EACCES || errno == EPERM)
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "no permission to open %s; add your user "
                               "to its group (sudo usermod -aG kvm $USER, then log in again) "
                               "or run as root", dev);
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "cannot open %s: %s", dev, strerror(errno));
    }
    int api = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        close(fd);
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "%s is not a KVM device (API version %d, "
                           "vmm-min needs %d); point VMMB_KVM_DEV at /dev/kvm", dev, api,
                           KVM_API_VERSION);
    }
    if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
        close(fd);
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM lacks KVM_CAP_IMMEDIATE_EXIT (Linux 4.11+); "
                           "upgrade the host kernel");
    }
    return fd;
}

int vmm_kvm_check(struct vmm_err *e)
{
    int fd = open_kvm(e);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Kicks vCPU threads out of KVM_RUN: immediate_exit covers a thread about to enter,
 * the signal one already inside. */
static void kick_all(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        if (!v->started || atomic_load(&v->finished))
            continue;
        v->run->immediate_exit = 1;
        pthread_kill(v->thread, SIGUSR1);
    }
}

static void on_kick(int sig)
{
    (void)sig;
}

static void install_kick_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_kick; /* no SA_RESTART: KVM_RUN must return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

static bool all_finished(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (vm->vcpu[i].started && !atomic_load(&vm->vcpu[i].finished))
            return false;
    return true;
}

static struct timespec abs_time(double mono_s)
{
    struct timespec t;
    t.tv_sec = (time_t)mono_s;
    t.tv_nsec = (long)((mono_s - (double)t.tv_sec) * 1e9);
    return t;
}

/* Waits for vCPU 0 to finish, enforcing both timeouts, then stops every vCPU. */
static void supervise(struct vm *vm, double deadline)
{
    pthread_mutex_lock(&vm->lock);
    for (;;) {
        if (all_finished(vm))
            break;
        double now = vm_now();
        int stop = atomic_load(&vm->stop);
        if (stop == VM_RUNNING) {
            if (atomic_load(&vm->vcpu[0].finished)) {
                stop = VM_STOP_DONE;
            } else if (now >= deadline) {
                stop = VM_STOP_TIMEOUT;
            } else {
                for (unsigned i = 0; i < vm->nvcpus; i++) {
                    double pd = atomic_load(&vm->vcpu[i].probe_deadline);
                    if (pd > 0 && now >= pd)
                        stop = VM_STOP_PROBE_TIMEOUT;
                }
            }
            atomic_store(&vm->stop, stop);
        }
        double wake;
        if (stop != VM_RUNNING) {
            pthread_mutex_unlock(&vm->lock);
            kick_all(vm);
            pthread_mutex_lock(&vm->lock);
            wake = now + 0.01; /* keep kicking until every thread has left KVM_RUN */
        } else {
            wake = deadline;
            for (unsigned i = 0; i < vm->nvcpus; i++) {
                double pd = atomic_load(&vm->vcpu[i].probe_deadline);
                if (pd > 0 && pd < wake)
                    wake = pd;
            }
        }
        struct timespec ts = abs_time(wake);
        pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
    }
    pthread_mutex_unlock(&vm->lock);
}

static const char *insn_name(const uint8_t *b)
{
    if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xc1)
        return "vmcall";
    if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xd9)
        return "vmmcall";
    return "instruction";
}

static void explain_stop(struct vm *vm)
{
    int stop = atomic_load(&vm->stop);
    if (stop != VM_STOP_TIMEOUT && stop != VM_STOP_PROBE_TIMEOUT)
        return;
    unsigned who = 0;
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (atomic_load(&vm->vcpu[i].probe_deadline) > 0)
            who = i;
    struct vcpu *v = &vm->vcpu[who];
    char where[128];
    if (v->stuck_bytes_ok)
        snprintf(where, sizeof where, "vCPU %u at RIP 0x%llx (%s, bytes %02x %02x %02x)", who,
                 (unsigned long long)v->stuck_rip, insn_name(v->stuck_bytes),
                 v->stuck_bytes[0], v->stuck_bytes[1], v->stuck_bytes[2]);
    else
        snprintf(where, sizeof where, "vCPU %u at RIP 0x%llx", who,
                 (unsigned long long)v->stuck_rip);
    if (stop == VM_STOP_PROBE_TIMEOUT)
        vm_fail(vm, VMM_STATUS_UNSUPPORTED, "workload %s: its operation did not return within "
                "the %.1f s probe on this host; stopped %s", vm->plan->workload->name,
                vm->plan->probe_timeout_s, where);
    else
        vm_fail(vm, VMM_STATUS_TIMEOUT, "run exceeded its %.1f s timeout in phase %d; stopped "
                "%s", vm->plan->timeout_s, atomic_load(&v->phase), where);
}

static void fill_boot_info(struct vm *vm, uint64_t image_end, uint64_t tsc_khz)
{
    const struct vmm_plan *p = vm->plan;
    struct vmmb_boot_info *bi = guest_mem_ptr(&vm->mem, X86_BOOT_INFO_GPA, sizeof *bi);
    memset(bi, 0, sizeof *bi);
    bi->magic = VMMB_BOOT_MAGIC;
    bi->abi_version = VMMB_ABI_VERSION;
    bi->size = sizeof *bi;
    bi->tsc_khz = tsc_khz;
    bi->nr_vcpus = p->vcpus;
    snprintf(bi->workload, sizeof bi->workload, "%s", p->workload->name);
    bi->nr_params = p->nparams;
    memcpy(bi->params, p->params, sizeof bi->params);
    for (unsigned i = 0; i < vm->mem.nslots; i++)
        bi->mem[i] = (struct vmmb_mem_range){ vm->mem.slot[i].gpa, vm->mem.slot[i].size,
                                              VMMB_MEM_RAM, 0 };
    bi->nr_mem = vm->mem.nslots;
    uint64_t free_gpa = (image_end + 0xfff) & ~0xfffull;
    bi->free_gpa = free_gpa;
    bi->free_size = vm->mem.slot[0].size > free_gpa ? vm->mem.slot[0].size - free_gpa : 0;
}

int vm_build(struct vm *vm, struct vmm_err *e)
{
    uint64_t *tsc_khz = &vm->res->tsc_khz;
    const struct vmm_plan *p = vm->plan;
    if ((vm->kvm_fd = open_kvm(e)) < 0)
        return -1;
    if ((vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0)
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_CREATE_VM failed: %s", strerror(errno));
    int rs = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (rs < (int)sizeof(struct kvm_run))
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_GET_VCPU_MMAP_SIZE failed");
    vm->run_size = (size_t)rs;
    if (guest_mem_create(&vm->mem, p->mem_bytes, e) || x86_build_tables(&vm->mem, e))
        return -1;
    for (unsigned i = 0; i < vm->mem.nslots; i++) {
        struct kvm_userspace_memory_region r = {
            .slot = i, .guest_phys_addr = vm->mem.slot[i].gpa,
            .memory_size = vm->mem.slot[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)vm->mem.slot[i].host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "KVM_SET_USER_MEMORY_REGION failed: %s",
                               strerror(errno));
    }
    uint64_t entry, end;
    if (elf_load(p->image->data, p->image->len, &vm->mem, &entry, &end, e))
        return -1;
    if (devices_register(vm))
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "device ranges overlap");
    for (unsigned i = 0; i < p->vcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        v->vm = vm;
        v->index = i;
        if ((v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i)) < 0)
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "KVM_CREATE_VCPU %u failed: %s", i,
                               strerror(errno));
        vm->nvcpus = i + 1;
        v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
            v->run = NULL;
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "mmap of vCPU %u failed", i);
        }
        if (x86_setup_vcpu(vm->kvm_fd, v->fd, i, entry) < 0)
            return vmm_err_set(e, VMM_EXIT_NO_KVM, "setting up vCPU %u failed: %s", i,
                               strerror(errno));
    }
    int khz = ioctl(vm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);
    *tsc_khz = khz > 0 ? (uint64_t)khz : 0;
    fill_boot_info(vm, end, *tsc_khz);
    return 0;
}

void vm_destroy(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        if (vm->vcpu[i].run)
            munmap(vm->vcpu[i].run, vm->run_size);
        if (vm->vcpu[i].fd >= 0)
            close(vm->vcpu[i].fd);
    }
    guest_mem_destroy(&vm->mem);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
}

struct vm *vm_create(const struct vmm_plan *plan, struct vmm_result *res)
{
    vmm_result_init(res);
    res->console = calloc(1, VMM_CONSOLE_KEEP + 1);
    static const struct vm zero;
    struct vm *vm = malloc(sizeof *vm);
    if (!res->console || !vm) {
        free(vm);
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory");
        return NULL;
    }
    *vm = zero;
    vm->plan = plan;
    vm->res = res;
    vm->kvm_fd = vm->vm_fd = -1;
    for (unsigned i = 0; i < VMMB_MAX_VCPUS; i++)
        vm->vcpu[i].fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    return vm;
}

void vmm_run(const struct vmm_plan *plan, struct vmm_result *res)
{
    double t0 = vm_now();
    struct vm *vm = vm_create(plan, res);
    if (!vm)
        return;
    install_kick_handler();

    struct vmm_err e = { 0 };
    if (vm_build(vm, &e)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "%s", e.msg);
        goto out;
    }
    double deadline = vm_now() + plan->timeout_s;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
            vm_fail(vm, VMM_STATUS_HOST_ERROR, "cannot start vCPU thread %u", i);
            atomic_store(&vm->stop, VM_STOP_DONE);
            break;
        }
        v->started = true;
    }
    supervise(vm, deadline);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        if (vm->vcpu[i].started)
            pthread_join(vm->vcpu[i].thread, NULL);
    explain_stop(vm);
    for (unsigned i = 0; i < vm->nvcpus; i++)
        res->exits += vm->vcpu[i].exits;
    if (res->status == VMM_STATUS_OK) {
        if (vm->done)
            results_collect(&vm->mem, vm->done_gpa, res->tsc_khz, res);
        else
            vmm_result_fail(res, VMM_STATUS_GUEST_CRASH, "vCPU 0 stopped without reporting "
                            "results");
    }
out:
    vm_destroy(vm);
    free(vm);
    res->wall_seconds = vm_now() - t0;
}
