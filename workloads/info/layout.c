/* layout: prints what the guest was told about itself (vCPUs, guest NUMA nodes with
 * their memory ranges and vCPUs, page size of the VMM's tables) on the console, so a
 * test or a user can check the boot-info page from the inside. Reports one record. */
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"

static void put_hex(uint64_t v)
{
    char buf[19] = "0x";
    for (int i = 0; i < 16; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
    buf[18] = '\0';
    console_puts(buf);
}

static void run(struct wl_ctx *ctx)
{
    const struct vmmb_boot_info *bi = ctx->bi;
    uint64_t t0 = tsc_begin();
    console_puts("layout: vcpus ");
    console_put_u64(bi->nr_vcpus);
    console_puts(" vnodes ");
    console_put_u64(bi->nr_vnodes);
    console_puts(" guest_page ");
    console_put_u64(bi->guest_page_size);
    console_puts("\n");
    for (uint32_t n = 0; n < bi->nr_vnodes && n < VMMB_MAX_VCPUS; n++) {
        console_puts("layout: vnode ");
        console_put_u64(n);
        console_puts(" mem");
        for (uint32_t i = 0; i < bi->nr_mem && i < VMMB_MAX_MEM_RANGES; i++) {
            if (bi->mem[i].node != n)
                continue;
            console_puts(" ");
            put_hex(bi->mem[i].gpa);
            console_puts("+");
            put_hex(bi->mem[i].size);
        }
        console_puts(" vcpus");
        for (uint32_t v = 0; v < bi->nr_vcpus && v < VMMB_MAX_VCPUS; v++)
            if (bi->vcpu_node[v] == n) {
                console_puts(" ");
                console_put_u64(v);
            }
        console_puts("\n");
    }
    wl_record(ctx, VMMB_REC_CALIBRATION, 0, 0, 1, 0);
    wl_record(ctx, VMMB_REC_MEASURE, 0, 0, 1, tsc_end() - t0);
}

WORKLOAD(layout, "layout", "prints the boot-info layout (vNUMA nodes, ranges, vCPUs)", "ns",
         VMMB_RING3, run, WL_PARAM("ring", "privilege level to run in (3)", 3, 3, 3));
