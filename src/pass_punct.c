/*
 * pass_punct.c - restores the full-width punctuation of Chinese text that a
 * full-width-to-half-width pass flattened, and drops the stray commas seen
 * in front of Chinese marks (damage-model.md sections 2 and 3).
 *
 * The damage: every character of U+FF01-FF5E became its ASCII twin, so
 * `，：；？！（）` read `,:;?!()` while `。、“”《》——……` stayed; and a comma
 * was inserted in front of many Chinese marks, `，`->`,,` `、`->`,、`
 * `。`->`,。` `；`->`,;` `！`->`,!` (seed 002).  The repair works on one line
 * at a time (a line never changes length in newlines; nothing here crosses
 * one) and only on the trigger bytes `, ; : ? ! ( )`.
 *
 * Terms (all within one line; a line ends at LF, or CR LF):
 *   C          a Han ideograph (zf_is_han) or a CJK mark (zf_is_cjk_punct),
 *              except U+3000 IDEOGRAPHIC SPACE, which counts as a space; an
 *              ASCII parenthesis this pass converts also counts as C.
 *   space      U+0020, TAB, U+00A0, U+2000-200A, U+202F, U+3000.
 *   mark run   a maximal run of the bytes `, ; : ? !`.
 *   L, R       the character just before / just after a mark run (none at
 *              the ends of the line); L', R' the nearest non-space ones.
 *
 * A mark run touches Chinese when
 *   (1) L is C                      `当前位置: 主页`, `发布时间:2022-05-09`,
 *                                   `阅读量:12706` (seed 004); or
 *   (2) R is C                      `,“不能感染`, `Python,可以`; or
 *   (3) L is a space, R is a space or none, L' is C and R' is C or none
 *                                   (`工作 , 然后`: a spaced Chinese mark);
 * except that these runs never touch:
 *   - a single `,` `:` or `;` with an ASCII digit on both sides: times
 *     `09:49:45` `16:18:00` (seeds 000, 004), thousands `1,000`, ratios;
 *   - a run inside a URL (`scheme://` or `www.` up to the end of its ASCII
 *     token, less trailing `.,;:!?` and unbalanced `)`, as linkifiers trim);
 *   - a lone `?` followed by lowercase pinyin letters and `)`: the GBK
 *     out-of-step signature `?qǐng)` (damage-model.md section 4), which
 *     belongs to the mojibake pass;
 *   - a run with three or more commas in a row: the damage inserts one comma,
 *     so `,,,` is the writer's own.
 * In a run that touches, a comma followed by another mark of the run or by a
 * full-width `，、。；：！？` is dropped (ZHFIX_EDIT_COMMA: `,,`->`，`,
 * `,、`->`、`, `,。`->`。`, `,;`->`；`, `,!`->`！`, `),、`->`）、`); every other
 * mark becomes its full-width twin (ZHFIX_EDIT_PUNCT).
 *
 * Parentheses convert as a pair.  `(` and `)` are matched on the line with a
 * stack (those inside a URL are not counted).  A pair converts when one of
 * its four neighbours (outside and inside of each parenthesis, adjacent, an
 * adjacent mark run skipped) is C - `赵丽娜(左一)和`,
 * `“2+6”(白天2小时、夜间6小时)`, `(特约记者 余少林)` - unless it is
 * code-like: `(` directly after an ASCII letter, digit, `_` or `]` with no C
 * inside (`f(x)`, `printf()`, `](http://...)`; but `；(2)第二条` converts).  `中国 (China) 是` has no adjacent
 * C and stays.  An unmatched parenthesis stays ASCII: on a flattened line it
 * is more often a pinyin tail of the GBK shift (`cè)`), a list marker `1)`,
 * an emoticon or half of a pair split across lines than a lone `（`, and a
 * wrong full-width mark is worse than a kept ASCII one.
 *
 * Scope of "not Chinese": a line holding kana (other than U+30FB, the middle
 * dot GB text uses in foreign names) or Hangul is left alone.  The line, not
 * the sentence: a Japanese sentence may be all kanji (`東京都(日本)`) and
 * would pass for Chinese on its own, while its paragraph - one line in
 * crawled text - almost always shows kana; Korean keeps ASCII punctuation by
 * its own rules and mixes in Hanja.  The cost is that a Chinese line quoting
 * Japanese is not repaired, which is the safe side.
 *
 * Cost: one scan for trigger bytes, eight at a time; a buffer without them
 * is returned untouched, and a line without a non-ASCII byte is skipped.
 * Lines with work are decoded once more; everything is linear.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

/* ---- scanning ---------------------------------------------------------- */

