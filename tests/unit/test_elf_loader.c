/* elf_check / elf_load / elf_find_section on ELF64 images built in memory, one corruption
 * at a time, and vmm_image_from_buffer on the real guest kernel. Every refusal must be
 * VMM_EXIT_GUEST_IMAGE with a message naming what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "vmm/elf_loader.h"
#include "vmm/guest_abi.h"
#include "vmm/image.h"

/* The build tree: $BUILD as tests/run-all.sh exports it, else build/ (run from the repo
 * root). */
static const char *build_path(char *buf, size_t len, const char *rel)
{
    const char *b = getenv("BUILD");
    snprintf(buf, len, "%s/%s", b && *b ? b : "build", rel);
    return buf;
}

#define GUEST_ELF build_path((char[4096]){ 0 }, 4096, "share/vmmbench/guest/vmmbench-guest.elf")

/* ---- a small valid image: two PT_LOADs (code; data + bss) and a section table ---- */
#define IMG_SIZE   0x1000
#define TEXT_OFF   0x200
#define TEXT_GPA   0x100000ull
#define TEXT_SIZE  0x100
#define DATA_OFF   0x300
#define DATA_GPA   0x101000ull
#define DATA_FILE  0x80
#define DATA_MEM   0x1000
#define STR_OFF    0x700
#define SH_OFF     0x800
#define NSECT      4
#define IMG_LEN    (SH_OFF + NSECT * sizeof(Elf64_Shdr))
#define ENTRY      (TEXT_GPA + 0x10)

static const char shstr[] = "\0.text\0.shstrtab\0.mine\0";
#define NAME_TEXT 1
#define NAME_SHSTR 7
#define NAME_MINE 17

struct img {
    uint8_t b[IMG_SIZE];
    size_t len;
};

static Elf64_Ehdr *EH(struct img *m) { return (Elf64_Ehdr *)m->b; }
static Elf64_Phdr *PH(struct img *m) { return (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr)); }
static Elf64_Shdr *SH(struct img *m) { return (Elf64_Shdr *)(m->b + SH_OFF); }

static uint8_t text_byte(size_t i) { return (uint8_t)(i * 7 + 1); }
static uint8_t data_byte(size_t i) { return (uint8_t)(0xa5 ^ i); }

static void build(struct img *m)
{
    memset(m, 0, sizeof *m);
    Elf64_Ehdr *h = EH(m);
    memcpy(h->e_ident, ELFMAG, SELFMAG);
    h->e_ident[EI_CLASS] = ELFCLASS64;
    h->e_ident[EI_DATA] = ELFDATA2LSB;
    h->e_ident[EI_VERSION] = EV_CURRENT;
    h->e_type = ET_EXEC;
    h->e_machine = EM_X86_64;
    h->e_version = EV_CURRENT;
    h->e_entry = ENTRY;
    h->e_phoff = sizeof(Elf64_Ehdr);
    h->e_ehsize = sizeof(Elf64_Ehdr);
    h->e_phentsize = sizeof(Elf64_Phdr);
    h->e_phnum = 2;
    h->e_shoff = SH_OFF;
    h->e_shentsize = sizeof(Elf64_Shdr);
    h->e_shnum = NSECT;
    h->e_shstrndx = 2;

    Elf64_Phdr *p = PH(m);
    p[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = TEXT_OFF,
                         .p_vaddr = TEXT_GPA, .p_paddr = TEXT_GPA, .p_filesz = TEXT_SIZE,
                         .p_memsz = TEXT_SIZE, .p_align = 0x1000 };
    p[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = DATA_OFF,
                         .p_vaddr = DATA_GPA, .p_paddr = DATA_GPA, .p_filesz = DATA_FILE,
                         .p_memsz = DATA_MEM, .p_align = 0x1000 };
    for (size_t i = 0; i < TEXT_SIZE; i++)
        m->b[TEXT_OFF + i] = text_byte(i);
    for (size_t i = 0; i < DATA_FILE; i++)
        m->b[DATA_OFF + i] = data_byte(i);
    memcpy(m->b + STR_OFF, shstr, sizeof shstr);

    Elf64_Shdr *s = SH(m);
    s[1] = (Elf64_Shdr){ .sh_name = NAME_TEXT, .sh_type = SHT_PROGBITS, .sh_addr = TEXT_GPA,
                         .sh_offset = TEXT_OFF, .sh_size = TEXT_SIZE };
    s[2] = (Elf64_Shdr){ .sh_name = NAME_SHSTR, .sh_type = SHT_STRTAB, .sh_offset = STR_OFF,
                         .sh_size = sizeof shstr };
    s[3] = (Elf64_Shdr){ .sh_name = NAME_MINE, .sh_type = SHT_PROGBITS, .sh_offset = DATA_OFF,
                         .sh_size = DATA_FILE };
    m->len = IMG_LEN;
}

