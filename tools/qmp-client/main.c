/*
 * qmp-client: a small interactive and scriptable QMP client built on
 * qmpkit's parser (the C counterpart of QEMU's qmp-shell).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

#define MAX_MESSAGE_DEFAULT (64u << 20)
/* A server started in the background just before ("qmp-refd --socket S &
 * qmp-client --socket S ...") may not have created or started listening
 * on its socket yet: keep trying this long before giving up. */
#define CONNECT_RETRY_S 2.0

static void usage(FILE *f)
{
    fprintf(f,
"usage: qmp-client (--socket PATH | --tcp HOST:PORT) [options] [COMMAND [KEY=VALUE]...]\n"
"       qmp-client --adapter SOCKET SCRIPT\n"
"\n"
"Connects to a QMP server, negotiates capabilities and runs commands given as\n"
"'NAME key=value ...' or raw JSON, from -c, the arguments, --script FILE or\n"
"standard input (interactive on a terminal).  Replies are paired with their\n"
"commands by id; events are printed as they arrive.\n"
"\n"
"  -s, --socket PATH    unix socket of the server\n"
"  -t, --tcp HOST:PORT  TCP address of the server\n"
"  -c, --command LINE   run LINE (repeatable); no stdin is read then\n"
"  -f, --script FILE    run the lines of FILE ('-' for stdin)\n"
"  -j, --jsonl          print one JSON object per line (for programs)\n"
"      --caps LIST      capabilities to enable, e.g. oob or oob,async\n"
"      --no-negotiate   do not send qmp_capabilities\n"
"      --ids            give NAME key=value commands automatic ids 1, 2, ...\n"
"      --timeout SEC    give up waiting for a reply or event (default 30)\n"
"      --linger MS      keep printing events MS ms after the last command\n"
"      --max-message N  largest server message accepted (default 64 MiB)\n"
"  -v, --verbose        print the greeting too\n"
"      --adapter S F    conformance adapter: --socket S --script F --jsonl\n"
"  -h, --help           this text\n"
"\n"
"Script lines: '# comment', '[&]NAME key=value ...', '[&]{raw json}',\n"
"'.wait', '.wait-event NAME', '.sleep MS', '.raw \"json string\"', '.close';\n"
"leading '.caps LIST' lines add LIST to --caps.\n"
"A leading '&' sends the command without waiting for its reply.\n"
"\n"
"Exit status: 0 every command was answered (error replies included),\n"
"1 timeout, early close, failed negotiation or invalid server output,\n"
"2 usage or connection error.\n");
}

typedef struct opts {
    const char *socket, *tcp, *script;
    qt_buf_t lines;
    size_t max_message;
} opts_t;

enum { O_CAPS = 256, O_NONEG, O_IDS, O_TIMEOUT, O_LINGER, O_MAXMSG, O_ADAPTER };

static int num(const char *opt, double lo, double hi, double *v)
{
    return qt_opt_num("qmp-client", opt, optarg, lo, hi, v);
}

