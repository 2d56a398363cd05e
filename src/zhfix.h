/*
 * zhfix.h - the public interface of libzhfix, a library that repairs damaged
 * Chinese text: garbled characters (mojibake), pinyin annotations left by
 * naive converters, flattened punctuation and mixed Traditional/Simplified
 * script.
 *
 * Data flows one way: bytes -> detect and decode -> repair passes in a fixed
 * order (mojibake, pinyin, punct, script) -> UTF-8 text plus a list of edits.
 *
 * Threads: a zhfix_ctx is immutable once built and may be shared by any
 * number of threads; a zhfix_stream belongs to one thread at a time.  All
 * tables are static const data, so nothing is parsed at start-up.
 *
 * Ownership: every pointer handed to a sink callback is owned by the library
 * and valid only during that call.  Functions named *_new return memory the
 * caller releases with the matching *_free, which accepts NULL.
 */
#ifndef ZHFIX_H
#define ZHFIX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZHFIX_VERSION_STRING "0.1.0"

/* Status codes: zero is success, every error is negative. */
typedef enum zhfix_status {
    ZHFIX_OK = 0,
    ZHFIX_ENOMEM = -1,        /* out of memory */
    ZHFIX_EINVAL = -2,        /* bad argument or option value */
    ZHFIX_EBINARY = -3,       /* input is binary: NUL bytes or no text encoding fits */
    ZHFIX_EENCODING = -4,     /* unknown encoding name (--from / --to) */
    ZHFIX_EUNREPRESENTABLE = -5, /* output encoding cannot hold a character */
    ZHFIX_ESINK = -6,         /* the caller's sink returned an error */
    ZHFIX_ESTATE = -7         /* call out of order (feed after end, ...) */
} zhfix_status;

/* A human-readable, static, English description of a status code. */
const char *zhfix_strerror(int status);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *zhfix_version(void);

/* Script policy for the script pass. */
typedef enum zhfix_script {
    ZHFIX_SCRIPT_AUTO = 0, /* restore the document's original script */
    ZHFIX_SCRIPT_HANS,     /* convert to Simplified */
    ZHFIX_SCRIPT_HANT,     /* convert to Traditional */
    ZHFIX_SCRIPT_KEEP      /* change no script */
} zhfix_script;

/* The repair passes, as bits.  Their order of execution is fixed. */
enum zhfix_pass {
    ZHFIX_PASS_MOJIBAKE = 1u << 0,
    ZHFIX_PASS_PINYIN = 1u << 1,
    ZHFIX_PASS_PUNCT = 1u << 2,
    ZHFIX_PASS_SCRIPT = 1u << 3,
    ZHFIX_PASS_ALL = (1u << 4) - 1
};

/* The name of one pass bit ("mojibake", "pinyin", "punct", "script"), or
 * NULL.  zhfix_pass_from_name() returns the bit for a name, or 0. */
const char *zhfix_pass_name(unsigned pass);
unsigned zhfix_pass_from_name(const char *name, size_t len);

/* What kind of change an edit is.  Each pass owns one or more kinds. */
typedef enum zhfix_edit_kind {
    ZHFIX_EDIT_MOJIBAKE = 0, /* bytes decoded out of step or by the wrong codec */
    ZHFIX_EDIT_PINYIN,       /* a "(pinyin)" annotation removed */
    ZHFIX_EDIT_PUNCT,        /* ASCII punctuation made full-width */
    ZHFIX_EDIT_COMMA,        /* a stray comma removed */
    ZHFIX_EDIT_SCRIPT,       /* Traditional <-> Simplified */
    ZHFIX_EDIT_UNRESOLVED,   /* damage found but left as is (nothing changed) */
    ZHFIX_EDIT_KIND_COUNT
} zhfix_edit_kind;

/* "mojibake", "pinyin", "punct", "comma", "script", "unresolved". */
const char *zhfix_edit_kind_name(int kind);

/*
 * One change.  Offsets are byte offsets from the start of the stream:
 * in_* into the decoded input (UTF-8, without the U+FEFF that start it;
 * identical to the raw bytes when the input was UTF-8 without BOM), out_*
 * into the output.  line is 1-based; col
 * is the 1-based character column of in_start within its line.  before and
 * after are the replaced and the replacing UTF-8 text (not NUL-terminated).
 * An UNRESOLVED edit has before == after: it marks damage left alone.
 */
typedef struct zhfix_edit {
    int kind;
    size_t in_start, in_end;
    size_t out_start, out_end;
    size_t line, col;
    const char *before;
    size_t before_len;
    const char *after;
    size_t after_len;
} zhfix_edit;