/* elf_check must refuse m with VMM_EXIT_GUEST_IMAGE and a message containing word. */
static void check_refused(struct img *m, const char *word)
{
    struct vmm_err e = { 0 };
    uint64_t entry = 0xdead, end = 0xbeef;
    assert_int_equal(elf_check(m->b, m->len, &entry, &end, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_GUEST_IMAGE);
    if (!strstr(e.msg, word))
        fail_msg("message '%s' does not mention '%s'", e.msg, word);
    /* nothing is reported on failure */
    assert_int_equal(entry, 0xdead);
    assert_int_equal(end, 0xbeef);
}

static void find_refused(struct img *m, const char *name, const char *word)
{
    struct vmm_err e = { 0 };
    size_t off = 1, size = 1;
    assert_int_equal(elf_find_section(m->b, m->len, name, &off, &size, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_GUEST_IMAGE);
    if (!strstr(e.msg, word))
        fail_msg("message '%s' does not mention '%s'", e.msg, word);
}

#define RAM (2u << 20)

static void test_valid_loads(void **state)
{
    (void)state;
    struct img m;
    build(&m);
    struct vmm_err e = { 0 };
    uint64_t entry = 0, end = 0;
    assert_int_equal(elf_check(m.b, m.len, &entry, &end, &e), 0);
    assert_int_equal(e.code, 0);
    assert_int_equal(entry, ENTRY);
    assert_int_equal(end, DATA_GPA + DATA_MEM);

    uint8_t *ram = malloc(RAM);
    assert_non_null(ram);
    memset(ram, 0xcc, RAM);
    struct guest_mem gm;
    guest_mem_layout(&gm, ram, RAM);
    entry = end = 0;
    assert_int_equal(elf_load(m.b, m.len, &gm, &entry, &end, &e), 0);
    assert_int_equal(entry, ENTRY);
    assert_int_equal(end, DATA_GPA + DATA_MEM);
    for (size_t i = 0; i < TEXT_SIZE; i++)
        assert_int_equal(ram[TEXT_GPA + i], text_byte(i));
    for (size_t i = 0; i < DATA_FILE; i++)
        assert_int_equal(ram[DATA_GPA + i], data_byte(i));
    /* bss is zero-filled, and nothing beyond memsz or between segments is touched */
    for (size_t i = DATA_FILE; i < DATA_MEM; i++)
        assert_int_equal(ram[DATA_GPA + i], 0);
    assert_int_equal(ram[DATA_GPA + DATA_MEM], 0xcc);
    assert_int_equal(ram[TEXT_GPA + TEXT_SIZE], 0xcc);
    assert_int_equal(ram[TEXT_GPA - 1], 0xcc);
    free(ram);
}

static void test_load_beyond_ram(void **state)
{
    (void)state;
    struct img m;
    build(&m);
    PH(&m)[1].p_paddr = PH(&m)[1].p_vaddr = RAM - 0x800; /* bss runs past the top */
    uint8_t *ram = calloc(1, RAM);
    assert_non_null(ram);
    struct guest_mem gm;
    guest_mem_layout(&gm, ram, RAM);
    struct vmm_err e = { 0 };
    uint64_t entry, end;
    /* the image itself is fine... */
    assert_int_equal(elf_check(m.b, m.len, &entry, &end, &e), 0);
    /* ...but it does not fit this guest */
    assert_int_equal(elf_load(m.b, m.len, &gm, &entry, &end, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_GUEST_IMAGE);
    assert_non_null(strstr(e.msg, "does not fit"));
    /* a segment entirely above RAM */
    struct vmm_err e2 = { 0 };
    PH(&m)[1].p_paddr = 0x40000000ull;
    assert_int_equal(elf_load(m.b, m.len, &gm, &entry, &end, &e2), -1);
    assert_int_equal(e2.code, VMM_EXIT_GUEST_IMAGE);
    assert_non_null(strstr(e2.msg, "guest RAM"));
    free(ram);
}

static void test_truncated(void **state)
{
    (void)state;
    struct img m;
    build(&m);
    m.len = sizeof(Elf64_Ehdr) - 1;
    check_refused(&m, "truncated");
    m.len = 0;
    check_refused(&m, "truncated");

    /* program headers past the end of the file */
    build(&m);
    m.len = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr); /* room for one of two */
    check_refused(&m, "program headers");
    build(&m);
    EH(&m)->e_phoff = m.len - 8;
    check_refused(&m, "program headers");
    build(&m);
    EH(&m)->e_phoff = UINT64_MAX - 8; /* offset + size overflows */
    check_refused(&m, "program headers");
    build(&m);
    EH(&m)->e_phnum = 0;
    check_refused(&m, "program headers");
    build(&m);
    EH(&m)->e_phentsize = sizeof(Elf64_Phdr) - 8;
    check_refused(&m, "program headers");

    /* a segment's file bytes past the end of the file */
    build(&m);
    m.len = DATA_OFF + DATA_FILE - 1;
    check_refused(&m, "past the end");
    build(&m);
    PH(&m)[0].p_filesz = PH(&m)[0].p_memsz = m.len;
    check_refused(&m, "past the end");
    build(&m);
    PH(&m)[0].p_offset = UINT64_MAX - 0x10;
    check_refused(&m, "past the end");
}

static void test_bad_header(void **state)
{
    (void)state;
    struct img m;
    build(&m);
    EH(&m)->e_ident[EI_MAG1] = 'X';
    check_refused(&m, "not an ELF");
    build(&m);
    EH(&m)->e_ident[EI_CLASS] = ELFCLASS32;
    check_refused(&m, "ELF64");
    build(&m);
    EH(&m)->e_ident[EI_DATA] = ELFDATA2MSB;
    check_refused(&m, "little-endian");
    build(&m);
    EH(&m)->e_machine = EM_386;
    check_refused(&m, "x86-64");
    build(&m);
    EH(&m)->e_type = ET_DYN;
    check_refused(&m, "ET_EXEC");
    build(&m);
    EH(&m)->e_type = ET_REL;
    check_refused(&m, "ET_EXEC");
    /* elf_find_section checks the header too */
    build(&m);
    EH(&m)->e_machine = EM_AARCH64;
    find_refused(&m, ".text", "x86-64");
}

static void test_bad_segments(void **state)
{
    (void)state;
    struct img m;
    build(&m);
    PH(&m)[1].p_memsz = DATA_FILE - 1;
    check_refused(&m, "more file bytes");

    build(&m);
    PH(&m)[1].p_paddr = UINT64_MAX - 0x10; /* + memsz overflows */
    check_refused(&m, "overflows");
    build(&m);
    PH(&m)[1].p_memsz = UINT64_MAX;
    check_refused(&m, "overflows");

    build(&m);
    PH(&m)[0].p_paddr = VMM_IMAGE_MIN_GPA - 0x1000;
    check_refused(&m, "below");
    build(&m);
    PH(&m)[1].p_paddr = 0;
    check_refused(&m, "below");

    /* entry in the non-executable segment, just past the code, and nowhere */
    build(&m);
    EH(&m)->e_entry = DATA_GPA + 4;
    check_refused(&m, "entry point");
    build(&m);
    EH(&m)->e_entry = TEXT_GPA + TEXT_SIZE;
    check_refused(&m, "entry point");
    build(&m);
    EH(&m)->e_entry = 0;
    check_refused(&m, "entry point");

    /* no PT_LOAD at all */
    build(&m);
    PH(&m)[0].p_type = PT_NOTE;
    PH(&m)[1].p_type = PT_GNU_STACK;
    check_refused(&m, "no loadable");

    /* a non-PT_LOAD header with garbage is ignored */
    build(&m);
    PH(&m)[1].p_type = PT_NOTE;
    PH(&m)[1].p_offset = UINT64_MAX;
    PH(&m)[1].p_paddr = 0;
    struct vmm_err e = { 0 };
    uint64_t entry, end;
    assert_int_equal(elf_check(m.b, m.len, &entry, &end, &e), 0);
    assert_int_equal(end, TEXT_GPA + TEXT_SIZE);
}

static void test_find_section(void **state)
{
    (void)state;
    struct img m;
    build(&m);
    struct vmm_err e = { 0 };
    size_t off = 0, size = 0;
    assert_int_equal(elf_find_section(m.b, m.len, ".mine", &off, &size, &e), 0);
    assert_int_equal(off, DATA_OFF);
    assert_int_equal(size, DATA_FILE);
    assert_int_equal(elf_find_section(m.b, m.len, ".text", &off, &size, &e), 0);
    assert_int_equal(off, TEXT_OFF);
    assert_int_equal(size, TEXT_SIZE);
    /* absent, and a prefix of a present name, are "not found", not errors */
    assert_int_equal(elf_find_section(m.b, m.len, ".missing", &off, &size, &e), 1);
    assert_int_equal(elf_find_section(m.b, m.len, ".min", &off, &size, &e), 1);
    assert_int_equal(elf_find_section(m.b, m.len, ".mine2", &off, &size, &e), 1);
    assert_int_equal(e.code, 0);
    /* no section table at all */
    EH(&m)->e_shnum = 0;
    assert_int_equal(elf_find_section(m.b, m.len, ".mine", &off, &size, &e), 1);
    assert_int_equal(e.code, 0);
}

static void test_bad_sections(void **state)
{
    (void)state;
    struct img m;
    /* section table out of range */
    build(&m);
    EH(&m)->e_shoff = m.len - sizeof(Elf64_Shdr);
    find_refused(&m, ".mine", "section table");
    build(&m);
    m.len -= 1;
    find_refused(&m, ".mine", "section table");
    build(&m);
    EH(&m)->e_shoff = UINT64_MAX - 0x20;
    find_refused(&m, ".mine", "section table");
    build(&m);
    EH(&m)->e_shentsize = 40;
    find_refused(&m, ".mine", "section table");
    /* shstrndx out of range */
    build(&m);
    EH(&m)->e_shstrndx = NSECT;
    find_refused(&m, ".mine", "section table");
    build(&m);
    EH(&m)->e_shstrndx = SHN_XINDEX;
    find_refused(&m, ".mine", "section table");
    /* the name table itself outside the file */
    build(&m);
    SH(&m)[2].sh_offset = m.len - 4;
    find_refused(&m, ".mine", "section names");
    build(&m);
    SH(&m)[2].sh_size = UINT64_MAX;
    find_refused(&m, ".mine", "section names");
    /* the wanted section's data outside the file, or NOBITS */
    build(&m);
    SH(&m)[3].sh_offset = m.len;
    find_refused(&m, ".mine", "outside the file");
    build(&m);
    SH(&m)[3].sh_type = SHT_NOBITS;
    find_refused(&m, ".mine", "outside the file");

    /* a section name offset past the name table is skipped, never read out of bounds */
    build(&m);
    SH(&m)[3].sh_name = 0xffffffffu;
    struct vmm_err e = { 0 };
    size_t off, size;
    assert_int_equal(elf_find_section(m.b, m.len, ".mine", &off, &size, &e), 1);
    /* a name offset that leaves fewer bytes than the name needs is skipped too */
    build(&m);
    SH(&m)[3].sh_name = (uint32_t)(sizeof shstr - 3);
    assert_int_equal(elf_find_section(m.b, m.len, ".mine", &off, &size, &e), 1);
    assert_int_equal(e.code, 0);
}

/* ---- the real guest kernel ---- */

static uint8_t *read_guest(size_t *len)
{
    char *buf = tu_read_file(GUEST_ELF, len);
    if (!buf)
        fail_msg("cannot read %s (run from the repo root after `make`)", GUEST_ELF);
    return (uint8_t *)buf;
}

static void test_real_guest_catalogue(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_guest(&len);
    struct vmm_image *img = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_image_from_buffer("guest", buf, len, &img, &e), 0);
    assert_non_null(img);
    assert_true(img->nworkloads >= 7);
    static const char *const expected[] = { "null", "cpuid", "pio-user", "mmio-user",
                                            "rdmsr", "wrmsr", "hypercall" };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const struct vmmb_workload_desc *d = vmm_image_find(img, expected[i]);
        if (!d)
            fail_msg("workload %s missing from the guest catalogue", expected[i]);
        assert_string_equal(d->name, expected[i]);
        assert_true(d->rings & (VMMB_RING0 | VMMB_RING3));
        assert_true(d->nr_params >= 4); /* ring, iters, batches, warmup */
    }
    assert_null(vmm_image_find(img, "no-such-workload"));
    /* every entry is distinct and terminated */
    for (unsigned i = 0; i < img->nworkloads; i++) {
        assert_non_null(memchr(img->workloads[i].name, 0, VMMB_NAME_MAX));
        for (unsigned j = i + 1; j < img->nworkloads; j++)
            assert_string_not_equal(img->workloads[i].name, img->workloads[j].name);
    }
    assert_true(img->entry >= VMM_IMAGE_MIN_GPA);
    assert_true(img->end > img->entry);
    vmm_image_close(img);
    free(buf);
}

