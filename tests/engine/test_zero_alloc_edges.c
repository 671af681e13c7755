/*
 * Zero allocation on the paths the scripted session does not take: every
 * recorded QEMU 7.2 session (malformed JSON, bad envelopes, huge and
 * nested messages, OOB, several monitors, jobs) replayed into the engine,
 * and every pool driven past its limit.  Inputs are loaded and buffers
 * sized before counting starts; only engine calls run while malloc,
 * calloc, realloc and free are counted.
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "files.h"
#include "harness.h"
#include "session.h"

#define MAX_CONNS 8

typedef struct conn {
    char conn[16];
    uint32_t mon;
    bool connected;
    char *pending;          /* sized for the whole session before counting */
    size_t plen;
} conn_t;

typedef struct replay {
    qmpk_engine_t e;
    conn_t c[MAX_CONNS];
    size_t n;
    size_t bytes_out;
} replay_t;

static conn_t *conn_of(replay_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->c[i].conn, name) == 0)
            return &r->c[i];
    }
    return r->n < MAX_CONNS ? &r->c[r->n++] : NULL;
}

static void drain(replay_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const char *p;
        size_t len;
        while (r->c[i].connected && qmpk_engine_output(&r->e, r->c[i].mon, &p, &len)) {
            r->bytes_out += len;
            qmpk_engine_output_consume(&r->e, r->c[i].mon, len);
        }
    }
}

static void feed(replay_t *r, conn_t *c, uint64_t t)
{
    size_t used = 0;
    if (!c->connected || !c->plen)
        return;
    qmpk_engine_input(&r->e, c->mon, c->pending, c->plen, t, &used);
    memmove(c->pending, c->pending + used, c->plen - used);
    c->plen -= used;
}

static void step(replay_t *r, const sess_entry_t *en)
{
    conn_t *c = conn_of(r, en->conn);
    qmpk_engine_advance(&r->e, en->t_ns);
    drain(r);
    for (size_t i = 0; i < r->n; i++)
        feed(r, &r->c[i], en->t_ns);
    drain(r);
    if (!c)
        return;
    if (en->dir == ENT_CONNECT && !c->connected) {
        c->connected = qmpk_engine_connect(&r->e, en->t_ns, NULL, &c->mon) == QMPK_ENGINE_E_OK;
    } else if (en->dir == ENT_SEND && c->connected) {
        memcpy(c->pending + c->plen, en->data, en->len);
        c->plen += en->len;
        feed(r, c, en->t_ns);
    } else if (en->dir == ENT_CLOSE && c->connected) {
        qmpk_engine_disconnect(&r->e, c->mon, en->t_ns);
        c->connected = false;
        c->plen = 0;
    }
    drain(r);
}

static int sessions, allocating_sessions;
static size_t total_out;

static void one_session(const char *path, const char *name, void *ctx)
{
    (void)ctx;
    session_t s;
    qmpk_engine_config_t cfg;
    static replay_t r;

    if (!CHECK(session_load(&s, path)))
        return;
    session_qemu_config(&cfg);
    size_t need = qmpk_engine_storage_size(&cfg), sent = 0;
    void *storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    for (size_t i = 0; i < s.n; i++)
        sent += s.e[i].len;
    memset(&r, 0, sizeof r);
    for (size_t i = 0; i < MAX_CONNS; i++)
        r.c[i].pending = malloc(sent + 1);
    for (size_t i = 0; i < s.n; i++) {
        conn_t *c = conn_of(&r, s.e[i].conn);
        if (c)
            snprintf(c->conn, sizeof c->conn, "%s", s.e[i].conn);
    }
    r.n = 0;   /* names are assigned again in order during the replay */
    qmpk_alloc_count_start();
    qmpk_engine_errno_t rc = qmpk_engine_init(&r.e, &cfg, storage, need);
    for (size_t i = 0; rc == QMPK_ENGINE_E_OK && i < s.n; i++)
        step(&r, &s.e[i]);
    size_t calls = qmpk_alloc_count_stop();
    CHECK(rc == QMPK_ENGINE_E_OK);
    sessions++;
    total_out += r.bytes_out;
    if (calls != 0) {
        allocating_sessions++;
        fprintf(stderr, "    %s: %zu allocation calls\n", name, calls);
    }
    for (size_t i = 0; i < MAX_CONNS; i++)
        free(r.c[i].pending);
    free(storage);
    session_free(&s);
}

static const char *shared;

static void test_every_recorded_session_runs_without_allocating(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus/qemu-7.2/sessions", shared);
    CHECK(qmpk_for_files(dir, ".jsonl", one_session, NULL) > 0);
    printf("    %d sessions, %zu bytes out, %d with allocation calls\n", sessions, total_out,
           allocating_sessions);
    CHECK(sessions > 50 && total_out > 100000);
    CHECK(allocating_sessions == 0);
}

