/* results_collect over guest memory laid out on a malloc'd buffer: a valid result area
 * becomes timing_floor / latency_cycles / latency samples with the calibration floor
 * subtracted; every kind of hostile area fails the run with the right status and adds no
 * samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vstate/vm.h"
#include "vmm/guest_abi.h"

#define RAM (1u << 20)
#define AREA 0x10000ull
#define KHZ 2000000ull

struct fixture {
    uint8_t *ram;
    struct guest_mem gm;
    struct vmm_result res;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || !(f->ram = calloc(1, RAM)))
        return -1;
    guest_mem_layout(&f->gm, f->ram, RAM);
    vmm_result_init(&f->res);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vmm_result_free(&f->res);
    free(f->ram);
    free(f);
    return 0;
}

static struct vmmb_result_header *hdr_at(struct fixture *f, uint64_t gpa)
{
    struct vmmb_result_header *h = (struct vmmb_result_header *)(f->ram + gpa);
    memset(h, 0, sizeof *h);
    h->magic = VMMB_RESULT_MAGIC;
    h->abi_version = VMMB_ABI_VERSION;
    h->status = VMMB_RESULT_OK;
    h->record_size = sizeof(struct vmmb_record);
    return h;
}

static struct vmmb_record *recs(struct vmmb_result_header *h)
{
    return (struct vmmb_record *)(h + 1);
}

static void put(struct vmmb_result_header *h, uint32_t kind, uint32_t batch, uint32_t flags,
                uint64_t iters, uint64_t cycles)
{
    recs(h)[h->nr_records++] = (struct vmmb_record){ .kind = kind, .flags = flags,
                                                     .batch = batch, .iters = iters,
                                                     .cycles = cycles };
}

/* A minimal valid area with one calibration and one measurement. */
static struct vmmb_result_header *valid_area(struct fixture *f, uint64_t gpa)
{
    struct vmmb_result_header *h = hdr_at(f, gpa);
    put(h, VMMB_REC_CALIBRATION, 0, 0, 10, 50);
    put(h, VMMB_REC_MEASURE, 0, 0, 10, 500);
    return h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const struct vmm_sample *find_sample(const struct vmm_result *r, const char *metric,
                                            uint32_t batch)
{
    for (size_t i = 0; i < r->nsamples; i++)
        if (strcmp(r->samples[i].metric, metric) == 0 && r->samples[i].batch == batch)
            return &r->samples[i];
    return NULL;
}

static size_t count_metric(const struct vmm_result *r, const char *metric)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nsamples; i++)
        n += strcmp(r->samples[i].metric, metric) == 0;
    return n;
}

/* The area must fail with status s, a reason containing word, and no samples. */
static void collect_fails(struct fixture *f, uint64_t gpa, enum vmm_status s, const char *word)
{
    vmm_result_free(&f->res);
    results_collect(&f->gm, gpa, KHZ, &f->res);
    if (f->res.status != s)
        fail_msg("status %s (%s), want %s", vmm_status_name(f->res.status), f->res.reason,
                 vmm_status_name(s));
    if (word && !strstr(f->res.reason, word))
        fail_msg("reason '%s' does not mention '%s'", f->res.reason, word);
    assert_int_equal(f->res.nsamples, 0);
}

