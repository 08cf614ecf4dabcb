/* Where qemu-pc's VMM-built structures live in guest RAM, and the check of them the boot
 * stub makes after SeaBIOS.
 *
 * What SeaBIOS (and QEMU's multiboot loader) wrote during a q35 boot, measured by filling
 * a shared memory-backend-file with 0xa5, booting a Multiboot kernel that exits at once
 * and diffing (QEMU 7.2, Debian's SeaBIOS; guest RAM 16, 32, 40, 48, 56, 64, 256, 1024
 * and 3000 MiB):
 *   0x0-0xfff            IVT and BDA
 *   0x6000-0x8ffff       SeaBIOS's stack and temporary zone
 *   0x90000-...          the multiboot kernel (our stub) and its info block, ~8 KiB
 *   0x9f000-0x9ffff      the EBDA
 *   0xc0000-0xfffff      the shadowed option ROMs and BIOS
 *   top - 128 KiB..top   (top: the end of low RAM) the high zone: ACPI, SMBIOS
 *   124 KiB under top - 16 MiB (under top - 256 KiB up to 32 MiB of RAM)
 * Nothing else: 0x1000-0x5fff (GDT, boot info, the hand-off block) and 1 MiB up to the
 * zones near the top (the guest image) stay as the VMM wrote them. vmm-min puts its page
 * tables at the top of low RAM; for qemu-pc they go under the ceiling below, and the guest
 * gets the RAM between its image and them, as ever. */
#include <stddef.h>
#include <string.h>

#include "qemu/qemu_pc.h"
#include "qemu/qemu_pc_boot.h"
#include "vmm/elf_loader.h"

#define MiB (1ull << 20)

_Static_assert(X86_BOOT_INFO_GPA + sizeof(struct vmmb_boot_info) <= QPC_HANDOFF_GPA,
               "the boot info runs into qemu-pc's hand-off block");
_Static_assert(QPC_HANDOFF_GPA + QPC_OFF_RANGES + 8 * QPC_MAX_RANGES <= 0x6000,
               "the hand-off block reaches SeaBIOS's stack at 0x6000");

uint64_t qemu_pc_tables_ceiling(uint64_t low_top)
{
    /* 17 MiB clears both zones with a margin from 40 MiB up; small guests keep 1 MiB. */
    return low_top > 32 * MiB ? low_top - 17 * MiB : low_top - 1 * MiB;
}

int qemu_pc_sum(const struct guest_mem *gm, uint32_t start, uint32_t end, uint32_t *sum)
{
    if ((start | end) & 3 || end < start)
        return -1;
    const uint8_t *p = guest_mem_ptr(gm, start, end - start);
    if (!p && end > start)
        return -1;
    uint32_t s = 0;
    for (uint32_t off = 0; off < end - start; off += 4) {
        uint32_t w;
        memcpy(&w, p + off, 4);
        s += w;
    }
    *sum = s;
    return 0;
}

static uint32_t up4(uint64_t x)
{
    return (uint32_t)((x + 3) & ~3ull);
}

int qemu_pc_handoff_write(struct guest_mem *gm, uint64_t image_end,
                          const struct x86_tables *t, struct vmm_err *e)
{
    if (image_end > UINT32_MAX || t->gpa + t->size > UINT32_MAX)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "qemu-pc: the guest image or page tables "
                           "reach above 4 GiB; give less memory");
    const uint32_t r[][2] = {
        { (uint32_t)X86_GDT_GPA, up4(X86_BOOT_INFO_GPA + sizeof(struct vmmb_boot_info)) },
        { (uint32_t)VMM_IMAGE_MIN_GPA, up4(image_end) },
        { (uint32_t)t->gpa, (uint32_t)(t->gpa + t->size) },
    };
    _Static_assert(sizeof r / sizeof r[0] <= QPC_MAX_RANGES, "too many ranges");
    uint8_t *h = guest_mem_ptr(gm, QPC_HANDOFF_GPA, QPC_OFF_RANGES + sizeof r);
    if (!h)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "qemu-pc: guest memory too small for the "
                           "boot stub's hand-off block at 0x%x", QPC_HANDOFF_GPA);
    uint32_t total = 0;
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        uint32_t s;
        if (qemu_pc_sum(gm, r[i][0], r[i][1], &s))
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "qemu-pc: [0x%x, 0x%x) is not guest "
                               "RAM; give more memory", r[i][0], r[i][1]);
        total += s;
    }
    const uint32_t head[4] = { QPC_HANDOFF_MAGIC, total, (uint32_t)(sizeof r / sizeof r[0]), 0 };
    _Static_assert(QPC_OFF_MAGIC == 0 && QPC_OFF_SUM == 4 && QPC_OFF_NRANGES == 8 &&
                   QPC_OFF_ENTERED == 12 && QPC_OFF_RANGES == 16,
                   "qemu_pc_boot.h: the hand-off block's layout");
    memcpy(h, head, sizeof head);
    memcpy(h + QPC_OFF_RANGES, r, sizeof r);
    return 0;
}

bool qemu_pc_stub_entered(const struct guest_mem *gm)
{
    const volatile uint32_t *w = guest_mem_ptr(gm, QPC_HANDOFF_GPA + QPC_OFF_ENTERED, 4);
    return w && *w == QPC_ENTERED;
}
