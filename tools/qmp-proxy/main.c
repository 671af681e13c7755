/*
 * qmp-proxy: sits between a QMP client and a QMP server, records both
 * directions as a trace, and on request perturbs what the client receives
 * the way real servers and networks do.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy.h"

static volatile sig_atomic_t g_stop;
/* Self-pipe: a signal that lands between the g_stop check and poll()
 * would otherwise leave poll() waiting forever (seen under valgrind). */
static int g_sigpipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_sigpipe[1] >= 0) {
        ssize_t w = write(g_sigpipe[1], "", 1);
        (void)w;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: qmp-proxy (--listen PATH | --listen-fd N)\n"
"                 (--connect PATH | --connect-tcp HOST:PORT | --exec 'CMD ... {socket}')\n"
"                 [--trace FILE] [perturbations]\n"
"\n"
"Relays every client connection to its own server connection, records both\n"
"directions (--trace, read by qmp-cat, qmp-lint and qmp-conform) and\n"
"perturbs the server-to-client stream as asked:\n"
"\n"
"  --split N            write at most N bytes at a time to the client\n"
"  --split-delay MS     and wait MS ms between those writes\n"
"  --coalesce MS        gather output for MS ms and send it in one write\n"
"  --delay MS           deliver every server message MS ms late\n"
"  --inject-between     add an event between each command and its reply\n"
"  --inject-negotiation add an event right after the greeting\n"
"  --inject-event JSON  the event to add (default X_PROXY_INJECTED)\n"
"  --hold-oob MS        hold replies to exec-oob commands for MS ms, so\n"
"                       later replies overtake them\n"
"  --lf                 end lines with LF instead of CRLF\n"
"\n"
"  --exec CMD           start the server with sh -c CMD, {socket} replaced by\n"
"                       a fresh socket path; stopped when the proxy exits\n"
"  --once               exit when the first client disconnects\n"
"  --watch-pid PID      exit when process PID is gone (wrappers that exec\n"
"                       the real emulator pass their own pid)\n"
"  -q, --quiet          no messages on stderr except errors\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 normal end, 1 the server could not be reached or died,\n"
"2 usage or I/O error.\n");
}

enum { O_LISTEN = 256, O_LISTEN_FD, O_CONNECT, O_CONNECT_TCP, O_EXEC, O_TRACE,
       O_SPLIT, O_SPLIT_DELAY, O_COALESCE, O_DELAY, O_INJ_BETWEEN, O_INJ_NEG,
       O_INJ_EVENT, O_HOLD_OOB, O_LF, O_ONCE, O_WATCH };

static int num(const char *opt, double lo, double hi, double *v)
{
    return qt_opt_num("qmp-proxy", opt, optarg, lo, hi, v);
}

