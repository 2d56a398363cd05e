/*
 * context.c - the reusable, immutable repair context and the library's
 * names: status messages, pass names, edit kind names.
 */
#include <stdlib.h>
#include <string.h>

#include "zf.h"

const char *zhfix_version(void)
{
    return ZHFIX_VERSION_STRING;
}

const char *zhfix_strerror(int status)
{
    switch (status) {
    case ZHFIX_OK: return "success";
    case ZHFIX_ENOMEM: return "out of memory";
    case ZHFIX_EINVAL: return "invalid argument";
    case ZHFIX_EBINARY: return "binary file (NUL bytes or no text encoding fits)";
    case ZHFIX_EENCODING: return "unknown encoding";
    case ZHFIX_EUNREPRESENTABLE: return "character not representable in the output encoding";
    case ZHFIX_ESINK: return "output failed";
    case ZHFIX_ESTATE: return "call out of order";
    default: return "unknown error";
    }
}

static const char *const pass_names[] = {"mojibake", "pinyin", "punct", "script"};

const char *zhfix_pass_name(unsigned pass)
{
    for (unsigned i = 0; i < 4; i++)
        if (pass == (1u << i))
            return pass_names[i];
    return NULL;
}

unsigned zhfix_pass_from_name(const char *name, size_t len)
{
    for (unsigned i = 0; i < 4; i++)
        if (strlen(pass_names[i]) == len && memcmp(pass_names[i], name, len) == 0)
            return 1u << i;
    return 0;
}

static const char *const kind_names[ZHFIX_EDIT_KIND_COUNT] = {
    "mojibake", "pinyin", "punct", "comma", "script", "unresolved",
};

const char *zhfix_edit_kind_name(int kind)
{
    if (kind < 0 || kind >= ZHFIX_EDIT_KIND_COUNT)
        return "unknown";
    return kind_names[kind];
}

void zhfix_options_init(zhfix_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->script = ZHFIX_SCRIPT_AUTO;
    opt->passes = ZHFIX_PASS_ALL;
    opt->from = NULL;
}

zhfix_ctx *zhfix_ctx_new(const zhfix_options *opt, int *status)
{
    int st = ZHFIX_OK;
    zhfix_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        st = ZHFIX_ENOMEM;
        goto out;
    }
    if (opt)
        ctx->opt = *opt;
    else
        zhfix_options_init(&ctx->opt);
    if ((unsigned)ctx->opt.script > ZHFIX_SCRIPT_KEEP || (ctx->opt.passes & ~(unsigned)ZHFIX_PASS_ALL)) {
        st = ZHFIX_EINVAL;
        goto out;
    }
    if (ctx->opt.from) {
        if (strlen(ctx->opt.from) >= sizeof ctx->from || !zf_encoding_known(ctx->opt.from)) {
            st = ZHFIX_EENCODING;
            goto out;
        }
        strcpy(ctx->from, ctx->opt.from);
        ctx->opt.from = ctx->from;
    }
out:
    if (st != ZHFIX_OK) {
        free(ctx);
        ctx = NULL;
    }
    if (status)
        *status = st;
    return ctx;
}

void zhfix_ctx_free(zhfix_ctx *ctx)
{
    free(ctx);
}
