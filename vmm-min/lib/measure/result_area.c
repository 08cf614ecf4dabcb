/* Turns the guest's result area into samples. The area is hostile input: the header,
 * every count and every record is checked before it is believed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vstate/vm.h"
#include "vmm/guest_abi.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The timing floor: median cycles per iteration of the empty calibration loop. */
static double calibration_floor(const struct vmmb_record *rec, uint32_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    if (!v)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (rec[i].kind == VMMB_REC_CALIBRATION && !(rec[i].flags & VMMB_REC_WARMUP))
            v[k++] = (double)rec[i].cycles / (double)rec[i].iters;
    double floor = 0;
    if (k) {
        qsort(v, k, sizeof *v, cmp_double);
        floor = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    }
    free(v);
    return floor;
}

static int cmp_point(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct non-empty points of n checked records (each point terminated), by sorting
 * pointers to them: O(n log n) whatever the guest wrote. -1 when memory runs out. */
static long distinct_points(const struct vmmb_record *rec, uint32_t n)
{
    const char **p = malloc((n ? n : 1) * sizeof *p);
    uint32_t k = 0;
    long distinct = 0;
    if (!p)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (rec[i].point[0])
            p[k++] = rec[i].point;
    qsort(p, k, sizeof *p, cmp_point);
    for (uint32_t i = 0; i < k; i++)
        distinct += i == 0 || strcmp(p[i], p[i - 1]) != 0;
    free(p);
    return distinct;
}

/* The metric an info record is stored as; NULL for an id this VMM does not know. */
static const char *info_name(uint32_t id)
{
    return id == VMMB_INFO_LLC_BYTES         ? "llc_bytes"
           : id == VMMB_INFO_TLB_REACH_BYTES ? "tlb_reach_bytes"
           : id == VMMB_INFO_DATA_BYTES      ? "data_bytes"
                                             : NULL;
}

void results_collect(const struct guest_mem *gm, uint64_t gpa, uint64_t tsc_khz,
                     struct vmm_result *res)
{
    results_collect_checked(gm, gpa, tsc_khz, VMMB_MAX_VCPUS, NULL, res);
}

void results_collect_checked(const struct guest_mem *gm, uint64_t gpa, uint64_t tsc_khz,
                             unsigned nr_vcpus, const char *const *param_names,
                             struct vmm_result *res)
{
    const struct vmmb_result_header *h = guest_mem_ptr(gm, gpa, sizeof *h);
    if (!h) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result area at 0x%llx is outside guest "
                        "memory", (unsigned long long)gpa);
        return;
    }
    /* Copy the header once: the guest could change it while we read (another vCPU). */
    struct vmmb_result_header hdr;
    memcpy(&hdr, h, sizeof hdr);
    if (hdr.magic != VMMB_RESULT_MAGIC || hdr.abi_version != VMMB_ABI_VERSION ||
        hdr.record_size != sizeof(struct vmmb_record)) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result area at 0x%llx is corrupt (magic "
                        "0x%llx, ABI %u, record size %u)", (unsigned long long)gpa,
                        (unsigned long long)hdr.magic, hdr.abi_version, hdr.record_size);
        return;
    }
    if (!memchr(hdr.reason, '\0', sizeof hdr.reason)) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result area reason is not terminated");
        return;
    }
    if (hdr.status == VMMB_RESULT_UNSUPPORTED || hdr.status == VMMB_RESULT_ERROR) {
        vmm_result_fail(res, hdr.status == VMMB_RESULT_UNSUPPORTED ? VMM_STATUS_UNSUPPORTED
                                                                    : VMM_STATUS_GUEST_ERROR,
                        "guest: %s", hdr.reason[0] ? hdr.reason : "no reason given");
        return;
    }
    if (hdr.status != VMMB_RESULT_OK) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result area status %u is not valid",
                        hdr.status);
        return;
    }
    uint32_t n = hdr.nr_records;
    if (n > VMM_RESULT_MAX_RECORDS) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result area claims %u records, over the "
                        "limit of %u records per run; lower batches or the sweep's points", n,
                        VMM_RESULT_MAX_RECORDS);
        return;
    }
    const struct vmmb_record *rec = guest_mem_ptr(gm, gpa + sizeof hdr,
                                                  (uint64_t)n * sizeof *rec);
    if (!rec || n == 0) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result area claims %u records, which do "
                        "not fit in guest memory", n);
        return;
    }
    struct vmmb_record *copy = malloc((size_t)n * sizeof *copy);
    if (!copy) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory reading %u records", n);
        return;
    }
    memcpy(copy, rec, (size_t)n * sizeof *copy);
    for (uint32_t i = 0; i < n; i++) {
        const struct vmmb_record *r = &copy[i];
        if ((r->kind != VMMB_REC_CALIBRATION && r->kind != VMMB_REC_MEASURE &&
             r->kind != VMMB_REC_LATENCY && r->kind != VMMB_REC_BYTES &&
             r->kind != VMMB_REC_INFO && r->kind != VMMB_REC_OPS) ||
            (r->kind == VMMB_REC_INFO && !info_name(r->batch)) ||
            r->iters == 0 || (r->flags & ~VMMB_REC_WARMUP) || r->vcpu >= nr_vcpus ||
            ((r->kind == VMMB_REC_BYTES || r->kind == VMMB_REC_OPS) && r->cycles == 0)) {
            vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result record %u is corrupt (kind "
                            "%u, flags 0x%x, %llu iterations, %llu cycles, vCPU %u of %u)", i,
                            r->kind, r->flags, (unsigned long long)r->iters,
                            (unsigned long long)r->cycles, r->vcpu, nr_vcpus);
            free(copy);
            return;
        }
        if ((r->kind == VMMB_REC_BYTES || r->kind == VMMB_REC_OPS) && !tsc_khz) {
            /* The guest did nothing wrong: the host could not say its TSC frequency. */
            vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "result record %u counts %s, but "
                            "the TSC frequency is unknown (KVM_GET_TSC_KHZ gave none), so no "
                            "rate can be computed", i,
                            r->kind == VMMB_REC_BYTES ? "bytes" : "operations");
            free(copy);
            return;
        }
        const char *bad = memchr(r->point, '\0', sizeof r->point)
                              ? vmm_point_check(r->point, param_names)
                              : "not terminated";
        if (bad) {
            vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result record %u has a bad point "
                            "(%s)", i, bad);
            free(copy);
            return;
        }
    }
    long points = distinct_points(copy, n);
    if (points < 0 || points > VMM_RESULT_MAX_POINTS) {
        if (points < 0)
            vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory counting points");
        else
            vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "result records carry %ld distinct "
                            "points, over the limit of %u points per run; sweep fewer points",
                            points, VMM_RESULT_MAX_POINTS);
        free(copy);
        return;
    }
    /* A measurement makes two samples (cycles and ns), every other record one. */
    size_t adds = 0;
    for (uint32_t i = 0; i < n; i++)
        adds += copy[i].kind == VMMB_REC_MEASURE && tsc_khz ? 2 : 1;
    if (res->nsamples + adds > VMM_RESULT_MAX_SAMPLES) {
        vmm_result_fail(res, VMM_STATUS_GUEST_ERROR, "%u records (%zu samples) on top of %zu "
                        "samples would pass the limit of %u samples per run", n, adds,
                        res->nsamples, VMM_RESULT_MAX_SAMPLES);
        free(copy);
        return;
    }
    double floor = calibration_floor(copy, n);
    int oom = 0;
    for (uint32_t i = 0; i < n && !oom; i++) {
        const struct vmmb_record *r = &copy[i];
        bool warm = r->flags & VMMB_REC_WARMUP;
        double per_iter = (double)r->cycles / (double)r->iters;
        const char *pt = r->point;
        if (r->kind == VMMB_REC_CALIBRATION) {
            oom |= vmm_result_add_point(res, "timing_floor", "cycles", pt, r->batch, warm,
                                        per_iter);
            continue;
        }
        if (r->kind == VMMB_REC_INFO) {
            oom |= vmm_result_add_point(res, info_name(r->batch), "bytes", pt, 0, false,
                                        (double)r->iters);
            continue;
        }
        if (r->kind == VMMB_REC_BYTES) {
            /* iters bytes in cycles TSC ticks: MB/s (1e6 bytes, as STREAM reports). */
            double mbs = (double)r->iters * (double)tsc_khz / (double)r->cycles / 1e3;
            oom |= vmm_result_add_point(res, "bandwidth", "MB/s", pt, r->batch, warm, mbs);
            continue;
        }
        if (r->kind == VMMB_REC_OPS) {
            /* iters units of work in cycles TSC ticks: per second. */
            double ops = (double)r->iters * (double)tsc_khz * 1e3 / (double)r->cycles;
            oom |= vmm_result_add_point(res, "throughput", "ops/s", pt, r->batch, warm, ops);
            continue;
        }
        if (r->kind == VMMB_REC_LATENCY) {
            /* One operation timed on its own (an I/O request): no floor to subtract. */
            oom |= tsc_khz ? vmm_result_add(res, "req_latency", "ns", r->batch, warm,
                                            per_iter * 1e6 / (double)tsc_khz)
                           : vmm_result_add(res, "req_latency_cycles", "cycles", r->batch,
                                            warm, per_iter);
            continue;
        }
        double net = per_iter - floor;
        oom |= vmm_result_add_point(res, "latency_cycles", "cycles", pt, r->batch, warm, net);
        if (tsc_khz)
            oom |= vmm_result_add_point(res, "latency", "ns", pt, r->batch, warm,
                                        net * 1e6 / (double)tsc_khz);
    }
    free(copy);
    if (oom)
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory storing samples");
}
