#include "report_irq.h"

#include <string.h>

#include "summary.h"
#include "vmm/text_escape.h"

static const char *const irq_workloads[] = { "ipi", "ipi-halt", "self-ipi", "eoi", "cr8",
                                             "timer", "irq-inject" };

bool report_irq_workload(const char *workload)
{
    for (size_t i = 0; i < sizeof irq_workloads / sizeof irq_workloads[0]; i++)
        if (strcmp(workload, irq_workloads[i]) == 0)
            return true;
    return false;
}

bool report_irq_present(const struct dataset *ds)
{
    for (size_t i = 0; i < ds->nruns; i++)
        if (report_irq_workload(ds->runs[i].workload))
            return true;
    return false;
}

static void num(FILE *f, double v)
{
    char b[64];
    summary_fmt_num(v, b, sizeof b);
    fprintf(f, "<td class=n>%s</td>", b);
}

static void host_facts(FILE *f, const struct dataset *ds, void (*esc)(FILE *, const char *))
{
    static const char *const fields[] = { "kvm_flavour", "halt_poll_ns", "apicv", "apic_mode" };
    fputs("<table class=hosts><tr><th>host</th>", f);
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        fprintf(f, "<th>%s</th>", fields[k]);
    fputs("</tr>\n", f);
    for (size_t i = 0; i < ds->nhosts; i++) {
        char lab[160];
        summary_host_label(ds, ds->hosts[i].id, lab, sizeof lab);
        fputs("<tr><td>", f);
        esc(f, lab);
        fputs("</td>", f);
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
            const char *v = ds_host_field(&ds->hosts[i], fields[k]);
            fputs("<td>", f);
            esc(f, *v ? v : "unknown");
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The latency of every path measured: one row per group of metric `latency`. */
static void latencies(FILE *f, const struct dataset *ds, void (*esc)(FILE *, const char *))
{
    fputs("<table class=results><tr><th>workload</th><th>config</th><th>params (path)</th>"
          "<th>n / runs</th><th>median</th><th>95% CI</th><th>p5..p95</th><th>unit</th></tr>\n",
          f);
    size_t rows = 0;
    for (size_t i = 0; i < ds->ngroups; i++) {
        const struct ds_group *g = &ds->groups[i];
        if (!report_irq_workload(g->workload) || strcmp(g->metric, "latency") != 0)
            continue;
        rows++;
        fputs("<tr><td>", f);
        esc(f, g->workload);
        fputs("</td><td>", f);
        esc(f, ds->configs[g->config].name);
        fputs("</td><td>", f);
        esc(f, *g->params ? g->params : "-");
        fprintf(f, "</td><td class=n>%zu / %zu</td>", g->d.n, g->nruns);
        num(f, g->d.median);
        char lo[32], hi[32];
        summary_fmt_num(g->d.ci_lo, lo, sizeof lo);
        summary_fmt_num(g->d.ci_hi, hi, sizeof hi);
        fprintf(f, "<td class=n>%s..%s</td>", lo, hi);
        summary_fmt_num(g->d.p5, lo, sizeof lo);
        summary_fmt_num(g->d.p95, hi, sizeof hi);
        fprintf(f, "<td class=n>%s..%s</td><td>", lo, hi);
        esc(f, g->unit);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (!rows)
        fputs("<p class=note>No interrupt path was measured.</p>\n", f);
}

/* Runs that did not end ok: what the host does with that path. Each (workload, params,
 * status, reason) once; the reason is guest text, shown escaped. */
static void undelivered(FILE *f, const struct dataset *ds, void (*esc)(FILE *, const char *))
{
    size_t shown = 0;
    for (size_t i = 0; i < ds->nruns; i++) {
        const struct ds_run *r = &ds->runs[i];
        if (!report_irq_workload(r->workload) || strcmp(r->status, "ok") == 0)
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++) {
            const struct ds_run *q = &ds->runs[k];
            dup = strcmp(q->workload, r->workload) == 0 && strcmp(q->params, r->params) == 0 &&
                  strcmp(q->status, r->status) == 0 &&
                  strcmp(q->reason ? q->reason : "", r->reason ? r->reason : "") == 0;
        }
        if (dup)
            continue;
        if (!shown++)
            fputs("<table class=results><tr><th>workload</th><th>params</th><th>status</th>"
                  "<th>reason</th></tr>\n", f);
        fputs("<tr><td>", f);
        esc(f, r->workload);
        fputs("</td><td>", f);
        esc(f, *r->params ? r->params : "-");
        fputs("</td><td>", f);
        esc(f, r->status);
        fputs("</td><td>", f);
        char buf[1024];
        esc(f, vmm_text_escape(buf, sizeof buf, r->reason ? r->reason : "", 0));
        fputs("</td></tr>\n", f);
    }
    if (shown)
        fputs("</table>\n", f);
    else
        fputs("<p class=note>Every interrupt path was delivered.</p>\n", f);
}

void report_irq_section(FILE *f, const struct dataset *ds, void (*esc)(FILE *, const char *))
{
    fputs("<h2 id=interrupts>Interrupts</h2>\n<p class=note>KVM's in-kernel APIC paths, from "
          "the guest's TSC stamps: <code>ipi</code> path=oneway is the ICR write on vCPU 0 to "
          "handler entry on vCPU 1 (spinning), path=roundtrip until vCPU 0 sees the handler's "
          "count; <code>ipi-halt</code> the same with vCPU 1 in HLT (KVM's wake-up path, halt "
          "polling included); <code>self-ipi</code> delivery and full cost; <code>timer</code> "
          "lateness of the TSC-deadline interrupt past its deadline, and the arming write; "
          "<code>irq-inject</code> a host thread's irqfd write() to the guest handler (the "
          "virtio interrupt path; host and guest TSC correlated by KVM's vCPU TSC offset); "
          "<code>eoi</code> and <code>cr8</code> one register write each. Placement (same "
          "core, other core, other node) is the config's vCPU pinning.</p>\n", f);
    host_facts(f, ds, esc);
    latencies(f, ds, esc);
    fputs("<h3>Paths this host did not deliver</h3>\n", f);
    undelivered(f, ds, esc);
}
