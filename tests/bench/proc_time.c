/* proc_time N CMD...: runs CMD N times (stdout and stderr discarded) and prints the
 * median wall time of one whole process, in milliseconds: "median_ms X". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

int main(int argc, char **argv)
{
    if (argc < 3)
        return fprintf(stderr, "usage: proc_time N CMD...\n"), 2;
    int n = atoi(argv[1]);
    if (n < 1)
        return 2;
    double *ms = malloc((size_t)n * sizeof *ms);
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execv(argv[2], argv + 2);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return fprintf(stderr, "proc_time: %s failed\n", argv[2]), 1;
        ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
    }
    stats_sort(ms, (size_t)n);
    printf("median_ms %.3f\n", stats_quantile_sorted(ms, (size_t)n, 0.5));
    free(ms);
    return 0;
}
