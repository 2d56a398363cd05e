/*
 * cli_parallel.c - -j N: N worker threads repair files while the main
 * thread lists them and writes what they produced, in input order.
 *
 * All threads share one zhfix_ctx (immutable, thread-safe: zhfix.h); each
 * file gets its own stream in the thread that repairs it.  Order: the main
 * thread queues inputs into a window of 4 N slots; a worker takes the
 * oldest waiting input, and writes what would go to standard output,
 * standard error and --report into three spools of its own; the main thread
 * copies the spools of the oldest input once it is done, then the next.  So
 * the output, the messages and the report are what -j 1 gives, byte for
 * byte.  -i writes each file on its own (its temporary file, rename), so
 * with -i the spools hold only messages and report lines.
 *
 * A spool keeps up to SPOOL_MEM bytes in memory and moves to an unlinked
 * temporary file ($TMPDIR, else /tmp) beyond, so a large file repaired to
 * standard output behind a slow one costs disk, not memory.
 */
#define _GNU_SOURCE /* fopencookie: a FILE that writes into the spool */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SPOOL_MEM ((size_t)4 << 20)

struct cli_spool {
    struct cli_buf m;
    int fd;               /* -1 while everything fits in m */
};

static int spool_tmp(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    size_t n = strlen(dir);
    char *t = malloc(n + sizeof "/zhfix-spool-XXXXXX");
    if (!t)
        return -1;
    memcpy(t, dir, n);
    strcpy(t + n, "/zhfix-spool-XXXXXX");
    int fd = mkstemp(t);
    if (fd >= 0)
        unlink(t);
    free(t);
    return fd;
}

static ssize_t spool_write(void *cookie, const char *p, size_t n)
{
    struct cli_spool *s = cookie;
    if (s->fd < 0 && n > SPOOL_MEM - (s->m.len < SPOOL_MEM ? s->m.len : SPOOL_MEM)) {
        if ((s->fd = spool_tmp()) < 0 || cli_write_all(s->fd, s->m.p, s->m.len))
            return -1;
        cli_buf_free(&s->m);
    }
    if (s->fd >= 0)
        return cli_write_all(s->fd, p, n) ? -1 : (ssize_t)n;
    return cli_buf_add(&s->m, p, n) ? -1 : (ssize_t)n;
}

static int spool_close(void *cookie)
{
    struct cli_spool *s = cookie;
    if (s->fd >= 0)
        close(s->fd);
    cli_buf_free(&s->m);
    free(s);
    return 0;
}

static FILE *spool_open(struct cli_spool **out)
{
    struct cli_spool *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = -1;
    cookie_io_functions_t io = {NULL, spool_write, NULL, spool_close};
    FILE *f = fopencookie(s, "w", io);
    if (!f) {
        free(s);
        return NULL;
    }
    *out = s;
    return f;
}

/* Everything written to f (the spool s) onto to; then f is closed. */
static int spool_move(FILE *f, struct cli_spool *s, FILE *to)
{
    if (!f)
        return 0;
    int rc = fflush(f) == 0 && !ferror(f) ? 0 : -1;
    if (s->fd >= 0) {
        char buf[CLI_BLOCK];
        off_t off = 0;
        ssize_t r;
        while ((r = pread(s->fd, buf, sizeof buf, off)) > 0) {
            if (fwrite(buf, 1, (size_t)r, to) != (size_t)r)
                rc = -1;
            off += r;
        }
        if (r < 0)
            rc = -1;
    } else if (s->m.len && fwrite(s->m.p, 1, s->m.len, to) != s->m.len) {
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* ---- the pool ---------------------------------------------------------- */

enum { T_WAITING, T_RUNNING, T_DONE };

struct cli_pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    struct cli_task *ring;
    size_t cap;
    size_t head, take, tail;  /* sequence numbers: oldest, next to start, next free */
    int quit;
    int n;
    pthread_t th[CLI_MAX_JOBS];
    cli_work_fn work;
    cli_emit_fn emit;
    void *arg;
    FILE *report;
};

static void *worker(void *arg)
{
    struct cli_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->take == p->tail && !p->quit)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->take == p->tail)
            break;
        struct cli_task *t = &p->ring[p->take++ % p->cap];
        t->state = T_RUNNING;
        pthread_mutex_unlock(&p->mu);

        t->out = spool_open(&t->s_out);
        t->err = spool_open(&t->s_err);
        t->rep = spool_open(&t->s_rep);
        if (!t->out || !t->err || !t->rep) {
            t->rc = CLI_EXIT_TROUBLE;
        } else {
            cli_msg_capture(t->err);
            p->work(p->arg, t);
            cli_msg_capture(NULL);
        }

        pthread_mutex_lock(&p->mu);
        t->state = T_DONE;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct cli_pool *cli_pool_new(int threads, cli_work_fn work, cli_emit_fn emit, void *arg,
                              FILE *report)
{
    struct cli_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cap = 4 * (size_t)threads;
    p->ring = calloc(p->cap, sizeof *p->ring);
    if (!p->ring) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->work = work;
    p->emit = emit;
    p->arg = arg;
    p->report = report;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->th[p->n], NULL, worker, p) != 0)
            break;
        p->n++;
    }
    if (p->n == 0) {
        cli_pool_free(p);
        return NULL;
    }
    return p;
}

/* Write out the oldest input, which is done; called with p->mu held, which
 * it releases while it copies. */
static void emit_head(struct cli_pool *p)
{
    struct cli_task *t = &p->ring[p->head % p->cap];
    pthread_mutex_unlock(&p->mu);
    int out_failed = spool_move(t->out, t->s_out, stdout) != 0;
    cli_stderr_lock();
    spool_move(t->err, t->s_err, stderr);
    cli_stderr_unlock();
    int rep_failed = spool_move(t->rep, t->s_rep, p->report ? p->report : stdout) != 0 ||
                     (p->report && fflush(p->report) != 0);
    p->emit(p->arg, t, out_failed, rep_failed);
    free(t->name);
    free(t->path);
    memset(t, 0, sizeof *t);
    pthread_mutex_lock(&p->mu);
    p->head++;
}

int cli_pool_add(struct cli_pool *p, const char *name, const char *path, int walked)
{
    char *n = strdup(name), *pa = path ? strdup(path) : NULL;
    if (!n || (path && !pa)) {
        free(n);
        free(pa);
        return -1;
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->head < p->tail && p->ring[p->head % p->cap].state == T_DONE)
            emit_head(p);
        if (p->tail - p->head < p->cap)
            break;
        pthread_cond_wait(&p->done_cv, &p->mu);
    }
    struct cli_task *t = &p->ring[p->tail % p->cap];
    memset(t, 0, sizeof *t);
    t->name = n;
    t->path = pa;
    t->walked = walked;
    t->state = T_WAITING;
    p->tail++;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void cli_pool_drain(struct cli_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->head < p->tail) {
        if (p->ring[p->head % p->cap].state == T_DONE)
            emit_head(p);
        else
            pthread_cond_wait(&p->done_cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

void cli_pool_free(struct cli_pool *p)
{
    if (!p)
        return;
    cli_pool_drain(p);
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    free(p->ring);
    free(p);
}
