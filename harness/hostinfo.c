/* What this host offers and what could bias a result on it: read from /proc, /sys,
 * uname, /dev/kvm and one perf_event_open() probe. Every field gets a value (possibly
 * "unknown" or "none") so that two hosts compare field by field. */
#include "hostinfo.h"

#include <cpuid.h>

#include "vmm/placement.h"
#include "vmm/topology.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sysfs.h"
#include "vmmb_version.h"

/* Appends formatted text at the end of buf, truncating quietly: these are labels. */
static void append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* The first processor's block of /proc/cpuinfo: vendor, model, microcode, and whether
 * the CPU advertises vmx/svm (which a PVM guest host does not). */
static void read_cpuinfo(struct host_info *h, bool *has_vmx, bool *has_svm)
{
    *has_vmx = *has_svm = false;
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0 && line[0] != '\n') {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *val = colon + 1;
        val += strspn(val, " \t");
        val[strcspn(val, "\n")] = '\0';
        *colon = '\0';
        for (char *k = colon - 1; k >= line && (*k == ' ' || *k == '\t'); k--)
            *k = '\0';
        if (strcmp(line, "vendor_id") == 0) {
            sysfs_copy(h->cpu_vendor, sizeof h->cpu_vendor, val);
        } else if (strcmp(line, "model name") == 0) {
            sysfs_copy(h->cpu_model, sizeof h->cpu_model, val);
        } else if (strcmp(line, "microcode") == 0) {
            sysfs_copy(h->microcode, sizeof h->microcode, val);
        } else if (strcmp(line, "flags") == 0) {
            for (char *save = NULL, *t = strtok_r(val, " ", &save); t;
                 t = strtok_r(NULL, " ", &save)) {
                if (strcmp(t, "vmx") == 0)
                    *has_vmx = true;
                else if (strcmp(t, "svm") == 0)
                    *has_svm = true;
            }
        }
    }
    free(line);
    fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loaded kvm* modules, sorted so the string is stable across boots. */
static void read_kvm_modules(struct host_info *h)
{
    h->kvm_modules[0] = '\0';
    DIR *d = opendir("/sys/module");
    if (!d)
        return;
    char *names[32];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 32)
        if (strncmp(de->d_name, "kvm", 3) == 0 && (names[n] = strdup(de->d_name)))
            n++;
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        append(h->kvm_modules, sizeof h->kvm_modules, "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
}

/* Which KVM this is and how it maps guest memory. A loaded module is the truth; the CPU
 * flags only say what could be loaded. PVM wins: it runs without VMX/SVM and always uses
 * shadow paging. */
/* QEMU's software emulation names itself in the hypervisor CPUID leaf ("TCGTCGTCGTCG");
 * hardware-accelerated hypervisors (KVM, Hyper-V, ...) give other signatures. */
static void read_emulated(struct host_info *h)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!(c >> 31 & 1)) /* no hypervisor bit: bare metal */
        return;
    __cpuid(0x40000000, a, b, c, d);
    char sig[13];
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    if (strcmp(sig, "TCGTCGTCGTCG") == 0)
        snprintf(h->emulated, sizeof h->emulated, "tcg");
}

static void read_kvm_flavour(struct host_info *h, bool has_vmx, bool has_svm)
{
    const char *flavour = "none", *mmu = "none";
    if (sysfs_exists("/sys/module/kvm_pvm")) {
        flavour = "pvm";
        mmu = "shadow";
    } else if (sysfs_exists("/sys/module/kvm_intel")) {
        flavour = "vmx";
        mmu = sysfs_is_yes("/sys/module/kvm_intel/parameters/ept") ? "ept" : "shadow";
    } else if (sysfs_exists("/sys/module/kvm_amd")) {
        flavour = "svm";
        mmu = sysfs_is_yes("/sys/module/kvm_amd/parameters/npt") ? "npt" : "shadow";
    } else if (has_vmx) {
        flavour = "vmx";
        mmu = "unknown";
    } else if (has_svm) {
        flavour = "svm";
        mmu = "unknown";
    }
    sysfs_copy(h->kvm_flavour, sizeof h->kvm_flavour, flavour);
    sysfs_copy(h->mmu_mode, sizeof h->mmu_mode, mmu);
    bool tdp = strcmp(mmu, "ept") == 0 || strcmp(mmu, "npt") == 0;
    if (tdp && sysfs_is_yes("/sys/module/kvm/parameters/tdp_mmu"))
        append(h->mmu_mode, sizeof h->mmu_mode, ",tdp_mmu");
}

static void read_kvm_api(struct host_info *h)
{
    h->kvm_present = false;
    h->kvm_api = -1;
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    h->kvm_present = true;
    h->kvm_api = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
}

/* The PMU counts as available only when the host can really count instructions; the KVM
 * parameter alone says nothing about the hardware underneath a nested host. */
