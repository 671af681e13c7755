/* The stream's contract: configuration, consumed counts, lookahead,
 * reset, error names, and no read past the bytes given (guard pages). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "files.h"
#include "guard.h"
#include "harness.h"

static char buf[256];
static jsmntok_t tok[64];

static qmpk_stream_config_t good(void)
{
    qmpk_stream_config_t c = { .buf = buf, .buf_size = sizeof(buf), .tok = tok, .tok_count = 64 };
    return c;
}

static void bad_configurations_are_refused(void)
{
    qmpk_stream_t s;
    qmpk_stream_config_t c = good();

    CHECK(qmpk_stream_init(&s, NULL) == QMPK_E_BAD_CONFIG);
    c.buf = NULL;
    CHECK(qmpk_stream_init(&s, &c) == QMPK_E_BAD_CONFIG);
    c = good(); c.buf_size = 1;
    CHECK(qmpk_stream_init(&s, &c) == QMPK_E_BAD_CONFIG);
    c = good(); c.tok_count = 0;
    CHECK(qmpk_stream_init(&s, &c) == QMPK_E_BAD_CONFIG);
    c = good(); c.max_depth = QMPK_MAX_DEPTH_LIMIT + 1;
    CHECK(qmpk_stream_init(&s, &c) == QMPK_E_BAD_CONFIG);
    c = good(); c.dialect = (qmpk_dialect_t)7;
    CHECK(qmpk_stream_init(&s, &c) == QMPK_E_BAD_CONFIG);
    c = good();
    CHECK(qmpk_stream_init(&s, &c) == QMPK_E_OK);
    CHECK(s.cfg.max_depth == 1024 && s.cfg.max_tokens == 2097152 && s.cfg.max_token_size == 64u << 20);
}

static void a_lookahead_byte_is_not_consumed(void)
{
    qmpk_stream_t s;
    qmpk_stream_config_t c = good();
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t used = 99;

    qmpk_stream_init(&s, &c);
    CHECK(qmpk_stream_feed(&s, "", 0, &used, &m, &e) == QMPK_FEED_MORE && used == 0);
    CHECK(qmpk_stream_feed(&s, "12 {}", 5, &used, &m, &e) == QMPK_FEED_MESSAGE && used == 2);
    CHECK(m.len == 2 && memcmp(m.json, "12", 2) == 0 && m.offset == 0 && m.index == 0);
    CHECK(qmpk_stream_feed(&s, " {}", 3, &used, &m, &e) == QMPK_FEED_MESSAGE && used == 3);
    CHECK(m.offset == 3 && m.index == 1 && qmpk_stream_offset(&s) == 5);
    CHECK(qmpk_stream_feed(&s, "[1,", 3, &used, &m, &e) == QMPK_FEED_MORE && used == 3);
    CHECK(qmpk_stream_pending(&s));
}

static void reset_drops_partial_input_and_keeps_configuration(void)
{
    qmpk_stream_t s;
    qmpk_stream_config_t c = good();
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t used;

    c.dialect = QMPK_DIALECT_RFC;
    qmpk_stream_init(&s, &c);
    qmpk_stream_feed(&s, "{\"a\":", 5, &used, &m, &e);
    qmpk_stream_reset(&s);
    CHECK(!qmpk_stream_pending(&s) && s.cfg.dialect == QMPK_DIALECT_RFC);
    CHECK(qmpk_stream_feed(&s, "{}", 2, &used, &m, &e) == QMPK_FEED_MESSAGE);
    CHECK(m.offset == 5 && m.index == 0);
    qmpk_stream_feed(&s, "\"ab", 3, &used, &m, &e);
    qmpk_stream_reset(&s);
    CHECK(qmpk_stream_feed(&s, "'x'", 3, &used, &m, &e) == QMPK_FEED_ERROR && e.code == QMPK_E_STRAY);
}

static void every_error_has_a_unique_name_and_a_text(void)
{
#define QMPK_XX_CHECK(num, name, desc) \
    CHECK(strcmp(qmpk_errname(QMPK_E_##name), "QMPK_E_" #name) == 0 && strcmp(qmpk_strerror(QMPK_E_##name), desc) == 0);
    QMPK_ERRNO_MAP(QMPK_XX_CHECK)
#undef QMPK_XX_CHECK
    CHECK(strcmp(qmpk_errname((qmpk_errno_t)9999), "QMPK_E_UNKNOWN") == 0);
    CHECK(qmpk_version() == (QMPK_VERSION_MAJOR * 0x10000ul + QMPK_VERSION_MINOR * 0x100ul + QMPK_VERSION_PATCH));
}

static void error_format_truncates_like_snprintf(void)
{
    qmpk_error_t e = { .code = QMPK_E_INVALID_KEYWORD, .arg = "nul", .arg_len = 3 };
    char small[10];

    CHECK(qmpk_error_format(&e, small, sizeof(small)) == strlen("JSON parse error, invalid keyword 'nul'"));
    CHECK(strcmp(small, "JSON pars") == 0);
}

/* Feeds a file as 1-byte chunks, each copied flush against a guard page. */
static void guarded(const char *path, const char *name, void *ctx)
{
    size_t len = 0, pos = 0;
    char *text = qmpk_read_file(path, &len);
    static char gbuf[1 << 16];
    static jsmntok_t gtok[1 << 14];
    qmpk_stream_config_t c = { .buf = gbuf, .buf_size = sizeof(gbuf), .tok = gtok, .tok_count = 1 << 14 };
    qmpk_stream_t s;
    qmpk_guard_t g;
    int *n = ctx;

    (void)name;
    if (!text || len > 20000) {
        free(text);
        return;
    }
    c.dialect = (qmpk_dialect_t)(len % 2);
    qmpk_stream_init(&s, &c);
    while (pos < len) {
        qmpk_msg_t m;
        qmpk_error_t e;
        size_t used = 0;
        const char *p = qmpk_guard_put(&g, text + pos, 1);
        if (!CHECK(p != NULL)) {
            break;
        }
        qmpk_stream_feed(&s, p, 1, &used, &m, &e);
        qmpk_guard_free(&g);
        pos += used;
    }
    (*n)++;
    free(text);
}

