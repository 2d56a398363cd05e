/*
 * cli_jsonl.c - --jsonl: repair named string fields of JSON Lines records
 * and leave every other byte of the record as it was.
 *
 * The parser is jsmn (Debian libjsmn-dev 1.1.0), chosen over yajl, jansson
 * and json-c because it is the one that hands back what this job needs: the
 * byte offsets of every token in the line, with no allocation and no
 * copying.  A record is then the original line with some string values
 * spliced, so key order, spacing, number spelling and the escapes of every
 * untouched value stay byte for byte; a DOM library (jansson, json-c) would
 * re-serialize the record, and yajl's callbacks give decoded values without
 * their positions.  jsmn is also the fastest of the four: one pass over the
 * line, tokens in a caller-owned array.
 *
 * jsmn is a tokenizer, not a validator, even with JSMN_STRICT: it takes
 * `tru`, `01`, `1.2.3` and `-` as primitives, does not check that ':' and
 * ',' stand where the grammar wants them (`{"a" "b"}`, `[1,,2]`, `{"a":1,}`
 * pass), accepts raw control characters inside strings, several values on
 * one line, and bytes that are not UTF-8.  So every record is checked
 * against RFC 8259 here, on jsmn's tokens: the bytes between tokens must be
 * exactly the structural characters and whitespace the grammar allows,
 * every primitive is true, false, null or a well-formed number, strings hold
 * no control character, and the whole line is UTF-8 (RFC 8259, section 8.1).
 * tests/jsonl.sh feeds each of those forms and expects "invalid".
 *
 * A repaired value: its escapes are decoded to UTF-8 (a surrogate pair to
 * one character), the library repairs it like a small document, and if that
 * changed anything it is written back with the fewest escapes JSON needs
 * (", \, control characters), in the style of the original where it tells:
 * a value that was all ASCII with \u escapes stays ASCII (\uXXXX, the
 * original's hex case), and \/ stays \/.  A value whose repair changed
 * nothing keeps its original bytes, escapes and all.
 *
 * A lone surrogate (\uD800 with no partner) has no UTF-8 form: such a value
 * is left as it was, with a warning, and the rest of the record is still
 * repaired.  (U+0000 is repaired like any character: the values are read
 * as forced UTF-8, where a NUL is no sign of binary input; should the
 * library still call a value binary, it is kept the same way.)
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS /* a closing bracket finds its opener in O(1) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <jsmn.h>
#pragma GCC diagnostic pop

struct cli_jsonl {
    const zhfix_ctx *ctx;
    const char *const *fields;  /* "text", "meta.title": '.' separates keys */
    size_t nfields;
    jsmntok_t *tok;
    unsigned cap;
    unsigned *end;              /* end[i]: the index after token i's subtree */
    unsigned *target;           /* target[i]: 1 + the field naming value i, or 0 */
    unsigned *stack;
    struct cli_buf dec, rep, key;
    const char *field;          /* the field being repaired, for the callbacks */
    struct cli_jsonl_rec *rec;
    const struct cli_jsonl_cb *cb;
};

struct cli_jsonl *cli_jsonl_new(const zhfix_ctx *ctx, const char *const *fields, size_t nfields)
{
    struct cli_jsonl *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->ctx = ctx;
    x->fields = fields;
    x->nfields = nfields;
    return x;
}

void cli_jsonl_free(struct cli_jsonl *x)
{
    if (!x)
        return;
    free(x->tok);
    free(x->end);
    free(x->target);
    free(x->stack);
    cli_buf_free(&x->dec);
    cli_buf_free(&x->rep);
    cli_buf_free(&x->key);
    free(x);
}

static int grow(struct cli_jsonl *x, unsigned cap)
{
    jsmntok_t *t = realloc(x->tok, cap * sizeof *t);
    if (t)
        x->tok = t;
    unsigned *e = realloc(x->end, cap * sizeof *e);
    if (e)
        x->end = e;
    unsigned *g = realloc(x->target, cap * sizeof *g);
    if (g)
        x->target = g;
    unsigned *s = realloc(x->stack, cap * sizeof *s);
    if (s)
        x->stack = s;
    if (!t || !e || !g || !s)
        return -1;
    x->cap = cap;
    return 0;
}

