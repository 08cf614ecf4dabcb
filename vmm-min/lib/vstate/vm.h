/* Internal state of one VM run, shared by the exit loop, the devices and the
 * supervising thread in vmm_run.c. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/io_bus.h"
#include "vmm/plan.h"
#include "vmm/result.h"
#include "vstate/x86_setup.h"

/* The console keeps this much of what the guest printed, and a guest printing more is
 * flooding: the run ends. Benchmark guests print a few lines; each byte is an exit
 * (tens of microseconds on PVM hosts), so a larger limit would only let a flood run
 * into the timeout instead of being named. */
#define VMM_CONSOLE_KEEP (16u << 10)
#define VMM_CONSOLE_FLOOD VMM_CONSOLE_KEEP

enum vm_stop {
    VM_RUNNING = 0,
    VM_STOP_DONE,            /* vCPU 0 reported results or crashed: stop the others */
    VM_STOP_TIMEOUT,         /* the run overstayed plan->timeout_s */
    VM_STOP_PROBE_TIMEOUT,   /* a probe did not return within plan->probe_timeout_s */
};

struct vcpu {
    struct vm *vm;
    unsigned index;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool started;
    atomic_bool finished;
    atomic_int phase;            /* enum vmmb_phase */
    _Atomic double probe_deadline; /* monotonic seconds; 0 when not probing */
    uint64_t exits;
    uint64_t ran_on[VMM_CPUSET_WORDS]; /* host CPUs seen after KVM_RUN returned */
    int pmu_fd[VMM_MAX_COUNTERS];
    uint64_t pmu_count[VMM_MAX_COUNTERS];
    bool pmu_open;                     /* counters opened on this thread (then read) */
    uint64_t affinity[VMM_CPUSET_WORDS];
    uint64_t stuck_rip;          /* where it was when the supervisor stopped it */
    uint8_t stuck_bytes[4];
    bool stuck_bytes_ok;
    char stuck_apic[128];        /* its local APIC then (irqchip VMs; vstate/apic_note.h) */
    double cpu_s;                /* this thread's CPU time, read as it ends */
};

struct vm {
    const struct vmm_plan *plan;
    int kvm_fd, vm_fd;
    size_t run_size;
    struct guest_mem mem;
    struct io_bus pio, mmio;
    struct vcpu vcpu[VMMB_MAX_VCPUS];
    unsigned nvcpus;

    pthread_mutex_t lock;        /* guards result, console, done fields, and cond */
    pthread_cond_t cond;         /* signalled when a vCPU finishes or changes phase */
    atomic_int stop;             /* enum vm_stop */
    struct vmm_result *res;
    bool done;                   /* the guest wrote VMMB_PORT_DONE */
    uint64_t done_gpa;
    uint32_t done_hi;            /* last VMMB_PORT_DONE_HI write: done_gpa's high half */
    atomic_uint_fast64_t console_total; /* serial bytes the guest wrote, kept or not */
    struct virtio_vm *virtio;    /* the run's virtio devices (virtio_vm.c); NULL without */
    struct x86_tables tables;
    uint64_t entry, image_end;   /* the guest ELF's entry and end (vm_build_guest) */
    bool irqchip;                /* KVM's in-kernel interrupt controller (VMMB_WL_IRQ) */
    bool build_unsupported;      /* vm_build's failure is the host lacking a feature */
    struct irq_inject *inject;   /* irq-inject's irqfd and host thread (VMMB_WL_IRQFD) */
    atomic_bool touch_requested; /* vCPU 0 began measuring: the supervisor samples placement */
    bool touch_observed;         /* the after-touch placement sample was taken */
    /* Where threads that have no CPU of their own may run: the CPUs the process had,
     * less vmm_pin's, so only the supervisor is on vmm_pin CPUs (others_set: vmm_pin given). */
    cpu_set_t others;
    bool others_set;
    double supervisor_cpu_s;     /* the supervisor's CPU time while the guest ran, less: */
    double observe_cpu_s;        /* its placement sample (smaps, move_pages), one-off */
};