static int is_trigger(unsigned char c)
{
    return c == ',' || c == ';' || c == ':' || c == '?' || c == '!' || c == '(' ||
           c == ')';
}

static int is_mark(unsigned char c)
{
    return c == ',' || c == ';' || c == ':' || c == '?' || c == '!';
}

/* Non-zero when some byte of w lies in 0x21..0x3F, where every trigger
 * lives (0x21 ! 0x28 ( 0x29 ) 0x2C , 0x3A : 0x3B ; 0x3F ?).  UTF-8 lead and
 * continuation bytes are >= 0x80, so Chinese text passes eight bytes per
 * step.  The classic "has byte between" test; false positives only cost a
 * byte-wise look. */
static int word_may_trigger(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, low7 = ones * 0x7F;
    const uint64_t hi = ones * 0x80;
    uint64_t x = w & low7;
    uint64_t t = ((ones * (127 + 0x40)) - x) & ~w & (x + ones * (127 - 0x20)) & hi;
    return t != 0;
}

/* Offset of the first trigger byte in s[i..n), or n. */
static size_t find_trigger(const char *s, size_t i, size_t n)
{
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_may_trigger(w))
                break;
            i += 8;
        }
        size_t stop = i + 8 < n ? i + 8 : n;
        for (; i < stop; i++)
            if (is_trigger((unsigned char)s[i]))
                return i;
    }
    return n;
}

static int has_non_ascii(const char *s, size_t i, size_t n)
{
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            return 1;
        i += 8;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] & 0x80)
            return 1;
    return 0;
}

/* ---- character classes ------------------------------------------------ */

#define NONE (-2) /* no character: the end of the line */

static int is_space(int32_t c)
{
    return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x202F || c == 0x3000;
}

static int is_c(int32_t c)
{
    return c >= 0 && c != 0x3000 && (zf_is_han(c) || zf_is_cjk_punct(c));
}

static int is_digit(int32_t c)
{
    return c >= '0' && c <= '9';
}

/* Full-width marks a stray comma was inserted in front of (seed 002), and
 * their flattened twins. */
static int is_stop_mark(int32_t c)
{
    return c == 0xFF0C || c == 0x3001 || c == 0x3002 || c == 0xFF1B || c == 0xFF1A ||
           c == 0xFF01 || c == 0xFF1F;
}

/* Letters of a pinyin syllable: ASCII lowercase and the lowercase Latin
 * letters with tone marks or diaeresis (Latin-1 Supplement, Extended-A/B,
 * U+1E3F ḿ). */
static int is_pinyin_letter(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFC) ||
           (c >= 0x100 && c <= 0x24F) || c == 0x1E3F;
}

/* Full-width twin of an ASCII trigger, as UTF-8 (three bytes each). */
static const char *fullwidth(unsigned char c)
{
    switch (c) {
    case ',': return "\xEF\xBC\x8C"; /* U+FF0C */
    case ';': return "\xEF\xBC\x9B"; /* U+FF1B */
    case ':': return "\xEF\xBC\x9A"; /* U+FF1A */
    case '?': return "\xEF\xBC\x9F"; /* U+FF1F */
    case '!': return "\xEF\xBC\x81"; /* U+FF01 */
    case '(': return "\xEF\xBC\x88"; /* U+FF08 */
    default:  return "\xEF\xBC\x89"; /* ')' -> U+FF09 */
    }
}

/* ---- one line --------------------------------------------------------- */

typedef struct paren {
    size_t pos;
    size_t cbefore; /* C characters on the line before pos */
    size_t match;   /* index of the partner, or SIZE_MAX */
    int conv;
} paren;

typedef struct span {
    size_t start, end;
} span;

typedef struct scratch {
    paren *p;
    size_t np, capp;
    size_t *stack;
    size_t nstack, capstack;
    span *u;
    size_t nu, capu;
} scratch;

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return ZHFIX_OK;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / size)
        return ZHFIX_ENOMEM;
    void *q = realloc(*v, c * size);
    if (!q)
        return ZHFIX_ENOMEM;
    *v = q;
    *cap = c;
    return ZHFIX_OK;
}

typedef struct line {
    const char *s;
    size_t ls, le; /* [ls, le): the line without its terminator */
    scratch *sc;
    size_t last_mark; /* last mark of the last run converted, or SIZE_MAX */
} line;

