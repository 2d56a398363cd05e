/*
 * zf.h - what the library's files share inside libzhfix (prefix zf_).
 * Nothing here is exported; the public interface is zhfix.h.
 */
#ifndef ZF_H
#define ZF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zhfix.h"

/* ---- growable byte buffer (buf.c) ------------------------------------ */

/* A byte buffer that always keeps one spare byte for a terminating NUL.
 * Growth is capped by ZF_BUF_MAX so hostile input cannot exhaust memory. */
#define ZF_BUF_MAX ((size_t)1 << 30)

typedef struct zf_buf {
    char *p;
    size_t len, cap;
} zf_buf;

int zf_buf_reserve(zf_buf *b, size_t extra); /* ZHFIX_OK or ZHFIX_ENOMEM */
int zf_buf_add(zf_buf *b, const void *p, size_t n);
int zf_buf_addc(zf_buf *b, char c);
void zf_buf_free(zf_buf *b);

/* ---- UTF-8 (utf8.c) -------------------------------------------------- */

/* Decode one code point at s[0..n).  Returns its length (1-4) and stores it
 * in *cp; an invalid or truncated sequence returns 1 and *cp = -1.
 * Every pass calls it once per character, so the two cases that make up
 * nearly all Chinese text (ASCII; a three-byte sequence led by E1..EC or
 * EE..EF, U+1000..U+FFFF but for the surrogates' ED, Han and CJK and
 * full-width punctuation included, which needs no overlong or surrogate
 * check) are inline; the rest is zf_utf8_next_slow(). */
int zf_utf8_next_slow(const char *s, size_t n, int32_t *cp);
static inline int zf_utf8_next(const char *s, size_t n, int32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    if (c - 0xE1u <= 0xEF - 0xE1u && c != 0xED && n >= 3 && (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80) {
        *cp = (int32_t)(((c & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu));
        return 3;
    }
    return zf_utf8_next_slow(s, n, cp);
}
/* The first byte at or after i in u[0..n) that is not ASCII, or n: ASCII
 * runs dominate real text, so they are passed eight bytes at a time. */
static inline size_t zf_ascii_end(const unsigned char *u, size_t i, size_t n)
{
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, u + i, 8);
        if (w & 0x8080808080808080ull)
            break;
        i += 8;
    }
    while (i < n && u[i] < 0x80)
        i++;
    return i;
}
/* Length of the valid UTF-8 prefix of s[0..n).  A sequence cut off by the
 * end of the buffer is not counted. */
size_t zf_utf8_valid_prefix(const char *s, size_t n);
/* Encode cp into out (4 bytes room); returns the length. */
int zf_utf8_put(int32_t cp, char *out);
/* Offset of the code point that starts before s[i] (i > 0). */
size_t zf_utf8_prev(const char *s, size_t i);

/* Character classes, inline: passes ask them of every character.  Unsigned
 * differences make each range one comparison. */
#define ZF_IN_(c, lo, hi) ((uint32_t)(c) - (uint32_t)(lo) <= (uint32_t)(hi) - (uint32_t)(lo))
/* Han ideograph (CJK Unified Ideographs and extensions, compatibility). */
static inline int zf_is_han(int32_t c)
{
    return ZF_IN_(c, 0x4E00, 0x9FFF)      /* URO */
        || ZF_IN_(c, 0x3400, 0x4DBF)      /* Ext A */
        || ZF_IN_(c, 0xF900, 0xFAFF)      /* Compatibility */
        || ZF_IN_(c, 0x20000, 0x323AF);   /* Ext B..H, compat supplement */
}
/* CJK punctuation and full-width forms: U+3000-303F, U+FF00-FFEF, and the
 * general punctuation marks Chinese text uses (U+2014 U+2018-201D U+2026). */
