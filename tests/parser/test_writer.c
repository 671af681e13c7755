/* The writer: QEMU's compact format, string escapes, numbers, member
 * order, error descs, and overflow that reports the size it needed. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "msg.h"

static char out[4096];
static qmpk_writer_t w;

#define SAME(want) CHECK_EQ_STR(w.buf, w.len, (want))

static void replies_and_events_have_qemus_spacing(void)
{
    qmpk_w_init(&w, out, sizeof(out));
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "return"); qmpk_w_obj_begin(&w); qmpk_w_obj_end(&w);
    qmpk_w_key(&w, "id"); qmpk_w_str(&w, "x");
    qmpk_w_obj_end(&w);
    qmpk_w_crlf(&w);
    SAME("{\"return\": {}, \"id\": \"x\"}\r\n");
    qmpk_w_reset(&w);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "a"); qmpk_w_arr_begin(&w);
    qmpk_w_int(&w, 1); qmpk_w_arr_begin(&w); qmpk_w_arr_end(&w); qmpk_w_null(&w); qmpk_w_bool(&w, true);
    qmpk_w_obj_begin(&w); qmpk_w_key(&w, "b"); qmpk_w_bool(&w, false); qmpk_w_obj_end(&w);
    qmpk_w_arr_end(&w);
    qmpk_w_key(&w, "c"); qmpk_w_raw(&w, "{\"d\": 1}", 8);
    qmpk_w_obj_end(&w);
    SAME("{\"a\": [1, [], null, true, {\"b\": false}], \"c\": {\"d\": 1}}");
}

static void strings_are_escaped_as_json_writer_c_does(void)
{
    qmpk_w_init(&w, out, sizeof(out));
    qmpk_w_str_n(&w, "\"\\/\b\f\n\r\t\x01\x1f\x7f<>&'", 15);
    SAME("\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\\u007F<>&'\"");
    qmpk_w_reset(&w);
    qmpk_w_str(&w, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
    SAME("\"\\u00E9\\u4E2D\\uD83D\\uDE00\"");
    qmpk_w_reset(&w);
    /* invalid UTF-8 becomes U+FFFD; modified UTF-8 NUL is U+0000 */
    qmpk_w_str(&w, "a\xff" "b\xc3" "c\xc0\x80" "d\xef\xbf\xbf");
    SAME("\"a\\uFFFDb\\uFFFDc\\u0000d\\uFFFD\"");
    qmpk_w_reset(&w);
    qmpk_w_str_n(&w, "a\0b", 3);
    SAME("\"a\\u0000b\"");
}

static void numbers_print_as_qemu_prints_them(void)
{
    qmpk_w_init(&w, out, sizeof(out));
    qmpk_w_arr_begin(&w);
    qmpk_w_int(&w, INT64_MIN); qmpk_w_int(&w, -1); qmpk_w_uint(&w, UINT64_MAX);
    qmpk_w_double(&w, 0.1); qmpk_w_double(&w, 100.0); qmpk_w_double(&w, -0.0);
    qmpk_w_double(&w, 1.8446744073709552e19); qmpk_w_double(&w, 5e-324);
    qmpk_w_double(&w, INFINITY); qmpk_w_double(&w, -INFINITY);
    qmpk_w_arr_end(&w);
    SAME("[-9223372036854775808, -1, 18446744073709551615, 0.10000000000000001, 100, -0, "
         "1.8446744073709552e+19, 4.9406564584124654e-324, inf, -inf]");
}

static void values_re_serialize_in_source_or_qdict_order(void)
{
    static one_t o;

    CHECK(one_parse(&o, QMPK_DIALECT_QEMU, "{\"z\":1,\"a\":[1.0,-0,1e2,'q'],\"micro\":1,\"minor\":2}"));
    qmpk_w_init(&w, out, sizeof(out));
    qmpk_w_value(&w, &o.m, 0, QMPK_ORDER_SOURCE);
    SAME("{\"z\": 1, \"a\": [1, 0, 100, \"q\"], \"micro\": 1, \"minor\": 2}");
    qmpk_w_reset(&w);
    /* buckets: micro 225, minor 225, a 233, z 348; newest first in a bucket */
    qmpk_w_value(&w, &o.m, 0, QMPK_ORDER_QEMU);
    SAME("{\"minor\": 2, \"micro\": 1, \"a\": [1, 0, 100, \"q\"], \"z\": 1}");
    /* repeated names (RFC dialect) keep their order, so a rewrite reads back equal */
    CHECK(one_parse(&o, QMPK_DIALECT_RFC, "{\"z\":0,\"a\":1,\"a\":2}"));
    qmpk_w_reset(&w);
    qmpk_w_value(&w, &o.m, 0, QMPK_ORDER_QEMU);
    SAME("{\"a\": 1, \"a\": 2, \"z\": 0}");
    CHECK(qmpk_qdict_bucket("micro", 5) == 225 && qmpk_qdict_bucket("execute", 7) == 299
          && qmpk_qdict_bucket("exec-oob", 8) == 162 && qmpk_qdict_bucket("id", 2) == 486);
}

static void error_descs_are_written_as_qemu_sends_them(void)
{
    qmpk_error_t e = { .code = QMPK_E_STRAY, .arg = "\"a\xfe", .arg_len = 3 };
    char text[64];

    qmpk_w_init(&w, out, sizeof(out));
    qmpk_w_error_desc(&w, &e);
    SAME("\"JSON parse error, stray '\\\"a\\uFFFD'\"");
    CHECK(qmpk_error_format(&e, text, sizeof(text)) == 29 && strcmp(text, "JSON parse error, stray '\"a\xfe'") == 0);
    e.code = QMPK_E_NESTING;
    qmpk_w_reset(&w);
    qmpk_w_error_desc(&w, &e);
    SAME("\"JSON nesting depth limit exceeded\"");
}

static void overflow_keeps_counting_the_bytes_needed(void)
{
    char small[8];

    qmpk_w_init(&w, small, sizeof(small));
    qmpk_w_obj_begin(&w); qmpk_w_key(&w, "return"); qmpk_w_obj_begin(&w); qmpk_w_obj_end(&w); qmpk_w_obj_end(&w);
    CHECK(w.overflow && w.len == strlen("{\"return\": {}}") && memcmp(small, "{\"return", 8) == 0);
    qmpk_w_init(&w, small, sizeof(small));
    qmpk_w_str(&w, "abcde");
    CHECK(!w.overflow && w.len == 7);
}

static const qmpk_test_t tests[] = {
    { "replies and events have QEMU's spacing", replies_and_events_have_qemus_spacing },
    { "strings are escaped as json-writer.c does", strings_are_escaped_as_json_writer_c_does },
    { "numbers print as QEMU prints them", numbers_print_as_qemu_prints_them },
    { "values re-serialize in source or QDict order", values_re_serialize_in_source_or_qdict_order },
    { "error descs are written as QEMU sends them", error_descs_are_written_as_qemu_sends_them },
    { "overflow keeps counting the bytes needed", overflow_keeps_counting_the_bytes_needed },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
