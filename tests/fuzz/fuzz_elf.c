/* Fuzz target: the guest image. Input = 2 bytes of guest RAM size (little-endian, in
 * 64 KiB units, 1..32 MiB) followed by the ELF file. Drives the real loader: the ELF
 * checks, the segment copy into guest memory of that size, and the .vmmb_workloads
 * catalogue (vmm_image_from_buffer).
 * Properties: an image elf_load accepts has every PT_LOAD inside guest RAM, holding the
 * file's bytes then zeros; its entry point lies in an executable segment; elf_check and
 * elf_load agree; every catalogue entry the image layer accepts is terminated, in range,
 * and found by name. */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz_util.h"
#include "vmm/elf_loader.h"
#include "vmm/guest_mem.h"
#include "vmm/image.h"

#define RAM_MAX (32u << 20)

static uint8_t *ram;

static void check_loaded(const uint8_t *img, size_t len, const struct guest_mem *gm,
                         uint64_t entry, uint64_t end)
{
    Elf64_Ehdr h;
    memcpy(&h, img, sizeof h);
    int entry_ok = 0;
    uint64_t top = 0;
    for (unsigned i = 0; i < h.e_phnum; i++) {
        Elf64_Phdr p;
        memcpy(&p, img + h.e_phoff + (uint64_t)i * sizeof p, sizeof p);
        if (p.p_type != PT_LOAD)
            continue;
        FUZZ_ASSERT(p.p_paddr >= VMM_IMAGE_MIN_GPA);
        FUZZ_ASSERT(p.p_memsz <= guest_mem_top(gm) && p.p_paddr <= guest_mem_top(gm) - p.p_memsz);
        FUZZ_ASSERT(p.p_offset <= len && p.p_filesz <= len - p.p_offset);
        const uint8_t *dst = guest_mem_ptr(gm, p.p_paddr, p.p_memsz);
        FUZZ_ASSERT(dst != NULL);
        /* Later segments may overlap earlier ones: only a lone segment's bytes are known. */
        if (h.e_phnum == 1) {
            FUZZ_ASSERT(memcmp(dst, img + p.p_offset, p.p_filesz) == 0);
            for (uint64_t k = p.p_filesz; k < p.p_memsz; k++)
                FUZZ_ASSERT(dst[k] == 0);
        }
        if (p.p_paddr + p.p_memsz > top)
            top = p.p_paddr + p.p_memsz;
        if ((p.p_flags & PF_X) && entry >= p.p_paddr && entry - p.p_paddr < p.p_memsz)
            entry_ok = 1;
    }
    FUZZ_ASSERT(entry_ok);
    FUZZ_ASSERT(end == top && end <= guest_mem_top(gm));
}

static void check_catalogue(const struct vmm_image *img)
{
    for (unsigned i = 0; i < img->nworkloads; i++) {
        const struct vmmb_workload_desc *d = &img->workloads[i];
        FUZZ_ASSERT(memchr(d->name, '\0', sizeof d->name) && d->name[0]);
        FUZZ_ASSERT(memchr(d->summary, '\0', sizeof d->summary));
        FUZZ_ASSERT(memchr(d->unit, '\0', sizeof d->unit));
        FUZZ_ASSERT(d->nr_params <= VMMB_MAX_WORKLOAD_PARAMS);
        for (unsigned p = 0; p < d->nr_params; p++) {
            const struct vmmb_param_desc *pd = &d->params[p];
            FUZZ_ASSERT(memchr(pd->name, '\0', sizeof pd->name) && pd->name[0]);
            FUZZ_ASSERT(memchr(pd->help, '\0', sizeof pd->help));
            FUZZ_ASSERT(pd->min <= pd->def && pd->def <= pd->max);
        }
        /* The first workload of that name is the one a run would get. */
        const struct vmmb_workload_desc *f = vmm_image_find(img, d->name);
        FUZZ_ASSERT(f && strcmp(f->name, d->name) == 0 && f <= d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (!ram) {
        ram = mmap(NULL, RAM_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        FUZZ_ASSERT(ram != MAP_FAILED);
    }
    uint64_t units = (uint64_t)data[0] | (uint64_t)data[1] << 8;
    uint64_t bytes = (1 + units % (RAM_MAX >> 16)) << 16;
    /* The image in a buffer of its own size, so ASan sees any read past its end. */
    size_t len = size - 2;
    uint8_t *img = malloc(len ? len : 1);
    memcpy(img, data + 2, len);

    struct guest_mem gm;
    guest_mem_layout(&gm, ram, bytes);
    struct vmm_err e1 = { 0 }, e2 = { 0 };
    uint64_t entry = 0, end = 0, entry2 = 0, end2 = 0;
    int checked = elf_check(img, len, &entry, &end, &e1);
    int loaded = elf_load(img, len, &gm, &entry2, &end2, &e2);
    FUZZ_ASSERT(checked == 0 || checked == -1);
    if (checked)
        FUZZ_ASSERT(loaded && e1.code == VMM_EXIT_GUEST_IMAGE && e2.code == e1.code);
    if (loaded)
        FUZZ_ASSERT(e2.code == VMM_EXIT_GUEST_IMAGE && e2.msg[0]);
    else
        check_loaded(img, len, &gm, entry2, end2);

    struct vmm_image *im = NULL;
    struct vmm_err e3 = { 0 };
    if (vmm_image_from_buffer("fuzz.elf", img, len, &im, &e3) == 0) {
        FUZZ_ASSERT(checked == 0 && im->entry == entry && im->end == end);
        check_catalogue(im);
        vmm_image_close(im);
    } else {
        FUZZ_ASSERT(e3.code == VMM_EXIT_GUEST_IMAGE && strstr(e3.msg, "fuzz.elf"));
    }
    free(img);
    return 0;
}
