/*
 * qmp-refd's poll loop: one thread, non-blocking sockets, the engine fed
 * with whatever each monitor sends.  Back-pressure is the engine's: when a
 * monitor's output buffer is full (its client does not read) the engine
 * stops taking its input, and we stop reading its socket until the output
 * drains, as QEMU suspends a monitor.  Nobody else waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "refd.h"

#define READ_CHUNK 65536

static char g_readbuf[READ_CHUNK];
static int g_sigfd = -1;

static void on_signal(int sig)
{
    unsigned char c = (unsigned char)sig;
    int saved = errno;
    if (g_sigfd >= 0 && write(g_sigfd, &c, 1) < 0) {
        /* nothing to do: the pipe is full, a stop is already pending */
    }
    errno = saved;
}

__attribute__((format(printf, 2, 3)))
static void say(server_t *s, const char *fmt, ...)
{
    va_list ap;
    if (s->o->quiet)
        return;
    fprintf(stderr, "qmp-refd: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

uint64_t server_now(server_t *s)
{
    double dt = (qt_mono() - s->mono0) * s->o->time_scale;
    return s->epoch_ns + (uint64_t)(dt * 1e9);
}

static double trace_t(server_t *s)
{
    return qt_mono() - s->mono0;
}

static void trace_ns(server_t *s, conn_t *c, qt_dir_t dir, const void *data,
                     size_t n, const char *note, uint64_t ns)
{
    char extra[48];
    if (!s->tracing)
        return;
    snprintf(extra, sizeof(extra), "\"ns\": %llu", (unsigned long long)ns);
    qt_trace_put(&s->trace, trace_t(s), c ? (int)c->mon : -1, dir, data, n,
                 note, extra);
}

/* A socket path already in use by a live server is an error; a stale file
 * left by a crashed one is removed. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "'%s' exists and is not a socket; choose "
                 "another path", path);
        return -1;
    }
    char e2[64];
    int fd = qt_unix_connect(path, e2, sizeof(e2));
    if (fd >= 0) {
        close(fd);
        snprintf(err, errlen, "'%s' is in use by a running server", path);
        return -1;
    }
    unlink(path);
    return 0;
}

static int add_listeners(server_t *s)
{
    char err[512];
    for (int i = 0; i < s->o->nsockets; i++) {
        listener_t *l = &s->ls[s->nls];
        const char *p = s->o->sockets[i];
        if (clear_stale(p, err, sizeof(err)) < 0 ||
            (l->fd = qt_unix_listen(p, s->o->socket_mode, err, sizeof(err))) < 0) {
            fprintf(stderr, "qmp-refd: %s\n", err);
            return -1;
        }
        l->is_unix = true;
        snprintf(l->name, sizeof(l->name), "%s", p);
        s->nls++;
    }
    for (int i = 0; i < s->o->ntcps; i++) {
        listener_t *l = &s->ls[s->nls];
        if ((l->fd = qt_tcp_listen(s->o->tcps[i], err, sizeof(err))) < 0) {
            fprintf(stderr, "qmp-refd: %s\n", err);
            return -1;
        }
        if (qt_sock_name(l->fd, l->name, sizeof(l->name)) < 0)
            snprintf(l->name, sizeof(l->name), "%s", s->o->tcps[i]);
        s->nls++;
    }
    return 0;
}

static conn_t *conn_new(server_t *s, int fd, int out_fd, int li)
{
    uint32_t mon = 0;
    uint64_t now = server_now(s);
    qmpk_engine_errno_t e = qmpk_engine_connect(&s->eng, now, NULL, &mon);
    if (e != QMPK_ENGINE_E_OK) {
        say(s, "refusing a connection on %s: %s (raise --max-monitors)",
            li >= 0 ? s->ls[li].name : "stdio", qmpk_engine_strerror(e));
        return NULL;
    }
    if (s->nconns == s->capconns) {
        size_t cap = s->capconns ? s->capconns * 2 : 64;
        conn_t **c = realloc(s->conns, cap * sizeof(*c));
        if (!c)
            goto nomem;
        s->conns = c;
        s->capconns = cap;
    }
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    c->fd = fd;
    c->out_fd = out_fd;
    c->mon = mon;
    c->listener = li;
    s->conns[s->nconns++] = c;
    trace_ns(s, c, QT_DIR_CONNECT, NULL, 0,
             li >= 0 ? s->ls[li].name : "stdio", now);
    return c;
nomem:
    qmpk_engine_disconnect(&s->eng, mon, now);
    return NULL;
}

/* by: "client" (it hung up or its socket failed) or "server" (we close:
 * quit, shutdown, a monitor that stopped reading), recorded as the close
 * entry's "by" so that a reader knows whether the server closed. */
static void conn_close(server_t *s, size_t idx, const char *by)
{
    conn_t *c = s->conns[idx];
    uint64_t now = server_now(s);
    if (qt_buf_size(&c->in))   /* read, never taken: QEMU drops it too */
        trace_ns(s, c, QT_DIR_NOTE, qt_buf_head(&c->in), qt_buf_size(&c->in),
                 "input dropped at close", now);
    qmpk_engine_disconnect(&s->eng, c->mon, now);
    if (s->tracing) {
        char extra[80];
        snprintf(extra, sizeof(extra), "\"ns\": %llu, \"by\": \"%s\"",
                 (unsigned long long)now, by);
        qt_trace_put(&s->trace, trace_t(s), (int)c->mon, QT_DIR_CLOSE, NULL, 0,
                     NULL, extra);
    }
    if (c->listener >= 0)
        close(c->fd);
    else
        s->stop = true;   /* stdin closed: the server's user is gone */
    qt_buf_free(&c->in);
    free(c);
    s->conns[idx] = s->conns[--s->nconns];
    s->accept_paused = false;
}

static void do_accept(server_t *s, int li)
{
    for (int k = 0; k < 64; k++) {
        int fd = accept(s->ls[li].fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                say(s, "out of file descriptors (%s); not accepting until "
                    "a connection closes", strerror(errno));
                s->accept_paused = true;
            }
            return;
        }
        if (qt_set_nonblock(fd) < 0 || !conn_new(s, fd, fd, li))
            close(fd);
    }
}

/* Write what the engine has for c; false when the connection died. */
static bool flush_conn(server_t *s, conn_t *c)
{
    const char *p;
    size_t len;
    while (qmpk_engine_output(&s->eng, c->mon, &p, &len)) {
        ssize_t w = write(c->out_fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return true;
        if (w <= 0)
            return false;
        trace_ns(s, c, QT_DIR_OUT, p, (size_t)w, NULL, server_now(s));
        qmpk_engine_output_consume(&s->eng, c->mon, (size_t)w);
    }
    return true;
}

/* Offer data to the engine; keep what it did not take in c->in. */
static void feed(server_t *s, conn_t *c, const char *data, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        uint64_t now = server_now(s);
        qmpk_engine_errno_t e = qmpk_engine_input(&s->eng, c->mon, data + off,
                                                  n - off, now, &used);
        if (used > 0)
            trace_ns(s, c, QT_DIR_IN, data + off, used, NULL, now);
        off += used;
        if (e != QMPK_ENGINE_E_OK || used == 0)
            break;
    }
    if (off < n && data != qt_buf_head(&c->in))
        qt_buf_append(&c->in, data + off, n - off);
    else if (data == qt_buf_head(&c->in))
        qt_buf_consume(&c->in, off);
}

/* Read one chunk from c; false when the peer closed or failed. */
static bool read_conn(server_t *s, conn_t *c)
{
    ssize_t n = read(c->fd, g_readbuf, sizeof(g_readbuf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0)
        return false;
    feed(s, c, g_readbuf, (size_t)n);
    return true;
}

/* Run timers that fell due; record the call so a replay makes it too. */
static void advance(server_t *s)
{
    uint64_t now = s->o->cfg.manual_clock ? qmpk_engine_now(&s->eng)
                                          : server_now(s);
    if (qmpk_engine_next_deadline(&s->eng) > now)
        return;
    trace_ns(s, NULL, QT_DIR_NOTE, NULL, 0, "advance", now);
    qmpk_engine_advance(&s->eng, now);
}

/* Flush c, then offer the input the engine refused earlier, until neither
 * moves.  The order matters: a monitor whose output is not empty may not
 * be readable, and flushing is what makes it readable again.  Input held
 * back here is invisible to poll() (poll_once), so stopping while the
 * engine would take it loses the wake-up: the client waits for a reply to
 * bytes still sitting in its socket.  False when the connection died. */
static bool service_conn(server_t *s, conn_t *c)
{
    for (;;) {
        if (!flush_conn(s, c))
            return false;
        size_t held = qt_buf_size(&c->in);
        if (held == 0 || !qmpk_engine_monitor_readable(&s->eng, c->mon))
            return true;
        feed(s, c, qt_buf_head(&c->in), held);
        if (qt_buf_size(&c->in) == held)
            return true;   /* the engine took nothing: wait for an event */
    }
}

/* Flush every output, retry input the engine refused, drop connections
 * that died or lost events (a client that stopped reading). */
static void service(server_t *s)
{
    for (size_t i = 0; i < s->nconns;) {
        conn_t *c = s->conns[i];
        bool ok = service_conn(s, c);
        const char *by = "client";   /* a write failed: the client is gone */
        uint64_t d = qmpk_engine_monitor_dropped(&s->eng, c->mon);
        if (d > c->dropped) {
            say(s, "monitor %u stopped reading and lost %llu message(s) "
                "when its output buffer filled; disconnecting it",
                c->mon, (unsigned long long)(d - c->dropped));
            ok = false;
            by = "server";
        }
        if (!ok)
            conn_close(s, i, by);
        else
            i++;
    }
}

static int poll_timeout(server_t *s)
{
    if (s->o->cfg.manual_clock)
        return qmpk_engine_next_deadline(&s->eng) <= qmpk_engine_now(&s->eng) ? 0 : -1;
    uint64_t d = qmpk_engine_next_deadline(&s->eng);
    if (d == UINT64_MAX)
        return -1;
    uint64_t now = server_now(s);
    if (d <= now)
        return 0;
    double ms = (double)(d - now) / 1e6 / s->o->time_scale;
    return ms > 60000 ? 60000 : (int)ms + 1;
}

static int poll_once(server_t *s, struct pollfd **pfds, size_t *cap)
{
    size_t need = (size_t)s->nls + s->nconns + 1;
    if (need > *cap) {
        struct pollfd *p = realloc(*pfds, need * 2 * sizeof(*p));
        if (!p)
            return -1;
        *pfds = p;
        *cap = need * 2;
    }
    struct pollfd *p = *pfds;
    size_t n = 0;
    p[n++] = (struct pollfd){s->sigpipe[0], POLLIN, 0};
    for (int i = 0; i < s->nls; i++)
        p[n++] = (struct pollfd){s->ls[i].fd, s->accept_paused ? 0 : POLLIN, 0};
    bool held_ready = false;
    for (size_t i = 0; i < s->nconns; i++) {
        conn_t *c = s->conns[i];
        const char *q;
        size_t l;
        bool held = qt_buf_size(&c->in) != 0;
        bool readable = qmpk_engine_monitor_readable(&s->eng, c->mon);
        /* input held back must be taken before more is read */
        short ev = readable && !held ? POLLIN : 0;
        if (qmpk_engine_output(&s->eng, c->mon, &q, &l) && c->out_fd == c->fd)
            ev |= POLLOUT;
        p[n++] = (struct pollfd){c->fd, ev, 0};
        /* servicing a later monitor can run an earlier one's queued
         * request; its held input must not wait for an unrelated event */
        held_ready |= held && readable;
    }
    int timeout = held_ready ? 0 : poll_timeout(s);
    if (s->accept_paused && (timeout < 0 || timeout > 100))
        timeout = 100;
    int r = poll(p, (nfds_t)n, timeout);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    if (p[0].revents)
        s->stop = true;
    for (int i = 0; i < s->nls; i++)
        if (p[1 + i].revents & POLLIN)
            do_accept(s, i);
    /* connections accepted above are past the end of the poll set */
    for (size_t i = n - 1; i >= (size_t)s->nls + 1; i--) {
        conn_t *c = s->conns[i - 1 - (size_t)s->nls];
        bool ok = true;
        if (p[i].revents & POLLOUT)
            ok = flush_conn(s, c);
        if (ok && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            ok = read_conn(s, c) && !(p[i].revents & POLLERR);
        if (!ok) {
            flush_conn(s, c);
            conn_close(s, i - 1 - (size_t)s->nls, "client");
        }
    }
    return 0;
}

static int setup_signals(server_t *s)
{
    if (pipe(s->sigpipe) < 0)
        return -1;
    qt_set_nonblock(s->sigpipe[0]);
    qt_set_nonblock(s->sigpipe[1]);
    g_sigfd = s->sigpipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int start_engine(server_t *s)
{
    size_t need = qmpk_engine_storage_size(&s->o->cfg);
    if (need == 0) {
        fprintf(stderr, "qmp-refd: the engine rejects this configuration "
                "(check --max-monitors, --out-bytes, --msg-bytes)\n");
        return -1;
    }
    s->storage = malloc(need);
    if (!s->storage) {
        fprintf(stderr, "qmp-refd: cannot allocate %zu bytes of engine "
                "storage; lower --max-monitors or --out-bytes\n", need);
        return -1;
    }
    qmpk_engine_errno_t e = qmpk_engine_init(&s->eng, &s->o->cfg, s->storage, need);
    if (e != QMPK_ENGINE_E_OK) {
        fprintf(stderr, "qmp-refd: engine: %s\n", qmpk_engine_strerror(e));
        return -1;
    }
    return 0;
}

int server_start(server_t *s, refd_opts_t *o)
{
    memset(s, 0, sizeof(*s));
    s->o = o;
    s->sigpipe[0] = s->sigpipe[1] = -1;
    s->mono0 = qt_mono();
    s->epoch_ns = qt_real_us() * 1000u;
    if (start_engine(s) < 0 || setup_signals(s) < 0)
        return -1;
    if (o->trace) {
        char err[300];
        if (qt_trace_open(&s->trace, o->trace, err, sizeof(err)) < 0) {
            fprintf(stderr, "qmp-refd: %s\n", err);
            return -1;
        }
        s->tracing = true;
        qt_buf_t h = {0};
        refd_trace_header(&h, &s->eng.cfg);
        qt_buf_append(&h, "", 1);
        qt_trace_put(&s->trace, 0, -1, QT_DIR_NOTE, NULL, 0, "qmp-refd trace",
                     qt_buf_head(&h));
        qt_buf_free(&h);
    }
    if (add_listeners(s) < 0)
        return -1;
    if (o->use_stdio) {
        qt_set_nonblock(STDIN_FILENO);
        if (!conn_new(s, STDIN_FILENO, STDOUT_FILENO, -1))
            return -1;
    }
    for (int i = 0; i < s->nls; i++)
        say(s, "listening on %s%s", s->ls[i].is_unix ? "" : "tcp ", s->ls[i].name);
    return 0;
}

/* After quit or a signal: give every client a moment to read what is
 * queued for it, then close everything. */
static void drain_and_close(server_t *s)
{
    double until = qt_mono() + 1.0;
    while (qt_mono() < until) {
        bool pending = false;
        for (size_t i = 0; i < s->nconns; i++) {
            const char *p;
            size_t l;
            if (!flush_conn(s, s->conns[i]))
                continue;
            pending |= qmpk_engine_output(&s->eng, s->conns[i]->mon, &p, &l);
        }
        if (!pending)
            break;
        poll(NULL, 0, 5);
    }
    while (s->nconns > 0)
        conn_close(s, s->nconns - 1, "server");
}

int server_run(server_t *s)
{
    struct pollfd *pfds = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!s->stop && !qmpk_engine_quit_requested(&s->eng)) {
        advance(s);
        service(s);
        if (s->stop || qmpk_engine_quit_requested(&s->eng))
            break;
        if (poll_once(s, &pfds, &cap) < 0) {
            fprintf(stderr, "qmp-refd: poll: %s\n", strerror(errno));
            rc = 1;
            break;
        }
    }
#ifdef QMPK_ENGINE_HAS_SHUTDOWN
    if (s->stop && !qmpk_engine_quit_requested(&s->eng)) {
        uint64_t now = server_now(s);
        trace_ns(s, NULL, QT_DIR_NOTE, NULL, 0, "shutdown", now);
        qmpk_engine_shutdown(&s->eng, now);   /* SHUTDOWN "host-signal" */
    }
#endif
    service(s);
    drain_and_close(s);
    free(pfds);
    return rc;
}

void server_free(server_t *s)
{
    while (s->nconns > 0)
        conn_close(s, s->nconns - 1, "server");
    free(s->conns);
    for (int i = 0; i < s->nls; i++) {
        close(s->ls[i].fd);
        if (s->ls[i].is_unix)
            unlink(s->ls[i].name);
    }
    if (s->tracing && qt_trace_close(&s->trace) < 0)
        fprintf(stderr, "qmp-refd: writing the trace '%s' failed\n", s->o->trace);
    for (int i = 0; i < 2; i++)
        if (s->sigpipe[i] >= 0)
            close(s->sigpipe[i]);
    g_sigfd = -1;
    free(s->storage);
}
