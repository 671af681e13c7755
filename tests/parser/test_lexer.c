/*
 * Framing and lexical errors: where messages begin and end, what is a
 * stray byte, and how the stream resynchronises (QEMU 7.2 json-lexer.c,
 * json-streamer.c; spec sections 2.2-2.4).  Every input also goes through
 * the chunking check (every split point, chunk sizes 1..8).
 */
#include <string.h>

#include "feed.h"
#include "harness.h"

static const qmpk_run_cfg_t qemu = { .dialect = QMPK_DIALECT_QEMU };
static const qmpk_run_cfg_t qemu_fin = { .dialect = QMPK_DIALECT_QEMU, .finish = true };
static const qmpk_run_cfg_t rfc = { .dialect = QMPK_DIALECT_RFC };
static const qmpk_run_cfg_t rfc_fin = { .dialect = QMPK_DIALECT_RFC, .finish = true };

static void an_object_is_a_message_the_moment_its_brace_closes(void)
{
    EXPECT_ITEMS(&qemu, "{\"execute\":\"qmp_capabilities\"}",
                 "M 0 0 {\"execute\": \"qmp_capabilities\"}\n");
    EXPECT_ITEMS(&qemu, "  \r\n{}", "M 4 0 {}\n");
}

static void two_objects_without_separator_are_two_messages(void)
{
    EXPECT_ITEMS(&qemu, "{}{\"a\":1}[]", "M 0 0 {}\nM 2 1 {\"a\": 1}\nM 9 2 []\n");
}

