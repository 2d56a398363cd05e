/*
 * zhfix.c - the zhfix program: the flow from the command line to the
 * outputs.  It uses the public API only (zhfix.h) and repairs nothing
 * itself: each input is read in CLI_BLOCK pieces and fed to a zhfix_stream;
 * the stream hands back chunks of repaired text, which go out at once - to
 * standard output, to the temporary file of -i, to --diff, --explain - so
 * memory stays bounded by the stream's window, whatever the input's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zhfix.h"
#include "cli.h"

struct run {
    const struct cli *c;
    zhfix_ctx *ctx;
    FILE *report;
    FILE *explain_out;   /* stdout, or stderr when --diff owns stdout */
    int found;           /* --check: some file needs repair */
    int fatal;           /* standard output is broken: stop */
};

/* One input on its way through a stream. */
struct job {
    struct run *run;
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

/* Each piece of repaired text, in order, as the stream completes it. */
static int sink(void *arg, const zhfix_chunk *ch)
{
    struct job *j = arg;
    const struct cli *c = j->run->c;
    for (size_t i = 0; i < ch->n_edits; i++)
        if (ch->edits[i].kind >= 0 && ch->edits[i].kind < ZHFIX_EDIT_KIND_COUNT)
            j->edits[ch->edits[i].kind]++;
    if (c->explain && cli_explain_chunk(j->run->explain_out, j->name, ch)) {
        stdout_broken(j);
        return -1;
    }
    if (j->diff && cli_diff_chunk(j->diff, ch)) {
        stdout_broken(j);
        return -1;
    }

    const char *p = ch->output;
    size_t n = ch->output_len;
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
    if (c->text && n && fwrite(p, 1, n, stdout) != n) {
        stdout_broken(j);
        return -1;
    }
    return 0;
}

static int walk_one(void *arg, const char *path);

/*
 * One input: path, or standard input when path is NULL; name is what the
 * messages call it.  walked: found by -r inside a directory.  Returns an
 * exit status.
 */
static int process(struct run *r, const char *name, const char *path, int walked)
{
    const struct cli *c = r->c;
    static char buf[CLI_BLOCK];
    struct cli_result res;
    memset(&res, 0, sizeof res);
    res.path = name;
    res.status = "error";

    int fd = 0;
    struct stat st;
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
         * was listed is still not followed */
        fd = open(path, O_RDONLY | O_NOCTTY | (walked ? O_NOFOLLOW : 0));
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
            return cli_walk(path, walk_one, r);
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
        /* a symlink named on the command line: edit the file it points at
         * and keep the link */
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
    } else if (c->check || r->report) {
        cli_same_init(&same, S_ISREG(st.st_mode) ? fd : -1);
        j.same = &same;
    }
    if (c->diff && !(j.diff = cli_diff_new(stdout, name)))
        st_code = ZHFIX_ENOMEM;

    zhfix_stream *s = st_code == ZHFIX_OK ? zhfix_stream_new(r->ctx, sink, &j) : NULL;
    if (!s && st_code == ZHFIX_OK)
        st_code = ZHFIX_ENOMEM;
    int read_err = 0;
    while (st_code == ZHFIX_OK) {
        ssize_t got = read(fd, buf, sizeof buf);
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
        if (j.same && cli_same_raw(j.same, buf, (size_t)got)) {
            st_code = ZHFIX_ENOMEM;
            break;
        }
        st_code = zhfix_stream_feed(s, buf, (size_t)got);
    }

