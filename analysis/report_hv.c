/* The hypervisors section of the report; see report_hv.h. */
#include "report_hv.h"

#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

static bool is_vmm_min(const struct ds_config *c)
{
    return strcmp(ds_hv(c), "vmm-min") == 0;
}

bool report_hv_present(const struct dataset *ds)
{
    const char *first = NULL;
    for (size_t i = 0; i < ds->nruns; i++) {
        const char *hv = ds_hv(&ds->configs[ds->runs[i].config]);
        if (!first)
            first = hv;
        else if (strcmp(first, hv) != 0)
            return true;
    }
    return false;
}

/* ---- what a config asks for, apart from its name and hypervisor ---- */

struct keys {
    char *kv[64];
    size_t n;
    bool overflow;
};

static int collect_key(void *user, const char *section, const char *name, const char *value)
{
    (void)section;
    struct keys *k = user;
    if (!strcmp(name, "name") || !strcmp(name, "hypervisor"))
        return 1;
    if (k->n == sizeof k->kv / sizeof k->kv[0]) {
        k->overflow = true;
        return 1;
    }
    size_t len = strlen(name) + strlen(value) + 2;
    if ((k->kv[k->n] = malloc(len)))
        snprintf(k->kv[k->n++], len, "%s=%s", name, value);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The config's keys but name and hypervisor, parsed by libinih as the harness parsed them,
 * sorted and joined: two configs that differ only in hypervisor have equal texts. An
 * unparsable text gets a unique marker, so it equals nothing. */
static char *other_keys(const struct ds_config *c)
{
    struct keys k = { 0 };
    bool ok = ini_parse_string(c->text, collect_key, &k) == 0 && !k.overflow;
    qsort(k.kv, k.n, sizeof k.kv[0], cmp_str);
    size_t len = 32;
    for (size_t i = 0; i < k.n; i++)
        len += strlen(k.kv[i]) + 1;
    char *out = malloc(len);
    if (out) {
        size_t at = (size_t)snprintf(out, len, "%s", ok ? "" : "\x01unparsed ");
        if (!ok)
            snprintf(out + at, len - at, "%lld", (long long)c->id);
        for (size_t i = 0; ok && i < k.n; i++)
            at += (size_t)snprintf(out + at, len - at, "%s\n", k.kv[i]);
    }
    for (size_t i = 0; i < k.n; i++)
        free(k.kv[i]);
    return out;
}

/* A native config (the host's threads, no VMM) is no hypervisor's baseline. */
static bool is_native(const char *keys)
{
    for (const char *p = keys; (p = strstr(p, "native=yes\n")); p++)
        if (p == keys || p[-1] == '\n')
            return true;
    return false;
}

/* ---- one side of a pair as a dataset of its own, for compare_datasets ---- */

/* A shallow view: its groups are copies of the parent's (sharing their arrays) and its
 * one config is the parent's; free with free(v->groups) only. */
static int view_of(const struct dataset *ds, size_t ci, struct dataset *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->label, sizeof v->label, "config:%s (%s)", ds->configs[ci].name,
             ds_hv(&ds->configs[ci]));
    snprintf(v->db_path, sizeof v->db_path, "%s", ds->db_path);
    v->hosts = ds->hosts;
    v->nhosts = ds->nhosts;
    v->configs = &ds->configs[ci];
    v->nconfigs = 1;
    v->groups = malloc((ds->ngroups ? ds->ngroups : 1) * sizeof *v->groups);
    if (!v->groups)
        return -1;
    for (size_t i = 0; i < ds->ngroups; i++)
        if (ds->groups[i].config == ci) {
            v->groups[v->ngroups] = ds->groups[i];
            v->groups[v->ngroups++].config = 0;
        }
    return 0;
}

static bool has_groups(const struct dataset *ds, size_t ci)
{
    for (size_t i = 0; i < ds->ngroups; i++)
        if (ds->groups[i].config == ci)
            return true;
    return false;
}

/* The vmm-min config to compare config q with: one whose other keys are equal, else one
 * of the same vCPUs and memory; among equals the one with the most results. */
