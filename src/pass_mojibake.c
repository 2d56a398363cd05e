/*
 * pass_mojibake.c - repairs garbled characters (mojibake).
 *
 * GBK decoded one byte out of step (shared/damage-model.md section 4): every
 * spot starts with a `?` right after a character GBK encodes in two bytes,
 * the bridging character lost.  The pass finds those `?` with memchr, so
 * text without one costs a scan, and hands each to the realigner
 * (gbk_shift.c), which decides from the bytes and the language model.
 * Repairs are MOJIBAKE edits; spots that look damaged but cannot be read
 * with confidence are left as found and noted (UNRESOLVED).
 */
#include <string.h>

#include "zf.h"

/* TODO(zf.h): from gbk_shift.c. */
int zf_gbk_realign(const char *s, size_t n, size_t q, size_t *end, char *rep,
                   size_t cap, size_t *rep_len);

int zf_pass_mojibake(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)opt;
    (void)doc;
    const char *s = rw->in;
    size_t n = rw->len;
    size_t i = 0;
    char rep[1024];
    while (i < n) {
        const char *hit = memchr(s + i, '?', n - i);
        if (!hit)
            break;
        size_t q = (size_t)(hit - s);
        i = q + 1;
        /* cheap test first: the character before must be multi-byte, or
         * ASCII punctuation that may be a flattened full-width form */
        if (q == 0 || q < rw->pos)
            continue;
        unsigned char b = (unsigned char)s[q - 1];
        if (b < 0x80 && !(b > 0x20 && b < 0x7F && b != '(' && b != ')'
                          && !(b >= '0' && b <= '9') && !((b | 0x20) >= 'a' && (b | 0x20) <= 'z')))
            continue;
        size_t end = q, rl = 0;
        int v = zf_gbk_realign(s, n, q, &end, rep, sizeof rep, &rl);
        if (v == -2)
            return ZHFIX_ENOMEM;
        if (v > 0) {
            zf_rw_replace(rw, q, end, rep, rl, ZHFIX_EDIT_MOJIBAKE);
            i = end;
        } else if (v < 0) {
            zf_rw_note(rw, q, end);
            i = end;
        }
    }
    return rw->err;
}
