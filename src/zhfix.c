/*
 * zhfix.c - the zhfix program: the flow from the command line to the
 * outputs.  It uses the public API only (zhfix.h) and repairs nothing
 * itself: each input is read in CLI_BLOCK pieces and fed to a zhfix_stream;
 * the stream hands back chunks of repaired text, which go out at once - to
 * standard output, to the temporary file of -i, to --diff, --explain - so
 * memory stays bounded by the stream's window, whatever the input's size.
 *
 * --jsonl reads lines instead, and hands each record to cli_jsonl.c, which
 * repairs its named string values through the library; -j hands whole
 * inputs to worker threads (cli_parallel.c), each writing into spools that
 * the main thread copies out in input order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zhfix.h"
#include "cli.h"

struct run {
    const struct cli *c;
    zhfix_ctx *ctx;
    FILE *report;
    atomic_int found;    /* --check: some file needs repair */
    atomic_int fatal;    /* standard output is broken: stop */
    struct cli_pool *pool; /* -j: the workers, or NULL */
    int rc;              /* -j: the worst status of the inputs emitted */
    pthread_mutex_t mu;  /* guards tot */
    struct cli_totals tot;
};

/* Where one input's views go: standard output and error, the report; for
 * a -j worker, its spools. */
struct dest {
    FILE *out, *err, *report;
};

/* One input on its way through a stream. */
struct job {
    struct run *run;
    const struct dest *d;
    FILE *explain_out;   /* d->out, or d->err when --diff owns d->out */
    const char *name;
    zhfix_encoder *enc;  /* --to */
    char *ebuf;
    size_t elen, ecap;
    size_t col_carry;    /* --to: characters of the current line before this chunk */
    struct cli_inplace *ip;
    struct cli_same *same;
    struct cli_diff *diff;
    size_t edits[ZHFIX_EDIT_KIND_COUNT];
    size_t bytes_out;
    char msg[512];       /* why the sink stopped the stream */
    /* --jsonl */
    size_t line;         /* the record's line number */
    int jchanged;        /* some record changed */
    struct cli_buf jout; /* output waiting to be written, a block at a time */
};

static void stdout_broken(struct job *j)
{
    snprintf(j->msg, sizeof j->msg, "%s", strerror(errno ? errno : EIO));
    j->run->fatal = 1;
}

static size_t count_chars(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xC0) != 0x80;
    return k;
}

