/* The guest/VMM contract. Included by vmm-min (host) and by the guest kernel
 * (freestanding), so it uses only fixed-width types and no libc.
 *
 * Entry: every vCPU starts in 64-bit mode at the ELF entry point, CPL0, interrupts off,
 * with the VMM-built page tables (identity map of guest RAM and the MMIO window) and GDT
 * (layout below) loaded, and
 *     rdi = guest-physical address of struct vmmb_boot_info
 *     rsi = this vCPU's index (0 is the bootstrap vCPU)
 * All vCPUs start at once. The guest installs its own IDT and TSS (the GDT has one empty
 * slot for the TSS, which the vCPUs fill and load in turn) and sets its own stacks.
 * vCPU 0 runs the workload and reports; the others halt, or, for a workload flagged
 * VMMB_WL_SMP, drop to ring 3 and run the jobs vCPU 0 hands them through shared memory
 * (a HLT from a vCPU other than 0 just ends that vCPU). All mappings are user-accessible and CR4.SMEP/SMAP are off, so the same
 * workload code runs at CPL0 or CPL3.
 *
 * Exit: the guest writes the guest-physical address of its struct vmmb_result_header as
 * two 32-bit outs: the high half to VMMB_PORT_DONE_HI (0 when never written), then the
 * low half to VMMB_PORT_DONE, which ends the run. The VMM reads the results through its
 * checked translation; nothing the guest wrote is trusted.
 *
 * Mailbox (ABI 4): before each of those port writes the guest also stores what it writes
 * in the boot info's mailbox (struct vmmb_mailbox), because a VMM that drops writes to
 * ports it does not serve (QEMU) would lose them. vmm-min ignores the mailbox: the ports
 * stay its contract. */
#ifndef VMM_GUEST_ABI_H
#define VMM_GUEST_ABI_H

#include <stdint.h>

#define VMMB_ABI_VERSION 4

/* ---- I/O ports and MMIO the VMM provides ---- */
#define VMMB_PORT_SERIAL     0x3f8u  /* COM1 data: console output, one byte per out */
#define VMMB_PORT_SERIAL_LSR 0x3fdu  /* line status: always "transmitter empty" */
#define VMMB_PORT_INJECT_MBOX 0x7d8u /* irq-inject: outl the GPA of struct vmmb_inject_mbox */
#define VMMB_PORT_INJECT     0x7dcu  /* irq-inject: outl asks the host thread for one interrupt */
#define VMMB_PORT_DONE_HI    0x7ecu  /* outl: high 32 bits of the result header's GPA */
#define VMMB_PORT_DONE       0x7f0u  /* outl: low 32 bits of that GPA; ends the run */
#define VMMB_PORT_PHASE      0x7f4u  /* outl: enum vmmb_phase */
#define VMMB_PORT_FAULT      0x7f8u  /* outl: exception vector; frame is on the guest stack */
#define VMMB_PORT_BENCH      0x7fcu  /* pio workloads: a port whose exits do nothing */
#define VMMB_MMIO_BENCH_GPA  0xd0000000ull /* mmio workloads: one page, reads 0, writes dropped */
#define VMMB_MMIO_BENCH_SIZE 0x1000ull

/* Phases tell the VMM what a hang means. A workload probes its operation once (PROBE)
 * before measuring: if the probe does not come back within the probe timeout, the
 * operation is unsupported on this host (e.g. vmcall under PVM), not a hang. */
enum vmmb_phase {
    VMMB_PHASE_BOOT = 0,
    VMMB_PHASE_PROBE = 1,
    VMMB_PHASE_MEASURE = 2,
};

/* ---- GDT built by the VMM ---- */
#define VMMB_SEL_KCODE 0x08
#define VMMB_SEL_KDATA 0x10
#define VMMB_SEL_UDATA 0x1b  /* 0x18 | RPL3; data before code as SYSRET expects */
#define VMMB_SEL_UCODE 0x23  /* 0x20 | RPL3 */
#define VMMB_SEL_TSS   0x28  /* 16-byte slot the guest fills, then ltr */
#define VMMB_GDT_ENTRIES 7

/* ---- Boot info: one page written by the VMM before entry ---- */
#define VMMB_BOOT_MAGIC 0x544f4f42424d4d56ull /* "VMMBBOOT" */
#define VMMB_NAME_MAX 32
#define VMMB_MAX_PARAMS 16
#define VMMB_MAX_MEM_RANGES 16
#define VMMB_MAX_VCPUS 64

struct vmmb_param {
    char name[16];
    uint64_t value;
};

enum vmmb_mem_type { VMMB_MEM_RAM = 1, VMMB_MEM_RESERVED = 2 };

struct vmmb_mem_range {
    uint64_t gpa;
    uint64_t size;
    uint32_t type;       /* enum vmmb_mem_type */
    uint32_t node;       /* guest NUMA node */
};

/* Devices the VMM gives the guest (virtio-mmio windows), listed in the boot info. */
#define VMMB_MAX_DEVICES 8
#define VMMB_TRANSPORT_VIRTIO_MMIO 1u