static void test_valid_area(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    /* batch 0 is warm-up; its calibration is absurd and must not move the floor */
    struct { uint32_t batch, flags; uint64_t iters, cal, meas; } in[] = {
        { 0, VMMB_REC_WARMUP, 100, 100000, 900000 },
        { 1, 0, 100, 500, 40500 },
        { 2, 0, 100, 700, 41000 },
        { 3, 0, 100, 400, 39000 },
        { 4, 0, 50, 260, 20000 },
    };
    const size_t n = sizeof in / sizeof in[0];
    for (size_t i = 0; i < n; i++) {
        put(h, VMMB_REC_CALIBRATION, in[i].batch, in[i].flags, in[i].iters, in[i].cal);
        put(h, VMMB_REC_MEASURE, in[i].batch, in[i].flags, in[i].iters, in[i].meas);
    }
    /* the floor: median per-iteration cycles of the non-warm-up calibrations */
    double cal[8];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(in[i].flags & VMMB_REC_WARMUP))
            cal[k++] = (double)in[i].cal / (double)in[i].iters;
    qsort(cal, k, sizeof cal[0], cmp_double);
    double floor = k % 2 ? cal[k / 2] : (cal[k / 2 - 1] + cal[k / 2]) / 2;

    results_collect(&f->gm, AREA, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    assert_string_equal(f->res.reason, "");
    assert_int_equal(f->res.nsamples, 3 * n);
    assert_int_equal(count_metric(&f->res, "timing_floor"), n);
    assert_int_equal(count_metric(&f->res, "latency_cycles"), n);
    assert_int_equal(count_metric(&f->res, "latency"), n);
    for (size_t i = 0; i < n; i++) {
        bool warm = in[i].flags & VMMB_REC_WARMUP;
        double it = (double)in[i].iters;
        const struct vmm_sample *tf = find_sample(&f->res, "timing_floor", in[i].batch);
        const struct vmm_sample *lc = find_sample(&f->res, "latency_cycles", in[i].batch);
        const struct vmm_sample *ln = find_sample(&f->res, "latency", in[i].batch);
        assert_non_null(tf);
        assert_non_null(lc);
        assert_non_null(ln);
        assert_float_equal(tf->value, (double)in[i].cal / it, 1e-9);
        assert_float_equal(lc->value, (double)in[i].meas / it - floor, 1e-9);
        assert_float_equal(ln->value, ((double)in[i].meas / it - floor) * 1e6 / (double)KHZ,
                           1e-9);
        assert_int_equal(tf->warmup, warm);
        assert_int_equal(lc->warmup, warm);
        assert_int_equal(ln->warmup, warm);
        assert_string_equal(tf->unit, "cycles");
        assert_string_equal(lc->unit, "cycles");
        assert_string_equal(ln->unit, "ns");
    }
}

/* An even number of calibrations: the floor is the mean of the middle two. Without a TSC
 * frequency there is no latency in ns. */
static void test_even_floor_no_khz(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    put(h, VMMB_REC_CALIBRATION, 0, 0, 10, 40);
    put(h, VMMB_REC_CALIBRATION, 1, 0, 10, 60);
    put(h, VMMB_REC_MEASURE, 0, 0, 10, 1000);
    results_collect(&f->gm, AREA, 0, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    assert_int_equal(count_metric(&f->res, "latency"), 0);
    assert_int_equal(count_metric(&f->res, "timing_floor"), 2);
    const struct vmm_sample *lc = find_sample(&f->res, "latency_cycles", 0);
    assert_non_null(lc);
    assert_float_equal(lc->value, 100.0 - (4.0 + 6.0) / 2, 1e-9);
}

/* The area may sit anywhere in RAM, including flush against its end. */
static void test_area_at_end_of_ram(void **state)
{
    struct fixture *f = *state;
    uint64_t gpa = RAM - sizeof(struct vmmb_result_header) - 2 * sizeof(struct vmmb_record);
    valid_area(f, gpa);
    results_collect(&f->gm, gpa, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    assert_int_equal(f->res.nsamples, 3);
}

static void test_bad_pointer(void **state)
{
    struct fixture *f = *state;
    collect_fails(f, RAM, VMM_STATUS_GUEST_ERROR, "outside guest memory");
    collect_fails(f, 0xfffff000ull, VMM_STATUS_GUEST_ERROR, "outside guest memory");
    collect_fails(f, UINT64_MAX - 8, VMM_STATUS_GUEST_ERROR, "outside guest memory");
    /* the header straddles the end of RAM */
    collect_fails(f, RAM - sizeof(struct vmmb_result_header) / 2, VMM_STATUS_GUEST_ERROR,
                  "outside guest memory");
    collect_fails(f, RAM - sizeof(struct vmmb_result_header) + 1, VMM_STATUS_GUEST_ERROR,
                  "outside guest memory");
}

static void test_bad_header(void **state)
{
    struct fixture *f = *state;
    valid_area(f, AREA)->magic ^= 1;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "corrupt");
    valid_area(f, AREA)->abi_version = VMMB_ABI_VERSION + 1;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "corrupt");
    valid_area(f, AREA)->record_size = sizeof(struct vmmb_record) + 8;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record size");
    valid_area(f, AREA)->record_size = 0;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record size");
    /* status not one of the three */
    valid_area(f, AREA)->status = 0;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "status");
    valid_area(f, AREA)->status = 77;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "status");
    /* the reason fills its array with no NUL */
    memset(valid_area(f, AREA)->reason, 'x', sizeof ((struct vmmb_result_header *)0)->reason);
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "not terminated");
    struct vmmb_result_header *h = valid_area(f, AREA);
    memset(h->reason, 'x', sizeof h->reason);
    h->status = VMMB_RESULT_UNSUPPORTED; /* even when the guest gives up */
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "not terminated");
}

