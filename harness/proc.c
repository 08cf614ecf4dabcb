/* fork/exec with captured output; see proc.h. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Drains the capture pipes (fds < 0 are closed already) into their buffers. */
static void drain(int fds[2], char *bufs[2], size_t caps[2])
{
    size_t used[2] = { 0, 0 };
    for (int i = 0; i < 2; i++)
        if (bufs[i] && caps[i])
            bufs[i][0] = '\0';
    while (fds[0] >= 0 || fds[1] >= 0) {
        struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char tmp[4096];
            ssize_t n = read(fds[i], tmp, sizeof tmp);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i]);
                fds[i] = -1;
                continue;
            }
            /* Keep what fits; keep reading so the child never blocks on a full pipe. */
            size_t room = caps[i] - 1 - used[i];
            size_t k = (size_t)n < room ? (size_t)n : room;
            memcpy(bufs[i] + used[i], tmp, k);
            used[i] += k;
            bufs[i][used[i]] = '\0';
        }
    }
}

int proc_run(char *const argv[], struct proc_out *io, int *status, int missing_code,
             const char *fix, struct vmm_err *e)
{
    char *bufs[2] = { io ? io->out : NULL, io ? io->err : NULL };
    size_t caps[2] = { io ? io->out_cap : 0, io ? io->err_cap : 0 };
    int pipes[2][2] = { { -1, -1 }, { -1, -1 } }, report[2];
    /* The exec error travels back over a close-on-exec pipe: empty means exec worked. */
    if (pipe2(report, O_CLOEXEC) < 0)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++)
        if (bufs[i] && caps[i] && pipe2(pipes[i], O_CLOEXEC) < 0)
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "fork for %s: %s", argv[0], strerror(errno));
    if (pid == 0) {
        const char *files[2] = { io ? io->out_file : NULL, io ? io->err_file : NULL };
        for (int i = 0; i < 2; i++) {
            if (pipes[i][1] >= 0)
                dup2(pipes[i][1], i + 1);
            int fd = files[i] ? open(files[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                              : -1;
            if (fd >= 0)
                dup2(fd, i + 1);   /* dup2 clears close-on-exec on the copy */
        }
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        int err = errno;
        ssize_t w = write(report[1], &err, sizeof err);
        (void)w;
        _exit(127);
    }
    close(report[1]);
    int fds[2];
    for (int i = 0; i < 2; i++) {
        if (pipes[i][1] >= 0)
            close(pipes[i][1]);
        fds[i] = pipes[i][0];
    }
    int err = 0;
    ssize_t got;
    while ((got = read(report[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    drain(fds, bufs, caps);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return vmm_err_set(e, VMM_EXIT_INTERNAL, "waitpid %s: %s", argv[0], strerror(errno));
    if (got == (ssize_t)sizeof err)
        return vmm_err_set(e, err == ENOENT || err == EACCES ? missing_code : VMM_EXIT_INTERNAL,
                           "cannot run %s: %s; %s", argv[0], strerror(err), fix);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}