/* The character at i (NONE at the line's end, -1 if invalid); *len its
 * length. */
static int32_t cp_at(const line *ln, size_t i, size_t *len)
{
    if (i >= ln->le) {
        *len = 0;
        return NONE;
    }
    int32_t c;
    *len = (size_t)zf_utf8_next(ln->s + i, ln->le - i, &c);
    return c;
}

/* The character ending at i (NONE at the line's start); *start its offset. */
static int32_t cp_before(const line *ln, size_t i, size_t *start)
{
    if (i <= ln->ls) {
        *start = i;
        return NONE;
    }
    size_t j = zf_utf8_prev(ln->s, i);
    if (j < ln->ls)
        j = i - 1;
    *start = j;
    int32_t c;
    int l = zf_utf8_next(ln->s + j, i - j, &c);
    if ((size_t)l != i - j)
        return -1;
    return c;
}

/* The paren at byte offset pos, if any (binary search; the list is sorted). */
static const paren *paren_at(const line *ln, size_t pos)
{
    size_t lo = 0, hi = ln->sc->np;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ln->sc->p[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ln->sc->np && ln->sc->p[lo].pos == pos ? &ln->sc->p[lo] : NULL;
}

/* C, counting the parentheses and marks this pass converts (marks before
 * pos are decided already). */
static int c_at(const line *ln, int32_t c, size_t pos)
{
    if (c >= 0 && c < 0x80 && is_mark((unsigned char)c))
        return pos == ln->last_mark;
    if (c == '(' || c == ')') {
        const paren *p = paren_at(ln, pos);
        return p && p->conv;
    }
    return is_c(c);
}

static int in_url(const line *ln, size_t pos, size_t *k)
{
    const scratch *sc = ln->sc;
    while (*k < sc->nu && sc->u[*k].end <= pos)
        (*k)++;
    return *k < sc->nu && sc->u[*k].start <= pos;
}

/* ---- phase 0: URLs ---------------------------------------------------- */

static int url_char(unsigned char c)
{
    return c >= 0x21 && c <= 0x7E;
}

static int scheme_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '-' || c == '.';
}

static int alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* End of the URL whose token starts at st: the ASCII graphic run, less the
 * trailing punctuation a sentence puts after a link. */
static size_t url_end(const char *s, size_t st, size_t le)
{
    size_t e = st;
    long depth = 0;
    while (e < le && url_char((unsigned char)s[e])) {
        if (s[e] == '(')
            depth++;
        else if (s[e] == ')')
            depth--;
        e++;
    }
    while (e > st) {
        unsigned char c = (unsigned char)s[e - 1];
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
            c == '\'' || c == '"') {
            e--;
        } else if (c == ')' && depth < 0) {
            depth++;
            e--;
        } else {
            break;
        }
    }
    return e;
}

static int find_urls(line *ln)
{
    const char *s = ln->s;
    scratch *sc = ln->sc;
    sc->nu = 0;
    size_t i = ln->ls, floor = ln->ls;
    while (i + 3 <= ln->le) {
        size_t st = SIZE_MAX;
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            size_t b = i;
            while (b > floor && scheme_char((unsigned char)s[b - 1]))
                b--;
            while (b < i && !alpha((unsigned char)s[b]))
                b++;
            if (i - b >= 2)
                st = b;
        } else if (i + 4 <= ln->le && (s[i] == 'w' || s[i] == 'W') &&
                   memcmp(s + i, "www.", 4) == 0 &&
                   (i == floor || !scheme_char((unsigned char)s[i - 1]))) {
            st = i;
        }
        if (st == SIZE_MAX) {
            i++;
            continue;
        }
        size_t e = url_end(s, st, ln->le);
        if (e <= i) { /* "http://" alone, or trimmed away */
            i++;
            continue;
        }
        if (grow((void **)&sc->u, &sc->capu, sc->nu + 1, sizeof *sc->u) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        sc->u[sc->nu].start = st;
        sc->u[sc->nu].end = e;
        sc->nu++;
        i = floor = e;
    }
    return ZHFIX_OK;
}

/* ---- phase 1: the language check and the parentheses ------------------- */

/* Decode the line once: reject Japanese and Korean, collect the
 * parentheses outside URLs with the count of C before each.  Returns 1 to
 * go on, 0 to leave the line, or an error. */
