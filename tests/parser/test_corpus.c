/*
 * Real traffic, read in place from ../shared/corpus:
 *  - every QEMU 7.2 session: the client's bytes, streamed, give exactly
 *    the JSON errors QEMU answered, in order and with QEMU's text; the
 *    server's bytes give only valid messages, each of which our writer
 *    reproduces byte for byte (in source order and in QDict order);
 *  - the reply payloads, including the 207 KB query-qmp-schema;
 *  - libvirt's recorded conversations, in both dialects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "files.h"
#include "harness.h"

static const char *shared;

typedef struct bytes {
    char *p;
    size_t len, cap;
} bytes_t;

static void bytes_add(bytes_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A parsed line of a session recording. */
typedef struct rec {
    qmpk_stream_t s;
    char *buf;
    jsmntok_t *tok;
    qmpk_msg_t m;
} rec_t;

static void rec_init(rec_t *r, size_t size, qmpk_dialect_t dialect)
{
    qmpk_stream_config_t c = { 0 };
    r->buf = malloc(size);
    r->tok = malloc(size * sizeof(jsmntok_t));
    c.dialect = dialect;
    c.buf = r->buf;
    c.buf_size = size;
    c.tok = r->tok;
    c.tok_count = (unsigned)size;
    qmpk_stream_init(&r->s, &c);
}

/* Decodes "data" (bytes as code points U+0000..U+00FF) into out. */
static bool latin1_member(const qmpk_msg_t *m, const char *key, bytes_t *out)
{
    int t = qmpk_get(m, 0, key);
    size_t n = 0;
    char *u;

    if (t < 0 || qmpk_str(m, t, NULL, 0, &n) == QMPK_E_TYPE) {
        return false;
    }
    u = malloc(n + 1);
    qmpk_str(m, t, u, n + 1, &n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        char b = (char)c;
        if (c >= 0xC0) {
            b = (char)(((c & 0x03) << 6) | (u[++i] & 0x3F));
        }
        bytes_add(out, &b, 1);
    }
    free(u);
    return true;
}

typedef struct conn {
    char label[32];
    bytes_t sent, recv;
    bool elided;
} conn_t;

typedef struct session {
    conn_t conns[8];
    int nconns;
} session_t;

static conn_t *conn_for(session_t *ss, const qmpk_msg_t *m)
{
    char label[32] = "";
    size_t n = 0;
    int t = qmpk_get(m, 0, "conn");

    if (t >= 0) {
        qmpk_str(m, t, label, sizeof(label), &n);
    }
    for (int i = 0; i < ss->nconns; i++) {
        if (strcmp(ss->conns[i].label, label) == 0) {
            return &ss->conns[i];
        }
    }
    if (ss->nconns == 8) {
        return NULL;
    }
    memset(&ss->conns[ss->nconns], 0, sizeof(conn_t));
    snprintf(ss->conns[ss->nconns].label, sizeof(label), "%s", label);
    return &ss->conns[ss->nconns++];
}

static void load_session(const char *text, size_t len, session_t *ss)
{
    rec_t r;
    size_t pos = 0;

    rec_init(&r, len + 64, QMPK_DIALECT_RFC);
    while (pos < len) {
        size_t used = 0;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&r.s, text + pos, len - pos, &used, &r.m, &e);
        pos += used;
        if (f != QMPK_FEED_MESSAGE) {
            CHECK(f != QMPK_FEED_ERROR);
            continue;
        }
        conn_t *c = conn_for(ss, &r.m);
        int dir = qmpk_get(&r.m, 0, "dir");
        if (!c) {
            continue;
        }
        if (qmpk_str_eqz(&r.m, dir, "send") && !latin1_member(&r.m, "data", &c->sent)) {
            c->elided = true;   /* a huge send recorded as length and hash */
        }
        if (qmpk_str_eqz(&r.m, dir, "recv")) {
            latin1_member(&r.m, "data", &c->recv);
        }
    }
    free(r.buf);
    free(r.tok);
}

