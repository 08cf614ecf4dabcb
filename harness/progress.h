/* Progress of a `vmmbench run`: on a terminal, one line redrawn in place with the run
 * counter, elapsed time and what is left; otherwise one plain line per finished run (CI logs). */
#ifndef HARNESS_PROGRESS_H
#define HARNESS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct progress {
    FILE *out;
    bool tty;
    size_t total;
    double t0;
    double est_s;                /* the plan's estimate of the whole run (0: none) */
};

void progress_init(struct progress *p, FILE *out, size_t total);
/* Before a run starts (terminal only). */
/* The plan's estimate of the whole run, shown as what is left until runs have a pace. */
void progress_estimate(struct progress *p, double seconds);
void progress_start(struct progress *p, size_t index, const char *what);
/* After it ends: status and a short note (reason or headline figure). */
void progress_done(struct progress *p, size_t index, const char *what, const char *status,
                   const char *note);
void progress_finish(struct progress *p);

#endif
