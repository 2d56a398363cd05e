/*
 * pass_pinyin.c - NOT IMPLEMENTED YET: copies its input unchanged.
 */
#include "zf.h"

int zf_pass_pinyin(const zhfix_options *opt, zf_doc *doc, zf_rw *rw)
{
    (void)opt;
    (void)doc;
    (void)rw;
    return ZHFIX_OK;
}
