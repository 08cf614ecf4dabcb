/* vmmbench list: the workloads the guest image declares (with their parameters),
 * the suites, and the installed configs. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "suites.h"
#include "vmm/topology.h"
#include "vmm/image.h"

static void list_workloads(const struct vmm_image *img)
{
    printf("Workloads (from %s):\n", img->path);
    for (unsigned i = 0; i < img->nworkloads; i++) {
        const struct vmmb_workload_desc *d = &img->workloads[i];
        const char *rings = d->rings == (VMMB_RING0 | VMMB_RING3) ? "ring 0|3"
                            : d->rings == VMMB_RING0             ? "ring 0"
                                                                 : "ring 3";
        printf("  %-12s %-9s %-4s %s\n", d->name, rings, d->unit, d->summary);
        for (unsigned p = 0; p < d->nr_params; p++)
            printf("      %-10s default %-8llu range %llu..%llu  %s\n", d->params[p].name,
                   (unsigned long long)d->params[p].def, (unsigned long long)d->params[p].min,
                   (unsigned long long)d->params[p].max, d->params[p].help);
    }
}

static void list_suites(void)
{
    unsigned n, nodes = 1;
    const struct suite *s = suite_all(&n);
    struct vmm_topology *t = NULL;
    struct vmm_err e = { 0 };
    if (vmm_topology_load(NULL, &t, &e) == 0) {
        nodes = vmm_topology_nr_nodes(t);
        vmm_topology_free(t);
    }
    printf("\nSuites (time per repetition with the default config on a 2-core host, %u NUMA "
           "node%s here):\n", nodes, nodes == 1 ? "" : "s");
    for (unsigned i = 0; i < n; i++) {
        printf("  %-8s ~%4.0f s  %s:", s[i].name, suite_estimate(&s[i], nodes), s[i].summary);
        for (const struct suite_item *it = s[i].items; it->spec; it++)
            printf(" %s%s", it->spec, it->min_nodes > nodes ? " (needs 2+ nodes)" : "");
        printf("\n");
    }
}

static void list_configs(void)
{
    char dir[4096];
    printf("\nConfigs:\n");
    if (vmm_share_path("configs", dir, sizeof dir))
        return;
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        size_t len = strlen(name);
        if (len > 4 && strcmp(name + len - 4, ".ini") == 0) {
            char path[4096 + 256];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            struct bench_config c;
            struct vmm_err e = { 0 };
            if (config_load(path, &c, &e) == 0) {
                printf("  %-12s %u vCPU(s), %llu MiB%s%s  (%s)\n", c.name, c.vcpus,
                       (unsigned long long)(c.mem_bytes >> 20),
                       c.hypervisor == VMM_HV_VMM_MIN ? "" : ", under ",
                       c.hypervisor == VMM_HV_VMM_MIN ? "" : vmm_hypervisor_name(c.hypervisor),
                       path);
                config_free(&c);
            } else {
                printf("  %-12s invalid: %s\n", name, e.msg);
            }
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
}

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "kernel", required_argument, 0, 'k' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *kernel = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k') {
            kernel = optarg;
        } else if (c == 'h') {
            printf("usage: vmmbench list [--kernel FILE]\n\nLists workloads (name, rings, unit, "
                   "what it measures, parameters), suites and installed configs.\n");
            return 0;
        } else {
            fprintf(stderr, "usage: vmmbench list [--kernel FILE]\n");
            return VMM_EXIT_USAGE;
        }
    }
    struct vmm_err e = { 0 };
    char path[4096];
    if (!kernel) {
        if (vmm_share_path(VMM_DEFAULT_GUEST, path, sizeof path)) {
            vmm_err_set(&e, VMM_EXIT_USAGE, "cannot locate the guest kernel; pass --kernel");
            return cli_fail(&e);
        }
        kernel = path;
    }
    struct vmm_image *img;
    if (vmm_image_open(kernel, &img, &e))
        return cli_fail(&e);
    list_workloads(img);
    vmm_image_close(img);
    list_suites();
    list_configs();
    return 0;
}
