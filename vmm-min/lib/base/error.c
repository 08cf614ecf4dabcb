#include "vmm/error.h"

#include <stdarg.h>
#include <stdio.h>

int vmm_err_set(struct vmm_err *e, int code, const char *fmt, ...)
{
    if (!e || e->code != 0)
        return -1;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}
