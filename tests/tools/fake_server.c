/*
 * A scripted QMP server for client tests:  fake_server SOCKET FILE
 * Accepts one client.  Line 0 of FILE is sent on connect, line k after the
 * client's k-th newline, each followed by CRLF, written 1 to 7 bytes at a
 * time (split reads for the client).  A line may hold several messages, in
 * any order (replies out of order, events anywhere).  Exits when the client
 * disconnects; exit 0, 2 on a usage or I/O error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_line(int fd, const char *p, size_t n, unsigned *seed)
{
    size_t off = 0;
    while (off < n) {
        size_t chunk = 1 + (size_t)(rand_r(seed) % 7);
        if (n - off > 65536 && chunk < 4096)
            chunk = 4096;   /* huge lines: split, but not into 7-byte pieces */
        if (chunk > n - off)
            chunk = n - off;
        ssize_t w = write(fd, p + off, chunk);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return write(fd, "\r\n", 2) == 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: fake_server SOCKET FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        fprintf(stderr, "fake_server: cannot read %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(argv[1]);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
        fprintf(stderr, "fake_server: cannot listen on %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    int fd = accept(lfd, NULL, NULL);
    char *line = NULL, buf[4096];
    size_t cap = 0;
    unsigned seed = 1;
    ssize_t n = getline(&line, &cap, f);
    if (fd >= 0 && n > 0)
        send_line(fd, line, (size_t)n - (line[n - 1] == '\n'), &seed);
    while (fd >= 0) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] == '\n' && (n = getline(&line, &cap, f)) > 0)
                send_line(fd, line, (size_t)n - (line[n - 1] == '\n'), &seed);
    }
    free(line);
    fclose(f);
    if (fd >= 0)
        close(fd);
    close(lfd);
    unlink(argv[1]);
    return 0;
}
