/*
 * fuzz_common.h - what the two harnesses share: the input format, a strict
 * UTF-8 validator, a stream driver that feeds input in data-derived chunks
 * and checks every piece the sink receives.
 *
 * The harnesses use only the public interface (zhfix.h), exactly as a
 * user's program would, so a property that fails here fails for users.
 * A violated property calls abort() with a message on stderr, which
 * libFuzzer (and fuzz/replay.c) report as a crash.
 *
 * Input format, shared so one corpus serves both harnesses:
 *   byte 0  options: bits 0-1 script (auto, hans, hant, keep);
 *           bits 2-5 passes turned OFF (0 = all passes on, so a seed made
 *           of 0x00 0x00 + a fixture runs the default options);
 *           bit 6 amplify: repeat the payload to FUZZ_AMP_MIN..FUZZ_AMP_MAX
 *           bytes, past the stream's detection sample and piece size (64 KiB
 *           each), so chunk boundaries reach the decoder and the piece cutter
 *           rather than a buffer that waits for the end; with bit 7 of
 *           byte 1 instead: 64-68 KiB of ASCII lines, then the payload once;
 *           bit 7 force the input encoding (opt.from), chosen by byte 1
 *           from fuzz_from[].
 *   byte 1  chunking: bits 0-2 the chunk size class, bits 3-7 a seed (and,
 *           with bit 7 of byte 0, bits 3-5 pick the forced encoding).
 *   rest    the payload, at most FUZZ_MAX_PAYLOAD bytes (longer inputs are
 *           skipped: they only slow the fuzzer down).
 * Inputs shorter than two bytes are run with default options.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zhfix.h"

#define FUZZ_MAX_PAYLOAD ((size_t)64 << 10)
/* Amplified inputs stay well under the stream's 1 MiB window; the stream
 * cuts pieces where the text says, not where the feeds fell, so the
 * chunked stream must give exactly what the one-shot repair gives. */
#define FUZZ_AMP_MIN ((size_t)72 << 10)
#define FUZZ_AMP_MAX ((size_t)160 << 10)

#define FUZZ_FAIL(...)                                          \
    do {                                                        \
        fprintf(stderr, "zhfix fuzz property failed: ");        \
        fprintf(stderr, __VA_ARGS__);                           \
        fprintf(stderr, " (%s:%d)\n", __FILE__, __LINE__);      \
        abort();                                                \
    } while (0)

#define FUZZ_ASSERT(cond, ...)          \
    do {                                \
        if (!(cond))                    \
            FUZZ_FAIL(__VA_ARGS__);     \
    } while (0)

/* Non-zero when property `name` is listed in $ZHFIX_FUZZ_SKIP (names
 * separated by commas), to fuzz past a known failure while it is being
 * fixed: chunked (stream vs one-shot), idempotent-nul (idempotence, for
 * outputs that hold a NUL), changed (zhfix_stream_changed),
 * passthrough, lenient, roundtrip (fuzz_decode.c). */
static int fuzz_skip(const char *name)
{
    const char *list = getenv("ZHFIX_FUZZ_SKIP");
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        p = e ? e + 1 : p + len;
    }
    return 0;
}

/* Encodings a forced --from may name: the ones the decoder treats
 * differently (UTF-8 strict, legacy by line, wide, stateful).  All known
 * to glibc's iconv (which has no HZ). */
static const char *const fuzz_from[8] = {
    "UTF-8", "GB18030", "CP950", "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-7", "ISO-2022-CN",
};

/*
 * Keep glibc's iconv modules loaded for the whole run.  The library opens
 * and closes an iconv descriptor per candidate encoding per stream, and
 * glibc unloads a module (dlclose, munmap) when its last descriptor
 * closes, so each short non-UTF-8 input costs ~25 ms of loading and
 * unloading: two orders of magnitude more than its decoding, and the
 * fuzzer would measure little else.  One encoder per module held open here
 * (through the public API) keeps them resident; the library behaves the
 * same.  (Reported as a speed issue of its own.)
 */
static zhfix_encoder *fuzz_pinned[24];

static void fuzz_pin_codecs(void)
{
    static int done;
    static const char *const names[] = {
        "GB18030", "CP950", "BIG5", "BIG5-HKSCS", "UTF-16LE", "UTF-16BE", "UTF-32LE",
        "UTF-32BE", "UTF-16", "UTF-32", "EUC-JP", "SHIFT_JIS", "EUC-KR", "EUC-TW",
        "WINDOWS-1252", "ISO-8859-1", "ISO-8859-5", "KOI8-R", "ISO-2022-CN",
        "ISO-2022-JP", "ISO-2022-KR", "UTF-7", "CP949",
    };
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && i < 24; i++)
        fuzz_pinned[i] = zhfix_encoder_new(names[i], NULL);
}