struct vmmb_device {
    uint32_t type;               /* virtio device ID: 1 net, 2 block */
    uint32_t transport;          /* VMMB_TRANSPORT_VIRTIO_MMIO */
    uint64_t gpa;                /* register window, uncached, user-accessible */
    uint64_t size;
};

struct vmmb_boot_devices {
    uint32_t nr_devices;
    uint32_t notify;             /* how kicks reach the device model: 0 exit, 1 ioeventfd, 2 poll, 3 irq
                                  (ioeventfd kicks, interrupts at vector VMMB_VIRTIO_VECTOR) */
    struct vmmb_device dev[VMMB_MAX_DEVICES];
};

/* Written by the guest, read by a VMM that cannot see the control ports (QEMU). Plain
 * stores, outside every timed region, each made before the matching port write. */
#define VMMB_MBOX_FAULTED 0x100u  /* fault = VMMB_MBOX_FAULTED | vector once one was taken */
struct vmmb_mailbox {
    volatile uint64_t done_gpa;  /* the result header's GPA, before VMMB_PORT_DONE; 0 before */
    volatile uint32_t phase;     /* enum vmmb_phase, before VMMB_PORT_PHASE */
    volatile uint32_t fault;     /* VMMB_MBOX_FAULTED | vector, before VMMB_PORT_FAULT; 0 before */
};

struct vmmb_boot_info {
    uint64_t magic;
    uint32_t abi_version;
    uint32_t size;               /* sizeof(struct vmmb_boot_info) */
    uint64_t tsc_khz;            /* from KVM_GET_TSC_KHZ; 0 when unknown */
    uint32_t nr_vcpus;
    uint32_t nr_params;
    char workload[VMMB_NAME_MAX];/* NUL-terminated; validated against the image's catalogue */
    struct vmmb_param params[VMMB_MAX_PARAMS]; /* every declared parameter, defaults filled */
    uint32_t nr_mem;
    uint32_t reserved0;
    struct vmmb_mem_range mem[VMMB_MAX_MEM_RANGES];
    uint64_t free_gpa;           /* first guest RAM byte past the image and VMM structures */
    uint64_t free_size;          /* bytes from free_gpa the guest may use (results, buffers) */
    /* vNUMA: guest node of each vCPU; each RAM range in mem[] names its guest node. */
    uint32_t nr_vnodes;          /* 1 when no layout was asked */
    uint32_t reserved1;
    uint8_t vcpu_node[VMMB_MAX_VCPUS];
    uint64_t tables_gpa, tables_size; /* the VMM's page tables: RAM the guest must not use */
    uint32_t guest_page_size;    /* bytes per page in the VMM-built tables (4K, 2M, 1G) */
    uint32_t reserved2;
    /* Devices: check size covers this before reading it. */
    struct vmmb_boot_devices devices;
    /* The host's last-level cache in bytes (hwloc), 0 when unknown: memory workloads
     * size their arrays from it (STREAM's 4x rule). */
    uint64_t llc_bytes;
    uint64_t workload_flags;     /* the requested workload's VMMB_WL_* flags */
    /* ABI 4. For a VMM that enters the guest through firmware (QEMU with vmm-min's reset
     * stub as -bios, vmm-min/lib/qemu/): the ELF entry and the page tables (CR3) the stub
     * loads. vmm-min enters directly and writes them too. */
    uint64_t entry;
    uint64_t cr3;
    struct vmmb_mailbox mbox;    /* guest-written; see "Mailbox" above */
};

/* ---- Workload catalogue: the guest image describes itself ----
 * The guest places one struct vmmb_workload_desc per workload in the ELF section
 * VMMB_WORKLOAD_SECTION. The VMM reads that section (with bounds checks) to list
 * workloads and to validate a requested workload and its parameters before booting. */
#define VMMB_WORKLOAD_SECTION ".vmmb_workloads"
#define VMMB_MAX_WORKLOAD_PARAMS 12

struct vmmb_param_desc {
    char name[16];
    char help[64];
    uint64_t def, min, max;
};

#define VMMB_RING0 (1u << 0)
#define VMMB_RING3 (1u << 3)

struct vmmb_workload_desc {
    char name[VMMB_NAME_MAX];
    char summary[96];            /* what it measures */
    char unit[16];               /* unit of its headline metric */
    uint32_t rings;              /* VMMB_RING0 | VMMB_RING3: where it may run */
    uint32_t nr_params;
    struct vmmb_param_desc params[VMMB_MAX_WORKLOAD_PARAMS];
    uint64_t entry;              /* guest address of the run function; ignored by the VMM */
    uint64_t flags;              /* VMMB_WL_* */
};

/* Secondary vCPUs drop to ring 3 and serve jobs (multi-vCPU workloads). */
#define VMMB_WL_SMP (1ull << 0)
/* Uses SSE at CPL3: the workload refuses ring 0 (CPL0 is emulated on PVM hosts, and the
 * emulator cannot run vector instructions). */
