/*
 * test_units.c - unit tests for pieces worth testing alone.  Each check
 * names itself; the program prints "N passed, N failed" and exits non-zero
 * on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

static int passed, failed;

#define CHECK(id, cond)                                                   \
    do {                                                                  \
        if (cond) {                                                       \
            passed++;                                                     \
        } else {                                                          \
            failed++;                                                     \
            fprintf(stderr, "FAIL %s: %s (%s:%d)\n", id, #cond, __FILE__, \
                    __LINE__);                                            \
        }                                                                 \
    } while (0)

static void test_utf8(void)
{
    int32_t cp;
    CHECK("utf8-1", zf_utf8_next("\xe4\xb8\xad", 3, &cp) == 3 && cp == 0x4E2D);
    CHECK("utf8-2", zf_utf8_next("\xe4\xb8", 2, &cp) == 1 && cp == -1);
    CHECK("utf8-3", zf_utf8_next("\xc0\xaf", 2, &cp) == 1 && cp == -1); /* overlong */
    CHECK("utf8-4", zf_utf8_next("\xed\xa0\x80", 3, &cp) == 1 && cp == -1); /* surrogate */
    CHECK("utf8-5", zf_utf8_valid_prefix("abc\xe4\xb8\xad\xe4\xb8", 8) == 6);
    CHECK("utf8-6", zf_utf8_valid_prefix("0123456789abcdef\xff", 17) == 16);
    char out[4];
    CHECK("utf8-7", zf_utf8_put(0x20000, out) == 4 && memcmp(out, "\xf0\xa0\x80\x80", 4) == 0);
    CHECK("utf8-8", zf_is_han(0x4E2D) && !zf_is_han(0x3002) && zf_is_cjk_punct(0x3002));
}

static void test_rewriter(void)
{
    zf_buf out = {0};
    zf_edits ed = {0};
    zf_rw rw;
    const char *in = "ab,cd";
    zf_rw_init(&rw, in, 5, &out, &ed);
    zf_rw_replace(&rw, 2, 3, "\xef\xbc\x8c", 3, ZHFIX_EDIT_PUNCT);
    CHECK("rw-1", zf_rw_finish(&rw) == ZHFIX_OK);
    CHECK("rw-2", out.len == 7 && memcmp(out.p, "ab\xef\xbc\x8c" "cd", 7) == 0);
    zf_edits_finish(&ed);
    CHECK("rw-3", ed.n == 1 && ed.v[0].in_start == 2 && ed.v[0].in_end == 3 &&
                      ed.v[0].out_start == 2 && ed.v[0].out_end == 5);
    CHECK("rw-4", ed.v[0].before_len == 1 && ed.v[0].before[0] == ',');
    /* replacing behind the cursor is an error, not a silent overlap */
    zf_rw_init(&rw, in, 5, &out, &ed);
    zf_rw_copy(&rw, 4);
    zf_rw_replace(&rw, 2, 3, "x", 1, ZHFIX_EDIT_PUNCT);
    CHECK("rw-5", zf_rw_finish(&rw) == ZHFIX_EINVAL);
    zf_buf_free(&out);
    zf_edits_free(&ed);
}

/* ---- the stream and decoder, with every pass off ---------------------- */

static int collect(void *arg, const zhfix_chunk *c)
{
    return zf_buf_add(arg, c->output, c->output_len) == ZHFIX_OK ? 0 : -1;
}

/* Feed `in` in pieces of `step` bytes (0: all at once); returns the output. */
static zf_buf run_stream(const zhfix_ctx *ctx, const char *in, size_t len, size_t step,
                         int *rc, size_t *bad, size_t *bad_at)
{
    zf_buf out = {0};
    zhfix_stream *s = zhfix_stream_new(ctx, collect, &out);
    *rc = ZHFIX_OK;
    for (size_t i = 0; i < len && *rc == ZHFIX_OK;) {
        size_t n = step && step < len - i ? step : len - i;
        *rc = zhfix_stream_feed(s, in + i, n);
        i += n;
    }
    if (*rc == ZHFIX_OK)
        *rc = zhfix_stream_end(s);
    *bad = zhfix_stream_bad_bytes(s, bad_at);
    zhfix_stream_free(s);
    zf_buf_add(&out, "", 0);
    return out;
}