static void test_bad_counts(void **state)
{
    struct fixture *f = *state;
    valid_area(f, AREA)->nr_records = VMMB_MAX_RECORDS + 1;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "records");
    valid_area(f, AREA)->nr_records = 0xffffffffu;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "4294967295");
    /* a count under the maximum whose records run past the end of RAM */
    uint64_t room = (RAM - AREA - sizeof(struct vmmb_result_header)) / sizeof(struct vmmb_record);
    assert_true(room + 1 <= VMMB_MAX_RECORDS);
    valid_area(f, AREA)->nr_records = (uint32_t)room + 1;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "do not fit");
    /* ...and exactly fitting is fine as far as the count goes (the records are zero:
     * kind 0 is refused next, which proves the count check passed) */
    memset(f->ram + AREA, 0, RAM - AREA);
    valid_area(f, AREA)->nr_records = (uint32_t)room;
    recs((struct vmmb_result_header *)(f->ram + AREA))[0].kind = VMMB_REC_CALIBRATION;
    recs((struct vmmb_result_header *)(f->ram + AREA))[0].iters = 1;
    recs((struct vmmb_result_header *)(f->ram + AREA))[1].kind = VMMB_REC_MEASURE;
    recs((struct vmmb_result_header *)(f->ram + AREA))[1].iters = 1;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 2 is corrupt");
    memset(f->ram + AREA, 0, RAM - AREA);
    /* zero records */
    valid_area(f, AREA)->nr_records = 0;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "0 records");
}

static void test_guest_gave_up(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    h->status = VMMB_RESULT_UNSUPPORTED;
    strcpy(h->reason, "no frobnicator on this host");
    collect_fails(f, AREA, VMM_STATUS_UNSUPPORTED, "no frobnicator on this host");
    h = hdr_at(f, AREA);
    h->status = VMMB_RESULT_ERROR;
    strcpy(h->reason, "result area full: lower batches");
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "result area full: lower batches");
    /* records that come with an error are not believed */
    h = valid_area(f, AREA);
    h->status = VMMB_RESULT_ERROR;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "no reason given");
}

/* One request's own latency (VMMB_REC_LATENCY): a req_latency sample in ns, with no
 * timing floor subtracted, its batch and warm-up flag kept. */
