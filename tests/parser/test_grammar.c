/*
 * Grammar errors: the first one of a message, in token order, with QEMU's
 * text (json-parser.c; spec 2.6), and duplicate keys.
 */
#include <stdio.h>
#include <string.h>

#include "feed.h"
#include "harness.h"

static const qmpk_run_cfg_t qemu = { .dialect = QMPK_DIALECT_QEMU };
static const qmpk_run_cfg_t rfc = { .dialect = QMPK_DIALECT_RFC };

#define EV "QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n"

static void a_missing_value_is_expecting_value(void)
{
    EXPECT_ITEMS(&qemu, "{ \"execute\": }", "E 13 0 " EV);
    EXPECT_ITEMS(&qemu, "[1,]", "E 3 0 " EV);
    EXPECT_ITEMS(&qemu, "{\"a\":1,}", "E 7 0 " EV);
    EXPECT_ITEMS(&qemu, "[,1]", "E 1 0 " EV);
    EXPECT_ITEMS(&qemu, ":", "E 0 0 " EV);
    EXPECT_ITEMS(&qemu, ",", "E 0 0 " EV);
}

static void separators_and_colons_have_their_own_texts(void)
{
    EXPECT_ITEMS(&qemu, "{\"a\" 1}", "E 5 0 QMPK_E_MISSING_COLON \"JSON parse error, missing : in object pair\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\",1}", "E 4 0 QMPK_E_MISSING_COLON \"JSON parse error, missing : in object pair\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1 \"b\":2}", "E 7 0 QMPK_E_DICT_SEPARATOR \"JSON parse error, expected separator in dict\"\n");
    EXPECT_ITEMS(&qemu, "[1 2]", "E 3 0 QMPK_E_LIST_SEPARATOR \"JSON parse error, expected separator in list\"\n");
    EXPECT_ITEMS(&qemu, "[1:2]", "E 2 0 QMPK_E_LIST_SEPARATOR \"JSON parse error, expected separator in list\"\n");
}

static void a_key_must_be_a_string_but_is_parsed_as_a_value_first(void)
{
    EXPECT_ITEMS(&qemu, "{1:2}", "E 1 0 QMPK_E_KEY_NOT_STRING \"JSON parse error, key is not a string in object\"\n");
    EXPECT_ITEMS(&qemu, "{true:2}", "E 1 0 QMPK_E_KEY_NOT_STRING \"JSON parse error, key is not a string in object\"\n");
    EXPECT_ITEMS(&qemu, "{{}:2}", "E 2 0 QMPK_E_KEY_NOT_STRING \"JSON parse error, key is not a string in object\"\n");
    /* errors inside the key value come first */
    EXPECT_ITEMS(&qemu, "{[1 2]:3}", "E 4 0 QMPK_E_LIST_SEPARATOR \"JSON parse error, expected separator in list\"\n");
    EXPECT_ITEMS(&qemu, "{xyz:3}", "E 1 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'xyz'\"\n");
}

static void only_true_false_and_null_are_keywords(void)
{
    EXPECT_ITEMS(&qemu, "[true,false,null]", "M 0 0 [true, false, null]\n");
    EXPECT_ITEMS(&qemu, "[nul]", "E 1 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'nul'\"\n");
    EXPECT_ITEMS(&qemu, "{\"id\":inf}", "E 6 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'inf'\"\n");
    EXPECT_ITEMS(&rfc, "[truer]", "E 1 0 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'truer'\"\n");
}

static void a_string_error_counts_only_where_a_value_is_taken(void)
{
    /* the parser reports the missing separator before reading the string */
    EXPECT_ITEMS(&qemu, "[1 \"a\\x\"]", "E 3 0 QMPK_E_LIST_SEPARATOR \"JSON parse error, expected separator in list\"\n");
    EXPECT_ITEMS(&qemu, "[\"a\\x\" 1]", "E 1 0 QMPK_E_INVALID_ESCAPE \"JSON parse error, invalid escape sequence in string\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\\x\":1 2}", "E 1 0 QMPK_E_INVALID_ESCAPE \"JSON parse error, invalid escape sequence in string\"\n");
}

