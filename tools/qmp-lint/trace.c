/*
 * qmp-lint --format trace: sessions recorded by qmp-refd or qmp-proxy
 * (--trace), or the QEMU recordings, checked per monitor and direction.
 * Besides what every stream gets (JSON, envelopes, unknown reply ids), a
 * trace shows both sides, so it is also checked for what QEMU guarantees a
 * client: in-band replies in request order (only OOB commands, and async
 * commands of the extension, may be overtaken), no event before
 * negotiation completed, and every server message ending in CRLF.
 * Server messages are read as a client must read them (qt_server_envelope:
 * unknown members are no problem).
 */
#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "qt_common.h"

#define TRACE_MSG_BYTES (4u << 20)      /* per monitor and direction */
#define TRACE_TOKENS (1u << 20)         /* shared: used one message at a time */

/* A command waiting for its reply. */
typedef struct pending {
    char *id;           /* canonical id, or NULL */
    bool oob;           /* exec-oob: may be answered out of order */
    bool caps;          /* qmp_capabilities */
    bool enables_oob, enables_async;
} pending_t;

typedef struct mon {
    int id;
    qmpk_stream_t in, out;
    pending_t *p;
    size_t np, capp;
    bool negotiated, oob, async;
    bool blind;         /* some client bytes were not recorded */
    int crlf;           /* bytes of "\r\n" still due after a server message */
    uint64_t last_index;    /* of the last server message */
} mon_t;

typedef struct trace_lint {
    lint_t *l;
    mon_t **mons;
    size_t nmons, capmons;
    jsmntok_t *tok;
} trace_lint_t;

/* ------------------------------------------------------------------ */
/* monitors                                                             */

static bool stream_init(trace_lint_t *t, qmpk_stream_t *s)
{
    qmpk_stream_config_t c = { .dialect = t->l->opt->dialect, .buf_size = TRACE_MSG_BYTES + 1,
                               .tok = t->tok, .tok_count = TRACE_TOKENS };

    c.buf = malloc(c.buf_size);
    return c.buf && qmpk_stream_init(s, &c) == QMPK_E_OK;
}

static void mon_free(mon_t *m)
{
    for (size_t i = 0; i < m->np; i++) {
        free(m->p[i].id);
    }
    free(m->p);
    free(m->in.cfg.buf);
    free(m->out.cfg.buf);
    free(m);
}

static mon_t *mon_find(trace_lint_t *t, int id, bool create)
{
    mon_t *m;

    for (size_t i = 0; i < t->nmons; i++) {
        if (t->mons[i]->id == id) {
            return t->mons[i];
        }
    }
    if (!create || !(m = calloc(1, sizeof(*m)))) {
        return NULL;
    }
    m->id = id;
    if (!stream_init(t, &m->in) || !stream_init(t, &m->out)) {
        mon_free(m);
        return NULL;
    }
    if (t->nmons == t->capmons) {
        t->capmons = t->capmons ? 2 * t->capmons : 16;
        t->mons = realloc(t->mons, t->capmons * sizeof(*t->mons));
    }
    t->mons[t->nmons++] = m;
    return m;
}

static void mon_close(trace_lint_t *t, int id)
{
    for (size_t i = 0; i < t->nmons; i++) {
        if (t->mons[i]->id == id) {
            mon_free(t->mons[i]);
            t->mons[i] = t->mons[--t->nmons];
            return;
        }
    }
}

static void push(mon_t *m, pending_t p)
{
    if (m->np == m->capp) {
        m->capp = m->capp ? 2 * m->capp : 16;
        m->p = realloc(m->p, m->capp * sizeof(*m->p));
    }
    m->p[m->np++] = p;
}

static void take(mon_t *m, size_t i)
{
    free(m->p[i].id);
    memmove(&m->p[i], &m->p[i + 1], (m->np - i - 1) * sizeof(*m->p));
    m->np--;
}

/* ------------------------------------------------------------------ */
/* client -> server                                                     */

