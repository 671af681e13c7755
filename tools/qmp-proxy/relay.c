/*
 * One client connection relayed to its own server connection.  Client
 * bytes go to the server unchanged; server bytes are cut into units (a
 * message and its line end), perturbed as asked, and released to the
 * client: delayed, held (OOB replies), preceded by injected events, with
 * LF line ends, split into small writes or coalesced into big ones.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

#define MAX_MSG (64u << 20)

link_t *link_open(proxy_t *p, int cfd, char *err, size_t errlen)
{
    link_t *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cfd = cfd;
    l->mon = p->next_mon++;
    const char *path = p->o->exec ? p->sockpath : p->o->connect;
    /* A server that is still starting (a wrapper started us first) gets a
     * few seconds to appear. */
    for (int i = 0; i < 500; i++) {
        l->sfd = path ? qt_unix_connect(path, err, errlen)
                      : qt_tcp_connect(p->o->connect_tcp, err, errlen);
        if (l->sfd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
            break;
        poll(NULL, 0, 10);
    }
    if (l->sfd < 0 ||
        qt_stream_new(&l->cs, QMPK_DIALECT_QEMU, MAX_MSG, 1u << 20) < 0 ||
        qt_stream_new(&l->ss, QMPK_DIALECT_QEMU, MAX_MSG, 1u << 20) < 0) {
        if (l->sfd >= 0)
            snprintf(err, errlen, "out of memory");
        l->cfd = -1;   /* the caller closes it */
        link_free(l);
        return NULL;
    }
    return l;
}

void link_free(link_t *l)
{
    if (l->cfd >= 0)
        close(l->cfd);
    if (l->sfd >= 0)
        close(l->sfd);
    qt_buf_free(&l->to_server);
    qt_buf_free(&l->to_client);
    qt_buf_free(&l->sraw);
    qt_stream_free(&l->cs);
    qt_stream_free(&l->ss);
    for (unit_t *u = l->head, *n; u; u = n) {
        n = u->next;
        qt_buf_free(&u->bytes);
        free(u);
    }
    for (size_t i = 0; i < l->npend; i++)
        free(l->pend[i].id);
    free(l->pend);
    free(l);
}

static void track_command(link_t *l, const qmpk_msg_t *m)
{
    qmpk_envelope_t env = {.kind = QMPK_KIND_VALUE, .id = -1};
    qmpk_error_t err;
    if (m)
        qmpk_classify(m, QMPK_PEER_CLIENT, true, &env, &err);
    if (l->npend == l->cappend) {
        size_t cap = l->cappend ? l->cappend * 2 : 16;
        pend_cmd_t *n = realloc(l->pend, cap * sizeof(*n));
        if (!n)
            return;
        l->pend = n;
        l->cappend = cap;
    }
    pend_cmd_t *c = &l->pend[l->npend++];
    memset(c, 0, sizeof(*c));
    c->oob = env.kind == QMPK_KIND_OOB_COMMAND;
    qt_buf_t canon = {0};
    if (env.id >= 0 && qt_canonical(m, env.id, &canon) == 0 &&
        qt_buf_append(&canon, "", 1) == 0) {
        c->has_id = true;
        c->id = strdup(qt_buf_head(&canon));
    }
    qt_buf_free(&canon);
}

void link_from_client(proxy_t *p, link_t *l, const char *data, size_t n)
{
    if (p->tracing)
        qt_trace_put(&p->trace, qt_mono() - p->t0, l->mon, QT_DIR_IN, data, n,
                     NULL, NULL);
    qt_buf_append(&l->to_server, data, n);
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&l->cs, data + off, n - off, &used, &m, &e);
        off += used;
        if (f == QMPK_FEED_MESSAGE)
            track_command(l, &m);
        else if (f == QMPK_FEED_ERROR)  /* answered by an id-less error */
            track_command(l, NULL);
    }
}

/* Is this reply for an exec-oob command?  Forgets the command either way. */
static bool reply_is_oob(link_t *l, const qmpk_msg_t *m, int id)
{
    qt_buf_t canon = {0};
    bool oob = false;
    if (id >= 0 && (qt_canonical(m, id, &canon) < 0 || qt_buf_append(&canon, "", 1) < 0))
        id = -1;
    for (size_t i = 0; i < l->npend; i++) {
        pend_cmd_t *c = &l->pend[i];
        if (id >= 0 ? c->has_id && strcmp(c->id, qt_buf_head(&canon)) == 0 : !c->has_id) {
            oob = c->oob;
            free(c->id);
            memmove(c, c + 1, (l->npend - i - 1) * sizeof(*c));
            l->npend--;
            break;
        }
    }
    qt_buf_free(&canon);
    return oob;
}

static unit_t *unit_add(link_t *l, const char *p, size_t n, double release,
                        bool lf)
{
    unit_t *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (lf && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            continue;
        qt_buf_append(&u->bytes, p + i, 1);
    }
    u->release = release;
    if (l->tail)
        l->tail->next = u;
    else
        l->head = u;
    l->tail = u;
    return u;
}

