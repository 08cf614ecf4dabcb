#include "vmm/guest_mem.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/placement.h"

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
    static const struct vmm_placement defaults;
    struct vmm_resolved r = { .nvnodes = 1, .vnode_size = { bytes }, .vnode_host = { -1 } };
    return guest_mem_create_placed(gm, bytes, &defaults, &r, e);
}

void guest_mem_destroy(struct guest_mem *gm)
{
    if (gm->map_base)
        munmap(gm->map_base, gm->map_len);
    if (gm->shared)
        close(gm->fd);
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
