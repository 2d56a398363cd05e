/*
 * lm.c - a compact character model of Chinese text, over the generated
 * tables/lm.h (jieba's word frequencies, Traditional forms folded onto
 * Simplified ones by OpenCC's TSCharacters; see tables/gen_lm.py).
 *
 * Exported (prototypes for zf.h; declared here until the lead adds them):
 *
 *   int zf_lm_char_cost(int32_t cp);
 *   int zf_lm_pair_bonus(int32_t a, int32_t b);
 *   int zf_lm_step(int32_t prev, int32_t cp);
 *   int zf_lm_cost(const char *utf8, size_t len);
 *
 * All costs are in tenths of a bit (-log2 p * 10), like zf_char_cost(): a
 * smaller cost is more probable text.  A span's cost is the sum of its
 * steps, and a step is the cost of a character given the one before it:
 *
 *   zf_lm_step(prev, cp) = max(1, zf_lm_char_cost(cp) - zf_lm_pair_bonus(prev, cp))
 *
 * zf_lm_char_cost() of a Han character is its unigram cost (unseen: 250);
 * other characters get a fixed cost by class (below), so that a span of
 * punctuation, Latin letters or digits can be compared with a span of Han.
 * zf_lm_pair_bonus() is the pointwise mutual information of two Han
 * characters that occur together in words (0 when unknown), plus a small
 * bonus for a letter after a letter and a digit after a digit (words and
 * numbers are runs).  Traditional and Simplified text score alike: 顏 is
 * looked up as 颜.  prev < 0 means "start of text".
 *
 * Pure functions over static const tables; no allocation, thread-safe.
 * zf_lm_pair_bonus() is a binary search in the pairs of `a` (at most a few
 * hundred), everything else O(1).
 */
#include "zf.h"

#include "lm.h"

/* TODO(zf.h): move these four prototypes to zf.h. */
int zf_lm_char_cost(int32_t cp);
int zf_lm_pair_bonus(int32_t a, int32_t b);
int zf_lm_step(int32_t prev, int32_t cp);
int zf_lm_cost(const char *utf8, size_t len);

static int lm_index(int32_t cp)
{
    if (cp < 0 || cp >= ZF_LM_MAXCP)
        return 0;
    return zf_lm_stage2[(size_t)zf_lm_stage1[cp / ZF_LM_BLOCK] * ZF_LM_BLOCK
                        + (size_t)(cp % ZF_LM_BLOCK)];
}

static int is_ascii_letter(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Costs of what is not Han, by class.  Not measured (the model's source is
 * a word list, without punctuation): set from the share each class has in
 * Chinese news prose, where about one character in six is punctuation,
 * ，and 。 alone about one in ten (-log2 0.05 = 4.3 bits each), and kept
 * below the cost of a rare Han character so that `。”“` reads as text and
 * `薄按蠹` does not.  ASCII punctuation costs what its full-width twin
 * costs, because flattened text (damage-model.md section 2) writes `，` as
 * `,`.  Symbols a decoder produces from bytes out of step (Greek, box
 * drawing, vertical forms, the euro sign, U+FFFD) cost nearly as much as an
 * unseen Han character.
 */
int zf_lm_char_cost(int32_t c)
{
    int i = lm_index(c);
    if (i)
        return zf_lm_unigram[i];
    if (zf_is_han(c))
        return ZF_COST_UNSEEN;
    switch (c) {
    case 0xFF0C: case 0x3002: case ',': case '.':
        return 45;
    case 0x3001: case 0x201C: case 0x201D: case 0xFF1A: case 0xFF1B:
    case 0xFF01: case 0xFF1F: case 0xFF08: case 0xFF09: case 0x300A:
    case 0x300B: case '?': case '!': case ':': case ';': case '(': case ')':
    case '"':
        return 65;
    case 0x2026: case 0x2014: case 0x00B7: case 0x2018: case 0x2019:
    case 0x300C: case 0x300D: case 0x300E: case 0x300F: case 0x3010:
    case 0x3011: case 0x3014: case 0x3015: case 0x3000: case 0xFF5E:
    case 0xFF0F: case 0xFF05: case '%': case '-': case '/': case '\'':
        return 80;
    case ' ': case '\t': case '\n': case '\r':
        return 50;
    default:
        break;
    }
    if (c >= '0' && c <= '9')
        return 60;
    if (is_ascii_letter(c))
        return 70;
    if (c >= 0xFF10 && c <= 0xFF19) /* full-width digits */
        return 70;
    if ((c >= 0xFF21 && c <= 0xFF3A) || (c >= 0xFF41 && c <= 0xFF5A))
        return 80;
    if (c > 0x20 && c < 0x7F)
        return 90;
    if (zf_is_cjk_punct(c))
        return 100;
    if (zf_is_kana(c) || zf_is_hangul(c))
        return 120;
    if (c >= 0xC0 && c <= 0x24F) /* Latin letters with accents */
        return 100;
    return 200;
}

int zf_lm_pair_bonus(int32_t a, int32_t b)
{
    int ia = lm_index(a);
    if (!ia) {
        /* runs of letters and of digits are words and numbers */
        if (is_ascii_letter(a) && is_ascii_letter(b))
            return 40;
        if (a >= '0' && a <= '9' && b >= '0' && b <= '9')
            return 30;
        return 0;
    }
    int ib = lm_index(b);
    if (!ib)
        return 0;
    size_t lo = zf_lm_pair_off[ia], hi = zf_lm_pair_off[ia + 1];
    unsigned key = (unsigned)ib;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        unsigned k = (unsigned)zf_lm_pairs[mid] >> 2;
        if (k == key)
            return zf_lm_levels[zf_lm_pairs[mid] & 3];
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int zf_lm_step(int32_t prev, int32_t cp)
{
    int c = zf_lm_char_cost(cp);
    if (prev >= 0)
        c -= zf_lm_pair_bonus(prev, cp);
    return c < 1 ? 1 : c;
}

int zf_lm_cost(const char *s, size_t n)
{
    int32_t prev = -1;
    long total = 0;
    size_t i = 0;
    while (i < n) {
        int32_t cp;
        i += (size_t)zf_utf8_next(s + i, n - i, &cp);
        if (cp < 0)
            cp = 0xFFFD;
        total += zf_lm_step(prev, cp);
        prev = cp;
        if (total > 0x3FFFFFFF)
            return 0x3FFFFFFF;
    }
    return (int)total;
}
