/*
 * script_map.c - the Traditional/Simplified tables and the conversion of
 * one run of Han characters.
 *
 * A run is converted the way OpenCC does it, with one addition:
 *  1. at each position the longest phrase of the direction's phrase table
 *     (OpenCC's TSPhrases or STPhrases) fixes its characters;
 *  2. other characters take their only candidate;
 *  3. where a character has several candidates (著 -> 著/着, 干 -> 幹/乾/干),
 *     OpenCC takes the first; here a Viterbi over the candidate lattice
 *     picks the cheapest segmentation into words of jieba's corpus (words.h)
 *     and with it the candidates.  OpenCC's t2s leaves the particle 著 of
 *     all six cases in the seeds (急著, 隨著, 向著 ...) as 著; the words 急 +
 *     着, 随着, 向着 outweigh 著 there, while 著名 keeps 著.
 *
 * The tables are generated (tables/gen_script_chars.py and friends); their
 * header comments say where each comes from and why it is laid out so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

#include "script_chars.h"
#include "script_st.h"
#include "script_ts.h"
#include "words.h"

/* Costs, in tenths of a bit like the word costs.  A character alone that
 * no word list knows costs ZF_ALONE_COST, about a single character of
 * middling frequency in jieba's counts, so a word through it can win over
 * reading it alone.  A candidate no list knows even alone pays
 * ZF_UNSEEN_PENALTY on top, so an attested candidate is preferred.  Each
 * candidate other than the first (OpenCC's default) pays
 * ZF_NONDEFAULT_COST: a word must beat the default by a margin, not a
 * hair (覆寫 stays 覆写 although only 复写 is a word; 急著 still reads
 * 急着, where the single 着 beats 著 by 4.9 bits).  Tuned on a round trip
 * of manpages-zh's zh_CN pages through OpenCC's s2tw (tables/check_ts.py):
 * 84 errors in 2.1 M characters with 140/100/0, 57 with these. */
#define ZF_ALONE_COST 100
#define ZF_UNSEEN_PENALTY 100
#define ZF_NONDEFAULT_COST 30
/* Longest word or phrase: the generators keep keys to 16 characters, so a
 * choice of 2-bit indices fits 32 bits. */
#define ZF_MAXKEY 16

/* ---- characters ------------------------------------------------------ */

static const struct zf_script_info *info_of(int32_t cp)
{
    size_t row = 0;
    if (cp < 0)
        return &zf_script_info[0];
    if (cp < 0x10000) {
        row = zf_script_stage2[(size_t)zf_script_stage1[cp >> 8] * 256 + ((uint32_t)cp & 255)];
    } else {
        size_t lo = 0, hi = ZF_SCRIPT_NSUPP;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (zf_script_supp_cp[mid] < (uint32_t)cp)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < ZF_SCRIPT_NSUPP && zf_script_supp_cp[lo] == (uint32_t)cp)
            row = zf_script_supp_row[lo];
    }
    return &zf_script_info[row];
}

unsigned zf_script_flags(int32_t cp)
{
    return info_of(cp)->flags;
}

/* The candidates of cp toward `to`: the first `*nctx` may be chosen by
 * context, the rest up to `*nall` only by a phrase.  A character the table
 * does not convert is its own single candidate (returns NULL). */
static const uint32_t *cands(const struct zf_script_info *in, zhfix_script to,
                             unsigned *nctx, unsigned *nall)
{
    unsigned packed = to == ZHFIX_SCRIPT_HANS ? in->nhans : in->nhant;
    *nctx = packed & 15;
    *nall = packed >> 4;
    if (*nall == 0)
        return NULL;
    return zf_script_cand + (to == ZHFIX_SCRIPT_HANS ? in->hans : in->hant);
}

/* cp is one of its own candidates toward `to`: a form that script also
 * writes (干 in 若干, 后 in 皇后), so only context can show it is wrong. */
int zf_script_self_valid(int32_t cp, zhfix_script to)
{
    unsigned nctx, nall;
    const uint32_t *c = cands(info_of(cp), to, &nctx, &nall);
    for (unsigned i = 0; c && i < nctx; i++)
        if (c[i] == (uint32_t)cp)
            return nctx > 1;
    return 0;
}

