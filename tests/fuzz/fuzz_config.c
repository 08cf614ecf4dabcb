/* Fuzz target: configs and workload specs, the way `vmmbench run` reads them. Input =
 * an INI file, a NUL byte, then a workload spec ("tlb:min=4096,max=1M"). The file goes
 * through config_load (libinih, every key's parser: sizes, pin, vmm_pin, numa, vnuma,
 * devices); an accepted config and the spec through run_plan_build (the real guest image's
 * catalogue, the parameter parser, placement resolved on a two-node synthetic topology).
 * Properties: a loaded placement re-serialises (vmm_placement_describe) to text that
 * parses back to the same placement; a planned run's canonical parameters, given back as
 * a spec, plan to the same parameters; every planned value is in its declared range;
 * errors are config (3) / usage (2) / resources (7) errors with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"
#include "run_plan.h"
#include "vmm/image.h"
#include "vmm/placement.h"
#include "vmm/topology.h"

static struct vmm_image *image;
static struct vmm_topology *topo;
static char path[64];

static void init(void)
{
    char img_path[4096];
    struct vmm_err e = { 0 };
    FUZZ_ASSERT(vmm_share_path(VMM_DEFAULT_GUEST, img_path, sizeof img_path) == 0);
    if (vmm_image_open(img_path, &image, &e)) {
        fprintf(stderr, "fuzz_config: %s (set VMMB_SHARE_DIR to build/share/vmmbench)\n", e.msg);
        abort();
    }
    FUZZ_ASSERT(vmm_topology_load("pack:2 numa:1 core:2 pu:2", &topo, &e) == 0);
    snprintf(path, sizeof path, "/tmp/vmmb-fuzz-config-%d.ini", (int)getpid());
}

static void same_placement(const struct vmm_placement *a, const struct vmm_placement *b)
{
    FUZZ_ASSERT(a->native == b->native && a->backing == b->backing);
    FUZZ_ASSERT(a->prefault == b->prefault && a->guest_pages == b->guest_pages);
    FUZZ_ASSERT(a->numa == b->numa && a->numa_nodes == b->numa_nodes);
    FUZZ_ASSERT(a->nvnodes == b->nvnodes);
    for (unsigned i = 0; i < a->nvnodes; i++)
        FUZZ_ASSERT(a->vnode[i].size == b->vnode[i].size &&
                    a->vnode[i].host_node == b->vnode[i].host_node);
    FUZZ_ASSERT(a->pin_policy == b->pin_policy);
    if (a->pin_policy == VMM_PIN_NODE)
        FUZZ_ASSERT(a->pin_node == b->pin_node);
    if (a->pin_policy == VMM_PIN_LIST)
        FUZZ_ASSERT(a->npin == b->npin && !memcmp(a->pin, b->pin, a->npin * sizeof a->pin[0]));
    FUZZ_ASSERT(a->nvmm_pin == b->nvmm_pin &&
                !memcmp(a->vmm_pin, b->vmm_pin, a->nvmm_pin * sizeof a->vmm_pin[0]));
}

/* describe -> "key=value ..." -> vmm_placement_set each -> the same placement. */
static void round_trip(const struct vmm_placement *p)
{
    char text[4096], again[4096];
    vmm_placement_describe(p, text, sizeof text);
    FUZZ_ASSERT(strlen(text) < sizeof text - 1);
    struct vmm_placement q;
    memset(&q, 0, sizeof q);
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        FUZZ_ASSERT(eq);
        *eq = '\0';
        struct vmm_err e = { 0 };
        if (vmm_placement_set(&q, tok, eq + 1, &e) != 0) {
            fprintf(stderr, "describe gave '%s'; %s=%s does not parse back: %s\n", text, tok,
                    eq + 1, e.msg);
            abort();
        }
    }
    same_placement(p, &q);
    vmm_placement_describe(&q, again, sizeof again);
    FUZZ_ASSERT(strcmp(text, again) == 0);
}

