/* A QMP client just big enough for a run: connect, send a command, take its reply line;
 * and the scanner for query-cpus-fast's thread ids. QEMU's replies are treated as
 * untrusted text (tests/unit/test_qemu_cmdline.c feeds it hostile ones). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu/qemu.h"

#define SCAN_MAX_DEPTH 32

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A non-negative integer of at most 9 digits at s[*i] (thread ids and CPU indexes);
 * -1 for anything else. */
static long scan_number(const char *s, size_t len, size_t *i)
{
    long v = 0;
    unsigned digits = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (++digits > 9)
            return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    return digits ? v : -1;
}

static void skip_space(const char *s, size_t len, size_t *i)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r' || s[*i] == '\n'))
        (*i)++;
}

/* The string starting at s[*i] == '"': its first bytes (escapes kept raw) into key;
 * -1 when it does not end. */
static int scan_string(const char *s, size_t len, size_t *i, char *key, size_t keylen)
{
    size_t k = 0;
    for ((*i)++; *i < len; (*i)++) {
        char c = s[*i];
        if (c == '\\') {
            if (++*i >= len)
                return -1;
            c = 0; /* an escaped byte never matches a key we look for */
        } else if (c == '"') {
            (*i)++;
            key[k < keylen ? k : keylen - 1] = 0;
            return 0;
        }
        if (k + 1 < keylen)
            key[k++] = c ? c : '\\';
    }
    return -1;
}

int qmp_scan_cpus(const char *s, size_t len, pid_t *tid, unsigned ncpus)
{
    for (unsigned c = 0; c < ncpus; c++)
        tid[c] = -1;
    int depth = 0;
    bool in_return = false;          /* inside the array under the top-level "return" */
    long cur_index = -1, cur_tid = -1;
    unsigned found = 0;
    size_t i = 0;
    while (i < len && s[i]) {
        char c = s[i];
        if (c == '"') {
            char key[16];
            if (scan_string(s, len, &i, key, sizeof key))
                return -1;
            skip_space(s, len, &i);
            if (i >= len || s[i] != ':')
                continue; /* a value, not a key */
            i++;
            skip_space(s, len, &i);
            if (depth == 1 && strcmp(key, "return") == 0 && i < len && s[i] == '[') {
                in_return = true;
                continue;
            }
            if (in_return && depth == 3 &&
                (strcmp(key, "cpu-index") == 0 || strcmp(key, "thread-id") == 0)) {
                long v = scan_number(s, len, &i);
                long *slot = key[0] == 'c' ? &cur_index : &cur_tid;
                if (v < 0 || *slot >= 0)
                    return -1; /* not a plain number, or the key twice */
                *slot = v;
            }
            continue;
        }
        if (c == '{' || c == '[') {
            if (++depth > SCAN_MAX_DEPTH)
                return -1;
            if (c == '{' && in_return && depth == 3)
                cur_index = cur_tid = -1;
        } else if (c == '}' || c == ']') {
            if (c == '}' && in_return && depth == 3) {
                if (cur_index < 0 || cur_tid <= 0 || (unsigned long)cur_index >= ncpus ||
                    tid[cur_index] != -1)
                    return -1;
                tid[cur_index] = (pid_t)cur_tid;
                found++;
            }
            if (--depth < 0)
                return -1;
            if (depth == 1)
                in_return = false;
        }
        i++;
    }
    return depth == 0 && found == ncpus ? 0 : -1;
}

int qmp_connect(struct qmp *q, const char *path, double deadline, pid_t qemu, char *why,
                size_t whylen)
{
    q->len = 0;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(why, whylen, "QMP socket path %s is too long", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    for (;;) {
        q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (q->fd < 0) {
            snprintf(why, whylen, "socket: %s", strerror(errno));
            return -1;
        }
        if (connect(q->fd, (struct sockaddr *)&a, sizeof a) == 0)
            return 0;
        int err = errno;
        close(q->fd);
        q->fd = -1;
        /* QEMU gone (a bad option, no KVM): its stderr says why, the caller shows it. */
        siginfo_t si = { 0 };
        if (waitid(P_PID, (id_t)qemu, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == qemu) {
            snprintf(why, whylen, "QEMU exited before its QMP socket was up");
            return -1;
        }
        if (mono_now() >= deadline) {
            snprintf(why, whylen, "QEMU's QMP socket did not come up (%s)", strerror(err));
            return -1;
        }
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* Reads until buf holds a full line; returns its length (newline excluded), -1 on EOF,
 * error, an overlong line or the deadline. */
static long read_line(struct qmp *q, double deadline, char *why, size_t whylen)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (nl)
            return nl - q->buf;
        if (q->len + 1 >= sizeof q->buf) {
            snprintf(why, whylen, "a QMP message longer than %zu bytes", sizeof q->buf);
            return -1;
        }
        double left = deadline - mono_now();
        if (left <= 0) {
            snprintf(why, whylen, "QEMU did not answer on QMP in time");
            return -1;
        }
        struct pollfd pf = { q->fd, POLLIN, 0 };
        int r = poll(&pf, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(q->fd, q->buf + q->len, sizeof q->buf - 1 - q->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whylen, "%s", QMP_CLOSED);
            return -1;
        }
        q->len += (size_t)n;
    }
}

static void drop_line(struct qmp *q, size_t n)
{
    memmove(q->buf, q->buf + n + 1, q->len - n - 1);
    q->len -= n + 1;
}

static bool starts_with_key(const char *line, const char *key)
{
    while (*line == ' ' || *line == '{')
        line++;
    return strncmp(line, key, strlen(key)) == 0;
}

int qmp_command(struct qmp *q, const char *cmd, double deadline, const char **reply,
                size_t *reply_len, char *why, size_t whylen)
{
    static char last[sizeof q->buf];
    size_t n = strlen(cmd);
    const char *p = cmd;
    while (n) {
        ssize_t w = send(q->fd, p, n, MSG_NOSIGNAL); /* QEMU gone: an error, not SIGPIPE */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(why, whylen, "writing to QMP: %s", strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    for (;;) {
        long l = read_line(q, deadline, why, whylen);
        if (l < 0)
            return -1;
        q->buf[l] = 0;
        /* The greeting and asynchronous events are not replies. */
        bool is_reply = starts_with_key(q->buf, "\"return\"") || starts_with_key(q->buf, "\"error\"");
        if (is_reply) {
            memcpy(last, q->buf, (size_t)l + 1);
            drop_line(q, (size_t)l);
            *reply = last;
            *reply_len = (size_t)l;
            if (starts_with_key(last, "\"error\"")) {
                snprintf(why, whylen, "QMP %.40s failed: %.200s", cmd, last);
                return -1;
            }
            return 0;
        }
        drop_line(q, (size_t)l);
    }
}

void qmp_close(struct qmp *q)
{
    if (q->fd >= 0)
        close(q->fd);
    q->fd = -1;
}
