/* The HTML report's interrupts section (issue 13): the interrupt workloads' latencies per
 * path, the host facts that decide them, and what the host did with each path it could
 * not deliver (the runs that ended unsupported, with their reasons). */
#ifndef ANALYSIS_REPORT_IRQ_H
#define ANALYSIS_REPORT_IRQ_H

#include <stdbool.h>
#include <stdio.h>

#include "dataset.h"

/* Whether WORKLOAD is one of the interrupt workloads (workloads/irq). */
bool report_irq_workload(const char *workload);
/* Whether the dataset holds any run of an interrupt workload (the section is shown). */
bool report_irq_present(const struct dataset *ds);
/* Writes the section (id=interrupts); esc writes text HTML-escaped. */
void report_irq_section(FILE *f, const struct dataset *ds, void (*esc)(FILE *, const char *));

#endif
