/* Runs one planned guest in its own child process, so a guest (or a VMM bug it
 * provokes) can end that run but never the harness: the parent reads the result back
 * through a pipe, and kills the child if it overstays its watchdog. */
#ifndef HARNESS_RUN_CHILD_H
#define HARNESS_RUN_CHILD_H

#include "vmm/plan.h"
#include "vmm/result.h"

/* Grace the watchdog gives the child beyond the plan's own timeout, which the VMM
 * enforces itself; the watchdog is for a VMM that cannot. */
#define RUN_CHILD_GRACE_S 10.0

/* Always fills *res; the child's fate (killed, crashed, garbled) becomes its status. */
void run_in_child(const struct vmm_plan *plan, struct vmm_result *res);

#endif
