/*
 * pass_mojibake.c - repairs garbled characters (mojibake).
 *
 * Three mechanisms, each undone by reversing it on the bytes and kept only
 * when the language model (lm.c) finds the result far more probable than
 * the text as found:
 *
 *  1. GBK decoded one byte out of step (shared/damage-model.md section 4):
 *     every spot starts with a `?` after a character GBK encodes in two
 *     bytes, the bridging character lost.  The realigner (gbk_shift.c)
 *     decides each such `?`.
 *  2. Bytes read with a single-byte code page: UTF-8 read as CP1252 or
 *     Latin-1 (`ä½ å¥½` was 你好, `Ã©` was é), also twice over, and GBK
 *     read the same way (`ÄãºÃ` was 你好).  A run of characters from
 *     U+0080-U+00FF and CP1252's extras, with the ASCII among them (GBK's
 *     trail bytes 0x40-0x7E, English words, a space that may have been a
 *     no-break space 0xA0) up to anything else, goes back to bytes and is
 *     decoded as UTF-8 and as GBK.  One codec is chosen for the whole run;
 *     the stretches it decodes (pieces) are judged one by one, and when it
 *     decodes every non-ASCII character of the run, the run is garbled
 *     through and even a lone `ºÍ` between English words goes back.
 *  3. UTF-8 read as GBK (`鍩轰簬` was 基于): a run of characters whose GBK
 *     bytes can all be UTF-8 bytes, with at least one rare character in
 *     it, goes back to GBK bytes and is decoded as UTF-8.  `锟斤拷` (two
 *     U+FFFD read so) is reported: what it replaced is gone.  A U+FFFD
 *     is a lost lead (Python, iconv) or a lost pair (WHATWG), read each
 *     way where that reads better among its neighbours; the characters
 *     guessed from lost bytes are chosen by the model, the pairs the
 *     document attests elsewhere, the script of the characters that came
 *     through whole, the marks left open, and then the word model; a
 *     guess that no rival comes within GUESS_SURE of is written, any
 *     other is left lost, as U+FFFD.
 *  4. Big5 read as GBK (`╰参琌�@` was 系統是一): a run of characters
 *     whose GBK bytes are Big5 characters, with U+FFFD where GBK lost a
 *     pair or a lead, read as Big5 where a search with the model finds
 *     it far more probable (try_big5).
 *
 * The pass works line by line (no repair crosses a newline) and looks at a
 * line only past a cheap trigger: a `?`, a byte that starts a character of
 * U+0080-U+07FF, a rare Han character, or a U+FFFD.  Repairs are MOJIBAKE edits;
 * damage that cannot be read with confidence is left as found and noted
 * (UNRESOLVED).
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

/* How much more probable (tenths of a bit) a re-decoded island must be
 * than the text as found; and the least number of characters an island
 * must restore when it restores only one non-ASCII character (a lone `Ã©`
 * is enough for é, but a lone pair of accented letters is not enough for
 * a Han character: `Müller` must stay). */
#define CODEC_GAIN 100
#define CODEC_GAIN_ONE 200

/* The most a decoded island may cost per character, in tenths of a bit,
 * when it has Han characters: Chinese text costs 9 to 11 bits a
 * character in the model, random characters of GBK 16 or more. */
#define GOOD_TEXT 130

/* Chinese text is words: of the neighbouring Han characters a piece
 * decodes to, at least one pair in WORDY must be a pair the model knows
 * (a word's inside).  Pairs of accented Latin letters read as GBK give
 * Han characters that are each common enough and never a word (`ÀÉÎÕ`
 * 郎握, `ÂÊÎÔ` 率卧). */
#define WORDY 8
/* ... or its Han pairs must cost no more than PAIR_OK each on average
 * (就像 is no pair the model knows but costs 9 bits; 郎握 costs 15), in
 * UTF-8 read as GBK or in a code-page run that decodes through (乃现
 * from `ÄËÏÖ` costs less, among letters that do not decode). */
#define PAIR_OK 120

/* A Han character the model calls rare (zf_lm_char_cost, tenths of a
 * bit): garbled text is made of them, so a piece whose Han characters are
 * all rare is no evidence on its own (寤礦, a GBK reading, read as UTF-8 is
 * 廵V: one rare character for two). */
#define RARE_HAN 150
/* A run whose characters left as found are more than 1 in ODD_SHARE odd
 * (not text_char) is no text a lone repaired character could be part of. */
#define ODD_SHARE 4
/* A piece read from more than GUESSED_SHARE guessed bytes for each byte
 * found is no evidence: the guesses were chosen to read well (`���`, lost
 * bytes only, reads as 是). */
#define GUESSED_SHARE 2

/* The most U+FFFD standing together that mechanism 3 reads as lost bytes:
 * UTF-8 read as GBK loses a pair or a lone byte at a time, a U+FFFD each,
 * and a character's three bytes give at most two, so three are a
 * character lost whole and a byte or two of a neighbour.  Four are two
 * characters lost whole, a guess no bytes found could hold (the bench's
 * lossy text never had a repair read from four), and a longer stretch is
 * bytes gone past guessing; reading them costs the search dearly (four
 * before `嶈�劕`: 2 ms a line, ten times three; a hundred took
 * seconds). */
#define LOST_MAX 3

/* Longest run examined at once; longer runs are taken in pieces. */
#define MAXRUN 512

/* ---- code pages ------------------------------------------------------ */

/* The byte a single-byte decoder turned into cp: Latin-1 for U+0080-U+00FF
 * (the C1 controls too: decoders map CP1252's five undefined bytes there),
 * CP1252's table for its extras in 0x80-0x9F; -1 for anything else. */
static int cp1252_byte(int32_t cp)
{
    static const uint16_t extra[32] = {
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    };
    if (cp >= 0x80 && cp <= 0xFF)
        return (int)cp;
    if (cp < 0x100)
        return -1;
    for (int i = 0; i < 32; i++)
        if (extra[i] == cp)
            return 0x80 + i;
    return -1;
}

/* ---- scoring --------------------------------------------------------- */

/* Model cost of cps[0..n) between the characters before and after (-1:
 * none). */
static int span_cost(int32_t before, const int32_t *cps, size_t n, int32_t after)
{
    int c = 0;
    int32_t prev = before;
    for (size_t i = 0; i < n; i++) {
        c += zf_lm_step(prev, cps[i]);
        prev = cps[i];
    }
    if (after >= 0)
        c += zf_lm_step(prev, after);
    return c;
}

/* A character a repair may produce: not a control, not private use, not
 * a replacement character. */
static int printable(int32_t c)
{
    return c >= 0x20 && c != 0x7F && !(c >= 0x80 && c < 0xA0)
        && !(c >= 0xE000 && c <= 0xF8FF) && c != 0xFFFD && c < 0x110000;
}

/* ---- the line scanner ------------------------------------------------ */

/* The pairs of neighbouring Han characters a document attests: a set of
 * keys a << 21 | b, open addressing (0: empty). */
typedef struct {
    uint64_t *k;
    size_t cap, n;
    int built;
} pairset;

/* decode_island()'s working memory, kept from one call to the next: a
 * line of U+FFFD in good text calls it for each, and a fresh allocation of
 * up to a megabyte each time was most of the cost under the sanitizers (a
 * fuzzer timeout). */
typedef struct {
    void *sl, *cost, *back, *pick;
    size_t sl_cap, cost_cap, back_cap, pick_cap;
} island_buf;

static void island_buf_free(island_buf *b)
{
    free(b->sl);
    free(b->cost);
    free(b->back);
    free(b->pick);
}

/* At least need bytes at *p (capacity *cap), or NULL. */
static void *island_get(void **p, size_t *cap, size_t need)
{
    if (need > *cap) {
        void *q = realloc(*p, need);
        if (!q)
            return NULL;
        *p = q;
        *cap = need;
    }
    return *p;
}

typedef struct {
    const char *s;
    size_t n;
    zf_rw *rw;
    /* the last run mechanism 4 looked at and left alone: a trigger inside
     * it (each U+FFFD of a line of UTF-8 read as GBK) does not look again */
    size_t b5_lo, b5_hi;
    pairset seen;  /* mechanism 3's, built when first needed */
    island_buf ib; /* decode_island()'s */
    struct verdict *vd[2]; /* judge_run()'s, allocated when first needed */
    int qlost;     /* the piece's `?` are characters lost (qmarks.c); -1:
                      not asked yet */
    int flat;      /* the document has no full-width form (U+FF01-FF5E):
                      if flattened, all of them were */
} scan;

/* A run of source characters: code points and their byte offsets. */
typedef struct {
    int32_t cp[MAXRUN];
    size_t off[MAXRUN + 1];   /* off[i]: start of cp[i]; off[n]: end */
    uint16_t byte[MAXRUN * 2]; /* a byte, or WILD: lost */
    int bsrc[MAXRUN * 2];     /* source character of each byte */
    int nb;
    int n;
    const unsigned char *wild; /* what a lost byte may have been */
    int nwild;
    const pairset *seen;       /* pairs the document attests, or NULL */
    island_buf *ib;            /* scratch for decode_island() */
    int open;                  /* marks left open before it (OPEN_*) */
    int32_t after;             /* the character after it (-1: none) */
} run;

/* Keep x in v[0..n), the max cheapest values in order of their cost:
 * returns the new n. */
static int keep_cheapest(int32_t *v, int *cost, int n, int max, int32_t x, int c)
{
    if (n == max && c >= cost[n - 1])
        return n;
    int at = n < max ? n++ : max - 1;
    while (at > 0 && cost[at - 1] > c) {
        v[at] = v[at - 1];
        cost[at] = cost[at - 1];
        at--;
    }
    v[at] = x;
    cost[at] = c;
    return n;
}

/* An empty run.  Only the fields before the arrays are set: zeroing the
 * arrays (12 KB) on every trigger was the most of what a `(run){...}`
 * initialiser cost, and a run is only ever read up to n and nb. */
static run *run_init(run *r, const unsigned char *wild, int nwild, const pairset *seen,
                     island_buf *ib)
{
    r->n = r->nb = 0;
    r->wild = wild;
    r->nwild = nwild;
    r->seen = seen;
    r->ib = ib;
    r->open = 0;
    r->after = 0;
    return r;
}

/* Quotation marks and brackets open before a point of a line: a guess of
 * lost bytes closes what is open and opens what is not (“ and ” are
 * E2 80 9C and 9D, （ and ） EF BC 88 and 89). */
#define OPEN_QUOTE 1
#define OPEN_PAREN 2
#define BRACKET_PEN 60

/* A mark that ends a clause: two never stand together (`，。` was `）。`,
 * ） EF BC 89 and ， EF BC 8C). */
#define CLAUSE_PEN 80
static int ends_clause(int32_t c)
{
    return c == 0xFF0C || c == 0x3002 || c == 0x3001 || c == 0xFF1B || c == 0xFF1A
        || c == 0xFF1F || c == 0xFF01;
}

/* The marks open after c, with open before it. */
static int open_after(int open, int32_t c)
{
    switch (c) {
    case 0x201C: return open | OPEN_QUOTE;
    case 0x201D: return open & ~OPEN_QUOTE;
    case 0xFF08: return open | OPEN_PAREN;
    case 0xFF09: return open & ~OPEN_PAREN;
    default: return open;
    }
}

/* What guess c costs with open before it. */
static int open_pen(int open, int32_t c)
{
    switch (c) {
    case 0x201C: return open & OPEN_QUOTE ? BRACKET_PEN : 0;
    case 0x201D: return open & OPEN_QUOTE ? 0 : BRACKET_PEN;
    case 0xFF08: return open & OPEN_PAREN ? BRACKET_PEN : 0;
    case 0xFF09: return open & OPEN_PAREN ? 0 : BRACKET_PEN;
    default: return 0;
    }
}

static uint64_t pair_key(int32_t a, int32_t b)
{
    return (uint64_t)(uint32_t)a << 21 | (uint64_t)(uint32_t)b;
}

static size_t pair_slot(const pairset *p, uint64_t key)
{
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (p->cap - 1);
    while (p->k[h] && p->k[h] != key)
        h = (h + 1) & (p->cap - 1);
    return h;
}

static int pair_seen(const pairset *p, int32_t a, int32_t b)
{
    return p && p->n && p->k[pair_slot(p, pair_key(a, b))] != 0;
}

/* Adds the pair a b, up to SEEN_MAX pairs (4 MB); returns -1 when out of
 * memory. */
#define SEEN_MAX (1 << 18)
static int pair_add(pairset *p, int32_t a, int32_t b)
{
    if (p->n >= SEEN_MAX)
        return 0;
    if (2 * (p->n + 1) > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        pairset q = {calloc(cap, sizeof *q.k), cap, 0, 0};
        if (!q.k)
            return -1;
        for (size_t k = 0; k < p->cap; k++)
            if (p->k[k])
                q.k[pair_slot(&q, p->k[k])] = p->k[k];
        q.n = p->n;
        free(p->k);
        p->k = q.k;
        p->cap = cap;
    }
    uint64_t key = pair_key(a, b);
    size_t h = pair_slot(p, key);
    if (!p->k[h]) {
        p->k[h] = key;
        p->n++;
    }
    return 0;
}

/* A byte the wrong decoder replaced by U+FFFD. */
#define WILD 0x100
/* The two bytes of a pair a GBK decoder replaced by one U+FFFD: WHATWG's
 * decoder (browsers) consumes a lead byte and a trail byte >= 0x80 that
 * make no character together; Python's and iconv's take the lead alone
 * (WILD).  In UTF-8 the lead is a continuation byte GBK cannot start a
 * character with here: A1-A7 (rows of symbols, with trails 80-A0) or
 * AA-AF (user-defined rows). */
#define WILD_PAIR1 0x101
#define WILD_PAIR2 0x102
/* A lone byte lost where a stretch decoded apart ended (a garbled clause
 * in good text): the byte after it was never its trail. */
#define WILD_END 0x103
#define IS_WILD(b) ((b) >= WILD && (b) <= WILD_END)

/* An ASCII space after a byte >= 0x80 in a code-page run: a space, or a
 * no-break space 0xA0 that a later step turned into a space (UTF-8's
 * continuation byte A0 read as Latin-1 is U+00A0, which editors and HTML
 * whitespace folding flatten).  Which one depends on the codec: inside a
 * UTF-8 character only 0xA0 fits; GBK text keeps its ASCII spaces, and
 * reading the space as A0 there pairs it with the byte before into a
 * character that was never there (`个 类` came out as 犵被). */
