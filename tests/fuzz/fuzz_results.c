/* Fuzz target: the result area, as results_collect_checked reads it from guest memory
 * after the guest wrote VMMB_PORT_DONE. Input = a 16-byte prologue then the bytes the
 * guest wrote:
 *   u8  nr_vcpus (1..64)      u8  options: bit 0 tsc_khz known, bit 1 the run has
 *   u16 reserved                  parameters (size, iters) a point must not name
 *   u32 gpa of the header (taken modulo RAM + 4 KiB, so some lie outside RAM)
 *   u64 reserved
 * the rest is written into guest RAM at gpa (cut at the end of RAM).
 * Properties: a run the VMM accepts yields samples that are all finite, named, with
 * valid points; every record it believed names a vCPU below nr_vcpus; a rejected run
 * says why and is a guest (or unsupported) failure, never a host one. */
#include <math.h>
#include <string.h>

#include "fuzz_util.h"
#include "vstate/vm.h"
#include "vmm/guest_abi.h"
#include "vmm/guest_mem.h"
#include "vmm/result.h"

#define RAM (256u << 10)

static uint8_t ram[RAM] __attribute__((aligned(4096)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    unsigned nr_vcpus = 1 + data[0] % VMMB_MAX_VCPUS;
    bool tsc = data[1] & 1, named = data[1] & 2;
    uint32_t gpa32;
    memcpy(&gpa32, data + 4, 4);
    uint64_t gpa = gpa32 % (RAM + 4096);
    memset(ram, 0, sizeof ram);
    size_t n = size - 16;
    if (gpa < RAM)
        memcpy(ram + gpa, data + 16, n < RAM - gpa ? n : RAM - gpa);

    struct guest_mem gm;
    guest_mem_layout(&gm, ram, RAM);
    static const char *const params[] = { "size", "iters", NULL };
    struct vmm_result res;
    vmm_result_init(&res);
    results_collect_checked(&gm, gpa, tsc ? 2500000 : 0, nr_vcpus, named ? params : NULL, &res);

    if (res.status == VMM_STATUS_OK) {
        /* The guest may put its area at any byte: copy before reading, as the VMM does. */
        const uint8_t *at = guest_mem_ptr(&gm, gpa, sizeof(struct vmmb_result_header));
        FUZZ_ASSERT(at);
        struct vmmb_result_header h;
        memcpy(&h, at, sizeof h);
        FUZZ_ASSERT(h.magic == VMMB_RESULT_MAGIC && h.status == VMMB_RESULT_OK);
        FUZZ_ASSERT(h.nr_records >= 1 && h.nr_records <= VMMB_MAX_RECORDS);
        for (uint32_t i = 0; i < h.nr_records; i++) {
            struct vmmb_record r;
            memcpy(&r, at + sizeof h + (size_t)i * sizeof r, sizeof r);
            FUZZ_ASSERT(r.vcpu < nr_vcpus && r.iters > 0);
        }
        /* At most two samples per record (latency in cycles and in ns). */
        FUZZ_ASSERT(res.nsamples >= 1 && res.nsamples <= 2 * (size_t)h.nr_records);
        for (size_t i = 0; i < res.nsamples; i++) {
            const struct vmm_sample *s = &res.samples[i];
            FUZZ_ASSERT(isfinite(s->value));
            FUZZ_ASSERT(memchr(s->metric, '\0', sizeof s->metric) && s->metric[0]);
            FUZZ_ASSERT(memchr(s->unit, '\0', sizeof s->unit) && s->unit[0]);
            FUZZ_ASSERT(memchr(s->point, '\0', sizeof s->point));
            FUZZ_ASSERT(vmm_point_check(s->point, named ? params : NULL) == NULL);
        }
    } else {
        /* The guest's fault, or (bytes counted with no TSC frequency) the host's. */
        FUZZ_ASSERT(res.status == VMM_STATUS_GUEST_ERROR || res.status == VMM_STATUS_UNSUPPORTED ||
                    (res.status == VMM_STATUS_HOST_ERROR && !tsc));
        FUZZ_ASSERT(res.reason[0] && memchr(res.reason, '\0', sizeof res.reason));
    }
    vmm_result_free(&res);
    return 0;
}