/* The code point at p (well-formed UTF-8: it is the library's output). */
static unsigned long code_point(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (p[0] < 0x80 || n < 2)
        return p[0];
    if (p[0] < 0xE0)
        return (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
    if (p[0] < 0xF0 || n < 4)
        return n < 3 ? 0xFFFD : (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    return (p[0] & 0x07ul) << 18 | (p[1] & 0x3Ful) << 12 | (p[2] & 0x3Ful) << 6 | (p[3] & 0x3Ful);
}

/* --to could not hold the character at output offset bad of this chunk:
 * say where it is, as a line and a character column. */
static void unrepresentable(struct job *j, const zhfix_chunk *ch, size_t bad)
{
    const char *p = ch->output;
    size_t line = ch->line_base, col = j->col_carry, from = 0;
    for (size_t i = 0; i < bad; i++)
        if (p[i] == '\n') {
            line++;
            from = i + 1;
            col = 0;
        }
    col += count_chars(p + from, bad - from) + 1;
    size_t clen = 1;
    while (bad + clen < ch->output_len && ((unsigned char)p[bad + clen] & 0xC0) == 0x80)
        clen++;
    snprintf(j->msg, sizeof j->msg, "line %zu, column %zu: U+%04lX %.*s cannot be written in %s",
             line, col, code_point(p + bad, ch->output_len - bad), (int)clen, p + bad,
             j->run->c->to);
}

static int put_out(struct job *j, const zhfix_chunk *ch, const char *p, size_t n);

/* Each piece of repaired text, in order, as the stream completes it. */
static int sink(void *arg, const zhfix_chunk *ch)
{
    struct job *j = arg;
    const struct cli *c = j->run->c;
    for (size_t i = 0; i < ch->n_edits; i++)
        if (ch->edits[i].kind >= 0 && ch->edits[i].kind < ZHFIX_EDIT_KIND_COUNT)
            j->edits[ch->edits[i].kind]++;
    if (c->explain && cli_explain_chunk(j->explain_out, j->name, ch)) {
        stdout_broken(j);
        return -1;
    }
    if (j->diff && cli_diff_chunk(j->diff, ch)) {
        stdout_broken(j);
        return -1;
    }
    return put_out(j, ch, ch->output, ch->output_len);
}

/* Output bytes, in order, to wherever they go.  ch is the chunk they come
 * from (for --to's messages), or NULL.  Returns 0 or -1 (j->msg says why). */
static int put_out(struct job *j, const zhfix_chunk *ch, const char *p, size_t n)
{
    const struct cli *c = j->run->c;
    if (j->enc) {
        size_t bad = 0;
        j->elen = 0;
        int st = zhfix_encoder_run(j->enc, p, n, &j->ebuf, &j->elen, &j->ecap, &bad);
        if (st == ZHFIX_EUNREPRESENTABLE) {
            unrepresentable(j, ch, bad);
            return -1;
        }
        if (st != ZHFIX_OK) {
            snprintf(j->msg, sizeof j->msg, "%s", zhfix_strerror(st));
            return -1;
        }
        size_t k = n;
        while (k && p[k - 1] != '\n')
            k--;
        j->col_carry = (k ? 0 : j->col_carry) + count_chars(p + k, n - k);
        p = j->ebuf;
        n = j->elen;
    }
    j->bytes_out += n;
    if (j->ip) {
        if (cli_inplace_write(j->ip, p, n)) {
            snprintf(j->msg, sizeof j->msg, "%s: %s", j->ip->what, strerror(j->ip->err));
            return -1;
        }
    } else if (j->same && cli_same_out(j->same, p, n)) {
        snprintf(j->msg, sizeof j->msg, "%s", strerror(errno));
        return -1;
    }
    if (c->text && n && fwrite(p, 1, n, j->d->out) != n) {
        stdout_broken(j);
        return -1;
    }
    return 0;
}

/* ---- --jsonl ------------------------------------------------------------ */

/* Output of --jsonl waits in j->jout and goes out a block at a time: -i
 * and --check compare it with the file, and a comparison per line would
 * cost a system call per line. */
static int jflush(struct job *j)
{
    int rc = j->jout.len ? put_out(j, NULL, j->jout.p, j->jout.len) : 0;
    j->jout.len = 0;
    return rc;
}

static void jsonl_edit(void *arg, const char *field, const zhfix_edit *e)
{
    struct job *j = arg;
    FILE *f = j->explain_out;
    fprintf(f, "%s:%zu: %s: %s: ", j->name, j->line, field, zhfix_edit_kind_name(e->kind));
    cli_put_visible(f, e->before, e->before_len);
    fputs(" -> ", f);
    cli_put_visible(f, e->after, e->after_len);
    fputc('\n', f);
}

static void jsonl_warn(void *arg, const char *field, const char *why)
{
    struct job *j = arg;
    cli_warn(j->run->c, NULL, "%s:%zu: %s: %s", j->name, j->line, field, why);
}

/* Returned by jsonl_line and run_jsonl for an invalid line under
 * --jsonl-invalid=fail (j->msg says where and why). */
#define JSONL_FAILED 1

/*
 * One line: p[0..n) holds the line's content and, with nl, its '\n'.
 * Returns ZHFIX_OK, JSONL_FAILED or a zhfix status (ZHFIX_ESINK: j->msg).
 */
static int jsonl_line(struct job *j, struct cli_jsonl *x, struct cli_result *res,
                      const char *p, size_t n, int nl)
{
    const struct cli *c = j->run->c;
    size_t bom = 0;
    if (++j->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        bom = 3; /* RFC 8259 lets a parser ignore it; it stays */
    size_t len = n - (nl ? 1 : 0), mark = j->jout.len;
    struct cli_jsonl_rec rec;
    struct cli_jsonl_cb cb = {j, c->explain ? jsonl_edit : NULL, jsonl_warn};
    if (bom && cli_buf_add(&j->jout, p, bom))
        return ZHFIX_ENOMEM;
    int rc = cli_jsonl_record(x, p + bom, len - bom, &j->jout, &rec, &cb);
    if (rc < 0)
        return rec.status ? rec.status : ZHFIX_ENOMEM;
    FILE *rep = j->d->report;
    if (rc > 0) {
        j->jout.len = mark;
        res->records++;
        res->records_invalid++;
        const char *action = c->jsonl_invalid == CLI_INVALID_PASS ? "pass"
                             : c->jsonl_invalid == CLI_INVALID_DROP ? "drop" : "fail";
        if (rep && cli_report_record(rep, j->name, j->line, &rec, action))
            return ZHFIX_ENOMEM;
        if (c->jsonl_invalid == CLI_INVALID_FAIL) {
            /* the records before it go out (-i throws them away) */
            if (jflush(j))
                return ZHFIX_ESINK;
            snprintf(j->msg, sizeof j->msg, "%s:%zu: invalid JSON: %s at column %zu", j->name,
                     j->line, rec.error, rec.error_col);
            return JSONL_FAILED;
        }
        cli_warn(c, NULL, "%s:%zu: invalid JSON: %s at column %zu; %s", j->name, j->line,
                 rec.error, rec.error_col,
                 c->jsonl_invalid == CLI_INVALID_PASS ? "passed as it is" : "dropped");
        if (c->jsonl_invalid == CLI_INVALID_PASS && cli_buf_add(&j->jout, p, n))
            return ZHFIX_ENOMEM;
        if (c->jsonl_invalid == CLI_INVALID_DROP)
            j->jchanged = 1;
    } else {
        if (nl && cli_buf_add(&j->jout, "\n", 1))
            return ZHFIX_ENOMEM;
        if (!rec.blank) {
            res->records++;
            res->records_changed += rec.changed > 0;
            res->values_kept += rec.kept;
        }
        for (int k = 0; k < ZHFIX_EDIT_KIND_COUNT; k++)
            j->edits[k] += rec.edits[k];
        if (rec.changed)
            j->jchanged = 1;
        if (rep && (rec.changed || rec.kept) && cli_report_record(rep, j->name, j->line, &rec, NULL))
            return ZHFIX_ENOMEM;
    }
    if (j->diff) {
        /* the record as it came and as it goes: lines of a unified diff */
        zhfix_chunk ch;
        memset(&ch, 0, sizeof ch);
        ch.input = p;
        ch.input_len = n;
        ch.output = j->jout.p + mark;
        ch.output_len = j->jout.len - mark;
        if (cli_diff_chunk(j->diff, &ch)) {
            stdout_broken(j);
            return ZHFIX_ESINK;
        }
    }
    if (j->jout.len >= CLI_BLOCK && jflush(j))
        return ZHFIX_ESINK;
    return ZHFIX_OK;
}

/* A whole input as JSON Lines: lines are cut from the blocks read; a line
 * is copied only when it spans two blocks.  Returns as jsonl_line; a read
 * error sets *read_err to its errno. */
static int run_jsonl(struct job *j, int fd, char *buf, struct cli_result *res, int *read_err)
{
    const struct cli *c = j->run->c;
    struct cli_jsonl *x = cli_jsonl_new(j->run->ctx, c->fields.v, c->fields.n);
    struct cli_buf carry = {NULL, 0, 0};
    int st = x ? ZHFIX_OK : ZHFIX_ENOMEM;
    int first = 1;
    res->jsonl = 1;
    while (st == ZHFIX_OK) {
        ssize_t got = read(fd, buf, CLI_BLOCK);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            *read_err = errno;
            break;
        }
        if (got == 0) {
            if (carry.len)
                st = jsonl_line(j, x, res, carry.p, carry.len, 0);
            break;
        }
        size_t n = (size_t)got;
        res->bytes_in += n;
        cli_progress_bytes(n);
        if (first && memchr(buf, 0, n)) {
            /* what the library calls binary, -r skips */
            st = ZHFIX_EBINARY;
            break;
        }
        first = 0;
        if (j->same && cli_same_raw(j->same, buf, n)) {
            st = ZHFIX_ENOMEM;
            break;
        }
        const char *p = buf, *end = buf + n;
        while (st == ZHFIX_OK && p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) {
                if (cli_buf_add(&carry, p, (size_t)(end - p)))
                    st = ZHFIX_ENOMEM;
                break;
            }
            size_t len = (size_t)(nl - p) + 1;
            if (carry.len) {
                if (cli_buf_add(&carry, p, len))
                    st = ZHFIX_ENOMEM;
                else
                    st = jsonl_line(j, x, res, carry.p, carry.len, 1);
                carry.len = 0;
            } else {
                st = jsonl_line(j, x, res, p, len, 1);
            }
            p = nl + 1;
        }
    }
    if (st == ZHFIX_OK && jflush(j))
        st = ZHFIX_ESINK;
    cli_buf_free(&carry);
    cli_buf_free(&j->jout);
    cli_jsonl_free(x);
    return st;
}

/* ---- one input ------------------------------------------------------------ */

static int walk_one(void *arg, const char *path);

/* Add one input's result to the totals of --stats and the progress line. */
static void account(struct run *r, const struct cli_result *res, int rc, int skipped)
{
    size_t all = 0;
    pthread_mutex_lock(&r->mu);
    struct cli_totals *t = &r->tot;
    t->files++;
    if (skipped)
        t->skipped++;
    else if (rc == CLI_EXIT_TROUBLE)
        t->failed++;
    else if (res->changed)
        t->changed++;
    else
        t->unchanged++;
    t->bytes_in += res->bytes_in;
    t->bytes_out += res->bytes_out;
    for (int k = 0; k < ZHFIX_EDIT_KIND_COUNT; k++) {
        t->edits[k] += res->edits[k];
        all += res->edits[k];
    }
    t->records += res->records;
    t->records_changed += res->records_changed;
    t->records_invalid += res->records_invalid;
    t->values_kept += res->values_kept;
    pthread_mutex_unlock(&r->mu);
    cli_progress_file(all);
}

/*
 * One input: path, or standard input when path is NULL; name is what the
 * messages call it.  walked: found by -r inside a directory.  Returns an
 * exit status.
 */
static int process(struct run *r, const struct dest *d, const char *name, const char *path,
                   int walked)
{
    const struct cli *c = r->c;
    char *buf = malloc(CLI_BLOCK);
    struct cli_result res;
    memset(&res, 0, sizeof res);
    res.path = name;
    res.status = "error";
    int skipped = 0;

    int fd = 0;
    struct stat st;
    if (!buf) {
        res.error = strerror(ENOMEM);
        cli_error(name, "%s", res.error);
        goto report;
    }
    if (path && c->in_place && stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
        !(S_ISDIR(st.st_mode) && c->recursive)) {
        /* before open: opening a FIFO would wait for a writer */
        res.error = S_ISDIR(st.st_mode) ? strerror(EISDIR)
                                        : "not a regular file; -i edits regular files only";
        cli_error(name, "%s", res.error);
        goto report;
    }
    if (path) {
        /* O_NOFOLLOW: a walked entry that turned into a symlink since it
         * was listed is still not followed (unless -R follows them all) */
        fd = open(path, O_RDONLY | O_NOCTTY | (walked && !c->follow ? O_NOFOLLOW : 0));
        if (fd < 0) {
            res.error = strerror(errno);
            cli_error(name, "%s", res.error);
            goto report;
        }
    }
    if (fstat(fd, &st) != 0) {
        res.error = strerror(errno);
        cli_error(name, "%s", res.error);
        goto close;
    }
    if (S_ISDIR(st.st_mode)) {
        if (path && c->recursive) {
            close(fd);
            free(buf);
            return cli_walk(path, c, walk_one, r);
        }
        res.error = strerror(EISDIR);
        cli_error(name, "%s", res.error);
        goto close;
    }

    struct stat ost;
    if (c->text && S_ISREG(st.st_mode) && fstat(STDOUT_FILENO, &ost) == 0 &&
        ost.st_dev == st.st_dev && ost.st_ino == st.st_ino && st.st_size > 0) {
        /* zhfix f >> f would read its own output, as cat(1) warns */
        res.error = "input file is output file";
        cli_error(name, "%s", res.error);
        goto close;
    }

    char *target = NULL;
    if (c->in_place) {
        if (!S_ISREG(st.st_mode)) {
            res.error = "not a regular file; -i edits regular files only";
            cli_error(name, "%s", res.error);
            goto close;
        }
        /* a symlink named on the command line (or followed by -R): edit
         * the file it points at and keep the link */
        struct stat lst;
        if (path && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) &&
            !(target = realpath(path, NULL))) {
            res.error = strerror(errno);
            cli_error(name, "%s", res.error);
            goto close;
        }
    }

    struct job j;
    memset(&j, 0, sizeof j);
    j.run = r;
    j.d = d;
    j.explain_out = c->diff ? d->err : d->out;
    j.name = name;
    struct cli_inplace ip;
    struct cli_same same;
    int st_code = ZHFIX_OK;
    if (c->to && !(j.enc = zhfix_encoder_new(c->to, &st_code))) {
        res.error = zhfix_strerror(st_code);
        cli_error(name, "%s", res.error);
        free(target);
        goto close;
    }
    if (c->in_place) {
        cli_inplace_begin(&ip, target ? target : path, fd, &st);
        j.ip = &ip;
    } else if (c->check || d->report) {
        cli_same_init(&same, S_ISREG(st.st_mode) ? fd : -1);
        j.same = &same;
    }
    if (c->diff && !(j.diff = cli_diff_new(d->out, name)))
        st_code = ZHFIX_ENOMEM;

    zhfix_stream *s = NULL;
    int read_err = 0;
    if (c->jsonl) {
        if (st_code == ZHFIX_OK)
            st_code = run_jsonl(&j, fd, buf, &res, &read_err);
    } else {
        s = st_code == ZHFIX_OK ? zhfix_stream_new(r->ctx, sink, &j) : NULL;
        if (!s && st_code == ZHFIX_OK)
            st_code = ZHFIX_ENOMEM;
        while (st_code == ZHFIX_OK) {
            ssize_t got = read(fd, buf, CLI_BLOCK);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                read_err = errno;
                break;
            }
            if (got == 0) {
                st_code = zhfix_stream_end(s);
                break;
            }
            res.bytes_in += (size_t)got;
            cli_progress_bytes((size_t)got);
            if (j.same && cli_same_raw(j.same, buf, (size_t)got)) {
                st_code = ZHFIX_ENOMEM;
                break;
            }
            st_code = zhfix_stream_feed(s, buf, (size_t)got);
        }
    }

    int rc = CLI_EXIT_TROUBLE;
    /* copied: the name belongs to the stream, freed before the report */
    char enc[64];
    const char *e = s ? zhfix_stream_encoding(s) : c->jsonl && st_code == ZHFIX_OK ? "UTF-8" : NULL;
    if (e) {
        snprintf(enc, sizeof enc, "%s", e);
        res.encoding = enc;
    }
    res.bytes_out = j.bytes_out;
    memcpy(res.edits, j.edits, sizeof res.edits);
    if (read_err) {
        res.error = strerror(read_err);
        cli_error(name, "%s", res.error);
    } else if (st_code == JSONL_FAILED) {
        res.error = j.msg;
        cli_error(NULL, "%s", j.msg);
    } else if (st_code == ZHFIX_EBINARY) {
        res.status = "binary";
        if (walked) {
            /* -r meets binaries all the time: a notice, not an error */
            cli_warn(c, name, "binary file, skipped");
            rc = CLI_EXIT_OK;
            skipped = 1;
        } else {
            res.error = zhfix_strerror(st_code);
            cli_error(name, "%s", res.error);
        }
    } else if (st_code == ZHFIX_ESINK) {
        res.error = j.msg;
        cli_error(r->fatal ? "standard output" : name, "%s", j.msg);
    } else if (st_code != ZHFIX_OK) {
        res.error = zhfix_strerror(st_code);
        cli_error(name, "%s", res.error);
    } else {
        if (s)
            res.bad_bytes = zhfix_stream_bad_bytes(s, &res.first_bad);
        res.changed = j.ip ? j.ip->tmp_fd >= 0 || !cli_same_result(&j.ip->same, (size_t)st.st_size)
                      : j.same ? !cli_same_result(j.same, res.bytes_in)
                      : s ? zhfix_stream_changed(s) : j.jchanged;
        rc = CLI_EXIT_OK;
        res.status = "ok";
        if (j.diff && cli_diff_end(j.diff)) {
            errno = errno ? errno : EIO;
            stdout_broken(&j);
            res.status = "error";
            res.error = j.msg;
            cli_error("standard output", "%s", j.msg);
            rc = CLI_EXIT_TROUBLE;
        } else if (res.bad_bytes && j.ip && !c->force) {
            res.status = "bad_bytes";
            snprintf(j.msg, sizeof j.msg,
                     "%zu undecodable bytes, first at offset %zu; left unchanged "
                     "(--force replaces them by U+FFFD)", res.bad_bytes, res.first_bad);
            res.error = j.msg;
            cli_error(name, "%s", j.msg);
            rc = CLI_EXIT_TROUBLE;
        } else {
            if (res.bad_bytes)
                cli_warn(c, name, "%zu undecodable bytes, first at offset %zu, replaced by U+FFFD",
                         res.bad_bytes, res.first_bad);
            int rewritten;
            if (j.ip && cli_inplace_commit(j.ip, c->suffix, &rewritten)) {
                snprintf(j.msg, sizeof j.msg, "%s: %s", j.ip->what, strerror(j.ip->err));
                res.status = "error";
                res.error = j.msg;
                cli_error(name, "%s", j.msg);
                rc = CLI_EXIT_TROUBLE;
            }
        }
        if (rc == CLI_EXIT_OK && c->check && res.changed) {
            r->found = 1;
            if (!c->quiet)
                fprintf(d->out, "%s\n", name);
        }
    }

    if (j.ip)
        cli_inplace_abort(j.ip); /* after a commit this only frees */
    if (j.same)
        cli_same_free(j.same);
    zhfix_stream_free(s);
    cli_diff_free(j.diff);
    zhfix_encoder_free(j.enc);
    free(j.ebuf);
    free(target);
    free(buf);
    if (path)
        close(fd);
    if (d->report && cli_report(d->report, &res)) {
        cli_error(r->c->report, "%s", strerror(errno ? errno : EIO));
        rc = CLI_EXIT_TROUBLE;
    }
    account(r, &res, rc, skipped);
    return rc;