static void read_pmu(struct host_info *h)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    attr.disabled = 1;
    attr.exclude_kernel = 1;   /* allowed at perf_event_paranoid 2 */
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    int err = errno;
    h->pmu_available = fd >= 0;
    if (fd >= 0) {
        close((int)fd);
        sysfs_copy(h->pmu_reason, sizeof h->pmu_reason, "perf_event_open(instructions): ok");
    } else {
        h->pmu_reason[0] = '\0';
        append(h->pmu_reason, sizeof h->pmu_reason, "perf_event_open(instructions): %s",
               strerror(err));
    }
    char pmu[8];
    if (sysfs_read_line("/sys/module/kvm/parameters/enable_pmu", pmu, sizeof pmu))
        append(h->pmu_reason, sizeof h->pmu_reason, "; kvm enable_pmu=%s", pmu);
}

/* "always [madvise] never": the bracketed word is the mode in force. */
static void read_thp(struct host_info *h)
{
    char line[128];
    sysfs_copy(h->thp, sizeof h->thp, "unsupported");
    if (!sysfs_read_line("/sys/kernel/mm/transparent_hugepage/enabled", line, sizeof line))
        return;
    char *open_b = strchr(line, '['), *close_b = open_b ? strchr(open_b, ']') : NULL;
    if (!close_b)
        return;
    *close_b = '\0';
    sysfs_copy(h->thp, sizeof h->thp, open_b + 1);
}

struct pool {
    unsigned long kb;
    char free_s[24], total_s[24];
};

static int cmp_pool(const void *a, const void *b)
{
    const struct pool *x = a, *y = b;
    return (x->kb > y->kb) - (x->kb < y->kb);
}

/* Every hugetlb pool as "SIZEkB:free/total", smallest page size first. */
static void read_hugepages(struct host_info *h)
{
    const char *base = "/sys/kernel/mm/hugepages";
    h->hugepages[0] = '\0';
    DIR *d = opendir(base);
    if (!d) {
        sysfs_copy(h->hugepages, sizeof h->hugepages, "none");
        return;
    }
    struct pool pools[8];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 8) {
        unsigned long kb;
        if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
            continue;
        char path[512];
        struct pool *p = &pools[n];
        p->kb = kb;
        snprintf(path, sizeof path, "%s/%s/free_hugepages", base, de->d_name);
        if (!sysfs_read_line(path, p->free_s, sizeof p->free_s))
            sysfs_copy(p->free_s, sizeof p->free_s, "?");
        snprintf(path, sizeof path, "%s/%s/nr_hugepages", base, de->d_name);
        if (!sysfs_read_line(path, p->total_s, sizeof p->total_s))
            sysfs_copy(p->total_s, sizeof p->total_s, "?");
        n++;
    }
    closedir(d);
    qsort(pools, n, sizeof *pools, cmp_pool);
    for (size_t i = 0; i < n; i++)
        append(h->hugepages, sizeof h->hugepages, "%s%lukB:%s/%s", i ? " " : "",
               pools[i].kb, pools[i].free_s, pools[i].total_s);
    if (n == 0)
        sysfs_copy(h->hugepages, sizeof h->hugepages, "none");
}

/* hwloc's view: summary, node count, distances (never hand-parsed from sysfs), XML. */
static void read_topology(struct host_info *h)
{
    struct vmm_topology *t;
    struct vmm_err e = { 0 };
    if (vmm_topology_load(NULL, &t, &e) != 0) {
        sysfs_copy(h->topology, sizeof h->topology, e.msg);
        return;
    }
    vmm_topology_summary(t, h->topology, sizeof h->topology);
    h->numa_nodes = vmm_topology_nr_nodes(t);
    /* Rows separated by "; ", entries by " ": "10 21; 21 10". */
    size_t used = 0;
    h->numa_distances[0] = '\0';
    for (int a = 0; a < VMM_MAX_HOST_NODES && used < sizeof h->numa_distances; a++) {
        if (!vmm_topology_node_exists(t, a))
            continue;
        const char *sep = used ? "; " : "";
        for (int b = 0; b < VMM_MAX_HOST_NODES && used < sizeof h->numa_distances; b++) {
            if (!vmm_topology_node_exists(t, b))
                continue;
            used += (size_t)snprintf(h->numa_distances + used, sizeof h->numa_distances - used,
                                     "%s%d", sep, vmm_topology_distance(t, a, b));
            sep = " ";
        }
    }
    h->topology_xml = vmm_topology_xml(t);
    vmm_topology_free(t);
}

/* Counts nodeN directories; a kernel without NUMA support has one node. */
static unsigned count_numa_nodes(void)
{
    DIR *d = opendir("/sys/devices/system/node");
    if (!d)
        return 1;
    unsigned n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *s = de->d_name;
        if (strncmp(s, "node", 4) == 0 && s[4] && strspn(s + 4, "0123456789") == strlen(s + 4))
            n++;
    }
    closedir(d);
    return n ? n : 1;
}

