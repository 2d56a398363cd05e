/*
 * charfreq.c - how common a character is in Chinese text, from the
 * generated two-stage table tables/charfreq.h (jieba's word frequencies).
 */
#include "zf.h"

#include "charfreq.h"

int zf_char_cost(int32_t cp)
{
    if (cp < 0 || cp >= ZF_CHARFREQ_MAXCP)
        return ZF_COST_UNSEEN;
    return zf_charfreq_stage2[(size_t)zf_charfreq_stage1[cp >> 8] * 256 + (size_t)(cp & 0xFF)];
}

/* Costs of characters outside the Han table, in the same unit (tenths of a
 * bit).  ASCII and common CJK punctuation are what real Chinese text is
 * made of besides Han; letters of other scripts are plausible but rare in
 * it; controls, private use, U+FFFD and unassigned-looking code points are
 * what a wrong decoding produces. */
#define IMPOSSIBLE 800 /* what only a wrong decoding produces */

static int class_cost(int32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 0x20 && cp < 0x7F)
            return 45;
        if (cp == '\n' || cp == '\r' || cp == '\t' || cp == '\f')
            return 30;
        return IMPOSSIBLE;
    }
    if (zf_is_han(cp)) {
        int c = zf_char_cost(cp);
        return c;
    }
    if ((cp >= 0x3000 && cp <= 0x301F) || (cp >= 0xFF01 && cp <= 0xFF5E) ||
        cp == 0x2014 || (cp >= 0x2018 && cp <= 0x201D) || cp == 0x2026 || cp == 0x00B7)
        return 50;
    if (cp == 0xA0 || cp == 0x3000)
        return 50;
    if (cp == 0xFFFD || (cp >= 0xE000 && cp <= 0xF8FF) || cp < 0xA0 ||
        (cp >= 0xF0000))
        return IMPOSSIBLE;
    if (zf_is_kana(cp))
        return 90;
    if (cp >= 0xAC00 && cp <= 0xD7A3)
        return 150;
    if (cp < 0xC0)
        return 200; /* Latin-1 symbols: rare in any text */
    if (cp <= 0x24F)
        return 140; /* Latin-1 and Latin Extended: accented letters */
    if (cp >= 0x370 && cp <= 0x4FF)
        return 150; /* Greek, Cyrillic */
    if (zf_is_cjk_punct(cp))
        return 110;
    return 200;
}

long zf_text_cost(const char *s, size_t n, size_t *nchars)
{
    long total = 0;
    size_t count = 0;
    int prev_latin = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int l = zf_utf8_next(s + i, n - i, &cp);
        total += cp < 0 ? IMPOSSIBLE : class_cost(cp);
        /* accented letters come one at a time between plain ones in real
         * text; runs of them are what multibyte text read as Latin-1 is */
        int latin = cp >= 0x80 && cp <= 0x24F;
        if (latin && prev_latin)
            total += 80;
        prev_latin = latin;
        count++;
        i += (size_t)l;
    }
    if (nchars)
        *nchars = count;
    return total;
}

/* The price of bytes that are not UTF-8 inside UTF-8 text: a damaged spot
 * (a sequence cut short, a stray byte) is an event, BROKEN_SPOT, and each
 * byte lost in it is 8 bits the text as read cannot explain.  A short
 * truncation in UTF-8 Chinese (`世界` then E4 B8) must cost less than the
 * rare characters its bytes make in GB18030 (`涓栫晫涓`, 64 bits), and
 * GBK text, which as UTF-8 is nearly all undecodable bytes, far more than
 * its own reading (about 10 bits a character, 4 a byte). */
#define BROKEN_SPOT 200
#define BROKEN_BYTE 80

long zf_utf8_lenient_cost(const char *s, size_t n, size_t *nchars)
{
    long total = 0;
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        size_t v = zf_utf8_valid_prefix(s + i, n - i), c;
        total += zf_text_cost(s + i, v, &c);
        count += c;
        i += v;
        if (i < n)
            total += BROKEN_SPOT;
        while (i < n && zf_utf8_valid_prefix(s + i, n - i) == 0) {
            total += BROKEN_BYTE;
            count++;
            i++;
        }
    }
    if (nchars)
        *nchars = count;
    return total;
}
