/*
 * Token arrays at any chunking.  The item comparisons of the other tests go
 * through the writer, which would not see a token that ends one byte late
 * or a wrong parent; here every message's tokens are compared bit for bit
 * with jsmn's (the exact path runs jsmn on the message), for every split
 * point and chunk sizes 1..8, and on the corpus at 1 and 4093 bytes (the
 * overwritten array, which costs a memset per call, at 4093 only):
 *   - with QMPK_STREAM_OWN_TOKENS, where a message spanning calls gets its
 *     tokens written as its bytes arrive;
 *   - without it, with the token array overwritten between calls, as
 *     another stream sharing it would (the sharing rule of
 *     qmpk_stream_config_t.tok).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "files.h"
#include "harness.h"

/* A run's messages and errors, tokens as raw bytes. */
typedef struct record {
    unsigned char *data;
    size_t len, cap;
    int messages, errors;
    int max_ntok;           /* most tokens in one message */
} record_t;

static void put(record_t *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        r->cap = (r->len + n) * 2;
        r->data = realloc(r->data, r->cap);
    }
    memcpy(r->data + r->len, p, n);
    r->len += n;
}

static void put_u64(record_t *r, uint64_t v)
{
    put(r, &v, sizeof(v));
}

typedef struct run {
    unsigned flags;
    bool clobber;           /* overwrite the token array between calls */
    size_t clobber_tok;     /* that many tokens of it (0: all) */
    size_t chunk;           /* 0: whole, or the cut below */
    size_t cut;             /* one split point when chunk is 0 */
} run_t;

static void record_item(record_t *r, qmpk_feed_t f, const qmpk_msg_t *m, const qmpk_error_t *e)
{
    if (f == QMPK_FEED_MESSAGE) {
        put_u64(r, 'M');
        put_u64(r, m->offset);
        put_u64(r, m->len);
        put_u64(r, (uint64_t)m->ntok);
        put(r, m->tok, (size_t)m->ntok * sizeof(jsmntok_t));
        r->messages++;
        r->max_ntok = m->ntok > r->max_ntok ? m->ntok : r->max_ntok;
    } else if (f == QMPK_FEED_ERROR) {
        put_u64(r, 'E');
        put_u64(r, e->offset);
        put_u64(r, (uint64_t)e->code);
        r->errors++;
    }
}

static void run_tokens(record_t *r, const char *in, size_t len, const run_t *how)
{
    size_t bufsz = len + 64, ntok = len + 16, pos = 0;
    qmpk_stream_config_t c = { 0 };
    qmpk_stream_t s;
    qmpk_msg_t m;
    qmpk_error_t e;

    memset(r, 0, sizeof(*r));
    c.dialect = QMPK_DIALECT_QEMU;
    c.buf = malloc(bufsz);
    c.buf_size = bufsz;
    c.tok = malloc(ntok * sizeof(jsmntok_t));
    c.tok_count = (unsigned)ntok;
    c.flags = how->flags;
    if (!CHECK(qmpk_stream_init(&s, &c) == QMPK_E_OK)) {
        free(c.buf);
        free(c.tok);
        return;
    }
    while (pos < len) {
        size_t end = how->chunk ? pos + how->chunk : (how->cut && pos < how->cut ? how->cut : len);
        size_t used = 0;
        qmpk_feed_t f;
        if (end > len) {
            end = len;
        }
        if (how->clobber) {
            size_t n = how->clobber_tok && how->clobber_tok < ntok ? how->clobber_tok : ntok;
            memset(c.tok, 0xA5, n * sizeof(jsmntok_t));
        }
        f = qmpk_stream_feed(&s, in + pos, end - pos, &used, &m, &e);
        record_item(r, f, &m, &e);
        pos += used;
    }
    record_item(r, qmpk_stream_finish(&s, &m, &e), &m, &e);
    free(c.buf);
    free(c.tok);
}

/* The same messages, errors, offsets and tokens as the exact path fed whole. */
static bool same_tokens(const char *in, size_t len, const run_t *how, const record_t *ref,
                        const char *what)
{
    record_t got;
    bool ok;

    run_tokens(&got, in, len, how);
    ok = got.len == ref->len && memcmp(got.data, ref->data, ref->len) == 0;
    if (!ok) {
        fprintf(stderr, "    %s: tokens differ (flags %u, clobbered %d, chunk %zu, cut %zu;"
                " %d/%d messages, %d/%d errors)\n", what, how->flags, how->clobber,
                how->chunk, how->cut, got.messages, ref->messages, got.errors, ref->errors);
    }
    free(got.data);
    return CHECK(ok);
}

