/* The virtio device types vmm-min knows, and the checking of a run's device specs. A new
 * device type is one file defining a struct virtio_dev_type and one line here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/virtio.h"
#include "vmm/virtio_plan.h"

extern const struct virtio_dev_type virtio_blk_type, virtio_net_type;

static const struct virtio_dev_type *const types[] = {
    &virtio_blk_type,
    &virtio_net_type,
};
#define NTYPES (sizeof types / sizeof types[0])

const struct virtio_dev_type *virtio_type_find(const char *name)
{
    for (unsigned i = 0; i < NTYPES; i++)
        if (strcmp(types[i]->name, name) == 0)
            return types[i];
    return NULL;
}

void virtio_type_list(char *buf, unsigned len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < NTYPES && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s:%s", i ? ", " : "",
                                 types[i]->name, types[i]->backends);
}

const char *vmm_notify_name(enum vmm_notify n)
{
    switch (n) {
    case VMM_NOTIFY_EXIT: return "exit";
    case VMM_NOTIFY_IOEVENTFD: return "ioeventfd";
    case VMM_NOTIFY_POLL: return "poll";
    case VMM_NOTIFY_IRQ: return "irq";
    }
    return "?";
}

int vmm_virtio_plan_make(const struct vmm_virtio_request *rq, struct vmm_virtio_plan *p,
                         struct vmm_err *e)
{
    memset(p, 0, sizeof *p);
    p->io_cpu = -1;
    if (rq->ndevices > VMMB_MAX_DEVICES)
        return vmm_err_set(e, VMM_EXIT_USAGE, "%u devices requested; vmm-min gives a guest at "
                           "most %d", rq->ndevices, VMMB_MAX_DEVICES);
    for (unsigned i = 0; i < rq->ndevices; i++) {
        const char *spec = rq->devices[i];
        const char *colon = strchr(spec, ':');
        char name[16], known[256];
        virtio_type_list(known, sizeof known);
        size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
        if (nlen == 0 || nlen >= sizeof name)
            return vmm_err_set(e, VMM_EXIT_USAGE, "device '%s' is not TYPE:BACKEND; known: %s",
                               spec, known);
        memcpy(name, spec, nlen);
        name[nlen] = '\0';
        const struct virtio_dev_type *t = virtio_type_find(name);
        if (!t)
            return vmm_err_set(e, VMM_EXIT_USAGE, "unknown device type '%s'; known: %s", name,
                               known);
        const char *args = colon ? colon + 1 : "";
        if (strlen(args) >= VMM_DEV_ARGS_MAX)
            return vmm_err_set(e, VMM_EXIT_USAGE, "device '%.40s...' is too long", spec);
        if (t->check(args, e))
            return -1;
        p->dev[i].type = t;
        snprintf(p->dev[i].args, sizeof p->dev[i].args, "%s", args);
        p->ndev = i + 1;
    }
    const char *n = rq->notify ? rq->notify : "exit";
    if (strcmp(n, "exit") == 0)
        p->notify = VMM_NOTIFY_EXIT;
    else if (strcmp(n, "ioeventfd") == 0)
        p->notify = VMM_NOTIFY_IOEVENTFD;
    else if (strcmp(n, "poll") == 0)
        p->notify = VMM_NOTIFY_POLL;
    else if (strcmp(n, "irq") == 0)
        p->notify = VMM_NOTIFY_IRQ;
    else
        return vmm_err_set(e, VMM_EXIT_USAGE, "unknown notification path '%s'; use exit, "
                           "ioeventfd, poll or irq", n);
    if (rq->poll_us > VMM_POLL_US_MAX)
        return vmm_err_set(e, VMM_EXIT_USAGE, "poll window of %u us is above the %u us limit",
                           rq->poll_us, VMM_POLL_US_MAX);
    p->poll_us = rq->poll_us ? rq->poll_us : VMM_POLL_US_DEFAULT;
    if (rq->io_cpu_set && rq->io_cpu >= 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        if (rq->io_cpu >= ncpu)
            return vmm_err_set(e, VMM_EXIT_USAGE, "I/O thread CPU %d does not exist; this host "
                               "has CPUs 0-%ld", rq->io_cpu, ncpu - 1);
        p->io_cpu = rq->io_cpu;
    }
    return 0;
}
