/*
 * Limits at N and N+1: QEMU's three (nesting 1024, 2097152 tokens, 64 MiB
 * of token bytes), each also at a small configured value, and the two
 * capacities of the caller's buffers.  After each, the next message still
 * arrives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "harness.h"

typedef struct tally {
    int messages, errors;
    qmpk_errno_t first_code;
    uint64_t first_offset;
    char last_msg[64];
} tally_t;

/* Streams input through one stream (no chunking copies: inputs are big). */
static void run(const qmpk_stream_config_t *base, const char *in, size_t len, tally_t *t)
{
    qmpk_stream_config_t c = *base;
    qmpk_stream_t *s = malloc(sizeof(*s));
    size_t pos = 0;

    memset(t, 0, sizeof(*t));
    if (!c.buf) {
        c.buf_size = len + 64;
        c.buf = malloc(c.buf_size);
    }
    if (!c.tok) {
        c.tok_count = (unsigned)len + 16;
        c.tok = malloc(c.tok_count * sizeof(jsmntok_t));
    }
    CHECK(qmpk_stream_init(s, &c) == QMPK_E_OK);
    while (pos < len) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(s, in + pos, len - pos, &used, &m, &e);
        if (f == QMPK_FEED_ERROR && t->errors++ == 0) {
            t->first_code = e.code;
            t->first_offset = e.offset;
        }
        if (f == QMPK_FEED_MESSAGE) {
            t->messages++;
            snprintf(t->last_msg, sizeof(t->last_msg), "%.*s",
                     (int)(m.len < 60 ? m.len : 60), m.json);
        }
        pos += used;
    }
    if (c.buf != base->buf) free(c.buf);
    if (c.tok != base->tok) free(c.tok);
    free(s);
}

static char *repeat(const char *pre, const char *unit, size_t n, const char *post, size_t *len)
{
    size_t lp = strlen(pre), lu = strlen(unit), lq = strlen(post);
    char *p = malloc(lp + lu * n + lq + 1);

    memcpy(p, pre, lp);
    for (size_t i = 0; i < n; i++) memcpy(p + lp + i * lu, unit, lu);
    memcpy(p + lp + lu * n, post, lq + 1);
    *len = lp + lu * n + lq;
    return p;
}

static char *nest(size_t depth, const char *inner, const char *after, size_t *len)
{
    size_t li = strlen(inner), la = strlen(after);
    char *p = malloc(2 * depth + li + la + 1);

    memset(p, '[', depth);
    memcpy(p + depth, inner, li);
    memset(p + depth + li, ']', depth);
    memcpy(p + 2 * depth + li, after, la + 1);
    *len = 2 * depth + li + la;
    return p;
}

static const qmpk_stream_config_t dflt = { .dialect = QMPK_DIALECT_QEMU };

static void nesting_1024_passes_and_1025_fails_then_the_stream_goes_on(void)
{
    size_t len;
    tally_t t;
    char *in = nest(1024, "", "{}", &len);

    run(&dflt, in, len, &t);
    CHECK(t.messages == 2 && t.errors == 0);
    free(in);
    in = nest(1025, "", "{}", &len);
    run(&dflt, in, len, &t);
    /* the limit drops the message; every leftover ']' is its own error */
    CHECK(t.first_code == QMPK_E_NESTING && t.first_offset == 1024);
    CHECK(t.errors == 1 + 1025 && t.messages == 1 && strcmp(t.last_msg, "{}") == 0);
    free(in);
}

static void a_command_inside_a_message_past_the_nesting_limit_still_arrives(void)
{
    /* s2_nesting_limit_then_command: QEMU executed the embedded command */
    size_t len;
    tally_t t;
    char *in = nest(1025, "{\"execute\":\"query-name\",\"id\":\"embedded\"}", "", &len);

    run(&dflt, in, len, &t);
    CHECK(t.first_code == QMPK_E_NESTING && t.first_offset == 1024);
    CHECK(t.messages == 1 && strstr(t.last_msg, "embedded") != NULL);
    CHECK(t.errors == 1 + 1025);
    free(in);
}

