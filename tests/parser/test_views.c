/* Accessors: navigation, unescape, numbers with QEMU's rules, equality. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "msg.h"

static one_t a, b;

static void members_are_found_by_unescaped_name(void)
{
    CHECK(one_parse(&a, QMPK_DIALECT_QEMU,
                    "{\"a\":1,\"b\":[true,false,null,\"s\"],\"c\":{\"d\":-5},'\\u0065':\"x\\u0041\\n\"}"));
    CHECK(qmpk_type(&a.m, 0) == QMPK_T_OBJECT && qmpk_count(&a.m, 0) == 4);
    CHECK(qmpk_type(&a.m, qmpk_get(&a.m, 0, "a")) == QMPK_T_NUMBER);
    CHECK(qmpk_count(&a.m, qmpk_get(&a.m, 0, "b")) == 4);
    CHECK(qmpk_type(&a.m, qmpk_get(&a.m, qmpk_get(&a.m, 0, "c"), "d")) == QMPK_T_NUMBER);
    CHECK(qmpk_type(&a.m, qmpk_get(&a.m, 0, "e")) == QMPK_T_STRING);
    CHECK(qmpk_get(&a.m, 0, "zz") == -1 && qmpk_get(&a.m, 0, "") == -1);
    CHECK(qmpk_get(&a.m, qmpk_get(&a.m, 0, "b"), "a") == -1);
    CHECK(qmpk_get_n(&a.m, 0, "ab", 1) == qmpk_get(&a.m, 0, "a"));
    CHECK(qmpk_type(&a.m, -1) == QMPK_T_INVALID && qmpk_type(&a.m, 999) == QMPK_T_INVALID);
}

static void children_and_siblings_iterate_in_order(void)
{
    static const qmpk_type_t want[] = { QMPK_T_TRUE, QMPK_T_FALSE, QMPK_T_NULL, QMPK_T_STRING };
    int arr, n = 0, keys = 0;

    CHECK(one_parse(&a, QMPK_DIALECT_QEMU, "{\"a\":{\"x\":[1,[2,3]]},\"b\":[true,false,null,\"s\"],\"c\":[]}"));
    arr = qmpk_get(&a.m, 0, "b");
    for (int e = qmpk_child(&a.m, arr); e >= 0; e = qmpk_next(&a.m, e), n++) {
        CHECK(n < 4 && qmpk_type(&a.m, e) == want[n]);
    }
    CHECK(n == 4);
    for (int k = qmpk_child(&a.m, 0); k >= 0; k = qmpk_next(&a.m, k)) {
        keys++;
        /* a member value's next sibling is the next key */
        CHECK(qmpk_next(&a.m, k + 1) == qmpk_next(&a.m, k));
    }
    CHECK(keys == 3);
    CHECK(qmpk_child(&a.m, qmpk_get(&a.m, 0, "c")) == -1);
    CHECK(qmpk_next(&a.m, 0) == -1);
}

static void strings_unescape_into_the_callers_buffer(void)
{
    char out[16];
    size_t len = 0;
    int t;

    CHECK(one_parse(&a, QMPK_DIALECT_QEMU, "['x\\u0041\\n\"\\'\xc3\xa9', \"\\u0000z\", \"a\xc0\x80\"]"));
    t = qmpk_child(&a.m, 0);
    CHECK(qmpk_str(&a.m, t, out, sizeof(out), &len) == QMPK_E_OK && len == 7
          && memcmp(out, "xA\n\"'\xc3\xa9", 7) == 0 && out[7] == '\0');
    CHECK(qmpk_str(&a.m, t, out, 3, &len) == QMPK_E_NOSPACE && len == 7 && strcmp(out, "xA") == 0);
    CHECK(qmpk_str(&a.m, t, out, 8, &len) == QMPK_E_OK && len == 7);
    CHECK(qmpk_str(&a.m, t, out, 7, &len) == QMPK_E_NOSPACE && out[6] == '\0');
    CHECK(qmpk_str_eq(&a.m, t, "xA\n\"'\xc3\xa9", 7) && !qmpk_str_eq(&a.m, t, "xA", 2));
    t = qmpk_next(&a.m, t);
    CHECK(qmpk_str(&a.m, t, out, sizeof(out), &len) == QMPK_E_OK && len == 2 && out[0] == 0 && out[1] == 'z');
    t = qmpk_next(&a.m, t);
    CHECK(qmpk_str_eq(&a.m, t, "a\0", 2));
    CHECK(qmpk_str(&a.m, 0, out, sizeof(out), &len) == QMPK_E_TYPE);
}