#define SPACE_A0 0x200

/* The value of byte b for a decoder: SPACE_A0 is 0xA0 only where a UTF-8
 * character needs a continuation byte (cont != 0). */
static unsigned byte_val(const run *r, int b, int utf8, int cont)
{
    unsigned c = r->byte[b];
    if (c == SPACE_A0)
        return utf8 && cont ? 0xA0 : 0x20;
    return c;
}

/* What a U+FFFD in a run may have been.  CP1252 has five undefined bytes
 * (Python's decoder and others replace them); a GBK decoder replaces a
 * byte that starts no character, any of 0x80-0xFF. */
static const unsigned char cp1252_undefined[] = {0x81, 0x8D, 0x8F, 0x90, 0x9D};



static int32_t char_before(const scan *sc, size_t at)
{
    if (at == 0)
        return -1;
    size_t p = zf_utf8_prev(sc->s, at);
    int32_t c;
    zf_utf8_next(sc->s + p, at - p, &c);
    return c == '\n' ? -1 : c;
}

static int32_t char_at(const scan *sc, size_t at)
{
    if (at >= sc->n)
        return -1;
    int32_t c;
    zf_utf8_next(sc->s + at, sc->n - at, &c);
    return c == '\n' || c == '\r' ? -1 : c;
}

/*
 * Decode r->byte as UTF-8 (utf8 != 0) or GBK from byte b0, into out[]: the
 * island of characters decoded from bytes of non-ASCII source characters.
 * Returns the number of bytes the island spans (0: none at b0).  An island
 * is a maximal stretch of multi-byte characters, with the ASCII between
 * them when more follow.
 */
/* The code point of one character from bytes v[0..len), -1 if they are
 * not one (UTF-8: well-formed, shortest form; GBK: a two-byte code). */
