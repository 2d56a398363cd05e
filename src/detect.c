/*
 * detect.c - which encoding a stream is in.
 *
 * In order: a byte order mark decides; the caller's --from decides; NUL
 * bytes mean UTF-16/32 or binary; valid UTF-8 is UTF-8 (a sequence cut off
 * by the sample's end does not count against it).  Otherwise uchardet gives
 * its guess, which is weak on short text (about half of 8-30 character
 * snippets in GB18030, Big5 or UTF-16 without BOM come out wrong), so its
 * answer is only one candidate: every candidate that decodes the sample
 * cleanly is scored by how common its characters are (zf_text_cost), and
 * the most plausible reading wins.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet.h>

#include "zf.h"

static void set(zf_detection *det, zf_enc_kind kind, const char *name, const char *label)
{
    det->kind = kind;
    snprintf(det->name, sizeof det->name, "%s", name);
    snprintf(det->label, sizeof det->label, "%s", label);
}

static int bom(const unsigned char *s, size_t n, zf_detection *det)
{
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        set(det, ZF_ENC_UTF8, "UTF-8", "UTF-8");
        det->bom = 3;
    } else if (n >= 4 && s[0] == 0xFF && s[1] == 0xFE && s[2] == 0 && s[3] == 0) {
        set(det, ZF_ENC_WIDE, "UTF-32LE", "UTF-32LE");
        det->bom = 4;
    } else if (n >= 4 && s[0] == 0 && s[1] == 0 && s[2] == 0xFE && s[3] == 0xFF) {
        set(det, ZF_ENC_WIDE, "UTF-32BE", "UTF-32BE");
        det->bom = 4;
    } else if (n >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        set(det, ZF_ENC_WIDE, "UTF-16LE", "UTF-16LE");
        det->bom = 2;
    } else if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        set(det, ZF_ENC_WIDE, "UTF-16BE", "UTF-16BE");
        det->bom = 2;
    } else {
        return 0;
    }
    return 1;
}

/* uchardet's names, as iconv and the user should see them.  GB2312 and GBK
 * are read as GB18030 (a superset); Big5 as CP950 (Big5 with the Microsoft
 * extensions that real files use). */
static void normalise(const char *in, char *name, char *label, size_t size)
{
    if (!strcasecmp(in, "GB2312") || !strcasecmp(in, "GBK") || !strcasecmp(in, "GB18030")) {
        snprintf(name, size, "GB18030");
        snprintf(label, size, "GB18030");
    } else if (!strcasecmp(in, "BIG5") || !strcasecmp(in, "BIG5-HKSCS")) {
        snprintf(name, size, "CP950");
        snprintf(label, size, "BIG5");
    } else {
        snprintf(name, size, "%s", in);
        snprintf(label, size, "%s", in);
    }
}

/*
 * uchardet is loaded on first need, not linked: it is C++, and linking it
 * made every run load and relocate libstdc++, 87% of the instructions of a
 * run on a 1 KB file (callgrind), though only input that is neither valid
 * UTF-8 nor marked by a byte order mark ever asks it.  Its header still
 * gives the prototypes, so a changed interface fails to compile.  Without
 * the library (dlopen fails) its guess is simply missing: the fixed
 * candidates below are scored as always.
 */
#ifndef ZF_UCHARDET_SONAME
#define ZF_UCHARDET_SONAME "libuchardet.so.0"
#endif

static struct {
    __typeof__(uchardet_new) *new_;
    __typeof__(uchardet_handle_data) *handle_data;
    __typeof__(uchardet_data_end) *data_end;
    __typeof__(uchardet_get_charset) *get_charset;
    __typeof__(uchardet_delete) *delete_;
} ucd;
static pthread_once_t ucd_once = PTHREAD_ONCE_INIT;

