#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/text_escape.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void progress_init(struct progress *p, FILE *out, size_t total)
{
    p->out = out;
    p->tty = isatty(fileno(out)) && getenv("CI") == NULL;
    p->total = total;
    p->t0 = now_s();
    p->est_s = 0;
}

void progress_estimate(struct progress *p, double seconds)
{
    p->est_s = seconds;
}

/* What is left: the plan's estimate until a run has finished, then the pace so far. */
static double left_s(const struct progress *p, size_t done)
{
    double el = now_s() - p->t0;
    if (done == 0)
        return p->est_s;
    return el / (double)done * (double)(p->total - done);
}

void progress_start(struct progress *p, size_t index, const char *what)
{
    if (!p->tty)
        return;
    fprintf(p->out, "\r\033[K[%zu/%zu %6.1fs, ~%.0fs left] %s ...", index + 1, p->total,
            now_s() - p->t0, left_s(p, index), what);
    fflush(p->out);
}

void progress_done(struct progress *p, size_t index, const char *what, const char *status,
                   const char *note)
{
    bool ok = strcmp(status, "ok") == 0;
    /* The note is often a guest's reason: shown escaped, so it cannot drive the terminal. */
    if (p->tty)
        fputs("\r\033[K", p->out);
    fprintf(p->out, "[%zu/%zu %*.1fs] %s: %s%s", index + 1, p->total, p->tty ? 6 : 0,
            now_s() - p->t0, what, status, note[0] ? " - " : "");
    vmm_text_escape_puts(p->out, note, 0);
    /* On a terminal, keep failures on screen and let successes be overwritten by the next
     * line; elsewhere (CI logs) one line per run. */
    fputs(p->tty && ok && index + 1 < p->total ? "" : "\n", p->out);
    fflush(p->out);
}

void progress_finish(struct progress *p)
{
    if (p->tty)
        fputs("\r\033[K", p->out);
    fflush(p->out);
}
