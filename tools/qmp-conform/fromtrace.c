/*
 * qmp-conform from-trace: a recorded session (qmp-refd --trace, qmp-proxy
 * --trace, the qemu-7.2 corpus recordings; docs/notes/trace-and-adapter.md)
 * written as one server case (conformance/README.md) that replays it.
 *
 * Client bytes become send lines, exactly (`->` for each LF-terminated
 * piece, `-+` for a piece without one, \x{..} for what a text line cannot
 * hold).  Server bytes are framed into messages by the parser, as the
 * runner frames them, and each becomes a `<-` line in the canonical form
 * --diff uses, with the values --diff masks written as the patterns that
 * match any of them (cf_value_pattern).  Connections get monitors m0..m9,
 * the lowest free one each, so that connections open at the same time are
 * on different sockets (a QEMU chardev takes one client at a time) and a
 * monitor is reused, with a `connect` step, once its connection closed.
 * A close the server made is `eof`; one the client made is `close`.
 *
 * Every line is checked as it is written: a send line must decode to the
 * recorded bytes, an expect line must parse and match the recorded message;
 * the finished file must load with cf_suite_load() as one case.
 */
#include "conform.h"
#include "qt_common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest server message a trace may hold (QEMU's own replies stay far
 * below: query-qmp-schema is ~190 KiB).  Its JSON values need no bound of
 * their own: every value but the first of a container follows a ',' or a
 * ':', so QEMU's limit of QMPK_DEFAULT_MAX_TOKENS lexer tokens, which the
 * QEMU dialect applies first, admits at most half as many values. */
#define FT_MSG_BYTES (16u << 20)
#define FT_MSG_TOKENS (QMPK_DEFAULT_MAX_TOKENS / 2)
/* Expectations wait the runner's default (5 s) unless the trace shows the
 * server taking longer; then FT_SLACK times the longest wait recorded. */
#define FT_DEFAULT_TIMEOUT_MS 5000
#define FT_SLACK 3

typedef struct ft_conn {
    bool open;
    int tmon;               /* the trace's connection number */
    qmpk_stream_t s;        /* server -> client bytes, framed */
    bool has_stream;
    double last_in;         /* t of the last client write, or of connect */
} ft_conn_t;

typedef struct ft_line {
    int mon;                /* -1: a comment, no monitor prefix */
    char *text;
} ft_line_t;

typedef struct ft {
    const char *path;
    ft_conn_t conns[CF_MAX_MONITORS];   /* index: the case monitor */
    ft_line_t *lines;
    int nlines, cap;
    int max_mon;
    unsigned connections, writes, messages;
    double longest_wait;    /* seconds from a client write to a reply */
    char origin[200];       /* what recorded it (qmp-refd's header) */
    char err[600];
} ft_t;

static void add_line(ft_t *f, int mon, cf_buf_t *text)
{
    if (f->nlines == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->lines = cf_xrealloc(f->lines, sizeof *f->lines * (size_t)f->cap);
    }
    f->lines[f->nlines].mon = mon;
    f->lines[f->nlines++].text = cf_buf_take(text);
    if (mon > f->max_mon)
        f->max_mon = mon;
}

static void add_linez(ft_t *f, int mon, const char *s)
{
    cf_buf_t b = {0};
    cf_buf_adds(&b, s);
    add_line(f, mon, &b);
}

/* ------------------------------------------------------------------ */
/* connections                                                          */

static int conn_find(ft_t *f, int tmon)
{
    for (int i = 0; i < CF_MAX_MONITORS; i++)
        if (f->conns[i].open && f->conns[i].tmon == tmon)
            return i;
    return -1;
}

static void conn_end(ft_conn_t *c)
{
    if (c->has_stream)
        qt_stream_free(&c->s);
    memset(c, 0, sizeof *c);
}

static int conn_open(ft_t *f, int tmon, double t, unsigned long lineno)
{
    int mon = 0;
    while (mon < CF_MAX_MONITORS && f->conns[mon].open)
        mon++;
    if (mon == CF_MAX_MONITORS) {
        snprintf(f->err, sizeof f->err, "%s:%lu: connection %d would be the %dth "
                 "open at once; a case has at most %d monitors (m0..m%d)", f->path,
                 lineno, tmon, CF_MAX_MONITORS + 1, CF_MAX_MONITORS, CF_MAX_MONITORS - 1);
        return -1;
    }
    ft_conn_t *c = &f->conns[mon];
    memset(c, 0, sizeof *c);
    if (qt_stream_new(&c->s, QMPK_DIALECT_QEMU, FT_MSG_BYTES, FT_MSG_TOKENS) < 0) {
        snprintf(f->err, sizeof f->err, "out of memory");
        return -1;
    }
    c->has_stream = true;
    c->open = true;
    c->tmon = tmon;
    c->last_in = t;
    f->connections++;
    add_linez(f, mon, "connect raw");
    return mon;
}

