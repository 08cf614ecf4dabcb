#include "irq_facts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysfs.h"

/* ROOT/REL's first line into buf; false when absent. */
static bool read_at(const char *root, const char *rel, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", root, rel);
    return sysfs_read_line(path, buf, cap);
}

static bool exists_at(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", root, rel);
    return sysfs_exists(path);
}

/* Whether ROOT/proc/cpuinfo's first flags line lists FLAG as a whole word. */
static bool cpu_flag(const char *root, const char *flag)
{
    char path[512];
    snprintf(path, sizeof path, "%s/proc/cpuinfo", root);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[8192];
    bool found = false;
    size_t n = strlen(flag);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *p = strstr(line, flag); p; p = strstr(p + 1, flag))
            if ((p == line || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
                found = true;
        break;
    }
    fclose(f);
    return found;
}

void irq_facts_read(const char *root, struct irq_facts *f)
{
    memset(f, 0, sizeof *f);
    char v[32];
    f->halt_poll_ns = -1;
    if (read_at(root, "/sys/module/kvm/parameters/halt_poll_ns", v, sizeof v)) {
        char *end;
        long long x = strtoll(v, &end, 10);
        if (end != v && *end == '\0' && x >= 0)
            f->halt_poll_ns = x;
    }
    /* Posted interrupts are part of APICv on Intel; AVIC is AMD's equivalent. PVM has
     * neither: every interrupt is injected by software. */
    if (exists_at(root, "/sys/module/kvm_pvm"))
        snprintf(f->apicv, sizeof f->apicv, "pvm: none (software injection)");
    else if (exists_at(root, "/sys/module/kvm_intel")) {
        char pi[16] = "?";
        if (!read_at(root, "/sys/module/kvm_intel/parameters/enable_apicv", v, sizeof v))
            snprintf(v, sizeof v, "?");
        read_at(root, "/sys/module/kvm_intel/parameters/enable_ipiv", pi, sizeof pi);
        snprintf(f->apicv, sizeof f->apicv, "vmx enable_apicv=%s enable_ipiv=%s", v, pi);
    } else if (exists_at(root, "/sys/module/kvm_amd")) {
        if (!read_at(root, "/sys/module/kvm_amd/parameters/avic", v, sizeof v))
            snprintf(v, sizeof v, "?");
        snprintf(f->apicv, sizeof f->apicv, "svm avic=%s", v);
    } else
        snprintf(f->apicv, sizeof f->apicv, "none (no kvm vendor module)");
    snprintf(f->apic_mode, sizeof f->apic_mode, "host cpu x2apic=%s",
             cpu_flag(root, "x2apic") ? "yes" : "no");
    if (read_at(root, "/sys/module/kvm_pvm/parameters/no_x2apic", v, sizeof v)) {
        size_t n = strlen(f->apic_mode);
        snprintf(f->apic_mode + n, sizeof f->apic_mode - n, ", pvm no_x2apic=%s", v);
    }
}