/* The desc (as JSON text) of each reply QEMU sent for a JSON-level error. */
static void expected_json_errors(const bytes_t *recv, bytes_t *out)
{
    const char *p = recv->p, *end = p ? p + recv->len : p;   /* NULL + 0 is undefined */

    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *d = strstr(p, "\"desc\": \"JSON ");
        if (!nl) {
            break;
        }
        if (d && d < nl && strncmp(p, "{\"error\"", 8) == 0) {
            const char *s = d + 8, *e = strstr(s, "}}\r\n");
            bytes_add(out, s, (size_t)(e - s));
            bytes_add(out, "\n", 1);
        }
        p = nl + 1;
    }
}

/* Our errors for the same bytes, as "desc" JSON text, one per line. */
static void our_json_errors(const bytes_t *sent, bytes_t *out)
{
    qmpk_run_cfg_t cfg = { 0 };
    qmpk_items_t it;
    const char *p;

    cfg.buf_size = sent->len + 64;
    qmpk_items_run(&it, &cfg, sent->p ? sent->p : "", sent->len, 0, NULL, 0);
    for (p = it.text; *p;) {
        const char *nl = strchr(p, '\n');
        if (*p == 'E') {
            const char *q = strchr(p, '"');   /* the desc starts at the quote */
            bytes_add(out, q, (size_t)(nl - q));
            bytes_add(out, "\n", 1);
        }
        p = nl + 1;
    }
    qmpk_items_free(&it);
}

/* Whether two members of one object share a QDict bucket: QEMU's order
 * between them is its insertion order, which the wire does not show. */
static bool bucket_collision(const qmpk_msg_t *m)
{
    for (int t = 0; t < m->ntok; t++) {
        if (qmpk_type(m, t) != QMPK_T_OBJECT) {
            continue;
        }
        for (int a = qmpk_child(m, t); a >= 0; a = qmpk_next(m, a)) {
            for (int b = qmpk_next(m, a); b >= 0; b = qmpk_next(m, b)) {
                char ka[256], kb[256];
                size_t la = 0, lb = 0;
                qmpk_str(m, a, ka, sizeof(ka), &la);
                qmpk_str(m, b, kb, sizeof(kb), &lb);
                if (qmpk_qdict_bucket(ka, la) == qmpk_qdict_bucket(kb, lb)) {
                    return true;
                }
            }
        }
    }
    return false;
}

static void check_rewrite(const qmpk_msg_t *m, char *w, size_t cap, const char *name)
{
    for (int order = 0; order < 2; order++) {
        qmpk_writer_t wr;
        if (order == QMPK_ORDER_QEMU && bucket_collision(m)) {
            continue;
        }
        qmpk_w_init(&wr, w, cap);
        qmpk_w_value(&wr, m, 0, (qmpk_order_t)order);
        if (!qmpk_check_str(w, wr.len, m->json, m->len,
                            "re-serialized server message", __FILE__, __LINE__)) {
            fprintf(stderr, "    in %s (order %d)\n", name, order);
        }
    }
}

/*
 * QEMU prints doubles with %.17g, so a double -0.0 goes out as "-0" (which
 * reads back as the integer 0) and an overflowed 1e400 as "inf", which is
 * not JSON at all (spec 7.4).  These sessions show it on purpose.
 */
static bool prints_non_json_numbers(const char *name)
{
    return strstr(name, "s2_float_ids") || strstr(name, "s2_number_forms");
}

/* Every server message parses, classifies as a server message, and our
 * writer reproduces its exact bytes. */
