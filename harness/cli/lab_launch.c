/* Running `vmmbench lab`'s launcher; see lab_launch.h. */
#include "lab_launch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

int lab_launch(char *const argv[], int no_start)
{
    struct sigaction ign = { .sa_handler = SIG_IGN }, fwd = { .sa_handler = forward };
    struct sigaction old_int, old_quit, old_term, old_hup;
    sigset_t stop, old_mask;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    fflush(NULL);
    /* Held until the child's pid is known, so a TERM in between is forwarded, not lost. */
    sigprocmask(SIG_BLOCK, &stop, &old_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        execv(argv[0], argv);
        fprintf(stderr, "vmmbench: lab: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(no_start);
    }
    int err = errno, status = 0;
    child = pid;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    child = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (pid < 0) {
        errno = err;
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
