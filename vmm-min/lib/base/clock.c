/* The VMM's clocks: CLOCK_MONOTONIC seconds, the clock of every deadline (the supervisor's
 * condition variable waits on the same clock). */
#include <time.h>

#include "vstate/vm.h"

double vm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double vm_thread_cpu(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t))
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
