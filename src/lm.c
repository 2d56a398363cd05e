/*
 * lm.c - a compact model of Chinese text, over the generated tables/lm.h
 * (built by tables/gen_lm.py from jieba's dict.txt and part-of-speech HMM,
 * with Traditional forms folded onto Simplified ones by OpenCC's
 * TSCharacters).  It scores text so that a repair can tell text from
 * garbled text and choose among candidate characters; the script pass can
 * use it for its context choices.
 *
 * Exported (prototypes for zf.h; declared here until the lead adds them):
 *
 *   #define ZF_LM_TRAD 1
 *   #define ZF_LM_SIMP 2
 *   typedef struct zf_lm_ctx { ... } zf_lm_ctx;  (zf.h)
 *   int zf_lm_char_cost(int32_t cp);
 *   int zf_lm_pair_bonus(int32_t a, int32_t b);
 *   int zf_lm_step(int32_t prev, int32_t cp);
 *   void zf_lm_ctx_init(zf_lm_ctx *x, int32_t prev);
 *   int zf_lm_ctx_step(const zf_lm_ctx *x, int32_t cp);
 *   int zf_lm_cost(const char *utf8, size_t len);
 *   int zf_lm_script(int32_t cp);
 *
 * All costs are in tenths of a bit (-log2 p * 10), like zf_char_cost(): a
 * smaller cost is more probable text.  zf_lm_cost() of a span is the sum
 * of its steps; zf_lm_step(prev, cp) is the cost of cp after prev (prev < 0:
 * at the start), never below 1.
 *
 * A step between two Han characters asks two experts and takes the more
 * optimistic one:
 *   - jieba's part-of-speech HMM (256 states: word position x part of
 *     speech, trained on running text), which knows what follows what
 *     across word boundaries (淹了, 期的, 很高);
 *   - the pointwise mutual information of the pair inside jieba's words
 *     (zf_lm_pair_bonus()), which knows the insides of words the HMM
 *     blurs (聊天, 设立): unigram cost minus the bonus.
 * Any other step is the unigram cost minus the pair bonus (runs of Latin
 * letters and of digits get one), plus a penalty for a Latin letter next
 * to Han.  zf_lm_char_cost() of a Han character is its unigram cost from
 * the HMM's running text, or from the word list for characters the HMM
 * does not know (unseen: 250); other characters have a fixed cost by class
 * (see below).  Traditional and Simplified text score alike: 顏 is looked
 * up as 颜.
 *
 * zf_lm_ctx: zf_lm_ctx_step(x, cp) == zf_lm_step(prev, cp) for the prev
 * given to zf_lm_ctx_init(); it does the work that depends on prev alone
 * once, for searches that score many characters after the same one.  A
 * plain struct of about 1 KB, meant for the stack.
 *
 * zf_lm_script() tells the scripts apart where the model does not:
 * ZF_LM_TRAD for a Traditional-only form (電), ZF_LM_SIMP for a Simplified
 * character that has one (电), 0 for the rest (the same in both scripts,
 * or unknown).
 *
 * Pure functions over static const tables; no allocation, thread-safe.
 * A step costs a few hundred operations (the HMM's forward step over the
 * states of prev, a binary search among the pairs of prev).
 */
#include <pthread.h>
#include <string.h>

#include "zf.h"

#include "lm.h"


_Static_assert(ZF_LM_NSTATES <= 256, "zf_lm_ctx.f holds 256 states");

static int lm_index(int32_t cp)
{
    if (cp < 0 || cp >= ZF_LM_MAXCP)
        return 0;
    return zf_lm_stage2[(size_t)zf_lm_stage1[cp / ZF_LM_BLOCK] * ZF_LM_BLOCK
                        + (size_t)(cp % ZF_LM_BLOCK)];
}