/* Options for a context.  Start from zhfix_options_init(). */
typedef struct zhfix_options {
    zhfix_script script;  /* default ZHFIX_SCRIPT_AUTO */
    unsigned passes;      /* bit set of enum zhfix_pass; default ZHFIX_PASS_ALL */
    const char *from;     /* force the input encoding (iconv name), or NULL to detect */
} zhfix_options;

void zhfix_options_init(zhfix_options *opt);

typedef struct zhfix_ctx zhfix_ctx;

/* Build a context from options (copied; opt may be NULL for defaults).
 * Returns NULL and sets *status on failure (status may be NULL). */
zhfix_ctx *zhfix_ctx_new(const zhfix_options *opt, int *status);
void zhfix_ctx_free(zhfix_ctx *ctx);

/*
 * A piece of output.  The stream delivers its result in pieces, each ending
 * at a line boundary (or, for a line longer than the stream's window, at a
 * character boundary).  input is the decoded input this piece replaces and
 * output what replaces it; in_base/out_base are their offsets in the whole
 * stream, line_base the 1-based number of the piece's first line.
 */
typedef struct zhfix_chunk {
    const char *input;
    size_t input_len;
    const char *output;
    size_t output_len;
    const zhfix_edit *edits;
    size_t n_edits;
    size_t in_base, out_base, line_base;
} zhfix_chunk;

/* Receives each piece in order; a non-zero return stops the stream with
 * ZHFIX_ESINK. */
typedef int (*zhfix_sink)(void *arg, const zhfix_chunk *chunk);

typedef struct zhfix_stream zhfix_stream;

/* A repair of one input.  The context must outlive the stream. */
zhfix_stream *zhfix_stream_new(const zhfix_ctx *ctx, zhfix_sink sink, void *arg);
void zhfix_stream_free(zhfix_stream *s);

/* Feed raw bytes, any amount, split anywhere: the output and the pieces the
 * sink gets are the same however the input is split (and the same as
 * zhfix_repair's), for lines of up to 1 MiB; a longer line is decoded and
 * cut as far as it has come.  The stream holds back at most its window
 * (1 MiB) and calls the sink as pieces complete.  Returns ZHFIX_OK or an
 * error; after an error the stream only accepts zhfix_stream_free(). */
int zhfix_stream_feed(zhfix_stream *s, const void *buf, size_t len);

/* End of input: flush everything to the sink. */
int zhfix_stream_end(zhfix_stream *s);

/* Facts about the stream, valid once the first piece reached the sink (or
 * after zhfix_stream_end).  encoding is the name of the detected or forced
 * input encoding ("UTF-8", "GB18030", "BIG5", "UTF-16LE", ...; "mixed" for
 * a file that mixes UTF-8 lines with lines in another encoding). */
const char *zhfix_stream_encoding(const zhfix_stream *s);

/* Non-zero when the output differs from the raw input bytes (an edit, a
 * non-UTF-8 input, a BOM or a leading U+FEFF removed or an undecodable
 * byte replaced). */
int zhfix_stream_changed(const zhfix_stream *s);

/* Undecodable bytes: how many there were and the raw byte offset of the
 * first.  Each became U+FFFD in the output; nothing is dropped silently. */
size_t zhfix_stream_bad_bytes(const zhfix_stream *s, size_t *first_offset);

/* Raw bytes fed and output bytes produced so far. */
size_t zhfix_stream_bytes_in(const zhfix_stream *s);
size_t zhfix_stream_bytes_out(const zhfix_stream *s);

/*
 * One-shot convenience: repair a whole buffer.  On success *out is a
 * NUL-terminated malloc'd string of *out_len bytes (caller frees).  Edits are
 * not returned; use a stream for them.
 */
int zhfix_repair(const zhfix_ctx *ctx, const void *in, size_t len,
                 char **out, size_t *out_len);

/*
 * Output encoding.  An encoder converts UTF-8 to the named encoding (any
 * iconv name); it keeps state across calls, so pieces may be fed in order.
 * zhfix_encoder_run appends to *out (realloc'd, caller frees) and on
 * ZHFIX_EUNREPRESENTABLE sets *bad to the byte offset in `in` of the first
 * character the encoding cannot hold.
 */
typedef struct zhfix_encoder zhfix_encoder;
zhfix_encoder *zhfix_encoder_new(const char *to, int *status);
int zhfix_encoder_run(zhfix_encoder *e, const char *in, size_t len,
                      char **out, size_t *out_len, size_t *out_cap, size_t *bad);
void zhfix_encoder_free(zhfix_encoder *e);

#ifdef __cplusplus
}
#endif

#endif /* ZHFIX_H */