close:
    if (path)
        close(fd);
report:
    free(buf);
    if (d->report && cli_report(d->report, &res))
        cli_error(r->c->report, "%s", strerror(errno ? errno : EIO));
    account(r, &res, CLI_EXIT_TROUBLE, 0);
    return CLI_EXIT_TROUBLE;
}

/* ---- -j ----------------------------------------------------------------- */

static void work(void *arg, struct cli_task *t)
{
    struct run *r = arg;
    struct dest d = {t->out, t->err, r->report ? t->rep : NULL};
    t->rc = r->fatal ? CLI_EXIT_TROUBLE : process(r, &d, t->name, t->path, t->walked);
}

static void emit(void *arg, struct cli_task *t, int out_failed, int rep_failed)
{
    struct run *r = arg;
    int rc = t->rc;
    if (out_failed && !r->fatal) {
        r->fatal = 1;
        cli_error("standard output", "%s", strerror(errno ? errno : EIO));
        rc = CLI_EXIT_TROUBLE;
    }
    if (rep_failed) {
        cli_error(r->c->report, "%s", strerror(errno ? errno : EIO));
        rc = CLI_EXIT_TROUBLE;
    }
    if (rc > r->rc)
        r->rc = rc;
}

/* An input: to a worker with -j, else repaired here and now. */
static int one(struct run *r, const char *name, const char *path, int walked)
{
    if (r->fatal)
        return CLI_EXIT_TROUBLE;
    struct dest d = {stdout, stderr, r->report};
    if (!r->pool)
        return process(r, &d, name, path, walked);
    struct stat st;
    if (!path) {
        /* standard input is read by one reader, in its turn */
        cli_pool_drain(r->pool);
        return process(r, &d, name, path, walked);
    }
    if (!walked && r->c->recursive && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_walk(path, r->c, walk_one, r);
    if (cli_pool_add(r->pool, name, path, walked)) {
        cli_error(name, "%s", strerror(ENOMEM));
        return CLI_EXIT_TROUBLE;
    }
    return CLI_EXIT_OK;
}

static int walk_one(void *arg, const char *path)
{
    return one(arg, path, path, 1);
}

/* ---- the run ------------------------------------------------------------ */

/*
 * The size of what there is to read, for the progress line's totals and
 * time left: counted by a thread of its own (a walk of the tree that only
 * stats, with the same filters), so a large tree starts at once.  Known
 * when every operand is a regular file or a directory under -r; a pipe
 * leaves it unknown.  The count's own messages (an unreadable directory)
 * go nowhere: the real walk says them.
 */
struct counter {
    const struct cli *c;
    int first, argc;
    char **argv;
    atomic_int stop;
    int unknown;
    size_t files, bytes;
    pthread_t th;
};

static int count_one(void *arg, const char *path)
{
    struct counter *k = arg;
    struct stat st;
    if (k->stop)
        return -1;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        k->files++;
        k->bytes += (size_t)st.st_size;
    }
    return 0;
}

