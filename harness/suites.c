#include "suites.h"

#include <string.h>

/* Sizes are chosen for the default config (64 MiB, one vCPU); the estimates were
 * measured on the project's 2-core PVM-nested development host. */
#define EXITS_QUICK                                                                       \
    { "null", 0, 0.1 }, { "cpuid", 0, 1.4 }, { "pio-user", 0, 0.4 }, { "mmio-user", 0, 0.4 }
#define MEMORY_QUICK                                                                      \
    { "tlb:max=8M,iters=20000,batches=5", 0, 0.4 }, { "bw:array=4M,ntimes=5", 0, 0.3 }
#define IO_QUICK { "virtio-blk:iters=500,batches=5,qd=8,size=4096", 0, 0.1 }

/* quick: a taste of every area, in a couple of minutes at most. */
static const struct suite_item quick[] = {
    EXITS_QUICK, MEMORY_QUICK, IO_QUICK,
    { "numa-matrix:size=8M", 2, 1.0 },
    { NULL, 0, 0 },
};

/* exits: every exit kind in every ring it can run in, so ring 0 vs ring 3 can be
 * compared side by side (they differ by an order of magnitude on PVM hosts and should
 * not on hardware-virtualized ones), with more batches. */
#define EXITS_FULL                                                                        \
    { "null:ring=3,batches=100", 0, 0.2 }, { "null:ring=0,batches=100,iters=100", 0, 0.6 }, \
    { "cpuid:ring=3,batches=100", 0, 5.7 }, { "cpuid:ring=0,batches=100", 0, 5.7 },        \
    { "pio-user:ring=3,batches=100", 0, 1.4 }, { "pio-user:ring=0,batches=100", 0, 0.9 },  \
    { "mmio-user:ring=3,batches=100", 0, 1.1 }, { "mmio-user:ring=0,batches=100", 0, 0.8 }, \
    { "hypercall:batches=100", 0, 1.0 }, { "rdmsr:batches=100", 0, 0.5 },                  \
    { "wrmsr:batches=100", 0, 0.5 }
/* memory: the TLB curve over what the VM's memory allows, STREAM, loaded latency. */
#define MEMORY_FULL                                                                       \
    { "tlb", 0, 30.0 }, { "bw:array=8M", 0, 1.0 }, { "contention:size=8M", 0, 2.0 }
/* io: virtio-blk and virtio-net on the transport alone (null / loop backends). */
#define IO_FULL                                                                           \
    { "virtio-blk:qd=1,size=4096", 0, 2.6 }, { "virtio-blk:qd=32,size=65536", 0, 0.3 },    \
    { "virtio-net:mode=0,size=1500", 0, 0.3 }, { "virtio-net:mode=2,size=64,qd=1", 0, 1.7 }
/* numa: the latency/bandwidth matrix and loaded latency (run with a vnuma config to see
 * more than one guest node: the plan refuses nothing on one node, a 1x1 matrix). */
#define NUMA_FULL { "numa-matrix:size=16M", 0, 1.8 }, { "contention:size=16M", 0, 2.3 }
/* interrupts: the in-kernel APIC paths (workloads/irq), ring 0 by necessity. ipi and
 * ipi-halt need a config with vcpus >= 2 (on one vCPU they end unsupported, saying so);
 * ipi:rx_ring=0 is PVM's emulated ring 0 receiving, kept to show what PVM does with it. */
#define INTERRUPTS_FULL                                                                   \
    { "ipi", 0, 3.2 }, { "ipi:rx_ring=0,events=50", 0, 2.0 }, { "ipi-halt", 0, 1.4 },      \
    { "self-ipi", 0, 0.9 }, { "eoi:batches=100", 0, 0.3 }, { "cr8:batches=100", 0, 0.3 },  \
    { "timer", 0, 0.8 }, { "timer:halt=0,events=20", 0, 1.0 }, { "irq-inject", 0, 0.5 }, \
    { "irq-inject:halt=0", 0, 0.5 }

static const struct suite_item exits[] = { EXITS_FULL, { NULL, 0, 0 } };
static const struct suite_item memory[] = { MEMORY_FULL, { NULL, 0, 0 } };
static const struct suite_item io[] = { IO_FULL, { NULL, 0, 0 } };
static const struct suite_item numa[] = { NUMA_FULL, { NULL, 0, 0 } };
static const struct suite_item interrupts[] = { INTERRUPTS_FULL, { NULL, 0, 0 } };
static const struct suite_item full[] = { EXITS_FULL, MEMORY_FULL, IO_FULL, NUMA_FULL,
                                          INTERRUPTS_FULL, { NULL, 0, 0 } };
/* native: what runs on any Linux host, with or without KVM (make run without /dev/kvm):
 * the memory workloads on host threads, placed as the vCPUs would be. */
static const struct suite_item native[] = {
    { "tlb:max=32M,iters=200000", 0, 5.0 }, { "bw:array=8M", 0, 1.5 },
    { "numa-matrix:size=16M", 0, 1.5 }, { "contention:size=16M", 0, 3.5 }, { NULL, 0, 0 },
};

/* macro: the application kernels at sizes the default config (64 MiB) holds, each
 * checking its own answer; with --native each runs natively too, interleaved (kvs-io's
 * twin on the same blk backend, a tmp file by default), and `show` prints the
 * guest/native overhead table. */
static const struct suite_item macro[] = {
    { "compute", 0, 0.6 }, { "sort:keys=1M", 0, 1.5 }, { "gups:size=8M", 0, 2.0 },
    { "kvs", 0, 1.5 },     { "graph:scale=15", 0, 1.5 }, { "kvs-io", 0, 1.0 },
    { NULL, 0, 0 },
};

static const struct suite suites[] = {
    { "quick", "a taste of every area: exits, TLB, bandwidth, virtio-blk, NUMA (2+ nodes)",
      quick },
    { "full", "everything below", full },
    { "exits", "every exit kind in ring 0 and ring 3, 100 batches", exits },
    { "memory", "TLB curve, STREAM bandwidth, loaded latency", memory },
    { "io", "virtio-blk and virtio-net, transport alone", io },
    { "numa", "latency/bandwidth matrix and loaded latency per node", numa },
    { "interrupts", "IPIs (spinning, halted), self-IPI, EOI, CR8, TSC-deadline timer "
      "(ipi needs vcpus >= 2)", interrupts },
    { "native", "memory workloads on the host (no KVM needed; use with a native config)",
      native },
    { "macro", "application kernels (DGEMM, sort, GUPS, key-value store, Graph500 BFS, "
      "the store with its log on virtio-blk); "
      "with --native: the guest/native overhead table", macro },
};

const struct suite *suite_find(const char *name)
{
    for (unsigned i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (strcmp(suites[i].name, name) == 0)
            return &suites[i];
    return NULL;
}

const struct suite *suite_all(unsigned *n)
{
    *n = sizeof suites / sizeof suites[0];
    return suites;
}

double suite_estimate(const struct suite *s, unsigned nodes)
{
    double t = 0;
    for (const struct suite_item *it = s->items; it->spec; it++)
        if (it->min_nodes <= nodes)
            t += it->est_s + 0.1; /* a child process and a database transaction per run */
    return t;
}
