/*
 * buf.c - growable byte buffers with a growth cap.
 *
 * Every buffer keeps a spare byte so that p[len] can hold a NUL; growth is
 * refused past ZF_BUF_MAX so untrusted input cannot ask for unbounded memory.
 */
#include <stdlib.h>
#include <string.h>

#include "zf.h"

int zf_buf_reserve(zf_buf *b, size_t extra)
{
    if (extra >= ZF_BUF_MAX || b->len >= ZF_BUF_MAX - extra)
        return ZHFIX_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return ZHFIX_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap += cap / 2 + 64;
    char *p = realloc(b->p, cap);
    if (!p)
        return ZHFIX_ENOMEM;
    b->p = p;
    b->cap = cap;
    return ZHFIX_OK;
}

int zf_buf_add(zf_buf *b, const void *p, size_t n)
{
    if (zf_buf_reserve(b, n) != ZHFIX_OK)
        return ZHFIX_ENOMEM;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return ZHFIX_OK;
}

int zf_buf_addc(zf_buf *b, char c)
{
    return zf_buf_add(b, &c, 1);
}

void zf_buf_free(zf_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