/* ---- dictionaries (layout: write_dict() in tables/gen_script_chars.py) */

typedef struct dict {
    const uint32_t *first;
    size_t nfirst;
    const uint32_t *start, *koff;
    const uint8_t *keys;
} dict;

static const dict tsphr = {zf_tsphr_first, ZF_TSPHR_NFIRST, zf_tsphr_start, zf_tsphr_koff,
                           zf_tsphr_keys};
static const dict stphr = {zf_stphr_first, ZF_STPHR_NFIRST, zf_stphr_start, zf_stphr_koff,
                           zf_stphr_keys};
static const dict swords = {zf_swords_first, ZF_SWORDS_NFIRST, zf_swords_start,
                            zf_swords_koff, zf_swords_keys};
static const dict twords = {zf_twords_first, ZF_TWORDS_NFIRST, zf_twords_start,
                            zf_twords_koff, zf_twords_keys};

/* Entries [lo, hi) whose keys agree on their first k+1 characters. */
typedef struct range {
    uint32_t lo, hi;
} range;

static int dict_group(const dict *d, uint32_t cp, range *r)
{
    size_t lo = 0, hi = d->nfirst;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->first[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= d->nfirst || d->first[lo] != cp)
        return 0;
    r->lo = d->start[lo];
    r->hi = d->start[lo + 1];
    return 1;
}

static uint32_t tail_len(const dict *d, uint32_t e)
{
    return (d->koff[e + 1] - d->koff[e]) / 3;
}

