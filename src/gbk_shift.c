/*
 * gbk_shift.c - the GBK codec (code page 936) over the generated
 * tables/gbk.h, and the realigner that undoes GBK decoded one byte out of
 * step (shared/damage-model.md section 4).
 *
 * Exported (prototypes for zf.h; declared here until the lead adds them):
 *
 *   int32_t zf_gbk_decode2(unsigned lead, unsigned trail);
 *   unsigned zf_gbk_encode(int32_t cp);
 *   int zf_gbk_utf8ish(int32_t cp);
 *   int zf_gbk_realign(const char *s, size_t n, size_t q, int flat,
 *                      size_t *end, char *rep, size_t cap, size_t *rep_len);
 *   int zf_gbk_shift_verdict(const char *s, size_t n, size_t q, size_t *read);
 *
 * The damage, byte by byte.  The text was GBK.  At a spot a decoder started
 * one byte late: it read the trail byte of a character X together with the
 * lead byte of the next, C1, as one "bridging" character; that character
 * was pinyin-annotated when it happened to be Traditional, and then lost,
 * leaving `?` and perhaps the tail `pinyin)` of its annotation.  Every
 * character after it joins the trail byte of one original character with
 * the lead byte of the next, until a single byte brings the decoder back
 * into step: an ASCII trail byte (`設` D4 4F leaves `O`), the euro sign
 * (`線` BE 80 leaves `€`), or an ASCII byte after the last character, which
 * the decoder swallowed as a trail byte (or, when it cannot be one, turned
 * with the lone trail byte into `?`; `報(bào)` leaves `?bào)`).  Pairs that
 * are no character came out as `?` too.  Afterwards full-width forms were
 * flattened to ASCII (`！` A3 A1 reads `!`).
 *
 * The realigner reads the characters after the `?` back into bytes, with
 * every reading the damage allows (an ASCII mark may be a flattened
 * full-width one, a `?` a flattened `？` or a pair that was no character),
 * shifts them by one byte, and lets the language model (lm.c) choose the
 * lost bytes: the lead byte of C1 (named exactly by the bridge's pinyin
 * tail when there is one: the bridge is X's trail byte plus that lead), a
 * trail byte lost in a `?`, and where the run ends.  It is a Viterbi search
 * over the characters of the run; each ending of the run is a hypothesis,
 * scored against the text as found over the same span.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

#include "gbk.h"
#include "gbk_pairs.h"

/* zf_gbk_decode2(), inlined in the realigner's loops. */
static inline int32_t gbk_dec(unsigned lead, unsigned trail)
{
    if (lead < 0x81 || lead > 0xFE || trail < 0x40 || trail > 0xFE)
        return 0;
    return zf_gbk_dec[(lead - 0x81) * 191 + (trail - 0x40)];
}

int32_t zf_gbk_decode2(unsigned lead, unsigned trail)
{
    return gbk_dec(lead, trail);
}

/* Whether lead, trail is a character: gbk_dec(lead, trail) != 0, by one
 * bit of tables/gbk_pairs.h (lead and trail any byte). */
static inline int gbk_is_pair(unsigned lead, unsigned trail)
{
    if (lead - 0x81u > 0xFEu - 0x81u || trail > 0xFF)
        return 0;
    return (int)((zf_gbk_pair[(lead - 0x81) * 4 + (trail >> 6)] >> (trail & 63)) & 1);
}

/* Whether a `?` in a run may stand between the trail byte t of one
 * character and the lead byte l of the next: the pair is no character,
 * or it is a flattened `？` (A3 BF).  Either way its two bytes are unknown
 * and paid for alike, so neither reading is favoured. */
static inline int unreadable(unsigned t, unsigned l)
{
    return !gbk_is_pair(t, l) || (t == 0xA3 && l == 0xBF);
}

/* The bytes l in 0x81-0xFE that, after the byte t, make no character (or
 * the flattened `？`, A3 BF): bit l & 63 of m[0] for l in 0x80-0xBF, of
 * m[1] for l in 0xC0-0xFF. */
static inline void gbk_unread_leads(unsigned t, uint64_t m[2])
{
    /* 0x81-0xFE: every bit of both words but 0x80 and 0xFF */
    const uint64_t lo = ~(uint64_t)1, hi = ~((uint64_t)1 << 63);
    if (t - 0x81u > 0xFEu - 0x81u) {
        m[0] = lo;
        m[1] = hi;
        return;
    }
    m[0] = ~zf_gbk_pair[(t - 0x81) * 4 + 2] & lo;
    m[1] = ~zf_gbk_pair[(t - 0x81) * 4 + 3] & hi;
    if (t == 0xA3)
        m[0] |= (uint64_t)1 << (0xBF & 63);
}

/* The GBK code of cp: lead << 8 | trail, a single byte (< 0x100, ASCII or
 * 0x80 for the euro sign of code page 936), or 0 when GBK has none. */
unsigned zf_gbk_encode(int32_t cp)
{
    if (cp >= 0 && cp < 0x80)
        return (unsigned)cp;
    if (cp == 0x20AC)
        return 0x80;
    if (cp < 0 || cp > 0xFFFF)
        return 0;
    return zf_gbk_enc_stage2[(size_t)zf_gbk_enc_stage1[cp >> 8] * 256 + (size_t)(cp & 0xFF)];
}

int zf_gbk_utf8ish(int32_t cp)
{
    unsigned code = zf_gbk_encode(cp);
    if (code <= 0xFF)
        return 0;
    unsigned a = code >> 8, b = code & 0xFF;
    return ((a >= 0x80 && a <= 0xBF) || (a >= 0xC2 && a <= 0xF4))
        && ((b >= 0x80 && b <= 0xBF) || (b >= 0xC2 && b <= 0xF4) || (b >= 0x40 && b < 0x7F));
}

/* ---- the realigner --------------------------------------------------- */

#define MAXTOK 160   /* characters after the `?` considered */
#define MAXCAND 4096 /* candidates in the search, all columns together */
/* A character both of whose bytes were lost (a `?` right after another
 * unknown byte) is looked for among the common ones only: those costing
 * at most 10 bits, about 500 in GBK, punctuation included. */
#define COMMON_COST 100
#define ALL (-1)

/*
 * The price of a byte the damage destroyed and the search invents, in
 * tenths of a bit.  Given the original text the lost bytes are determined,
 * so the model's cost of the restored characters already pays for them;
 * what is charged here is a margin that keeps the language model from
 * "explaining" ordinary text by inventing bytes (minimum description
 * length).  Set from the bench (bench/quality.py, row gbk-shift): 7 bits,
 * the full price of choosing one of ~126 bytes, left most runs unrepaired;
 * 3 bits repairs them with no change on clean text.  A byte named by a
 * pinyin reading costs only the choice left among the characters with that
 * reading.
 */
#define FREE_BYTE 30

/* How much more probable (tenths of a bit) the realigned text must be than
 * the text as found, after paying for invented bytes, to be repaired; and
 * the least gain that is reported as damage left alone. */
#define GAIN_FIX 100
#define GAIN_SUSPECT 40

/* An annotation `(pinyin)` right after an ASCII letter or the euro sign,
 * as found, is no annotation at all (the pinyin pass would leave it); the
 * repair makes it the annotation of the character it restores, with the
 * right reading.  The chance that a character picked at random has a given
 * reading is about 1 in 400 (8.6 bits). */
#define ANNOT_EVIDENCE 80

#define CLEAN_START 180

/* A bridge that was a Traditional character would have been annotated
 * (damage-model.md section 4: 冊 left `?cè)`, 習 `?xí)`); a bridge lost with
 * no tail was more likely something else (姟, or no character at all). */
#define BRIDGE_TRAD 20

/* Taken off the gain of a reading that nothing but the model supports
 * (no pinyin names a lost byte) and that replaces fewer than two garbled
 * two-byte characters. */
#define WEAK_PENALTY 30

/* Give up on a hypothesis once the shifted reading is this much less
 * probable than the text as found, some characters in: a damaged run is
 * garbage from its first character on, so clean text after a `?` stops
 * the search early and cheaply. */
/* Taken off the gain of a reading whose run ends in a lone trail byte
 * right before a `?` that it takes as found: the original bytes then held
 * an ASCII question mark after a two-byte character, which GBK text
 * seldom has (a question mark there is `？` A3 BF, flattened only after
 * the bad decode), while a `?` is just what the damage leaves for a pair
 * that is no character or a lone byte at the line end (`键。` left `?`
 * then `?`).  Set from the bench: 3 bits repairs most of those line ends,
 * 10 bits all it can; more changes nothing. */
