/*
 * test_punct.c - unit tests of the punctuation pass's context rule
 * (src/pass_punct.c): each case runs zf_pass_punct() alone over a short
 * text through the rewriter and checks the output, the kinds of the edits,
 * that no newline moved and that a second run changes nothing.  The
 * fixtures under fixtures/punct test the same rules on whole documents;
 * these pin each rule to one line, so a failure names the rule.
 *
 * Prints "N passed, N failed"; exits non-zero on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "zf.h"

static int passed, failed;

/* Run the pass over in; the output goes to out (NUL-terminated), the edit
 * kinds to kinds as letters (p = PUNCT, c = COMMA).  Returns the status. */
static int run(const char *in, zf_buf *out, char *kinds, size_t kinds_cap)
{
    zf_edits ed;
    memset(&ed, 0, sizeof ed);
    zhfix_options opt;
    zhfix_options_init(&opt);
    zf_doc doc;
    memset(&doc, 0, sizeof doc);
    zf_rw rw;
    out->len = 0;
    zf_rw_init(&rw, in, strlen(in), out, &ed);
    int rc = zf_pass_punct(&opt, &doc, &rw);
    if (rc == ZHFIX_OK)
        rc = zf_rw_finish(&rw);
    zf_buf_addc(out, '\0');
    out->len--;
    size_t n = 0;
    for (size_t i = 0; i < ed.n && n + 1 < kinds_cap; i++)
        kinds[n++] = ed.v[i].kind == ZHFIX_EDIT_COMMA ? 'c'
                     : ed.v[i].kind == ZHFIX_EDIT_PUNCT ? 'p' : '?';
    kinds[n] = '\0';
    zf_edits_free(&ed);
    return rc;
}

static size_t count_nl(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* want_kinds NULL: do not check the kinds. */
static void expect(const char *id, const char *in, const char *want, const char *want_kinds)
{
    zf_buf out = {0}, again = {0};
    char kinds[256], kinds2[256];
    int ok = run(in, &out, kinds, sizeof kinds) == ZHFIX_OK && strcmp(out.p, want) == 0 &&
             (!want_kinds || strcmp(kinds, want_kinds) == 0) &&
             count_nl(out.p, out.len) == count_nl(in, strlen(in)) &&
             run(out.p, &again, kinds2, sizeof kinds2) == ZHFIX_OK &&
             strcmp(again.p, out.p) == 0 && kinds2[0] == '\0';
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s\n  in:   %s\n  want: %s [%s]\n  got:  %s [%s]\n  again: %s\n", id,
                in, want, want_kinds ? want_kinds : "*", out.p ? out.p : "", kinds,
                again.p ? again.p : "");
    }
    zf_buf_free(&out);
    zf_buf_free(&again);
}

static void same(const char *id, const char *in)
{
    expect(id, in, in, "");
}