static void check_server_bytes(const bytes_t *recv, const char *name)
{
    rec_t r;
    size_t pos = 0, cap = recv->len * 2 + 64;
    char *w = malloc(cap);
    int errors = 0;

    rec_init(&r, recv->len + 64, QMPK_DIALECT_QEMU);
    while (pos < recv->len) {
        size_t used = 0;
        qmpk_error_t e;
        qmpk_envelope_t env;
        qmpk_feed_t f = qmpk_stream_feed(&r.s, recv->p + pos, recv->len - pos,
                                         &used, &r.m, &e);
        errors += f == QMPK_FEED_ERROR;
        if (f == QMPK_FEED_MESSAGE) {
            CHECK(qmpk_classify(&r.m, QMPK_PEER_SERVER, false, &env, &e) == QMPK_E_OK);
            if (!memchr(r.m.json, '\n', r.m.len) && !prints_non_json_numbers(name)) {
                check_rewrite(&r.m, w, cap, name);
            }
        }
        pos += used;
    }
    if (!CHECK(prints_non_json_numbers(name) ? errors > 0 : errors == 0)) {
        fprintf(stderr, "    %s: %d errors in the server's bytes\n", name, errors);
    }
    free(r.buf);
    free(r.tok);
    free(w);
}

static int sessions_checked, errors_compared;

static void one_session(const char *path, const char *name, void *ctx)
{
    size_t len = 0;
    char *text = qmpk_read_file(path, &len);
    session_t ss;

    (void)ctx;
    memset(&ss, 0, sizeof(ss));
    if (!CHECK(text != NULL)) {
        return;
    }
    load_session(text, len, &ss);
    for (int i = 0; i < ss.nconns; i++) {
        conn_t *c = &ss.conns[i];
        bytes_t want = { 0 }, got = { 0 };
        check_server_bytes(&c->recv, name);
        if (!c->elided) {
            expected_json_errors(&c->recv, &want);
            our_json_errors(&c->sent, &got);
            if (!qmpk_check_str(got.p ? got.p : "", got.len, want.p ? want.p : "",
                                want.len, "JSON errors for the client's bytes",
                                __FILE__, __LINE__)) {
                fprintf(stderr, "    in %s conn '%s'\n", name, c->label);
            }
            errors_compared += want.p ? (int)(strlen(want.p) > 0) : 0;
        }
        free(want.p);
        free(got.p);
        free(c->sent.p);
        free(c->recv.p);
    }
    sessions_checked++;
    free(text);
}

static void sessions_give_qemus_json_errors_and_valid_server_output(void)
{
    char dir[4200];

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/corpus/qemu-7.2/sessions", shared);
    CHECK(qmpk_for_files(dir, ".jsonl", one_session, NULL) > 80);
    printf("    %d sessions checked\n", sessions_checked);
}

/* A file that must be exactly `want` messages and no error. */
static void stream_file(const char *path, qmpk_dialect_t d, int want)
{
    size_t len = 0;
    char *text = qmpk_read_file(path, &len);
    qmpk_run_cfg_t cfg = { 0 };
    qmpk_items_t it;

    if (!CHECK(text != NULL)) {
        return;
    }
    cfg.dialect = d;
    cfg.finish = true;
    qmpk_items_run(&it, &cfg, text, len, 0, NULL, 0);
    if (!CHECK(it.errors == 0) || (want >= 0 && !CHECK(it.messages == want))) {
        fprintf(stderr, "    %s: %d messages, %d errors (last %d)\n", path,
                it.messages, it.errors, it.last_error);
    }
    qmpk_items_free(&it);
    free(text);
}

static void payload(const char *path, const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    stream_file(path, QMPK_DIALECT_QEMU, 1);
    stream_file(path, QMPK_DIALECT_RFC, 1);
}

typedef struct diff_ctx {
    int files;
} diff_ctx_t;

