/*
 * pass_script.c - Traditional/Simplified: restore or unify the script.
 *
 * --script=hans and hant convert every run of Han characters (script_map.c:
 * phrases, then characters, context choice where a character has several
 * targets).  --script=auto decides once per document, on the first piece
 * that shows any script evidence, and remembers it in zf_doc:
 *  - Japanese or Korean text (kana or Hangul make up a tenth of the Han
 *    count or more) is never converted, in any mode: its kanji/hanja are
 *    neither script.
 *  - Text machine-converted from Simplified goes back to Simplified.  Two
 *    signs (damage-model.md section 1): the pinyin pass removed annotations
 *    (a converter wrote them after the characters it converted), or the text
 *    is Traditional except for Simplified characters that have several
 *    Traditional forms (黨員干部, 新店鎮后山, 采樣, 并): a naive converter
 *    skips exactly those, while a person writing Traditional, or partial
 *    conversion, leaves one-to-one Simplified characters (们, 这) too.
 *    Not in a piece whose `?` are characters a conversion lost (qmarks.c):
 *    converting Traditional text to GB2312 leaves the same signature.
 *  - Otherwise text mixing the scripts is unified to its majority script,
 *    and text in one script is left alone.
 * A piece with a "(pinyin)" annotation that the pinyin pass left (the
 * piece is not written in Traditional) is never converted to Traditional:
 * Traditional text with annotations is the naive converter's signature
 * (为(wèi) made 為(wèi), or 號(hào) among characters made Traditional), and
 * the next run would remove them and turn the document to Simplified
 * (mixed documents with a line of glossed polyphones did, properties seeds
 * 14 and 26).  Glossed text is a teaching text or quotes its forms; its
 * mixed scripts are left as written.
 * Every converted stretch of consecutive characters is one edit of kind
 * ZHFIX_EDIT_SCRIPT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

#include "script_chars.h" /* ZF_SC_* flag bits */

/* Mixed text is unified only when the minority script has at least
 * ZF_MIX_MIN characters and ZF_MIX_PERMILLE per mille of the majority's: a
 * Simplified page quoting one Traditional title is not mixed. */
#define ZF_MIX_MIN 3
#define ZF_MIX_PERMILLE 20
/* Mixed text goes to Traditional unless the Simplified characters
 * outnumber the Traditional ones ZF_HANT_SHARE to one.  Not a plain
 * majority, because the two mistakes are not alike: converting to
 * Traditional keeps every distinction the text makes (a later t2s gives
 * the same Simplified text back), converting to Simplified merges 發/髮,
 * 乾/幹, 後/后 in the Traditional part for good.  And mixing by
 * sentences is what partial conversion of Traditional text leaves: with
 * a third of the sentences converted, a short document has a Simplified
 * majority by chance (the bench's t2s-partial documents of 8 paragraphs:
 * 13 of 120, Simplified shares up to 0.72). */
#define ZF_HANT_SHARE 3
/* A naive converter's leftovers.  Traditional text writes 游標, 發布,
 * 控制 with characters that words in the tables read as Simplified
 * leftovers (遊標, 發佈, 製), so a few such flags prove nothing.  Measured
 * over manpages-zh's zh_CN pages run through OpenCC's s2tw and s2hk and
 * its zh_TW pages (2345 clean Traditional documents): at most 3 distinct
 * characters are flagged, and leaving out the most frequent one (a page
 * about the cursor flags 游標 31 times) at most one flag per 350
 * Traditional characters; all of them concatenated into one document: 14
 * distinct, one per 4000.  The seeds: 9 to 15 distinct, one per 40 or
 * more often; the zh_CN pages run through a naive converter like the seeds'
 * (tables/check_ts.py describes it): 197 of the 240 with 300 or more
 * Traditional characters pass.  So: flags from at least
 * ZF_LEFTOVER_KINDS_MIN distinct characters, without the most frequent one
 * still one per ZF_LEFTOVER_PER Traditional characters, more than twice
 * the one-to-one Simplified characters, which themselves are at most one
 * per ZF_ONE_PER Traditional ones (seed 002 has 圣 twice, in a name, among
 * 901). */
#define ZF_LEFTOVER_KINDS_MIN 3
#define ZF_LEFTOVER_PER 100
#define ZF_ONE_PER 50
#define ZF_LEFTOVER_KINDS 64
/* Longest quoted run taken as a mention (count_piece). */
#define ZF_MENTION_MAX 8

/* A piece's Han runs, decoded: code points, their byte offsets (n + 1, the
 * last one the end of the run) and the conversion. */
typedef struct runbuf {
    size_t cap;
    int32_t *cp, *out;
    size_t *off;
    uint8_t *how;
    zf_script_scratch sc;
    zf_buf first; /* toward Traditional: a first conversion's characters */
    zf_buf hold;  /* spots left as found (hold_rounds): sorted
                     disjoint byte ranges, two size_t each */
} runbuf;

