/* Hypervisor configurations: one INI file each, parsed by libinih.
 *
 * The file is read once into memory and parsed from that copy, so the text stored with
 * the config in the database is exactly the text that was parsed. Parsing goes through
 * ini_parse_stream() with our own line reader because the packaged libinih does not pass
 * line numbers to the handler (INI_HANDLER_LINENO is 0): the reader knows which line the
 * handler is looking at, so every error can name FILE:LINE. */
#include "config.h"

#include "vmm/virtio_plan.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/size.h"

/* The guest kernel, its page tables and the result area need this much at least. */
#define CONFIG_MIN_MEM (16ULL << 20)
/* Config files are a few lines; anything bigger is the wrong file. */
#define CONFIG_MAX_FILE (64 * 1024)

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void config_default(struct bench_config *c)
{
    memset(c, 0, sizeof *c);
    copy_str(c->name, sizeof c->name, "default");
    c->vcpus = 1;
    c->mem_bytes = 64ULL << 20;
    copy_str(c->source, sizeof c->source, "(built-in)");
    c->text = NULL;
    c->io_cpu = -1;
    c->hypervisor = VMM_HV_VMM_MIN;
    copy_str(c->hypervisor_version, sizeof c->hypervisor_version, "vmm-min");
}

void config_virtio_request(const struct bench_config *c, const char *devs[2],
                           struct vmm_virtio_request *rq)
{
    memset(rq, 0, sizeof *rq);
    for (unsigned i = 0; i < c->ndevices && i < 2; i++)
        devs[i] = c->devices[i];
    rq->devices = devs;
    rq->ndevices = c->ndevices;
    rq->notify = c->notify[0] ? c->notify : NULL;
    rq->poll_us = c->poll_us;
    rq->io_cpu = c->io_cpu;
    rq->io_cpu_set = c->io_cpu >= 0;
}

void config_free(struct bench_config *c)
{
    free(c->text);
    c->text = NULL;
}

int config_resolve_hypervisor(struct bench_config *c, struct vmm_err *e)
{
    struct vmm_err sub = { 0 };
    if (vmm_hypervisor_version(c->hypervisor, c->hypervisor_version,
                               sizeof c->hypervisor_version, &sub) != 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "config %s (%s): %s", c->name, c->source,
                           sub.msg);
    return 0;
}

/* The keys beyond name/vcpus/memory: placement (parsed by vmm-min, which owns their
 * meaning) and devices. */
static const char *const extra_keys[] = { "pin", "vmm_pin", "backing", "prefault",
                                          "guest_pages", "numa", "vnuma", "vmm_pin_shared",
                                          "native", "blk", "net",
                                          "notify", "poll_us", "io_cpu", "counters",
                                          "hypervisor" };
#define EXTRA_KEYS (sizeof extra_keys / sizeof extra_keys[0])
#define FIRST_DEVICE_KEY 9
#define HYPERVISOR_KEY (EXTRA_KEYS - 1)
#define NATIVE_KEY 8

/* Parser state shared by the line reader and the handler. */
struct parse_state {
    const char *path;
    const char *pos;           /* next unread byte of the text */
    int line;                  /* line the parser is on, 1-based */
    struct bench_config *c;
    bool seen_name, seen_vcpus, seen_memory;
    int seen_line[3];          /* where each key was first set, for duplicate messages */
    int seen_extra[EXTRA_KEYS]; /* line where each extra key was set, 0: not yet */
    int err_line;              /* first handler error: its line (0: none) and message */
    char err[VMM_ERR_MSG_MAX];
};

/* An fgets() over the in-memory text that counts lines. */
static char *read_line(char *str, int num, void *stream)
{
    struct parse_state *ps = stream;
    if (*ps->pos == '\0')
        return NULL;
    int n = 0;
    while (n < num - 1 && ps->pos[n] != '\0') {
        str[n] = ps->pos[n];
        if (ps->pos[n++] == '\n')
            break;
    }
    str[n] = '\0';
    ps->pos += n;
    ps->line++;
    return str;
}

static int handler_error(struct parse_state *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first problem only; returning 0 makes ini_parse_stream() report the line. */
static int handler_error(struct parse_state *ps, const char *fmt, ...)
{
    if (ps->err_line == 0) {
        ps->err_line = ps->line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err, sizeof ps->err, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CONFIG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && ch != '.' && ch != '-')
            return false;
    }
    return true;
}

/* Strict decimal: digits only, no sign, no spaces, no overflow. */
static bool parse_uint(const char *s, unsigned long *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end != '\0')
        return false;
    *out = v;
    return true;
}

