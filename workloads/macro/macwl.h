/* The workload side shared by the macro workloads: how many vCPUs take part, their job
 * mask, the point every record carries, and the timed region all of them run. */
#ifndef WORKLOADS_MACWL_H
#define WORKLOADS_MACWL_H

#include <stdint.h>

#include "guest/workload.h"

/* The `threads` parameter (0: every vCPU), checked against the VM's vCPUs. */
unsigned macwl_threads(struct wl_ctx *ctx);
uint64_t macwl_mask(unsigned threads);
/* "vcpus=<threads>": the point of every sample (the scaling axis). */
void macwl_point(char *point, unsigned threads);
/* wl_alloc on any node, or the run ends `error` naming what did not fit and the fix. */
void *macwl_alloc(struct wl_ctx *ctx, uint64_t bytes, const char *what);

/* A timed region shared by `threads` participants: all meet, vCPU 0 reads the clock,
 * all work, all meet, vCPU 0 reads the clock again. */
struct macwl_clock {
    struct wl_barrier bar;
    unsigned threads;
    uint64_t t0, t1;
};
void macwl_clock_start(struct macwl_clock *c, unsigned v);
void macwl_clock_stop(struct macwl_clock *c, unsigned v);

#endif
