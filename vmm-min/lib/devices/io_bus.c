#include "vmm/io_bus.h"

#include <stdint.h>

int io_bus_add(struct io_bus *bus, uint64_t base, uint64_t len, io_handler fn, void *ctx,
               const char *name)
{
    /* len - 1 > max - base: the last byte would wrap; a range may end at the very top. */
    if (bus->n == IO_BUS_MAX_RANGES || len == 0 || len - 1 > UINT64_MAX - base || !fn)
        return -1;
    uint64_t last = base + len - 1;
    for (unsigned i = 0; i < bus->n; i++) {
        const struct io_range *o = &bus->r[i];
        if (base <= o->base + o->len - 1 && o->base <= last)
            return -1;
    }
    bus->r[bus->n++] = (struct io_range){ base, len, fn, ctx, name };
    return 0;
}

const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr, unsigned size)
{
    if (size == 0 || addr + size < addr)
        return 0;
    for (unsigned i = 0; i < bus->n; i++) {
        const struct io_range *r = &bus->r[i];
        if (addr >= r->base && addr - r->base < r->len && size <= r->len - (addr - r->base))
            return r;
    }
    return 0;
}
