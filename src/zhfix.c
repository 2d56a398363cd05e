/* zhfix.c - placeholder program: repairs stdin or files to stdout. */
#include <stdio.h>
#include <string.h>

#include "zhfix.h"

static int to_stdout(void *arg, const zhfix_chunk *c)
{
    (void)arg;
    return fwrite(c->output, 1, c->output_len, stdout) == c->output_len ? 0 : -1;
}

int main(int argc, char **argv)
{
    zhfix_options opt;
    zhfix_options_init(&opt);
    int st, rc = 0;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--script=keep") == 0) {
        opt.script = ZHFIX_SCRIPT_KEEP;
        i++;
    }
    zhfix_ctx *ctx = zhfix_ctx_new(&opt, &st);
    if (!ctx)
        return 2;
    for (; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            rc = 3;
            continue;
        }
        zhfix_stream *s = zhfix_stream_new(ctx, to_stdout, NULL);
        char buf[65536];
        size_t n;
        st = ZHFIX_OK;
        while (st == ZHFIX_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
            st = zhfix_stream_feed(s, buf, n);
        if (st == ZHFIX_OK)
            st = zhfix_stream_end(s);
        if (st != ZHFIX_OK) {
            fprintf(stderr, "zhfix: %s: %s\n", argv[i], zhfix_strerror(st));
            rc = 3;
        }
        zhfix_stream_free(s);
        fclose(f);
    }
    zhfix_ctx_free(ctx);
    return rc;
}