static int scan_line(line *ln)
{
    scratch *sc = ln->sc;
    size_t cnt = 0, k = 0;
    sc->np = 0;
    for (size_t i = ln->ls; i < ln->le;) {
        unsigned char b = (unsigned char)ln->s[i];
        if (b < 0x80) {
            if ((b == '(' || b == ')') && !in_url(ln, i, &k)) {
                if (grow((void **)&sc->p, &sc->capp, sc->np + 1, sizeof *sc->p) != ZHFIX_OK)
                    return ZHFIX_ENOMEM;
                paren *p = &sc->p[sc->np++];
                p->pos = i;
                p->cbefore = cnt;
                p->match = SIZE_MAX;
                p->conv = 0;
            }
            i++;
            continue;
        }
        int32_t c;
        i += (size_t)zf_utf8_next(ln->s + i, ln->le - i, &c);
        if ((zf_is_kana(c) && c != 0x30FB) || zf_is_hangul(c))
            return 0;
        if (is_c(c))
            cnt++;
    }
    return 1;
}

/* Is the neighbour of the parenthesis at pos C?  after: look right, else
 * left.  An adjacent run of ASCII marks is skipped, since the marks are
 * decided after the parentheses (`中文,(abc)` still has 文 beside its `(`,
 * `(真的吗?)` still ends on 吗); a neighbouring parenthesis counts as C once
 * it is converted. */
static int beside_c(const line *ln, size_t pos, int after)
{
    size_t j, l;
    int32_t c;
    if (after) {
        j = pos + 1;
        while (j < ln->le && is_mark((unsigned char)ln->s[j]))
            j++;
        c = cp_at(ln, j, &l);
    } else {
        j = pos;
        while (j > ln->ls && is_mark((unsigned char)ln->s[j - 1]))
            j--;
        c = cp_before(ln, j, &j);
    }
    return c_at(ln, c, j);
}