int zf_lm_script(int32_t cp)
{
    int i = lm_index(cp);
    if (!i)
        return 0;
    if (zf_lm_canon[i] != cp)
        return ZF_LM_TRAD;
    return (zf_lm_twin[i / 8] >> (i % 8)) & 1 ? ZF_LM_SIMP : 0;
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
    case 0xFF0F: case 0xFF05: case 0xFF0D: case '%': case '-': case '/':
    case '\'':
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
    if (c >= 0xFF10 && c <= 0xFF3A) /* full-width digits and letters: rare */
        return 150;
    if (c >= 0xFF41 && c <= 0xFF5A)
        return 150;
    if (c > 0x20 && c < 0x7F)
        return 90;
    if (zf_is_cjk_punct(c))
        return 180; /* the rest of the full-width forms: ＃＆＠ ... */
    if (zf_is_kana(c) || zf_is_hangul(c))
        return 120;
    if (c >= 0xC0 && c <= 0x24F) /* Latin letters with accents */
        return 100;
    return 200;
}

/* The first offset at or after i in s[0..n) that does not hold a
 * three-byte character led by E3..E9 (U+3000-U+9FFF: the CJK marks, kana,
 * Extension A and the URO) that is below U+3400 or costs under 150
 * (zf_lm_char_cost).  Those are the characters a scan for rare Han
 * (pass_mojibake.c) passes over, nearly every character of Chinese text;
 * here the table lookup is inlined instead of a call per character.  For
 * U+3400-U+9FFF a character the model does not know costs 250 (Han) or 200
 * (U+4DC0-U+4DFF), so only known characters can be passed. */
/* One bit a character of U+3400-U+9FFF: set where the model knows it
 * and it costs under 150.  Built once, on first use (3.4 KB): one load a
 * character instead of the three of lm_index and the unigram table. */
#define COMMON_LO 0x3400
#define COMMON_HI 0xA000
static uint8_t common_bits[(COMMON_HI - COMMON_LO) / 8];
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static void common_build(void)
{
    for (int32_t cp = COMMON_LO; cp < COMMON_HI; cp++) {
        int k = lm_index(cp);
        if (k && zf_lm_unigram[k] < 150)
            common_bits[(cp - COMMON_LO) >> 3] |= (uint8_t)(1u << (cp & 7));
    }
}

size_t zf_lm_skip_common(const char *s, size_t i, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    pthread_once(&common_once, common_build);
    while (i < n && n - i >= 3) {
        unsigned c = u[i];
        if (c - 0xE3u > 0xE9u - 0xE3u || (u[i + 1] & 0xC0) != 0x80 || (u[i + 2] & 0xC0) != 0x80)
            break;
        unsigned cp = (c & 0x0Fu) << 12 | (u[i + 1] & 0x3Fu) << 6 | (u[i + 2] & 0x3Fu);
        if (cp >= COMMON_LO && !((unsigned)common_bits[(cp - COMMON_LO) >> 3] >> (cp & 7) & 1u))
            break;
        i += 3;
    }
    return i;
}