#define VMMB_WL_VECTOR (1ull << 1)
/* Interrupt workloads (workloads/irq): the VMM creates KVM's in-kernel interrupt
 * controller (a local APIC per vCPU) for this VM only, so no other workload's VM setup
 * changes; the guest enables x2APIC mode and the interrupt gates (guest/irq.h) on every
 * vCPU, and with VMMB_WL_SMP its secondary vCPUs serve jobs in ring 0 (where HLT and the
 * APIC MSRs are allowed) instead of ring 3. A HLT no longer reaches the VMM: KVM blocks
 * the vCPU until an interrupt comes. */
#define VMMB_WL_IRQ (1ull << 2)
/* irq-inject: with VMMB_WL_IRQ, the VMM also routes an irqfd (KVM_IRQFD, an MSI route to
 * vCPU 0's APIC, vector VMMB_INJECT_VECTOR) and runs a host thread that signals it when
 * the guest asks (VMMB_PORT_INJECT), after `delay_us`, noting the host TSC just before
 * the write() in the mailbox the guest registered (VMMB_PORT_INJECT_MBOX). */
#define VMMB_WL_IRQFD (1ull << 3)
#define VMMB_INJECT_VECTOR 0xf3u
/* --notify irq: the vector of virtio used-buffer notifications (MSI to vCPU 0). */
#define VMMB_VIRTIO_VECTOR 0xf4u
#define VMMB_NOTIFY_IRQ 3u

/* The irq-inject mailbox, in guest RAM below 4 GiB, 8-byte aligned. The VMM writes
 * tsc_offset once at registration: guest TSC = host TSC + tsc_offset (KVM's
 * KVM_VCPU_TSC_OFFSET attribute of vCPU 0, with the guest TSC at the host's rate);
 * offset_known 0 when the host's KVM cannot say. Then, per request, host_tsc and seq. */
struct vmmb_inject_mbox {
    uint64_t tsc_offset;
    uint32_t offset_known;
    uint32_t delay_us;           /* guest-written before registering: host wait per request */
    volatile uint64_t host_tsc;  /* host TSC just before the irqfd write() */
    volatile uint64_t seq;       /* requests served */
};

/* ---- Result area: written by the guest, validated by the VMM ---- */
#define VMMB_RESULT_MAGIC 0x544c5352424d4d56ull /* "VMMBRSLT" */
/* Records one run may report (the VMM's VMM_RESULT_MAX_RECORDS): the guest kernel sizes
 * its result area to at most this, and the VMM refuses a larger count. 2^17 keeps storing
 * the worst run within seconds and ~17 MB (README, "Bounded guest output"). */
#define VMMB_MAX_RECORDS (1u << 17)

enum vmmb_result_status {
    VMMB_RESULT_OK = 1,
    VMMB_RESULT_UNSUPPORTED = 2, /* reason says why */
    VMMB_RESULT_ERROR = 3,       /* reason says why */
};

/* One record is one batch: `iters` operations took `cycles` TSC cycles in total. */
enum vmmb_record_kind {
    VMMB_REC_CALIBRATION = 1,    /* the same loop with an empty body: the timing floor */
    VMMB_REC_MEASURE = 2,
    VMMB_REC_LATENCY = 3,        /* one operation's own latency (iters = 1), e.g. an I/O request */
    VMMB_REC_BYTES = 4,          /* `iters` bytes moved in `cycles`: a bandwidth */
    VMMB_REC_INFO = 5,           /* a fact the run measured against: `iters` is its value,
                                    `batch` which fact (enum vmmb_info), `cycles` unused */
    VMMB_REC_OPS = 6,            /* `iters` units of work done in `cycles`: a throughput
                                    (macro workloads: flops, keys, updates, edges, requests) */
};

/* A record's point: the coordinates of one measurement inside a sweeping run, as
 * "key=value key=value" (keys [a-z_], values [A-Za-z0-9_.-], at most 4 pairs, no key of
 * the run's own parameters), "" for none. The VMM validates it and stores each point of a
 * run as its own set of samples whose parameters are the run's plus the point's. */
#define VMMB_POINT_MAX 48
#define VMMB_POINT_PAIRS 4

enum vmmb_info {
    VMMB_INFO_LLC_BYTES = 1,     /* last-level cache size the workload sized against */
    VMMB_INFO_TLB_REACH_BYTES = 2, /* largest data TLB's entries x the guest page size */
    VMMB_INFO_DATA_BYTES = 3,    /* macro workloads: bytes of their data on the point's node */
};

#define VMMB_REC_WARMUP 1u       /* flags: declared warm-up, excluded from statistics */

struct vmmb_record {
    uint32_t kind;
    uint32_t flags;
    uint32_t batch;
    uint32_t vcpu;               /* the vCPU that measured it (< nr_vcpus) */
    uint64_t iters;
    uint64_t cycles;
    char point[VMMB_POINT_MAX];  /* NUL-terminated within the array */
};

struct vmmb_result_header {
    uint64_t magic;
    uint32_t abi_version;
    uint32_t status;             /* enum vmmb_result_status */
    uint32_t nr_records;         /* records follow the header directly */
    uint32_t record_size;        /* sizeof(struct vmmb_record) */
    char reason[128];            /* NUL-terminated within the array, or rejected */
};

#endif
