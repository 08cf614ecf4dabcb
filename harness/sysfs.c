/* Small readers for the one-value files of /sys and /proc. */
#include "sysfs.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void sysfs_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return;
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool sysfs_read_line(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return false;
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[512];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return false;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    sysfs_copy(buf, cap, line);
    return true;
}

bool sysfs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool sysfs_is_yes(const char *path)
{
    char v[8];
    if (!sysfs_read_line(path, v, sizeof v))
        return false;
    return strcmp(v, "Y") == 0 || strcmp(v, "y") == 0 || strcmp(v, "1") == 0;
}
