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
 *     U+FFFD read so) is reported: what it replaced is gone.
 *
 * The pass works line by line (no repair crosses a newline) and looks at a
 * line only past a cheap trigger: a `?`, a byte that starts a character of
 * U+0080-U+07FF, or a rare Han character.  Repairs are MOJIBAKE edits;
 * damage that cannot be read with confidence is left as found and noted
 * (UNRESOLVED).
 */
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

typedef struct {
    const char *s;
    size_t n;
    zf_rw *rw;
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
} run;

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
#define IS_WILD(b) ((b) >= WILD && (b) <= WILD_PAIR2)

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
 * Armenian that good text read the same way gives. */
static int plausible(int32_t cp)
{
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
        for (unsigned v = 0xA1; v <= 0xAF; v++)
            if (v < 0xA8 || v > 0xA9) {
                vals[n] = v;
                pen[n++] = 0;
            }
        return n;
    }
    if (r->byte[p] == WILD_PAIR2)
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

/* The candidates for one character of an island. */
#define MAXALT 32
typedef struct {
    int32_t cp[MAXALT];
    int pen[MAXALT];
    int n;
    int end;    /* byte after the character */
} slot;

/*
 * Decode r->byte from b0 as UTF-8 (utf8 != 0) or GBK into out[] (endb[k]:
 * the byte after character k): the island of characters decoded from
 * bytes of non-ASCII source characters, with the ASCII between them.
 * A byte the wrong decoder lost (WILD) takes each value it may have had;
 * a Viterbi search with the language model picks among the characters
 * that gives.  Returns the number of bytes the island spans (0: none).
 */
static int decode_island(const run *r, int b0, int utf8, int32_t before, int32_t *out,
                         int *endb, int *nout)
{
    slot *sl = malloc((size_t)(r->nb - b0 + 1) * sizeof *sl);
    if (!sl) {
        *nout = 0;
        return 0;
    }
    int ns = 0, b = b0;
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
        int tlen = 0, tcost[MAXALT];
        for (int li = 0; li < nlead; li++) {
            int len = char_len(cand[0][li], utf8);
            if (len == 0 || b + len > r->nb || (tlen && len != tlen))
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
            for (;;) {
                unsigned v[4];
                int pen = cpen[0][li];
                v[0] = cand[0][li];
                for (int k = 1; k < len; k++) {
                    v[k] = cand[k][idx[k]];
                    pen += cpen[k][idx[k]];
                }
                int32_t cp = decode_one(v, len, utf8);
                /* U+FFFD read as CP1252 (`ï¿½`) is a character lost
                 * before: it stays one (and a second reading may use it) */
                if (cp >= 0 && (printable(cp) || (cp == 0xFFFD && r->wild == cp1252_undefined))
                    && (r->wild || plausible(cp))) {
                    int cost = zf_lm_char_cost(cp) + pen;
                    tlen = len;
                    /* keep the MAXALT cheapest, in order */
                    if (t->n < MAXALT || cost < tcost[MAXALT - 1]) {
                        int at = t->n < MAXALT ? t->n++ : MAXALT - 1;
                        while (at > 0 && tcost[at - 1] > cost) {
                            t->cp[at] = t->cp[at - 1];
                            t->pen[at] = t->pen[at - 1];
                            tcost[at] = tcost[at - 1];
                            at--;
                        }
                        t->cp[at] = cp;
                        t->pen[at] = pen;
                        tcost[at] = cost;
                    }
                }
                int k = 1;
                while (k < len && ++idx[k] == cnt[k]) {
                    idx[k] = 0;
                    k++;
                }
                if (k >= len)
                    break;
            }
        }
        if (t->n == 0)
            break;
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
        free(sl);
        *nout = 0;
        return 0;
    }
    /* Viterbi over the slots */
    int (*cost)[MAXALT] = malloc((size_t)ns * sizeof *cost);
    int8_t (*back)[MAXALT] = malloc((size_t)ns * sizeof *back);
    if (!cost || !back) {
        free(cost);
        free(back);
        free(sl);
        *nout = 0;
        return 0;
    }
    for (int i = 0; i < ns; i++) {
        for (int k = 0; k < sl[i].n; k++) {
            int best = -1, bc = 0;
            if (i == 0) {
                bc = zf_lm_step(before, sl[i].cp[k]);
            } else {
                for (int j = 0; j < sl[i - 1].n; j++) {
                    int c2 = cost[i - 1][j] + zf_lm_step(sl[i - 1].cp[j], sl[i].cp[k]);
                    if (best < 0 || c2 < bc) {
                        best = j;
                        bc = c2;
                    }
                }
            }
            cost[i][k] = bc + sl[i].pen[k];
            back[i][k] = (int8_t)best;
        }
    }
    int k = 0;
    for (int j = 1; j < sl[ns - 1].n; j++)
        if (cost[ns - 1][j] < cost[ns - 1][k])
            k = j;
    for (int i = ns - 1; i >= 0; i--) {
        out[i] = sl[i].cp[k];
        endb[i] = sl[i].end;
        k = back[i][k];
    }
    int span = sl[ns - 1].end - b0;
    free(cost);
    free(back);
    free(sl);
    *nout = ns;
    return span;
}

