/*
 * Benchmark inputs, built at run time from the corpus (read in place, never
 * copied into the repository).  Setup only: nothing here is timed.
 *
 * Every workload is a list of base messages, found by qmpkit's own framer
 * in the RFC 8259 dialect (so every compared parser can read them) and
 * kept only when the message is a JSON object (what QMP exchanges) with no
 * integer beyond int64 (see has_big_integer).  The
 * list is repeated until the stream reaches opts->min_bytes; each message
 * is followed by "\r\n", QEMU's separator.
 *
 *   mixed     the QEMU 7.2 session recordings s3_*, s5_*, s6_*
 *             (qemu-7.2/sessions/<name>.jsonl): every "send" and "recv" line's
 *             "data" (latin-1 code points -> bytes), each direction
 *             concatenated per session and framed as one stream, messages
 *             kept in the order they complete; invalid client input (the
 *             error cases of s3_id_on_errors) is dropped
 *   schema    qemu-7.2/payloads/payload_system_query-qmp-schema.json
 *             (one 207 KB message, QEMU's compact wire form)
 *   payloads  every qemu-7.2/payloads/<name>.json, name order (30 messages)
 *   libvirt   all libvirt-replies/caps_*.replies, name order (pretty-printed
 *             commands and replies, 10 QEMU versions)
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmpkit/parser.h>

#include "bench.h"

void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0;

    if (!f) {
        perror(path);
        return NULL;
    }
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 1 << 20;
            data = xrealloc(data, cap);
        }
        size_t r = fread(data + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            break;
        }
    }
    if (ferror(f)) {
        perror(path);
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *len = n;
    return data;
}

/* ------------------------------------------------------------------ */
/* base message list                                                    */

typedef struct msglist {
    char *bytes;
    size_t len, cap;
    size_t *off, *mlen;
    unsigned *ntok;
    size_t n, ncap;
    size_t dropped;         /* framed items that were errors or not objects */
    size_t big;             /* messages left out for an integer beyond int64 */
} msglist_t;

static void msglist_add(msglist_t *l, const char *json, size_t len, unsigned ntok)
{
    if (l->len + len > l->cap) {
        l->cap = (l->len + len) * 2;
        l->bytes = xrealloc(l->bytes, l->cap);
    }
    if (l->n == l->ncap) {
        l->ncap = l->ncap ? l->ncap * 2 : 256;
        l->off = xrealloc(l->off, l->ncap * sizeof(*l->off));
        l->mlen = xrealloc(l->mlen, l->ncap * sizeof(*l->mlen));
        l->ntok = xrealloc(l->ntok, l->ncap * sizeof(*l->ntok));
    }
    memcpy(l->bytes + l->len, json, len);
    l->off[l->n] = l->len;
    l->mlen[l->n] = len;
    l->ntok[l->n] = ntok;
    l->n++;
    l->len += len;
}

static void msglist_free(msglist_t *l)
{
    free(l->bytes);
    free(l->off);
    free(l->mlen);
    free(l->ntok);
}

/* A qmpkit stream (RFC dialect) that appends each object it frames. */
typedef struct splitter {
    qmpk_stream_t s;
    char *buf;
    jsmntok_t *tok;
    msglist_t *out;
} splitter_t;

#define SPLIT_BUF (16u << 20)
#define SPLIT_TOK (1u << 20)

static void splitter_init(splitter_t *sp, msglist_t *out)
{
    qmpk_stream_config_t cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.dialect = QMPK_DIALECT_RFC;
    sp->buf = bench_xmalloc(SPLIT_BUF);
    sp->tok = bench_xmalloc(SPLIT_TOK * sizeof(jsmntok_t));
    cfg.buf = sp->buf;
    cfg.buf_size = SPLIT_BUF;
    cfg.tok = sp->tok;
    cfg.tok_count = SPLIT_TOK;
    if (qmpk_stream_init(&sp->s, &cfg) != QMPK_E_OK) {
        fprintf(stderr, "bench: qmpk_stream_init failed\n");
        exit(2);
    }
    sp->out = out;
}

/*
 * jansson cannot read integers outside int64 ("too big integer"), which QMP
 * does send (uint64 values such as 18446744073709551615).  Such messages are
 * left out so that every parser parses the same messages.
 */
static bool has_big_integer(const qmpk_msg_t *m)
{
    for (int t = 0; t < m->ntok; t++) {
        const jsmntok_t *k = &m->tok[t];
        qmpk_num_t num;

        if (k->type == JSMN_PRIMITIVE && qmpk_number(m, t, &num) == QMPK_E_OK
            && num.kind != QMPK_NUM_I64
            && !memchr(m->json + k->start, '.', (size_t)(k->end - k->start))
            && !memchr(m->json + k->start, 'e', (size_t)(k->end - k->start))
            && !memchr(m->json + k->start, 'E', (size_t)(k->end - k->start))) {
            return true;
        }
    }
    return false;
}

