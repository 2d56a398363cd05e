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

/* The general case; zf.h inlines the common ones. */
int zf_utf8_next_slow(const char *s, size_t n, int32_t *cp)
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

/* The same validity as zf_utf8_next(), one lead byte's rules at a time
 * without computing the code point: this runs over every byte of every
 * input, so it must cost little more than reading it. */
size_t zf_utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        i = zf_ascii_end(u, i, n);
        if (i >= n)
            break;
        /* Runs of three-byte characters (Chinese text) without leaving the
         * inner loop: E1..EC and EE..EF take any continuation bytes. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* two of them a step: leads E0..EF at bytes 0 and 3, continuation
         * bytes at 1, 2, 4, 5; E0 and ED (which limit their second byte)
         * are left to the loop below */
        while (n - i >= 8) {
            uint64_t w;
            __builtin_memcpy(&w, u + i, 8);
            if ((w & 0xC0C0F0C0C0F0ull) != 0x8080E08080E0ull)
                break;
            unsigned a = (unsigned)(w & 0xFF), b = (unsigned)((w >> 24) & 0xFF);
            if (a == 0xE0 || a == 0xED || b == 0xE0 || b == 0xED)
                break;
            i += 6;
        }
#endif
        unsigned c = u[i];
        while (c - 0xE1u <= 0xEFu - 0xE1u && c != 0xED && i + 3 <= n &&
               (u[i + 1] & 0xC0) == 0x80 && (u[i + 2] & 0xC0) == 0x80) {
            i += 3;
            if (i >= n)
                return i;
            c = u[i];
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        /* second-byte range by lead byte (RFC 3629 section 4) */
        unsigned lo = 0x80, hi = 0xBF;
        size_t len;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (len > n - i || u[i + 1] < lo || u[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if ((u[i + k] & 0xC0) != 0x80)
                return i;
        i += len;
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