static void ucd_load(void)
{
    void *h = dlopen(ZF_UCHARDET_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    /* dlsym returns an object pointer; POSIX guarantees that converting it
     * to a function pointer works, memcpy says so without a cast warning */
    void *f[5] = {dlsym(h, "uchardet_new"), dlsym(h, "uchardet_handle_data"),
                  dlsym(h, "uchardet_data_end"), dlsym(h, "uchardet_get_charset"),
                  dlsym(h, "uchardet_delete")};
    for (int i = 0; i < 5; i++)
        if (!f[i]) {
            dlclose(h);
            return;
        }
    memcpy(&ucd.handle_data, &f[1], sizeof f[1]);
    memcpy(&ucd.data_end, &f[2], sizeof f[2]);
    memcpy(&ucd.get_charset, &f[3], sizeof f[3]);
    memcpy(&ucd.delete_, &f[4], sizeof f[4]);
    memcpy(&ucd.new_, &f[0], sizeof f[0]);
}

/* uchardet's guess for s[0..n) in name/label, or "" */
static void ucd_guess(const char *s, size_t n, char *name, char *label, size_t size)
{
    pthread_once(&ucd_once, ucd_load);
    if (!ucd.new_)
        return;
    uchardet_t ud = ucd.new_();
    if (!ud)
        return;
    if (ucd.handle_data(ud, s, n) == 0) {
        ucd.data_end(ud);
        const char *g = ucd.get_charset(ud);
        if (g && *g && strcasecmp(g, "ASCII") && strcasecmp(g, "UTF-8"))
            normalise(g, name, label, size);
    }
    ucd.delete_(ud);
}

struct cand {
    const char *name, *label;
    zf_enc_kind kind;
};

static const struct cand fixed[] = {
    {"GB18030", "GB18030", ZF_ENC_LEGACY},
    {"CP950", "BIG5", ZF_ENC_LEGACY},
    {"UTF-16LE", "UTF-16LE", ZF_ENC_WIDE},
    {"UTF-16BE", "UTF-16BE", ZF_ENC_WIDE},
};

/* Total cost of the sample read as enc (lower is more plausible), or -1
 * when it does not decode cleanly; *avg receives the cost per character.
 * Totals, not averages, are compared: each is (about) the number of bits a
 * model of text needs for the same bytes read one way or the other, so a
 * reading that makes two Latin letters of every Han character pays for
 * both. */
static double score(const char *enc, const char *s, size_t n, int partial, zf_buf *scratch,
                    double *avg)
{
    scratch->len = 0;
    long bad = zf_decode_strict(enc, s, n, partial, scratch);
    if (bad != 0 || scratch->len == 0)
        return -1;
    size_t chars;
    long cost = zf_text_cost(scratch->p, scratch->len, &chars);
    *avg = chars ? (double)cost / (double)chars : 0;
    return (double)cost;
}

/* A reading must average better than this to be text at all. */
#define MAX_TEXT_COST 170.0

int zf_detect(const char *s, size_t n, int final, const char *forced, zf_detection *det)
{
    memset(det, 0, sizeof *det);
    if (forced) {
        /* The caller's encoding, but its own byte order mark is still a
         * mark, not a character (iconv's plain "UTF-16" handles its own). */
        zf_detection b;
        memset(&b, 0, sizeof b);
        int has_bom = bom((const unsigned char *)s, n, &b);
        if (!strcasecmp(forced, "UTF-8") || !strcasecmp(forced, "UTF8"))
            set(det, ZF_ENC_UTF8, "UTF-8", "UTF-8");
        else
            set(det, ZF_ENC_LEGACY, forced, forced);
        if (has_bom && !strcasecmp(det->name, b.name))
            det->bom = b.bom;
        det->strict = 1;
        return ZHFIX_OK;
    }
    if (bom((const unsigned char *)s, n, det)) {
        /* U+0000 is text in no encoding: a marked sample with one is
         * binary, as an unmarked one is (written as UTF-8, without the
         * mark, it made the next run refuse what this one repaired) */
        size_t unit = det->bom == 3 ? 1 : det->bom;
        for (size_t i = det->bom; i + unit <= n; i += unit) {
            size_t k = 0;
            while (k < unit && s[i + k] == 0)
                k++;
            if (k == unit)
                return ZHFIX_EBINARY;
        }
        return ZHFIX_OK;
    }
    int partial = !final;
    /* A sample cut from a longer input ends inside a line (perhaps inside a
     * character): judge the complete lines only, where there are some. */
    if (partial) {
        size_t e = n;
        while (e > 0 && s[e - 1] != '\n')
            e--;
        if (e > 0) {
            n = e;
            partial = 0;
        }
    }
    int has_nul = memchr(s, 0, n) != NULL;
    size_t valid = zf_utf8_valid_prefix(s, n);
    /* valid UTF-8, but perhaps for a character cut by the sample's end */
    int utf8 = valid == n || (partial && n - valid < 4 && n - valid > 0 &&
                              zf_utf8_valid_prefix(s + valid, n - valid) == 0 &&
                              (unsigned char)s[valid] >= 0xC2);
    if (!has_nul && utf8) {
        set(det, ZF_ENC_UTF8, "UTF-8", "UTF-8");
        return ZHFIX_OK;
    }

    zf_buf scratch = {0};
    double best = -1, best_avg = 0, avg = 0;
    const char *best_name = NULL, *best_label = NULL;
    zf_enc_kind best_kind = ZF_ENC_LEGACY;
    char uname[32] = "", ulabel[32] = "";

    /* Lines that are valid UTF-8 are read as UTF-8 whatever the document's
     * encoding (the decoder keeps them), so the legacy candidates are
     * judged on the other lines only: a file mixing UTF-8 and GB18030 lines
     * is a GB18030 document with UTF-8 lines, or the reverse. */
    zf_buf rest = {0};
    const char *ls = s;
    size_t ln = n;
    if (!has_nul) {
        size_t lines = 0, utf8_lines = 0;
        for (size_t i = 0; i < n;) {
            const char *nl = memchr(s + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - s) + 1 : n;
            int high = 0;
            for (size_t k = i; k < e && !high; k++)
                high = (unsigned char)s[k] >= 0x80;
            if (high) {
                lines++;
                if (zf_utf8_valid_prefix(s + i, e - i) == e - i)
                    utf8_lines++;
                else if (zf_buf_add(&rest, s + i, e - i) != ZHFIX_OK)
                    return ZHFIX_ENOMEM;
            }
            i = e;
        }
        if (utf8_lines * 2 >= lines) {
            zf_buf_free(&rest);
            set(det, ZF_ENC_UTF8, "UTF-8", "UTF-8");
            return ZHFIX_OK;
        }
        if (rest.len) {
            ls = rest.p;
            ln = rest.len;
        }
        /* UTF-8 with a few damaged bytes is a reading too (they become
         * U+FFFD and are reported): `Hello 世界` and a truncated 中 is
         * that, not the GB18030 `Hello 涓栫晫涓` */
        size_t nc;
        best = (double)zf_utf8_lenient_cost(ls, ln, &nc);
        best_avg = nc ? best / (double)nc : 0;
        best_name = best_label = "UTF-8";
        best_kind = ZF_ENC_UTF8;
        ucd_guess(ls, ln, uname, ulabel, sizeof uname);
        if (*uname && zf_encoding_known(uname)) {
            double sc = score(uname, ls, ln, partial, &scratch, &avg);
            /* uchardet's own answer gets a small head start */
            if (sc >= 0 && sc * 0.97 < best) {
                best = sc * 0.97;
                best_avg = avg;
                best_name = uname;
                best_label = ulabel;
            }
        }
    }
    /* Valid UTF-8 with NUL bytes is no UTF-16: Chinese in UTF-16 is valid
     * UTF-8 only by chance, a few characters at most (中 is 4E 2D in
     * UTF-16BE; most units have a byte of 0x80 or more that is no UTF-8),
     * while valid UTF-8 with NUL is what zhfix itself writes for a NUL read
     * with --from, and read as UTF-16 it became garbage: `a\0b\n` as a and
     * U+0A62 with its line lost, `a\x06\0\n` as 愆, `\0V8n...a\n\0` as
     * 嘀游啛뿯... (the fuzzer's idempotence property).  It is binary, like
     * UTF-16 with nothing but ASCII in it and no byte order mark. */
    int wide_ok = !(has_nul && utf8);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (has_nul && fixed[i].kind != ZF_ENC_WIDE)
            continue;
        if (fixed[i].kind == ZF_ENC_WIDE && !wide_ok)
            continue;
        if (has_nul == 0 && fixed[i].kind == ZF_ENC_WIDE && n % 2 && final)
            continue;
        int wide = fixed[i].kind == ZF_ENC_WIDE;
        double sc = score(fixed[i].name, wide ? s : ls, wide ? n : ln, partial, &scratch, &avg);
        if (sc >= 0 && (best < 0 || sc < best)) {
            best = sc;
            best_avg = avg;
            best_name = fixed[i].name;
            best_label = fixed[i].label;
            best_kind = fixed[i].kind;
        }
    }
    zf_buf_free(&scratch);
    zf_buf_free(&rest);
    if (!best_name || best_avg > MAX_TEXT_COST) {
        /* No reading is clean and plausible.  Text that is UTF-8 but for a
         * few broken bytes is still UTF-8 (they become U+FFFD and are
         * reported); anything else is not text. */
        size_t high = 0, invalid = 0;
        for (size_t i = 0; i < n && !has_nul;) {
            size_t v = zf_utf8_valid_prefix(s + i, n - i);
            for (size_t k = i; k < i + v; k++)
                high += (unsigned char)s[k] >= 0x80;
            i += v;
            if (i < n) {
                high++;
                invalid++;
                i++;
            }
        }
        if (has_nul || invalid * 4 > high)
            return ZHFIX_EBINARY;
        set(det, ZF_ENC_UTF8, "UTF-8", "UTF-8");
        return ZHFIX_OK;
    }
    if (best_name == uname) {
        char name[32], label[32];
        snprintf(name, sizeof name, "%s", uname);
        snprintf(label, sizeof label, "%s", ulabel);
        set(det, ZF_ENC_LEGACY, name, label);
    } else {
        set(det, best_kind, best_name, best_label);
    }
    return ZHFIX_OK;
}
