#include "guest/lib.h"

#include "guest/x86.h"
#include "vmm/guest_abi.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void strlcpy_g(char *d, const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 1 < n && s[i]; i++)
        d[i] = s[i];
    if (n)
        d[i] = '\0';
}

void console_puts(const char *s)
{
    while (*s)
        outb(VMMB_PORT_SERIAL, (uint8_t)*s++);
}

void console_put_u64(uint64_t v)
{
    char buf[21];
    console_puts(u64_decimal(v, buf));
}