static int runbuf_reserve(runbuf *r, size_t n)
{
    if (n <= r->cap)
        return ZHFIX_OK;
    size_t cap = r->cap ? r->cap : 256;
    while (cap < n)
        cap *= 2;
    int32_t *cp = realloc(r->cp, cap * sizeof *cp);
    if (cp)
        r->cp = cp;
    int32_t *out = realloc(r->out, cap * sizeof *out);
    if (out)
        r->out = out;
    size_t *off = realloc(r->off, (cap + 1) * sizeof *off);
    if (off)
        r->off = off;
    uint8_t *how = realloc(r->how, cap);
    if (how)
        r->how = how;
    if (!cp || !out || !off || !how)
        return ZHFIX_ENOMEM;
    r->cap = cap;
    return ZHFIX_OK;
}

static void runbuf_free(runbuf *r)
{
    free(r->cp);
    free(r->out);
    free(r->off);
    free(r->how);
    zf_script_scratch_free(&r->sc);
    zf_buf_free(&r->first);
    zf_buf_free(&r->hold);
}

/* Decode the Han run starting at byte i (a Han character) into r: *n is its
 * length in characters, *end the byte after it.  ZHFIX_OK or ENOMEM. */
static int read_run(const char *s, size_t len, size_t i, runbuf *r, size_t *n, size_t *end)
{
    size_t k = 0;
    while (i < len) {
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        if (cp < 0 || !zf_is_han(cp))
            break;
        if (k + 1 > r->cap && runbuf_reserve(r, k + 1) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        r->cp[k] = cp;
        r->off[k] = i;
        k++;
        i += (size_t)l;
    }
    r->off[k] = i;
    *n = k;
    *end = i;
    return ZHFIX_OK;
}

/* Han characters are 3 or 4 bytes in UTF-8 with a lead byte E3-E9 (U+3400-
 * U+9FFF), EF (compatibility ideographs) or F0 (the supplementary planes);
 * everything else is skipped by its lead byte without decoding. */
static int maybe_han_lead(unsigned char b)
{
    return (b >= 0xE3 && b <= 0xE9) || b == 0xEF || b == 0xF0;
}

typedef struct evidence {
    size_t han, trad, simp, simp_one, kana, hangul, leftover;
    /* the one-to-many Simplified characters seen and how often */
    int32_t kind[ZF_LEFTOVER_KINDS];
    size_t kind_n[ZF_LEFTOVER_KINDS];
    size_t nkinds;
} evidence;

static void add_kind(evidence *ev, int32_t cp)
{
    for (size_t i = 0; i < ev->nkinds; i++)
        if (ev->kind[i] == cp) {
            ev->kind_n[i]++;
            return;
        }
    if (ev->nkinds < ZF_LEFTOVER_KINDS) {
        ev->kind[ev->nkinds] = cp;
        ev->kind_n[ev->nkinds++] = 1;
    }
}

/* One-to-many characters flagged in the current sentence, kept back until
 * its end.  A naive converter (damage-model.md section 1) converts every
 * one-to-one character of every sentence; what it leaves are one-to-many
 * characters in otherwise Traditional sentences.  A sentence that still
 * has one-to-one Simplified characters (们, 这, 执) never went through it:
 * it is Simplified text, quoted or left by a partial t2s conversion, and
 * its 当, 机, 参 are simply Simplified, not leftovers. */
#define ZF_PENDING 32
typedef struct pending {
    int32_t cp[ZF_PENDING];
    size_t n;
    int simp_one; /* the sentence has a one-to-one Simplified character */
} pending;

static void pending_flush(evidence *ev, pending *p)
{
    for (size_t i = 0; !p->simp_one && i < p->n; i++)
        add_kind(ev, p->cp[i]);
    p->n = 0;
}

static void pending_add(evidence *ev, pending *p, int32_t cp)
{
    if (p->n == ZF_PENDING)
        pending_flush(ev, p);
    p->cp[p->n++] = cp;
}

/* At a sentence end: the sentence's flags count unless it was Simplified. */
static void pending_end(evidence *ev, pending *p)
{
    pending_flush(ev, p);
    p->simp_one = 0;
}

/* Marks that end a sentence, for pending: 。！？； and their ASCII forms
 * (flattened punctuation), and the end of a line. */
static int sentence_end(int32_t cp)
{
    return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF1B || cp == '!' ||
           cp == '?' || cp == ';' || cp == '\n';
}

/* The flags from every character but the most frequent one. */
static size_t flags_but_top(const evidence *ev)
{
    size_t n = 0, top = 0;
    for (size_t i = 0; i < ev->nkinds; i++) {
        n += ev->kind_n[i];
        if (ev->kind_n[i] > top)
            top = ev->kind_n[i];
    }
    return n - top;
}

/* The closing mark of a quotation or title opened by cp, or 0. */
static int32_t closing_mark(int32_t cp)
{
    switch (cp) {
    case 0x201C: return 0x201D; /* “ ” */
    case 0x2018: return 0x2019; /* ‘ ’ */
    case 0x300C: return 0x300D; /* 「 」 */
    case 0x300E: return 0x300F; /* 『 』 */
    case 0x300A: return 0x300B; /* 《 》 */
    case 0x3008: return 0x3009; /* 〈 〉 */
    case '"': return '"';
    case '\'': return '\'';
    default: return 0;
    }
}

/* Count script evidence over the piece.  A short run of Han characters
 * alone inside quotation marks or title marks is a mention, not use: text
 * about the scripts quotes “發” and “髮” in Simplified prose, and a
 * Simplified page cites a Traditional title; neither makes it mixed. */
static int has_lost(const char *s, size_t len);
static int near_lost(const char *s, size_t len, size_t a, size_t b);

static void count_piece(const char *s, size_t len, evidence *ev)
{
    /* a character near lost bytes says nothing of the script: the
     * conversion may leave it as found (hold_island_spots()), and a
     * second run would count it where the first had counted it converted
     * (a document the first run made Simplified for its glosses, with 會
     * and 開 left beside U+FFFD, read as mixed and made Traditional) */
    int lost = has_lost(s, len);
    size_t i = 0;
    int32_t prev = 0;
    pending pend;
    pend.n = 0;
    pend.simp_one = 0;
    while (i < len) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            if (sentence_end(b))
                pending_end(ev, &pend);
            prev = b;
            i++;
            continue;
        }
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        if (cp < 0 || !zf_is_han(cp)) {
            if (sentence_end(cp))
                pending_end(ev, &pend);
            if (cp >= 0 && zf_is_kana(cp))
                ev->kana++;
            else if (cp >= 0 && zf_is_hangul(cp))
                ev->hangul++;
            prev = cp;
            i += (size_t)l;
            continue;
        }
        /* a run of Han characters: find its end and what follows */
        size_t j = i, n = 0;
        int32_t next = 0;
        while (j < len) {
            l = zf_utf8_next(s + j, len - j, &next);
            if (next < 0 || !zf_is_han(next))
                break;
            j += (size_t)l;
            n++;
        }
        if (j >= len)
            next = 0;
        int32_t close = closing_mark(prev);
        int mention = close && next == close && n <= ZF_MENTION_MAX;
        ev->han += n;
        while (!mention && i < j) {
            l = zf_utf8_next(s + i, j - i, &cp);
            i += (size_t)l;
            if (lost && near_lost(s, len, i - (size_t)l, i))
                continue;
            unsigned f = zf_script_flags(cp);
            if (f & ZF_SC_TRAD)
                ev->trad++;
            if (f & ZF_SC_SIMP) {
                ev->simp++;
                if (!(f & ZF_SC_MANY)) {
                    ev->simp_one++;
                    pend.simp_one = 1;
                } else {
                    pending_add(ev, &pend, cp);
                }
            }
        }
        i = j;
        prev = 0x4E00; /* any Han character */
    }
    pending_end(ev, &pend);
}

