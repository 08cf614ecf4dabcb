/* Guest RAM with a chosen backing, NUMA policy and pre-faulting. */
#include <errno.h>
#include <numaif.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "vmm/guest_mem.h"
#include "vmm/placement.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define PREFAULT_MAX_THREADS 16
#define PREFAULT_MIN_CHUNK (64ull << 20)

uint8_t *guest_mem_at(const struct guest_mem *gm, uint64_t off)
{
    return gm->mapping + off;
}

static void *map_backing(enum vmm_backing b, uint64_t bytes, uint64_t *map_len, uint8_t **base,
                         struct vmm_err *e)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void *p = MAP_FAILED;
    *map_len = bytes;
    switch (b) {
    case VMM_BACKING_ANONYMOUS:
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
        /* 4 KiB means 4 KiB: without this, THP in "always" mode would back it with 2 MiB. */
        if (p != MAP_FAILED)
            madvise(p, bytes, MADV_NOHUGEPAGE);
        break;
    case VMM_BACKING_ANONYMOUS_THP: {
        /* Over-allocate by one huge page so the region can start 2 MiB-aligned: THP only
         * backs aligned 2 MiB ranges. */
        uint64_t huge = 2ull << 20;
        uint8_t *raw = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (raw == MAP_FAILED)
            break;
        *base = raw;
        *map_len = bytes + huge;
        p = (void *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
        madvise(p, bytes, MADV_HUGEPAGE);
        return p;
    }
    case VMM_BACKING_HUGETLB_2MB:
    case VMM_BACKING_HUGETLB_1GB: {
        int shift = b == VMM_BACKING_HUGETLB_2MB ? 21 : 30;
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT), -1, 0);
        break;
    }
    case VMM_BACKING_SHMEM: {
        int fd = memfd_create("vmmbench-guest-ram", MFD_CLOEXEC);
        if (fd < 0)
            break;
        if (ftruncate(fd, (off_t)bytes) == 0)
            p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        close(fd);
        break;
    }
    }
    if (p == MAP_FAILED) {
        vmm_err_set(e, VMM_EXIT_RESOURCES, "cannot map %llu MiB of %s guest memory: %s; %s",
                    (unsigned long long)(bytes >> 20), vmm_backing_name(b), strerror(errno),
                    b == VMM_BACKING_HUGETLB_2MB || b == VMM_BACKING_HUGETLB_1GB
                        ? "raise the hugetlb pool (/sys/kernel/mm/hugepages/*/nr_hugepages)"
                        : "ask for less");
        return NULL;
    }
    *base = p;
    return p;
}

/* Shared guest RAM: a memfd of the backing's page size, mapped MAP_SHARED. */
static void *map_shared(enum vmm_backing b, uint64_t bytes, int *fd, struct vmm_err *e)
{
    unsigned flags = MFD_CLOEXEC;
    if (b == VMM_BACKING_HUGETLB_2MB)
        flags |= MFD_HUGETLB | (21u << MAP_HUGE_SHIFT); /* MFD_HUGE_2MB: memfd's shift is mmap's */
    else if (b == VMM_BACKING_HUGETLB_1GB)
        flags |= MFD_HUGETLB | (30u << MAP_HUGE_SHIFT);
    else if (b == VMM_BACKING_ANONYMOUS_THP) {
        vmm_err_set(e, VMM_EXIT_USAGE, "backing anonymous_thp is private anonymous memory, "
                    "which a second VMM process cannot map; use shmem or a hugetlb backing");
        return NULL;
    }
    void *p = MAP_FAILED;
    *fd = memfd_create("vmmbench-guest-ram", flags);
    if (*fd >= 0 && ftruncate(*fd, (off_t)bytes) == 0)
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, *fd, 0);
    if (p == MAP_FAILED) {
        vmm_err_set(e, VMM_EXIT_RESOURCES, "cannot map %llu MiB of shared %s guest memory: %s; "
                    "%s", (unsigned long long)(bytes >> 20), vmm_backing_name(b), strerror(errno),
                    flags & MFD_HUGETLB
                        ? "raise the hugetlb pool (/sys/kernel/mm/hugepages/*/nr_hugepages)"
                        : "ask for less");
        if (*fd >= 0)
            close(*fd);
        return NULL;
    }
    /* 4 KiB means 4 KiB, as for the private mapping (shmem THP in "always" mode). */
    if (b == VMM_BACKING_ANONYMOUS)
        madvise(p, bytes, MADV_NOHUGEPAGE);
    return p;
}

static int bind_range(void *addr, uint64_t len, int mode, uint64_t nodes, struct vmm_err *e)
{
    unsigned long mask = (unsigned long)nodes;
    if (mbind(addr, len, mode, &mask, 64, mode == MPOL_BIND ? MPOL_MF_STRICT | MPOL_MF_MOVE : 0) < 0)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "mbind of %llu MiB to host nodes 0x%llx "
                           "failed: %s", (unsigned long long)(len >> 20),
                           (unsigned long long)nodes, strerror(errno));
    return 0;
}

