/*
 * pass_punct.c - restores the full-width punctuation of Chinese text that a
 * full-width-to-half-width pass flattened, and drops the stray commas seen
 * in front of Chinese marks (damage-model.md sections 2 and 3).
 *
 * The damage: every character of U+FF01-FF5E became its ASCII twin, so
 * `，：；？！（）` read `,:;?!()` while `。、“”《》——……` stayed; and a comma
 * was inserted in front of many Chinese marks, `，`->`,,` `、`->`,、`
 * `。`->`,。` `；`->`,;` `！`->`,!` (seed 002).  The repair looks only at the
 * trigger bytes `, ; : ? ! ( )`, one line at a time (a line ends at LF or
 * CR LF; nothing here crosses one, and no newline is added or removed).
 *
 * Terms:
 *   Han        zf_is_han(): strong evidence of Chinese beside a mark.
 *   C          Han, a CJK mark (zf_is_cjk_punct() less U+3000 IDEOGRAPHIC
 *              SPACE: a space is never C), or an ASCII mark or parenthesis
 *              this pass converts.  C that is not Han is weak evidence.
 *   mark run   a maximal run of the bytes `, ; : ? !`.
 *   L, R       the character just before / just after a mark run, on the
 *              line (none at its ends).
 *   flat       the piece (what the stream hands the pipeline) shows
 *              flattening: ASCII triggers directly beside Han are at least
 *              one and at least as many as the full-width `，：；？！（）`
 *              in it.  Flattening left none of those (damage-model section
 *              2); clean text has many, and may still put ASCII beside a
 *              CJK mark (`计划》:` before a URL in manpages-zh).
 *
 * Touching (sides_touch()).  A mark run or a parenthesis with x on one side
 * and y on the other touches when x or y is Han; or, in a flat piece, when
 * one is other C and the far side is not an ASCII letter, digit or space
 * (`”,“`, `》:` at a line's end, `(網格),、` touch; `“Why?”`, `工具 (SSH)”`
 * are English style and do not).  Touching is adjacency, never across a
 * space: flattening adds no space, and marks set off by spaces
 * (`代理 (MTA)`, `参见 : ls`) are usual in clean technical Chinese.
 *
 * Mark runs.  A run converts when it touches with L and R as its sides -
 * `当前位置: 主页`, `发布时间:2022-05-09`, `阅读量:12706` (seed 004),
 * `,“不能感染`, `Python,可以` - or, in a flat piece, when R is an opening
 * mark (`Chromium,(来自`), except:
 *   - a single `,` `:` or `;` with an ASCII digit on both sides: times
 *     `09:49:45` `16:18:00` (seeds 000, 004), thousands `1,000`, ratios;
 *   - a lone `?` followed by lowercase pinyin letters and `)`: the GBK
 *     out-of-step signature `?qǐng)` (damage-model section 4), which
 *     belongs to the mojibake pass;
 *   - a run with three commas in a row: the damage inserts one comma, so
 *     `,,,` is the writer's own;
 *   - a run that is all a quotation holds: `用 “:” 分隔`;
 *   - a run of `?` alone where no question mark stands (at the line's
 *     start, after an opening mark, before `，、。；：`), or anywhere in a
 *     piece where such runs are common: characters lost to a conversion
 *     (qmarks.c).
 * In a run that converts, a comma followed by another mark of the run or by
 * a full-width `，、。；：！？` is dropped (ZHFIX_EDIT_COMMA: `,,`->`，`,
 * `,、`->`、`, `,。`->`。`, `,;`->`；`, `,!`->`！`, `),、`->`）、`); every
 * other mark becomes its full-width twin (ZHFIX_EDIT_PUNCT).
 * A run that does not convert still drops a final comma directly before a
 * full-width `，、。；：！？` (stray_comma(): `KDE）,，那么`, `“目录树”,。`,
 * `使用 perl,。`): a comma then another sentence mark is no orthography's,
 * and the damage puts it there whatever precedes the mark - unless the
 * comma opens a quotation or bracket (`[,，]`, `",，"`; ASCII quotes by
 * their count on the line, apostrophes left out), starts the line,
 * or follows another comma.  This holds in English lines too, and needs
 * no flat piece: stray commas come with full-width marks kept.
 *
 * Parentheses convert as a pair, matched on the line with a stack.  A pair
 * converts when either parenthesis touches, its outside and inside
 * neighbours being its two sides (an adjacent mark run skipped, as marks
 * are decided after parentheses) - `赵丽娜(左一)和`,
 * `“2+6”(白天2小时、夜间6小时)`, `(特约记者 余少林)`, `；(2)第二条` - unless it
 * is code, a formula or part of a file name (code_pair(): `f(x)`, `P(A)`,
 * `](链接.md)`, `区间(0,1)`, `报告(1).docx`).  `中国 (China) 是` has no
 * touching neighbour and stays.  An unmatched parenthesis converts only
 * when its inner side (after `(`, before `)`) touches: the other half is on
 * another line of a wrapped paragraph (`曾发生(除非…` / `命名)。`), while a
 * list marker `1)第一条`, a pinyin tail of the GBK shift `shè)立` or an
 * emoticon has nothing Chinese inside and stays.
 *
 * Left alone entirely:
 *   - URLs (`scheme://` or `www.` to the end of the ASCII token, less the
 *     trailing `.,;:!?` and unbalanced `)` that linkifiers trim too),
 *     Markdown code spans between backticks, and a trigger escaped by a
 *     backslash with the marks right after it (roff's `\,`, `\(em`);
 *   - code lines: a line starting with a C, Python, JavaScript or shell
 *     statement keyword followed by `(`, or by a space on a line that ends
 *     like a statement (`def 问候(名字):`, `printf("总数:%d\n", n);`);
 *   - in English lines with Chinese words in them - more than two Latin
 *     words (outside URLs and code spans) per Han character - everything
 *     but a mark run between two Han characters (`tea (茶)`,
 *     `Beijing (北京, Běijīng)` stay; `the phrase 你好,世界` converts);
 *   - Japanese and Korean: a piece in which kana and Hangul make up a fifth
 *     or more of kana + Hangul + Han, and any other line holding kana (but
 *     U+30FB, the middle dot GB text writes foreign names with) or Hangul.
 *     Not the sentence: a Japanese sentence may be all kanji (`東京都(日本)`)
 *     and pass for Chinese on its own, and a wrapped Japanese paragraph has
 *     kanji-only lines (`許可 (o)。`, `関連項目: dir(1)` in manpages-ja), so
 *     the whole piece is judged first; a Japanese line quoted in Chinese
 *     text (in crawled text a line is a paragraph) still shows kana.  Korean
 *     keeps ASCII punctuation by its own rules and mixes in Hanja.  The cost,
 *     a Chinese line quoting Japanese is not repaired, is on the safe side.
 *
 * Cost: one scan for trigger bytes, eight at a time; a buffer without them
 * is returned untouched, and a line whose triggers all have ASCII on both
 * sides is skipped (line_has_work()).
 * The first line with work decodes the piece once (for flat and the
 * Japanese test); each such line is decoded once more.  Everything is
 * linear in the input.
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

/* Whether the line s[ls..le), which has a trigger at t, has work: a run
 * of trigger bytes with a non-ASCII byte right before or after it.  Every
 * edit needs one.  A mark run converts when it touches Han (non-ASCII)
 * or, in a flat piece, other C: a CJK mark (non-ASCII) or a trigger this
 * pass converts; a parenthesis likewise by its neighbours, across adjacent
 * marks only; a stray comma stands before a full-width mark.  Converted
 * triggers make C only after something non-ASCII has touched the first of
 * them.  So a line whose triggers all sit among ASCII (`ls -l (1)`,
 * `Debian: 文件` with its space) is passed without decoding it: most lines
 * of clean text with a trigger. */
