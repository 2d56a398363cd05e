/*
 * cli_inplace.c - whether the output is the input's own bytes, and -i.
 *
 * The promise of -i: at every moment the file's name points at a complete
 * file, the original or the repaired one, never a truncated or half-written
 * mix.  So the output goes to a temporary file in the same directory (same
 * file system: rename(2) is atomic there), which is written, fsync'ed, given
 * the original's mode and owner, and renamed over the original; then the
 * directory is fsync'ed so the rename itself survives a crash.  The
 * temporary file is created only when the first differing byte shows up:
 * a file that needs nothing is never rewritten (same inode, same mtime), and
 * checking a clean tree costs reads only.  A fatal signal removes it.
 *
 * Hard links to the file keep the original (rename makes a new inode), as
 * with sed -i; ACLs and extended attributes are not copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ---- same bytes? ----------------------------------------------------- */

void cli_same_init(struct cli_same *s, int fd)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
}

void cli_same_free(struct cli_same *s)
{
    cli_buf_free(&s->q);
}

int cli_same_raw(struct cli_same *s, const void *p, size_t n)
{
    if (s->fd >= 0 || s->differs)
        return 0;
    if (s->q_off && s->q_off >= s->q.len / 2) {
        memmove(s->q.p, s->q.p + s->q_off, s->q.len - s->q_off);
        s->q.len -= s->q_off;
        s->q_off = 0;
    }
    return cli_buf_add(&s->q, p, n);
}

int cli_same_out(struct cli_same *s, const char *p, size_t n)
{
    if (s->differs || n == 0)
        return 0;
    if (s->fd < 0) {
        /* more output than input so far cannot be the input itself */
        if (s->q.len - s->q_off < n || memcmp(s->q.p + s->q_off, p, n) != 0) {
            s->differs = 1;
            cli_buf_free(&s->q);
            s->q_off = 0;
            return 0;
        }
        s->q_off += n;
        s->matched += n;
        return 0;
    }
    char buf[CLI_BLOCK];
    while (n) {
        size_t want = n < sizeof buf ? n : sizeof buf;
        ssize_t r = pread(s->fd, buf, want, (off_t)s->matched);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t got = (size_t)r;
        if (got == 0 || memcmp(buf, p, got) != 0) {
            s->differs = 1;
            return 0;
        }
        s->matched += got;
        p += got;
        n -= got;
    }
    return 0;
}

int cli_same_result(const struct cli_same *s, size_t raw_total)
{
    return !s->differs && s->matched == raw_total;
}

/* ---- signals --------------------------------------------------------- */

/* The temporary files in existence (the outputs and, in the rare fallback,
 * backup copies; two per -j thread at the most), for the signal handler to
 * remove.  A slot is taken and given back with the fatal signals blocked in
 * the thread, and the handler reads only slots marked live; the lock keeps
 * two threads from taking the same slot. */
#define SLOTS (2 * CLI_MAX_JOBS + 2)
static char sig_path[SLOTS][4096];
static volatile sig_atomic_t sig_live[SLOTS];
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static const int fatal[] = {SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGXFSZ};

static void on_fatal(int sig)
{
    for (int i = 0; i < SLOTS; i++)
        if (sig_live[i])
            unlink(sig_path[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_inplace_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction old;
        /* an ignored signal stays ignored, as the caller wanted */
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(fatal[i], &sa, NULL);
    }
}

static void block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaddset(&set, fatal[i]);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* mkstemp in path's directory; the name is registered for the signal
 * handler in a free slot (*slot), atomically with its creation.  Returns
 * the fd or -1. */
static int make_temp(const char *path, int *slot, char **tmp)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    static const char tail[] = ".zhfix-XXXXXX";
    char *t = malloc(dlen + sizeof tail);
    if (!t)
        return -1;
    memcpy(t, path, dlen);
    memcpy(t + dlen, tail, sizeof tail);
    sigset_t old;
    block(&old);
    int fd = mkstemp(t);
    int e = errno;
    *slot = -1;
    if (fd >= 0 && strlen(t) < sizeof sig_path[0]) {
        pthread_mutex_lock(&slot_lock);
        for (int i = 0; i < SLOTS; i++)
            if (!sig_live[i]) {
                strcpy(sig_path[i], t);
                sig_live[i] = 1;
                *slot = i;
                break;
            }
        pthread_mutex_unlock(&slot_lock);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        free(t);
        errno = e;
        return -1;
    }
    *tmp = t;
    return fd;
}