static void inject(proxy_t *p, link_t *l, double release)
{
    char ev[600];
    uint64_t us = qt_real_us();
    const char *body = p->o->inject_event;
    if (body)
        snprintf(ev, sizeof(ev), "%s\r\n", body);
    else
        snprintf(ev, sizeof(ev), "{\"timestamp\": {\"seconds\": %llu, "
                 "\"microseconds\": %llu}, \"event\": \"X_PROXY_INJECTED\", "
                 "\"data\": {}}\r\n", (unsigned long long)(us / 1000000u),
                 (unsigned long long)(us % 1000000u));
    unit_add(l, ev, strlen(ev), release, p->o->lf);
}

static void cut_units(proxy_t *p, link_t *l)
{
    double now = qt_mono();
    while (l->ndone > 0) {
        size_t from = (size_t)(l->done[0].end - l->sbase);
        size_t size = qt_buf_size(&l->sraw);
        const char *h = qt_buf_head(&l->sraw);
        const char *nl = from < size ? memchr(h + from, '\n', size - from) : NULL;
        if (!nl)
            return;
        size_t len = (size_t)(nl - h) + 1;
        double rel = now + p->o->delay;
        if (l->done[0].reply && p->o->inject_between)
            inject(p, l, rel);
        unit_t *u = unit_add(l, h, len, rel + (l->done[0].oob ? p->o->hold_oob : 0),
                             p->o->lf);
        if (u)
            u->held = l->done[0].oob && p->o->hold_oob > 0;
        if (l->done[0].greeting && p->o->inject_negotiation)
            inject(p, l, rel);
        qt_buf_consume(&l->sraw, len);
        l->sbase += len;
        memmove(&l->done[0], &l->done[1], (size_t)(l->ndone - 1) * sizeof(l->done[0]));
        l->ndone--;
    }
}

static void server_message(link_t *l, const qmpk_msg_t *m)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    if (l->ndone == (int)(sizeof(l->done) / sizeof(l->done[0])))
        return;   /* more than 64 messages without a newline: sent raw */
    /* read as a client reads it: a reply with a member QEMU 7.2 does not
     * send is still a reply (its OOB hold, the events injected before it) */
    qt_server_envelope(m, &env, &err);
    int k = l->ndone++;
    l->done[k].end = m->offset + m->len;
    l->done[k].greeting = env.kind == QMPK_KIND_GREETING;
    l->done[k].reply = env.kind == QMPK_KIND_RETURN || env.kind == QMPK_KIND_ERROR;
    l->done[k].oob = l->done[k].reply && reply_is_oob(l, m, env.id);
}

void link_from_server(proxy_t *p, link_t *l, const char *data, size_t n)
{
    qt_buf_append(&l->sraw, data, n);
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&l->ss, data + off, n - off, &used, &m, &e);
        off += used;
        if (f == QMPK_FEED_MESSAGE)
            server_message(l, &m);
    }
    cut_units(p, l);
}

void link_server_eof(proxy_t *p, link_t *l)
{
    cut_units(p, l);
    if (qt_buf_size(&l->sraw))
        unit_add(l, qt_buf_head(&l->sraw), qt_buf_size(&l->sraw),
                 qt_mono() + p->o->delay, p->o->lf);
    qt_buf_clear(&l->sraw);
    l->ndone = 0;
    l->server_gone = true;
}

int link_release(proxy_t *p, link_t *l, double now)
{
    double next = -1;
    unit_t **pp = &l->head, *prev = NULL;
    while (*pp) {
        unit_t *u = *pp;
        if (u->release <= now) {
            if (qt_buf_size(&l->to_client) == 0 && p->o->coalesce > 0)
                l->next_write = now + p->o->coalesce;
            qt_buf_append(&l->to_client, qt_buf_head(&u->bytes), qt_buf_size(&u->bytes));
            *pp = u->next;
            if (l->tail == u)
                l->tail = prev;
            qt_buf_free(&u->bytes);
            free(u);
            continue;
        }
        if (next < 0 || u->release < next)
            next = u->release;
        if (!u->held)
            break;   /* later units wait behind it; only held ones are overtaken */
        prev = u;
        pp = &u->next;
    }
    if (qt_buf_size(&l->to_client) && l->next_write > now &&
        (next < 0 || l->next_write < next))
        next = l->next_write;
    if (next < 0)
        return -1;
    double ms = (next - now) * 1000.0;
    return ms <= 0 ? 0 : (int)ms + 1;
}

bool link_write_client(proxy_t *p, link_t *l, double now)
{
    while (qt_buf_size(&l->to_client) > 0 && now >= l->next_write) {
        size_t n = qt_buf_size(&l->to_client);
        if (p->o->split && n > p->o->split)
            n = p->o->split;
        ssize_t w = write(l->cfd, qt_buf_head(&l->to_client), n);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        if (w <= 0)
            return false;
        if (p->tracing)
            qt_trace_put(&p->trace, now - p->t0, l->mon, QT_DIR_OUT,
                         qt_buf_head(&l->to_client), (size_t)w, NULL, NULL);
        qt_buf_consume(&l->to_client, (size_t)w);
        if (p->o->split && p->o->split_delay > 0)
            l->next_write = now + p->o->split_delay;
    }
    return true;
}
