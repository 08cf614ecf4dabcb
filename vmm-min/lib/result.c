#include "vmm/result.h"

#include "vmm/guest_abi.h"

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
    return vmm_result_add_point(r, metric, unit, NULL, batch, warmup, value);
}

int vmm_result_add_point(struct vmm_result *r, const char *metric, const char *unit,
                         const char *point, uint32_t batch, bool warmup, double value)
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
    snprintf(s->point, sizeof s->point, "%s", point ? point : "");
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

static bool key_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
static bool value_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

const char *vmm_point_check(const char *point, const char *const *taken)
{
    char keys[VMMB_POINT_PAIRS][16];
    unsigned n = 0;
    const char *p = point;
    if (!*p)
        return NULL;
    for (;;) {
        size_t k = 0, v = 0;
        while (key_char(p[k]))
            k++;
        if (k == 0 || k > 15 || p[k] != '=')
            return "a key is missing, too long or not [a-z_]";
        while (value_char(p[k + 1 + v]))
            v++;
        if (v == 0 || v > 31)
            return "a value is missing, too long or not [A-Za-z0-9_.-]";
        if (n == VMMB_POINT_PAIRS)
            return "more than " "4" " key=value pairs";
        memcpy(keys[n], p, k);
        keys[n][k] = '\0';
        for (unsigned i = 0; i < n; i++)
            if (strcmp(keys[i], keys[n]) == 0)
                return "a key appears twice";
        for (const char *const *t = taken; t && *t; t++)
            if (strcmp(*t, keys[n]) == 0)
                return "a key repeats one of the run's parameters";
        n++;
        p += k + 1 + v;
        if (*p == '\0')
            return NULL;
        if (*p != ' ' || p[1] == '\0')
            return "pairs must be separated by single spaces";
        p++;
    }
}

struct kv {
    const char *s;
    size_t len, klen;
};

static int cmp_kv(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = strncmp(x->s, y->s, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static size_t split_kv(const char *text, struct kv *out, size_t n, size_t max)
{
    for (const char *p = text; p && *p && n < max;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        out[n++] = (struct kv){ p, len, eq ? (size_t)(eq - p) : len };
        p += len;
    }
    return n;
}

void vmm_params_merge(const char *params, const char *point, char *out, size_t cap)
{
    struct kv kv[VMMB_MAX_PARAMS + VMMB_POINT_PAIRS + 8];
    size_t max = sizeof kv / sizeof kv[0];
    size_t n = split_kv(params, kv, 0, max);
    n = split_kv(point, kv, n, max);
    qsort(kv, n, sizeof kv[0], cmp_kv);
    size_t used = 0;
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%.*s", i ? " " : "",
                                 (int)kv[i].len, kv[i].s);
}
