/* What one guest run produced, as the VMM validated it: the status, the reason when it
 * did not complete, every sample, and the console log. The harness stores it as is. */
#ifndef VMM_RESULT_H
#define VMM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_abi.h"
#include "vmm/placement.h"

enum vmm_status {
    VMM_STATUS_OK = 0,
    VMM_STATUS_UNSUPPORTED,   /* the workload cannot complete on this host (reason says why) */
    VMM_STATUS_TIMEOUT,       /* the guest overstayed its timeout */
    VMM_STATUS_GUEST_CRASH,   /* exception, triple fault or unexpected exit (reason has RIP) */
    VMM_STATUS_GUEST_ERROR,   /* the guest reported garbage: corrupt result area, bad pointer */
    VMM_STATUS_HOST_ERROR,    /* the VMM or the run's child process failed */
};

const char *vmm_status_name(enum vmm_status s);

#define VMM_METRIC_MAX 32
#define VMM_UNIT_MAX 16

#define VMM_POINT_MAX 48      /* VMMB_POINT_MAX */

/* What one run may hand the harness, whatever the guest reports (README, "Bounded guest
 * output"): beyond any of these the run ends guest-error with a reason naming the limit,
 * so storing the worst run a guest can produce stays within a few seconds and a bounded
 * number of bytes (17.4 MB; README). The real workloads stay far below: a default tlb
 * sweep reports ~250 records over ~20 points (its largest ~105k records), the widest
 * sweeps the parameter ranges allow have ~260 points (bw over 64 vCPUs), virtio writes
 * one record per request (~11k by default). */
#define VMM_RESULT_MAX_RECORDS VMMB_MAX_RECORDS  /* result records read from the guest */
#define VMM_RESULT_MAX_POINTS 1024u  /* distinct points (sweep coordinates) of one run */
/* Samples of one run: a record makes at most two (latency_cycles and latency); the rest
 * is the VMM's own (counters, device statistics). results_collect refuses records that
 * would pass it, and the harness refuses a run child's result that does. */
#define VMM_RESULT_MAX_SAMPLES (2u * VMM_RESULT_MAX_RECORDS + 65536u)

struct vmm_sample {
    char metric[VMM_METRIC_MAX];
    char unit[VMM_UNIT_MAX];
    char point[VMM_POINT_MAX]; /* "size=4096": parameters of this sample beyond the run's */
    uint32_t batch;
    bool warmup;              /* declared warm-up by the workload: stored, excluded from stats */
    double value;
};

struct vmm_result {
    enum vmm_status status;
    char reason[512];
    struct vmm_sample *samples;
    size_t nsamples, cap;
    char *console;            /* NUL-terminated, at most the console limit */
    size_t console_len;
    bool console_truncated;
    uint64_t tsc_khz;
    uint64_t exits;           /* KVM_RUN returns seen by the VMM, all vCPUs */
    double wall_seconds;      /* VM creation to the end of the run */
    struct vmm_placement_obs placement; /* requested vs observed vCPU and memory placement */
};

void vmm_result_init(struct vmm_result *r);
void vmm_result_free(struct vmm_result *r);
/* Returns -1 only when memory runs out. (The container itself is not bounded: what a guest
 * can put in it is, by results_collect and the limits above.) */
int vmm_result_add(struct vmm_result *r, const char *metric, const char *unit,
                   uint32_t batch, bool warmup, double value);
/* The same for one point of a sweeping run ("" or NULL: the run's own parameters). */
int vmm_result_add_point(struct vmm_result *r, const char *metric, const char *unit,
                         const char *point, uint32_t batch, bool warmup, double value);
/* Checks a point text: "key=value" pairs separated by single spaces, keys [a-z_]{1,15},
 * values [A-Za-z0-9_.-]{1,31}, at most VMMB_POINT_PAIRS pairs, no key twice and none of
 * the names in `taken` (NULL-terminated, may be NULL). "" is valid. Returns NULL or
 * what is wrong. */
const char *vmm_point_check(const char *point, const char *const *taken);
/* Run parameters text "a=1 c=3" plus a point "b=2" as one sorted canonical text. */
void vmm_params_merge(const char *params, const char *point, char *out, size_t cap);
void vmm_result_fail(struct vmm_result *r, enum vmm_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
