#ifndef VMM_SIZE_H
#define VMM_SIZE_H

#include <stdint.h>

/* Parses "64M", "1G", "512K", "4096", "2GiB" (binary units, case-insensitive) into bytes.
 * Returns -1 for anything else, including overflow, zero and trailing garbage. */
int vmm_parse_size(const char *s, uint64_t *bytes);

#endif
