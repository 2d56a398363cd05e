/*
 * cli_output.c - everything the program prints besides the repaired text:
 * messages, --explain, --diff and --report.  Every view is built from the
 * chunks the library hands out (their input, output and edits); none
 * recomputes a repair.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- messages -------------------------------------------------------- */

/* Where this thread's messages go: standard error, or a -j worker's spool. */
static _Thread_local FILE *capture;

void cli_msg_capture(FILE *f)
{
    capture = f;
}

static void vmsg(const char *file, const char *fmt, va_list ap)
{
    FILE *f = capture ? capture : stderr;
    if (!capture) {
        fflush(stdout); /* keep the order of the two streams on a terminal */
        cli_stderr_lock();
    }
    fputs("zhfix: ", f);
    if (file)
        fprintf(f, "%s: ", file);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    if (!capture)
        cli_stderr_unlock();
}

void cli_error(const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(file, fmt, ap);
    va_end(ap);
}

void cli_warn(const struct cli *c, const char *file, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(file, fmt, ap);
    va_end(ap);
}

/* ---- buffers --------------------------------------------------------- */

int cli_buf_add(struct cli_buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len) {
        if (n > ((size_t)-1) / 2 - b->len)
            return -1;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void cli_buf_free(struct cli_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- UTF-8 ----------------------------------------------------------- */

size_t cli_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* ---- --explain ------------------------------------------------------- */

/* Edit text on one line: control characters escaped, the rest as is. */
void cli_put_visible(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", out);
        else if (c == '\r') fputs("\\r", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c < 0x20 || c == 0x7F) fprintf(out, "\\x%02X", c);
        else fputc(c, out);
    }
}

int cli_explain_chunk(FILE *out, const char *name, const zhfix_chunk *ch)
{
    for (size_t i = 0; i < ch->n_edits; i++) {
        const zhfix_edit *e = &ch->edits[i];
        fprintf(out, "%s:%zu:%zu: %s: ", name, e->line, e->col,
                zhfix_edit_kind_name(e->kind));
        cli_put_visible(out, e->before, e->before_len);
        fputs(" -> ", out);
        cli_put_visible(out, e->after, e->after_len);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

/* ---- --diff ---------------------------------------------------------- */

/* Hunk text waits in memory until the hunk is complete (its header holds
 * its length); past SPOOL_MEM it moves to an anonymous temporary file, so a
 * file changed on every line does not cost its size in memory. */
#define SPOOL_MEM ((size_t)1 << 20)

struct spool {
    struct cli_buf m;
    FILE *f;
};

static int spool_add(struct spool *s, const void *p, size_t n)
{
    if (!s->f && s->m.len + n > SPOOL_MEM) {
        if (!(s->f = tmpfile()))
            return -1;
        if (fwrite(s->m.p, 1, s->m.len, s->f) != s->m.len)
            return -1;
        s->m.len = 0;
    }
    if (s->f)
        return fwrite(p, 1, n, s->f) == n ? 0 : -1;
    return cli_buf_add(&s->m, p, n);
}

/* Append the spool to out and empty it. */
static int spool_move(struct spool *s, FILE *out)
{
    int rc = 0;
    if (s->f) {
        char buf[CLI_BLOCK];
        size_t n;
        rewind(s->f);
        while ((n = fread(buf, 1, sizeof buf, s->f)) > 0)
            if (fwrite(buf, 1, n, out) != n)
                rc = -1;
        if (ferror(s->f))
            rc = -1;
        fclose(s->f);
        s->f = NULL;
    }
    if (s->m.len && fwrite(s->m.p, 1, s->m.len, out) != s->m.len)
        rc = -1;
    s->m.len = 0;
    return rc;
}

static void spool_free(struct spool *s)
{
    if (s->f)
        fclose(s->f);
    cli_buf_free(&s->m);
}

#define CONTEXT 3

struct cli_diff {
    FILE *out;
    const char *name;
    struct cli_buf in, outp;  /* text not yet cut into lines */
    size_t line;              /* number of the next line */
    struct cli_buf ring[CONTEXT]; /* the last unchanged lines, oldest first */
    size_t ring_n, ring_first;
    int in_hunk;
    size_t hunk_start, hunk_len, gap;
    struct spool body, plus;  /* the hunk; the '+' lines of the current run */
    int headed;
    int err;
};

struct cli_diff *cli_diff_new(FILE *out, const char *name)
{
    struct cli_diff *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->out = out;
    d->name = name;
    d->line = 1;
    /* both sides get storage now, so no pointer below is ever NULL */
    if (cli_buf_add(&d->in, "", 1) || cli_buf_add(&d->outp, "", 1)) {
        cli_diff_free(d);
        return NULL;
    }
    d->in.len = d->outp.len = 0;
    return d;
}

void cli_diff_free(struct cli_diff *d)
{
    if (!d)
        return;
    cli_buf_free(&d->in);
    cli_buf_free(&d->outp);
    for (int i = 0; i < CONTEXT; i++)
        cli_buf_free(&d->ring[i]);
    spool_free(&d->body);
    spool_free(&d->plus);
    free(d);
}

/* One diff line: the mark, the text, and the marker diff(1) and patch(1) use
 * for a last line without a newline. */
static void put_line(struct cli_diff *d, struct spool *s, char mark, const char *p, size_t n)
{
    static const char nonl[] = "\n\\ No newline at end of file\n";
    if (spool_add(s, &mark, 1) || spool_add(s, p, n))
        d->err = 1;
    if ((n == 0 || p[n - 1] != '\n') && spool_add(s, nonl, sizeof nonl - 1))
        d->err = 1;
}

static void ring_push(struct cli_diff *d, const char *p, size_t n)
{
    size_t slot = (d->ring_first + d->ring_n) % CONTEXT;
    if (d->ring_n == CONTEXT) {
        slot = d->ring_first;
        d->ring_first = (d->ring_first + 1) % CONTEXT;
    } else {
        d->ring_n++;
    }
    d->ring[slot].len = 0;
    if (cli_buf_add(&d->ring[slot], p, n))
        d->err = 1;
}

/* The remembered unchanged lines become context of the current hunk. */
static void ring_drain(struct cli_diff *d)
{
    for (size_t i = 0; i < d->ring_n; i++) {
        struct cli_buf *b = &d->ring[(d->ring_first + i) % CONTEXT];
        put_line(d, &d->body, ' ', b->p, b->len);
    }
    d->hunk_len += d->ring_n;
    d->ring_n = d->ring_first = 0;
}

static void flush_plus(struct cli_diff *d)
{
    struct spool *b = &d->body, *p = &d->plus;
    /* the '+' run follows its '-' run, as diff -u prints a change */
    if (p->f) {
        char buf[CLI_BLOCK];
        size_t n;
        rewind(p->f);
        while ((n = fread(buf, 1, sizeof buf, p->f)) > 0)
            if (spool_add(b, buf, n))
                d->err = 1;
        fclose(p->f);
        p->f = NULL;
    }
    if (p->m.len && spool_add(b, p->m.p, p->m.len))
        d->err = 1;
    p->m.len = 0;
}

static void close_hunk(struct cli_diff *d)
{
    flush_plus(d);
    if (!d->headed) {
        fprintf(d->out, "--- a/%s\n+++ b/%s\n", d->name, d->name);
        d->headed = 1;
    }
    /* old and new lengths are equal: no pass adds or removes a line */
    if (d->hunk_len == 1)
        fprintf(d->out, "@@ -%zu +%zu @@\n", d->hunk_start, d->hunk_start);
    else
        fprintf(d->out, "@@ -%zu,%zu +%zu,%zu @@\n", d->hunk_start, d->hunk_len,
                d->hunk_start, d->hunk_len);
    if (spool_move(&d->body, d->out))
        d->err = 1;
    d->in_hunk = 0;
}

/* Line d->line: a as it came in, b as it goes out. */
static void diff_line(struct cli_diff *d, const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && (an == 0 || memcmp(a, b, an) == 0)) {
        if (d->in_hunk) {
            flush_plus(d);
            d->gap++;
            if (d->gap <= CONTEXT) {
                put_line(d, &d->body, ' ', a, an);
                d->hunk_len++;
            } else {
                ring_push(d, a, an);
                /* more than twice the context apart: the next change, if
                 * any, gets a hunk of its own */
                if (d->gap > 2 * CONTEXT)
                    close_hunk(d);
            }
        } else {
            ring_push(d, a, an);
        }
    } else {
        if (!d->in_hunk) {
            d->in_hunk = 1;
            d->hunk_start = d->line - d->ring_n;
            d->hunk_len = 0;
        }
        ring_drain(d);
        d->gap = 0;
        put_line(d, &d->body, '-', a, an);
        put_line(d, &d->plus, '+', b, bn);
        d->hunk_len++;
    }
    d->line++;
}

/* Cut the complete lines off both sides; with last, the rest too. */
static void diff_lines(struct cli_diff *d, int last)
{
    size_t ia = 0, ib = 0;
    for (;;) {
        const char *a = d->in.p + ia, *b = d->outp.p + ib;
        size_t ra = d->in.len - ia, rb = d->outp.len - ib;
        const char *ea = ra ? memchr(a, '\n', ra) : NULL;
        const char *eb = rb ? memchr(b, '\n', rb) : NULL;
        if (!last && (!ea || !eb))
            break;
        if (!ra && !rb)
            break;
        size_t na = ea ? (size_t)(ea - a) + 1 : ra;
        size_t nb = eb ? (size_t)(eb - b) + 1 : rb;
        diff_line(d, a, na, b, nb);
        ia += na;
        ib += nb;
    }
    if (ia) {
        memmove(d->in.p, d->in.p + ia, d->in.len - ia);
        d->in.len -= ia;
    }
    if (ib) {
        memmove(d->outp.p, d->outp.p + ib, d->outp.len - ib);
        d->outp.len -= ib;
    }
}

int cli_diff_chunk(struct cli_diff *d, const zhfix_chunk *ch)
{
    if (cli_buf_add(&d->in, ch->input, ch->input_len) ||
        cli_buf_add(&d->outp, ch->output, ch->output_len))
        return -1;
    if (d->in.len && d->outp.len)
        diff_lines(d, 0);
    return d->err || ferror(d->out) ? -1 : 0;
}

int cli_diff_end(struct cli_diff *d)
{
    diff_lines(d, 1);
    if (d->in_hunk)
        close_hunk(d);
    return d->err || ferror(d->out) ? -1 : 0;
}

/* ---- --report -------------------------------------------------------- */

/* A JSON string.  Bytes that are not UTF-8 (a file name can hold any) become
 * U+FFFD: JSON text must be Unicode. */
static void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    while (n) {
        unsigned c = *p;
        size_t len = 1;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7F)
            fprintf(f, "\\u%04x", c);
        else if (c < 0x80)
            fputc((int)c, f);
        else if ((len = cli_utf8_len(p, n)) != 0)
            fwrite(p, 1, len, f);
        else {
            fputs("\\ufffd", f);
            len = 1;
        }
        p += len;
        n -= len;
    }
    fputc('"', f);
}

