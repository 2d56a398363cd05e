/*
 * fuzz_repair.c - libFuzzer harness for the repair entry point: the whole
 * pipeline (decode, mojibake, pinyin, punct, script) through the public
 * stream API, with options taken from the first input byte (see
 * fuzz_common.h for the format).
 *
 * Properties, each an abort() when violated:
 *  - no crash, leak or undefined behaviour (the sanitizers' part);
 *  - every piece keeps the zhfix_chunk/zhfix_edit contract and the output
 *    is valid UTF-8 with exactly the input's newlines;
 *  - the stream fed in data-derived chunks gives exactly what
 *    zhfix_repair() gives in one call (inputs stay under the 1 MiB window);
 *  - zhfix_stream_changed() says whether the output differs from the raw
 *    input bytes, both ways (what --check reports);
 *  - with ZHFIX_FUZZ_IDEMPOTENT=1 in the environment: repairing the output
 *    again (same script and passes, encoding detected) changes nothing:
 *    the same bytes, or a refusal of binary input where the output holds
 *    U+0000.
 *    Off by default while passes are being written; see fuzz/README.md.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* which harness this is, for fuzz/replay.c and its known-failing list */
extern const char zhfix_fuzz_harness[];
const char zhfix_fuzz_harness[] = "repair";

static int idempotent = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    if (!fuzz_input_parse(&in, data, size))
        return 0;
    if (idempotent < 0) {
        const char *e = getenv("ZHFIX_FUZZ_IDEMPOTENT");
        idempotent = e && *e && strcmp(e, "0") != 0;
    }
    int st;
    zhfix_ctx *ctx = zhfix_ctx_new(&in.opt, &st);
    FUZZ_ASSERT(ctx, "zhfix_ctx_new refused valid options: %s", zhfix_strerror(st));

    fuzz_sink k;
    int changed;
    int rc = fuzz_run_stream(ctx, &in, &k, &changed);
    fuzz_check_oneshot(ctx, &in, rc, &k);

    if (rc == ZHFIX_OK) {
        int differs = k.out_len != in.len || (in.len && memcmp(k.out, in.payload, in.len) != 0);
        if (!fuzz_skip("changed")) {
            FUZZ_ASSERT(!differs || changed, "output differs from input but changed() is 0");
            FUZZ_ASSERT(differs || !changed, "changed() is %d but output equals input", changed);
        }
    } else {
        /* the only ways a repair of bytes in memory may fail */
        FUZZ_ASSERT(rc == ZHFIX_EBINARY || (rc == ZHFIX_EENCODING && in.opt.from),
                    "repair failed: %d (%s)", rc, zhfix_strerror(rc));
    }

    if (idempotent && rc == ZHFIX_OK) {
        /* zhfix | zhfix: the second run reads the first's UTF-8 output with
         * the same script and passes, its encoding detected as a user's
         * pipe would (no --from) */
        zhfix_options o2 = in.opt;
        o2.from = NULL;
        zhfix_ctx *ctx2 = zhfix_ctx_new(&o2, &st);
        FUZZ_ASSERT(ctx2, "zhfix_ctx_new: %s", zhfix_strerror(st));
        char *again = NULL;
        size_t again_len = 0;
        int rc2 = zhfix_repair(ctx2, k.out, k.out_len, &again, &again_len);
        /* U+0000, which only a forced --from lets through, makes the
         * output binary to a run that detects: that run refuses it, and
         * so changes nothing either (`zhfix -i` leaves the file) */
        int nul = k.out_len && memchr(k.out, 0, k.out_len);
        FUZZ_ASSERT(rc2 == ZHFIX_OK || (rc2 == ZHFIX_EBINARY && nul),
                    "second run failed: %d (%s)", rc2, zhfix_strerror(rc2));
        if (rc2 == ZHFIX_EBINARY) {
            zhfix_ctx_free(ctx2);
            goto done;
        }
        size_t i = 0;
        while (i < again_len && i < k.out_len && again[i] == k.out[i])
            i++;
        if (again_len != k.out_len || i != again_len) {
            fuzz_dump("input", (const char *)in.payload, in.len);
            fuzz_dump("first", k.out, k.out_len);
            fuzz_dump("second", again, again_len);
            FUZZ_FAIL("not idempotent: second run (%zu bytes) differs from first (%zu bytes) "
                      "at byte %zu",
                      again_len, k.out_len, i);
        }
        free(again);
        zhfix_ctx_free(ctx2);
    }
done:
    free(k.out);
    zhfix_ctx_free(ctx);
    fuzz_input_free(&in);
    return 0;
}
