/*
 * charfreq.c - how common a character is in Chinese text, from the
 * generated two-stage table tables/charfreq.h (jieba's word frequencies).
 */
#include "zf.h"

#include "charfreq.h"

int zf_char_cost(int32_t cp)
{
    if (cp < 0 || cp >= ZF_CHARFREQ_MAXCP)
        return ZF_COST_UNSEEN;
    return zf_charfreq_stage2[(size_t)zf_charfreq_stage1[cp >> 8] * 256 + (size_t)(cp & 0xFF)];
}
