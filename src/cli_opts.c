/*
 * cli_opts.c - the command line.  One table describes every option; both
 * getopt_long's list and --help are built from it, so they cannot disagree.
 * man/zhfix.1 says the same in more words (tests/cli.sh checks that every
 * option in --help is in the man page and the other way round).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

enum {
    OPT_CHECK = 256, OPT_DIFF, OPT_EXPLAIN, OPT_REPORT, OPT_SCRIPT, OPT_ONLY,
    OPT_SKIP, OPT_FROM, OPT_TO, OPT_FORCE, OPT_HELP, OPT_VERSION, OPT_JSONL,
    OPT_JSONL_INVALID, OPT_INCLUDE, OPT_EXCLUDE, OPT_EXCLUDE_DIR, OPT_STATS
};

struct opt {
    const char *name;     /* long name */
    int key;              /* short letter, or an OPT_ value */
    int has_arg;          /* no_argument, required_argument, optional_argument */
    const char *arg;      /* the argument's name in --help */
    const char *help;     /* lines separated by '\n' */
};

static const struct opt opts[] = {
    {"in-place", 'i', optional_argument, "SUFFIX",
     "edit the FILEs in place: each is replaced, only\n"
     "once complete, by a temporary file written beside\n"
     "it; a file that needs no change is not rewritten;\n"
     "with SUFFIX (-iSUFFIX), keep the original as\n"
     "FILE+SUFFIX"},
    {"check", OPT_CHECK, no_argument, NULL,
     "change nothing; list the files that need repair\n"
     "and exit 1 if there are any"},
    {"diff", OPT_DIFF, no_argument, NULL,
     "print a unified diff of the repair, not the text"},
    {"explain", OPT_EXPLAIN, no_argument, NULL,
     "print one line per edit, not the text:\n"
     "FILE:LINE:COL: KIND: BEFORE -> AFTER\n"
     "(to standard error when --diff is given)"},
    {"report", OPT_REPORT, required_argument, "FILE",
     "write one JSON object per input to FILE\n"
     "(- is standard output); with --jsonl, one more\n"
     "per record changed or invalid, with its line"},
    {"script", OPT_SCRIPT, required_argument, "MODE",
     "auto: restore the original script (default);\n"
     "hans: Simplified; hant: Traditional;\n"
     "keep: change no script"},
    {"only", OPT_ONLY, required_argument, "PASS,...",
     "run only these passes: mojibake, pinyin, punct,\n"
     "script"},
    {"skip", OPT_SKIP, required_argument, "PASS,...",
     "do not run these passes"},
    {"from", OPT_FROM, required_argument, "ENC",
     "read the input as ENC instead of detecting it"},
    {"to", OPT_TO, required_argument, "ENC",
     "write ENC instead of UTF-8; a character ENC\n"
     "cannot hold is an error (exit 3, the file is\n"
     "left as it was)"},
    {"force", OPT_FORCE, no_argument, NULL,
     "with -i, rewrite a file with undecodable bytes\n"
     "too (each becomes U+FFFD)"},
    {"jsonl", OPT_JSONL, optional_argument, "FIELD,...",
     "the input is JSON Lines: repair the string value\n"
     "of each FIELD (default text; a.b is key b of the\n"
     "object under key a) and keep every other byte of\n"
     "the record; one output line per input line"},
    {"jsonl-invalid", OPT_JSONL_INVALID, required_argument, "ACTION",
     "a line that is not a JSON object: fail (default:\n"
     "error naming FILE:LINE, exit 3, -i leaves the\n"
     "file alone), pass (copy it, with a warning) or\n"
     "drop (leave it out, with a warning)"},
    {"recursive", 'r', no_argument, NULL,
     "process the files under each directory (default\n"
     ".) in sorted order; symbolic links are not\n"
     "followed, binary files are skipped with a notice"},
    {"dereference-recursive", 'R', no_argument, NULL,
     "like -r, but follow every symbolic link"},
    {"include", OPT_INCLUDE, required_argument, "GLOB",
     "with -r, process only files whose base name\n"
     "matches GLOB (repeatable; FILEs named are always\n"
     "processed)"},
    {"exclude", OPT_EXCLUDE, required_argument, "GLOB",
     "with -r, skip files whose base name matches GLOB"},
    {"exclude-dir", OPT_EXCLUDE_DIR, required_argument, "GLOB",
     "with -r, skip directories whose name matches GLOB"},
    {"jobs", 'j', required_argument, "N",
     "repair N files at a time, in N threads; the\n"
     "output and --report keep the input order"},
    {"stats", OPT_STATS, no_argument, NULL,
     "print a summary on standard error at the end:\n"
     "files, bytes, edits of each kind, time"},
    {"quiet", 'q', no_argument, NULL,
     "print no warnings, notices or progress (errors\n"
     "still are); with --check, list nothing: the exit\n"
     "status tells"},
    {"help", OPT_HELP, no_argument, NULL, "print this help and exit"},
    {"version", OPT_VERSION, no_argument, NULL, "print the version and exit"},
};
#define N_OPTS (sizeof opts / sizeof opts[0])

