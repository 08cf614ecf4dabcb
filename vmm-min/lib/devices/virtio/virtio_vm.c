/* A run's virtio devices: created from the plan, placed in 4 KiB MMIO slots from
 * VMMB_VIRTIO_MMIO_BASE, listed in the boot info, served on the notification path the
 * plan names, and measured: over the guest's measuring phase the VMM counts kicks, exits
 * it saw, KVM's own exit counter (which also sees ioeventfd kicks that never reach this
 * process), completed chains, and CPU time of the process and the I/O thread.
 *
 * The I/O thread serves queue notifications (ioeventfd, poll) and also waits on backends
 * with input of their own (a tap device's descriptor), but only while their device has
 * receive buffers posted: without buffers the backend asks for a kick on the receive
 * queue instead, and that wakes the thread (the queue's eventfd, or with --notify exit,
 * where the thread only reads such backends, a wake eventfd the kick handler signals).
 *
 * With --notify irq the devices' used-buffer notifications go to one irqfd, routed as an
 * MSI to vCPU 0's in-kernel APIC: KVM injects the interrupt without an exit to this
 * process, the path a real virtio device's interrupts take. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio_vm.h"
#include "vstate/vm.h"
#include "vmm/virtio.h"
#include "vstate/x86_setup.h"

struct snap {
    double t, cpu, io_cpu;
    uint64_t exits, kvm_exits, kicks, chains, irqs;
};

/* --notify irq's GSI: past the in-kernel IOAPIC's 24 pins (irq-inject, which replaces the
 * routing table with its own, never shares a VM with it: see virtio_vm_attach). */
#define VIRTIO_IRQ_GSI 25u
#define MSI_ADDR_VCPU0 0xfee00000u

struct virtio_vm {
    struct vm *vm;
    unsigned ndev;
    struct virtio_dev dev[VMMB_MAX_DEVICES];
    enum vmm_notify notify;
    unsigned poll_us;
    int io_cpu;
    int efd[VMMB_MAX_DEVICES][VIRTIO_MAX_QUEUES];
    int stop_efd;
    int wake_efd;                /* --notify exit with a backend that has input */
    int irq_efd;                 /* --notify irq: the irqfd of every device */
    bool has_input;              /* some device's backend has input of its own */
    pthread_t io_thread;
    bool io_started, io_used;
    double io_cpu_total;         /* the I/O thread's CPU time, read as it stops */
    atomic_bool io_stop;
    int stats_fd;                /* vCPU 0's KVM binary statistics, -1 when unavailable */
    uint64_t stats_exits_off;
    bool in_window, window_done;
    struct snap s0, s1;
};

static double proc_cpu(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t))
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double thread_cpu(pthread_t th)
{
    clockid_t c;
    struct timespec t;
    if (pthread_getcpuclockid(th, &c) || clock_gettime(c, &t))
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Finds the u64 statistic "exits" among vCPU 0's binary statistics (KVM 5.14+). */
static void open_stats(struct virtio_vm *vv)
{
    vv->stats_fd = -1;
    int fd = ioctl(vv->vm->vcpu[0].fd, KVM_GET_STATS_FD, NULL);
    if (fd < 0)
        return;
    struct kvm_stats_header h;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || h.name_size == 0 ||
        h.name_size > 4096 || h.num_desc > 4096) {
        close(fd);
        return;
    }
    size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
    struct kvm_stats_desc *d = malloc(dsz);
    for (uint32_t i = 0; d && i < h.num_desc; i++) {
        if (pread(fd, d, dsz, (off_t)(h.desc_offset + i * dsz)) != (ssize_t)dsz)
            break;
        d->name[h.name_size - 1] = '\0';
        if (strcmp(d->name, "exits") == 0 && d->size == 1) {
            vv->stats_fd = fd;
            vv->stats_exits_off = h.data_offset + d->offset;
            free(d);
            return;
        }
    }
    free(d);
    close(fd);
}

static uint64_t kvm_exits(struct virtio_vm *vv)
{
    uint64_t v = 0;
    if (vv->stats_fd >= 0 &&
        pread(vv->stats_fd, &v, sizeof v, (off_t)vv->stats_exits_off) != (ssize_t)sizeof v)
        v = 0;
    return v;
}

/* Kicks that KVM turned into eventfd counts and the I/O thread has not read (it reads
 * only when it sleeps; a polling thread never does): count them now. */