static inline int zf_is_cjk_punct(int32_t c)
{
    return ZF_IN_(c, 0x3000, 0x303F) || ZF_IN_(c, 0xFF00, 0xFFEF)
        || c == 0x2014 || c == 0x2015 || ZF_IN_(c, 0x2018, 0x201D)
        || c == 0x2026 || c == 0x00B7 || c == 0x2E3A;
}
/* A mark that opens a quotation or a bracket: “ ‘ 「 『 《 〈 【 〔 （. */
static inline int zf_is_open_mark(int32_t c)
{
    return c == 0x201C || c == 0x2018 || c == 0x300C || c == 0x300E || c == 0x300A
        || c == 0x3008 || c == 0x3010 || c == 0x3014 || c == 0xFF08;
}
/* Kana (Japanese) or Hangul (Korean). */
static inline int zf_is_kana(int32_t c)
{
    return ZF_IN_(c, 0x3040, 0x30FF) || ZF_IN_(c, 0x31F0, 0x31FF) || ZF_IN_(c, 0xFF66, 0xFF9F);
}
static inline int zf_is_hangul(int32_t c)
{
    return ZF_IN_(c, 0xAC00, 0xD7AF) || ZF_IN_(c, 0x1100, 0x11FF) || ZF_IN_(c, 0x3130, 0x318F);
}

/* ---- edits and the rewriter (edits.c) ------------------------------- */

/* A list of edits whose before/after text lives in a private pool; the
 * pointers are fixed up by zf_edits_finish() once the pool stops moving. */
typedef struct zf_edits {
    zhfix_edit *v;
    size_t n, cap;
    zf_buf pool;
} zf_edits;

void zf_edits_clear(zf_edits *e);
void zf_edits_free(zf_edits *e);
int zf_edits_add(zf_edits *e, int kind, size_t in_start, size_t in_end,
                 size_t out_start, size_t out_end, const char *before,
                 size_t before_len, const char *after, size_t after_len);
/* Point every before/after into the pool; call before handing edits out. */
void zf_edits_finish(zf_edits *e);

/*
 * The rewriter: how a pass produces its output.  A pass walks its input and
 * for each change calls zf_rw_replace(); everything between changes is
 * copied verbatim, and every replacement is recorded as an edit with its
 * spans in this pass's input and output.  Passes never add or remove a
 * newline: line N of a pass's output is line N of its input.
 */
typedef struct zf_rw {
    const char *in;
    size_t len;
    size_t pos;   /* input consumed so far */
    zf_buf *out;
    zf_edits *ed;
    int err;      /* sticky: first error */
    /* The earlier passes' edits (pipeline.c), sorted, whose output spans
     * are this input's: an UNRESOLVED one is damage noted and left as
     * found, which a later pass leaves as found too (zf_rw_held). */
    const zhfix_edit *held;
    size_t nheld;
} zf_rw;

void zf_rw_init(zf_rw *rw, const char *in, size_t len, zf_buf *out, zf_edits *ed);
/* Copy input up to `upto` unchanged. */
void zf_rw_copy(zf_rw *rw, size_t upto);
/* Replace input [start, end) (start >= pos) by rep, as an edit of `kind`. */
void zf_rw_replace(zf_rw *rw, size_t start, size_t end, const char *rep,
                   size_t rep_len, int kind);
/* Record damage left alone over input [start, end) (UNRESOLVED kind). */
void zf_rw_note(zf_rw *rw, size_t start, size_t end);
/* Whether input [start, end) overlaps damage an earlier pass noted and
 * left as found. */
int zf_rw_held(const zf_rw *rw, size_t start, size_t end);
/* Whether input [start, end) overlaps text an earlier pass rewrote (a
 * repair, not a note). */
int zf_rw_rewritten(const zf_rw *rw, size_t start, size_t end);
/* Whether this pass has replaced input after pos (a repair, not a note). */
int zf_rw_replaced_after(const zf_rw *rw, size_t pos);
/* The first such damage that overlaps [from, to), clipped to it, in
 * *start and *end; 0 when there is none. */