static void line_ends_and_tabs_are_whitespace_anywhere(void)
{
    EXPECT_ITEMS(&qemu, "{\r\"a\"\n:\t1 ,\r\n\"b\" : [ ] }\n",
                 "M 0 0 {\"a\": 1, \"b\": []}\n");
    EXPECT_ITEMS(&qemu, " \t\r\n ", "");
    /* runs longer than the scan's 16-byte steps, other whitespace inside
     * an indentation run, and a stray right after one */
    EXPECT_ITEMS(&qemu, "{\n                    \"a\"  \t  \r\n                 :\n"
                 "                                  [\n  \t              1]}",
                 "M 0 0 {\"a\": [1]}\n");
    EXPECT_ITEMS(&qemu, "[\n                   \t                   \x01]",
                 "E 41 0 QMPK_E_STRAY \"JSON parse error, stray '\\u0001'\"\n"
                 "E 42 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static void a_top_level_scalar_ends_only_with_the_next_byte(void)
{
    EXPECT_ITEMS(&qemu, "42", "");
    EXPECT_ITEMS(&qemu, "42\n", "M 0 0 42\n");
    EXPECT_ITEMS(&qemu, "1 2", "M 0 0 1\n");
    EXPECT_ITEMS(&qemu, "null{}", "M 0 0 null\nM 4 1 {}\n");
    EXPECT_ITEMS(&qemu, "1]", "M 0 0 1\nE 1 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static void finish_completes_a_pending_scalar_and_reports_open_values(void)
{
    EXPECT_ITEMS(&qemu_fin, "42", "M 0 0 42\n");
    EXPECT_ITEMS(&rfc_fin, "true", "M 0 0 true\n");
    EXPECT_ITEMS(&qemu_fin, "tru", "E 0 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'tru'\"\n");
    EXPECT_ITEMS(&qemu_fin, "{\"a\":1", "E 6 0 QMPK_E_INCOMPLETE \"incomplete\"\n");
    EXPECT_ITEMS(&qemu_fin, "\"abc", "E 4 0 QMPK_E_INCOMPLETE \"incomplete\"\n");
    EXPECT_ITEMS(&qemu_fin, "-", "E 1 0 QMPK_E_INCOMPLETE \"incomplete\"\n");
    EXPECT_ITEMS(&qemu_fin, "1.", "E 2 0 QMPK_E_INCOMPLETE \"incomplete\"\n");
    EXPECT_ITEMS(&qemu_fin, "[1", "E 2 0 QMPK_E_INCOMPLETE \"incomplete\"\n");
    EXPECT_ITEMS(&qemu_fin, "  ", "");
    EXPECT_ITEMS(&qemu_fin, "\x01 ", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray '\\u0001'\"\n");
}

static void a_control_byte_is_one_stray_error_and_drops_the_partial_message(void)
{
    EXPECT_ITEMS(&qemu, "\x01", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray '\\u0001'\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1\x01{\"b\":2}",
                 "E 6 0 QMPK_E_STRAY \"JSON parse error, stray '\\u0001'\"\n"
                 "M 7 1 {\"b\": 2}\n");
    /* s2_unterminated_object_reset_ctrl */
    EXPECT_ITEMS(&qemu, "{\"execute\":\"query-status\"\n\x01\n{}",
                 "E 26 0 QMPK_E_STRAY \"JSON parse error, stray '\\u0001'\"\nM 28 1 {}\n");
    EXPECT_ITEMS(&qemu, "\x01\x02\x1f",
                 "E 0 0 QMPK_E_STRAY \"JSON parse error, stray '\\u0001'\"\n"
                 "E 1 1 QMPK_E_STRAY \"JSON parse error, stray '\\u0002'\"\n"
                 "E 2 2 QMPK_E_STRAY \"JSON parse error, stray '\\u001F'\"\n");
}

static void byte_ff_resynchronises_and_each_one_is_one_error(void)
{
    /* s2_byte_ff_in_middle */
    EXPECT_ITEMS(&qemu, "{\"execute\":\xff\"query-status\"}\n",
                 "E 11 0 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\n"
                 "E 26 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "\xff\xff\xfe{}",
                 "E 0 0 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\n"
                 "E 1 1 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\n"
                 "E 2 2 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\n"
                 "M 3 3 {}\n");
}

static void recovery_skips_to_a_structural_or_control_byte(void)
{
    /* TAB and letters are skipped in recovery; CR/LF end it */
    EXPECT_ITEMS(&qemu, "X\tabc \"q\" {}", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray 'X'\"\nM 10 1 {}\n");
    EXPECT_ITEMS(&qemu, "%p\n{}", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray '%'\"\nM 3 1 {}\n");
    EXPECT_ITEMS(&qemu, "X:", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray 'X'\"\n"
                              "E 1 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    /* s2_utf8_bom: the BOM is one stray, its other bytes are skipped */
    EXPECT_ITEMS(&qemu, "\xef\xbb\xbf{}", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\nM 3 1 {}\n");
}

static void a_stray_shows_the_partial_token_with_its_bad_byte(void)
{
    EXPECT_ITEMS(&qemu, "{\"x\":\"a\tb\"}",
                 "E 7 0 QMPK_E_STRAY \"JSON parse error, stray '\\\"a\\t'\"\n"
                 "E 10 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[-}", "E 2 0 QMPK_E_STRAY \"JSON parse error, stray '-}'\"\n");
    EXPECT_ITEMS(&qemu, "[01]", "E 2 0 QMPK_E_STRAY \"JSON parse error, stray '01'\"\n"
                                "E 3 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[1e}", "E 3 0 QMPK_E_STRAY \"JSON parse error, stray '1e}'\"\n");
    EXPECT_ITEMS(&qemu, "[1.}", "E 3 0 QMPK_E_STRAY \"JSON parse error, stray '1.}'\"\n");
    EXPECT_ITEMS(&qemu, "[.5]", "E 1 0 QMPK_E_STRAY \"JSON parse error, stray '.'\"\n"
                                "E 3 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[+1]", "E 1 0 QMPK_E_STRAY \"JSON parse error, stray '+'\"\n"
                                "E 3 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[True]", "E 1 0 QMPK_E_STRAY \"JSON parse error, stray 'T'\"\n"
                                  "E 5 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static void a_nul_byte_cuts_the_stray_text_as_qemus_percent_s_does(void)
{
    /* s2_nul_raw */
    EXPECT_ITEMS(&qemu, "{\"x\":\"a\0b\"}",
                 "E 7 0 QMPK_E_STRAY \"JSON parse error, stray '\\\"a'\"\n"
                 "E 10 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "\0{}", "E 0 0 QMPK_E_STRAY \"JSON parse error, stray ''\"\nM 1 1 {}\n");
}

static void numbers_and_keywords_end_at_any_byte_that_cannot_continue_them(void)
{
    /* QEMU's terminal states cover all 256 bytes: 0x80+ ends the token */
    EXPECT_ITEMS(&qemu, "123\xff", "M 0 0 123\nE 3 1 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\n");
    EXPECT_ITEMS(&qemu, "a\xc3\xa5", "E 0 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'a'\"\n"
                                     "E 1 1 QMPK_E_STRAY \"JSON parse error, stray '\\uFFFD'\"\n");
    EXPECT_ITEMS(&qemu, "[1,true]", "M 0 0 [1, true]\n");
    EXPECT_ITEMS(&qemu, "[nullx]", "E 1 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'nullx'\"\n");
}

static void qemu_rejects_an_exponent_after_a_lone_zero_and_rfc_accepts_it(void)
{
    EXPECT_ITEMS(&qemu, "0e1 ", "M 0 0 0\n"
                                "E 1 1 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'e'\"\n"
                                "M 2 2 1\n");
    EXPECT_ITEMS(&qemu, "[0e1]", "E 2 0 QMPK_E_LIST_SEPARATOR \"JSON parse error, expected separator in list\"\n");
    EXPECT_ITEMS(&rfc, "[0e1,-0E+2,0.0e1]", "M 0 0 [0, -0, 0]\n");
    EXPECT_ITEMS(&qemu, "[0.0e1,-0,1E2,1e+2,-1.5E-3]", "M 0 0 [0, 0, 100, 100, -0.0015]\n");
}

static void single_quoted_strings_are_qemu_only(void)
{
    EXPECT_ITEMS(&qemu, "{'execute':'x'}", "M 0 0 {\"execute\": \"x\"}\n");
    EXPECT_ITEMS(&qemu, "['a\"b','c\\'d',\"e'f\",\"g\\'h\"]", "M 0 0 [\"a\\\"b\", \"c'd\", \"e'f\", \"g'h\"]\n");
    EXPECT_ITEMS(&rfc, "['a']", "E 1 0 QMPK_E_STRAY \"JSON parse error, stray '''\"\n"
                                "E 4 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static void interpolation_is_lexically_invalid_on_a_monitor(void)
{
    EXPECT_ITEMS(&qemu, "[%d]", "E 1 0 QMPK_E_STRAY \"JSON parse error, stray '%'\"\n"
                                "E 3 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[\"%d\"]", "M 0 0 [\"%d\"]\n");
}

static void mismatched_brackets_end_the_message_when_a_counter_goes_negative(void)
{
    EXPECT_ITEMS(&qemu, "}", "E 0 0 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "{]", "E 1 0 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[}", "E 1 0 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&qemu, "[1}", "E 2 0 QMPK_E_LIST_SEPARATOR \"JSON parse error, expected separator in list\"\n");
    /* brace and bracket counted apart: {[}] is one message */
    EXPECT_ITEMS(&qemu, "{[}]", "E 2 0 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    /* s2_trailing_garbage_brace */
    EXPECT_ITEMS(&qemu, "{\"id\":\"tb\"}}\n", "M 0 0 {\"id\": \"tb\"}\n"
                                               "E 11 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static void rfc_stream_gives_every_value_in_turn(void)
{
    EXPECT_ITEMS(&rfc_fin, "[1,2] {\"a\":null} \"s\" 3", "M 0 0 [1, 2]\nM 6 1 {\"a\": null}\nM 17 2 \"s\"\nM 21 3 3\n");
}

static const qmpk_test_t tests[] = {
    { "an object is a message the moment its brace closes", an_object_is_a_message_the_moment_its_brace_closes },
    { "two objects without separator are two messages", two_objects_without_separator_are_two_messages },
    { "line ends and tabs are whitespace anywhere", line_ends_and_tabs_are_whitespace_anywhere },
    { "a top-level scalar ends only with the next byte", a_top_level_scalar_ends_only_with_the_next_byte },
    { "finish completes a pending scalar and reports open values", finish_completes_a_pending_scalar_and_reports_open_values },
    { "a control byte is one stray error and drops the partial message", a_control_byte_is_one_stray_error_and_drops_the_partial_message },
    { "0xFF resynchronises and each one is one error", byte_ff_resynchronises_and_each_one_is_one_error },
    { "recovery skips to a structural or control byte", recovery_skips_to_a_structural_or_control_byte },
    { "a stray shows the partial token with its bad byte", a_stray_shows_the_partial_token_with_its_bad_byte },
    { "a NUL byte cuts the stray text as QEMU's %s does", a_nul_byte_cuts_the_stray_text_as_qemus_percent_s_does },
    { "numbers and keywords end at any byte that cannot continue them", numbers_and_keywords_end_at_any_byte_that_cannot_continue_them },
    { "QEMU rejects an exponent after a lone zero and RFC accepts it", qemu_rejects_an_exponent_after_a_lone_zero_and_rfc_accepts_it },
    { "single-quoted strings are QEMU only", single_quoted_strings_are_qemu_only },
    { "interpolation is lexically invalid on a monitor", interpolation_is_lexically_invalid_on_a_monitor },
    { "mismatched brackets end the message when a counter goes negative", mismatched_brackets_end_the_message_when_a_counter_goes_negative },
    { "an RFC stream gives every value in turn", rfc_stream_gives_every_value_in_turn },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
