/*
 * cli.h - what the files of the zhfix program share.  The program is a thin
 * shell around the public API: it includes only "zhfix.h", exactly as a
 * user's program would, and never repairs anything itself.
 *
 *   zhfix.c        the flow: options -> one stream per input -> outputs
 *   cli_opts.c     the option table, parsing, --help
 *   cli_output.c   messages, --explain, --diff, --report, small buffers
 *   cli_inplace.c  "is the output the same bytes as the input?" and -i
 *   cli_walk.c     -r, -R, --include, --exclude
 *   cli_jsonl.c    --jsonl: one JSON Lines record at a time
 *   cli_parallel.c -j: worker threads, output kept in input order
 *   cli_progress.c the progress line on a terminal, --stats
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

/* -j at most: beyond, threads only wait on each other. */
#define CLI_MAX_JOBS 256

/* ---- options (cli_opts.c) ------------------------------------------- */

/* What --jsonl does with a line that is not a JSON object. */
enum { CLI_INVALID_FAIL, CLI_INVALID_PASS, CLI_INVALID_DROP };

/* A list of option arguments (--include, --exclude, ...). */
struct cli_list {
    const char **v;
    size_t n;
};

struct cli {
    zhfix_options zo;     /* script, passes, from: handed to the library */
    const char *to;       /* --to=ENC, or NULL for UTF-8 */
    const char *report;   /* --report=FILE, or NULL */
    const char *suffix;   /* -i backup suffix, or NULL for no backup */
    int in_place, check, diff, explain, recursive, quiet, force;
    int follow;           /* -R: follow symbolic links under directories */
    int jsonl;            /* --jsonl */
    struct cli_list fields; /* its FIELDs ("text" by default) */
    int jsonl_invalid;    /* CLI_INVALID_* */
    struct cli_list include, exclude, exclude_dir; /* globs for -r */
    int jobs;             /* -j N: worker threads (1: none) */
    int stats;            /* --stats */
    int text;             /* the repaired text goes to standard output */
};

/* Parse the command line into *c.  Returns -1 to go on (the operands start
 * at argv[*first]), or the status to exit with right away (0 after --help
 * or --version, CLI_EXIT_USAGE after a usage error, already reported). */
int cli_parse(int argc, char **argv, struct cli *c, int *first);
/* Release what cli_parse allocated. */
void cli_free(struct cli *c);

/* ---- messages (cli_output.c) ---------------------------------------- */

/* "zhfix: FILE: reason" on standard error; FILE may be NULL. */
void cli_error(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, unless -q was given: warnings and notices. */
void cli_warn(const struct cli *c, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Messages of the calling thread go to f instead of standard error (NULL:
 * back to standard error).  -j workers keep a file's messages with it, so
 * they come out in input order. */
void cli_msg_capture(FILE *f);

/* ---- a growable byte buffer (cli_output.c) -------------------------- */

struct cli_buf {
    char *p;
    size_t len, cap;
};
int cli_buf_add(struct cli_buf *b, const void *p, size_t n); /* 0 or -1 (ENOMEM) */
void cli_buf_free(struct cli_buf *b);

/* ---- views of a repair (cli_output.c) -------------------------------- */

/* Length of the well-formed UTF-8 sequence at p[0..n) (Unicode 15, table
 * 3-7: no overlongs, no surrogates, nothing past U+10FFFF), or 0.  The CLI
 * links the library's exported API only, so it keeps its own. */
size_t cli_utf8_len(const unsigned char *p, size_t n);

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

/* Control characters of s[0..n) escaped (\n, \t, \xHH), the rest as is. */
void cli_put_visible(FILE *out, const char *s, size_t n);

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
    int jsonl;               /* the counts below are given */
    size_t records, records_changed, records_invalid, values_kept;
};
/* --report: one JSON object on one line.  Returns 0 or -1. */
int cli_report(FILE *out, const struct cli_result *r);

/* ---- --jsonl (cli_jsonl.c) ------------------------------------------ */

/* What became of one record. */
struct cli_jsonl_rec {
    int blank;               /* a blank line: no record, copied as it is */
    const char *error;       /* not a JSON object: why (static text) ... */
    size_t error_col;        /* ... and where (1-based byte column) */
    int status;              /* a library error (when -1 is returned) */
    size_t changed;          /* values changed */
    size_t kept;             /* values that could not be repaired */
    size_t edits[ZHFIX_EDIT_KIND_COUNT];
};
/* --report with --jsonl: one object for a record that changed, was
 * invalid or kept a value; line is its line number.  Returns 0 or -1. */
int cli_report_record(FILE *out, const char *path, size_t line, const struct cli_jsonl_rec *rec,
                      const char *action);

/* Optional callbacks while a record is repaired: each edit of field, a
 * value that had to be left as it was. */
struct cli_jsonl_cb {
    void *arg;
    void (*edit)(void *arg, const char *field, const zhfix_edit *e);
    void (*warn)(void *arg, const char *field, const char *why);
};

/* A record repairer for the string fields named ("a.b" is key b of the
 * object under key a).  ctx, fields and their strings must outlive it.
 * One per thread. */
struct cli_jsonl;
struct cli_jsonl *cli_jsonl_new(const zhfix_ctx *ctx, const char *const *fields, size_t nfields);
void cli_jsonl_free(struct cli_jsonl *x);
/* One line, without its '\n' (a '\r' before it is JSON whitespace):
 * appends the record, repaired, to out.  Returns 0, 1 when the line is not
 * a valid JSON object (rec->error says why; nothing appended), or -1 (no
 * memory, or a library error in rec->status). */
int cli_jsonl_record(struct cli_jsonl *x, const char *line, size_t len, struct cli_buf *out,
                     struct cli_jsonl_rec *rec, const struct cli_jsonl_cb *cb);

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
    int slot;             /* its entry for the signal handler */
    struct cli_buf wb;    /* write buffer */
    const char *what;     /* which step failed, for the message */
    int err;              /* and its errno */
};
void cli_inplace_begin(struct cli_inplace *ip, const char *path, int fd,
                       const struct stat *st);
