/* `vmmbench compare --plan CHANGE SET`: how many runs per side the gate needs to detect a
 * given change, from the run-to-run noise of an existing run set. The verdict needs
 * p < alpha (Welch's t on run medians) and the 95% CI beyond the band; with a run-to-run
 * sd s of log run medians and n runs a side, the test statistic has SE_t = s * sqrt(2/n)
 * and df = 2(n-1), and the ratio of pooled medians SE_m = SE_t * sqrt(pi/2) (a median's
 * efficiency), so the chance of a verdict on a true change d is at least
 *   Phi((D - t(1-alpha/2) SE_t) / SE_t) * Phi((D - t(0.975) SE_m - log(1+band)) / SE_m)
 * with D = |log(1+d)|. The plan is the smallest n with that chance >= 80%. tests/unit/test_gate_sim.c runs the
 * real comparison at the planned n to check the promise. */
#ifndef ANALYSIS_PLAN_RUNS_H
#define ANALYSIS_PLAN_RUNS_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"

#define PLAN_POWER 0.80
#define PLAN_MAX_RUNS 1000

/* Runs per side for power PLAN_POWER; 0 when even PLAN_MAX_RUNS do not reach it (change
 * inside the band, or noise too large). */
size_t plan_runs(double run_sd, double change, double band, double alpha);
/* Its power at n runs a side. */
double plan_power(double run_sd, double change, double band, double alpha, size_t n);

/* The table for every result of ds (run sd from its run medians). */
void plan_print(const struct dataset *ds, double change, double band, double alpha, FILE *out);

#endif
