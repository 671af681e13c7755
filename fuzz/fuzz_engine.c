/*
 * engine: a multi-monitor session decoded from the input, in both profiles.
 *
 * Input: data[0] picks the profile and pool sizes; then opcodes, one byte
 * each (operation in bits 0-2, argument a in bits 3-7):
 *   0 connect a monitor            4 stop/start draining monitor a's output
 *   1 send LEN16 bytes on monitor a 5 send canned command (next byte) on a
 *   2 advance the clock (next byte) 6 the observer checks query-jobs
 *   3 disconnect monitor a          7 send LEN8 bytes on monitor a
 * A harness-owned observer monitor negotiates first and sees every event.
 * Oracles (each aborts):
 *   - every command carrying an id gets exactly one reply with an equal id
 *     on its own monitor, unless that monitor left (ids tracked by parsing
 *     what the engine consumed with a stream configured like the engine's);
 *     no reply with an id that monitor did not send, so none reaches another;
 *   - everything the engine writes is a valid server message;
 *   - JOB_STATUS_CHANGE transitions stay inside QEMU's JobSTT (and the
 *     observer sees every job begin at "created");
 *   - query-jobs agrees with the JOB_STATUS_CHANGE sequence seen so far;
 *   - pools never leak: once every job is ended and every monitor has left,
 *     every monitor, job and pending-command slot is free.
 */
#include "fuzz_util.h"

#include <qmpkit/engine.h>
#include <qmpkit/parser.h>

#include "internal.h"

#define NSLOT 7                 /* fuzzed monitors; the observer is slot 7 */
#define OBS NSLOT
#define NEXP 64
#define NJOB 32
#define IDMAX 256

typedef struct expect {
    char id[IDMAX];
    size_t len;
    int count;
} expect_t;

typedef struct jobseen {
    char id[ENG_ID_MAX];
    int status;
} jobseen_t;

typedef struct slot {
    bool on, paused, untracked, saw_inf;
    uint32_t mon;
    qmpk_stream_t cli, srv;     /* what the client sent / what it received */
    char *cbuf, *sbuf;
    jsmntok_t *ctok, *stok;
    uint8_t *pend;              /* bytes not consumed yet, offered again */
    size_t npend;
    expect_t exp[NEXP];
    int nexp;
    jobseen_t jobs[NJOB];
    int njobs;
} slot_t;

static qmpk_engine_t g_e;
static qmpk_engine_config_t g_cfg;
static void *g_storage;
static size_t g_storage_size;
static slot_t g_s[NSLOT + 1];
static uint64_t g_now;
static unsigned g_seq;
static int g_trace = -1;        /* QMPK_FUZZ_TRACE=1: print the session */
static char g_scratch[IDMAX + QMPK_BUF_SLACK];
static jsmntok_t g_scratch_tok[IDMAX];

static const char *const k_status[] = {"undefined", "created", "running", "paused", "ready",
                                       "standby", "waiting", "pending", "aborting",
                                       "concluded", "null"};
/* QEMU's JobSTT (job.c), rows: from, columns: to (spec qemu-qmp.md 4.2). */
static const char k_stt[11][12] = {
    "01000000000", "00100000101", "00011010100", "00100000000", "00000110100",
    "00001000000", "00000001100", "00000000110", "00000000110", "00000000001",
    "00000000000",
};

