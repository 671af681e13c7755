/*
 * stream: bytes through qmpk_stream_feed().
 *
 * Input: data[0] picks the limits (buffer, token array, depth, token count
 * and size), data[1] the second feed (chunking mode in bits 0-1, its end in
 * bit 3, seed of the chunk sizes in bits 4-7) and the dialect (bit 2: QEMU
 * or RFC); the rest is the stream.  Oracles:
 *   - chunk invariance: the item sequence (messages and errors, with codes,
 *     offsets, indexes, bytes and arguments) equals the one of the same
 *     bytes fed whole;
 *   - every offset, view and argument lies inside the input or the caller's
 *     buffer; a message's bytes are the wire bytes (the QEMU image only
 *     changes quote and backslash bytes); tokens lie inside the message;
 *   - progress: every call consumes or emits, indexes count up from 0;
 *   - nothing is lost after an error: the stream followed by a resync byte
 *     and "{}" gives the whole feed's items up to the end of the input and
 *     ends with one STRAY error and the message "{}".
 *   - the fast path against the exact one: the items of the input fed whole
 *     with QMPK_STREAM_EXACT_ONLY equal those of the fast path, tokens
 *     included (each message's token array is hashed into its item);
 *   - own tokens change nothing: the second feed sets QMPK_STREAM_OWN_TOKENS
 *     when bit 4 of data[1] is set.
 * Two feeds: the input whole (then qmpk_stream_finish()), and a second feed
 * chosen by data[1].  Bit 3 clear: mode 0 feeds the input whole through the
 * exact path alone; the others in chunks (1: one byte at a time, 2: 1..16
 * bytes, 3: random cuts), then finish; its items must equal the whole
 * feed's.  Bit 3 set: the input and the resync tail,
 * in chunks of the same modes except that mode 0 feeds it whole; its items
 * up to the input's end must equal the whole feed's (bytes appended, in one
 * chunk or in several, change nothing before them), then the STRAY and
 * {}.  Every oracle of the former three feeds (whole, chunked, whole plus
 * tail) is reachable, at two feeds per execution instead of three; so is
 * one they lacked, a chunked feed running into the tail.  Deep checks
 * (bytes, error texts) run once per distinct item: see g_deep_from.  One
 * dialect per execution: the dialects share no oracle, and both in every
 * execution cost twice the time for the same checks (the fuzzer flips bit
 * 2 like any other bit).
 */
#include "fuzz_util.h"

#include <qmpkit/parser.h>

#define BIG_BUF (1u << 17)
#define BIG_TOK 8192u

typedef struct item {
    int is_msg;
    int code, ntok, json;
    uint64_t offset, index, len, hash, tokhash;
} item_t;

/* A growable list of items (inputs of a megabyte are replayed too); pre:
 * how many came before qmpk_stream_finish(). */
typedef struct items {
    item_t *v;
    size_t n, cap, pre;
} items_t;

static char g_buf[BIG_BUF];
static jsmntok_t g_tok[BIG_TOK];
static const uint8_t *g_in;
static size_t g_in_len;
/* Byte-level checks of views and error texts (and the error-code tables)
 * run on items with an index >= g_deep_from: every item of the whole-input
 * feed, and the items of the resync feed that come after the input.  Every
 * other item is compared field by field with an item of the whole feed, so
 * deep checks on it would only repeat those of its twin. */
static uint64_t g_deep_from;

/* The harness's own checks and bookkeeping get no coverage counters: their
 * loop counts (message lengths, item counts) are not behaviour of the code
 * under test, and as libFuzzer features they only made the corpus grow. */
#if defined(__clang__)
#define NO_COV __attribute__((no_sanitize("coverage")))
#else
#define NO_COV
#endif

static void configure(qmpk_stream_config_t *c, uint8_t sel, qmpk_dialect_t d)
{
    static const size_t bufs[4] = {BIG_BUF, 8, 40, 300};
    static const unsigned toks[4] = {BIG_TOK, 2, 9, 64};
    static const uint32_t depths[4] = {0, 1, 3, 64};
    static const uint32_t ntoks[4] = {0, 4, 0, 64};
    static const uint64_t sizes[4] = {0, 0, 8, 100};

    memset(c, 0, sizeof(*c));
    c->dialect = d;
    c->buf = g_buf;
    c->buf_size = bufs[sel & 3];
    c->tok = g_tok;
    c->tok_count = toks[(sel >> 2) & 3];
    c->max_depth = depths[(sel >> 4) & 3];
    c->max_tokens = ntoks[sel >> 6];
    c->max_token_size = sizes[sel >> 6];
}