static void drop_temp(int *slot, char **tmp, int remove)
{
    sigset_t old;
    block(&old);
    if (*tmp && remove)
        unlink(*tmp);
    if (*slot >= 0) {
        pthread_mutex_lock(&slot_lock);
        sig_live[*slot] = 0;
        pthread_mutex_unlock(&slot_lock);
        *slot = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(*tmp);
    *tmp = NULL;
}

/* ---- writing --------------------------------------------------------- */

int cli_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fail(struct cli_inplace *ip, const char *what)
{
    ip->what = what;
    ip->err = errno;
    return -1;
}

/* The new file gets the original's owner where we may set it, and its
 * permission bits (set-id bits only when the owner could be kept). */
static int copy_attrs(int fd, const struct stat *st)
{
    mode_t mode = st->st_mode & 07777;
    if (fchown(fd, st->st_uid, st->st_gid) != 0)
        mode &= (mode_t)~(S_ISUID | S_ISGID);
    return fchmod(fd, mode);
}

/* Copy the original's bytes [0, len) to fd. */
static int copy_prefix(int from, int to, size_t len)
{
    char buf[CLI_BLOCK];
    size_t off = 0;
    while (off < len) {
        size_t want = len - off < sizeof buf ? len - off : sizeof buf;
        ssize_t r = pread(from, buf, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* the file shrank under us */
            return -1;
        }
        if (cli_write_all(to, buf, (size_t)r))
            return -1;
        off += (size_t)r;
    }
    return 0;
}

void cli_inplace_begin(struct cli_inplace *ip, const char *path, int fd,
                       const struct stat *st)
{
    memset(ip, 0, sizeof *ip);
    ip->path = path;
    ip->fd = fd;
    ip->st = *st;
    ip->tmp_fd = -1;
    ip->slot = -1;
    cli_same_init(&ip->same, fd);
}

/* The output just parted from the original: open the temporary file and
 * give it the out_total bytes found equal so far. */
static int start(struct cli_inplace *ip)
{
    ip->tmp_fd = make_temp(ip->path, &ip->slot, &ip->tmp_path);
    if (ip->tmp_fd < 0)
        return fail(ip, "cannot create a temporary file beside it");
    if (copy_attrs(ip->tmp_fd, &ip->st))
        return fail(ip, "cannot set the temporary file's mode");
    if (copy_prefix(ip->fd, ip->tmp_fd, ip->out_total))
        return fail(ip, "cannot write the temporary file");
    return 0;
}

static int flush(struct cli_inplace *ip)
{
    if (ip->wb.len && cli_write_all(ip->tmp_fd, ip->wb.p, ip->wb.len))
        return fail(ip, "cannot write the temporary file");
    ip->wb.len = 0;
    return 0;
}

int cli_inplace_write(struct cli_inplace *ip, const char *p, size_t n)
{
    if (ip->tmp_fd < 0) {
        if (cli_same_out(&ip->same, p, n))
            return fail(ip, "cannot read");
        if (!ip->same.differs) {
            ip->out_total += n;
            return 0;
        }
        if (start(ip))
            return -1;
    }
    ip->out_total += n;
    if (ip->wb.len + n > CLI_BLOCK && flush(ip))
        return -1;
    if (n >= CLI_BLOCK)
        return cli_write_all(ip->tmp_fd, p, n) ? fail(ip, "cannot write the temporary file") : 0;
    if (cli_buf_add(&ip->wb, p, n)) {
        errno = ENOMEM;
        return fail(ip, "cannot write the temporary file");
    }
    return 0;
}

/* path+suffix becomes the original: a hard link when the file system has
 * them (no copy, and the original stays in place until the rename), else a
 * copy made the same careful way as the output. */
static int backup(struct cli_inplace *ip, const char *suffix)
{
    size_t plen = strlen(ip->path);
    char *bak = malloc(plen + strlen(suffix) + 1);
    if (!bak) {
        errno = ENOMEM;
        return fail(ip, "cannot make the backup");
    }
    strcpy(bak, ip->path);
    strcpy(bak + plen, suffix);
    int rc = -1;
    /* an old backup is replaced, as sed -i does; the original is still
     * complete in its place while there is none */
    if (unlink(bak) != 0 && errno != ENOENT) {
        fail(ip, "cannot remove the old backup");
    } else if (link(ip->path, bak) == 0) {
        rc = 0;
    } else if (errno != EPERM && errno != EXDEV && errno != EMLINK && errno != ENOSYS &&
               errno != ENOTSUP && errno != EOPNOTSUPP) {
        fail(ip, "cannot make the backup");
    } else {
        char *t = NULL;
        int slot = -1;
        int fd = make_temp(ip->path, &slot, &t);
        if (fd < 0) {
            fail(ip, "cannot create a temporary file beside it");
        } else {
            int bad = copy_attrs(fd, &ip->st) ||
                      copy_prefix(ip->fd, fd, (size_t)ip->st.st_size) || fsync(fd);
            if (bad)
                fail(ip, "cannot write the backup");
            if (close(fd) != 0 && !bad)
                bad = fail(ip, "cannot write the backup");
            if (!bad && rename(t, bak) != 0)
                bad = fail(ip, "cannot make the backup");
            drop_temp(&slot, &t, bad);
            rc = bad ? -1 : 0;
        }
    }
    free(bak);
    return rc;
}

static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        /* some file systems cannot sync a directory (EINVAL); the rename
         * has happened all the same */
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int cli_inplace_commit(struct cli_inplace *ip, const char *suffix, int *rewritten)
{
    *rewritten = 0;
    if (ip->tmp_fd < 0) {
        if (cli_same_result(&ip->same, (size_t)ip->st.st_size))
            return 0;
        if (start(ip)) /* the output is a proper prefix of the original */
            return -1;
    }
    if (flush(ip))
        return -1;
    if (fsync(ip->tmp_fd) != 0)
        return fail(ip, "cannot sync the temporary file");
    int fd = ip->tmp_fd;
    ip->tmp_fd = -1;
    if (close(fd) != 0)
        return fail(ip, "cannot write the temporary file");
    if (suffix && backup(ip, suffix))
        return -1;
    if (rename(ip->tmp_path, ip->path) != 0)
        return fail(ip, "cannot replace it");
    drop_temp(&ip->slot, &ip->tmp_path, 0);
    sync_dir(ip->path);
    *rewritten = 1;
    return 0;
}

void cli_inplace_abort(struct cli_inplace *ip)
{
    int e = errno;
    if (ip->tmp_fd >= 0)
        close(ip->tmp_fd);
    ip->tmp_fd = -1;
    drop_temp(&ip->slot, &ip->tmp_path, 1);
    cli_buf_free(&ip->wb);
    cli_same_free(&ip->same);
    errno = e;
}