static void client_message(trace_lint_t *t, mon_t *m, const where_t *w, const qmpk_msg_t *msg)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    pending_t p = { 0 };

    if (qmpk_classify(msg, QMPK_PEER_CLIENT, m->oob, &env, &err) != QMPK_E_OK) {
        lint_kind(t->l, w, msg, QMPK_KIND_VALUE);
        lint_report(t->l, w, err.offset, msg->index, &err, NULL);
    } else {
        lint_kind(t->l, w, msg, env.kind);
        p.caps = qmpk_str_eqz(msg, env.name, "qmp_capabilities");
        p.enables_oob = lint_enables_oob(msg, &env, "oob");
        p.enables_async = lint_enables_oob(msg, &env, "async");
    }
    /* QEMU answers every request, valid or not; exec-oob at once */
    p.oob = env.oob_request;
    p.id = env.id >= 0 ? lint_canonical_id(t->l, msg, env.id) : NULL;
    push(m, p);
}

static void client_bytes(trace_lint_t *t, mon_t *m, const char *d, size_t n)
{
    where_t w = { m->id, "in" };

    while (n > 0) {
        size_t used = 0;
        qmpk_msg_t msg;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&m->in, d, n, &used, &msg, &e);
        if (f == QMPK_FEED_MESSAGE) {
            t->l->messages++;
            client_message(t, m, &w, &msg);
        } else if (f == QMPK_FEED_ERROR) {
            pending_t p = { 0 };
            lint_report(t->l, &w, e.offset, e.index, &e, NULL);
            push(m, p);     /* answered in-band, without an id */
        }
        d += used;
        n -= used;
    }
}

/* ------------------------------------------------------------------ */
/* server -> client                                                     */

/* The first in-band request still waiting. */
static size_t first_in_band(const mon_t *m)
{
    for (size_t i = 0; i < m->np; i++) {
        if (!m->p[i].oob) {
            return i;
        }
    }
    return m->np;
}

static void reply(trace_lint_t *t, mon_t *m, const where_t *w, const qmpk_msg_t *msg,
                  const qmpk_envelope_t *env)
{
    size_t head = first_in_band(m), i = m->np;
    char *id = env->id >= 0 ? lint_canonical_id(t->l, msg, env->id) : NULL;

    for (size_t k = 0; k < m->np; k++) {
        if (id ? m->p[k].id && lint_same_id(t->l, m->p[k].id, id) : !m->p[k].id) {
            i = k;  /* an id-less reply answers the oldest id-less request */
            break;
        }
    }
    if (!id && head < m->np && !m->p[head].id) {
        i = head;
    }
    if (i == m->np) {
        lint_report(t->l, w, msg->offset, msg->index, NULL,
                    id ? "reply id matches no earlier command" : "reply with no request waiting");
    } else {
        if (!m->p[i].oob && i != head && !m->async) {
            lint_report(t->l, w, msg->offset, msg->index, NULL,
                        "reply overtakes an earlier in-band request without OOB");
        }
        if (m->p[i].caps && env->kind == QMPK_KIND_RETURN) {
            m->negotiated = true;
            m->oob = m->p[i].enables_oob;
            m->async = m->p[i].enables_async;
        }
        take(m, i);
    }
    free(id);
}

static void server_message(trace_lint_t *t, mon_t *m, const where_t *w, const qmpk_msg_t *msg)
{
    qmpk_envelope_t env;
    qmpk_error_t err;

    /* a client must ignore members it does not know (qmp-spec.rst's
     * compatibility rules): only what no client could read is a problem */
    if (qt_server_envelope(msg, &env, &err) != QMPK_E_OK) {
        lint_kind(t->l, w, msg, QMPK_KIND_VALUE);
        lint_report(t->l, w, err.offset, msg->index, &err, NULL);
        return;
    }
    lint_kind(t->l, w, msg, env.kind);
    if (env.kind == QMPK_KIND_GREETING) {
        m->negotiated = m->oob = m->async = false;
    } else if (env.kind == QMPK_KIND_EVENT && !m->negotiated) {
        lint_report(t->l, w, msg->offset, msg->index, NULL,
                    "event before capabilities negotiation completed");
    } else if ((env.kind == QMPK_KIND_RETURN || env.kind == QMPK_KIND_ERROR) && !m->blind) {
        reply(t, m, w, msg, &env);
    }
}