static void drain_kicks(struct virtio_vm *vv)
{
    for (unsigned i = 0; i < vv->ndev; i++)
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
            uint64_t cnt;
            if (vv->efd[i][q] < 0 || read(vv->efd[i][q], &cnt, sizeof cnt) != sizeof cnt)
                continue;
            pthread_mutex_lock(&vv->dev[i].lock);
            vv->dev[i].kicks += cnt;
            pthread_mutex_unlock(&vv->dev[i].lock);
        }
}

static void take(struct virtio_vm *vv, struct snap *s)
{
    drain_kicks(vv);
    s->t = vm_now();
    s->cpu = proc_cpu();
    s->io_cpu = vv->io_started ? thread_cpu(vv->io_thread) : 0;
    s->exits = vv->vm->vcpu[0].exits;
    s->kvm_exits = kvm_exits(vv);
    s->kicks = s->chains = s->irqs = 0;
    for (unsigned i = 0; i < vv->ndev; i++) {
        struct virtio_dev *d = &vv->dev[i];
        pthread_mutex_lock(&d->lock);
        s->kicks += d->kicks;
        s->chains += d->chains;
        s->irqs += d->irqs;
        pthread_mutex_unlock(&d->lock);
    }
}

void virtio_vm_phase(struct vm *vm, uint32_t phase)
{
    struct virtio_vm *vv = vm->virtio;
    if (!vv || phase != VMMB_PHASE_MEASURE || vv->in_window || vv->window_done)
        return;
    take(vv, &vv->s0);
    vv->in_window = true;
}

void virtio_vm_done(struct vm *vm)
{
    struct virtio_vm *vv = vm->virtio;
    if (!vv || !vv->in_window)
        return;
    take(vv, &vv->s1);
    vv->in_window = false;
    vv->window_done = true;
}

/* --notify irq: an irqfd on an MSI route to vCPU 0, vector VMMB_VIRTIO_VECTOR. */
static int irq_route(struct virtio_vm *vv, struct vmm_err *e)
{
    struct vm *vm = vv->vm;
    if (!vm->irqchip)
        return vmm_err_set(e, VMM_EXIT_USAGE, "--notify irq raises interrupts, which workload "
                           "%s does not take; use virtio-blk-irq (or --notify exit, ioeventfd "
                           "or poll)", vm->plan->workload->name);
    if (vm->inject)
        return vmm_err_set(e, VMM_EXIT_USAGE, "--notify irq cannot share a VM with %s's own "
                           "irqfd; give that workload no devices", vm->plan->workload->name);
    if ((vv->irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "eventfd: %s", strerror(errno));
    /* One routing entry after the header (a flexible array: allocated, not declared). */
    struct kvm_irq_routing *rt = calloc(1, sizeof *rt + sizeof rt->entries[0]);
    if (!rt)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    rt->nr = 1;
    rt->entries[0].gsi = VIRTIO_IRQ_GSI;
    rt->entries[0].type = KVM_IRQ_ROUTING_MSI;
    rt->entries[0].u.msi.address_lo = MSI_ADDR_VCPU0;
    rt->entries[0].u.msi.data = VMMB_VIRTIO_VECTOR; /* fixed delivery, edge */
    struct kvm_irqfd fd = { .fd = (uint32_t)vv->irq_efd, .gsi = VIRTIO_IRQ_GSI };
    int routed = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, rt);
    free(rt);
    if (routed < 0 || ioctl(vm->vm_fd, KVM_IRQFD, &fd) < 0) {
        vm->build_unsupported = true;
        return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM refused the irqfd or its MSI route (%s): "
                           "this host cannot do --notify irq; use --notify ioeventfd",
                           strerror(errno));
    }
    for (unsigned i = 0; i < vv->ndev; i++)
        vv->dev[i].irq_fd = vv->irq_efd;
    return 0;
}

