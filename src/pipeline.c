/*
 * pipeline.c - runs the repair passes in their fixed order and composes
 * their edits so that every edit's spans refer to the piece's input and the
 * final output, whichever pass made it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

/* Order of execution.  Mojibake first: it restores characters that the
 * other passes must see.  Pinyin before punct: an annotation's parentheses
 * must still be ASCII when it is recognised.  Script last: it needs the
 * evidence the pinyin pass counted. */
static const struct {
    unsigned bit;
    zf_pass_fn fn;
} passes[] = {
    {ZHFIX_PASS_MOJIBAKE, zf_pass_mojibake},
    {ZHFIX_PASS_PINYIN, zf_pass_pinyin},
    {ZHFIX_PASS_PUNCT, zf_pass_punct},
    {ZHFIX_PASS_SCRIPT, zf_pass_script},
};

void zf_pipeline_free(zf_pipeline *p)
{
    zf_buf_free(&p->a);
    zf_buf_free(&p->b);
    zf_edits_free(&p->stage);
    zf_edits_free(&p->all);
    zf_edits_free(&p->tmp);
}

void zf_doc_free(zf_doc *doc)
{
    zf_script_doc_free(&doc->spelling);
}

/* Map offset x of a text through edits (sorted, non-overlapping on the side
 * mapped from) to the other side.  An offset inside an edit maps to the
 * edit's start or end on the other side, by `at_end`.  At an edit that is
 * empty on this side (text another pass deleted or will insert), a start
 * maps past it and an end before it: what begins there came after the
 * deleted text, what ends there came before it.  Offsets are visited in
 * increasing order, so the walk resumes at *k. */
static size_t map_offset(const zhfix_edit *v, size_t n, size_t *k, size_t x,
                         int forward, int at_end)
{
    size_t i = *k;
    for (;;) {
        if (i >= n)
            break;
        size_t s = forward ? v[i].in_start : v[i].out_start;
        size_t e = forward ? v[i].in_end : v[i].out_end;
        if (e < x || (e == x && s < x) || (e == x && s == x && !at_end)) {
            i++;
            continue;
        }
        break;
    }
    *k = i;
    /* delta from the last edit entirely before x */
    if (i > 0) {
        const zhfix_edit *p = &v[i - 1];
        size_t pe = forward ? p->in_end : p->out_end;
        size_t qe = forward ? p->out_end : p->in_end;
        if (i < n) {
            size_t s = forward ? v[i].in_start : v[i].out_start;
            size_t e = forward ? v[i].in_end : v[i].out_end;
            if (s < x && x < e)
                return at_end ? (forward ? v[i].out_end : v[i].in_end)
                              : (forward ? v[i].out_start : v[i].in_start);
        }
        return qe + (x - pe);
    }
    if (i < n) {
        size_t s = forward ? v[i].in_start : v[i].out_start;
        size_t e = forward ? v[i].in_end : v[i].out_end;
        if (s < x && x < e)
            return at_end ? (forward ? v[i].out_end : v[i].in_end)
                          : (forward ? v[i].out_start : v[i].in_start);
    }
    return x;
}

static int by_output(const void *a, const void *b)
{
    const zhfix_edit *x = a, *y = b;
    if (x->out_start != y->out_start)
        return x->out_start < y->out_start ? -1 : 1;
    if (x->in_start != y->in_start)
        return x->in_start < y->in_start ? -1 : 1;
    return 0;
}

/* Fold one pass's edits (stage: text_k -> text_k+1) into the composed list
 * (all: input -> text_k), giving input -> text_k+1. */
