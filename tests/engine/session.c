#include "session.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "qmpkit/parser.h"

/* ------------------------------------------------------------------ */
/* Loading: each line is a JSON object; "data" maps bytes to U+0000..FF */

static size_t latin1_from_utf8(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (i + 1 < n) {
            out[o++] = (char)(((c & 0x1Fu) << 6) | ((unsigned char)s[i + 1] & 0x3Fu));
            i++;
        }
    }
    return o;
}

static ent_dir_t dir_of(const qmpk_msg_t *m, int t)
{
    if (qmpk_str_eqz(m, t, "send"))
        return ENT_SEND;
    if (qmpk_str_eqz(m, t, "recv"))
        return ENT_RECV;
    if (qmpk_str_eqz(m, t, "connect"))
        return ENT_CONNECT;
    if (qmpk_str_eqz(m, t, "close"))
        return ENT_CLOSE;
    return ENT_OTHER;
}

/* "s6_multi_monitor-A.sock" -> "A" */
static void chardev_of(const char *note, char *out, size_t cap)
{
    const char *dash = strrchr(note, '-');
    const char *dot = strstr(note, ".sock");
    size_t n = 0;

    if (dash && dot && dot > dash) {
        n = (size_t)(dot - dash - 1);
        if (n >= cap)
            n = cap - 1;
        memcpy(out, dash + 1, n);
    }
    out[n] = '\0';
}

static bool load_line(sess_entry_t *ent, const qmpk_msg_t *m)
{
    double t = 0;
    size_t n;
    char note[256];

    memset(ent, 0, sizeof *ent);
    qmpk_double(m, qmpk_get(m, 0, "t"), &t);
    ent->t_ns = (uint64_t)(t * 1e9 + 0.5);
    qmpk_str(m, qmpk_get(m, 0, "conn"), ent->conn, sizeof ent->conn, &n);
    ent->dir = dir_of(m, qmpk_get(m, 0, "dir"));
    if (ent->dir == ENT_CONNECT) {
        note[0] = '\0';
        qmpk_str(m, qmpk_get(m, 0, "note"), note, sizeof note, &n);
        chardev_of(note, ent->chardev, sizeof ent->chardev);
    }
    int d = qmpk_get(m, 0, "data");
    if (d < 0)
        return true;
    qmpk_str(m, d, NULL, 0, &n);
    char *utf8 = malloc(n + 1);
    ent->data = malloc(n + 1);
    if (!utf8 || !ent->data) {
        free(utf8);
        return false;
    }
    qmpk_str(m, d, utf8, n + 1, &n);
    ent->len = latin1_from_utf8(utf8, n, ent->data);
    free(utf8);
    return true;
}

static bool load_lines(session_t *s, char *text, size_t len)
{
    qmpk_stream_t st;
    qmpk_stream_config_t sc = { 0 };
    jsmntok_t tok[64];

    sc.dialect = QMPK_DIALECT_RFC;
    sc.buf_size = len + 16;
    sc.buf = malloc(sc.buf_size);
    sc.tok = tok;
    sc.tok_count = 64;
    sc.max_token_size = (uint64_t)len + 16;
    if (!sc.buf || qmpk_stream_init(&st, &sc) != QMPK_E_OK) {
        free(sc.buf);
        return false;
    }
    size_t off = 0, cap = 0;
    bool ok = true;
    while (off < len && ok) {
        qmpk_msg_t m;
        qmpk_error_t err;
        size_t used = 0;
        qmpk_feed_t f = qmpk_stream_feed(&st, text + off, len - off, &used, &m, &err);
        off += used;
        if (f == QMPK_FEED_ERROR)
            ok = false;
        if (f != QMPK_FEED_MESSAGE)
            continue;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 64;
            sess_entry_t *ne = realloc(s->e, cap * sizeof *ne);
            if (!ne) {
                ok = false;
                continue;
            }
            s->e = ne;
        }
        ok = load_line(&s->e[s->n++], &m);
    }
    free(sc.buf);
    return ok;
}

bool session_load(session_t *s, const char *path)
{
    size_t len;
    char *text = qmpk_read_file(path, &len);

    memset(s, 0, sizeof *s);
    if (!text)
        return false;
    bool ok = load_lines(s, text, len);
    free(text);
    return ok;
}

void session_free(session_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].data);
    free(s->e);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Transcripts                                                          */

static conn_lines_t *conn_of(transcript_t *t, const char *conn)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->c[i].conn, conn) == 0)
            return &t->c[i];
    }
    if (t->n == sizeof t->c / sizeof t->c[0])
        return NULL;
    conn_lines_t *c = &t->c[t->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->conn, sizeof c->conn, "%s", conn);
    return c;
}

static void add_line(transcript_t *t, const char *conn, const char *p, size_t n)
{
    conn_lines_t *c = conn_of(t, conn);

    if (!c)
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->line = realloc(c->line, c->cap * sizeof *c->line);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
    }
    c->line[c->n] = malloc(n ? n : 1);
    memcpy(c->line[c->n], p, n);
    c->len[c->n++] = n;
}

void transcript_free(transcript_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < t->c[i].n; k++)
            free(t->c[i].line[k]);
        free(t->c[i].line);
        free(t->c[i].len);
    }
    memset(t, 0, sizeof *t);
}

static bool contains(const char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(h + i, needle, k) == 0)
            return true;
    }
    return false;
}