int virtio_vm_attach(struct vm *vm, struct vmm_err *e)
{
    const struct vmm_virtio_plan *p = &vm->plan->virtio;
    if (p->ndev == 0)
        return 0;
    struct virtio_vm *vv = calloc(1, sizeof *vv);
    if (!vv)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    vm->virtio = vv;
    vv->vm = vm;
    vv->notify = p->notify;
    vv->poll_us = p->poll_us;
    vv->io_cpu = p->io_cpu;
    vv->stop_efd = -1;
    vv->wake_efd = -1;
    vv->irq_efd = -1;
    vv->stats_fd = -1;
    for (unsigned i = 0; i < VMMB_MAX_DEVICES; i++)
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
            vv->efd[i][q] = -1;
    struct vmmb_boot_info *bi = guest_mem_ptr(&vm->mem, X86_BOOT_INFO_GPA, sizeof *bi);
    if (!bi)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "boot info page outside guest memory");
    for (unsigned i = 0; i < p->ndev; i++) {
        struct virtio_dev *d = &vv->dev[i];
        uint64_t gpa = VMMB_VIRTIO_MMIO_BASE + i * VMMB_VIRTIO_MMIO_SLOT;
        if (virtio_dev_init(d, p->dev[i].type, p->dev[i].args, &vm->mem, gpa, e))
            return -1;
        vv->ndev = i + 1;
        if (io_bus_add(&vm->mmio, gpa, VMMB_VIRTIO_MMIO_SLOT, virtio_mmio_io, d,
                       p->dev[i].type->name))
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "cannot place virtio device %u at 0x%llx",
                               i, (unsigned long long)gpa);
        bi->devices.dev[i] = (struct vmmb_device){ d->type->device_id,
                                                   VMMB_TRANSPORT_VIRTIO_MMIO, gpa,
                                                   VMMB_VIRTIO_MMIO_SLOT };
        if (virtio_dev_has_input(d))
            vv->has_input = true;
        if (vv->notify == VMM_NOTIFY_EXIT)
            continue;
        /* Kicks become eventfd signals inside KVM; the I/O thread serves them. A
         * notification for a queue that does not exist matches no eventfd and still
         * exits to the register file, which records it. */
        d->on_kick = NULL;
        for (unsigned q = 0; q < d->type->nqueues; q++) {
            int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (fd < 0)
                return vmm_err_set(e, VMM_EXIT_INTERNAL, "eventfd: %s", strerror(errno));
            vv->efd[i][q] = fd;
            struct kvm_ioeventfd io = {
                .datamatch = q, .addr = gpa + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4, .fd = fd,
                .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
            };
            if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
                return vmm_err_set(e, VMM_EXIT_NO_KVM, "KVM_IOEVENTFD failed (%s): this host "
                                   "cannot do --notify %s; use --notify exit", strerror(errno),
                                   vmm_notify_name(vv->notify));
        }
    }
    if (vv->notify == VMM_NOTIFY_IRQ && irq_route(vv, e))
        return -1;
    bi->devices.nr_devices = p->ndev;
    bi->devices.notify = (uint32_t)p->notify;
    if ((vv->notify != VMM_NOTIFY_EXIT || vv->has_input) &&
        (vv->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "eventfd: %s", strerror(errno));
    if (vv->notify == VMM_NOTIFY_EXIT && vv->has_input) {
        if ((vv->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "eventfd: %s", strerror(errno));
        for (unsigned i = 0; i < vv->ndev; i++)
            if (virtio_dev_has_input(&vv->dev[i]))
                vv->dev[i].input_wake_fd = vv->wake_efd;
    }
    open_stats(vv);
    return 0;
}

static bool takes(const struct virtio_dev *d, unsigned q)
{
    return !d->type->takes_buffers || d->type->takes_buffers(d, q);
}

/* One pass over every queue with notifications off (when `queues`: not on the plain-exit
 * path, whose kicks the vCPU thread serves), then over backend input. in_fd[i] is the
 * descriptor to wait on for device i's input afterwards, or -1 (none, or no buffers). */
static unsigned serve_all(struct virtio_vm *vv, bool queues, int in_fd[])
{
    unsigned work = 0;
    for (unsigned i = 0; i < vv->ndev; i++) {
        struct virtio_dev *d = &vv->dev[i];
        pthread_mutex_lock(&d->lock);
        for (unsigned q = 0; queues && q < d->type->nqueues && virtio_dev_live(d); q++) {
            if (!d->vq[q].ready || !takes(d, q))
                continue;
            vq_notify_disable(&d->vq[q]);
            work += virtio_dev_process(d, q);
        }
        in_fd[i] = -1;
        if (virtio_dev_has_input(d)) {
            bool starved;
            work += d->type->input(d, &starved);
            if (!starved)
                in_fd[i] = d->type->input_fd(d);
        }
        pthread_mutex_unlock(&d->lock);
    }
    return work;
}

/* Before sleeping: ask for kicks again; returns entries that raced in meanwhile. */
static unsigned arm_all(struct virtio_vm *vv)
{
    unsigned pending = 0;
    for (unsigned i = 0; i < vv->ndev; i++) {
        struct virtio_dev *d = &vv->dev[i];
        pthread_mutex_lock(&d->lock);
        for (unsigned q = 0; q < d->type->nqueues && virtio_dev_live(d); q++) {
            if (!d->vq[q].ready)
                continue;
            if (takes(d, q))
                pending += vq_notify_enable(&d->vq[q]);
            else if (!virtio_dev_has_input(d)) /* else the backend's input set it */
                vq_notify_disable(&d->vq[q]);
        }
        pthread_mutex_unlock(&d->lock);
    }
    return pending;
}

static void *io_thread(void *arg)
{
    struct virtio_vm *vv = arg;
    bool queues = vv->notify != VMM_NOTIFY_EXIT;
    struct pollfd pfd[VMMB_MAX_DEVICES * (VIRTIO_MAX_QUEUES + 1) + 2];
    unsigned who[VMMB_MAX_DEVICES * VIRTIO_MAX_QUEUES][2];
    int in_fd[VMMB_MAX_DEVICES];
    double window = vv->notify == VMM_NOTIFY_POLL ? vv->poll_us * 1e-6 : 0;
    double last_work = vm_now();
    while (!atomic_load(&vv->io_stop)) {
        if (serve_all(vv, queues, in_fd)) {
            if (window > 0)
                last_work = vm_now();
            continue;
        }
        if (window > 0 && vm_now() - last_work < window) {
            __asm__ volatile("pause");
            continue;
        }
        if (queues && arm_all(vv))
            continue;
        unsigned n = 0;
        for (unsigned i = 0; queues && i < vv->ndev; i++)
            for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                if (vv->efd[i][q] >= 0) {
                    pfd[n] = (struct pollfd){ .fd = vv->efd[i][q], .events = POLLIN };
                    who[n][0] = i;
                    who[n][1] = q;
                    n++;
                }
        unsigned nq = n;
        for (unsigned i = 0; i < vv->ndev; i++)
            if (in_fd[i] >= 0)
                pfd[n++] = (struct pollfd){ .fd = in_fd[i], .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = vv->stop_efd, .events = POLLIN };
        if (vv->wake_efd >= 0)
            pfd[n++] = (struct pollfd){ .fd = vv->wake_efd, .events = POLLIN };
        if (poll(pfd, n, -1) < 0 && errno != EINTR)
            break;
        for (unsigned k = 0; k < nq; k++) {
            uint64_t cnt;
            if (!(pfd[k].revents & POLLIN) || read(pfd[k].fd, &cnt, sizeof cnt) != sizeof cnt)
                continue;
            struct virtio_dev *d = &vv->dev[who[k][0]];
            pthread_mutex_lock(&d->lock);
            d->kicks += cnt - 1;
            virtio_dev_kick(d, who[k][1]); /* counts one, records misuse */
            pthread_mutex_unlock(&d->lock);
        }
        uint64_t cnt;
        if (vv->wake_efd >= 0 && (pfd[n - 1].revents & POLLIN) &&
            read(vv->wake_efd, &cnt, sizeof cnt) != sizeof cnt) {
            /* another reader cannot exist; a failed read only means nothing was there */
        }
        last_work = vm_now();
    }
    return NULL;
}

int virtio_vm_start(struct vm *vm, struct vmm_err *e)
{
    struct virtio_vm *vv = vm->virtio;
    if (!vv || (vv->notify == VMM_NOTIFY_EXIT && !vv->has_input))
        return 0;
    /* Created where it will run: on io_cpu, or off vmm_pin's CPUs. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (vv->io_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(vv->io_cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    } else {
        vm_attr_others(vm, &attr);
    }
    int rc = pthread_create(&vv->io_thread, &attr, io_thread, vv);
    pthread_attr_destroy(&attr);
    if (rc == EINVAL && vv->io_cpu >= 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot pin the I/O thread to CPU %d",
                           vv->io_cpu);
    if (rc != 0)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "cannot start the I/O thread");
    vv->io_started = vv->io_used = true;
    return 0;
}

void virtio_vm_stop(struct vm *vm)
{
    struct virtio_vm *vv = vm->virtio;
    if (!vv || !vv->io_started)
        return;
    atomic_store(&vv->io_stop, true);
    uint64_t one = 1;
    if (write(vv->stop_efd, &one, sizeof one) < 0) {
        /* the counter cannot overflow from one write; nothing else can fail here */
    }
    vv->io_cpu_total = thread_cpu(vv->io_thread); /* the thread still exists until joined */
    pthread_join(vv->io_thread, NULL);
    vv->io_started = false;
}

