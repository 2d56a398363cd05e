/*
 * fuzz_decode.c - libFuzzer harness for the detector and the decoder: the
 * public stream with every repair pass off (opt.passes = 0), fed in chunks
 * whose sizes come from the data, so chunk boundaries fall inside
 * multibyte sequences, byte order marks, line ends and UTF-16 code units.
 * Byte 0 bit 6 (see fuzz_common.h) repeats the payload past the 64 KiB
 * detection sample, so the decoder itself sees the boundaries.
 *
 * Properties, each an abort() when violated:
 *  - no crash, leak or undefined behaviour;
 *  - the chunk/edit contract and valid UTF-8 output (fuzz_common.h), and no
 *    edits at all, since no pass runs;
 *  - chunked stream == one-shot zhfix_repair();
 *  - zhfix_stream_changed() says whether the output differs from the input;
 *  - valid UTF-8 without NUL or BOM passes through byte for byte (the
 *    decoder's fast path must not touch clean input);
 *  - with a forced --from=UTF-8 the output is the input with each byte that
 *    is not part of a valid sequence replaced by one U+FFFD, and each is
 *    counted by zhfix_stream_bad_bytes();
 *  - nothing lost: a document decoded whole as GB18030 or UTF-16/32 with no
 *    bad bytes encodes back (zhfix_encoder) to exactly its input bytes,
 *    less the byte order mark and the U+FEFF that start the text (the
 *    stream drops them: written first, each would be a mark to the next
 *    reader);
 *  - bad bytes reported means U+FFFD in the output.
 */
#include <strings.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* which harness this is, for fuzz/replay.c and its known-failing list */
extern const char zhfix_fuzz_harness[];
const char zhfix_fuzz_harness[] = "decode";

/* The input with every byte outside a valid UTF-8 sequence replaced by
 * U+FFFD (the decoder's documented policy); *nbad gets their number. */
static char *lenient_utf8(const unsigned char *s, size_t len, size_t *out_len, size_t *nbad)
{
    char *o = malloc(len * 3 + 1);
    if (!o)
        abort();
    size_t n = 0, bad = 0;
    for (size_t i = 0; i < len;) {
        size_t v = fuzz_utf8_check(s + i, len - i);
        memcpy(o + n, s + i, v);
        n += v;
        i += v;
        if (i < len) {
            memcpy(o + n, "\xEF\xBF\xBD", 3);
            n += 3;
            bad++;
            i++;
        }
    }
    *out_len = n;
    *nbad = bad;
    return o;
}

static int has_replacement(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++)
        if (memcmp(s + i, "\xEF\xBF\xBD", 3) == 0)
            return 1;
    return 0;
}

static size_t bom_len(const unsigned char *s, size_t n)
{
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    if (n >= 4 && ((s[0] == 0xFF && s[1] == 0xFE && !s[2] && !s[3]) ||
                   (!s[0] && !s[1] && s[2] == 0xFE && s[3] == 0xFF)))
        return 4;
    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return 2;
    return 0;
}

/* The encoding a byte order mark names (as detect.c spells it), or "". */
static const char *bom_name(const unsigned char *s, size_t n)
{
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return "UTF-8";
    if (n >= 4 && s[0] == 0xFF && s[1] == 0xFE && !s[2] && !s[3])
        return "UTF-32LE";
    if (n >= 4 && !s[0] && !s[1] && s[2] == 0xFE && s[3] == 0xFF)
        return "UTF-32BE";
    if (n >= 2 && s[0] == 0xFF && s[1] == 0xFE)
        return "UTF-16LE";
    if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF)
        return "UTF-16BE";
    return "";
}

/* Encode the output back to enc and compare it with the raw input. */
static void check_round_trip(const char *enc, const fuzz_input *in, const fuzz_sink *k)
{
    size_t skip = bom_len(in->payload, in->len);
    /* a forced encoding skips only its own byte order mark */
    if (in->opt.from && skip && strcasecmp(in->opt.from, bom_name(in->payload, in->len)) != 0)
        skip = 0;
    int st;
    zhfix_encoder *e = zhfix_encoder_new(enc, &st);
    FUZZ_ASSERT(e, "no encoder for %s: %s", enc, zhfix_strerror(st));
    char *back = NULL;
    size_t back_len = 0, back_cap = 0, bad = 0;
    /* then U+FEFF in enc, as often as the text starts with it */
    int rc = zhfix_encoder_run(e, "\xEF\xBB\xBF", 3, &back, &back_len, &back_cap, &bad);
    FUZZ_ASSERT(rc == ZHFIX_OK && back_len > 0, "U+FEFF does not encode to %s", enc);
    while (back_len && in->len - skip >= back_len && memcmp(in->payload + skip, back, back_len) == 0)
        skip += back_len;
    back_len = 0;
    rc = zhfix_encoder_run(e, k->out, k->out_len, &back, &back_len, &back_cap, &bad);
    FUZZ_ASSERT(rc == ZHFIX_OK, "decoded %s does not encode back: %s at output byte %zu", enc,
                zhfix_strerror(rc), bad);
    size_t i = 0;
    while (i < back_len && skip + i < in->len && back[i] == (char)in->payload[skip + i])
        i++;
    FUZZ_ASSERT(back_len == in->len - skip && i == back_len,
                "%s lost bytes: re-encoded output (%zu bytes) differs from input (%zu bytes) "
                "at input byte %zu",
                enc, back_len, in->len - skip, skip + i);
    free(back);
    zhfix_encoder_free(e);
}

