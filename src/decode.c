/*
 * decode.c - raw bytes to UTF-8, through glibc iconv.
 *
 * Policy for malformed input: nothing is dropped silently.
 *  - UTF-8 documents are validated and passed through unchanged.  A line
 *    that is not valid UTF-8 is decoded with the legacy encoding that reads
 *    it cleanly and most plausibly (GB18030, Big5): files that mix
 *    encodings line by line come out whole.
 *  - Legacy documents (GB18030, Big5, ...) are decoded line by line, so a
 *    line that is valid UTF-8 can be kept as UTF-8 when that reading is the
 *    more plausible one, and an error cannot spread past its line.
 *  - Wide and stateful encodings (UTF-16/32, ISO-2022, HZ) are decoded as
 *    one stream.
 *  - Bytes that no candidate explains become U+FFFD, one per byte (per code
 *    unit for wide encodings), counted with the offset of the first, so the
 *    caller can refuse to write the result.
 *  - A sequence cut off by the end of the available input is held back
 *    until more input arrives (invalid vs truncated, like libiconv's
 *    RET_ILSEQ vs RET_TOOFEW); at the end of the stream it is undecodable.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "zf.h"

static const char *const fallbacks[2] = {"GB18030", "CP950"};

/* Average cost per character above which a fallback reading of a line is
 * not believed (common Chinese text averages about 100; see charfreq.c). */
#define MAX_FALLBACK_COST 140.0

int zf_encoding_known(const char *name)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

/* Convert in[0..*len) with cd, appending to out.  Returns 0 when all was
 * converted, EILSEQ or EINVAL at the first bad or truncated sequence (whose
 * offset is then *done), or ENOMEM. */
static int run_iconv(iconv_t cd, const char *in, size_t len, zf_buf *out, size_t *done)
{
    char *ip = (char *)in;
    size_t il = len;
    iconv(cd, NULL, NULL, NULL, NULL);
    while (il > 0) {
        if (zf_buf_reserve(out, il * 2 + 16) != ZHFIX_OK) {
            *done = len - il;
            return ENOMEM;
        }
        char *op = out->p + out->len;
        size_t ol = out->cap - out->len - 1;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        out->len = (size_t)(op - out->p);
        if (r == (size_t)-1 && errno != E2BIG) {
            int e = errno;
            *done = len - il;
            out->p[out->len] = '\0';
            return e == EINVAL ? EINVAL : EILSEQ;
        }
    }
    /* flush a stateful encoder's pending output */
    if (zf_buf_reserve(out, 16) == ZHFIX_OK) {
        char *op = out->p + out->len;
        size_t ol = out->cap - out->len - 1;
        iconv(cd, NULL, NULL, &op, &ol);
        out->len = (size_t)(op - out->p);
    }
    out->p[out->len] = '\0';
    *done = len;
    return 0;
}

long zf_decode_strict(const char *enc, const char *in, size_t len, int partial, zf_buf *out)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return -1;
    long bad = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t done;
        int e = run_iconv(cd, in + pos, len - pos, out, &done);
        pos += done;
        if (e == 0)
            break;
        if (e == ENOMEM) {
            bad = -1;
            break;
        }
        if (e == EINVAL && partial)
            break;
        bad++;
        pos++;
    }
    iconv_close(cd);
    return bad;
}