/* The case monitor of trace connection tmon; a connection the trace never
 * announced (a recording that starts mid-session) is opened here. */
static int conn_get(ft_t *f, int tmon, double t, unsigned long lineno)
{
    int mon = conn_find(f, tmon);
    return mon >= 0 ? mon : conn_open(f, tmon, t, lineno);
}

/* ------------------------------------------------------------------ */
/* lines                                                                */

/* One send line of bytes (no LF inside, except a final one that `->`
 * stands for), checked against cf_decode_bytes. */
static bool send_line(ft_t *f, int mon, const char *p, size_t n, bool lf)
{
    cf_buf_t text = {0}, back = {0};
    char err[200];
    cf_buf_adds(&text, lf ? (n ? "-> " : "->") : "-+ ");
    size_t head = text.len;
    cf_encode_bytes(&text, p, n);
    cf_buf_addc(&text, '\0');
    bool ok = cf_decode_bytes(text.p + head, CF_DECODED_MAX_BYTES, &back, err, sizeof err) &&
              back.len == n && (n == 0 || memcmp(back.p, p, n) == 0);
    cf_buf_free(&back);
    if (!ok) {
        snprintf(f->err, sizeof f->err, "internal error: the send line '%.200s' "
                 "does not decode to the recorded bytes", text.p);
        cf_buf_free(&text);
        return false;
    }
    text.len--;
    add_line(f, mon, &text);
    return true;
}

static bool client_bytes(ft_t *f, int mon, const char *p, size_t n)
{
    f->writes++;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        if (!send_line(f, mon, p, k, nl != NULL))
            return false;
        k += nl != NULL;
        p += k;
        n -= k;
    }
    return true;
}

/* The expect line of message m, checked: it parses and matches m. */
static bool expect_line(ft_t *f, int mon, const qmpk_msg_t *m, unsigned long lineno)
{
    cf_value_t *v = cf_value_copy(m, m->json, m->len);
    cf_buf_t pat = {0}, text = {0}, why = {0};
    cf_value_pattern(&pat, v);
    cf_buf_adds(&text, "<- ");
    size_t head = text.len;
    cf_encode_bytes(&text, pat.p, pat.len);
    cf_buf_addc(&text, '\0');
    cf_buf_t dec = {0};
    char err[200] = "";
    cf_value_t *back = NULL;
    if (cf_decode_bytes(text.p + head, CF_DECODED_MAX_BYTES, &dec, err, sizeof err))
        back = cf_value_parse(dec.p ? dec.p : "", dec.len, err, sizeof err);
    bool ok = back && cf_match(back, v, &why);
    if (!ok)
        snprintf(f->err, sizeof f->err, "%s:%lu: internal error: the expected line "
                 "written for a message of connection %d does not match it (%s): %.200s",
                 f->path, lineno, f->conns[mon].tmon, back ? why.p : err, text.p);
    cf_value_free(back);
    cf_value_free(v);
    cf_buf_free(&dec);
    cf_buf_free(&pat);
    cf_buf_free(&why);
    if (!ok) {
        cf_buf_free(&text);
        return false;
    }
    text.len--;
    add_line(f, mon, &text);
    f->messages++;
    return true;
}