static int plan(const struct bench_config *c, const char *spec, struct run_plan *rp,
                struct vmm_err *e)
{
    const char *specs[] = { spec };
    struct run_plan_request rq = { .image = image, .configs = c, .nconfigs = 1, .specs = specs,
                                   .nspecs = 1, .reps = 1, .topology = topo };
    return run_plan_build(&rq, rp, e);
}

static void check_plan(const struct bench_config *c, const struct vmm_plan *p)
{
    const struct vmmb_workload_desc *d = p->workload;
    FUZZ_ASSERT(d && p->nparams == d->nr_params);
    for (unsigned i = 0; i < p->nparams; i++)
        FUZZ_ASSERT(p->params[i].value >= d->params[i].min &&
                    p->params[i].value <= d->params[i].max);
    FUZZ_ASSERT(p->vcpus == c->vcpus && p->mem_bytes == c->mem_bytes);
    FUZZ_ASSERT(p->resolved.nvnodes >= 1 && p->resolved.vcpus == p->vcpus);
    /* The canonical text, as a spec, plans to the same parameters. */
    char spec[512];
    int n = snprintf(spec, sizeof spec, "%s%s%s", d->name, p->nparams ? ":" : "", p->params_text);
    FUZZ_ASSERT(n > 0 && (size_t)n < sizeof spec);
    for (char *s = spec; *s; s++)
        if (*s == ' ')
            *s = ',';
    struct run_plan rp;
    struct vmm_err e = { 0 };
    if (plan(c, spec, &rp, &e) != 0) {
        fprintf(stderr, "canonical spec '%s' does not plan again: %s\n", spec, e.msg);
        abort();
    }
    FUZZ_ASSERT(rp.n == 1 && strcmp(rp.items[0].plan.params_text, p->params_text) == 0);
    run_plan_free(&rp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!image)
        init();
    const uint8_t *nul = memchr(data, '\0', size);
    size_t ini_len = nul ? (size_t)(nul - data) : size;
    char spec[600] = "";
    if (nul) {
        size_t k = size - ini_len - 1;
        if (k >= sizeof spec)
            return 0;
        memcpy(spec, nul + 1, k);
        spec[k] = '\0';
        if (strlen(spec) != k)
            return 0; /* a spec is one argv string: no NUL inside */
    }
    FILE *f = fopen(path, "wb");
    FUZZ_ASSERT(f && fwrite(data, 1, ini_len, f) == ini_len && fclose(f) == 0);

    struct bench_config c;
    struct vmm_err e = { 0 };
    if (config_load(path, &c, &e) != 0) {
        FUZZ_ASSERT((e.code == VMM_EXIT_CONFIG || e.code == VMM_EXIT_INTERNAL) && e.msg[0]);
        FUZZ_ASSERT(strstr(e.msg, path) == e.msg); /* names the file */
        return 0;
    }
    FUZZ_ASSERT(c.vcpus >= 1 && c.vcpus <= CONFIG_MAX_VCPUS && c.mem_bytes >= (16ull << 20));
    FUZZ_ASSERT(c.text && strlen(c.text) == ini_len);
    round_trip(&c.placement);
    if (spec[0]) {
        struct run_plan rp;
        struct vmm_err pe = { 0 };
        int rc = plan(&c, spec, &rp, &pe);
        if (getenv("FUZZ_VERBOSE")) /* for writing seeds: what the input reached */
            fprintf(stderr, "config %s planned '%s': %s\n", c.name, spec, rc ? pe.msg : "ok");
        if (rc == 0) {
            FUZZ_ASSERT(rp.n == 1);
            check_plan(&c, &rp.items[0].plan);
            run_plan_free(&rp);
        } else {
            FUZZ_ASSERT((pe.code == VMM_EXIT_USAGE || pe.code == VMM_EXIT_RESOURCES) &&
                        pe.msg[0]);
        }
    }
    config_free(&c);
    return 0;
}