static void put_edits(FILE *out, const size_t *edits)
{
    fputs(",\"edits\":{", out);
    for (int k = 0; k < ZHFIX_EDIT_KIND_COUNT; k++)
        fprintf(out, "%s\"%s\":%zu", k ? "," : "", zhfix_edit_kind_name(k), edits[k]);
    fputc('}', out);
}

int cli_report(FILE *out, const struct cli_result *r)
{
    fputs("{\"path\":", out);
    json_str(out, r->path);
    fputs(",\"status\":", out);
    json_str(out, r->status);
    if (r->error) {
        fputs(",\"error\":", out);
        json_str(out, r->error);
    }
    fputs(",\"encoding\":", out);
    if (r->encoding)
        json_str(out, r->encoding);
    else
        fputs("null", out);
    fprintf(out, ",\"changed\":%s,\"bytes_in\":%zu,\"bytes_out\":%zu,\"bad_bytes\":%zu",
            r->changed ? "true" : "false", r->bytes_in, r->bytes_out, r->bad_bytes);
    if (r->bad_bytes)
        fprintf(out, ",\"first_bad_offset\":%zu", r->first_bad);
    put_edits(out, r->edits);
    if (r->jsonl)
        fprintf(out, ",\"records\":%zu,\"records_changed\":%zu,\"records_invalid\":%zu,"
                "\"values_kept\":%zu", r->records, r->records_changed, r->records_invalid,
                r->values_kept);
    fputs("}\n", out);
    /* one line per file as soon as it is done: a reader can follow along */
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int cli_report_record(FILE *out, const char *path, size_t line, const struct cli_jsonl_rec *rec,
                      const char *action)
{
    fputs("{\"path\":", out);
    json_str(out, path);
    fprintf(out, ",\"line\":%zu,\"status\":", line);
    json_str(out, rec->error ? "invalid" : "ok");
    if (rec->error) {
        char why[160];
        snprintf(why, sizeof why, "%s at column %zu", rec->error, rec->error_col);
        fputs(",\"error\":", out);
        json_str(out, why);
        fputs(",\"action\":", out);
        json_str(out, action);
    } else {
        fprintf(out, ",\"changed\":%s,\"values_changed\":%zu,\"values_kept\":%zu",
                rec->changed ? "true" : "false", rec->changed, rec->kept);
        put_edits(out, rec->edits);
    }
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
