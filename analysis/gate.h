/* The regression gate's judgement (`vmmbench check`): from a comparison of the candidate
 * against the baseline, one case per (workload, params, metric) of the baseline plus one
 * per failed candidate run, each passed, failed with a named kind, or allowed; the exit
 * code; and the JUnit and Markdown files, written on every exit (an error included), so a
 * stale green file from an earlier run can never stay in place.
 *
 * Exit: 1 when something regressed or a candidate run failed, else 2 when something could
 * not be judged (missing from the candidate, too few samples, run-to-run variance unknown,
 * no interval) and was not allowed with --allow-missing, or when nothing could be compared
 * at all, else 3 when something improved and improvements fail (--fail-on-improvement),
 * else 0. */
#ifndef ANALYSIS_GATE_H
#define ANALYSIS_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "compare.h"
#include "dataset.h"

enum { GATE_OK = 0, GATE_REGRESSED = 1, GATE_ERROR = 2, GATE_IMPROVED = 3 };

enum gate_kind {
    GK_PASS,           /* no change (or improved, not failing) */
    GK_REGRESSED,
    GK_IMPROVED,       /* failing only with fail_improve */
    GK_UNJUDGED,       /* a verdict could not be given: the reason is in message */
    GK_MISSING,        /* in the baseline, not in the candidate */
    GK_RUN_FAILED,     /* a candidate run timed out, crashed, ... */
    GK_ALLOWED,        /* unjudged or missing, but allowed by --allow-missing */
    GK_ERROR,          /* nothing could be compared at all */
};

struct gate_opts {
    bool fail_improve;
    const char *allow[CMP_MAX_FILTER];   /* fnmatch globs over a row's name or metric */
    size_t nallow;
};

struct gate_case {
    char *classname, *name;
    enum gate_kind kind;
    char *message;
};

struct gate {
    struct gate_case *cases;
    size_t ncases;
    size_t regressed, improved, unjudged, missing, failed_runs, allowed, passed;
    bool fail_improve;
    int exit;
    double seconds;          /* how long the check took */
    char timestamp[32];      /* when it started, ISO 8601 UTC */
    char hostname[256];
};

/* Starts a gate record (timestamp, hostname). */
void gate_init(struct gate *g, const struct gate_opts *o);
/* Judges a comparison (cand: the candidate's runs, for failed ones, within co's workload
 * filter; base: the baseline's, so that a workload unsupported on both sides is not a
 * failure). Sets g->exit. -1 when out of memory. */
int gate_judge(struct gate *g, const struct cmp_result *r, const struct dataset *base,
               const struct dataset *cand, const struct cmp_opts *co,
               const struct gate_opts *o);
/* Records that nothing could be compared (loading or matching failed): exit 2. */
int gate_error(struct gate *g, const char *message);
void gate_free(struct gate *g);

/* What the exit means, for titles: "regressed", "no regression", ... */
const char *gate_title(const struct gate *g);
/* The problems (not the passes), one per line, then the summary line. */
void gate_print(const struct gate *g, FILE *out);
/* JUnit XML: one testsuite, testcases with failure/@type (regression, improvement,
 * unjudged, missing, run-failed), skipped for allowed ones, error for a gate error;
 * time, timestamp and hostname; every string valid UTF-8 XML. */
int gate_write_junit(const struct gate *g, const char *path);
/* Markdown: a title that matches the exit, the problems, then the comparison table (when
 * there is one). */
int gate_write_markdown(const struct gate *g, const struct cmp_result *r, const char *path);
/* s as XML character data (attribute-safe): escapes, drops control characters and
 * replaces bytes that are not UTF-8 with U+FFFD, so any name makes valid XML. */
void gate_xml_text(FILE *out, const char *s);

#endif