double vm_now(void);
/* The calling thread's CPU time in seconds (base/clock.c). */
double vm_thread_cpu(void);
/* Records a failure for this run (first one wins) under the VM lock. */
void vm_fail(struct vm *vm, enum vmm_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends "; registers: RIP=... " for this vCPU to buf. */
void vm_regdump(struct vcpu *v, char *buf, size_t len);

/* The stages of vmm_run, exposed for the benchmarks' bare-loop reference, which builds
 * the same VM and replaces only the exit loop. */
struct vm *vm_create(const struct vmm_plan *plan, struct vmm_result *res);
/* The guest-visible machine every backend shares: guest memory with its placement
 * (shared: a memfd QEMU maps too), GDT, page tables and the ELF image; vm->entry and
 * vm->image_end set. The boot-info page follows with vm_fill_boot_info. */
int vm_build_guest(struct vm *vm, bool shared, struct vmm_err *e);
/* Everything up to the first KVM_RUN; fills res->tsc_khz. Failures are the host's. */
int vm_build(struct vm *vm, struct vmm_err *e);
void vm_destroy(struct vm *vm);   /* does not free vm */
/* Writes the boot-info page from vm->plan, vm->mem and vm->tables (part of vm_build;
 * exposed for the bootinfo fuzz target, which checks the guest side reads it back). */
int vm_fill_boot_info(struct vm *vm, uint64_t image_end, uint64_t tsc_khz);

void *vcpu_thread(void *arg);

/* vm_supervise.c: SIGUSR1 without SA_RESTART, so a signal makes KVM_RUN return EINTR. */
void vm_install_kick_handler(void);
/* Waits for vCPU 0, enforcing both timeouts, then stops every vCPU. */
void vm_supervise(struct vm *vm, double deadline);
/* After a forced stop: the run's status and reason (timeout or unsupported, with RIP). */
void vm_explain_stop(struct vm *vm);

/* console.c, the console log's one writer: appends bytes (truncating at the limit),
 * or a line "vmm: ..." with a note about the run. */
void vm_console_put(struct vm *vm, const char *s, size_t n);
void vm_console_note(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Host PMU counters on a vCPU thread: opened first thing, read last thing. */
void vcpu_counters_start(struct vcpu *v);
void vcpu_counters_stop(struct vcpu *v);

/* Samples guest memory placement once, when vCPU 0 starts measuring: by then the guest
 * has touched what it uses. Called on the supervisor, never on a vCPU thread. */
void vm_observe_after_touch(struct vm *vm);
/* vmm_run.c's stages the QEMU backend shares: vm->others from the CPUs the process had
 * (saved) less vmm_pin's; the supervisor onto vmm_pin (returns whether it moved); the
 * placement record before the guest runs and after (from vcpu[].ran_on/affinity and the
 * memory itself). */
void vm_plan_thread_masks(struct vm *vm, const cpu_set_t *saved);
bool vm_pin_supervisor(const struct vmm_placement *p);
void vm_observe_start(struct vm *vm);
void vm_observe_end(struct vm *vm);
/* Applies vm->others to a thread about to be created (no-op without vmm_pin). */
void vm_attr_others(struct vm *vm, pthread_attr_t *attr);

int devices_register(struct vm *vm);

/* Validates the result area at gpa and converts its records into samples. */
void results_collect(const struct guest_mem *gm, uint64_t gpa, uint64_t tsc_khz,
                     struct vmm_result *res);
/* The same, also checking each record's vCPU (< nr_vcpus) and that its point names none
 * of param_names (NULL-terminated, may be NULL). */
void results_collect_checked(const struct guest_mem *gm, uint64_t gpa, uint64_t tsc_khz,
                             unsigned nr_vcpus, const char *const *param_names,
                             struct vmm_result *res);

#endif
