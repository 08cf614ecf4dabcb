#include "vmm/guest_mem.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>

/* The VMM's own structures (GDT, boot info, page tables) live below 1 MiB and the guest
 * image above it, so a guest needs a few MiB at the very least. */
#define VMM_MIN_RAM (16ull << 20)

void guest_mem_layout(struct guest_mem *gm, uint8_t *buf, uint64_t bytes)
{
    memset(gm, 0, sizeof *gm);
    gm->mapping = buf;
    gm->total = bytes;
    uint64_t low = bytes < VMM_LOW_RAM_MAX ? bytes : VMM_LOW_RAM_MAX;
    gm->slot[0] = (struct guest_ram_slot){ .gpa = 0, .size = low, .host = buf };
    gm->nslots = 1;
    if (bytes > low) {
        gm->slot[1] = (struct guest_ram_slot){
            .gpa = VMM_HIGH_RAM_BASE, .size = bytes - low, .host = buf + low };
        gm->nslots = 2;
    }
}

int guest_mem_create(struct guest_mem *gm, uint64_t bytes, struct vmm_err *e)
{
    memset(gm, 0, sizeof *gm);
    if (bytes < VMM_MIN_RAM)
        return vmm_err_set(e, VMM_EXIT_RESOURCES,
                           "guest memory of %llu bytes is too small; give at least 16M",
                           (unsigned long long)bytes);
    if (bytes & 0xfff)
        return vmm_err_set(e, VMM_EXIT_RESOURCES,
                           "guest memory of %llu bytes is not a multiple of 4 KiB; round it",
                           (unsigned long long)bytes);
    struct sysinfo si;
    if (sysinfo(&si) == 0) {
        unsigned long long host = (unsigned long long)si.totalram * si.mem_unit;
        if (bytes > host)
            return vmm_err_set(e, VMM_EXIT_RESOURCES,
                               "guest memory of %llu MiB does not fit this host's %llu MiB of "
                               "RAM; ask for less",
                               (unsigned long long)(bytes >> 20), host >> 20);
    }
    /* MAP_NORESERVE: untouched guest memory costs nothing, as on any VMM. */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return vmm_err_set(e, VMM_EXIT_RESOURCES,
                           "cannot map %llu MiB of guest memory; ask for less",
                           (unsigned long long)(bytes >> 20));
    guest_mem_layout(gm, p, bytes);
    return 0;
}

void guest_mem_destroy(struct guest_mem *gm)
{
    if (gm->mapping)
        munmap(gm->mapping, gm->total);
    memset(gm, 0, sizeof *gm);
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        len = 1;
    for (unsigned i = 0; i < gm->nslots; i++) {
        const struct guest_ram_slot *s = &gm->slot[i];
        /* Written so that no expression can overflow: gpa >= s->gpa first, then the
         * offset and the remaining room are both within the slot. */
        if (gpa < s->gpa)
            continue;
        uint64_t off = gpa - s->gpa;
        if (off >= s->size)
            continue;
        if (len > s->size - off)
            return NULL;
        return s->host + off;
    }
    return NULL;
}

uint64_t guest_mem_top(const struct guest_mem *gm)
{
    const struct guest_ram_slot *s = &gm->slot[gm->nslots - 1];
    return s->gpa + s->size;
}
