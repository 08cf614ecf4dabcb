#include "suites.h"

#include <string.h>

/* quick: every exit kind once, in the ring a user would first ask about. */
static const char *const quick[] = {
    "null", "cpuid", "pio-user", "mmio-user", "hypercall", "rdmsr", "wrmsr", NULL,
};

/* full: every exit kind in every ring it can run in, so ring 0 vs ring 3 can be
 * compared side by side (they differ by an order of magnitude on PVM hosts and should
 * not on hardware-virtualized ones), with more batches. */
static const char *const full[] = {
    "null:ring=3,batches=100",     "null:ring=0,batches=100,iters=100",
    "cpuid:ring=3,batches=100",    "cpuid:ring=0,batches=100",
    "pio-user:ring=3,batches=100", "pio-user:ring=0,batches=100",
    "mmio-user:ring=3,batches=100", "mmio-user:ring=0,batches=100",
    "hypercall:batches=100",       "rdmsr:batches=100",
    "wrmsr:batches=100",           NULL,
};

static const struct suite suites[] = {
    { "quick", "every exit kind once, default ring, 30 batches", quick },
    { "full", "every exit kind in ring 0 and ring 3, 100 batches", full },
};

const struct suite *suite_find(const char *name)
{
    for (unsigned i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (strcmp(suites[i].name, name) == 0)
            return &suites[i];
    return NULL;
}

const struct suite *suite_all(unsigned *n)
{
    *n = sizeof suites / sizeof suites[0];
    return suites;
}
