/*
 * qmp-conform: one connection to a monitor.  What the server sends is
 * framed with the qmpkit parser (any chunking gives the same messages);
 * what we send is split per the chunking under test.  Everything goes to
 * the wire log.
 */
#include "conform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MON_BUF (16u << 20)         /* largest server message we accept */
#define MON_TOK (2u << 20)

void cf_log_add(cf_log_t *log, int mon, char dir, const char *data, size_t n)
{
    if (log->n == log->cap) {
        log->cap = log->cap ? log->cap * 2 : 64;
        log->e = cf_xrealloc(log->e, sizeof *log->e * (size_t)log->cap);
    }
    cf_log_entry_t *e = &log->e[log->n++];
    e->t_us = cf_now_us() - log->t0_us;
    e->mon = mon;
    e->dir = dir;
    /* keep logs bounded: a 4 MiB payload is logged by its ends */
    if (n > 8192) {
        cf_buf_t b = {0};
        cf_buf_add(&b, data, 4000);
        cf_buf_addf(&b, "...(%zu bytes elided)...", n - 8000);
        cf_buf_add(&b, data + n - 4000, 4000);
        e->len = b.len;
        e->data = cf_buf_take(&b);
    } else {
        e->data = cf_xstrndup(data, n);
        e->len = n;
    }
}

void cf_log_note(cf_log_t *log, int mon, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cf_log_add(log, mon, 'n', text, strlen(text));
}

void cf_log_free(cf_log_t *log)
{
    for (int i = 0; i < log->n; i++)
        free(log->e[i].data);
    free(log->e);
    log->e = NULL;
    log->n = log->cap = 0;
}

void cf_mon_init(cf_mon_t *m)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
}

static void queue_push(cf_mon_t *m, cf_value_t *v)
{
    if (m->qn == m->qcap) {
        m->qcap = m->qcap ? m->qcap * 2 : 16;
        m->q = cf_xrealloc(m->q, sizeof *m->q * (size_t)m->qcap);
    }
    m->q[m->qn++] = v;
}

static void queue_clear(cf_mon_t *m)
{
    for (int i = m->qhead; i < m->qn; i++)
        cf_value_free(m->q[i]);
    m->qn = m->qhead = 0;
}

void cf_mon_close(cf_mon_t *m, cf_log_t *log, int idx)
{
    if (m->fd >= 0) {
        close(m->fd);
        m->fd = -1;
        if (log)
            cf_log_add(log, idx, 'x', "", 0);
    }
}

void cf_mon_free(cf_mon_t *m)
{
    if (m->fd >= 0)
        close(m->fd);
    queue_clear(m);
    free(m->q);
    free(m->buf);
    free(m->tok);
    cf_buf_free(&m->raw);
    cf_buf_free(&m->bad);
    cf_mon_init(m);
}

int cf_mon_adopt(cf_mon_t *m, int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    queue_clear(m);
    m->fd = fd;
    m->eof = false;
    m->err = 0;
    m->raw.len = 0;
    m->raw_logged = 0;
    if (!m->buf) {
        m->buf_size = MON_BUF;
        m->buf = cf_xmalloc(m->buf_size);
        m->tok_count = MON_TOK;
        m->tok = cf_xmalloc(sizeof(jsmntok_t) * m->tok_count);
    }
    qmpk_stream_config_t cfg = {0};
    cfg.dialect = QMPK_DIALECT_QEMU;
    cfg.buf = m->buf;
    cfg.buf_size = m->buf_size;
    cfg.tok = m->tok;
    cfg.tok_count = m->tok_count;
    if (qmpk_stream_init(&m->stream, &cfg) != QMPK_E_OK) {
        close(fd);
        m->fd = -1;
        return EINVAL;
    }
    return 0;
}

int cf_mon_connect(cf_mon_t *m, const char *path, int timeout_ms)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof sa.sun_path)
        return ENAMETOOLONG;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    int64_t deadline = cf_now_ms() + timeout_ms;
    int err;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return cf_mon_adopt(m, fd);
        err = errno;
        close(fd);
        if ((err != ENOENT && err != ECONNREFUSED && err != EAGAIN) ||
            cf_now_ms() >= deadline)
            return err;
        poll(NULL, 0, 5);   /* the socket is not there yet: retry soon */
    }
}