static void duplicate_keys_are_rejected_by_qemu_in_token_order(void)
{
    EXPECT_ITEMS(&qemu, "{\"a\":1,\"a\":2}", "E 7 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1,\"\\u0061\":2}", "E 7 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1,'a':2}", "E 7 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"\\u0000\":1,\"\xc0\x80\":2}", "E 12 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    /* the inner pair completes first */
    EXPECT_ITEMS(&qemu, "{\"a\":{\"b\":1,\"b\":2},\"a\":3}", "E 12 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    /* a duplicate before a later grammar error wins, and the other way */
    EXPECT_ITEMS(&qemu, "{\"a\":1,\"a\":2,}", "E 7 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1 x,\"a\":2}", "E 7 0 QMPK_E_DICT_SEPARATOR \"JSON parse error, expected separator in dict\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1,\"a\":[1,}]", "E 14 0 " EV);
    EXPECT_ITEMS(&qemu, "{\"a\":1,\"b\":{\"c\":2,\"a\":3}}", "M 0 0 {\"a\": 1, \"b\": {\"c\": 2, \"a\": 3}}\n");
    EXPECT_ITEMS(&qemu, "{\"ab\":1,\"a\":2,\"b\":3}", "M 0 0 {\"ab\": 1, \"a\": 2, \"b\": 3}\n");
}

static void rfc_accepts_duplicate_keys(void)
{
    EXPECT_ITEMS(&rfc, "{\"a\":1,\"a\":2}", "M 0 0 {\"a\": 1, \"a\": 2}\n");
}

/* A large object goes through the merge sort rather than a quadratic scan;
 * the duplicate at the end is still found. */
static void duplicates_in_large_objects_are_found(void)
{
    static char big[20000];
    size_t n = 0;

    big[n++] = '{';
    for (int i = 0; i < 1000; i++) {
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":%d", i ? "," : "", (i * 7919) % 1000, i);
    }
    n += (size_t)snprintf(big + n, sizeof(big) - n, ",\"k500\":0}");
    qmpk_items_t it;
    qmpk_items_run(&it, &qemu, big, n, 0, NULL, 0);
    CHECK(it.errors == 1 && it.last_error == QMPK_E_DUPLICATE_KEY);
    qmpk_items_free(&it);
    big[n - 7] = '9';   /* "k599" is not there: k%d covers 0..999 once */
    qmpk_items_run(&it, &qemu, big, n, 0, NULL, 0);
    CHECK(it.errors == 1);
    qmpk_items_free(&it);
}

/* One message's tokens, fed whole with the given stream flags. */
static int tokens_of(const char *in, unsigned flags, jsmntok_t *tok, unsigned ntok)
{
    static char buf[256];
    qmpk_stream_config_t c = { 0 };
    qmpk_stream_t s;
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t used = 0;

    c.dialect = QMPK_DIALECT_QEMU;
    c.buf = buf;
    c.buf_size = sizeof(buf);
    c.tok = tok;
    c.tok_count = ntok;
    c.flags = flags;
    if (qmpk_stream_init(&s, &c) != QMPK_E_OK
        || qmpk_stream_feed(&s, in, strlen(in), &used, &m, &e) != QMPK_FEED_MESSAGE) {
        return -1;
    }
    return m.ntok;
}

/* The fast path writes the tokens itself: they must be jsmn's, e.g. a value
 * ends at its last byte, not at the space after it. */
static void the_fast_path_writes_jsmns_tokens(void)
{
    static const char *const in[] = {
        "{\"a\":1 , \"b\" : [true ,null ] , \"c\":{ } }",
        "[[], {\"x\": [1, -2.5e3, \"s\\n\"]}, false]",
    };

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        jsmntok_t fast[32], exact[32];
        int n = tokens_of(in[i], 0, fast, 32);
        CHECK(n > 0 && n == tokens_of(in[i], QMPK_STREAM_EXACT_ONLY, exact, 32));
        CHECK(n > 0 && memcmp(fast, exact, (size_t)n * sizeof(jsmntok_t)) == 0);
    }
}

/* Past the 8 keys an object keeps for comparison, a repeat is still found,
 * whether it repeats a kept key or a later one. */
static void duplicates_past_the_kept_keys_are_found(void)
{
    static const char *const dups[] = {
        "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k9\":0}",
        "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k3\":0}",
    };

    for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
        qmpk_items_t it;
        qmpk_items_run(&it, &qemu, dups[i], strlen(dups[i]), 0, NULL, 0);
        CHECK(it.errors == 1 && it.last_error == QMPK_E_DUPLICATE_KEY);
        qmpk_items_free(&it);
    }
}

/* The fast path trusts raw bytes for keys without escapes only: an escape
 * in a value changes nothing, one in a key sends the object to the full
 * check.  Past ten keys the fingerprints no longer clear an object alone. */
