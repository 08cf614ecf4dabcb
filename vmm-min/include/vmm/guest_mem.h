/* Guest RAM and the one checked translation from guest-physical addresses to host
 * pointers. Every address the VMM dereferences on behalf of a guest goes through
 * guest_mem_ptr(), which rejects ranges that start outside RAM, overflow, or run past the
 * end of the RAM range they start in. */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/error.h"

/* RAM is split around the 32-bit hole where the MMIO window lives: guest RAM above
 * VMM_LOW_RAM_MAX continues at 4 GiB. */
#define VMM_LOW_RAM_MAX  0xc0000000ull
#define VMM_HIGH_RAM_BASE 0x100000000ull
#define VMM_MAX_RAM_SLOTS 2

struct guest_ram_slot {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
};

struct guest_mem {
    struct guest_ram_slot slot[VMM_MAX_RAM_SLOTS];
    unsigned nslots;
    uint8_t *mapping;          /* one host mapping backs all slots, in order */
    uint64_t total;
    uint64_t map_len;          /* what to munmap (THP mappings are over-allocated to align) */
    uint8_t *map_base;
    uint64_t page_size;        /* host page size backing it */
    bool thp;                  /* huge pages asked of THP, which may not grant them */
    bool shared;               /* a memfd another process (QEMU) maps too: fd below */
    int fd;                    /* the memfd when shared (close-on-exec) */
};

struct vmm_placement;
struct vmm_resolved;

/* Maps `bytes` of anonymous memory and lays it out as guest RAM.
 * Errors: VMM_EXIT_RESOURCES when the size is too small or does not fit the host. */
int guest_mem_create(struct guest_mem *gm, uint64_t bytes, struct vmm_err *e);
/* The same with the requested backing (anonymous 4K with THP off, THP, hugetlb 2M/1G,
 * shmem), host NUMA policy per guest node (libnuma's mbind), and optional pre-faulting
 * by parallel threads. Errors: VMM_EXIT_RESOURCES naming what the host refused. */
int guest_mem_create_placed(struct guest_mem *gm, uint64_t bytes, const struct vmm_placement *p,
                            const struct vmm_resolved *r, struct vmm_err *e);
/* The same placement over a memfd mapped shared (MFD_HUGETLB for the hugetlb backings),
 * so a second process mapping gm->fd sees the very same pages: the QEMU backend. The
 * NUMA policy set here is the memfd's own (shmem keeps a shared policy), pre-faulted pages
 * are its page cache. Errors: as guest_mem_create_placed; anonymous_thp is private memory
 * and cannot be shared (VMM_EXIT_USAGE). */
int guest_mem_create_shared(struct guest_mem *gm, uint64_t bytes, const struct vmm_placement *p,
                            const struct vmm_resolved *r, struct vmm_err *e);
void guest_mem_destroy(struct guest_mem *gm);
/* Host address of the byte at RAM offset off (slots laid end to end). */
uint8_t *guest_mem_at(const struct guest_mem *gm, uint64_t off);

/* Lays out slots over an existing buffer (unit tests, and guest_mem_create itself). */
void guest_mem_layout(struct guest_mem *gm, uint8_t *buf, uint64_t bytes);

/* Host pointer for [gpa, gpa+len) or NULL when that range is not wholly inside one RAM
 * slot. len 0 is treated as 1: a pointer must point at something. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 that is RAM. */
uint64_t guest_mem_top(const struct guest_mem *gm);

#endif
