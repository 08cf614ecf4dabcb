/* Minimal JSON output: strings escaped per RFC 8259, numbers that are always valid. */
#ifndef ANALYSIS_JSON_H
#define ANALYSIS_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string. Control characters become \u00XX; bytes that are not
 * valid UTF-8 (reasons and console text can come from a hostile guest) become U+FFFD. */
void json_write_string(FILE *out, const char *s);
/* Writes v with full precision, or null when it is not finite (JSON has no NaN). */
void json_write_number(FILE *out, double v);

#endif