static uint32_t tail_char(const dict *d, uint32_t e, uint32_t k)
{
    const uint8_t *p = d->keys + d->koff[e] + 3 * k;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* The entry of r whose tail is exactly k characters long (the shortest key
 * sorts first), or -1. */
static long range_exact(const dict *d, range r, uint32_t k)
{
    if (r.lo < r.hi && tail_len(d, r.lo) == k)
        return (long)r.lo;
    return -1;
}

/* Narrow r (tails agree on k characters) to the tails whose character k is
 * c.  Past the one entry that ends at k, tails are sorted by character k. */
static range range_step(const dict *d, range r, uint32_t k, uint32_t c)
{
    uint32_t lo = r.lo, hi = r.hi;
    if (lo < hi && tail_len(d, lo) == k)
        lo++;
    uint32_t a = lo, b = hi;
    while (a < b) { /* first with char >= c */
        uint32_t mid = a + (b - a) / 2;
        if (tail_char(d, mid, k) < c)
            a = mid + 1;
        else
            b = mid;
    }
    uint32_t e = a;
    b = hi;
    while (e < b) { /* first with char > c */
        uint32_t mid = e + (b - e) / 2;
        if (tail_char(d, mid, k) <= c)
            e = mid + 1;
        else
            b = mid;
    }
    range out = {a, e};
    return out;
}

/* Longest phrase starting at t[0]: its length (>= 2) and its value, or 0. */
static size_t phrase_match(const dict *d, const uint32_t *vals, const uint32_t *t, size_t n,
                           uint32_t *val)
{
    range r;
    size_t best = 0;
    if (!dict_group(d, t[0], &r))
        return 0;
    for (uint32_t k = 0;; k++) {
        long e = range_exact(d, r, k);
        if (e >= 0 && k >= 1) {
            best = k + 1;
            *val = vals[e];
        }
        if (k + 1 >= n || k + 1 >= ZF_MAXKEY)
            break;
        r = range_step(d, r, k, t[k + 1]);
        if (r.lo >= r.hi)
            break;
    }
    return best;
}

/* ---- the Viterbi ----------------------------------------------------- */

typedef struct lattice {
    const dict *d;
    const uint8_t *cost;
    unsigned word_flag;
    zf_script_scratch *s;
    size_t end;
} lattice;

static void relax(zf_script_scratch *s, size_t a, size_t b, uint32_t c, uint32_t pick)
{
    if (s->best[a] == UINT32_MAX)
        return;
    uint32_t v = s->best[a] + c;
    if (v < s->best[b]) {
        s->best[b] = v;
        s->from[b] = (uint32_t)a;
        s->pick[b] = pick;
    }
}

/* Words starting at a whose characters up to b-1 are matched by r (k = b-a-1
 * characters of tail); pick holds the options chosen for a..b-1. */
static void walk(const lattice *L, size_t a, size_t b, range r, uint32_t k, uint32_t pick,
                 uint32_t extra)
{
    zf_script_scratch *s = L->s;
    if (k >= 1) {
        long e = range_exact(L->d, r, k);
        if (e >= 0)
            relax(s, a, b, L->cost[e] + extra, pick);
    }
    if (b >= L->end || b - a >= ZF_MAXKEY)
        return;
    for (unsigned o = 0; o < s->nopt[b]; o++) {
        range r2 = range_step(L->d, r, k, s->opt[b][o]);
        if (r2.lo < r2.hi)
            walk(L, a, b + 1, r2, k + 1, pick | (uint32_t)o << (2 * (b - a)),
                 extra + (o > 0 ? ZF_NONDEFAULT_COST : 0));
    }
}

/* Choose the options of positions [ws, we) by the cheapest segmentation. */
static void viterbi(const lattice *L0, size_t ws, size_t we, int32_t *out, uint8_t *how)
{
    lattice L = *L0;
    zf_script_scratch *s = L.s;
    L.end = we;
    for (size_t i = ws; i <= we; i++)
        s->best[i] = UINT32_MAX;
    s->best[ws] = 0;
    for (size_t a = ws; a < we; a++) {
        if (s->best[a] == UINT32_MAX)
            continue;
        for (unsigned o = 0; o < s->nopt[a]; o++) {
            uint32_t cp = s->opt[a][o];
            uint32_t c = ZF_ALONE_COST + (s->nopt[a] > 1 ? ZF_UNSEEN_PENALTY : 0);
            range r;
            int known = (info_of((int32_t)cp)->flags & L.word_flag) && dict_group(L.d, cp, &r);
            if (known) {
                long e = range_exact(L.d, r, 0);
                if (e >= 0)
                    c = L.cost[e];
            }
            if (o > 0)
                c += ZF_NONDEFAULT_COST;
            relax(s, a, a + 1, c, o);
            if (known)
                walk(&L, a, a + 1, r, 0, o, o > 0 ? ZF_NONDEFAULT_COST : 0);
        }
    }
    /* read the choice back */
    size_t j = we;
    while (j > ws) {
        size_t a = s->from[j];
        uint32_t pick = s->pick[j];
        for (size_t i = a; i < j; i++) {
            unsigned o = (pick >> (2 * (i - a))) & 3;
            if (s->nopt[i] > 1) {
                out[i] = (int32_t)s->opt[i][o];
                how[i] = j - a > 1 ? ZF_HOW_WORD : ZF_HOW_SINGLE;
            }
        }
        j = a;
    }
}

static int scratch_reserve(zf_script_scratch *s, size_t n)
{
    if (n <= s->cap)
        return ZHFIX_OK;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < n)
        cap *= 2;
    uint32_t *one = realloc(s->one, cap * sizeof *one);
    if (one)
        s->one = one;
    uint32_t *best = realloc(s->best, cap * sizeof *best);
    if (best)
        s->best = best;
    uint32_t *from = realloc(s->from, cap * sizeof *from);
    if (from)
        s->from = from;
    uint32_t *pick = realloc(s->pick, cap * sizeof *pick);
    if (pick)
        s->pick = pick;
    const uint32_t **opt = realloc(s->opt, cap * sizeof *opt);
    if (opt)
        s->opt = opt;
    uint8_t *nopt = realloc(s->nopt, cap);
    if (nopt)
        s->nopt = nopt;
    uint32_t *key = realloc(s->key, cap * sizeof *key);
    if (key)
        s->key = key;
    if (!one || !best || !from || !pick || !opt || !nopt || !key)
        return ZHFIX_ENOMEM;
    s->cap = cap;
    return ZHFIX_OK;
}

void zf_script_scratch_free(zf_script_scratch *s)
{
    free(s->one);
    free(s->best);
    free(s->from);
    free(s->pick);
    free(s->opt);
    free(s->nopt);
    free(s->key);
    memset(s, 0, sizeof *s);
}

/* ---- the document's own spelling ------------------------------------ */

/* A pair of adjacent characters as a hash key (never 0: both are Han). */
static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return (uint64_t)a << 32 | b;
}