#define LONE_QMARK 100
#define GIVE_UP 300
#define GIVE_UP_AFTER 6

/* A line of prose ends with a mark that ends a sentence or closes
 * something far more often than with a character of a word: a reading
 * that ends at the line end (the decoder's lone last byte) pays this for
 * a last character that is neither, and so does the text as found. */
#define EOL_OTHER 20

static int eol_cost(int32_t c)
{
    switch (c) {
    case 0x3002: case 0xFF01: case 0xFF1F: case 0xFF1B: case 0xFF1A: case 0xFF09:
    case 0x201D: case 0x2019: case 0x300D: case 0x300F: case 0x300B: case 0x3011:
    case 0x2026: case '.': case '!': case '?': case ';': case ':': case ')':
    case '"': case '\'':
        return 0;
    default:
        return EOL_OTHER;
    }
}

/* One character of the text after the `?` (and after the bridge's tail). */
enum { TK_GBK2, TK_ASCII, TK_EURO, TK_QMARK };
typedef struct {
    int kind;
    int32_t cp;
    size_t start, end;   /* bytes in s */
    unsigned code;       /* TK_GBK2: its code; TK_ASCII, TK_QMARK: the code
                            of its full-width twin, 0 if none */
    size_t tail_end;     /* followed by `pinyin)` (TK_QMARK) or `(pinyin)`
                            (others): the offset after the `)`, else 0 */
    int tail_syl;        /* that syllable, else -1 */
} tok;

/* A candidate for one original character in the Viterbi search. */
typedef struct {
    int32_t cp;
    int32_t cost;         /* best cost of the text from X up to here */
    int16_t back;         /* index of the previous candidate, -1 for X */
    int16_t extra;        /* what cost holds besides the model's steps: the
                             invented bytes, script and bridge charges */
    unsigned char lead, trail;
} cand;

/* A set of bytes: one byte, a short list, or every byte 0x81-0xFE (ALL).
 * An unknown trail byte is also one of 0x81-0xFE: it was lost in a `?`,
 * so the shifted decoder read it as a lead byte (an ASCII byte would have
 * been read alone, 0x80 as the euro sign). */
typedef struct {
    int n;              /* ALL, or the number in v */
    unsigned char v[192];
} byteset;

static void set_one(byteset *b, unsigned v)
{
    b->n = 1;
    b->v[0] = (unsigned char)v;
}

/* What choosing from a set of n costs: log2(n) bits, rounded up. */
static int choice_cost(int n)
{
    if (n == ALL)
        return FREE_BYTE;
    int c = 0;
    while (n > 1) {
        c += 10;
        n = (n + 1) / 2;
    }
    return c;
}

/* The price of a byte chosen from a set of n: a byte is at most
 * FREE_BYTE, however many it might have been. */
static int byte_cost(int n)
{
    int c = choice_cost(n);
    return c < FREE_BYTE ? c : FREE_BYTE;
}

static int is_pinyin_letter(int32_t c)
{
    static const int32_t marked[] = {
        0xE0, 0xE1, 0xE8, 0xE9, 0xEA, 0xEC, 0xED, 0xF2, 0xF3, 0xF9, 0xFA, 0xFC,
        0x101, 0x113, 0x11B, 0x12B, 0x144, 0x148, 0x14D, 0x16B, 0x1CE, 0x1D0,
        0x1D2, 0x1D4, 0x1D6, 0x1D8, 0x1DA, 0x1DC, 0x1F9, 0x1E3F,
    };
    if (c >= 'a' && c <= 'z')
        return 1;
    for (size_t i = 0; i < sizeof marked / sizeof marked[0]; i++)
        if (marked[i] == c)
            return 1;
    return 0;
}

/* `pinyin)` at s[i..n): returns the offset after the `)` and stores the
 * syllable id (-1 when not a syllable), or returns 0. */
static size_t parse_tail(const char *s, size_t n, size_t i, int *syl)
{
    size_t j = i;
    int letters = 0;
    while (j < n && letters <= 7) {
        int32_t c;
        int l = zf_utf8_next(s + j, n - j, &c);
        if (!is_pinyin_letter(c))
            break;
        j += (size_t)l;
        letters++;
    }
    if (letters == 0 || letters > 7 || j >= n || s[j] != ')')
        return 0;
    *syl = zf_pinyin_syllable(s + i, j - i);
    return j + 1;
}

/* An annotation `(pinyin)` at s[i]: the offset after it, or 0. */
static size_t parse_annotation(const char *s, size_t n, size_t i, int *syl)
{
    if (i >= n || s[i] != '(')
        return 0;
    size_t e = parse_tail(s, n, i + 1, syl);
    return e && *syl >= 0 ? e : 0;
}

/* The first character at or after i that the model should see next: an
 * annotation is skipped, as the pinyin pass will remove it.  -1 at a line
 * end. */
static int32_t next_char(const char *s, size_t n, size_t i)
{
    int syl;
    size_t e = parse_annotation(s, n, i, &syl);
    if (e)
        i = e;
    if (i >= n)
        return -1;
    int32_t c;
    zf_utf8_next(s + i, n - i, &c);
    return c == '\n' || c == '\r' ? -1 : c;
}

/* A full-width form flattened to ASCII (damage-model.md section 2): the
 * code of the twin, 0 if it has none. */
static unsigned flat_code(int32_t c)
{
    if (c <= 0x20 || c >= 0x7F)
        return 0;
    unsigned fw = zf_gbk_encode(0xFF01 + (c - 0x21));
    return fw > 0xFF ? fw : 0;
}

/* A stretch of QRUN `?` in a row is no run's inside: a `?` in a run is one
 * pair that made no character, and each is read as any character, so a
 * line of `?` (text a lossy conversion turned into question marks) cost
 * the search 3 ms a `?`. */
#ifndef QRUN
#define QRUN 8
#endif
static int qrun(const char *s, size_t n, size_t i)
{
    size_t k = 0;
    while (k < QRUN && i + k < n && s[i + k] == '?')
        k++;
    return k == QRUN;
}

/* Read the characters after the `?` into tokens; stop at what cannot be in
 * a run (a line end, a space, a character GBK does not have, QRUN `?`). */
static int tokenize(const char *s, size_t n, size_t i, tok *t, int max)
{
    int k = 0;
    while (k < max && i < n) {
        if (s[i] == '?' && qrun(s, n, i))
            break;
        int32_t c;
        int l = zf_utf8_next(s + i, n - i, &c);
        tok *x = &t[k];
        memset(x, 0, sizeof *x);
        x->cp = c;
        x->start = i;
        x->end = i + (size_t)l;
        x->tail_syl = -1;
        if (c == 0x20AC) {
            x->kind = TK_EURO;
        } else if (c > 0x20 && c < 0x7F) {
            x->kind = c == '?' ? TK_QMARK : TK_ASCII;
            x->code = flat_code(c);
        } else {
            unsigned code = c < 0 ? 0 : zf_gbk_encode(c);
            if (code <= 0xFF)
                break;
            x->kind = TK_GBK2;
            x->code = code;
        }
        int syl;
        size_t e = x->kind == TK_QMARK ? parse_tail(s, n, x->end, &syl)
                                       : parse_annotation(s, n, x->end, &syl);
        if (e && syl >= 0) {
            x->tail_end = e;
            x->tail_syl = syl;
        }
        k++;
        i = x->end;
    }
    return k;
}

/*
 * The cheap test every `?` after a two-byte character meets before the
 * model is asked anything (most such `?` are question marks, `？`
 * flattened).  Inside a run, two two-byte characters in a row, A then B,
 * give one original character whole: A's second byte is its lead and B's
 * first byte its trail.  So the first few pairs of the text after the `?`
 * are read both ways with table lookups alone:
 *   - a pair whose bytes make no character cannot be inside a run, and the
 *     run cannot have ended before it (a character whose second byte is
 *     0x81 or more ends no run): there is nothing to realign;
 *   - otherwise the realigned characters must be more common, on average,
 *     than the characters as found (unigram costs): a run read out of step
 *     is rare characters (褂眯, 慰际榻) whose realignment is common text
 *     (使用, 参考书), while a question mark before ordinary text realigns
 *     to rare ones.
 * Returns 0 when the text after the `?` is not a run; 1 when it may be or
 * this cannot tell (the run is too short, or starts with a `?` or ASCII:
 * then the search is short or cut off early anyway).
 */
