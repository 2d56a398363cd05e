/*
 * utf8.c - UTF-8 decoding and character classes.
 *
 * Layout (RFC 3629):      first byte   continuation bytes
 *   U+0000..U+007F        0xxxxxxx
 *   U+0080..U+07FF        110xxxxx     10xxxxxx
 *   U+0800..U+FFFF        1110xxxx     10xxxxxx x2
 *   U+10000..U+10FFFF     11110xxx     10xxxxxx x3
 * Policy for invalid input: overlong forms, surrogates, code points above
 * U+10FFFF, stray continuation bytes and truncated sequences are all invalid;
 * zf_utf8_next() reports them one byte at a time so a caller can resync.
 */
#include "zf.h"

int zf_utf8_next(const char *s, size_t n, int32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if ((size_t)len > n) {
        *cp = -1;
        return 1;
    }
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = (int32_t)v;
    return len;
}

size_t zf_utf8_valid_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII runs dominate real text: skip them eight bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            __builtin_memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        int l = zf_utf8_next(s + i, n - i, &cp);
        if (cp < 0)
            return i;
        i += (size_t)l;
    }
    return i;
}

int zf_utf8_put(int32_t cp, char *out)
{
    uint32_t c = (uint32_t)cp;
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

size_t zf_utf8_prev(const char *s, size_t i)
{
    size_t j = i;
    while (j > 0 && i - j < 4) {
        j--;
        if (((unsigned char)s[j] & 0xC0) != 0x80)
            return j;
    }
    return i - 1;
}

int zf_is_han(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF)     /* URO */
        || (c >= 0x3400 && c <= 0x4DBF)     /* Ext A */
        || (c >= 0xF900 && c <= 0xFAFF)     /* Compatibility */
        || (c >= 0x20000 && c <= 0x323AF);  /* Ext B..H, compat supplement */
}

int zf_is_cjk_punct(int32_t c)
{
    return (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF)
        || c == 0x2014 || c == 0x2015 || (c >= 0x2018 && c <= 0x201D)
        || c == 0x2026 || c == 0x00B7 || c == 0x2E3A;
}

int zf_is_kana(int32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF)
        || (c >= 0xFF66 && c <= 0xFF9F);
}

int zf_is_hangul(int32_t c)
{
    return (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF)
        || (c >= 0x3130 && c <= 0x318F);
}
