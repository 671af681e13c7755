/*
 * Load benchmark for QMP servers: N clients over unix sockets, each with one
 * command in flight, as many round trips as the server allows.
 *
 *   refd_load [-c CLIENTS] [-t SECONDS] [-m COMMAND] SOCKET...
 *
 * Clients are spread over the sockets round-robin (QEMU serves one client
 * per monitor socket, so give it one socket per client).  Prints round
 * trips per second.  Exit 0, 1 when a server misbehaved, 2 usage/I/O.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct client {
    int fd;
    long lines;        /* newline-terminated messages received */
    long sent;         /* commands sent after negotiation */
} client_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    return write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

/* Count the newlines that arrived; react when a whole reply is in.  Line 1
 * is the greeting, line 2 the negotiation reply, then one per command. */
static int on_readable(client_t *c, const char *cmd, bool counting, long *trips)
{
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n')
            continue;
        c->lines++;
        if (c->lines == 1 && send_all(c->fd, "{\"execute\": \"qmp_capabilities\"}\n") < 0)
            return -1;
        if (c->lines >= 2) {
            if (c->lines > 2 && counting)
                (*trips)++;
            if (send_all(c->fd, cmd) < 0)
                return -1;
            c->sent++;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int nclients = 1, opt;
    double seconds = 3;
    const char *cmd = "{\"execute\": \"query-status\"}\n";
    while ((opt = getopt(argc, argv, "c:t:m:h")) != -1) {
        if (opt == 'c')
            nclients = atoi(optarg);
        else if (opt == 't')
            seconds = strtod(optarg, NULL);
        else if (opt == 'm')
            cmd = optarg;
        else {
            fprintf(stderr, "usage: refd_load [-c CLIENTS] [-t SECONDS] [-m CMD] SOCKET...\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc || nclients < 1 || nclients > 4096 || seconds <= 0) {
        fprintf(stderr, "usage: refd_load [-c CLIENTS] [-t SECONDS] [-m CMD] SOCKET...\n");
        return 2;
    }
    client_t *cl = calloc((size_t)nclients, sizeof(*cl));
    struct pollfd *p = calloc((size_t)nclients, sizeof(*p));
    if (!cl || !p)
        return 2;
    for (int i = 0; i < nclients; i++) {
        const char *path = argv[optind + i % (argc - optind)];
        if ((cl[i].fd = connect_unix(path)) < 0) {
            fprintf(stderr, "refd_load: cannot connect to %s: %s\n", path, strerror(errno));
            return 2;
        }
        p[i] = (struct pollfd){cl[i].fd, POLLIN, 0};
    }
    /* warm up for 10% of the time, then count */
    double t0 = now_s(), start = t0 + seconds * 0.1, end = start + seconds;
    long trips = 0;
    int rc = 0;
    while (now_s() < end) {
        int r = poll(p, (nfds_t)nclients, 1000);
        if (r <= 0) {
            fprintf(stderr, "refd_load: the server stopped answering\n");
            rc = 1;
            break;
        }
        bool counting = now_s() >= start;
        for (int i = 0; i < nclients; i++)
            if (p[i].revents && on_readable(&cl[i], cmd, counting, &trips) < 0) {
                fprintf(stderr, "refd_load: client %d lost its connection\n", i);
                rc = 1;
                end = 0;
            }
    }
    double elapsed = now_s() - start;
    printf("%d client(s): %ld round trips in %.2f s = %.0f round trips/s\n",
           nclients, trips, elapsed, (double)trips / elapsed);
    for (int i = 0; i < nclients; i++)
        close(cl[i].fd);
    free(cl);
    free(p);
    return rc;
}