static int is_wide(const char *name)
{
    static const char *const prefixes[] = {"UTF-16", "UTF-32", "UCS-2", "UCS-4", "UTF-7",
                                           "ISO-2022", "HZ", "UTF16", "UTF32"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

int zf_decoder_open(zf_decoder *d, const zf_detection *det)
{
    memset(d, 0, sizeof *d);
    d->det = *det;
    d->cd = (void *)(iconv_t)-1;
    d->alt[0] = d->alt[1] = (void *)(iconv_t)-1;
    if (d->det.kind != ZF_ENC_UTF8 && is_wide(d->det.name))
        d->det.kind = ZF_ENC_WIDE;
    /* ASCII lines of a legacy document are copied as they are, so only a
     * byte order mark changes bytes from the start (a wide or stateful
     * encoding is compared as it decodes: decode_wide) */
    d->identity = det->bom == 0;
    if (d->det.kind != ZF_ENC_UTF8) {
        iconv_t cd = iconv_open("UTF-8", d->det.name);
        if (cd == (iconv_t)-1)
            return ZHFIX_EENCODING;
        d->cd = (void *)cd;
    }
    /* The fallbacks are opened on the first line that needs them (NULL:
     * not yet): each iconv_open loads a gconv module, which costs more
     * than the rest of a small clean file's start-up. */
    if (!d->det.strict && d->det.kind != ZF_ENC_WIDE)
        d->alt[0] = d->alt[1] = NULL;
    return ZHFIX_OK;
}

static iconv_t alt_cd(zf_decoder *d, int i)
{
    if (d->alt[i] == NULL)
        d->alt[i] = (void *)iconv_open("UTF-8", fallbacks[i]);
    return (iconv_t)d->alt[i];
}

void zf_decoder_close(zf_decoder *d)
{
    if ((iconv_t)d->cd != (iconv_t)-1)
        iconv_close((iconv_t)d->cd);
    for (int i = 0; i < 2; i++)
        if (d->alt[i] != NULL && (iconv_t)d->alt[i] != (iconv_t)-1)
            iconv_close((iconv_t)d->alt[i]);
    d->cd = d->alt[0] = d->alt[1] = (void *)(iconv_t)-1;
}

static int add_replacement(zf_decoder *d, zf_buf *out, size_t offset)
{
    if (d->bad++ == 0)
        d->bad_first = offset;
    d->identity = 0;
    return zf_buf_add(out, "\xEF\xBF\xBD", 3);
}

/* Decode with cd, one U+FFFD per byte it cannot read. */
static int decode_lenient(zf_decoder *d, iconv_t cd, const char *in, size_t len,
                          size_t off, zf_buf *out)
{
    size_t pos = 0;
    while (pos < len) {
        size_t done;
        int e = run_iconv(cd, in + pos, len - pos, out, &done);
        pos += done;
        if (e == 0)
            break;
        if (e == ENOMEM)
            return ZHFIX_ENOMEM;
        if (add_replacement(d, out, off + pos) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        pos++;
    }
    return ZHFIX_OK;
}

/* UTF-8 with one U+FFFD per invalid byte. */
static int utf8_lenient(zf_decoder *d, const char *in, size_t len, size_t off, zf_buf *out)
{
    size_t pos = 0;
    while (pos < len) {
        size_t v = zf_utf8_valid_prefix(in + pos, len - pos);
        if (zf_buf_add(out, in + pos, v) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        pos += v;
        if (pos < len) {
            if (add_replacement(d, out, off + pos) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            pos++;
        }
    }
    return ZHFIX_OK;
}

/* Try to decode one line strictly with cd; on success append it and return
 * its cost in *cost.  Leaves out unchanged on failure. */
static int try_line(iconv_t cd, const char *in, size_t len, zf_buf *out, long *cost,
                    size_t *nchars)
{
    size_t mark = out->len, done;
    if (cd == (iconv_t)-1)
        return 0;
    if (run_iconv(cd, in, len, out, &done) != 0) {
        out->len = mark;
        return 0;
    }
    *cost = zf_text_cost(out->p + mark, out->len - mark, nchars);
    return 1;
}

static int has_high_byte(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

/*
 * One line of a document whose main encoding is not its own reading, or is
 * in doubt.  Candidates: valid UTF-8 (as is), the document's encoding, the
 * fallbacks; the cleanly decoding one with the lowest cost wins, the
 * document's own reading on ties.
 */
static int decode_line(zf_decoder *d, const char *in, size_t len, size_t off, zf_buf *out)
{
    if (!has_high_byte(in, len))
        return zf_buf_add(out, in, len);
    int utf8_ok = zf_utf8_valid_prefix(in, len) == len;
    if (d->det.kind == ZF_ENC_UTF8 && utf8_ok)
        return zf_buf_add(out, in, len);
    if (d->det.strict) {
        if (d->det.kind == ZF_ENC_UTF8)
            return utf8_lenient(d, in, len, off, out);
        d->identity = 0;
        return decode_lenient(d, (iconv_t)d->cd, in, len, off, out);
    }
    /* candidates, each decoded into scratch space at the end of out */
    size_t mark = out->len;
    long best_cost = 0;
    int best = -1; /* -1 none, 0 utf8, 1 document, 2.. fallbacks */
    zf_buf scratch = {0};
    if (utf8_ok) {
        size_t n;
        best_cost = zf_text_cost(in, len, &n);
        best = 0;
    }
    /* A line the document's own encoding reads cleanly is that encoding's
     * unless it is also valid UTF-8 and reads better so; the fallbacks are
     * only for lines the document's encoding cannot read. */
    for (int i = 0; i < 3; i++) {
        if (i > 0 && best >= 0)
            break;
        long cost;
        size_t n;
        scratch.len = 0;
        iconv_t cd = i == 0 ? (iconv_t)d->cd : alt_cd(d, i - 1);
        if (!try_line(cd, in, len, &scratch, &cost, &n))
            continue;
        /* the lower total cost wins (see detect.c); ties keep the earlier */
        /* a fallback must read as real text on its own: broken UTF-8 read
         * as GB18030 is clean but made of rare characters */
        if (i > 0 && (double)cost > MAX_FALLBACK_COST * (double)(n ? n : 1))
            continue;
        if (best < 0 || cost < best_cost) {
            best = i + 1;
            best_cost = cost;
            out->len = mark;
            if (zf_buf_add(out, scratch.p, scratch.len) != ZHFIX_OK) {
                zf_buf_free(&scratch);
                return ZHFIX_ENOMEM;
            }
        }
    }
    zf_buf_free(&scratch);
    /* UTF-8 with a few damaged bytes (a sequence cut short) may read better
     * than any clean decoding: GB18030 reads almost any bytes cleanly, as
     * rare characters */
    if (best > 0 && !utf8_ok) {
        size_t n;
        if (zf_utf8_lenient_cost(in, len, &n) < best_cost) {
            out->len = mark;
            return utf8_lenient(d, in, len, off, out);
        }
    }
    if (best == 0) {
        out->len = mark;
        if (d->det.kind != ZF_ENC_UTF8)
            d->mixed = 1;
        return zf_buf_add(out, in, len);
    }
    if (best > 0) {
        int own = (best == 1 && d->det.kind != ZF_ENC_UTF8);
        if (!own)
            d->mixed = 1;
        d->identity = 0;
        return ZHFIX_OK;
    }
    /* nothing reads it cleanly: the document's own reading, with U+FFFD */
    if (d->det.kind == ZF_ENC_UTF8)
        return utf8_lenient(d, in, len, off, out);
    d->identity = 0;
    return decode_lenient(d, (iconv_t)d->cd, in, len, off, out);
}

/* Length of an incomplete but so far valid UTF-8 sequence at the end of
 * s[0..n), or 0. */
static size_t utf8_tail(const char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned c = (unsigned char)s[n - k];
        if ((c & 0xC0) == 0x80)
            continue;
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        return need > k ? k : 0;
    }
    return 0;
}

static int decode_utf8(zf_decoder *d, const char *raw, size_t len, int final,
                       size_t off, zf_buf *out, size_t *used)
{
    size_t pos = 0;
    /* Whole lines only, so a line with a bad byte is judged from its start
     * however the input was fed; a line longer than the window is decoded
     * as far as it goes. */
    if (!final) {
        size_t e = len;
        while (e > 0 && raw[e - 1] != '\n')
            e--;
        if (e > 0) {
            len = e;
            final = 1; /* nothing is cut at a line end */
        } else if (len < ZF_WINDOW) {
            *used = 0;
            return ZHFIX_OK;
        }
    }
    while (pos < len) {
        size_t v = zf_utf8_valid_prefix(raw + pos, len - pos);
        if (pos + v == len) {
            if (zf_buf_add(out, raw + pos, v) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            pos = len;
            break;
        }
        size_t bad = pos + v;
        if (!final && utf8_tail(raw + bad, len - bad) == len - bad) {
            /* a sequence cut off by the end of what we have: wait */
            if (zf_buf_add(out, raw + pos, v) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            pos = bad;
            break;
        }
        /* the line holding the invalid byte is decoded on its own */
        size_t ls = bad;
        while (ls > pos && raw[ls - 1] != '\n')
            ls--;
        const char *nl = memchr(raw + bad, '\n', len - bad);
        size_t le = nl ? (size_t)(nl - raw) + 1 : len;
        if (!nl && !final && len - ls < ZF_WINDOW) {
            if (zf_buf_add(out, raw + pos, ls - pos) != ZHFIX_OK)
                return ZHFIX_ENOMEM;
            pos = ls;
            break;
        }
        if (zf_buf_add(out, raw + pos, ls - pos) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        if (!nl && !final) {
            /* an over-long line: decode what we have, hold a cut sequence */
            le -= utf8_tail(raw + ls, le - ls);
        }
        d->identity = 0;
        int rc = decode_line(d, raw + ls, le - ls, off + ls, out);
        if (rc != ZHFIX_OK)
            return rc;
        pos = le;
    }
    *used = pos;
    return ZHFIX_OK;
}

static int decode_legacy(zf_decoder *d, const char *raw, size_t len, int final,
                         size_t off, zf_buf *out, size_t *used)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(raw + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - raw) + 1 : len;
        if (!nl && !final) {
            if (len - pos < ZF_WINDOW)
                break;
            /* an over-long line: decode up to a sequence boundary */
            size_t done;
            size_t mark = out->len;
            int e = run_iconv((iconv_t)d->cd, raw + pos, len - pos, out, &done);
            if (e == ENOMEM)
                return ZHFIX_ENOMEM;
            d->identity = 0;
            if (e == EILSEQ) {
                out->len = mark;
                int rc = decode_lenient(d, (iconv_t)d->cd, raw + pos, done + 1, off + pos, out);
                if (rc != ZHFIX_OK)
                    return rc;
                done++;
            }
            pos += done;
            break;
        }
        int rc = decode_line(d, raw + pos, end - pos, off + pos, out);
        if (rc != ZHFIX_OK)
            return rc;
        pos = end;
    }
    *used = pos;
    return ZHFIX_OK;
}

static int decode_wide(zf_decoder *d, const char *raw, size_t len, int final,
                       size_t off, zf_buf *out, size_t *used)
{
    size_t pos = 0, mark = out->len;
    size_t unit = strstr(d->det.name, "32") || strstr(d->det.name, "UCS-4") ? 4 : 2;
    if (strncasecmp(d->det.name, "UTF-16", 6) != 0 && strncasecmp(d->det.name, "UTF-32", 6) != 0 &&
        strncasecmp(d->det.name, "UCS", 3) != 0)
        unit = 1;
    while (pos < len) {
        size_t done;
        /* a stateful decoder keeps its state between calls: no reset */
        char *ip = (char *)raw + pos;
        size_t il = len - pos;
        if (zf_buf_reserve(out, il * 2 + 16) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        char *op = out->p + out->len;
        size_t ol = out->cap - out->len - 1;
        size_t r = iconv((iconv_t)d->cd, &ip, &il, &op, &ol);
        int e = r == (size_t)-1 ? errno : 0;
        out->len = (size_t)(op - out->p);
        out->p[out->len] = '\0';
        done = (size_t)(ip - raw) - pos;
        pos += done;
        if (e == 0 || e == E2BIG)
            continue;
        if (e == EINVAL && !final)
            break;
        size_t skip = unit < len - pos ? unit : len - pos;
        /* one U+FFFD per code unit; every byte of it is counted */
        if (add_replacement(d, out, off + pos) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        d->bad += skip - 1;
        pos += skip;
    }
    /* the text equals its bytes only where every byte came out as itself
     * (ASCII in UTF-7 or ISO-2022-CN; never in UTF-16 or UTF-32) */
    if (d->identity && (out->len - mark != pos || (pos && memcmp(out->p + mark, raw, pos) != 0)))
        d->identity = 0;
    *used = pos;
    return ZHFIX_OK;
}

int zf_decode(zf_decoder *d, const char *raw, size_t len, int final, size_t raw_off,
              zf_buf *out, size_t *used)
{
    switch (d->det.kind) {
    case ZF_ENC_UTF8:
        return decode_utf8(d, raw, len, final, raw_off, out, used);
    case ZF_ENC_LEGACY:
        return decode_legacy(d, raw, len, final, raw_off, out, used);
    case ZF_ENC_WIDE:
        return decode_wide(d, raw, len, final, raw_off, out, used);
    }
    return ZHFIX_EINVAL;
}
