/* Opening /dev/kvm with errors that say what to do, and what KVM offers guests. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vstate/kvm_dev.h"
#include "vmm/vmm.h"

/* $VMMB_KVM_DEV names another device node (containers that bind-mount it elsewhere). */
static const char *kvm_path(void)
{
    const char *p = getenv("VMMB_KVM_DEV");
    return p && *p ? p : "/dev/kvm";
}

int kvm_open(struct vmm_err *e)
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
    int fd = kvm_open(e);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd)
{
    for (int n = 128; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof *c + (size_t)n * sizeof(struct kvm_cpuid_entry2));
        if (!c)
            return NULL;
        c->nent = (unsigned)n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        int err = errno;
        free(c);
        if (err != E2BIG)
            return NULL;
    }
    return NULL;
}

int kvm_guest_has_1g_pages(void)
{
    struct vmm_err e = { 0 };
    int fd = kvm_open(&e);
    if (fd < 0)
        return -1;
    struct kvm_cpuid2 *c = kvm_supported_cpuid(fd);
    close(fd);
    if (!c)
        return -1;
    int has = 0;
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == 0x80000001)
            has = c->entries[i].edx >> 26 & 1;
    free(c);
    return has;
}

unsigned long long kvm_host_tsc_khz(void)
{
    struct vmm_err e = { 0 };
    int fd = kvm_open(&e);
    if (fd < 0)
        return 0;
    int vm = ioctl(fd, KVM_CREATE_VM, 0);
    int khz = -1;
    if (vm >= 0) {
        int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        if (vcpu >= 0) {
            khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
            close(vcpu);
        }
        close(vm);
    }
    close(fd);
    return khz > 0 ? (unsigned long long)khz : 0;
}