static const char *const k_canned[] = {
    "{\"execute\":\"qmp_capabilities\"",
    "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}",
    "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\",\"async\"]}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"n@\","
    "\"size\":4194304}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"n@\","
    "\"size\":1048576,\"latency-ns\":50000000}",
    "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"n@\"}",
    "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"n0\","
    "\"target\":\"n1\",\"sync\":\"full\"}",
    "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"n1\","
    "\"target\":\"n2\",\"sync\":\"full\",\"speed\":65536,\"auto-finalize\":false,"
    "\"auto-dismiss\":false}",
    "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"n0\","
    "\"target\":\"n2\",\"sync\":\"full\"}",
    "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"n2\","
    "\"target\":\"n1\",\"sync\":\"full\",\"auto-finalize\":false,\"auto-dismiss\":false,"
    "\"speed\":1024}",
    "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"j@\"}",
    "{\"execute\":\"job-resume\",\"arguments\":{\"id\":\"j@\"}",
    "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"j@\"}",
    "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"j@\"}",
    "{\"execute\":\"job-finalize\",\"arguments\":{\"id\":\"j@\"}",
    "{\"execute\":\"job-dismiss\",\"arguments\":{\"id\":\"j@\"}",
    "{\"execute\":\"block-job-cancel\",\"arguments\":{\"device\":\"j@\"}",
    "{\"execute\":\"block-job-cancel\",\"arguments\":{\"device\":\"j@\",\"force\":true}",
    "{\"execute\":\"block-job-pause\",\"arguments\":{\"device\":\"j@\"}",
    "{\"execute\":\"block-job-resume\",\"arguments\":{\"device\":\"j@\"}",
    "{\"execute\":\"block-job-complete\",\"arguments\":{\"device\":\"j@\"}",
    "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"j@\",\"speed\":0}",
    "{\"execute\":\"query-jobs\"", "{\"execute\":\"query-block-jobs\"",
    "{\"execute\":\"stop\"", "{\"execute\":\"cont\"", "{\"execute\":\"query-status\"",
    "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"/dev/null\"}",
    "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":@0}",
    "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":@,\"error\":\"e\"}",
    "{\"execute\":\"x-query-pending\"", "{\"execute\":\"x-query-monitor\"",
    "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":\"c@\"}",
    "{\"exec-oob\":\"query-yank\"", "{\"exec-oob\":\"migrate-pause\"",
    "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"blockdev-backup\","
    "\"data\":{\"job-id\":\"j@\",\"device\":\"n0\",\"target\":\"n1\",\"sync\":\"full\"}}],"
    "\"properties\":{\"completion-mode\":\"grouped\"}}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b@\","
    "\"size\":2097152,\"x-backing\":\"n@\"}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\",\"node-name\":\"n@\","
    "\"image\":\"b0\",\"inject-error\":[{\"event\":\"pwritev\",\"errno\":28,\"once\":true}]}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\",\"node-name\":\"n@\","
    "\"image\":\"b1\",\"inject-error\":[{\"event\":\"none\",\"iotype\":\"read\",\"errno\":5,\"sector\":0}]}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"qcow2\",\"node-name\":\"q@\","
    "\"file\":\"n@\",\"backing\":\"b@\"}",
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"r@\","
    "\"file\":\"n@\",\"offset\":512}",
    "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"b@\"}",
    "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"q@\","
    "\"speed\":4096,\"on-error\":\"stop\",\"auto-finalize\":false}",
    "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"b@\"}",
    "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"q@\","
    "\"top-node\":\"q@\",\"on-error\":\"ignore\"}",
    "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j@\",\"device\":\"n@\","
    "\"target\":\"b@\",\"sync\":\"full\",\"on-target-error\":\"stop\","
    "\"on-source-error\":\"enospc\"}",
    "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"blockdev-backup\","
    "\"data\":{\"job-id\":\"j@\",\"device\":\"n0\",\"target\":\"n1\",\"sync\":\"full\"}},"
    "{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"k@\",\"device\":\"n2\","
    "\"target\":\"b@\",\"sync\":\"full\",\"auto-finalize\":false}},{\"type\":\"abort\","
    "\"data\":{}}],\"properties\":{\"completion-mode\":\"grouped\"}}",
    "{\"execute\":\"query-yank\"",
    "{\"execute\":\"yank\",\"arguments\":{\"instances\":[{\"type\":\"chardev\",\"id\":\"m@\"}]}",
    "{\"execute\":\"query-named-block-nodes\"",
    "{\"execute\":\"query-commands\"",
    "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"b@\"}",
    "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"k@\"}",
    "{\"execute\":\"job-finalize\",\"arguments\":{\"id\":\"k@\"}",
    "{\"execute\":\"quit\"",
};
#define NCANNED (sizeof(k_canned) / sizeof(k_canned[0]))