static void differential(const char *path, const char *name, void *ctx)
{
    size_t len = 0;
    char *text = qmpk_read_file(path, &len);
    diff_ctx_t *d = ctx;

    if (!text) {
        return;
    }
    for (int dialect = 0; dialect < 2; dialect++) {
        qmpk_run_cfg_t cfg = { .dialect = (qmpk_dialect_t)dialect, .finish = true };
        qmpk_run_cfg_t own = cfg;
        own.flags = QMPK_STREAM_OWN_TOKENS;
        if (!qmpk_same_items_both_paths(&cfg, text, len, 0, name)
            || !qmpk_same_items_both_paths(&cfg, text, len, len < 200000 ? 7 : 4096, name)
            || !qmpk_same_items_both_paths(&own, text, len, len < 200000 ? 7 : 4096, name)) {
            fprintf(stderr, "    in %s (dialect %d)\n", name, dialect);
        }
    }
    d->files++;
    free(text);
}

static void fast_and_exact_paths_agree_on_every_corpus_file(void)
{
    static const char *const dirs[][2] = {
        { "corpus/qemu-7.2/sessions", ".jsonl" }, { "corpus/qemu-7.2/payloads", ".json" },
        { "corpus/libvirt-replies", ".replies" }, { "corpus/JSONTestSuite/test_parsing", ".json" },
    };
    diff_ctx_t d = { 0 };

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    for (size_t i = 0; i < 4; i++) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/%s", shared, dirs[i][0]);
        qmpk_for_files(dir, dirs[i][1], differential, &d);
    }
    printf("    %d files: same items on both paths, whole and chunked\n", d.files);
    CHECK(d.files > 440);
}

static void payloads_are_one_message_each(void)
{
    char dir[4200];

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/corpus/qemu-7.2/payloads", shared);
    CHECK(qmpk_for_files(dir, ".json", payload, NULL) == 30);
}

/* Message counts from libvirt-replies/ANALYSIS.txt */
static const struct { const char *file; int msgs; } libvirt[] = {
    { "caps_1.5.3.x86_64.replies", 84 }, { "caps_10.0.0_x86_64.replies", 112 },
    { "caps_2.12.0.s390x.replies", 86 }, { "caps_4.2.0.x86_64.replies", 106 },
    { "caps_5.2.0.s390x.replies", 86 }, { "caps_6.0.0.aarch64.replies", 98 },
    { "caps_6.2.0_x86_64.replies", 112 }, { "caps_8.2.0_aarch64.replies", 98 },
    { "caps_9.0.0_sparc.replies", 48 }, { "caps_9.1.0_s390x.replies", 92 },
};

static void libvirt_conversations_parse_in_both_dialects(void)
{
    char path[4200];

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    for (size_t i = 0; i < QMPK_NTESTS(libvirt); i++) {
        snprintf(path, sizeof(path), "%s/corpus/libvirt-replies/%s", shared, libvirt[i].file);
        stream_file(path, QMPK_DIALECT_QEMU, libvirt[i].msgs);
        stream_file(path, QMPK_DIALECT_RFC, libvirt[i].msgs);
    }
}

static void transcript(const char *path, const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    stream_file(path, QMPK_DIALECT_QEMU, -1);
}

static void libvirt_monitor_transcripts_parse(void)
{
    char dir[4200];

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/corpus/libvirt-replies/monitor-transcripts", shared);
    CHECK(qmpk_for_files(dir, ".json", transcript, NULL) > 0);
}

static const qmpk_test_t tests[] = {
    { "QEMU sessions: client bytes give QEMU's JSON errors, server bytes round-trip",
      sessions_give_qemus_json_errors_and_valid_server_output },
    { "QEMU reply payloads are one message each, in both dialects",
      payloads_are_one_message_each },
    { "libvirt's recorded conversations parse in both dialects",
      libvirt_conversations_parse_in_both_dialects },
    { "libvirt's monitor transcripts parse", libvirt_monitor_transcripts_parse },
    { "fast and exact paths agree on every corpus file", fast_and_exact_paths_agree_on_every_corpus_file },
};

int main(int argc, char **argv)
{
    shared = qmpk_shared_dir(argc, argv);
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