#define PEEK 4
static int bytes_read_better(const tok *t, int nt)
{
    int found = 0, again = 0, k = 0;
    while (k < PEEK && k + 1 < nt && t[k].kind == TK_GBK2 && (t[k].code & 0xFF) >= 0x81
           && t[k + 1].kind == TK_GBK2) {
        int32_t c = zf_gbk_decode2(t[k].code & 0xFF, t[k + 1].code >> 8);
        if (!c)
            return 0;
        found += zf_lm_char_cost(t[k].cp);
        again += zf_lm_char_cost(c);
        k++;
    }
    if (k == 0)
        return 1;
    found += zf_lm_char_cost(t[k].cp);
    /* average over k realigned characters against k + 1 found ones */
    return again * (k + 1) < found * k;
}

/* Whether t[0..nt) holds a two-byte character or a reading that names
 * one (`安?b(zhuāng)` was 安裝, 裝 D1 62). */
static int found_pair(const tok *t, int nt)
{
    for (int k = 0; k < nt; k++)
        if (t[k].kind == TK_GBK2 || t[k].tail_syl >= 0)
            return 1;
    return 0;
}

/* The lead bytes L with (x2, L) a character that has reading syl. */
static void bridge_leads(unsigned x2, int syl, byteset *out)
{
    out->n = 0;
    for (unsigned l = 0x81; l <= 0xFE; l++) {
        int32_t cp = gbk_dec(x2, l);
        if (cp && zf_readings_has(cp, syl))
            out->v[out->n++] = (unsigned char)l;
    }
}

/* A complete reading: where the run ends and the last character; the
 * characters before it are found through last.back. */
typedef struct {
    int g;          /* gain over the text as found (see zf_gbk_realign) */
    int m;          /* original characters restored */
    size_t end;     /* the reading replaces s[q..end) */
    size_t rstart;  /* where the text after the reading resumes */
    int32_t give;   /* a swallowed ASCII byte given back, or -1 */
    int paren;      /* a `(` eaten with a lone byte, given back */
    cand last;
} hyp;

/* The best few readings, by gain, kept for the word model to rank. */
#define NBEST 8

typedef struct {
    cand c[MAXCAND];
    int nc;
    int avoid;  /* the script the text around does not use (zf_lm_script) */
    hyp nb[NBEST];
    int nnb;
    /* column k of the search (the continuing one, token k): its candidates
     * c[colmark[k] .. colmark[k] + colna[k]); colwild[k]: its lead byte
     * follows a `?` (see colspec.wild) */
    int colmark[MAXTOK], colna[MAXTOK];
    unsigned char colwild[MAXTOK];
    int32_t win[2 * MAXTOK + 32];
} pool;

static void nbest_add(pool *p, const hyp *h)
{
    int i = p->nnb;
    while (i > 0 && p->nb[i - 1].g < h->g) /* ties: the earlier first */
        i--;
    if (i >= NBEST)
        return;
    int last = p->nnb < NBEST ? p->nnb : NBEST - 1;
    memmove(&p->nb[i + 1], &p->nb[i], (size_t)(last - i) * sizeof p->nb[0]);
    p->nb[i] = *h;
    if (p->nnb < NBEST)
        p->nnb++;
}

/* GBK has both forms of most characters (电 B5E7 and 電 EB8A) and the
 * model reads them alike, so the text around decides: a candidate in the
 * script the line does not use costs this much more. */
#define SCRIPT_MISMATCH 30

/* GBK's rows of numerals in circles and brackets, kana, Greek, Cyrillic,
 * pinyin letters and bopomofo, and box drawing (leads A2, A4-A9), and the
 * full-width Latin letters of row A3: a reading shifted through Chinese
 * text that makes them (`?huǎn))力忆泎` read as 彛┝σ錄z, `)` taken for
 * a flattened `）`; `，如CD-ROM` as `，，ｇCD-ROM`, the model liking a
 * letter before letters) has read bytes apart that belong together, so
 * each costs this much more.  Chinese text writes Latin letters in ASCII;
 * the marks of row A1 and the rest of row A3 (，！（３) are ordinary
 * text.  Measured on the bench's gbk-shift kind: letters charged too,
 * 3.044% -> 3.040% CER, two readings right (把umask, 如CD-ROM) and no
 * other kind changed. */
#define SYMBOL_ROW 100

static int symbol_row(unsigned lead, unsigned trail)
{
    if (lead == 0xA3)
        return (trail >= 0xC1 && trail <= 0xDA) || (trail >= 0xE1 && trail <= 0xFA);
    return lead == 0xA2 || (lead >= 0xA4 && lead <= 0xA9);
}

/* The script the line around s[q] does not use: ZF_LM_SIMP when it has
 * clearly more Traditional-only characters than Simplified ones that
 * convert, ZF_LM_TRAD the other way round, else 0.  Looks at most
 * SCRIPT_WINDOW bytes each side. */
#define SCRIPT_WINDOW 600
static int script_to_avoid(const char *s, size_t n, size_t q)
{
    size_t a = q > SCRIPT_WINDOW ? q - SCRIPT_WINDOW : 0;
    size_t b = n - q > SCRIPT_WINDOW ? q + SCRIPT_WINDOW : n;
    while (a < q && ((unsigned char)s[a] & 0xC0) == 0x80)
        a++;
    int trad = 0, simp = 0;
    for (size_t i = a; i < b;) {
        int32_t c;
        i += (size_t)zf_utf8_next(s + i, b - i, &c);
        int sc = zf_lm_script(c);
        trad += sc == ZF_LM_TRAD;
        simp += sc == ZF_LM_SIMP;
    }
    if (trad >= 2 && trad >= 2 * simp)
        return ZF_LM_SIMP;
    if (simp >= 2 && simp >= 2 * trad)
        return ZF_LM_TRAD;
    return 0;
}

/* One column of the search: the bytes one original character may have. */
typedef struct {
    byteset lead, trail;
    int wild;      /* the pair (previous trail, this lead) came out as `?`:
                      no character, or a flattened `？` (A3 BF) */
    int syl;       /* >= 0: only characters with this reading */
    int bad_next;  /* >= 0: a lone trail byte the decoder did not join with
                      this ASCII byte, so (trail, bad_next) is no character */
    int bridge;    /* >= 0: the lead is the second byte of a bridge lost
                      without a tail; this is its first byte */
} colspec;

/* The common characters (zf_lm_char_cost() at most COMMON_COST) of each
 * lead byte, in the order of their trail bytes: a column with both bytes
 * unknown looks at these alone, and finding them among every pair of its
 * bytes (up to 126 x 126 table lookups and costs) took longer than the
 * model's work on them.  Built once, on first use.  The 615 of GBK fit;
 * were there more, common_ok stays 0 and the pairs are scanned. */
#define COMMON_MAX 1024
static struct {
    int32_t cp;
    int16_t cost;
    unsigned char trail;
} common_v[COMMON_MAX];
static uint16_t common_off[0xFE - 0x81 + 2]; /* lead l: [l - 0x81, l - 0x80) */
static int common_ok;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static void common_build(void)
{
    int n = 0;
    for (unsigned l = 0x81; l <= 0xFE; l++) {
        common_off[l - 0x81] = (uint16_t)n;
        for (unsigned t = 0x40; t <= 0xFE; t++) {
            int32_t cp = gbk_dec(l, t);
            int c = cp ? zf_lm_char_cost(cp) : COMMON_COST + 1;
            if (c > COMMON_COST)
                continue;
            if (n == COMMON_MAX)
                return;
            common_v[n].cp = cp;
            common_v[n].cost = (int16_t)c;
            common_v[n].trail = (unsigned char)t;
            n++;
        }
    }
    common_off[0xFE - 0x81 + 1] = (uint16_t)n;
    common_ok = 1;
}

/* The GBK characters of each reading: those with syllable id s are
 * syl_code[syl_off[s] .. syl_off[s + 1]) (lead << 8 | trail), in code
 * order.  A column named by a reading looks at these instead of asking
 * zf_readings_has() of every pair of its bytes (126 a column, most of the
 * columns in text with pinyin glosses).  Built once, on first use: 30,339
 * codes; were there more than SYL_MAX, syl_ok stays 0 and the pairs are
 * scanned. */
#define SYL_MAX 32768
static uint16_t syl_code[SYL_MAX];
static uint16_t syl_off[ZF_SYL_IDS + 1];
static int syl_ok;
static pthread_once_t syl_once = PTHREAD_ONCE_INIT;

