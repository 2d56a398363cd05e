/*
 * edits.c - edit lists and the rewriter passes write through.
 *
 * Until zf_edits_finish(), an edit's before/after hold offsets into the
 * list's pool (stored in the pointer, as uintptr_t), because the pool may
 * move as it grows; finish turns them into real pointers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

void zf_edits_clear(zf_edits *e)
{
    e->n = 0;
    e->pool.len = 0;
}

void zf_edits_free(zf_edits *e)
{
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
    zf_buf_free(&e->pool);
}

int zf_edits_add(zf_edits *e, int kind, size_t in_start, size_t in_end,
                 size_t out_start, size_t out_end, const char *before,
                 size_t before_len, const char *after, size_t after_len)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        zhfix_edit *v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return ZHFIX_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    size_t boff = e->pool.len;
    if (zf_buf_add(&e->pool, before, before_len) != ZHFIX_OK)
        return ZHFIX_ENOMEM;
    size_t aoff = e->pool.len;
    if (zf_buf_add(&e->pool, after, after_len) != ZHFIX_OK)
        return ZHFIX_ENOMEM;
    zhfix_edit *d = &e->v[e->n++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->in_start = in_start;
    d->in_end = in_end;
    d->out_start = out_start;
    d->out_end = out_end;
    d->before = (const char *)(uintptr_t)boff;
    d->before_len = before_len;
    d->after = (const char *)(uintptr_t)aoff;
    d->after_len = after_len;
    return ZHFIX_OK;
}

void zf_edits_finish(zf_edits *e)
{
    for (size_t i = 0; i < e->n; i++) {
        e->v[i].before = e->pool.p + (uintptr_t)e->v[i].before;
        e->v[i].after = e->pool.p + (uintptr_t)e->v[i].after;
    }
}

void zf_rw_init(zf_rw *rw, const char *in, size_t len, zf_buf *out, zf_edits *ed)
{
    rw->in = in;
    rw->len = len;
    rw->pos = 0;
    rw->out = out;
    rw->ed = ed;
    rw->err = ZHFIX_OK;
    rw->held = NULL;
    rw->nheld = 0;
}

void zf_rw_copy(zf_rw *rw, size_t upto)
{
    if (rw->err || upto <= rw->pos)
        return;
    if (upto > rw->len)
        upto = rw->len;
    rw->err = zf_buf_add(rw->out, rw->in + rw->pos, upto - rw->pos);
    rw->pos = upto;
}

void zf_rw_replace(zf_rw *rw, size_t start, size_t end, const char *rep,
                   size_t rep_len, int kind)
{
    if (rw->err)
        return;
    if (start < rw->pos || end < start || end > rw->len) {
        rw->err = ZHFIX_EINVAL;
        return;
    }
    zf_rw_copy(rw, start);
    size_t out_start = rw->out->len;
    if (rw->err || (rw->err = zf_buf_add(rw->out, rep, rep_len)) != ZHFIX_OK)
        return;
    rw->err = zf_edits_add(rw->ed, kind, start, end, out_start, rw->out->len,
                           rw->in + start, end - start, rep, rep_len);
    rw->pos = end;
}

void zf_rw_note(zf_rw *rw, size_t start, size_t end)
{
    if (rw->err)
        return;
    if (start < rw->pos || end < start || end > rw->len) {
        rw->err = ZHFIX_EINVAL;
        return;
    }
    zf_rw_copy(rw, end);
    if (rw->err)
        return;
    size_t out_end = rw->out->len, out_start = out_end - (end - start);
    rw->err = zf_edits_add(rw->ed, ZHFIX_EDIT_UNRESOLVED, start, end, out_start,
                           out_end, rw->in + start, end - start,
                           rw->in + start, end - start);
}

/* The first of the earlier passes' edits that ends after pos (their
 * output spans are sorted and do not overlap). */
static size_t held_from(const zf_rw *rw, size_t pos)
{
    size_t lo = 0, hi = rw->nheld;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rw->held[mid].out_end <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first earlier edit of the wanted sort (noted damage, or a repair)
 * whose output span overlaps [from, to). */
static const zhfix_edit *held_overlap(const zf_rw *rw, size_t from, size_t to, int noted)
{
    for (size_t k = held_from(rw, from); k < rw->nheld && rw->held[k].out_start < to; k++) {
        const zhfix_edit *e = &rw->held[k];
        if ((e->kind == ZHFIX_EDIT_UNRESOLVED) == noted && e->out_start < e->out_end)
            return e;
    }
    return NULL;
}

int zf_rw_held_span(const zf_rw *rw, size_t from, size_t to, size_t *start, size_t *end)
{
    const zhfix_edit *e = held_overlap(rw, from, to, 1);
    if (!e)
        return 0;
    *start = e->out_start > from ? e->out_start : from;
    *end = e->out_end < to ? e->out_end : to;
    return 1;
}

int zf_rw_held(const zf_rw *rw, size_t start, size_t end)
{
    return held_overlap(rw, start, end, 1) != NULL;
}

int zf_rw_rewritten(const zf_rw *rw, size_t start, size_t end)
{
    return held_overlap(rw, start, end, 0) != NULL;
}

int zf_rw_replaced_after(const zf_rw *rw, size_t pos)
{
    for (size_t k = rw->ed->n; k-- > 0 && rw->ed->v[k].in_end > pos;)
        if (rw->ed->v[k].kind != ZHFIX_EDIT_UNRESOLVED)
            return 1;
    return 0;
}

int zf_rw_finish(zf_rw *rw)
{
    zf_rw_copy(rw, rw->len);
    return rw->err;
}
