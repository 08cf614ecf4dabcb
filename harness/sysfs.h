/* Small readers for the one-value files of /sys and /proc. */
#ifndef HARNESS_SYSFS_H
#define HARNESS_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the first line of PATH, without trailing whitespace, into buf (truncated to
 * cap-1 bytes). Returns false and leaves buf empty when the file cannot be read. */
bool sysfs_read_line(const char *path, char *buf, size_t cap);
/* True when PATH exists (file or directory). */
bool sysfs_exists(const char *path);
/* True when PATH holds a kernel boolean that is set ("Y", "y" or "1"). */
bool sysfs_is_yes(const char *path);
/* Copies src into dst, truncating to cap-1 bytes; always NUL-terminates. */
void sysfs_copy(char *dst, size_t cap, const char *src);

#endif
