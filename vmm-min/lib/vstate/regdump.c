#include <stdio.h>
#include <sys/ioctl.h>

#include "vstate/vm.h"

void vm_regdump(struct vcpu *v, char *buf, size_t len)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(v->fd, KVM_GET_REGS, &r) != 0 || ioctl(v->fd, KVM_GET_SREGS, &s) != 0) {
        snprintf(buf, len, "; registers unavailable");
        return;
    }
    snprintf(buf, len,
             "; registers: RIP=0x%llx RSP=0x%llx RFLAGS=0x%llx RAX=0x%llx RDX=0x%llx "
             "CS=0x%x CPL=%u CR0=0x%llx CR2=0x%llx CR3=0x%llx CR4=0x%llx EFER=0x%llx",
             (unsigned long long)r.rip, (unsigned long long)r.rsp,
             (unsigned long long)r.rflags, (unsigned long long)r.rax,
             (unsigned long long)r.rdx, s.cs.selector, s.cs.selector & 3u,
             (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
             (unsigned long long)s.cr4, (unsigned long long)s.efer);
}