static void splitter_take(splitter_t *sp, qmpk_feed_t r, const qmpk_msg_t *m,
                          const qmpk_error_t *e)
{
    if (r == QMPK_FEED_MESSAGE && has_big_integer(m)) {
        sp->out->big++;
    } else if (r == QMPK_FEED_MESSAGE && m->tok[0].type == JSMN_OBJECT) {
        msglist_add(sp->out, m->json, m->len, (unsigned)m->ntok);
    } else if (r != QMPK_FEED_MORE) {
        if (r == QMPK_FEED_ERROR && (e->code == QMPK_E_MESSAGE_TOO_LARGE
                                     || e->code == QMPK_E_TOO_MANY_TOKENS)) {
            fprintf(stderr, "bench: splitter buffers too small\n");
            exit(2);
        }
        sp->out->dropped++;
    }
}

static void splitter_feed(splitter_t *sp, const char *data, size_t len)
{
    while (len > 0) {
        size_t used;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t r = qmpk_stream_feed(&sp->s, data, len, &used, &m, &e);

        splitter_take(sp, r, &m, &e);
        data += used;
        len -= used;
    }
}

static void splitter_finish(splitter_t *sp)
{
    qmpk_msg_t m;
    qmpk_error_t e;

    splitter_take(sp, qmpk_stream_finish(&sp->s, &m, &e), &m, &e);
}

static void splitter_free(splitter_t *sp)
{
    free(sp->buf);
    free(sp->tok);
}

/* ------------------------------------------------------------------ */
/* session recordings                                                   */