static void a_configured_depth_limit_counts_braces_and_brackets_together(void)
{
    static const qmpk_run_cfg_t d3 = { .dialect = QMPK_DIALECT_QEMU, .max_depth = 3 };
    EXPECT_ITEMS(&d3, "[{\"a\":[]}]", "M 0 0 [{\"a\": []}]\n");
    EXPECT_ITEMS(&d3, "[{\"a\":[[]]}]{}",
                 "E 7 0 QMPK_E_NESTING \"JSON nesting depth limit exceeded\"\n"
                 "E 8 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n"
                 "E 9 2 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n"
                 "E 10 3 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n"
                 "E 11 4 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n"
                 "M 12 5 {}\n");
}

static void token_count_2097152_passes_and_2097153_fails(void)
{
    size_t len;
    tally_t t;
    /* "[" + "0,"*k + "[]" + "]": 2k + 4 tokens */
    char *in = repeat("[", "0,", 1048574, "[]]{}", &len);

    run(&dflt, in, len, &t);
    CHECK(t.messages == 2 && t.errors == 0);
    free(in);
    /* "[" + "0,"*k + "0" + "]": 2k + 3 tokens; the closing bracket is one too many */
    in = repeat("[", "0,", 1048575, "0]{}", &len);
    run(&dflt, in, len, &t);
    CHECK(t.first_code == QMPK_E_TOKEN_COUNT && t.first_offset == len - 3);
    CHECK(t.errors == 1 && t.messages == 1 && strcmp(t.last_msg, "{}") == 0);
    free(in);
}