/* Try to repair the run: decode it both ways, island by island, and apply
 * the islands that gain enough.  Returns 0 or an error. */
#define TRY_UTF8 1
#define TRY_GBK 2

/* cps[0..*n) read back through CP1252 and decoded as UTF-8, when all of it
 * decodes (no lost byte) and reads better; returns 1 if it replaced it. */
static int redecode(int32_t *cps, int *n)
{
    run *r = &(run){.n = 0, .nb = 0, .wild = cp1252_undefined, .nwild = 5};
    int nonascii = 0;
    for (int k = 0; k < *n && k < MAXRUN; k++) {
        int byte = cps[k] < 0x80 ? cps[k] : cps[k] == 0xFFFD ? WILD : cp1252_byte(cps[k]);
        if (byte < 0)
            return 0;
        nonascii += byte >= 0x80;
        r->cp[k] = cps[k];
        r->bsrc[r->nb] = k;
        r->byte[r->nb++] = (uint16_t)byte;
        r->n++;
    }
    if (nonascii < 2 || r->n != *n)
        return 0;
    int32_t dec[MAXRUN * 2];
    int endb[MAXRUN * 2], nd = 0;
    int b = 0;
    while (b < r->nb && r->byte[b] < 0x80)
        b++;
    int len = decode_island(r, b, 1, b ? cps[b - 1] : -1, dec, endb, &nd);
    if (nd < 2)
        return 0;
    /* what does not decode (a character cut by a lost byte) stays */
    int e = r->bsrc[b + len - 1] + 1;
    if (span_cost(-1, dec, (size_t)nd, -1) >= span_cost(-1, cps + b, (size_t)(e - b), -1))
        return 0;
    int32_t rest[MAXRUN];
    int nrest = *n - e;
    memcpy(rest, cps + e, (size_t)nrest * sizeof *cps);
    memcpy(cps + b, dec, (size_t)nd * sizeof *dec);
    memcpy(cps + b + nd, rest, (size_t)nrest * sizeof *cps);
    *n = b + nd + nrest;
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
} piece;

/* The pieces codec utf8 makes of the run: every island, cut at the ASCII
 * between its characters (each stretch of non-ASCII characters is judged
 * alone: an island may join good accented Latin to garbled text across a
 * word).  *fails counts the non-ASCII source characters no island covers.
 * Returns the number of pieces. */