/* UTF-8 of code points U+0000..U+00FF back to the bytes they stand for. */
static bool latin1_bytes(char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;

    while (i < *len) {
        if (p[i] < 0x80) {
            s[o++] = (char)p[i++];
        } else if ((p[i] & 0xFE) == 0xC2 && i + 1 < *len) {
            s[o++] = (char)(((p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F));
            i += 2;
        } else {
            return false;
        }
    }
    *len = o;
    return true;
}

typedef struct session {
    splitter_t client, server;
    char *data;             /* scratch for one decoded "data" member */
    size_t data_cap;
} session_t;

static bool session_line(session_t *ss, const qmpk_msg_t *m)
{
    int dir = qmpk_get(m, 0, "dir");
    int data = qmpk_get(m, 0, "data");
    bool send;
    size_t len;

    if (dir < 0 || data < 0) {
        return true;        /* notes, connect, eof */
    }
    send = qmpk_str_eqz(m, dir, "send");
    if (!send && !qmpk_str_eqz(m, dir, "recv")) {
        return true;
    }
    if (qmpk_str(m, data, ss->data, ss->data_cap, &len) != QMPK_E_OK
        || !latin1_bytes(ss->data, &len)) {
        return false;
    }
    splitter_feed(send ? &ss->client : &ss->server, ss->data, len);
    return true;
}

static bool add_session(const char *path, msglist_t *out)
{
    size_t flen;
    char *file = read_file(path, &flen);
    qmpk_stream_t js;
    qmpk_stream_config_t cfg;
    jsmntok_t tok[256];
    session_t ss;
    bool ok = true;

    if (!file) {
        return false;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.buf_size = flen + QMPK_BUF_SLACK;
    cfg.buf = bench_xmalloc(cfg.buf_size);
    cfg.tok = tok;
    cfg.tok_count = 256;
    qmpk_stream_init(&js, &cfg);
    splitter_init(&ss.client, out);
    splitter_init(&ss.server, out);
    ss.data_cap = flen + 1;
    ss.data = bench_xmalloc(ss.data_cap);
    for (size_t pos = 0; ok && pos < flen;) {
        size_t used;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t r = qmpk_stream_feed(&js, file + pos, flen - pos, &used, &m, &e);

        pos += used;
        if (r == QMPK_FEED_ERROR) {
            ok = false;
        } else if (r == QMPK_FEED_MESSAGE) {
            ok = session_line(&ss, &m);
        }
    }
    if (!ok) {
        fprintf(stderr, "bench: %s: not a session recording\n", path);
    }
    splitter_finish(&ss.client);
    splitter_finish(&ss.server);
    splitter_free(&ss.client);
    splitter_free(&ss.server);
    free(ss.data);
    free(cfg.buf);
    free(file);
    return ok;
}

static bool add_file(const char *path, msglist_t *out)
{
    size_t len;
    char *data = read_file(path, &len);
    splitter_t sp;

    if (!data) {
        return false;
    }
    splitter_init(&sp, out);
    splitter_feed(&sp, data, len);
    splitter_finish(&sp);
    splitter_free(&sp);
    free(data);
    return true;
}

/* ------------------------------------------------------------------ */
/* workloads                                                            */

typedef struct source {
    const char *name;
    bool sessions;
    const char *patterns[4];    /* relative to the corpus directory */
} source_t;

static const source_t sources[] = {
    { "mixed", true,
      { "qemu-7.2/sessions/s3_*.jsonl", "qemu-7.2/sessions/s5_*.jsonl",
        "qemu-7.2/sessions/s6_*.jsonl", NULL } },
    { "schema", false,
      { "qemu-7.2/payloads/payload_system_query-qmp-schema.json", NULL } },
    { "payloads", false, { "qemu-7.2/payloads/*.json", NULL } },
    { "libvirt", false, { "libvirt-replies/caps_*.replies", NULL } },
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

static bool load_source(const bench_input_opts_t *o, const source_t *src,
                        msglist_t *l)
{
    for (size_t p = 0; p < 4 && src->patterns[p]; p++) {
        char pat[4096];
        glob_t g;

        snprintf(pat, sizeof(pat), "%s/%s", o->corpus, src->patterns[p]);
        if (glob(pat, 0, NULL, &g) != 0) {
            fprintf(stderr, "bench: no input matches %s\n", pat);
            return false;
        }
        for (size_t i = 0; i < g.gl_pathc; i++) {
            bool ok = src->sessions ? add_session(g.gl_pathv[i], l)
                                    : add_file(g.gl_pathv[i], l);
            if (!ok) {
                globfree(&g);
                return false;
            }
        }
        globfree(&g);
    }
    if (l->n == 0) {
        fprintf(stderr, "bench: workload %s has no messages\n", src->name);
        return false;
    }
    return true;
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    }
    return h;
}

/* Repeat the base list to at least min_bytes of stream. */
static void build_workload(const char *name, const msglist_t *l,
                           size_t min_bytes, bench_workload_t *w)
{
    size_t base = l->len + 2 * l->n;
    size_t reps = (min_bytes + base - 1) / base;
    char *s, *a;

    if (reps == 0) {
        reps = 1;
    }
    memset(w, 0, sizeof(*w));
    w->name = name;
    w->reps = reps;
    w->base_nmsg = l->n;
    w->nmsg = l->n * reps;
    w->stream_len = base * reps;
    w->stream = s = bench_xmalloc(w->stream_len);
    w->arena = a = bench_xmalloc(l->len * reps + w->nmsg);
    w->msg = bench_xmalloc(w->nmsg * sizeof(*w->msg));
    w->msg_len = bench_xmalloc(w->nmsg * sizeof(*w->msg_len));
    for (size_t r = 0, k = 0; r < reps; r++) {
        for (size_t i = 0; i < l->n; i++, k++) {
            size_t n = l->mlen[i];
            memcpy(s, l->bytes + l->off[i], n);
            s[n] = '\r';
            s[n + 1] = '\n';
            s += n + 2;
            memcpy(a, l->bytes + l->off[i], n);
            a[n] = '\0';
            w->msg[k] = a;
            w->msg_len[k] = n;
            a += n + 1;
            w->msg_bytes += n;
            if (n > w->max_len) {
                w->max_len = n;
            }
            if (l->ntok[i] > w->max_tok) {
                w->max_tok = l->ntok[i];
            }
        }
    }
    w->hash = fnv1a(w->stream, w->stream_len);
}

size_t bench_build_workloads(const bench_input_opts_t *o, bench_workload_t **out)
{
    bench_workload_t *w = bench_xmalloc(NSOURCES * sizeof(*w));

    for (size_t i = 0; i < NSOURCES; i++) {
        msglist_t l;

        memset(&l, 0, sizeof(l));
        if (!load_source(o, &sources[i], &l)) {
            msglist_free(&l);
            bench_free_workloads(w, i);
            return 0;
        }
        build_workload(sources[i].name, &l, o->min_bytes, &w[i]);
        fprintf(stderr, "bench: %-8s %zu base messages (left out: %zu invalid or "
                "not objects, %zu with integers beyond int64), x%zu = %zu "
                "messages, %zu bytes\n", sources[i].name, l.n, l.dropped, l.big,
                w[i].reps, w[i].nmsg, w[i].stream_len);
        msglist_free(&l);
    }
    *out = w;
    return NSOURCES;
}

void bench_free_workloads(bench_workload_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(w[i].stream);
        free(w[i].arena);
        free(w[i].msg);
        free(w[i].msg_len);
    }
    free(w);
}
