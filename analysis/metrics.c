/* Metric conventions; see metrics.h and analysis/README.md. */
#include "metrics.h"

#include <string.h>

static const struct metric_info known[] = {
    { "latency", false, false },
    { "latency_cycles", false, false },
    { "timing_floor", false, true },
    { "bandwidth", true, false },
    { "throughput", true, false },
    { "iops", true, false },
    { "bytes_per_s", true, false },
    { "requests", false, true },
    { "llc_bytes", false, true },
    { "tlb_reach_bytes", false, true },
};

/* The VMM's own CPU time per run (vmm_cpu_supervisor, _io_thread, _vcpu): the cost of
 * the measuring apparatus, like the timing floor; checked by tests against /proc, not
 * gated (one sample per run would leave a 3-run gate unable to judge it). */
static const struct metric_info vmm_cpu = { "vmm_cpu_*", false, true };

const struct metric_info *metric_info(const char *name)
{
    static const struct metric_info unknown = { "", false, false };
    if (strncmp(name, "vmm_cpu_", 8) == 0)
        return &vmm_cpu;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].name, name) == 0)
            return &known[i];
    return &unknown;
}
