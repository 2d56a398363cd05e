/*
 * stream.c - one input's way through the library: raw bytes are held until
 * the encoding is known (the first 64 KiB, or all of a smaller input),
 * decoded to UTF-8, cut into pieces at line boundaries and run through the
 * pipeline; each piece goes to the caller's sink with its edits.
 *
 * Where a piece ends depends on the text alone, never on how it was fed
 * (passes decide some things piece by piece: a document that mixes the
 * scripts came out one way when fed whole and another when fed in small
 * chunks): at the last newline within its first PIECE_MIN bytes, else at
 * the first newline after them, else (a line longer than ZF_WINDOW) at a
 * character boundary near the window's end, losing only context there.
 * Memory is bounded by the window.
 *
 * Whether the output is the input's own bytes (zhfix_stream_changed) is
 * plain for UTF-8: any edit, any byte replaced, a BOM or a leading U+FEFF
 * dropped makes it differ, and nothing else does.  Another encoding decodes to other bytes,
 * but a repair can turn them back: UTF-8 read as GBK and repaired gives
 * the raw bytes themselves.  So there the decoded raw bytes are kept until
 * the output has been compared with them, or has differed once.
 */
#include <stdlib.h>
#include <string.h>

#include "zf.h"

#define DETECT_MIN ((size_t)64 << 10)
#define PIECE_MIN ((size_t)64 << 10)

enum { S_DETECT, S_DECODE, S_ENDED, S_FAILED };

/* does the output equal the raw bytes? */
enum { SAME_UNTRACKED, SAME_SO_FAR, SAME_NOT };

struct zhfix_stream {
    const zhfix_ctx *ctx;
    zhfix_sink sink;
    void *arg;
    int state;
    zf_buf raw;         /* bytes fed: raw.p[raw_kept..] not yet decoded */
    size_t raw_kept;    /* raw.p[0..raw_kept) decoded, kept to compare */
    size_t raw_same;    /* raw.p[0..raw_same) matched by output already */
    size_t raw_off;     /* stream offset of raw.p[raw_kept] */
    int raw_nl;         /* raw may hold a newline not yet decoded */
    zf_buf text;        /* decoded, not yet repaired */
    size_t text_plain;  /* text[0..text_plain) is known to hold no newline */
    zf_decoder dec;
    int dec_open;
    zf_doc doc;
    zf_pipeline pl;
    size_t in_base, out_base, line_base;
    size_t bytes_in, bytes_out;
    int edited;
    int same;           /* SAME_*: the output compared with the raw bytes */
    int started;        /* the text's start is past its leading U+FEFF */
    int marks;          /* leading U+FEFF were dropped */
};

zhfix_stream *zhfix_stream_new(const zhfix_ctx *ctx, zhfix_sink sink, void *arg)
{
    if (!ctx || !sink)
        return NULL;
    zhfix_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ctx = ctx;
    s->sink = sink;
    s->arg = arg;
    s->state = S_DETECT;
    s->line_base = 1;
    return s;
}

void zhfix_stream_free(zhfix_stream *s)
{
    if (!s)
        return;
    zf_buf_free(&s->raw);
    zf_buf_free(&s->text);
    if (s->dec_open)
        zf_decoder_close(&s->dec);
    zf_pipeline_free(&s->pl);
    zf_doc_free(&s->doc);
    free(s);
}

static int by_input(const void *a, const void *b)
{
    const zhfix_edit *x = a, *y = b;
    if (x->in_start != y->in_start)
        return x->in_start < y->in_start ? -1 : 1;
    if (x->out_start != y->out_start)
        return x->out_start < y->out_start ? -1 : 1;
    return 0;
}

/* Compare output with the raw bytes, from where the last output ended;
 * drop the decoded bytes matched.  More output than input fed so far
 * cannot be the input itself. */