int cli_inplace_write(struct cli_inplace *ip, const char *p, size_t n); /* 0, -1 */
/* write(2) all of p, again after EINTR; 0, or -1 with errno set. */
int cli_write_all(int fd, const char *p, size_t n);
/* Finish: *rewritten tells whether the file was replaced.  On -1 the file is
 * untouched, ip->what and ip->err say why. */
int cli_inplace_commit(struct cli_inplace *ip, const char *suffix, int *rewritten);
/* The end, in every case: after a failure (or with no commit) the temporary
 * file is removed and the original left as it is; memory is released. */
void cli_inplace_abort(struct cli_inplace *ip);
/* Remove a temporary file left by a fatal signal (SIGINT, SIGTERM, ...). */
void cli_inplace_signals(void);

/* ---- -r (cli_walk.c) ------------------------------------------------ */

/* Called for each regular file under a directory, in sorted order; an exit
 * status, or a negative number to stop the walk (cli_walk returns it). */
typedef int (*cli_walk_fn)(void *arg, const char *path);
/* Walk dir ("" for the current directory, its files named without a
 * leading "./"): entries sorted bytewise, special files skipped, symbolic
 * links skipped unless c->follow (then followed, a directory loop skipped
 * with a notice), files filtered by c->include and c->exclude, directories
 * by c->exclude_dir.  Returns the worst status of fn and of the walk itself
 * (an unreadable directory is CLI_EXIT_TROUBLE). */
int cli_walk(const char *dir, const struct cli *c, cli_walk_fn fn, void *arg);

/* ---- -j (cli_parallel.c) -------------------------------------------- */

/* One input handed to a worker.  out, err and rep collect what would go to
 * standard output, standard error and --report; they are spools (memory,
 * then a temporary file past a few MiB) that the main thread copies out in
 * input order. */
struct cli_task {
    char *name, *path;    /* path NULL: standard input */
    int walked;
    FILE *out, *err, *rep;
    int rc;
    int state;            /* private to cli_parallel.c */
    struct cli_spool *s_out, *s_err, *s_rep;
};
/* work runs in a worker thread; emit in the main thread, in input order. */
typedef void (*cli_work_fn)(void *arg, struct cli_task *t);
/* out_failed: standard output could not take the input's output;
 * rep_failed: the same for report. */
typedef void (*cli_emit_fn)(void *arg, struct cli_task *t, int out_failed, int rep_failed);
struct cli_pool;
/* report: where --report lines go (NULL: no report).  Returns NULL when no
 * thread could be started. */
struct cli_pool *cli_pool_new(int threads, cli_work_fn work, cli_emit_fn emit, void *arg,
                              FILE *report);
/* Queue an input (copies the strings); waits while the window of inputs
 * in flight is full, emitting finished ones.  Returns 0 or -1 (ENOMEM). */
int cli_pool_add(struct cli_pool *p, const char *name, const char *path, int walked);
/* Wait for every queued input and emit it. */
void cli_pool_drain(struct cli_pool *p);
/* Drain, stop the threads, free. */
void cli_pool_free(struct cli_pool *p);

/* ---- progress and --stats (cli_progress.c) ------------------------- */

/* Counters that the progress line shows; any thread adds to them. */
void cli_progress_bytes(size_t n);
void cli_progress_file(size_t edits);
/* Start the progress line (a thread that redraws it at most 4 times a
 * second, once the run is older than a second); total_bytes is 0 when
 * unknown (no ETA then). */
void cli_progress_start(size_t total_files, size_t total_bytes);
/* The totals, once known (a walk that counts them may end after the
 * start). */
void cli_progress_total(size_t total_files, size_t total_bytes);
/* Erase it for good. */
void cli_progress_stop(void);
/* Around any other write to standard error: erases the line first. */
void cli_stderr_lock(void);
void cli_stderr_unlock(void);

/* Totals for --stats. */
struct cli_totals {
    size_t files, changed, unchanged, skipped, failed;
    size_t bytes_in, bytes_out;
    size_t edits[ZHFIX_EDIT_KIND_COUNT];
    size_t records, records_changed, records_invalid, values_kept;
};
/* The closing summary, on standard error. */
void cli_stats(const struct cli_totals *t, double seconds, int jsonl);

#endif