static void configure(uint8_t h)
{
    static const uint32_t depth[4] = {0, 1, 2, 0}, msg[4] = {0, 256, 1024, 0};

    qmpk_engine_config_default(&g_cfg);
    g_cfg.profile = (h & 1) ? QMPK_PROFILE_EXTENDED : QMPK_PROFILE_QEMU72;
    g_cfg.no_oob = (h >> 1) & 1;
    g_cfg.queue_depth = depth[(h >> 2) & 3];
    g_cfg.msg_bytes = msg[(h >> 4) & 3];
    if ((h >> 6) == 1) {
        g_cfg.out_bytes = 32768;
        g_cfg.reply_bytes = 8192;
    } else if ((h >> 6) == 2) {
        g_cfg.max_jobs = 2;
        g_cfg.max_nodes = 4;
    } else if ((h >> 6) == 3) {
        g_cfg.max_pending = 2;
        g_cfg.pending_bytes = 128;
    }
}

/* Buffers are allocated once at the largest size any configuration uses. */
static void stream_on(qmpk_stream_t *s, char **buf, jsmntok_t **tok, size_t bytes,
                      unsigned toks)
{
    qmpk_stream_config_t c = {0};

    if (!*buf) {
        *buf = malloc(QMPK_ENGINE_DEFAULT_REPLY_BYTES + QMPK_BUF_SLACK);
        *tok = malloc((QMPK_ENGINE_DEFAULT_REPLY_BYTES / 2 + 2) * sizeof(**tok));
        FUZZ_CHECK(*buf && *tok);
    }
    c.dialect = QMPK_DIALECT_QEMU;
    c.buf = *buf;
    c.buf_size = bytes;
    c.tok = *tok;
    c.tok_count = toks;
    FUZZ_CHECK(qmpk_stream_init(s, &c) == QMPK_E_OK);
}

/* Parse an expected id's text into the scratch message. */
static bool scratch_msg(const char *text, size_t n, qmpk_msg_t *m)
{
    qmpk_stream_config_t c = {0};
    qmpk_stream_t s;
    qmpk_error_t e;
    size_t used;
    qmpk_feed_t r;

    c.buf = g_scratch;
    c.buf_size = sizeof(g_scratch);
    c.tok = g_scratch_tok;
    c.tok_count = IDMAX;
    qmpk_stream_init(&s, &c);
    r = qmpk_stream_feed(&s, text, n, &used, m, &e);
    if (r == QMPK_FEED_MORE) {
        r = qmpk_stream_finish(&s, m, &e);
    }
    return r == QMPK_FEED_MESSAGE;
}

/* A request the engine took: remember its id. */
static void client_msg(slot_t *sl, const qmpk_msg_t *m)
{
    int id = qmpk_type(m, 0) == QMPK_T_OBJECT ? qmpk_get(m, 0, "id") : -1;
    qmpk_writer_t w;
    qmpk_msg_t chk;
    expect_t *x;

    if (id < 0 || sl->untracked) {
        return;
    }
    if (sl->nexp == NEXP) {
        sl->untracked = true;
        return;
    }
    x = &sl->exp[sl->nexp];
    qmpk_w_init(&w, x->id, sizeof(x->id));
    qmpk_w_value(&w, m, id, QMPK_ORDER_SOURCE);
    /* too long to keep, or not JSON once written (an infinite number) */
    if (w.overflow || !scratch_msg(x->id, w.len, &chk)) {
        sl->untracked = true;
        return;
    }
    x->len = w.len;
    x->count = 1;
    sl->nexp++;
}

static int status_index(const qmpk_msg_t *m, int t)
{
    for (int i = 0; i < 11; i++) {
        if (qmpk_str_eqz(m, t, k_status[i])) {
            return i;
        }
    }
    return -1;
}

