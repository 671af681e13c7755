/*
 * qmp-cat: pretty-prints a QMP stream or capture for people.  Reads
 * qmp-refd/qmp-proxy traces, the corpus recordings (JSON lines) or a raw
 * byte stream; prints one message per line (or indented), with direction
 * and monitor, commands and replies paired by id, events marked.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cat.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: qmp-cat [options] [FILE]\n"
"\n"
"Prints the QMP messages of FILE (default: standard input) one per line:\n"
"time, monitor, direction (-> client to server, <- server to client), a tag\n"
"(#N a command, =#N its reply, *event*, greeting, parse-error) and the\n"
"message.  FILE is a trace (JSON lines from qmp-refd --trace, qmp-proxy\n"
"--trace or the qemu-7.2 corpus) or a raw QMP byte stream.\n"
"\n"
"  -f, --format F     auto (default), trace or raw\n"
"  -i, --indent       indent each message, 4 spaces a level\n"
"  -j, --json         one JSON object per message, for programs\n"
"      --color WHEN   auto (default: on a terminal), always or never\n"
"      --no-times     leave the timestamps out\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 printed, 1 malformed trace lines, 2 usage or I/O error.\n");
}

typedef struct pend { long n; bool has_id; char *id; double t; } pend_t;

typedef struct chan {
    int mon;
    qt_dir_t dir;
    char label[64];
    qmpk_stream_t s;
    qt_buf_t raw;        /* bytes fed, from stream offset base */
    uint64_t base;
    bool live;
} chan_t;

typedef struct mon {
    int mon;
    pend_t *p;
    size_t np, cap;
    long next;
    bool live;
} mon_t;

typedef struct cat {
    cat_opts_t o;
    chan_t *ch;
    size_t nch;
    mon_t *mons;
    size_t nmons;
    bool raw_mode;
} cat_t;

static chan_t *get_chan(cat_t *c, int mon, qt_dir_t dir, const char *label)
{
    chan_t *free_slot = NULL;
    for (size_t i = 0; i < c->nch; i++) {
        if (c->ch[i].live && c->ch[i].mon == mon && c->ch[i].dir == dir)
            return &c->ch[i];
        if (!c->ch[i].live && !free_slot)
            free_slot = &c->ch[i];
    }
    if (!free_slot) {
        chan_t *n = realloc(c->ch, (c->nch + 1) * sizeof(*n));
        if (!n)
            return NULL;
        c->ch = n;
        free_slot = &c->ch[c->nch++];
    }
    memset(free_slot, 0, sizeof(*free_slot));
    if (qt_stream_new(&free_slot->s, QMPK_DIALECT_QEMU, 16u << 20, 1u << 20) < 0)
        return NULL;
    free_slot->mon = mon;
    free_slot->dir = dir;
    free_slot->live = true;
    snprintf(free_slot->label, sizeof(free_slot->label), "%s", label);
    return free_slot;
}

static mon_t *get_mon(cat_t *c, int mon)
{
    for (size_t i = 0; i < c->nmons; i++)
        if (c->mons[i].live && c->mons[i].mon == mon)
            return &c->mons[i];
    mon_t *n = realloc(c->mons, (c->nmons + 1) * sizeof(*n));
    if (!n)
        return NULL;
    c->mons = n;
    memset(&n[c->nmons], 0, sizeof(*n));
    n[c->nmons].mon = mon;
    n[c->nmons].live = true;
    return &c->mons[c->nmons++];
}

static void mon_clear(mon_t *m)
{
    for (size_t i = 0; i < m->np; i++)
        free(m->p[i].id);
    free(m->p);
    m->p = NULL;
    m->np = m->cap = 0;
}

static void close_mon(cat_t *c, int mon)
{
    for (size_t i = 0; i < c->nch; i++) {
        if (c->ch[i].live && c->ch[i].mon == mon) {
            qt_stream_free(&c->ch[i].s);
            qt_buf_free(&c->ch[i].raw);
            c->ch[i].live = false;
        }
    }
    for (size_t i = 0; i < c->nmons; i++) {
        if (c->mons[i].live && c->mons[i].mon == mon) {
            mon_clear(&c->mons[i]);
            c->mons[i].live = false;
        }
    }
}

/* A client item: one reply expected, matched by id or by order. */
static long push_command(mon_t *m, const qmpk_msg_t *msg, int id, double t)
{
    if (!m)
        return -1;
    if (m->np == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        pend_t *p = realloc(m->p, cap * sizeof(*p));
        if (!p)
            return -1;
        m->p = p;
        m->cap = cap;
    }
    pend_t *p = &m->p[m->np];
    memset(p, 0, sizeof(*p));
    p->n = ++m->next;
    p->t = t;
    qt_buf_t canon = {0};
    if (id >= 0 && msg && qt_canonical(msg, id, &canon) == 0 &&
        qt_buf_append(&canon, "", 1) == 0) {
        p->has_id = true;
        p->id = strdup(qt_buf_head(&canon));
    }
    qt_buf_free(&canon);
    m->np++;
    return p->n;
}