static void no_byte_past_the_input_is_read(void)
{
    const char *shared = qmpk_shared_dir(0, NULL);
    char dir[4200];
    int n = 0;

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/corpus/JSONTestSuite/test_parsing", shared);
    qmpk_for_files(dir, ".json", guarded, &n);
    CHECK(n > 300);
}

/* One byte at a time through the header's macro and through the function
 * itself (as a caller through a pointer or another language does): the
 * same items, bytes, offsets and tokens. */
typedef qmpk_feed_t (*feed_fn)(qmpk_stream_t *, const char *, size_t, size_t *,
                               qmpk_msg_t *, qmpk_error_t *);

static size_t bytewise(bool through_macro, const char *in, char *out, size_t cap)
{
    static char b[512];
    static jsmntok_t t[64];
    feed_fn fn = qmpk_stream_feed;    /* the function: no call follows the name */
    qmpk_stream_config_t c = { .buf = b, .buf_size = sizeof(b), .tok = t, .tok_count = 64,
                               .flags = QMPK_STREAM_OWN_TOKENS };
    qmpk_stream_t s;
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t n = 0;

    qmpk_stream_init(&s, &c);
    for (size_t i = 0; in[i]; i++) {
        size_t used = 0;
        qmpk_feed_t r;
        do {
            r = through_macro ? qmpk_stream_feed(&s, in + i, 1, &used, &m, &e)
                              : fn(&s, in + i, 1, &used, &m, &e);
            if (r == QMPK_FEED_MESSAGE) {
                n += (size_t)snprintf(out + n, cap - n, "M%llu:%.*s:%d:", (unsigned long long)m.offset,
                                      (int)m.len, m.json, m.ntok);
                for (int k = 0; k < m.ntok; k++) {
                    n += (size_t)snprintf(out + n, cap - n, "%d,%d,%d,%d,%d;", m.tok[k].type,
                                          m.tok[k].start, m.tok[k].end, m.tok[k].size,
                                          m.tok[k].parent);
                }
            } else if (r == QMPK_FEED_ERROR) {
                n += (size_t)snprintf(out + n, cap - n, "E%llu:%s;", (unsigned long long)e.offset,
                                      qmpk_errname(e.code));
            }
        } while (r != QMPK_FEED_MORE && used == 0);
    }
    return n;
}

