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
/* Where the workload's data lives (the `placement` parameter, every macro workload):
 * MACWL_ANY wherever there is room; MACWL_SPLIT spread over the vNUMA nodes (the first,
 * largest buffer straddles the boundary of guest nodes 0 and 1, half on each; later
 * buffers go whole to the node holding the fewest bytes so far); MACWL_NODE0 all on guest
 * node 0. */
enum { MACWL_ANY = 0, MACWL_SPLIT = 1, MACWL_NODE0 = 2 };
#define MACWL_PARAM_PLACEMENT                                                                  \
    WL_PARAM("placement", "data: 0 any node, 1 split over vNUMA nodes, 2 node 0", 0, 0, 2)
/* Reads `placement` and checks it against the layout (split needs two guest nodes). Call
 * before the first macwl_alloc. */
void macwl_placement(struct wl_ctx *ctx);
/* wl_alloc as `placement` asks, or the run ends `error` naming what did not fit and the
 * fix. */
void *macwl_alloc(struct wl_ctx *ctx, uint64_t bytes, const char *what);
/* Records the bytes macwl_alloc placed on each guest node (info data_bytes at point
 * node=<N>, nodes holding none left out): what the run's placement really was. */
void macwl_placement_report(struct wl_ctx *ctx);

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
