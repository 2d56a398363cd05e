/*
 * test_units.c - unit tests for pieces worth testing alone.  Each check
 * names itself; the program prints "N passed, N failed" and exits non-zero
 * on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

static int passed, failed;

#define CHECK(id, cond)                                                   \
    do {                                                                  \
        if (cond) {                                                       \
            passed++;                                                     \
        } else {                                                          \
            failed++;                                                     \
            fprintf(stderr, "FAIL %s: %s (%s:%d)\n", id, #cond, __FILE__, \
                    __LINE__);                                            \
        }                                                                 \
    } while (0)

static void test_utf8(void)
{
    int32_t cp;
    CHECK("utf8-1", zf_utf8_next("\xe4\xb8\xad", 3, &cp) == 3 && cp == 0x4E2D);
    CHECK("utf8-2", zf_utf8_next("\xe4\xb8", 2, &cp) == 1 && cp == -1);
    CHECK("utf8-3", zf_utf8_next("\xc0\xaf", 2, &cp) == 1 && cp == -1); /* overlong */
    CHECK("utf8-4", zf_utf8_next("\xed\xa0\x80", 3, &cp) == 1 && cp == -1); /* surrogate */
    CHECK("utf8-5", zf_utf8_valid_prefix("abc\xe4\xb8\xad\xe4\xb8", 8) == 6);
    CHECK("utf8-6", zf_utf8_valid_prefix("0123456789abcdef\xff", 17) == 16);
    char out[4];
    CHECK("utf8-7", zf_utf8_put(0x20000, out) == 4 && memcmp(out, "\xf0\xa0\x80\x80", 4) == 0);
    CHECK("utf8-8", zf_is_han(0x4E2D) && !zf_is_han(0x3002) && zf_is_cjk_punct(0x3002));
}

static void test_rewriter(void)
{
    zf_buf out = {0};
    zf_edits ed = {0};
    zf_rw rw;
    const char *in = "ab,cd";
    zf_rw_init(&rw, in, 5, &out, &ed);
    zf_rw_replace(&rw, 2, 3, "\xef\xbc\x8c", 3, ZHFIX_EDIT_PUNCT);
    CHECK("rw-1", zf_rw_finish(&rw) == ZHFIX_OK);
    CHECK("rw-2", out.len == 7 && memcmp(out.p, "ab\xef\xbc\x8c" "cd", 7) == 0);
    zf_edits_finish(&ed);
    CHECK("rw-3", ed.n == 1 && ed.v[0].in_start == 2 && ed.v[0].in_end == 3 &&
                      ed.v[0].out_start == 2 && ed.v[0].out_end == 5);
    CHECK("rw-4", ed.v[0].before_len == 1 && ed.v[0].before[0] == ',');
    /* replacing behind the cursor is an error, not a silent overlap */
    zf_rw_init(&rw, in, 5, &out, &ed);
    zf_rw_copy(&rw, 4);
    zf_rw_replace(&rw, 2, 3, "x", 1, ZHFIX_EDIT_PUNCT);
    CHECK("rw-5", zf_rw_finish(&rw) == ZHFIX_EINVAL);
    zf_buf_free(&out);
    zf_edits_free(&ed);
}

int main(void)
{
    test_utf8();
    test_rewriter();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