static int compose(zf_pipeline *p, const char *in, const char *out)
{
    zf_edits *all = &p->all, *st = &p->stage, *tmp = &p->tmp;
    size_t k;
    zf_edits_clear(tmp);
    /* earlier edits: carry their output spans forward through the stage */
    k = 0;
    for (size_t i = 0; i < all->n; i++) {
        zhfix_edit e = all->v[i];
        size_t k2 = k;
        e.out_start = map_offset(st->v, st->n, &k, e.out_start, 1, 0);
        e.out_end = map_offset(st->v, st->n, &k2, e.out_end, 1, 1);
        if (zf_edits_add(tmp, e.kind, e.in_start, e.in_end, e.out_start, e.out_end,
                         all->pool.p + (uintptr_t)e.before, e.before_len,
                         all->pool.p + (uintptr_t)e.after, e.after_len) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
    }
    /* this pass's edits: carry their input spans back to the piece input */
    k = 0;
    for (size_t i = 0; i < st->n; i++) {
        zhfix_edit e = st->v[i];
        size_t k2 = k;
        e.in_start = map_offset(all->v, all->n, &k, e.in_start, 0, 0);
        e.in_end = map_offset(all->v, all->n, &k2, e.in_end, 0, 1);
        if (zf_edits_add(tmp, e.kind, e.in_start, e.in_end, e.out_start, e.out_end,
                         st->pool.p + (uintptr_t)e.before, e.before_len,
                         st->pool.p + (uintptr_t)e.after, e.after_len) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
    }
    /* sorted by output position, for the merge and the next backward walk */
    if (tmp->n)
        qsort(tmp->v, tmp->n, sizeof *tmp->v, by_output);
    /*
     * A pass may change text an earlier pass wrote (the mojibake pass
     * restores "報(bào)", the pinyin pass then removes "(bào)").  Such edits
     * overlap; they become one, whose before is the input's text and whose
     * after is the output's, so every edit reads against the real input.
     * It keeps the earlier pass's kind: that is where the damage began.
     */
    zf_edits_clear(all);
    for (size_t i = 0; i < tmp->n;) {
        zhfix_edit m = tmp->v[i];
        size_t j = i + 1;
        int merged = 0;
        while (j < tmp->n && (tmp->v[j].out_start < m.out_end || tmp->v[j].in_start < m.in_end)) {
            const zhfix_edit *e = &tmp->v[j];
            m.in_start = e->in_start < m.in_start ? e->in_start : m.in_start;
            m.in_end = e->in_end > m.in_end ? e->in_end : m.in_end;
            m.out_end = e->out_end > m.out_end ? e->out_end : m.out_end;
            /* kinds are numbered in pass order: the lowest began it */
            if (e->kind != ZHFIX_EDIT_UNRESOLVED &&
                (m.kind == ZHFIX_EDIT_UNRESOLVED || e->kind < m.kind))
                m.kind = e->kind;
            merged = 1;
            j++;
        }
        const char *b = merged ? in + m.in_start : tmp->pool.p + (uintptr_t)m.before;
        const char *a = merged ? out + m.out_start : tmp->pool.p + (uintptr_t)m.after;
        size_t bl = merged ? m.in_end - m.in_start : m.before_len;
        size_t al = merged ? m.out_end - m.out_start : m.after_len;
        if (zf_edits_add(all, m.kind, m.in_start, m.in_end, m.out_start, m.out_end, b, bl, a,
                         al) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        i = j;
    }
    return ZHFIX_OK;
}

/* Runs of the mojibake pass at most, the first included. */
#define MOJIBAKE_ROUNDS 3

/* Whether a pass's edits changed text (not only noted damage). */
static int has_repair(const zf_edits *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].kind != ZHFIX_EDIT_UNRESOLVED)
            return 1;
    return 0;
}

/* U+FF01..U+FF5E (EF BC 81..EF BD 9E) in s[0..n). */
static size_t count_fullwidth(const char *s, size_t n)
{
    size_t count = 0;
    const char *p = s, *end = s + n;
    while ((p = memchr(p, 0xEF, (size_t)(end - p))) != NULL) {
        if (end - p >= 3) {
            unsigned b1 = (unsigned char)p[1], b2 = (unsigned char)p[2];
            if ((b1 == 0xBC && b2 >= 0x81) || (b1 == 0xBD && b2 <= 0x9E))
                count++;
        }
        p++;
    }
    return count;
}

int zf_pipeline_run(zf_pipeline *p, const zhfix_options *opt, zf_doc *doc,
                    const char *in, size_t len, const char **out, size_t *out_len)
{
    doc->fullwidth_in += count_fullwidth(in, len);
    const char *cur = in;
    size_t cur_len = len;
    zf_buf *next = &p->a;
    zf_edits_clear(&p->all);
    for (size_t i = 0, round = 0; i < sizeof passes / sizeof passes[0]; i++, round = 0) {
        if (!(opt->passes & passes[i].bit))
            continue;
    again:;
        zf_rw rw;
        doc->mojibake_round = (int)round;
        next->len = 0;
        zf_edits_clear(&p->stage);
        zf_rw_init(&rw, cur, cur_len, next, &p->stage);
        rw.held = p->all.v;
        rw.nheld = p->all.n;
        int rc = passes[i].fn(opt, doc, &rw);
        if (rc == ZHFIX_OK && rw.err)
            rc = rw.err;
        if (rc != ZHFIX_OK)
            return rc;
        if (p->stage.n == 0 && rw.pos == 0)
            continue; /* nothing changed: skip the copy, read the same text */
        if ((rc = zf_rw_finish(&rw)) != ZHFIX_OK)
            return rc;
        if (compose(p, in, next->p) != ZHFIX_OK)
            return ZHFIX_ENOMEM;
        cur = next->p;
        cur_len = next->len;
        next = (next == &p->a) ? &p->b : &p->a;
        /* Text garbled twice over by code pages, with bytes lost on the
         * way, comes back one layer a run where the layers do not line
         * up: the mojibake pass runs again over what it wrote while that
         * repairs more (at most MOJIBAKE_ROUNDS runs), so that zhfix's
         * output is not repaired further by another zhfix.  A `?` spot
         * whose evidence a repair of one run rewrote is decided by the
         * next (pass_mojibake.c, try_shift()). */
        if (passes[i].bit == ZHFIX_PASS_MOJIBAKE && ++round < MOJIBAKE_ROUNDS
            && has_repair(&p->stage))
            goto again;
    }
    doc->mojibake_round = 0;
    *out = cur;
    *out_len = cur_len;
    return ZHFIX_OK;
}