void session_expected(const session_t *s, transcript_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->n; i++) {
        const sess_entry_t *e = &s->e[i];
        if (e->dir == ENT_CONNECT)
            conn_of(out, e->conn);
        if (e->dir != ENT_RECV)
            continue;
        if (contains(e->data, e->len, "\"reason\": \"host-signal\""))
            continue;
        add_line(out, e->conn, e->data, e->len);
    }
}

size_t normalize_timestamps(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        out[o++] = in[i];
        bool key = (i >= 10 && memcmp(in + i - 10, "\"seconds\": ", 11) == 0) ||
                   (i >= 15 && memcmp(in + i - 15, "\"microseconds\": ", 16) == 0);
        if (key) {
            out[o++] = '0';
            while (i + 1 < n && in[i + 1] >= '0' && in[i + 1] <= '9')
                i++;
        }
    }
    return o;
}

void session_qemu_config(qmpk_engine_config_t *cfg)
{
    qmpk_engine_config_default(cfg);
    cfg->package = "Debian 1:7.2+dfsg-7+deb12u18+b3";
    cfg->max_monitors = 4;
    cfg->msg_bytes = 256u * 1024u;
    cfg->msg_tokens = 16384;
    cfg->out_bytes = 1u << 20;
    cfg->reply_bytes = 256u * 1024u;
}

/* ------------------------------------------------------------------ */
/* Replay                                                               */

typedef struct conn_state {
    char conn[16];
    char chardev[32];
    uint32_t mon;
    bool connected, waiting;
    char *pending;
    size_t plen;
} conn_state_t;

typedef struct replay {
    qmpk_engine_t e;
    void *storage;
    conn_state_t c[8];
    size_t n;
    transcript_t *out;
} replay_t;

static conn_state_t *state_of(replay_t *r, const char *conn)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->c[i].conn, conn) == 0)
            return &r->c[i];
    }
    conn_state_t *c = &r->c[r->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->conn, sizeof c->conn, "%s", conn);
    return c;
}

/* Split each connection's output into CRLF-terminated lines. */
static void collect(replay_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        conn_state_t *c = &r->c[i];
        const char *p;
        size_t len;
        while (c->connected && qmpk_engine_output(&r->e, c->mon, &p, &len)) {
            size_t start = 0;
            for (size_t k = 0; k + 1 < len; k++) {
                if (p[k] == '\r' && p[k + 1] == '\n') {
                    add_line(r->out, c->conn, p + start, k + 2 - start);
                    start = k + 2;
                }
            }
            qmpk_engine_output_consume(&r->e, c->mon, start ? start : len);
        }
    }
}

static void feed_pending(replay_t *r, conn_state_t *c, uint64_t t)
{
    size_t used = 0;

    if (!c->connected || !c->plen)
        return;
    qmpk_engine_input(&r->e, c->mon, c->pending, c->plen, t, &used);
    memmove(c->pending, c->pending + used, c->plen - used);
    c->plen -= used;
    collect(r);
}

static void do_connect(replay_t *r, conn_state_t *c, uint64_t t)
{
    for (size_t i = 0; i < r->n; i++) {
        if (&r->c[i] != c && r->c[i].connected && strcmp(r->c[i].chardev, c->chardev) == 0) {
            c->waiting = true;  /* one client per chardev socket */
            return;
        }
    }
    c->waiting = false;
    c->connected = qmpk_engine_connect(&r->e, t, c->chardev[0] ? c->chardev : NULL, &c->mon) ==
                   QMPK_ENGINE_E_OK;
}

static void do_close(replay_t *r, conn_state_t *c, uint64_t t)
{
    if (c->connected)
        qmpk_engine_disconnect(&r->e, c->mon, t);
    c->connected = false;
    for (size_t i = 0; i < r->n; i++) {
        if (r->c[i].waiting && strcmp(r->c[i].chardev, c->chardev) == 0) {
            do_connect(r, &r->c[i], t);
            break;
        }
    }
}

static void step(replay_t *r, const sess_entry_t *en)
{
    conn_state_t *c;

    qmpk_engine_advance(&r->e, en->t_ns);
    collect(r);
    for (size_t i = 0; i < r->n; i++)
        feed_pending(r, &r->c[i], en->t_ns);
    switch (en->dir) {
    case ENT_CONNECT:
        c = state_of(r, en->conn);
        snprintf(c->chardev, sizeof c->chardev, "%s", en->chardev);
        do_connect(r, c, en->t_ns);
        break;
    case ENT_SEND:
        c = state_of(r, en->conn);
        if (en->len == 0)
            break;
        c->pending = realloc(c->pending, c->plen + en->len);
        memcpy(c->pending + c->plen, en->data, en->len);
        c->plen += en->len;
        feed_pending(r, c, en->t_ns);
        break;
    case ENT_CLOSE:
        do_close(r, state_of(r, en->conn), en->t_ns);
        break;
    default:
        break;
    }
    collect(r);
}

bool session_replay(const session_t *s, const qmpk_engine_config_t *cfg, transcript_t *out)
{
    replay_t *r = calloc(1, sizeof *r);
    size_t need = qmpk_engine_storage_size(cfg);
    bool ok = false;

    memset(out, 0, sizeof *out);
    r->out = out;
    r->storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    if (r->storage && qmpk_engine_init(&r->e, cfg, r->storage, need) == QMPK_ENGINE_E_OK) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->e[i].dir == ENT_CONNECT)
                conn_of(out, s->e[i].conn);
            step(r, &s->e[i]);
        }
        ok = true;
    }
    for (size_t i = 0; i < r->n; i++)
        free(r->c[i].pending);
    free(r->storage);
    free(r);
    return ok;
}