static long pop_reply(mon_t *m, const qmpk_msg_t *msg, int id, double t,
                      double *lat)
{
    qt_buf_t canon = {0};
    long found = -1;
    if (!m)
        return -1;
    if (id >= 0 && (qt_canonical(msg, id, &canon) < 0 ||
                    qt_buf_append(&canon, "", 1) < 0))
        id = -1;
    for (size_t i = 0; i < m->np && found < 0; i++) {
        pend_t *p = &m->p[i];
        if (id >= 0 ? p->has_id && strcmp(p->id, qt_buf_head(&canon)) == 0
                    : !p->has_id) {
            found = p->n;
            *lat = t >= 0 ? t - p->t : -1;
            free(p->id);
            memmove(p, p + 1, (m->np - i - 1) * sizeof(*p));
            m->np--;
        }
    }
    qt_buf_free(&canon);
    return found;
}

static const char *kind_name(qmpk_kind_t k)
{
    static const char *const names[] = {
        [QMPK_KIND_VALUE] = "value", [QMPK_KIND_GREETING] = "greeting",
        [QMPK_KIND_COMMAND] = "command", [QMPK_KIND_OOB_COMMAND] = "oob-command",
        [QMPK_KIND_RETURN] = "return", [QMPK_KIND_ERROR] = "error",
        [QMPK_KIND_EVENT] = "event",
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "value";
}

static void on_message(cat_t *c, chan_t *ch, const qmpk_msg_t *m, double t)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    cat_item_t it = {t, ch->label, ch->dir, "value", -1, -1, m, NULL, 0, NULL};
    qmpk_peer_t peer = c->raw_mode ? QMPK_PEER_ANY
                       : ch->dir == QT_DIR_IN ? QMPK_PEER_CLIENT : QMPK_PEER_SERVER;
    qmpk_errno_t rc = qmpk_classify(m, peer, true, &env, &err);
    it.kind = rc == QMPK_E_OK ? kind_name(env.kind) : "invalid";
    bool from_client = env.kind == QMPK_KIND_COMMAND ||
                       env.kind == QMPK_KIND_OOB_COMMAND ||
                       (rc != QMPK_E_OK && peer != QMPK_PEER_SERVER);
    if (c->raw_mode)
        it.dir = from_client ? QT_DIR_IN : QT_DIR_OUT;
    mon_t *mon = get_mon(c, ch->mon);
    if (from_client)
        it.pair = push_command(mon, m, env.id, t);
    else if (env.kind == QMPK_KIND_RETURN || env.kind == QMPK_KIND_ERROR)
        it.pair = pop_reply(mon, m, env.id, t, &it.latency);
    uint64_t at = m->offset - ch->base;
    it.raw = qt_buf_head(&ch->raw) + at;
    it.rawlen = m->len;
    cat_print(&c->o, &it);
    qt_buf_consume(&ch->raw, at + m->len);
    ch->base = m->offset + m->len;
}

static void on_error(cat_t *c, chan_t *ch, const qmpk_error_t *e, double t)
{
    char d[300], text[400];
    qmpk_error_format(e, d, sizeof(d));
    snprintf(text, sizeof(text), "%s (at stream offset %llu)", d,
             (unsigned long long)e->offset);
    cat_item_t it = {t, ch->label, ch->dir, "parse-error", -1, -1, NULL, NULL, 0, text};
    if (ch->dir == QT_DIR_IN)  /* QEMU answers each with one error reply */
        it.pair = push_command(get_mon(c, ch->mon), NULL, -1, t);
    cat_print(&c->o, &it);
    if (e->offset + 1 > ch->base) {
        qt_buf_consume(&ch->raw, (size_t)(e->offset + 1 - ch->base));
        ch->base = e->offset + 1;
    }
}

static void feed(cat_t *c, chan_t *ch, const char *data, size_t n, double t)
{
    if (!ch)
        return;
    qt_buf_append(&ch->raw, data, n);
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&ch->s, data + off, n - off, &used, &m, &e);
        off += used;
        if (f == QMPK_FEED_MESSAGE)
            on_message(c, ch, &m, t);
        else if (f == QMPK_FEED_ERROR)
            on_error(c, ch, &e, t);
    }
}

static void finish(cat_t *c, chan_t *ch, double t)
{
    qmpk_msg_t m;
    qmpk_error_t e;
    qmpk_feed_t f = qmpk_stream_finish(&ch->s, &m, &e);
    if (f == QMPK_FEED_MESSAGE)
        on_message(c, ch, &m, t);
    else if (f == QMPK_FEED_ERROR)
        on_error(c, ch, &e, t);
}

static void note(cat_t *c, const qt_trace_ent_t *e)
{
    if (e->dir == QT_DIR_NOTE && e->note && strcmp(e->note, "advance") == 0)
        return;
    const char *text = e->note ? e->note : "";
    cat_item_t it = {e->t, e->label, e->dir, qt_dir_name(e->dir), -1, -1,
                     NULL, NULL, 0, text};
    cat_print(&c->o, &it);
}