/* QEMU-dialect image bytes stand for wire bytes (see qmpk_msg_t). */
NO_COV static int image_byte_ok(char img, char wire)
{
    return img == wire || (img == '"' && wire == '\'') ||
           (img == 0x01 && wire == '"') || (img == 0x02 && wire == '\\');
}

NO_COV static void check_msg(const qmpk_msg_t *m, const qmpk_stream_config_t *c,
                      uint64_t index)
{
    FUZZ_CHECK(m->index == index);
    FUZZ_CHECK(m->dialect == c->dialect);
    FUZZ_CHECK(m->len > 0 && m->offset + m->len <= g_in_len);
    FUZZ_CHECK(fuzz_inside(m->json, m->len + QMPK_BUF_SLACK, c->buf, c->buf_size));
    FUZZ_CHECK(m->ntok >= 1 && (unsigned)m->ntok <= c->tok_count && m->tok == c->tok);
    if (index < g_deep_from) {
        return;
    }
    for (size_t i = 0; i < m->len; i++) {
        char w = (char)g_in[m->offset + i];
        FUZZ_CHECK(c->dialect == QMPK_DIALECT_QEMU ? image_byte_ok(m->json[i], w)
                                                   : m->json[i] == w);
    }
    for (int t = 0; t < m->ntok; t++) {
        FUZZ_CHECK(m->tok[t].start >= 0 && m->tok[t].start <= m->tok[t].end &&
                   (size_t)m->tok[t].end <= m->len);
    }
}

/* strcmp() == 0 without libFuzzer's strcmp interceptor (a hot path here). */
NO_COV static int str_is(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

NO_COV static void check_err(const qmpk_error_t *e, const qmpk_stream_config_t *c,
                             uint64_t index)
{
    char small[4], full[512];
    size_t n2, n3;

    FUZZ_CHECK(e->index == index);
    FUZZ_CHECK(e->code != QMPK_E_OK && e->offset <= g_in_len);
    FUZZ_CHECK(e->arg == NULL || fuzz_inside(e->arg, e->arg_len, c->buf, c->buf_size));
    if (index < g_deep_from) {
        return;
    }
    FUZZ_CHECK(!str_is(qmpk_errname(e->code), "QMPK_E_UNKNOWN"));
    FUZZ_CHECK(qmpk_strerror(e->code) != NULL);
    n2 = qmpk_error_format(e, small, sizeof(small));
    n3 = qmpk_error_format(e, full, sizeof(full));
    FUZZ_CHECK(n2 == n3 && small[sizeof(small) - 1] == '\0');
    FUZZ_CHECK(n3 >= sizeof(full) || full[n3] == '\0');
}

NO_COV static void record(items_t *l, int is_msg, const qmpk_msg_t *m, const qmpk_error_t *e)
{
    item_t *it;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        FUZZ_CHECK(l->v != NULL);
    }
    it = &l->v[l->n++];
    memset(it, 0, sizeof(*it));
    it->is_msg = is_msg;
    if (is_msg) {
        it->offset = m->offset;
        it->index = m->index;
        it->len = m->len;
        it->ntok = m->ntok;
        it->hash = fuzz_hash(m->json, m->len);
        it->tokhash = fuzz_hash(m->tok, (size_t)m->ntok * sizeof(jsmntok_t));
    } else {
        it->code = e->code;
        it->offset = e->offset;
        it->index = e->index;
        it->len = e->arg_len;
        it->json = e->arg_is_json;
        it->hash = e->arg ? fuzz_hash(e->arg, e->arg_len) : 0;
    }
}

/*
 * Feed g_in in chunks chosen by mode/seed into *l; false when the
 * configuration is refused.  Each byte yields at most two items (a pending
 * scalar completed by it, then its own error), which bounds the loop.
 */
