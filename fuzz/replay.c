/*
 * replay.c - runs a harness's LLVMFuzzerTestOneInput over every file of a
 * corpus without libFuzzer, so `make check` replays the seeds and every
 * crash reproducer ever found (SQLite's fuzzcheck idea), with whatever
 * compiler and sanitizers the build uses.
 *
 * Usage: replay [DIR|FILE]...
 * With no argument the corpus is $ZHFIX_FUZZ_CORPUS, else
 * $top_srcdir/fuzz/corpus (the test environment exports top_srcdir), else
 * the FUZZ_CORPUS_DIR the program was compiled with.  Directories are read
 * recursively, files in name order, each in a child process so that one
 * failure (an abort(), a sanitizer report) does not hide the others; the
 * child runs the input twice, each from an exact-size copy.
 *
 * Files named repro-idempotent-* are run with ZHFIX_FUZZ_IDEMPOTENT=1.
 *
 * Known failures: a file `known-failing` beside a corpus directory lists
 * reproducers of bugs not fixed yet, one per line, PATTERN<TAB>reason, as
 * tests/known-failing does for fixtures.  PATTERN is a substring of
 * "HARNESS/NAME" (HARNESS is repair or decode, NAME the file's name).  A
 * listed input that fails is XFAIL.  One that passes is reported as XPASS
 * but does not fail the run: a reproducer of undefined behaviour passes in
 * a build without sanitizers, so only the sanitizer build can say it is
 * fixed.  Remove the line when the bug is fixed.
 *
 * Exit status: 0 all passed (or failed as known), 1 a failure, 99 the
 * corpus could not be read (automake's "hard error").
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const char zhfix_fuzz_harness[]; /* "repair" or "decode" */

static size_t n_pass, n_fail, n_xfail, n_xpass;
static char *known;        /* the known-failing file's text */

/* The reason `name` is listed as known-failing, or NULL. */
static const char *known_reason(const char *name, char *buf, size_t size)
{
    char key[1024];
    snprintf(key, sizeof key, "%s/%s", zhfix_fuzz_harness, name);
    for (const char *l = known; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        const char *tab = memchr(l, '\t', len);
        if (len && *l != '#' && tab && tab > l) {
            char pat[1024];
            size_t pl = (size_t)(tab - l);
            if (pl < sizeof pat) {
                memcpy(pat, l, pl);
                pat[pl] = '\0';
                if (strstr(key, pat)) {
                    size_t rl = len - pl - 1;
                    if (rl >= size)
                        rl = size - 1;
                    memcpy(buf, tab + 1, rl);
                    buf[rl] = '\0';
                    return buf;
                }
            }
        }
        l = e ? e + 1 : l + len;
    }
    return NULL;
}

static unsigned char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    unsigned char *p = malloc(cap);
    while (p) {
        len += fread(p + len, 1, cap - len, f);
        if (len < cap)
            break;
        cap *= 2;
        unsigned char *q = realloc(p, cap);
        if (!q)
            free(p);
        p = q;
    }
    if (p && ferror(f)) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len_out = len;
    return p;
}

static void load_known(const char *corpus_dir)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/../known-failing", corpus_dir);
    unsigned char *p = slurp(path, &len);
    if (!p)
        return;
    char *t = realloc(p, len + 1);
    if (!t) {
        free(p);
        return;
    }
    t[len] = '\0';
    free(known);
    known = t;
}

/* Run one input in a child; returns -1 when the file cannot be read. */
static int run_file(const char *path)
{
    size_t len;
    unsigned char *p = slurp(path, &len);
    if (!p) {
        perror(path);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        free(p);
        return -1;
    }
    if (pid == 0) {
        /* a reproducer of an idempotence failure checks that property,
         * which the harness checks only when asked (see fuzz_repair.c) */
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (strncmp(base, "repro-idempotent-", 17) == 0)
            setenv("ZHFIX_FUZZ_IDEMPOTENT", "1", 1);
        /* twice, from fresh copies, as libFuzzer runs an input: a result
         * that depends on what an earlier run left behind (a static, an
         * uninitialised variable) shows as a difference */
        for (int i = 0; i < 2; i++) {
            unsigned char *q = malloc(len ? len : 1);
            if (!q)
                _exit(99);
            memcpy(q, p, len);
            LLVMFuzzerTestOneInput(q, len);
            free(q);
        }
        free(p);
        _exit(0);
    }
    free(p);
    int st;
    if (waitpid(pid, &st, 0) < 0) {
        perror("waitpid");
        return -1;
    }
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char why[512];
    const char *reason = known_reason(name, why, sizeof why);
    if (ok && !reason) {
        n_pass++;
    } else if (ok) {
        n_xpass++;
        printf("XPASS: %s [%s] (listed as known-failing: %s; remove the line if it is fixed)\n", path,
               zhfix_fuzz_harness, reason);
    } else if (reason) {
        n_xfail++;
        printf("XFAIL: %s [%s] (%s)\n", path, zhfix_fuzz_harness, reason);
    } else {
        n_fail++;
        if (WIFSIGNALED(st))
            printf("FAIL: %s [%s] (signal %d)\n", path, zhfix_fuzz_harness, WTERMSIG(st));
        else
            printf("FAIL: %s [%s] (exit %d)\n", path, zhfix_fuzz_harness, WEXITSTATUS(st));
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., and hidden files such as editors' backups */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **q = realloc(names, cap * sizeof *names);
            if (!q) {
                rc = -1;
                break;
            }
            names = q;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) {
            rc = -1;
            break;
        }
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = run_path(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    char fallback[4096];
    const char *dirs[1];
    const char *const *list = (const char *const *)argv + 1;
    int n = argc - 1;
    if (n == 0) {
        const char *c = getenv("ZHFIX_FUZZ_CORPUS");
        const char *top = getenv("top_srcdir");
        if (c && *c) {
            dirs[0] = c;
        } else if (top && *top) {
            snprintf(fallback, sizeof fallback, "%s/fuzz/corpus", top);
            dirs[0] = fallback;
        } else {
#ifdef FUZZ_CORPUS_DIR
            dirs[0] = FUZZ_CORPUS_DIR;
#else
            fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
            return 2;
#endif
        }
        list = dirs;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(list[i], &st) == 0 && S_ISDIR(st.st_mode))
            load_known(list[i]);
        if (run_path(list[i]) != 0)
            return 99;
    }
    size_t total = n_pass + n_fail + n_xfail + n_xpass;
    printf("%s replay: %zu inputs: %zu passed, %zu failed, %zu known failures, %zu fixed "
           "(XPASS)\n",
           zhfix_fuzz_harness, total, n_pass, n_fail, n_xfail, n_xpass);
    free(known);
    if (total == 0)
        return 99;
    return n_fail ? 1 : 0;
}
