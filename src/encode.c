/*
 * encode.c - UTF-8 to the output encoding the user asked for (--to).
 * No transliteration: a character the encoding cannot hold is an error
 * with its offset, never a silent '?'.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>

#include "zf.h"

struct zhfix_encoder {
    iconv_t cd;
};

zhfix_encoder *zhfix_encoder_new(const char *to, int *status)
{
    int st = ZHFIX_OK;
    zhfix_encoder *e = NULL;
    if (!to) {
        st = ZHFIX_EINVAL;
    } else if (!(e = malloc(sizeof *e))) {
        st = ZHFIX_ENOMEM;
    } else if ((e->cd = iconv_open(to, "UTF-8")) == (iconv_t)-1) {
        free(e);
        e = NULL;
        st = ZHFIX_EENCODING;
    }
    if (status)
        *status = st;
    return e;
}

int zhfix_encoder_run(zhfix_encoder *e, const char *in, size_t len, char **out,
                      size_t *out_len, size_t *out_cap, size_t *bad)
{
    if (!e || (!in && len) || !out || !out_len || !out_cap)
        return ZHFIX_EINVAL;
    char *ip = (char *)in;
    size_t il = len;
    while (il > 0) {
        if (*out_cap - *out_len < il * 4 + 16) {
            size_t cap = *out_len + il * 4 + 64;
            char *p = realloc(*out, cap);
            if (!p)
                return ZHFIX_ENOMEM;
            *out = p;
            *out_cap = cap;
        }
        char *op = *out + *out_len;
        size_t ol = *out_cap - *out_len;
        size_t r = iconv(e->cd, &ip, &il, &op, &ol);
        *out_len = (size_t)(op - *out);
        if (r == (size_t)-1 && errno != E2BIG) {
            if (bad)
                *bad = (size_t)(ip - in);
            return errno == EILSEQ ? ZHFIX_EUNREPRESENTABLE : ZHFIX_EINVAL;
        }
        if (r != (size_t)-1 && r > 0) {
            /* glibc counts irreversible conversions; without //TRANSLIT
             * there are none, but never let one pass silently */
            if (bad)
                *bad = 0;
            return ZHFIX_EUNREPRESENTABLE;
        }
    }
    return ZHFIX_OK;
}

void zhfix_encoder_free(zhfix_encoder *e)
{
    if (!e)
        return;
    iconv_close(e->cd);
    free(e);
}