static size_t pair_slot(uint64_t k, size_t cap)
{
    return (size_t)((k * 0x9E3779B97F4A7C15u) >> 20) & (cap - 1);
}

static int pairs_has(const zf_script_doc *d, uint32_t a, uint32_t b)
{
    if (!d->npairs)
        return 0;
    uint64_t k = pair_key(a, b);
    for (size_t i = pair_slot(k, d->pairs_cap);; i = (i + 1) & (d->pairs_cap - 1)) {
        if (d->pairs[i] == k)
            return 1;
        if (d->pairs[i] == 0)
            return 0;
    }
}

static void pairs_put(uint64_t *tab, size_t cap, uint64_t k, size_t *n)
{
    size_t i = pair_slot(k, cap);
    while (tab[i] && tab[i] != k)
        i = (i + 1) & (cap - 1);
    if (!tab[i]) {
        tab[i] = k;
        (*n)++;
    }
}

/* A document's pairs are kept up to SPELLING_MAX (1 MB of table): past
 * that it reads more like a corpus than one author's spelling, and memory
 * must not grow with the input. */
#define SPELLING_MAX ((size_t)1 << 16)

static int pairs_add(zf_script_doc *d, uint32_t a, uint32_t b)
{
    if (d->npairs >= SPELLING_MAX)
        return ZHFIX_OK;
    if ((d->npairs + 1) * 2 > d->pairs_cap) { /* keep the load under half */
        size_t cap = d->pairs_cap ? d->pairs_cap * 2 : 64, n = 0;
        uint64_t *tab = calloc(cap, sizeof *tab);
        if (!tab)
            return ZHFIX_ENOMEM;
        for (size_t i = 0; i < d->pairs_cap; i++)
            if (d->pairs[i])
                pairs_put(tab, cap, d->pairs[i], &n);
        free(d->pairs);
        d->pairs = tab;
        d->pairs_cap = cap;
    }
    pairs_put(d->pairs, d->pairs_cap, pair_key(a, b), &d->npairs);
    return ZHFIX_OK;
}

void zf_script_doc_free(zf_script_doc *d)
{
    free(d->pairs);
    memset(d, 0, sizeof *d);
}

