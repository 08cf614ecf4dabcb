/* vmm-min: run one guest by hand and print what it measured. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "stats.h"
#include "vmm/image.h"
#include "vmm/size.h"
#include "vmm/text_escape.h"
#include "vmm/vmm.h"

#define MAX_CLI_PARAMS 32

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vmm-min [--kernel FILE] --workload NAME [--mem SIZE] [--vcpus N]\n"
            "               [--param k=v]... [--timeout S] [--probe-timeout S] [--console]\n"
            "               [--json] [--list] [--hypervisor vmm-min|qemu-microvm|qemu-pc]\n"
            "\n"
            "Boots one guest on /dev/kvm, runs one workload, prints its samples summary.\n"
            "  --kernel FILE     guest kernel ELF (default: the installed vmmbench-guest.elf)\n"
            "  --workload NAME   workload to run (--list shows them)\n"
            "  --mem SIZE        guest memory, e.g. 64M, 1G (default 64M)\n"
            "  --vcpus N         vCPUs (default 1)\n"
            "  --param k=v       workload parameter (repeatable)\n"
            "  --timeout S       end the run after S seconds (default 60)\n"
            "  --probe-timeout S how long one probe of the operation may take (default 1)\n"
            "  --console         copy the guest console to stderr as it comes\n"
            "  --json            print the result as JSON, every sample included\n"
            "  --list            list the workloads in the kernel image and exit\n"
            "  --hypervisor H    vmm-min (default), qemu-microvm or qemu-pc (q35 + SeaBIOS):\n"
            "                    the same guest under QEMU with KVM ($VMMB_QEMU or\n"
            "                    qemu-system-x86_64)\n"
            "  --counters LIST   host PMU counters on the vCPU threads (libpfm4): aliases\n"
            "                    dtlb, walk, ept, llc, instructions, cycles, or event strings\n"
            "Placement (see README): --pin LIST|compact|scatter|node:N, --vmm-pin LIST\n"
            "  [--vmm-pin-shared],\n"
            "  --backing anonymous|anonymous_thp|anonymous_hugetlb_2mb|anonymous_hugetlb_1gb|shmem,\n"
            "  --prefault yes|no, --guest-pages 4k|2m|1g, --numa bind:N|interleave:N,M|preferred:N,\n"
            "  --vnuma 0:SIZE@hostN,1:SIZE@hostM, --native (memory workloads: the same code\n"
            "  on host threads placed like the vCPUs, over memory placed like guest memory)\n"
            "Devices (virtio-mmio; see README): --blk null[:SIZE]|ram:SIZE|file:PATH|tmp:SIZE,\n"
            "  --net null|loop|tap:NAME (each repeatable), --notify exit|ioeventfd|poll|irq,\n"
            "  --poll-us N (poll window, default 200), --io-cpu N (pin the I/O thread)\n"
            "Exit status: 0 run ok, 1 run failed/unsupported, 2 usage, 4 no KVM, 6 bad image,\n"
            "7 memory.\n");
}

static void print_json(const struct vmm_plan *p, const struct vmm_result *r)
{
    printf("{\"workload\":");
    json_write_string(stdout, p->workload->name);
    printf(",\"params\":");
    json_write_string(stdout, p->params_text);
    printf(",\"status\":\"%s\",\"reason\":", vmm_status_name(r->status));
    json_write_string(stdout, r->reason);
    printf(",\"tsc_khz\":%llu,\"exits\":%llu,\"wall_seconds\":%.6f,\"samples\":[",
           (unsigned long long)r->tsc_khz, (unsigned long long)r->exits, r->wall_seconds);
    for (size_t i = 0; i < r->nsamples; i++) {
        const struct vmm_sample *s = &r->samples[i];
        printf("%s{\"metric\":", i ? "," : "");
        json_write_string(stdout, s->metric);
        printf(",\"unit\":");
        json_write_string(stdout, s->unit);
        if (s->point[0]) {
            printf(",\"point\":");
            json_write_string(stdout, s->point);
        }
        printf(",\"batch\":%u,\"warmup\":%s,\"value\":", s->batch, s->warmup ? "true" : "false");
        json_write_number(stdout, s->value);
        printf("}");
    }
    printf("],\"console\":");
    json_write_string(stdout, r->console ? r->console : "");
    printf("}\n");
}

/* qsort_r order of sample indexes: by point, then metric, then position, so each
 * (point, metric) is one stretch of the index with its samples in their order. */