static void help(FILE *out)
{
    fputs("Usage: zhfix [OPTION]... [FILE]...\n"
          "Repair damaged Chinese text: decode legacy encodings (GB18030, Big5,\n"
          "UTF-16, ...) to UTF-8 and mend mojibake, pinyin annotations, ASCII\n"
          "punctuation and mixed Traditional/Simplified script.\n"
          "With no FILE, or when FILE is -, read standard input.  The repaired\n"
          "text goes to standard output, several FILEs one after the other.\n"
          "\n", out);
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &opts[i];
        char head[64];
        int n;
        if (o->key < 256)
            n = snprintf(head, sizeof head, "  -%c, --%s", o->key, o->name);
        else
            n = snprintf(head, sizeof head, "      --%s", o->name);
        if (o->has_arg == optional_argument)
            n += snprintf(head + n, sizeof head - (size_t)n, "[=%s]", o->arg);
        else if (o->has_arg == required_argument)
            n += snprintf(head + n, sizeof head - (size_t)n, "=%s", o->arg);
        fputs(head, out);
        const int col = 27;
        if (n > col - 2) {
            fputc('\n', out);
            n = 0;
        }
        for (const char *p = o->help; *p;) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            fprintf(out, "%*s%.*s\n", col - n, "", (int)len, p);
            n = 0;
            p += len + (e != NULL);
        }
    }
    fputs("\n"
          "The output is UTF-8 unless --to says otherwise; line endings and a\n"
          "missing final newline are kept as found.  Undecodable bytes become\n"
          "U+FFFD, with a warning; -i leaves such a file alone unless --force.\n"
          "--diff and --explain show the repair of the decoded text (a change of\n"
          "encoding alone shows no diff); with -i they are printed while the\n"
          "files are changed.\n"
          "On a terminal, a progress line on standard error shows files, MB,\n"
          "MB/s, edits and the time left, for runs longer than a second.\n"
          "\n"
          "Exit status: 0 done, 1 --check found files to repair, 2 usage error,\n"
          "3 some input could not be read, repaired or written (the others were\n"
          "still processed).\n", out);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("zhfix: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'zhfix --help' for more information.\n", stderr);
    return CLI_EXIT_USAGE;
}

/* "a,b,c" -> pass bits; 0 (and a message) on an unknown name. */
static unsigned pass_list(const char *opt, const char *list)
{
    unsigned bits = 0;
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        unsigned bit = zhfix_pass_from_name(p, len);
        if (!bit) {
            fprintf(stderr, "zhfix: unknown pass '%.*s' in --%s (known: mojibake, pinyin, "
                    "punct, script)\nTry 'zhfix --help' for more information.\n",
                    (int)len, p, opt);
            return 0;
        }
        bits |= bit;
        p += len;
        if (!*p)
            return bits;
    }
}

