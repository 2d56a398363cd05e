/*
 * pass_pinyin.c - removes the "(pinyin)" annotations a naive
 * Simplified-to-Traditional converter wrote after the characters it
 * converted: 網(wǎng), 區(qū), 長(zhǎng) (shared/damage-model.md section 1).
 *
 * An annotation is an ASCII "(" right after a Han character, then one
 * pinyin syllable, then ")" (the damage used ASCII parentheses only;
 * full-width ones are written by people), where the syllable is one of the
 * character's readings (readings.c), in any of its readings: the annotator
 * read the word, so 長 in 區長 is zhǎng.  Never one: words in parentheses
 * (強(qiáng)(福建) keeps (福建)), English, f(x), a syllable that is not a
 * reading of the character before it, parentheses at line start or after
 * anything that is not Han, and the dangling "qǐng)" tails of GBK
 * realignment, which have no "(" and belong to the mojibake pass.
 *
 * Clean text writes such glosses on purpose too: a teaching text
 * 这个字念长(cháng)，不念长(zhǎng), a Traditional one 銀行(háng).  What tells
 * the damage from them is the converter: it wrote a whole document in
 * Traditional, and it annotated the characters it changed.  So:
 *
 *   (T) Nothing is removed unless the piece is written in Traditional: more
 *       Traditional-only characters (zf_is_trad_only: 網 長 區, forms
 *       Simplified text does not use) than Simplified-only ones
 *       (zf_is_simp_only: 网 长 区).  A naive converter leaves no
 *       Simplified-only character behind: seeds 000-003 have 0 to 2 of
 *       them against 351 to 896 Traditional-only ones, before any repair.
 *       A Simplified text that quotes Traditional forms with their readings
 *       (“长”的繁体是長(cháng)) is the other way round, like seed 004 (326
 *       against 0), and keeps them.
 *   (S) In such a piece, an annotation after a Traditional-only form is
 *       removed: that is the damage itself (in seeds 000-003, 804 of the
 *       808 annotations).
 *   (W) An annotation after any other Han character (one both scripts use,
 *       行 的 乾 復, or a Simplified form, 长) is removed only when the
 *       document also shows the damage: at least DAMAGE_MIN annotations of
 *       kind (S), counting those removed from earlier pieces
 *       (doc->pinyin_removed; it holds (W) removals only once the document
 *       has shown the damage) and all of this piece, before or after it (a
 *       first scan counts them, so where a piece starts matters as little
 *       as it can).  The seeds' other 4 are 復(fù), which Unihan lists as
 *       its own Simplified form too; they go by this rule.
 *
 * Each removal is one ZHFIX_EDIT_PINYIN edit with empty replacement, and is
 * counted in doc->pinyin_removed: the script pass reads that as evidence
 * that the document was machine-converted from Simplified.
 *
 * Cost: memchr for '(' and nothing else on text without one; per '(' a
 * look at the byte before it (an annotation follows a multi-byte character)
 * and at most ANNOT_MAX bytes after it, twice (count, then remove); a piece
 * with an annotation is decoded once more, for (T).  Linear in the input.
 */
#include <string.h>

#include "zf.h"

/* Longest "(...)" content looked at: one syllable in any spelling
 * zf_pinyin_syllable() accepts is at most 16 bytes. */
#define ANNOT_MAX 16

/* How many annotations after Traditional-only forms (S) show that a
 * document is the converter's output, so that (W) applies.  Why 3: a
 * Traditional text that glosses on purpose glosses a character or two (a
 * polyphone it discusses: 長(cháng) / 長(zhǎng)); 3 is past that, while the
 * damage is dense, one annotation per 6 to 9 Han characters in seeds
 * 000-003 (168 to 271 per document), so any damaged paragraph reaches it.
 * Lines are too short a unit: two in five of the seeds' lines (titles,
 * bylines) have fewer than 3. */
#define DAMAGE_MIN 3

enum { NONE = ZF_ANNOT_NONE, WEAK = ZF_ANNOT_WEAK, STRONG = ZF_ANNOT_STRONG };

/* Whether an annotation opens at s[open] == '(': NONE, or STRONG (after a
 * Traditional-only form, rule (S)) / WEAK (after any other Han character,
 * rule (W)) with *end just past its ')'.  The script pass asks too. */
int zf_pinyin_annotation(const char *s, size_t n, size_t open, size_t *end)
{
    /* A Han character is 3 or 4 bytes: the byte before '(' must be a
     * continuation byte.  This also rules out line starts and f(x). */
    if (open < 3 || ((unsigned char)s[open - 1] & 0xC0) != 0x80)
        return NONE;
    size_t close = open + 1;
    while (close < n && close - open - 1 <= ANNOT_MAX && s[close] != ')'
           && s[close] != '(' && s[close] != '\n')
        close++;
    if (close >= n || s[close] != ')' || close == open + 1)
        return NONE;
    size_t prev = zf_utf8_prev(s, open);
    int32_t cp;
    if ((size_t)zf_utf8_next(s + prev, open - prev, &cp) != open - prev || !zf_is_han(cp))
        return NONE;
    int syl = zf_pinyin_syllable(s + open + 1, close - open - 1);
    if (syl < 0 || !zf_readings_has(cp, syl))
        return NONE;
    *end = close + 1;
    return zf_is_trad_only(cp) ? STRONG : WEAK;
}

/* Condition (T): more Traditional-only than Simplified-only characters in
 * s[0..n). */
static int written_traditional(const char *s, size_t n)
{
    size_t trad = 0, simp = 0, i = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        i += (size_t)zf_utf8_next(s + i, n - i, &cp);
        if (zf_is_trad_only(cp))
            trad++;
        else if (zf_is_simp_only(cp))
            simp++;
    }
    return trad > simp;
}

int zf_pass_pinyin(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)opt;
    const char *s = rw->in;
    size_t n = rw->len, i = 0, first = n, end = 0;
    size_t strong = 0, weak = 0;

    /* First scan: count both kinds in the whole piece. */
    while (i < n) {
        const char *p = memchr(s + i, '(', n - i);
        if (!p)
            break;
        size_t open = (size_t)(p - s);
        int kind = zf_pinyin_annotation(s, n, open, &end);
        if (kind == NONE) {
            i = open + 1;
            continue;
        }
        if (first == n)
            first = open;
        if (kind == STRONG)
            strong++;
        else
            weak++;
        i = end;
    }
    if ((strong == 0 && weak == 0) || !written_traditional(s, n))
        return ZHFIX_OK;
    int weak_too = doc->pinyin_removed + strong >= DAMAGE_MIN;
    if (strong == 0 && !weak_too)
        return ZHFIX_OK;

    /* Second scan: remove, from the first annotation on. */
    i = first;
    while (i < n) {
        const char *p = memchr(s + i, '(', n - i);
        if (!p)
            break;
        size_t open = (size_t)(p - s);
        int kind = zf_pinyin_annotation(s, n, open, &end);
        if (kind == NONE || (kind == WEAK && !weak_too)) {
            i = kind == NONE ? open + 1 : end;
            continue;
        }
        i = end;
        if (zf_rw_held(rw, open, end))
            continue; /* in damage the mojibake pass left as found */
        zf_rw_replace(rw, open, end, "", 0, ZHFIX_EDIT_PINYIN);
        if (rw->err)
            return rw->err;
        doc->pinyin_removed++;
    }
    return ZHFIX_OK;
}
