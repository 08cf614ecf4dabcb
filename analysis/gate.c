/* The regression gate's judgement and its JUnit and Markdown files; see gate.h. */
#include "gate.h"

#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hier.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double started;

void gate_init(struct gate *g, const struct gate_opts *o)
{
    memset(g, 0, sizeof *g);
    g->fail_improve = o->fail_improve;
    started = now();
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(g->timestamp, sizeof g->timestamp, "%Y-%m-%dT%H:%M:%S", &tm);
    if (gethostname(g->hostname, sizeof g->hostname) != 0)
        snprintf(g->hostname, sizeof g->hostname, "unknown");
    g->hostname[sizeof g->hostname - 1] = '\0';
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static int add_case(struct gate *g, char *classname, char *name, enum gate_kind kind,
                    char *message)
{
    struct gate_case *n = realloc(g->cases, (g->ncases + 1) * sizeof *n);
    if (!n || !classname || !name || !message) {
        free(classname);
        free(name);
        free(message);
        if (n)
            g->cases = n;
        return -1;
    }
    g->cases = n;
    g->cases[g->ncases++] = (struct gate_case){ classname, name, kind, message };
    switch (kind) {
    case GK_PASS: g->passed++; break;
    case GK_REGRESSED: g->regressed++; break;
    case GK_IMPROVED: g->improved++; break;
    case GK_UNJUDGED: g->unjudged++; break;
    case GK_MISSING: g->missing++; break;
    case GK_RUN_FAILED: g->failed_runs++; break;
    case GK_ALLOWED: g->allowed++; break;
    case GK_ERROR: break;
    }
    return 0;
}

static bool allowed(const struct gate_opts *o, const char *name, const char *metric)
{
    for (size_t i = 0; i < o->nallow; i++)
        if (fnmatch(o->allow[i], name, 0) == 0 || fnmatch(o->allow[i], metric, 0) == 0)
            return true;
    return false;
}

static void set_exit(struct gate *g)
{
    g->seconds = now() - started;
    bool error = false;
    for (size_t i = 0; i < g->ncases; i++)
        error |= g->cases[i].kind == GK_ERROR;
    if (g->regressed || g->failed_runs)
        g->exit = GATE_REGRESSED;
    else if (error || g->unjudged || g->missing)
        g->exit = GATE_ERROR;
    else if (g->improved && g->fail_improve)
        g->exit = GATE_IMPROVED;
    else
        g->exit = GATE_OK;
}

static void describe_row(const struct cmp_row *x, char *buf, size_t cap)
{
    if (x->diff)
        snprintf(buf, cap, "B-A %+.6g (95%% CI %+.6g..%+.6g), p %.3g, %s %.6g -> %.6g %s, "
                 "%zu/%zu runs", x->ratio, x->lo, x->hi, x->p, x->multimodal ? "mean" :
                 "median", x->da.median, x->db.median, x->unit, x->runs_a, x->runs_b);
    else
        snprintf(buf, cap, "B/A %.4f (95%% CI %.4f..%.4f), p %.3g, median %.6g -> %.6g %s, "
                 "%zu/%zu runs%s", x->ratio, x->lo, x->hi, x->p, x->da.median, x->db.median,
                 x->unit, x->runs_a, x->runs_b, x->multimodal ? ", multimodal: compared on "
                 "means" : "");
}

/* "unsupported" in the candidate is no failure when the baseline never measured the
 * workload either (the host cannot run it); when the baseline has it ok, it is a workload
 * that stopped working: a failure. */
static bool unsupported_before(const struct ds_run *c, const struct dataset *base)
{
    if (strcmp(c->status, "unsupported") != 0)
        return false;
    for (size_t i = 0; i < base->nruns; i++) {
        const struct ds_run *b = &base->runs[i];
        if (strcmp(b->workload, c->workload) == 0 && strcmp(b->params, c->params) == 0 &&
            strcmp(b->status, "ok") == 0)
            return false;
    }
    return true;
}

int gate_judge(struct gate *g, const struct cmp_result *r, const struct dataset *base,
               const struct dataset *cand, const struct cmp_opts *co,
               const struct gate_opts *o)
{
    int ret = 0;
    for (size_t i = 0; i < r->nrows && !ret; i++) {
        const struct cmp_row *x = &r->rows[i];
        char name[1024], d[600];
        compare_row_name(r, x, name, sizeof name);
        describe_row(x, d, sizeof d);
        enum gate_kind k;
        char *msg;
        if (x->verdict == VERDICT_NA) {
            k = allowed(o, name, x->metric) ? GK_ALLOWED : GK_UNJUDGED;
            msg = fmt("cannot judge: %s (n %zu/%zu, %zu/%zu runs)%s", x->why_na, x->da.n,
                      x->db.n, x->runs_a, x->runs_b, k == GK_ALLOWED ? "; allowed by "
                      "--allow-missing" : "");
        } else if (x->verdict == VERDICT_SLOWER) {
            k = GK_REGRESSED;
            msg = fmt("slower: %s", d);
        } else if (x->verdict == VERDICT_FASTER) {
            k = GK_IMPROVED;
            msg = fmt("faster: %s", d);
        } else {
            k = GK_PASS;
            msg = fmt("no change: %s", d);
        }
        char cls[600];
        snprintf(cls, sizeof cls, "vmmbench.%s%s%s", x->config, *x->config ? "." : "",
                 x->workload);
        ret = add_case(g, strdup(cls), fmt("%s %s", *x->params ? x->params : "-", x->metric), k,
                       msg);
    }
    for (size_t i = 0; i < r->nonly_a && !ret; i++) {
        /* "workload params metric": the metric is the last word */
        const char *sp = strrchr(r->only_a[i], ' ');
        const char *metric = sp ? sp + 1 : r->only_a[i];
        enum gate_kind k = allowed(o, r->only_a[i], metric) ? GK_ALLOWED : GK_MISSING;
        ret = add_case(g, strdup("vmmbench.missing"), strdup(r->only_a[i]), k,
                       fmt("in the baseline but not in the candidate %s%s", r->label_b,
                           k == GK_ALLOWED ? "; allowed by --allow-missing" : ""));
    }
    for (size_t i = 0; i < cand->nruns && !ret; i++) {
        const struct ds_run *c = &cand->runs[i];
        if (strcmp(c->status, "ok") == 0 || unsupported_before(c, base))
            continue;
        bool in = co->nworkloads == 0;
        for (size_t w = 0; w < co->nworkloads && !in; w++)
            in = strcmp(co->workloads[w], c->workload) == 0;
        if (!in)
            continue;
        ret = add_case(g, strdup("vmmbench.runs"),
                       fmt("run %lld %s %s %s", (long long)c->id, cand->configs[c->config].name,
                           c->workload, *c->params ? c->params : "-"),
                       GK_RUN_FAILED, fmt("candidate run failed: %s%s%s", c->status,
                                          *c->reason ? ": " : "", c->reason));
    }
    set_exit(g);
    return ret;
}

int gate_error(struct gate *g, const char *message)
{
    int ret = add_case(g, strdup("vmmbench"), strdup("check"), GK_ERROR, strdup(message));
    set_exit(g);
    return ret;
}

void gate_free(struct gate *g)
{
    for (size_t i = 0; i < g->ncases; i++) {
        free(g->cases[i].classname);
        free(g->cases[i].name);
        free(g->cases[i].message);
    }
    free(g->cases);
    g->cases = NULL;
    g->ncases = 0;
}

const char *gate_title(const struct gate *g)
{
    switch (g->exit) {
    case GATE_REGRESSED:
        return g->regressed ? (g->failed_runs ? "regressed, and candidate runs failed" :
                               "regressed") : "candidate runs failed";
    case GATE_ERROR: {
        for (size_t i = 0; i < g->ncases; i++)
            if (g->cases[i].kind == GK_ERROR)
                return "error, nothing compared";
        return "cannot judge everything (failing)";
    }
    case GATE_IMPROVED: return "improved (failing as asked by --fail-on-improvement)";
    default: return "no regression";
    }
}

static const char *kind_word(enum gate_kind k)
{
    switch (k) {
    case GK_REGRESSED: return "regressed";
    case GK_IMPROVED: return "improved";
    case GK_UNJUDGED: return "unjudged";
    case GK_MISSING: return "missing";
    case GK_RUN_FAILED: return "run-failed";
    case GK_ALLOWED: return "allowed";
    case GK_ERROR: return "error";
    default: return "pass";
    }
}

static bool is_problem(const struct gate *g, const struct gate_case *c)
{
    return c->kind != GK_PASS && (c->kind != GK_IMPROVED || g->fail_improve);
}

void gate_print(const struct gate *g, FILE *out)
{
    for (size_t i = 0; i < g->ncases; i++) {
        const struct gate_case *c = &g->cases[i];
        if (c->kind == GK_PASS || c->kind == GK_REGRESSED || c->kind == GK_IMPROVED)
            continue;   /* the table shows those */
        fprintf(out, "check: %s: %s %s: %s\n", kind_word(c->kind), c->classname, c->name,
                c->message);
    }
    if (g->unjudged || g->missing)
        fputs("check: what cannot be judged fails the gate: give it more runs (3+ a side, 6 "
              "for power) or batches, or allow it with --allow-missing GLOB\n", out);
    fprintf(out, "\ncheck: %zu judged, %zu regressed, %zu improved, %zu unjudged, %zu missing, "
            "%zu failed runs, %zu allowed: %s\n", g->passed + g->regressed + g->improved,
            g->regressed, g->improved, g->unjudged, g->missing, g->failed_runs, g->allowed,
            g->exit == GATE_OK ? "ok" : g->exit == GATE_REGRESSED ? "REGRESSED" :
            g->exit == GATE_IMPROVED ? "IMPROVED (failing as asked by --fail-on-improvement)" :
            "CANNOT JUDGE");
}

/* Length of a valid UTF-8 sequence at s (1-4), 0 when s does not start one. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if ((s[0] & 0xe0) == 0xc0) { n = 2; min = 0x80; }
    else if ((s[0] & 0xf0) == 0xe0) { n = 3; min = 0x800; }
    else if ((s[0] & 0xf8) == 0xf0) { n = 4; min = 0x10000; }
    else return 0;
    unsigned cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff)
        return 0;
    return n;
}

void gate_xml_text(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        switch (*s) {
        case '<': fputs("&lt;", out); s++; continue;
        case '>': fputs("&gt;", out); s++; continue;
        case '&': fputs("&amp;", out); s++; continue;
        case '"': fputs("&quot;", out); s++; continue;
        case '\'': fputs("&apos;", out); s++; continue;
        case '\n': fputs("&#10;", out); s++; continue;
        case '\t': fputs("&#9;", out); s++; continue;
        default: break;
        }
        if (*s < 0x20) {          /* not allowed in XML 1.0 at all */
            s++;
            continue;
        }
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\xef\xbf\xbd", out);   /* U+FFFD for a byte that is not UTF-8 */
            s++;
            continue;
        }
        fwrite(s, 1, n, out);
        s += n;
    }
}

