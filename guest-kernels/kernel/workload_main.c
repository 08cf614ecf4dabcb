/* Runs the requested workload from the catalogue and reports its results. */
#include "guest/kernel.h"
#include "guest/lib.h"
#include "guest/tsc.h"
#include "guest/workload.h"
#include "guest/x86.h"

extern const struct vmmb_workload_desc __workloads_start[], __workloads_end[];

void workload_main(const struct vmmb_boot_info *bi)
{
    static struct wl_ctx ctx;
    ctx.bi = bi;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    tsc_init((cs & 3) == 0);
    ctx.res = (struct vmmb_result_header *)(uintptr_t)bi->free_gpa;
    ctx.rec = (struct vmmb_record *)(ctx.res + 1);
    uint64_t room = bi->free_size > sizeof *ctx.res ? bi->free_size - sizeof *ctx.res : 0;
    room /= sizeof(struct vmmb_record);
    ctx.capacity = room > VMMB_MAX_RECORDS ? VMMB_MAX_RECORDS : (uint32_t)room;
    ctx.res->magic = VMMB_RESULT_MAGIC;
    ctx.res->abi_version = VMMB_ABI_VERSION;
    ctx.res->record_size = sizeof(struct vmmb_record);
    ctx.res->nr_records = 0;

    for (const struct vmmb_workload_desc *d = __workloads_start; d < __workloads_end; d++)
        if (strcmp(d->name, bi->workload) == 0)
            ctx.desc = d;
    if (!ctx.desc)
        wl_error(&ctx, "workload not in this guest image");
    if ((ctx.desc->flags & VMMB_WL_VECTOR) && (cs & 3) == 0)
        wl_error(&ctx, "this workload uses SSE and runs in ring 3 only");
    ((wl_run_fn)(uintptr_t)ctx.desc->entry)(&ctx);
    ctx.res->status = VMMB_RESULT_OK;
    wl_report_done(&ctx);
    for (;;)
        cpu_pause();
}