static size_t pick_base(const struct dataset *ds, size_t q, char **keys, enum hv_match *m)
{
    size_t best = (size_t)-1, best_n = 0;
    *m = HV_MATCH_NONE;
    const struct ds_config *cq = &ds->configs[q];
    for (size_t i = 0; i < ds->nconfigs; i++) {
        const struct ds_config *c = &ds->configs[i];
        if (!is_vmm_min(c) || is_native(keys[i]) || !has_groups(ds, i) ||
            c->vcpus != cq->vcpus || c->mem_bytes != cq->mem_bytes)
            continue;
        enum hv_match mi = strcmp(keys[i], keys[q]) == 0 ? HV_MATCH_ONLY_HYPERVISOR
                                                          : HV_MATCH_SIZE;
        size_t n = 0;
        for (size_t g = 0; g < ds->ngroups; g++)
            n += ds->groups[g].config == i;
        if (mi < *m || (mi == *m && n > best_n)) {
            *m = mi;
            best = i;
            best_n = n;
        }
    }
    return best;
}

int report_hv_build(const struct dataset *ds, struct hv_section *s, struct vmm_err *e)
{
    memset(s, 0, sizeof *s);
    char **keys = calloc(ds->nconfigs ? ds->nconfigs : 1, sizeof *keys);
    s->pairs = calloc(ds->nconfigs ? ds->nconfigs : 1, sizeof *s->pairs);
    int ret = 0;
    if (!keys || !s->pairs)
        ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
    for (size_t i = 0; !ret && i < ds->nconfigs; i++)
        if (!(keys[i] = other_keys(&ds->configs[i])))
            ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
    for (size_t q = 0; !ret && q < ds->nconfigs; q++) {
        const struct ds_config *cq = &ds->configs[q];
        bool ran = false;
        for (size_t r = 0; r < ds->nruns && !ran; r++)
            ran = ds->runs[r].config == q;
        if (is_vmm_min(cq) || !ran)
            continue;
        struct hv_pair *p = &s->pairs[s->npairs++];
        p->other = q;
        p->base = pick_base(ds, q, keys, &p->match);
        if (p->match == HV_MATCH_NONE) {
            snprintf(p->why, sizeof p->why, "no vmm-min config with %u vCPUs and %llu MiB has "
                     "ok runs here; run one next to it (vmmbench run --config default "
                     "--config %s)", cq->vcpus, (unsigned long long)(cq->mem_bytes >> 20),
                     cq->name);
            continue;
        }
        if (!has_groups(ds, q)) {
            snprintf(p->why, sizeof p->why, "no run of config %s ended ok", cq->name);
            continue;
        }
        struct dataset va, vb;
        if (view_of(ds, p->base, &va) || view_of(ds, q, &vb)) {
            free(va.groups);
            ret = vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory");
            break;
        }
        struct cmp_opts o;
        cmp_opts_default(&o);
        o.skip_diagnostic = true;
        struct vmm_err sub = { 0 };
        if (compare_datasets(&va, &vb, &o, &p->cmp, &sub) == 0)
            p->compared = true;
        else if (sub.code == VMM_EXIT_INTERNAL)
            ret = vmm_err_set(e, sub.code, "%s", sub.msg);
        else
            snprintf(p->why, sizeof p->why, "%s", sub.msg);
        free(va.groups);
        free(vb.groups);
    }
    for (size_t i = 0; keys && i < ds->nconfigs; i++)
        free(keys[i]);
    free(keys);
    if (ret)
        report_hv_free(s);
    return ret;
}

void report_hv_free(struct hv_section *s)
{
    for (size_t i = 0; i < s->npairs; i++)
        if (s->pairs[i].compared)
            compare_free(&s->pairs[i].cmp);
    free(s->pairs);
    memset(s, 0, sizeof *s);
}

/* ---- HTML ---- */

