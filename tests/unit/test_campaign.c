/* Campaign files and their state: a valid file gives the plan (tasks = nodes x sets, in
 * the documented order) and each task's `vmmbench run` argv; every bad input is refused
 * with VMM_EXIT_CONFIG and FILE:LINE; the state file round-trips; a task's files say
 * whether it is done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "campaign.h"
#include "campaign_state.h"
#include "testutil.h"

static char dir[PATH_MAX];
static struct campaign c;

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_tree(dir);
    return 0;
}

static const char *write_campaign(const char *text)
{
    static char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/c.ini", dir);
    tu_write_file(path, text, strlen(text));
    return path;
}

static const char *GOOD =
    "[campaign]\n"
    "name = nightly\n"
    "results = out      ; relative to the file\n"
    "nodes = n1, n2\n"
    "partition = bench\n"
    "repetitions = 4\n"
    "timeout = 30\n"
    "time_limit = 20\n"
    "vmmbench = /opt/vmmbench\n"
    "\n"
    "[set mem]\n"
    "configs = native, cfg/big.ini\n"
    "workloads = tlb:max=1M bw:array=1M\n"
    "native = yes\n"
    "[set exits]\n"
    "suite = exits\n";

static void good_file_gives_the_plan(void **state)
{
    (void)state;
    struct vmm_err e = { 0 };
    assert_int_equal(campaign_load(write_campaign(GOOD), &c, &e), 0);
    char want[PATH_MAX + 16];
    assert_string_equal(c.name, "nightly");
    assert_string_equal(c.tag, "nightly");
    snprintf(want, sizeof want, "%s/out", dir);
    assert_string_equal(c.results, want);
    assert_int_equal(c.nnodes, 2);
    assert_string_equal(c.partition, "bench");
    assert_int_equal(c.reps, 4);
    assert_int_equal(c.time_limit_min, 20);
    assert_int_equal(c.nsets, 2);
    assert_int_equal(campaign_ntasks(&c), 4);
    /* task i: set i % nsets on node i / nsets */
    assert_string_equal(campaign_task_node(&c, 0), "n1");
    assert_string_equal(campaign_task_set(&c, 0)->name, "mem");
    assert_string_equal(campaign_task_node(&c, 1), "n1");
    assert_string_equal(campaign_task_set(&c, 1)->name, "exits");
    assert_string_equal(campaign_task_node(&c, 2), "n2");
    assert_string_equal(campaign_task_set(&c, 3)->name, "exits");

    static struct campaign_argv a;
    assert_int_equal(campaign_run_argv(&c, 2, &a, &e), 0);
    char cfg[PATH_MAX + 64], db[PATH_MAX + 64];
    snprintf(cfg, sizeof cfg, "native,%s/cfg/big.ini", dir);
    snprintf(db, sizeof db, "%s/out/task-2.partial.db", dir);
    const char *expect[] = { "/opt/vmmbench", "run", "--db", db, "--tag", "nightly", "--reps",
                             "4", "--timeout", "30", "--configs", cfg, "--native",
                             "tlb:max=1M", "bw:array=1M", NULL };
    for (size_t i = 0; expect[i]; i++) {
        assert_non_null(a.argv[i]);
        assert_string_equal(a.argv[i], expect[i]);
    }
    assert_null(a.argv[sizeof expect / sizeof expect[0] - 1]);
    assert_int_equal(campaign_run_argv(&c, 3, &a, &e), 0);
    assert_string_equal(a.argv[10], "--suite");
    assert_string_equal(a.argv[11], "exits");
    assert_null(a.argv[12]);
}

static void partition_alone_is_one_task_per_set(void **state)
{
    (void)state;
    struct vmm_err e = { 0 };
    assert_int_equal(campaign_load(write_campaign("[campaign]\nname = p\nresults = /tmp/r\n"
                                                  "partition = bench\n[set a]\nsuite = quick\n"
                                                  "[set b]\nworkloads = null\n"), &c, &e), 0);
    assert_int_equal(campaign_ntasks(&c), 2);
    assert_string_equal(campaign_task_node(&c, 1), "");
    assert_string_equal(campaign_task_set(&c, 1)->name, "b");
    assert_int_equal(c.reps, 3);
    assert_true(c.vmmbench[0] == '/');   /* this program, by default */
}

