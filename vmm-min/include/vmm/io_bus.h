/* Port and MMIO dispatch by address range. Ranges may not be empty, wrap around or
 * overlap; an access must lie wholly inside one range, or nobody handles it and the
 * run ends with the unexpected access named. */
#ifndef VMM_IO_BUS_H
#define VMM_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_BUS_MAX_RANGES 16

enum io_result {
    IO_CONTINUE = 0,   /* resume the guest */
    IO_STOP,           /* the handler ended this vCPU's run (completion, fault, flood) */
};

/* offset is relative to the range base; data holds `size` bytes (1, 2, 4 or 8). */
typedef enum io_result (*io_handler)(void *ctx, unsigned vcpu, uint64_t offset,
                                     uint8_t *data, unsigned size, bool is_write);

struct io_range {
    uint64_t base, len;
    io_handler fn;
    void *ctx;
    const char *name;
};

struct io_bus {
    struct io_range r[IO_BUS_MAX_RANGES];
    unsigned n;
};

/* Returns -1 for an empty, wrapping or overlapping range, or a full bus. */
int io_bus_add(struct io_bus *bus, uint64_t base, uint64_t len, io_handler fn, void *ctx,
               const char *name);
/* NULL when [addr, addr+size) is not wholly inside one range. */
const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr, unsigned size);

#endif