static int line_has_work(const char *s, size_t ls, size_t t, size_t le)
{
    while (t < le) {
        size_t e = t + 1;
        while (e < le && is_trigger((unsigned char)s[e]))
            e++;
        if ((t > ls && ((unsigned char)s[t - 1] & 0x80)) ||
            (e < le && ((unsigned char)s[e] & 0x80)))
            return 1;
        t = find_trigger(s, e, le);
    }
    return 0;
}

/* ---- character classes ------------------------------------------------ */

#define NONE (-2) /* no character: the end of the line */

static int is_c(int32_t c)
{
    return c >= 0 && c != 0x3000 && (zf_is_han(c) || zf_is_cjk_punct(c));
}

static int is_digit(int32_t c)
{
    return c >= '0' && c <= '9';
}

/* Kana or Hangul: Japanese or Korean.  U+30FB KATAKANA MIDDLE DOT is left
 * out: GB text writes foreign names with it (迈克尔・乔丹). */
static int is_jk(int32_t c)
{
    return (zf_is_kana(c) && c != 0x30FB) || zf_is_hangul(c);
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
    size_t commas;  /* ASCII commas on the line before pos */
    size_t spaces;  /* ASCII spaces on the line before pos */
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
    int flat;         /* the piece shows flattening: weak touches count */
    int english;      /* an English line: only marks between Han convert */
    size_t qpos;      /* quotes on [ls, qpos) counted for ascii_opens(), */
    size_t qn, an;    /* `"` in qn, `'` but apostrophes in an; asked in
                         increasing order, so linear per line */
    int lost;         /* the piece's `?` are characters lost (zf_qmarks_lost) */
    int shifts;       /* the mojibake pass runs: its realigner reads `?` */
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

/* How much the character c at pos says "Chinese": STRONG for Han, WEAK for
 * another C (a CJK mark, or a parenthesis or mark this pass converts; marks
 * before pos are decided already), else 0. */
enum { WEAK = 1, STRONG = 2 };

static int c_level(const line *ln, int32_t c, size_t pos)
{
    if (c >= 0 && c < 0x80 && is_mark((unsigned char)c))
        return pos == ln->last_mark ? WEAK : 0;
    if (c == '(' || c == ')') {
        const paren *p = paren_at(ln, pos);
        return p && p->conv ? WEAK : 0;
    }
    if (zf_is_han(c))
        return STRONG;
    return is_c(c) ? WEAK : 0;
}

/* An opening mark, counting a `(` this pass converts. */
static int is_open_quote_c(const line *ln, int32_t c, size_t pos)
{
    if (c == '(') {
        const paren *p = paren_at(ln, pos);
        return p && p->conv;
    }
    return zf_is_open_mark(c);
}

/* Closing quotation marks and brackets of CJK text, the twins of
 * zf_is_open_mark()'s. */
static int is_close_quote(int32_t c)
{
    return c == 0x201D || c == 0x2019 || c == 0x300D || c == 0x300F || c == 0x300B ||
           c == 0x3009 || c == 0x3011 || c == 0x3015 || c == 0xFF09;
}

static int in_span(const line *ln, size_t pos, size_t *k)
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

static int add_span(scratch *sc, size_t start, size_t end)
{
    if (grow((void **)&sc->u, &sc->capu, sc->nu + 1, sizeof *sc->u) != ZHFIX_OK)
        return ZHFIX_ENOMEM;
    sc->u[sc->nu].start = start;
    sc->u[sc->nu].end = end;
    sc->nu++;
    return ZHFIX_OK;
}

static int by_start(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The protected spans of the line, in order: URLs, Markdown code spans
 * (a pair of backticks: `长度 = len(名单)` is code, its marks are syntax),
 * backslash escapes of a trigger byte, and damage the mojibake pass noted
 * and left as found (zf_rw_held: a `)` there is a garbled run's, and
 * pairing it with a `(` outside changes what the next run pairs). */
static int find_spans(line *ln, const zf_rw *rw)
{
    const char *s = ln->s;
    scratch *sc = ln->sc;
    size_t i = ln->ls, floor = ln->ls, le = ln->le;
    int ticks = 1; /* stop looking for backticks once one has no partner */
    sc->nu = 0;
    while (i < le) {
        size_t st = SIZE_MAX, e = 0;
        if (s[i] == '`' && ticks) {
            const char *q = memchr(s + i + 1, '`', le - i - 1);
            if (!q) {
                ticks = 0;
                i++;
                continue;
            }
            st = i;
            e = (size_t)(q - s) + 1;
        } else if (s[i] == ':' && le - i >= 3 && s[i + 1] == '/' && s[i + 2] == '/') {
            size_t b = i;
            while (b > floor && scheme_char((unsigned char)s[b - 1]))
                b--;
            while (b < i && !alpha((unsigned char)s[b]))
                b++;
            if (i - b >= 2)
                st = b;
            e = st == SIZE_MAX ? i : url_end(s, st, le);
            if (e <= i) /* "http://" alone, or trimmed away */
                st = SIZE_MAX;
        } else if (s[i] == '\\' && le - i >= 2 && is_trigger((unsigned char)s[i + 1])) {
            /* a backslash escape is markup, not punctuation: roff's `\,`
             * (italic correction; `[\fI\,,模式\/\fP]` is the synopsis
             * `[,MODE]`), `\(em`, TeX's `\,` `\;`; the marks right after
             * it belong to the same syntax */
            st = i;
            e = i + 2;
            while (e < le && is_mark((unsigned char)s[e]))
                e++;
        } else if (s[i] == 'w' && le - i >= 4 && memcmp(s + i, "www.", 4) == 0 &&
                   (i == floor || !scheme_char((unsigned char)s[i - 1]))) {
            st = i;
            e = url_end(s, st, le);
            if (e <= i + 4)
                st = SIZE_MAX;
        }
        if (st == SIZE_MAX) {
            i++;
            continue;
        }
        if (add_span(sc, st, e) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        i = floor = e;
    }
    size_t nu0 = sc->nu, a, b;
    for (size_t from = ln->ls; zf_rw_held_span(rw, from, le, &a, &b); from = b)
        if (add_span(sc, a, b) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
    if (nu0 > 0 && sc->nu > nu0) {
        /* in order, overlaps merged, for in_span() */
        qsort(sc->u, sc->nu, sizeof *sc->u, by_start);
        size_t m = 0;
        for (size_t k = 1; k < sc->nu; k++) {
            if (sc->u[k].start < sc->u[m].end) {
                if (sc->u[k].end > sc->u[m].end)
                    sc->u[m].end = sc->u[k].end;
            } else {
                sc->u[++m] = sc->u[k];
            }
        }
        sc->nu = m + 1;
    }
    return ZHFIX_OK;
}

/* ---- phase 1: the language check and the parentheses ------------------- */

/* Does the line start, after its indentation, with a keyword that opens a
 * statement in C, Python, JavaScript or shell, followed by `(`, or by a
 * space when the line also ends like a statement (`:` `;` `{` `}` `)`)?
 * Such a line is code, where marks beside Han are syntax (`def 问候(名字):`,
 * `printf("总数:%d\n", n);`); Chinese prose lines do not start so, and
 * English ones that start with "return" or "for" do not end so. */
static int code_line(const line *ln)
{
    static const char *const kw[] = {
        "def", "class", "return", "import", "from", "for", "while", "if", "elif",
        "else", "print", "printf", "fprintf", "puts", "echo", "var", "let",
        "const", "function", "static", "int", "void", "char", "#include", "#define",
    };
    const char *s = ln->s;
    size_t i = ln->ls;
    while (i < ln->le && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t w = i;
    while (w < ln->le && (alpha((unsigned char)s[w]) || (w == i && s[w] == '#')))
        w++;
    if (w == i || w >= ln->le || (s[w] != ' ' && s[w] != '('))
        return 0;
    if (s[w] == ' ') {
        size_t e = ln->le;
        while (e > w && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        char last = s[e - 1];
        if (last != ':' && last != ';' && last != '{' && last != '}' && last != ')')
            return 0;
    }
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (strlen(kw[k]) == w - i && memcmp(kw[k], s + i, w - i) == 0)
            return 1;
    return 0;
}

/* A letter of a Latin-script word: ASCII, or Latin-1 Supplement and
 * Latin Extended-A/B (pinyin with tone marks, accented names), less the
 * signs × and ÷. */
static int latin_letter(int32_t c)
{
    if (c < 0x80)
        return c >= 0 && alpha((unsigned char)c);
    return c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7;
}

/* Decode the line once: reject Japanese, Korean, English with Chinese words
 * in it, and code; collect the parentheses outside protected spans with the
 * counts each needs.  Returns 1 to go on, 0 to leave the line, or an
 * error. */
static int scan_line(line *ln)
{
    scratch *sc = ln->sc;
    size_t cnt = 0, k = 0, han = 0, words = 0, commas = 0, spaces = 0;
    int in_word = 0;
    if (code_line(ln))
        return 0;
    sc->np = 0;
    for (size_t i = ln->ls; i < ln->le;) {
        int32_t c;
        size_t at = i;
        if ((unsigned char)ln->s[i] < 0x80)
            c = (unsigned char)ln->s[i++];
        else
            i += (size_t)zf_utf8_next(ln->s + i, ln->le - i, &c);
        if (c < 0x80 && in_span(ln, at, &k)) {
            in_word = 0;
            continue;
        }
        int letter = latin_letter(c);
        if (letter && !in_word)
            words++;
        in_word = letter;
        if (c == ',') {
            commas++;
        } else if (c == ' ') {
            spaces++;
        } else if (c == '(' || c == ')') {
            if (grow((void **)&sc->p, &sc->capp, sc->np + 1, sizeof *sc->p) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            paren *p = &sc->p[sc->np++];
            p->pos = at;
            p->cbefore = cnt;
            p->commas = commas;
            p->spaces = spaces;
            p->match = SIZE_MAX;
            p->conv = 0;
        } else if (c < 0x80) {
            /* ASCII is neither kana, Hangul nor C */
        } else if (is_jk(c)) {
            return 0;
        } else if (is_c(c)) {
            cnt++;
            if (zf_is_han(c))
                han++;
        }
    }
    /* An English sentence with a Chinese word or two: its parentheses and
     * commas are English (`tea (茶)`, `Beijing (北京, Běijīng)`).  More than
     * two Latin words to a Han character; words of URLs and code spans do
     * not count. */
    ln->english = words > 2 * han;
    return 1;
}

/* The neighbour of the parenthesis at pos: after, the character after it,
 * else the one before it; an adjacent run of ASCII marks is skipped, since
 * the marks are decided after the parentheses (`中文,(abc)` still has 文
 * beside its `(`, `(真的吗?)` still ends on 吗).  *at is its offset. */
static int32_t neighbour(const line *ln, size_t pos, int after, size_t *at)
{
    size_t j, l;
    if (after) {
        j = pos + 1;
        while (j < ln->le && is_mark((unsigned char)ln->s[j]))
            j++;
        *at = j;
        return cp_at(ln, j, &l);
    }
    j = pos;
    while (j > ln->ls && is_mark((unsigned char)ln->s[j - 1]))
        j--;
    return cp_before(ln, j, at);
}

static int latin_or_space(int32_t c)
{
    return c == ' ' || c == '\t' || c == 0xA0 ||
           (c >= 0 && c < 0x80 && (alpha((unsigned char)c) || is_digit(c)));
}

/* Does a mark or parenthesis with x on one side and y on the other touch
 * Chinese?  Han on either side does.  Other C does in a flat piece when the
 * far side is not an ASCII letter, digit or space - `”,“` and `》:` at the
 * end of a line are flattened, `“Why?”` and `工具 (SSH)”` are English
 * style. */
static int sides_touch(const line *ln, int32_t x, size_t xpos, int32_t y, size_t ypos)
{
    int lx = c_level(ln, x, xpos), ly = c_level(ln, y, ypos);
    if (lx == STRONG || ly == STRONG)
        return 1;
    if (!ln->flat)
        return 0;
    return (lx == WEAK && !latin_or_space(y)) || (ly == WEAK && !latin_or_space(x));
}

static int paren_touches(const line *ln, size_t pos)
{
    size_t a, b;
    int32_t x = neighbour(ln, pos, 0, &a), y = neighbour(ln, pos, 1, &b);
    return sides_touch(ln, x, a, y, b);
}

/* Is the pair o..cl code, a formula or part of a file name, whatever
 * touches it?
 *   `](`                      a Markdown link or image target;
 *   `(` after a letter, digit or `_`, no C inside
 *                             a call or index: `f(x)`, `printf()`, `P(A)`;
 *   no C inside, an ASCII comma and no space inside
 *                             a tuple or interval: `区间(0,1)`, `(x,y)=(1,2)`
 *                             (but `(Transport Layer Security,TLS)` is prose);
 *   `(` after `/` or `\`, `)` before `/`, `\` or `.` and a letter or digit
 *                             a path or file name: `报告(1).docx`,
 *                             `会议记录(最终版).txt`. */
static int code_pair(const line *ln, const paren *o, const paren *cl)
{
    size_t l;
    int32_t before = cp_before(ln, o->pos, &l);
    int32_t after = cp_at(ln, cl->pos + 1, &l);
    int inner_c = cl->cbefore > o->cbefore;
    if (before == ']' || before == '/' || before == '\\' || after == '/' || after == '\\')
        return 1;
    if (after == '.') {
        int32_t c = cp_at(ln, cl->pos + 2, &l);
        if (c >= 0 && c < 0x80 && (alpha((unsigned char)c) || is_digit(c)))
            return 1;
    }
    if (inner_c)
        return 0;
    int ident = before >= 0 && before < 0x80 &&
                (alpha((unsigned char)before) || is_digit(before) || before == '_');
    return ident || (cl->commas > o->commas && cl->spaces == o->spaces);
}

/* Decide the pair opened by sc->p[i]; returns 1 when it newly converts. */
static int decide_pair(line *ln, size_t i)
{
    paren *o = &ln->sc->p[i];
    if (o->conv || ln->s[o->pos] != '(' || o->match == SIZE_MAX)
        return 0;
    paren *cl = &ln->sc->p[o->match];
    if (code_pair(ln, o, cl))
        return 0;
    if (paren_touches(ln, o->pos) || paren_touches(ln, cl->pos)) {
        o->conv = cl->conv = 1;
        return 1;
    }
    return 0;
}

/* Does a `?` at s[at] (or up to three) start the GBK out-of-step
 * signature `?qǐng)`: pinyin letters after it, then a closing
 * parenthesis?  The mojibake pass's evidence (damage-model.md 4). */
static int shift_signature(const line *ln, size_t at)
{
    size_t l, j = at, q = 0, n = 0;
    while (q < 3 && cp_at(ln, j, &l) == '?') {
        j += l;
        q++;
    }
    if (q == 0)
        return 0;
    while (n < 8 && is_pinyin_letter(cp_at(ln, j, &l))) {
        j += l;
        n++;
    }
    int32_t close = cp_at(ln, j, &l);
    return n > 0 && (close == ')' || close == 0xFF09);
}

/* Would the parenthesis at s[i], written full-width, give a second run's
 * realigner a spot to repair?  It reads the character before a `?` and
 * passes over a spot after an ASCII parenthesis, but not after a
 * full-width one (`室)??zhuān)門` made `室）??zhuān)門` read in a second
 * run as `室）專（zhuān）門`).  So the line is written so and the
 * realigner asked, as hold_shift_spots() in pass_script.c asks it.
 * 1: it would, 0: it would not, -1: out of memory. */
static int makes_shift_spot(const line *ln, size_t i)
{
    if (!ln->shifts || ln->lost || !shift_signature(ln, i + 1))
        return 0;
    size_t pre = i - ln->ls, post = ln->le - (i + 1), n = pre + 3 + post;
    char *t = malloc(n);
    if (!t)
        return -1;
    memcpy(t, ln->s + ln->ls, pre);
    memcpy(t + pre, fullwidth((unsigned char)ln->s[i]), 3);
    memcpy(t + pre + 3, ln->s + i + 1, post);
    size_t read;
    int v = zf_gbk_shift_verdict(t, n, pre + 3, &read);
    free(t);
    return v == -2 ? -1 : v == 1;
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
    if (ln->english)
        return ZHFIX_OK;
    for (size_t i = 0; i < sc->np; i++)
        decide_pair(ln, i);
    for (size_t i = sc->np; i-- > 0;)
        decide_pair(ln, i);
    /* An unmatched parenthesis converts when its inner side touches: the
     * other half is on another line of a wrapped paragraph (`曾发生(除非…`
     * … `命名)。` in manpages-zh).  A list marker `1)第一条` and a pinyin
     * tail `shè)立` have no Chinese inside and stay.  A mark run between
     * is passed over, as for a pair: the marks are decided after, and
     * `只?)` seen again as `只？)` would convert (the fuzzer's
     * repro-idempotent-punct-paren-after-mark). */
    for (size_t i = 0; i < sc->np; i++) {
        paren *p = &sc->p[i];
        if (p->match != SIZE_MAX)
            continue;
        size_t at;
        int32_t c = neighbour(ln, p->pos, ln->s[p->pos] == '(', &at);
        int lv = c_level(ln, c, at);
        p->conv = lv == STRONG || (lv == WEAK && ln->flat);
    }
    /* a parenthesis that, written full-width, would make a `?` after it
     * a spot the realigner repairs stays as found, and so does its
     * partner: `（画室)??zhuān)` would be no pair */
    for (size_t i = 0; i < sc->np; i++) {
        paren *p = &sc->p[i];
        if (!p->conv)
            continue;
        int v = makes_shift_spot(ln, p->pos);
        if (v < 0)
            return ZHFIX_ENOMEM;
        if (v) {
            p->conv = 0;
            if (p->match != SIZE_MAX)
                sc->p[p->match].conv = 0;
        }
    }
    return ZHFIX_OK;
}

/* ---- phase 2: marks --------------------------------------------------- */

/* Is the run [a, b) all `?`, and either where no question mark stands or
 * in a piece whose `?` are lost characters (qmarks.c: `拒?，`)? */
static int lost_chars(const line *ln, size_t a, size_t b, int32_t lc, int32_t rc)
{
    for (size_t i = a; i < b; i++)
        if (ln->s[i] != '?')
            return 0;
    return ln->lost || zf_qmark_misplaced(lc, rc);
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
        if (m == '?' && is_pinyin_letter(rc) && shift_signature(ln, a))
            return 0; /* ?qǐng) - the mojibake pass's evidence */
    }
    for (size_t i = a; i + 2 < b; i++)
        if (ln->s[i] == ',' && ln->s[i + 1] == ',' && ln->s[i + 2] == ',')
            return 0;
    if (lost_chars(ln, a, b, lc, rc))
        return 0;
    if (zf_is_open_mark(lc) && is_close_quote(rc))
        return 0; /* a quoted mark: 用 “:” 分隔 */
    if (ln->english)
        return zf_is_han(lc) && zf_is_han(rc);
    if (ln->flat && is_open_quote_c(ln, rc, rpos))
        return 1; /* before an opening mark: `Chromium,(来自`, `说,“好”` */
    return sides_touch(ln, lc, lpos, rc, rpos);
}

/* An apostrophe: `'` between two ASCII letters (`Debian's`). */
static int apostrophe(const line *ln, size_t i)
{
    return i > ln->ls && i + 1 < ln->le && alpha((unsigned char)ln->s[i - 1]) &&
           alpha((unsigned char)ln->s[i + 1]);
}

/* Does the ASCII character c at pos open a quotation or a bracket?  A `"`
 * opens when it is the odd one of the line's `"` up to it, a `'` when it
 * is the odd one of the line's `'` that are not apostrophes (`'abc'`,
 * `PS2=' '` close on their second). */
static int ascii_opens(line *ln, int32_t c, size_t pos)
{
    if (c == '(' || c == '[' || c == '{' || c == '<')
        return 1;
    if (c != '"' && c != '\'')
        return 0;
    if (ln->qpos < ln->ls || ln->qpos > pos + 1) { /* not asked in order */
        ln->qpos = ln->ls;
        ln->qn = ln->an = 0;
    }
    for (; ln->qpos <= pos; ln->qpos++) {
        ln->qn += ln->s[ln->qpos] == '"';
        ln->an += ln->s[ln->qpos] == '\'' && !apostrophe(ln, ln->qpos);
    }
    return (c == '"' ? ln->qn : ln->an) % 2 == 1;
}

/* Is the comma ending the run [a, b) a stray one inserted in front of the
 * full-width mark after it (damage-model section 3), though the run does
 * not touch Han - `KDE）,，那么`, `“虚拟控制台”,。`, `使用 perl,。`,
 * `依赖关系 ,。`?  An ASCII comma directly before `，、。；：！？` is
 * two sentence marks in a row, which no orthography writes, Chinese or
 * English; the text around it (English words, a quotation, a parenthesis)
 * says nothing about it.  Not stray:
 *   - a comma that opens a quotation or bracket (`[,，]`, `（,，）`,
 *     `",，"`): the writer quotes or lists both commas;
 *   - a comma at the start of the line: nothing shows what it follows;
 *   - a comma after another comma: the damage inserts one comma per mark,
 *     so `,,。` is the writer's own.
 * Runs that do touch drop such commas in do_run() already. */
static int stray_comma(line *ln, size_t a, size_t b)
{
    size_t l, lpos;
    if (ln->s[b - 1] != ',' || !is_stop_mark(cp_at(ln, b, &l)))
        return 0;
    if (b - a >= 2 && ln->s[b - 2] == ',')
        return 0;
    int32_t lc = cp_before(ln, b - 1, &lpos);
    if (lc == NONE || zf_is_open_mark(lc))
        return 0;
    return !(lc >= 0 && lc < 0x80 && ascii_opens(ln, lc, lpos));
}

/* A repair, unless it falls in damage the mojibake pass noted and left as
 * found (a mark in a garbled run is one of the bytes a later run reads
 * the run back from). */
static void repair(zf_rw *rw, size_t start, size_t end, const char *rep, size_t rep_len,
                   int kind)
{
    if (!zf_rw_held(rw, start, end))
        zf_rw_replace(rw, start, end, rep, rep_len, kind);
}

static void do_run(line *ln, zf_rw *rw, size_t a, size_t b)
{
    if (!run_touches(ln, a, b)) {
        if (stray_comma(ln, a, b))
            repair(rw, b - 1, b, "", 0, ZHFIX_EDIT_COMMA);
        return;
    }
    ln->last_mark = b - 1;
    size_t l;
    int32_t after = cp_at(ln, b, &l);
    for (size_t i = a; i < b; i++) {
        unsigned char m = (unsigned char)ln->s[i];
        if (m == ',' && (i + 1 < b || is_stop_mark(after)))
            repair(rw, i, i + 1, "", 0, ZHFIX_EDIT_COMMA);
        else
            repair(rw, i, i + 1, fullwidth(m), 3, ZHFIX_EDIT_PUNCT);
    }
}

static int do_line(line *ln, zf_rw *rw)
{
    int rc = find_spans(ln, rw);
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
        if (in_span(ln, i, &k)) {
            i++;
            continue;
        }
        if (b == '(' || b == ')') {
            const paren *p = paren_at(ln, i);
            if (p && p->conv)
                repair(rw, i, i + 1, fullwidth(b), 3, ZHFIX_EDIT_PUNCT);
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

/* What the whole piece says, looked at once there is work in it. */
typedef struct survey {
    int jk;   /* Japanese or Korean as a whole */
    int flat; /* shows flattened punctuation */
    int lost; /* its `?` are characters lost (zf_qmarks_lost) */
} survey;

static int is_fw_twin(int32_t c)
{
    return c == 0xFF0C || c == 0xFF1A || c == 0xFF1B || c == 0xFF1F || c == 0xFF01 ||
           c == 0xFF08 || c == 0xFF09;
}

/* jk: kana and Hangul make up at least a fifth of the piece's kana, Hangul
 * and Han.  Japanese prose runs above half (the Japanese man pages of
 * manpages-ja: 55-75%), Chinese prose near zero (a stray の in a title), and
 * the line test alone would miss the kanji-only lines of wrapped Japanese
 * paragraphs (`許可 (o)。`).
 * flat: ASCII triggers directly beside Han are at least as many as the
 * full-width `，：；？！（）` in the piece, and there is one.  Flattening
 * turned every full-width mark ASCII (damage-model section 2), so damaged
 * text has many of the first and none of the second; clean text has the
 * reverse, and may still write ASCII beside a CJK mark (`计划》:` then a
 * URL, `"唯一名"(UniqueName)。` in manpages-zh). */
static survey survey_piece(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t jk = 0, han = 0, beside = 0, fw = 0;
    int32_t prev = NONE;
    for (size_t i = 0; i < n;) {
        int32_t c;
        if (u[i] < 0x80) {
            /* An ASCII run: only its first byte can follow Han and only
             * its last can precede it, so the bytes between are skipped,
             * eight at a time (most of the piece in technical text). */
            if (is_trigger(u[i]) && zf_is_han(prev))
                beside++;
            size_t e = zf_ascii_end(u, i + 1, n);
            prev = u[e - 1];
            i = e;
            continue;
        }
        if (u[i] - 0xE4u <= 0xE9u - 0xE4u && n - i >= 3 && (u[i + 1] & 0xC0) == 0x80 &&
            (u[i + 2] & 0xC0) == 0x80 && !(u[i] == 0xE4 && u[i + 1] == 0xB7)) {
            /* A run of U+4000-U+9FFF but U+4DC0-U+4DFF (E4 B7 xx, the
             * Yijing hexagrams): Han, Extension A's end and the URO, the
             * bulk of Chinese text.  Only the run's first character can
             * follow a trigger. */
            if (prev >= 0 && prev < 0x80 && is_trigger((unsigned char)prev))
                beside++;
            size_t e = i;
            do {
                e += 3;
            } while (n - e >= 3 && u[e] - 0xE4u <= 0xE9u - 0xE4u && (u[e + 1] & 0xC0) == 0x80 &&
                     (u[e + 2] & 0xC0) == 0x80 && !(u[e] == 0xE4 && u[e + 1] == 0xB7));
            han += (e - i) / 3;
            prev = 0x4E00; /* any Han: prev is asked only whether it is */
            i = e;
            continue;
        }
        i += (size_t)zf_utf8_next(s + i, n - i, &c);
        /* Han first: most characters are, and Han is never kana or
         * Hangul, so the order changes no count. */
        if (zf_is_han(c)) {
            han++;
            if (prev >= 0 && prev < 0x80 && is_trigger((unsigned char)prev))
                beside++;
        } else if (is_jk(c)) {
            jk++;
        } else if (is_fw_twin(c)) {
            fw++;
        }
        prev = c;
    }
    survey sv = {0, 0, 0};
    sv.jk = jk > 0 && jk * 4 >= han;
    sv.flat = beside > 0 && beside >= fw;
    return sv;
}

/* The bytes survey_fast() stops at: the ASCII triggers, and the lead bytes
 * of kana and Hangul (E1 U+1100-11FF, E3 U+3040-318F, EA-ED U+AC00-D7AF,
 * EF U+FF66-FF9F) and of the full-width twins (EF). */
static const unsigned char survey_stop[256] = {
    [','] = 1, [';'] = 1, [':'] = 1, ['?'] = 1, ['!'] = 1, ['('] = 1, [')'] = 1,
    [0xE1] = 1, [0xE3] = 1, [0xEA] = 1, [0xEB] = 1, [0xEC] = 1, [0xED] = 1, [0xEF] = 1,
};

/* survey_piece() without decoding every character, for a piece without
 * kana or Hangul (Chinese text): flat needs only the full-width twins and
 * the characters next to ASCII triggers, jk is 0 without kana and Hangul
 * whatever the Han count.  Every character that is not a continuation
 * byte starts a character of survey_piece()'s walk too, so a stop byte
 * decodes as it does there; the character before a trigger is the one
 * whose lead zf_utf8_prev() finds if it decodes to exactly the trigger
 * (else the walk read a stray byte there, never Han).  Returns 0 at the
 * first kana or Hangul: the caller then takes survey_piece(). */
static int survey_fast(const char *s, size_t n, survey *sv)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t beside = 0, fw = 0;
    for (size_t i = 0;; i++) {
        while (n - i >= 4 && !(survey_stop[u[i]] | survey_stop[u[i + 1]] |
                               survey_stop[u[i + 2]] | survey_stop[u[i + 3]]))
            i += 4;
        while (i < n && !survey_stop[u[i]])
            i++;
        if (i >= n)
            break;
        int32_t c;
        if (u[i] < 0x80) {
            if (i > 0 && u[i - 1] >= 0x80) {
                size_t j = zf_utf8_prev(s, i);
                if ((size_t)zf_utf8_next(s + j, i - j, &c) == i - j && zf_is_han(c))
                    beside++;
            }
            if (i + 1 < n && u[i + 1] >= 0x80) {
                zf_utf8_next(s + i + 1, n - i - 1, &c);
                if (zf_is_han(c))
                    beside++;
            }
        } else {
            zf_utf8_next(s + i, n - i, &c);
            if (is_jk(c))
                return 0;
            if (is_fw_twin(c))
                fw++;
        }
    }
    sv->jk = 0;
    sv->flat = beside > 0 && beside >= fw;
    return 1;
}

int zf_pass_punct(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)doc;
    int shifts = (opt->passes & ZHFIX_PASS_MOJIBAKE) != 0;
    const char *s = rw->in;
    size_t n = rw->len, pos = 0;
    scratch sc;
    memset(&sc, 0, sizeof sc);
    int rc = ZHFIX_OK, surveyed = 0;
    survey sv = {0, 0, 0};
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
        if (line_has_work(s, pos, t, le)) {
            if (!surveyed) { /* only once there is work */
                if (!survey_fast(s, n, &sv))
                    sv = survey_piece(s, n);
                sv.lost = zf_qmarks_lost(s, n);
                surveyed = 1;
            }
            if (sv.jk)
                break;
            line ln = {s, pos, le, &sc, SIZE_MAX, sv.flat, 0, pos, 0, 0, sv.lost, shifts};
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
