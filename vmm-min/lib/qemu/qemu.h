/* The QEMU backend: the same guest image and boot info as vmm-min, run by QEMU with KVM
 * (hypervisor = qemu-microvm). vmm-min builds guest memory in a memfd QEMU maps, QEMU
 * boots it through the reset stub (reset_stub.S), and vmm-min reads the results from its
 * own mapping of the same pages after QEMU exits. */
#ifndef VMM_QEMU_H
#define VMM_QEMU_H

#include <stddef.h>
#include <sys/types.h>

#include "vmm/error.h"
#include "vmm/plan.h"
#include "vmm/result.h"

/* What the command line needs beyond the plan. */
struct qemu_launch {
    const char *binary;          /* vmm_qemu_binary() */
    const char *bios;            /* the reset stub */
    int mem_fd;                  /* guest RAM memfd, inherited by QEMU */
    const char *qmp_path;        /* QMP's unix socket, in a private directory */
};

#define QEMU_ARGV_MAX 64

struct qemu_argv {
    char *argv[QEMU_ARGV_MAX + 1];   /* NULL-terminated */
    unsigned argc;
    char text[4096];                 /* the strings argv points into */
    size_t used;
};

/* The argv that runs plan p (see qemu_cmdline.c for each option and why).
 * Errors: VMM_EXIT_USAGE when the plan asks for something the command line cannot say
 * (vmm_plan_make refuses those first: this is the backstop). */
int qemu_cmdline_build(const struct vmm_plan *p, const struct qemu_launch *l,
                       struct qemu_argv *out, struct vmm_err *e);

/* What QEMU cannot run of a plan, refused before any run (vmm_plan_make calls this for
 * every QEMU hypervisor): errors name the key (VMM_EXIT_USAGE), or the QEMU binary that
 * does not run. */
int qemu_plan_check(const struct vmm_plan *p, struct vmm_err *e);

/* Scans a QMP query-cpus-fast reply (one line of JSON, untrusted text) for each CPU's
 * "cpu-index" and "thread-id", keys of the objects of the reply's "return" array at their
 * own level. Fills tid[0..ncpus-1]; returns 0 when every index 0..ncpus-1 appears exactly
 * once with a positive thread id and nothing else does, -1 otherwise (an "error" reply,
 * broken or hostile text included). */
int qmp_scan_cpus(const char *reply, size_t len, pid_t *tid, unsigned ncpus);

/* QMP over a unix socket: connect (retrying until deadline, monotonic seconds, while
 * QEMU starts), send one command and wait for its reply line (events are skipped).
 * Errors: -1 with a reason in why. */
struct qmp {
    int fd;
    char buf[65536];
    size_t len;
};
int qmp_connect(struct qmp *q, const char *path, double deadline, pid_t qemu, char *why,
                size_t whylen);
/* The reply line, NUL-terminated, in *reply (points into q->buf, valid until the next
 * call). */
#define QMP_CLOSED "QEMU closed QMP" /* qmp_command's reason when QEMU hung up */
int qmp_command(struct qmp *q, const char *cmd, double deadline, const char **reply,
                size_t *reply_len, char *why, size_t whylen);
void qmp_close(struct qmp *q);

/* Runs plan p under QEMU and fills *res like vmm_run (initialised here). */
void qemu_run(const struct vmm_plan *p, struct vmm_result *res);

#endif