static int run_trace(cat_t *c, FILE *f, const char *name)
{
    qt_trace_r_t r;
    qt_trace_ent_t e;
    char err[512];
    int rc = 0, got;
    qt_trace_rfile(&r, f, name);
    while ((got = qt_trace_next(&r, &e, err, sizeof(err))) != 0) {
        if (got < 0) {
            fprintf(stderr, "qmp-cat: %s\n", err);
            rc = 1;
            continue;
        }
        if (e.dir == QT_DIR_IN || e.dir == QT_DIR_OUT) {
            feed(c, get_chan(c, e.mon, e.dir, e.label), e.data, e.len, e.t);
            continue;
        }
        if (e.dir == QT_DIR_CLOSE || e.dir == QT_DIR_CONNECT) {
            for (size_t i = 0; i < c->nch; i++)
                if (c->ch[i].live && c->ch[i].mon == e.mon)
                    finish(c, &c->ch[i], e.t);
            close_mon(c, e.mon);
        }
        note(c, &e);
    }
    qt_trace_rclose(&r);
    return rc;
}

static int run_raw(cat_t *c, const char *data, size_t n)
{
    chan_t *ch = get_chan(c, 0, QT_DIR_OUT, "");
    if (!ch) {
        fprintf(stderr, "qmp-cat: out of memory\n");
        return 2;
    }
    feed(c, ch, data, n, -1);
    finish(c, ch, -1);
    return 0;
}

static bool looks_like_trace(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    if (i >= n || p[i] != '{')
        return false;
    const char *nl = memchr(p + i, '\n', n - i);
    size_t len = nl ? (size_t)(nl - (p + i)) : n - i;
    for (size_t k = i; k + 6 <= i + len; k++)
        if (memcmp(p + k, "\"dir\":", 6) == 0)
            return true;
    return false;
}

static int slurp(const char *path, qt_buf_t *b)
{
    FILE *f = path && strcmp(path, "-") != 0 ? fopen(path, "rb") : stdin;
    char chunk[65536];
    size_t n;
    if (!f) {
        fprintf(stderr, "qmp-cat: cannot read '%s': %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (qt_buf_append(b, chunk, n) < 0)
            break;
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad)
        fprintf(stderr, "qmp-cat: error reading '%s'\n", path ? path : "stdin");
    return bad ? -1 : 0;
}

static void cat_free(cat_t *c)
{
    for (size_t i = 0; i < c->nch; i++) {
        if (c->ch[i].live) {
            qt_stream_free(&c->ch[i].s);
            qt_buf_free(&c->ch[i].raw);
        }
    }
    for (size_t i = 0; i < c->nmons; i++)
        mon_clear(&c->mons[i]);
    free(c->ch);
    free(c->mons);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"format", 1, 0, 'f'}, {"indent", 0, 0, 'i'}, {"json", 0, 0, 'j'},
        {"color", 1, 0, 'C'}, {"colour", 1, 0, 'C'}, {"no-times", 0, 0, 'T'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    cat_t c;
    memset(&c, 0, sizeof(c));
    const char *format = "auto", *color = "auto";
    c.o.times = true;
    int ch;
    while ((ch = getopt_long(argc, argv, "f:ijh", lo, NULL)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'i': c.o.indent = true; break;
        case 'j': c.o.json = true; break;
        case 'C': color = optarg; break;
        case 'T': c.o.times = false; break;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "Try 'qmp-cat --help' for the options.\n"); return 2;
        }
    }
    bool fmt_ok = !strcmp(format, "auto") || !strcmp(format, "trace") || !strcmp(format, "raw");
    bool col_ok = !strcmp(color, "auto") || !strcmp(color, "always") || !strcmp(color, "never");
    if (!fmt_ok || !col_ok || argc - optind > 1) {
        fprintf(stderr, "qmp-cat: %s\n", !fmt_ok ? "--format is auto, trace or raw"
                : !col_ok ? "--color is auto, always or never" : "give at most one FILE");
        fprintf(stderr, "Try 'qmp-cat --help' for the options.\n");
        return 2;
    }
    c.o.color = !strcmp(color, "always") ||
                (!strcmp(color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
    const char *path = optind < argc ? argv[optind] : NULL;
    qt_buf_t in = {0};
    int rc = 2;
    if (slurp(path, &in) == 0) {
        const char *data = in.data ? qt_buf_head(&in) : "";
        bool trace = !strcmp(format, "trace") ||
                     (!strcmp(format, "auto") && looks_like_trace(data, qt_buf_size(&in)));
        c.raw_mode = !trace;
        FILE *mf = trace && qt_buf_size(&in) ? fmemopen(in.data, qt_buf_size(&in), "r") : NULL;
        if (trace && mf)
            rc = run_trace(&c, mf, path ? path : "stdin");
        else
            rc = trace && qt_buf_size(&in) ? 2 : run_raw(&c, data, qt_buf_size(&in));
    }
    fflush(stdout);
    cat_free(&c);
    qt_buf_free(&in);
    return rc;
}