/* Decide the pair opened by sc->p[i]; returns 1 when it newly converts. */
static int decide_pair(line *ln, size_t i)
{
    paren *o = &ln->sc->p[i];
    if (o->conv || ln->s[o->pos] != '(' || o->match == SIZE_MAX)
        return 0;
    paren *cl = &ln->sc->p[o->match];
    size_t l;
    int32_t before = cp_before(ln, o->pos, &l);
    int inner_c = cl->cbefore > o->cbefore;
    int ident = (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
                is_digit(before) || before == '_' || before == ']';
    if (ident && !inner_c)
        return 0; /* code-like: f(x), printf(), ](url) */
    if (beside_c(ln, o->pos, 0) || beside_c(ln, o->pos, 1) || beside_c(ln, cl->pos, 0) ||
        beside_c(ln, cl->pos, 1)) {
        o->conv = cl->conv = 1;
        return 1;
    }
    return 0;
}

static int match_parens(line *ln)
{
    scratch *sc = ln->sc;
    sc->nstack = 0;
    for (size_t i = 0; i < sc->np; i++) {
        if (ln->s[sc->p[i].pos] == '(') {
            if (grow((void **)&sc->stack, &sc->capstack, sc->nstack + 1,
                     sizeof *sc->stack) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            sc->stack[sc->nstack++] = i;
        } else if (sc->nstack) {
            size_t o = sc->stack[--sc->nstack];
            sc->p[o].match = i;
            sc->p[i].match = o;
        }
    }
    /* A converted pair makes its neighbours C: sweep forward (outer to
     * inner, left to right), then backward (inner to outer), so that
     * `中((a))` and `((a)中)` convert whole in one run. */
    for (size_t i = 0; i < sc->np; i++)
        decide_pair(ln, i);
    for (size_t i = sc->np; i-- > 0;)
        decide_pair(ln, i);
    return ZHFIX_OK;
}

/* ---- phase 2: marks --------------------------------------------------- */

/* Nearest non-space character before i / from i on (NONE at the end). */
static int32_t nonspace_before(const line *ln, size_t i, size_t *at)
{
    int32_t c;
    do {
        c = cp_before(ln, i, at);
        i = *at;
    } while (is_space(c));
    return c;
}

static int32_t nonspace_from(const line *ln, size_t i, size_t *at)
{
    int32_t c;
    size_t l;
    for (;;) {
        c = cp_at(ln, i, &l);
        if (!is_space(c))
            break;
        i += l;
    }
    *at = i;
    return c;
}

/* Does the mark run [a, b) touch Chinese?  See the header. */
static int run_touches(const line *ln, size_t a, size_t b)
{
    size_t lpos, rpos, l;
    int32_t lc = cp_before(ln, a, &lpos);
    int32_t rc = cp_at(ln, b, &l);
    rpos = b;
    if (b - a == 1) {
        unsigned char m = (unsigned char)ln->s[a];
        if ((m == ',' || m == ':' || m == ';') && is_digit(lc) && is_digit(rc))
            return 0; /* 09:49:45, 1,000 */
        if (m == '?' && is_pinyin_letter(rc)) {
            size_t j = b, n = 0;
            while (n < 8 && is_pinyin_letter(cp_at(ln, j, &l))) {
                j += l;
                n++;
            }
            int32_t close = cp_at(ln, j, &l);
            if (close == ')' || close == 0xFF09)
                return 0; /* ?qǐng) - the mojibake pass's evidence */
        }
    }
    for (size_t i = a; i + 2 < b; i++)
        if (ln->s[i] == ',' && ln->s[i + 1] == ',' && ln->s[i + 2] == ',')
            return 0;
    if (c_at(ln, lc, lpos) || c_at(ln, rc, rpos))
        return 1;
    if (is_space(lc) && (rc == NONE || is_space(rc))) {
        size_t at;
        int32_t l2 = nonspace_before(ln, lpos, &at);
        if (!c_at(ln, l2, at))
            return 0;
        int32_t r2 = nonspace_from(ln, b, &at);
        return r2 == NONE || c_at(ln, r2, at);
    }
    return 0;
}

static void do_run(line *ln, zf_rw *rw, size_t a, size_t b)
{
    if (!run_touches(ln, a, b))
        return;
    ln->last_mark = b - 1;
    size_t l;
    int32_t after = cp_at(ln, b, &l);
    for (size_t i = a; i < b; i++) {
        unsigned char m = (unsigned char)ln->s[i];
        if (m == ',' && (i + 1 < b || is_stop_mark(after)))
            zf_rw_replace(rw, i, i + 1, "", 0, ZHFIX_EDIT_COMMA);
        else
            zf_rw_replace(rw, i, i + 1, fullwidth(m), 3, ZHFIX_EDIT_PUNCT);
    }
}

static int do_line(line *ln, zf_rw *rw)
{
    int rc = find_urls(ln);
    if (rc != ZHFIX_OK)
        return rc;
    rc = scan_line(ln);
    if (rc <= 0)
        return rc;
    rc = match_parens(ln);
    if (rc != ZHFIX_OK)
        return rc;
    size_t k = 0;
    ln->last_mark = SIZE_MAX;
    for (size_t i = find_trigger(ln->s, ln->ls, ln->le); i < ln->le;
         i = find_trigger(ln->s, i, ln->le)) {
        unsigned char b = (unsigned char)ln->s[i];
        if (in_url(ln, i, &k)) {
            i++;
            continue;
        }
        if (b == '(' || b == ')') {
            const paren *p = paren_at(ln, i);
            if (p && p->conv)
                zf_rw_replace(rw, i, i + 1, fullwidth(b), 3, ZHFIX_EDIT_PUNCT);
            i++;
            continue;
        }
        size_t e = i + 1;
        while (e < ln->le && is_mark((unsigned char)ln->s[e]))
            e++;
        do_run(ln, rw, i, e);
        i = e;
    }
    return ZHFIX_OK;
}

/* ---- the pass --------------------------------------------------------- */

int zf_pass_punct(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)opt;
    (void)doc;
    const char *s = rw->in;
    size_t n = rw->len, pos = 0;
    scratch sc;
    memset(&sc, 0, sizeof sc);
    int rc = ZHFIX_OK;
    while (rc == ZHFIX_OK) {
        size_t t = find_trigger(s, pos, n);
        if (t >= n)
            break;
        /* the line around t: memchr is far faster than a byte loop */
        const char *q;
        while ((q = memchr(s + pos, '\n', t - pos)) != NULL)
            pos = (size_t)(q - s) + 1;
        q = memchr(s + t, '\n', n - t);
        size_t next = q ? (size_t)(q - s) + 1 : n;
        size_t le = q ? (size_t)(q - s) : n;
        if (le > pos && s[le - 1] == '\r')
            le--; /* CRLF */
        if (has_non_ascii(s, pos, le)) {
            line ln = {s, pos, le, &sc, SIZE_MAX};
            rc = do_line(&ln, rw);
        }
        pos = next;
    }
    free(sc.p);
    free(sc.stack);
    free(sc.u);
    if (rc == ZHFIX_OK)
        rc = rw->err;
    return rc;
}