static void a_configured_token_count_limit_counts_every_lexer_token(void)
{
    static const qmpk_run_cfg_t c5 = { .dialect = QMPK_DIALECT_QEMU, .max_tokens = 5 };
    EXPECT_ITEMS(&c5, "[1,2]", "M 0 0 [1, 2]\n");
    EXPECT_ITEMS(&c5, "[1,2,3]",
                 "E 5 0 QMPK_E_TOKEN_COUNT \"JSON token count limit exceeded\"\n"
                 "E 6 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
}

static void token_bytes_are_capped_per_token_and_per_message(void)
{
    static const qmpk_run_cfg_t c10 = { .dialect = QMPK_DIALECT_QEMU, .max_token_size = 10 };
    /* message: token bytes + 1 must stay within the limit */
    EXPECT_ITEMS(&c10, "[\"a\",\"b\"]", "M 0 0 [\"a\", \"b\"]\n");
    EXPECT_ITEMS(&c10, "[\"ab\",\"c\"]{}", "E 9 0 QMPK_E_TOKEN_SIZE \"JSON token size limit exceeded\"\nM 10 1 {}\n");
    EXPECT_ITEMS(&c10, "[\"abc\",\"def\"]",
                 "E 7 0 QMPK_E_TOKEN_SIZE \"JSON token size limit exceeded\"\n"
                 "E 12 1 QMPK_E_EXPECTING_VALUE \"JSON parse error, expecting value\"\n");
    /* one token: the byte that makes it too long is dropped with it, and
     * the lexer restarts in the middle of the string */
    EXPECT_ITEMS(&c10, "\"abcdefghijk\"{}",
                 "E 10 0 QMPK_E_TOKEN_SIZE \"JSON token size limit exceeded\"\n"
                 "E 11 1 QMPK_E_INVALID_KEYWORD \"JSON parse error, invalid keyword 'k'\"\n");
}

static void a_64_mib_token_is_qemus_limit(void)
{
    size_t len;
    tally_t t;
    /* a string token of exactly 64 MiB passes the lexer's check but not the
     * streamer's (token bytes + 1 > 64 MiB); one of 64 MiB - 1 passes both */
    char *in = repeat("\"", "a", (64u << 20) - 3, "\"\n{}", &len);

    run(&dflt, in, len, &t);
    CHECK(t.errors == 0 && t.messages == 2);
    free(in);
    in = repeat("\"", "a", (64u << 20) - 2, "\"\n{}", &len);
    run(&dflt, in, len, &t);
    CHECK(t.first_code == QMPK_E_TOKEN_SIZE && t.errors == 1 && t.messages == 1);
    free(in);
    in = repeat("\"", "a", (64u << 20), "\"\n", &len);
    run(&dflt, in, len, &t);
    CHECK(t.first_code == QMPK_E_TOKEN_SIZE && t.first_offset == (64u << 20));
    free(in);
}

static void the_buffer_holds_a_message_of_its_size_less_one(void)
{
    static char buf[11];
    static jsmntok_t tok[16];
    qmpk_stream_config_t c = { .buf = buf, .buf_size = sizeof(buf), .tok = tok, .tok_count = 16 };
    tally_t t;

    run(&c, "{\"a\":\"bc\"}", 10, &t);
    CHECK(t.messages == 1 && t.errors == 0);
    run(&c, "{\"a\":\"bcd\"}[1, 2]{}", 19, &t);
    /* one error for the whole message, then the next ones arrive */
    CHECK(t.first_code == QMPK_E_MESSAGE_TOO_LARGE && t.first_offset == 10);
    CHECK(t.errors == 1 && t.messages == 2 && strcmp(t.last_msg, "{}") == 0);
    /* a stray ends the skipped message first: QEMU's error, and no other */
    run(&c, "[\"0123456789abc\x01\"]{}", 20, &t);
    CHECK(t.first_code == QMPK_E_STRAY && t.first_offset == 15 && t.errors == 2 && t.messages == 1);
    /* an open message at the end of the stream reports the capacity */
    {
        qmpk_stream_t s;
        qmpk_msg_t m;
        qmpk_error_t e;
        size_t used;
        qmpk_stream_init(&s, &c);
        qmpk_stream_feed(&s, "[\"0123456789", 12, &used, &m, &e);
        CHECK(qmpk_stream_finish(&s, &m, &e) == QMPK_FEED_ERROR && e.code == QMPK_E_MESSAGE_TOO_LARGE
              && e.offset == 10);
    }
}

static void qemus_limits_win_over_a_full_token_array(void)
{
    static char buf[4096];
    static jsmntok_t tok[16];
    qmpk_stream_config_t c = { .buf = buf, .buf_size = sizeof(buf), .tok = tok, .tok_count = 16 };
    size_t len;
    tally_t t;
    char *in = nest(1025, "", "", &len);

    run(&c, in, len, &t);
    CHECK(t.first_code == QMPK_E_NESTING && t.first_offset == 1024 && t.errors == 1 + 1025);
    free(in);
    c.max_tokens = 5;
    c.tok_count = 2;
    run(&c, "[1,2,3]", 7, &t);
    CHECK(t.first_code == QMPK_E_TOKEN_COUNT && t.first_offset == 5 && t.errors == 2);
}

static void the_token_array_holds_a_message_of_its_size(void)
{
    static char buf[64];
    static jsmntok_t tok[3];
    qmpk_stream_config_t c = { .buf = buf, .buf_size = sizeof(buf), .tok = tok, .tok_count = 3 };
    tally_t t;

    run(&c, "{\"a\":1}", 7, &t);
    CHECK(t.messages == 1 && t.errors == 0);
    run(&c, "{\"a\":[1]}{\"b\":2}", 16, &t);
    CHECK(t.first_code == QMPK_E_TOO_MANY_TOKENS && t.first_offset == 6);
    CHECK(t.errors == 1 && t.messages == 1 && strcmp(t.last_msg, "{\"b\":2}") == 0);
}

static const qmpk_test_t tests[] = {
    { "nesting 1024 passes and 1025 fails, then the stream goes on", nesting_1024_passes_and_1025_fails_then_the_stream_goes_on },
    { "a command inside a message past the nesting limit still arrives", a_command_inside_a_message_past_the_nesting_limit_still_arrives },
    { "a configured depth limit counts braces and brackets together", a_configured_depth_limit_counts_braces_and_brackets_together },
    { "token count 2097152 passes and 2097153 fails", token_count_2097152_passes_and_2097153_fails },
    { "a configured token count limit counts every lexer token", a_configured_token_count_limit_counts_every_lexer_token },
    { "token bytes are capped per token and per message", token_bytes_are_capped_per_token_and_per_message },
    { "a 64 MiB token is QEMU's limit", a_64_mib_token_is_qemus_limit },
    { "the buffer holds a message of its size less one", the_buffer_holds_a_message_of_its_size_less_one },
    { "the token array holds a message of its size", the_token_array_holds_a_message_of_its_size },
    { "QEMU's limits win over a full token array", qemus_limits_win_over_a_full_token_array },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