static jobseen_t *job_find(slot_t *sl, const qmpk_msg_t *m, int idt, bool add)
{
    size_t len;

    for (int i = 0; i < sl->njobs; i++) {
        if (qmpk_str_eqz(m, idt, sl->jobs[i].id)) {
            return &sl->jobs[i];
        }
    }
    if (!add) {
        return NULL;
    }
    if (sl->njobs == NJOB) {
        sl->untracked = true;   /* too many job ids to follow */
        return NULL;
    }
    jobseen_t *j = &sl->jobs[sl->njobs++];
    FUZZ_CHECK(qmpk_str(m, idt, j->id, sizeof(j->id), &len) == QMPK_E_OK);
    j->status = -1;
    return j;
}

static void job_event(slot_t *sl, const qmpk_msg_t *m, int data)
{
    int st = qmpk_get(m, data, "status"), idt = qmpk_get(m, data, "id");
    int to = status_index(m, st);
    jobseen_t *j;

    FUZZ_CHECK(to >= 0 && qmpk_type(m, idt) == QMPK_T_STRING);
    j = job_find(sl, m, idt, true);
    if (!j) {
        return;
    }
    if (j->status < 0 || (j->status == 10 && to == 1)) {
        /* first sight, or an id reused after null: the observer was there */
        FUZZ_CHECK(sl != &g_s[OBS] || to == 1);
    } else {
        if (k_stt[j->status][to] != '1') {
            fprintf(stderr, "job transition %s -> %s\n", k_status[j->status], k_status[to]);
        }
        FUZZ_CHECK(k_stt[j->status][to] == '1');
    }
    j->status = to;
}

/* The observer's query-jobs reply against the events it saw. */
static void query_jobs_reply(slot_t *sl, const qmpk_msg_t *m, int ret)
{
    int n = 0;

    for (int e = qmpk_child(m, ret); e >= 0; e = qmpk_next(m, e), n++) {
        int idt = qmpk_get(m, e, "id"), st = qmpk_get(m, e, "status");
        jobseen_t *j = job_find(sl, m, idt, false);
        FUZZ_CHECK(j != NULL && j->status == status_index(m, st));
    }
    for (int i = 0; i < sl->njobs; i++) {
        n -= sl->jobs[i].status != 10;
    }
    FUZZ_CHECK(n == 0);
}

static void server_msg(slot_t *sl, const qmpk_msg_t *m)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    qmpk_msg_t x;

    if (qmpk_classify(m, QMPK_PEER_SERVER, false, &env, &err) != QMPK_E_OK) {
        fprintf(stderr, "monitor %u: not a server message (%s): %.*s\n", sl->mon,
                qmpk_errname(err.code), (int)(m->len > 400 ? 400 : m->len), m->json);
        FUZZ_CHECK(!"the engine wrote a message that is not a server message");
    }
    if (env.kind == QMPK_KIND_EVENT && qmpk_str_eqz(m, env.name, "JOB_STATUS_CHANGE")) {
        job_event(sl, m, env.data);
    }
    if ((env.kind != QMPK_KIND_RETURN && env.kind != QMPK_KIND_ERROR) || env.id < 0 ||
        sl->untracked) {
        return;
    }
    for (int i = 0; i < sl->nexp; i++) {
        expect_t *e = &sl->exp[i];
        if (e->count > 0 && scratch_msg(e->id, e->len, &x) && qmpk_equal(&x, 0, m, env.id)) {
            e->count--;
            if (sl == &g_s[OBS] && !sl->untracked && env.kind == QMPK_KIND_RETURN &&
                qmpk_type(m, env.ret) == QMPK_T_ARRAY && qmpk_str_eqz(&x, 0, "query-jobs")) {
                query_jobs_reply(sl, m, env.ret);
            }
            return;
        }
    }
    fprintf(stderr, "reply with an id monitor %u never sent (or answered twice): %.*s\n",
            sl->mon, (int)m->len, m->json);
    FUZZ_CHECK(!"reply id unknown on this monitor");
}

