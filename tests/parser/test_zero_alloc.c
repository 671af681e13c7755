/*
 * Zero allocation means zero: every corpus (QEMU sessions and payloads,
 * libvirt's conversations, JSONTestSuite) is streamed in both dialects at
 * 1-byte and whole chunks (1-byte ones also with QMPK_STREAM_OWN_TOKENS),
 * every message classified, walked, unescaped,
 * compared and re-serialized, while malloc/calloc/realloc/free are
 * counted.  Files are read before counting starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "files.h"
#include "harness.h"
#include "qmpkit/parser.h"

typedef struct input {
    char *data;
    size_t len;
} input_t;

static input_t inputs[2048];
static size_t ninputs, total_bytes;

static void collect(const char *path, const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    if (ninputs < sizeof(inputs) / sizeof(inputs[0])) {
        inputs[ninputs].data = qmpk_read_file(path, &inputs[ninputs].len);
        if (inputs[ninputs].data) {
            total_bytes += inputs[ninputs].len;
            ninputs++;
        }
    }
}

static char *buf, *wbuf, *sbuf;
static jsmntok_t *tok;
static size_t bufsz = 4u << 20, wsz = 16u << 20;
static size_t messages, errors;

/* Everything a consumer does with a message. */
static void use(const qmpk_msg_t *m)
{
    qmpk_envelope_t env;
    qmpk_error_t e;
    qmpk_writer_t w;
    size_t len;
    qmpk_num_t n;

    qmpk_classify(m, QMPK_PEER_ANY, true, &env, &e);
    for (int t = 0; t < m->ntok; t++) {
        if (qmpk_type(m, t) == QMPK_T_STRING) {
            qmpk_str(m, t, sbuf, 4096, &len);
        } else if (qmpk_type(m, t) == QMPK_T_NUMBER) {
            qmpk_number(m, t, &n);
        }
    }
    qmpk_get(m, 0, "return");
    qmpk_equal(m, 0, m, 0);
    qmpk_w_init(&w, wbuf, wsz);
    qmpk_w_value(&w, m, 0, QMPK_ORDER_QEMU);
    qmpk_w_crlf(&w);
}

static void stream(qmpk_dialect_t d, const input_t *in, size_t chunk, unsigned flags)
{
    qmpk_stream_config_t c = { .dialect = d, .buf = buf, .buf_size = bufsz,
                               .tok = tok, .tok_count = (unsigned)bufsz, .flags = flags };
    qmpk_stream_t s;
    size_t pos = 0;
    qmpk_msg_t m;
    qmpk_error_t e;
    qmpk_writer_t w;

    qmpk_stream_init(&s, &c);
    while (pos < in->len) {
        size_t used = 0, n = chunk && chunk < in->len - pos ? chunk : in->len - pos;
        qmpk_feed_t f = qmpk_stream_feed(&s, in->data + pos, n, &used, &m, &e);
        if (f == QMPK_FEED_MESSAGE) {
            messages++;
            use(&m);
        } else if (f == QMPK_FEED_ERROR) {
            errors++;
            qmpk_error_format(&e, sbuf, 4096);
            qmpk_w_init(&w, wbuf, wsz);
            qmpk_w_error_desc(&w, &e);
        }
        pos += used;
    }
    if (qmpk_stream_finish(&s, &m, &e) == QMPK_FEED_MESSAGE) {
        use(&m);
    }
}

static void streaming_every_corpus_allocates_nothing(void)
{
    const char *shared = qmpk_shared_dir(0, NULL);
    const char *dirs[] = { "corpus/qemu-7.2/sessions", "corpus/qemu-7.2/payloads",
                           "corpus/libvirt-replies", "corpus/libvirt-replies/monitor-transcripts",
                           "corpus/JSONTestSuite/test_parsing" };
    const char *suffix[] = { ".jsonl", ".json", ".replies", ".json", ".json" };
    size_t calls;

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    for (size_t i = 0; i < 5; i++) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/%s", shared, dirs[i]);
        qmpk_for_files(dir, suffix[i], collect, NULL);
    }
    buf = malloc(bufsz);
    wbuf = malloc(wsz);
    sbuf = malloc(4096);
    tok = malloc(bufsz * sizeof(jsmntok_t));
    qmpk_alloc_count_start();
    for (size_t i = 0; i < ninputs; i++) {
        for (int d = 0; d < 2; d++) {
            size_t small = inputs[i].len < 100000 ? 1 : 4096;
            stream((qmpk_dialect_t)d, &inputs[i], 0, 0);
            stream((qmpk_dialect_t)d, &inputs[i], small, 0);
            stream((qmpk_dialect_t)d, &inputs[i], small, QMPK_STREAM_OWN_TOKENS);
        }
    }
    calls = qmpk_alloc_count_stop();
    printf("    %zu files, %zu bytes, %zu messages and %zu errors: %zu allocator calls\n",
           ninputs, total_bytes, messages, errors, calls);
    CHECK(ninputs > 400 && messages > 10000);
    CHECK(calls == 0);
    for (size_t i = 0; i < ninputs; i++) {
        free(inputs[i].data);
    }
    free(buf);
    free(wbuf);
    free(sbuf);
    free(tok);
}

/* volatile: compilers may remove an allocation nothing can observe */
static void *volatile sink;

static void the_counter_sees_allocations(void)
{
    qmpk_alloc_count_start();
    sink = malloc(16);
    sink = realloc(sink, 32);
    free(sink);
    CHECK(qmpk_alloc_count_stop() == 3);
}

static const qmpk_test_t tests[] = {
    { "the counter sees allocations", the_counter_sees_allocations },
    { "streaming every corpus allocates nothing", streaming_every_corpus_allocates_nothing },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
