/*
 * cli.h - what the files of the zhfix program share.  The program is a thin
 * shell around the public API: it includes only "zhfix.h", exactly as a
 * user's program would, and never repairs anything itself.
 *
 *   zhfix.c        the flow: options -> one stream per input -> outputs
 *   cli_opts.c     the option table, parsing, --help
 *   cli_output.c   messages, --explain, --diff, --report, small buffers
 *   cli_inplace.c  "is the output the same bytes as the input?" and -i
 *   cli_walk.c     -r
 */
#ifndef ZHFIX_CLI_H
#define ZHFIX_CLI_H

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "zhfix.h"

/* The exit statuses, documented in --help and zhfix(1). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FOUND = 1,   /* --check: some file needs repair */
    CLI_EXIT_USAGE = 2,   /* bad option or option value */
    CLI_EXIT_TROUBLE = 3  /* some input could not be read, repaired or written */
};

/* Read size: every input is fed to the stream in blocks of this size, so
 * memory stays bounded whatever the size of the input. */
#define CLI_BLOCK 65536

/* ---- options (cli_opts.c) ------------------------------------------- */

struct cli {
    zhfix_options zo;     /* script, passes, from: handed to the library */
    const char *to;       /* --to=ENC, or NULL for UTF-8 */
    const char *report;   /* --report=FILE, or NULL */
    const char *suffix;   /* -i backup suffix, or NULL for no backup */
    int in_place, check, diff, explain, recursive, quiet, force;
    int text;             /* the repaired text goes to standard output */
};

/* Parse the command line into *c.  Returns -1 to go on (the operands start
 * at argv[*first]), or the status to exit with right away (0 after --help
 * or --version, CLI_EXIT_USAGE after a usage error, already reported). */
int cli_parse(int argc, char **argv, struct cli *c, int *first);

/* ---- messages (cli_output.c) ---------------------------------------- */

/* "zhfix: FILE: reason" on standard error; FILE may be NULL. */
void cli_error(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, unless -q was given: warnings and notices. */
void cli_warn(const struct cli *c, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- a growable byte buffer (cli_output.c) -------------------------- */

struct cli_buf {
    char *p;
    size_t len, cap;
};
int cli_buf_add(struct cli_buf *b, const void *p, size_t n); /* 0 or -1 (ENOMEM) */
void cli_buf_free(struct cli_buf *b);

/* ---- views of a repair (cli_output.c) -------------------------------- */

/* --explain: one line per edit of the chunk, "FILE:LINE:COL: KIND: BEFORE ->
 * AFTER", control characters escaped.  Returns 0, or -1 on a write error. */
int cli_explain_chunk(FILE *out, const char *name, const zhfix_chunk *ch);

/* --diff: a unified diff of the decoded input against the output, with 3
 * lines of context, built line by line as chunks arrive.  Passes never add
 * or remove a newline, so line N of the input is line N of the output. */
struct cli_diff;
struct cli_diff *cli_diff_new(FILE *out, const char *name);
int cli_diff_chunk(struct cli_diff *d, const zhfix_chunk *ch); /* 0 or -1 */
int cli_diff_end(struct cli_diff *d);                          /* 0 or -1 */
void cli_diff_free(struct cli_diff *d);

/* What --report says about one input. */
struct cli_result {
    const char *path;
    const char *status;      /* "ok", "binary", "bad_bytes", "error" */
    const char *error;       /* the reason when status is not "ok", or NULL */
    const char *encoding;    /* detected or forced input encoding, or NULL */
    int changed;             /* the output differs from the input bytes */
    size_t bytes_in, bytes_out;
    size_t bad_bytes, first_bad;
    size_t edits[ZHFIX_EDIT_KIND_COUNT];
};
/* --report: one JSON object on one line.  Returns 0 or -1. */
int cli_report(FILE *out, const struct cli_result *r);

/* ---- same bytes? and in place (cli_inplace.c) ---------------------- */

/*
 * Tracks whether the output, as it is produced, is byte for byte the input.
 * With a regular file the input is re-read with pread (the pages are in the
 * cache: we just read them); otherwise the raw bytes not yet matched are
 * kept in a queue, which the stream's bounded window keeps small.
 */
struct cli_same {
    int fd;               /* regular file to pread, or -1: use the queue */
    size_t matched;       /* output bytes found equal to the input so far */
    int differs;
    struct cli_buf q;     /* queue mode: q.p[q_off..] are the raw bytes */
    size_t q_off;         /* from offset `matched` on */
};
void cli_same_init(struct cli_same *s, int fd);
int cli_same_raw(struct cli_same *s, const void *p, size_t n); /* queue mode */
int cli_same_out(struct cli_same *s, const char *p, size_t n); /* 0 or -1 */
/* After the last byte: non-zero when the output was the raw_total input
 * bytes exactly. */
int cli_same_result(const struct cli_same *s, size_t raw_total);
void cli_same_free(struct cli_same *s);

/*
 * -i.  Output goes to a temporary file in the file's own directory, created
 * only once the output is known to differ from the file (an unchanged file
 * is never rewritten, its mtime and inode stay); then fsync, backup, rename,
 * fsync of the directory.  Until the rename the original is complete.
 */
struct cli_inplace {
    const char *path;     /* the file replaced (symlinks resolved) */
    int fd;               /* the original, open for reading */
    struct stat st;
    struct cli_same same;
    size_t out_total;     /* output bytes received */
    int tmp_fd;           /* -1 until the output differs */
    char *tmp_path;
    struct cli_buf wb;    /* write buffer */
    const char *what;     /* which step failed, for the message */
    int err;              /* and its errno */
};
void cli_inplace_begin(struct cli_inplace *ip, const char *path, int fd,
                       const struct stat *st);
int cli_inplace_write(struct cli_inplace *ip, const char *p, size_t n); /* 0, -1 */
/* Finish: *rewritten tells whether the file was replaced.  On -1 the file is
 * untouched, ip->what and ip->err say why. */
int cli_inplace_commit(struct cli_inplace *ip, const char *suffix, int *rewritten);
/* The end, in every case: after a failure (or with no commit) the temporary
 * file is removed and the original left as it is; memory is released. */
void cli_inplace_abort(struct cli_inplace *ip);
/* Remove a temporary file left by a fatal signal (SIGINT, SIGTERM, ...). */
void cli_inplace_signals(void);

/* ---- -r (cli_walk.c) ------------------------------------------------ */

/* Called for each regular file under a directory, in sorted order. */
typedef int (*cli_walk_fn)(void *arg, const char *path);
/* Walk dir ("" for the current directory, its files named without a
 * leading "./"): entries sorted bytewise, symbolic links and special files
 * skipped, never followed.  Returns the worst status of fn and of the walk
 * itself (an unreadable directory is CLI_EXIT_TROUBLE). */
int cli_walk(const char *dir, cli_walk_fn fn, void *arg);

#endif