static bool server_bytes(ft_t *f, int mon, const char *p, size_t n, double t,
                         unsigned long lineno)
{
    ft_conn_t *c = &f->conns[mon];
    while (n > 0) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t r = qmpk_stream_feed(&c->s, p, n, &used, &m, &e);
        p += used;
        n -= used;
        if (r == QMPK_FEED_MESSAGE) {
            if (t - c->last_in > f->longest_wait)
                f->longest_wait = t - c->last_in;
            if (!expect_line(f, mon, &m, lineno))
                return false;
        } else if (r == QMPK_FEED_ERROR && (e.code == QMPK_E_MESSAGE_TOO_LARGE ||
                                            e.code == QMPK_E_TOO_MANY_TOKENS)) {
            bool bytes = e.code == QMPK_E_MESSAGE_TOO_LARGE;
            snprintf(f->err, sizeof f->err, "%s:%lu: connection %d: a server message "
                     "of more than %u %s (from byte %llu of its output); from-trace "
                     "holds messages of up to %u bytes and %u JSON tokens", f->path,
                     lineno, c->tmon, bytes ? FT_MSG_BYTES : FT_MSG_TOKENS,
                     bytes ? "bytes" : "JSON tokens", (unsigned long long)e.offset,
                     FT_MSG_BYTES, FT_MSG_TOKENS);
            return false;
        } else if (r == QMPK_FEED_ERROR) {
            bool limit = e.code == QMPK_E_TOKEN_SIZE || e.code == QMPK_E_TOKEN_COUNT ||
                         e.code == QMPK_E_NESTING;
            char d[200];
            qmpk_error_format(&e, d, sizeof d);
            snprintf(f->err, sizeof f->err, "%s:%lu: connection %d: the server sent "
                     "%s (%s at byte %llu of its output); a server case can only "
                     "expect JSON messages%s", f->path, lineno, c->tmon,
                     limit ? "a message beyond QEMU's JSON limits" : "bytes that are not JSON",
                     d, (unsigned long long)e.offset,
                     limit ? " that QEMU itself would parse" : "");
            return false;
        } else if (used == 0) {
            break;
        }
    }
    return true;
}

/* Who closed: the trace's "by" (qmp-refd, qmp-proxy), or the corpus' "eof"
 * (the recorder saw the server close).  Unknown: the client (no claim). */
static bool closed_by_server(const qt_trace_ent_t *e)
{
    int by = qmpk_get(e->msg, 0, "by"), dir = qmpk_get(e->msg, 0, "dir");
    return (by >= 0 && qmpk_str_eqz(e->msg, by, "server")) ||
           (dir >= 0 && qmpk_str_eqz(e->msg, dir, "eof"));
}

static bool conn_close(ft_t *f, int mon, bool server, unsigned long lineno)
{
    ft_conn_t *c = &f->conns[mon];
    qmpk_msg_t m;
    qmpk_error_t e;
    qmpk_feed_t r = qmpk_stream_finish(&c->s, &m, &e);
    if (r == QMPK_FEED_MESSAGE && !expect_line(f, mon, &m, lineno))
        return false;
    if (r == QMPK_FEED_ERROR) {
        snprintf(f->err, sizeof f->err, "%s:%lu: connection %d closed in the middle "
                 "of a server message; a case cannot expect part of a message",
                 f->path, lineno, c->tmon);
        return false;
    }
    add_linez(f, mon, server ? "eof" : "close");
    conn_end(c);
    return true;
}

/* qmp-refd's first line says how the engine was set up: the replay needs
 * the same options. */
static void origin(ft_t *f, const qt_trace_ent_t *e)
{
    int prof = qmpk_get(e->msg, 0, "profile"), clock = qmpk_get(e->msg, 0, "manual-clock");
    char p[32] = "?";
    size_t n;
    if (prof >= 0)
        qmpk_str(e->msg, prof, p, sizeof p, &n);
    snprintf(f->origin, sizeof f->origin, "qmp-refd --trace (--profile %s%s)", p,
             clock >= 0 && qmpk_type(e->msg, clock) == QMPK_T_TRUE ? " --clock manual" : "");
}