/* Feed bytes to one side's stream, handing each message on. */
static void feed(slot_t *sl, qmpk_stream_t *s, const char *p, size_t n, bool client)
{
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t used;

    while (n > 0) {
        qmpk_feed_t r = qmpk_stream_feed(s, p, n, &used, &m, &e);
        p += used;
        n -= used;
        if (r == QMPK_FEED_MESSAGE && client) {
            client_msg(sl, &m);
        } else if (r == QMPK_FEED_MESSAGE && !sl->saw_inf) {
            server_msg(sl, &m);     /* after an "inf" the framing is lost */
        } else if (r == QMPK_FEED_ERROR && !client) {
            /* the engine echoes an infinite number as inf or -inf, as QEMU
               does; what follows on that connection may not parse either */
            bool inf = sl->saw_inf ||
                       (e.code == QMPK_E_INVALID_KEYWORD && e.arg_len == 3 &&
                        memcmp(e.arg, "inf", 3) == 0) ||
                       (e.code == QMPK_E_STRAY && e.arg_len == 2 && memcmp(e.arg, "-i", 2) == 0);
            if (!inf) {
                fprintf(stderr, "monitor %u: engine wrote invalid JSON: %s at offset %llu "
                        "(arg '%.*s'), in output '%.*s'\n", sl->mon, qmpk_errname(e.code),
                        (unsigned long long)e.offset, (int)(e.arg_len > 60 ? 60 : e.arg_len),
                        e.arg ? e.arg : "", (int)(n > 300 ? 300 : n + used), p - used);
            }
            FUZZ_CHECK(inf);
            sl->untracked = sl->saw_inf = true;
        }
    }
}

static void drain(int i, bool force)
{
    slot_t *sl = &g_s[i];
    const char *p;
    size_t n;

    if (!sl->on || (sl->paused && !force)) {
        return;
    }
    while (qmpk_engine_output(&g_e, sl->mon, &p, &n)) {
        if (g_trace) {
            fprintf(stderr, "<- m%u %.*s", sl->mon, (int)n, p);
        }
        feed(sl, &sl->srv, p, n, false);
        qmpk_engine_output_consume(&g_e, sl->mon, n);
    }
    if (qmpk_engine_monitor_dropped(&g_e, sl->mon) > 0) {
        sl->untracked = true;   /* a full output lost messages: nothing to expect */
    }
}

static void drain_all(bool force)
{
    for (int i = 0; i <= NSLOT; i++) {
        drain(i, force);
    }
}

/* Offer a slot's pending bytes; what the engine takes is what was sent. */
static void offer(int i)
{
    slot_t *sl = &g_s[i];
    size_t used = 0;

    if (!sl->on || sl->npend == 0 || qmpk_engine_quit_requested(&g_e)) {
        return;
    }
    qmpk_engine_input(&g_e, sl->mon, (const char *)sl->pend, sl->npend, g_now, &used);
    if (g_trace) {
        fprintf(stderr, "-> m%u t=%llu %.*s\n", sl->mon, (unsigned long long)g_now,
                (int)used, (const char *)sl->pend);
    }
    FUZZ_CHECK(used <= sl->npend);
    feed(sl, &sl->cli, (const char *)sl->pend, used, true);
    memmove(sl->pend, sl->pend + used, sl->npend - used);
    sl->npend -= used;
    drain_all(false);
}

static void send_bytes(int i, const uint8_t *p, size_t n)
{
    slot_t *sl = &g_s[i];

    if (!sl->on || sl->npend + n > 65536) {
        return;
    }
    memcpy(sl->pend + sl->npend, p, n);
    sl->npend += n;
    offer(i);
}

static void send_text(int i, const char *t)
{
    send_bytes(i, (const uint8_t *)t, strlen(t));
}

