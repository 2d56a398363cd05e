/*
 * pass_driver.c - runs the repair pipeline over UTF-8 on stdin, bypassing
 * detection and decoding, so a pass can be tested alone:
 *
 *   pass_driver [--only=PASS,...] [--script=auto|hans|hant|keep] [--edits]
 *
 * Prints the output text; with --edits, prints one line per edit instead:
 * "KIND IN_START-IN_END OUT_START-OUT_END BEFORE -> AFTER".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zf.h"

int main(int argc, char **argv)
{
    zhfix_options opt;
    zhfix_options_init(&opt);
    int show_edits = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--only=", 7) == 0) {
            opt.passes = 0;
            const char *p = a + 7;
            while (*p) {
                size_t n = strcspn(p, ",");
                unsigned bit = zhfix_pass_from_name(p, n);
                if (!bit) {
                    fprintf(stderr, "pass_driver: unknown pass '%.*s'\n", (int)n, p);
                    return 2;
                }
                opt.passes |= bit;
                p += n + (p[n] == ',');
            }
        } else if (strncmp(a, "--script=", 9) == 0) {
            static const char *const names[] = {"auto", "hans", "hant", "keep"};
            int found = 0;
            for (int k = 0; k < 4; k++)
                if (strcmp(a + 9, names[k]) == 0) {
                    opt.script = (zhfix_script)k;
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "pass_driver: bad script '%s'\n", a + 9);
                return 2;
            }
        } else if (strcmp(a, "--edits") == 0) {
            show_edits = 1;
        } else {
            fprintf(stderr, "usage: pass_driver [--only=PASS,...] [--script=S] [--edits]\n");
            return 2;
        }
    }
    zf_buf in = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, stdin)) > 0)
        if (zf_buf_add(&in, tmp, n) != ZHFIX_OK)
            return 3;
    zf_doc doc;
    memset(&doc, 0, sizeof doc);
    zf_pipeline p;
    memset(&p, 0, sizeof p);
    const char *out = "";
    size_t out_len = 0;
    int rc = zf_pipeline_run(&p, &opt, &doc, in.p ? in.p : "", in.len, &out, &out_len);
    if (rc != ZHFIX_OK) {
        fprintf(stderr, "pass_driver: %s\n", zhfix_strerror(rc));
        return 3;
    }
    if (show_edits) {
        zf_edits_finish(&p.all);
        for (size_t i = 0; i < p.all.n; i++) {
            const zhfix_edit *e = &p.all.v[i];
            printf("%s %zu-%zu %zu-%zu %.*s -> %.*s\n", zhfix_edit_kind_name(e->kind),
                   e->in_start, e->in_end, e->out_start, e->out_end,
                   (int)e->before_len, e->before, (int)e->after_len, e->after);
        }
    } else {
        fwrite(out, 1, out_len, stdout);
    }
    zf_pipeline_free(&p);
    zf_doc_free(&doc);
    zf_buf_free(&in);
    return 0;
}