static int parse_args(int argc, char **argv, client_t *c, opts_t *o)
{
    double v = 0;
    static const struct option lo[] = {
        {"socket", 1, 0, 's'}, {"tcp", 1, 0, 't'}, {"command", 1, 0, 'c'},
        {"script", 1, 0, 'f'}, {"jsonl", 0, 0, 'j'}, {"verbose", 0, 0, 'v'},
        {"help", 0, 0, 'h'}, {"caps", 1, 0, O_CAPS},
        {"no-negotiate", 0, 0, O_NONEG}, {"ids", 0, 0, O_IDS},
        {"timeout", 1, 0, O_TIMEOUT}, {"linger", 1, 0, O_LINGER},
        {"max-message", 1, 0, O_MAXMSG}, {"adapter", 0, 0, O_ADAPTER}, {0, 0, 0, 0},
    };
    bool adapter = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "+s:t:c:f:jvh", lo, NULL)) != -1) {
        switch (ch) {
        case 's': o->socket = optarg; break;
        case 't': o->tcp = optarg; break;
        case 'c': qt_buf_puts(&o->lines, optarg); qt_buf_puts(&o->lines, "\n"); break;
        case 'f': o->script = optarg; break;
        case 'j': c->jsonl = true; break;
        case 'v': c->verbose = true; break;
        case 'h': usage(stdout); exit(0);
        case O_CAPS: c->caps = optarg; break;
        case O_NONEG: c->negotiate = false; break;
        case O_IDS: c->auto_ids = true; break;
        case O_TIMEOUT: if (num("--timeout", 0.001, 1e6, &c->timeout) < 0) return -1; break;
        case O_LINGER: if (num("--linger", 0, 1e9, &v) < 0) return -1; c->linger_ms = (long)v; break;
        case O_MAXMSG: if (num("--max-message", 64, 1u << 30, &v) < 0) return -1; o->max_message = (size_t)v; break;
        case O_ADAPTER: adapter = true; break;
        default: return -1;
        }
    }
    if (adapter) {
        if (argc - optind != 2) {
            fprintf(stderr, "qmp-client: --adapter takes SOCKET and SCRIPT\n");
            return -1;
        }
        o->socket = argv[optind];
        o->script = argv[optind + 1];
        c->jsonl = true;
        optind = argc;
    }
    for (int i = optind; i < argc; i++) {
        qt_buf_puts(&o->lines, argv[i]);
        qt_buf_puts(&o->lines, i + 1 < argc ? " " : "\n");
    }
    if (!o->socket == !o->tcp) {
        fprintf(stderr, "qmp-client: give exactly one of --socket PATH or "
                "--tcp HOST:PORT\n");
        return -1;
    }
    if (c->timeout <= 0 || o->max_message < 64) {
        fprintf(stderr, "qmp-client: --timeout and --max-message must be "
                "positive\n");
        return -1;
    }
    return 0;
}

static void send_bytes(client_t *c, const void *p, size_t n)
{
    if (qt_buf_append(&c->out, p, n) < 0) {
        client_emit_note(c, "client-error", "out of memory");
        c->status = 1;
        c->phase = PH_DONE;
    }
}

/* A script file is read whole before the negotiation so that its leading
 * `.caps LIST` lines (the contract's way to ask for capabilities) reach
 * qmp_capabilities.  Pipes and terminals are not: they may never end. */
