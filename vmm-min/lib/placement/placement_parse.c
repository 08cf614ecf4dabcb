/* Parsing of the placement keys (see vmm/placement.h). */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmm/placement.h"
#include "vmm/size.h"

static const char *const backing_names[] = {
    [VMM_BACKING_ANONYMOUS] = "anonymous",
    [VMM_BACKING_ANONYMOUS_THP] = "anonymous_thp",
    [VMM_BACKING_HUGETLB_2MB] = "anonymous_hugetlb_2mb",
    [VMM_BACKING_HUGETLB_1GB] = "anonymous_hugetlb_1gb",
    [VMM_BACKING_SHMEM] = "shmem",
};

const char *vmm_backing_name(enum vmm_backing b)
{
    return (unsigned)b < sizeof backing_names / sizeof *backing_names ? backing_names[b] : "?";
}

const char *vmm_guest_pages_name(enum vmm_guest_pages g)
{
    return g == VMM_GPAGES_4K ? "4k" : g == VMM_GPAGES_1G ? "1g" : "2m";
}

uint64_t vmm_backing_page_size(enum vmm_backing b)
{
    return b == VMM_BACKING_HUGETLB_2MB || b == VMM_BACKING_ANONYMOUS_THP ? 2ull << 20
           : b == VMM_BACKING_HUGETLB_1GB                                ? 1ull << 30
                                                                         : 4096;
}

int vmm_parse_backing(const char *s, enum vmm_backing *out, struct vmm_err *e)
{
    for (unsigned i = 0; i < sizeof backing_names / sizeof *backing_names; i++)
        if (strcmp(s, backing_names[i]) == 0) {
            *out = (enum vmm_backing)i;
            return 0;
        }
    return vmm_err_set(e, VMM_EXIT_USAGE, "backing '%s' is unknown; use anonymous, "
                       "anonymous_thp, anonymous_hugetlb_2mb, anonymous_hugetlb_1gb or shmem", s);
}

int vmm_parse_guest_pages(const char *s, enum vmm_guest_pages *out, struct vmm_err *e)
{
    if (!strcasecmp(s, "4k"))
        *out = VMM_GPAGES_4K;
    else if (!strcasecmp(s, "2m"))
        *out = VMM_GPAGES_2M;
    else if (!strcasecmp(s, "1g"))
        *out = VMM_GPAGES_1G;
    else
        return vmm_err_set(e, VMM_EXIT_USAGE, "guest_pages '%s' is unknown; use 4k, 2m or 1g", s);
    return 0;
}

