/* ELF64 loading for guest kernels. The image is hostile input: every header field,
 * segment and section is checked for range and overflow against the file and against
 * guest memory before anything is copied. */
#ifndef VMM_ELF_LOADER_H
#define VMM_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"

/* Guest images load at or above this address; the VMM's structures live below it. */
#define VMM_IMAGE_MIN_GPA 0x100000ull

/* Checks the image without loading it: headers, that every PT_LOAD lies in the file and
 * at or above VMM_IMAGE_MIN_GPA without overflow, and that the entry point is inside an
 * executable segment. *image_end gets the highest loaded address + 1.
 * Errors: VMM_EXIT_GUEST_IMAGE naming the field at fault. */
int elf_check(const uint8_t *img, size_t len, uint64_t *entry, uint64_t *image_end,
              struct vmm_err *e);

/* elf_check, then copies every PT_LOAD into guest memory (zero-filling memsz beyond
 * filesz). Segments must fit in guest RAM. */
int elf_load(const uint8_t *img, size_t len, struct guest_mem *gm, uint64_t *entry,
             uint64_t *image_end, struct vmm_err *e);

/* Finds section NAME. Returns 0 and its file offset and size (inside the file), -1 with
 * an error when the section table is malformed, 1 when there is no such section. */
int elf_find_section(const uint8_t *img, size_t len, const char *name, size_t *off,
                     size_t *size, struct vmm_err *e);

#endif