/* QEMU's monitor ends every message with CRLF. */
static void check_crlf(trace_lint_t *t, mon_t *m, const where_t *w, const char *d, size_t n)
{
    for (size_t i = 0; i < n && m->crlf > 0; i++) {
        char want = m->crlf == 2 ? '\r' : '\n';
        if (d[i] != want) {
            lint_report(t->l, w, qmpk_stream_offset(&m->out) + i, m->last_index, NULL,
                        "server message not followed by CRLF");
            m->crlf = 0;
            return;
        }
        m->crlf--;
    }
}

static void server_bytes(trace_lint_t *t, mon_t *m, const char *d, size_t n)
{
    where_t w = { m->id, "out" };

    while (n > 0) {
        size_t used = 0;
        qmpk_msg_t msg;
        qmpk_error_t e;
        qmpk_feed_t f;

        check_crlf(t, m, &w, d, n);
        f = qmpk_stream_feed(&m->out, d, n, &used, &msg, &e);
        if (f == QMPK_FEED_MESSAGE) {
            t->l->messages++;
            server_message(t, m, &w, &msg);
            m->crlf = 2;
            m->last_index = msg.index;
        } else if (f == QMPK_FEED_ERROR) {
            size_t head = first_in_band(m);
            lint_report(t->l, &w, e.offset, e.index, &e, NULL);
            if (head < m->np) {
                take(m, head);  /* most likely the reply it garbled */
            }
        }
        d += used;
        n -= used;
    }
}

/* ------------------------------------------------------------------ */

static void entry(trace_lint_t *t, const qt_trace_ent_t *e)
{
    mon_t *m;

    switch (e->dir) {
    case QT_DIR_CONNECT:
        mon_close(t, e->mon);
        mon_find(t, e->mon, true);
        return;
    case QT_DIR_CLOSE:
        mon_close(t, e->mon);
        return;
    case QT_DIR_IN:
    case QT_DIR_OUT:
        if (!(m = mon_find(t, e->mon, true))) {
            return;
        }
        if (e->dir == QT_DIR_IN && e->msg && qmpk_get(e->msg, 0, "data") < 0) {
            m->blind = true;    /* recorded as a length and a hash only */
        } else if (e->dir == QT_DIR_IN) {
            client_bytes(t, m, e->data, e->len);
        } else {
            server_bytes(t, m, e->data, e->len);
        }
        return;
    default:
        return;
    }
}

int lint_trace(lint_t *l, const char *path)
{
    trace_lint_t t = { .l = l };
    qt_trace_r_t r;
    qt_trace_ent_t e;
    char err[256];
    int rc = EXIT_CLEAN, n;

    l->name = strcmp(path, "-") ? path : "<stdin>";
    if (!strcmp(path, "-")) {
        qt_trace_rfile(&r, stdin, "<stdin>");
    } else if (qt_trace_ropen(&r, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "qmp-lint: %s\n", err);
        return EXIT_USAGE;
    }
    t.tok = malloc(TRACE_TOKENS * sizeof(jsmntok_t));
    while (t.tok && (n = qt_trace_next(&r, &e, err, sizeof(err))) > 0) {
        entry(&t, &e);
    }
    if (!t.tok || n < 0) {
        fprintf(stderr, "qmp-lint: %s\n", t.tok ? err : "out of memory");
        rc = EXIT_USAGE;
    }
    qt_trace_rclose(&r);
    while (t.nmons) {
        mon_free(t.mons[--t.nmons]);
    }
    free(t.mons);
    free(t.tok);
    return rc;
}
