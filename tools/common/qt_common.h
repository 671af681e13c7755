/*
 * Helpers shared by the qmpkit command-line tools (never installed).
 *
 * - qt_buf_t: a growable byte queue (append at the end, consume at the front)
 * - sockets: unix and TCP listeners and connections, all non-blocking
 * - the trace format (docs/notes/trace-and-adapter.md): one JSON object per
 *   line, {"t": s, "mon": N, "dir": "in|out|connect|close|note", "data": …},
 *   bytes as latin-1 code points; the reader also accepts the recordings of
 *   shared/corpus/qemu-7.2 ({"conn": label, "dir": "send|recv|…"}).
 */
#ifndef QMPK_TOOLS_COMMON_H
#define QMPK_TOOLS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qmpkit/parser.h"

/* ------------------------------------------------------------------ */
/* Byte queue                                                           */

typedef struct qt_buf {
    char *data;
    size_t off;   /* first unconsumed byte */
    size_t len;   /* end of valid bytes */
    size_t cap;
} qt_buf_t;

/* 0, or -1 when memory ran out (the buffer is unchanged). */
int qt_buf_append(qt_buf_t *b, const void *p, size_t n);
int qt_buf_puts(qt_buf_t *b, const char *s);
void qt_buf_consume(qt_buf_t *b, size_t n);
static inline size_t qt_buf_size(const qt_buf_t *b) { return b->len - b->off; }
/* an empty buffer may have no storage yet: NULL + 0 is undefined */
static inline const char *qt_buf_head(const qt_buf_t *b) { return b->data ? b->data + b->off : ""; }
void qt_buf_clear(qt_buf_t *b);
void qt_buf_free(qt_buf_t *b);

/* ------------------------------------------------------------------ */
/* Time                                                                 */

double qt_mono(void);        /* monotonic clock, seconds */
uint64_t qt_real_us(void);   /* wall clock, microseconds since the epoch */

/* ------------------------------------------------------------------ */
/* Sockets.  Each returns a non-blocking fd, or -1 with a sentence in err
 * saying what failed and on which address. */

int qt_set_nonblock(int fd);
int qt_unix_listen(const char *path, unsigned mode, char *err, size_t errlen);
int qt_unix_connect(const char *path, char *err, size_t errlen);
/* "HOST:PORT" or ":PORT"/"PORT" (host 127.0.0.1). */
int qt_tcp_listen(const char *hostport, char *err, size_t errlen);
int qt_tcp_connect(const char *hostport, char *err, size_t errlen);
/* The address a TCP socket is bound to, "HOST:PORT" ("[V6]:PORT"), so a
 * listener on port 0 can say which port it got; -1 if unknown. */
int qt_sock_name(int fd, char *buf, size_t len);
/* A numeric option's value in [lo, hi]; otherwise "TOOL: OPT must be a
 * number from LO to HI, not 'ARG'" on stderr and -1 (strtoul() and atoi()
 * would take "abc" as 0). */
int qt_opt_num(const char *tool, const char *opt, const char *arg, double lo,
               double hi, double *out);
/* Blocking write of everything (stdout and friends); -1 on error. */
int qt_write_all(int fd, const void *p, size_t n);

/* ------------------------------------------------------------------ */
/* JSON text helpers                                                    */

/* Append bytes as a JSON string whose code points are the bytes (latin-1). */
int qt_json_latin1(qt_buf_t *out, const void *data, size_t n);
/* Unescape string token t to bytes, each code point U+0000..U+00FF one byte.
 * -1 when a code point is above U+00FF or t is not a string. */
int qt_str_latin1(const qmpk_msg_t *m, int t, qt_buf_t *out);
/* Canonical text of value t (QEMU re-serialization, QDict member order), so
 * that ids compare as JSON values by string equality. */
int qt_canonical(const qmpk_msg_t *m, int t, qt_buf_t *out);
/* Allocate a stream with room for messages of max_msg bytes.  The buffers
 * come from malloc and are freed by qt_stream_free. */
int qt_stream_new(qmpk_stream_t *s, qmpk_dialect_t d, size_t max_msg,
                  unsigned max_tok);
void qt_stream_free(qmpk_stream_t *s);

/* ------------------------------------------------------------------ */
/* Server messages (envelope.c)                                         */

/* A message from a server, read liberally as a QMP client must (unknown
 * members anywhere, timestamps of any number shape; qmp-spec.rst's
 * compatibility rules): QMPK_E_OK with env->kind GREETING, RETURN, ERROR or
 * EVENT, or qmpk_classify()'s rejection in err.  qmp-client, qmp-proxy and
 * qmp-lint's trace reader all read server messages with it. */
qmpk_errno_t qt_server_envelope(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                qmpk_error_t *err);

/* ------------------------------------------------------------------ */
/* Trace                                                                */

typedef enum qt_dir {
    QT_DIR_IN,        /* client -> server ("in", corpus "send") */
    QT_DIR_OUT,       /* server -> client ("out", corpus "recv") */
    QT_DIR_CONNECT,
    QT_DIR_CLOSE,     /* "close", corpus "eof" and "close" */
    QT_DIR_NOTE,
} qt_dir_t;

const char *qt_dir_name(qt_dir_t d);

typedef struct qt_trace_w {
    FILE *f;
    qt_buf_t line;
    bool failed;
} qt_trace_w_t;

/* Open (truncate) path for writing; "-" is stdout.  0 or -1 with err. */
int qt_trace_open(qt_trace_w_t *w, const char *path, char *err, size_t errlen);
/* One entry.  data may be NULL for connect/close; note may be NULL.
 * extra, if not NULL, is raw JSON members ("\"k\": v, …") appended as is. */
void qt_trace_put(qt_trace_w_t *w, double t, int mon, qt_dir_t dir,
                  const void *data, size_t n, const char *note,
                  const char *extra);
/* Flush and close; -1 when any write failed. */
int qt_trace_close(qt_trace_w_t *w);

typedef struct qt_trace_ent {
    double t;
    qt_dir_t dir;
    int mon;             /* "mon", or an index given to each "conn" label */
    char label[64];      /* "conn" label, or the decimal mon */
    const char *data;    /* bytes (valid until the next qt_trace_next) */
    size_t len;
    const char *note;    /* NUL-terminated, or NULL */
    qmpk_msg_t *msg;     /* the parsed line, for extra members */
} qt_trace_ent_t;

typedef struct qt_trace_r {
    FILE *f;
    const char *path;
    unsigned long lineno;
    char *line;
    size_t linecap;
    qmpk_stream_t s;
    qmpk_msg_t msg;
    qt_buf_t data, note;
    char labels[64][64]; /* conn label -> mon number (index + 1) */
    int nlabels;
} qt_trace_r_t;

int qt_trace_ropen(qt_trace_r_t *r, const char *path, char *err, size_t errlen);
/* Read from an open FILE (closed by qt_trace_rclose unless it is stdin). */
void qt_trace_rfile(qt_trace_r_t *r, FILE *f, const char *name);
/* 1 with *e filled, 0 at end of file, -1 with err on a malformed line. */
int qt_trace_next(qt_trace_r_t *r, qt_trace_ent_t *e, char *err, size_t errlen);
void qt_trace_rclose(qt_trace_r_t *r);

#endif