static bool entry(ft_t *f, const qt_trace_ent_t *e, unsigned long lineno)
{
    int mon;
    switch (e->dir) {
    case QT_DIR_CONNECT:
        mon = conn_find(f, e->mon);
        if (mon >= 0 && !conn_close(f, mon, false, lineno))
            return false;
        return conn_open(f, e->mon, e->t, lineno) >= 0;
    case QT_DIR_IN:
        if (qmpk_get(e->msg, 0, "data") < 0) {
            snprintf(f->err, sizeof f->err, "%s:%lu: connection %d: client bytes "
                     "recorded without their 'data'; the case cannot send them",
                     f->path, lineno, e->mon);
            return false;
        }
        if ((mon = conn_get(f, e->mon, e->t, lineno)) < 0)
            return false;
        f->conns[mon].last_in = e->t;
        return client_bytes(f, mon, e->data, e->len);
    case QT_DIR_OUT:
        if ((mon = conn_get(f, e->mon, e->t, lineno)) < 0)
            return false;
        return server_bytes(f, mon, e->data, e->len, e->t, lineno);
    case QT_DIR_CLOSE:
        mon = conn_find(f, e->mon);
        return mon < 0 || conn_close(f, mon, closed_by_server(e), lineno);
    case QT_DIR_NOTE:
        if (e->note && strcmp(e->note, "qmp-refd trace") == 0 && lineno == 1)
            origin(f, e);
        if (e->len > 0 && (mon = conn_find(f, e->mon)) >= 0) {
            cf_buf_t b = {0};
            cf_buf_addf(&b, "## m%d: %zu client byte%s the server never read (%s) not sent",
                        mon, e->len, e->len == 1 ? "" : "s", e->note ? e->note : "note");
            add_line(f, -1, &b);
        }
        return true;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* the case file                                                        */

typedef struct ft_opts {
    const char *trace, *id, *title, *out;
} ft_opts_t;

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void render(const ft_t *f, const ft_opts_t *o, cf_buf_t *b)
{
    int timeout = FT_DEFAULT_TIMEOUT_MS;
    if (f->longest_wait * 1000.0 * FT_SLACK > timeout)
        timeout = (int)ceil(f->longest_wait * 1000.0 * FT_SLACK);
    cf_buf_addf(b, "## Written by qmp-conform from-trace from %s", o->trace);
    if (f->origin[0])
        cf_buf_addf(b, ", recorded by %s", f->origin);
    cf_buf_addf(b, ":\n## %u connection%s, %u client write%s, %u server message%s.\n",
                f->connections, f->connections == 1 ? "" : "s", f->writes,
                f->writes == 1 ? "" : "s", f->messages, f->messages == 1 ? "" : "s");
    cf_buf_adds(b, "## Replay: qmp-conform server --exec 'SERVER ... {socket}");
    for (int i = 1; i <= f->max_mon; i++)
        cf_buf_addf(b, " {socket%d}", i);
    cf_buf_adds(b, "' --suite FILE\n");
    cf_buf_addf(b, "# %s ", o->id);
    if (o->title) {
        cf_buf_adds(b, o->title);
    } else {
        cf_buf_adds(b, "Replay of the session recorded in ");
        cf_buf_adds(b, base_name(o->trace));
    }
    cf_buf_adds(b, "\nrequirement: MUST the server answers as it did in the recorded session\n");
    cf_buf_addf(b, "spec: recorded session %s\n", base_name(o->trace));
    cf_buf_adds(b, "note: values that vary between correct servers (timestamps, versions, "
                "package, job progress, #block node names) are patterns; ");
    if (f->max_mon)
        cf_buf_addf(b, "monitors m0..m%d need --exec {socket} to {socket%d}\n", f->max_mon,
                    f->max_mon);
    else
        cf_buf_adds(b, "one monitor, --exec {socket}\n");
    cf_buf_adds(b, "start: raw\nisolation: process\n");
    if (timeout != FT_DEFAULT_TIMEOUT_MS)
        cf_buf_addf(b, "timeout: %d\n", timeout);
    for (int i = 0; i < f->nlines; i++) {
        const ft_line_t *l = &f->lines[i];
        if (l->mon >= 0 && f->max_mon > 0)
            cf_buf_addf(b, "m%d ", l->mon);
        cf_buf_adds(b, l->text);
        cf_buf_addc(b, '\n');
    }
}

/* The file must load as exactly one case with every step written. */
static bool check_load(const ft_t *f, const char *path, int steps)
{
    cf_suite_t s = {0};
    bool ok = cf_suite_load(&s, path) && s.ncases == 1 && s.cases[0]->nsteps == steps;
    if (!ok)
        fprintf(stderr, "qmp-conform: internal error: the case written to %s does not "
                "load as one case of %d steps\n", path, steps);
    cf_suite_free(&s);
    (void)f;
    return ok;
}

static void ft_free(ft_t *f)
{
    for (int i = 0; i < CF_MAX_MONITORS; i++)
        conn_end(&f->conns[i]);
    for (int i = 0; i < f->nlines; i++)
        free(f->lines[i].text);
    free(f->lines);
}

static bool valid_id(const char *id)
{
    const char *dash = strrchr(id, '-');
    return dash && dash != id && dash[1] && !strpbrk(id, " \t\r\n");
}

static int usage(FILE *out)
{
    fputs("usage: qmp-conform from-trace TRACE [--id ID] [--title TITLE] [-o FILE]\n"
          "  writes the session recorded in TRACE (qmp-refd --trace, qmp-proxy --trace)\n"
          "  as one server case that replays it (default: ID trace-01, to stdout)\n", out);
    return 2;
}

static int parse(int argc, char **argv, ft_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->id = "trace-01";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **dst = strcmp(a, "--id") == 0 ? &o->id
                         : strcmp(a, "--title") == 0 ? &o->title
                         : strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ? &o->out
                         : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (dst) {
            if (!v) {
                fprintf(stderr, "qmp-conform: from-trace: %s needs a value\n", a);
                return usage(stderr);
            }
            *dst = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "qmp-conform: from-trace: unknown argument %s\n", a);
            return usage(stderr);
        } else if (o->trace) {
            fprintf(stderr, "qmp-conform: from-trace takes one TRACE, not also '%s'\n", a);
            return usage(stderr);
        } else {
            o->trace = a;
        }
    }
    if (!o->trace) {
        fprintf(stderr, "qmp-conform: from-trace needs a TRACE file\n");
        return usage(stderr);
    }
    if (!valid_id(o->id)) {
        fprintf(stderr, "qmp-conform: from-trace: --id must be SECTION-NN without "
                "spaces (e.g. trace-01), not '%s'\n", o->id);
        return 2;
    }
    if (o->title && strpbrk(o->title, "\r\n")) {
        fprintf(stderr, "qmp-conform: from-trace: --title must be one line\n");
        return 2;
    }
    return 0;
}

