/* Freestanding helpers: the compiler may emit calls to memset/memcpy even here. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strcmp(const char *a, const char *b);
size_t strlen(const char *s);
/* Copies at most n-1 bytes and always terminates. */
void strlcpy_g(char *d, const char *s, size_t n);

void console_puts(const char *s);
void console_put_u64(uint64_t v);

/* v in decimal, written at the end of buf; returns where the digits start. Inline: the
 * native runner builds wl_common.c without this file's lib.c. */
static inline const char *u64_decimal(uint64_t v, char buf[21])
{
    int i = 20;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return &buf[i];
}

#endif