static void count_operand(struct counter *k, const char *path)
{
    struct stat st;
    int ok = path ? stat(path, &st) == 0 : fstat(STDIN_FILENO, &st) == 0;
    if (ok && S_ISREG(st.st_mode)) {
        k->files++;
        k->bytes += (size_t)st.st_size;
    } else if (ok && path && S_ISDIR(st.st_mode) && k->c->recursive) {
        if (cli_walk(path, k->c, count_one, k) < 0)
            k->unknown = 1;
    } else {
        k->unknown = 1;
    }
}

static void *count_run(void *arg)
{
    struct counter *k = arg;
    FILE *null = fopen("/dev/null", "w");
    if (!null)
        return NULL;
    cli_msg_capture(null);
    if (k->first == k->argc) {
        if (k->c->recursive) {
            if (cli_walk("", k->c, count_one, k) < 0)
                k->unknown = 1;
        } else {
            count_operand(k, NULL);
        }
    }
    for (int i = k->first; i < k->argc && !k->unknown && !k->stop; i++)
        count_operand(k, strcmp(k->argv[i], "-") == 0 ? NULL : k->argv[i]);
    if (!k->unknown && !k->stop)
        cli_progress_total(k->files, k->bytes);
    cli_msg_capture(NULL);
    fclose(null);
    return NULL;
}