double virtio_vm_io_cpu(const struct vm *vm)
{
    const struct virtio_vm *vv = vm->virtio;
    return vv && vv->io_used ? vv->io_cpu_total : -1;
}

static void add(struct vmm_result *res, const char *metric, const char *unit, double v,
                int *oom)
{
    *oom |= vmm_result_add(res, metric, unit, 0, false, v);
}

void virtio_vm_collect(struct vm *vm, struct vmm_result *res)
{
    struct virtio_vm *vv = vm->virtio;
    if (!vv)
        return;
    int oom = 0;
    for (unsigned i = 0; i < vv->ndev; i++) {
        struct virtio_dev *d = &vv->dev[i];
        for (unsigned k = 0; k < VIRTIO_ERR_COUNT; k++) {
            if (!d->errors[k])
                continue;
            char m[VMM_METRIC_MAX];
            snprintf(m, sizeof m, "virtio_err_%s", virtio_err_name(k));
            add(res, m, "count", (double)d->errors[k], &oom);
        }
        if (d->first_error[0]) /* what the driver did wrong, kept with the console log */
            vm_console_note(vm, "%s", d->first_error);
    }
    if (res->status != VMM_STATUS_OK || !vv->window_done)
        goto out;
    double wall = vv->s1.t - vv->s0.t;
    double reqs = (double)(vv->s1.chains - vv->s0.chains);
    if (wall <= 0 || reqs <= 0)
        goto out;
    add(res, "requests", "count", reqs, &oom);
    add(res, "kicks_per_req", "ratio", (double)(vv->s1.kicks - vv->s0.kicks) / reqs, &oom);
    add(res, "exits_per_req", "ratio", (double)(vv->s1.exits - vv->s0.exits) / reqs, &oom);
    if (vv->notify == VMM_NOTIFY_IRQ)
        add(res, "irqs_per_req", "ratio", (double)(vv->s1.irqs - vv->s0.irqs) / reqs, &oom);
    if (vv->stats_fd >= 0)
        add(res, "kvm_exits_per_req", "ratio",
            (double)(vv->s1.kvm_exits - vv->s0.kvm_exits) / reqs, &oom);
    add(res, "vmm_cpu", "cores", (vv->s1.cpu - vv->s0.cpu) / wall, &oom);
    add(res, "cpu_per_req", "us", (vv->s1.cpu - vv->s0.cpu) * 1e6 / reqs, &oom);
    if (vv->io_used)
        add(res, "io_thread_cpu", "cores", (vv->s1.io_cpu - vv->s0.io_cpu) / wall, &oom);
    /* Per batch: the guest's time per request as rates, with the request size (the I/O
     * workloads' per-batch latency; kvs-io's latency percentiles, at a point, are not a
     * time per request of the device). */
    uint64_t size = vmm_plan_param(vm->plan, "size", 0);
    size_t n = res->nsamples;
    for (size_t i = 0; i < n && !oom; i++) {
        struct vmm_sample s = res->samples[i];
        if (strcmp(s.metric, "latency") != 0 || s.point[0] || !(s.value > 0))
            continue;
        oom |= vmm_result_add(res, "iops", "1/s", s.batch, s.warmup, 1e9 / s.value);
        if (size)
            oom |= vmm_result_add(res, "bytes_per_s", "B/s", s.batch, s.warmup,
                                  (double)size * 1e9 / s.value);
    }
out:
    if (oom)
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory storing samples");
}

void virtio_vm_destroy(struct vm *vm)
{
    struct virtio_vm *vv = vm->virtio;
    if (!vv)
        return;
    virtio_vm_stop(vm);
    for (unsigned i = 0; i < vv->ndev; i++)
        virtio_dev_destroy(&vv->dev[i]);
    for (unsigned i = 0; i < VMMB_MAX_DEVICES; i++)
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
            if (vv->efd[i][q] >= 0)
                close(vv->efd[i][q]);
    if (vv->stop_efd >= 0)
        close(vv->stop_efd);
    if (vv->wake_efd >= 0)
        close(vv->wake_efd);
    if (vv->irq_efd >= 0)
        close(vv->irq_efd);
    if (vv->stats_fd >= 0)
        close(vv->stats_fd);
    free(vv);
    vm->virtio = NULL;
}
