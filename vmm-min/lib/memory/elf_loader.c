#include "vmm/elf_loader.h"

#include <elf.h>
#include <string.h>

/* a + b <= limit, without overflow. */
static int fits(uint64_t a, uint64_t b, uint64_t limit)
{
    return a <= limit && b <= limit - a;
}

/* Headers are copied out of the file before they are read: the file is a byte buffer and
 * a hostile e_phoff/e_shoff need not be aligned for the structs (UBSan, strict CPUs). */
static Elf64_Phdr phdr_at(const uint8_t *img, uint64_t phoff, unsigned i)
{
    Elf64_Phdr p;
    memcpy(&p, img + phoff + (uint64_t)i * sizeof p, sizeof p);
    return p;
}

static Elf64_Shdr shdr_at(const uint8_t *img, uint64_t shoff, unsigned i)
{
    Elf64_Shdr s;
    memcpy(&s, img + shoff + (uint64_t)i * sizeof s, sizeof s);
    return s;
}

static int check_ehdr(const uint8_t *img, size_t len, Elf64_Ehdr *out, struct vmm_err *e)
{
    if (len < sizeof(Elf64_Ehdr))
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image is truncated (%zu bytes, an ELF header needs %zu); "
                           "rebuild the guest kernel", len, sizeof(Elf64_Ehdr));
    Elf64_Ehdr hdr;
    memcpy(&hdr, img, sizeof hdr);
    const Elf64_Ehdr *h = &hdr;
    if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0)
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image is not an ELF file; pass a guest kernel built by "
                           "this project (build/share/vmmbench/guest/*.elf)");
    if (h->e_ident[EI_CLASS] != ELFCLASS64 || h->e_ident[EI_DATA] != ELFDATA2LSB ||
        h->e_machine != EM_X86_64)
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image is not a little-endian x86-64 ELF64 (class %u, "
                           "machine %u); build it for x86-64",
                           h->e_ident[EI_CLASS], h->e_machine);
    if (h->e_type != ET_EXEC)
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image is ELF type %u, not a static executable (ET_EXEC); "
                           "link it with -static -no-pie", h->e_type);
    *out = hdr;
    return 0;
}

int elf_check(const uint8_t *img, size_t len, uint64_t *entry, uint64_t *image_end,
              struct vmm_err *e)
{
    Elf64_Ehdr hdr;
    if (check_ehdr(img, len, &hdr, e))
        return -1;
    const Elf64_Ehdr *h = &hdr;
    if (h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phnum == 0 ||
        !fits(h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr), len))
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image program headers (offset %llu, %u entries of %u bytes) "
                           "lie outside the %zu-byte file; the image is truncated or corrupt",
                           (unsigned long long)h->e_phoff, h->e_phnum, h->e_phentsize, len);
    uint64_t end = 0;
    int entry_ok = 0, loads = 0;
    for (unsigned i = 0; i < h->e_phnum; i++) {
        const Elf64_Phdr ph = phdr_at(img, h->e_phoff, i), *p = &ph;
        if (p->p_type != PT_LOAD)
            continue;
        loads++;
        if (!fits(p->p_offset, p->p_filesz, len))
            return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                               "guest image segment %u (file offset %llu, %llu bytes) runs "
                               "past the end of the %zu-byte file; the image is truncated",
                               i, (unsigned long long)p->p_offset,
                               (unsigned long long)p->p_filesz, len);
        if (p->p_filesz > p->p_memsz)
            return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                               "guest image segment %u has more file bytes (%llu) than memory "
                               "bytes (%llu); the image is corrupt",
                               i, (unsigned long long)p->p_filesz,
                               (unsigned long long)p->p_memsz);
        if (p->p_paddr < VMM_IMAGE_MIN_GPA || !fits(p->p_paddr, p->p_memsz, UINT64_MAX))
            return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                               "guest image segment %u at 0x%llx+0x%llx is below 0x%llx or "
                               "overflows; link the guest at 1 MiB or above",
                               i, (unsigned long long)p->p_paddr,
                               (unsigned long long)p->p_memsz,
                               (unsigned long long)VMM_IMAGE_MIN_GPA);
        if (p->p_paddr + p->p_memsz > end)
            end = p->p_paddr + p->p_memsz;
        if ((p->p_flags & PF_X) && h->e_entry >= p->p_paddr &&
            h->e_entry - p->p_paddr < p->p_memsz)
            entry_ok = 1;
    }
    if (!loads)
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image has no loadable segment; link it as an executable");
    if (!entry_ok)
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image entry point 0x%llx is outside its executable "
                           "segments; fix the linker script's ENTRY",
                           (unsigned long long)h->e_entry);
    *entry = h->e_entry;
    *image_end = end;
    return 0;
}

int elf_load(const uint8_t *img, size_t len, struct guest_mem *gm, uint64_t *entry,
             uint64_t *image_end, struct vmm_err *e)
{
    if (elf_check(img, len, entry, image_end, e))
        return -1;
    Elf64_Ehdr h;
    memcpy(&h, img, sizeof h);
    for (unsigned i = 0; i < h.e_phnum; i++) {
        const Elf64_Phdr ph = phdr_at(img, h.e_phoff, i), *p = &ph;
        if (p->p_type != PT_LOAD)
            continue;
        uint8_t *dst = guest_mem_ptr(gm, p->p_paddr, p->p_memsz);
        if (!dst)
            return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                               "guest image segment %u at 0x%llx+0x%llx does not fit in guest "
                               "RAM (top 0x%llx); give the guest more memory",
                               i, (unsigned long long)p->p_paddr,
                               (unsigned long long)p->p_memsz,
                               (unsigned long long)guest_mem_top(gm));
        memcpy(dst, img + p->p_offset, p->p_filesz);
        memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
    }
    return 0;
}

int elf_find_section(const uint8_t *img, size_t len, const char *name, size_t *off,
                     size_t *size, struct vmm_err *e)
{
    Elf64_Ehdr hdr;
    if (check_ehdr(img, len, &hdr, e))
        return -1;
    const Elf64_Ehdr *h = &hdr;
    if (h->e_shnum == 0)
        return 1;
    if (h->e_shentsize != sizeof(Elf64_Shdr) ||
        !fits(h->e_shoff, (uint64_t)h->e_shnum * sizeof(Elf64_Shdr), len) ||
        h->e_shstrndx >= h->e_shnum)
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image section table (offset %llu, %u entries) lies outside "
                           "the file; the image is truncated or corrupt",
                           (unsigned long long)h->e_shoff, h->e_shnum);
    const Elf64_Shdr strtab = shdr_at(img, h->e_shoff, h->e_shstrndx), *strs = &strtab;
    if (!fits(strs->sh_offset, strs->sh_size, len))
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "guest image section names lie outside the file; the image is "
                           "corrupt");
    const char *names = (const char *)img + strs->sh_offset;
    size_t want = strlen(name) + 1;
    for (unsigned i = 0; i < h->e_shnum; i++) {
        const Elf64_Shdr s = shdr_at(img, h->e_shoff, i);
        uint64_t n = s.sh_name;
        if (n >= strs->sh_size || strs->sh_size - n < want)
            continue;
        if (memcmp(names + n, name, want) != 0)
            continue;
        if (s.sh_type == SHT_NOBITS || !fits(s.sh_offset, s.sh_size, len))
            return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                               "guest image section %s lies outside the file; the image is "
                               "corrupt", name);
        *off = s.sh_offset;
        *size = s.sh_size;
        return 0;
    }
    return 1;
}