int zf_rw_held_span(const zf_rw *rw, size_t from, size_t to, size_t *start, size_t *end);
/* Copy the rest of the input; returns the sticky error. */
int zf_rw_finish(zf_rw *rw);

/* ---- passes ---------------------------------------------------------- */

/* The document's own Traditional spelling (zf_script_doc_scan), read from
 * every piece converted toward Traditional so far; zero-initialise, free
 * with zf_script_doc_free. */
typedef struct zf_script_doc {
    size_t std_n, tw_n;      /* standard (為 啟 裡) and Taiwan-variant forms */
    uint64_t *pairs;         /* hash set of its attested character pairs */
    size_t npairs, pairs_cap;
} zf_script_doc;
void zf_script_doc_free(zf_script_doc *d);

/*
 * What the passes learn about the whole document, carried from piece to
 * piece of a stream.  A pass may read all of it and writes only its own
 * counters.
 */
typedef struct zf_doc {
    size_t fullwidth_in;     /* pipeline: U+FF01-FF5E in the input so far,
                              * this piece included (counted before any pass
                              * runs): flattening damage turns every one of
                              * them into ASCII, so a document that still
                              * has them was not flattened */
    size_t pinyin_removed;   /* pass_pinyin: annotations removed so far */
    size_t han_seen;         /* pass_script: Han characters seen */
    size_t trad_only;        /* pass_script: characters only Traditional uses */
    size_t simp_only;        /* pass_script: characters only Simplified uses */
    int script_decided;      /* pass_script: auto policy fixed for the rest */
    zhfix_script script_target; /* pass_script: the decision (HANS/HANT/KEEP) */
    int mojibake_round;      /* pipeline: 0, or a later run of pass_mojibake
                              * over its own output (no `?` spots) */
    zf_script_doc spelling;  /* pass_script: toward Traditional, the
                              * document's own spelling so far */
} zf_doc;
/* Release what a zf_doc holds (zero-initialised before first use). */
void zf_doc_free(zf_doc *doc);

/* A pass reads rw->in and writes through rw; it does no I/O. */
typedef int (*zf_pass_fn)(const zhfix_options *opt, zf_doc *doc, zf_rw *rw);

int zf_pass_mojibake(const zhfix_options *opt, zf_doc *doc, zf_rw *rw);
int zf_pass_pinyin(const zhfix_options *opt, zf_doc *doc, zf_rw *rw);
int zf_pass_punct(const zhfix_options *opt, zf_doc *doc, zf_rw *rw);
int zf_pass_script(const zhfix_options *opt, zf_doc *doc, zf_rw *rw);

/* Question marks that are characters lost (qmarks.c): whether a run of `?`
 * between before and after (each < 0 at the line's end) stands where no
 * question mark does; whether the `?` of s[0..n) are lost characters. */
int zf_qmark_misplaced(int32_t before, int32_t after);
int zf_qmarks_lost(const char *s, size_t n);

/* Whether a "(pinyin)" annotation the pinyin pass would consider opens at
 * s[open] == '(' (pass_pinyin.c): ZF_ANNOT_NONE, or ZF_ANNOT_STRONG (after a
 * Traditional-only form) / ZF_ANNOT_WEAK (after another Han character), with
 * *end just past its ')'. */
enum { ZF_ANNOT_NONE, ZF_ANNOT_WEAK, ZF_ANNOT_STRONG };
int zf_pinyin_annotation(const char *s, size_t n, size_t open, size_t *end);

/* ---- pipeline (pipeline.c) ------------------------------------------- */

/* Scratch space a stream keeps between pieces so passes do not allocate per
 * piece. */
typedef struct zf_pipeline {
    zf_buf a, b;             /* ping-pong texts */
    zf_edits stage;          /* one pass's edits */
    zf_edits all;            /* composed edits of the piece */
    zf_edits tmp;
} zf_pipeline;