/* Append an option's argument to a list.  Returns 0 or -1. */
static int list_add(struct cli_list *l, const char *s)
{
    const char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    v[l->n++] = s;
    l->v = v;
    return 0;
}

/* --jsonl=a,b.c: the field names, each a copy. */
static int field_list(struct cli_list *l, const char *spec)
{
    for (const char *p = spec;; p++) {
        size_t len = strcspn(p, ",");
        char *f = strndup(p, len);
        if (!f || list_add(l, f)) {
            free(f);
            return -1;
        }
        if (!len || f[0] == '.' || f[len - 1] == '.' || strstr(f, "..")) {
            fprintf(stderr, "zhfix: empty field name in --jsonl='%s'\n"
                    "Try 'zhfix --help' for more information.\n", spec);
            return 1;
        }
        p += len;
        if (!*p)
            return 0;
    }
}

void cli_free(struct cli *c)
{
    for (size_t i = 0; i < c->fields.n; i++)
        free((char *)c->fields.v[i]);
    free(c->fields.v);
    free(c->include.v);
    free(c->exclude.v);
    free(c->exclude_dir.v);
    memset(c, 0, sizeof *c);
}

int cli_parse(int argc, char **argv, struct cli *c, int *first)
{
    struct option lo[N_OPTS + 1];
    char so[3 * N_OPTS + 1];
    size_t k = 0;
    for (size_t i = 0; i < N_OPTS; i++) {
        lo[i] = (struct option){opts[i].name, opts[i].has_arg, NULL, opts[i].key};
        if (opts[i].key < 256) {
            so[k++] = (char)opts[i].key;
            if (opts[i].has_arg == optional_argument) {
                so[k++] = ':';
                so[k++] = ':';
            } else if (opts[i].has_arg == required_argument) {
                so[k++] = ':';
            }
        }
    }
    so[k] = 0;
    lo[N_OPTS] = (struct option){NULL, 0, NULL, 0};

    memset(c, 0, sizeof *c);
    zhfix_options_init(&c->zo);
    c->jobs = 1;
    unsigned only = ZHFIX_PASS_ALL, skip = 0;
    int ch;
    argv[0] = (char *)"zhfix"; /* getopt_long's messages name argv[0] */
    while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        switch (ch) {
        case 'i':
            c->in_place = 1;
            c->suffix = optarg && *optarg ? optarg : NULL;
            break;
        case 'r': c->recursive = 1; break;
        case 'R': c->recursive = c->follow = 1; break;
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || end == optarg || n < 1 || n > CLI_MAX_JOBS) {
                fprintf(stderr, "zhfix: invalid -j '%s' (1 to %d)\n", optarg, CLI_MAX_JOBS);
                goto usage;
            }
            c->jobs = (int)n;
            break;
        }
        case OPT_JSONL: {
            c->jsonl = 1;
            for (size_t i = 0; i < c->fields.n; i++)
                free((char *)c->fields.v[i]);
            c->fields.n = 0;
            int e = field_list(&c->fields, optarg ? optarg : "text");
            if (e < 0)
                goto nomem;
            if (e > 0)
                return CLI_EXIT_USAGE;
            break;
        }
        case OPT_JSONL_INVALID:
            if (strcmp(optarg, "fail") == 0) c->jsonl_invalid = CLI_INVALID_FAIL;
            else if (strcmp(optarg, "pass") == 0) c->jsonl_invalid = CLI_INVALID_PASS;
            else if (strcmp(optarg, "drop") == 0) c->jsonl_invalid = CLI_INVALID_DROP;
            else
                return usage_error("unknown --jsonl-invalid '%s' (fail, pass or drop)", optarg);
            break;
        case OPT_INCLUDE:
            if (list_add(&c->include, optarg))
                goto nomem;
            break;
        case OPT_EXCLUDE:
            if (list_add(&c->exclude, optarg))
                goto nomem;
            break;
        case OPT_EXCLUDE_DIR:
            if (list_add(&c->exclude_dir, optarg))
                goto nomem;
            break;
        case OPT_STATS: c->stats = 1; break;
        case 'q': c->quiet = 1; break;
        case OPT_CHECK: c->check = 1; break;
        case OPT_DIFF: c->diff = 1; break;
        case OPT_EXPLAIN: c->explain = 1; break;
        case OPT_FORCE: c->force = 1; break;
        case OPT_REPORT:
            if (!*optarg)
                return usage_error("--report needs a FILE name%s", "");
            c->report = optarg;
            break;
        case OPT_SCRIPT:
            if (strcmp(optarg, "auto") == 0) c->zo.script = ZHFIX_SCRIPT_AUTO;
            else if (strcmp(optarg, "hans") == 0) c->zo.script = ZHFIX_SCRIPT_HANS;
            else if (strcmp(optarg, "hant") == 0) c->zo.script = ZHFIX_SCRIPT_HANT;
            else if (strcmp(optarg, "keep") == 0) c->zo.script = ZHFIX_SCRIPT_KEEP;
            else
                return usage_error("unknown --script '%s' (auto, hans, hant or keep)", optarg);
            break;
        case OPT_ONLY:
            if (!(only = pass_list("only", optarg)))
                return CLI_EXIT_USAGE;
            break;
        case OPT_SKIP:
            if (!(skip |= pass_list("skip", optarg)))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FROM: c->zo.from = optarg; break;
        case OPT_TO: c->to = optarg; break;
        case OPT_HELP:
            help(stdout);
            return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_TROUBLE;
        case OPT_VERSION:
            printf("zhfix %s (libzhfix %s)\n", ZHFIX_VERSION_STRING, zhfix_version());
            return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_TROUBLE;
        default: /* getopt_long has said what is wrong */
            goto usage;
        }
    }
    c->zo.passes = only & ~skip;
    if (c->jsonl) {
        /* JSON text is UTF-8 (RFC 8259, section 8.1): the values are
         * repaired as UTF-8, never re-detected */
        if (c->zo.from && strcasecmp(c->zo.from, "UTF-8") && strcasecmp(c->zo.from, "UTF8"))
            return usage_error("--jsonl reads UTF-8 (JSON text is UTF-8): it cannot be "
                               "combined with --from=%s", c->zo.from);
        if (c->to)
            return usage_error("--jsonl writes UTF-8 (JSON text is UTF-8): it cannot be "
                               "combined with --to=%s", c->to);
        c->zo.from = "UTF-8";
        if (c->diff && c->jsonl_invalid == CLI_INVALID_DROP)
            return usage_error("--diff cannot show a line --jsonl-invalid=drop leaves out%s", "");
    }

    if (c->check && (c->in_place || c->diff || c->explain))
        return usage_error("--check cannot be combined with %s",
                           c->in_place ? "-i" : c->diff ? "--diff" : "--explain");
    if (c->in_place) {
        if (optind == argc && !c->recursive)
            return usage_error("-i needs FILE operands: standard input cannot be "
                               "edited in place%s", "");
        for (int i = optind; i < argc; i++)
            if (strcmp(argv[i], "-") == 0)
                return usage_error("-i cannot edit standard input (-)%s", "");
    }
    /* The repaired text is printed only when nothing else takes its place. */
    c->text = !c->in_place && !c->check && !c->diff && !c->explain;
    *first = optind;
    return -1;
usage:
    fputs("Try 'zhfix --help' for more information.\n", stderr);
    return CLI_EXIT_USAGE;
nomem:
    fputs("zhfix: out of memory\n", stderr);
    return CLI_EXIT_TROUBLE;
}
