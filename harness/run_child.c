#include "run_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define WIRE_MAGIC 0x766d6d62u

/* The child sends its result as: this header, nsamples samples, console_len bytes. */
struct wire {
    uint32_t magic;
    uint32_t status;
    char reason[sizeof(((struct vmm_result *)0)->reason)];
    uint64_t nsamples, console_len, tsc_khz, exits;
    double wall_seconds;
    uint8_t console_truncated;
    struct vmm_placement_obs placement;
};

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static __attribute__((noreturn)) void child_main(const struct vmm_plan *plan, int fd)
{
    struct vmm_result r;
    vmm_run(plan, &r);
    struct wire w;
    memset(&w, 0, sizeof w);
    w.magic = WIRE_MAGIC;
    w.status = r.status;
    memcpy(w.reason, r.reason, sizeof w.reason);
    w.nsamples = r.nsamples;
    w.console_len = r.console_len;
    w.tsc_khz = r.tsc_khz;
    w.exits = r.exits;
    w.wall_seconds = r.wall_seconds;
    w.console_truncated = r.console_truncated;
    w.placement = r.placement;
    int rc = write_all(fd, &w, sizeof w) ||
             write_all(fd, r.samples, r.nsamples * sizeof *r.samples) ||
             write_all(fd, r.console ? r.console : "", r.console_len);
    _exit(rc ? 3 : 0);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Reads until EOF or the deadline into a growing buffer. Returns -1 on timeout. */
static int read_until(int fd, double deadline, char **buf, size_t *len)
{
    size_t cap = 1 << 16;
    *len = 0;
    *buf = malloc(cap);
    if (!*buf)
        return -2;
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        if (*len == cap) {
            char *nb = realloc(*buf, cap * 2);
            if (!nb)
                return -2;
            *buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, *buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        *len += (size_t)n;
    }
}

/* The child is ours, but its bytes are checked anyway: a VMM bug must not become a
 * harness crash. */
static void decode(const char *buf, size_t len, struct vmm_result *res)
{
    struct wire w;
    if (len < sizeof w) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "run child sent %zu bytes, no result", len);
        return;
    }
    memcpy(&w, buf, sizeof w);
    size_t rest = len - sizeof w;
    if (w.magic != WIRE_MAGIC || w.status > VMM_STATUS_HOST_ERROR ||
        w.nsamples > rest / sizeof(struct vmm_sample) || w.nsamples > VMM_RESULT_MAX_SAMPLES ||
        w.console_len != rest - w.nsamples * sizeof(struct vmm_sample) ||
        !memchr(w.reason, '\0', sizeof w.reason)) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "run child sent a garbled result");
        return;
    }
    const struct vmm_sample *s = (const struct vmm_sample *)(buf + sizeof w);
    for (uint64_t i = 0; i < w.nsamples; i++) {
        struct vmm_sample x;
        memcpy(&x, &s[i], sizeof x);
        x.metric[sizeof x.metric - 1] = x.unit[sizeof x.unit - 1] = '\0';
        x.point[sizeof x.point - 1] = '\0';
        if (vmm_point_check(x.point, NULL)) {
            vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "run child sent a garbled point");
            return;
        }
        if (vmm_result_add_point(res, x.metric, x.unit, x.point, x.batch, x.warmup, x.value)) {
            vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory");
            return;
        }
    }
    res->console = malloc(w.console_len + 1);
    if (res->console) {
        memcpy(res->console, buf + sizeof w + w.nsamples * sizeof *s, w.console_len);
        res->console[w.console_len] = '\0';
        res->console_len = w.console_len;
    }
    res->console_truncated = w.console_truncated;
    res->placement = w.placement;
    /* Strings the harness prints and stores must end inside their arrays. */
    res->placement.requested[sizeof res->placement.requested - 1] = '\0';
    res->placement.mismatch[sizeof res->placement.mismatch - 1] = '\0';
    if (res->placement.nvcpus > VMMB_MAX_VCPUS || res->placement.nvnodes > VMM_MAX_VNODES)
        res->placement.valid = false;
    res->tsc_khz = w.tsc_khz;
    res->exits = w.exits;
    res->wall_seconds = w.wall_seconds;
    if (w.status != VMM_STATUS_OK)
        vmm_result_fail(res, (enum vmm_status)w.status, "%s", w.reason);
}

void run_in_child(const struct vmm_plan *plan, struct vmm_result *res)
{
    vmm_result_init(res);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL); /* the child must not flush the parent's buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(plan, fds[1]);
    }
    close(fds[1]);
    double limit = plan->timeout_s + RUN_CHILD_GRACE_S;
    char *buf = NULL;
    size_t len = 0;
    int rd = read_until(fds[0], now_s() + limit, &buf, &len);
    close(fds[0]);
    if (rd == -1)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (rd == -1)
        vmm_result_fail(res, VMM_STATUS_TIMEOUT, "run child did not finish within %.0f s and "
                        "was killed by the harness watchdog", limit);
    else if (rd == -2)
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "out of memory reading the run result");
    else if (WIFSIGNALED(st))
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "run child died from signal %d (%s)",
                        WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        vmm_result_fail(res, VMM_STATUS_HOST_ERROR, "run child exited with status %d",
                        WEXITSTATUS(st));
    else
        decode(buf, len, res);
    free(buf);
}