static void test_chunk_boundaries(void)
{
    zhfix_options opt;
    zhfix_options_init(&opt);
    opt.passes = 0;
    zhfix_ctx *ctx = zhfix_ctx_new(&opt, NULL);
    /* "中文，测试。\n混合" in UTF-8, GB18030 and UTF-16LE with BOM: every
     * split point, including inside a multibyte sequence, gives the same
     * text */
    static const char utf8[] = "\xe4\xb8\xad\xe6\x96\x87\xef\xbc\x8c\xe6\xb5\x8b"
                               "\xe8\xaf\x95\xe3\x80\x82\n\xe6\xb7\xb7\xe5\x90\x88";
    static const char gb[] = "\xd6\xd0\xce\xc4\xa3\xac\xb2\xe2\xca\xd4\xa1\xa3\n\xbb\xec\xba\xcf";
    static const char u16[] = "\xff\xfe\x2d\x4e\x87\x65\x0c\xff\x4b\x6d\xd5\x8b\x02\x30"
                              "\x0a\x00\xf7\x6d\x08\x54";
    const struct { const char *id, *in; size_t len; } cases[] = {
        {"chunk-utf8", utf8, sizeof utf8 - 1},
        {"chunk-gb18030", gb, sizeof gb - 1},
        {"chunk-utf16le", u16, sizeof u16 - 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t step = 0; step <= 5; step++) {
            int rc;
            size_t bad, at;
            zf_buf out = run_stream(ctx, cases[c].in, cases[c].len, step, &rc, &bad, &at);
            char id[64];
            snprintf(id, sizeof id, "%s-step%zu", cases[c].id, step);
            CHECK(id, rc == ZHFIX_OK && bad == 0 && out.len == sizeof utf8 - 1 &&
                          memcmp(out.p, utf8, out.len) == 0);
            zf_buf_free(&out);
        }
    }
    /* invalid vs truncated: a stray 0xFF in UTF-8 is one U+FFFD, reported at
     * its offset; a sequence cut off by the end of input is undecodable too,
     * but only at the end, not at a chunk boundary */
    {
        int rc;
        size_t bad, at;
        /* 中文中文 0xFF \n 中文 and the first two bytes of 中 */
        static const char in[] = "\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87\xff\n"
                                 "\xe4\xb8\xad\xe6\x96\x87\xe4\xb8";
        static const char want[] = "\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87"
                                   "\xef\xbf\xbd\n\xe4\xb8\xad\xe6\x96\x87\xef\xbf\xbd\xef\xbf\xbd";
        zf_buf out = run_stream(ctx, in, sizeof in - 1, 1, &rc, &bad, &at);
        CHECK("bad-1", rc == ZHFIX_OK && bad == 3 && at == 12);
        CHECK("bad-2", out.len == sizeof want - 1 && memcmp(out.p, want, out.len) == 0);
        zf_buf_free(&out);
    }
    /* NUL bytes that are not UTF-16/32 text: binary, refused */
    {
        int rc;
        size_t bad, at;
        zf_buf out = run_stream(ctx, "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00",
                                20, 0, &rc, &bad, &at);
        CHECK("binary-1", rc == ZHFIX_EBINARY && out.len == 0);
        zf_buf_free(&out);
    }
    zhfix_ctx_free(ctx);
}

/* zhfix_stream_changed() is exact: UTF-8 read as GB18030 and repaired back
 * to its own bytes is unchanged, however it is fed; the same sentences in
 * GB18030 are changed (re-encoded), and so is UTF-8 that the repair gives
 * back with one more edit (the punct pass makes its ',' a '，'). */
