/* What this host offers and what could bias a result on it. Collected once per
 * `vmmbench` invocation and stored with every run. */
#ifndef HARNESS_HOSTINFO_H
#define HARNESS_HOSTINFO_H

#include <stdbool.h>
#include <stdio.h>

#include "irq_facts.h"

struct host_info {
    char hostname[128];
    char cpu_vendor[32];      /* GenuineIntel, AuthenticAMD */
    char cpu_model[128];
    char microcode[32];
    char kernel[160];         /* uname -r and -v */
    unsigned cpus_online;
    bool kvm_present;         /* /dev/kvm opened read-write */
    int kvm_api;              /* KVM_GET_API_VERSION, -1 when absent */
    char kvm_flavour[8];      /* vmx, svm, pvm, none */
    char kvm_modules[128];    /* loaded kvm* modules, from /sys/module */
    char mmu_mode[64];        /* "ept", "npt", "shadow", with tdp_mmu when known */
    bool pmu_available;       /* host perf_event_open of a hardware counter works */
    char pmu_reason[128];     /* why not, or which PMU */
    char thp[32];             /* the selected transparent_hugepage mode */
    char hugepages[160];      /* "2048kB:0/0 1048576kB:0/0" as size:free/total */
    char governor[32];        /* cpufreq governor of cpu0 or "none" */
    char smt[16];             /* on, off, notsupported, unknown */
    unsigned numa_nodes;      /* NUMA nodes, from hwloc */
    char suite_rev[64];       /* git revision vmmbench was built from (VMMB_GIT_REV) */
    char topology[160];       /* hwloc summary: packages, nodes, cores, PUs, LLC */
    char numa_distances[256]; /* "10 21; 21 10" rows per node, from hwloc; "" if unknown */
    char *topology_xml;       /* hwloc XML export, owned; NULL if hwloc failed */
    /* "tcg" on a host that QEMU emulates in software (the lab): every figure from it is
     * functional only, not a measurement; "" on real or hardware-virtualized hosts. */
    char emulated[16];
    struct irq_facts irq;     /* halt_poll_ns, APICv/AVIC, APIC mode (irq_facts.h) */
};

/* Collects everything; release with hostinfo_free(). */
void hostinfo_collect(struct host_info *h);
void hostinfo_free(struct host_info *h);
/* `vmmbench host --topology`: nodes with their CPUs and the distance matrix. */
void hostinfo_print_topology(const struct host_info *h, FILE *out);
void hostinfo_print(const struct host_info *h, FILE *out);

#endif
