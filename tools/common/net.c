/* Sockets and clocks for the tools: everything non-blocking. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qt_common.h"

double qt_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t qt_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int qt_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err,
                     size_t errlen)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path)) {
        snprintf(err, errlen, "socket path '%s' is longer than %zu bytes; "
                 "use a shorter path", path, sizeof(sa->sun_path) - 1);
        return -1;
    }
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

int qt_unix_listen(const char *path, unsigned mode, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (unix_addr(path, &sa, err, errlen) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket(): %s", strerror(errno));
        return -1;
    }
    /* Create the socket file with the requested mode from the start, so it
     * is never reachable by others, not even briefly. */
    mode_t old = umask((mode_t)(~mode & 0777));
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc == 0)
        rc = chmod(path, (mode_t)mode);
    if (rc < 0 || listen(fd, 1024) < 0 || qt_set_nonblock(fd) < 0) {
        snprintf(err, errlen, "cannot listen on unix socket '%s': %s%s", path,
                 strerror(errno),
                 errno == EADDRINUSE ? " (remove the stale file or choose "
                                       "another path)" : "");
        close(fd);
        return -1;
    }
    return fd;
}

int qt_unix_connect(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (unix_addr(path, &sa, err, errlen) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket(): %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        qt_set_nonblock(fd) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot connect to unix socket '%s': %s", path,
                 strerror(e));
        close(fd);
        errno = e;   /* callers retry on ENOENT / ECONNREFUSED */
        return -1;
    }
    return fd;
}

/* getaddrinfo() takes a service name or wraps a port above 65535 silently;
 * only a decimal port is an address a user meant. */
static bool port_ok(const char *port)
{
    size_t n = strspn(port, "0123456789");
    return n > 0 && n <= 5 && port[n] == '\0' && atol(port) <= 65535;
}

static int split_hostport(const char *hp, char *host, size_t hostlen,
                          const char **port, char *err, size_t errlen)
{
    const char *colon = strrchr(hp, ':');
    size_t hl = colon ? (size_t)(colon - hp) : 0;
    *port = colon ? colon + 1 : hp;
    if (hl >= hostlen || !port_ok(*port)) {
        snprintf(err, errlen, "bad address '%s': expected HOST:PORT or PORT, "
                 "PORT a number from 0 to 65535", hp);
        return -1;
    }
    if (hl == 0) {
        snprintf(host, hostlen, "127.0.0.1");
    } else if (hp[0] == '[' && hl >= 2 && hp[hl - 1] == ']') {
        memcpy(host, hp + 1, hl - 2);
        host[hl - 2] = '\0';
    } else {
        memcpy(host, hp, hl);
        host[hl] = '\0';
    }
    return 0;
}

static int tcp_open(const char *hp, bool listening, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (split_hostport(hp, host, sizeof(host), &port, err, errlen) < 0)
        return -1;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = listening ? AI_PASSIVE : 0;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", hp, gai_strerror(g));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        if (listening)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        else
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int rc = listening ? bind(fd, a->ai_addr, a->ai_addrlen)
                           : connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc == 0 && listening)
            rc = listen(fd, 1024);
        if (rc < 0 || qt_set_nonblock(fd) < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot %s TCP %s: %s",
                 listening ? "listen on" : "connect to", hp, strerror(e));
        errno = e;   /* callers retry on ECONNREFUSED */
    }
    return fd;
}

int qt_sock_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[64], port[16];   /* numeric forms only */
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -1;
    snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host,
             port);
    return 0;
}

int qt_tcp_listen(const char *hostport, char *err, size_t errlen)
{
    return tcp_open(hostport, true, err, errlen);
}

int qt_tcp_connect(const char *hostport, char *err, size_t errlen)
{
    return tcp_open(hostport, false, err, errlen);
}

int qt_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