void zf_pipeline_free(zf_pipeline *p);
/* Run the enabled passes over in[0..len).  On success *out and *out_len is the
 * final text (owned by p) and p->all holds the edits with spans relative to
 * this piece (in_* in `in`, out_* in the output). */
int zf_pipeline_run(zf_pipeline *p, const zhfix_options *opt, zf_doc *doc,
                    const char *in, size_t len, const char **out, size_t *out_len);

/* ---- tables and scoring (charfreq.c) --------------------------------- */

/* How common a character is in Chinese text: a cost in tenths of a bit
 * (-log2 p * 10), small for common characters.  Characters not in the
 * table get ZF_COST_UNSEEN. */
#define ZF_COST_UNSEEN 250
int zf_char_cost(int32_t cp);

/* ---- readings (readings.c, tables/readings.h from Unihan) ------------- */

/* Id (>= 0) of s[0..len) read as one lowercase pinyin syllable (tone marks,
 * numeric tone 1-5, ü/v/u:, no tone = neutral), or -1. */
int zf_pinyin_syllable(const char *s, size_t len);
/* Non-zero when syllable id syl is a reading of cp or of a Simplified
 * character cp stands for (BMP only). */
int zf_readings_has(int32_t cp, int syl);
/* The syllable ids that zf_readings_has() finds for cp: the first max of
 * them in out; returns how many there are.  Every id is below
 * ZF_SYL_IDS. */
#define ZF_SYL_IDS 2110
int zf_readings_of(int32_t cp, int *out, int max);
/* Non-zero when cp is a Traditional form that Simplified text does not use:
 * it has a Simplified form other than itself and is not its own Simplified
 * form (網 長 區; not 乾 著 復, not 行).  BMP only (Unihan variants). */
int zf_is_trad_only(int32_t cp);
/* Non-zero when cp is a Simplified form that Traditional text does not use
 * (网 长 区; not 干 后 里).  BMP only. */
int zf_is_simp_only(int32_t cp);

/* ---- GBK (gbk_shift.c, tables/gbk.h from glibc's CP936) ------------- */

/* The character of a two-byte GBK code, or 0 when there is none. */
int32_t zf_gbk_decode2(unsigned lead, unsigned trail);
/* The GBK code of cp: lead << 8 | trail; below 0x100 a single byte (ASCII,
 * or 0x80 for U+20AC as code page 936 has it); 0 when GBK has none. */
unsigned zf_gbk_encode(int32_t cp);
/* Both bytes of cp's GBK code can be UTF-8 bytes of a multi-byte
 * character (leads C2-F4, continuations 80-BF); or the first can, and
 * the second is ASCII: the last byte of a UTF-8 character read with the
 * ASCII character after it (有“r, E2 80 9C 72: `鈥€渞`, 渞 is 9C 72).
 * Such characters make up UTF-8 read as GBK (pass_mojibake.c). */
int zf_gbk_utf8ish(int32_t cp);
/* cp goes on a run of Big5 read as GBK: its GBK bytes are a Big5
 * character's, or it is ASCII (a `?` is not: the realigner's)
 * (pass_mojibake.c). */
int zf_gbk_big5ish(int32_t cp);
/* Realign a run of GBK decoded one byte out of step that starts at the `?`
 * at s[q] (damage-model.md section 4).  Returns 1 with the repair in
 * rep[0..*rep_len) for s[q..*end), -1 for damage it cannot repair with
 * confidence (s[q..*end) to note), 0 for none, -2 out of memory.  cap must
 * be at least 648.  flat: the document has no full-width forms, so the
 * ones the repair restores are written flattened, as ASCII, like the
 * rest; otherwise as they were. */
int zf_gbk_realign(const char *s, size_t n, size_t q, int flat, size_t *end, char *rep,
                   size_t cap, size_t *rep_len);
/* zf_gbk_realign()'s verdict at the `?` at s[q], without the repair,
 * and in *read where the characters its search read end, with the one
 * after them that an ending is scored against (q when it did not
 * search).  A conversion of the character before the `?` or of one in
 * s[q..*read) changes the bytes the realigner reads there; a character
 * it only reads as context scores alike in either script. */
