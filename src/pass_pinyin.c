/*
 * pass_pinyin.c - removes the "(pinyin)" annotations a naive
 * Simplified-to-Traditional converter wrote after the characters it
 * converted: 網(wǎng), 區(qū), 長(zhǎng) (shared/damage-model.md section 1).
 *
 * An annotation is removed exactly when
 *   - it is an ASCII "(" right after a Han character, then one pinyin
 *     syllable, then ")" (the damage used ASCII parentheses only; full-width
 *     ones are written by people), and
 *   - that syllable is one of the character's readings (readings.c), in any
 *     of its readings: the annotator read the word, so 長 in 區長 is zhǎng.
 * Everything else stays: words in parentheses (強(qiáng)(福建) keeps (福建)),
 * English, f(x), a syllable that is not a reading of the character before
 * it, parentheses at line start or after anything that is not Han, and the
 * dangling "qǐng)" tails of GBK realignment, which have no "(" and belong
 * to the mojibake pass.
 *
 * Each removal is one ZHFIX_EDIT_PINYIN edit with empty replacement, and is
 * counted in doc->pinyin_removed: the script pass reads that as evidence
 * that the document was machine-converted from Simplified.
 *
 * Cost: memchr for '(' and nothing else on text without one; per '(' a
 * look at the byte before it (an annotation follows a multi-byte character)
 * and at most ANNOT_MAX bytes after it.  Linear in the input.
 */
#include <string.h>

#include "zf.h"

/* Longest "(...)" content looked at: one syllable in any spelling
 * zf_pinyin_syllable() accepts is at most 16 bytes. */
#define ANNOT_MAX 16

int zf_pass_pinyin(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)opt;
    const char *s = rw->in;
    size_t n = rw->len, i = 0;
    while (i < n) {
        const char *p = memchr(s + i, '(', n - i);
        if (!p)
            break;
        size_t open = (size_t)(p - s);
        i = open + 1;
        /* A Han character is 3 or 4 bytes: the byte before '(' must be a
         * continuation byte.  This also rules out line starts and f(x). */
        if (open < 3 || ((unsigned char)s[open - 1] & 0xC0) != 0x80)
            continue;
        size_t close = open + 1;
        while (close < n && close - open - 1 <= ANNOT_MAX && s[close] != ')'
               && s[close] != '(' && s[close] != '\n')
            close++;
        if (close >= n || s[close] != ')' || close == open + 1)
            continue;
        size_t prev = zf_utf8_prev(s, open);
        int32_t cp;
        if ((size_t)zf_utf8_next(s + prev, open - prev, &cp) != open - prev || !zf_is_han(cp))
            continue;
        int syl = zf_pinyin_syllable(s + open + 1, close - open - 1);
        if (syl < 0 || !zf_readings_has(cp, syl))
            continue;
        zf_rw_replace(rw, open, close + 1, "", 0, ZHFIX_EDIT_PINYIN);
        if (rw->err)
            return rw->err;
        doc->pinyin_removed++;
        i = close + 1;
    }
    return ZHFIX_OK;
}
