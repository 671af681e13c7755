/*
 * qmpkit: qmpk_stream_feed over the whole byte stream (framing, validation
 * and jsmn's token array), fed whole or in fixed-size chunks as a socket
 * reader would, with QMPK_STREAM_OWN_TOKENS ("qmpkit...") or without it
 * ("qmpkit-shared...").
 * The buffer and token array are sized for the workload's largest message,
 * as a real caller sizes them for its largest expected reply.
 */
#include <stdlib.h>
#include <string.h>

#include <qmpkit/parser.h>

#include "bench.h"

typedef struct qmpkit_state {
    qmpk_stream_t s;
    char *buf;
    jsmntok_t *tok;
} qmpkit_state_t;

static void *prepare_with(const bench_workload_t *w, unsigned flags)
{
    qmpkit_state_t *st = bench_xmalloc(sizeof(*st));
    qmpk_stream_config_t cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.dialect = QMPK_DIALECT_QEMU;
    cfg.flags = flags;
    cfg.buf_size = w->max_len + QMPK_BUF_SLACK;
    cfg.tok_count = w->max_tok;
    st->buf = cfg.buf = bench_xmalloc(cfg.buf_size);
    st->tok = cfg.tok = bench_xmalloc(cfg.tok_count * sizeof(jsmntok_t));
    if (qmpk_stream_init(&st->s, &cfg) != QMPK_E_OK) {
        abort();
    }
    return st;
}

/* A reader with one stream owns its token array, so it can say so. */
static void *qmpkit_prepare(const bench_workload_t *w)
{
    return prepare_with(w, QMPK_STREAM_OWN_TOKENS);
}

/* The default: the array might be shared with other streams (a server's
 * monitors), so a message that spans calls is tokenized when it closes. */
static void *qmpkit_prepare_shared(const bench_workload_t *w)
{
    return prepare_with(w, 0);
}

/* Chunks of `chunk` bytes (the last may be shorter), each fed until the
 * parser has consumed it, as a socket reader does with what read() gave. */
static size_t feed_chunks(qmpkit_state_t *st, const char *p, size_t left, size_t chunk,
                          qmpk_msg_t *m, qmpk_error_t *e)
{
    size_t ok = 0;

    while (left > 0) {
        size_t n = left < chunk ? left : chunk;

        left -= n;
        while (n > 0) {
            size_t used;
            qmpk_feed_t r = qmpk_stream_feed(&st->s, p, n, &used, m, e);

            p += used;
            n -= used;
            ok += r == QMPK_FEED_MESSAGE && m->ntok > 0;
        }
    }
    return ok;
}

/* One call per byte, as a reader of a byte-at-a-time source (a serial
 * line, getc()) does: the chunk arithmetic above would cost more per
 * byte than the parser's shortcut for a 1-byte chunk. */
static size_t feed_bytes(qmpkit_state_t *st, const char *p, size_t left,
                         qmpk_msg_t *m, qmpk_error_t *e)
{
    size_t ok = 0;

    while (left > 0) {
        size_t used;
        qmpk_feed_t r = qmpk_stream_feed(&st->s, p, 1, &used, m, e);

        p += used;
        left -= used;
        ok += r == QMPK_FEED_MESSAGE && m->ntok > 0;
    }
    return ok;
}

/* The timed function (callgrind --toggle-collect=qmpkit_run). */
static size_t qmpkit_run(void *state, const bench_workload_t *w, size_t chunk)
{
    qmpkit_state_t *st = state;
    size_t ok;
    qmpk_msg_t m;
    qmpk_error_t e;

    qmpk_stream_reset(&st->s);
    if (chunk == 1) {
        ok = feed_bytes(st, w->stream, w->stream_len, &m, &e);
    } else {
        ok = feed_chunks(st, w->stream, w->stream_len, chunk ? chunk : w->stream_len, &m, &e);
    }
    ok += qmpk_stream_finish(&st->s, &m, &e) == QMPK_FEED_MESSAGE;
    return ok;
}

static void qmpkit_release(void *state)
{
    qmpkit_state_t *st = state;

    free(st->buf);
    free(st->tok);
    free(st);
}

const bench_case_t bench_case_qmpkit_whole = {
    "qmpkit", "byte stream, whole", 0,
    qmpkit_prepare, qmpkit_run, qmpkit_release,
};
const bench_case_t bench_case_qmpkit_64k = {
    "qmpkit/64KiB", "byte stream, 64 KiB chunks, own tokens", 65536,
    qmpkit_prepare, qmpkit_run, qmpkit_release,
};
const bench_case_t bench_case_qmpkit_4k = {
    "qmpkit/4KiB", "byte stream, 4 KiB chunks, own tokens", 4096,
    qmpkit_prepare, qmpkit_run, qmpkit_release,
};
const bench_case_t bench_case_qmpkit_1 = {
    "qmpkit/1B", "byte stream, 1-byte chunks, own tokens", 1,
    qmpkit_prepare, qmpkit_run, qmpkit_release,
};
const bench_case_t bench_case_qmpkit_shared_64k = {
    "qmpkit-shared/64KiB", "byte stream, 64 KiB chunks, shareable tokens", 65536,
    qmpkit_prepare_shared, qmpkit_run, qmpkit_release,
};
const bench_case_t bench_case_qmpkit_shared_1 = {
    "qmpkit-shared/1B", "byte stream, 1-byte chunks, shareable tokens", 1,
    qmpkit_prepare_shared, qmpkit_run, qmpkit_release,
};