static const run_t kinds[] = {
    { QMPK_STREAM_OWN_TOKENS, false, 0, 0, 0 },
    { 0, true, 0, 0, 0 },
    { 0, false, 0, 0, 0 },
};

static bool all_chunkings(const char *in, size_t len, const char *what)
{
    run_t exact = { QMPK_STREAM_EXACT_ONLY, false, 0, 0, 0 };
    record_t ref;
    bool ok = true;

    run_tokens(&ref, in, len, &exact);
    for (size_t k = 0; k < QMPK_NTESTS(kinds) && ok; k++) {
        run_t how = kinds[k];
        ok = same_tokens(in, len, &how, &ref, what);
        for (how.cut = 1; how.cut < len && len <= 512 && ok; how.cut++) {
            ok = same_tokens(in, len, &how, &ref, what);
        }
        how.cut = 0;
        for (how.chunk = 1; how.chunk <= 8 && ok; how.chunk++) {
            ok = same_tokens(in, len, &how, &ref, what);
        }
    }
    free(ref.data);
    return ok;
}

static void tokens_are_jsmns_at_every_chunking(void)
{
    static const char *const in[] = {
        "{\"a\":1 , \"b\" : [true ,null ] , \"c\":{ } }",
        "[[], {\"x\": [1, -2.5e3, \"s\\n\"]}, false]\r\n{\"return\": {}}",
        "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}\r\n",
        "{\n  \"return\": {\n    \"fd\": 12,\n    \"list\": [\n      0.5,\n      1e10\n    ]\n  }\n}\n",
        "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9}",
        "{\"\\u00e9t\\u00e9\": \"\xc3\xa9t\xc3\xa9\", \"esc\": \"a\\\"b\\\\c\\/\"}",
        "{\"a\": 1, \"a\": 2}{\"b\": [1, 2}{\"c\": 'single'}{\"d\": tru}{\"e\": 3}",
        "[{\"id\": 1}, {\"id\": 2, \"data\": {\"deep\": [[[{\"x\": null}]]]}}]  [0, -0, 10]",
        "{\"bad\": \"\x01\"} 42 \"top\" {\"after\": true}",
    };

    for (size_t i = 0; i < QMPK_NTESTS(in); i++) {
        char what[32];
        snprintf(what, sizeof(what), "input %zu", i);
        all_chunkings(in[i], strlen(in[i]), what);
    }
}

static const char *corpus_root;

static void file_tokens(const char *path, const char *name, void *ctx)
{
    size_t len = 0;
    char *data = qmpk_read_file(path, &len);
    run_t exact = { QMPK_STREAM_EXACT_ONLY, false, 0, 0, 0 };
    record_t ref;
    int *files = ctx;

    if (!CHECK(data != NULL)) {
        return;
    }
    run_tokens(&ref, data, len, &exact);
    CHECK(ref.messages > 0);
    for (size_t k = 0; k < 2; k++) {
        run_t how = kinds[k];
        how.clobber_tok = (size_t)ref.max_ntok;  /* every token a message writes */
        how.chunk = 4093;
        same_tokens(data, len, &how, &ref, name);
        if (!how.clobber) {
            how.chunk = 1;
            same_tokens(data, len, &how, &ref, name);
        }
    }
    (*files)++;
    free(ref.data);
    free(data);
}

static void corpus_tokens_are_jsmns_in_small_and_odd_chunks(void)
{
    const char *dirs[] = { "corpus/qemu-7.2/payloads", "corpus/libvirt-replies" };
    const char *suffix[] = { ".json", ".replies" };
    int files = 0;

    if (!corpus_root) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    for (size_t i = 0; i < 2; i++) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/%s", corpus_root, dirs[i]);
        qmpk_for_files(dir, suffix[i], file_tokens, &files);
    }
    printf("    %d files\n", files);
    CHECK(files >= 40);
}

static const qmpk_test_t tests[] = {
    { "tokens are jsmn's at every chunking", tokens_are_jsmns_at_every_chunking },
    { "corpus tokens are jsmn's in small and odd chunks",
      corpus_tokens_are_jsmns_in_small_and_odd_chunks },
};

int main(int argc, char **argv)
{
    corpus_root = qmpk_shared_dir(0, NULL);
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