/* In Traditional-looking text, count the Simplified characters that are
 * valid Traditional on their own (干 后 里 采 ...) but that a phrase or a
 * word around them shows were left unconverted: 黨員干部 reads as 幹部,
 * 新店鎮后山 as 後山, 采樣 as 採樣.  A character alone proves nothing
 * (Traditional writes 干 in 干擾, 若干, and 后 in 皇后).  Only characters
 * Unihan gives several Traditional forms (ZF_SC_MANY) count: those are the
 * ones a naive converter skips, while 布 in 公布 and 游 in 游標, which
 * OpenCC's phrases would write 佈 and 遊, are how Taiwan writes them. */
static int count_leftovers(const char *s, size_t len, runbuf *r, evidence *ev)
{
    size_t i = 0;
    pending pend;
    pend.n = 0;
    pend.simp_one = 0;
    while (i < len) {
        if (!maybe_han_lead((unsigned char)s[i])) {
            if (sentence_end((unsigned char)s[i]))
                pending_end(ev, &pend);
            i++;
            continue;
        }
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        if (cp < 0 || !zf_is_han(cp)) {
            if (sentence_end(cp))
                pending_end(ev, &pend);
            i += (size_t)l;
            continue;
        }
        size_t n, end;
        if (read_run(s, len, i, r, &n, &end) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        int any = 0;
        for (size_t k = 0; k < n; k++) {
            unsigned f = zf_script_flags(r->cp[k]);
            if ((f & ZF_SC_SIMP) && !(f & ZF_SC_MANY))
                pend.simp_one = 1;
            if (!any)
                any = zf_script_self_valid(r->cp[k], ZHFIX_SCRIPT_HANT);
        }
        if (any) {
            if (zf_script_convert(ZHFIX_SCRIPT_HANT, r->cp, n, r->out, r->how, &r->sc) !=
                ZHFIX_OK)
                return ZHFIX_ENOMEM;
            for (size_t k = 0; k < n; k++)
                if (r->out[k] != r->cp[k] &&
                    (r->how[k] == ZF_HOW_PHRASE || r->how[k] == ZF_HOW_WORD) &&
                    (zf_script_flags(r->cp[k]) & ZF_SC_MANY) &&
                    zf_script_self_valid(r->cp[k], ZHFIX_SCRIPT_HANT)) {
                    ev->leftover++;
                    pending_add(ev, &pend, r->cp[k]);
                }
        }
        i = end;
    }
    pending_end(ev, &pend);
    return ZHFIX_OK;
}

/* Fix doc->script_target for the rest of the document, or leave the
 * decision open when this piece shows nothing to decide by. */
static int decide(const zhfix_options *opt, zf_doc *doc, const char *s, size_t len,
                  runbuf *r)
{
    evidence ev;
    memset(&ev, 0, sizeof ev);
    count_piece(s, len, &ev);
    doc->han_seen += ev.han;
    doc->trad_only += ev.trad;
    doc->simp_only += ev.simp;
    if ((ev.kana && ev.kana * 10 >= ev.han) || (ev.hangul && ev.hangul * 10 >= ev.han)) {
        doc->script_decided = 1;
        doc->script_target = ZHFIX_SCRIPT_KEEP;
        return ZHFIX_OK;
    }
    if (opt->script != ZHFIX_SCRIPT_AUTO) {
        doc->script_decided = 1;
        doc->script_target = opt->script;
        return ZHFIX_OK;
    }
    size_t t = doc->trad_only, sm = doc->simp_only;
    if (t == 0 && sm == 0)
        return ZHFIX_OK; /* nothing to go by yet */
    zhfix_script target = ZHFIX_SCRIPT_KEEP;
    if (doc->pinyin_removed > 0 && t > 0) {
        target = ZHFIX_SCRIPT_HANS;
    } else {
        /* not where a conversion to GB2312 put `?` for the characters it
         * lacked (qmarks.c): it took exactly the Traditional-only ones,
         * and what is left of Traditional text reads as a converter's
         * leftovers (於 後 among 台 制 游) */
        if (t > sm && ev.simp_one * ZF_ONE_PER <= ev.trad && !zf_qmarks_lost(s, len)) {
            if (count_leftovers(s, len, r, &ev) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            size_t many = flags_but_top(&ev);
            if (ev.nkinds >= ZF_LEFTOVER_KINDS_MIN && many > 2 * ev.simp_one &&
                many * ZF_LEFTOVER_PER >= ev.trad)
                target = ZHFIX_SCRIPT_HANS;
        }
        size_t lo = t < sm ? t : sm, hi = t < sm ? sm : t;
        if (target == ZHFIX_SCRIPT_KEEP && lo >= ZF_MIX_MIN && lo * 1000 >= hi * ZF_MIX_PERMILLE)
            target = t * ZF_HANT_SHARE >= sm ? ZHFIX_SCRIPT_HANT : ZHFIX_SCRIPT_HANS;
    }
    doc->script_decided = 1;
    doc->script_target = target;
    return ZHFIX_OK;
}

/* Whether s[0..len) holds a "(pinyin)" annotation. */
static int has_annotation(const char *s, size_t len)
{
    const char *p = s;
    size_t end;
    while ((p = memchr(p, '(', len - (size_t)(p - s))) != NULL) {
        if (zf_pinyin_annotation(s, len, (size_t)(p - s), &end) != ZF_ANNOT_NONE)
            return 1;
        p++;
    }
    return 0;
}

/* The most characters between a character and the lost bytes
 * hold_island_spots() looks at: a run of UTF-8 read as GBK goes on over
 * ASCII and over characters whose GBK bytes could be UTF-8's
 * (pass_mojibake.c): `会(�`, `书（ì）�` as well as `会�`; a run of Big5
 * read as GBK over ASCII and characters whose GBK bytes are Big5's. */
#define LOST_REACH 4

/* The runs of the mojibake pass a conversion beside lost bytes can feed:
 * UTF-8 read as GBK (mechanism 3) and Big5 read as GBK. */
enum { RUN_UTF8, RUN_BIG5, RUN_KINDS };

static int is_fffd(const char *s, size_t len, size_t at)
{
    return at + 3 <= len && memcmp(s + at, "\xEF\xBF\xBD", 3) == 0;
}

/* Whether a run of `kind` goes on over c. */
static int run_char(int kind, int32_t c)
{
    if (kind == RUN_BIG5)
        return zf_gbk_big5ish(c);
    return (c > 0x20 && c < 0x7F && c != '?') || c == 0x20AC || zf_gbk_utf8ish(c);
}

/* Whether the character at [a, b) of s[0..len) stands beside a U+FFFD,
 * bytes a decoder lost, with at most `reach` characters of a run of
 * `kind` between. */
static int beside_lost(const char *s, size_t len, size_t a, size_t b, int reach, int kind)
{
    for (int k = 0; k <= reach && a >= 3; k++) {
        if (is_fffd(s, len, a - 3))
            return 1;
        size_t p = zf_utf8_prev(s, a);
        int32_t c;
        zf_utf8_next(s + p, a - p, &c);
        if (!run_char(kind, c))
            break;
        a = p;
    }
    for (int k = 0; k <= reach && b < len; k++) {
        if (is_fffd(s, len, b))
            return 1;
        int32_t c;
        int l = zf_utf8_next(s + b, len - b, &c);
        if (!run_char(kind, c))
            break;
        b += (size_t)l;
    }
    return 0;
}

/* Whether c's GBK bytes are the first two of a UTF-8 character of three
 * bytes: beside lost bytes, such a character reads as UTF-8 garbled as
 * GBK, and the mojibake pass of a second run would read it back. */
static int utf8_start(int32_t c)
{
    unsigned g = zf_gbk_encode(c);
    return g >> 8 >= 0xE0 && g >> 8 <= 0xEF && (g & 0xFF) >= 0x80 && (g & 0xFF) <= 0xBF;
}

/* Whether the character at [a, b) of s[0..len) is near enough to lost
 * bytes for hold_island_spots() to look at it. */
static int near_lost(const char *s, size_t len, size_t a, size_t b)
{
    return beside_lost(s, len, a, b, LOST_REACH, RUN_UTF8)
        || beside_lost(s, len, a, b, LOST_REACH, RUN_BIG5);
}

/* Whether [a, b) overlaps a range of r->hold. */
static int shift_held(const runbuf *r, size_t a, size_t b)
{
    const size_t *h = (const size_t *)(const void *)r->hold.p;
    size_t lo = 0, hi = r->hold.len / (2 * sizeof *h);
    while (lo < hi) { /* the first range that ends after a */
        size_t mid = lo + (hi - lo) / 2;
        if (h[2 * mid + 1] <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->hold.len / (2 * sizeof *h) && h[2 * lo] < b;
}

/*
 * One conversion of every Han run of the piece toward `to`: of the text's
 * own characters, or with `first` not NULL of the characters a first
 * conversion left (first[k] for the k-th Han character).  With `keep` not
 * NULL the result goes there, one code point per Han character, and
 * *changed says whether any differs from the text; else each converted
 * stretch becomes an edit.
 */
static int convert_runs(zhfix_script to, zf_rw *rw, runbuf *r, const int32_t *first,
                        zf_buf *keep, int *changed)
{
    const char *s = rw->in;
    size_t len = rw->len, i = 0, nhan = 0;
    char enc[4 * 64];
    while (i < len) {
        if (!maybe_han_lead((unsigned char)s[i])) {
            i++;
            continue;
        }
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        if (cp < 0 || !zf_is_han(cp)) {
            i += (size_t)l;
            continue;
        }
        size_t n, end;
        if (read_run(s, len, i, r, &n, &end) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        if (zf_script_convert(to, first ? first + nhan : r->cp, n, r->out, r->how, &r->sc) !=
            ZHFIX_OK)
            return ZHFIX_ENOMEM;
        nhan += n;
        /* damage the mojibake pass noted and left stays as found: its
         * characters are garbled, and their bytes are what a later run
         * reads them back from (a realigner that left `?zuò)缀` reads
         * 綴's trail byte 0x59 as a swallowed `Y`); so does a character
         * beside lost bytes whose conversion would write what reads as
         * garbled UTF-8 (`紲�ō` as `绁�ō`, which a second run reads as
         * 祭設) */
        for (size_t k = 0; k < n; k++)
            if (r->out[k] != r->cp[k]
                && (zf_rw_held(rw, r->off[k], r->off[k + 1])
                    || shift_held(r, r->off[k], r->off[k + 1])
                    || (beside_lost(s, len, r->off[k], r->off[k + 1], 0, RUN_UTF8)
                        && utf8_start(r->out[k]) && !utf8_start(r->cp[k]))))
                r->out[k] = r->cp[k];
        if (keep) {
            for (size_t k = 0; k < n; k++)
                *changed |= r->out[k] != r->cp[k];
            if (zf_buf_add(keep, r->out, n * sizeof *r->out) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            i = end;
            continue;
        }
        /* one edit per stretch of changed characters */
        size_t k = 0;
        while (k < n) {
            if (r->out[k] == r->cp[k]) {
                k++;
                continue;
            }
            size_t a = k, elen = 0;
            while (k < n && r->out[k] != r->cp[k] && elen + 4 <= sizeof enc) {
                elen += (size_t)zf_utf8_put(r->out[k], enc + elen);
                k++;
            }
            zf_rw_replace(rw, r->off[a], r->off[k], enc, elen, ZHFIX_EDIT_SCRIPT);
        }
        i = end;
    }
    return rw->err;
}

/* A `?` of the piece that may start a run: the character before it at
 * xs, the `?` at q, at cq in the converted text; held once its spot is. */
typedef struct {
    size_t xs, q, cq;
    int held;
} shift_spot;

static int cmp_range(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Sort r->hold and merge the ranges that overlap. */
static void hold_merge(runbuf *r)
{
    size_t *h = (size_t *)(void *)r->hold.p, nh = r->hold.len / (2 * sizeof *h), m = 0;
    if (nh == 0)
        return;
    qsort(h, nh, 2 * sizeof *h, cmp_range);
    for (size_t j = 1; j < nh; j++) {
        if (h[2 * j] <= h[2 * m + 1]) {
            if (h[2 * j + 1] > h[2 * m + 1])
                h[2 * m + 1] = h[2 * j + 1];
        } else {
            m++;
            h[2 * m] = h[2 * j];
            h[2 * m + 1] = h[2 * j + 1];
        }
    }
    r->hold.len = (m + 1) * 2 * sizeof *h;
}

/* Rounds of hold_rounds(): a spot held puts its characters back as
 * found, which may make a spot around it read otherwise. */
#define HOLD_ROUNDS 4

/* A character a conversion changed: from and to, its place [a, b) in the
 * piece and [ca, cb) in the piece as converted. */
typedef struct {
    int32_t from, to;
    size_t a, b, ca, cb;
} conv_place;

/* The piece s[0..len) with its Han characters replaced by out[] (one for
 * one, in order) into conv, where each of the nsp `?` spots went, and
 * with `places` each character changed. */
static int build_conv(const char *s, size_t len, const int32_t *out, zf_buf *conv,
                      shift_spot *sp, size_t nsp, zf_buf *places)
{
    size_t i = 0, h = 0, k = 0;
    int rc = ZHFIX_OK;
    conv->len = 0;
    if (places)
        places->len = 0;
    while (i < len && rc == ZHFIX_OK) {
        if (k < nsp && sp[k].q == i)
            sp[k++].cq = conv->len;
        int32_t cp;
        int l = zf_utf8_next(s + i, len - i, &cp);
        if (cp >= 0 && zf_is_han(cp)) {
            char u[4];
            size_t ca = conv->len, cl = (size_t)zf_utf8_put(out[h], u);
            rc = zf_buf_add(conv, u, cl);
            if (places && out[h] != cp && rc == ZHFIX_OK) {
                conv_place pl = {cp, out[h], i, i + (size_t)l, ca, ca + cl};
                rc = zf_buf_add(places, &pl, sizeof pl);
            }
            h++;
        } else {
            rc = zf_buf_add(conv, s + i, (size_t)l);
        }
        i += (size_t)l;
    }
    return rc;
}

/* What hold_rounds() asks each round: with the piece converted (its Han
 * characters out[]), add the spots to leave as found to r->hold, and set
 * *added when there are any. */
typedef int (*hold_decider)(void *arg, const zf_rw *rw, runbuf *r, const int32_t *out,
                            int *added);

/* Convert the piece and let `decide_holds` hold spots, again while it holds
 * new ones (at most HOLD_ROUNDS times); r->hold is kept sorted and
 * merged. */
static int hold_rounds(zhfix_script to, zf_rw *rw, runbuf *r, const int32_t *first,
                       hold_decider decide_holds, void *arg)
{
    zf_buf fin = {0};
    int rc = ZHFIX_OK;
    for (int round = 0; round < HOLD_ROUNDS && rc == ZHFIX_OK; round++) {
        int changed = 0, added = 0;
        fin.len = 0;
        rc = convert_runs(to, rw, r, first, &fin, &changed);
        if (rc != ZHFIX_OK || !changed)
            break;
        rc = decide_holds(arg, rw, r, (const int32_t *)(const void *)fin.p, &added);
        if (rc == ZHFIX_OK)
            hold_merge(r);
        if (!added)
            break;
    }
    zf_buf_free(&fin);
    return rc;
}

/* hold_shift_spots()'s part of a round: the `?` spots and the piece as
 * converted. */
typedef struct {
    shift_spot *sp;
    size_t nsp;
    zf_buf conv;
} shift_round;

static int decide_shift_spots(void *arg, const zf_rw *rw, runbuf *r, const int32_t *out,
                              int *added)
{
    shift_round *x = arg;
    const char *s = rw->in;
    size_t len = rw->len;
    shift_spot *sp = x->sp;
    int rc = build_conv(s, len, out, &x->conv, sp, x->nsp, NULL);
    for (size_t k = 0; k < x->nsp && rc == ZHFIX_OK; k++) {
        if (sp[k].held)
            continue;
        size_t e;
        int v = zf_gbk_shift_verdict(x->conv.p, x->conv.len, sp[k].cq, &e);
        if (v == -2)
            rc = ZHFIX_ENOMEM;
        if (v != 1)
            continue;
        /* the same characters in the piece: a conversion is one
         * character for one */
        size_t o = sp[k].q, c = sp[k].cq;
        while (c < e) {
            int32_t cp;
            c += (size_t)zf_utf8_next(x->conv.p + c, x->conv.len - c, &cp);
            o += (size_t)zf_utf8_next(s + o, len - o, &cp);
        }
        size_t hr[2] = {sp[k].xs, o};
        rc = zf_buf_add(&r->hold, hr, sizeof hr);
        sp[k].held = 1;
        *added = 1;
    }
    return rc;
}

/*
 * The spots where a later run's realigner would repair what this pass
 * wrote, into r->hold (damage-model.md section 4).  The mojibake pass
 * reads the characters after a `?` one byte out of step, through their
 * GBK bytes, and a conversion changes those bytes: with --skip=punct,
 * `好?瑴蕚渌`, which no reading ends (渌's trail byte E4 ends nothing),
 * made `好?瑴蕚淥` (淥 9C 4F), reads in a second run as `好，準倻O`.  So
 * the piece is converted, the realigner asked at each `?` of the result,
 * and where it would repair, the character before the `?` and those its
 * search read stay as found, as the mojibake pass of this run left them.
 * A `?` the punct pass made `？` is no spot.
 */
static int hold_shift_spots(zhfix_script to, zf_rw *rw, runbuf *r, const int32_t *first)
{
    const char *s = rw->in;
    size_t len = rw->len;
    r->hold.len = 0;
    zf_buf spots = {0};
    int rc = ZHFIX_OK;
    for (const char *p = memchr(s + 1, '?', len - 1); p && rc == ZHFIX_OK;
         p = memchr(p + 1, '?', len - (size_t)(p + 1 - s))) {
        shift_spot sp;
        sp.q = (size_t)(p - s);
        sp.xs = zf_utf8_prev(s, sp.q);
        sp.held = 0;
        /* after a multi-byte character or ASCII punctuation (a flattened
         * full-width form) but a parenthesis, as pass_mojibake.c asks */
        unsigned char b = (unsigned char)s[sp.q - 1];
        if (b >= 0x80 || (b > 0x20 && b < 0x7F && b != '(' && b != ')' && !(b >= '0' && b <= '9')
                          && !((b | 0x20) >= 'a' && (b | 0x20) <= 'z')))
            rc = zf_buf_add(&spots, &sp, sizeof sp);
    }
    shift_round x = {(shift_spot *)(void *)spots.p, spots.len / sizeof(shift_spot), {0}};
    if (rc == ZHFIX_OK && x.nsp)
        rc = hold_rounds(to, rw, r, first, decide_shift_spots, &x);
    zf_buf_free(&spots);
    zf_buf_free(&x.conv);
    return rc;
}

/* Whether writing `to` for `from` changes what a run of `kind` reads:
 * either is a character such a run goes on over, so the run gets other
 * bytes, or goes on further, or stops short.  A run of UTF-8 read as GBK
 * (pass_mojibake.c, mechanism 3): 會 (95 FE) ended a run, 会 (BB E1)
 * joins it to what comes before and after; 嶄 (8D E4) and 崭 (D5 B8) are
 * both a run's, with other bytes (`鑑�嶄笉寰椾拱涓�` is left as found,
 * `鑑�崭笉寰椾拱涓�` read as `鑑�崭笉得买�`).  A run of Big5 read as GBK:
 * 壩 (89 CE) is no Big5 character, 坝 (B0 D3) is Big5's 商. */
static int changes_run(int kind, int32_t from, int32_t to)
{
    if (kind == RUN_BIG5)
        return zf_gbk_big5ish(to) || zf_gbk_big5ish(from);
    return zf_gbk_utf8ish(to) || zf_gbk_utf8ish(from);
}

/* Whether s[0..len) holds a U+FFFD. */
static int has_lost(const char *s, size_t len)
{
    for (const char *p = s, *e = s + len; (p = memchr(p, 0xEF, (size_t)(e - p))) != NULL; p++)
        if (is_fffd(s, len, (size_t)(p - s)))
            return 1;
    return 0;
}

/* The spans of s[0..len) that the mojibake pass repairs (not only notes
 * as damage), as pairs of offsets into `spans`, in order. */
static int repaired_spans(const zhfix_options *opt, zf_doc *doc, const char *s, size_t len,
                          zf_buf *spans)
{
    zf_buf out = {0};
    zf_edits ed = {0};
    zf_rw rw;
    zf_rw_init(&rw, s, len, &out, &ed);
    int rc = zf_pass_mojibake(opt, doc, &rw);
    if (rc == ZHFIX_OK)
        rc = rw.err;
    for (size_t k = 0; k < ed.n && rc == ZHFIX_OK; k++) {
        size_t sp[2] = {ed.v[k].in_start, ed.v[k].in_end};
        if (ed.v[k].kind != ZHFIX_EDIT_UNRESOLVED)
            rc = zf_buf_add(spans, sp, sizeof sp);
    }
    zf_buf_free(&out);
    zf_edits_free(&ed);
    return rc;
}

/* The most bytes a stretch of run characters is followed for, each way
 * (pass_mojibake.c's runs hold at most 512 characters). */
#define STRETCH_MAX 2048

/* Whether the stretch of characters a run of `kind` goes on over (and
 * U+FFFD) around [a, b) of s[0..len) overlaps a span of spans[0..n). */
static int stretch_repaired(const char *s, size_t len, size_t a, size_t b, int kind,
                            const size_t *spans, size_t n)
{
    size_t lo = a, hi = b;
    while (lo > 0 && a - lo < STRETCH_MAX) {
        size_t p = zf_utf8_prev(s, lo);
        int32_t c;
        zf_utf8_next(s + p, lo - p, &c);
        if (c != 0xFFFD && !run_char(kind, c))
            break;
        lo = p;
    }
    while (hi < len && hi - b < STRETCH_MAX) {
        int32_t c;
        int l = zf_utf8_next(s + hi, len - hi, &c);
        if (c != 0xFFFD && !run_char(kind, c))
            break;
        hi += (size_t)l;
    }
    for (size_t k = 0; k < n; k++)
        if (spans[2 * k] < hi && spans[2 * k + 1] > lo)
            return 1;
    return 0;
}

/* Whether the change at p changes what a run of `kind` near lost bytes
 * reads. */
static int island_cand(const char *s, size_t len, const conv_place *p, int kind)
{
    return changes_run(kind, p->from, p->to) && beside_lost(s, len, p->a, p->b, LOST_REACH, kind);
}

/* hold_island_spots()'s part of a round. */
typedef struct {
    const zhfix_options *opt;
    zf_doc *doc;
    zf_buf conv, places, spans;
} island_round;

static int decide_island_spots(void *arg, const zf_rw *rw, runbuf *r, const int32_t *out,
                               int *added)
{
    island_round *x = arg;
    const char *s = rw->in;
    size_t len = rw->len;
    int rc = build_conv(s, len, out, &x->conv, NULL, 0, &x->places);
    /* (convert_runs() wrote a held character as found: it has no place) */
    const conv_place *pl = (const conv_place *)(const void *)x->places.p;
    size_t np = x->places.len / sizeof *pl, k = 0;
    while (k < np && !island_cand(s, len, &pl[k], RUN_UTF8)
           && !island_cand(s, len, &pl[k], RUN_BIG5))
        k++;
    x->spans.len = 0;
    if (rc != ZHFIX_OK || k == np
        || (rc = repaired_spans(x->opt, x->doc, x->conv.p, x->conv.len, &x->spans)) != ZHFIX_OK)
        return rc;
    const size_t *sp = (const size_t *)(const void *)x->spans.p;
    size_t nsp = x->spans.len / (2 * sizeof *sp);
    for (; k < np && nsp && rc == ZHFIX_OK; k++) {
        int hold = 0;
        for (int kind = 0; kind < RUN_KINDS && !hold; kind++)
            hold = island_cand(s, len, &pl[k], kind)
                && stretch_repaired(x->conv.p, x->conv.len, pl[k].ca, pl[k].cb, kind, sp, nsp);
        if (hold) {
            size_t hr[2] = {pl[k].a, pl[k].b};
            rc = zf_buf_add(&r->hold, hr, sizeof hr);
            *added = 1;
        }
    }
    return rc;
}

/*
 * The characters near lost bytes whose conversion a later run's mojibake
 * pass would read as garbled UTF-8 or Big5 and repair, into r->hold.  A
 * run of UTF-8 read as GBK goes on over characters whose GBK bytes could
 * be UTF-8's and over ASCII: `他岱會(�(huì)�瀸��` converted to Simplified
 * puts 会 (BB E1) where 會 (95 FE) ended the run, and a second run read
 * the longer run as 枌 and lost bytes.  A run of Big5 read as GBK goes on
 * over characters whose GBK bytes are Big5's: 壩 (89 CE) among U+FFFD
 * made 坝 (B0 D3, Big5's 商) gave a second run a Big5 run it read as
 * 的看看看看到.  So the piece is converted and the mojibake pass run over
 * the result; a conversion near a U+FFFD (at most LOST_REACH characters
 * such a run goes on over between) that changes what such a run reads
 * (changes_run()) stays as found where the stretch of that run's
 * characters around it holds a repair.  Rounds: hold_rounds().
 */
static int hold_island_spots(zhfix_script to, const zhfix_options *opt, zf_doc *doc,
                             zf_rw *rw, runbuf *r, const int32_t *first)
{
    island_round x = {opt, doc, {0}, {0}, {0}};
    int rc = hold_rounds(to, rw, r, first, decide_island_spots, &x);
    zf_buf_free(&x.conv);
    zf_buf_free(&x.places);
    zf_buf_free(&x.spans);
    return rc;
}

/*
 * Convert every Han run of the piece toward `to`.  Toward Traditional the
 * document's own spelling, from this piece and those before, chooses
 * between candidates (zf_script_doc_scan), and a conversion adds to that
 * spelling: 鎮后鎮后山 made 鎮后鎮後山 writes 後 after 鎮, and a second
 * run made the first 后 a 後 too.  So the piece is converted, the spelling
 * read again from the result, and the result converted once more, as the
 * second run would: what comes out is what that run reads.  With `shifts`
 * (the mojibake pass runs), where its realigner would read a conversion
 * as damage, the spot stays as found.
 */
static int convert_piece(zhfix_script to, const zhfix_options *opt, zf_doc *doc, zf_rw *rw,
                         runbuf *r)
{
    int shifts = (opt->passes & ZHFIX_PASS_MOJIBAKE) != 0;
    const int32_t *first = NULL;
    r->hold.len = 0;
    if (to == ZHFIX_SCRIPT_HANT) {
        if (has_annotation(rw->in, rw->len))
            return ZHFIX_OK; /* see the header */
        if (zf_script_doc_scan(rw->in, rw->len, NULL, &doc->spelling) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        r->sc.doc = &doc->spelling;
        int changed = 0;
        r->first.len = 0;
        int rc = convert_runs(to, rw, r, NULL, &r->first, &changed);
        if (rc != ZHFIX_OK || !changed)
            return rc;
        first = (const int32_t *)(const void *)r->first.p;
        if (zf_script_doc_scan(rw->in, rw->len, first, &doc->spelling) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
    }
    /* in a piece whose `?` are characters a conversion lost, the
     * realigner reads none of them (pass_mojibake.c) */
    if (shifts && memchr(rw->in, '?', rw->len) && !zf_qmarks_lost(rw->in, rw->len)) {
        int rc = hold_shift_spots(to, rw, r, first);
        if (rc != ZHFIX_OK)
            return rc;
    }
    if (shifts && has_lost(rw->in, rw->len)) {
        int rc = hold_island_spots(to, opt, doc, rw, r, first);
        if (rc != ZHFIX_OK)
            return rc;
    }
    return convert_runs(to, rw, r, first, NULL, NULL);
}

int zf_pass_script(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    if (opt->script == ZHFIX_SCRIPT_KEEP)
        return ZHFIX_OK;
    runbuf r;
    memset(&r, 0, sizeof r);
    int rc = ZHFIX_OK;
    if (!doc->script_decided)
        rc = decide(opt, doc, rw->in, rw->len, &r);
    zhfix_script to = doc->script_decided ? doc->script_target : ZHFIX_SCRIPT_KEEP;
    if (rc == ZHFIX_OK && (to == ZHFIX_SCRIPT_HANS || to == ZHFIX_SCRIPT_HANT))
        rc = convert_piece(to, opt, doc, rw, &r);
    runbuf_free(&r);
    return rc;
}