int main(void)
{
    /* touching: Han on either side, adjacency only */
    expect("touch-left", "当前位置: 主页\n", "当前位置： 主页\n", "p");
    expect("touch-right", "Python,可以\n", "Python，可以\n", "p");
    expect("touch-colon-digit", "阅读量:12706\n", "阅读量：12706\n", "p");
    expect("touch-date", "发布时间:2022-05-09 16:18:00\n", "发布时间：2022-05-09 16:18:00\n", "p");
    same("no-touch-space", "参见 : ls\n");
    same("no-touch-english", "Hello, world! Fine: thanks.\n");
    /* exceptions of mark runs */
    expect("time", "会议于9:30开始,11:45结束\n", "会议于9:30开始，11:45结束\n", "p");
    expect("thousands", "共1,000人,很多\n", "共1,000人，很多\n", "p");
    same("pinyin-tail", "福州日?qǐng)?bào)社\n");
    same("three-commas", "等等,,,然后\n");
    same("quoted-mark", "各字段用 “:” 分隔。\n");
    /* stray commas (seed 002) */
    expect("comma-comma", "本色,,大考\n", "本色，大考\n", "cp");
    expect("comma-dun", "谋划,、快速\n", "谋划、快速\n", "c");
    expect("comma-stop", "之路,。\n", "之路。\n", "c");
    expect("comma-semi", "转换,;依托\n", "转换；依托\n", "cp");
    expect("comma-bang", "速度,!我区\n", "速度！我区\n", "cp");
    expect("paren-comma-dun", "小区(网格),、高速\n", "小区（网格）、高速\n", "ppc");
    /* a stray comma before a full-width mark, whatever precedes it
     * (full-width marks kept: not a flat piece) */
    expect("stray-after-paren", "安装 GUI（例如 KDE）,，那么\n", "安装 GUI（例如 KDE），那么\n", "c");
    expect("stray-after-quote", "参见“虚拟控制台”,。\n", "参见“虚拟控制台”。\n", "c");
    expect("stray-after-paren-stop", "（参见前文）,。\n", "（参见前文）。\n", "c");
    expect("stray-after-latin", "系统维护脚本使用perl,。\n", "系统维护脚本使用perl。\n", "c");
    expect("stray-after-latin-dun", "使用perl,、tcl、ruby\n", "使用perl、tcl、ruby\n", "c");
    expect("stray-after-space", "依赖关系 ,。大多数\n", "依赖关系 。大多数\n", "c");
    expect("stray-after-digit", "次设备号是0,。它\n", "次设备号是0。它\n", "c");
    expect("stray-after-ascii-quote", "挂载为\"tmpfs\",，可以\n", "挂载为\"tmpfs\"，可以\n",
           "c");
    expect("stray-after-apostrophe", "输入 'abc',。\n", "输入 'abc'。\n", "c");
    expect("stray-after-quoted-space", "设置“PS2=' ',。这\n", "设置“PS2=' '。这\n", "c");
    expect("stray-after-possessive", "Debian's 'apt',。\n", "Debian's 'apt'。\n", "c");
    expect("stray-colon", "gnome-terminal,：首选项\n", "gnome-terminal：首选项\n", "c");
    expect("stray-question", "是 vim 吗 ok,？\n", "是 vim 吗 ok？\n", "c");
    expect("stray-english-line", "See the manual of the tool for details,。\n",
           "See the manual of the tool for details。\n", "c");
    expect("stray-url", "见 http://a.cn/x,。\n", "见 http://a.cn/x。\n", "c");
    expect("stray-after-english-mark", "他说 Why?,。\n", "他说 Why?。\n", "c");
    same("stray-no-bracket", "分隔符可以是[,，]之一\n");
    same("stray-no-fw-paren", "中英文逗号（,，）都可以\n");
    same("stray-no-ascii-open-quote", "分隔符为\",，\"两种\n");
    same("stray-no-ascii-open-apos", "分隔符为 ',，' 两种\n");
    same("stray-no-line-start", ",。开头\n");
    same("stray-no-double", "and so on,,。\n");
    same("stray-no-space-after", "使用 perl, 。\n");
    same("stray-no-code-span", "例如 `a,。` 即可\n");
    same("stray-no-code-line", "printf(\"a,。\");\n");
    same("stray-no-kana", "了解しました,。\n");
    /* weak evidence: needs a flat piece and no English on the far side */
    expect("weak-quotes", "快速,“快”,“准”\n", "快速，“快”，“准”\n", "pp");
    same("weak-not-flat", "本页翻译，欢迎指正。\n《翻译计划》:\n");
    expect("weak-english-far", "中文,“Why?”\n", "中文，“Why?”\n", "p");
    /* parentheses */
    expect("pair-han", "赵丽娜(左一)和\n", "赵丽娜（左一）和\n", "pp");
    expect("pair-quote", "“2+6”(白天2小时)摸排\n", "“2+6”（白天2小时）摸排\n", "pp");
    expect("pair-line", "(特约记者 余少林)\n", "（特约记者 余少林）\n", "pp");
    expect("pair-after-semi", "第一条;(2)第二条\n", "第一条；（2）第二条\n", "ppp");
    same("pair-spaced", "中国 (China) 是\n");
    expect("pair-call", "用f(x)表示,好\n", "用f(x)表示，好\n", "p");
    expect("pair-tuple", "区间(0,1)上,连续\n", "区间(0,1)上，连续\n", "p");
    same("pair-file", "保存为报告(1).docx\n");
    same("pair-link", "阅读[指南](指南.md)和\n");
    expect("unmatched-inner", "曾发生(除非\n命名)。\n", "曾发生（除非\n命名）。\n", "pp");
    same("unmatched-marker", "1)第一条\n");
    /* protected spans and lines */
    expect("url", "网址:http://a.cn/x?b=1,c=2,谢谢\n", "网址：http://a.cn/x?b=1,c=2，谢谢\n",
           "pp");
    same("code-span", "例如 `长度 = len(名单)` 即可\n");
    same("code-line", "def 问候(名字):\n");
    same("english-line", "Beijing (北京, Běijīng) is the capital of China.\n");
    expect("english-han-han", "The phrase 你好,世界 is printed first, in Chinese.\n",
           "The phrase 你好，世界 is printed first, in Chinese.\n", "p");
    same("kana-line", "東京都(日本)に住んでいます:はい,そうです!\n");
    same("hangul-line", "서울(首爾)은 수도입니다: 네,맞아요!\n");
    /* newlines, CR LF, no final newline */
    expect("crlf", "第一段:开始\r\n第二段,结束\r\n", "第一段：开始\r\n第二段，结束\r\n", "pp");
    expect("no-final-newline", "没有换行符,结尾", "没有换行符，结尾", "p");
    same("empty", "");
    same("clean", "上海战“疫”一线，总能见到（左一）身影：好！\n");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
