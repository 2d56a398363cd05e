/*
 * cli_walk.c - -r and -R: the regular files under a directory.
 *
 * Entries are visited in bytewise sorted order, so two runs over the same
 * tree print the same thing.  A directory is read whole before any of its
 * entries is processed, so files that -i creates there (its temporary file,
 * a backup) are never visited.  Symbolic links are not followed (a link
 * out of the tree, or a loop, cannot surprise anyone); FIFOs, sockets and
 * devices are skipped: reading them could block or never end.
 *
 * -R follows symbolic links, as grep -R does: a link to a directory is
 * walked unless that directory is already one of the walk's own ancestors
 * (a loop, skipped with a notice), a broken link is an error.
 *
 * --include, --exclude and --exclude-dir match the base name with
 * fnmatch(3), as grep does.  They filter what a walk finds; a FILE named on
 * the command line is always processed.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int worse(int a, int b)
{
    return a > b ? a : b; /* 3 (trouble) > 1 (found) > 0 */
}

static int any(const struct cli_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], name, 0) == 0)
            return 1;
    return 0;
}

/* The directories from the top of the walk down to the current one. */
struct up {
    dev_t dev;
    ino_t ino;
    const struct up *next;
};

static int walk(const char *dir, const struct cli *c, cli_walk_fn fn, void *arg,
                const struct up *up)
{
    /* "" is the current directory, its entries named without "./" */
    const char *shown = *dir ? dir : ".";
    DIR *d = opendir(shown);
    if (!d) {
        cli_error(shown, "%s", strerror(errno));
        return CLI_EXIT_TROUBLE;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = CLI_EXIT_OK;
    struct dirent *e;
    for (;;) {
        errno = 0;
        if (!(e = readdir(d))) {
            if (errno) {
                cli_error(shown, "%s", strerror(errno));
                rc = CLI_EXIT_TROUBLE;
            }
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        /* A temporary file of `zhfix -i` (cli_inplace.c: .zhfix-XXXXXX),
         * left behind when a run was killed: a partial copy, not a file of
         * the tree, and rewriting it would only make another. */
        if (strncmp(e->d_name, ".zhfix-", 7) == 0 && strlen(e->d_name) == 13)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **v = realloc(names, cap * sizeof *v);
            if (!v)
                goto nomem;
            names = v;
        }
        if (!(names[n] = strdup(e->d_name)))
            goto nomem;
        n++;
    }
    closedir(d);
    d = NULL;
    if (n)
        qsort(names, n, sizeof *names, by_name);

    size_t dlen = strlen(dir);
    int slash = !dlen || dir[dlen - 1] == '/';
    for (size_t i = 0; i < n; i++) {
        size_t len = dlen + !slash + strlen(names[i]) + 1;
        char *path = malloc(len);
        if (!path)
            goto nomem;
        strcpy(path, dir);
        if (!slash)
            strcat(path, "/");
        strcat(path, names[i]);
        struct stat st;
        if ((c->follow ? stat(path, &st) : lstat(path, &st)) != 0) {
            cli_error(path, "%s", strerror(errno));
            rc = CLI_EXIT_TROUBLE;
        } else if (S_ISDIR(st.st_mode)) {
            const struct up *a = up;
            while (a && !(a->dev == st.st_dev && a->ino == st.st_ino))
                a = a->next;
            if (a) {
                cli_warn(c, path, "recursive directory loop, skipped");
            } else if (!any(&c->exclude_dir, names[i])) {
                struct up here = {st.st_dev, st.st_ino, up};
                int w = walk(path, c, fn, arg, &here);
                if (w < 0) {
                    rc = w;
                    free(path);
                    break;
                }
                rc = worse(rc, w);
            }
        } else if (S_ISREG(st.st_mode) && (!c->include.n || any(&c->include, names[i])) &&
                   !any(&c->exclude, names[i])) {
            int f = fn(arg, path);
            if (f < 0) { /* the caller wants no more */
                rc = f;
                free(path);
                break;
            }
            rc = worse(rc, f);
        }
        free(path);
    }
    goto out;
nomem:
    cli_error(shown, "%s", strerror(ENOMEM));
    rc = CLI_EXIT_TROUBLE;
out:
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int cli_walk(const char *dir, const struct cli *c, cli_walk_fn fn, void *arg)
{
    struct stat st;
    struct up top = {0, 0, NULL};
    if (stat(*dir ? dir : ".", &st) == 0) {
        top.dev = st.st_dev;
        top.ino = st.st_ino;
    }
    return walk(dir, c, fn, arg, &top);
}