static void check_changed(const fuzz_input *in, const fuzz_sink *k, int changed)
{
    if (fuzz_skip("changed"))
        return;
    int differs = k->out_len != in->len || (in->len && memcmp(k->out, in->payload, in->len) != 0);
    FUZZ_ASSERT(!differs || changed, "output differs from input but changed() is 0");
    FUZZ_ASSERT(differs || !changed, "changed() is %d but output equals input", changed);
}

/* What the decoder promises about its output k for input in. */
static void check_decoded(const fuzz_input *in, const fuzz_sink *k, size_t nbad,
                          const char *encoding)
{
    int has_nul = in->len && memchr(in->payload, 0, in->len) != NULL;
    int valid = fuzz_utf8_check(in->payload, in->len) == in->len;
    int differs = k->out_len != in->len || (in->len && memcmp(k->out, in->payload, in->len) != 0);
    if (!in->opt.from && valid && !has_nul && bom_len(in->payload, in->len) == 0 &&
        !fuzz_skip("passthrough"))
        FUZZ_ASSERT(!differs && nbad == 0 && strcmp(encoding, "UTF-8") == 0,
                    "clean UTF-8 input not passed through (encoding %s, %zu bad bytes)",
                    encoding, nbad);

    if (in->opt.from && strcmp(in->opt.from, "UTF-8") == 0 && !fuzz_skip("lenient")) {
        size_t want_len, want_bad;
        char *want = lenient_utf8(in->payload, in->len, &want_len, &want_bad);
        /* less the byte order mark and the U+FEFF after it */
        size_t marks = 0;
        while (want_len - marks >= 3 && memcmp(want + marks, "\xEF\xBB\xBF", 3) == 0)
            marks += 3;
        memmove(want, want + marks, want_len - marks);
        want_len -= marks;
        size_t i = 0;
        while (i < want_len && i < k->out_len && want[i] == k->out[i])
            i++;
        FUZZ_ASSERT(want_len == k->out_len && i == want_len,
                    "--from=UTF-8: output differs from lenient UTF-8 at byte %zu", i);
        FUZZ_ASSERT(nbad == want_bad, "--from=UTF-8: %zu bad bytes reported, %zu present", nbad,
                    want_bad);
        free(want);
    }

    if (nbad > 0)
        FUZZ_ASSERT(has_replacement(k->out, k->out_len),
                    "%zu bad bytes reported but no U+FFFD in the output", nbad);

    if (nbad == 0 && !fuzz_skip("roundtrip")) {
        static const char *const lossless[] = {"GB18030", "UTF-16LE", "UTF-16BE", "UTF-32LE",
                                               "UTF-32BE"};
        for (size_t i = 0; i < sizeof lossless / sizeof lossless[0]; i++)
            if (strcmp(encoding, lossless[i]) == 0)
                check_round_trip(lossless[i], in, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    if (!fuzz_input_parse(&in, data, size))
        return 0;
    in.opt.passes = 0;
    int st;
    zhfix_ctx *ctx = zhfix_ctx_new(&in.opt, &st);
    FUZZ_ASSERT(ctx, "zhfix_ctx_new refused valid options: %s", zhfix_strerror(st));

    fuzz_sink k;
    int changed;
    int rc = fuzz_run_stream(ctx, &in, &k, &changed);
    fuzz_check_oneshot(ctx, &in, rc, &k);

    if (rc == ZHFIX_OK) {
        FUZZ_ASSERT(k.edits == 0, "%zu edits with every pass off", k.edits);
        check_changed(&in, &k, changed);
        /* the decoder's own properties, on a stream fed in one piece (so
         * they hold whatever the chunked comparison says) */
        fuzz_sink w;
        memset(&w, 0, sizeof w);
        zhfix_stream *s = zhfix_stream_new(ctx, fuzz_sink_fn, &w);
        if (!s)
            abort();
        int rc2 = zhfix_stream_feed(s, in.payload, in.len);
        if (rc2 == ZHFIX_OK)
            rc2 = zhfix_stream_end(s);
        /* the one-shot repair gave rc; only with the comparison skipped
         * may a stream fed in one piece disagree */
        FUZZ_ASSERT(rc2 == ZHFIX_OK || fuzz_skip("chunked"), "whole-input stream failed: %s",
                    zhfix_strerror(rc2));
        size_t first_bad = 0, nbad = zhfix_stream_bad_bytes(s, &first_bad);
        char encoding[64];
        snprintf(encoding, sizeof encoding, "%s", zhfix_stream_encoding(s));
        if (rc2 == ZHFIX_OK)
            check_changed(&in, &w, zhfix_stream_changed(s));
        zhfix_stream_free(s);
        if (rc2 == ZHFIX_OK)
            check_decoded(&in, &w, nbad, encoding);
        free(w.out);
    } else {
        FUZZ_ASSERT(rc == ZHFIX_EBINARY || (rc == ZHFIX_EENCODING && in.opt.from),
                    "decode failed: %d (%s)", rc, zhfix_strerror(rc));
    }

    free(k.out);
    zhfix_ctx_free(ctx);
    fuzz_input_free(&in);
    return 0;
}
