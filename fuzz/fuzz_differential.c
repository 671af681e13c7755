/*
 * differential: the RFC dialect's verdict against Debian's jansson, an
 * independent strict parser (JSON_REJECT_DUPLICATES, JSON_DECODE_ANY,
 * JSON_ALLOW_NUL).  A separate binary, so jansson's json_* symbols never
 * meet anything else of ours.
 *
 * Input: the whole input is one JSON text.  qmpkit accepts it when the
 * stream yields exactly one message and nothing else; jansson accepts it
 * when json_loadb() returns a value.  The verdicts must agree, and when
 * both accept, the values must be the same (types, strings byte for byte,
 * numbers as doubles, object members by name, arrays in order).
 *
 * Documented exceptions (docs/FUZZING.md), the only inputs skipped:
 *   - nesting deeper than 1024: qmpkit has QEMU's MAX_NESTING, jansson 2048;
 *   - numbers jansson cannot represent (json_error_numeric_overflow):
 *     integers beyond long long and doubles that overflow, which RFC 8259
 *     leaves to the implementation and QEMU turns into doubles or inf;
 *   - duplicate member names: the RFC dialect accepts them (RFC 8259 says
 *     names SHOULD be unique; parser/lexer.c rejects_duplicates()), jansson
 *     is run with JSON_REJECT_DUPLICATES so its value is unambiguous;
 *   - a member name holding U+0000: jansson does not support it;
 *   - a NUL byte that qmpkit reports as stray while jansson accepts: jansson
 *     takes a NUL after a value as the end of the input, and swallows one
 *     right after a number ("[ 47\0]": its number scanner reads the token as
 *     a C string).
 */
#include "fuzz_util.h"

#include <jansson.h>
#include <qmpkit/parser.h>

#define BUF (1u << 17)
#define NTOK 16384u

static char g_buf[BUF], g_str[BUF];
static jsmntok_t g_tok[NTOK];

/*
 * 1: accepted with *m set; 0: rejected; -1: a documented exception.
 * *stray_nul is set when the first problem was a stray NUL byte (see the
 * exceptions above).
 */
static int ours(const uint8_t *data, size_t size, qmpk_stream_t *s, qmpk_msg_t *m,
                int *stray_nul)
{
    qmpk_stream_config_t c = {0};
    qmpk_error_t e;
    qmpk_msg_t extra;
    size_t off = 0, used;
    int items = 0, exception = 0, error = 0;
    qmpk_feed_t r;

    c.dialect = QMPK_DIALECT_RFC;
    c.buf = g_buf;
    c.buf_size = sizeof(g_buf);
    c.tok = g_tok;
    c.tok_count = NTOK;
    FUZZ_CHECK(qmpk_stream_init(s, &c) == QMPK_E_OK);
    for (int last = 0; !last && items < 2 && !error;) {
        if (off < size) {
            r = qmpk_stream_feed(s, (const char *)data + off, size - off, &used,
                                 items ? &extra : m, &e);
            off += used;
        } else {
            r = qmpk_stream_finish(s, items ? &extra : m, &e);
            last = 1;
        }
        if (r == QMPK_FEED_ERROR) {
            error = 1;
            exception |= e.code == QMPK_E_NESTING;
            *stray_nul = e.code == QMPK_E_STRAY && e.offset < size && data[e.offset] == 0;
            /* capacity of our buffers is not a verdict */
            FUZZ_CHECK(e.code != QMPK_E_MESSAGE_TOO_LARGE && e.code != QMPK_E_TOO_MANY_TOKENS);
        }
        items += r != QMPK_FEED_MORE;
    }
    if (exception) {
        return -1;
    }
    return items == 1 && !error;
}

static void same_value(json_t *j, const qmpk_msg_t *m, int t)
{
    size_t len;
    double d = 0;

    switch (qmpk_type(m, t)) {
    case QMPK_T_OBJECT:
        FUZZ_CHECK(json_is_object(j) && json_object_size(j) == (size_t)qmpk_count(m, t));
        for (int k = qmpk_child(m, t); k >= 0; k = qmpk_next(m, k)) {
            json_t *v;
            FUZZ_CHECK(qmpk_str(m, k, g_str, sizeof(g_str), &len) == QMPK_E_OK);
            v = json_object_getn(j, g_str, len);
            FUZZ_CHECK(v != NULL);
            same_value(v, m, k + 1);
        }
        return;
    case QMPK_T_ARRAY: {
        size_t i = 0;
        FUZZ_CHECK(json_is_array(j) && json_array_size(j) == (size_t)qmpk_count(m, t));
        for (int e = qmpk_child(m, t); e >= 0; e = qmpk_next(m, e)) {
            same_value(json_array_get(j, i++), m, e);
        }
        return;
    }
    case QMPK_T_STRING:
        FUZZ_CHECK(json_is_string(j));
        FUZZ_CHECK(qmpk_str(m, t, g_str, sizeof(g_str), &len) == QMPK_E_OK);
        FUZZ_CHECK(json_string_length(j) == len && memcmp(json_string_value(j), g_str, len) == 0);
        return;
    case QMPK_T_NUMBER:
        FUZZ_CHECK(json_is_number(j) && qmpk_double(m, t, &d) == QMPK_E_OK);
        FUZZ_CHECK(json_number_value(j) == d);
        if (json_is_integer(j)) {
            int64_t i;
            FUZZ_CHECK(qmpk_int64(m, t, &i) == QMPK_E_OK && i == json_integer_value(j));
        }
        return;
    case QMPK_T_TRUE:
        FUZZ_CHECK(json_is_true(j));
        return;
    case QMPK_T_FALSE:
        FUZZ_CHECK(json_is_false(j));
        return;
    case QMPK_T_NULL:
        FUZZ_CHECK(json_is_null(j));
        return;
    default:
        FUZZ_CHECK(!"invalid token type in an accepted message");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static qmpk_stream_t s;
    qmpk_msg_t m;
    json_error_t err;
    json_t *j;
    int v, stray_nul = 0;

    if (size > BUF / 2) {
        return 0;
    }
    v = ours(data, size, &s, &m, &stray_nul);
    j = json_loadb((const char *)data, size,
                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (v < 0 || (j && stray_nul) ||
        (!j && (json_error_code(&err) == json_error_numeric_overflow ||
                json_error_code(&err) == json_error_null_byte_in_key ||
                json_error_code(&err) == json_error_duplicate_key))) {
        json_decref(j);
        return 0;
    }
    if ((v == 1) != (j != NULL)) {
        fprintf(stderr, "qmpkit %s, jansson %s (%s at %d)\n", v ? "accepts" : "rejects",
                j ? "accepts" : "rejects", j ? "" : err.text, j ? 0 : err.position);
    }
    FUZZ_CHECK((v == 1) == (j != NULL));
    if (j) {
        same_value(j, &m, 0);
        json_decref(j);
    }
    return 0;
}
