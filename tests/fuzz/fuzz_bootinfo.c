/* Fuzz target: the boot-info page, round-tripped. The VMM side is real: a run request
 * (workload of the real guest image, its parameters, vCPUs, memory, guest page size, a
 * vNUMA layout) is planned by vmm_plan_make on a two-node synthetic topology, the page
 * tables are built by x86_build_tables in guest memory, and vm_fill_boot_info writes the
 * page as vm_build does. The guest side is real too: its boot-info readers (wl_param,
 * and wl_alloc / wl_mem_avail, which carve workload buffers from the boot info's RAM
 * ranges) are freestanding code built here for the host (-DVMMB_NATIVE).
 *
 * Input: u8 workload index, u8 vCPUs, u8 memory (16 + n % 49 MiB), u8 guest pages,
 * u8 vNUMA nodes (0: none), 4 x {u8 size in 2 MiB units, u8 host node}, u64 tsc_khz,
 * u8 allocations, then per allocation {u8 node, u24 KiB, u8 log2 align}, then
 * parameters "k=v,k=v".
 * Properties: the guest accepts what the VMM wrote (magic, ABI, size, the workload is in
 * the catalogue, every parameter reads back as planned); the RAM ranges cover guest
 * memory exactly once, each on a guest node that exists, every vCPU on one too; and
 * every buffer the guest carves lies inside one RAM range of the node it asked for,
 * above the image and the result area, clear of the page tables, and apart from every
 * other buffer. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz_util.h"
#include "guest/workload.h"
#include "vstate/vm.h"
#include "vmm/image.h"
#include "vmm/plan.h"
#include "vmm/topology.h"
#include "vstate/x86_setup.h"

void *wl_alloc(struct wl_ctx *ctx, int node, uint64_t bytes, uint64_t align);
uint64_t wl_mem_avail(struct wl_ctx *ctx, int node);

#define RAM_MAX (64ull << 20)

static struct vmm_image *image;
static struct vmm_topology *topo;
static uint8_t *ram;

static void init(void)
{
    char img_path[4096];
    struct vmm_err e = { 0 };
    FUZZ_ASSERT(vmm_share_path(VMM_DEFAULT_GUEST, img_path, sizeof img_path) == 0);
    if (vmm_image_open(img_path, &image, &e)) {
        fprintf(stderr, "fuzz_bootinfo: %s (set VMMB_SHARE_DIR to build/share/vmmbench)\n", e.msg);
        abort();
    }
    FUZZ_ASSERT(vmm_topology_load("pack:2 numa:1 core:2 pu:2", &topo, &e) == 0);
    ram = mmap(NULL, RAM_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
               -1, 0);
    FUZZ_ASSERT(ram != MAP_FAILED);
}

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

static void check_ranges(const struct vmmb_boot_info *bi, const struct vmm_plan *p,
                         const struct guest_mem *gm)
{
    FUZZ_ASSERT(bi->nr_mem >= 1 && bi->nr_mem <= VMMB_MAX_MEM_RANGES);
    FUZZ_ASSERT(bi->nr_vnodes >= 1 && bi->nr_vnodes <= VMM_MAX_VNODES);
    uint64_t total = 0;
    for (uint32_t i = 0; i < bi->nr_mem; i++) {
        const struct vmmb_mem_range *m = &bi->mem[i];
        FUZZ_ASSERT(m->type == VMMB_MEM_RAM && m->size > 0 && m->node < bi->nr_vnodes);
        FUZZ_ASSERT(guest_mem_ptr(gm, m->gpa, m->size) != NULL);
        for (uint32_t j = 0; j < i; j++) /* no byte in two ranges */
            FUZZ_ASSERT(m->gpa >= bi->mem[j].gpa + bi->mem[j].size ||
                        bi->mem[j].gpa >= m->gpa + m->size);
        total += m->size;
    }
    FUZZ_ASSERT(total == p->mem_bytes);
    for (uint32_t v = 0; v < bi->nr_vcpus; v++)
        FUZZ_ASSERT(bi->vcpu_node[v] < bi->nr_vnodes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!image)
        init();
    struct input in = { data, size };
    const struct vmmb_workload_desc *d = &image->workloads[take(&in, 1) % image->nworkloads];
    struct vmm_request rq = { .image = image, .workload = d->name, .topology = topo };
    rq.vcpus = 1 + (unsigned)take(&in, 1) % 16;
    rq.mem_bytes = (16 + take(&in, 1) % 49) << 20;
    rq.placement.guest_pages = (enum vmm_guest_pages)(take(&in, 1) % 3);
    unsigned nv = (unsigned)take(&in, 1) % 5;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t sz = take(&in, 1) << 21;
        int host = (int)take(&in, 1) % 3;
        if (i < nv)
            rq.placement.vnode[i] = (struct vmm_vnode){ sz, host };
    }
    rq.placement.nvnodes = nv;
    uint64_t tsc_khz = take(&in, 8);
    unsigned nalloc = (unsigned)take(&in, 1) % 32;
    struct input allocs = { in.p, in.n < nalloc * 5u ? in.n : nalloc * 5u };
    in.p += allocs.n;
    in.n -= allocs.n;
    char text[256], *params[VMMB_MAX_PARAMS];
    size_t k = in.n < sizeof text - 1 ? in.n : sizeof text - 1;
    memcpy(text, in.p, k);
    text[k] = '\0';
    unsigned np = 0;
    char *save = NULL;
    for (char *t = strtok_r(text, ",", &save); t && np < VMMB_MAX_PARAMS; t = strtok_r(NULL, ",", &save))
        params[np++] = t;
    rq.params = (const char *const *)params;
    rq.nparams = np;

    static struct vmm_plan plan;
    struct vmm_err e = { 0 };
    if (vmm_plan_make(&rq, &plan, &e))
        return 0;
    static struct vm vm;
    memset(&vm, 0, sizeof vm);
    vm.plan = &plan;
    guest_mem_layout(&vm.mem, ram, plan.mem_bytes);
    if (x86_build_tables(&vm.mem, plan.placement.guest_pages, image->end, &vm.tables, &e))
        return 0;
    vm_fill_boot_info(&vm, image->end, tsc_khz);

    /* ---- the guest side ---- */
    const struct vmmb_boot_info *bi = guest_mem_ptr(&vm.mem, X86_BOOT_INFO_GPA, sizeof *bi);
    FUZZ_ASSERT(bi);
    FUZZ_ASSERT(bi->magic == VMMB_BOOT_MAGIC && bi->abi_version == VMMB_ABI_VERSION);
    FUZZ_ASSERT(bi->size == sizeof *bi && bi->nr_vcpus == plan.vcpus && bi->tsc_khz == tsc_khz);
    FUZZ_ASSERT(memchr(bi->workload, '\0', sizeof bi->workload));
    FUZZ_ASSERT(vmm_image_find(image, bi->workload) == d);
    FUZZ_ASSERT(bi->nr_params == d->nr_params);
    struct wl_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.bi = bi;
    ctx.desc = d;
    for (unsigned i = 0; i < d->nr_params; i++)
        FUZZ_ASSERT(wl_param(&ctx, d->params[i].name) == plan.params[i].value);
    check_ranges(bi, &plan, &vm.mem);
    FUZZ_ASSERT(bi->free_gpa >= image->end && bi->free_gpa + bi->free_size <= bi->tables_gpa);
    FUZZ_ASSERT(bi->tables_size && guest_mem_ptr(&vm.mem, bi->tables_gpa, bi->tables_size));

    /* The result area and record capacity exactly as workload_main sets them up; only
     * addresses are computed, nothing is dereferenced (they are guest-physical). */
    ctx.res = (struct vmmb_result_header *)(uintptr_t)bi->free_gpa;
    ctx.rec = (struct vmmb_record *)(uintptr_t)(bi->free_gpa + sizeof *ctx.res);
    uint64_t room = bi->free_size > sizeof *ctx.res ? bi->free_size - sizeof *ctx.res : 0;
    room /= sizeof(struct vmmb_record);
    ctx.capacity = room > VMMB_MAX_RECORDS ? VMMB_MAX_RECORDS : (uint32_t)room;

    uint64_t got_lo[32], got_hi[32];
    if (getenv("FUZZ_VERBOSE")) /* for writing seeds: what the input reached */
        fprintf(stderr, "bootinfo %s: %u ranges, %u nodes, %u allocations asked\n", d->name,
                bi->nr_mem, bi->nr_vnodes, (unsigned)(allocs.n / 5));
    unsigned ngot = 0;
    while (allocs.n >= 5) {
        int node = (int)take(&allocs, 1) % 4 - 1;
        uint64_t bytes = take(&allocs, 3) << 10;
        uint64_t align = 1ull << (take(&allocs, 1) % 22);
        uint64_t avail = wl_mem_avail(&ctx, node);
        uintptr_t at = (uintptr_t)wl_alloc(&ctx, node, bytes, align);
        if (!at)
            continue;
        FUZZ_ASSERT(bytes <= avail);
        FUZZ_ASSERT(at % (align < 64 ? 64 : align) == 0);
        FUZZ_ASSERT(at >= ctx.mem_floor && ctx.mem_floor >= bi->free_gpa);
        FUZZ_ASSERT(at + bytes <= bi->tables_gpa || at >= bi->tables_gpa + bi->tables_size);
        int inside = 0;
        for (uint32_t i = 0; i < bi->nr_mem; i++) {
            const struct vmmb_mem_range *m = &bi->mem[i];
            if (at >= m->gpa && at + bytes <= m->gpa + m->size &&
                (node < 0 || m->node == (uint32_t)node))
                inside = 1;
        }
        FUZZ_ASSERT(inside);
        for (unsigned j = 0; j < ngot; j++)
            FUZZ_ASSERT(at + bytes <= got_lo[j] || at >= got_hi[j] || !bytes);
        got_lo[ngot] = at;
        got_hi[ngot++] = at + bytes;
    }
    return 0;
}
