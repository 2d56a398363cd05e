/*
 * readings.c - Mandarin readings of Han characters, and a parser for one
 * pinyin syllable, over the generated table tables/readings.h (Unihan).
 *
 * Exported (prototypes for zf.h):
 *
 *   int zf_pinyin_syllable(const char *s, size_t len);
 *   int zf_readings_has(int32_t cp, int syl);
 *   int zf_readings_of(int32_t cp, int *out, int max);
 *   int zf_is_trad_only(int32_t cp);
 *   int zf_is_simp_only(int32_t cp);
 *
 * zf_pinyin_syllable() reads s[0..len) as exactly one lowercase pinyin
 * syllable and returns its id (>= 0), or -1 when it is not one.  Accepted
 * spellings:
 *   - tone marks, precomposed or combining (zhǎng, zha\u030Cng), on any
 *     letter, at most one; no mark is the neutral tone (們 men);
 *   - a numeric tone 1-5 at the end (zhang3, lv4, lu:4; 5 = neutral);
 *   - u-umlaut as ü (also u + U+0308), as v, or as u: (lǚ, lv3, lu:3);
 *     after j q x y the plain u (ju) and a v (jv) are the same syllable,
 *     and lue/nue are taken for lüe/nüe, as ASCII-only writers spell them;
 *   - ê (also e + U+0302), and the letters ɑ and ɡ that Chinese fonts use
 *     for a and g in typeset pinyin.
 * Anything else (capitals, spaces, two syllables, two tones) is -1.  Why
 * numeric tones are accepted: they are how ASCII-only pinyin tools write
 * a syllable (CC-CEDICT's lu:4, pypinyin's lv4), and the match against the
 * character's readings that every caller makes is just as strict as with
 * tone marks.  Why a bare syllable is only the neutral tone and not "any
 * tone": the seeds' annotator always wrote the tone, and a toneless match
 * would be much weaker evidence (he, an, ma ... are English too).
 *
 * zf_readings_has() says whether syllable `syl` is a reading of cp, or of a
 * Simplified character cp can stand for (see tables/gen_readings.py for
 * why).  Only BMP characters have readings.  zf_readings_of() lists those
 * syllables: it stores the first max in out and returns how many there
 * are.
 *
 * zf_is_trad_only() says whether cp is a Traditional form that Simplified
 * text does not use: it has a Simplified form other than itself and is not
 * its own Simplified form (網 長 區 發, not 乾 著 復, not 行 的).  That is
 * what a Simplified-to-Traditional converter writes where it changed a
 * character.  zf_is_simp_only() is the mirror image (网 长 发, not 干 后
 * 里): what such a converter never leaves behind.  Both from Unihan's
 * kSimplifiedVariant and kTraditionalVariant, BMP only (see
 * tables/gen_readings.py).
 *
 * All are O(1) apart from a binary search over the ~420 base syllables;
 * none allocates.
 */
#include <string.h>

#include "zf.h"

#include "readings.h"

/* A letter with a tone mark, precomposed: the base letter and the tone
 * (0 = no tone).  'v' is u-umlaut, 'E' e-circumflex (as in the table). */
static const struct {
    uint16_t cp;
    char letter;
    char tone;
} marked[] = {
    {0x00E0, 'a', 4}, {0x00E1, 'a', 2}, {0x00E8, 'e', 4}, {0x00E9, 'e', 2},
    {0x00EA, 'E', 0}, {0x00EC, 'i', 4}, {0x00ED, 'i', 2}, {0x00F2, 'o', 4},
    {0x00F3, 'o', 2}, {0x00F9, 'u', 4}, {0x00FA, 'u', 2}, {0x00FC, 'v', 0},
    {0x0101, 'a', 1}, {0x0113, 'e', 1}, {0x011B, 'e', 3}, {0x012B, 'i', 1},
    {0x0144, 'n', 2}, {0x0148, 'n', 3}, {0x014D, 'o', 1}, {0x016B, 'u', 1},
    {0x01CE, 'a', 3}, {0x01D0, 'i', 3}, {0x01D2, 'o', 3}, {0x01D4, 'u', 3},
    {0x01D6, 'v', 1}, {0x01D8, 'v', 2}, {0x01DA, 'v', 3}, {0x01DC, 'v', 4},
    {0x01F9, 'n', 4}, {0x0251, 'a', 0}, {0x0261, 'g', 0}, {0x1E3F, 'm', 2},
    {0x1EBF, 'E', 2}, {0x1EC1, 'E', 4},
};

