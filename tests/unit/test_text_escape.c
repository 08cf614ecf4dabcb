/* vmm_text_escape: guest text never carries a control byte to a terminal. Every byte
 * value is tried, through the buffer and the stream forms, which must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/text_escape.h"

static void test_shown_not_sent(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "\x1b[2Jred\x07", 0),
                        "\\x1b[2Jred\\x07");
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "a\\b", 0), "a\\\\b");
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "l1\nl2\tx\r", 0),
                        "l1\\x0al2\\x09x\\x0d");
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "l1\nl2\tx\r", VMM_ESC_KEEP_LINES),
                        "l1\nl2\tx\\x0d");
    /* 8-bit C1 controls (0x9b is CSI on some terminals) and DEL */
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "\x9b\x7f\xff", 0),
                        "\\x9b\\x7f\\xff");
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "plain text 0-9 ~", 0),
                        "plain text 0-9 ~");
    assert_string_equal(vmm_text_escape(buf, sizeof buf, NULL, 0), "");
}

/* Truncation never splits an escape, and the buffer is always terminated. */
static void test_truncation(void **state)
{
    (void)state;
    char buf[6];
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "ab\x1b", 0), "ab");
    assert_string_equal(vmm_text_escape(buf, sizeof buf, "a\x1b" "cdef", 0), "a\\x1b");
    assert_string_equal(vmm_text_escape(buf, 1, "abc", 0), "");
    buf[0] = 'z';
    vmm_text_escape(buf, 0, "abc", 0); /* nothing written */
    assert_int_equal(buf[0], 'z');
}

/* Every byte value 1..255: only printable ASCII comes out, and the stream form writes
 * exactly what the buffer form returns. */
static void test_every_byte(void **state)
{
    (void)state;
    char in[256], out[256 * 4 + 1];
    for (int i = 1; i < 256; i++)
        in[i - 1] = (char)i;
    in[255] = '\0';
    for (unsigned flags = 0; flags <= VMM_ESC_KEEP_LINES; flags++) {
        vmm_text_escape(out, sizeof out, in, flags);
        for (const unsigned char *p = (const unsigned char *)out; *p; p++)
            if (!(*p >= 0x20 && *p <= 0x7e) &&
                !(flags && (*p == '\n' || *p == '\t')))
                fail_msg("byte 0x%02x came through (flags %u)", *p, flags);
        char *mem = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&mem, &len);
        assert_non_null(f);
        vmm_text_escape_puts(f, in, flags);
        vmm_text_escape_puts(f, NULL, flags);
        fclose(f);
        assert_string_equal(mem, out);
        free(mem);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shown_not_sent),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