static int plan(scan *sc, run *r, int utf8, piece *pc, int32_t *dbuf, int *fails)
{
    int32_t dec[MAXRUN * 2];
    int endb[MAXRUN * 2];
    int np = 0, used = 0, b = 0;
    *fails = 0;
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
        int len = decode_island(r, b, utf8, before, dec, endb, &nd);
        /* an island ends on a source character's last byte (UTF-8 read
         * as GBK: 3 bytes a character against 2, an even number of
         * characters), with no ASCII at its end but an ASCII byte that
         * was a GBK trail byte (`宲am` was 和pam) */
        while (nd > 0) {
            len = endb[nd - 1] - b;
            int sb = nd > 1 ? endb[nd - 2] : b;
            if ((b + len < r->nb && r->bsrc[b + len] == r->bsrc[b + len - 1])
                || (dec[nd - 1] < 0x80 && (sb == 0 || r->bsrc[sb - 1] != r->bsrc[sb]))
                /* UTF-8 read as GBK: Chinese is three bytes a character,
                 * so a two-byte character at the end is good text after
                 * the run read on (权 is C8 A8 in GBK, Ȩ in UTF-8) */
                || (!r->wild && utf8 && dec[nd - 1] >= 0x80 && dec[nd - 1] < 0x800))
                nd--;
            else
                break;
        }
        if (nd == 0) {
            (*fails)++;
            int s0 = r->bsrc[b];
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
                if (!redecode(out, &no))
                    break;
            int first = r->bsrc[pb], last = r->bsrc[endb[e - 1] - 1];
            int32_t pbefore = k == 0 ? before : dec[k - 1];
            int32_t after = e < nd ? dec[e] : char_at(sc, r->off[last + 1]);
            int nonascii = 0, han = 0, hpairs = 0, words = 0, hcost = 0;
            for (int q = 0; q < no; q++) {
                nonascii += out[q] >= 0x80;
                han += zf_is_han(out[q]);
                if (q > 0 && zf_is_han(out[q - 1]) && zf_is_han(out[q])) {
                    hpairs++;
                    words += zf_lm_pair_bonus(out[q - 1], out[q]) > 0;
                    hcost += zf_lm_step(out[q - 1], out[q]);
                }
            }
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
            p->strong = nonascii > 0 && (utf8 || han > 0)
                && p->gain >= (nonascii > 1 ? CODEC_GAIN : CODEC_GAIN_ONE)
                && !(han > 0 && newc > GOOD_TEXT * (no + (after >= 0)))
                && (hpairs == 0 || (words > 0 && words * WORDY >= hpairs)
                    || (hcost <= PAIR_OK * hpairs && !r->wild));
            p->weak = nonascii > 0 && p->gain > 0;
            p->cheap = !p->strong && nonascii > 0 && (utf8 || han > 0)
                && p->gain >= (nonascii > 1 ? CODEC_GAIN : CODEC_GAIN_ONE)
                && !(han > 0 && newc > GOOD_TEXT * (no + (after >= 0)))
                && hcost <= PAIR_OK * hpairs;
            memcpy(dbuf + used, out, (size_t)no * sizeof *out);
            used += no;
            k = e;
            while (k < nd && dec[k] < 0x80)
                k++;
        }
        b += len;
    }
    return np;
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
 */
