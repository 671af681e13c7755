/* qmp-proxy internals. */
#ifndef QMPK_PROXY_H
#define QMPK_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "qt_common.h"

typedef struct proxy_opts {
    const char *listen, *connect, *connect_tcp, *exec, *trace;
    int listen_fd;              /* inherited listening socket, or -1 */
    int watch_pid;              /* exit when this process is gone, or 0 */
    size_t split;               /* max bytes per write to the client, 0: any */
    double split_delay;         /* seconds between split writes */
    double coalesce;            /* gather output this long, then one write */
    double delay;               /* delay every server message */
    double hold_oob;            /* hold replies to exec-oob commands */
    bool inject_between, inject_negotiation, lf, once, quiet;
    const char *inject_event;   /* event JSON, NULL: a default X_PROXY event */
} proxy_opts_t;

/* A unit of server output: one message with its line end. */
typedef struct unit {
    qt_buf_t bytes;
    double release;             /* qt_mono() time it may go out */
    bool held;                  /* an OOB reply held back: may be overtaken */
    struct unit *next;
} unit_t;

typedef struct pend_cmd { bool oob; bool has_id; char *id; } pend_cmd_t;

typedef struct link {
    int cfd, sfd;               /* client and server sockets */
    int mon;                    /* connection ordinal, for the trace */
    qt_buf_t to_server, to_client;
    qmpk_stream_t cs, ss;       /* client and server streams (parsed) */
    qt_buf_t sraw;              /* server bytes since the last unit */
    uint64_t sbase;             /* stream offset of sraw's first byte */
    struct { uint64_t end; bool reply, greeting, oob; } done[64];
    int ndone;
    unit_t *head, *tail;        /* units not yet released */
    pend_cmd_t *pend;
    size_t npend, cappend;
    double next_write;          /* split pacing / coalescing */
    bool client_gone, server_gone;
} link_t;

typedef struct proxy {
    proxy_opts_t *o;
    int lfd;
    link_t **links;
    size_t nlinks;
    int next_mon;
    qt_trace_w_t trace;
    bool tracing;
    double t0;
    char sockpath[256];         /* --exec: the server's socket */
    char tmpdir[200];
    int child;                  /* --exec: server pid, or 0 */
    bool stop;
    bool closing;               /* exiting: links closed by the proxy */
} proxy_t;

/* relay.c */
link_t *link_open(proxy_t *p, int cfd, char *err, size_t errlen);
void link_free(link_t *l);
void link_from_client(proxy_t *p, link_t *l, const char *data, size_t n);
void link_from_server(proxy_t *p, link_t *l, const char *data, size_t n);
void link_server_eof(proxy_t *p, link_t *l);
/* Move released units to l->to_client; return the poll timeout in ms. */
int link_release(proxy_t *p, link_t *l, double now);
/* Write to the client as pacing allows; false when the client died. */
bool link_write_client(proxy_t *p, link_t *l, double now);

#endif
