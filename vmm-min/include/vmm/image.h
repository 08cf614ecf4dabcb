/* A guest kernel image read from disk, with the workload catalogue it declares. */
#ifndef VMM_IMAGE_H
#define VMM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_abi.h"

#define VMM_IMAGE_MAX_BYTES (64u << 20)

struct vmm_image {
    char path[4096];
    uint8_t *data;
    size_t len;
    uint64_t entry, end;                       /* from elf_check */
    struct vmmb_workload_desc *workloads;      /* validated copies */
    unsigned nworkloads;
};

/* Reads and checks PATH; errors name the file (VMM_EXIT_GUEST_IMAGE, or VMM_EXIT_USAGE
 * when it cannot be read at all). */
int vmm_image_open(const char *path, struct vmm_image **out, struct vmm_err *e);
/* The same from a buffer the image takes a copy of (tests). */
int vmm_image_from_buffer(const char *name, const uint8_t *buf, size_t len,
                          struct vmm_image **out, struct vmm_err *e);
void vmm_image_close(struct vmm_image *img);
const struct vmmb_workload_desc *vmm_image_find(const struct vmm_image *img, const char *name);

/* Where installed data lives: $VMMB_SHARE_DIR, else <dir of this executable>/../share/
 * vmmbench (the build tree has the same layout). Writes "<share>/<rel>" into buf. */
int vmm_share_path(const char *rel, char *buf, size_t len);

#define VMM_DEFAULT_GUEST "guest/vmmbench-guest.elf"

#endif
