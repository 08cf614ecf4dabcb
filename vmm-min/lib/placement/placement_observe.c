/* Proof of placement: where guest memory and vCPUs really were, measured, not assumed. */
#include <numaif.h>
#include <stdio.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/placement.h"

#define SAMPLES_PER_VNODE 16

/* Sums smaps fields over the VMAs that overlap guest RAM. */
static void smaps_usage(const struct guest_mem *gm, uint64_t *rss, uint64_t *huge)
{
    *rss = *huge = 0;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return;
    uintptr_t lo = (uintptr_t)gm->mapping, hi = lo + gm->total;
    char line[512];
    bool inside = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        unsigned long long kb;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = a < hi && b > lo;
            continue;
        }
        if (!inside)
            continue;
        if (sscanf(line, "Rss: %llu kB", &kb) == 1)
            *rss += kb << 10;
        else if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1 ||
                 sscanf(line, "ShmemPmdMapped: %llu kB", &kb) == 1)
            *huge += kb << 10;
        else if (sscanf(line, "Private_Hugetlb: %llu kB", &kb) == 1 ||
                 sscanf(line, "Shared_Hugetlb: %llu kB", &kb) == 1) {
            /* hugetlb pages are not in Rss. */
            *huge += kb << 10;
            *rss += kb << 10;
        }
    }
    fclose(f);
}

void vmm_observe_memory(const struct guest_mem *gm, const struct vmm_resolved *r,
                        struct vmm_mem_obs *out)
{
    memset(out, 0, sizeof *out);
    out->taken = true;
    smaps_usage(gm, &out->rss_bytes, &out->huge_bytes);
    uint64_t off = 0;
    for (unsigned n = 0; n < r->nvnodes && n < VMM_MAX_VNODES; n++) {
        struct vmm_vnode_obs *o = &out->vnode[n];
        o->requested_node = r->vnode_host[n];
        o->other_node = -1;
        uint64_t size = r->vnode_size[n], step = size / SAMPLES_PER_VNODE;
        void *pages[SAMPLES_PER_VNODE];
        int status[SAMPLES_PER_VNODE];
        unsigned k = 0;
        for (; k < SAMPLES_PER_VNODE && step; k++)
            pages[k] = guest_mem_at(gm, off + k * step + step / 2);
        /* No target nodes: move_pages only reports where each page is. */
        if (k && move_pages(0, k, pages, NULL, status, 0) == 0) {
            for (unsigned i = 0; i < k; i++) {
                o->sampled++;
                if (status[i] < 0)
                    o->absent++;
                else if (o->requested_node < 0 || status[i] == o->requested_node)
                    o->on_requested++;
                else {
                    o->elsewhere++;
                    o->other_node = status[i];
                }
            }
        }
        off += size;
    }
}

void vmm_cpuset_text(const uint64_t set[VMM_CPUSET_WORDS], char *buf, unsigned len)
{
    unsigned used = 0;
    buf[0] = '\0';
    for (int c = 0; c < VMM_CPUSET_WORDS * 64 && used < len; c++) {
        if (!(set[c / 64] >> (c % 64) & 1))
            continue;
        int e = c;
        while (e + 1 < VMM_CPUSET_WORDS * 64 && set[(e + 1) / 64] >> ((e + 1) % 64) & 1)
            e++;
        int n = e > c ? snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", c, e)
                      : snprintf(buf + used, len - used, "%s%d", used ? "," : "", c);
        used += n > 0 ? (unsigned)n : 0;
        c = e;
    }
}

static void add(char *buf, unsigned len, const char *what)
{
    size_t used = strlen(buf);
    if (used < len)
        snprintf(buf + used, len - used, "%s%s", used ? "; " : "", what);
}