    int rc = CLI_EXIT_TROUBLE;
    /* copied: the name belongs to the stream, freed before the report */
    char enc[64];
    const char *e = s ? zhfix_stream_encoding(s) : NULL;
    if (e) {
        snprintf(enc, sizeof enc, "%s", e);
        res.encoding = enc;
    }
    res.bytes_out = j.bytes_out;
    memcpy(res.edits, j.edits, sizeof res.edits);
    if (read_err) {
        res.error = strerror(read_err);
        cli_error(name, "%s", res.error);
    } else if (st_code == ZHFIX_EBINARY) {
        res.status = "binary";
        if (walked) {
            /* -r meets binaries all the time: a notice, not an error */
            cli_warn(c, name, "binary file, skipped");
            rc = CLI_EXIT_OK;
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
        res.bad_bytes = zhfix_stream_bad_bytes(s, &res.first_bad);
        res.changed = j.ip ? j.ip->tmp_fd >= 0 || !cli_same_result(&j.ip->same, (size_t)st.st_size)
                      : j.same ? !cli_same_result(j.same, res.bytes_in)
                      : zhfix_stream_changed(s);
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
                printf("%s\n", name);
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
    if (path)
        close(fd);
    if (r->report && cli_report(r->report, &res)) {
        cli_error(r->c->report, "%s", strerror(errno ? errno : EIO));
        rc = CLI_EXIT_TROUBLE;
    }
    return rc;

close:
    if (path)
        close(fd);
report:
    if (r->report && cli_report(r->report, &res))
        cli_error(r->c->report, "%s", strerror(errno ? errno : EIO));
    return CLI_EXIT_TROUBLE;
}

static int walk_one(void *arg, const char *path)
{
    struct run *r = arg;
    if (r->fatal)
        return CLI_EXIT_TROUBLE;
    return process(r, path, path, 1);
}

int main(int argc, char **argv)
{
    struct cli c;
    int first;
    int rc = cli_parse(argc, argv, &c, &first);
    if (rc >= 0)
        return rc;

    int st;
    zhfix_ctx *ctx = zhfix_ctx_new(&c.zo, &st);
    if (!ctx) {
        if (st == ZHFIX_EENCODING) {
            cli_error(NULL, "unknown encoding '%s' for --from\n"
                      "Try 'zhfix --help' for more information.", c.zo.from);
            return CLI_EXIT_USAGE;
        }
        cli_error(NULL, "%s", zhfix_strerror(st));
        return st == ZHFIX_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_TROUBLE;
    }
    if (c.to) {
        /* an encoder per file (it keeps state); this one checks the name */
        zhfix_encoder *e = zhfix_encoder_new(c.to, &st);
        if (!e) {
            cli_error(NULL, "%s '%s' for --to\nTry 'zhfix --help' for more information.",
                      st == ZHFIX_EENCODING ? "unknown encoding" : zhfix_strerror(st), c.to);
            zhfix_ctx_free(ctx);
            return st == ZHFIX_EENCODING ? CLI_EXIT_USAGE : CLI_EXIT_TROUBLE;
        }
        zhfix_encoder_free(e);
    }

    struct run r;
    memset(&r, 0, sizeof r);
    r.c = &c;
    r.ctx = ctx;
    r.explain_out = c.diff ? stderr : stdout;
    if (c.report) {
        r.report = strcmp(c.report, "-") == 0 ? stdout : fopen(c.report, "w");
        if (!r.report) {
            cli_error(c.report, "%s", strerror(errno));
            zhfix_ctx_free(ctx);
            return CLI_EXIT_TROUBLE;
        }
    }
    if (c.in_place)
        cli_inplace_signals();
    if (c.text && !isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOFBF, CLI_BLOCK);

    rc = CLI_EXIT_OK;
    if (first == argc) {
        /* like grep -r: with no operand, -r means the current directory */
        rc = c.recursive ? cli_walk("", walk_one, &r) : process(&r, "-", NULL, 0);
    }
    for (int i = first; i < argc && !r.fatal; i++) {
        int one = strcmp(argv[i], "-") == 0 ? process(&r, "-", NULL, 0)
                                            : process(&r, argv[i], argv[i], 0);
        if (one > rc)
            rc = one;
    }

    if (r.report && r.report != stdout && fclose(r.report) != 0) {
        cli_error(c.report, "%s", strerror(errno));
        rc = CLI_EXIT_TROUBLE;
    }
    if (!r.fatal && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_error("standard output", "%s", strerror(errno ? errno : EIO));
        rc = CLI_EXIT_TROUBLE;
    }
    zhfix_ctx_free(ctx);
    if (rc == CLI_EXIT_OK && r.found)
        rc = CLI_EXIT_FOUND;
    return rc;
}