static void connect_slot(int i)
{
    slot_t *sl = &g_s[i];

    if (sl->on || qmpk_engine_connect(&g_e, g_now, NULL, &sl->mon) != QMPK_ENGINE_E_OK) {
        return;
    }
    sl->on = true;
    sl->paused = sl->untracked = sl->saw_inf = false;
    sl->npend = 0;
    sl->nexp = sl->njobs = 0;
    stream_on(&sl->cli, &sl->cbuf, &sl->ctok, g_e.cfg.msg_bytes + QMPK_BUF_SLACK,
              g_e.cfg.msg_tokens);
    stream_on(&sl->srv, &sl->sbuf, &sl->stok, g_e.cfg.reply_bytes + QMPK_BUF_SLACK,
              g_e.cfg.reply_bytes / 2 + 2);
    drain(i, false);
}

static void disconnect_slot(int i)
{
    if (g_s[i].on) {
        drain(i, true);
        FUZZ_CHECK(qmpk_engine_disconnect(&g_e, g_s[i].mon, g_now) == QMPK_ENGINE_E_OK);
        g_s[i].on = false;
    }
}

/*
 * Run the clock past the last deadline; false when work stays scheduled.
 * Each step jumps ten minutes beyond the next deadline: the engine runs
 * everything due in one qmpk_engine_advance(), which is much cheaper than
 * one call per rate-limit tick.
 */
static bool settle(void)
{
    for (int k = 0; k < 64; k++) {
        uint64_t d = qmpk_engine_next_deadline(&g_e);
        if (d == UINT64_MAX || qmpk_engine_quit_requested(&g_e)) {
            return true;
        }
        g_now = (d > g_now ? d : g_now) + 600ull * 1000000000ull;
        qmpk_engine_advance(&g_e, g_now);
        for (int i = 0; i <= NSLOT; i++) {
            offer(i);
        }
        drain_all(true);
    }
    return false;
}

static void canned(int i, uint8_t b)
{
    char text[512], *at;

    snprintf(text, sizeof(text), "%s,\"id\":\"c%u\"}\n", k_canned[b % NCANNED], g_seq++);
    while ((at = strchr(text, '@')) != NULL) {
        *at = (char)('0' + (b / NCANNED) % 3);
    }
    send_text(i, text);
}

static void observe(void)
{
    char text[64];

    snprintf(text, sizeof(text), "{\"execute\":\"query-jobs\",\"id\":\"query-jobs\"}\n");
    send_text(OBS, text);
}

/*
 * End every job from the observer (cancel, finalize, dismiss as its state
 * allows); returns whether everything settled.  Async job-creating
 * commands (extended profile) reply only when their job ends, so replies
 * are counted after this.
 */
static bool end_jobs(bool settled)
{
    slot_t *o = &g_s[OBS];

    for (int round = 0; round < 8 && settled && o->on; round++) {
        bool alive = false;
        for (int j = 0; j < o->njobs; j++) {
            static const char *const verb[11] = {NULL, "job-cancel", "job-cancel", "job-cancel",
                                                 "job-cancel", "job-cancel", NULL, "job-finalize",
                                                 NULL, "job-dismiss", NULL};
            char text[256];
            if (o->jobs[j].status < 0 || o->jobs[j].status == 10) {
                continue;
            }
            alive = true;
            if (verb[o->jobs[j].status]) {
                snprintf(text, sizeof(text), "{\"execute\":\"%s\",\"arguments\":{\"id\":\"%s\"}}\n",
                         verb[o->jobs[j].status], o->jobs[j].id);
                send_text(OBS, text);
            }
        }
        if (!alive) {
            break;
        }
        settled = settle();
        observe();
        settled = settled && settle();
    }
    return settled;
}

/* Everyone leaves: every monitor, job and pending slot is free. */
static void check_pools(bool settled)
{
    for (int i = 0; i <= NSLOT; i++) {
        disconnect_slot(i);
    }
    if (!settle() || !settled || qmpk_engine_quit_requested(&g_e)) {
        return;
    }
    for (uint32_t k = 0; k < g_e.cfg.max_monitors; k++) {
        FUZZ_CHECK(!g_e.mons[k].used);
    }
    for (uint32_t k = 0; k < g_e.cfg.max_jobs; k++) {
        if (g_e.jobs[k].used) {
            fprintf(stderr, "job '%s' still in state %s\n", g_e.jobs[k].id,
                    k_status[g_e.jobs[k].status]);
        }
        FUZZ_CHECK(!g_e.jobs[k].used);
    }
    for (uint32_t k = 0; g_e.pend && k < g_e.cfg.max_pending; k++) {
        FUZZ_CHECK(!g_e.pend[k].used);
    }
}