static void the_feed_macro_and_the_function_agree(void)
{
    static const char in[] =
        "{\"execute\": \"qmp_capabilities\", \"id\": 12345}\r\n"
        "{\"return\": {\"a\": [1, -2.5e3, true, null, \"x\\n\\u00e9\"], \"b\": {}}}\r\n"
        "  \x01 {\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}"
        "[1 2]{\"k\": 1, \"k\": 2}";
    static char a[8192], b[8192];
    size_t na = bytewise(true, in, a, sizeof(a)), nb = bytewise(false, in, b, sizeof(b));

    CHECK(na > 0 && na == nb && memcmp(a, b, na) == 0);
    CHECK(strstr(a, "E") != NULL && strstr(a, "QMPK_E_DUPLICATE_KEY") != NULL);
}

/* The fast path keeps a message's offset in its length: what
 * qmpk_stream_offset() says must still be every byte consumed, inside a
 * message, between messages, after an error and after a reset. */
static void the_offset_counts_every_byte_consumed(void)
{
    static const char in[] =
        "{\"execute\": \"query-status\", \"id\": [1, 2.5, \"\\u00e9\"]}\r\n  "
        "{'a': 1}\n\xff{\"b\": {\"c\": []}} 12 {\"open\": \"string";
    static const unsigned flags[] = { 0, QMPK_STREAM_OWN_TOKENS, QMPK_STREAM_EXACT_ONLY };

    for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
        qmpk_stream_t s;
        qmpk_stream_config_t c = good();
        uint64_t fed = 0;
        size_t i = 0, n = sizeof(in) - 1, msgs = 0, errs = 0;
        bool ok = true;

        c.flags = flags[f];
        qmpk_stream_init(&s, &c);
        while (i < n) {
            qmpk_msg_t m;
            qmpk_error_t e;
            size_t used = 0;
            qmpk_feed_t r = qmpk_stream_feed(&s, in + i, 1, &used, &m, &e);

            msgs += r == QMPK_FEED_MESSAGE;
            errs += r == QMPK_FEED_ERROR;
            i += used;
            fed += used;
            ok = ok && qmpk_stream_offset(&s) == fed;
        }
        CHECK(ok && msgs == 4 && errs == 1 && qmpk_stream_pending(&s));
        qmpk_stream_reset(&s);
        CHECK(qmpk_stream_offset(&s) == fed && !qmpk_stream_pending(&s));
    }
}

static const qmpk_test_t tests[] = {
    { "bad configurations are refused", bad_configurations_are_refused },
    { "a lookahead byte is not consumed", a_lookahead_byte_is_not_consumed },
    { "reset drops partial input and keeps the configuration", reset_drops_partial_input_and_keeps_configuration },
    { "every error has a unique name and a text", every_error_has_a_unique_name_and_a_text },
    { "error_format truncates like snprintf", error_format_truncates_like_snprintf },
    { "no byte past the input is read (guard pages)", no_byte_past_the_input_is_read },
    { "the feed macro and the function agree, byte by byte", the_feed_macro_and_the_function_agree },
    { "the offset counts every byte consumed, byte by byte", the_offset_counts_every_byte_consumed },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