static void log_lines(cf_mon_t *m, cf_log_t *log, int idx, bool all)
{
    while (m->raw_logged < m->raw.len) {
        const char *s = m->raw.p + m->raw_logged;
        size_t left = m->raw.len - m->raw_logged;
        const char *nl = memchr(s, '\n', left);
        if (!nl && !all)
            return;
        size_t n = nl ? (size_t)(nl - s) + 1 : left;
        cf_log_add(log, idx, 'r', s, n);
        m->raw_logged += n;
    }
}

static void frame(cf_mon_t *m, size_t from)
{
    size_t off = from;
    while (off < m->raw.len) {
        qmpk_msg_t msg;
        qmpk_error_t err;
        size_t used = 0;
        qmpk_feed_t r = qmpk_stream_feed(&m->stream, m->raw.p + off,
                                         m->raw.len - off, &used, &msg, &err);
        off += used;
        if (r == QMPK_FEED_MESSAGE) {
            cf_value_t *v = cf_value_copy(&msg, msg.json, msg.len);
            /* the wire bytes (the parser's view may be an image) */
            if (msg.offset + msg.len <= m->raw.len)
                memcpy(v->raw, m->raw.p + msg.offset, msg.len);
            v->offset = msg.offset;
            queue_push(m, v);
        } else if (r == QMPK_FEED_ERROR) {
            char d[256];
            qmpk_error_format(&err, d, sizeof d);
            cf_value_t *v = cf_xcalloc(1, sizeof *v);
            cf_buf_t b = {0};
            cf_buf_addf(&b, "server sent invalid JSON at byte %llu: %s",
                        (unsigned long long)err.offset, d);
            v->raw_len = b.len;
            v->raw = cf_buf_take(&b);
            v->invalid = true;
            v->offset = err.offset;
            queue_push(m, v);
            m->lex_errors++;
        } else if (used == 0) {
            break;
        }
    }
}

bool cf_mon_pump(cf_mon_t *m, cf_log_t *log, int idx)
{
    if (m->fd < 0 || m->eof)
        return false;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(m->fd, chunk, sizeof chunk);
        if (n > 0) {
            size_t from = m->raw.len;
            cf_buf_add(&m->raw, chunk, (size_t)n);
            log_lines(m, log, idx, false);
            frame(m, from);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            m->err = n == 0 ? 0 : errno;
            m->eof = true;
            log_lines(m, log, idx, true);
            qmpk_msg_t msg;
            qmpk_error_t err;
            if (qmpk_stream_finish(&m->stream, &msg, &err) == QMPK_FEED_ERROR &&
                err.code == QMPK_E_INCOMPLETE) {
                cf_value_t *v = cf_xcalloc(1, sizeof *v);
                v->raw = cf_xstrdup("server closed the connection in the middle of a message");
                v->raw_len = strlen(v->raw);
                v->invalid = true;
                queue_push(m, v);
            }
            cf_log_add(log, idx, 'e', m->err ? strerror(m->err) : "", m->err ? strlen(strerror(m->err)) : 0);
            return false;
        }
        if (errno == EINTR)
            continue;
        return true;
    }
}

cf_value_t *cf_mon_peek(cf_mon_t *m)
{
    return m->qhead < m->qn ? m->q[m->qhead] : NULL;
}

cf_value_t *cf_mon_pop(cf_mon_t *m)
{
    if (m->qhead >= m->qn)
        return NULL;
    cf_value_t *v = m->q[m->qhead++];
    if (m->qhead == m->qn)
        m->qhead = m->qn = 0;
    return v;
}

