/* Host PMU counters on the vCPU threads, encoded by libpfm4.
 *
 * `counters = dtlb,walk,llc` (aliases, each resolved to the first of its candidate events
 * this CPU's PMU knows) or explicit libpfm4 event strings ("perf::DTLB-LOAD-MISSES",
 * "DTLB_LOAD_MISSES:WALK_COMPLETED"), comma-separated. Explicit events libpfm4 cannot
 * encode are refused before anything runs; an alias with no event on this CPU is dropped
 * with the reason kept. Where perf_event_open fails (no PMU, as on PVM hosts), the run
 * goes on without counts and its console log says why. */
#ifndef VMM_PMU_H
#define VMM_PMU_H

#include <linux/perf_event.h>
#include <stdint.h>

#include "vmm/error.h"

#define VMM_MAX_COUNTERS 8

struct vmm_counter {
    char name[32];                 /* the alias or the event string as given */
    char event[96];                /* what libpfm4 encoded */
    struct perf_event_attr attr;
};

struct vmm_counters {
    unsigned n;
    struct vmm_counter c[VMM_MAX_COUNTERS];
    char dropped[192];             /* aliases with no event on this CPU, and why */
};

/* Errors: VMM_EXIT_USAGE naming the event and what libpfm4 said. */
int vmm_counters_parse(const char *list, struct vmm_counters *out, struct vmm_err *e);

/* Opens every counter on the calling thread. Returns how many opened; on a failure
 * closes them all, returns -1 and says why in `why`. */
int vmm_counters_open(const struct vmm_counters *cs, int fds[VMM_MAX_COUNTERS], char *why,
                      unsigned len);
/* Reads and closes; counts of counters that failed to read are left at UINT64_MAX. */
void vmm_counters_close(const struct vmm_counters *cs, int fds[VMM_MAX_COUNTERS],
                        uint64_t counts[VMM_MAX_COUNTERS]);

#endif
