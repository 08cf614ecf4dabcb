/* Slurm through its command-line tools; see slurm.h. */
#include "slurm.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "campaign.h"
#include "proc.h"

#define FIX_SLURM "install the Slurm client tools (Debian: slurm-client) and set SLURM_CONF " \
                  "if the cluster's slurm.conf is not /etc/slurm/slurm.conf, or use " \
                  "`vmmbench campaign run FILE --local`"

/* The last non-empty line of text, trimmed, into buf. */
static void last_line(const char *text, char *buf, size_t cap)
{
    const char *end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1]))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(buf, cap, "%.*s", (int)(end - start), start);
}

int slurm_sbatch(const char *const *args, size_t nargs, const char *script, char *jobid,
                 size_t cap, struct vmm_err *e)
{
    char *argv[SLURM_MAX_ARGS + 4];
    size_t n = 0;
    if (nargs > SLURM_MAX_ARGS)
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "too many sbatch arguments");
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    for (size_t i = 0; i < nargs; i++)
        argv[n++] = (char *)args[i];
    argv[n++] = (char *)script;
    argv[n] = NULL;
    char out[512], err[2048];
    struct proc_out io = { .out = out, .out_cap = sizeof out, .err = err, .err_cap = sizeof err };
    int st;
    if (proc_run(argv, &io, &st, CAMPAIGN_EXIT_SCHEDULER, FIX_SLURM, e))
        return -1;
    char line[256];
    if (st != 0) {
        last_line(err, line, sizeof line);
        return vmm_err_set(e, CAMPAIGN_EXIT_SCHEDULER, "sbatch refused the job (exit %d): %s; "
                           "check the nodes/partition in the campaign file and `sinfo`",
                           st, line[0] ? line : "no message");
    }
    /* --parsable prints "JOBID" or "JOBID;CLUSTER". */
    last_line(out, line, sizeof line);
    size_t len = strspn(line, "0123456789");
    if (len == 0 || len >= cap)
        return vmm_err_set(e, CAMPAIGN_EXIT_SCHEDULER, "sbatch printed no job id ('%s')", line);
    memcpy(jobid, line, len);
    jobid[len] = '\0';
    return 0;
}

/* Parses "ID|STATE|REASON" lines (reason optional) into out. sacct writes states such as
 * "CANCELLED by 0": the first word is the state. */
static void parse_lines(char *text, struct slurm_state *out, size_t cap, size_t *n)
{
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *id = l, *state = strchr(l, '|');
        if (!state || *n >= cap)
            continue;
        *state++ = '\0';
        char *reason = strchr(state, '|');
        if (reason)
            *reason++ = '\0';
        struct slurm_state *s = &out[(*n)++];
        snprintf(s->id, sizeof s->id, "%s", id);
        snprintf(s->state, sizeof s->state, "%.*s", (int)strcspn(state, " "), state);
        snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
    }
}

int slurm_query(const char *jobid, struct slurm_state *out, size_t cap, size_t *n,
                struct vmm_err *e)
{
    char jobs[64];
    snprintf(jobs, sizeof jobs, "--jobs=%s", jobid);
    char *sq[] = { "squeue", "--noheader", "--array", "--states=all", jobs,
                   "--format=%i|%T|%r", NULL };
    static char text[1 << 16];
    char err[1024];
    struct proc_out io = { .out = text, .out_cap = sizeof text, .err = err, .err_cap = sizeof err };
    int st;
    if (proc_run(sq, &io, &st, CAMPAIGN_EXIT_SCHEDULER, FIX_SLURM, e))
        return -1;
    if (st == 0 && text[0]) {
        parse_lines(text, out, cap, n);
        return 0;
    }
    /* squeue forgets finished jobs after MinJobAge; sacct remembers them where the
     * cluster keeps accounting. Without either, the task's own files tell the rest. */
    char *sa[] = { "sacct", "--noheader", "--parsable2", "--allocations", "--jobs", (char *)jobid,
                   "--format=JobID,State", NULL };
    struct vmm_err ignored = { 0 };
    if (proc_run(sa, &io, &st, CAMPAIGN_EXIT_SCHEDULER, FIX_SLURM, &ignored) == 0 && st == 0)
        parse_lines(text, out, cap, n);
    return 0;
}

static int in_list(const char *state, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(state, *list))
            return 1;
    return 0;
}

int slurm_state_failed(const char *state)
{
    static const char *const failed[] = { "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
                                          "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
                                          "DEADLINE", "SPECIAL_EXIT", "REVOKED", NULL };
    return in_list(state, failed);
}

int slurm_state_active(const char *state)
{
    static const char *const active[] = { "PENDING", "RUNNING", "CONFIGURING", "COMPLETING",
                                          "REQUEUED", "RESIZING", "SUSPENDED", "STOPPED",
                                          "SIGNALING", "STAGE_OUT", "REQUEUE_HOLD",
                                          "REQUEUE_FED", "RESV_DEL_HOLD", NULL };
    return in_list(state, active);
}