/* ---- validation -------------------------------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && is_ws(s[i]))
        i++;
    return i;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF);
 * returns the offset of the first bad byte, or n. */
static size_t utf8_check(const unsigned char *p, size_t n)
{
    size_t i = 0, len;
    while (i < n && (len = cli_utf8_len(p + i, n - i)) != 0)
        i += len;
    return i;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && is_digit(s[i]))
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

static int primitive_ok(const char *s, size_t n)
{
    if (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0))
        return 1;
    if (n == 5 && memcmp(s, "false", 5) == 0)
        return 1;
    return number_ok(s, n);
}

/* jsmn checked the escapes; what is left is a raw control character. */
static size_t string_bad(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return i;
    return n;
}

static int invalid(struct cli_jsonl_rec *rec, const char *why, size_t at)
{
    rec->error = why;
    rec->error_col = at + 1;
    return 1;
}

/*
 * Walk the tokens in document order with a stack of open containers and
 * check every byte between them.  Fills x->end.  Returns 0, or 1 (rec says
 * why).  Iterative: a line of ten thousand '[' must not exhaust the stack.
 */
static int validate(struct cli_jsonl *x, const char *s, size_t n, unsigned count,
                    struct cli_jsonl_rec *rec)
{
    const jsmntok_t *t = x->tok;
    unsigned sp = 0;
    unsigned *done = x->target; /* borrowed: children seen per open container */
    size_t pos = skip_ws(s, n, 0);
    unsigned i = 0;
    if (count == 0 || t[0].type != JSMN_OBJECT)
        return invalid(rec, "not a JSON object", pos);
    for (;;) {
        /* a value (or, in an object, a key) starts at pos: token i */
        if (i >= count)
            return invalid(rec, "value expected", pos);
        const jsmntok_t *v = &t[i];
        size_t start = (size_t)v->start - (v->type == JSMN_STRING ? 1u : 0u);
        if (v->start < 0 || start != pos)
            return invalid(rec, "unexpected character", pos);
        int key = sp && t[x->stack[sp - 1]].type == JSMN_OBJECT && done[x->stack[sp - 1]] % 2 == 0;
        if (key && v->type != JSMN_STRING)
            return invalid(rec, "object key expected", pos);
        if (v->type == JSMN_STRING) {
            size_t b = string_bad(s + v->start, (size_t)(v->end - v->start));
            if (b < (size_t)(v->end - v->start))
                return invalid(rec, "control character in a string", (size_t)v->start + b);
            pos = (size_t)v->end + 1;
            x->end[i] = i + 1;
        } else if (v->type == JSMN_PRIMITIVE) {
            if (!primitive_ok(s + v->start, (size_t)(v->end - v->start)))
                return invalid(rec, "not a number, true, false or null", pos);
            pos = (size_t)v->end;
            x->end[i] = i + 1;
        } else {
            x->stack[sp++] = i;
            done[i] = 0;
            pos = skip_ws(s, n, (size_t)v->start + 1);
            if (v->size == 0) {
                /* an empty container: its closing bracket must be next */
                x->end[i] = i + 1;
                if (pos + 1 != (size_t)v->end)
                    return invalid(rec, "unexpected character", pos);
                pos = (size_t)v->end;
                sp--;
            } else {
                i++;
                continue;
            }
        }
        i++;
        /* what follows a complete item: ':', ',' or closing brackets */
        for (;;) {
            if (sp == 0) {
                pos = skip_ws(s, n, pos);
                if (pos != n)
                    return invalid(rec, "more than one value on the line", pos);
                if (i != count)
                    return invalid(rec, "unexpected character", pos);
                return 0;
            }
            unsigned c = x->stack[sp - 1];
            const jsmntok_t *ct = &t[c];
            int obj = ct->type == JSMN_OBJECT;
            done[c]++;
            pos = skip_ws(s, n, pos);
            if (obj && done[c] % 2 == 1) {
                if (pos >= n || s[pos] != ':')
                    return invalid(rec, "':' expected", pos);
                pos = skip_ws(s, n, pos + 1);
                break;
            }
            unsigned items = obj ? done[c] / 2 : done[c];
            if (items < (unsigned)ct->size) {
                if (pos >= n || s[pos] != ',')
                    return invalid(rec, obj ? "',' or '}' expected" : "',' or ']' expected", pos);
                pos = skip_ws(s, n, pos + 1);
                break;
            }
            if (pos >= n || s[pos] != (obj ? '}' : ']') || pos + 1 != (size_t)ct->end)
                return invalid(rec, obj ? "',' or '}' expected" : "',' or ']' expected", pos);
            pos++;
            x->end[c] = i;
            sp--;
        }
    }
}