static qmpk_num_t num(const char *json)
{
    qmpk_num_t n = { .kind = QMPK_NUM_DOUBLE, .u.dbl = NAN };
    char tmp[4200];

    snprintf(tmp, sizeof(tmp), "[%s]", json);
    if (CHECK(one_parse(&a, QMPK_DIALECT_QEMU, tmp))) {
        CHECK(qmpk_number(&a.m, 1, &n) == QMPK_E_OK);
    }
    return n;
}

static void integers_are_int64_then_uint64_then_double_as_in_qemu(void)
{
    qmpk_num_t n;

    n = num("9223372036854775807");
    CHECK(n.kind == QMPK_NUM_I64 && n.u.i64 == INT64_MAX);
    n = num("-9223372036854775808");
    CHECK(n.kind == QMPK_NUM_I64 && n.u.i64 == INT64_MIN);
    n = num("9223372036854775808");
    CHECK(n.kind == QMPK_NUM_U64 && n.u.u64 == 9223372036854775808u);
    n = num("18446744073709551615");
    CHECK(n.kind == QMPK_NUM_U64 && n.u.u64 == UINT64_MAX);
    n = num("18446744073709551616");
    CHECK(n.kind == QMPK_NUM_DOUBLE && n.u.dbl == 18446744073709551616.0);
    n = num("-9223372036854775809");
    CHECK(n.kind == QMPK_NUM_DOUBLE && n.u.dbl == -9223372036854775808.0);
    n = num("-0");
    CHECK(n.kind == QMPK_NUM_I64 && n.u.i64 == 0);
    n = num("-0.0");
    CHECK(n.kind == QMPK_NUM_DOUBLE && n.u.dbl == 0 && signbit(n.u.dbl));
    n = num("1e400");
    CHECK(n.kind == QMPK_NUM_DOUBLE && isinf(n.u.dbl) && n.u.dbl > 0);
    n = num("1E2");
    CHECK(n.kind == QMPK_NUM_DOUBLE && n.u.dbl == 100.0);
}

static void long_number_tokens_round_like_strtod(void)
{
    static char big[4100];
    qmpk_num_t n;

    memset(big, '0', sizeof(big));
    big[0] = '1';
    snprintf(big + 2001, sizeof(big) - 2001, "e-2000");
    n = num(big);
    CHECK(n.kind == QMPK_NUM_DOUBLE && n.u.dbl == 1.0);
    memcpy(big, "0.", 2);
    memset(big + 2, '0', 1500);
    snprintf(big + 1502, sizeof(big) - 1502, "25e1501");
    n = num(big);
    CHECK(n.kind == QMPK_NUM_DOUBLE && n.u.dbl == 2.5);
}

static void typed_number_accessors_refuse_what_qemu_refuses(void)
{
    int64_t i;
    uint64_t u;
    double d;
    bool t;

    CHECK(one_parse(&a, QMPK_DIALECT_QEMU, "[-1,18446744073709551615,1.5,true,\"1\"]"));
    CHECK(qmpk_int64(&a.m, 1, &i) == QMPK_E_OK && i == -1);
    CHECK(qmpk_uint64(&a.m, 1, &u) == QMPK_E_RANGE);
    CHECK(qmpk_int64(&a.m, 2, &i) == QMPK_E_RANGE);
    CHECK(qmpk_uint64(&a.m, 2, &u) == QMPK_E_OK && u == UINT64_MAX);
    CHECK(qmpk_double(&a.m, 2, &d) == QMPK_E_OK && d == 18446744073709551615.0);
    CHECK(qmpk_int64(&a.m, 3, &i) == QMPK_E_RANGE && qmpk_double(&a.m, 3, &d) == QMPK_E_OK && d == 1.5);
    CHECK(qmpk_bool(&a.m, 4, &t) == QMPK_E_OK && t);
    CHECK(qmpk_int64(&a.m, 5, &i) == QMPK_E_TYPE && qmpk_bool(&a.m, 5, &t) == QMPK_E_TYPE);
}