int main(int argc, char **argv)
{
    struct cli c;
    int first;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = cli_parse(argc, argv, &c, &first);
    if (rc >= 0) {
        cli_free(&c);
        return rc;
    }

    int st;
    zhfix_ctx *ctx = zhfix_ctx_new(&c.zo, &st);
    if (!ctx) {
        if (st == ZHFIX_EENCODING) {
            cli_error(NULL, "unknown encoding '%s' for --from\n"
                      "Try 'zhfix --help' for more information.", c.zo.from);
            cli_free(&c);
            return CLI_EXIT_USAGE;
        }
        cli_error(NULL, "%s", zhfix_strerror(st));
        cli_free(&c);
        return st == ZHFIX_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_TROUBLE;
    }
    if (c.to) {
        /* an encoder per file (it keeps state); this one checks the name */
        zhfix_encoder *e = zhfix_encoder_new(c.to, &st);
        if (!e) {
            cli_error(NULL, "%s '%s' for --to\nTry 'zhfix --help' for more information.",
                      st == ZHFIX_EENCODING ? "unknown encoding" : zhfix_strerror(st), c.to);
            zhfix_ctx_free(ctx);
            cli_free(&c);
            return st == ZHFIX_EENCODING ? CLI_EXIT_USAGE : CLI_EXIT_TROUBLE;
        }
        zhfix_encoder_free(e);
    }

    struct run r;
    memset(&r, 0, sizeof r);
    r.c = &c;
    r.ctx = ctx;
    pthread_mutex_init(&r.mu, NULL);
    if (c.report) {
        r.report = strcmp(c.report, "-") == 0 ? stdout : fopen(c.report, "w");
        if (!r.report) {
            cli_error(c.report, "%s", strerror(errno));
            zhfix_ctx_free(ctx);
            cli_free(&c);
            return CLI_EXIT_TROUBLE;
        }
    }
    if (c.in_place)
        cli_inplace_signals();
    if (c.text && !isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOFBF, CLI_BLOCK);

    /* The progress line: only where a person watches standard error, and
     * never drawn across text going to the same terminal. */
    int stdout_idle = c.in_place && !c.diff && !c.explain && !(c.report && strcmp(c.report, "-") == 0);
    int progress = !c.quiet && isatty(STDERR_FILENO) && (stdout_idle || !isatty(STDOUT_FILENO));
    struct counter count;
    memset(&count, 0, sizeof count);
    int counting = 0;
    if (progress) {
        cli_progress_start(0, 0);
        count.c = &c;
        count.first = first;
        count.argc = argc;
        count.argv = argv;
        counting = pthread_create(&count.th, NULL, count_run, &count) == 0;
    }
    if (c.jobs > 1 && !(r.pool = cli_pool_new(c.jobs, work, emit, &r, r.report)))
        cli_warn(&c, NULL, "cannot start worker threads; going on with one");

    rc = CLI_EXIT_OK;
    if (first == argc) {
        /* like grep -r: with no operand, -r means the current directory */
        rc = c.recursive ? cli_walk("", &c, walk_one, &r) : one(&r, "-", NULL, 0);
    }
    for (int i = first; i < argc && !r.fatal; i++) {
        int o = strcmp(argv[i], "-") == 0 ? one(&r, "-", NULL, 0) : one(&r, argv[i], argv[i], 0);
        if (o > rc)
            rc = o;
    }
    if (r.pool) {
        cli_pool_free(r.pool);
        if (r.rc > rc)
            rc = r.rc;
    }
    if (counting) {
        count.stop = 1;
        pthread_join(count.th, NULL);
    }
    if (progress)
        cli_progress_stop();

    if (r.report && r.report != stdout && fclose(r.report) != 0) {
        cli_error(c.report, "%s", strerror(errno));
        rc = CLI_EXIT_TROUBLE;
    }
    if (!r.fatal && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_error("standard output", "%s", strerror(errno ? errno : EIO));
        rc = CLI_EXIT_TROUBLE;
    }
    if (c.stats) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        cli_stats(&r.tot, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                  c.jsonl);
    }
    zhfix_ctx_free(ctx);
    pthread_mutex_destroy(&r.mu);
    cli_free(&c);
    if (rc == CLI_EXIT_OK && r.found)
        rc = CLI_EXIT_FOUND;
    return rc;
}
