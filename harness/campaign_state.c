/* A campaign's progress on disk; see campaign_state.h. */
#include "campaign_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

int campaign_state_read(const struct campaign *c, struct campaign_state *s, struct vmm_err *e)
{
    memset(s, 0, sizeof *s);
    char path[PATH_MAX + 64];
    campaign_file(c, path, sizeof path, CAMPAIGN_STATE);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: %s; check the results directory", path,
                           strerror(errno));
    }
    char line[256];
    int no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        unsigned task;
        char job[24];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "task %u %23[0-9]", &task, job) == 2 && task < CAMPAIGN_MAX_TASKS)
            snprintf(s->task_job[task], sizeof s->task_job[task], "%s", job);
        else if (sscanf(line, "finish %23[0-9]", job) == 1)
            snprintf(s->finish_job, sizeof s->finish_job, "%s", job);
        else {
            fclose(f);
            return vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: not 'task N JOBID' or 'finish "
                               "JOBID'; remove the file if it is not a campaign's state", path,
                               no);
        }
    }
    fclose(f);
    return 0;
}

int campaign_state_write(const struct campaign *c, const struct campaign_state *s,
                         struct vmm_err *e)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
    campaign_file(c, path, sizeof path, CAMPAIGN_STATE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot write %s: %s; check the results "
                           "directory", tmp, strerror(errno));
    fprintf(f, "# vmmbench campaign %s: the Slurm job that last ran each task\n", c->name);
    for (unsigned i = 0; i < campaign_ntasks(c); i++)
        if (s->task_job[i][0])
            fprintf(f, "task %u %s\n", i, s->task_job[i]);
    if (s->finish_job[0])
        fprintf(f, "finish %s\n", s->finish_job);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

bool campaign_task_done(const struct campaign *c, unsigned i)
{
    char path[PATH_MAX + 64];
    struct stat st;
    campaign_file(c, path, sizeof path, CAMPAIGN_TASK_DB, i);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int campaign_task_rc(const struct campaign *c, unsigned i)
{
    char path[PATH_MAX + 64];
    campaign_file(c, path, sizeof path, CAMPAIGN_TASK_RC, i);
    FILE *f = fopen(path, "r");
    int rc = -1;
    if (f) {
        if (fscanf(f, "%d", &rc) != 1)
            rc = -1;
        fclose(f);
    }
    return rc;
}

void campaign_task_last_err(const struct campaign *c, unsigned i, char *buf, size_t cap)
{
    char path[PATH_MAX + 64], line[1024];
    campaign_file(c, path, sizeof path, CAMPAIGN_TASK_ERR, i);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[strspn(line, " \t")])
            snprintf(buf, cap, "%s", line);
    }
    fclose(f);
}

/* Removes the partial database of an earlier attempt with its WAL files. */
static void remove_partial(const char *db)
{
    char p[PATH_MAX + 80];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
}

int campaign_task_run(const struct campaign *c, unsigned i, bool to_logs, int *rc,
                      struct vmm_err *e)
{
    if (i >= campaign_ntasks(c))
        return vmm_err_set(e, VMM_EXIT_USAGE, "task %u: the campaign has tasks 0 to %u", i,
                           campaign_ntasks(c) - 1);
    char partial[PATH_MAX + 64], done[PATH_MAX + 64], rcpath[PATH_MAX + 64];
    campaign_file(c, partial, sizeof partial, CAMPAIGN_TASK_PARTIAL, i);
    campaign_file(c, done, sizeof done, CAMPAIGN_TASK_DB, i);
    campaign_file(c, rcpath, sizeof rcpath, CAMPAIGN_TASK_RC, i);
    remove_partial(partial);
    unlink(rcpath);
    struct campaign_argv a;
    if (campaign_run_argv(c, i, &a, e))
        return -1;
    char out[PATH_MAX + 64], err[PATH_MAX + 64];
    campaign_file(c, out, sizeof out, CAMPAIGN_TASK_OUT, i);
    campaign_file(c, err, sizeof err, CAMPAIGN_TASK_ERR, i);
    struct proc_out logs = { .out_file = out, .err_file = err };
    if (proc_run(a.argv, to_logs ? &logs : NULL, rc, VMM_EXIT_USAGE, "set 'vmmbench = PATH' "
                 "in the campaign file to the program every node can run", e))
        return -1;
    FILE *f = fopen(rcpath, "w");
    if (!f || fprintf(f, "%d\n", *rc) < 0 || fclose(f) != 0)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot write %s: %s", rcpath, strerror(errno));
    /* A run that finished (exit 0, or 1: some runs failed and are stored with their
     * reason) is complete; anything else stays partial and is rerun. */
    if ((*rc == VMM_EXIT_OK || *rc == VMM_EXIT_RUNS_FAILED) && rename(partial, done) != 0)
        return vmm_err_set(e, VMM_EXIT_DATABASE, "cannot rename %s to %s: %s", partial, done,
                           strerror(errno));
    return 0;
}