static int repair_run(scan *sc, run *r, int codecs, int apply, long *best, int *nfail)
{
    piece pc[2][MAXRUN];
    int32_t dbuf[2][MAXRUN * 2];
    int np[2] = {0, 0}, fails[2] = {0, 0};
    long score[2] = {0, 0};
    int pick = -1;
    for (int utf8 = 1; utf8 >= 0; utf8--) {
        if (!(codecs & (utf8 ? TRY_UTF8 : TRY_GBK)))
            continue;
        np[utf8] = plan(sc, r, utf8, pc[utf8], dbuf[utf8], &fails[utf8]);
        int strong = 0;
        for (int k = 0; k < np[utf8]; k++) {
            /* cheap pairs are evidence enough where the run decodes
             * through, not among accented letters that do not decode */
            if (pc[utf8][k].cheap && fails[utf8] == 0)
                pc[utf8][k].strong = 1;
            strong += pc[utf8][k].strong;
            score[utf8] += pc[utf8][k].gain;
        }
        if (strong && score[utf8] >= CODEC_GAIN && (pick < 0 || score[utf8] > score[pick]))
            pick = utf8;
    }
    if (best) {
        *best = pick < 0 ? -1 : score[pick];
        *nfail = pick < 0 ? MAXRUN : fails[pick];
    }
    if (pick < 0 || !apply)
        return ZHFIX_OK;
    int through = fails[pick] == 0;
    for (int k = 0; k < np[pick]; k++) {
        const piece *p = &pc[pick][k];
        if (!(p->strong || (through && p->weak)))
            continue;
        char rep[MAXRUN * 8];
        size_t rl = 0;
        for (int q = 0; q < p->nd; q++)
            rl += (size_t)zf_utf8_put(dbuf[pick][p->d0 + q], rep + rl);
        int first = r->bsrc[p->b], last = r->bsrc[p->b + p->len - 1];
        zf_rw_replace(sc->rw, r->off[first], r->off[last + 1], rep, rl, ZHFIX_EDIT_MOJIBAKE);
        if (sc->rw->err)
            return sc->rw->err;
    }
    return ZHFIX_OK;
}

/* Mechanism 2: the run of code-page characters starting at i (a byte that
 * starts U+0080-U+07FF or a CP1252 extra).  Returns where scanning goes
 * on. */
static size_t try_codepage(scan *sc, size_t from, size_t i, size_t le, int *err)
{
    run *r = &(run){.n = 0, .nb = 0, .wild = cp1252_undefined, .nwild = 5};
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
        *err = repair_run(sc, r, TRY_UTF8 | TRY_GBK, 1, NULL, NULL);
    return j;
}

/* Both bytes of cp's GBK code can be UTF-8 bytes of a multi-byte
 * character (leads C2-F4, continuations 80-BF); or the first can, and
 * the second is ASCII: the last byte of a UTF-8 character read with the
 * ASCII character after it (有“r, E2 80 9C 72: `鈥€渞`, 渞 is 9C 72). */
static int gbk_utf8ish(int32_t cp)
{
    unsigned code = zf_gbk_encode(cp);
    if (code <= 0xFF)
        return 0;
    unsigned a = code >> 8, b = code & 0xFF;
    return ((a >= 0x80 && a <= 0xBF) || (a >= 0xC2 && a <= 0xF4))
        && ((b >= 0x80 && b <= 0xBF) || (b >= 0xC2 && b <= 0xF4) || (b >= 0x40 && b < 0x7F));
}

/* The run of UTF-8-read-as-GBK characters from a to le (at most): its
 * GBK bytes, a U+FFFD as one lost byte or, with pairs, as a lost pair
 * when a non-ASCII character follows (WILD_PAIR1).  Returns its end; *rare
 * counts the characters that are evidence of the damage. */