int vmm_parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "on"))
        *out = true;
    else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0") ||
             !strcasecmp(s, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_int(const char **s, long max, long *v)
{
    if (!isdigit((unsigned char)**s))
        return -1;
    char *end;
    errno = 0;
    *v = strtol(*s, &end, 10);
    if (errno || *v > max)
        return -1;
    *s = end;
    return 0;
}

int vmm_parse_cpulist(const char *s, int *cpus, unsigned max, unsigned *n, struct vmm_err *e)
{
    const char *p = s;
    *n = 0;
    for (;;) {
        long a, b;
        if (parse_int(&p, 1 << 20, &a))
            goto bad;
        b = a;
        if (*p == '-') {
            p++;
            if (parse_int(&p, 1 << 20, &b) || b < a)
                goto bad;
        }
        for (long c = a; c <= b; c++) {
            if (*n == max)
                return vmm_err_set(e, VMM_EXIT_USAGE, "CPU list '%s' has more than %u entries",
                                   s, max);
            cpus[(*n)++] = (int)c;
        }
        if (*p == '\0')
            return 0;
        if (*p++ != ',')
            goto bad;
    }
bad:
    return vmm_err_set(e, VMM_EXIT_USAGE, "CPU list '%s' does not parse; write it like 2,3 or "
                       "4-7", s);
}

int vmm_parse_pin(const char *s, struct vmm_placement *p, struct vmm_err *e)
{
    if (!strcmp(s, "compact")) {
        p->pin_policy = VMM_PIN_COMPACT;
    } else if (!strcmp(s, "scatter")) {
        p->pin_policy = VMM_PIN_SCATTER;
    } else if (!strncmp(s, "node:", 5)) {
        const char *q = s + 5;
        long n;
        if (parse_int(&q, VMM_MAX_HOST_NODES - 1, &n) || *q)
            return vmm_err_set(e, VMM_EXIT_USAGE, "pin '%s': give node:N with a host node "
                               "number", s);
        p->pin_policy = VMM_PIN_NODE;
        p->pin_node = (int)n;
    } else if (!strcmp(s, "none")) {
        p->pin_policy = VMM_PIN_NONE;
    } else {
        if (vmm_parse_cpulist(s, p->pin, VMMB_MAX_VCPUS, &p->npin, e))
            return vmm_err_set(e, VMM_EXIT_USAGE, "pin '%s' is neither a CPU list (2,3,4-5) nor "
                               "compact, scatter or node:N", s);
        p->pin_policy = VMM_PIN_LIST;
    }
    return 0;
}

/* "bind:1", "interleave:0,1", "preferred:0" */
int vmm_parse_numa(const char *s, struct vmm_placement *p, struct vmm_err *e)
{
    const char *colon = strchr(s, ':');
    size_t k = colon ? (size_t)(colon - s) : strlen(s);
    enum vmm_numa_mode m;
    if (k == 4 && !strncmp(s, "bind", 4))
        m = VMM_NUMA_BIND;
    else if (k == 10 && !strncmp(s, "interleave", 10))
        m = VMM_NUMA_INTERLEAVE;
    else if (k == 9 && !strncmp(s, "preferred", 9))
        m = VMM_NUMA_PREFERRED;
    else
        return vmm_err_set(e, VMM_EXIT_USAGE, "numa '%s' is unknown; use bind:N, "
                           "interleave:N,M or preferred:N", s);
    int nodes[VMM_MAX_HOST_NODES];
    unsigned n = 0;
    struct vmm_err sub = { 0 };
    if (!colon || vmm_parse_cpulist(colon + 1, nodes, VMM_MAX_HOST_NODES, &n, &sub))
        return vmm_err_set(e, VMM_EXIT_USAGE, "numa '%s' needs host node numbers after the "
                           "colon, like bind:1 or interleave:0,1", s);
    if (m != VMM_NUMA_INTERLEAVE && n != 1)
        return vmm_err_set(e, VMM_EXIT_USAGE, "numa '%s' takes exactly one node", s);
    p->numa = m;
    p->numa_nodes = 0;
    for (unsigned i = 0; i < n; i++) {
        if (nodes[i] >= VMM_MAX_HOST_NODES)
            return vmm_err_set(e, VMM_EXIT_USAGE, "numa '%s': node %d is beyond %d", s, nodes[i],
                               VMM_MAX_HOST_NODES - 1);
        p->numa_nodes |= 1ull << nodes[i];
    }
    return 0;
}

/* "0:1G@host0,1:1G@host1": guest node, size, host node; guest nodes in order 0,1,2... */
int vmm_parse_vnuma(const char *s, struct vmm_placement *p, struct vmm_err *e)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    p->nvnodes = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':'), *at = strchr(tok, '@');
        const char *q = tok;
        long gnode, hnode;
        if (!colon || !at || at < colon || parse_int(&q, VMM_MAX_VNODES - 1, &gnode) ||
            q != colon)
            goto bad;
        *at = '\0';
        uint64_t size;
        if (vmm_parse_size(colon + 1, &size))
            goto bad;
        q = at + 1;
        if (strncmp(q, "host", 4) == 0)
            q += 4;
        if (parse_int(&q, VMM_MAX_HOST_NODES - 1, &hnode) || *q)
            goto bad;
        if ((unsigned)gnode != p->nvnodes)
            return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma '%s': guest node %ld is out of order "
                               "or repeated (overlapping); number guest nodes 0, 1, 2, ... once "
                               "each", s, gnode);
        if (p->nvnodes == VMM_MAX_VNODES)
            return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma '%s' has more than %d guest nodes", s,
                               VMM_MAX_VNODES);
        p->vnode[p->nvnodes++] = (struct vmm_vnode){ size, (int)hnode };
    }
    if (p->nvnodes)
        return 0;
bad:
    return vmm_err_set(e, VMM_EXIT_USAGE, "vnuma '%s' does not parse; write guest:size@host "
                       "entries like 0:1G@host0,1:1G@host1", s);
}