static void test_latency_records(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = valid_area(f, AREA);
    uint32_t n = h->nr_records;
    recs(h)[n] = (struct vmmb_record){ .kind = VMMB_REC_LATENCY, .flags = VMMB_REC_WARMUP,
                                       .batch = 0, .iters = 1, .cycles = KHZ };
    recs(h)[n + 1] = (struct vmmb_record){ .kind = VMMB_REC_LATENCY, .batch = 1, .iters = 1,
                                           .cycles = 3 * KHZ };
    h->nr_records = n + 2;
    vmm_result_free(&f->res);
    results_collect(&f->gm, AREA, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    assert_int_equal(count_metric(&f->res, "req_latency"), 2);
    for (size_t i = 0; i < f->res.nsamples; i++) {
        const struct vmm_sample *s = &f->res.samples[i];
        if (strcmp(s->metric, "req_latency") != 0)
            continue;
        /* KHZ cycles are 1 ms = 1e6 ns */
        assert_true(s->warmup ? s->value == 1e6 && s->batch == 0
                              : s->value == 3e6 && s->batch == 1);
    }
}

/* Info records carry a fact the run measured against (LLC size, TLB reach) as a value;
 * an id this VMM does not know fails the area. */
static void test_info_records(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = valid_area(f, AREA);
    put(h, VMMB_REC_INFO, VMMB_INFO_LLC_BYTES, 0, 32u << 20, 0);
    put(h, VMMB_REC_INFO, VMMB_INFO_TLB_REACH_BYTES, 0, 1536u * 4096, 0);
    put(h, VMMB_REC_INFO, VMMB_INFO_DATA_BYTES, 0, 3u << 20, 0);
    vmm_result_free(&f->res);
    results_collect(&f->gm, AREA, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    const struct vmm_sample *llc = find_sample(&f->res, "llc_bytes", 0);
    const struct vmm_sample *reach = find_sample(&f->res, "tlb_reach_bytes", 0);
    assert_non_null(llc);
    assert_non_null(reach);
    assert_true(llc->value == (double)(32u << 20));
    assert_true(reach->value == 1536.0 * 4096);
    const struct vmm_sample *data = find_sample(&f->res, "data_bytes", 0);
    assert_non_null(data);
    assert_true(data->value == (double)(3u << 20));
    assert_string_equal(llc->unit, "bytes");
    h = valid_area(f, AREA);
    put(h, VMMB_REC_INFO, 7, 0, 1, 0);
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "corrupt");
}

/* Sweeping runs: records with points become samples tagged with them; bytes become MB/s;
 * a record naming a vCPU the VM lacks, or a point that is malformed or repeats a run
 * parameter, fails the whole area with no samples. */
static void test_points_and_bytes(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    put(h, VMMB_REC_MEASURE, 0, 0, 1000, 200000);
    snprintf(recs(h)[0].point, VMMB_POINT_MAX, "size=4096");
    put(h, VMMB_REC_BYTES, 0, 0, 24000000, 2000000); /* 24 MB in 1 ms at 2 GHz */
    snprintf(recs(h)[1].point, VMMB_POINT_MAX, "kernel=triad vcpus=2");
    recs(h)[1].vcpu = 1;
    vmm_result_free(&f->res);
    const char *names[] = { "iters", NULL };
    results_collect_checked(&f->gm, AREA, KHZ, 2, names, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    bool lat = false, bw = false;
    for (size_t i = 0; i < f->res.nsamples; i++) {
        const struct vmm_sample *x = &f->res.samples[i];
        if (strcmp(x->metric, "latency") == 0) {
            assert_string_equal(x->point, "size=4096");
            assert_float_equal(x->value, 100.0, 1e-9); /* 200 cycles at 2 GHz */
            lat = true;
        }
        if (strcmp(x->metric, "bandwidth") == 0) {
            assert_string_equal(x->point, "kernel=triad vcpus=2");
            assert_string_equal(x->unit, "MB/s");
            assert_float_equal(x->value, 24000.0, 1e-6);
            bw = true;
        }
    }
    assert_true(lat && bw);
    /* a vCPU the VM does not have */
    recs(h)[1].vcpu = 2;
    vmm_result_free(&f->res);
    results_collect_checked(&f->gm, AREA, KHZ, 2, names, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_GUEST_ERROR);
    assert_int_equal(f->res.nsamples, 0);
    recs(h)[1].vcpu = 1;
    /* a point repeating a run parameter, and one that is not terminated */
    snprintf(recs(h)[0].point, VMMB_POINT_MAX, "iters=5");
    vmm_result_free(&f->res);
    results_collect_checked(&f->gm, AREA, KHZ, 2, names, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_GUEST_ERROR);
    assert_non_null(strstr(f->res.reason, "bad point"));
    assert_int_equal(f->res.nsamples, 0);
    memset(recs(h)[0].point, 'a', VMMB_POINT_MAX);
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "not terminated");
    /* bandwidth over zero cycles */
    snprintf(recs(h)[0].point, VMMB_POINT_MAX, "size=1");
    recs(h)[1].cycles = 0;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 1 is corrupt");
}

static void test_bad_records(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = valid_area(f, AREA);
    recs(h)[1].kind = 0;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 1 is corrupt");
    h = valid_area(f, AREA);
    recs(h)[0].kind = VMMB_REC_BYTES + 1; /* the first kind that does not exist */
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 0 is corrupt");
    h = valid_area(f, AREA);
    recs(h)[1].iters = 0;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "0 iterations");
    h = valid_area(f, AREA);
    recs(h)[0].iters = 0; /* a calibration with 0 iterations would divide by zero */
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 0 is corrupt");
    h = valid_area(f, AREA);
    recs(h)[1].flags = VMMB_REC_WARMUP | 2;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "flags 0x3");
    h = valid_area(f, AREA);
    recs(h)[0].flags = 0x80000000u;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 0 is corrupt");
    /* a bad record late in a long run: still nothing stored */
    h = hdr_at(f, AREA);
    for (uint32_t b = 0; b < 100; b++) {
        put(h, VMMB_REC_CALIBRATION, b, 0, 10, 50);
        put(h, VMMB_REC_MEASURE, b, 0, 10, 500);
    }
    recs(h)[199].kind = 9;
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "record 199 is corrupt");
}

