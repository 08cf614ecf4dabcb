/* QEMU's version, asked once per process: `QEMU --version` run without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/hypervisor.h"

extern char **environ;

const char *vmm_qemu_binary(void)
{
    const char *q = getenv("VMMB_QEMU");
    return q && *q ? q : "qemu-system-x86_64";
}

/* Runs BIN --version and keeps the first line of its output. */
static int ask_version(const char *bin, char *buf, size_t len)
{
    int pfd[2];
    if (pipe(pfd))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = { (char *)bin, "--version", NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc) {
        close(pfd[0]);
        errno = rc;
        return -1;
    }
    size_t n = 0;
    ssize_t r;
    while (n + 1 < len && (r = read(pfd[0], buf + n, len - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    close(pfd[0]);
    buf[n] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    buf[strcspn(buf, "\n")] = 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && buf[0] ? 0 : -1;
}

int vmm_hypervisor_version(enum vmm_hypervisor h, char *buf, size_t len, struct vmm_err *e)
{
    if (h == VMM_HV_VMM_MIN) {
        snprintf(buf, len, "vmm-min");
        return 0;
    }
    static char cached[256];
    static char cached_for[256];
    const char *bin = vmm_qemu_binary();
    if (!cached[0] || strcmp(cached_for, bin)) {
        cached[0] = 0;
        if (ask_version(bin, cached, sizeof cached))
            return vmm_err_set(e, VMM_EXIT_USAGE, "hypervisor %s needs QEMU, but '%s "
                               "--version' did not run; install qemu-system-x86 or set "
                               "VMMB_QEMU to the binary", vmm_hypervisor_name(h), bin);
        snprintf(cached_for, sizeof cached_for, "%s", bin);
    }
    snprintf(buf, len, "%s", cached);
    return 0;
}
