/* A hypervisor configuration: one INI file (harness/configs/NAME.ini), parsed with libinih.
 *
 *   [vm]
 *   name   = default      ; required, [A-Za-z0-9_.-]{1,63}
 *   vcpus  = 1            ; 1..64
 *   memory = 64M          ; vmm_parse_size() syntax
 *   hypervisor = vmm-min  ; vmm-min (default) | qemu-microvm | qemu-pc: which VMM runs
 *                         ; the guest (vmm/hypervisor.h); not with native = yes
 *
 * Unknown sections or keys, duplicate keys and bad values are errors that name the
 * file and line. More keys (placement) arrive with later work. */
#ifndef HARNESS_CONFIG_H
#define HARNESS_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/hypervisor.h"
#include "vmm/placement.h"

#define CONFIG_NAME_MAX 64
#define CONFIG_MAX_VCPUS 64

struct bench_config {
    char name[CONFIG_NAME_MAX];
    unsigned vcpus;
    uint64_t mem_bytes;
    char source[PATH_MAX];    /* the file it came from, "(built-in)" for the default */
    char *text;               /* the whole file as read (stored with the config); owned */
    struct vmm_placement placement; /* pin, vmm_pin, backing, prefault, guest_pages, numa,
                                       vnuma: see vmm/placement.h */
    /* Devices (vmm/virtio_plan.h): blk = null[:SIZE]|ram:SIZE|file:PATH, net = null|loop,
     * notify = exit|ioeventfd|poll|irq, poll_us = N, io_cpu = CPU. Backends are checked when
     * the run is planned. */
    char devices[2][272];       /* "blk:BACKEND", "net:BACKEND" */
    unsigned ndevices;
    char notify[16];
    unsigned poll_us;
    int io_cpu;                 /* -1: the I/O thread is not pinned */
    char counters[256];         /* counters = dtlb,walk,llc or libpfm4 events (vmm/pmu.h) */
    enum vmm_hypervisor hypervisor;
    char hypervisor_version[256]; /* set by config_resolve_hypervisor(); stored per config */
};

/* The virtio part of a run request for this config; points into c and devs. */
struct vmm_virtio_request;
void config_virtio_request(const struct bench_config *c, const char *devs[2],
                           struct vmm_virtio_request *rq);

/* The configuration used when no --config is given: name "default", 1 vCPU, 64 MiB. */
void config_default(struct bench_config *c);
/* Errors: VMM_EXIT_CONFIG with "FILE:LINE: problem; fix" (or "FILE: ..." when not
 * line-specific, e.g. unreadable or missing a required key). */
int config_load(const char *path, struct bench_config *c, struct vmm_err *e);
void config_free(struct bench_config *c);

/* Asks the config's hypervisor for its version (QEMU: `qemu-system-x86_64 --version`)
 * into c->hypervisor_version, before any run. Errors: VMM_EXIT_USAGE naming the config,
 * the binary and the fix (install qemu-system-x86 or set VMMB_QEMU). */
int config_resolve_hypervisor(struct bench_config *c, struct vmm_err *e);

#endif