static bool eq(const char *x, const char *y)
{
    bool r1, r2;
    CHECK(one_parse(&a, QMPK_DIALECT_QEMU, x) && one_parse(&b, QMPK_DIALECT_QEMU, y));
    r1 = qmpk_equal(&a.m, 0, &b.m, 0);
    r2 = qmpk_equal(&b.m, 0, &a.m, 0);
    CHECK(r1 == r2);                                   /* symmetric */
    CHECK(qmpk_equal(&a.m, 0, &a.m, 0));               /* reflexive */
    return r1;
}

static void equality_is_semantic(void)
{
    CHECK(eq("1 ", "1.0 ") && eq("1 ", "1e0 ") && eq("100 ", "1E2 ") && eq("-0 ", "0 "));
    CHECK(!eq("1 ", "1.5 ") && !eq("1 ", "\"1\"") && !eq("null ", "false "));
    CHECK(eq("\"A\"", "'\\u0041'") && !eq("\"A\"", "\"a\""));
    CHECK(eq("{\"a\":1,\"b\":[2,{\"c\":null}]}", "{\"b\":[2.0,{\"c\":null}],\"a\":1}"));
    CHECK(!eq("{\"a\":1}", "{\"a\":1,\"b\":2}") && !eq("[1,2]", "[2,1]") && !eq("[1]", "[1,1]"));
    CHECK(eq("9007199254740992 ", "9007199254740992.0 "));
    CHECK(!eq("9007199254740993 ", "9007199254740993.0 "));
    CHECK(!eq("18446744073709551615 ", "18446744073709551615.0 "));
    CHECK(eq("18446744073709551615 ", "18446744073709551615 "));
    CHECK(!eq("9223372036854775808 ", "-9223372036854775808 "));
}

static bool eq_rfc(const char *x, const char *y)
{
    CHECK(one_parse(&a, QMPK_DIALECT_RFC, x) && one_parse(&b, QMPK_DIALECT_RFC, y));
    CHECK(qmpk_equal(&a.m, 0, &a.m, 0) && qmpk_equal(&b.m, 0, &b.m, 0));
    CHECK(qmpk_equal(&a.m, 0, &b.m, 0) == qmpk_equal(&b.m, 0, &a.m, 0));
    return qmpk_equal(&a.m, 0, &b.m, 0);
}

static void repeated_names_pair_by_occurrence(void)
{
    CHECK(eq_rfc("{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2.0}"));
    CHECK(eq_rfc("{\"a\":1,\"b\":0,\"a\":2}", "{\"b\":0,\"a\":1,\"a\":2}"));
    CHECK(!eq_rfc("{\"a\":1,\"a\":2}", "{\"a\":2,\"a\":1}"));
    CHECK(!eq_rfc("{\"a\":1,\"a\":1}", "{\"a\":1,\"b\":1}"));
}

static const qmpk_test_t tests[] = {
    { "members are found by unescaped name", members_are_found_by_unescaped_name },
    { "children and siblings iterate in order", children_and_siblings_iterate_in_order },
    { "strings unescape into the caller's buffer", strings_unescape_into_the_callers_buffer },
    { "integers are int64, then uint64, then double, as in QEMU", integers_are_int64_then_uint64_then_double_as_in_qemu },
    { "long number tokens round like strtod", long_number_tokens_round_like_strtod },
    { "typed number accessors refuse what QEMU refuses", typed_number_accessors_refuse_what_qemu_refuses },
    { "equality is semantic", equality_is_semantic },
    { "repeated names pair by occurrence", repeated_names_pair_by_occurrence },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
