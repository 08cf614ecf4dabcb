/* Placement: parsing every key, and resolution against hwloc synthetic topologies, so
 * two-package, two-node logic is tested beyond this host's single node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "vmm/placement.h"
#include "vmm/topology.h"

#define MiB (1ull << 20)
/* Two packages, each one NUMA node with two cores of two PUs: PUs 0-3 on node 0, 4-7 on
 * node 1. */
#define TWO_NODES "pack:2 numa:1 core:2 pu:2"

static struct vmm_topology *topo(const char *synthetic)
{
    struct vmm_topology *t;
    struct vmm_err e = { 0 };
    if (vmm_topology_load(synthetic, &t, &e))
        fail_msg("topology: %s", e.msg);
    return t;
}

static int resolve(const char *synthetic, const char *const *kv, unsigned vcpus, uint64_t mem,
                   struct vmm_resolved *r, struct vmm_err *e)
{
    struct vmm_placement p;
    memset(&p, 0, sizeof p);
    for (; *kv; kv += 2)
        if (vmm_placement_set(&p, kv[0], kv[1], e))
            return -2;
    struct vmm_topology *t = topo(synthetic);
    int rc = vmm_placement_resolve(&p, vcpus, mem, t, r, e);
    vmm_topology_free(t);
    return rc;
}

static void test_parse_each_key(void **state)
{
    (void)state;
    struct vmm_placement p;
    struct vmm_err e = { 0 };
    memset(&p, 0, sizeof p);
    assert_int_equal(vmm_placement_set(&p, "backing", "anonymous_hugetlb_2mb", &e), 0);
    assert_int_equal(p.backing, VMM_BACKING_HUGETLB_2MB);
    assert_int_equal(vmm_placement_set(&p, "guest_pages", "4K", &e), 0);
    assert_int_equal(p.guest_pages, VMM_GPAGES_4K);
    assert_int_equal(vmm_placement_set(&p, "prefault", "yes", &e), 0);
    assert_true(p.prefault);
    assert_int_equal(vmm_placement_set(&p, "numa", "interleave:0,1", &e), 0);
    assert_int_equal(p.numa, VMM_NUMA_INTERLEAVE);
    assert_int_equal(p.numa_nodes, 3);
    assert_int_equal(vmm_placement_set(&p, "pin", "2,3,5-6", &e), 0);
    assert_int_equal(p.pin_policy, VMM_PIN_LIST);
    assert_int_equal(p.npin, 4);
    assert_int_equal(p.pin[3], 6);
    assert_int_equal(vmm_placement_set(&p, "pin", "node:1", &e), 0);
    assert_int_equal(p.pin_policy, VMM_PIN_NODE);
    assert_int_equal(p.pin_node, 1);
    assert_int_equal(vmm_placement_set(&p, "vnuma", "0:1G@host0,1:512M@host1", &e), 0);
    assert_int_equal(p.nvnodes, 2);
    assert_int_equal(p.vnode[1].size, 512 * MiB);
    assert_int_equal(p.vnode[1].host_node, 1);
    assert_int_equal(vmm_placement_set(&p, "vmm_pin", "0", &e), 0);
    assert_int_equal(p.nvmm_pin, 1);
    assert_int_equal(vmm_placement_set(&p, "frobs", "1", &e), 1); /* not a placement key */
    char d[256];
    vmm_placement_describe(&p, d, sizeof d);
    assert_non_null(strstr(d, "backing=anonymous_hugetlb_2mb"));
    assert_non_null(strstr(d, "vnuma=0:1024M@host0,1:512M@host1"));
    assert_non_null(strstr(d, "pin=node:1"));
}