int zf_gbk_shift_verdict(const char *s, size_t n, size_t q, size_t *read);

/* ---- Traditional/Simplified mapping (script_map.c, tables/script_*.h) */

/* How zf_script_convert chose each output character: no mapping, the
 * character table's only or default form, a phrase, and for characters
 * with several forms the context choice by a word around it or by the
 * character alone. */
enum { ZF_HOW_SAME, ZF_HOW_CHAR, ZF_HOW_PHRASE, ZF_HOW_WORD, ZF_HOW_SINGLE };
/* Work arrays of zf_script_convert, grown as needed; zero-initialise, free
 * with zf_script_scratch_free. */
typedef struct zf_script_scratch {
    size_t cap;
    uint32_t *one, *best, *from, *pick, *key;
    const uint32_t **opt;
    uint8_t *nopt;
    const zf_script_doc *doc; /* toward Traditional: the spelling, or NULL */
} zf_script_scratch;
/* ZF_SC_* bits (tables/script_chars.h) of cp; 0 for a character the tables
 * do not know. */
unsigned zf_script_flags(int32_t cp);
/* Whether cp is one of its own several candidates in script `to` (干 in
 * Traditional text: 干, 幹, 乾). */
int zf_script_self_valid(int32_t cp, zhfix_script to);
/* Convert the n Han characters in[] to script `to` into out[] (n of them),
 * recording in how[] why each was chosen.  ZHFIX_OK or ZHFIX_ENOMEM. */
int zf_script_convert(zhfix_script to, const int32_t *in, size_t n, int32_t *out,
                      uint8_t *how, zf_script_scratch *s);
void zf_script_scratch_free(zf_script_scratch *s);
/* Add the Traditional spelling of s[0..len) to d, for the conversions
 * toward Traditional that follow: which variant family it writes, and
 * which candidates of one-to-many characters it writes next to which
 * characters (游標).  With han not NULL, the k-th Han character of s is
 * read as han[k] (the text as a conversion left it).  ZHFIX_OK or
 * ZHFIX_ENOMEM. */
int zf_script_doc_scan(const char *s, size_t len, const int32_t *han, zf_script_doc *d);

/* ---- language model (lm.c, tables/lm.h from jieba and OpenCC) -------- */

/* Costs are in tenths of a bit, lower is more probable. */
#define ZF_LM_TRAD 1
#define ZF_LM_SIMP 2
typedef struct zf_lm_ctx {
    int32_t prev;
    int pa;      /* the model's index of prev */
    int hmm;
    uint64_t pm[8]; /* bit i % 512: prev has a pair with some index i */
    float f[256];
} zf_lm_ctx;
void zf_lm_ctx_init(zf_lm_ctx *x, int32_t prev);
int zf_lm_ctx_step(const zf_lm_ctx *x, int32_t cp);
/* zf_lm_ctx_step() for a cp whose zf_lm_char_cost() is c, for a search
 * that scores the same characters after many others. */
int zf_lm_ctx_step_c(const zf_lm_ctx *x, int32_t cp, int c);
int zf_lm_char_cost(int32_t cp);
/* The first offset at or after i of s[0..n) that is not a character of
 * U+3000-U+9FFF (three bytes, led by E3..E9) below U+3400 or with
 * zf_lm_char_cost() under 150: how far a scan for rare Han may skip. */
size_t zf_lm_skip_common(const char *s, size_t i, size_t n);
int zf_lm_pair_bonus(int32_t a, int32_t b);
/* The characters b that zf_lm_pair_bonus(a, b) knows after a (inside one
 * of jieba's words), in their Simplified forms: up to max in out; returns
 * how many. */