/* More records than VMMB_MAX_RECORDS are refused even when guest memory could hold them
 * (a big guest must not make the VMM copy gigabytes of records). */
static void test_over_max_in_big_memory(void **state)
{
    (void)state;
    const uint64_t big = (uint64_t)(VMMB_MAX_RECORDS + 16) * sizeof(struct vmmb_record) + AREA +
                         sizeof(struct vmmb_result_header);
    uint8_t *ram = calloc(1, big); /* untouched pages cost nothing */
    assert_non_null(ram);
    struct fixture f = { .ram = ram };
    guest_mem_layout(&f.gm, ram, big);
    vmm_result_init(&f.res);
    struct vmmb_result_header *h = valid_area(&f, AREA);
    h->nr_records = VMMB_MAX_RECORDS + 1;
    /* the count fits in memory: only the maximum refuses it */
    assert_non_null(guest_mem_ptr(&f.gm, AREA + sizeof *h,
                                  (uint64_t)h->nr_records * sizeof(struct vmmb_record)));
    char want[96];
    snprintf(want, sizeof want, "claims %u records, over the limit of %u records",
             VMM_RESULT_MAX_RECORDS + 1, VMM_RESULT_MAX_RECORDS);
    collect_fails(&f, AREA, VMM_STATUS_GUEST_ERROR, want);
    vmm_result_free(&f.res);
    free(ram);
}

/* Up to VMM_RESULT_MAX_POINTS distinct points are taken (the run's own "" and repeats do
 * not count); one more ends the run guest-error naming the limit, with nothing kept. */
static void test_point_limit(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    put(h, VMMB_REC_CALIBRATION, 0, 0, 10, 50); /* point "" */
    for (uint32_t i = 0; i < VMM_RESULT_MAX_POINTS; i++) {
        put(h, VMMB_REC_MEASURE, 0, 0, 10, 500);
        snprintf(recs(h)[h->nr_records - 1].point, VMMB_POINT_MAX, "size=%u", i);
        put(h, VMMB_REC_MEASURE, 1, 0, 10, 500); /* the same point again */
        snprintf(recs(h)[h->nr_records - 1].point, VMMB_POINT_MAX, "size=%u", i);
    }
    assert_true(AREA + sizeof *h + (h->nr_records + 1) * sizeof(struct vmmb_record) <= RAM);
    vmm_result_free(&f->res);
    results_collect(&f->gm, AREA, KHZ, &f->res);
    if (f->res.status != VMM_STATUS_OK)
        fail_msg("%u points refused: %s", VMM_RESULT_MAX_POINTS, f->res.reason);
    assert_int_equal(count_metric(&f->res, "latency"), 2 * VMM_RESULT_MAX_POINTS);
    put(h, VMMB_REC_MEASURE, 0, 0, 10, 500);
    snprintf(recs(h)[h->nr_records - 1].point, VMMB_POINT_MAX, "size=x");
    char want[96];
    snprintf(want, sizeof want, "%u distinct points, over the limit of %u points",
             VMM_RESULT_MAX_POINTS + 1, VMM_RESULT_MAX_POINTS);
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, want);
}

/* Records that would take a run past VMM_RESULT_MAX_SAMPLES are refused whole: the run
 * fails guest-error naming the limit and keeps the samples it had. */