static int parse_args(int argc, char **argv, proxy_opts_t *o)
{
    double v = 0;
    static const struct option lo[] = {
        {"listen", 1, 0, O_LISTEN}, {"listen-fd", 1, 0, O_LISTEN_FD},
        {"connect", 1, 0, O_CONNECT}, {"connect-tcp", 1, 0, O_CONNECT_TCP},
        {"exec", 1, 0, O_EXEC}, {"trace", 1, 0, O_TRACE}, {"split", 1, 0, O_SPLIT},
        {"split-delay", 1, 0, O_SPLIT_DELAY}, {"coalesce", 1, 0, O_COALESCE},
        {"delay", 1, 0, O_DELAY}, {"inject-between", 0, 0, O_INJ_BETWEEN},
        {"inject-negotiation", 0, 0, O_INJ_NEG}, {"inject-event", 1, 0, O_INJ_EVENT},
        {"hold-oob", 1, 0, O_HOLD_OOB}, {"lf", 0, 0, O_LF}, {"once", 0, 0, O_ONCE},
        {"watch-pid", 1, 0, O_WATCH},
        {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
        switch (ch) {
        case O_LISTEN: o->listen = optarg; break;
        case O_LISTEN_FD: if (num("--listen-fd", 0, 1 << 20, &v) < 0) return -1; o->listen_fd = (int)v; break;
        case O_CONNECT: o->connect = optarg; break;
        case O_CONNECT_TCP: o->connect_tcp = optarg; break;
        case O_EXEC: o->exec = optarg; break;
        case O_TRACE: o->trace = optarg; break;
        case O_SPLIT: if (num("--split", 0, 1 << 30, &v) < 0) return -1; o->split = (size_t)v; break;
        case O_SPLIT_DELAY: if (num("--split-delay", 0, 6e5, &v) < 0) return -1; o->split_delay = v / 1000; break;
        case O_COALESCE: if (num("--coalesce", 0, 6e5, &v) < 0) return -1; o->coalesce = v / 1000; break;
        case O_DELAY: if (num("--delay", 0, 6e5, &v) < 0) return -1; o->delay = v / 1000; break;
        case O_INJ_BETWEEN: o->inject_between = true; break;
        case O_INJ_NEG: o->inject_negotiation = true; break;
        case O_INJ_EVENT: o->inject_event = optarg; break;
        case O_HOLD_OOB: if (num("--hold-oob", 0, 6e5, &v) < 0) return -1; o->hold_oob = v / 1000; break;
        case O_LF: o->lf = true; break;
        case O_ONCE: o->once = true; break;
        case O_WATCH: if (num("--watch-pid", 1, 4194304, &v) < 0) return -1; o->watch_pid = (int)v; break;
        case 'q': o->quiet = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    int targets = !!o->connect + !!o->connect_tcp + !!o->exec;
    if (optind < argc || (!o->listen == (o->listen_fd < 0)) || targets != 1) {
        fprintf(stderr, "qmp-proxy: give one of --listen/--listen-fd and one of "
                "--connect, --connect-tcp, --exec\n");
        return -1;
    }
    if (o->exec && !strstr(o->exec, "{socket}")) {
        fprintf(stderr, "qmp-proxy: --exec needs '{socket}' where the server's "
                "socket path goes\n");
        return -1;
    }
    return 0;
}

/* --exec: start the server on a private socket and wait until it listens. */
static int start_server(proxy_t *p)
{
    char tmpl[] = "/tmp/qmp-proxy.XXXXXX";
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "qmp-proxy: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    snprintf(p->tmpdir, sizeof(p->tmpdir), "%s", tmpl);
    snprintf(p->sockpath, sizeof(p->sockpath), "%s/qmp.sock", tmpl);
    qt_buf_t cmd = {0};
    for (const char *s = p->o->exec; *s;) {
        const char *hit = strstr(s, "{socket}");
        size_t n = hit ? (size_t)(hit - s) : strlen(s);
        qt_buf_append(&cmd, s, n);
        if (!hit)
            break;
        qt_buf_puts(&cmd, p->sockpath);
        s = hit + 8;
    }
    qt_buf_append(&cmd, "", 1);
    p->child = fork();
    if (p->child == 0) {
        setpgid(0, 0);   /* so that stopping it reaches everything sh started */
        execl("/bin/sh", "sh", "-c", qt_buf_head(&cmd), (char *)NULL);
        _exit(127);
    }
    qt_buf_free(&cmd);
    if (p->child > 0)
        setpgid(p->child, p->child);   /* whichever of the two runs first */
    if (p->child < 0) {
        fprintf(stderr, "qmp-proxy: fork: %s\n", strerror(errno));
        p->child = 0;
        return -1;
    }
    for (int i = 0; i < 1000; i++) {
        struct stat st;
        int status;
        if (stat(p->sockpath, &st) == 0 && S_ISSOCK(st.st_mode))
            return 0;
        if (waitpid(p->child, &status, WNOHANG) == p->child) {
            p->child = 0;
            fprintf(stderr, "qmp-proxy: the server command exited before it "
                    "created {socket}: %s\n", p->o->exec);
            return -1;
        }
        poll(NULL, 0, 10);
    }
    fprintf(stderr, "qmp-proxy: the server did not create {socket} within 10 s\n");
    return -1;
}

static void stop_server(proxy_t *p)
{
    if (p->child > 0) {
        int status;
        kill(-p->child, SIGTERM);
        for (int i = 0; i < 300 && waitpid(p->child, &status, WNOHANG) == 0; i++)
            poll(NULL, 0, 10);
        if (waitpid(p->child, &status, WNOHANG) == 0) {
            kill(-p->child, SIGKILL);
            waitpid(p->child, &status, 0);
        }
    }
    if (p->tmpdir[0]) {
        unlink(p->sockpath);
        rmdir(p->tmpdir);
    }
}

static void add_link(proxy_t *p, int cfd)
{
    char err[300];
    link_t *l = link_open(p, cfd, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "qmp-proxy: %s\n", err);
        close(cfd);
        return;
    }
    link_t **n = realloc(p->links, (p->nlinks + 1) * sizeof(*n));
    if (!n) {
        link_free(l);
        return;
    }
    p->links = n;
    p->links[p->nlinks++] = l;
    if (p->tracing)
        qt_trace_put(&p->trace, qt_mono() - p->t0, l->mon, QT_DIR_CONNECT,
                     NULL, 0, NULL, NULL);
}

static void drop_link(proxy_t *p, size_t i)
{
    link_t *l = p->links[i];
    /* who ended it: the client, the server, or the proxy itself exiting
     * (a signal, --watch-pid) while both were still there */
    const char *by = l->client_gone ? "\"by\": \"client\""
                   : p->closing ? "\"by\": \"proxy\"" : "\"by\": \"server\"";
    if (p->tracing)
        qt_trace_put(&p->trace, qt_mono() - p->t0, l->mon, QT_DIR_CLOSE,
                     NULL, 0, NULL, by);
    link_free(l);
    p->links[i] = p->links[--p->nlinks];
    if (p->o->once)
        p->stop = true;
}

/* One direction's read; false on EOF or error. */
static bool pump_read(proxy_t *p, link_t *l, bool from_client)
{
    char buf[65536];
    ssize_t n = read(from_client ? l->cfd : l->sfd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0)
        return false;
    if (from_client)
        link_from_client(p, l, buf, (size_t)n);
    else
        link_from_server(p, l, buf, (size_t)n);
    return true;
}

static bool flush_server(link_t *l)
{
    while (qt_buf_size(&l->to_server)) {
        ssize_t w = write(l->sfd, qt_buf_head(&l->to_server), qt_buf_size(&l->to_server));
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        if (w <= 0)
            return false;
        qt_buf_consume(&l->to_server, (size_t)w);
    }
    return true;
}

/* Handle one link's poll results; false when it is finished. */
static bool service_link(proxy_t *p, link_t *l, const struct pollfd *pc,
                         const struct pollfd *ps)
{
    if (pc->revents & (POLLIN | POLLHUP | POLLERR))
        if (!pump_read(p, l, true)) {
            l->client_gone = true;   /* nothing more to deliver */
            return false;
        }
    if (!l->server_gone && (ps->revents & (POLLIN | POLLHUP | POLLERR)))
        if (!pump_read(p, l, false))
            link_server_eof(p, l);
    if (!l->server_gone && !flush_server(l))
        link_server_eof(p, l);
    double now = qt_mono();
    link_release(p, l, now);
    if (!link_write_client(p, l, now)) {
        l->client_gone = true;
        return false;
    }
    return !(l->server_gone && !l->head && !qt_buf_size(&l->to_client));
}

static int loop(proxy_t *p)
{
    while (!p->stop && !g_stop) {
        size_t n = 2 + 2 * p->nlinks;
        struct pollfd *fds = calloc(n, sizeof(*fds));
        if (!fds)
            return 2;
        fds[0] = (struct pollfd){p->lfd, POLLIN, 0};
        fds[n - 1] = (struct pollfd){g_sigpipe[0], POLLIN, 0};
        int timeout = -1;
        double now = qt_mono();
        for (size_t i = 0; i < p->nlinks; i++) {
            link_t *l = p->links[i];
            int t = link_release(p, l, now);
            if (t >= 0 && (timeout < 0 || t < timeout))
                timeout = t;
            bool can_write = qt_buf_size(&l->to_client) && now >= l->next_write;
            fds[1 + 2 * i] = (struct pollfd){l->cfd,
                (short)((qt_buf_size(&l->to_server) < (1u << 20) ? POLLIN : 0) |
                        (can_write ? POLLOUT : 0)), 0};
            /* a client that does not read stops us reading its server */
            bool room = qt_buf_size(&l->to_client) < (4u << 20);
            fds[2 + 2 * i] = (struct pollfd){l->server_gone ? -1 : l->sfd,
                (short)((room ? POLLIN : 0) | (qt_buf_size(&l->to_server) ? POLLOUT : 0)), 0};
        }
        if ((p->child > 0 || p->o->watch_pid > 0) && (timeout < 0 || timeout > 200))
            timeout = 200;   /* notice a dead server */
        int r = poll(fds, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) {
            free(fds);
            return 2;
        }
        size_t had = p->nlinks;
        for (size_t i = had; i-- > 0;)
            if (!service_link(p, p->links[i], &fds[1 + 2 * i], &fds[2 + 2 * i]))
                drop_link(p, i);
        if (fds[0].revents & POLLIN) {
            int cfd = accept(p->lfd, NULL, NULL);
            if (cfd >= 0 && qt_set_nonblock(cfd) == 0)
                add_link(p, cfd);
            else if (cfd >= 0)
                close(cfd);
        }
        free(fds);
        if (p->o->watch_pid > 0 && kill(p->o->watch_pid, 0) < 0 && errno == ESRCH)
            return 0;
        int status;
        if (p->child > 0 && waitpid(p->child, &status, WNOHANG) == p->child) {
            p->child = 0;
            if (!p->o->quiet)
                fprintf(stderr, "qmp-proxy: the server exited\n");
            return p->nlinks || p->next_mon ? 0 : 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    proxy_opts_t o;
    proxy_t p;
    memset(&o, 0, sizeof(o));
    memset(&p, 0, sizeof(p));
    o.listen_fd = -1;
    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "Try 'qmp-proxy --help' for the options.\n");
        return 2;
    }
    p.o = &o;
    p.t0 = qt_mono();
    p.lfd = -1;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char err[300];
    int rc = 2;
    if (o.trace && qt_trace_open(&p.trace, o.trace, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmp-proxy: %s\n", err);
        return 2;
    }
    p.tracing = o.trace != NULL;
    if (o.listen_fd >= 0) {
        p.lfd = o.listen_fd;
        qt_set_nonblock(p.lfd);
    } else {
        unlink(o.listen);
        p.lfd = qt_unix_listen(o.listen, 0600, err, sizeof(err));
        if (p.lfd < 0)
            fprintf(stderr, "qmp-proxy: %s\n", err);
    }
    if (p.lfd >= 0 && pipe(g_sigpipe) == 0) {
        qt_set_nonblock(g_sigpipe[0]);   /* also close-on-exec: not the server's */
        qt_set_nonblock(g_sigpipe[1]);
    }
    if (p.lfd >= 0 && (!o.exec || start_server(&p) == 0))
        rc = loop(&p);
    else if (p.lfd >= 0)
        rc = 1;
    p.closing = true;
    while (p.nlinks)
        drop_link(&p, p.nlinks - 1);
    free(p.links);
    stop_server(&p);
    if (p.lfd >= 0)
        close(p.lfd);
    if (o.listen)
        unlink(o.listen);
    if (p.tracing && qt_trace_close(&p.trace) < 0) {
        fprintf(stderr, "qmp-proxy: writing the trace '%s' failed\n", o.trace);
        rc = 2;
    }
    for (int i = 0; i < 2; i++)
        if (g_sigpipe[i] >= 0)
            close(g_sigpipe[i]);
    return rc;
}