static void test_changed(void)
{
    zhfix_options opt;
    zhfix_options_init(&opt);
    opt.from = "GB18030";
    zhfix_ctx *ctx = zhfix_ctx_new(&opt, NULL);
    /* 它们易于理解 and 然后按回车键 */
    static const char utf8[] = "\xe5\xae\x83\xe4\xbb\xac\xe6\x98\x93\xe4\xba\x8e"
                               "\xe7\x90\x86\xe8\xa7\xa3\n\xe7\x84\xb6\xe5\x90\x8e"
                               "\xe6\x8c\x89\xe5\x9b\x9e\xe8\xbd\xa6\xe9\x94\xae\n";
    static const char gb[] = "\xcb\xfc\xc3\xc7\xd2\xd7\xd3\xda\xc0\xed\xbd\xe2\n"
                             "\xc8\xbb\xba\xf3\xb0\xb4\xbb\xd8\xb3\xb5\xbc\xfc\n";
    /* 它们易于,理解 */
    static const char comma[] = "\xe5\xae\x83\xe4\xbb\xac\xe6\x98\x93\xe4\xba\x8e"
                                ",\xe7\x90\x86\xe8\xa7\xa3\n";
    const struct { const char *id, *in; size_t len; int want; } cases[] = {
        {"changed-utf8-as-gb18030", utf8, sizeof utf8 - 1, 0},
        {"changed-gb18030", gb, sizeof gb - 1, 1},
        {"changed-utf8-comma", comma, sizeof comma - 1, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t step = 0; step <= 3; step += 3) {
            zf_buf out = {0};
            zhfix_stream *s = zhfix_stream_new(ctx, collect, &out);
            int rc = ZHFIX_OK;
            for (size_t i = 0; i < cases[c].len && rc == ZHFIX_OK;) {
                size_t n = step && step < cases[c].len - i ? step : cases[c].len - i;
                rc = zhfix_stream_feed(s, cases[c].in + i, n);
                i += n;
            }
            if (rc == ZHFIX_OK)
                rc = zhfix_stream_end(s);
            int differs = out.len != cases[c].len || memcmp(out.p, cases[c].in, out.len) != 0;
            char id[64];
            snprintf(id, sizeof id, "%s-step%zu", cases[c].id, step);
            CHECK(id, rc == ZHFIX_OK && differs == cases[c].want &&
                          zhfix_stream_changed(s) == cases[c].want);
            zhfix_stream_free(s);
            zf_buf_free(&out);
        }
    }
    zhfix_ctx_free(ctx);
}

/* Toward Traditional the document's own spelling is read from every piece
 * so far: 游標 in the first line keeps the 游 of 游标 in the last, more
 * than a piece (64 KiB) away, as it does in a short document. */
static void test_spelling_across_pieces(void)
{
    zhfix_options opt;
    zhfix_options_init(&opt);
    opt.script = ZHFIX_SCRIPT_HANT;
    opt.passes = ZHFIX_PASS_SCRIPT;
    zhfix_ctx *ctx = zhfix_ctx_new(&opt, NULL);
    static const char first[] = "\xe8\xab\x8b\xe4\xbd\xbf\xe7\x94\xa8\xe6\xb8\xb8"
                                "\xe6\xa8\x99\xe9\x8d\xb5\xe3\x80\x82\n"; /* 請使用游標鍵。 */
    static const char fill[] = "\xe9\x80\x99\xe6\x98\xaf\xe4\xb8\x80\xe8\xa1\x8c"
                               "\xe3\x80\x82\n"; /* 這是一行。 */
    static const char last[] = "\xe7\xa7\xbb\xe5\x8a\xa8\xe6\xb8\xb8\xe6\xa0\x87"
                               "\xe3\x80\x82\n"; /* 移动游标。 */
    static const char want[] = "\xe7\xa7\xbb\xe5\x8b\x95\xe6\xb8\xb8\xe6\xa8\x99"
                               "\xe3\x80\x82\n"; /* 移動游標。 */
    for (size_t nfill = 0; nfill <= 6000; nfill += 6000) {
        zf_buf in = {0};
        zf_buf_add(&in, first, sizeof first - 1);
        for (size_t k = 0; k < nfill; k++)
            zf_buf_add(&in, fill, sizeof fill - 1);
        zf_buf_add(&in, last, sizeof last - 1);
        char *out = NULL;
        size_t out_len = 0;
        int rc = zhfix_repair(ctx, in.p, in.len, &out, &out_len);
        char id[64];
        snprintf(id, sizeof id, "spelling-fill%zu", nfill);
        CHECK(id, rc == ZHFIX_OK && in.len > (nfill ? (size_t)80 << 10 : 0) &&
                      out_len >= sizeof want - 1 &&
                      memcmp(out + out_len - (sizeof want - 1), want, sizeof want - 1) == 0);
        free(out);
        zf_buf_free(&in);
    }
    zhfix_ctx_free(ctx);
}

