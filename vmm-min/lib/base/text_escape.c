/* Escaping of guest-supplied text for terminals, logs and files (see text_escape.h). */
#include "vmm/text_escape.h"

#include <string.h>

/* The escaped form of one byte: itself, "\\", or "\xNN". Returns its length. */
static size_t escape_byte(unsigned char c, unsigned flags, char out[5])
{
    static const char hex[] = "0123456789abcdef";
    if ((flags & VMM_ESC_KEEP_LINES) && (c == '\n' || c == '\t')) {
        out[0] = (char)c;
        return 1;
    }
    if (c == '\\') {
        out[0] = out[1] = '\\';
        return 2;
    }
    if (c >= 0x20 && c <= 0x7e) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
    return 4;
}

void vmm_text_escape_write(FILE *out, const char *s, size_t len, unsigned flags)
{
    char e[5];
    for (size_t i = 0; i < len; i++)
        fwrite(e, 1, escape_byte((unsigned char)s[i], flags, e), out);
}

void vmm_text_escape_puts(FILE *out, const char *s, unsigned flags)
{
    if (s)
        vmm_text_escape_write(out, s, strlen(s), flags);
}

char *vmm_text_escape(char *buf, size_t cap, const char *s, unsigned flags)
{
    size_t used = 0;
    char e[5];
    if (!cap)
        return buf;
    for (; s && *s; s++) {
        size_t n = escape_byte((unsigned char)*s, flags, e);
        if (used + n >= cap)
            break;
        memcpy(buf + used, e, n);
        used += n;
    }
    buf[used] = '\0';
    return buf;
}