static int cmp_point_metric(const void *a, const void *b, void *ctx)
{
    const struct vmm_sample *s = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strncmp(s[x].point, s[y].point, sizeof s[x].point);
    if (!c)
        c = strncmp(s[x].metric, s[y].metric, sizeof s[x].metric);
    return c ? c : (x > y) - (x < y);
}

struct line {
    size_t start, n;          /* a stretch of the sorted index */
};

/* Lines in order of their first sample (the smallest index of their stretch). */
static int cmp_line_first(const void *a, const void *b, void *ctx)
{
    const size_t *idx = ctx;
    size_t x = idx[((const struct line *)a)->start], y = idx[((const struct line *)b)->start];
    return (x > y) - (x < y);
}

/* One line per (point, metric) in order of first appearance: median, p5 and p95 of the
 * samples that are not warm-up. Sorting an index keeps this O(n log n) for any result a
 * guest can produce; guest text (reason, points, console notes) is shown escaped. */
static void print_text(const struct vmm_plan *p, const struct vmm_result *r)
{
    printf("workload %s (%s): %s", p->workload->name, p->params_text, vmm_status_name(r->status));
    if (r->reason[0]) {
        fputs(": ", stdout);
        vmm_text_escape_puts(stdout, r->reason, 0);
    }
    printf("\n");
    size_t ns = r->nsamples;
    size_t *idx = malloc((ns ? ns : 1) * sizeof *idx);
    struct line *lines = malloc((ns ? ns : 1) * sizeof *lines);
    double *v = malloc((ns ? ns : 1) * sizeof *v);
    size_t nl = 0;
    if (!idx || !lines || !v)
        ns = 0; /* out of memory: the summary lines are left out, the rest still prints */
    for (size_t i = 0; i < ns; i++)
        idx[i] = i;
    qsort_r(idx, ns, sizeof *idx, cmp_point_metric, r->samples);
    for (size_t i = 0; i < ns; i++) {
        bool same = i > 0 &&
                    strncmp(r->samples[idx[i - 1]].point, r->samples[idx[i]].point,
                            VMM_POINT_MAX) == 0 &&
                    strncmp(r->samples[idx[i - 1]].metric, r->samples[idx[i]].metric,
                            VMM_METRIC_MAX) == 0;
        if (!same)
            lines[nl++] = (struct line){ i, 0 };
        lines[nl - 1].n++;
    }
    qsort_r(lines, nl, sizeof *lines, cmp_line_first, idx);
    for (size_t l = 0; l < nl; l++) {
        const struct vmm_sample *first = &r->samples[idx[lines[l].start]];
        size_t n = 0;
        for (size_t k = 0; k < lines[l].n; k++) {
            const struct vmm_sample *x = &r->samples[idx[lines[l].start + k]];
            if (!x->warmup)
                v[n++] = x->value;
        }
        if (!n)
            continue;
        stats_sort(v, n);
        char pt[4 * VMM_POINT_MAX + 1], metric[4 * VMM_METRIC_MAX + 1];
        char unit[4 * VMM_UNIT_MAX + 1];
        vmm_text_escape(pt, sizeof pt, first->point, 0);
        vmm_text_escape(metric, sizeof metric, first->metric, 0);
        vmm_text_escape(unit, sizeof unit, first->unit, 0);
        if (pt[0])
            printf("  [%s]", pt);
        printf("  %-16s n=%-5zu median=%-12.4g p5=%-12.4g p95=%-12.4g %s\n", metric, n,
               stats_quantile_sorted(v, n, 0.5), stats_quantile_sorted(v, n, 0.05),
               stats_quantile_sorted(v, n, 0.95), unit);
    }
    free(idx);
    free(lines);
    free(v);
    printf("  tsc %llu kHz, %llu exits seen by the VMM, %.3f s\n",
           (unsigned long long)r->tsc_khz, (unsigned long long)r->exits, r->wall_seconds);
    vmm_observe_print(stdout, &r->placement);
    /* The VMM's own notes about the run (counters, devices) are in the console log, which
     * the guest writes too: shown escaped. */
    for (const char *l = r->console; l && (l = strstr(l, "vmm: ")); l++)
        if (l == r->console || l[-1] == '\n') {
            fputs("  ", stdout);
            vmm_text_escape_write(stdout, l, strcspn(l, "\n"), 0);
            fputc('\n', stdout);
        }
}