void hostinfo_collect(struct host_info *h)
{
    memset(h, 0, sizeof *h);
    if (gethostname(h->hostname, sizeof h->hostname) != 0)
        sysfs_copy(h->hostname, sizeof h->hostname, "unknown");
    h->hostname[sizeof h->hostname - 1] = '\0';

    sysfs_copy(h->cpu_vendor, sizeof h->cpu_vendor, "unknown");
    sysfs_copy(h->cpu_model, sizeof h->cpu_model, "unknown");
    sysfs_copy(h->microcode, sizeof h->microcode, "unknown");
    bool has_vmx, has_svm;
    read_cpuinfo(h, &has_vmx, &has_svm);

    struct utsname u;
    if (uname(&u) == 0) {
        sysfs_copy(h->kernel, sizeof h->kernel, u.release);
        append(h->kernel, sizeof h->kernel, " %s", u.version);
    } else {
        sysfs_copy(h->kernel, sizeof h->kernel, "unknown");
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    h->cpus_online = cpus > 0 ? (unsigned)cpus : 0;

    read_kvm_api(h);
    read_kvm_modules(h);
    read_kvm_flavour(h, has_vmx, has_svm);
    read_emulated(h);
    read_pmu(h);
    read_thp(h);
    read_hugepages(h);
    if (!sysfs_read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
                         h->governor, sizeof h->governor))
        sysfs_copy(h->governor, sizeof h->governor, "none");
    if (!sysfs_read_line("/sys/devices/system/cpu/smt/control", h->smt, sizeof h->smt))
        sysfs_copy(h->smt, sizeof h->smt, "unknown");
    h->numa_nodes = count_numa_nodes();
    sysfs_copy(h->suite_rev, sizeof h->suite_rev, VMMB_GIT_REV);
    read_topology(h);
    irq_facts_read("", &h->irq);
}

void hostinfo_free(struct host_info *h)
{
    free(h->topology_xml);
    h->topology_xml = NULL;
}

void hostinfo_print_topology(const struct host_info *h, FILE *out)
{
    struct vmm_topology *t;
    struct vmm_err e = { 0 };
    fprintf(out, "topology:      %s\n", h->topology);
    if (vmm_topology_load(NULL, &t, &e) != 0) {
        fprintf(out, "(%s)\n", e.msg);
        return;
    }
    unsigned n = vmm_topology_nr_nodes(t);
    for (int node = 0, seen = 0; seen < (int)n && node < 1024; node++) {
        if (!vmm_topology_node_exists(t, node))
            continue;
        seen++;
        int cpus[1024];
        unsigned nc = vmm_topology_node_cpus(t, node, cpus, 1024);
        fprintf(out, "node %d cpus:   ", node);
        for (unsigned i = 0; i < nc; i++)
            fprintf(out, "%s%d", i ? "," : "", cpus[i]);
        fprintf(out, "\n");
    }
    fprintf(out, "distances:     %s\n", h->numa_distances[0] ? h->numa_distances : "unknown");
    vmm_topology_free(t);
}

void hostinfo_print(const struct host_info *h, FILE *out)
{
    /* Keys padded to one width so the values line up. */
#define KV(key, fmt, ...) fprintf(out, "%-14s " fmt "\n", key ":", __VA_ARGS__)
    KV("hostname", "%s", h->hostname);
    KV("cpu_vendor", "%s", h->cpu_vendor);
    KV("cpu_model", "%s", h->cpu_model);
    KV("microcode", "%s", h->microcode);
    KV("kernel", "%s", h->kernel);
    KV("cpus_online", "%u", h->cpus_online);
    KV("kvm_present", "%s", h->kvm_present ? "yes" : "no");
    KV("kvm_api", "%d", h->kvm_api);
    KV("kvm_flavour", "%s", h->kvm_flavour);
    if (h->emulated[0])
        KV("emulated", "%s (QEMU software emulation: functional only, not a measurement)",
           h->emulated);
    KV("kvm_modules", "%s", h->kvm_modules[0] ? h->kvm_modules : "none");
    KV("mmu_mode", "%s", h->mmu_mode);
    KV("pmu_available", "%s", h->pmu_available ? "yes" : "no");
    KV("pmu_reason", "%s", h->pmu_reason);
    KV("thp", "%s", h->thp);
    KV("hugepages", "%s", h->hugepages);
    KV("governor", "%s", h->governor);
    KV("smt", "%s", h->smt);
    KV("numa_nodes", "%u", h->numa_nodes);
    KV("suite_rev", "%s", h->suite_rev);
    KV("topology", "%s", h->topology);
    KV("numa_dist", "%s", h->numa_distances[0] ? h->numa_distances : "unknown");
    if (h->irq.halt_poll_ns >= 0)
        KV("halt_poll_ns", "%lld", h->irq.halt_poll_ns);
    else
        KV("halt_poll_ns", "%s", "unknown");
    KV("apicv", "%s", h->irq.apicv);
    KV("apic_mode", "%s", h->irq.apic_mode);
#undef KV
}