/* ---- strings ----------------------------------------------------------- */

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static void put_utf8(char *o, size_t *len, unsigned long cp)
{
    size_t n = *len;
    if (cp < 0x80) {
        o[n++] = (char)cp;
    } else if (cp < 0x800) {
        o[n++] = (char)(0xC0 | cp >> 6);
        o[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        o[n++] = (char)(0xE0 | cp >> 12);
        o[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o[n++] = (char)(0xF0 | cp >> 18);
        o[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[n++] = (char)(0x80 | (cp & 0x3F));
    }
    *len = n;
}

/* How the original value was written, for writing its repair alike. */
struct style {
    int ascii;       /* no raw non-ASCII byte, and \u escapes of non-ASCII */
    int upper;       /* \u escapes with upper-case hex digits */
    int slash;       /* '/' written as \/ */
};

/*
 * The escapes of raw[0..n) (valid JSON string content) decoded into out.
 * Returns 0, 1 for a lone surrogate (out is then useless), -1 for no memory.
 * The decoded text is never longer than the raw: every escape is at least
 * as long as the UTF-8 it stands for.
 */
static int decode(const char *raw, size_t n, struct cli_buf *out, struct style *st)
{
    out->len = 0;
    if (n > out->cap) {
        if (cli_buf_add(out, raw, n))
            return -1;
        out->len = 0;
    }
    char *o = out->p;
    size_t len = 0;
    int raw8 = 0, esc8 = 0;
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < n; i++) {
        char c = raw[i];
        if (c != '\\') {
            raw8 |= (unsigned char)c >= 0x80;
            o[len++] = c;
            continue;
        }
        c = raw[++i];
        switch (c) {
        case 'b': o[len++] = '\b'; break;
        case 'f': o[len++] = '\f'; break;
        case 'n': o[len++] = '\n'; break;
        case 'r': o[len++] = '\r'; break;
        case 't': o[len++] = '\t'; break;
        case '/': st->slash = 1; o[len++] = c; break;
        case 'u': {
            unsigned long cp = hex4(raw + i + 1);
            for (size_t k = 1; k <= 4; k++)
                if (raw[i + k] >= 'A' && raw[i + k] <= 'F')
                    st->upper = 1;
            i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return 1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                /* RFC 8259 section 7: a pair of escapes is one character */
                if (i + 6 >= n || raw[i + 1] != '\\' || raw[i + 2] != 'u')
                    return 1;
                unsigned lo = hex4(raw + i + 3);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return 1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            esc8 |= cp >= 0x80;
            put_utf8(o, &len, cp);
            break;
        }
        default: /* '"' and '\\' */
            o[len++] = c;
        }
    }
    out->len = len;
    st->ascii = !raw8 && esc8;
    return 0;
}

static int add(struct cli_buf *b, const char *s, size_t n)
{
    return cli_buf_add(b, s, n);
}

/* Repaired UTF-8 back into JSON string content, minimally escaped. */
static int encode(struct cli_buf *b, const char *s, size_t n, const struct style *st)
{
    const char *hex = st->upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[16];
        size_t elen = 0, clen = 1;
        if (c == '"' || c == '\\' || (c == '/' && st->slash)) {
            e[0] = '\\';
            e[1] = (char)c;
            elen = 2;
        } else if (c < 0x20) {
            static const char short_esc[] = "btn\0fr"; /* \b \t \n - \f \r */
            e[0] = '\\';
            if (c >= '\b' && c <= '\r' && c != 0x0B) {
                e[1] = short_esc[c - '\b'];
                elen = 2;
            } else {
                e[1] = 'u'; e[2] = '0'; e[3] = '0';
                e[4] = hex[c >> 4]; e[5] = hex[c & 15];
                elen = 6;
            }
        } else if (c >= 0x80 && st->ascii) {
            unsigned long cp;
            if (c < 0xE0) {
                clen = 2;
                cp = (c & 0x1Fu) << 6 | ((unsigned char)s[i + 1] & 0x3Fu);
            } else if (c < 0xF0) {
                clen = 3;
                cp = (c & 0x0Fu) << 12 | ((unsigned char)s[i + 1] & 0x3Fu) << 6 |
                     ((unsigned char)s[i + 2] & 0x3Fu);
            } else {
                clen = 4;
                cp = (c & 0x07ul) << 18 | ((unsigned char)s[i + 1] & 0x3Ful) << 12 |
                     ((unsigned char)s[i + 2] & 0x3Ful) << 6 | ((unsigned char)s[i + 3] & 0x3Ful);
            }
            unsigned long u[2] = {cp, 0};
            int nu = 1;
            if (cp >= 0x10000) {
                u[0] = 0xD800 + ((cp - 0x10000) >> 10);
                u[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
                nu = 2;
            }
            for (int k = 0; k < nu; k++) {
                e[elen++] = '\\';
                e[elen++] = 'u';
                for (int sh = 12; sh >= 0; sh -= 4)
                    e[elen++] = hex[u[k] >> sh & 15];
            }
        }
        if (elen) {
            if (add(b, s + from, i - from) || add(b, e, elen))
                return -1;
            i += clen - 1;
            from = i + 1;
        }
    }
    return add(b, s + from, n - from);
}

/* ---- repair ------------------------------------------------------------ */

static int sink(void *arg, const zhfix_chunk *ch)
{
    struct cli_jsonl *x = arg;
    for (size_t i = 0; i < ch->n_edits; i++) {
        int k = ch->edits[i].kind;
        if (k >= 0 && k < ZHFIX_EDIT_KIND_COUNT)
            x->rec->edits[k]++;
        if (x->cb && x->cb->edit)
            x->cb->edit(x->cb->arg, x->field, &ch->edits[i]);
    }
    return cli_buf_add(&x->rep, ch->output, ch->output_len);
}

/* Repair text[0..n) into x->rep.  Returns a zhfix status. */
static int repair(struct cli_jsonl *x, const char *text, size_t n)
{
    x->rep.len = 0;
    /* U+FEFF first would be taken for a byte order mark and dropped: the
     * repair starts after it, and it stays */
    size_t keep = n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (keep && cli_buf_add(&x->rep, text, keep))
        return ZHFIX_ENOMEM;
    zhfix_stream *s = zhfix_stream_new(x->ctx, sink, x);
    if (!s)
        return ZHFIX_ENOMEM;
    int st = zhfix_stream_feed(s, text + keep, n - keep);
    if (st == ZHFIX_OK)
        st = zhfix_stream_end(s);
    zhfix_stream_free(s);
    return st;
}

/* Does the raw key s[0..n) equal name[0..len)? */
static int key_is(struct cli_jsonl *x, const char *s, size_t n, const char *name, size_t len)
{
    if (!memchr(s, '\\', n))
        return n == len && memcmp(s, name, len) == 0;
    struct style st;
    if (decode(s, n, &x->key, &st) != 0)
        return 0;
    return x->key.len == len && memcmp(x->key.p, name, len) == 0;
}

/* Mark the string values that field f names, under the object at token o;
 * path is what is left of the field's name. */
static void find(struct cli_jsonl *x, const char *s, unsigned o, unsigned f, const char *path)
{
    const jsmntok_t *t = x->tok;
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    unsigned k = o + 1;
    for (int m = 0; m < t[o].size; m++) {
        unsigned v = k + 1;
        if (key_is(x, s + t[k].start, (size_t)(t[k].end - t[k].start), path, len)) {
            if (!dot && t[v].type == JSMN_STRING && !x->target[v])
                x->target[v] = f + 1;
            else if (dot && t[v].type == JSMN_OBJECT)
                find(x, s, v, f, dot + 1);
        }
        k = x->end[v];
    }
}

int cli_jsonl_record(struct cli_jsonl *x, const char *line, size_t len, struct cli_buf *out,
                     struct cli_jsonl_rec *rec, const struct cli_jsonl_cb *cb)
{
    memset(rec, 0, sizeof *rec);
    size_t bad = utf8_check((const unsigned char *)line, len);
    if (bad < len)
        return invalid(rec, "not UTF-8", bad);
    if (len > INT_MAX / 2)
        return invalid(rec, "record too long", 0);
    if (skip_ws(line, len, 0) == len) {
        /* a blank line is no record: it stays, as every line does */
        rec->blank = 1;
        return add(out, line, len);
    }
    const char *nul = memchr(line, 0, len);
    if (nul) /* jsmn would stop there and call the rest missing */
        return invalid(rec, "NUL byte", (size_t)(nul - line));
    if (!x->cap && grow(x, 64))
        return -1;
    int count;
    jsmn_parser p;
    for (;;) {
        jsmn_init(&p);
        count = jsmn_parse(&p, line, len, x->tok, x->cap);
        if (count != JSMN_ERROR_NOMEM)
            break;
        if (x->cap > UINT_MAX / 4 || grow(x, x->cap * 2))
            return -1;
    }
    if (count == JSMN_ERROR_PART)
        return invalid(rec, "unexpected end of line", len);
    if (count < 0) /* jsmn stops at (or at the start of the string holding) the bad byte */
        return invalid(rec, "unexpected character", p.pos);
    if (validate(x, line, len, (unsigned)count, rec))
        return 1;

    memset(x->target, 0, (size_t)count * sizeof *x->target);
    for (unsigned f = 0; f < x->nfields; f++)
        find(x, line, 0, f, x->fields[f]);

    x->rec = rec;
    x->cb = cb;
    size_t from = 0;
    int rc = 0;
    for (unsigned i = 0; i < (unsigned)count && rc == 0; i++) {
        if (!x->target[i])
            continue;
        const jsmntok_t *v = &x->tok[i];
        const char *raw = line + v->start;
        size_t rlen = (size_t)(v->end - v->start);
        x->field = x->fields[x->target[i] - 1];
        struct style st = {0, 0, 0};
        const char *text = raw;
        size_t tlen = rlen;
        if (memchr(raw, '\\', rlen)) {
            int d = decode(raw, rlen, &x->dec, &st);
            if (d < 0)
                return -1;
            if (d > 0) {
                rec->kept++;
                if (cb && cb->warn)
                    cb->warn(cb->arg, x->field, "a lone surrogate escape has no UTF-8 form; "
                             "value left as it was");
                continue;
            }
            text = x->dec.p;
            tlen = x->dec.len;
        }
        int zs = repair(x, text, tlen);
        if (zs == ZHFIX_EBINARY) {
            rec->kept++;
            if (cb && cb->warn)
                cb->warn(cb->arg, x->field, "the library takes U+0000 for binary data; "
                         "value left as it was");
            continue;
        }
        if (zs != ZHFIX_OK) {
            rec->status = zs;
            return -1;
        }
        if (x->rep.len == tlen && (tlen == 0 || memcmp(x->rep.p, text, tlen) == 0))
            continue;
        rec->changed++;
        if (add(out, line + from, (size_t)v->start - from) ||
            encode(out, x->rep.p, x->rep.len, &st))
            return -1;
        from = (size_t)v->end;
    }
    if (add(out, line + from, len - from))
        return -1;
    return 0;
}