static int mark_seen(struct parse_state *ps, bool *seen, int idx, const char *key)
{
    if (*seen)
        return handler_error(ps, "duplicate key '%s' (first set on line %d); keep one",
                             key, ps->seen_line[idx]);
    *seen = true;
    ps->seen_line[idx] = ps->line;
    return 1;
}

/* Device keys: their values are checked here as far as their syntax goes; backends (a
 * file that must exist, a size) are checked when the run is planned. */
static int handle_device_key(struct parse_state *ps, const char *key, const char *value)
{
    struct bench_config *c = ps->c;
    unsigned long v;
    if (!strcmp(key, "blk") || !strcmp(key, "net")) {
        bool blk = key[0] == 'b';
        if (!value[0] || strlen(value) + 5 > sizeof c->devices[0] ||
            (!blk && strcmp(value, "null") && strcmp(value, "loop") &&
             (strncmp(value, "tap:", 4) || !value[4])))
            return handler_error(ps, blk ? "bad blk '%s'; use null[:SIZE], ram:SIZE, file:PATH or tmp:SIZE"
                                         : "bad net '%s'; use null, loop or tap:NAME", value);
        snprintf(c->devices[c->ndevices++], sizeof c->devices[0], "%s:%s", key, value);
    } else if (!strcmp(key, "notify")) {
        if (strcmp(value, "exit") && strcmp(value, "ioeventfd") && strcmp(value, "poll") &&
            strcmp(value, "irq"))
            return handler_error(ps, "bad notify '%s'; use exit, ioeventfd, poll or irq", value);
        copy_str(c->notify, sizeof c->notify, value);
    } else if (!strcmp(key, "poll_us")) {
        if (!parse_uint(value, &v) || v > VMM_POLL_US_MAX)
            return handler_error(ps, "bad poll_us '%s'; use microseconds from 0 to %u", value,
                                 VMM_POLL_US_MAX);
        c->poll_us = (unsigned)v;
    } else if (!strcmp(key, "counters")) {
        /* Encoded (and unknown events refused) when the run is planned, by libpfm4. */
        if (!value[0] || strlen(value) >= sizeof c->counters)
            return handler_error(ps, "bad counters '%s'; list aliases (dtlb, walk, ept, llc, "
                                 "instructions, cycles) or libpfm4 events, comma-separated",
                                 value);
        copy_str(c->counters, sizeof c->counters, value);
    } else { /* io_cpu */
        if (!parse_uint(value, &v) || v > 4095)
            return handler_error(ps, "bad io_cpu '%s'; use a host CPU number", value);
        c->io_cpu = (int)v;
    }
    return 1;
}

/* Each extra key may appear once. */
static int handle_extra_key(struct parse_state *ps, const char *key, const char *value)
{
    for (unsigned i = 0; i < EXTRA_KEYS; i++) {
        if (strcmp(key, extra_keys[i]) != 0)
            continue;
        if (ps->seen_extra[i])
            return handler_error(ps, "duplicate key '%s' (first set on line %d); keep one", key,
                                 ps->seen_extra[i]);
        ps->seen_extra[i] = ps->line;
        if (i == HYPERVISOR_KEY) {
            struct vmm_err sub = { 0 };
            if (vmm_parse_hypervisor(value, &ps->c->hypervisor, &sub) != 0)
                return handler_error(ps, "%s", sub.msg);
            return 1;
        }
        if (i >= FIRST_DEVICE_KEY)
            return handle_device_key(ps, key, value);
        struct vmm_err sub = { 0 };
        if (vmm_placement_set(&ps->c->placement, key, value, &sub) != 0)
            return handler_error(ps, "%s", sub.msg);
        return 1;
    }
    return handler_error(ps, "unknown key '%s' in [vm]; known keys are name, vcpus, memory, "
                         "pin, vmm_pin, vmm_pin_shared, backing, prefault, guest_pages, numa, vnuma, "
                         "native, blk, net, "
                         "notify, poll_us, io_cpu, counters, hypervisor", key);
}