/* The syllables of cp, each once, into r[0..16); -1 when it has more. */
static int syl_list(int32_t cp, int *r)
{
    int k = zf_readings_of(cp, r, 16);
    if (k > 16)
        return -1;
    int m = 0;
    for (int i = 0; i < k; i++) {
        int j = 0;
        while (j < m && r[j] != r[i])
            j++;
        if (j == m)
            r[m++] = r[i];
    }
    return m;
}

static void syl_build(void)
{
    static uint16_t at[ZF_SYL_IDS];
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned l = 0x81; l <= 0xFE; l++)
            for (unsigned t = 0x40; t <= 0xFE; t++) {
                int32_t cp = gbk_dec(l, t);
                int r[16], k = cp ? syl_list(cp, r) : 0;
                if (k < 0)
                    return;
                for (int i = 0; i < k; i++) {
                    if (r[i] < 0 || r[i] >= ZF_SYL_IDS)
                        return;
                    if (pass == 0) {
                        total++;
                        syl_off[r[i] + 1]++;
                    } else {
                        syl_code[at[r[i]]++] = (uint16_t)(l << 8 | t);
                    }
                }
            }
        if (pass == 0) {
            if (total > SYL_MAX)
                return;
            for (int s = 0; s < ZF_SYL_IDS; s++) {
                syl_off[s + 1] = (uint16_t)(syl_off[s + 1] + syl_off[s]);
                at[s] = syl_off[s];
            }
        }
    }
    syl_ok = 1;
}

/* Append cp, bytes l and t, unigram cost uc, to the column that starts at
 * start, unless cs rules it out (its reading is for the caller to
 * check).  Returns 0 when the pool is full. */
static int push_cand(pool *p, int16_t *ucost, int start, const colspec *cs, unsigned l,
                     unsigned t, int32_t cp, int uc)
{
    if (cs->bad_next >= 0 && gbk_is_pair(t, (unsigned)cs->bad_next))
        return 1;
    if (p->nc >= MAXCAND)
        return 0;
    ucost[p->nc - start] = (int16_t)(uc >= 0 ? uc : zf_lm_char_cost(cp));
    cand *c = &p->c[p->nc++];
    c->cp = cp;
    c->lead = (unsigned char)l;
    c->trail = (unsigned char)t;
    c->cost = INT32_MAX;
    c->back = -1;
    c->extra = 0;
    return 1;
}

/* The bytes of b as a set: bit v & 63 of m[v >> 6] for each byte v. */
static void byte_mask(const byteset *b, uint64_t m[4])
{
    m[0] = m[1] = m[2] = m[3] = 0;
    int n = b->n == ALL ? 126 : b->n;
    for (int i = 0; i < n; i++) {
        unsigned v = b->n == ALL ? 0x81u + (unsigned)i : b->v[i];
        m[v >> 6] |= (uint64_t)1 << (v & 63);
    }
}

/* The candidates of the column cs, appended to the pool after start,
 * with their unigram costs in ucost; common: only common characters.
 * Returns 0 when the pool is full. */
static int gen_cands(pool *p, int16_t *ucost, int start, const colspec *cs, int common)
{
    int nl = cs->lead.n == ALL ? 126 : cs->lead.n;
    int nt = cs->trail.n == ALL ? 126 : cs->trail.n;
    if (cs->syl >= 0) {
        pthread_once(&syl_once, syl_build);
        if (syl_ok && cs->syl < ZF_SYL_IDS) {
            /* both byte lists are in byte order, and so the codes */
            uint64_t lm[4], tm[4];
            byte_mask(&cs->lead, lm);
            byte_mask(&cs->trail, tm);
            for (int e = syl_off[cs->syl]; e < syl_off[cs->syl + 1]; e++) {
                unsigned l = syl_code[e] >> 8, t = syl_code[e] & 0xFF;
                if ((lm[l >> 6] >> (l & 63) & 1) && (tm[t >> 6] >> (t & 63) & 1)
                    && !push_cand(p, ucost, start, cs, l, t, gbk_dec(l, t), -1))
                    return 0;
            }
            return 1;
        }
    }
    if (common) {
        pthread_once(&common_once, common_build);
        if (common_ok) {
            /* the trail bytes, as a set: both lists are in byte order, so
             * the candidates come in the order of the scan below */
            uint64_t tm[4];
            byte_mask(&cs->trail, tm);
            for (int i = 0; i < nl; i++) {
                unsigned l = cs->lead.n == ALL ? 0x81u + (unsigned)i : cs->lead.v[i];
                for (int e = common_off[l - 0x81]; e < common_off[l - 0x80]; e++) {
                    unsigned t = common_v[e].trail;
                    if ((tm[t >> 6] >> (t & 63) & 1)
                        && !push_cand(p, ucost, start, cs, l, t, common_v[e].cp, common_v[e].cost))
                        return 0;
                }
            }
            return 1;
        }
    }
    for (int i = 0; i < nl; i++) {
        unsigned l = cs->lead.n == ALL ? 0x81u + (unsigned)i : cs->lead.v[i];
        for (int j = 0; j < nt; j++) {
            unsigned t = cs->trail.n == ALL ? 0x81u + (unsigned)j : cs->trail.v[j];
            int32_t cp = gbk_dec(l, t);
            if (!cp)
                continue;
            int uc = common ? zf_lm_char_cost(cp) : -1;
            if (common && uc > COMMON_COST)
                continue;
            if (cs->syl >= 0 && !zf_readings_has(cp, cs->syl))
                continue;
            if (!push_cand(p, ucost, start, cs, l, t, cp, uc))
                return 0;
        }
    }
    return 1;
}

/* A column that looks at the common characters alone also looks at the
 * characters the model knows inside a word after one of its predecessors
 * (x when np is 0): 包 of 软件包 is no common character, and both its bytes
 * lost in `??` leave only the 件 before it to tell.  Returns 0 when the
 * pool is full. */
#define FOLLOW_MAX 1024
static int add_followers(pool *p, int16_t *ucost, int start, const colspec *cs, int prev,
                         int np, int32_t x)
{
    uint64_t lm[4], tm[4];
    byte_mask(&cs->lead, lm);
    byte_mask(&cs->trail, tm);
    int32_t f[FOLLOW_MAX];
    int first = p->nc;
    for (int k = 0; k < (np ? np : 1); k++) {
        size_t nf = zf_lm_followers(np ? p->c[prev + k].cp : x, f, FOLLOW_MAX);
        for (size_t i = 0; i < nf; i++) {
            unsigned code = zf_gbk_encode(f[i]), l = code >> 8, t = code & 0xFF;
            if (code <= 0xFF || !(lm[l >> 6] >> (l & 63) & 1) || !(tm[t >> 6] >> (t & 63) & 1))
                continue;
            int uc = zf_lm_char_cost(f[i]);
            if (uc <= COMMON_COST)
                continue; /* gen_cands() has it */
            int dup = 0;
            for (int c = first; c < p->nc && !dup; c++)
                dup = p->c[c].cp == f[i];
            if (!dup && !push_cand(p, ucost, start, cs, l, t, f[i], uc))
                return 0;
        }
    }
    return 1;
}

/*
 * Add the column of candidates for cs, each linked to its best predecessor
 * among the candidates pool[prev .. prev + np) (np == 0: X, the character
 * before the `?`, whose code point is x).  A candidate's cost is the path's
 * model cost plus the price of the bytes it invents.  Returns the number
 * added; 0 when nothing fits or the pool is full.
 *
 * bound: the most a candidate may cost and still be of use (NO_BOUND:
 * any).  A step costs at least 1, so a predecessor dearer than bound - 1 -
 * the price of the bytes cannot give one; its steps are not computed, and
 * the candidates only it reaches are left out.  *reached is the number of
 * candidates some predecessor reaches, left out or not: what the choice
 * among them costs, and whether the column fits at all, do not depend on
 * the bound.
 */
