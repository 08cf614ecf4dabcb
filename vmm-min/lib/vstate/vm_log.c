/* What a run says about itself: its failure (the first one wins) and its console log,
 * what the guest printed on the serial port and the VMM's own notes, kept in the result
 * (at most VMM_CONSOLE_KEEP bytes). This is their only writer, and every write takes the
 * VM lock, because vCPU threads, the I/O thread and the supervisor all report here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vstate/vm.h"

void vm_console_put(struct vm *vm, const char *s, size_t n)
{
    pthread_mutex_lock(&vm->lock);
    struct vmm_result *r = vm->res;
    if (r->console) {
        size_t room = VMM_CONSOLE_KEEP - r->console_len;
        if (n > room) {
            n = room;
            r->console_truncated = true;
        }
        memcpy(r->console + r->console_len, s, n);
        r->console_len += n;
        r->console[r->console_len] = '\0';
    }
    pthread_mutex_unlock(&vm->lock);
}

void vm_console_note(struct vm *vm, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = strlen(msg);
    char line[sizeof msg + 8];
    memcpy(line, "vmm: ", 5);
    memcpy(line + 5, msg, len);
    line[5 + len] = '\n';
    vm_console_put(vm, line, len + 6);
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