static bool convert(ft_t *f, const char *path)
{
    qt_trace_r_t r;
    qt_trace_ent_t e;
    int got;
    f->path = path;
    if (qt_trace_ropen(&r, path, f->err, sizeof f->err) < 0)
        return false;
    while ((got = qt_trace_next(&r, &e, f->err, sizeof f->err)) > 0)
        if (!entry(f, &e, r.lineno))
            break;
    qt_trace_rclose(&r);
    if (got < 0 || f->err[0])
        return false;
    /* connections still open at the end of the recording stay open: the
     * case ends there and the runner closes them */
    for (int i = 0; i < CF_MAX_MONITORS; i++) {
        if (f->conns[i].open && qmpk_stream_pending(&f->conns[i].s)) {
            snprintf(f->err, sizeof f->err, "%s: the recording ends in the middle "
                     "of a server message on connection %d", path, f->conns[i].tmon);
            return false;
        }
    }
    if (f->writes == 0 && f->messages == 0) {
        snprintf(f->err, sizeof f->err, "%s: no client or server bytes recorded: "
                 "nothing to replay", path);
        return false;
    }
    return true;
}

static int count_steps(const ft_t *f)
{
    int n = 0;
    for (int i = 0; i < f->nlines; i++)
        n += f->lines[i].mon >= 0;
    return n;
}

/* Write text to path, or through a temporary file to stdout, loading it
 * back in between. */
static int emit(const ft_t *f, const char *path, const cf_buf_t *text)
{
    char tmp[] = "/tmp/qmp-conform-from-trace.XXXXXX";
    const char *file = path;
    if (!path) {
        int fd = mkstemp(tmp);
        if (fd < 0) {
            fprintf(stderr, "qmp-conform: cannot make a temporary file: %s\n",
                    strerror(errno));
            return 2;
        }
        close(fd);
        file = tmp;
    }
    if (!cf_write_file(file, text->p, text->len)) {
        fprintf(stderr, "qmp-conform: cannot write %s: %s\n", file, strerror(errno));
        if (!path)
            unlink(tmp);
        return 2;
    }
    bool ok = check_load(f, file, count_steps(f));
    if (!path) {
        unlink(tmp);
        if (ok && qt_write_all(1, text->p, text->len) < 0) {
            fprintf(stderr, "qmp-conform: cannot write to stdout: %s\n", strerror(errno));
            return 2;
        }
    }
    return ok ? 0 : 2;
}

int cf_from_trace_main(int argc, char **argv)
{
    ft_opts_t o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    ft_t *f = cf_xcalloc(1, sizeof *f);
    if (!convert(f, o.trace)) {
        fprintf(stderr, "qmp-conform: from-trace: %s\n", f->err);
        ft_free(f);
        free(f);
        return 2;
    }
    cf_buf_t text = {0};
    render(f, &o, &text);
    rc = emit(f, o.out, &text);
    if (rc == 0 && o.out)
        fprintf(stderr, "qmp-conform: %s: case %s, %d steps on %d monitor%s\n", o.out,
                o.id, count_steps(f), f->max_mon + 1, f->max_mon ? "s" : "");
    cf_buf_free(&text);
    ft_free(f);
    free(f);
    return rc;
}