typedef struct fuzz_input {
    zhfix_options opt;
    const unsigned char *payload;
    size_t len;           /* payload as given */
    unsigned char *owned; /* amplified copy, or NULL */
    size_t chunk_class;
    uint32_t seed;
} fuzz_input;

/* Split data into options and payload; returns 0 when the input is to be
 * skipped (too long).  Release with fuzz_input_free(). */
static int fuzz_input_parse(fuzz_input *in, const uint8_t *data, size_t size)
{
    fuzz_pin_codecs();
    memset(in, 0, sizeof *in);
    zhfix_options_init(&in->opt);
    unsigned b0 = size >= 2 ? data[0] : 0, b1 = size >= 2 ? data[1] : 0;
    in->payload = size >= 2 ? data + 2 : data;
    in->len = size >= 2 ? size - 2 : size;
    if (in->len > FUZZ_MAX_PAYLOAD)
        return 0;
    in->opt.script = (zhfix_script)(b0 & 3u);
    in->opt.passes = (unsigned)ZHFIX_PASS_ALL & ~((b0 >> 2) & 15u);
    if (b0 & 0x80)
        in->opt.from = fuzz_from[(b1 >> 3) & 7u];
    in->chunk_class = b1 & 7u;
    /* the seed also depends on the payload, so mutations of the payload
     * move the chunk boundaries too */
    uint32_t h = 2166136261u ^ (b1 >> 3);
    for (size_t i = 0; i < in->len && i < 64; i++)
        h = (h ^ in->payload[i]) * 16777619u;
    in->seed = h ? h : 1;
    if ((b0 & 0x40) && in->len > 0 && (b1 & 0x80)) {
        /* ASCII lines past the detection sample, then the payload once:
         * the encoding is decided before the payload is seen (a long
         * English header over a Chinese body) */
        static const char line[] = "The quick brown fox jumps over the lazy dog 0123456789.\n";
        size_t fill = FUZZ_AMP_MIN - ((size_t)8 << 10) + h % 4096u;
        in->owned = malloc(fill + in->len);
        if (!in->owned)
            return 0;
        for (size_t i = 0; i < fill; i += sizeof line - 1)
            memcpy(in->owned + i, line, fill - i < sizeof line - 1 ? fill - i : sizeof line - 1);
        memcpy(in->owned + fill, in->payload, in->len);
        in->payload = in->owned;
        in->len += fill;
    } else if ((b0 & 0x40) && in->len > 0) {
        size_t target = FUZZ_AMP_MIN + (size_t)(h % (uint32_t)(FUZZ_AMP_MAX - FUZZ_AMP_MIN));
        in->owned = malloc(target);
        if (!in->owned)
            return 0;
        for (size_t i = 0; i < target; i += in->len)
            memcpy(in->owned + i, in->payload, target - i < in->len ? target - i : in->len);
        in->payload = in->owned;
        in->len = target;
    }
    return 1;
}

static void fuzz_input_free(fuzz_input *in)
{
    free(in->owned);
    in->owned = NULL;
}

static uint32_t fuzz_rand(uint32_t *s)
{
    /* xorshift32: cheap and deterministic */
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* The size of the next chunk.  Classes: 1 byte; 1-3; 1-16; 1-256; 1-4096;
 * around 64 KiB; the whole input; a mix.  No more than about 1024 feeds
 * for any input (so amplified inputs get chunks of 70-300 bytes at the
 * least, at random places): each feed costs the stream a rescan of the
 * line it holds, and tiny feeds of a 100 KiB line would measure only that
 * (fuzz/slow/). */
static size_t fuzz_next_chunk(const fuzz_input *in, uint32_t *st, size_t left)
{
    size_t r = fuzz_rand(st), n;
    size_t cls = in->chunk_class == 7 ? r % 7 : in->chunk_class;
    r = fuzz_rand(st);
    switch (cls) {
    case 0: n = 1; break;
    case 1: n = 1 + r % 3; break;
    case 2: n = 1 + r % 16; break;
    case 3: n = 1 + r % 256; break;
    case 4: n = 1 + r % 4096; break;
    case 5: n = ((size_t)60 << 10) + r % ((size_t)8 << 10); break;
    default: n = left; break;
    }
    size_t floor = in->len / 1024;
    if (n < floor)
        n = floor + r % (floor + 1);
    return n < left ? n : left;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF.  Returns the offset of the first invalid byte, or len. */
static size_t fuzz_utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (len - i < n)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n;
    }
    return len;
}