static int apply_numa(struct guest_mem *gm, const struct vmm_placement *p,
                      const struct vmm_resolved *r, struct vmm_err *e)
{
    if (p->numa == VMM_NUMA_INTERLEAVE)
        return bind_range(gm->mapping, gm->total, MPOL_INTERLEAVE, p->numa_nodes, e);
    if (p->numa == VMM_NUMA_PREFERRED)
        return bind_range(gm->mapping, gm->total, MPOL_PREFERRED, p->numa_nodes, e);
    uint64_t off = 0;
    for (unsigned n = 0; n < r->nvnodes; n++) {
        if (r->vnode_host[n] >= 0 &&
            bind_range(gm->mapping + off, r->vnode_size[n], MPOL_BIND, 1ull << r->vnode_host[n], e))
            return -1;
        off += r->vnode_size[n];
    }
    return 0;
}

struct prefault_job {
    uint8_t *start;
    uint64_t len, step;
};

static void *prefault_thread(void *arg)
{
    struct prefault_job *j = arg;
    /* A write, not a read: a read of private anonymous memory maps the shared zero page. */
    for (uint64_t off = 0; off < j->len; off += j->step)
        ((volatile uint8_t *)j->start)[off] = 0;
    return NULL;
}

/* Touches every page with up to one thread per CPU, each on its own contiguous share. */
static void prefault(struct guest_mem *gm)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t nthreads = gm->total / PREFAULT_MIN_CHUNK;
    if (nthreads > (uint64_t)(cpus > 0 ? cpus : 1))
        nthreads = (uint64_t)(cpus > 0 ? cpus : 1);
    if (nthreads > PREFAULT_MAX_THREADS)
        nthreads = PREFAULT_MAX_THREADS;
    if (nthreads == 0)
        nthreads = 1;
    /* Only hugetlb is sure to fault in whole huge pages; THP may fall back to 4 KiB pages,
     * so every 4 KiB page is touched there (cheap where a huge page already backs it). */
    uint64_t step = gm->page_size >= (2ull << 20) && !gm->thp ? gm->page_size : 4096;
    uint64_t pages = gm->total / step, per = (pages + nthreads - 1) / nthreads;
    struct prefault_job jobs[PREFAULT_MAX_THREADS];
    pthread_t th[PREFAULT_MAX_THREADS];
    bool started[PREFAULT_MAX_THREADS] = { false };
    for (uint64_t i = 0; i < nthreads; i++) {
        uint64_t first = i * per, n = first >= pages ? 0 : (pages - first < per ? pages - first : per);
        jobs[i] = (struct prefault_job){ gm->mapping + first * step, n * step, step };
        /* The calling thread takes the last share itself. */
        if (i + 1 < nthreads && pthread_create(&th[i], NULL, prefault_thread, &jobs[i]) == 0)
            started[i] = true;
        else
            prefault_thread(&jobs[i]);
    }
    for (uint64_t i = 0; i + 1 < nthreads; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}

static int create(struct guest_mem *gm, uint64_t bytes, const struct vmm_placement *p,
                  const struct vmm_resolved *r, bool shared, struct vmm_err *e)
{
    memset(gm, 0, sizeof *gm);
    if (bytes < (16ull << 20))
        return vmm_err_set(e, VMM_EXIT_RESOURCES,
                           "guest memory of %llu bytes is too small; give at least 16M",
                           (unsigned long long)bytes);
    uint64_t page = vmm_backing_page_size(p->backing);
    if (bytes % page)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory of %llu bytes is not a multiple "
                           "of the %llu KiB %s page; round it", (unsigned long long)bytes,
                           (unsigned long long)(page >> 10), vmm_backing_name(p->backing));
    struct sysinfo si;
    if (sysinfo(&si) == 0 && bytes > (unsigned long long)si.totalram * si.mem_unit)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "guest memory of %llu MiB does not fit this "
                           "host's %llu MiB of RAM; ask for less",
                           (unsigned long long)(bytes >> 20),
                           ((unsigned long long)si.totalram * si.mem_unit) >> 20);
    uint64_t map_len = bytes;
    uint8_t *base;
    int fd = -1;
    uint8_t *mem = shared ? map_shared(p->backing, bytes, &fd, e)
                          : map_backing(p->backing, bytes, &map_len, &base, e);
    if (!mem)
        return -1;
    if (shared)
        base = mem;
    guest_mem_layout(gm, mem, bytes);
    gm->map_base = base;
    gm->map_len = map_len;
    gm->shared = shared;
    gm->fd = fd;
    gm->page_size = page;
    gm->thp = p->backing == VMM_BACKING_ANONYMOUS_THP;
    if (apply_numa(gm, p, r, e)) {
        guest_mem_destroy(gm);
        return -1;
    }
    if (p->prefault)
        prefault(gm);
    return 0;
}

int guest_mem_create_placed(struct guest_mem *gm, uint64_t bytes, const struct vmm_placement *p,
                            const struct vmm_resolved *r, struct vmm_err *e)
{
    return create(gm, bytes, p, r, false, e);
}

int guest_mem_create_shared(struct guest_mem *gm, uint64_t bytes, const struct vmm_placement *p,
                            const struct vmm_resolved *r, struct vmm_err *e)
{
    return create(gm, bytes, p, r, true, e);
}