static void image_refused(const uint8_t *buf, size_t len, const char *word)
{
    struct vmm_image *img = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_image_from_buffer("bad.elf", buf, len, &img, &e), -1);
    assert_null(img);
    assert_int_equal(e.code, VMM_EXIT_GUEST_IMAGE);
    if (!strstr(e.msg, word))
        fail_msg("message '%s' does not mention '%s'", e.msg, word);
    assert_non_null(strstr(e.msg, "bad.elf")); /* errors name the file */
}

static void test_image_without_catalogue(void **state)
{
    (void)state;
    /* the synthetic image is valid ELF but declares no workloads */
    struct img m;
    build(&m);
    image_refused(m.b, m.len, VMMB_WORKLOAD_SECTION);

    /* the real kernel with its catalogue section renamed */
    size_t len;
    uint8_t *buf = read_guest(&len);
    size_t off, size;
    struct vmm_err e = { 0 };
    assert_int_equal(elf_find_section(buf, len, VMMB_WORKLOAD_SECTION, &off, &size, &e), 0);
    assert_true(size > 0 && size % sizeof(struct vmmb_workload_desc) == 0);
    uint8_t *renamed = malloc(len);
    assert_non_null(renamed);
    memcpy(renamed, buf, len);
    const Elf64_Ehdr *h = (const Elf64_Ehdr *)renamed;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(renamed + h->e_shoff);
    char *names = (char *)renamed + sh[h->e_shstrndx].sh_offset;
    int hits = 0;
    for (unsigned i = 0; i < h->e_shnum; i++)
        if (strcmp(names + sh[i].sh_name, VMMB_WORKLOAD_SECTION) == 0) {
            names[sh[i].sh_name + 1] = 'X';
            hits++;
        }
    assert_int_equal(hits, 1);
    image_refused(renamed, len, VMMB_WORKLOAD_SECTION);

    /* a catalogue whose size is not a whole number of descriptors */
    memcpy(renamed, buf, len);
    Elf64_Shdr *wsh = NULL;
    for (unsigned i = 0; i < h->e_shnum; i++)
        if (strcmp(names + sh[i].sh_name, VMMB_WORKLOAD_SECTION) == 0)
            wsh = (Elf64_Shdr *)&sh[i];
    assert_non_null(wsh);
    wsh->sh_size -= 8;
    image_refused(renamed, len, VMMB_WORKLOAD_SECTION);

    /* a malformed descriptor: no ring, or an unterminated name */
    memcpy(renamed, buf, len);
    struct vmmb_workload_desc d;
    memcpy(&d, renamed + off, sizeof d);
    d.rings = 0;
    memcpy(renamed + off, &d, sizeof d);
    image_refused(renamed, len, "malformed");
    memcpy(renamed, buf, len);
    memset(d.name, 'A', sizeof d.name);
    d.rings = VMMB_RING3;
    memcpy(renamed + off, &d, sizeof d);
    image_refused(renamed, len, "malformed");
    /* a parameter whose range is empty (min > max) */
    memcpy(renamed, buf, len);
    memcpy(&d, renamed + off, sizeof d);
    assert_true(d.nr_params > 0);
    d.params[0].min = 2;
    d.params[0].max = 1;
    memcpy(renamed + off, &d, sizeof d);
    image_refused(renamed, len, "malformed");

    free(renamed);
    free(buf);
}

static void test_image_open_missing(void **state)
{
    (void)state;
    struct vmm_image *img = NULL;
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_image_open("/nonexistent/vmmbench.elf", &img, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    assert_non_null(strstr(e.msg, "/nonexistent/vmmbench.elf"));
    struct vmm_err e2 = { 0 };
    assert_int_equal(vmm_image_open(GUEST_ELF, &img, &e2), 0);
    assert_non_null(vmm_image_find(img, "cpuid"));
    vmm_image_close(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_loads),
        cmocka_unit_test(test_load_beyond_ram),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_segments),
        cmocka_unit_test(test_find_section),
        cmocka_unit_test(test_bad_sections),
        cmocka_unit_test(test_real_guest_catalogue),
        cmocka_unit_test(test_image_without_catalogue),
        cmocka_unit_test(test_image_open_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