#define NO_BOUND INT32_MAX
static int add_column(pool *p, int prev, int np, const colspec *cs, int32_t x, int32_t bound,
                      int *reached)
{
    int start = p->nc;
    int16_t ucost[MAXCAND]; /* zf_lm_char_cost() of each candidate */
    int nl = cs->lead.n == ALL ? 126 : cs->lead.n;
    int nt = cs->trail.n == ALL ? 126 : cs->trail.n;
    /* a reading names the character: only the choice among the characters
     * with that reading is invented (charged below) */
    int price = cs->syl >= 0 ? 0 : byte_cost(cs->lead.n) + byte_cost(cs->trail.n);
    /* both bytes unknown (or nearly: one of 126 leads and one of the 23
     * trails a `?` allows): only common characters, or the search
     * explodes */
    int common = nl * nt > 256 && cs->syl < 0;
    if (!gen_cands(p, ucost, start, cs, common)
        || (common && !add_followers(p, ucost, start, cs, prev, np, x))) {
        p->nc = start;
        *reached = 0;
        return 0;
    }
    int end = p->nc;
    /* link each candidate to its best predecessor; the model's work that
     * depends on the predecessor alone is done once per predecessor */
    zf_lm_ctx ctx;
    if (np == 0) {
        zf_lm_ctx_init(&ctx, x);
        for (int c = start; c < end; c++)
            p->c[c].cost = zf_lm_ctx_step_c(&ctx, p->c[c].cp, ucost[c - start]);
    }
    /* predecessors cheapest first, so that most are cut off by the bound
     * below before the model's per-predecessor work is done */
    int16_t order[MAXCAND];
    for (int k = 0; k < np; k++)
        order[k] = (int16_t)(prev + k);
    for (int k = 1; k < np; k++) { /* insertion sort: columns are short */
        int16_t v = order[k];
        int j = k;
        while (j > 0 && p->c[order[j - 1]].cost > p->c[v].cost) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    int o = 0;
    for (; o < np; o++) {
        int k = order[o];
        const cand *pc = &p->c[k];
        if (bound != NO_BOUND && (int64_t)pc->cost + 1 + price > bound)
            break; /* and so is every predecessor after it */
        int ready = 0;
        for (int c = start; c < end; c++) {
            cand *cc = &p->c[c];
            int cost = pc->cost;
            if (cost >= cc->cost)
                continue;
            if (cs->wild && !unreadable(pc->trail, cc->lead))
                continue; /* the decoder would have read that pair */
            if (!ready) {
                zf_lm_ctx_init(&ctx, pc->cp);
                ready = 1;
            }
            cost += zf_lm_ctx_step_c(&ctx, cc->cp, ucost[c - start]);
            if (cost < cc->cost) {
                cc->cost = cost;
                cc->back = (int16_t)k;
            }
        }
    }
    /* drop what no predecessor reaches, or only those past the bound
     * would (counted all the same); charge the invented bytes */
    int n = start, nreached = 0;
    for (int c = start; c < end; c++) {
        if (p->c[c].cost == INT32_MAX) {
            for (int r = o; r < np; r++) {
                const cand *pc = &p->c[order[r]];
                if (!cs->wild || unreadable(pc->trail, p->c[c].lead)) {
                    nreached++;
                    break;
                }
            }
            continue;
        }
        nreached++;
        cand cc = p->c[c];
        int extra = price;
        if (p->avoid && zf_lm_script(cc.cp) == p->avoid)
            extra += SCRIPT_MISMATCH;
        if (symbol_row(cc.lead, cc.trail))
            extra += SYMBOL_ROW;
        if (cs->bridge >= 0
            && zf_lm_script(zf_gbk_decode2((unsigned)cs->bridge, cc.lead)) == ZF_LM_TRAD)
            extra += BRIDGE_TRAD;
        cc.cost += extra;
        cc.extra = (int16_t)extra;
        p->c[n++] = cc;
    }
    p->nc = n;
    if (cs->syl >= 0 && nreached > 1) {
        int extra = choice_cost(nreached);
        for (int c = start; c < n; c++) {
            p->c[c].cost += extra;
            p->c[c].extra = (int16_t)(p->c[c].extra + extra);
        }
    }
    *reached = nreached;
    return n - start;
}

/*
 * A `?` inside a run is two bytes the decoder could not read as one
 * character: the trail byte t of one original character and the lead byte
 * l of the next (or a flattened `？`, A3 BF).  Few trail bytes can start
 * such a pair: those of the user-defined and unassigned rows (AA-AF, F8-FE,
 * parts of A1-A9, D7FA-D7FE), 23 of 126.  Knowing that, the search looks
 * at a handful of characters instead of every character of a row, and
 * the next lead byte at a handful of bytes instead of 126.
 */
static void make_wild_trails(byteset *b)
{
    b->n = 0;
    for (unsigned t = 0x81; t <= 0xFE; t++) {
        uint64_t m[2];
        gbk_unread_leads(t, m);
        if (m[0] | m[1])
            b->v[b->n++] = (unsigned char)t;
    }
}

/* The lead bytes that, after the trail byte of some candidate of the
 * column p->c[mark .. mark + na), make a pair the decoder could not read. */
static void wild_leads(const pool *p, int mark, int na, byteset *out)
{
    uint64_t lead[2] = {0, 0};
    for (int c = mark; c < mark + na; c++) {
        uint64_t m[2];
        gbk_unread_leads(p->c[c].trail, m);
        lead[0] |= m[0];
        lead[1] |= m[1];
    }
    out->n = 0;
    for (unsigned l = 0x81; l <= 0xFE; l++)
        if ((lead[l >> 6 & 1] >> (l & 63)) & 1)
            out->v[out->n++] = (unsigned char)l;
}

/*
 * Keep the BEAM cheapest candidates of the column p->c[mark .. mark + na)
 * (the column just added, so nothing points into it yet).  A character
 * with one unknown byte has up to 126 candidates, and the next column
 * links each of its own to every one of them; past the first few, a
 * candidate is far too improbable to win, and the search stays linear in
 * the length of the run.  Returns the number kept.
 */
#define BEAM 12
static int keep_best(pool *p, int mark, int na, int32_t ahead)
{
    if (na <= BEAM)
        return na;
    cand *c = p->c + mark;
    /* the key: the cost so far, and the step to the next character when
     * its two bytes are known (控 of 控制 is no common character after
     * 符, and only the 制 after it tells) */
    int32_t key[MAXCAND];
    for (int j = 0; j < na; j++)
        key[j] = c[j].cost + (ahead >= 0 ? zf_lm_step(c[j].cp, ahead) : 0);
    for (int i = 0; i < BEAM; i++) { /* selection: BEAM passes over na */
        int m = i;
        for (int j = i + 1; j < na; j++)
            if (key[j] < key[m])
                m = j;
        cand tmp = c[i];
        c[i] = c[m];
        c[m] = tmp;
        int32_t kt = key[i];
        key[i] = key[m];
        key[m] = kt;
    }
    p->nc = mark + BEAM;
    return BEAM;
}

/* Flattening happened after the bad decode, so in a flattened document
 * a restored full-width form goes back to the ASCII the rest of it has
 * (in one that kept its full-width forms, `用户（o）` stays so). */
static int32_t flatten(int32_t c)
{
    return c >= 0xFF01 && c <= 0xFF5E ? c - 0xFF01 + 0x21 : c;
}

/*
 * Ranking the best readings with the word model (lm_words.c).  The search
 * scores a character after the one before it, and so likes very common
 * characters too much: 该的档 beat 该文档 and 使用心 beat 使用新, where
 * the words (文档, 使用 新) say otherwise.  Once the search has found that
 * a spot is damaged, the readings it ranked best (the best path to each of
 * the last few characters and run ends, and those paths with one character
 * swapped for another of its column) are ranked again by the search's own
 * gain plus the word model's cost of the same window of text around the
 * spot: WORD_LEFT characters before the `?`, the reading, and the text as
 * found after it up to WORD_RIGHT characters past the longest reading.
 * Every reading is charged for the same window, so a shorter run pays for
 * the garbled text it leaves.  Only readings within RANK_MARGIN of the best
 * gain are ranked: the word model chooses among readings the search
 * already finds probable, it does not overrule it.
 */
#define WORD_LEFT 4
#define WORD_RIGHT 4
#define RANK_MARGIN 100
/* The rank of a reading: minus its gain, plus WORD_WEIGHT times the word
 * model's cost of the window.  Set from the bench (rows gbk-shift and
 * seed-like) and the fixtures: a weight of 2, or a margin of 300, let the
 * words overrule the search where it was right (飛得很高 -> 飛得能高). */
#define WORD_WEIGHT 1
/* A spot whose best gain falls short of GAIN_FIX is still repaired when
 * its gain is at least GAIN_WORDS and the word model finds the chosen
 * reading WORD_FIX (6 bits) more probable than the text as found over the
 * same window: both experts then agree that the found text is the worse
 * one (文件 against ?募?). */
#define GAIN_WORDS 0
#define WORD_FIX 60

/* A reading whose gain is below this never matters: it is not repaired,
 * reported or ranked (rank_readings() ranks only readings within
 * RANK_MARGIN of the best, and only when the best gain is GAIN_WORDS or
 * more; below GAIN_SUSPECT and GAIN_FIX nothing is done). */
#define GAIN_USELESS ((GAIN_WORDS < GAIN_SUSPECT ? GAIN_WORDS : GAIN_SUSPECT) - RANK_MARGIN)
_Static_assert(GAIN_WORDS <= GAIN_FIX, "a repair is ranked first");

/* The most the last character of a reading may cost (its path and
 * charges) and still give a reading that matters, when the text as found
 * costs oldj and the steps after that character cost at least after_min:
 * a gain of GAIN_USELESS or more, and more than the last of the best few
 * once they are found (nbest_add() takes no tie with it).  Past it, no
 * reading through the candidate can change what zf_gbk_realign() does. */
static int32_t end_bound(const pool *p, int oldj, int after_min)
{
    int gmin = GAIN_USELESS;
    if (p->nnb == NBEST && p->nb[NBEST - 1].g + 1 > gmin)
        gmin = p->nb[NBEST - 1].g + 1;
    return (int32_t)oldj - after_min - gmin;
}

/* The characters of the reading h, first to last. */
static void chain_of(const pool *p, const hyp *h, cand *ch)
{
    ch[h->m - 1] = h->last;
    int ci = h->last.back;
    for (int j = h->m - 2; j >= 0; j--) {
        ch[j] = p->c[ci];
        ci = p->c[ci].back;
    }
}

/* What the script of the text around charged reading h (SCRIPT_MISMATCH
 * for each of its characters in the script avoided). */
static int script_penalty(const pool *p, const hyp *h)
{
    cand ch[MAXTOK];
    int pen = 0;
    if (!p->avoid)
        return 0;
    chain_of(p, h, ch);
    for (int j = 0; j < h->m; j++)
        pen += zf_lm_script(ch[j].cp) == p->avoid ? SCRIPT_MISMATCH : 0;
    return pen;
}

/* Where the text after a reading resumes: an annotation there is the
 * reading's, removed by the pinyin pass. */
static size_t resume_at(const char *s, size_t n, size_t i)
{
    int syl;
    size_t e = parse_annotation(s, n, i, &syl);
    return e ? e : i;
}

#define WIN_CAP ((int)(sizeof ((pool *)0)->win / sizeof(int32_t)))

/* The word model's cost of the window with reading h (characters ch):
 * p->win[0 .. nleft) holds the left context already. */
static int window_cost(pool *p, int nleft, const cand *ch, const hyp *h, const char *s, size_t n,
                       size_t right)
{
    int32_t *w = p->win;
    int k = nleft;
    for (int j = 0; j < h->m && k < WIN_CAP; j++)
        w[k++] = flatten(ch[j].cp);
    if (h->give >= 0 && k < WIN_CAP)
        w[k++] = h->give;
    for (size_t i = resume_at(s, n, h->rstart); i < right && k < WIN_CAP;) {
        int32_t c;
        i += (size_t)zf_utf8_next(s + i, right - i, &c);
        w[k++] = c;
    }
    return zf_lm_words_cost(w, (size_t)k);
}

/* The state of rank_readings(): the window, and the best reading so far
 * (rank score, word cost, the reading and its characters). */
typedef struct {
    pool *p;
    const char *s;
    size_t n, right;
    int32_t x;
    int nleft, floor_g;
    int have, w;
    long score;
    hyp best;
    cand ch[MAXTOK];
} rank_ctx;

#define SWAP_ROUNDS 3

/* Rank the reading h (characters ch, gain g) itself when self is set, and
 * every reading that swaps one of its characters for another candidate of
 * the same column, keeping the best in rc. */
static void consider_swaps(rank_ctx *rc, const hyp *h, cand *ch, int g0, int self)
{
    pool *p = rc->p;
    zf_lm_ctx bx;
    for (int j = self ? -1 : 0; j < h->m - 1; j++) {
        /* j == -1: the reading itself; else with column j swapped; the
         * model's steps into and out of column j as it stands, and the
         * work that depends on the character before it, done once */
        int cbeg = j < 0 ? 0 : p->colmark[j], cend = j < 0 ? 1 : p->colmark[j] + p->colna[j];
        int base = 0;
        if (j >= 0) {
            zf_lm_ctx_init(&bx, j > 0 ? ch[j - 1].cp : rc->x);
            base = zf_lm_ctx_step(&bx, ch[j].cp) + zf_lm_step(ch[j].cp, ch[j + 1].cp) + ch[j].extra;
        }
        for (int c = cbeg; c < cend; c++) {
            int g = g0;
            cand keep = ch[0];
            if (j >= 0) {
                const cand *alt = &p->c[c];
                if (alt->cp == ch[j].cp)
                    continue;
                if (j > 0 && p->colwild[j] && !unreadable(ch[j - 1].trail, alt->lead))
                    continue;
                if (p->colwild[j + 1] && !unreadable(alt->trail, ch[j + 1].lead))
                    continue;
                g += base - zf_lm_ctx_step(&bx, alt->cp) - alt->extra;
                if (g - 1 < rc->floor_g)
                    continue; /* a step costs at least 1 */
                g -= zf_lm_step(alt->cp, ch[j + 1].cp);
                if (g < rc->floor_g)
                    continue;
                keep = ch[j];
                ch[j] = *alt;
            }
            int w = window_cost(p, rc->nleft, ch, h, rc->s, rc->n, rc->right);
            long score = -(long)g + (long)WORD_WEIGHT * w;
            if (!rc->have || score < rc->score) {
                rc->have = 1;
                rc->w = w;
                rc->score = score;
                rc->best = *h;
                rc->best.g = g;
                memcpy(rc->ch, ch, (size_t)h->m * sizeof ch[0]);
            }
            if (j >= 0)
                ch[j] = keep;
        }
    }
}

/*
 * Choose among the readings p->nb[0 .. p->nnb) (p->nb[0] the search's
 * best); stores the chosen one's characters in chain and returns it.
 */
static hyp rank_readings(pool *p, const char *s, size_t n, size_t q, int32_t x, int32_t *chain,
                         int *word_gain)
{
    int floor_g = p->nb[0].g - RANK_MARGIN;
    int nh = 0;
    size_t right = 0;
    while (nh < p->nnb && p->nb[nh].g >= floor_g) {
        size_t r = resume_at(s, n, p->nb[nh].rstart);
        if (r > right)
            right = r;
        nh++;
    }
    for (int i = 0; i < WORD_RIGHT && right < n && s[right] != '\n' && s[right] != '\r'; i++) {
        int32_t c;
        right += (size_t)zf_utf8_next(s + right, n - right, &c);
    }
    /* the left context, annotations left out (the pinyin pass removes
     * them: 紅(hóng)燒 reads 紅燒), last character first */
    int32_t lc[WORD_LEFT];
    int nleft = 0;
    size_t left = q;
    while (nleft < WORD_LEFT && left > 0 && s[left - 1] != '\n' && s[left - 1] != '\r') {
        if (s[left - 1] == ')') {
            size_t o = left - 1;
            while (o > 0 && left - o < 40 && s[o] != '(')
                o--;
            int syl;
            if (s[o] == '(' && parse_annotation(s, n, o, &syl) == left) {
                left = o;
                continue;
            }
        }
        size_t b = zf_utf8_prev(s, left);
        zf_utf8_next(s + b, left - b, &lc[nleft++]);
        left = b;
    }
    for (int i = 0; i < nleft; i++)
        p->win[i] = lc[nleft - 1 - i];

    /* the text as found, over the same window */
    int found = nleft;
    for (size_t i = q; i < right && found < WIN_CAP;) {
        int32_t c;
        i += (size_t)zf_utf8_next(s + i, right - i, &c);
        p->win[found++] = c;
    }
    int wfound = zf_lm_words_cost(p->win, (size_t)found);

    rank_ctx rc;
    rc.p = p;
    rc.s = s;
    rc.n = n;
    rc.x = x;
    rc.nleft = nleft;
    rc.right = right;
    rc.floor_g = floor_g;
    rc.have = 0;
    cand ch[MAXTOK];
    for (int a = 0; a < nh; a++) {
        chain_of(p, &p->nb[a], ch);
        consider_swaps(&rc, &p->nb[a], ch, p->nb[a].g, 1);
    }
    /* one swap at a time may not reach a reading two characters away
     * (主积极 -> 主机名): swap again from the chosen reading while that
     * helps */
    for (int r = 0; r < SWAP_ROUNDS; r++) {
        long before = rc.score;
        hyp h = rc.best;
        memcpy(ch, rc.ch, (size_t)h.m * sizeof ch[0]);
        consider_swaps(&rc, &h, ch, h.g, 0);
        if (rc.score >= before)
            break;
    }
    for (int i = 0; i < rc.best.m; i++)
        chain[i] = rc.ch[i].cp;
    *word_gain = wfound - rc.w;
    return rc.best;
}

/* The verdicts of zf_gbk_realign(). */
#define SHIFT_NONE 0
#define SHIFT_FIX 1
#define SHIFT_SUSPECT (-1)
#define SHIFT_ENOMEM (-2)

/* What the realigner reads before its search: X, the bridge's lead bytes
 * (every one, or those the tail of its annotation names) and where the
 * characters after the bridge start. */
typedef struct {
    int32_t x;
    unsigned x2;   /* X's trail byte, the bridge's first */
    byteset lead;
    size_t after;
} spot;

/* Read the spot whose `?` is at s[q] into *sp and the characters after
 * it into t[0..*nt).  Returns -1 when no run can start there (X is no
 * two-byte character), 0 when the characters after it are no run (the
 * checks before the model is asked more than unigram costs; t may then
 * hold only the first few), 1 when the search may find one (t holds
 * every character it may read). */
static int spot_read(const char *s, size_t n, size_t q, spot *sp, tok *t, int *nt)
{
    *nt = 0;
    if (q == 0 || q >= n || s[q] != '?')
        return -1;
    size_t xs = zf_utf8_prev(s, q);
    int32_t x;
    if (zf_utf8_next(s + xs, q - xs, &x) != (int)(q - xs))
        return -1;
    /* X's code: a two-byte character, or ASCII punctuation that was a
     * full-width form when the decoder went wrong (`,` was `，` A3 AC) */
    unsigned xcode = zf_gbk_encode(x);
    if (x < 0x80) {
        if ((x >= '0' && x <= '9') || ((x | 0x20) >= 'a' && (x | 0x20) <= 'z') || x == '('
            || x == ')')
            return -1;
        xcode = flat_code(x);
    }
    unsigned x2 = xcode & 0xFF;
    if (xcode <= 0xFF || x2 < 0x80)
        return -1; /* an ASCII trail would have been read in step */
    sp->x = x;
    sp->x2 = x2;

    /* the bridge: `?`, maybe the tail of its annotation */
    byteset *lead = &sp->lead;
    lead->n = ALL;
    sp->after = q + 1;
    int bsyl;
    size_t te = parse_tail(s, n, sp->after, &bsyl);
    if (te && bsyl >= 0) {
        bridge_leads(x2, bsyl, lead);
        if (lead->n > 0)
            sp->after = te;
        else
            lead->n = ALL; /* names no bridge: not its tail */
    }

    /* the cheap test reads PEEK + 1 characters: the rest only past it */
    *nt = tokenize(s, n, sp->after, t, lead->n == ALL ? PEEK + 1 : MAXTOK);
    if (*nt == 0)
        return 0;
    if (lead->n == ALL && !bytes_read_better(t, *nt))
        return 0;
    /* nothing named and nothing found: with no two-byte character and no
     * pinyin among the first characters after it, a run would be read
     * from `?` and marks alone, every byte invented (a line of `?` with a
     * digit here and there cost the search half a millisecond a `?`, and
     * made 經營權力還 of `?` and a euro sign) */
    if (lead->n == ALL && !found_pair(t, *nt))
        return 0;
    if (lead->n == ALL && *nt == PEEK + 1)
        *nt += tokenize(s, n, t[*nt - 1].end, t + *nt, MAXTOK - *nt);
    /* the common case, a question mark before ordinary text: a run read
     * out of step starts with characters that are rare together, so two
     * that read well (9 bits each or less) end the matter cheaply */
    if (lead->n == ALL && *nt >= 2 && t[0].kind == TK_GBK2 && t[1].kind == TK_GBK2
        && zf_lm_char_cost(t[0].cp) + zf_lm_step(t[0].cp, t[1].cp) <= CLEAN_START)
        return 0;
    return 1;
}

static int realign(const char *s, size_t n, size_t q, int flat, size_t *end, char *rep,
                   size_t cap, size_t *rep_len, size_t *read);

int zf_gbk_shift_verdict(const char *s, size_t n, size_t q, size_t *read)
{
    char rep[4 * MAXTOK + 8];
    size_t e, rl;
    *read = q;
    return realign(s, n, q, 0, &e, rep, sizeof rep, &rl, read);
}

/*
 * Realign the spot whose `?` is at s[q] (q > 0; the character before it is
 * X).  s[0..n) is the text; the search stops at the end of the line.
 * SHIFT_FIX: replace s[q..*end) by rep[0..*rep_len).  SHIFT_SUSPECT: the
 * span s[q..*end) looks damaged but no reading is probable enough.
 * SHIFT_NONE: nothing here.  SHIFT_ENOMEM: out of memory.  cap must be at
 * least 4 * MAXTOK + 8.
 */
int zf_gbk_realign(const char *s, size_t n, size_t q, int flat, size_t *end, char *rep,
                   size_t cap, size_t *rep_len)
{
    return realign(s, n, q, flat, end, rep, cap, rep_len, NULL);
}

/* The offset after the character at or after i that the model reads after
 * a reading that ends at i (next_char()), or i at a line end. */
static size_t past_next(const char *s, size_t n, size_t i)
{
    int syl;
    size_t e = parse_annotation(s, n, i, &syl);
    if (e)
        i = e;
    if (i >= n || s[i] == '\n' || s[i] == '\r')
        return i;
    int32_t c;
    return i + (size_t)zf_utf8_next(s + i, n - i, &c);
}

/* zf_gbk_realign(); with `read` not NULL, *read is where the characters
 * the search read end when it searched, with the one after them that an
 * ending is scored against; else left alone. */
static int realign(const char *s, size_t n, size_t q, int flat, size_t *end, char *rep,
                   size_t cap, size_t *rep_len, size_t *read)
{
    if (cap < 4 * MAXTOK + 8)
        return SHIFT_NONE;
    spot sp;
    tok t[MAXTOK];
    int nt;
    if (spot_read(s, n, q, &sp, t, &nt) <= 0)
        return SHIFT_NONE;
    const int32_t x = sp.x;
    const unsigned x2 = sp.x2;
    const byteset lead = sp.lead;
    const size_t after = sp.after;

    /* cost of the text as found, from X on: `?`, the tail, the tokens;
     * and how many of the tokens are two-byte characters */
    int oldc[MAXTOK + 1], nhan[MAXTOK + 1];
    nhan[0] = 0;
    for (int k = 0; k < nt; k++)
        nhan[k + 1] = nhan[k] + (t[k].kind == TK_GBK2);
    int32_t oldprev = x;
    oldc[0] = 0;
    for (size_t i = q; i < after;) {
        int32_t ch;
        i += (size_t)zf_utf8_next(s + i, after - i, &ch);
        oldc[0] += zf_lm_step(oldprev, ch);
        oldprev = ch;
    }

    static const byteset all = {ALL, {0}};
    byteset wild_trails;
    wild_trails.n = 0;
    /* on the heap: 48 KB is too much stack for a library function, and
     * only `?` after a two-byte character gets this far */
    pool *p = malloc(sizeof *p);
    if (!p)
        return SHIFT_ENOMEM;
    p->nc = 0;
    p->nnb = 0;
    p->avoid = script_to_avoid(s, n, q);
    int prev = 0, np = 0;   /* column of the previous character; np 0: X */
    size_t run_end = after; /* past the last character read shifted */
    byteset cur = lead;     /* lead byte of the next original character */
    int wild_prev = 0;

    size_t read_end = after;
    for (int k = 0; k < nt; k++) {
        const tok *tk = &t[k];
        read_end = tk->tail_end > tk->end ? tk->tail_end : tk->end;
        p->colwild[k] = (unsigned char)wild_prev;
        oldc[k + 1] = oldc[k] + zf_lm_step(oldprev, tk->cp); /* as found */
        oldprev = tk->cp;
        /* ---- the run ends at this token: its last original character ---- */
        colspec cs;
        cs.lead = cur;
        cs.wild = wild_prev;
        cs.syl = -1;
        cs.bad_next = -1;
        cs.bridge = k == 0 && lead.n == ALL ? (int)x2 : -1;
        int paren = 0, ok = 1, qpen = 0;
        int32_t give = -1;
        size_t scorepos = tk->end;
        if (tk->kind == TK_ASCII && tk->cp >= 0x40) {
            set_one(&cs.trail, (unsigned)tk->cp);        /* an ASCII trail byte */
            cs.syl = tk->tail_syl;                       /* its own annotation */
        } else if (tk->kind == TK_EURO) {
            set_one(&cs.trail, 0x80);                    /* the trail byte 0x80 */
            cs.syl = tk->tail_syl;
        } else if (tk->kind == TK_GBK2 && (tk->code & 0xFF) >= 0x40
                   && (tk->code & 0xFF) < 0x7F) {
            set_one(&cs.trail, tk->code >> 8);           /* swallowed ASCII */
            give = (int32_t)(tk->code & 0xFF);
        } else if (tk->kind == TK_QMARK) {
            cs.trail = all;                              /* a lone trail byte */
            if (tk->tail_syl >= 0) {
                cs.syl = tk->tail_syl;                   /* ... that ate a `(` */
                paren = 1;
                scorepos = tk->tail_end;
            } else if (tk->end < n && s[tk->end] == '(') {
                ok = 0; /* the decoder would have eaten that `(` */
            } else if (tk->end < n && (unsigned char)s[tk->end] >= 0x40
                       && (unsigned char)s[tk->end] < 0x7F) {
                cs.bad_next = (unsigned char)s[tk->end];
            } else if (tk->end < n && s[tk->end] == '?') {
                qpen = LONE_QMARK;
            } else if (tk->end < n && (unsigned char)s[tk->end] >= 0x80) {
                /* a lone trail byte is no character with the ASCII byte
                 * after it; the decoder ate that byte with it (`?bào)`
                 * ate a `(`), and no reading can give the byte back: a
                 * `?` before a Han character is no run's end (text a
                 * lossy conversion gave `?` for each character it lacked,
                 * `?路?上`, read 衣服) */
                ok = 0;
            }
            if (cur.n == ALL && cs.syl < 0)
                ok = 0; /* two unknown bytes and nothing names them */
        } else {
            ok = 0;
        }
        if (ok) {
            /* the text as found, to the character after the run */
            int32_t nx = next_char(s, n, scorepos);
            int oldj = oldc[k + 1];
            int32_t last = tk->cp;
            for (size_t i = tk->end; i < scorepos;) {
                int32_t ch;
                i += (size_t)zf_utf8_next(s + i, scorepos - i, &ch);
                oldj += zf_lm_step(last, ch);
                last = ch;
            }
            if (nx >= 0)
                oldj += zf_lm_step(last, nx);
            else
                oldj += eol_cost(last);
            /* the steps after the last character cost at least this */
            int after_min = (give >= 0) + (nx >= 0);
            int mark = p->nc, reached;
            int annot = cs.syl >= 0 && !paren ? ANNOT_EVIDENCE : 0;
            int na = add_column(p, prev, np, &cs, x, end_bound(p, oldj + annot, after_min),
                                &reached);
            int named = lead.n != ALL || paren;
            if (annot) {
                if (reached == 0) {
                    cs.syl = -1; /* the annotation is not this character's */
                    annot = 0;
                    na = add_column(p, prev, np, &cs, x, end_bound(p, oldj, after_min),
                                    &reached);
                } else {
                    named = 1;
                }
            }
            oldj += annot;
            for (int c = mark; c < mark + na; c++) {
                if (p->c[c].cost > end_bound(p, oldj, after_min))
                    continue; /* no use: spare the steps after it */
                int newc = p->c[c].cost;
                int32_t l2 = p->c[c].cp;
                if (give >= 0) {
                    newc += zf_lm_step(l2, give);
                    l2 = give;
                }
                if (nx >= 0)
                    newc += zf_lm_step(l2, nx);
                else
                    newc += eol_cost(l2);
                int g = oldj - newc;
                /* with nothing but the model to go on, a run must have
                 * replaced at least two garbled characters: `展?A览` is a
                 * question mark and a letter, and 展預览 only a guess */
                if (!named && nhan[k + 1] < 2)
                    g -= WEAK_PENALTY;
                g -= qpen;
                if (p->nnb < NBEST || g > p->nb[NBEST - 1].g) {
                    hyp h;
                    h.g = g;
                    h.m = k + 1;
                    h.end = tk->end;
                    h.rstart = scorepos;
                    h.give = give;
                    h.paren = paren;
                    h.last = p->c[c];
                    nbest_add(p, &h);
                }
            }
            p->nc = mark; /* an ending column is not part of the chain */
        }
        /* ---- the run goes on: this token is one shifted character ---- */
        unsigned code = 0;
        int wild = 0;
        if (tk->kind == TK_GBK2 && (tk->code & 0xFF) >= 0x81)
            code = tk->code;
        else if (tk->kind == TK_QMARK)
            wild = 1; /* a pair that is no character, or a flattened `？` */
        else if ((tk->kind == TK_ASCII || tk->kind == TK_QMARK) && tk->code)
            code = tk->code; /* a flattened full-width form */
        else
            break;
        cs.lead = cur;
        cs.wild = wild_prev;
        cs.syl = -1;
        cs.bad_next = -1;
        cs.bridge = k == 0 && lead.n == ALL ? (int)x2 : -1;
        if (wild) {
            if (wild_trails.n == 0)
                make_wild_trails(&wild_trails);
            cs.trail = wild_trails;
        } else {
            set_one(&cs.trail, code >> 8);
        }
        int mark = p->nc, reached;
        int na = add_column(p, prev, np, &cs, x, NO_BOUND, &reached);
        if (na == 0)
            break;
        int32_t ahead = -1;
        if (!wild && k + 1 < nt && t[k + 1].kind == TK_GBK2)
            ahead = zf_gbk_decode2(code & 0xFF, t[k + 1].code >> 8);
        na = keep_best(p, mark, na, ahead ? ahead : -1);
        p->colmark[k] = mark;
        p->colna[k] = na;
        run_end = tk->end;
        prev = mark;
        np = na;
        wild_prev = wild;
        if (wild) {
            wild_leads(p, mark, na, &cur);
            if (cur.n == 0)
                break;
        } else {
            set_one(&cur, code & 0xFF);
        }
        if (k + 1 >= GIVE_UP_AFTER) {
            int lo = p->c[mark].cost;
            for (int c = mark + 1; c < mark + na; c++)
                if (p->c[c].cost < lo)
                    lo = p->c[c].cost;
            if (lo - oldc[k + 1] > GIVE_UP)
                break;
        }
    }
    /* A `?` with the tail of a bridge's annotation is damage whatever
     * the search found: left as found, it is reported, over the run read
     * shifted when no ending of it was worth ranking. */
    if (read)
        *read = past_next(s, n, read_end);
    int tail_named = lead.n != ALL;
    if (p->nnb == 0) {
        free(p);
        *end = run_end;
        return tail_named ? SHIFT_SUSPECT : SHIFT_NONE;
    }
    int best_gain = p->nb[0].g;
    int32_t chain[MAXTOK];
    int word_gain = 0;
    hyp h = p->nb[0];
    if (best_gain >= GAIN_WORDS)
        h = rank_readings(p, s, n, q, x, chain, &word_gain);
    if (best_gain < GAIN_FIX && (best_gain < GAIN_WORDS || word_gain < WORD_FIX)) {
        *end = p->nb[0].end;
        /* whether the spot looks damaged does not depend on the script of
         * the text around, which only chooses between forms: 繁?y read
         * as 繁雜 in Traditional text, and so left as found, must not
         * turn into a plain `?` once the text is made Simplified, or the
         * next run writes `？` there */
        int suspect = best_gain + script_penalty(p, &p->nb[0]) >= GAIN_SUSPECT;
        free(p);
        return suspect || tail_named ? SHIFT_SUSPECT : SHIFT_NONE;
    }
    free(p);
    *end = h.end;
    size_t r = 0;
    for (int i = 0; i < h.m; i++)
        r += (size_t)zf_utf8_put(flat ? flatten(chain[i]) : chain[i], rep + r);
    if (h.give >= 0)
        rep[r++] = (char)h.give;
    if (h.paren)
        rep[r++] = '(';
    *rep_len = r;
    return SHIFT_FIX;
}
