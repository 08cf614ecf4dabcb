#include "vmm/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/elf_loader.h"

static int terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* The catalogue comes from the image, so it is validated like any guest input. */
static int check_desc(const char *path, unsigned i, const struct vmmb_workload_desc *d,
                      struct vmm_err *e)
{
    if (!terminated(d->name, sizeof d->name) || !d->name[0] ||
        !terminated(d->summary, sizeof d->summary) || !terminated(d->unit, sizeof d->unit) ||
        d->nr_params > VMMB_MAX_WORKLOAD_PARAMS || !(d->rings & (VMMB_RING0 | VMMB_RING3)))
        return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                           "%s: workload descriptor %u is malformed; rebuild the guest kernel",
                           path, i);
    for (unsigned p = 0; p < d->nr_params; p++) {
        const struct vmmb_param_desc *pd = &d->params[p];
        if (!terminated(pd->name, sizeof pd->name) || !pd->name[0] ||
            !terminated(pd->help, sizeof pd->help) || pd->min > pd->max ||
            pd->def < pd->min || pd->def > pd->max)
            return vmm_err_set(e, VMM_EXIT_GUEST_IMAGE,
                               "%s: workload %s parameter %u is malformed; rebuild the guest "
                               "kernel", path, d->name, p);
    }
    return 0;
}

int vmm_image_from_buffer(const char *name, const uint8_t *buf, size_t len,
                          struct vmm_image **out, struct vmm_err *e)
{
    struct vmm_image *img = calloc(1, sizeof *img);
    if (!img || !(img->data = malloc(len ? len : 1))) {
        free(img);
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading %s", name);
    }
    snprintf(img->path, sizeof img->path, "%s", name);
    memcpy(img->data, buf, len);
    img->len = len;
    struct vmm_err sub = { 0 };
    if (elf_check(img->data, len, &img->entry, &img->end, &sub))
        goto bad;
    size_t off, size;
    int rc = elf_find_section(img->data, len, VMMB_WORKLOAD_SECTION, &off, &size, &sub);
    if (rc < 0)
        goto bad;
    if (rc > 0 || size == 0 || size % sizeof(struct vmmb_workload_desc)) {
        vmm_err_set(&sub, VMM_EXIT_GUEST_IMAGE,
                    "has no valid %s section (workload catalogue); build it with this "
                    "project's guest Makefile rules", VMMB_WORKLOAD_SECTION);
        goto bad;
    }
    img->nworkloads = size / sizeof(struct vmmb_workload_desc);
    img->workloads = malloc(size);
    if (!img->workloads) {
        vmm_err_set(&sub, VMM_EXIT_INTERNAL, "out of memory");
        goto bad;
    }
    memcpy(img->workloads, img->data + off, size); /* copy: the file need not be aligned */
    for (unsigned i = 0; i < img->nworkloads; i++)
        if (check_desc(name, i, &img->workloads[i], e)) {
            vmm_image_close(img);
            return -1;
        }
    *out = img;
    return 0;
bad:
    vmm_err_set(e, sub.code, "%s: %s", name, sub.msg);
    vmm_image_close(img);
    return -1;
}

int vmm_image_open(const char *path, struct vmm_image **out, struct vmm_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vmm_err_set(e, VMM_EXIT_USAGE, "cannot read guest kernel %s: %s; pass an "
                           "existing file with --kernel or run `make`", path, strerror(errno));
    uint8_t *buf = malloc(VMM_IMAGE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return vmm_err_set(e, VMM_EXIT_INTERNAL, "out of memory reading %s", path);
    }
    size_t n = fread(buf, 1, VMM_IMAGE_MAX_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc;
    if (rd_err)
        rc = vmm_err_set(e, VMM_EXIT_USAGE, "cannot read guest kernel %s", path);
    else if (n > VMM_IMAGE_MAX_BYTES)
        rc = vmm_err_set(e, VMM_EXIT_GUEST_IMAGE, "guest kernel %s is larger than %u MiB; "
                         "that is not a vmmbench guest", path, VMM_IMAGE_MAX_BYTES >> 20);
    else
        rc = vmm_image_from_buffer(path, buf, n, out, e);
    free(buf);
    return rc;
}

void vmm_image_close(struct vmm_image *img)
{
    if (!img)
        return;
    free(img->data);
    free(img->workloads);
    free(img);
}

const struct vmmb_workload_desc *vmm_image_find(const struct vmm_image *img, const char *name)
{
    for (unsigned i = 0; i < img->nworkloads; i++)
        if (strcmp(img->workloads[i].name, name) == 0)
            return &img->workloads[i];
    return NULL;
}

int vmm_share_path(const char *rel, char *buf, size_t len)
{
    const char *dir = getenv("VMMB_SHARE_DIR");
    if (dir && *dir)
        return snprintf(buf, len, "%s/%s", dir, rel) < (int)len ? 0 : -1;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return snprintf(buf, len, "%s/../share/vmmbench/%s", exe, rel) < (int)len ? 0 : -1;
}
