#include "vmm/pmu.h"

#include <errno.h>
#include <perfmon/pfmlib_perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Each alias's candidates, most specific first: model events for Intel (with the EPT
 * walk events where the PMU has them) and AMD, then libpfm4's generic perf:: events. */
static const struct {
    const char *alias;
    const char *candidates[6];
} aliases[] = {
    { "dtlb", { "DTLB_LOAD_MISSES:MISS_CAUSES_A_WALK", "LS_L1_D_TLB_MISS:ALL",
                "perf::DTLB-LOAD-MISSES", NULL } },
    { "walk", { "DTLB_LOAD_MISSES:WALK_ACTIVE", "DTLB_LOAD_MISSES:WALK_DURATION",
                "LS_TABLEWALKER:DSIDE", NULL } },
    { "ept", { "EPT:WALK_PENDING", "EPT:WALK_CYCLES", NULL } },
    { "llc", { "LONGEST_LAT_CACHE:MISS", "perf::LLC-LOAD-MISSES", NULL } },
    { "instructions", { "perf::INSTRUCTIONS", NULL } },
    { "cycles", { "perf::CYCLES", NULL } },
};

static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_status = -1;

static void pfm_init(void)
{
    pfm_status = pfm_initialize();
}

static int encode(const char *event, struct perf_event_attr *attr)
{
    memset(attr, 0, sizeof *attr);
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    arg.attr = attr;
    arg.size = sizeof arg;
    int rc = pfm_get_os_event_encoding(event, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    attr->size = sizeof *attr;
    return rc;
}

static void add_dropped(struct vmm_counters *out, const char *alias)
{
    size_t used = strlen(out->dropped);
    snprintf(out->dropped + used, sizeof out->dropped - used, "%s%s (no event for it on this "
             "CPU's PMU)", used ? "; " : "", alias);
}

int vmm_counters_parse(const char *list, struct vmm_counters *out, struct vmm_err *e)
{
    memset(out, 0, sizeof *out);
    pthread_once(&pfm_once, pfm_init);
    if (pfm_status != PFM_SUCCESS)
        return vmm_err_set(e, VMM_EXIT_USAGE, "libpfm4 failed to initialise: %s; counters "
                           "cannot be encoded on this host", pfm_strerror(pfm_status));
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        if (out->n == VMM_MAX_COUNTERS)
            return vmm_err_set(e, VMM_EXIT_USAGE, "more than %d counters asked; keep %d",
                               VMM_MAX_COUNTERS, VMM_MAX_COUNTERS);
        struct vmm_counter *c = &out->c[out->n];
        snprintf(c->name, sizeof c->name, "%s", tok);
        int alias = -1;
        for (unsigned i = 0; i < sizeof aliases / sizeof *aliases; i++)
            if (!strcmp(tok, aliases[i].alias))
                alias = (int)i;
        if (alias < 0) {
            int rc = encode(tok, &c->attr);
            if (rc != PFM_SUCCESS)
                return vmm_err_set(e, VMM_EXIT_USAGE, "counter event '%s': libpfm4 cannot "
                                   "encode it (%s); use an alias (dtlb, walk, ept, llc, "
                                   "instructions, cycles) or an event `showevtinfo` lists",
                                   tok, pfm_strerror(rc));
            snprintf(c->event, sizeof c->event, "%s", tok);
            out->n++;
            continue;
        }
        const char *const *cand = aliases[alias].candidates;
        for (; *cand; cand++)
            if (encode(*cand, &c->attr) == PFM_SUCCESS)
                break;
        if (!*cand) {
            add_dropped(out, tok);
            continue;
        }
        snprintf(c->event, sizeof c->event, "%s", *cand);
        out->n++;
    }
    return 0;
}

int vmm_counters_open(const struct vmm_counters *cs, int fds[VMM_MAX_COUNTERS], char *why,
                      unsigned len)
{
    for (unsigned i = 0; i < cs->n; i++) {
        struct perf_event_attr a = cs->c[i].attr;
        a.disabled = 0;
        a.inherit = 0;
        /* This thread, any CPU; host and guest execution both count. */
        fds[i] = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fds[i] < 0) {
            snprintf(why, len, "perf_event_open(%s): %s", cs->c[i].event, strerror(errno));
            for (unsigned k = 0; k < i; k++)
                close(fds[k]);
            return -1;
        }
    }
    return (int)cs->n;
}

void vmm_counters_close(const struct vmm_counters *cs, int fds[VMM_MAX_COUNTERS],
                        uint64_t counts[VMM_MAX_COUNTERS])
{
    for (unsigned i = 0; i < cs->n; i++) {
        uint64_t v;
        counts[i] = read(fds[i], &v, sizeof v) == (ssize_t)sizeof v ? v : UINT64_MAX;
        close(fds[i]);
    }
}