/* The variant row whose Taiwan form is cp, or -1. */
static long variant_tw(uint32_t cp)
{
    size_t lo = 0, hi = ZF_SCRIPT_NVARIANT;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (zf_script_variant[mid].tw < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ZF_SCRIPT_NVARIANT && zf_script_variant[lo].tw == cp ? (long)lo : -1;
}

/*
 * A document's Traditional part is the best evidence of how it wants its
 * Simplified part written (read from each piece as it comes and kept, so
 * a piece has what the pieces before it wrote: where the stream cuts,
 * which moves when a repair changes the text's length, matters little):
 *  - the variant family: OpenCC's s2t writes 爲 啓 裏 衆, Taiwan's
 *    standard 為 啟 裡 眾 (TWVariants); the candidates are in Taiwan's
 *    forms, so a document that writes more of the standard forms than of
 *    Taiwan's gets the standard ones (only pairs whose both forms are
 *    Traditional-only count: 群 or 床 say nothing);
 *  - its words: a candidate of a one-to-many character (ZF_SC_HCAND) the
 *    document writes next to another character, in Traditional (one of
 *    the two is Traditional-only, neither Simplified-only): a page that
 *    writes 游標 wants 游标 as 游標, though OpenCC's tables make it 遊標.
 */
int zf_script_doc_scan(const char *s, size_t len, const int32_t *han, zf_script_doc *d)
{
    size_t i = 0, nhan = 0;
    uint32_t prev = 0;
    unsigned pf = 0;
    while (i < len) {
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        i += (size_t)l;
        if (cp < 0 || !zf_is_han(cp)) {
            prev = 0;
            continue;
        }
        if (han)
            cp = han[nhan++];
        unsigned f = zf_script_flags(cp);
        if (f & ZF_SC_TRAD) {
            long v = variant_tw((uint32_t)cp);
            if (v >= 0 && zf_script_variant[v].evid) {
                d->tw_n++;
            } else {
                for (size_t k = 0; k < ZF_SCRIPT_NVARIANT; k++)
                    if (zf_script_variant[k].std == (uint32_t)cp && zf_script_variant[k].evid)
                        d->std_n++;
            }
        }
        if (prev && !((f | pf) & ZF_SC_SIMP) && ((f | pf) & ZF_SC_TRAD) &&
            ((f | pf) & ZF_SC_HCAND) && pairs_add(d, prev, (uint32_t)cp) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        prev = (uint32_t)cp;
        pf = f;
    }
    return ZHFIX_OK;
}

/* Whether the document writes t next to left or right (either side), where
 * that neighbour is Traditional-only: 游 beside 標 shows how the page
 * writes the word, but 製 beside 的 or 字 shows only that 製 is
 * Traditional, which every conversion writes.  Counting those made 定製的
 * turn 二進位制的 into 二進位製的, and the next run, reading that, made
 * 控制字元 控製字元. */
static int attested(const zf_script_doc *d, uint32_t left, uint32_t t, uint32_t right)
{
    return (left && (zf_script_flags((int32_t)left) & ZF_SC_TRAD) && pairs_has(d, left, t))
        || (right && (zf_script_flags((int32_t)right) & ZF_SC_TRAD) && pairs_has(d, t, right));
}

/* Toward Traditional, after the tables and the context choice: the
 * document's own spelling wins (zf_script_doc_scan). */
static void doc_adjust(const int32_t *in, size_t n, int32_t *out, uint8_t *how,
                       const zf_script_doc *s)
{
    int std_variants = s->std_n > s->tw_n;
    for (size_t i = 0; i < n; i++) {
        const struct zf_script_info *inf = info_of(in[i]);
        unsigned nctx, nall;
        const uint32_t *c = cands(inf, ZHFIX_SCRIPT_HANT, &nctx, &nall);
        if (s->npairs && c && nctx > 1 && !(inf->flags & ZF_SC_TRAD)) {
            uint32_t left = i > 0 ? (uint32_t)out[i - 1] : 0;
            uint32_t right = i + 1 < n ? (uint32_t)out[i + 1] : 0;
            /* never back to the character as found when a phrase or a
             * word converted it and it has several Traditional forms: the
             * document attests every pair it has, a naive converter's
             * leftovers (黨員干部) too, and pass_script counts exactly
             * those as leftovers; converted text must not show them, or
             * the next run reads it as converted by a naive converter.
             * A one-to-one character stays as the document writes it
             * (游標, not 遊標). */
            int fixed = out[i] != in[i] && (how[i] == ZF_HOW_PHRASE || how[i] == ZF_HOW_WORD)
                && (info_of(in[i])->flags & ZF_SC_MANY);
            if (!attested(s, left, (uint32_t)out[i], right))
                for (unsigned o = 0; o < nctx; o++)
                    if (c[o] != (uint32_t)out[i] && !(fixed && c[o] == (uint32_t)in[i])
                        && attested(s, left, c[o], right)) {
                        out[i] = (int32_t)c[o];
                        how[i] = ZF_HOW_WORD;
                        break;
                    }
        }
        if (std_variants && out[i] != in[i]) {
            long v = variant_tw((uint32_t)out[i]);
            if (v >= 0)
                out[i] = (int32_t)zf_script_variant[v].std;
        }
    }
}

/*
 * Convert the Han run in[0..n) toward `to` (ZHFIX_SCRIPT_HANS or HANT):
 * out[i] receives the result and how[i] how it was decided (ZF_HOW_*).
 * Returns ZHFIX_OK or ZHFIX_ENOMEM.  Linear in n: phrases and words are at
 * most ZF_MAXKEY long and each position has at most four candidates.
 */
int zf_script_convert(zhfix_script to, const int32_t *in, size_t n, int32_t *out,
                      uint8_t *how, zf_script_scratch *s)
{
    int hans = to == ZHFIX_SCRIPT_HANS;
    const dict *pd = hans ? &tsphr : &stphr;
    const uint32_t *pv = hans ? zf_tsphr_val : zf_stphr_val;
    unsigned pflag = hans ? ZF_SC_TSP : ZF_SC_STP;
    if (scratch_reserve(s, n + 1) != ZHFIX_OK)
        return ZHFIX_ENOMEM;
    /* Phrases are matched on the key: for hant, Traditional characters
     * already in the text are read as their Simplified default, because
     * STPhrases is keyed by Simplified (in 不干擾 the phrase 不干扰 must
     * win over 不干 -> 不幹); the phrase then decides only the Simplified
     * characters, and those already Traditional stay as written.  For
     * hans the same the other way round, for Simplified-only characters:
     * TSPhrases keeps the 於 of 於單, and 於单, which that conversion
     * leaves, must keep it too, or the next run makes it 于单. */
    for (size_t k = 0; k < n; k++) {
        s->key[k] = (uint32_t)in[k];
        unsigned nc, na;
        const uint32_t *c = NULL;
        if (!hans)
            c = cands(info_of(in[k]), ZHFIX_SCRIPT_HANS, &nc, &na);
        else if (info_of(in[k])->flags & ZF_SC_SIMP)
            c = cands(info_of(in[k]), ZHFIX_SCRIPT_HANT, &nc, &na);
        if (c && nc)
            s->key[k] = c[0];
    }
    int ambiguous = 0;
    size_t i = 0;
    while (i < n) {
        const struct zf_script_info *inf = info_of(in[i]);
        unsigned nctx, nall;
        const uint32_t *c = cands(inf, to, &nctx, &nall);
        /* A Traditional-only character already in text being made
         * Traditional stays as written: its candidates only swap variant
         * spellings (爲 -> 為, 啓 -> 啟, 裏 -> 裡), which is no change of
         * script, and the text's own spelling is the one it wants. */
        if (!hans && (inf->flags & ZF_SC_TRAD))
            c = NULL;
        if (info_of((int32_t)s->key[i])->flags & pflag) {
            uint32_t val = 0;
            size_t len = phrase_match(pd, pv, s->key + i, n - i, &val);
            if (len) {
                for (size_t k = 0; k < len; k++) {
                    int32_t kc = (int32_t)s->key[i + k];
                    const uint32_t *ck = cands(info_of(kc), to, &nctx, &nall);
                    unsigned idx = (val >> (2 * k)) & 3;
                    out[i + k] = kc != in[i + k] ? in[i + k]
                                 : ck && idx < nall ? (int32_t)ck[idx] : in[i + k];
                    how[i + k] = ZF_HOW_PHRASE;
                    s->one[i + k] = (uint32_t)out[i + k];
                    s->opt[i + k] = &s->one[i + k];
                    s->nopt[i + k] = 1;
                }
                i += len;
                continue;
            }
        }
        if (!c) {
            out[i] = in[i];
            how[i] = ZF_HOW_SAME;
        } else {
            out[i] = (int32_t)c[0];
            how[i] = ZF_HOW_CHAR;
        }
        s->one[i] = (uint32_t)out[i];
        if (c && nctx > 1) {
            s->opt[i] = c;
            s->nopt[i] = (uint8_t)nctx;
            ambiguous = 1;
        } else {
            s->opt[i] = &s->one[i];
            s->nopt[i] = 1;
        }
        i++;
    }
    if (!ambiguous)
        goto done;
    /* A word through an ambiguous position lies within ZF_MAXKEY of it, so
     * the Viterbi runs only over windows around the ambiguous positions. */
    lattice L = {hans ? &swords : &twords, hans ? zf_swords_val : zf_twords_val,
                 hans ? ZF_SC_SWORD : ZF_SC_TWORD, s, n};
    size_t ws = 0, we = 0;
    int open = 0;
    for (i = 0; i < n; i++) {
        if (s->nopt[i] < 2)
            continue;
        size_t lo = i >= ZF_MAXKEY - 1 ? i - (ZF_MAXKEY - 1) : 0;
        size_t hi = i + ZF_MAXKEY < n ? i + ZF_MAXKEY : n;
        if (open && lo <= we) {
            we = hi;
            continue;
        }
        if (open)
            viterbi(&L, ws, we, out, how);
        ws = lo;
        we = hi;
        open = 1;
    }
    if (open)
        viterbi(&L, ws, we, out, how);
done:
    if (!hans && s->doc && (s->doc->npairs || s->doc->std_n > s->doc->tw_n))
        doc_adjust(in, n, out, how, s->doc);
    return ZHFIX_OK;
}