static void escapes_in_keys_and_values_and_duplicates(void)
{
    EXPECT_ITEMS(&qemu, "{\"a\":\"\\n\",\"a\":2}", "E 10 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"a\\n\":1,\"a\":2}", "M 0 0 {\"a\\n\": 1, \"a\": 2}\n");
    EXPECT_ITEMS(&qemu, "{\"a\":1,\"b\":\"\\u0061\"}", "M 0 0 {\"a\": 1, \"b\": \"a\"}\n");
    EXPECT_ITEMS(&qemu, "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,"
                 "\"k7\":7,\"k8\":8,\"k9\":9,\"x\":\"\\t\",\"k4\":0}", "E 80 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,"
                 "\"k7\":7,\"k8\":8,\"k9\":9,\"\\u006b4\":0}", "E 71 0 QMPK_E_DUPLICATE_KEY \"JSON parse error, duplicate key\"\n");
    EXPECT_ITEMS(&qemu, "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,"
                 "\"k7\":7,\"k8\":8,\"k9\":9,\"\\u006b\":0}", "M 0 0 {\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, \"k7\": 7, \"k8\": 8, \"k9\": 9, \"k\": 0}\n");
}

/* Only strings with an escape or a non-ASCII byte go through the
 * validator after the scan; the plain ones around them are skipped. */
static void only_strings_that_need_it_are_validated(void)
{
    EXPECT_ITEMS(&qemu, "[\"aaaaaaaaaaaaaaaaaaaaaaaa\", \"b\", \"x\xc3\"]", "E 34 0 QMPK_E_INVALID_UTF8 \"JSON parse error, invalid UTF-8 sequence in string\"\n");
    EXPECT_ITEMS(&qemu, "[\"aaaaaaaaaaaaaaaaaaaaaaaa\", \"b\", \"x\xc3\xa9\\\\\"]", "M 0 0 [\"aaaaaaaaaaaaaaaaaaaaaaaa\", \"b\", \"x\\u00E9\\\\\"]\n");
    EXPECT_ITEMS(&qemu, "[\"aaaaaaaaaaaaaaaa\xed\xa0\x80" "aaaaaaaa\", \"b\\n\"]", "E 1 0 QMPK_E_INVALID_UTF8 \"JSON parse error, invalid UTF-8 sequence in string\"\n");
}

/* Objects past the pairwise limit (32 members), with and without escapes,
 * each with and without a repeat: sorting by bytes and by text agree. */
static void large_objects_sort_by_bytes_or_by_text(void)
{
    static const char *const last[] = {
        "\"key77\"", "\"key07\"", "\"\\u006bey77\"", "\"\\u006bey07\"",
    };
    static char big[4096];

    for (size_t v = 0; v < sizeof(last) / sizeof(last[0]); v++) {
        size_t n = 0;
        big[n++] = '{';
        for (int i = 0; i < 60; i++) {
            n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"key%02d\":%d", i ? "," : "", i, i);
        }
        n += (size_t)snprintf(big + n, sizeof(big) - n, ",%s:0}", last[v]);
        CHECK(qmpk_same_items_both_paths(&qemu, big, n, 0, last[v]));
        qmpk_items_t it;
        qmpk_items_run(&it, &qemu, big, n, 0, NULL, 0);
        CHECK(it.errors == (int)(v & 1));
        CHECK(!(v & 1) || it.last_error == QMPK_E_DUPLICATE_KEY);
        qmpk_items_free(&it);
    }
}

static const qmpk_test_t tests[] = {
    { "the fast path writes jsmn's tokens", the_fast_path_writes_jsmns_tokens },
    { "duplicates past the kept keys are found", duplicates_past_the_kept_keys_are_found },
    { "escapes in keys and values, and duplicates", escapes_in_keys_and_values_and_duplicates },
    { "only strings that need it are validated", only_strings_that_need_it_are_validated },
    { "large objects sort by bytes or by text", large_objects_sort_by_bytes_or_by_text },
    { "a missing value is 'expecting value'", a_missing_value_is_expecting_value },
    { "separators and colons have their own texts", separators_and_colons_have_their_own_texts },
    { "a key must be a string but is parsed as a value first", a_key_must_be_a_string_but_is_parsed_as_a_value_first },
    { "only true, false and null are keywords", only_true_false_and_null_are_keywords },
    { "a string error counts only where a value is taken", a_string_error_counts_only_where_a_value_is_taken },
    { "duplicate keys are rejected by QEMU in token order", duplicate_keys_are_rejected_by_qemu_in_token_order },
    { "the RFC dialect accepts duplicate keys", rfc_accepts_duplicate_keys },
    { "duplicates in large objects are found", duplicates_in_large_objects_are_found },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
