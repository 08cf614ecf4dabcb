/* The HTML report's hypervisors section (issue 15): when a dataset holds runs under more
 * than one VMM, each QEMU config is paired with the vmm-min config it differs from only
 * in `hypervisor` (else one of the same vCPUs and memory, said so), and the pair is
 * compared by compare.c, QEMU as B over vmm-min as A: per workload, parameters and metric
 * both medians, the ratio QEMU/vmm-min with its 95% CI and the verdict, plus each
 * hypervisor's version string. */
#ifndef ANALYSIS_REPORT_HV_H
#define ANALYSIS_REPORT_HV_H

#include <stdbool.h>
#include <stdio.h>

#include "compare.h"
#include "dataset.h"

enum hv_match {
    HV_MATCH_ONLY_HYPERVISOR, /* every other key of the two config files is equal */
    HV_MATCH_SIZE,            /* same vCPUs and memory, other keys differ */
    HV_MATCH_NONE,            /* no vmm-min config to compare with */
};

struct hv_pair {
    size_t base, other;       /* indexes into ds->configs: vmm-min's, QEMU's */
    enum hv_match match;
    bool compared;            /* cmp holds the comparison */
    struct cmp_result cmp;    /* A = base, B = other */
    char why[512];            /* when not compared: what was missing */
};

struct hv_section {
    struct hv_pair *pairs;    /* one per non-vmm-min config that ran */
    size_t npairs;
};

/* Whether the dataset's runs span more than one hypervisor (the section is shown). */
bool report_hv_present(const struct dataset *ds);
/* Pairs and compares. -1 only when out of memory (a pair without common workloads is a
 * pair with a reason, not an error). */
int report_hv_build(const struct dataset *ds, struct hv_section *s, struct vmm_err *e);
void report_hv_free(struct hv_section *s);
/* Writes the section (id=hypervisors); esc writes text HTML-escaped. */
void report_hv_section(FILE *f, const struct dataset *ds, const struct hv_section *s,
                       void (*esc)(FILE *, const char *));

#endif