size_t zf_lm_followers(int32_t a, int32_t *out, size_t max);
int zf_lm_step(int32_t prev, int32_t cp);
int zf_lm_cost(const char *utf8, size_t len);
/* ZF_LM_TRAD, ZF_LM_SIMP (both, or 0) for the scripts that use cp. */
int zf_lm_script(int32_t cp);
/* lm_words.c (tables/lm_words.h): the cost of cp[0..n) as its cheapest
 * segmentation into jieba's words (a unigram word model); for ranking a
 * few complete readings, not for inner loops. */
int zf_lm_words_cost(const int32_t *cp, size_t n);

/* How plausible decoded text is as Chinese (or any real) text: the sum of
 * per-character costs (zf_char_cost for Han; fixed costs by class for the
 * rest; controls, private use and U+FFFD cost most).  *nchars receives the
 * number of characters.  Lower is more plausible. */
long zf_text_cost(const char *utf8, size_t len, size_t *nchars);
/* zf_text_cost() of UTF-8 text with bytes that are not UTF-8 (each
 * becomes U+FFFD when decoded): what the rest costs, plus a price for each
 * damaged spot and each byte lost in it.  Compared with the cost of the
 * same bytes read in another encoding. */
long zf_utf8_lenient_cost(const char *s, size_t n, size_t *nchars);

/* ---- detection (detect.c) -------------------------------------------- */

typedef enum zf_enc_kind {
    ZF_ENC_UTF8,   /* UTF-8: validated, passed through without copying */
    ZF_ENC_LEGACY, /* an ASCII-compatible multibyte encoding, decoded by line */
    ZF_ENC_WIDE    /* UTF-16/32 or a stateful encoding, decoded as one stream */
} zf_enc_kind;

typedef struct zf_detection {
    zf_enc_kind kind;
    char name[32];   /* the iconv name used to decode */
    char label[32];  /* the name reported to the user */
    size_t bom;      /* bytes of byte order mark to skip */
    int strict;      /* forced by the caller: no per-line fallbacks */
} zf_detection;

/* Choose the encoding of a stream from its first n bytes (final: that is
 * all there is).  forced, if not NULL, is the caller's choice.  Returns
 * ZHFIX_OK or ZHFIX_EBINARY. */
int zf_detect(const char *s, size_t n, int final, const char *forced, zf_detection *det);

/* ---- decoding (decode.c) -------------------------------------------- */

/* Non-zero when iconv knows the encoding name. */
int zf_encoding_known(const char *name);

/* Decode strictly: all of in[0..len) must convert, except that a sequence
 * cut off by the end is ignored when `partial`.  Appends to out; returns
 * the number of invalid sequences met (0 = clean) or -1 when the encoding
 * cannot be opened. */
long zf_decode_strict(const char *enc, const char *in, size_t len, int partial, zf_buf *out);

/* Decoder state for one stream. */
typedef struct zf_decoder {
    zf_detection det;
    void *cd;            /* iconv_t for det.name */
    void *alt[2];        /* iconv_t for per-line fallbacks (GB18030, BIG5); NULL until needed */
    int mixed;           /* a line was decoded otherwise than the document */
    int identity;        /* the decoded text equals the raw bytes so far */
    size_t bad;          /* undecodable bytes replaced by U+FFFD */
    size_t bad_first;    /* stream offset of the first */
} zf_decoder;

int zf_decoder_open(zf_decoder *d, const zf_detection *det);
void zf_decoder_close(zf_decoder *d);
/* Decode raw[0..len) (stream offset raw_off) appending UTF-8 to out.  Stops
 * where more input is needed to decide (an incomplete line or sequence),
 * unless final; *used receives the bytes consumed. */
int zf_decode(zf_decoder *d, const char *raw, size_t len, int final, size_t raw_off,
              zf_buf *out, size_t *used);

/* Longest line the decoder and the stream wait for before they cut it. */
#define ZF_WINDOW ((size_t)1 << 20)

/* ---- context --------------------------------------------------------- */

struct zhfix_ctx {
    zhfix_options opt;
    char from[64];
};

#endif /* ZF_H */
