/*
 * qmarks.c - question marks that are characters lost.
 *
 * Text converted to a smaller character set with a `?` for each character
 * the new set lacks (Traditional text converted to GB2312: `?路上的服??`,
 * `拒?，`) looks like text whose question marks were flattened: `?` beside
 * Han.  It is told apart by where its `?` stand.  A question mark ends its
 * own clause, so it never starts a line, follows an opening mark or comes
 * before a mark that ends a clause (`？，` is no orthography's); a lost
 * character stands wherever a character can, and before a `，` as often as
 * a character does.
 *
 * The punctuation pass writes no `？` for such a `?`, and for no `?` of a
 * piece where they are common; the mojibake pass reads no `?` of such a
 * piece as the GBK shift's (damage-model.md section 4), which would invent
 * characters for bytes that were never there (`?把?` read “颜).
 */
#include <string.h>

#include "zf.h"

/* A mark that ends a clause, before which no question mark stands: `，`
 * `、` `。` `；` `：` (`？！`, `？？` are written). */
static int ends_clause(int32_t c)
{
    return c == 0xFF0C || c == 0x3001 || c == 0x3002 || c == 0xFF1B || c == 0xFF1A;
}

int zf_qmark_misplaced(int32_t before, int32_t after)
{
    return before < 0 || zf_is_open_mark(before) || ends_clause(after);
}

/*
 * Of a piece's runs of `?` that touch Han or are misplaced, at least
 * LOST_MIN and one in LOST_SHARE misplaced.  Measured: Traditional prose
 * converted to GB2312 has one run in five to seven misplaced; the
 * benchmark's flattened and GBK-shifted documents one in a hundred or none
 * (a shifted run's last `?` may fall before a mark), the seeds none.
 */
#define LOST_MIN 3
#define LOST_SHARE 10

int zf_qmarks_lost(const char *s, size_t n)
{
    size_t runs = 0, odd = 0;
    const char *q = memchr(s, '?', n);
    while (q) {
        size_t a = (size_t)(q - s), b = a;
        while (b < n && s[b] == '?')
            b++;
        int32_t lc = -1, rc = -1;
        if (a > 0 && s[a - 1] != '\n' && s[a - 1] != '\r') {
            size_t j = zf_utf8_prev(s, a);
            zf_utf8_next(s + j, a - j, &lc);
        }
        if (b < n && s[b] != '\n' && s[b] != '\r')
            zf_utf8_next(s + b, n - b, &rc);
        int bad = zf_qmark_misplaced(lc, rc);
        runs += (size_t)(bad || zf_is_han(lc) || zf_is_han(rc));
        odd += (size_t)bad;
        q = b < n ? memchr(s + b, '?', n - b) : NULL;
    }
    return odd >= LOST_MIN && odd * LOST_SHARE >= runs;
}