/* Each bad file: VMM_EXIT_CONFIG and a message containing `want`. */
static void refused(const char *text, const char *want)
{
    struct vmm_err e = { 0 };
    assert_int_equal(campaign_load(write_campaign(text), &c, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    if (!strstr(e.msg, want))
        fail_msg("'%s' not in '%s'", want, e.msg);
}

#define HEAD "[campaign]\nname = x\nresults = r\nnodes = a\n"

static void bad_files_are_refused_with_their_line(void **state)
{
    (void)state;
    refused(HEAD "repetitions = 0\n[set s]\nsuite = quick\n",
            "c.ini:5: repetitions '0': give a whole number from 1 to 10000");
    refused(HEAD "colour = red\n[set s]\nsuite = quick\n", "c.ini:5: unknown key 'colour'");
    refused(HEAD "name = y\n[set s]\nsuite = quick\n", "c.ini:5: 'name' given twice");
    refused(HEAD "[set s]\nsuite = nosuch\n", "c.ini:6: suite 'nosuch' is unknown");
    refused(HEAD "[set s]\nnative = maybe\nsuite = quick\n", "c.ini:6: native 'maybe'");
    refused(HEAD "[sets]\nsuite = quick\n", "c.ini:5: section [sets]");
    refused(HEAD "[set s]\nsuite = quick\n[set s]\nsuite = quick\n", "c.ini:7: [set s] given twice");
    refused("[campaign]\nname = x\nresults = r\nnodes = a, b, a\n[set s]\nsuite = quick\n",
            "c.ini:4: nodes: a is listed twice");
    refused("[campaign]\nname = bad name\n", "c.ini:2: name 'bad name'");
    refused(HEAD "timeout = soon\n[set s]\nsuite = quick\n", "c.ini:5: timeout 'soon'");
    refused(HEAD "this is not ini\n", "c.ini:5: not a section header or key = value");
    refused(HEAD "[set s]\nsuite = quick\nworkloads = null\n", "names both workloads and a suite");
    refused(HEAD "[set s]\nnative = yes\n", "[set s] runs nothing");
    refused(HEAD, "no config set");
    refused("[campaign]\nname = x\nnodes = a\n[set s]\nsuite = quick\n", "no results directory");
    refused("[campaign]\nname = x\nresults = r\n[set s]\nsuite = quick\n",
            "'nodes = a,b' and/or 'partition = NAME'");
    refused("[campaign]\nresults = r\nnodes = a\n[set s]\nsuite = quick\n", "no [campaign] name");
    struct vmm_err e = { 0 };
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/none.ini", dir);
    assert_int_equal(campaign_load(missing, &c, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    assert_non_null(strstr(e.msg, "none.ini"));
}

static void state_round_trips_and_task_files_tell_done(void **state)
{
    (void)state;
    struct vmm_err e = { 0 };
    assert_int_equal(campaign_load(write_campaign(GOOD), &c, &e), 0);
    assert_int_equal(mkdir(c.results, 0700), 0);
    static struct campaign_state s, r;
    assert_int_equal(campaign_state_read(&c, &r, &e), 0);   /* none yet: empty */
    assert_string_equal(r.task_job[0], "");
    memset(&s, 0, sizeof s);
    strcpy(s.task_job[0], "12");
    strcpy(s.task_job[3], "15");
    strcpy(s.finish_job, "16");
    assert_int_equal(campaign_state_write(&c, &s, &e), 0);
    assert_int_equal(campaign_state_read(&c, &r, &e), 0);
    assert_string_equal(r.task_job[0], "12");
    assert_string_equal(r.task_job[1], "");
    assert_string_equal(r.task_job[3], "15");
    assert_string_equal(r.finish_job, "16");

    char path[PATH_MAX + 64];
    campaign_file(&c, path, sizeof path, CAMPAIGN_STATE);
    tu_write_file(path, "task 0 12\nrubbish\n", 18);
    assert_int_equal(campaign_state_read(&c, &r, &e), -1);
    assert_int_equal(e.code, VMM_EXIT_CONFIG);
    assert_non_null(strstr(e.msg, "campaign.state:2:"));

    assert_false(campaign_task_done(&c, 1));
    assert_int_equal(campaign_task_rc(&c, 1), -1);
    campaign_file(&c, path, sizeof path, CAMPAIGN_TASK_PARTIAL, 1);
    tu_write_file(path, "x", 1);
    assert_false(campaign_task_done(&c, 1));   /* partial is not done */
    campaign_file(&c, path, sizeof path, CAMPAIGN_TASK_DB, 1);
    tu_write_file(path, "x", 1);
    assert_true(campaign_task_done(&c, 1));
    campaign_file(&c, path, sizeof path, CAMPAIGN_TASK_RC, 1);
    tu_write_file(path, "3\n", 2);
    assert_int_equal(campaign_task_rc(&c, 1), 3);

    char logs[PATH_MAX + 16], last[256];
    snprintf(logs, sizeof logs, "%s/logs", c.results);
    assert_int_equal(mkdir(logs, 0700), 0);
    campaign_task_last_err(&c, 1, last, sizeof last);
    assert_string_equal(last, "");
    campaign_file(&c, path, sizeof path, CAMPAIGN_TASK_ERR, 1);
    tu_write_file(path, "first\nvmmbench: the reason\n\n  \n", 31);
    campaign_task_last_err(&c, 1, last, sizeof last);
    assert_string_equal(last, "vmmbench: the reason");
}

static void exit_meanings_are_distinct(void **state)
{
    (void)state;
    for (int a = 0; a <= 9; a++)
        for (int b = 0; b < a; b++)
            if (a != 8 && b != 8)
                assert_string_not_equal(campaign_exit_meaning(a), campaign_exit_meaning(b));
    assert_string_equal(campaign_exit_meaning(VMM_EXIT_NO_KVM), "no usable /dev/kvm on the node");
    assert_non_null(strstr(campaign_exit_meaning(128 + 15), "killed by a signal"));
    assert_string_equal(campaign_exit_meaning(42), "unexpected exit status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_file_gives_the_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(partition_alone_is_one_task_per_set, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_files_are_refused_with_their_line, setup, teardown),
        cmocka_unit_test_setup_teardown(state_round_trips_and_task_files_tell_done, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(exit_meanings_are_distinct, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