static const char *failure_type(enum gate_kind k)
{
    switch (k) {
    case GK_REGRESSED: return "regression";
    case GK_IMPROVED: return "improvement";
    case GK_UNJUDGED: return "unjudged";
    case GK_MISSING: return "missing";
    case GK_RUN_FAILED: return "run-failed";
    default: return "error";
    }
}

int gate_write_junit(const struct gate *g, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t failures = 0, errors = 0, skipped = 0;
    for (size_t i = 0; i < g->ncases; i++) {
        const struct gate_case *c = &g->cases[i];
        errors += c->kind == GK_ERROR;
        skipped += c->kind == GK_ALLOWED;
        failures += is_problem(g, c) && c->kind != GK_ERROR && c->kind != GK_ALLOWED;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vmmbench check\" "
            "tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n"
            "<testsuite name=\"vmmbench check\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\" hostname=\"", g->ncases, failures,
            errors, skipped, g->seconds, g->ncases, failures, errors, skipped, g->seconds,
            g->timestamp);
    gate_xml_text(f, g->hostname);
    fputs("\">\n", f);
    for (size_t i = 0; i < g->ncases; i++) {
        const struct gate_case *c = &g->cases[i];
        fputs("  <testcase classname=\"", f);
        gate_xml_text(f, c->classname);
        fputs("\" name=\"", f);
        gate_xml_text(f, c->name);
        fputs("\" time=\"0\">", f);
        if (c->kind == GK_ERROR) {
            fputs("<error type=\"error\" message=\"", f);
            gate_xml_text(f, c->message);
            fputs("\"/>", f);
        } else if (c->kind == GK_ALLOWED) {
            fputs("<skipped message=\"", f);
            gate_xml_text(f, c->message);
            fputs("\"/>", f);
        } else if (is_problem(g, c)) {
            fprintf(f, "<failure type=\"%s\" message=\"", failure_type(c->kind));
            gate_xml_text(f, c->message);
            fputs("\"/>", f);
        } else {
            fputs("<system-out>", f);
            gate_xml_text(f, c->message);
            fputs("</system-out>", f);
        }
        fputs("</testcase>\n", f);
    }
    fputs("</testsuite>\n</testsuites>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

int gate_write_markdown(const struct gate *g, const struct cmp_result *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    char title[200];
    snprintf(title, sizeof title, "vmmbench check: %s", gate_title(g));
    bool problems = false;
    for (size_t i = 0; i < g->ncases; i++)
        problems |= is_problem(g, &g->cases[i]) || g->cases[i].kind == GK_ALLOWED;
    if (r) {
        compare_print_markdown(r, title, f);
    } else {
        fprintf(f, "## %s\n\n", title);
    }
    if (problems) {
        fputs("### What failed or could not be judged\n\n", f);
        for (size_t i = 0; i < g->ncases; i++) {
            const struct gate_case *c = &g->cases[i];
            if (!is_problem(g, c) && c->kind != GK_ALLOWED)
                continue;
            fprintf(f, "- **%s** `", kind_word(c->kind));
            compare_md_cell(f, c->classname);
            fputs(" ", f);
            compare_md_cell(f, c->name);
            fputs("`: ", f);
            compare_md_cell(f, c->message);
            fputc('\n', f);
        }
        fputc('\n', f);
    }
    fprintf(f, "%zu judged, %zu regressed, %zu improved, %zu unjudged, %zu missing, %zu failed "
            "runs, %zu allowed; exit %d.\n", g->passed + g->regressed + g->improved,
            g->regressed, g->improved, g->unjudged, g->missing, g->failed_runs, g->allowed,
            g->exit);
    return fclose(f) == 0 ? 0 : -1;
}