/* The word model (lm_words.c): exact costs of a few spans, so a change of
 * the table or the scorer shows; 文档 is a word and 的档 is not, and the
 * Traditional span costs what its Simplified twin does. */
static int words_cost_utf8(const char *s)
{
    int32_t cp[64];
    size_t n = 0, i = 0, len = strlen(s);
    while (i < len && n < 64)
        i += (size_t)zf_utf8_next(s + i, len - i, &cp[n++]);
    return zf_lm_words_cost(cp, n);
}

static void test_lm_words(void)
{
    CHECK("words-1", words_cost_utf8("该文档被后来") == 506);
    CHECK("words-2", words_cost_utf8("该的档被后来") == 548);
    CHECK("words-3", words_cost_utf8("該文檔被後來") == 506);
    CHECK("words-4", words_cost_utf8("控制台") == 202 && words_cost_utf8("控制糖") == 263);
    CHECK("words-5", words_cost_utf8("") == 0);
}

/* zf_readings_of() lists what zf_readings_has() finds: 行 is xíng and
 * háng, 中 zhōng and zhòng; over the first 2,000 characters of the URO,
 * each listed syllable is a reading and no unlisted one is. */
static void test_readings(void)
{
    int r[16], xing = zf_pinyin_syllable("xíng", strlen("xíng")),
               hang = zf_pinyin_syllable("háng", strlen("háng"));
    int n = zf_readings_of(0x884C, r, 16), has_x = 0, has_h = 0;
    for (int i = 0; i < n && i < 16; i++) {
        has_x |= r[i] == xing;
        has_h |= r[i] == hang;
    }
    CHECK("readings-1", xing >= 0 && hang >= 0 && has_x && has_h);
    CHECK("readings-2", zf_readings_of(0x4E2D, r, 16) >= 2 && zf_readings_of(0x41, r, 16) == 0);
    int bad = 0;
    for (int32_t cp = 0x4E00; cp < 0x4E00 + 2000; cp++) {
        n = zf_readings_of(cp, r, 16);
        int distinct = 0;
        for (int i = 0; i < n && i < 16; i++) {
            int seen = 0;
            for (int j = 0; j < i; j++)
                seen |= r[j] == r[i];
            distinct += !seen;
            bad += r[i] < 0 || r[i] >= ZF_SYL_IDS || !zf_readings_has(cp, r[i]);
        }
        int found = 0;
        for (int syl = 0; syl < ZF_SYL_IDS; syl++)
            found += zf_readings_has(cp, syl);
        bad += n > 16 || found != distinct;
    }
    CHECK("readings-3", bad == 0);
}

/* zf_lm_followers() lists exactly the characters zf_lm_pair_bonus() knows
 * after a character: 近 after 最 (最近), none after an ASCII letter. */
static void test_lm_followers(void)
{
    int32_t f[1024];
    size_t n = zf_lm_followers(0x6700 /* 最 */, f, 1024);
    int has = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        has |= f[i] == 0x8FD1; /* 近 */
        bad += zf_lm_pair_bonus(0x6700, f[i]) <= 0;
    }
    CHECK("followers-1", n > 0 && n < 1024 && has && bad == 0);
    CHECK("followers-2", zf_lm_followers('a', f, 1024) == 0);
    /* and every pair the model knows is listed, in Simplified forms (a
     * Traditional one is looked up as its Simplified twin): the first
     * 2,000 characters of the URO after 最 */
    size_t missing = 0;
    for (int32_t cp = 0x4E00; cp < 0x4E00 + 2000; cp++) {
        if (zf_lm_pair_bonus(0x6700, cp) <= 0 || zf_lm_script(cp) == ZF_LM_TRAD)
            continue;
        int in = 0;
        for (size_t i = 0; i < n && !in; i++)
            in = f[i] == cp;
        missing += !in;
    }
    CHECK("followers-3", missing == 0);
}

int main(void)
{
    test_utf8();
    test_rewriter();
    test_chunk_boundaries();
    test_changed();
    test_spelling_across_pieces();
    test_lm_words();
    test_readings();
    test_lm_followers();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
