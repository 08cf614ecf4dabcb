/* Guest-supplied text (a result's reason, the console, points, metric names) is shown to
 * people on terminals, in logs and in files. A guest that writes ESC sequences must not
 * drive the operator's terminal, so such text is shown through these helpers: every byte
 * outside printable ASCII (0x20..0x7e) is written as \xNN, and a backslash as \\, so the
 * output is unambiguous and contains no control byte. With VMM_ESC_KEEP_LINES, newline
 * and tab pass through (multi-line console text stays readable). */
#ifndef VMM_TEXT_ESCAPE_H
#define VMM_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#define VMM_ESC_KEEP_LINES 1u

/* Writes s[0..len) escaped to out. */
void vmm_text_escape_write(FILE *out, const char *s, size_t len, unsigned flags);
/* The same for a NUL-terminated string (NULL writes nothing). */
void vmm_text_escape_puts(FILE *out, const char *s, unsigned flags);
/* Escapes the NUL-terminated s into buf (always terminated when cap > 0); an escape that
 * does not fit whole is left out, with everything after it. Returns buf. */
char *vmm_text_escape(char *buf, size_t cap, const char *s, unsigned flags);

#endif
