/* virtio-blk (spec 5.2) with four backends:
 *   null[:SIZE]  completes every request without moving data: the transport's cost alone
 *   ram:SIZE     an anonymous buffer in the VMM
 *   file:PATH    an existing regular file or block device, read and written in place
 *   tmp:SIZE     a new file of SIZE bytes in $TMPDIR (else /tmp), removed from the
 *                directory at once (it lives while the VMM holds it), then as file:PATH:
 *                a file backend with no path to create or clean up
 * Requests: IN, OUT, FLUSH (fdatasync for files), GET_ID; anything else completes UNSUPP.
 * Native runs reach the same backends without the transport: virtio_blk_direct_io. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/size.h"
#include "vmm/virtio.h"

#define BLK_NULL_DEFAULT (1ull << 40) /* 1 TiB of nothing */

enum blk_kind { BLK_NULL, BLK_RAM, BLK_FILE, BLK_TMP };

struct blk {
    enum blk_kind kind;
    uint64_t size;       /* bytes, a multiple of the sector */
    uint8_t *ram;
    int fd;
};

struct blk_args {
    enum blk_kind kind;
    uint64_t size;
    const char *path;
};

static int parse(const char *args, struct blk_args *a, struct vmm_err *e)
{
    memset(a, 0, sizeof *a);
    const char *colon = strchr(args, ':');
    size_t klen = colon ? (size_t)(colon - args) : strlen(args);
    const char *rest = colon ? colon + 1 : NULL;
    if (klen == 4 && strncmp(args, "null", 4) == 0) {
        a->kind = BLK_NULL;
        a->size = BLK_NULL_DEFAULT;
        if (rest && vmm_parse_size(rest, &a->size))
            goto bad_size;
    } else if (klen == 3 && strncmp(args, "ram", 3) == 0) {
        a->kind = BLK_RAM;
        if (!rest || vmm_parse_size(rest, &a->size))
            goto bad_size;
    } else if (klen == 3 && strncmp(args, "tmp", 3) == 0) {
        a->kind = BLK_TMP;
        if (!rest || vmm_parse_size(rest, &a->size) || a->size == 0)
            goto bad_size;
    } else if (klen == 4 && strncmp(args, "file", 4) == 0) {
        a->kind = BLK_FILE;
        a->path = rest;
        if (!rest || !*rest)
            return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk backend 'file' needs a path: "
                               "file:PATH");
        return 0;
    } else {
        return vmm_err_set(e, VMM_EXIT_USAGE, "unknown virtio-blk backend '%s'; use null[:SIZE], "
                           "ram:SIZE, file:PATH or tmp:SIZE", args);
    }
    if (a->size % VIRTIO_BLK_SECTOR)
        return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk size %llu is not a multiple of %u "
                           "bytes", (unsigned long long)a->size, VIRTIO_BLK_SECTOR);
    return 0;
bad_size:
    return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk backend '%s' needs a size like 64M or 1G",
                       args);
}

/* Opens the file backend (plan time: only to check; run time: to use). */
static int open_file(const char *path, uint64_t *size, struct vmm_err *e)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk backend file %s does not exist; "
                               "create it first (e.g. truncate -s 64M %s) or use ram:SIZE",
                               path, path);
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot open virtio-blk backend file %s for "
                           "reading and writing: %s", path, strerror(errno));
    }
    struct stat st;
    uint64_t bytes = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        bytes = (uint64_t)st.st_size;
    else if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        bytes = end > 0 ? (uint64_t)end : 0;
    } else {
        close(fd);
        return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk backend %s is not a regular file or "
                           "block device", path);
    }
    bytes -= bytes % VIRTIO_BLK_SECTOR;
    if (bytes == 0) {
        close(fd);
        return vmm_err_set(e, VMM_EXIT_USAGE, "virtio-blk backend file %s is smaller than one "
                           "%u-byte sector; give it a size (truncate -s 64M %s)", path,
                           VIRTIO_BLK_SECTOR, path);
    }
    *size = bytes;
    return fd;
}

/* tmp:SIZE: a file made in $TMPDIR (or /tmp) and unlinked at once. */
static int open_tmp(uint64_t size, struct vmm_err *e)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/vmmbench-blk-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot create the virtio-blk tmp file in "
                           "%s: %s; set TMPDIR to a writable directory or use ram:SIZE", dir,
                           strerror(errno));
    unlink(path);
    if (ftruncate(fd, (off_t)size) != 0) {
        int err = errno;
        close(fd);
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot size the virtio-blk tmp file in %s "
                           "to %llu bytes: %s; ask for less or set TMPDIR elsewhere", dir,
                           (unsigned long long)size, strerror(err));
    }
    return fd;
}