static bool run(const qmpk_stream_config_t *c, int mode, uint64_t seed, items_t *l)
{
    static qmpk_stream_t s;
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t off = 0, used;
    qmpk_feed_t r;

    l->n = 0;
    if (qmpk_stream_init(&s, c) != QMPK_E_OK) {
        return false;
    }
    seed = seed * 2 + 1;
    while (off < g_in_len) {
        size_t chunk = g_in_len - off;
        if (mode == 1) {
            chunk = 1;
        } else if (mode == 2) {
            chunk = 1 + fuzz_rand(&seed) % 16;
        } else if (mode == 3) {
            chunk = 1 + fuzz_rand(&seed) % (g_in_len - off);
        }
        chunk = chunk > g_in_len - off ? g_in_len - off : chunk;
        r = qmpk_stream_feed(&s, (const char *)g_in + off, chunk, &used, &m, &e);
        FUZZ_CHECK(used <= chunk);
        FUZZ_CHECK(r != QMPK_FEED_MORE || used == chunk);
        off += used;
        if (r != QMPK_FEED_MORE) {
            FUZZ_CHECK(l->n < 2 * off + 2);
            r == QMPK_FEED_MESSAGE ? check_msg(&m, c, l->n) : check_err(&e, c, l->n);
            record(l, r == QMPK_FEED_MESSAGE, &m, &e);
        }
        FUZZ_CHECK(qmpk_stream_offset(&s) == off);
    }
    l->pre = l->n;
    r = qmpk_stream_finish(&s, &m, &e);
    if (r != QMPK_FEED_MORE) {
        r == QMPK_FEED_MESSAGE ? check_msg(&m, c, l->n) : check_err(&e, c, l->n);
        record(l, r == QMPK_FEED_MESSAGE, &m, &e);
    }
    FUZZ_CHECK(!qmpk_stream_pending(&s));
    FUZZ_CHECK(qmpk_stream_finish(&s, &m, &e) == QMPK_FEED_MORE);
    return true;
}

/* The first n items of la and lb are equal; n == SIZE_MAX: all of them,
 * and as many. */
NO_COV static void compare(const items_t *la, const items_t *lb, size_t n)
{
    const item_t *a = la->v, *b = lb->v;
    size_t na = n == SIZE_MAX ? la->n : n, nb = n == SIZE_MAX ? lb->n : n;

    FUZZ_CHECK(na <= la->n && nb <= lb->n);
    for (size_t i = 0; i < na && i < nb; i++) {
        if (memcmp(&a[i], &b[i], sizeof(a[i])) != 0) {
            fprintf(stderr, "item %zu: whole %s code %d off %llu len %llu, "
                            "chunked %s code %d off %llu len %llu\n", i,
                    a[i].is_msg ? "msg" : "err", a[i].code,
                    (unsigned long long)a[i].offset, (unsigned long long)a[i].len,
                    b[i].is_msg ? "msg" : "err", b[i].code,
                    (unsigned long long)b[i].offset, (unsigned long long)b[i].len);
        }
        FUZZ_CHECK(memcmp(&a[i], &b[i], sizeof(a[i])) == 0);
    }
    FUZZ_CHECK(na == nb);
}

/* The second feed ran into the tail: the whole feed's items up to the end
 * of the input, then the resync byte's error and {}. */
NO_COV static void check_tail(const items_t *whole, const items_t *fed)
{
    const item_t *last;

    compare(whole, fed, whole->pre);
    FUZZ_CHECK(fed->n >= whole->pre + 2);
    last = &fed->v[fed->n - 1];
    FUZZ_CHECK(last->is_msg && last->len == 2 && last->offset == g_in_len - 2);
    last--;
    FUZZ_CHECK(!last->is_msg && last->code == QMPK_E_STRAY && last->offset == g_in_len - 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t tail[] = {0x01, '{', '}'};
    static items_t whole, second;
    qmpk_stream_config_t c;
    uint8_t *with_tail;
    int mode;

    if (size < 2) {
        return 0;
    }
    mode = data[1] & 3;
    configure(&c, data[0], (data[1] & 4) ? QMPK_DIALECT_RFC : QMPK_DIALECT_QEMU);
    g_in = data + 2;
    g_in_len = size - 2;
    g_deep_from = 0;
    if (!run(&c, 0, 0, &whole)) {
        return 0;
    }
    if (data[1] & 16) {
        c.flags |= QMPK_STREAM_OWN_TOKENS;
    }
    if (!(data[1] & 8)) {
        g_deep_from = UINT64_MAX;
        if (mode == 0) {
            c.flags |= QMPK_STREAM_EXACT_ONLY;
        }
        run(&c, mode, data[1] >> 4, &second);
        compare(&whole, &second, SIZE_MAX);
        return 0;
    }
    with_tail = malloc(size - 2 + sizeof(tail));
    FUZZ_CHECK(with_tail != NULL);
    memcpy(with_tail, data + 2, size - 2);
    memcpy(with_tail + size - 2, tail, sizeof(tail));
    g_in = with_tail;
    g_in_len = size - 2 + sizeof(tail);
    g_deep_from = whole.pre;
    run(&c, mode, data[1] >> 4, &second);
    check_tail(&whole, &second);
    free(with_tail);
    return 0;
}