static int32_t decode_one(const unsigned *v, int len, int utf8)
{
    if (!utf8)
        return len == 2 ? zf_gbk_decode2(v[0], v[1]) ? zf_gbk_decode2(v[0], v[1]) : -1 : -1;
    int32_t cp = (int32_t)(v[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07));
    for (int k = 1; k < len; k++) {
        if ((v[k] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (int32_t)(v[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    return cp;
}

/* The length of the character whose first byte is c, 0 if none. */
static int char_len(unsigned c, int utf8)
{
    if (!utf8)
        return c >= 0x81 && c <= 0xFE ? 2 : 0;
    return c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
}

/* A character a decoded island may hold: mechanism 3's UTF-8 must read as
 * Chinese text (Han, punctuation, kana, Latin), not as the Hebrew or
 * Armenian that good text read the same way gives.  Of Latin Extended-B
 * (U+0180-U+024F) only pinyin's letters, ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ ǹ: the rest are
 * Livonian, African and phonetic letters, and 拳 (C8 AD) read so is ȭ. */
static int plausible(int32_t cp)
{
    if (cp >= 0x180 && cp < 0x250)
        return (cp >= 0x1CD && cp <= 0x1DC) || cp == 0x1F9;
    return cp < 0x250 || zf_is_han(cp) || zf_is_cjk_punct(cp) || zf_is_kana(cp)
        || (cp >= 0x2000 && cp < 0x2070) || (cp >= 0x3000 && cp < 0x3100)
        || (cp >= 0xFF00 && cp < 0xFFF0);
}

/* The values the lost byte at p may have had, and what each costs.
 * After CP1252 (r->wild): its undefined bytes.  After GBK (r->wild NULL):
 * 0x80, which starts no GBK character, or a lead byte that made no
 * character with the byte after it (`鏈�绾` lost AC, as AC E7 is no GBK
 * character); any other value only at a price, for the byte after may
 * belong to good text that follows the garbled run. */
#define WILD_UNLIKELY 60
static int wild_cands(const run *r, int p, unsigned *vals, int *pen)
{
    if (r->wild) {
        for (int k = 0; k < r->nwild; k++) {
            vals[k] = r->wild[k];
            pen[k] = 0;
        }
        return r->nwild;
    }
    int next = p + 1 < r->nb ? r->byte[p + 1] : -1;
    /* the byte after may be good text after the garbled run: then nothing
     * constrains the lost byte (志 is D6 BE, which as UTF-8 is Hebrew) */
    if (r->byte[p] == WILD_PAIR1) {
        int n = 0;
        for (unsigned v = 0xA1; v <= 0xAF; v++) {
            vals[n] = v;
            pen[n++] = 0;
        }
        return n;
    }
    if (r->byte[p] == WILD_PAIR2 || r->byte[p] == WILD_END)
        next = -1;
    if (next >= 0 && !IS_WILD(next)) {
        int len = char_len((unsigned)next, 1);
        unsigned v[4] = {(unsigned)next, 0, 0, 0};
        int32_t cp = -1;
        if (len && p + 1 + len <= r->nb) {
            int k = 1;
            for (; k < len && !IS_WILD(r->byte[p + 1 + k]); k++)
                v[k] = r->byte[p + 1 + k];
            cp = k == len ? decode_one(v, len, 1) : 0;
        }
        /* a continuation byte of a garbled character (a rare one) after
         * it is the rest of the same UTF-8 character, and the constraint
         * holds: `将�诲` lost A6 before BB, and BF BB is a GBK character,
         * so 翻 (E7 BF BB) was not there, 离 (E7 A6 BB) was */
        int32_t nc = r->cp[r->bsrc[p + 1]];
        if (next >= 0x80 && cp < 0
            && !(next <= 0xBF && (zf_lm_char_cost(nc) >= 150 || !zf_is_han(nc))))
            next = -1;
        else if (cp > 0 && !plausible(cp))
            next = -1;
    }
    /* the leads of Chinese characters' three bytes first: a lost byte
     * that starts a character starts one of those (decode_island keeps
     * the length the first reading has) */
    int n = 0;
    for (unsigned k = 0; k <= 0xFE - 0x80; k++) {
        unsigned v = 0xE0 + k <= 0xEF ? 0xE0 + k : k - 0x10 + 0x80 < 0xE0 ? k - 0x10 + 0x80 : k + 0x80;
        vals[n] = v;
        pen[n++] = v == 0x80 || next < 0x40 || IS_WILD(next) || !zf_gbk_decode2(v, (unsigned)next)
                       ? 0 : WILD_UNLIKELY;
    }
    return n;
}

/* The candidates for one character of an island: the MAXALT most
 * probable alone, then the KEEPALT most probable in context. */
#define MAXALT 256
#ifndef KEEPALT
#define KEEPALT 96
#endif
typedef struct {
    int32_t cp[MAXALT];
    int pen[MAXALT];
    uint8_t first[MAXALT], last[MAXALT]; /* its first and last byte */
    int n;
    int end;    /* byte after the character */
    int wild;   /* a byte of it was lost: the candidates are guesses */
} slot;

/* A guess of a character from lost bytes in a Simplified text that is a
 * Traditional form (or the other way round): the model reads 價 as 价,
 * so only the script of the characters around tells it from 像 (E5 83 xx
 * both). */
#define SCRIPT_PEN 40
/* What a reading costs where a pair it says the decoder lost is a GBK
 * character (all but impossible) */
#define PAIR_DEFINED 400
/* What a guess gains where it makes a pair the document attests. */
#ifndef SEEN_BONUS
#define SEEN_BONUS 60
#endif

/* A candidate being collected: the heap orders by cost, then by when it
 * was found. */
typedef struct {
    int32_t cp;
    int pen, cost, seq;
    uint8_t first, last;
} altc;

static int alt_less(const altc *a, const altc *b)
{
    return a->cost < b->cost || (a->cost == b->cost && a->seq < b->seq);
}

/* Max-heap h[0..n) gets a at n. */
static void alt_push(altc *h, int n, altc a)
{
    while (n > 0 && alt_less(&h[(n - 1) / 2], &a)) {
        h[n] = h[(n - 1) / 2];
        n = (n - 1) / 2;
    }
    h[n] = a;
}

/* Max-heap h[0..n): a takes the top's place. */
static void alt_top(altc *h, int n, altc a)
{
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && alt_less(&h[c], &h[c + 1]))
            c++;
        if (!alt_less(&a, &h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = a;
}

/* Max-heap h[0..n) sorted in place, the least first (heapsort: the keys,
 * cost and seq, are never equal). */
static void alt_sort(altc *h, int n)
{
    for (int end = n - 1; end > 0; end--) {
        altc last = h[end];
        h[end] = h[0];
        alt_top(h, end, last);
    }
}

/* The character model's cost of candidate k of slot i between the
 * characters chosen around it, with what else it costs; lx: the model's
 * context after the character before it. */
static int local_cost(const run *r, const slot *sl, int ns, int i, int k, int32_t before,
                      const int32_t *out, const int *pick, const zf_lm_ctx *lx)
{
    int32_t lp = i > 0 ? out[i - 1] : before, rn = i + 1 < ns ? out[i + 1] : -1, c = sl[i].cp[k];
    /* what follows the island, as found, for the marks */
    int32_t fn = rn >= 0 ? rn : sl[i].end < r->nb ? r->cp[r->bsrc[sl[i].end]] : r->after;
    int cost = zf_lm_ctx_step(lx, c) + (rn >= 0 ? zf_lm_step(c, rn) : 0) + sl[i].pen[k]
        + (ends_clause(c) && (ends_clause(lp) || ends_clause(fn)) ? CLAUSE_PEN : 0);
    if ((i > 0 || lp >= 0) && pair_seen(r->seen, lp, c))
        cost -= SEEN_BONUS;
    if (rn >= 0 && pair_seen(r->seen, c, rn))
        cost -= SEEN_BONUS;
    if (i > 0 && r->byte[sl[i - 1].end - 1] == WILD_PAIR1 && r->byte[sl[i - 1].end] == WILD_PAIR2
        && zf_gbk_decode2(sl[i - 1].last[pick[i - 1]], sl[i].first[k]))
        cost += PAIR_DEFINED;
    if (i + 1 < ns && r->byte[sl[i].end - 1] == WILD_PAIR1 && r->byte[sl[i].end] == WILD_PAIR2
        && zf_gbk_decode2(sl[i].last[k], sl[i + 1].first[pick[i + 1]]))
        cost += PAIR_DEFINED;
    return cost;
}

/* The character model sees one character on each side, the word model
 * whole words (该文档 against 该的档; 中的 against 个的, alike to the
 * characters): each guess of the path is weighed again among the RERANK
 * best in its place, by both models over a window of RERANK_WIN
 * characters each side. */
#define RERANK 8
#define RERANK_WIN 3
/* A character guessed from lost bytes (UTF-8 read as GBK) is written
 * only when it reads better than every rival by GUESS_SURE (tenths of a
 * bit), by both models; else U+FFFD takes its place: the character is
 * lost, and a guess no better than a coin toss would pass for text.
 * Measured on the bench's utf8-as-gbk documents: of the guesses within
 * one bit of a rival 61% were wrong, within one to two bits 58%, within
 * two to four bits 31%.  At 2 bits 474 guesses become U+FFFD, 284 of them
 * wrong ones; the CER rises from 1.34% to 1.72% (a U+FFFD for a right
 * guess counts as an error). */
#ifndef GUESS_SURE
#define GUESS_SURE 20
#endif
static void rerank(const run *r, const slot *sl, int ns, int32_t before, int32_t *out, int *pick,
                   uint8_t *unsure)
{
    for (int i = 0; i < ns; i++) {
        if (!sl[i].wild || sl[i].n < 2)
            continue;
        /* the best RERANK by the character model */
        int32_t top[RERANK];
        int tc[RERANK], nt = 0;
        zf_lm_ctx lx;
        zf_lm_ctx_init(&lx, i > 0 ? out[i - 1] : before);
        for (int k = 0; k < sl[i].n; k++) {
            int c = local_cost(r, sl, ns, i, k, before, out, pick, &lx);
            nt = keep_cheapest(top, tc, nt, RERANK, k, c);
        }
        int lo = i >= RERANK_WIN ? i - RERANK_WIN : 0;
        int hi = i + RERANK_WIN + 1 < ns ? i + RERANK_WIN + 1 : ns;
        int32_t w[2 * RERANK_WIN + 2];
        int nw = 0;
        if (lo == 0 && before >= 0)
            w[nw++] = before;
        int at = nw + (i - lo);
        for (int q = lo; q < hi; q++)
            w[nw++] = out[q];
        int best = -1, bc = 0, second = INT_MAX;
        for (int t = 0; t < nt; t++) {
            w[at] = sl[i].cp[top[t]];
            int c = tc[t] + zf_lm_words_cost(w, (size_t)nw);
            if (best < 0 || c < bc) {
                if (best >= 0)
                    second = bc;
                best = top[t];
                bc = c;
            } else if (c < second) {
                second = c;
            }
        }
        if (best >= 0) {
            pick[i] = best;
            out[i] = sl[i].cp[best];
            if (unsure && second != INT_MAX && second - bc < GUESS_SURE)
                unsure[i] = 1;
        }
    }
}

/* The readings of a character of three UTF-8 bytes whose last two were
 * lost (`���` in UTF-8 read as GBK, each U+FFFD a lost byte) are most of
 * the characters of a block, and counting them out took 16 x 127 x 127
 * decodings for each search that met them: good text with `���` beside
 * two rare characters on every line ran at 8 KB/s (a fuzzer timeout).
 * Of those readings the search keeps the MAXALT cheapest; taken from the
 * plausible characters sorted by their cost, it can stop where no
 * reading left is cheaper than the dearest it keeps.  Built once, on
 * first use: all of them in w3_all, the cheapest first, and by lead byte
 * (E0+l: w3_cp[w3_at[l]..w3_at[l+1])); their costs beside. */
#define W3_MAX 0x10000
static int32_t w3_all[W3_MAX], w3_cp[W3_MAX];
static int16_t w3_all_cost[W3_MAX], w3_cost[W3_MAX];
static int w3_at[17];
static pthread_once_t w3_once = PTHREAD_ONCE_INIT;

/* Whether a character of two or three UTF-8 bytes led by byte v may be
 * plausible (and printable): a lead of none is passed over. */
static uint8_t w3_lead[0x100];

/* cps[0..n) into out[], by cost and then by code point: a counting sort
 * (cps[] is in code point order; zf_lm_char_cost() is under 256). */
#define W3_COSTS 1024
static void w3_sort(const int32_t *cps, int n, int32_t *out, int16_t *cost)
{
    int at[W3_COSTS + 1] = {0};
    for (int k = 0; k < n; k++)
        at[zf_lm_char_cost(cps[k]) + 1]++;
    for (int c = 0; c < W3_COSTS; c++)
        at[c + 1] += at[c];
    for (int k = 0; k < n; k++) {
        int c = zf_lm_char_cost(cps[k]);
        out[at[c]] = cps[k];
        cost[at[c]++] = (int16_t)c;
    }
}

static void w3_build(void)
{
    for (unsigned v = 0xC2; v <= 0xDF; v++)
        for (int32_t cp = (int32_t)(v & 0x1F) << 6; cp < (int32_t)((v & 0x1F) + 1) << 6; cp++)
            if (printable(cp) && plausible(cp))
                w3_lead[v] = 1;
    /* in code point order in w3_cp first, then sorted: all, and each
     * lead's in place (through a lead's worth of scratch) */
    int n = 0;
    for (int l = 0; l < 16; l++) {
        w3_at[l] = n;
        for (int32_t cp = l << 12; cp < (l + 1) << 12; cp++)
            if (cp >= 0x800 && printable(cp) && plausible(cp)) /* no surrogate is */
                w3_cp[n++] = cp;
        w3_lead[0xE0 + l] = n > w3_at[l];
    }
    w3_at[16] = n;
    w3_sort(w3_cp, n, w3_all, w3_all_cost);
    for (int l = 0; l < 16; l++) {
        static int32_t lead[1 << 12];
        int m = w3_at[l + 1] - w3_at[l];
        memcpy(lead, w3_cp + w3_at[l], (size_t)m * sizeof *lead);
        w3_sort(lead, m, w3_cp + w3_at[l], w3_cost + w3_at[l]);
    }
}

/* Where the cheapest MAXALT readings go: the heap h[0..*nh), the dearest
 * on top, by cost and then by place in the order the bytes' candidates
 * are counted in (seq), whatever order they come in. */
static void alt_keep(altc *h, int *nh, altc a)
{
    if (*nh < MAXALT)
        alt_push(h, (*nh)++, a);
    else if (alt_less(&a, &h[0]))
        alt_top(h, *nh, a);
}

/* Mechanism 3's readings of the character of three UTF-8 bytes at b whose
 * last two bytes were lost (and maybe the first): cand[k][0..cnt[k]) with
 * penalties cpen[k][..] are what byte k may have been, and only the
 * candidates of the first byte from E0 to EF are taken (a three-byte
 * lead).  Keeps exactly the readings the count in decode_island() keeps,
 * with the same seq; the tables are built (w3_once).  Returns how many it
 * found. */
static int walk3(const run *r, int b, unsigned cand[4][128], int cpen[4][128], const int *cnt,
                 altc *heap, int *nh)
{
    int pos[3][64], pen[3][64], pmin[3] = {INT_MAX, INT_MAX, INT_MAX}, nlead = 0, lead = 0;
    for (int k = 0; k < 3; k++) {
        for (int v = 0; v < 64; v++)
            pos[k][v] = -1;
        unsigned lo = k ? 0x80 : 0xE0, hi = k ? 0xBF : 0xEF;
        for (int i = cnt[k] - 1; i >= 0; i--) /* the first of equal values */
            if (cand[k][i] >= lo && cand[k][i] <= hi) {
                pos[k][cand[k][i] - lo] = i;
                pen[k][cand[k][i] - lo] = cpen[k][i];
                if (cpen[k][i] < pmin[k])
                    pmin[k] = cpen[k][i];
            }
        if (pmin[k] == INT_MAX)
            return 0;
    }
    for (int v = 0; v < 16; v++)
        if (pos[0][v] >= 0) {
            nlead++;
            lead = v;
        }
    /* one lead: its own characters; more: all of them */
    const int32_t *list = nlead == 1 ? w3_cp + w3_at[lead] : w3_all;
    const int16_t *lcost = nlead == 1 ? w3_cost + w3_at[lead] : w3_all_cost;
    int n = nlead == 1 ? w3_at[lead + 1] - w3_at[lead] : w3_at[16];
    int pair0 = r->byte[b] == WILD_PAIR1 && r->byte[b + 1] == WILD_PAIR2;
    int pair1 = r->byte[b + 1] == WILD_PAIR1 && r->byte[b + 2] == WILD_PAIR2;
    int floor = pmin[0] + pmin[1] + pmin[2], found = 0;
    for (int e = 0; e < n; e++) {
        if (*nh == MAXALT && lcost[e] + floor > heap[0].cost)
            break;
        int32_t cp = list[e];
        unsigned v0 = 0xE0 | (unsigned)cp >> 12, v1 = 0x80 | ((unsigned)cp >> 6 & 0x3F),
                 v2 = 0x80 | ((unsigned)cp & 0x3F);
        int i0 = pos[0][v0 - 0xE0], i1 = pos[1][v1 - 0x80], i2 = pos[2][v2 - 0x80];
        if (i0 < 0 || i1 < 0 || i2 < 0 || (pair0 && zf_gbk_decode2(v0, v1))
            || (pair1 && zf_gbk_decode2(v1, v2)))
            continue;
        int p = pen[0][v0 - 0xE0] + pen[1][v1 - 0x80] + pen[2][v2 - 0x80];
        altc a = {cp, p, lcost[e] + p, (i0 * 128 + i2) * 128 + i1, (uint8_t)v0, (uint8_t)v2};
        alt_keep(heap, nh, a);
        found++;
    }
    return found;
}

/* The most characters after one for which the search scores each step
 * alone rather than preparing the model's context once (zf_lm_ctx). */
#define FEW_AFTER 4

/*
 * Decode r->byte from b0 as UTF-8 (utf8 != 0) or GBK into out[] (endb[k]:
 * the byte after character k): the island of characters decoded from
 * bytes of non-ASCII source characters, with the ASCII between them.
 * A byte the wrong decoder lost (WILD) takes each value it may have had;
 * a Viterbi search with the language model picks among the characters
 * that gives.  Returns the number of bytes the island spans (0: none).
 */
static int decode_island(const run *r, int b0, int utf8, int32_t before, int32_t *out,
                         int *endb, uint8_t *unsure, int *nout)
{
    island_buf *ib = r->ib;
    slot *sl = island_get(&ib->sl, &ib->sl_cap, (size_t)(r->nb - b0 + 1) * sizeof *sl);
    if (!sl) {
        *nout = 0;
        return 0;
    }
    /* mechanism 3's tables of plausible characters (walk3, w3_lead) */
    if (utf8 && !r->wild)
        pthread_once(&w3_once, w3_build);
    int ns = 0, b = b0;
    altc heap[MAXALT];
    unsigned cand[4][128];
    int cpen[4][128];
    while (b < r->nb) {
        unsigned c = byte_val(r, b, utf8, 0);
        slot *t = &sl[ns];
        t->n = 0;
        if (c < 0x80) {
            if (b == b0)
                break;
            t->cp[0] = (int32_t)c; /* ASCII inside the island, tentatively */
            t->pen[0] = 0;
            t->first[0] = t->last[0] = (uint8_t)c;
            t->wild = 0;
            t->n = 1;
            t->end = ++b;
            ns++;
            continue;
        }
        /* every reading of the bytes here: the best MAXALT of the length
         * the cheapest reading has */
        int nlead;
        if (IS_WILD(c)) {
            nlead = wild_cands(r, b, cand[0], cpen[0]);
        } else {
            cand[0][0] = c;
            cpen[0][0] = 0;
            nlead = 1;
        }
        int tlen = 0, nh = 0, walked = 0;
        for (int li = 0; li < nlead; li++) {
            int len = char_len(cand[0][li], utf8);
            if (len == 0 || b + len > r->nb || (tlen && len != tlen) || (walked && len == 3))
                continue;
            /* mechanism 3 reads only plausible characters: a lead of none
             * needs no count */
            if (utf8 && !r->wild && len < 4 && !w3_lead[cand[0][li]])
                continue;
            int cnt[4] = {1, 1, 1, 1}, idx[4] = {0, 0, 0, 0};
            long combos = 1;
            for (int k = 1; k < len; k++) {
                if (IS_WILD(r->byte[b + k])) {
                    cnt[k] = wild_cands(r, b + k, cand[k], cpen[k]);
                } else {
                    cand[k][0] = byte_val(r, b + k, utf8, 1);
                    cpen[k][0] = 0;
                }
                combos *= cnt[k];
            }
            if (combos > 16384)
                continue;
            /* two bytes lost: every lead of three bytes at once */
            if (utf8 && !r->wild && len == 3 && cnt[1] > 1 && cnt[2] > 1) {
                cnt[0] = nlead;
                if (walk3(r, b, cand, cpen, cnt, heap, &nh))
                    tlen = len;
                walked = 1;
                continue;
            }
            /* the values each byte after the first can take: in UTF-8
             * only continuation bytes (a lost byte may be any of 127,
             * and a combination with another fails to decode), in the
             * order of the count */
            int use[4][128], nuse[4] = {1, 1, 1, 1}, ii[4] = {0, 0, 0, 0}, none = 0;
            for (int k = 1; k < len; k++) {
                nuse[k] = 0;
                for (int q = 0; q < cnt[k]; q++)
                    if (!utf8 || (cand[k][q] & 0xC0) == 0x80)
                        use[k][nuse[k]++] = q;
                none |= nuse[k] == 0;
                idx[k] = nuse[k] ? use[k][0] : 0;
            }
            if (none)
                continue; /* no reading decodes */
            for (;;) {
                unsigned v[4];
                int pen = cpen[0][li];
                v[0] = cand[0][li];
                for (int k = 1; k < len; k++) {
                    v[k] = cand[k][idx[k]];
                    pen += cpen[k][idx[k]];
                }
                int32_t cp = decode_one(v, len, utf8);
                /* a pair the GBK decoder lost whole made no character */
                for (int k = 0; k + 1 < len && cp >= 0; k++)
                    if (r->byte[b + k] == WILD_PAIR1 && r->byte[b + k + 1] == WILD_PAIR2
                        && zf_gbk_decode2(v[k], v[k + 1]))
                        cp = -1;
                /* U+FFFD read as CP1252 (`ï¿½`) is a character lost
                 * before: it stays one (and a second reading may use it) */
                if (cp >= 0 && (printable(cp) || (cp == 0xFFFD && r->wild == cp1252_undefined))
                    && (r->wild || plausible(cp))) {
                    int cost = zf_lm_char_cost(cp) + pen;
                    tlen = len;
                    /* keep the MAXALT cheapest; seq: the place in the
                     * count, the candidates of the last byte slowest */
                    int seq = li;
                    for (int k = len - 1; k > 0; k--)
                        seq = seq * 128 + idx[k];
                    altc a = {cp, pen, cost, seq, (uint8_t)v[0], (uint8_t)v[len - 1]};
                    alt_keep(heap, &nh, a);
                }
                int k = 1;
                while (k < len && ++ii[k] == nuse[k]) {
                    ii[k] = 0;
                    idx[k] = use[k][0];
                    k++;
                }
                if (k >= len)
                    break;
                idx[k] = use[k][ii[k]];
            }
        }
        /* in order, the cheapest first (the first found among equals) */
        alt_sort(heap, nh);
        for (int k = 0; k < nh; k++) {
            t->cp[k] = heap[k].cp;
            t->pen[k] = heap[k].pen;
            t->first[k] = heap[k].first;
            t->last[k] = heap[k].last;
        }
        t->n = nh;
        if (t->n == 0)
            break;
        t->wild = 0;
        for (int k = 0; k < tlen; k++)
            t->wild |= IS_WILD(r->byte[b + k]);
        b += tlen;
        t->end = b;
        ns++;
    }
    /* trailing ASCII is not part of the island, but for a GBK trail
     * byte: the ASCII half of a source character */
    while (ns > 0 && sl[ns - 1].cp[0] < 0x80 && sl[ns - 1].n == 1) {
        int sb = sl[ns - 1].end - 1;
        if (sb > 0 && r->bsrc[sb - 1] == r->bsrc[sb])
            break;
        ns--;
    }
    if (ns == 0) {
        *nout = 0;
        return 0;
    }
    /* UTF-8 read as GBK: a guess takes the script of the characters
     * that came through whole */
    if (!r->wild) {
        int simp = 0, trad = 0;
        for (int i = 0; i < ns; i++)
            if (!sl[i].wild && sl[i].n == 1) {
                int sc = zf_lm_script(sl[i].cp[0]);
                simp += sc == ZF_LM_SIMP;
                trad += sc == ZF_LM_TRAD;
            }
        int wrong = simp > trad ? ZF_LM_TRAD : trad > simp ? ZF_LM_SIMP : 0;
        for (int i = 0; i < ns && wrong; i++)
            for (int k = 0; k < sl[i].n && sl[i].wild; k++)
                if (zf_lm_script(sl[i].cp[k]) == wrong)
                    sl[i].pen[k] += SCRIPT_PEN;
        /* and closes what is open, opens what is not: the marks that
         * came through and the likeliest guesses before it */
        int open = r->open;
        for (int i = 0; i < ns; i++) {
            slot *t = &sl[i];
            if (!t->wild) {
                if (t->n == 1)
                    open = open_after(open, t->cp[0]);
                continue;
            }
            int best = 0, bc = 0;
            for (int k = 0; k < t->n; k++) {
                t->pen[k] += open_pen(open, t->cp[k]);
                int c = zf_lm_char_cost(t->cp[k]) + t->pen[k];
                if (k == 0 || c < bc) {
                    best = k;
                    bc = c;
                }
            }
            open = open_after(open, t->cp[best]);
        }
    }
    /* a character with many readings keeps the KEEPALT that read best
     * between the likeliest neighbours (the search is quadratic in them) */
    for (int i = 0; i < ns; i++) {
        slot *t = &sl[i];
        if (t->n <= KEEPALT || r->wild)
            continue;
        int32_t lp = i > 0 ? sl[i - 1].cp[0] : before, rn = i + 1 < ns ? sl[i + 1].cp[0] : -1;
        zf_lm_ctx x;
        zf_lm_ctx_init(&x, lp);
        int nh = 0;
        for (int k = 0; k < t->n; k++) {
            int c = zf_lm_ctx_step(&x, t->cp[k]) + t->pen[k] + (rn >= 0 ? zf_lm_step(t->cp[k], rn) : 0);
            if (pair_seen(r->seen, lp, t->cp[k]) || (rn >= 0 && pair_seen(r->seen, t->cp[k], rn)))
                c -= SEEN_BONUS;
            altc a = {t->cp[k], t->pen[k], c, k, t->first[k], t->last[k]};
            if (nh < KEEPALT)
                alt_push(heap, nh++, a);
            else if (c < heap[0].cost)
                alt_top(heap, nh, a);
        }
        /* in their first order */
        uint8_t kept[MAXALT] = {0};
        for (int k = 0; k < nh; k++)
            kept[heap[k].seq] = 1;
        int m = 0;
        for (int k = 0; k < t->n; k++)
            if (kept[k]) {
                t->cp[m] = t->cp[k];
                t->pen[m] = t->pen[k];
                t->first[m] = t->first[k];
                t->last[m] = t->last[k];
                m++;
            }
        t->n = m;
    }
    /* Viterbi over the slots (ns > 0 here; the compiler cannot see it) */
    size_t nsz = ns > 0 ? (size_t)ns : 1;
    int (*cost)[MAXALT] = island_get(&ib->cost, &ib->cost_cap, nsz * sizeof *cost);
    int16_t (*back)[MAXALT] = island_get(&ib->back, &ib->back_cap, nsz * sizeof *back);
    if (!cost || !back) {
        *nout = 0;
        return 0;
    }
    for (int i = 0; i < ns; i++) {
        if (i == 0) {
            for (int k = 0; k < sl[i].n; k++) {
                cost[i][k] = zf_lm_step(before, sl[i].cp[k]) + sl[i].pen[k];
                back[i][k] = -1;
            }
            continue;
        }
        /* a pair the GBK decoder lost whole across two characters made
         * no character either */
        int straddle = r->byte[sl[i - 1].end - 1] == WILD_PAIR1 && r->byte[sl[i - 1].end] == WILD_PAIR2;
        for (int k = 0; k < sl[i].n; k++)
            back[i][k] = -1;
        /* the model's work for each character before, once, pays where
         * many follow it; for a few, a step alone is cheaper (the same
         * cost either way) */
        int few = sl[i].n <= FEW_AFTER;
        for (int j = 0; j < sl[i - 1].n; j++) {
            zf_lm_ctx x;
            if (!few)
                zf_lm_ctx_init(&x, sl[i - 1].cp[j]);
            for (int k = 0; k < sl[i].n; k++) {
                int c2 = cost[i - 1][j]
                    + (few ? zf_lm_step(sl[i - 1].cp[j], sl[i].cp[k]) : zf_lm_ctx_step(&x, sl[i].cp[k]));
                if (straddle && zf_gbk_decode2(sl[i - 1].last[j], sl[i].first[k]))
                    c2 += PAIR_DEFINED;
                if ((sl[i].wild || sl[i - 1].wild) && pair_seen(r->seen, sl[i - 1].cp[j], sl[i].cp[k]))
                    c2 -= SEEN_BONUS;
                if ((sl[i].wild || sl[i - 1].wild) && !r->wild && ends_clause(sl[i - 1].cp[j])
                    && ends_clause(sl[i].cp[k]))
                    c2 += CLAUSE_PEN;
                if (back[i][k] < 0 || c2 < cost[i][k]) {
                    back[i][k] = (int16_t)j;
                    cost[i][k] = c2;
                }
            }
        }
        for (int k = 0; k < sl[i].n; k++)
            cost[i][k] += sl[i].pen[k];
    }
    int k = 0;
    for (int j = 1; j < sl[ns - 1].n; j++)
        if (cost[ns - 1][j] < cost[ns - 1][k])
            k = j;
    /* the path's candidate of each slot */
    int *pick = island_get(&ib->pick, &ib->pick_cap, (size_t)ns * sizeof *pick);
    if (!pick) {
        *nout = 0;
        return 0;
    }
    for (int i = ns - 1; i >= 0; i--) {
        out[i] = sl[i].cp[k];
        endb[i] = sl[i].end;
        pick[i] = k;
        k = back[i][k];
        if (unsure)
            unsure[i] = 0;
    }
    if (!r->wild)
        rerank(r, sl, ns, before, out, pick, unsure);
    int span = sl[ns - 1].end - b0;
    *nout = ns;
    return span;
}

/* Try to repair the run: decode it both ways, island by island, and apply
 * the islands that gain enough.  Returns 0 or an error. */
#define TRY_UTF8 1
#define TRY_GBK 2

/* cps[0..*n) read back through CP1252 and decoded as UTF-8 once more,
 * island by island: each stretch of characters CP1252 encodes that
 * decodes to at least two characters and reads better goes back; what
 * does not decode (a character cut by a byte lost in the first reading)
 * stays as it was, and the islands after it are read on their own, as
 * they would be by another run of the pass.  ib: decode_island()'s
 * scratch (the island being redecoded is already copied out of it).
 * Returns 1 if anything changed. */
static int redecode(int32_t *cps, int *n, island_buf *ib)
{
    if (*n > MAXRUN)
        return 0;
    run rbuf;
    run *r = run_init(&rbuf, cp1252_undefined, 5, NULL, ib);
    int32_t res[MAXRUN * 2];
    int nres = 0, changed = 0, k = 0;
    while (k < *n) {
        /* a stretch [k, e) of characters that were single bytes */
        int e = k, nonascii = 0;
        r->n = r->nb = 0;
        for (; e < *n; e++) {
            int byte = cps[e] < 0x80 ? cps[e] : cps[e] == 0xFFFD ? WILD : cp1252_byte(cps[e]);
            if (byte < 0)
                break;
            nonascii += byte >= 0x80;
            r->cp[r->n] = cps[e];
            r->bsrc[r->nb] = r->n;
            r->byte[r->nb++] = (uint16_t)byte;
            r->n++;
        }
        if (e == k) {
            res[nres++] = cps[k++];
            continue;
        }
        int b = 0;
        while (b < r->nb) {
            int nd = 0, len = 0;
            int32_t dec[MAXRUN * 2];
            int endb[MAXRUN * 2];
            if (nonascii >= 2 && !IS_WILD(r->byte[b]) && r->byte[b] >= 0x80)
                len = decode_island(r, b, 1, nres ? res[nres - 1] : -1, dec, endb, NULL, &nd);
            if (nd >= 2 && span_cost(-1, dec, (size_t)nd, -1) < span_cost(-1, r->cp + b, (size_t)len, -1)) {
                memcpy(res + nres, dec, (size_t)nd * sizeof *dec);
                nres += nd;
                b += len;
                changed = 1;
            } else {
                res[nres++] = r->cp[b++];
            }
        }
        k = e;
    }
    if (!changed || nres > MAXRUN * 2)
        return 0;
    memcpy(cps, res, (size_t)nres * sizeof *res);
    *n = nres;
    return 1;
}

/* A stretch of a run that one codec decodes: its bytes [b, b+len), its
 * characters dbuf[d0..d0+nd) and how much more probable they are. */
typedef struct {
    int b, len;
    int d0, nd;
    int gain;
    int strong;  /* enough evidence on its own */
    int cheap;   /* strong but for the word evidence: its pairs are cheap */
    int weak;    /* better than found: enough beside strong pieces */
    int one;     /* at most one Han character or CJK mark */
    int guess;   /* read in part from guessed bytes */
} piece;

/* What judge_run() found for a run: each codec's pieces (plan()), their
 * characters, which of them are guesses left unsure, and the codec
 * chosen (pick: 1 UTF-8, 0 GBK, -1 none).  About 50 KB: kept in the
 * scan, not on the stack. */
typedef struct verdict {
    piece pc[2][MAXRUN];
    int32_t dbuf[2][MAXRUN * 2];
    uint8_t ubuf[2][MAXRUN * 2];
    int np[2], fails[2];
    long score[2];
    int pick;
} verdict;

/* The scan's verdict k (0 or 1), or NULL when out of memory. */
static verdict *scan_verdict(scan *sc, int k)
{
    if (!sc->vd[k])
        sc->vd[k] = malloc(sizeof *sc->vd[k]);
    return sc->vd[k];
}

/* Whether the character of bytes [sb, e) guessed a lost byte and the
 * byte after it is a UTF-8 continuation byte, which no character can
 * start: the guess took the place of bytes that were there (`ç��Œ`, with
 * one U+FFFD too many, was E7 81 8C, 灌; E7 and two lost bytes read as
 * 睏 leave the 8C over). */
static int wild_before_stray(const run *r, int sb, int e)
{
    if (r->wild != cp1252_undefined || e >= r->nb || IS_WILD(r->byte[e]) || byte_val(r, e, 1, 0) < 0x80
        || byte_val(r, e, 1, 0) > 0xBF)
        return 0;
    for (int k = sb; k < e; k++)
        if (IS_WILD(r->byte[k]))
            return 1;
    return 0;
}

/* Whether a byte of [sb, e) was lost. */
static int wild_in(const run *r, int sb, int e)
{
    for (int k = sb; k < e; k++)
        if (IS_WILD(r->byte[k]))
            return 1;
    return 0;
}

/* CJK and full-width punctuation. */
static int cjk_punct(int32_t c)
{
    return (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF5E);
}

/* An accented Latin letter: U+00C0-U+024F but × and ÷. */
static int accented_latin(int32_t c)
{
    return c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7;
}

/* Whether c reads as text on its own: a common Han character, CJK
 * punctuation or an accented Latin letter. */
static int text_char(int32_t c)
{
    if (zf_is_han(c))
        return zf_lm_char_cost(c) < RARE_HAN;
    return cjk_punct(c) || accented_latin(c);
}

/* An accented Latin letter of out[0..n) with no ASCII and no other Latin
 * letter on either side: Chinese text writes one in a foreign word or a
 * pinyin gloss, `São`, `(é)`, never alone between Han characters, so a
 * UTF-8 reading that gives one is no text (`玫����（`, whose 玫 is C3 B5,
 * õ).  The line's ends (-1) count as ASCII. */
static int lone_latin(const int32_t *out, int n, int32_t before, int32_t after)
{
    for (int q = 0; q < n; q++) {
        if (!accented_latin(out[q]))
            continue;
        int32_t l = q > 0 ? out[q - 1] : before, rt = q + 1 < n ? out[q + 1] : after;
        if (!(l < 0x80 || accented_latin(l)) && !(rt < 0x80 || accented_latin(rt)))
            return 1;
    }
    return 0;
}

/* The pieces codec utf8 makes of the run: every island, cut at the ASCII
 * between its characters (each stretch of non-ASCII characters is judged
 * alone: an island may join good accented Latin to garbled text across a
 * word).  *fails counts the non-ASCII source characters no island covers,
 * *odd those of them that do not read as text (text_char).  Returns the
 * number of pieces. */
static int plan(scan *sc, run *r, int utf8, piece *pc, int32_t *dbuf, uint8_t *ubuf, int *fails,
                int *odd)
{
    int32_t dec[MAXRUN * 2];
    int endb[MAXRUN * 2];
    uint8_t uns[MAXRUN * 2];
    int np = 0, used = 0, b = 0;
    *fails = *odd = 0;
    while (b < r->nb) {
        if (b > 0 && r->bsrc[b - 1] == r->bsrc[b]) {
            b++;
            continue;
        }
        if (!IS_WILD(r->byte[b]) && byte_val(r, b, utf8, 0) < 0x80) {
            b++;
            continue;
        }
        int nd = 0;
        int32_t before = char_before(sc, r->off[r->bsrc[b]]);
        int len = decode_island(r, b, utf8, before, dec, endb, uns, &nd);
        /* an island ends on a source character's last byte (UTF-8 read
         * as GBK: 3 bytes a character against 2, an even number of
         * characters), with no ASCII at its end but an ASCII byte that
         * was a GBK trail byte (`宲am` was 和pam) */
        while (nd > 0) {
            len = endb[nd - 1] - b;
            int sb = nd > 1 ? endb[nd - 2] : b;
            /* (a pair lost whole may end it in the middle: the rest of
             * the pair, a character lost, stays lost) */
            if ((b + len < r->nb && r->bsrc[b + len] == r->bsrc[b + len - 1]
                 && r->byte[b + len] != WILD_PAIR2)
                || (dec[nd - 1] < 0x80 && (sb == 0 || r->bsrc[sb - 1] != r->bsrc[sb]))
                /* UTF-8 read as GBK: Chinese is three bytes a character,
                 * so a two-byte character at the end is good text after
                 * the run read on (权 is C8 A8 in GBK, Ȩ in UTF-8), but
                 * for one guessed from lost bytes (第 and a no-break
                 * space, `绗��1`) */
                || (!r->wild && utf8 && dec[nd - 1] >= 0x80 && dec[nd - 1] < 0x800
                    && !wild_in(r, sb, b + len))
                || (utf8 && wild_before_stray(r, sb, b + len)))
                nd--;
            else
                break;
        }
        if (nd == 0) {
            (*fails)++;
            int s0 = r->bsrc[b];
            *odd += !text_char(r->cp[s0]);
            while (b < r->nb && r->bsrc[b] == s0)
                b++;
            continue;
        }
        len = endb[nd - 1] - b;
        /* cut at ASCII characters that are whole source characters */
        int k = 0;
        while (k < nd) {
            int pb = k == 0 ? b : endb[k - 1];
            int e = k;
            for (; e < nd; e++) {
                int sb = e == 0 ? b : endb[e - 1];
                if (dec[e] < 0x80 && e > k && (sb == 0 || r->bsrc[sb - 1] != r->bsrc[sb])
                    && (endb[e] >= r->nb || r->bsrc[endb[e]] != r->bsrc[sb]))
                    break;
            }
            /* pieces [k, e); skip the ASCII that follows */
            int32_t out[MAXRUN * 2];
            int no = e - k;
            memcpy(out, dec + k, (size_t)no * sizeof *out);
            /* UTF-8 read as CP1252 twice (or three times): what came out
             * may be the same damage again */
            for (int level = 0; level < 3 && utf8 && r->wild; level++)
                if (!redecode(out, &no, &sc->ib))
                    break;
            int first = r->bsrc[pb], last = r->bsrc[endb[e - 1] - 1];
            int32_t pbefore = k == 0 ? before : dec[k - 1];
            int32_t after = e < nd ? dec[e] : char_at(sc, r->off[last + 1]);
            /* the bytes it was read from: found, or guessed for lost ones */
            int known = 0, guessed = 0;
            for (int x = pb; x < endb[e - 1]; x++) {
                if (IS_WILD(r->byte[x]))
                    guessed++;
                else
                    known += byte_val(r, x, utf8, 0) >= 0x80;
            }
            int nonascii = 0, han = 0, rarehan = 0, hpairs = 0, words = 0, hcost = 0, cjk = 0;
            for (int q = 0; q < no; q++) {
                nonascii += out[q] >= 0x80;
                cjk += zf_is_han(out[q]) || cjk_punct(out[q]);
                han += zf_is_han(out[q]);
                rarehan += zf_is_han(out[q]) && zf_lm_char_cost(out[q]) >= RARE_HAN;
                if (q > 0 && zf_is_han(out[q - 1]) && zf_is_han(out[q])) {
                    hpairs++;
                    words += zf_lm_pair_bonus(out[q - 1], out[q]) > 0;
                    hcost += zf_lm_step(out[q - 1], out[q]);
                }
            }
            int lone = utf8 && !r->wild && lone_latin(out, no, pbefore, after);
            /* what the bytes found were read as: a piece that fills lost
             * bytes with nothing but common characters' bytes turns good
             * text into a guess (`间�开` read as 间迪); garbled text is
             * made of rare characters (RARE_HAN) */
            int found_rare = 0;
            for (int x = first; x <= last; x++)
                found_rare += r->cp[x] >= 0x80 && r->cp[x] != 0xFFFD
                              && !(zf_is_han(r->cp[x]) && zf_lm_char_cost(r->cp[x]) < RARE_HAN);
            int into_guess = guessed > 0 && found_rare == 0;
            int oldc = span_cost(pbefore, r->cp + first, (size_t)(last - first + 1), after);
            int newc = span_cost(pbefore, out, (size_t)no, after);
            piece *p = &pc[np++];
            p->b = pb;
            p->len = endb[e - 1] - pb;
            p->d0 = used;
            p->nd = no;
            p->gain = oldc - newc;
            /* better than garbage is not enough: it must read as text
             * (bytes of accented Latin read as GBK give Han characters
             * that are cheaper than the accents and still nonsense) */
            p->strong = nonascii > 0 && !lone && !into_guess && (utf8 || han > 0)
                && !(han > 0 && rarehan == han)
                && known * GUESSED_SHARE >= guessed
                && p->gain >= (nonascii > 1 ? CODEC_GAIN : CODEC_GAIN_ONE)
                && !(han > 0 && newc > GOOD_TEXT * (no + (after >= 0)))
                && (hpairs == 0 || (words > 0 && words * WORDY >= hpairs)
                    || (hcost <= PAIR_OK * hpairs && !r->wild));
            p->weak = nonascii > 0 && p->gain > 0;
            p->one = cjk <= 1;
            p->guess = guessed > 0;
            p->cheap = !p->strong && nonascii > 0 && !lone && !into_guess && (utf8 || han > 0)
                && !(han > 0 && rarehan == han)
                && known * GUESSED_SHARE >= guessed
                && p->gain >= (nonascii > 1 ? CODEC_GAIN : CODEC_GAIN_ONE)
                && !(han > 0 && newc > GOOD_TEXT * (no + (after >= 0)))
                && hcost <= PAIR_OK * hpairs;
            memcpy(dbuf + used, out, (size_t)no * sizeof *out);
            if (ubuf) {
                if (no == e - k)
                    memcpy(ubuf + used, uns + k, (size_t)no);
                else /* redecoded: no guesses of this kind */
                    memset(ubuf + used, 0, (size_t)no);
            }
            used += no;
            k = e;
            while (k < nd && dec[k] < 0x80)
                k++;
        }
        b += len;
    }
    return np;
}

/* The characters around the run on its line, up to CONTEXT non-ASCII ones
 * each side: how many (*n) and how many of them are odd (not
 * text_char).  CJK marks are passed over like ASCII: the punctuation
 * pass writes them for ASCII ones, so counting them would make a second
 * run judge differently from the first. */
#define CONTEXT 8
static void context_odd(const scan *sc, const run *r, int *n, int *odd)
{
    *n = *odd = 0;
    size_t at = r->off[0];
    for (int k = 0; k < CONTEXT && at > 0 && sc->s[at - 1] != '\n';) {
        at = zf_utf8_prev(sc->s, at);
        int32_t c;
        zf_utf8_next(sc->s + at, sc->n - at, &c);
        if (c < 0x80 || cjk_punct(c))
            continue;
        k++;
        (*n)++;
        *odd += !text_char(c);
    }
    at = r->off[r->n];
    for (int k = 0; k < CONTEXT && at < sc->n && sc->s[at] != '\n';) {
        int32_t c;
        at += (size_t)zf_utf8_next(sc->s + at, sc->n - at, &c);
        if (c < 0x80 || cjk_punct(c))
            continue;
        k++;
        (*n)++;
        *odd += !text_char(c);
    }
}

/*
 * Repair the run with one codec: of those allowed, the one that makes
 * the run as a whole most probable, with at least one strong piece.  A
 * run is one text garbled one way, so the codec is chosen once for it,
 * never piece by piece (a piece that fits the other codec better is a
 * coincidence of a few bytes), and all its pieces count: accented Latin
 * read as GBK gives a cheap pair here and there (`ÀÉÎÕ` 郎握) among many
 * dear ones, garbled text gains everywhere.  When that codec decodes
 * every non-ASCII character of the run, the run is garbled through and
 * through, and the weak pieces go back too: a lone `ºÍ` between English
 * words (和), a `¡£` after one (。), too short to be evidence alone.
 * judge_run() chooses, apply_run() applies what it chose.
 */
static void judge_run(scan *sc, run *r, int codecs, verdict *v)
{
    int odd[2] = {0, 0};
    int cn = -1, codd = 0; /* context_odd, when first needed */
    v->pick = -1;
    for (int utf8 = 1; utf8 >= 0; utf8--) {
        v->np[utf8] = v->fails[utf8] = 0;
        v->score[utf8] = 0;
        if (!(codecs & (utf8 ? TRY_UTF8 : TRY_GBK)))
            continue;
        piece *pc = v->pc[utf8];
        int np = v->np[utf8] = plan(sc, r, utf8, pc, v->dbuf[utf8], v->ubuf[utf8], &v->fails[utf8],
                                    &odd[utf8]);
        int fails = v->fails[utf8], strong = 0, many = 0;
        for (int k = 0; k < np; k++) {
            /* cheap pairs are evidence enough where the run decodes
             * through, not among accented letters that do not decode */
            if (pc[k].cheap && fails == 0)
                pc[k].strong = 1;
            many += pc[k].strong && !pc[k].one;
        }
        for (int k = 0; k < np; k++) {
            /* one character is evidence beside longer pieces, or among
             * text; alone among rare characters and symbols, left as
             * found in the run or standing around it on the line (`c鐥汣d`
             * decodes through), two GBK characters that make one Chinese
             * character and an ASCII letter are chance (`閱扟` E9 86 92
             * 4A, 醒J, in a soup of bytes; `由鍜宲am` in good text was
             * 由和pam); in text that does not decode through, one
             * character guessed in part is no more than a U+FFFD filled
             * (`要求自�己` is not 要求自强) */
            if (pc[k].one && many == 0 && cn < 0)
                context_odd(sc, r, &cn, &codd);
            if (pc[k].one && many == 0
                && ((odd[utf8] + codd) * ODD_SHARE > fails + cn || (pc[k].guess && fails > 0)))
                pc[k].strong = 0;
            strong += pc[k].strong;
            v->score[utf8] += pc[k].gain;
        }
        if (strong && v->score[utf8] >= CODEC_GAIN
            && (v->pick < 0 || v->score[utf8] > v->score[v->pick]))
            v->pick = utf8;
    }
}

/* How much the codec judge_run() chose makes the run more probable, -1
 * if none. */
static long verdict_score(const verdict *v)
{
    return v->pick < 0 ? -1 : v->score[v->pick];
}

/* Applies what judge_run() chose for the run.  Returns 0 or an error. */
static int apply_run(scan *sc, const run *r, const verdict *v)
{
    int pick = v->pick;
    if (pick < 0)
        return ZHFIX_OK;
    int through = v->fails[pick] == 0;
    const int32_t *dbuf = v->dbuf[pick];
    const uint8_t *ubuf = v->ubuf[pick];
    for (int k = 0; k < v->np[pick]; k++) {
        const piece *p = &v->pc[pick][k];
        if (!(p->strong || (through && p->weak)))
            continue;
        /* a piece whose every character is a guess left unsure (U+FFFD)
         * restores nothing: it would only trade the found text for
         * U+FFFD (`����：` for `��`) */
        int sure = 0;
        for (int q = 0; q < p->nd && !sure; q++)
            sure = dbuf[p->d0 + q] >= 0x80 && !ubuf[p->d0 + q];
        if (!sure)
            continue;
        char rep[MAXRUN * 8];
        size_t rl = 0;
        for (int q = 0; q < p->nd; q++)
            rl += (size_t)zf_utf8_put(ubuf[p->d0 + q] ? 0xFFFD : dbuf[p->d0 + q], rep + rl);
        int first = r->bsrc[p->b], last = r->bsrc[p->b + p->len - 1];
        zf_rw_replace(sc->rw, r->off[first], r->off[last + 1], rep, rl, ZHFIX_EDIT_MOJIBAKE);
        if (sc->rw->err)
            return sc->rw->err;
    }
    return ZHFIX_OK;
}

/* judge_run() and apply_run(), with the verdict in the scan's first. */
static int repair_run(scan *sc, run *r, int codecs)
{
    verdict *v = scan_verdict(sc, 0);
    if (!v)
        return ZHFIX_ENOMEM;
    judge_run(sc, r, codecs, v);
    return apply_run(sc, r, v);
}

/* Mechanism 2: the run of code-page characters starting at i (a byte that
 * starts U+0080-U+07FF or a CP1252 extra).  Returns where scanning goes
 * on. */
static size_t try_codepage(scan *sc, size_t from, size_t i, size_t le, int *err)
{
    run rbuf;
    run *r = run_init(&rbuf, cp1252_undefined, 5, NULL, &sc->ib);
    /* the run may start before the trigger, with marks the trigger skips
     * (`×¨¼Ò` was 专家: × is D7) */
    for (int back = 0; i > from && back < 8; back++) {
        size_t p = zf_utf8_prev(sc->s, i);
        int32_t c;
        zf_utf8_next(sc->s + p, i - p, &c);
        if (cp1252_byte(c) < 0)
            break;
        i = p;
    }
    size_t j = i;
    int nlat = 0;
    while (j < le && r->n < MAXRUN) {
        int32_t c;
        int l = zf_utf8_next(sc->s + j, le - j, &c);
        int byte = cp1252_byte(c);
        if (c == 0xFFFD && r->n > 0) {
            byte = WILD;
        } else if (byte < 0) {
            if (c < 0x20 || c > 0x7E || c == '?')
                break; /* a `?` is the realigner's (mechanism 1) */
            byte = c;
            /* a space that may have been a no-break space 0xA0 inside a
             * UTF-8 character (`ä½ å¥½`) */
            if (c == ' ' && r->nb > 0 && r->byte[r->nb - 1] >= 0x80 && r->byte[r->nb - 1] != WILD
                && r->byte[r->nb - 1] != SPACE_A0)
                byte = SPACE_A0;
        } else {
            nlat++;
        }
        r->cp[r->n] = c;
        r->off[r->n] = j;
        r->bsrc[r->nb] = r->n;
        r->byte[r->nb++] = (uint16_t)byte;
        r->n++;
        j += (size_t)l;
    }
    /* The run goes on through ASCII to the end of the line (the codec is
     * decided once for all of it, see repair_run).  A run cut at MAXRUN
     * ends at its last ASCII character, so no character is cut in two. */
    if (r->n == MAXRUN && j < le) {
        int k = r->n - 1;
        while (k > MAXRUN / 2 && r->byte[k] >= 0x80)
            k--;
        if (k > MAXRUN / 2) {
            j = r->off[k];
            r->n = k;
            r->nb = k;
        }
    }
    /* drop trailing ASCII: it is context, not part of the run */
    while (r->n > 0 && r->cp[r->n - 1] < 0x80) {
        j = r->off[r->n - 1];
        r->n--;
        r->nb--;
    }
    /* the NBSP guess only holds between run characters */
    r->off[r->n] = j;
    if (nlat >= 2)
        *err = repair_run(sc, r, TRY_UTF8 | TRY_GBK);
    return j;
}

static int open_before(const scan *sc, size_t at);

/* Whether offset o is one of flip[0..nflip). */
static int flipped(const size_t *flip, int nflip, size_t o)
{
    for (int k = 0; k < nflip; k++)
        if (flip[k] == o)
            return 1;
    return 0;
}

/* The run of UTF-8-read-as-GBK characters from a to le (at most): its
 * GBK bytes, a U+FFFD as one lost byte or, with pairs, as a lost pair
 * (WILD_PAIR1): by default when a non-ASCII character follows, the other
 * way for the U+FFFD at the offsets flip[0..nflip).  Returns its end;
 * *rare counts the characters that are evidence of the damage. */
/* How many U+FFFD stand together from `at` on (at most LOST_MAX + 1). */
static int lost_stretch(const scan *sc, size_t at, size_t le)
{
    int k = 0;
    while (k <= LOST_MAX && at + 3 <= le && memcmp(sc->s + at, "\xEF\xBF\xBD", 3) == 0) {
        k++;
        at += 3;
    }
    return k;
}

/* The ASCII parenthesis that c, a full-width twin the punctuation pass
 * writes for it, is read as right after lost bytes (after_lost) or right
 * before them (U+FFFD at next_at), else 0: the run that kept the lost
 * bytes saw the ASCII one (`玫����(hàn)` became `玫����（hàn）`, and
 * `����（` read as lost bytes and 磨, E7 A3 A8; `書*ì)�瀸��` became
 * `書*ì）�瀸��`, and `）�瀸��` read as 枌 and lost bytes).  Only the
 * parentheses: the other marks it writes end clauses, and after a garbled
 * clause (`�，`) the good text's own mark follows as often as a garbled
 * character's bytes do. */
static int32_t lost_twin(const scan *sc, int32_t c, int after_lost, size_t next_at)
{
    int32_t t = c == 0xFF08 ? '(' : c == 0xFF09 ? ')' : 0;
    return t && (after_lost || char_at(sc, next_at) == 0xFFFD) ? t : 0;
}

static size_t gbk_run(scan *sc, size_t a, size_t le, int pairs, const size_t *flip, int nflip,
                      run *r, int *rare)
{
    size_t j = a;
    *rare = 0;
    while (j < le && r->n < MAXRUN) {
        int32_t c;
        int l = zf_utf8_next(sc->s + j, le - j, &c);
        unsigned code;
        int32_t twin;
        if (c >= 0x20 && c < 0x7F && c != '?') {
            code = (unsigned)c;
        } else if (c == 0xFF1F) {
            /* `？` (A3 BF) is the text's own mark: those bytes are the
             * last two of rare characters only in UTF-8 (棿 E6 A3 BF, 磿,
             * 飿), and the punctuation pass writes it for a `?`, which
             * ends a run; ending it here too reads a repaired line as the
             * first run read it (`���瓡?ū`, left alone, was read as
             * 身孕 once its `?` was `？`) */
            break;
        } else if ((twin = lost_twin(sc, c, r->n > 0 && r->cp[r->n - 1] == 0xFFFD,
                                     j + (size_t)l)) != 0) {
            code = (unsigned)twin;
        } else if (c == 0xFFFD) {
            if (lost_stretch(sc, j, le) > LOST_MAX)
                break;
            code = WILD;
            int32_t nx = char_at(sc, j + (size_t)l);
            if ((twin = lost_twin(sc, nx, 1, 0)) != 0)
                nx = twin; /* read so, just below */
            int flip1 = pairs && flipped(flip, nflip, j);
            if (pairs && (nx >= 0x80) != flip1 && r->nb + 2 < MAXRUN * 2) {
                r->bsrc[r->nb] = r->n;
                r->byte[r->nb++] = WILD_PAIR1;
                code = WILD_PAIR2;
            } else if (flip1) {
                code = WILD_END;
            }
        } else if (c == 0x20AC) {
            /* code page 936 reads 0x80 alone as the euro sign, and 0x80
             * is a common UTF-8 continuation byte (一 is E4 B8 80:
             * `涓€` is 一 and the first byte of the next character) */
            code = 0x80;
        } else if (zf_gbk_utf8ish(c)) {
            code = zf_gbk_encode(c);
            /* rare: a rare Han character, or kana, Greek, Cyrillic, a box
             * drawing piece among Han characters (UTF-8 continuation
             * bytes A1-A9 are those rows of GBK: `鎺ュ彈` was 接受) */
            *rare += zf_lm_char_cost(c) >= 150 || (!zf_is_han(c) && !zf_is_cjk_punct(c));
        } else {
            break;
        }
        r->cp[r->n] = c;
        r->off[r->n] = j;
        if (code > 0xFF && !IS_WILD(code)) {
            r->bsrc[r->nb] = r->n;
            r->byte[r->nb++] = (uint16_t)(code >> 8);
            code &= 0xFF;
        }
        r->bsrc[r->nb] = r->n;
        r->byte[r->nb++] = (uint16_t)code;
        r->n++;
        j += (size_t)l;
    }
    while (r->n > 0 && r->cp[r->n - 1] < 0x80) {
        j = r->off[r->n - 1];
        r->n--;
        r->nb--;
    }
    r->off[r->n] = j;
    /* the marks left open matter only to guesses of lost bytes: the scan
     * back over the line is left out of runs that lost none */
    for (int k = 0; k < r->n; k++)
        if (r->cp[k] == 0xFFFD) {
            r->open = open_before(sc, a);
            break;
        }
    r->after = char_at(sc, j);
    return j;
}

/* The pairs of Han characters the document attests, for guesses of lost
 * bytes (a document repeats its words: 套接字 whole in one place tells
 * 套 from 对 where its bytes were lost in another): pairs of common
 * characters as found, and pairs of characters that UTF-8 read as GBK
 * spells whole (three bytes each, none lost, one after the other). */
static int seen_build(scan *sc)
{
    pairset *p = &sc->seen;
    p->built = 1;
    const char *s = sc->s;
    size_t n = sc->n, i = 0;
    int32_t prev = -1;           /* the character before, as found */
    unsigned char buf[8];        /* the GBK bytes of the last characters */
    int nbuf = 0;
    int32_t dprev = -1;          /* the last character decoded from them */
    while (i < n) {
        int32_t c;
        int l = zf_utf8_next(s + i, n - i, &c);
        i += (size_t)l;
        if (zf_is_han(prev) && zf_is_han(c) && zf_lm_char_cost(prev) < 150
            && zf_lm_char_cost(c) < 150 && pair_add(p, prev, c))
            return -1;
        prev = c;
        unsigned code = c == 0x20AC ? 0x80 : zf_gbk_utf8ish(c) ? zf_gbk_encode(c) : 0;
        if (!code) {
            nbuf = 0;
            dprev = -1;
            continue;
        }
        if (code > 0xFF)
            buf[nbuf++] = (unsigned char)(code >> 8);
        buf[nbuf++] = (unsigned char)code;
        /* a three-byte character ending at the last byte, or one byte
         * before it (its last byte is a lead byte of GBK) */
        for (int end = nbuf; end >= 3 && end >= nbuf - 1; end--) {
            unsigned v[3] = {buf[end - 3], buf[end - 2], buf[end - 1]};
            int32_t d = v[0] >= 0xE3 && v[0] <= 0xE9 ? decode_one(v, 3, 1) : -1;
            if (d < 0)
                continue;
            if (zf_is_han(dprev) && zf_is_han(d) && pair_add(p, dprev, d))
                return -1;
            dprev = d;
            memmove(buf, buf + end, (size_t)(nbuf - end));
            nbuf -= end;
            break;
        }
        if (nbuf > 4) {
            /* no character: what came before is no neighbour */
            memmove(buf, buf + nbuf - 2, 2);
            nbuf = 2;
            dprev = -1;
        }
    }
    return 0;
}

/* The marks open at offset at of its line, as found (within the last
 * OPEN_SCAN bytes: a line may be megabytes long). */
#define OPEN_SCAN 2048
static int open_before(const scan *sc, size_t at)
{
    size_t ls = at;
    while (ls > 0 && sc->s[ls - 1] != '\n' && at - ls < OPEN_SCAN)
        ls--;
    while (ls < at && ((unsigned char)sc->s[ls] & 0xC0) == 0x80)
        ls++;
    int open = 0;
    while (ls < at) {
        int32_t c;
        ls += (size_t)zf_utf8_next(sc->s + ls, at - ls, &c);
        open = open_after(open, c);
    }
    return open;
}

/* How much a run reads better decoded as UTF-8, all its pieces counted. */
static long run_gain(scan *sc, run *r)
{
    piece pc[MAXRUN];
    int32_t dbuf[MAXRUN * 2];
    int fails, odd;
    int np = plan(sc, r, 1, pc, dbuf, NULL, &fails, &odd);
    long g = 0;
    for (int k = 0; k < np; k++)
        g += pc[k].gain;
    return g;
}

/* The characters around a U+FFFD that decide how it is read. */
#define FLIP_BEFORE 4
#define FLIP_AFTER 6
/* What reading a U+FFFD the other way costs: a lone byte lost before a
 * non-ASCII character is the end of a stretch decoded apart only where
 * that reads better by more than the constraint it lifts (the byte after
 * no longer says which values it could not have had) */
#define FLIP_END WILD_UNLIKELY

/* Mechanism 3: a rare character at i whose GBK bytes could be UTF-8's.
 * Takes the run of such characters around it (from `from` on, ASCII
 * allowed between them) back to GBK bytes and decodes them as UTF-8. */
static size_t try_utf8_as_gbk(scan *sc, size_t from, size_t i, size_t le, int *err)
{
    /* start of the run: back over characters that could belong to it */
    size_t a = i;
    int as_written = 0; /* the character before a is text as written */
    for (int back = 0, lost = 0; a > from && back < MAXRUN / 4; back++) {
        size_t p = zf_utf8_prev(sc->s, a);
        int32_t c;
        zf_utf8_next(sc->s + p, a - p, &c);
        /* a parenthesis the punctuation pass wrote just before lost
         * bytes ends the run as the ASCII one did */
        int32_t twin = lost_twin(sc, c, 0, a);
        if (twin)
            c = twin;
        lost = c == 0xFFFD ? lost + 1 : 0;
        if (lost > LOST_MAX) {
            /* the run starts after a stretch too long to read */
            a += 3 * (size_t)LOST_MAX;
            break;
        }
        if ((!zf_gbk_utf8ish(c) && c != 0xFFFD && c != 0x20AC) || c == 0xFF1F) {
            /* a letter or a space, or a character no such run holds; not
             * a digit or a mark, which may be a garbled full-width form
             * flattened (`，` A3 AC), nor a `?` a decoder wrote; a `？`
             * ends it as it ends gbk_run() */
            as_written = c >= 0x80 || c == ' ' || c == '\t'
                || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
            break;
        }
        a = p;
    }
    if (a == 0 || sc->s[a - 1] == '\n' || sc->s[a - 1] == '\r')
        as_written = 1;
    /* After text as written, UTF-8 goes on with a character's first byte,
     * never with a continuation byte (80-BF): a character whose GBK code
     * starts with one is text as written too, and so is the one after it
     * (the é of a gloss `(yé）`, A8 A6, once the punctuation pass wrote
     * `）` A3 A9 for the `)`, had made the start of a run of a second
     * run, and counted as a sign of damage). */
    while (as_written && a < le) {
        int32_t c;
        int l = zf_utf8_next(sc->s + a, le - a, &c);
        unsigned lead = c == 0x20AC ? 0x80 : zf_gbk_utf8ish(c) ? zf_gbk_encode(c) >> 8 : 0;
        if (lead < 0x80 || lead > 0xBF)
            break;
        a += (size_t)l;
    }
    run rbuf;
    run *r = run_init(&rbuf, NULL, 128, NULL, &sc->ib);
    int rare = 0;
    size_t j = gbk_run(sc, a, le, 0, NULL, 0, r, &rare);
    /* `锟斤拷`: U+FFFD U+FFFD read as GBK; the original is gone.  Noted
     * only among other garbled characters (or doubled): a text may well
     * talk about “锟斤拷” */
    for (int k = 0; k + 2 < r->n; k++)
        if (r->cp[k] == 0x951F && r->cp[k + 1] == 0x65A4 && r->cp[k + 2] == 0x62F7) {
            int doubled = k + 5 < r->n && r->cp[k + 3] == 0x951F;
            if (!doubled && rare - 3 < 2)
                break;
            zf_rw_note(sc->rw, r->off[k], r->off[k + 3]);
            *err = sc->rw->err;
            return r->off[k + 3];
        }
    if (rare < 2)
        return j;
    /* which decoder lost the bytes: read U+FFFD both ways, and keep the
     * reading that repairs more.  WHATWG's decoder loses a pair where
     * the trail byte is not ASCII, a lone lead where it is; but a lone
     * lead also ends a stretch decoded apart (a garbled clause in good
     * text), and the pair's trail may be followed by ASCII: each U+FFFD
     * is read the other way where that reads better among its
     * neighbours */
    int has_wild = 0;
    for (int k = 0; k < r->n && !has_wild; k++)
        has_wild = r->cp[k] == 0xFFFD;
    /* the pairs the document attests help only guesses of lost bytes;
     * they are gathered over the whole piece, once, when first needed */
    if (has_wild) {
        if (!sc->seen.built && seen_build(sc)) {
            *err = ZHFIX_ENOMEM;
            return j;
        }
        r->seen = &sc->seen;
    }
    if (has_wild) {
        size_t flip[MAXRUN];
        int nflip = 0;
        run *w = malloc(sizeof *w);
        if (!w) {
            *err = ZHFIX_ENOMEM;
            return j;
        }
        for (int k = 0; k < r->n; k++) {
            if (r->cp[k] != 0xFFFD)
                continue;
            int lo = k >= FLIP_BEFORE ? k - FLIP_BEFORE : 0;
            int hi = k + FLIP_AFTER < r->n ? k + FLIP_AFTER : r->n;
            int wr = 0;
            run_init(w, NULL, 128, &sc->seen, &sc->ib);
            gbk_run(sc, r->off[lo], r->off[hi], 1, flip, nflip, w, &wr);
            long g0 = run_gain(sc, w);
            flip[nflip] = r->off[k];
            run_init(w, NULL, 128, &sc->seen, &sc->ib);
            gbk_run(sc, r->off[lo], r->off[hi], 1, flip, nflip + 1, w, &wr);
            if (run_gain(sc, w) - FLIP_END > g0)
                nflip++;
        }
        free(w);
        run r2buf;
        run *r2 = run_init(&r2buf, NULL, 128, &sc->seen, &sc->ib);
        int rare2 = 0;
        size_t j2 = gbk_run(sc, a, le, 1, flip, nflip, r2, &rare2);
        verdict *v1 = scan_verdict(sc, 0), *v2 = scan_verdict(sc, 1);
        if (!v1 || !v2) {
            *err = ZHFIX_ENOMEM;
            return j;
        }
        judge_run(sc, r, TRY_UTF8, v1);
        judge_run(sc, r2, TRY_UTF8, v2);
        if (verdict_score(v2) - (long)nflip * FLIP_END > verdict_score(v1)) {
            *err = apply_run(sc, r2, v2);
            return j2;
        }
        *err = apply_run(sc, r, v1);
        return j;
    }
    *err = repair_run(sc, r, TRY_UTF8);
    return j;
}

/* ---- mechanism 4: Big5 read as GBK ----------------------------------- */

/* Big5 and GBK are both two-byte codes with a lead byte >= 0x81, so Big5
 * text read as GBK pairs its bytes as Big5 does: each character found is
 * one Big5 character, but where the GBK decoder met a pair it does not
 * define.  WHATWG's decoder (browsers) then gives U+FFFD and, when the
 * second byte is ASCII, reads that byte again on its own: Big5's rows
 * A1-A7 with a trail 40-7E (，。一 and most common characters: 一 A440
 * comes out as `�@`) lose their lead; a pair with a trail >= A1 that GBK
 * leaves undefined (user-defined rows AA-AF and F8-F9, gaps in the symbol
 * rows) is lost whole as a lone U+FFFD.  The characters found are mostly
 * GB2312 symbols, kana, and rare or common Han characters that never make
 * sense together (╰参琌 was 系統是). */
#include "big5.h"

/* The least number of characters a run must keep whole (found with both
 * their bytes) to be read as Big5. */
#define BIG5_KEPT_MIN 3

static int32_t big5_decode2(unsigned lead, unsigned trail)
{
    if (lead < 0xA1 || lead > 0xF9)
        return 0;
    int t = trail >= 0x40 && trail <= 0x7E ? (int)trail - 0x40
          : trail >= 0xA1 && trail <= 0xFE ? (int)trail - 0x62 : -1;
    return t < 0 ? 0 : zf_big5_dec[(lead - 0xA1) * 157 + (unsigned)t];
}

/* The Big5 character that cp's GBK bytes are, 0 if none. */
static int32_t big5_of(int32_t cp)
{
    unsigned code = zf_gbk_encode(cp);
    return code > 0xFF ? big5_decode2(code >> 8, code & 0xFF) : 0;
}

/* How far a Big5 reading must be more probable per segment than the text
 * as found (tenths of a bit), and what entering a Big5 reading costs in
 * the search (so that no stretch of good text is read as Big5 for a
 * coincidence of a bit or two). */
#define BIG5_SWITCH 150
/* A lost character is chosen only when the next best candidate is this
 * much less probable in its context; otherwise it stays as found and is
 * reported. */
#define BIG5_SURE 5
/* Candidates kept for a lost character (after a first cut by its left
 * context and the pair it makes with the right one). */
#define BIG5_ALT 24

/* A node of the search: a character of the reading, over source
 * characters [start, end); mode 0 is the text as found, 1 the Big5
 * reading. */
typedef struct {
    int32_t cp;
    int start, end;
    int mode;
    int lost;   /* 1: a lost character's candidate */
    int pen;    /* what its form costs besides the model (big5_edge) */
    int cost;   /* best path cost to here */
    int back;   /* its previous node, -1: the run's start */
} bnode;

typedef struct {
    bnode *v;
    int n, cap;
} bnodes;

static int bpush(bnodes *b, int32_t cp, int start, int end, int mode, int lost)
{
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 256;
        bnode *v = realloc(b->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = (bnode){cp, start, end, mode, lost, 0, 0, -1};
    return 0;
}

/* A character of a Big5-read-as-GBK run: a GBK character whose bytes are
 * a Big5 character, a U+FFFD, or ASCII (words, and the trail bytes that
 * survived a lost lead).  A `?` is the realigner's. */
static int big5_member(int32_t c)
{
    return (c >= 0x20 && c < 0x7F && c != '?') || c == 0xFFFD || (c >= 0x80 && big5_of(c));
}

int zf_gbk_big5ish(int32_t cp)
{
    return cp != 0xFFFD && big5_member(cp);
}

/* The candidates for a lost character, with trail byte `trail` (an ASCII
 * byte read again) or a whole pair (trail < 0): the Big5 characters whose
 * bytes GBK does not define.  Cut to the BIG5_ALT most probable after
 * `prev` and before `next` (-1: unknown). */
static int big5_lost(int trail, int32_t prev, int32_t next, int32_t *out)
{
    int32_t c[BIG5_ALT];
    int cost[BIG5_ALT], n = 0;
    zf_lm_ctx x;
    zf_lm_ctx_init(&x, prev);
    for (unsigned lead = 0xA1; lead <= 0xF9; lead++) {
        unsigned t0 = trail >= 0 ? (unsigned)trail : 0xA1, t1 = trail >= 0 ? (unsigned)trail : 0xFE;
        for (unsigned t = t0; t <= t1; t++) {
            int32_t cp = big5_decode2(lead, t);
            if (!cp || zf_gbk_decode2(lead, t) || !printable(cp))
                continue;
            int k = zf_lm_ctx_step(&x, cp);
            if (next >= 0)
                k -= zf_lm_pair_bonus(cp, next);
            n = keep_cheapest(c, cost, n, BIG5_ALT, cp, k);
        }
    }
    memcpy(out, c, (size_t)n * sizeof *c);
    return n;
}

/* Punctuation a lost character may have been has a place in a line that
 * the character model does not see: a mark that ends a clause (，。、；：？！)
 * or a closing bracket never starts a line, never follows a space, an
 * opening bracket or such a mark (，， or （，); an opening bracket never
 * ends a line.  Big5 puts ，(A141) beside 你(A741), （(A15D) beside
 * 包(A55D): the lead lost, only these rules tell them apart where the
 * model cannot.  Returns the penalty for `cur` after `prev` (-1: the line's
 * start; cur -1: its end). */
#define BIG5_PUNCT 80
static int punct_kind(int32_t c)
{
    switch (c) {
    case 0xFF0C: case 0x3002: case 0x3001: case 0xFF1B: case 0xFF1A: case 0xFF1F:
    case 0xFF01: case 0xFE50: case 0xFE51: case 0xFE52: case 0xFE54: case 0xFE55:
        return 1; /* ends a clause */
    case 0xFF09: case 0x3011: case 0x300B: case 0x300D: case 0x300F: case 0x3015:
    case 0xFE5A: case 0xFE5C: case 0xFE5E:
        return 2; /* closes */
    case 0xFF08: case 0x3010: case 0x300A: case 0x300C: case 0x300E: case 0x3014:
    case 0xFE59: case 0xFE5B: case 0xFE5D:
        return 3; /* opens */
    default:
        return 0;
    }
}

static int big5_edge(int32_t prev, int32_t cur)
{
    int kp = prev < 0 ? -1 : punct_kind(prev), kc = cur < 0 ? -1 : punct_kind(cur);
    if ((kc == 1 || kc == 2) && (prev < 0 || prev == ' ' || kp == 1 || kp == 3))
        return BIG5_PUNCT;
    if (kp == 3 && (cur < 0 || cur == ' '))
        return BIG5_PUNCT;
    return 0;
}

/* Whether Big5 character cp, read as GBK, is in s[a, e): as the GBK
 * character its bytes are, or as a U+FFFD and its trail byte; or as
 * itself (text that is not all garbled). */
static int big5_in(const char *s, size_t a, size_t e, int32_t cp)
{
    char want[8], found[8];
    size_t wl = (size_t)zf_utf8_put(cp, want), fl = 0;
    for (unsigned lead = 0xA1; lead <= 0xA3 && !fl; lead++)
        for (unsigned t = 0x40; t <= 0xFE && !fl; t++)
            if (big5_decode2(lead, t) == cp) {
                int32_t g = zf_gbk_decode2(lead, t);
                fl = (size_t)zf_utf8_put(g ? g : 0xFFFD, found);
                if (!g && t < 0x80)
                    found[fl++] = (char)t;
            }
    for (size_t k = a; k + wl <= e; k++)
        if (!memcmp(s + k, want, wl) || (fl && k + fl <= e && !memcmp(s + k, found, fl)))
            return 1;
    return 0;
}

/* Replace source characters [a, b) of the run by the path's nodes pv[..]
 * that cover them, leaving lost characters that are not sure as found
 * (reported).  Returns the sticky error. */
static int big5_apply(scan *sc, const run *r, const bnode *const *pv, int np, const int *sure)
{
    char rep[MAXRUN * 8];
    size_t rl = 0;
    int from = pv[0]->start;
    for (int k = 0; k < np; k++) {
        const bnode *d = pv[k];
        if (d->lost && !sure[k]) {
            if (d->start > from) {
                zf_rw_replace(sc->rw, r->off[from], r->off[d->start], rep, rl,
                              ZHFIX_EDIT_MOJIBAKE);
                rl = 0;
            }
            zf_rw_note(sc->rw, r->off[d->start], r->off[d->end]);
            from = d->end;
            continue;
        }
        rl += (size_t)zf_utf8_put(d->cp, rep + rl);
    }
    int end = pv[np - 1]->end;
    if (end > from)
        zf_rw_replace(sc->rw, r->off[from], r->off[end], rep, rl, ZHFIX_EDIT_MOJIBAKE);
    return sc->rw->err;
}

/* A bracket a lost character may have been must have its partner in the
 * line (after an opening one, before a closing one); sets the penalty of
 * the node just pushed.  Returns 0. */
static int big5_pair_pen(const scan *sc, const run *r, size_t le, bnodes *nb)
{
    static const int32_t pairs[][2] = {
        {0xFF08, 0xFF09}, {0x3010, 0x3011}, {0x300A, 0x300B}, {0x300C, 0x300D},
        {0x300E, 0x300F}, {0x3014, 0x3015}, {0xFE59, 0xFE5A}, {0xFE5B, 0xFE5C},
        {0xFE5D, 0xFE5E},
    };
    bnode *v = &nb->v[nb->n - 1];
    int kind = punct_kind(v->cp);
    if (kind < 2)
        return 0;
    size_t ls = r->off[0];
    while (ls > 0 && sc->s[ls - 1] != '\n')
        ls--;
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        if (pairs[k][kind == 3 ? 0 : 1] != v->cp)
            continue;
        int found = kind == 3 ? big5_in(sc->s, r->off[v->end], le, pairs[k][1])
                              : big5_in(sc->s, ls, r->off[v->start], pairs[k][0]);
        if (!found)
            v->pen = BIG5_PUNCT;
    }
    return 0;
}

/* What node v costs between lp and rn (-1: the line's edge). */
static int big5_local(int32_t lp, const bnode *v, int32_t rn)
{
    return zf_lm_step(lp, v->cp) + (rn >= 0 ? zf_lm_step(v->cp, rn) : 0) + v->pen
        + big5_edge(lp, v->cp) + big5_edge(v->cp, rn);
}

/* The word model's say in choosing a lost character: the characters of
 * the reading within BIG5_WIN of path[q] (the run's neighbours at its
 * ends), with v in its place, scored as words.  The character model sees
 * one neighbour on each side and is too fond of the commonest characters
 * (的 reads well after almost anything); words see further (軟體包,
 * 下面的).  Weighted by BIG5_WORDS (in halves: 3 is one and a half). */
#define BIG5_WIN 2
#define BIG5_WORDS 3
static int big5_words(const bnode *const *path, int np, int q, const bnode *v,
                      int32_t before, int32_t after)
{
    int32_t w[2 * BIG5_WIN + 1];
    int n = 0;
    if (q - BIG5_WIN < 0 && before >= 0)
        w[n++] = before;
    for (int k = q - BIG5_WIN < 0 ? 0 : q - BIG5_WIN; k < q; k++)
        w[n++] = path[k]->cp;
    w[n++] = v->cp;
    for (int k = q + 1; k <= q + BIG5_WIN && k < np; k++)
        w[n++] = path[k]->cp;
    if (q + BIG5_WIN >= np && after >= 0 && n < 2 * BIG5_WIN + 1)
        w[n++] = after;
    return zf_lm_words_cost(w, (size_t)n) * BIG5_WORDS / 2;
}

/* Choose each lost character of path[k..z) again among its rivals (the
 * candidates for the same bytes) by the character model around it and the
 * word model over the reading as now chosen, left to right, twice (the
 * second time each sees its right neighbours chosen so too); a character
 * is sure when no rival comes within BIG5_SURE.  path[] may be changed
 * (a node for a rival of the same bytes). */
static void big5_choose(const bnodes *nb, const int *first, const bnode **path, int np,
                        int k, int z, int32_t before, int32_t after, int *sure)
{
    for (int round = 0; round < 2; round++) {
        for (int q = k; q < z; q++) {
            const bnode *d = path[q];
            sure[q - k] = 1;
            if (!d->lost)
                continue;
            int32_t lp = q > 0 ? path[q - 1]->cp : before;
            int32_t rn = q + 1 < np ? path[q + 1]->cp : after;
            const bnode *best = d;
            int bc = INT_MAX, second = INT_MAX;
            for (int o = first[d->start]; o < first[d->start + 1]; o++) {
                const bnode *v = &nb->v[o];
                if (!v->lost || v->end != d->end)
                    continue;
                int c = big5_local(lp, v, rn) + big5_words(path, np, q, v, before, after);
                if (c < bc) {
                    second = bc;
                    bc = c;
                    best = v;
                } else if (c < second) {
                    second = c;
                }
            }
            path[q] = best;
            sure[q - k] = second == INT_MAX || second - bc >= BIG5_SURE;
        }
    }
}

/*
 * Mechanism 4: the run of Big5-read-as-GBK characters around i (from
 * `from` on).  A search over two readings of each character, as found
 * (mode 0) and as Big5 (mode 1, a lost character taking each candidate
 * its surviving bytes allow), finds the stretches that read far better as
 * Big5; each must also read as text on its own and gain enough without
 * counting the U+FFFD it resolves (a lone U+FFFD in good text is not
 * Big5).  Returns the end of the run when it repaired something, 0
 * otherwise.
 */
static size_t try_big5(scan *sc, size_t from, size_t i, size_t le, int *err)
{
    if (i >= sc->b5_lo && i < sc->b5_hi)
        return 0;
    size_t a = i;
    for (int back = 0; a > from && back < MAXRUN / 4; back++) {
        size_t p = zf_utf8_prev(sc->s, a);
        int32_t c;
        zf_utf8_next(sc->s + p, a - p, &c);
        if (!big5_member(c))
            break;
        a = p;
    }
    run *r = malloc(sizeof *r);
    if (!r) {
        *err = ZHFIX_ENOMEM;
        return 0;
    }
    r->n = 0;
    /* the run, and a cheap test first: the characters that read as Big5
     * must be more probable so, by themselves (Simplified text read as
     * Big5 is rare characters; Big5 read as GBK is rare characters and
     * symbols that become common ones) */
    size_t j = a;
    int gain1 = 0, lost = 0, kept = 0;
    while (j < le && r->n < MAXRUN) {
        int32_t c;
        int l = zf_utf8_next(sc->s + j, le - j, &c);
        /* big5_member(c), with the Big5 reading looked up once */
        int32_t m = c >= 0x80 && c != 0xFFFD ? big5_of(c) : 0;
        if (c >= 0x80 && c != 0xFFFD && !m)
            break;
        if (c < 0x80 && !big5_member(c))
            break;
        if (c == 0xFFFD)
            lost++;
        else if (c >= 0x80)
            gain1 += zf_lm_char_cost(c) - zf_lm_char_cost(m), kept++;
        r->cp[r->n] = c;
        r->off[r->n++] = j;
        j += (size_t)l;
    }
    /* trailing ASCII is context, but for a trail byte read again after
     * a lost lead (`�C` was 。, A143) */
    while (r->n > 0 && r->cp[r->n - 1] < 0x80
           && !(r->n >= 2 && r->cp[r->n - 2] == 0xFFFD && r->cp[r->n - 1] >= 0x40))
        j = r->off[--r->n];
    r->off[r->n] = j;
    size_t ret = 0;
    bnodes nb = {NULL, 0, 0};
    int *first = NULL;
    /* two characters that read better as Big5 are a coincidence, not
     * evidence, least of all for the lost ones beside them (`��礱Τ` is
     * not 的王琦有) */
    if (r->n == 0 || kept < BIG5_KEPT_MIN || gain1 < CODEC_GAIN
        || (lost == 0 && gain1 < 2 * CODEC_GAIN))
        goto out;
    /* the nodes, grouped by start */
    first = malloc((size_t)(r->n + 2) * sizeof *first);
    if (!first) {
        *err = ZHFIX_ENOMEM;
        goto out;
    }
    int32_t before = char_before(sc, r->off[0]), after = char_at(sc, j);
    for (int p = 0; p < r->n; p++) {
        int32_t c = r->cp[p];
        first[p] = nb.n;
        if (bpush(&nb, c, p, p + 1, 0, 0))
            goto nomem;
        if (c < 0x80) {
            if (bpush(&nb, c, p, p + 1, 1, 0))
                goto nomem;
        } else if (c != 0xFFFD) {
            int32_t m = big5_of(c);
            if (printable(m) && bpush(&nb, m, p, p + 1, 1, 0))
                goto nomem;
        } else {
            int32_t prev = p > 0 ? r->cp[p - 1] < 0x80 ? r->cp[p - 1] : big5_of(r->cp[p - 1]) : before;
            int32_t cand[BIG5_ALT];
            int32_t nx = p + 1 < r->n ? r->cp[p + 1] : after;
            /* the lead lost, its ASCII trail read again */
            if (nx >= 0x40 && nx <= 0x7E && p + 1 < r->n) {
                int32_t nx2 = p + 2 < r->n ? r->cp[p + 2] : after;
                int m = big5_lost((int)nx, prev, nx2 >= 0x80 ? big5_of(nx2) : nx2, cand);
                for (int k = 0; k < m; k++)
                    if (bpush(&nb, cand[k], p, p + 2, 1, 1) || big5_pair_pen(sc, r, le, &nb))
                        goto nomem;
            }
            /* the whole pair lost */
            int m = big5_lost(-1, prev, nx >= 0x80 ? big5_of(nx) : nx, cand);
            for (int k = 0; k < m; k++)
                if (bpush(&nb, cand[k], p, p + 1, 1, 1) || big5_pair_pen(sc, r, le, &nb))
                    goto nomem;
        }
    }
    first[r->n] = nb.n;
    /* Viterbi: a node's predecessors end where it starts */
    for (int d = 0; d < nb.n; d++)
        nb.v[d].cost = INT_MAX;
    for (int p = 0; p < r->n; p++) {
        for (int q = p == 0 ? -1 : first[p >= 2 ? p - 2 : 0]; q < first[p]; q++) {
            if (q >= 0 && (nb.v[q].end != p || nb.v[q].cost == INT_MAX))
                continue;
            zf_lm_ctx x;
            zf_lm_ctx_init(&x, q < 0 ? before : nb.v[q].cp);
            int base = q < 0 ? 0 : nb.v[q].cost;
            int pmode = q < 0 ? 0 : nb.v[q].mode;
            for (int d = first[p]; d < first[p + 1]; d++) {
                bnode *v = &nb.v[d];
                int32_t pc = q < 0 ? before : nb.v[q].cp;
                int c = base + zf_lm_ctx_step(&x, v->cp) + (v->mode > pmode ? BIG5_SWITCH : 0)
                    + v->pen + (v->lost || (q >= 0 && nb.v[q].lost) ? big5_edge(pc, v->cp) : 0);
                if (c < v->cost) {
                    v->cost = c;
                    v->back = q;
                }
            }
        }
    }
    /* the best node ending the run */
    int best = -1, bc = 0;
    for (int d = r->n - 1 >= 1 ? first[r->n - 2] : 0; d < nb.n; d++) {
        if (nb.v[d].end != r->n || nb.v[d].cost == INT_MAX)
            continue;
        int c = nb.v[d].cost + (after >= 0 ? zf_lm_step(nb.v[d].cp, after) : 0)
            + (nb.v[d].lost ? big5_edge(nb.v[d].cp, after) : 0);
        if (best < 0 || c < bc) {
            best = d;
            bc = c;
        }
    }
    if (best < 0)
        goto out;
    /* the path, in order */
    const bnode *path[MAXRUN];
    int np = 0;
    for (int d = best; d >= 0; d = nb.v[d].back)
        path[np++] = &nb.v[d];
    for (int k = 0; k < np / 2; k++) {
        const bnode *t = path[k];
        path[k] = path[np - 1 - k];
        path[np - 1 - k] = t;
    }
    /* each stretch of the Big5 reading, without ASCII at its ends */
    int k = 0;
    while (k < np) {
        if (path[k]->mode == 0 || path[k]->cp < 0x80) {
            k++;
            continue;
        }
        int e = k;
        while (e < np && path[e]->mode == 1)
            e++;
        int z = e;
        while (z > k && path[z - 1]->cp < 0x80 && !path[z - 1]->lost)
            z--;
        /* judge it: the text as found (a lost character counted as the
         * one chosen, so that only the characters found are evidence)
         * against the reading */
        int32_t oldv[MAXRUN], newv[MAXRUN];
        int no = 0, nn = 0, changed = 0, han = 0, hpairs = 0, words = 0;
        for (int q = k; q < z; q++) {
            const bnode *d = path[q];
            newv[nn++] = d->cp;
            han += zf_is_han(d->cp);
            if (q > k && zf_is_han(path[q - 1]->cp) && zf_is_han(d->cp)) {
                hpairs++;
                words += zf_lm_pair_bonus(path[q - 1]->cp, d->cp) > 0;
            }
            if (d->lost) {
                oldv[no++] = d->cp;
            } else {
                oldv[no++] = r->cp[d->start];
                changed += d->cp >= 0x80;
            }
        }
        int32_t pb = k > 0 ? path[k - 1]->cp : before;
        int32_t pa = z < np ? path[z]->cp : after;
        int gain = span_cost(pb, oldv, (size_t)no, pa) - span_cost(pb, newv, (size_t)nn, pa);
        int newc = span_cost(pb, newv, (size_t)nn, pa);
        /* and it must make a word: Big5 text is Chinese, characters side
         * by side; characters each alone among ASCII letters that read
         * better as Big5 are chance (`筭ci腨febc` is not 鉚ci嚴febc) */
        int ok = changed > 0 && gain >= (changed > 1 ? CODEC_GAIN : CODEC_GAIN_ONE)
            && !(han > 0 && newc > GOOD_TEXT * (nn + (pa >= 0)))
            && hpairs > 0 && words > 0;
        if (ok) {
            /* each lost character chosen again with the word model, and
             * how sure it is */
            int sure[MAXRUN];
            big5_choose(&nb, first, path, np, k, z, before, after, sure);
            if ((*err = big5_apply(sc, r, path + k, z - k, sure)))
                goto out;
            ret = j;
        }
        k = e;
    }
    goto out;
nomem:
    *err = ZHFIX_ENOMEM;
out:
    if (!ret) {
        sc->b5_lo = r->n ? r->off[0] : i;
        sc->b5_hi = j > i ? j : i + 1;
    }
    free(nb.v);
    free(first);
    free(r);
    return ret;
}

/* A rare character at i: Big5 read as GBK, or else UTF-8 read as GBK. */
static size_t try_rare(scan *sc, size_t from, size_t i, size_t le, int *err)
{
    size_t j = try_big5(sc, from, i, le, err);
    if (j || *err)
        return j;
    int32_t c;
    zf_utf8_next(sc->s + i, le - i, &c);
    return zf_gbk_utf8ish(c) ? try_utf8_as_gbk(sc, from, i, le, err) : i;
}

/* In a later round, is the `?` at q one an earlier round passed over: the
 * character before it is an earlier round's repair, the `?` is not? */
static int passed_over(const zf_rw *rw, size_t q)
{
    return q > 0 && zf_rw_rewritten(rw, zf_utf8_prev(rw->in, q), q)
        && !zf_rw_rewritten(rw, q, q + 1) && !zf_rw_held(rw, q, q + 1);
}

/* Mechanism 1: the `?` at q.  Returns where scanning goes on. */
static size_t try_shift(scan *sc, size_t q, int *err)
{
    const char *s = sc->s;
    /* the character before must be multi-byte, or ASCII punctuation that
     * may be a flattened full-width form */
    if (q == 0)
        return q + 1;
    /* a piece whose `?` are characters a conversion lost: no `?` in it is
     * a bridge, and reading one so invents the characters */
    if (sc->qlost < 0)
        sc->qlost = zf_qmarks_lost(s, sc->n);
    if (sc->qlost)
        return q + 1;
    unsigned char b = (unsigned char)s[q - 1];
    if (b < 0x80 && !(b > 0x20 && b < 0x7F && b != '(' && b != ')'
                      && !(b >= '0' && b <= '9') && !((b | 0x20) >= 'a' && (b | 0x20) <= 'z')))
        return q + 1;
    /* the character before is the bridge's evidence: where a repair of
     * this run rewrote it, the realigner would read bytes the output no
     * longer has; the spot waits for the next run (pipeline.c), which
     * reads the repair (a second zhfix would, and decide otherwise) */
    size_t xs = zf_utf8_prev(s, q);
    if (zf_rw_replaced_after(sc->rw, xs))
        return q + 1;
    char rep[1024];
    size_t end = q, rl = 0;
    int v = zf_gbk_realign(s, sc->n, q, sc->flat, &end, rep, sizeof rep, &rl);
    if (v == -2) {
        *err = ZHFIX_ENOMEM;
        return sc->n;
    }
    if (v > 0) {
        zf_rw_replace(sc->rw, q, end, rep, rl, ZHFIX_EDIT_MOJIBAKE);
    } else if (v < 0) {
        /* the note starts at the character before the `?`: its trail byte
         * is the bridge's first, so it is part of the evidence (and a
         * later pass that left it alone, 边 or 邊, keeps the spot what
         * it was for the next run) - unless an earlier run's repair wrote
         * it, which the note would merge with */
        zf_rw_note(sc->rw, xs >= sc->rw->pos && !zf_rw_rewritten(sc->rw, xs, q) ? xs : q, end);
    } else {
        return q + 1;
    }
    *err = sc->rw->err;
    return end;
}

/* The first byte at or after i in s[0..le) that is `?` or not ASCII, or
 * le: the ASCII a line scan passes over, eight bytes a step. */
static size_t skip_ascii(const char *s, size_t i, size_t le)
{
    const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
    while (le - i >= 8) {
        uint64_t w, q;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '?');
        if ((w | ((q - ones) & ~q)) & high)
            break;
        i += 8;
    }
    while (i < le && (unsigned char)s[i] < 0x80 && s[i] != '?')
        i++;
    return i;
}

int zf_pass_mojibake(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)opt;
    /* a later round (pipeline.c) leaves the `?` spots alone: the realigner
     * decides each of them once, with all its evidence - but for those an
     * earlier round passed over because it rewrote their evidence
     * (try_shift()) */
    int later = doc->mojibake_round > 0;
    scan sc = {rw->in, rw->len, rw, 0, 0, {NULL, 0, 0, 0}, {NULL, NULL, NULL, NULL, 0, 0, 0, 0},
               {NULL, NULL}, -1, doc->fullwidth_in == 0};
    const char *s = rw->in;
    size_t n = rw->len;
    size_t ls = 0;
    int err = ZHFIX_OK;
    while (ls < n && err == ZHFIX_OK) {
        const char *nl = memchr(s + ls, '\n', n - ls);
        size_t le = nl ? (size_t)(nl - s) : n;
        size_t i = ls;
        while (i < le && err == ZHFIX_OK) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x80) {
                i = c == '?' && (!later || passed_over(rw, i)) ? try_shift(&sc, i, &err)
                                                               : skip_ascii(s, i + 1, le);
                continue;
            }
            int32_t cp;
            int l;
            if (c >= 0xE3 && c <= 0xE9 && i + 2 < le && ((unsigned char)s[i + 1] & 0xC0) == 0x80
                && ((unsigned char)s[i + 2] & 0xC0) == 0x80) {
                /* the common case, a character of the CJK blocks: only a
                 * rare one can start mechanism 3; the others are passed
                 * in one call */
                size_t j = zf_lm_skip_common(s, i, le);
                if (j > i) {
                    i = j;
                    continue;
                }
                cp = (int32_t)((c & 0x0F) << 12 | ((unsigned char)s[i + 1] & 0x3F) << 6
                               | ((unsigned char)s[i + 2] & 0x3F));
                l = 3;
                size_t nx = i + 3;
                if (cp >= 0x3400 && zf_lm_char_cost(cp) >= 150 && (zf_gbk_utf8ish(cp) || big5_of(cp)))
                    nx = try_rare(&sc, rw->pos > ls ? rw->pos : ls, i, le, &err);
                i = nx > i ? nx : i + 3;
                continue;
            }
            l = zf_utf8_next(s + i, le - i, &cp);
            size_t next = i + (size_t)l;
            if (cp1252_byte(cp) >= 0 && cp != 0xB7 && cp != 0xD7 && cp != 0xF7
                && (cp < 0x2000 || (next < le && ((unsigned char)s[next] == 0xC2
                                                  || (unsigned char)s[next] == 0xC3)))) {
                /* U+0080-U+00FF but the marks Chinese text uses (· × ÷);
                 * a CP1252 extra only before Latin-1 (`â€œ` starts with â,
                 * so this is for a run that starts with the extra) */
                next = try_codepage(&sc, rw->pos > ls ? rw->pos : ls, i, le, &err);
            } else if (cp >= 0x3400 && zf_lm_char_cost(cp) >= 150 && (zf_gbk_utf8ish(cp) || big5_of(cp))) {
                next = try_rare(&sc, rw->pos > ls ? rw->pos : ls, i, le, &err);
            } else if (cp == 0xFFFD) {
                next = try_big5(&sc, rw->pos > ls ? rw->pos : ls, i, le, &err);
            }
            i = next > i ? next : i + (size_t)l;
        }
        ls = le + 1;
    }
    free(sc.seen.k);
    island_buf_free(&sc.ib);
    free(sc.vd[0]);
    free(sc.vd[1]);
    return err ? err : rw->err;
}
