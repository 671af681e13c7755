/*
 * The accessor tests (test_classify, test_views, test_writer) again, with
 * every input also fed split at every point and in chunks of 1..8 bytes:
 * tests/parser/CMakeLists.txt compiles copies of their sources next to this
 * header, which replaces tests/parser/msg.h.  Each chunked feed must give
 * the whole feed's result: the same message bytes and tokens, or the same
 * error at the same offset.  The tests then judge the whole feed's message,
 * as they do with the original header.
 */
#ifndef QMPK_TEST_MSG_H
#define QMPK_TEST_MSG_H
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "qmpkit/parser.h"

#define ONE_BUF 8192
#define ONE_TOK 1024
#define ONE_MAX_CHUNK 8

typedef struct one {
    qmpk_stream_t s;
    char buf[ONE_BUF];
    jsmntok_t tok[ONE_TOK];
    qmpk_msg_t m;
    qmpk_error_t e;
    bool ok;
} one_t;

/* The first item of json fed in pieces: cut > 0 splits once there, else
 * chunks of `chunk` bytes.  Ends the stream when the pieces give nothing. */
static inline bool one_feed(one_t *o, qmpk_dialect_t d, const char *json, size_t len,
                            size_t cut, size_t chunk)
{
    qmpk_stream_config_t c = { .dialect = d, .buf = o->buf, .buf_size = sizeof(o->buf),
                               .tok = o->tok, .tok_count = ONE_TOK };
    qmpk_stream_init(&o->s, &c);
    for (size_t off = 0; off < len;) {
        size_t n = cut ? (off < cut ? cut - off : len - off) : chunk;
        size_t used = 0;
        n = n < len - off ? n : len - off;
        qmpk_feed_t r = qmpk_stream_feed(&o->s, json + off, n, &used, &o->m, &o->e);
        if (r != QMPK_FEED_MORE)
            return r == QMPK_FEED_MESSAGE;
        off += used;
    }
    qmpk_feed_t r = qmpk_stream_finish(&o->s, &o->m, &o->e);
    return r == QMPK_FEED_MESSAGE;
}

static inline bool one_same(const one_t *a, const one_t *b)
{
    if (a->ok != b->ok)
        return false;
    if (!a->ok)
        return a->e.code == b->e.code && a->e.offset == b->e.offset;
    return a->m.len == b->m.len && memcmp(a->m.json, b->m.json, a->m.len) == 0 &&
           a->m.ntok == b->m.ntok &&
           memcmp(a->m.tok, b->m.tok, sizeof(jsmntok_t) * (size_t)a->m.ntok) == 0;
}

static inline bool one_chunked_agree(const one_t *whole, qmpk_dialect_t d, const char *json,
                                     size_t len)
{
    static one_t piece;
    bool ok = true;
    for (size_t cut = 1; cut < len; cut++) {
        piece.ok = one_feed(&piece, d, json, len, cut, 0);
        if (!one_same(whole, &piece)) {
            fprintf(stderr, "    split at %zu differs from the whole feed: %s\n", cut, json);
            ok = false;
        }
    }
    for (size_t chunk = 1; chunk <= ONE_MAX_CHUNK; chunk++) {
        piece.ok = one_feed(&piece, d, json, len, 0, chunk);
        if (!one_same(whole, &piece)) {
            fprintf(stderr, "    %zu-byte chunks differ from the whole feed: %s\n", chunk, json);
            ok = false;
        }
    }
    return ok;
}

static inline bool one_parse(one_t *o, qmpk_dialect_t d, const char *json)
{
    size_t len = strlen(json);
    o->ok = one_feed(o, d, json, len, 0, len ? len : 1);
    CHECK(one_chunked_agree(o, d, json, len));
    return o->ok;
}
#endif