int vmm_placement_set(struct vmm_placement *p, const char *key, const char *val,
                      struct vmm_err *e)
{
    if (!strcmp(key, "backing"))
        return vmm_parse_backing(val, &p->backing, e);
    if (!strcmp(key, "guest_pages"))
        return vmm_parse_guest_pages(val, &p->guest_pages, e);
    if (!strcmp(key, "numa"))
        return vmm_parse_numa(val, p, e);
    if (!strcmp(key, "vnuma"))
        return vmm_parse_vnuma(val, p, e);
    if (!strcmp(key, "pin"))
        return vmm_parse_pin(val, p, e);
    if (!strcmp(key, "vmm_pin"))
        return vmm_parse_cpulist(val, p->vmm_pin, VMMB_MAX_VCPUS, &p->nvmm_pin, e);
    if (!strcmp(key, "vmm_pin_shared")) {
        if (vmm_parse_bool(val, &p->vmm_pin_shared))
            return vmm_err_set(e, VMM_EXIT_USAGE, "vmm_pin_shared '%s': use yes or no", val);
        return 0;
    }
    if (!strcmp(key, "prefault")) {
        if (vmm_parse_bool(val, &p->prefault))
            return vmm_err_set(e, VMM_EXIT_USAGE, "prefault '%s': use yes or no", val);
        return 0;
    }
    if (!strcmp(key, "native")) {
        if (vmm_parse_bool(val, &p->native))
            return vmm_err_set(e, VMM_EXIT_USAGE, "native '%s': use yes or no", val);
        return 0;
    }
    return 1;
}

static void append(char *buf, unsigned len, unsigned *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, unsigned len, unsigned *used, const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (unsigned)n;
}

static void append_list(char *buf, unsigned len, unsigned *used, const int *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        append(buf, len, used, "%s%d", i ? "," : "", v[i]);
}

void vmm_placement_describe(const struct vmm_placement *p, char *buf, unsigned len)
{
    unsigned used = 0;
    buf[0] = '\0';
    append(buf, len, &used, "backing=%s guest_pages=%s prefault=%s", vmm_backing_name(p->backing),
           vmm_guest_pages_name(p->guest_pages), p->prefault ? "yes" : "no");
    if (p->native)
        append(buf, len, &used, " native=yes");
    if (p->numa != VMM_NUMA_DEFAULT) {
        append(buf, len, &used, " numa=%s:", p->numa == VMM_NUMA_BIND ? "bind"
                                            : p->numa == VMM_NUMA_INTERLEAVE ? "interleave"
                                                                             : "preferred");
        const char *sep = "";
        for (int n = 0; n < VMM_MAX_HOST_NODES; n++)
            if (p->numa_nodes >> n & 1) {
                append(buf, len, &used, "%s%d", sep, n);
                sep = ",";
            }
    }
    if (p->nvnodes) {
        append(buf, len, &used, " vnuma=");
        for (unsigned i = 0; i < p->nvnodes; i++) {
            /* Exact: in MiB when whole (the usual case), else KiB or bytes, so the text
             * parses back to the same layout (1536K was shown as 1M). */
            uint64_t sz = p->vnode[i].size;
            unsigned shift = sz % (1ull << 20) == 0 ? 20 : sz % 1024 == 0 ? 10 : 0;
            append(buf, len, &used, "%s%u:%llu%s@host%d", i ? "," : "", i,
                   (unsigned long long)(sz >> shift), shift == 20 ? "M" : shift ? "K" : "",
                   p->vnode[i].host_node);
        }
    }
    if (p->pin_policy == VMM_PIN_LIST) {
        append(buf, len, &used, " pin=");
        append_list(buf, len, &used, p->pin, p->npin);
    } else if (p->pin_policy == VMM_PIN_NODE) {
        append(buf, len, &used, " pin=node:%d", p->pin_node);
    } else if (p->pin_policy != VMM_PIN_NONE) {
        append(buf, len, &used, " pin=%s", p->pin_policy == VMM_PIN_COMPACT ? "compact" : "scatter");
    }
    if (p->nvmm_pin) {
        append(buf, len, &used, " vmm_pin=");
        append_list(buf, len, &used, p->vmm_pin, p->nvmm_pin);
        if (p->vmm_pin_shared)
            append(buf, len, &used, " vmm_pin_shared=yes");
    }
}