static int blk_check(const char *args, struct vmm_err *e)
{
    struct blk_args a;
    if (parse(args, &a, e))
        return -1;
    if (a.kind == BLK_FILE) {
        uint64_t size;
        int fd = open_file(a.path, &size, e);
        if (fd < 0)
            return -1;
        close(fd);
    } else if (a.kind == BLK_TMP) { /* $TMPDIR must take it: made and removed again */
        int fd = open_tmp(a.size, e);
        if (fd < 0)
            return -1;
        close(fd);
    }
    return 0;
}

static int blk_create(struct virtio_dev *d, const char *args, struct vmm_err *e)
{
    struct blk_args a;
    if (parse(args, &a, e))
        return -1;
    struct blk *b = calloc(1, sizeof *b);
    if (!b)
        return vmm_err_set(e, VMM_EXIT_RESOURCES, "out of memory");
    b->kind = a.kind;
    b->size = a.size;
    b->fd = -1;
    if (a.kind == BLK_RAM) {
        b->ram = mmap(NULL, a.size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (b->ram == MAP_FAILED) {
            free(b);
            return vmm_err_set(e, VMM_EXIT_RESOURCES, "cannot map %llu MiB for virtio-blk ram; "
                               "ask for less", (unsigned long long)(a.size >> 20));
        }
    } else if (a.kind == BLK_FILE) {
        b->fd = open_file(a.path, &b->size, e);
        if (b->fd < 0) {
            free(b);
            return -1;
        }
    } else if (a.kind == BLK_TMP) {
        b->kind = BLK_FILE; /* from here on, a file like any other */
        b->fd = open_tmp(a.size, e);
        if (b->fd < 0) {
            free(b);
            return -1;
        }
    }
    d->priv = b;
    struct virtio_blk_config cfg = {
        .capacity = b->size / VIRTIO_BLK_SECTOR, .size_max = 0, .seg_max = VQ_MAX_SEGS - 2,
    };
    memcpy(d->config, &cfg, sizeof cfg);
    d->config_len = sizeof cfg;
    d->host_features = (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_SEG_MAX);
    return 0;
}

static void blk_destroy(struct virtio_dev *d)
{
    struct blk *b = d->priv;
    if (!b)
        return;
    if (b->ram)
        munmap(b->ram, b->size);
    if (b->fd >= 0)
        close(b->fd);
    free(b);
    d->priv = NULL;
}

/* pread or pwrite of all k bytes at pos: 0, or -1 on a host I/O error or end of file. */
static int file_rw(int fd, bool in, uint8_t *p, uint64_t k, uint64_t pos)
{
    for (uint64_t done = 0; done < k;) {
        ssize_t r = in ? pread(fd, p + done, k - done, (off_t)(pos + done))
                       : pwrite(fd, p + done, k - done, (off_t)(pos + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (uint64_t)r;
    }
    return 0;
}

/* Moves len bytes between the backend at byte offset pos and the chain's data buffers
 * (readable part after the 16-byte header for OUT, writable part before the status byte
 * for IN). Returns 0, or -1 on a host I/O error. */
static int file_io(struct blk *b, const struct vq_chain *c, bool in, uint64_t pos, uint64_t len)
{
    uint64_t skip = in ? 0 : sizeof(struct virtio_blk_req_hdr);
    unsigned first = in ? c->nread : 0, end = in ? c->n : c->nread;
    for (unsigned i = first; i < end && len; i++) {
        const struct vq_buf *vb = &c->buf[i];
        if (skip >= vb->len) {
            skip -= vb->len;
            continue;
        }
        uint64_t k = vb->len - skip;
        if (k > len)
            k = len;
        if (file_rw(b->fd, in, vb->host + skip, k, pos))
            return -1;
        pos += k;
        len -= k;
        skip = 0;
    }
    return 0;
}

/* FLUSH: what was written reaches stable storage (files); nothing to do for the others. */
static int backend_flush(struct blk *b)
{
    return b->kind == BLK_FILE && fdatasync(b->fd) != 0 ? -1 : 0;
}

uint64_t virtio_blk_bytes(const struct virtio_dev *d)
{
    const struct blk *b = d->priv;
    return b ? b->size : 0;
}

int virtio_blk_direct_io(struct virtio_dev *d, bool in, uint64_t pos, void *buf, uint64_t len)
{
    struct blk *b = d->priv;
    if (!b || len % VIRTIO_BLK_SECTOR || pos % VIRTIO_BLK_SECTOR || pos > b->size ||
        len > b->size - pos)
        return -1;
    if (b->kind == BLK_RAM) {
        if (in)
            memcpy(buf, b->ram + pos, len);
        else
            memcpy(b->ram + pos, buf, len);
    } else if (b->kind == BLK_FILE && file_rw(b->fd, in, buf, len, pos)) {
        return -1;
    }
    d->bytes += len;
    return 0;
}

int virtio_blk_direct_flush(struct virtio_dev *d)
{
    return d->priv ? backend_flush(d->priv) : -1;
}

static void blk_handle(struct virtio_dev *d, unsigned q, const struct vq_chain *c,
                       uint32_t *used_len)
{
    (void)q;
    struct blk *b = d->priv;
    struct virtio_blk_req_hdr h;
    *used_len = 0;
    if (c->write_bytes == 0) {
        /* Nowhere to put a status: complete it with nothing written. */
        virtio_dev_note(d, VIRTIO_ERR_REQUEST, "request without a writable status byte");
        return;
    }
    if (c->write_bytes > UINT32_MAX || c->read_bytes > UINT32_MAX) {
        /* The used length is 32 bits: no request may move more. */
        virtio_dev_note(d, VIRTIO_ERR_REQUEST, "request of more than 4 GiB");
        uint8_t st = VIRTIO_BLK_S_IOERR;
        vq_chain_write(c, c->write_bytes - 1, &st, 1);
        *used_len = 1;
        return;
    }
    uint64_t status_off = c->write_bytes - 1;
    uint8_t st = VIRTIO_BLK_S_OK;
    uint32_t written = 1;
    if (vq_chain_read(c, 0, &h, sizeof h) != sizeof h) {
        virtio_dev_note(d, VIRTIO_ERR_REQUEST, "request header shorter than 16 bytes");
        st = VIRTIO_BLK_S_IOERR;
        goto out;
    }
    bool in = h.type == VIRTIO_BLK_T_IN;
    switch (h.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        uint64_t len = in ? c->write_bytes - 1 : c->read_bytes - sizeof h;
        uint64_t sectors = b->size / VIRTIO_BLK_SECTOR;
        if (len % VIRTIO_BLK_SECTOR || h.sector > sectors ||
            len / VIRTIO_BLK_SECTOR > sectors - h.sector) {
            virtio_dev_note(d, VIRTIO_ERR_REQUEST, "%s of %llu bytes at sector %llu (capacity "
                            "%llu sectors)", in ? "read" : "write", (unsigned long long)len,
                            (unsigned long long)h.sector, (unsigned long long)sectors);
            st = VIRTIO_BLK_S_IOERR;
            break;
        }
        uint64_t pos = h.sector * VIRTIO_BLK_SECTOR;
        if (b->kind == BLK_RAM) {
            if (in)
                vq_chain_write(c, 0, b->ram + pos, len);
            else
                vq_chain_read(c, sizeof h, b->ram + pos, len);
        } else if (b->kind == BLK_FILE && file_io(b, c, in, pos, len)) {
            st = VIRTIO_BLK_S_IOERR;
            break;
        }
        d->bytes += len;
        if (in)
            written += (uint32_t)len;
        break;
    }
    case VIRTIO_BLK_T_FLUSH:
        if (backend_flush(b))
            st = VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        static const char id[20] = "vmmbench-virtio-blk";
        uint64_t n = c->write_bytes - 1 < sizeof id ? c->write_bytes - 1 : sizeof id;
        vq_chain_write(c, 0, id, n);
        written += (uint32_t)n;
        break;
    }
    default:
        st = VIRTIO_BLK_S_UNSUPP;
        break;
    }
out:
    vq_chain_write(c, status_off, &st, 1);
    *used_len = written;
}

const struct virtio_dev_type virtio_blk_type = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .nqueues = 1,
    .backends = "null[:SIZE] | ram:SIZE | file:PATH | tmp:SIZE",
    .check = blk_check,
    .create = blk_create,
    .destroy = blk_destroy,
    .handle = blk_handle,
};
