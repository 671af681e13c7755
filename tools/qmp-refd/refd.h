/* qmp-refd internals: options, connections, the poll loop, replay. */
#ifndef QMPK_REFD_H
#define QMPK_REFD_H

#include <stdbool.h>
#include <stdint.h>

#include "qmpkit/engine.h"
#include "qt_common.h"

#define REFD_MAX_LISTENERS 32

typedef struct refd_opts {
    const char *sockets[REFD_MAX_LISTENERS];
    int nsockets;
    const char *tcps[REFD_MAX_LISTENERS];
    int ntcps;
    bool use_stdio;
    unsigned socket_mode;
    const char *trace, *replay;
    double time_scale;
    bool quiet;
    qmpk_engine_config_t cfg;
} refd_opts_t;

typedef struct listener {
    int fd;
    char name[256];        /* path or host:port, for traces and messages */
    bool is_unix;
} listener_t;

typedef struct conn {
    int fd, out_fd;        /* out_fd differs from fd only for stdio */
    uint32_t mon;
    int listener;          /* index, -1 for stdio */
    qt_buf_t in;           /* read but not yet taken by the engine */
    uint64_t dropped;      /* engine's drop count last seen */
} conn_t;

typedef struct server {
    refd_opts_t *o;
    qmpk_engine_t eng;
    void *storage;
    listener_t ls[2 * REFD_MAX_LISTENERS];
    int nls;
    bool accept_paused;    /* out of fds: stop accepting for a while */
    conn_t **conns;        /* dense array of live connections */
    size_t nconns, capconns;
    qt_trace_w_t trace;
    bool tracing;
    double mono0;          /* qt_mono() at start */
    uint64_t epoch_ns;     /* engine time at start (real clock) */
    int sigpipe[2];        /* self-pipe for SIGINT/SIGTERM */
    bool stop;
} server_t;

/* server.c */
int server_start(server_t *s, refd_opts_t *o);
int server_run(server_t *s);
void server_free(server_t *s);
uint64_t server_now(server_t *s);

/* replay.c: 0 identical, 1 mismatch, 2 unreadable trace */
int refd_replay(const char *path, bool quiet);
/* The trace's first line, describing the engine configuration. */
void refd_trace_header(qt_buf_t *out, const qmpk_engine_config_t *cfg);

#endif