static size_t gbk_run(scan *sc, size_t a, size_t le, int pairs, run *r, int *rare)
{
    size_t j = a;
    *rare = 0;
    while (j < le && r->n < MAXRUN) {
        int32_t c;
        int l = zf_utf8_next(sc->s + j, le - j, &c);
        unsigned code;
        if (c >= 0x20 && c < 0x7F && c != '?') {
            code = (unsigned)c;
        } else if (c == 0xFFFD) {
            code = WILD;
            int32_t nx = char_at(sc, j + (size_t)l);
            if (pairs && nx >= 0x80 && r->nb + 2 < MAXRUN * 2) {
                r->bsrc[r->nb] = r->n;
                r->byte[r->nb++] = WILD_PAIR1;
                code = WILD_PAIR2;
            }
        } else if (c == 0x20AC) {
            /* code page 936 reads 0x80 alone as the euro sign, and 0x80
             * is a common UTF-8 continuation byte (一 is E4 B8 80:
             * `涓€` is 一 and the first byte of the next character) */
            code = 0x80;
        } else if (gbk_utf8ish(c)) {
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
    return j;
}

/* Mechanism 3: a rare character at i whose GBK bytes could be UTF-8's.
 * Takes the run of such characters around it (from `from` on, ASCII
 * allowed between them) back to GBK bytes and decodes them as UTF-8. */
static size_t try_utf8_as_gbk(scan *sc, size_t from, size_t i, size_t le, int *err)
{
    /* start of the run: back over characters that could belong to it */
    size_t a = i;
    for (int back = 0; a > from && back < MAXRUN / 4; back++) {
        size_t p = zf_utf8_prev(sc->s, a);
        int32_t c;
        zf_utf8_next(sc->s + p, a - p, &c);
        if (!gbk_utf8ish(c) && c != 0xFFFD && c != 0x20AC)
            break;
        a = p;
    }
    run *r = &(run){.n = 0, .nb = 0, .wild = NULL, .nwild = 128};
    int rare = 0;
    size_t j = gbk_run(sc, a, le, 0, r, &rare);
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
    /* which decoder lost the bytes: read U+FFFD both ways when it can
     * stand for a pair, and keep the reading that repairs more */
    int has_pair = 0;
    for (int k = 0; k + 1 < r->n && !has_pair; k++)
        has_pair = r->cp[k] == 0xFFFD && r->cp[k + 1] >= 0x80;
    if (has_pair) {
        run *r2 = &(run){.n = 0, .nb = 0, .wild = NULL, .nwild = 128};
        int rare2 = 0;
        size_t j2 = gbk_run(sc, a, le, 1, r2, &rare2);
        long s1 = -1, s2 = -1;
        int f = 0;
        *err = repair_run(sc, r, TRY_UTF8, 0, &s1, &f);
        if (!*err)
            *err = repair_run(sc, r2, TRY_UTF8, 0, &s2, &f);
        if (*err)
            return j;
        if (s2 > s1) {
            *err = repair_run(sc, r2, TRY_UTF8, 1, NULL, NULL);
            return j2;
        }
    }
    *err = repair_run(sc, r, TRY_UTF8, 1, NULL, NULL);
    return j;
}

/* Mechanism 1: the `?` at q.  Returns where scanning goes on. */
static size_t try_shift(scan *sc, size_t q, int *err)
{
    const char *s = sc->s;
    /* the character before must be multi-byte, or ASCII punctuation that
     * may be a flattened full-width form */
    if (q == 0)
        return q + 1;
    unsigned char b = (unsigned char)s[q - 1];
    if (b < 0x80 && !(b > 0x20 && b < 0x7F && b != '(' && b != ')'
                      && !(b >= '0' && b <= '9') && !((b | 0x20) >= 'a' && (b | 0x20) <= 'z')))
        return q + 1;
    char rep[1024];
    size_t end = q, rl = 0;
    int v = zf_gbk_realign(s, sc->n, q, &end, rep, sizeof rep, &rl);
    if (v == -2) {
        *err = ZHFIX_ENOMEM;
        return sc->n;
    }
    if (v > 0) {
        zf_rw_replace(sc->rw, q, end, rep, rl, ZHFIX_EDIT_MOJIBAKE);
    } else if (v < 0) {
        zf_rw_note(sc->rw, q, end);
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
    (void)doc;
    scan sc = {rw->in, rw->len, rw};
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
                i = c == '?' ? try_shift(&sc, i, &err) : skip_ascii(s, i + 1, le);
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
                if (cp >= 0x3400 && zf_lm_char_cost(cp) >= 150 && gbk_utf8ish(cp))
                    nx = try_utf8_as_gbk(&sc, rw->pos > ls ? rw->pos : ls, i, le, &err);
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
            } else if (cp >= 0x3400 && zf_lm_char_cost(cp) >= 150 && gbk_utf8ish(cp)) {
                next = try_utf8_as_gbk(&sc, rw->pos > ls ? rw->pos : ls, i, le, &err);
            }
            i = next > i ? next : i + (size_t)l;
        }
        ls = le + 1;
    }
    return err ? err : rw->err;
}