static size_t fuzz_count_nl(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* What the sink collects, and what it checks each piece against. */
typedef struct fuzz_sink {
    char *out;
    size_t out_len, out_cap;
    size_t in_total;   /* decoded input seen so far */
    size_t lines;      /* newlines seen so far */
    size_t pieces;
    size_t edits;
    char encoding[32]; /* zhfix_stream_encoding() at the end */
} fuzz_sink;

static void fuzz_append(fuzz_sink *k, const char *p, size_t n)
{
    if (k->out_len + n + 1 > k->out_cap) {
        size_t cap = k->out_cap ? k->out_cap : 4096;
        while (cap < k->out_len + n + 1)
            cap *= 2;
        char *q = realloc(k->out, cap);
        if (!q)
            abort(); /* not a property of the library: out of memory here */
        k->out = q;
        k->out_cap = cap;
    }
    if (n)
        memcpy(k->out + k->out_len, p, n);
    k->out_len += n;
}

/*
 * The contract of zhfix_chunk and zhfix_edit (zhfix.h), checked piece by
 * piece: pieces are contiguous in both streams and numbered by line; input
 * and output are UTF-8 with the same newlines (passes never add or remove
 * one); every edit lies inside its piece, edits come in input order, and
 * an UNRESOLVED edit changes nothing.
 */
static int fuzz_sink_fn(void *arg, const zhfix_chunk *c)
{
    fuzz_sink *k = arg;
    FUZZ_ASSERT(c->in_base == k->in_total, "piece %zu: in_base %zu, expected %zu", k->pieces,
                c->in_base, k->in_total);
    FUZZ_ASSERT(c->out_base == k->out_len, "piece %zu: out_base %zu, expected %zu", k->pieces,
                c->out_base, k->out_len);
    FUZZ_ASSERT(c->line_base == k->lines + 1, "piece %zu: line_base %zu, expected %zu",
                k->pieces, c->line_base, k->lines + 1);
    FUZZ_ASSERT(c->input_len == 0 || c->input, "piece %zu: NULL input", k->pieces);
    FUZZ_ASSERT(c->output_len == 0 || c->output, "piece %zu: NULL output", k->pieces);
    size_t bad = fuzz_utf8_check((const unsigned char *)c->input, c->input_len);
    FUZZ_ASSERT(bad == c->input_len, "piece %zu: decoded input not UTF-8 at %zu", k->pieces,
                c->in_base + bad);
    bad = fuzz_utf8_check((const unsigned char *)c->output, c->output_len);
    FUZZ_ASSERT(bad == c->output_len, "piece %zu: output not UTF-8 at %zu", k->pieces,
                c->out_base + bad);
    size_t nl_in = fuzz_count_nl(c->input, c->input_len);
    size_t nl_out = fuzz_count_nl(c->output, c->output_len);
    FUZZ_ASSERT(nl_in == nl_out, "piece %zu: %zu newlines in, %zu out", k->pieces, nl_in, nl_out);
    size_t in_end = c->in_base + c->input_len, out_end = c->out_base + c->output_len;
    for (size_t i = 0; i < c->n_edits; i++) {
        const zhfix_edit *e = &c->edits[i];
        FUZZ_ASSERT(e->kind >= 0 && e->kind < ZHFIX_EDIT_KIND_COUNT, "edit %zu: kind %d", i,
                    e->kind);
        FUZZ_ASSERT(c->in_base <= e->in_start && e->in_start <= e->in_end && e->in_end <= in_end,
                    "edit %zu (%s): input span [%zu,%zu) outside piece [%zu,%zu)", i,
                    zhfix_edit_kind_name(e->kind), e->in_start, e->in_end, c->in_base, in_end);
        FUZZ_ASSERT(c->out_base <= e->out_start && e->out_start <= e->out_end &&
                        e->out_end <= out_end,
                    "edit %zu (%s): output span [%zu,%zu) outside piece [%zu,%zu)", i,
                    zhfix_edit_kind_name(e->kind), e->out_start, e->out_end, c->out_base,
                    out_end);
        FUZZ_ASSERT(i == 0 || c->edits[i - 1].in_start <= e->in_start,
                    "edit %zu: not in input order", i);
        FUZZ_ASSERT(e->line >= c->line_base && e->line <= c->line_base + nl_in && e->col >= 1,
                    "edit %zu: line %zu col %zu outside piece lines %zu..%zu", i, e->line,
                    e->col, c->line_base, c->line_base + nl_in);
        FUZZ_ASSERT(e->before_len == 0 || e->before, "edit %zu: NULL before", i);
        FUZZ_ASSERT(e->after_len == 0 || e->after, "edit %zu: NULL after", i);
        FUZZ_ASSERT(fuzz_utf8_check((const unsigned char *)e->before, e->before_len) ==
                            e->before_len &&
                        fuzz_utf8_check((const unsigned char *)e->after, e->after_len) ==
                            e->after_len,
                    "edit %zu (%s): before/after not UTF-8", i, zhfix_edit_kind_name(e->kind));
        if (e->kind == ZHFIX_EDIT_UNRESOLVED)
            FUZZ_ASSERT(e->before_len == e->after_len &&
                            memcmp(e->before, e->after, e->before_len) == 0,
                        "edit %zu: UNRESOLVED edit changes text", i);
    }
    fuzz_append(k, c->output, c->output_len);
    k->in_total += c->input_len;
    k->lines += nl_in;
    k->pieces++;
    k->edits += c->n_edits;
    return 0;
}

/* Run a stream over in->payload, fed in data-derived chunks.  Returns the
 * status of the first failing call (or of zhfix_stream_end); the output is
 * in k.  *changed receives zhfix_stream_changed(). */
static int fuzz_run_stream(const zhfix_ctx *ctx, const fuzz_input *in, fuzz_sink *k,
                           int *changed)
{
    memset(k, 0, sizeof *k);
    zhfix_stream *s = zhfix_stream_new(ctx, fuzz_sink_fn, k);
    if (!s)
        abort();
    uint32_t st = in->seed;
    int rc = ZHFIX_OK;
    for (size_t pos = 0; pos < in->len && rc == ZHFIX_OK;) {
        size_t n = fuzz_next_chunk(in, &st, in->len - pos);
        rc = zhfix_stream_feed(s, in->payload + pos, n);
        pos += n;
    }
    if (rc == ZHFIX_OK)
        rc = zhfix_stream_end(s);
    if (rc == ZHFIX_OK) {
        FUZZ_ASSERT(zhfix_stream_bytes_in(s) == in->len, "bytes_in %zu, fed %zu",
                    zhfix_stream_bytes_in(s), in->len);
        FUZZ_ASSERT(zhfix_stream_bytes_out(s) == k->out_len, "bytes_out %zu, sink got %zu",
                    zhfix_stream_bytes_out(s), k->out_len);
        size_t first = 0, nbad = zhfix_stream_bad_bytes(s, &first);
        FUZZ_ASSERT(nbad == 0 || first < in->len, "first bad byte %zu past the input (%zu)",
                    first, in->len);
        FUZZ_ASSERT(zhfix_stream_encoding(s) && *zhfix_stream_encoding(s), "no encoding name");
        /* after an end, the stream refuses more */
        FUZZ_ASSERT(zhfix_stream_feed(s, "x", 1) == ZHFIX_ESTATE, "feed after end accepted");
    }
    *changed = zhfix_stream_changed(s);
    snprintf(k->encoding, sizeof k->encoding, "%s", zhfix_stream_encoding(s));
    zhfix_stream_free(s);
    return rc;
}

/* With ZHFIX_FUZZ_DUMP=PREFIX in the environment, a failing comparison
 * writes both sides to PREFIX.NAME, to be diffed. */
static void fuzz_dump(const char *name, const char *p, size_t n)
{
    const char *prefix = getenv("ZHFIX_FUZZ_DUMP");
    if (!prefix || !*prefix)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s.%s", prefix, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(p, 1, n, f);
    fclose(f);
    fprintf(stderr, "wrote %s\n", path);
}

/* The one-shot repair must give what the chunked stream gave. */
static void fuzz_check_oneshot(const zhfix_ctx *ctx, const fuzz_input *in, int stream_rc,
                               const fuzz_sink *k)
{
    char *out = NULL;
    size_t out_len = 0;
    int rc = zhfix_repair(ctx, in->payload, in->len, &out, &out_len);
    if (fuzz_skip("chunked")) {
        free(out);
        return;
    }
    if (rc != stream_rc)
        fuzz_dump("input", (const char *)in->payload, in->len);
    FUZZ_ASSERT(rc == stream_rc, "one-shot status %d (%s), chunked stream %d (%s)", rc,
                zhfix_strerror(rc), stream_rc, zhfix_strerror(stream_rc));
    if (rc == ZHFIX_OK) {
        FUZZ_ASSERT(out && out[out_len] == '\0', "one-shot output not NUL-terminated");
        size_t i = 0;
        while (i < out_len && i < k->out_len && out[i] == k->out[i])
            i++;
        if (out_len != k->out_len || i != out_len) {
            fuzz_dump("input", (const char *)in->payload, in->len);
            fuzz_dump("oneshot", out, out_len);
            fuzz_dump("chunked", k->out, k->out_len);
            FUZZ_FAIL("chunked stream (%zu bytes) differs from one-shot (%zu bytes) at output "
                      "byte %zu",
                      k->out_len, out_len, i);
        }
    }
    free(out);
}

#endif /* FUZZ_COMMON_H */