/* Every pool past its limit, in one engine with tiny pools. */
static const char *exhaust[] = {
    "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"async\"]}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\"}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"c\"}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"d\"}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"r\","
    "\"file\":{\"driver\":\"null-co\"}}}",
    "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"j\",\"device\":\"a\","
    "\"target\":\"b\",\"sync\":\"full\",\"speed\":1},\"id\":1}",
    "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"k\",\"device\":\"c\","
    "\"target\":\"d\",\"sync\":\"full\",\"speed\":1},\"id\":2}",
    "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":3}",
    "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":4}",
    "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100000000000000000},\"id\":5}",
    "LONG_ID_REPLY",    /* replaced: fits msg_bytes, its reply does not fit reply_bytes */
    "LONG_REQUEST",     /* replaced: longer than msg_bytes */
    /* more tokens than msg_tokens */
    "{\"execute\":\"query-name\",\"id\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}",
    "{\"execute\":\"x-query-pending\"}",
    "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":1}}",
    "{\"execute\":\"query-jobs\"}",
};

static void test_exhausted_pools_do_not_allocate(void)
{
    qmpk_engine_config_t cfg;
    static qmpk_engine_t e;
    qmpk_engine_config_default(&cfg);
    cfg.profile = QMPK_PROFILE_EXTENDED;
    cfg.max_monitors = 2;
    cfg.max_nodes = 4;
    cfg.max_jobs = 1;
    cfg.max_pending = 2;
    cfg.msg_bytes = 512;
    cfg.msg_tokens = 32;
    cfg.reply_bytes = 256;
    cfg.out_bytes = 4096;
    size_t need = qmpk_engine_storage_size(&cfg);
    void *storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    uint32_t m[3];
    size_t used, out = 0;
    const char *p;
    size_t len;
    static char long_id[400], long_req[700], seen[1 << 16];
    snprintf(long_id, sizeof long_id, "{\"execute\":\"query-name\",\"id\":\"%0*d\"}", 240, 0);
    snprintf(long_req, sizeof long_req, "{\"execute\":\"query-name\",\"id\":\"%0*d\"}", 500, 0);
    for (size_t i = 0; i < sizeof exhaust / sizeof exhaust[0]; i++) {
        if (strcmp(exhaust[i], "LONG_ID_REPLY") == 0)
            exhaust[i] = long_id;
        else if (strcmp(exhaust[i], "LONG_REQUEST") == 0)
            exhaust[i] = long_req;
    }
    if (!CHECK(storage != NULL))
        return;
    qmpk_alloc_count_start();
    CHECK(qmpk_engine_init(&e, &cfg, storage, need) == QMPK_ENGINE_E_OK);
    CHECK(qmpk_engine_connect(&e, 0, NULL, &m[0]) == QMPK_ENGINE_E_OK);
    CHECK(qmpk_engine_connect(&e, 0, NULL, &m[1]) == QMPK_ENGINE_E_OK);
    CHECK(qmpk_engine_connect(&e, 0, NULL, &m[2]) == QMPK_ENGINE_E_TOO_MANY_MONITORS);
    for (size_t i = 0; i < sizeof exhaust / sizeof exhaust[0]; i++) {
        qmpk_engine_input(&e, m[0], exhaust[i], strlen(exhaust[i]), i * 1000000u, &used);
        /* m[1] never reads: its output fills with the events */
        while (qmpk_engine_output(&e, m[0], &p, &len)) {
            if (out + len < sizeof seen)
                memcpy(seen + out, p, len);
            out += len;
            qmpk_engine_output_consume(&e, m[0], len);
        }
    }
    qmpk_engine_advance(&e, 10000000000u);
    qmpk_engine_disconnect(&e, m[1], 10000000000u);
    qmpk_engine_shutdown(&e, 10000000000u);
    size_t calls = qmpk_alloc_count_stop();
    CHECK(calls == 0);
    /* every exhaustion path was taken while counting */
    static const char *const want[] = {
        "Too many block nodes (engine limit 4)", "Too many jobs (engine limit 1)",
        "Too many pending commands (engine limit 2)", "is too large (engine limit",
        "reply exceeds the engine's reply buffer", "message exceeds the buffer capacity",
        "message exceeds the token array capacity", "Command cancelled",
    };
    CHECK(out < sizeof seen);
    seen[out < sizeof seen ? out : sizeof seen - 1] = '\0';
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!CHECK(strstr(seen, want[i]) != NULL))
            fprintf(stderr, "    not reached: %s\n", want[i]);
    }
    printf("    %zu bytes out, %zu allocation calls\n", out, calls);
    free(storage);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "exhausted pools do not allocate", test_exhausted_pools_do_not_allocate },
        { "every recorded session runs without allocating",
          test_every_recorded_session_runs_without_allocating },
    };
    shared = qmpk_shared_dir(argc, argv);
    if (!shared) {
        printf("SKIP: shared corpus not found\n");
        return QMPK_TEST_SKIP;
    }
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), 1, argv);
}