/* zf_lm_pair_bonus(a, b) with ia = lm_index(a), ib = lm_index(b). */
static inline int pair_bonus_i(int32_t a, int ia, int32_t b, int ib)
{
    if (!ia) {
        /* runs of letters and of digits are words and numbers */
        if (is_ascii_letter(a) && is_ascii_letter(b))
            return 40;
        if (a >= '0' && a <= '9' && b >= '0' && b <= '9')
            return 30;
        return 0;
    }
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

size_t zf_lm_followers(int32_t a, int32_t *out, size_t max)
{
    int ia = lm_index(a);
    size_t n = 0;
    if (!ia)
        return 0;
    for (size_t k = zf_lm_pair_off[ia]; k < zf_lm_pair_off[ia + 1] && n < max; k++)
        out[n++] = zf_lm_canon[(unsigned)zf_lm_pairs[k] >> 2];
    return n;
}

int zf_lm_pair_bonus(int32_t a, int32_t b)
{
    int ia = lm_index(a);
    return pair_bonus_i(a, ia, b, ia ? lm_index(b) : 0);
}

/* A Latin letter between Han characters is rare in Chinese text (X光 and
 * A股 exist, but a letter that starts or ends a run of letters next to Han
 * is mostly the start of an English word or a name): 4 bits more on each
 * side. */
#define LETTER_EDGE 40

/* -log2(p) * 10, rounded, without libm: the float's exponent plus a table
 * of log2 over the top six bits of its mantissa (error < 0.03 bit). */
static int neglog2_10(float p)
{
    if (!(p > 1e-30f))
        return 1000;
    union {
        float f;
        uint32_t u;
    } v;
    v.f = p;
    int e = (int)((v.u >> 23) & 0xFF) - 127;
    int milli = e * 1000 + zf_lm_log2m[(v.u >> 17) & 63];
    return milli >= 0 ? 0 : (-milli + 50) / 100;
}

/* The weights of the states of character index ia, P(s | ia), and those
 * states; returns how many (0: the HMM does not know the character). */
static size_t hmm_weights(int ia, unsigned char *st, float *ws)
{
    size_t lo = zf_lm_hmm_off[ia], hi = zf_lm_hmm_off[ia + 1];
    if (lo == hi)
        return 0;
    float w[64], z = 0;
    size_t n = hi - lo > 64 ? 64 : hi - lo;
    for (size_t k = 0; k < n; k++) {
        unsigned e = zf_lm_hmm[lo + k];
        w[k] = zf_lm_exp8[e & 0xFF] * zf_lm_exp8[zf_lm_logpi[e >> 8]];
        z += w[k];
    }
    for (size_t k = 0; k < n; k++) {
        st[k] = (unsigned char)(zf_lm_hmm[lo + k] >> 8);
        ws[k] = w[k] / z;
    }
    return n;
}

/* The HMM's prediction of the next state from character index ia:
 * f[t] = sum over the states s of ia of P(s | ia) P(t | s).  Returns 0 when
 * the HMM does not know the character. */
static int hmm_forward(int ia, float *f)
{
    unsigned char st[64];
    float ws[64];
    size_t n = hmm_weights(ia, st, ws);
    if (n == 0)
        return 0;
    memset(f, 0, ZF_LM_NSTATES * sizeof *f);
    for (size_t k = 0; k < n; k++)
        for (size_t j = zf_lm_trans_off[st[k]]; j < zf_lm_trans_off[st[k] + 1]; j++)
            f[zf_lm_trans[j] >> 8] += ws[k] * zf_lm_exp8[zf_lm_trans[j] & 0xFF];
    return 1;
}

/* P(ib | the state distribution f). */
static float hmm_emit(int ib, const float *f)
{
    float p = 0;
    for (size_t j = zf_lm_hmm_off[ib]; j < zf_lm_hmm_off[ib + 1]; j++)
        p += f[zf_lm_hmm[j] >> 8] * zf_lm_exp8[zf_lm_hmm[j] & 0xFF];
    return p;
}

/* The context keeps a filter of prev's pairs (pm: a bit for each index
 * it pairs with, modulo 512): most characters after prev are in no pair
 * with it, and the filter says so without the binary search (prev has 7
 * pairs on average, 238 at most). */
void zf_lm_ctx_init(zf_lm_ctx *x, int32_t prev)
{
    x->prev = prev;
    x->pa = prev >= 0 ? lm_index(prev) : 0;
    x->hmm = prev >= 0 && hmm_forward(x->pa, x->f);
    memset(x->pm, 0, sizeof x->pm);
    if (x->pa)
        for (size_t j = zf_lm_pair_off[x->pa]; j < zf_lm_pair_off[x->pa + 1]; j++) {
            unsigned k = (unsigned)zf_lm_pairs[j] >> 2;
            x->pm[k >> 6 & 7] |= (uint64_t)1 << (k & 63);
        }
}


/* The transition probabilities as a square: trans_sq[s][t] = P(t | s),
 * 0 where the table has none.  Built once, on first use (256 KB, from the
 * 5,198 transitions): hmm_emit_sparse() looks a transition up instead of
 * searching for it among the state's, which was most of a step's cost. */
static float trans_sq[ZF_LM_NSTATES][ZF_LM_NSTATES];
static pthread_once_t trans_once = PTHREAD_ONCE_INIT;

static void trans_build(void)
{
    for (unsigned s = 0; s < ZF_LM_NSTATES; s++)
        for (size_t j = zf_lm_trans_off[s]; j < zf_lm_trans_off[s + 1]; j++)
            trans_sq[s][zf_lm_trans[j] >> 8] = zf_lm_exp8[zf_lm_trans[j] & 0xFF];
}

/* hmm_emit(ib, f) for the f that hmm_forward() would make from the states
 * st[0..n) with weights ws: only the entries of f that ib's states read
 * are made, each summed in the same order as hmm_forward() sums it (over
 * the states of the previous character, first to last), so the result is
 * the same float (a missing transition adds ws * 0, which changes no
 * sum). */
static float hmm_emit_sparse(int ib, const unsigned char *st, const float *ws, size_t n)
{
    size_t lo_j = zf_lm_hmm_off[ib], hi_j = zf_lm_hmm_off[ib + 1];
    float p = 0;
    pthread_once(&trans_once, trans_build);
    /* 64 of ib's states at a time (a character has a dozen at most) */
    for (size_t j0 = lo_j; j0 < hi_j; j0 += 64) {
        size_t nj = hi_j - j0 > 64 ? 64 : hi_j - j0;
        float f[64];
        for (size_t j = 0; j < nj; j++)
            f[j] = 0;
        for (size_t k = 0; k < n; k++) {
            const float *row = trans_sq[st[k]];
            for (size_t j = 0; j < nj; j++)
                f[j] += ws[k] * row[zf_lm_hmm[j0 + j] >> 8];
        }
        for (size_t j = 0; j < nj; j++)
            p += f[j] * zf_lm_exp8[zf_lm_hmm[j0 + j] & 0xFF];
    }
    return p;
}

/* The step's cost given the HMM's probability p of cp after prev
 * (hmm != 0), or without the HMM (hmm == 0); c is cp's unigram cost, pa
 * and ib the indices of prev and cp. */
static inline int step_cost(int32_t prev, int pa, int32_t cp, int ib, int c, int hmm, float p,
                            const uint64_t *pm)
{
    /* pm: the context's filter of prev's pairs (NULL: none) */
    int b = pm && pa && ib && !(pm[(unsigned)ib >> 6 & 7] >> (ib & 63) & 1)
                ? 0 : pair_bonus_i(prev, pa, cp, ib);
    if (hmm) {
        /* two experts, the more optimistic wins: the HMM knows running
         * text across word boundaries (淹了, 期的), the pairs know the
         * insides of words the HMM blurs (聊天) */
        int h = neglog2_10(p);
        c = b && c - b < h ? c - b : h;
    } else {
        c -= b;
        if ((is_ascii_letter(cp) && zf_is_han(prev)) || (is_ascii_letter(prev) && zf_is_han(cp)))
            c += LETTER_EDGE;
    }
    return c < 1 ? 1 : c;
}

/* The same as a zf_lm_ctx_step() after zf_lm_ctx_init(prev), without the
 * forward step over every state: only what cp's states need. */
int zf_lm_step(int32_t prev, int32_t cp)
{
    int c = zf_lm_char_cost(cp);
    if (prev < 0)
        return c;
    int ib = lm_index(cp), pa = lm_index(prev);
    if (ib && zf_lm_hmm_off[ib] < zf_lm_hmm_off[ib + 1]) {
        unsigned char st[64];
        float ws[64];
        size_t n = hmm_weights(pa, st, ws);
        if (n)
            return step_cost(prev, pa, cp, ib, c, 1, hmm_emit_sparse(ib, st, ws, n), NULL);
    }
    return step_cost(prev, pa, cp, ib, c, 0, 0, NULL);
}

int zf_lm_ctx_step_c(const zf_lm_ctx *x, int32_t cp, int c)
{
    int32_t prev = x->prev;
    if (prev < 0)
        return c;
    int ib = lm_index(cp);
    if (x->hmm && ib && zf_lm_hmm_off[ib] < zf_lm_hmm_off[ib + 1])
        return step_cost(prev, x->pa, cp, ib, c, 1, hmm_emit(ib, x->f), x->pm);
    return step_cost(prev, x->pa, cp, ib, c, 0, 0, x->pm);
}

int zf_lm_ctx_step(const zf_lm_ctx *x, int32_t cp)
{
    return zf_lm_ctx_step_c(x, cp, zf_lm_char_cost(cp));
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