static void test_sample_limit(void **state)
{
    struct fixture *f = *state;
    vmm_result_free(&f->res);
    for (uint32_t i = 0; i + 3 < VMM_RESULT_MAX_SAMPLES; i++)
        assert_int_equal(vmm_result_add(&f->res, "m", "ns", i, false, 1.0), 0);
    /* two records make three samples: exactly up to the limit, taken */
    valid_area(f, AREA);
    results_collect(&f->gm, AREA, KHZ, &f->res);
    if (f->res.status != VMM_STATUS_OK)
        fail_msg("records up to the limit refused: %s", f->res.reason);
    assert_int_equal(f->res.nsamples, VMM_RESULT_MAX_SAMPLES);
    /* one sample fewer of room: refused, nothing added */
    f->res.nsamples--;
    results_collect(&f->gm, AREA, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_GUEST_ERROR);
    char want[64];
    snprintf(want, sizeof want, "limit of %u samples", VMM_RESULT_MAX_SAMPLES);
    if (!strstr(f->res.reason, want))
        fail_msg("reason '%s' does not name '%s'", f->res.reason, want);
    assert_int_equal(f->res.nsamples, VMM_RESULT_MAX_SAMPLES - 1);
}

/* results_collect never overrides an earlier failure (the first one wins). */
static void test_first_failure_wins(void **state)
{
    struct fixture *f = *state;
    valid_area(f, AREA)->magic = 0;
    vmm_result_fail(&f->res, VMM_STATUS_TIMEOUT, "overstayed");
    results_collect(&f->gm, AREA, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_TIMEOUT);
    assert_string_equal(f->res.reason, "overstayed");
}

/* Bytes with no TSC frequency: no bandwidth can be computed, and that is the host's
 * failure, not a corrupt guest record; nothing is kept. */
static void test_bytes_without_tsc_frequency(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    put(h, VMMB_REC_BYTES, 0, 0, 24000000, 2000000);
    vmm_result_free(&f->res);
    results_collect(&f->gm, AREA, 0, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_HOST_ERROR);
    assert_non_null(strstr(f->res.reason, "TSC frequency is unknown"));
    assert_int_equal(f->res.nsamples, 0);
}

/* Operations (the macro workloads' throughput): iters units of work in cycles TSC ticks
 * are iters / (cycles / kHz / 1000) per second, stored as throughput in ops/s; a record
 * with no cycles is corrupt, and without a TSC frequency nothing can be computed. */
static void test_ops_records(void **state)
{
    struct fixture *f = *state;
    struct vmmb_result_header *h = hdr_at(f, AREA);
    put(h, VMMB_REC_OPS, 0, VMMB_REC_WARMUP, 1000, 500);
    put(h, VMMB_REC_OPS, 1, 0, 3000000, (uint64_t)KHZ * 1000); /* 3e6 in one second */
    vmm_result_free(&f->res);
    results_collect(&f->gm, AREA, KHZ, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_OK);
    assert_int_equal(count_metric(&f->res, "throughput"), 2);
    const struct vmm_sample *s = find_sample(&f->res, "throughput", 1);
    assert_non_null(s);
    assert_string_equal(s->unit, "ops/s");
    assert_true(fabs(s->value - 3e6) < 1e-6);
    assert_false(s->warmup);
    assert_true(find_sample(&f->res, "throughput", 0)->warmup);
    h = hdr_at(f, AREA);
    put(h, VMMB_REC_OPS, 0, 0, 1000, 0);
    collect_fails(f, AREA, VMM_STATUS_GUEST_ERROR, "corrupt");
    h = hdr_at(f, AREA);
    put(h, VMMB_REC_OPS, 0, 0, 1000, 500);
    vmm_result_free(&f->res);
    results_collect(&f->gm, AREA, 0, &f->res);
    assert_int_equal(f->res.status, VMM_STATUS_HOST_ERROR);
    assert_non_null(strstr(f->res.reason, "counts operations"));
    assert_int_equal(f->res.nsamples, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_valid_area),      T(test_even_floor_no_khz), T(test_area_at_end_of_ram),
        T(test_bad_pointer),     T(test_bad_header),        T(test_bad_counts),
        T(test_guest_gave_up),   T(test_bad_records),       T(test_bytes_without_tsc_frequency),
        T(test_first_failure_wins),
        T(test_over_max_in_big_memory), T(test_latency_records), T(test_points_and_bytes),
        T(test_info_records),    T(test_point_limit),       T(test_sample_limit),
        T(test_ops_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
