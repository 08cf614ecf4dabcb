/* The virtio contract between vmm-min and its guests: the virtio-mmio register file
 * (virtio 1.x "modern", version 2), split virtqueue layouts, and the virtio-blk and
 * virtio-net request formats, as the virtio 1.2 specification defines them. Included by
 * the VMM and by the freestanding guest, so fixed-width types only and no libc.
 * All fields are little-endian (x86 on both sides). */
#ifndef VMM_VIRTIO_ABI_H
#define VMM_VIRTIO_ABI_H

#include <stdint.h>

/* ---- where vmm-min places virtio-mmio devices ----
 * One 4 KiB slot each in the 32-bit hole, above the mmio-bench page. */
#define VMMB_VIRTIO_MMIO_BASE 0xd0001000ull
#define VMMB_VIRTIO_MMIO_SLOT 0x1000ull

/* ---- virtio-mmio registers (spec 4.2.2) ---- */
#define VIRTIO_MMIO_MAGIC_VALUE        0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION            0x004 /* 2: modern */
#define VIRTIO_MMIO_DEVICE_ID          0x008
#define VIRTIO_MMIO_VENDOR_ID          0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES    0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES    0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL          0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX      0x034
#define VIRTIO_MMIO_QUEUE_NUM          0x038
#define VIRTIO_MMIO_QUEUE_READY        0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY       0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS   0x060
#define VIRTIO_MMIO_INTERRUPT_ACK      0x064
#define VIRTIO_MMIO_STATUS             0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW     0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH    0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW   0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH  0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW   0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH  0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION  0x0fc
#define VIRTIO_MMIO_CONFIG             0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u
#define VIRTIO_MMIO_VERSION_MODERN 2u
#define VIRTIO_VENDOR_VMMB 0x424d4d56u /* "VMMB" */

/* ---- device status (spec 2.1) ---- */
#define VIRTIO_STATUS_ACKNOWLEDGE  1u
#define VIRTIO_STATUS_DRIVER       2u
#define VIRTIO_STATUS_DRIVER_OK    4u
#define VIRTIO_STATUS_FEATURES_OK  8u
#define VIRTIO_STATUS_NEEDS_RESET  64u
#define VIRTIO_STATUS_FAILED       128u

/* ---- device-independent feature bits ---- */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_ID_NET 1u
#define VIRTIO_ID_BLOCK 2u

/* ---- split virtqueue (spec 2.7) ---- */
#define VIRTQ_DESC_F_NEXT     1u
#define VIRTQ_DESC_F_WRITE    2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY     1u
#define VIRTQ_MAX_SIZE 32768u

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* Followed by ring[size] and, with VIRTIO_F_EVENT_IDX, uint16_t used_event. */
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

/* Followed by ring[size] and, with VIRTIO_F_EVENT_IDX, uint16_t avail_event. */
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

static inline uint64_t virtq_desc_bytes(uint32_t n) { return 16ull * n; }
static inline uint64_t virtq_avail_bytes(uint32_t n) { return 6ull + 2ull * n; }
static inline uint64_t virtq_used_bytes(uint32_t n) { return 6ull + 8ull * n; }

/* Spec 2.7.10: should the side that published `new_idx` (having published up to
 * `old_idx` at the last notification decision) notify, given the other side asked to be
 * told once index `event` is passed? All arithmetic is modulo 2^16. */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- virtio-blk (spec 5.2) ---- */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_FLUSH    9

#define VIRTIO_BLK_T_IN     0u
#define VIRTIO_BLK_T_OUT    1u
#define VIRTIO_BLK_T_FLUSH  4u
#define VIRTIO_BLK_T_GET_ID 8u

#define VIRTIO_BLK_S_OK     0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_SECTOR 512u

struct virtio_blk_config {
    uint64_t capacity;   /* in 512-byte sectors */
    uint32_t size_max;
    uint32_t seg_max;
};

struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* ---- virtio-net (spec 5.1) ---- */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u

struct virtio_net_config {
    uint8_t mac[6];
    uint16_t status;
};

/* With VIRTIO_F_VERSION_1 the header always carries num_buffers: 12 bytes. */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};

#endif