static int handle_key(void *user, const char *section, const char *key, const char *value)
{
    struct parse_state *ps = user;
    if (section[0] == '\0')
        return handler_error(ps, "key '%s' is outside any section; put it under [vm]", key);
    if (strcmp(section, "vm") != 0)
        return handler_error(ps, "unknown section [%s]; the only section is [vm]", section);

    if (strcmp(key, "name") == 0) {
        if (!mark_seen(ps, &ps->seen_name, 0, key))
            return 0;
        if (!valid_name(value))
            return handler_error(ps, "bad name '%s'; use 1-%d characters from "
                                 "A-Z a-z 0-9 _ . -", value, CONFIG_NAME_MAX - 1);
        copy_str(ps->c->name, sizeof ps->c->name, value);
    } else if (strcmp(key, "vcpus") == 0) {
        if (!mark_seen(ps, &ps->seen_vcpus, 1, key))
            return 0;
        unsigned long v;
        if (!parse_uint(value, &v) || v < 1 || v > CONFIG_MAX_VCPUS)
            return handler_error(ps, "bad vcpus '%s'; use a whole number from 1 to %d",
                                 value, CONFIG_MAX_VCPUS);
        ps->c->vcpus = (unsigned)v;
    } else if (strcmp(key, "memory") == 0) {
        if (!mark_seen(ps, &ps->seen_memory, 2, key))
            return 0;
        uint64_t bytes;
        if (vmm_parse_size(value, &bytes) != 0)
            return handler_error(ps, "bad memory '%s'; use a size such as 64M, 512M or 2G",
                                 value);
        if (bytes < CONFIG_MIN_MEM)
            return handler_error(ps, "memory '%s' is too small for the guest kernel; "
                                 "use at least 16M", value);
        ps->c->mem_bytes = bytes;
    } else {
        return handle_extra_key(ps, key, value);
    }
    return 1;
}

/* Reads the whole file (bounded) into a NUL-terminated buffer. */
static char *slurp(const char *path, struct vmm_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        vmm_err_set(e, VMM_EXIT_CONFIG, "%s: cannot read config: %s; check the path",
                    path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CONFIG_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        vmm_err_set(e, VMM_EXIT_INTERNAL, "%s: out of memory reading config", path);
        return NULL;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
    bool failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        vmm_err_set(e, VMM_EXIT_CONFIG, "%s: cannot read config: %s; check the path",
                    path, strerror(saved));
    } else if (n > CONFIG_MAX_FILE) {
        vmm_err_set(e, VMM_EXIT_CONFIG, "%s: larger than %d bytes, not a vmmbench config; "
                    "check the path", path, CONFIG_MAX_FILE);
    } else if (memchr(buf, '\0', n)) {
        vmm_err_set(e, VMM_EXIT_CONFIG, "%s: contains NUL bytes, not a text config; "
                    "check the path", path);
    } else {
        buf[n] = '\0';
        return buf;
    }
    free(buf);
    return NULL;
}

/* libinih splits longer lines into pieces and would misparse them; refuse them first. */
static int check_line_lengths(const char *path, const char *text, struct vmm_err *e)
{
    const size_t max = INI_MAX_LINE - 2;   /* the reader buffer holds the line, \n, NUL */
    int line = 1;
    for (const char *p = text; *p; line++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > max)
            return vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: line longer than %zu characters; "
                               "shorten it", path, line, max);
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

int config_load(const char *path, struct bench_config *c, struct vmm_err *e)
{
    config_default(c);
    char *text = slurp(path, e);
    if (!text)
        return -1;
    if (check_line_lengths(path, text, e) != 0) {
        free(text);
        return -1;
    }

    struct parse_state ps = { .path = path, .pos = text, .c = c };
    int rc = ini_parse_stream(read_line, &ps, handle_key, &ps);
    if (rc < 0) {
        free(text);
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "%s: out of memory parsing config", path);
    }
    if (rc > 0) {
        /* libinih reports the first bad line; it is our handler's complaint only when the
         * handler failed on that same line, otherwise an earlier line did not parse. */
        if (ps.err_line == rc)
            vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: %s", path, rc, ps.err);
        else
            vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: not a section header or key = value; "
                        "write [vm] or key = value", path, rc);
        free(text);
        config_default(c);
        return -1;
    }
    if (!ps.seen_name) {
        free(text);
        config_default(c);
        return vmm_err_set(e, VMM_EXIT_CONFIG, "%s: missing required key 'name'; add "
                           "'name = ...' under [vm]", path);
    }
    /* A native run has no VMM at all: a hypervisor other than the default would be
     * silently ignored, so the pair is refused. */
    if (c->placement.native && c->hypervisor != VMM_HV_VMM_MIN) {
        vmm_err_set(e, VMM_EXIT_CONFIG, "%s:%d: native = yes (line %d) runs on the host "
                    "without a VMM, so hypervisor = %s cannot apply; drop one of the two keys",
                    path, ps.seen_extra[HYPERVISOR_KEY], ps.seen_extra[NATIVE_KEY],
                    vmm_hypervisor_name(c->hypervisor));
        free(text);
        config_default(c);
        return -1;
    }
    copy_str(c->source, sizeof c->source, path);
    c->text = text;
    return 0;
}