static int fail(const struct vmm_err *e)
{
    fprintf(stderr, "vmm-min: %s\n", e->msg);
    return e->code;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "kernel", required_argument, 0, 'k' }, { "mem", required_argument, 0, 'm' },
        { "vcpus", required_argument, 0, 'c' }, { "workload", required_argument, 0, 'w' },
        { "param", required_argument, 0, 'p' }, { "timeout", required_argument, 0, 't' },
        { "probe-timeout", required_argument, 0, 'P' }, { "console", no_argument, 0, 'C' },
        { "json", no_argument, 0, 'j' }, { "list", no_argument, 0, 'l' },
        { "help", no_argument, 0, 'h' },
        /* Placement flags carry their INI key name; vmm_placement_set parses both. */
        { "pin", required_argument, 0, 1000 }, { "vmm-pin", required_argument, 0, 1001 },
        { "backing", required_argument, 0, 1002 }, { "prefault", required_argument, 0, 1003 },
        { "guest-pages", required_argument, 0, 1004 }, { "numa", required_argument, 0, 1005 },
        { "vnuma", required_argument, 0, 1006 }, { "native", no_argument, 0, 1007 },
        { "vmm-pin-shared", no_argument, 0, 1008 },
        /* devices */
        { "blk", required_argument, 0, 1100 }, { "net", required_argument, 0, 1101 },
        { "notify", required_argument, 0, 1102 }, { "poll-us", required_argument, 0, 1103 },
        { "io-cpu", required_argument, 0, 1104 }, { "counters", required_argument, 0, 1200 },
        { "hypervisor", required_argument, 0, 1300 },
        { 0, 0, 0, 0 },
    };
    static const char *const placement_keys[] = { "pin", "vmm_pin", "backing", "prefault",
                                                  "guest_pages", "numa", "vnuma" };
    const char *kernel = NULL, *params[MAX_CLI_PARAMS];
    static char devbuf[VMMB_MAX_DEVICES][VMM_DEV_ARGS_MAX + 8];
    const char *devs[VMMB_MAX_DEVICES];
    unsigned ndevs = 0;
    struct vmm_request rq = { .mem_bytes = 64ull << 20, .vcpus = 1 };
    bool json = false, list = false;
    struct vmm_err e = { 0 };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'k': kernel = optarg; break;
        case 'w': rq.workload = optarg; break;
        case 'm':
            if (vmm_parse_size(optarg, &rq.mem_bytes)) {
                vmm_err_set(&e, VMM_EXIT_RESOURCES, "--mem %s is not a size; write it like 64M "
                            "or 1G", optarg);
                return fail(&e);
            }
            break;
        case 'c':
            rq.vcpus = (unsigned)strtoul(optarg, &end, 10);
            if (*end || !*optarg) {
                vmm_err_set(&e, VMM_EXIT_USAGE, "--vcpus %s is not a number", optarg);
                return fail(&e);
            }
            break;
        case 'p':
            if (rq.nparams == MAX_CLI_PARAMS) {
                vmm_err_set(&e, VMM_EXIT_USAGE, "more than %d --param options", MAX_CLI_PARAMS);
                return fail(&e);
            }
            params[rq.nparams++] = optarg;
            break;
        case 't':
        case 'P': {
            double s = strtod(optarg, &end);
            if (*end || !*optarg || !(s > 0)) {
                vmm_err_set(&e, VMM_EXIT_USAGE, "--%s %s is not a positive number of seconds",
                            c == 't' ? "timeout" : "probe-timeout", optarg);
                return fail(&e);
            }
            *(c == 't' ? &rq.timeout_s : &rq.probe_timeout_s) = s;
            break;
        }
        case 'C': rq.echo_console = true; break;
        case 'j': json = true; break;
        case 'l': list = true; break;
        case 'h': usage(stdout); return 0;
        case 1007: case 1008:
            if (vmm_placement_set(&rq.placement, c == 1007 ? "native" : "vmm_pin_shared", "yes",
                                  &e))
                return fail(&e);
            break;
        case 1000: case 1001: case 1002: case 1003: case 1004: case 1005: case 1006:
            if (vmm_placement_set(&rq.placement, placement_keys[c - 1000], optarg, &e))
                return fail(&e);
            break;
        case 1100: case 1101: { /* --blk SPEC, --net SPEC: "blk:SPEC" for the plan */
            if (ndevs == VMMB_MAX_DEVICES) {
                vmm_err_set(&e, VMM_EXIT_USAGE, "more than %d devices", VMMB_MAX_DEVICES);
                return fail(&e);
            }
            snprintf(devbuf[ndevs], sizeof devbuf[ndevs], "%s:%s", c == 1100 ? "blk" : "net",
                     optarg);
            devs[ndevs] = devbuf[ndevs];
            ndevs++;
            break;
        }
        case 1102: rq.virtio.notify = optarg; break;
        case 1200: rq.counters = optarg; break;
        case 1300:
            if (vmm_parse_hypervisor(optarg, &rq.hypervisor, &e))
                return fail(&e);
            break;
        case 1103:
        case 1104: {
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v < 0 || v > 1000000) {
                vmm_err_set(&e, VMM_EXIT_USAGE, "--%s %s is not a number from 0 to 1000000",
                            c == 1103 ? "poll-us" : "io-cpu", optarg);
                return fail(&e);
            }
            if (c == 1103)
                rq.virtio.poll_us = (unsigned)v;
            else
                rq.virtio.io_cpu = (int)v, rq.virtio.io_cpu_set = true;
            break;
        }
        default: usage(stderr); return VMM_EXIT_USAGE;
        }
    }
    rq.virtio.devices = (const char *const *)devs;
    rq.virtio.ndevices = ndevs;
    if (optind < argc) {
        vmm_err_set(&e, VMM_EXIT_USAGE, "unexpected argument '%s'; see vmm-min --help",
                    argv[optind]);
        return fail(&e);
    }
    char def[4096];
    if (!kernel) {
        if (vmm_share_path(VMM_DEFAULT_GUEST, def, sizeof def)) {
            vmm_err_set(&e, VMM_EXIT_USAGE, "cannot locate the guest kernel; pass --kernel");
            return fail(&e);
        }
        kernel = def;
    }
    struct vmm_image *img;
    if (vmm_image_open(kernel, &img, &e))
        return fail(&e);
    if (list) {
        for (unsigned i = 0; i < img->nworkloads; i++)
            printf("%-12s %s (%s)\n", img->workloads[i].name, img->workloads[i].summary,
                   img->workloads[i].unit);
        vmm_image_close(img);
        return 0;
    }
    if (!rq.workload) {
        vmm_image_close(img);
        vmm_err_set(&e, VMM_EXIT_USAGE, "no --workload given; --list shows the workloads");
        return fail(&e);
    }
    rq.image = img;
    rq.params = params;
    struct vmm_plan plan;
    /* A native run is host threads over host memory: it needs no KVM. */
    if (vmm_plan_make(&rq, &plan, &e) || (!plan.placement.native && vmm_kvm_check(&e))) {
        vmm_image_close(img);
        return fail(&e);
    }
    struct vmm_result r;
    vmm_run(&plan, &r);
    if (json)
        print_json(&plan, &r);
    else
        print_text(&plan, &r);
    int rc = r.status == VMM_STATUS_OK ? 0 : VMM_EXIT_RUNS_FAILED;
    vmm_result_free(&r);
    vmm_image_close(img);
    return rc;
}
