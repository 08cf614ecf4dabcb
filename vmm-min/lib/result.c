#include "vmm/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vmm_status_name(enum vmm_status s)
{
    switch (s) {
    case VMM_STATUS_OK: return "ok";
    case VMM_STATUS_UNSUPPORTED: return "unsupported";
    case VMM_STATUS_TIMEOUT: return "timeout";
    case VMM_STATUS_GUEST_CRASH: return "guest-crash";
    case VMM_STATUS_GUEST_ERROR: return "guest-error";
    case VMM_STATUS_HOST_ERROR: return "host-error";
    }
    return "unknown";
}

void vmm_result_init(struct vmm_result *r)
{
    memset(r, 0, sizeof *r);
}

void vmm_result_free(struct vmm_result *r)
{
    free(r->samples);
    free(r->console);
    vmm_result_init(r);
}

int vmm_result_add(struct vmm_result *r, const char *metric, const char *unit,
                   uint32_t batch, bool warmup, double value)
{
    if (r->nsamples == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        struct vmm_sample *s = realloc(r->samples, cap * sizeof *s);
        if (!s)
            return -1;
        r->samples = s;
        r->cap = cap;
    }
    struct vmm_sample *s = &r->samples[r->nsamples++];
    memset(s, 0, sizeof *s);
    snprintf(s->metric, sizeof s->metric, "%s", metric);
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    s->batch = batch;
    s->warmup = warmup;
    s->value = value;
    return 0;
}

/* The first failure wins: later ones are consequences of it. */
void vmm_result_fail(struct vmm_result *r, enum vmm_status s, const char *fmt, ...)
{
    if (r->status != VMM_STATUS_OK)
        return;
    r->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}
