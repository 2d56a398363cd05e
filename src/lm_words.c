/*
 * lm_words.c - a unigram word model of Chinese text, over the generated
 * tables/lm_words.h (built by tables/gen_lm_words.py from jieba's dict.txt,
 * Traditional forms folded onto Simplified ones by OpenCC's TSCharacters).
 *
 *   int zf_lm_words_cost(const int32_t *cp, size_t n);
 *
 * The cost, in tenths of a bit, of the span cp[0..n) as its cheapest
 * segmentation into words: a word of the table costs -log2 of its share
 * of jieba's corpus; a Han character that is no word of its own costs
 * UNKNOWN_HAN; anything else costs what zf_lm_char_cost() says of it
 * (punctuation, Latin letters, digits by class).  Traditional and
 * Simplified text score alike.
 *
 * Why beside the character model (lm.c): that model scores a character
 * after the one before it, and is too optimistic about very common
 * characters where the words say otherwise: 该的档 reads as well as 该文档
 * to it (的 is cheap, 的档 a plausible boundary), but 文档 is a word and 的
 * 档 is two words, one of them rare.  Searches that choose among a few
 * complete readings (gbk_shift.c) ask this model to rank them; it is too
 * slow for an inner loop (a few binary searches per character).
 *
 * Pure function over static const tables; no allocation, thread-safe,
 * linear in n.
 */
#include <stdint.h>
#include <string.h>

#include "zf.h"

#include "lm_words.h"

/* A Han character that is not a word of its own, or not in the table:
 * more than the rarest word kept (255), a little more than the character
 * model's unseen character. */
#define UNKNOWN_HAN 260

static unsigned lmw_index(int32_t cp)
{
    if (cp < 0 || cp >= ZF_LMW_MAXCP)
        return 0;
    return zf_lmw_stage2[(size_t)zf_lmw_stage1[cp / ZF_LMW_BLOCK] * ZF_LMW_BLOCK
                         + (size_t)(cp % ZF_LMW_BLOCK)];
}

/* The cost of the word with key k in the sorted array a[0..n) of keys
 * shifted left by 8 over their cost byte; 0 when it is no word. */
static int find64(const uint64_t *a, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t m = a[mid] >> 8;
        if (m == k)
            return (int)(a[mid] & 0xFF);
        if (m < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int find2(uint32_t k)
{
    size_t lo = 0, hi = ZF_LMW_N2;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (zf_lmw_w2[mid] == k)
            return zf_lmw_w2_cost[mid];
        if (zf_lmw_w2[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The cost of the word idx[0..len) (indices of lmw_index, all nonzero),
 * 0 when the table does not have it. */
static int word_cost(const unsigned *idx, int len)
{
    switch (len) {
    case 2:
        return find2((uint32_t)(idx[0] << ZF_LMW_BITS | idx[1]));
    case 3:
        return find64(zf_lmw_w3, ZF_LMW_N3,
                      (uint64_t)idx[0] << 2 * ZF_LMW_BITS | (uint64_t)idx[1] << ZF_LMW_BITS
                          | idx[2]);
    case 4:
        return find64(zf_lmw_w4, ZF_LMW_N4,
                      (uint64_t)idx[0] << 3 * ZF_LMW_BITS | (uint64_t)idx[1] << 2 * ZF_LMW_BITS
                          | (uint64_t)idx[2] << ZF_LMW_BITS | idx[3]);
    default:
        return 0;
    }
}

int zf_lm_words_cost(const int32_t *cp, size_t n)
{
    /* best[i % 5]: the cost of cp[0..i); a word is at most 4 long */
    long best[5];
    unsigned idx[5]; /* lmw_index of cp[i-4..i), at [i % 5] style slots */
    best[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        int32_t c = cp[i - 1];
        unsigned ix = lmw_index(c);
        idx[i % 5] = ix;
        int one;
        if (ix && zf_lmw_single[ix])
            one = zf_lmw_single[ix];
        else if (zf_is_han(c))
            one = UNKNOWN_HAN;
        else
            one = zf_lm_char_cost(c);
        long b = best[(i - 1) % 5] + one;
        unsigned w[4];
        w[3] = ix;
        for (int len = 2; ix && len <= 4 && (size_t)len <= i; len++) {
            unsigned pi = idx[(i - (size_t)len + 1) % 5];
            if (!pi)
                break;
            w[4 - len] = pi;
            int wc = word_cost(w + 4 - len, len);
            if (wc && best[(i - (size_t)len) % 5] + wc < b)
                b = best[(i - (size_t)len) % 5] + wc;
        }
        best[i % 5] = b;
        if (b > 0x3FFFFFFF)
            return 0x3FFFFFFF;
    }
    return (int)best[n % 5];
}
