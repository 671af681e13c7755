/*
 * Strings: escapes, \u and surrogate pairs, UTF-8 validation, and the
 * texts QEMU gives (json-parser.c parse_string, util/unicode.c; spec 2.7,
 * check-qjson.c's string cases).
 */
#include <string.h>

#include "feed.h"
#include "harness.h"

static const qmpk_run_cfg_t qemu = { .dialect = QMPK_DIALECT_QEMU };
static const qmpk_run_cfg_t rfc = { .dialect = QMPK_DIALECT_RFC };

#define UTF8 "QMPK_E_INVALID_UTF8 \"JSON parse error, invalid UTF-8 sequence in string\"\n"

static void short_escapes_round_trip(void)
{
    EXPECT_ITEMS(&qemu, "[\"\\b\\f\\n\\r\\t\\\\\\/\\\"\"]", "M 0 0 [\"\\b\\f\\n\\r\\t\\\\/\\\"\"]\n");
    EXPECT_ITEMS(&rfc, "[\"\\b\\f\\n\\r\\t\\\\\\/\\\"\"]", "M 0 0 [\"\\b\\f\\n\\r\\t\\\\/\\\"\"]\n");
}

static void the_apostrophe_escape_is_qemu_only(void)
{
    EXPECT_ITEMS(&qemu, "[\"\\'\"]", "M 0 0 [\"'\"]\n");
    EXPECT_ITEMS(&rfc, "[\"\\'\"]", "E 1 0 QMPK_E_INVALID_ESCAPE \"JSON parse error, invalid escape sequence in string\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\x\"]", "E 1 0 QMPK_E_INVALID_ESCAPE \"JSON parse error, invalid escape sequence in string\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\U0041\"]", "E 1 0 QMPK_E_INVALID_ESCAPE \"JSON parse error, invalid escape sequence in string\"\n");
}

static void unicode_escapes_decode_and_come_out_escaped_upper_case(void)
{
    EXPECT_ITEMS(&qemu, "[\"\\u0041\\u00e9\\u4E2D\\ud83d\\ude00\"]", "M 0 0 [\"A\\u00E9\\u4E2D\\uD83D\\uDE00\"]\n");
    EXPECT_ITEMS(&qemu, "[\"\\u12345\"]", "M 0 0 [\"\\u12345\"]\n");
    EXPECT_ITEMS(&qemu, "[\"\\u0000x\"]", "M 0 0 [\"\\u0000x\"]\n");
    EXPECT_ITEMS(&rfc, "[\"\\u0000x\"]", "M 0 0 [\"\\u0000x\"]\n");
}

static void a_bad_unicode_escape_shows_up_to_six_bytes_of_text(void)
{
    /* s2_incomplete_escape: the text runs to the closing quote */
    EXPECT_ITEMS(&qemu, "[\"\\u00\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\u00\\\" is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\u12x5678\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\u12x5 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "['\\u1']", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\u1' is not a valid Unicode character\"\n");
}

static void lone_and_reversed_surrogates_are_invalid(void)
{
    EXPECT_ITEMS(&qemu, "[\"\\uD800\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uD800 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\uD800x\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uD800 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\uD800\\n\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uD800 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\uD800\\u0041\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uD800 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\uDC00\\uD800\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uDC00 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&rfc, "[\"\\uDC00\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uDC00 is not a valid Unicode character\"\n");
}

static void noncharacters_are_rejected_by_qemu_and_accepted_by_rfc(void)
{
    EXPECT_ITEMS(&qemu, "[\"\\uFFFF\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uFFFF is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\uFDD0\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uFDD0 is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\\uDBFF\\uDFFF\"]", "E 1 0 QMPK_E_INVALID_UNICODE \"JSON parse error, \\\\uDBFF\\\\uDFFF is not a valid Unicode character\"\n");
    EXPECT_ITEMS(&qemu, "[\"\xef\xbf\xbf\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&rfc, "[\"\\uFFFF\\uDBFF\\uDFFF\xef\xbf\xbf\"]", "M 0 0 [\"\\uFFFF\\uDBFF\\uDFFF\\uFFFF\"]\n");
}

static void raw_utf8_is_validated_and_escaped_on_output(void)
{
    EXPECT_ITEMS(&qemu, "[\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\x7f\"]", "M 0 0 [\"\\u00E9\\u4E2D\\uD83D\\uDE00\\u007F\"]\n");
    EXPECT_ITEMS(&qemu, "[\"\x80\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&qemu, "[\"\xc0\xaf\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&qemu, "[\"\xc3\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&qemu, "[\"\xe4\xb8x\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&qemu, "[\"\xf4\x90\x80\x80\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&qemu, "[\"\xed\xa0\x80\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&qemu, "[\"\xf8\x88\x80\x80\x80\"]", "E 1 0 " UTF8);
    EXPECT_ITEMS(&rfc, "[\"\xf8\x88\x80\x80\x80\"]", "E 1 0 " UTF8);
}

static void modified_utf8_nul_is_qemu_only(void)
{
    /* s2_utf8_modified_nul */
    EXPECT_ITEMS(&qemu, "[\"a\xc0\x80" "b\"]", "M 0 0 [\"a\\u0000b\"]\n");
    EXPECT_ITEMS(&rfc, "[\"a\xc0\x80" "b\"]", "E 1 0 " UTF8);
}

static void raw_control_bytes_in_strings_are_stray(void)
{
    EXPECT_ITEMS(&qemu, "[\"a\nb\"]", "E 3 0 QMPK_E_STRAY \"JSON parse error, stray '\\\"a\\n'\"\n"
                                      "E 6 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    EXPECT_ITEMS(&rfc, "[\"\\\x01\"]", "E 3 0 QMPK_E_STRAY \"JSON parse error, stray '\\\"\\\\\\u0001'\"\n"
                                       "E 5 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static const qmpk_test_t tests[] = {
    { "short escapes round-trip", short_escapes_round_trip },
    { "the apostrophe escape is QEMU only", the_apostrophe_escape_is_qemu_only },
    { "unicode escapes decode and come out escaped upper-case", unicode_escapes_decode_and_come_out_escaped_upper_case },
    { "a bad unicode escape shows up to six bytes of text", a_bad_unicode_escape_shows_up_to_six_bytes_of_text },
    { "lone and reversed surrogates are invalid", lone_and_reversed_surrogates_are_invalid },
    { "noncharacters are rejected by QEMU and accepted by RFC", noncharacters_are_rejected_by_qemu_and_accepted_by_rfc },
    { "raw UTF-8 is validated and escaped on output", raw_utf8_is_validated_and_escaped_on_output },
    { "modified UTF-8 NUL is QEMU only", modified_utf8_nul_is_qemu_only },
    { "raw control bytes in strings are stray", raw_control_bytes_in_strings_are_stray },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