static int find_marked(int32_t cp)
{
    size_t lo = 0, hi = sizeof marked / sizeof marked[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (marked[mid].cp == cp)
            return (int)mid;
        if (marked[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Index of base[0..n) in zf_py_bases, or -1. */
static int find_base(const char *base, size_t n)
{
    size_t lo = 0, hi = ZF_PY_NBASES;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(base, zf_py_bases[mid], n);
        if (c == 0 && zf_py_bases[mid][n] != '\0')
            c = -1; /* base is a proper prefix: it sorts first */
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int zf_pinyin_syllable(const char *s, size_t len)
{
    char base[8];
    size_t nb = 0, i = 0;
    int tone = 0;
    /* the longest spelling, e.g. "zhuang" with a combining mark and a
     * numeric tone, is well under 16 bytes */
    if (len == 0 || len > 16)
        return -1;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z') {
            if (nb == 6)
                return -1;
            base[nb++] = (char)c;
            i++;
            continue;
        }
        if (c == ':') { /* u: is u-umlaut */
            if (nb == 0 || base[nb - 1] != 'u')
                return -1;
            base[nb - 1] = 'v';
            i++;
            continue;
        }
        if (c >= '1' && c <= '5') { /* numeric tone: last, and the only tone */
            if (tone || nb == 0 || i + 1 != len)
                return -1;
            tone = c - '0';
            i++;
            continue;
        }
        if (c < 0x80)
            return -1;
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        if (cp < 0)
            return -1;
        i += (size_t)l;
        int t = 0;
        switch (cp) {
        case 0x0304: t = 1; break;
        case 0x0301: t = 2; break;
        case 0x030C: t = 3; break;
        case 0x0300: t = 4; break;
        case 0x0308: /* combining diaeresis: u -> u-umlaut */
            if (nb == 0 || base[nb - 1] != 'u')
                return -1;
            base[nb - 1] = 'v';
            continue;
        case 0x0302: /* combining circumflex: e -> e-circumflex */
            if (nb == 0 || base[nb - 1] != 'e')
                return -1;
            base[nb - 1] = 'E';
            continue;
        default: {
            int k = find_marked(cp);
            if (k < 0 || nb == 6)
                return -1;
            base[nb++] = marked[k].letter;
            t = marked[k].tone;
            if (t == 0)
                continue;
        }
        }
        if (tone || nb == 0)
            return -1; /* a second tone, or a mark on nothing */
        tone = t;
    }
    if (nb == 0)
        return -1;
    /* After j q x y the umlaut is written as plain u; take v there as u. */
    if (base[0] == 'j' || base[0] == 'q' || base[0] == 'x' || base[0] == 'y')
        for (size_t k = 1; k < nb; k++)
            if (base[k] == 'v')
                base[k] = 'u';
    /* lue, nue: the ASCII spelling of lüe, nüe (no syllable lue exists) */
    if (nb == 3 && (base[0] == 'l' || base[0] == 'n') && base[1] == 'u' && base[2] == 'e')
        base[1] = 'v';
    int b = find_base(base, nb);
    if (b < 0)
        return -1;
    return b * 5 + (tone ? tone : 5) - 1;
}

/* The readings of cp in the pool (the last marked ZF_PY_END), or NULL. */
static const uint16_t *readings_at(int32_t cp)
{
    if (cp < 0 || cp >= ZF_PY_MAXCP)
        return NULL;
    unsigned v = zf_py_stage2[(size_t)zf_py_stage1[cp >> 8] * 256 + (size_t)(cp & 0xFF)];
    return v ? zf_py_pool + (v - 1) : NULL;
}

int zf_readings_has(int32_t cp, int syl)
{
    const uint16_t *p = readings_at(cp);
    if (!p || syl < 0)
        return 0;
    for (;; p++) {
        if ((int)(*p & (ZF_PY_END - 1)) == syl)
            return 1;
        if (*p & ZF_PY_END)
            return 0;
    }
}

int zf_readings_of(int32_t cp, int *out, int max)
{
    const uint16_t *p = readings_at(cp);
    if (!p)
        return 0;
    for (int n = 0;; p++) {
        if (n < max)
            out[n] = (int)(*p & (ZF_PY_END - 1));
        n++;
        if (*p & ZF_PY_END)
            return n;
    }
}

_Static_assert(ZF_PY_NBASES * 5 <= ZF_SYL_IDS, "syllable ids fit ZF_SYL_IDS");

/* Bits of cp in the script-class table: 1 Traditional-only, 2
 * Simplified-only. */
static unsigned script_class(int32_t cp)
{
    if (cp < 0 || cp >= ZF_PY_MAXCP)
        return 0;
    unsigned byte = zf_sc_stage2[(size_t)zf_sc_stage1[cp >> 8] * 64 + (size_t)((cp & 0xFF) >> 2)];
    return (byte >> (2 * (cp & 3))) & 3u;
}

int zf_is_trad_only(int32_t cp)
{
    return (script_class(cp) & 1u) != 0;
}

int zf_is_simp_only(int32_t cp)
{
    return (script_class(cp) & 2u) != 0;
}