static void slurp_script_file(client_t *c)
{
    struct stat st;
    if (c->src_fd <= 0 || fstat(c->src_fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    char buf[65536];
    ssize_t n;
    while ((n = read(c->src_fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            qt_buf_append(&c->src, buf, (size_t)n);
    close(c->src_fd);
    c->src_fd = -1;
}

static void add_cap_list(client_t *c, const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (!n)
        return;
    if (qt_buf_size(&c->caps_all))
        qt_buf_puts(&c->caps_all, ",");
    qt_buf_append(&c->caps_all, p, n);
}

/* Take the script's leading blank, comment and `.caps LIST` lines. */
static void take_script_caps(client_t *c)
{
    if (c->caps)
        add_cap_list(c, c->caps, strlen(c->caps));
    for (;;) {
        const char *h = qt_buf_head(&c->src);
        size_t left = qt_buf_size(&c->src);
        const char *nl = left ? memchr(h, '\n', left) : NULL;
        size_t len = nl ? (size_t)(nl - h) : left;
        size_t i = 0;
        while (i < len && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r'))
            i++;
        bool blank = i == len || h[i] == '#';
        bool caps = len - i >= 5 && memcmp(h + i, ".caps", 5) == 0 &&
                    (len - i == 5 || h[i + 5] == ' ' || h[i + 5] == '\t');
        if (!left || (!blank && !caps) || (!nl && c->src_fd >= 0))
            break;
        if (caps)
            add_cap_list(c, h + i + 5, len - i - 5);
        c->lineno++;
        qt_buf_consume(&c->src, nl ? len + 1 : len);
    }
    qt_buf_append(&c->caps_all, "", 1);
    c->caps = qt_buf_head(&c->caps_all);
}

static void send_negotiation(client_t *c)
{
    action_t a;
    memset(&a, 0, sizeof(a));
    qt_buf_puts(&a.bytes, "{\"execute\": \"qmp_capabilities\"");
    if (c->caps && *c->caps) {
        qt_buf_puts(&a.bytes, ", \"arguments\": {\"enable\": [\"");
        for (const char *p = c->caps; *p; p++) {
            if (*p == ',')
                qt_buf_puts(&a.bytes, "\", \"");
            else
                qt_buf_append(&a.bytes, p, 1);
        }
        qt_buf_puts(&a.bytes, "\"]}");
    }
    qt_buf_puts(&a.bytes, "}\n");
    snprintf(a.name, sizeof(a.name), "qmp_capabilities");
    c->seq = 0;
    send_bytes(c, qt_buf_head(&a.bytes), qt_buf_size(&a.bytes));
    client_track(c, &a);
    action_free(&a);
}

static bool is_blocked(client_t *c, double now)
{
    switch (c->wait) {
    case W_SEQ:
        for (size_t i = 0; i < c->npend; i++)
            if (c->pend[i].seq == c->wait_seq)
                return true;
        break;
    case W_ALL:
        if (c->npend > 0)
            return true;
        break;
    case W_EVENT:
        if (!client_take_event(c, c->wait_event))
            return true;
        break;
    case W_SLEEP:
        if (now < c->deadline)
            return true;
        break;
    case W_NONE:
        return false;
    }
    c->wait = W_NONE;
    return false;
}

static void run_action(client_t *c, action_t *a, double now)
{
    c->deadline = now + c->timeout;
    switch (a->kind) {
    case ACT_NONE:
        return;
    case ACT_ERROR: {
        char line[400];
        snprintf(line, sizeof(line), "script line %lu: %s", c->lineno, a->err);
        client_emit_note(c, "client-error", line);
        c->status = c->status ? c->status : 2;
        return;
    }
    case ACT_SEND:
    case ACT_RAW:
        send_bytes(c, qt_buf_head(&a->bytes), qt_buf_size(&a->bytes));
        if (a->kind == ACT_SEND && a->tracked) {
            c->seq++;
            client_track(c, a);
            if (!a->async) {
                c->wait = W_SEQ;
                c->wait_seq = c->seq;
            }
        }
        return;
    case ACT_WAIT: c->wait = W_ALL; return;
    case ACT_WAIT_EVENT:
        c->wait = W_EVENT;
        snprintf(c->wait_event, sizeof(c->wait_event), "%s", a->name);
        return;
    case ACT_SLEEP:
        c->wait = W_SLEEP;
        c->deadline = now + (double)a->ms / 1000.0;
        return;
    case ACT_CLOSE:
        c->phase = PH_DONE;
        return;
    }
}

/* Run buffered script lines until one has to wait. */
static void run_script(client_t *c, double now)
{
    while (c->phase == PH_RUN && !is_blocked(c, now)) {
        const char *h = qt_buf_head(&c->src);
        char *nl = qt_buf_size(&c->src) ? memchr(h, '\n', qt_buf_size(&c->src)) : NULL;
        if (!nl && c->src_fd >= 0)
            return;
        size_t len = nl ? (size_t)(nl - h) : qt_buf_size(&c->src);
        if (!nl && len == 0)
            return;
        action_t a;
        c->lineno++;
        script_parse_line(h, len, c->auto_ids, &c->auto_id, &a);
        qt_buf_consume(&c->src, nl ? len + 1 : len);
        run_action(c, &a, now);
        action_free(&a);
        c->prompted = false;
    }
}

static bool script_done(client_t *c)
{
    return c->src_fd < 0 && qt_buf_size(&c->src) == 0 && c->wait == W_NONE;
}

static void read_server(client_t *c)
{
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        c->eof = true;
        return;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&c->s, buf + off, (size_t)n - off,
                                         &used, &m, &e);
        off += used;
        if (f == QMPK_FEED_MESSAGE)
            client_on_message(c, &m);
        else if (f == QMPK_FEED_ERROR)
            client_on_parse_error(c, &e);
    }
}

static void read_source(client_t *c)
{
    char buf[65536];
    ssize_t n = read(c->src_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (c->src_fd > 0)
            close(c->src_fd);
        c->src_fd = -1;
        return;
    }
    qt_buf_append(&c->src, buf, (size_t)n);
}

static void flush_out(client_t *c)
{
    while (qt_buf_size(&c->out) > 0) {
        ssize_t w = write(c->fd, qt_buf_head(&c->out), qt_buf_size(&c->out));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return;
        if (w <= 0) {
            c->eof = true;
            qt_buf_clear(&c->out);
            return;
        }
        qt_buf_consume(&c->out, (size_t)w);
    }
}

static void on_timeout(client_t *c)
{
    char line[300];
    if (c->phase == PH_GREETING)
        snprintf(line, sizeof(line), "no greeting from the server within "
                 "%.1f s (is it a QMP monitor?)", c->timeout);
    else if (c->phase == PH_NEGOTIATING)
        snprintf(line, sizeof(line), "no reply to qmp_capabilities within %.1f s",
                 c->timeout);
    else if (c->wait == W_EVENT)
        snprintf(line, sizeof(line), "event %s did not arrive within %.1f s",
                 c->wait_event, c->timeout);
    else
        snprintf(line, sizeof(line), "%zu command(s) unanswered after %.1f s%s%s",
                 c->npend, c->timeout, c->npend ? ", oldest: " : "",
                 c->npend ? c->pend[0].name : "");
    client_emit_note(c, "client-error", line);
    c->status = 1;
    c->phase = PH_DONE;
}

static void on_server_eof(client_t *c)
{
    if (c->phase == PH_RUN && c->npend == 0 && script_done(c))
        return;
    if (c->phase == PH_RUN && c->npend == 0 && c->wait == W_SLEEP &&
        c->src_fd < 0 && qt_buf_size(&c->src) == 0)
        return;
    char line[300];
    if (c->phase == PH_GREETING)
        snprintf(line, sizeof(line), "the server closed the connection before "
                 "its greeting (a server at its monitor limit, e.g. qmp-refd "
                 "--max-monitors, refuses this way)");
    else
        snprintf(line, sizeof(line), "the server closed the connection with "
                 "%zu command(s) unanswered%s", c->npend,
                 script_done(c) ? "" : " and the script unfinished");
    client_emit_note(c, "client-error", line);
    c->status = 1;
}

static bool waiting_for_time(client_t *c)
{
    return c->phase == PH_GREETING || c->phase == PH_NEGOTIATING ||
           (c->phase == PH_RUN && c->wait != W_NONE);
}

/* After the script: wait for every reply, then linger for events. */
static bool finish_step(client_t *c, double now, int *stage)
{
    if (!script_done(c) || c->phase != PH_RUN)
        return false;
    if (*stage == 0) {
        *stage = 1;
        c->wait = W_ALL;
        c->deadline = now + c->timeout;
        return false;
    }
    if (*stage == 1 && c->linger_ms > 0) {
        *stage = 2;
        c->wait = W_SLEEP;
        c->deadline = now + (double)c->linger_ms / 1000.0;
        return false;
    }
    return true;
}

static void maybe_prompt(client_t *c)
{
    if (!c->interactive || c->prompted || c->phase != PH_RUN ||
        c->wait != W_NONE || c->src_fd < 0)
        return;
    fputs("(QEMU) ", stdout);
    fflush(stdout);
    c->prompted = true;
}

static bool timed_out(client_t *c, double now)
{
    if (now < c->deadline)
        return false;
    if (c->phase == PH_GREETING || c->phase == PH_NEGOTIATING)
        return true;
    return c->phase == PH_RUN && c->wait != W_SLEEP && is_blocked(c, now);
}

static void start_run(client_t *c, double now, bool *neg_sent)
{
    if (c->phase != PH_NEGOTIATING || *neg_sent)
        return;
    *neg_sent = true;
    if (!c->negotiate) {
        c->phase = PH_RUN;
        return;
    }
    slurp_script_file(c);
    take_script_caps(c);
    send_negotiation(c);
    c->deadline = now + c->timeout;
}

static void loop(client_t *c)
{
    int stage = 0;
    bool neg_sent = false;
    c->deadline = qt_mono() + c->timeout;
    while (c->phase != PH_DONE && !c->eof) {
        double now = qt_mono();
        start_run(c, now, &neg_sent);
        run_script(c, now);
        if (c->phase == PH_DONE)
            break;      /* .close (or a failure) ended the session just now */
        if (finish_step(c, now, &stage))
            break;
        if (c->phase == PH_RUN && c->wait != W_NONE && !is_blocked(c, now))
            continue;   /* the wait just set up is already over */
        if (timed_out(c, now)) {
            on_timeout(c);
            break;
        }
        maybe_prompt(c);
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->src_fd, 0, 0}};
        if (qt_buf_size(&c->out))
            p[0].events |= POLLOUT;
        if (c->phase == PH_RUN && c->wait == W_NONE && c->src_fd >= 0)
            p[1].events = POLLIN;
        int ms = -1;
        if (waiting_for_time(c)) {
            double left = c->deadline - now;
            ms = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
        }
        int r = poll(p, p[1].events ? 2 : 1, ms);
        if (r < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLOUT)
            flush_out(c);
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
            read_server(c);
        if (p[1].events && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            read_source(c);
    }
    if (c->eof)
        on_server_eof(c);
    flush_out(c);
}

static int open_source(client_t *c, const opts_t *o)
{
    c->src_fd = -1;
    if (qt_buf_size(&o->lines))
        qt_buf_append(&c->src, qt_buf_head(&o->lines), qt_buf_size(&o->lines));
    if (o->script && strcmp(o->script, "-") != 0) {
        c->src_fd = open(o->script, O_RDONLY);
        if (c->src_fd < 0) {
            fprintf(stderr, "qmp-client: cannot read script '%s': %s\n",
                    o->script, strerror(errno));
            return -1;
        }
    } else if (o->script || !qt_buf_size(&o->lines)) {
        c->src_fd = STDIN_FILENO;
        c->interactive = isatty(STDIN_FILENO) && !c->jsonl;
    }
    return 0;
}

static int connect_server(const opts_t *o, char *err, size_t errlen)
{
    double until = qt_mono() + CONNECT_RETRY_S;
    for (;;) {
        int fd = o->socket ? qt_unix_connect(o->socket, err, errlen)
                           : qt_tcp_connect(o->tcp, err, errlen);
        if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED) || qt_mono() >= until)
            return fd;
        poll(NULL, 0, 20);
    }
}

int main(int argc, char **argv)
{
    client_t c;
    opts_t o;
    memset(&c, 0, sizeof(c));
    memset(&o, 0, sizeof(o));
    c.negotiate = true;
    c.timeout = 30;
    c.auto_id = 1;
    c.fd = -1;
    o.max_message = MAX_MESSAGE_DEFAULT;
    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &c, &o) < 0) {
        fprintf(stderr, "Try 'qmp-client --help' for the options.\n");
        qt_buf_free(&o.lines);
        return 2;
    }
    char err[300];
    int rc = 2;
    if (qt_stream_new(&c.s, QMPK_DIALECT_RFC, o.max_message,
                      (unsigned)(o.max_message / 8 + 64 < QMPK_DEFAULT_MAX_TOKENS ? o.max_message / 8 + 64 : QMPK_DEFAULT_MAX_TOKENS)) < 0) {
        fprintf(stderr, "qmp-client: cannot allocate %zu bytes for messages; "
                "lower --max-message\n", o.max_message);
    } else if (open_source(&c, &o) == 0) {
        c.fd = connect_server(&o, err, sizeof(err));
        if (c.fd < 0) {
            fprintf(stderr, "qmp-client: %s\n", err);
        } else {
            loop(&c);
            rc = c.status;
        }
    }
    if (c.fd >= 0)
        close(c.fd);
    if (c.src_fd > 0)
        close(c.src_fd);
    client_free(&c);
    qt_buf_free(&o.lines);
    return rc;
}