static void compare(zhfix_stream *s, const char *out, size_t n)
{
    if (n == 0)
        return;
    if (n > s->raw.len - s->raw_same || memcmp(s->raw.p + s->raw_same, out, n) != 0) {
        s->same = SAME_NOT;
        s->raw_same = 0;
        n = s->raw_kept;
    } else {
        s->raw_same += n;
        n = s->raw_same < s->raw_kept ? s->raw_same : s->raw_kept;
        s->raw_same -= n;
    }
    if (n) {
        memmove(s->raw.p, s->raw.p + n, s->raw.len - n);
        s->raw.len -= n;
        s->raw_kept -= n;
    }
}

/* Repair text[0..cut) and hand it to the sink. */
static int emit(zhfix_stream *s, size_t cut)
{
    const char *in = s->text.p, *out;
    size_t out_len;
    int rc = zf_pipeline_run(&s->pl, &s->ctx->opt, &s->doc, in, cut, &out, &out_len);
    if (rc != ZHFIX_OK)
        return rc;
    zf_edits *ed = &s->pl.all;
    if (ed->n)
        qsort(ed->v, ed->n, sizeof *ed->v, by_input);
    zf_edits_finish(ed);
    /* lines and columns: one walk over the piece, edits in input order */
    size_t line = s->line_base, col = 1, pos = 0;
    for (size_t i = 0; i < ed->n; i++) {
        zhfix_edit *e = &ed->v[i];
        for (; pos < e->in_start && pos < cut; pos++) {
            unsigned char c = (unsigned char)in[pos];
            if (c == '\n') {
                line++;
                col = 1;
            } else if ((c & 0xC0) != 0x80) {
                col++;
            }
        }
        e->line = line;
        e->col = col;
        e->in_start += s->in_base;
        e->in_end += s->in_base;
        e->out_start += s->out_base;
        e->out_end += s->out_base;
        if (e->kind != ZHFIX_EDIT_UNRESOLVED)
            s->edited = 1;
    }
    zhfix_chunk c = {
        .input = in, .input_len = cut, .output = out, .output_len = out_len,
        .edits = ed->v, .n_edits = ed->n,
        .in_base = s->in_base, .out_base = s->out_base, .line_base = s->line_base,
    };
    if (s->sink(s->arg, &c) != 0)
        return ZHFIX_ESINK;
    if (s->same == SAME_SO_FAR)
        compare(s, out, out_len);
    for (const char *q = in, *end = in + cut; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
        s->line_base++;
    s->in_base += cut;
    s->out_base += out_len;
    s->bytes_out += out_len;
    if (cut < s->text.len)
        memmove(s->text.p, s->text.p + cut, s->text.len - cut);
    s->text.len -= cut;
    s->text_plain = 0;
    return ZHFIX_OK;
}

/* Where to cut a line longer than the window: after a sentence end or a
 * space near the window's end if there is one, else at any character
 * boundary. */
static size_t long_line_cut(const char *t, size_t limit)
{
    size_t floor = limit > 4096 ? limit - 4096 : 0;
    for (size_t i = limit; i > floor; i--) {
        unsigned char c = (unsigned char)t[i - 1];
        if (c == ' ' || c == '\t')
            return i;
        /* U+3002 IDEOGRAPHIC FULL STOP is E3 80 82 */
        if (i >= 3 && c == 0x82 && (unsigned char)t[i - 2] == 0x80 && (unsigned char)t[i - 3] == 0xE3)
            return i;
    }
    size_t i = limit;
    while (i > 0 && ((unsigned char)t[i] & 0xC0) == 0x80)
        i--;
    return i ? i : limit;
}

/*
 * A U+FEFF that starts the text is a byte order mark, whatever its
 * encoding: the decoder drops a mark of the input's own encoding, and this
 * drops the U+FEFF that come after it (a file marked twice) or that
 * another encoding decodes to (FF FE 00 00 read as UTF-16LE is a mark and
 * U+0000; GB18030's 84 31 95 33).  Written as UTF-8 at the start of the
 * output, each would be a mark the next reader drops, so `zhfix | zhfix`
 * would change the text again.  Called before the first piece is cut,
 * when that piece is as long as it will be (PIECE_MIN or the end): the
 * same text however the input was fed.  Returns 0 when the start is still
 * to come.
 */
static int drop_leading_marks(zhfix_stream *s, int final)
{
    size_t m = 0;
    while (s->text.len - m >= 3 && memcmp(s->text.p + m, "\xEF\xBB\xBF", 3) == 0)
        m += 3;
    if (m) {
        memmove(s->text.p, s->text.p + m, s->text.len - m);
        s->text.len -= m;
        s->text_plain = 0;
        s->marks = 1;
    }
    s->started = s->text.len > 0 || final;
    return s->started;
}

static int process(zhfix_stream *s, int final)
{
    while (s->text.len > 0) {
        if (!s->started && ((!final && s->text.len <= PIECE_MIN) || !drop_leading_marks(s, final)))
            break;
        if (s->text.len == 0)
            break;
        const char *t = s->text.p;
        size_t len = s->text.len, cut = 0;
        if (len <= PIECE_MIN) {
            if (!final)
                break; /* a newline may yet come within PIECE_MIN */
            cut = len;
        } else {
            /* the last newline within PIECE_MIN, else the first after it;
             * text_plain keeps a long line fed in small chunks from being
             * scanned again at every feed */
            if (s->text_plain < PIECE_MIN) {
                for (size_t i = PIECE_MIN; i > 0 && !cut; i--)
                    if (t[i - 1] == '\n')
                        cut = i;
                if (!cut)
                    s->text_plain = PIECE_MIN;
            }
            size_t limit = len < ZF_WINDOW ? len : ZF_WINDOW;
            if (!cut && s->text_plain < limit) {
                const char *nl = memchr(t + s->text_plain, '\n', limit - s->text_plain);
                if (nl)
                    cut = (size_t)(nl - t) + 1;
                else
                    s->text_plain = limit;
            }
            if (!cut && len >= ZF_WINDOW)
                cut = long_line_cut(t, ZF_WINDOW);
            else if (!cut && final)
                cut = len;
            else if (!cut)
                break; /* wait for the line's end */
        }
        int rc = emit(s, cut);
        if (rc != ZHFIX_OK)
            return rc;
    }
    return ZHFIX_OK;
}

static int decode_some(zhfix_stream *s, int final)
{
    if (s->state == S_DETECT) {
        if (!final && s->raw.len < DETECT_MIN)
            return ZHFIX_OK;
        /* Always the same sample, however the input was fed: the first
         * DETECT_MIN bytes, or all of a shorter input. */
        zf_detection det;
        size_t sample = s->raw.len < DETECT_MIN ? s->raw.len : DETECT_MIN;
        int rc = zf_detect(s->raw.p ? s->raw.p : "", sample, final && sample == s->raw.len,
                           s->ctx->opt.from, &det);
        if (rc != ZHFIX_OK)
            return rc;
        rc = zf_decoder_open(&s->dec, &det);
        if (rc != ZHFIX_OK)
            return rc;
        s->dec_open = 1;
        s->state = S_DECODE;
        /* a byte order mark dropped differs already */
        s->same = det.kind == ZF_ENC_UTF8 ? SAME_UNTRACKED : det.bom ? SAME_NOT : SAME_SO_FAR;
        /* skip the byte order mark */
        if (det.bom) {
            memmove(s->raw.p, s->raw.p + det.bom, s->raw.len - det.bom);
            s->raw.len -= det.bom;
            s->raw_off += det.bom;
        }
    }
    /* Line-based decoders wait for a line end: do not call them (and have
     * them look for one) until a feed brought a newline, so a long line fed
     * in small pieces costs linear time, not quadratic. */
    if (!final && !s->raw_nl && s->dec.det.kind != ZF_ENC_WIDE &&
        s->raw.len - s->raw_kept < ZF_WINDOW)
        return ZHFIX_OK;
    size_t used = 0;
    int rc = zf_decode(&s->dec, s->raw.p ? s->raw.p + s->raw_kept : "", s->raw.len - s->raw_kept,
                       final, s->raw_off, &s->text, &used);
    if (rc != ZHFIX_OK)
        return rc;
    /* what stays undecoded of a line-based encoding is a partial line */
    s->raw_nl = s->dec.det.kind == ZF_ENC_WIDE;
    s->raw_kept += used;
    if (s->same != SAME_SO_FAR && s->raw_kept) {
        memmove(s->raw.p, s->raw.p + s->raw_kept, s->raw.len - s->raw_kept);
        s->raw.len -= s->raw_kept;
        s->raw_kept = 0;
    }
    s->raw_off += used;
    return process(s, final);
}

int zhfix_stream_feed(zhfix_stream *s, const void *buf, size_t len)
{
    if (!s || s->state == S_ENDED || s->state == S_FAILED)
        return ZHFIX_ESTATE;
    if (len && zf_buf_add(&s->raw, buf, len) != ZHFIX_OK) {
        s->state = S_FAILED;
        return ZHFIX_ENOMEM;
    }
    s->bytes_in += len;
    if (len && memchr(buf, '\n', len))
        s->raw_nl = 1;
    int rc = decode_some(s, 0);
    if (rc != ZHFIX_OK)
        s->state = S_FAILED;
    return rc;
}

int zhfix_stream_end(zhfix_stream *s)
{
    if (!s || s->state == S_ENDED || s->state == S_FAILED)
        return ZHFIX_ESTATE;
    int rc = decode_some(s, 1);
    s->state = rc == ZHFIX_OK ? S_ENDED : S_FAILED;
    return rc;
}

const char *zhfix_stream_encoding(const zhfix_stream *s)
{
    if (!s || !s->dec_open)
        return "unknown";
    return s->dec.mixed ? "mixed" : s->dec.det.label;
}

int zhfix_stream_changed(const zhfix_stream *s)
{
    if (s && s->same != SAME_UNTRACKED)
        return s->same == SAME_NOT || s->bytes_out != s->bytes_in;
    return s && (s->edited || s->marks || (s->dec_open && !s->dec.identity));
}

size_t zhfix_stream_bad_bytes(const zhfix_stream *s, size_t *first_offset)
{
    if (!s || !s->dec_open)
        return 0;
    if (first_offset)
        *first_offset = s->dec.bad_first;
    return s->dec.bad;
}

size_t zhfix_stream_bytes_in(const zhfix_stream *s)
{
    return s ? s->bytes_in : 0;
}

size_t zhfix_stream_bytes_out(const zhfix_stream *s)
{
    return s ? s->bytes_out : 0;
}

static int to_buf(void *arg, const zhfix_chunk *c)
{
    return zf_buf_add(arg, c->output, c->output_len) == ZHFIX_OK ? 0 : -1;
}

int zhfix_repair(const zhfix_ctx *ctx, const void *in, size_t len, char **out, size_t *out_len)
{
    if (!ctx || (!in && len) || !out)
        return ZHFIX_EINVAL;
    zf_buf b = {0};
    zhfix_stream *s = zhfix_stream_new(ctx, to_buf, &b);
    if (!s)
        return ZHFIX_ENOMEM;
    int rc = zhfix_stream_feed(s, in ? in : "", len);
    if (rc == ZHFIX_OK)
        rc = zhfix_stream_end(s);
    zhfix_stream_free(s);
    if (rc == ZHFIX_OK && zf_buf_reserve(&b, 0) != ZHFIX_OK)
        rc = ZHFIX_ENOMEM;
    if (rc != ZHFIX_OK) {
        zf_buf_free(&b);
        return rc;
    }
    b.p[b.len] = '\0';
    *out = b.p;
    if (out_len)
        *out_len = b.len;
    return ZHFIX_OK;
}