static void versions_table(FILE *f, const struct dataset *ds, void (*esc)(FILE *, const char *))
{
    fputs("<table class=hypervisor-versions><tr><th>config</th><th>hypervisor</th>"
          "<th>version</th></tr>\n", f);
    for (size_t i = 0; i < ds->nconfigs; i++) {
        const struct ds_config *c = &ds->configs[i];
        fputs("<tr><td>", f);
        esc(f, c->name);
        fputs("</td><td>", f);
        esc(f, ds_hv(c));
        fputs("</td><td>", f);
        esc(f, ds_hv_version(c));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void pair_table(FILE *f, const struct cmp_result *r, void (*esc)(FILE *, const char *))
{
    fputs("<table class=hypervisors><tr><th>workload</th><th>params</th><th>metric</th>"
          "<th>median vmm-min</th><th>median QEMU</th><th>unit</th><th>QEMU/vmm-min</th>"
          "<th>95% CI</th><th>runs</th><th>verdict</th></tr>\n", f);
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cmp_row *x = &r->rows[i];
        /* as in show: *_cycles and vmm_cpu_* repeat or explain the headline metrics */
        if (summary_is_diagnostic(x->metric))
            continue;
        const char *verdict = x->verdict == VERDICT_NA ? "n/a" : stats_verdict_name(x->verdict);
        fputs("<tr data-workload=\"", f);
        esc(f, x->workload);
        fputs("\" data-metric=\"", f);
        esc(f, x->metric);
        fprintf(f, "\" data-ratio=\"%.6g\" data-verdict=\"%s\"><td>", x->ratio, verdict);
        esc(f, x->workload);
        fputs("</td><td>", f);
        esc(f, *x->params ? x->params : "-");
        fputs("</td><td>", f);
        esc(f, x->metric);
        char a[64], b[64];
        summary_fmt_num(x->da.median, a, sizeof a);
        summary_fmt_num(x->db.median, b, sizeof b);
        fprintf(f, "</td><td class=n>%s</td><td class=n>%s</td><td>", a, b);
        esc(f, x->unit);
        fputs("</td>", f);
        if (!isfinite(x->ratio))
            fputs("<td class=n>-</td>", f);
        else
            fprintf(f, x->diff ? "<td class=n>B-A %+.4g</td>" : "<td class=n>%.3f</td>",
                    x->ratio);
        if (!isfinite(x->lo))
            fputs("<td class=n>-</td>", f);
        else
            fprintf(f, x->diff ? "<td class=n>%+.4g..%+.4g</td>" : "<td class=n>%.3f..%.3f</td>",
                    x->lo, x->hi);
        fprintf(f, "<td class=n>%zu / %zu</td><td class=\"%s\">", x->runs_a, x->runs_b,
                x->verdict == VERDICT_SLOWER ? "slower" :
                x->verdict == VERDICT_FASTER ? "faster" : "same");
        esc(f, x->verdict == VERDICT_NA ? x->why_na : verdict);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

void report_hv_section(FILE *f, const struct dataset *ds, const struct hv_section *s,
                       void (*esc)(FILE *, const char *))
{
    fputs("<h2 id=hypervisors>Hypervisors</h2>\n<p class=note>The same guest image under "
          "each VMM. Each QEMU config is compared with a vmm-min config (A) as B: the ratio is "
          "QEMU/vmm-min of the medians, with the hierarchical bootstrap 95% CI and the verdict "
          "of <code>vmmbench compare</code> (a change needs p &lt; 0.01 and the CI outside "
          "1 &plusmn; 2%; <em>slower</em> means slower under QEMU). A pair differs only in "
          "<code>hypervisor</code> when every other key of the two config files is equal.</p>\n",
          f);
    versions_table(f, ds, esc);
    for (size_t i = 0; i < s->npairs; i++) {
        const struct hv_pair *p = &s->pairs[i];
        const struct ds_config *q = &ds->configs[p->other];
        fputs("<h3>", f);
        esc(f, ds_hv(q));
        fputs(" (config ", f);
        esc(f, q->name);
        fputs(")", f);
        if (p->match != HV_MATCH_NONE) {
            fputs(" against vmm-min (config ", f);
            esc(f, ds->configs[p->base].name);
            fputs(")", f);
        }
        fputs("</h3>\n<p class=pairing>", f);
        if (p->match == HV_MATCH_ONLY_HYPERVISOR)
            fputs("Paired: the two configs differ only in <code>hypervisor</code>.", f);
        else if (p->match == HV_MATCH_SIZE)
            fputs("Paired by vCPUs and memory only: other keys of the two configs differ too, "
                  "so the ratio is not the hypervisor's alone.", f);
        else
            fputs("Not paired.", f);
        fputs(" Version: ", f);
        esc(f, ds_hv_version(q));
        fputs("</p>\n", f);
        if (p->compared)
            pair_table(f, &p->cmp, esc);
        else {
            fputs("<p class=note>", f);
            esc(f, p->why);
            fputs("</p>\n", f);
        }
    }
}