bool cf_mons_wait(cf_mon_t *mons, int n, cf_log_t *log, int64_t deadline)
{
    struct pollfd pfd[16];
    int idx[16], k = 0;
    for (int i = 0; i < n && k < 16; i++) {
        if (mons[i].fd >= 0 && !mons[i].eof) {
            pfd[k].fd = mons[i].fd;
            pfd[k].events = POLLIN;
            idx[k++] = i;
        }
    }
    int64_t left = deadline - cf_now_ms();
    if (left <= 0)
        return false;
    if (k == 0)
        return false;
    int r = poll(pfd, (nfds_t)k, (int)(left > 1000000 ? 1000000 : left));
    if (r <= 0)
        return r < 0 && errno == EINTR;
    for (int j = 0; j < k; j++)
        if (pfd[j].revents)
            cf_mon_pump(&mons[idx[j]], log, idx[j]);
    return true;
}

const char *cf_chunking_name(int c)
{
    switch (c) {
    case CF_CHUNK_WHOLE: return "whole";
    case CF_CHUNK_BYTE: return "1-byte";
    default: return "random";
    }
}

static size_t piece(int chunking, uint64_t *rng, size_t left, size_t done)
{
    if (chunking == CF_CHUNK_WHOLE)
        return left;
    if (chunking == CF_CHUNK_BYTE)
        return done < (256u << 10) ? 1 : left;   /* huge payloads: rest whole */
    uint64_t r = cf_rand(rng);
    size_t n;
    switch (r % 4) {
    case 0: n = 1 + (r >> 8) % 3; break;        /* tiny pieces */
    case 1: n = 1 + (r >> 8) % 16; break;
    case 2: n = 1 + (r >> 8) % 200; break;
    default: n = 1 + (r >> 8) % 4096; break;
    }
    return n < left ? n : left;
}

bool cf_mon_write(cf_mon_t *mons, int n, int idx, const char *data,
                  size_t len, int chunking, uint64_t *rng, cf_log_t *log,
                  int64_t deadline)
{
    cf_mon_t *m = &mons[idx];
    size_t done = 0, writes = 0;
    bool ok = true;
    int64_t budget = deadline - cf_now_ms();
    while (done < len && ok) {
        if (m->fd < 0) {
            ok = false;
            break;
        }
        size_t want = piece(chunking, rng, len - done, done);
        size_t sent = 0;
        while (sent < want) {
            ssize_t w = send(m->fd, data + done + sent, want - sent, MSG_NOSIGNAL);
            if (w > 0) {
                sent += (size_t)w;
                deadline = cf_now_ms() + budget;
                continue;
            }
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                /* the server is not reading: keep reading its output so
                 * neither side blocks on a full socket buffer */
                struct pollfd pfd[17];
                int k = 0, map[17];
                pfd[k].fd = m->fd;
                pfd[k].events = POLLOUT | POLLIN;
                map[k++] = idx;
                for (int i = 0; i < n && k < 17; i++) {
                    if (i != idx && mons[i].fd >= 0 && !mons[i].eof) {
                        pfd[k].fd = mons[i].fd;
                        pfd[k].events = POLLIN;
                        map[k++] = i;
                    }
                }
                int64_t left = deadline - cf_now_ms();
                if (left <= 0) {
                    ok = false;
                    break;
                }
                int r = poll(pfd, (nfds_t)k, (int)(left > 1000000 ? 1000000 : left));
                for (int j = 0; j < k && r > 0; j++)
                    if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))
                        cf_mon_pump(&mons[map[j]], log, map[j]);
                continue;
            }
            m->err = w < 0 ? errno : EPIPE;
            ok = false;
            break;
        }
        writes++;
        done += sent;
        /* Pieces written back to back can still reach the reader in one
         * read; a pause after the first one makes sure it sees a partial
         * message at least once, which is what split chunkings are for. */
        if (writes == 1 && done < len && ok && chunking != CF_CHUNK_WHOLE)
            poll(NULL, 0, 1);
    }
    if (done)
        cf_log_add(log, idx, 's', data, done);
    if (writes > 1)
        cf_log_note(log, idx, "previous %zu bytes sent in %zu writes (%s)", done,
                    writes, cf_chunking_name(chunking));
    if (!ok)
        cf_log_note(log, idx, "write failed after %zu of %zu bytes: %s", done, len,
                    m->err ? strerror(m->err) : "timeout");
    return ok;
}