static void expect_parse_error(const char *key, const char *val, const char *word)
{
    struct vmm_placement p;
    struct vmm_err e = { 0 };
    memset(&p, 0, sizeof p);
    assert_int_equal(vmm_placement_set(&p, key, val, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
    if (!strstr(e.msg, word))
        fail_msg("%s=%s: '%s' not in: %s", key, val, word, e.msg);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("backing", "anon", "anonymous_thp");
    expect_parse_error("guest_pages", "8k", "4k, 2m or 1g");
    expect_parse_error("prefault", "maybe", "yes or no");
    expect_parse_error("numa", "bind", "node numbers");
    expect_parse_error("numa", "bind:0,1", "exactly one node");
    expect_parse_error("numa", "spread:0", "bind:N");
    expect_parse_error("pin", "2,,3", "CPU list");
    expect_parse_error("pin", "5-2", "CPU list");
    expect_parse_error("pin", "node:x", "node:N");
    expect_parse_error("pin", "node:64", "node:N");             /* nodes are 0..63 */
    expect_parse_error("vmm_pin", "0-64", "more than 64 entries"); /* 65 CPUs */
    expect_parse_error("pin", "0-64", "CPU list");
    expect_parse_error("vnuma", "0:1G", "guest:size@host");
    expect_parse_error("vnuma", "0:1G@host0,0:1G@host1", "overlapping");
    expect_parse_error("vnuma", "1:1G@host0", "out of order");
    expect_parse_error("vnuma", "0:lots@host0", "guest:size@host");
    /* edges: node 64 is past the node mask (1 << 64 would be undefined); 63 is the last */
    expect_parse_error("numa", "bind:64", "63");
    expect_parse_error("numa", "interleave:0,64", "63");
    struct vmm_placement p;
    struct vmm_err e = { 0 };
    memset(&p, 0, sizeof p);
    assert_int_equal(vmm_placement_set(&p, "numa", "interleave:0,63", &e), 0);
    assert_true(p.numa_nodes == (1ull | 1ull << 63));
    /* a CPU list longer than there are vCPUs to pin: refused, not overrun */
    char longlist[8 * (VMMB_MAX_VCPUS + 2)];
    size_t used = 0;
    for (int c = 0; c <= VMMB_MAX_VCPUS; c++)
        used += (size_t)snprintf(longlist + used, sizeof longlist - used, "%s%d", c ? "," : "", c);
    expect_parse_error("pin", longlist, "more than");
    expect_parse_error("vmm_pin", longlist, "more than");
}

static void test_compact_scatter_node(void **state)
{
    (void)state;
    struct vmm_resolved r;
    struct vmm_err e = { 0 };
    const char *compact[] = { "pin", "compact", NULL };
    assert_int_equal(resolve(TWO_NODES, compact, 3, 64 * MiB, &r, &e), 0);
    assert_int_equal(r.vcpu_cpu[0], 0);
    assert_int_equal(r.vcpu_cpu[1], 1);
    assert_int_equal(r.vcpu_cpu[2], 2);
    /* scatter: two vCPUs land in different packages, hence different nodes */
    const char *scatter[] = { "pin", "scatter", NULL };
    assert_int_equal(resolve(TWO_NODES, scatter, 2, 64 * MiB, &r, &e), 0);
    assert_true(r.vcpu_cpu[0] < 4);
    assert_true(r.vcpu_cpu[1] >= 4);
    const char *node1[] = { "pin", "node:1", NULL };
    assert_int_equal(resolve(TWO_NODES, node1, 4, 64 * MiB, &r, &e), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r.vcpu_cpu[i], 4 + i);
    const char *list[] = { "pin", "7,0", NULL };
    assert_int_equal(resolve(TWO_NODES, list, 2, 64 * MiB, &r, &e), 0);
    assert_int_equal(r.vcpu_cpu[0], 7);
    assert_int_equal(r.vcpu_cpu[1], 0);
    const char *none[] = { NULL };
    assert_int_equal(resolve(TWO_NODES, none, 2, 64 * MiB, &r, &e), 0);
    assert_int_equal(r.vcpu_cpu[0], -1);
    assert_int_equal(r.nvnodes, 1);
    assert_int_equal(r.vnode_host[0], -1);
}

static void test_vnuma_places_vcpus_on_their_node(void **state)
{
    (void)state;
    struct vmm_resolved r;
    struct vmm_err e = { 0 };
    const char *kv[] = { "vnuma", "0:32M@host1,1:32M@host0", NULL };
    assert_int_equal(resolve(TWO_NODES, kv, 4, 64 * MiB, &r, &e), 0);
    assert_int_equal(r.nvnodes, 2);
    assert_int_equal(r.vnode_host[0], 1);
    assert_int_equal(r.vnode_host[1], 0);
    /* vCPUs 0,1 form guest node 0 (host node 1: CPUs 4-7), 2,3 guest node 1 (CPUs 0-3) */
    assert_int_equal(r.vcpu_vnode[0], 0);
    assert_int_equal(r.vcpu_vnode[3], 1);
    assert_true(r.vcpu_cpu[0] >= 4 && r.vcpu_cpu[1] >= 4);
    assert_true(r.vcpu_cpu[2] < 4 && r.vcpu_cpu[3] < 4);
    assert_int_not_equal(r.vcpu_cpu[0], r.vcpu_cpu[1]);
    const char *bind[] = { "numa", "bind:1", NULL };
    assert_int_equal(resolve(TWO_NODES, bind, 1, 64 * MiB, &r, &e), 0);
    assert_int_equal(r.vnode_host[0], 1);
}

static void expect_refusal(const char *const *kv, unsigned vcpus, uint64_t mem, int code,
                           const char *word)
{
    struct vmm_resolved r;
    struct vmm_err e = { 0 };
    assert_int_equal(resolve(TWO_NODES, kv, vcpus, mem, &r, &e), -1);
    assert_int_equal(e.code, code);
    if (!strstr(e.msg, word))
        fail_msg("'%s' not in: %s", word, e.msg);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *cpu9[] = { "pin", "0,9", NULL };
    expect_refusal(cpu9, 2, 64 * MiB, VMM_EXIT_USAGE, "CPU 9 does not exist");
    const char *short_list[] = { "pin", "1", NULL };
    expect_refusal(short_list, 2, 64 * MiB, VMM_EXIT_USAGE, "1 CPU(s) for 2 vCPUs");
    const char *node3[] = { "pin", "node:3", NULL };
    expect_refusal(node3, 1, 64 * MiB, VMM_EXIT_USAGE, "node 3 does not exist");
    const char *bind3[] = { "numa", "bind:3", NULL };
    expect_refusal(bind3, 1, 64 * MiB, VMM_EXIT_USAGE, "node 3 does not exist");
    const char *too_big[] = { "vnuma", "0:64M@host0,1:64M@host1", NULL };
    expect_refusal(too_big, 2, 64 * MiB, VMM_EXIT_USAGE, "larger than the guest memory");
    const char *too_small[] = { "vnuma", "0:16M@host0", NULL };
    expect_refusal(too_small, 1, 64 * MiB, VMM_EXIT_USAGE, "add up to the memory");
    const char *vnode_host3[] = { "vnuma", "0:32M@host0,1:32M@host3", NULL };
    expect_refusal(vnode_host3, 2, 64 * MiB, VMM_EXIT_USAGE, "node 3 does not exist");
    const char *both[] = { "vnuma", "0:64M@host0", "numa", "bind:0", NULL };
    expect_refusal(both, 1, 64 * MiB, VMM_EXIT_USAGE, "not both");
    const char *node_small[] = { "pin", "node:0", NULL };
    expect_refusal(node_small, 5, 64 * MiB, VMM_EXIT_USAGE, "node has 4 usable CPU(s)");
    const char *thp_odd[] = { "backing", "anonymous_thp", NULL };
    expect_refusal(thp_odd, 1, 65 * MiB, VMM_EXIT_USAGE, "not a multiple");
    const char *vmm_pin[] = { "vmm_pin", "12", NULL };
    expect_refusal(vmm_pin, 1, 64 * MiB, VMM_EXIT_USAGE, "vmm_pin: host CPU 12");
    /* The supervisor on a vCPU's CPU takes the guest's time: refused unless asked for. */
    const char *overlap[] = { "pin", "2,3", "vmm_pin", "1,3", NULL };
    expect_refusal(overlap, 2, 64 * MiB, VMM_EXIT_USAGE, "vmm_pin CPU 3 is also vCPU 1's CPU");
    struct vmm_resolved r;
    struct vmm_err e = { 0 };
    const char *shared[] = { "pin", "2,3", "vmm_pin", "3", "vmm_pin_shared", "yes", NULL };
    assert_int_equal(resolve(TWO_NODES, shared, 2, 64 * MiB, &r, &e), 0);
    const char *apart[] = { "pin", "2,3", "vmm_pin", "1", NULL };
    assert_int_equal(resolve(TWO_NODES, apart, 2, 64 * MiB, &r, &e), 0);
}

/* A fake sysfs with a 2 MiB pool of `free` pages on node `node` (-1: system-wide) and
 * no 1 GiB pages at all. */
static void fake_sysfs(char *dir, size_t cap, int node, long free)
{
    tu_mkdtemp(dir, cap);
    char path[512];
    snprintf(path, sizeof path, "%s/kernel/mm/hugepages/hugepages-2048kB", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
    assert_int_equal(system(cmd), 0);
    char file[600], num[32];
    snprintf(num, sizeof num, "%ld\n", node < 0 ? free : 0);
    snprintf(file, sizeof file, "%s/free_hugepages", path);
    tu_write_file(file, num, strlen(num));
    snprintf(file, sizeof file, "%s/nr_hugepages", path);
    tu_write_file(file, num, strlen(num));
    if (node >= 0) {
        snprintf(path, sizeof path, "%s/devices/system/node/node%d/hugepages/hugepages-2048kB",
                 dir, node);
        snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
        assert_int_equal(system(cmd), 0);
        snprintf(num, sizeof num, "%ld\n", free);
        snprintf(file, sizeof file, "%s/free_hugepages", path);
        tu_write_file(file, num, strlen(num));
        snprintf(file, sizeof file, "%s/nr_hugepages", path);
        tu_write_file(file, num, strlen(num));
    }
    setenv("VMMB_SYSFS_ROOT", dir, 1);
}

static void test_hugetlb_pools(void **state)
{
    (void)state;
    char dir[256];
    struct vmm_resolved r;
    struct vmm_err e = { 0 };
    fake_sysfs(dir, sizeof dir, -1, 10);
    const char *h2m[] = { "backing", "anonymous_hugetlb_2mb", NULL };
    expect_refusal(h2m, 1, 64 * MiB, VMM_EXIT_RESOURCES, "need 32 pages of 2048 kB, 10 free");
    expect_refusal(h2m, 1, 64 * MiB, VMM_EXIT_RESOURCES, "add 22 with: echo 32 > ");
    assert_int_equal(resolve(TWO_NODES, h2m, 1, 20 * MiB, &r, &e), 0); /* 10 pages suffice */
    const char *h1g[] = { "backing", "anonymous_hugetlb_1gb", NULL };
    expect_refusal(h1g, 1, 1024 * MiB, VMM_EXIT_RESOURCES, "no 1048576 kB hugetlb pages");
    tu_rm_tree(dir);
    /* Bound to node 1: node 1's own pool counts, not the system-wide one. */
    fake_sysfs(dir, sizeof dir, 1, 16);
    const char *bound[] = { "backing", "anonymous_hugetlb_2mb", "numa", "bind:1", NULL };
    expect_refusal(bound, 1, 64 * MiB, VMM_EXIT_RESOURCES, "on this node, 16 free");
    expect_refusal(bound, 1, 64 * MiB, VMM_EXIT_RESOURCES, "node1/hugepages");
    assert_int_equal(resolve(TWO_NODES, bound, 1, 32 * MiB, &r, &e), 0);
    tu_rm_tree(dir);
    unsetenv("VMMB_SYSFS_ROOT");
}

static void test_topology_queries(void **state)
{
    (void)state;
    struct vmm_topology *t = topo(TWO_NODES);
    assert_int_equal(vmm_topology_nr_nodes(t), 2);
    assert_int_equal(vmm_topology_nr_cpus(t), 8);
    assert_int_equal(vmm_topology_cpu_state(t, 7), 1);
    assert_int_equal(vmm_topology_cpu_state(t, 8), -1);
    assert_int_equal(vmm_topology_cpu_node(t, 5), 1);
    int cpus[8];
    assert_int_equal(vmm_topology_node_cpus(t, 0, cpus, 8), 4);
    assert_int_equal(cpus[3], 3);
    char s[160];
    vmm_topology_summary(t, s, sizeof s);
    assert_non_null(strstr(s, "2 packages, 2 NUMA nodes, 4 cores, 8 PUs"));
    char *xml = vmm_topology_xml(t);
    assert_non_null(xml);
    assert_non_null(strstr(xml, "NUMANode"));
    free(xml);
    vmm_topology_free(t);
    struct vmm_err e = { 0 };
    assert_int_equal(vmm_topology_load("pack:x", &t, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_each_key),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_compact_scatter_node),
        cmocka_unit_test(test_vnuma_places_vcpus_on_their_node),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_hugetlb_pools),
        cmocka_unit_test(test_topology_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