void vmm_observe_judge(const struct vmm_placement *p, struct vmm_placement_obs *obs)
{
    char msg[160];
    obs->mismatch[0] = '\0';
    for (unsigned i = 0; i < obs->nvcpus; i++) {
        const struct vmm_vcpu_obs *v = &obs->vcpu[i];
        if (v->requested_cpu < 0)
            continue;
        uint64_t want[VMM_CPUSET_WORDS] = { 0 };
        want[v->requested_cpu / 64] = 1ull << (v->requested_cpu % 64);
        bool ran_ok = true, aff_ok = memcmp(v->affinity, want, sizeof want) == 0;
        for (unsigned w = 0; w < VMM_CPUSET_WORDS; w++)
            ran_ok &= (v->ran_on[w] & ~want[w]) == 0;
        if (!ran_ok || !aff_ok) {
            char ran[64];
            vmm_cpuset_text(v->ran_on, ran, sizeof ran);
            snprintf(msg, sizeof msg, "vCPU %u pinned to CPU %d ran on %s%s", i, v->requested_cpu,
                     ran[0] ? ran : "nothing", aff_ok ? "" : " (affinity differs)");
            add(obs->mismatch, sizeof obs->mismatch, msg);
        }
    }
    for (int m = 0; m < 2; m++) {
        const struct vmm_mem_obs *mo = &obs->mem[m];
        if (!mo->taken)
            continue;
        for (unsigned n = 0; n < obs->nvnodes; n++)
            if (mo->vnode[n].elsewhere) {
                snprintf(msg, sizeof msg, "guest node %u: %u of %u sampled pages on host node %d, "
                         "asked %d", n, mo->vnode[n].elsewhere, mo->vnode[n].sampled,
                         mo->vnode[n].other_node, mo->vnode[n].requested_node);
                add(obs->mismatch, sizeof obs->mismatch, msg);
                break;
            }
    }
    const struct vmm_mem_obs *end = &obs->mem[VMM_OBS_AT_END];
    bool wants_huge = p->backing == VMM_BACKING_ANONYMOUS_THP ||
                      p->backing == VMM_BACKING_HUGETLB_2MB ||
                      p->backing == VMM_BACKING_HUGETLB_1GB;
    /* Huge pages are judged on what the guest touched; 90% allows THP's edges. */
    if (end->taken && wants_huge && end->rss_bytes >= (2ull << 20) &&
        end->huge_bytes * 10 < end->rss_bytes * 9) {
        snprintf(msg, sizeof msg, "%s: only %llu of %llu KiB resident are huge pages",
                 vmm_backing_name(p->backing), (unsigned long long)(end->huge_bytes >> 10),
                 (unsigned long long)(end->rss_bytes >> 10));
        add(obs->mismatch, sizeof obs->mismatch, msg);
    }
    if (end->taken && !wants_huge && end->huge_bytes) {
        snprintf(msg, sizeof msg, "%s: %llu KiB backed by huge pages although 4 KiB asked",
                 vmm_backing_name(p->backing), (unsigned long long)(end->huge_bytes >> 10));
        add(obs->mismatch, sizeof obs->mismatch, msg);
    }
}

void vmm_observe_print(FILE *out, const struct vmm_placement_obs *o)
{
    if (!o->valid)
        return;
    char a[128], b[128];
    fprintf(out, "  placement requested: %s\n", o->requested);
    for (unsigned i = 0; i < o->nvcpus; i++) {
        vmm_cpuset_text(o->vcpu[i].ran_on, a, sizeof a);
        vmm_cpuset_text(o->vcpu[i].affinity, b, sizeof b);
        if (o->vcpu[i].requested_cpu >= 0)
            fprintf(out, "  vcpu %u: pinned cpu %d, affinity %s, ran on %s\n", i,
                    o->vcpu[i].requested_cpu, b, a[0] ? a : "-");
        else
            fprintf(out, "  vcpu %u: unpinned, affinity %s, ran on %s\n", i, b, a[0] ? a : "-");
    }
    static const char *const when[2] = { "after touch", "at end" };
    for (int m = 0; m < 2; m++) {
        const struct vmm_mem_obs *mo = &o->mem[m];
        if (!mo->taken)
            continue;
        fprintf(out, "  memory %s: resident %llu KiB, huge %llu KiB\n", when[m],
                (unsigned long long)(mo->rss_bytes >> 10), (unsigned long long)(mo->huge_bytes >> 10));
        for (unsigned n = 0; n < o->nvnodes; n++) {
            const struct vmm_vnode_obs *v = &mo->vnode[n];
            fprintf(out, "  memory %s: guest node %u asked host node %d: %u sampled, %u there, "
                    "%u elsewhere, %u not present\n", when[m], n, v->requested_node, v->sampled,
                    v->on_requested, v->elsewhere, v->absent);
        }
    }
    fprintf(out, "  placement %s%s\n", o->mismatch[0] ? "MISMATCH: " : "as requested",
            o->mismatch);
}