/* Every id sent on a monitor still here was answered exactly once. */
static void check_replies(void)
{
    /* end_jobs() may have made replies on a paused monitor (an async job
     * command answers when its job concludes), and settle() drains only
     * while something is scheduled */
    drain_all(true);
    for (int i = 0; i <= NSLOT; i++) {
        slot_t *sl = &g_s[i];
        for (int k = 0; sl->on && !sl->untracked && k < sl->nexp; k++) {
            if (sl->exp[k].count != 0) {
                fprintf(stderr, "monitor %u: no reply to id %.*s\n", sl->mon,
                        (int)sl->exp[k].len, sl->exp[k].id);
            }
            FUZZ_CHECK(sl->exp[k].count == 0);
        }
    }
}

static void setup(uint8_t header)
{
    size_t need;

    configure(header);
    need = qmpk_engine_storage_size(&g_cfg);
    FUZZ_CHECK(need > 0);
    if (need > g_storage_size) {
        free(g_storage);
        g_storage = malloc(need);
        g_storage_size = need;
        FUZZ_CHECK(g_storage != NULL);
    }
    FUZZ_CHECK(qmpk_engine_init(&g_e, &g_cfg, g_storage, need) == QMPK_ENGINE_E_OK);
    g_now = 1000000000ull;
    g_seq = 0;
    for (int i = 0; i <= NSLOT; i++) {
        g_s[i].on = false;
        if (!g_s[i].pend) {
            g_s[i].pend = malloc(65536);
        }
    }
    connect_slot(OBS);
    send_text(OBS, "{\"execute\":\"qmp_capabilities\",\"id\":\"negotiate\"}\n");
}

static size_t step(const uint8_t *d, size_t n)
{
    int op = d[0] & 7, a = d[0] >> 3, i = a % NSLOT;
    size_t len;

    switch (op) {
    case 0:
        for (int k = 0; k < NSLOT; k++) {
            if (!g_s[k].on) {
                connect_slot(k);
                break;
            }
        }
        return 1;
    case 1:
    case 7: {
        size_t hdr = op == 1 ? 3 : 2;
        if (n < hdr) {
            return n;
        }
        len = op == 1 ? (size_t)(d[1] | d[2] << 8) : d[1];
        len = len > n - hdr ? n - hdr : len;
        send_bytes(i, d + hdr, len);
        return hdr + len;
    }
    case 2:
        g_now += (uint64_t)((n >= 2 ? d[1] : 0) + 1) * 1000000ull << (a % 12);
        qmpk_engine_advance(&g_e, g_now);
        for (int k = 0; k <= NSLOT; k++) {
            offer(k);
        }
        drain_all(false);
        return 2;
    case 3:
        disconnect_slot(i);
        return 1;
    case 4:
        g_s[i].paused = !g_s[i].paused;
        drain(i, false);
        return 1;
    case 5:
        canned(i, n >= 2 ? d[1] : 0);
        return 2;
    default:
        observe();
        return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 1;

    if (size < 1) {
        return 0;
    }
    if (g_trace < 0) {
        g_trace = getenv("QMPK_FUZZ_TRACE") != NULL;
    }
    setup(data[0]);
    while (off < size && !qmpk_engine_quit_requested(&g_e)) {
        off += step(data + off, size - off);
    }
    drain_all(true);
    if (qmpk_engine_quit_requested(&g_e)) {
        return 0;       /* the server closes everything: nothing more owed */
    }
    bool settled = settle();
    if (settled) {
        observe();
        settled = settle();
    }
    settled = end_jobs(settled);
    if (settled && !qmpk_engine_quit_requested(&g_e)) {
        check_replies();
    }
    check_pools(settled);
    return 0;
}
