/*
 * cli_progress.c - what a long run says while it works and when it ends.
 *
 * The progress line: on a terminal only (standard error a tty, and the
 * repaired text not going to the same terminal), not with -q, and only for
 * runs longer than a second, so short runs and scripts never see it.  A
 * thread of its own redraws it, at most 4 times a second, with a carriage
 * return; every other message first erases it (cli_stderr_lock), and it is
 * erased at the end.  The workers only add to atomic counters: drawing
 * costs them nothing.
 *
 * --stats: the closing summary, on standard error, whatever the terminal.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define DELAY_NS 1000000000L   /* first drawn after a second */
#define PERIOD_NS 250000000L   /* then redrawn 4 times a second at most */

static atomic_size_t done_bytes, done_files, done_edits;
static atomic_size_t total_files, total_bytes;

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t drawn;           /* length of the line on screen, under err_lock */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int running, stopping;
static pthread_t thread;
static struct timespec t0;

void cli_progress_bytes(size_t n)
{
    atomic_fetch_add_explicit(&done_bytes, n, memory_order_relaxed);
}

void cli_progress_file(size_t edits)
{
    atomic_fetch_add_explicit(&done_files, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&done_edits, edits, memory_order_relaxed);
}

/* Erase the line: spaces over it, back to column 0. */
static void erase(void)
{
    if (!drawn)
        return;
    char sp[512];
    size_t n = drawn + 2 < sizeof sp ? drawn + 2 : sizeof sp;
    memset(sp, ' ', n);
    sp[0] = '\r';
    sp[n - 1] = '\r';
    if (write(STDERR_FILENO, sp, n) < 0) {
        /* nothing to do: the terminal is gone */
    }
    drawn = 0;
}

void cli_stderr_lock(void)
{
    pthread_mutex_lock(&err_lock);
    erase();
}

void cli_stderr_unlock(void)
{
    pthread_mutex_unlock(&err_lock);
}

static double since(const struct timespec *a)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

static void draw(void)
{
    double secs = since(&t0);
    size_t files = atomic_load_explicit(&done_files, memory_order_relaxed);
    size_t bytes = atomic_load_explicit(&done_bytes, memory_order_relaxed);
    size_t edits = atomic_load_explicit(&done_edits, memory_order_relaxed);
    size_t total_files_ = atomic_load(&total_files), total_bytes_ = atomic_load(&total_bytes);
    double mb = (double)bytes / 1e6, rate = secs > 0 ? mb / secs : 0;
    char line[256];
    int n;
    if (total_files_)
        n = snprintf(line, sizeof line, "zhfix: %zu/%zu files", files, total_files_);
    else
        n = snprintf(line, sizeof line, "zhfix: %zu files", files);
    if (total_bytes_)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f/%.1f MB", mb,
                      (double)total_bytes_ / 1e6);
    else
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f MB", mb);
    n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f MB/s, %zu edits", rate, edits);
    if (total_bytes_ && bytes && bytes <= total_bytes_ && rate > 0) {
        long left = (long)((double)(total_bytes_ - bytes) / 1e6 / rate + 0.5);
        n += snprintf(line + n, sizeof line - (size_t)n, ", %ld:%02ld left", left / 60,
                      left % 60);
    }
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    /* a line longer than the terminal would wrap, and \r would not bring
     * the cursor back to its start */
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && len >= ws.ws_col)
        len = (size_t)ws.ws_col - 1;
    pthread_mutex_lock(&err_lock);
    size_t old = drawn;
    char out[512];
    size_t k = 0;
    out[k++] = '\r';
    memcpy(out + k, line, len);
    k += len;
    /* blank what is left of a longer previous line, and come back */
    for (size_t i = len; i < old && k < sizeof out - 1; i++)
        out[k++] = ' ';
    if (write(STDERR_FILENO, out, k) < 0) {
        /* the terminal is gone: nothing to draw on */
    }
    drawn = len;
    pthread_mutex_unlock(&err_lock);
}

static void add_ns(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static void *run(void *arg)
{
    (void)arg;
    struct timespec next = t0;
    add_ns(&next, DELAY_NS);
    pthread_mutex_lock(&mu);
    while (!stopping) {
        if (pthread_cond_timedwait(&wake, &mu, &next) != 0 && !stopping) {
            pthread_mutex_unlock(&mu);
            draw();
            pthread_mutex_lock(&mu);
            add_ns(&next, PERIOD_NS);
        }
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

void cli_progress_total(size_t files, size_t bytes)
{
    atomic_store(&total_files, files);
    atomic_store(&total_bytes, bytes);
}

void cli_progress_start(size_t files, size_t bytes)
{
    cli_progress_total(files, bytes);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* the wait is timed on the monotonic clock: a change of the date
     * neither stalls nor floods the line */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    running = pthread_create(&thread, NULL, run, NULL) == 0;
}

void cli_progress_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    running = 0;
    pthread_mutex_lock(&err_lock);
    erase();
    pthread_mutex_unlock(&err_lock);
}

/* ---- --stats ----------------------------------------------------------- */

void cli_stats(const struct cli_totals *t, double secs, int jsonl)
{
    cli_stderr_lock();
    fprintf(stderr, "zhfix: stats: files %zu (changed %zu, unchanged %zu, skipped %zu, "
            "failed %zu)\n", t->files, t->changed, t->unchanged, t->skipped, t->failed);
    if (jsonl)
        fprintf(stderr, "zhfix: stats: records %zu (changed %zu, invalid %zu; values left as "
                "they were %zu)\n", t->records, t->records_changed, t->records_invalid,
                t->values_kept);
    size_t all = 0;
    for (int k = 0; k < ZHFIX_EDIT_KIND_COUNT; k++)
        all += t->edits[k];
    fprintf(stderr, "zhfix: stats: edits %zu (", all);
    for (int k = 0; k < ZHFIX_EDIT_KIND_COUNT; k++)
        fprintf(stderr, "%s%s %zu", k ? ", " : "", zhfix_edit_kind_name(k), t->edits[k]);
    fprintf(stderr, ")\nzhfix: stats: bytes %zu in, %zu out\n", t->bytes_in, t->bytes_out);
    fprintf(stderr, "zhfix: stats: time %.2f s, %.1f MB/s\n", secs,
            secs > 0 ? (double)t->bytes_in / 1e6 / secs : 0.0);
    cli_stderr_unlock();
}
