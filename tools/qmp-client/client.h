/* qmp-client internals: script actions and the session state. */
#ifndef QMPK_CLIENT_H
#define QMPK_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "qt_common.h"

typedef enum act_kind {
    ACT_NONE,        /* blank line or comment */
    ACT_SEND,        /* a command (tracked for its reply when it has one) */
    ACT_RAW,         /* bytes sent as they are, not tracked */
    ACT_WAIT,        /* .wait: every pending command answered */
    ACT_WAIT_EVENT,  /* .wait-event NAME */
    ACT_SLEEP,       /* .sleep MS: keep reading for MS milliseconds */
    ACT_CLOSE,       /* .close: disconnect now */
    ACT_ERROR,       /* the line could not be understood */
} act_kind_t;

typedef struct action {
    act_kind_t kind;
    bool async;          /* '&' prefix: do not wait for the reply */
    bool tracked;        /* a reply is expected */
    bool has_id;
    qt_buf_t bytes;      /* what to send, newline included */
    qt_buf_t id;         /* canonical id text when has_id */
    char name[128];      /* command name, or event name for .wait-event */
    long ms;
    char err[256];
} action_t;

/* Parse one script line (no newline).  *auto_id is the next automatic id
 * when auto_ids is set.  The caller frees a->bytes and a->id. */
void script_parse_line(const char *line, size_t len, bool auto_ids,
                       uint64_t *auto_id, action_t *a);
void action_free(action_t *a);

typedef struct pending {
    uint64_t seq;        /* ordinal of the command, 0 for negotiation */
    bool has_id;
    char *id;            /* canonical id */
    char name[128];
} pending_t;

typedef enum phase { PH_GREETING, PH_NEGOTIATING, PH_RUN, PH_DONE } phase_t;
typedef enum wait_kind { W_NONE, W_SEQ, W_ALL, W_EVENT, W_SLEEP } wait_kind_t;

typedef struct client {
    /* options */
    bool jsonl, verbose, negotiate, auto_ids, interactive;
    const char *caps;        /* comma-separated, or NULL */
    qt_buf_t caps_all;       /* caps plus the script's leading .caps lines */
    double timeout;          /* seconds per wait */
    long linger_ms;
    /* connection */
    int fd;
    qt_buf_t out;
    qmpk_stream_t s;
    bool eof;
    /* script */
    int src_fd;              /* -1 when there is no more input */
    qt_buf_t src;
    unsigned long lineno;
    uint64_t auto_id;
    /* state */
    phase_t phase;
    pending_t *pend;
    size_t npend, cappend;
    uint64_t seq;
    wait_kind_t wait;
    uint64_t wait_seq;
    char wait_event[128];
    double deadline;
    char **events;           /* names of events not consumed by .wait-event */
    size_t nevents, capevents;
    int status;              /* exit status so far */
    bool prompted;
} client_t;

/* session.c */
void client_on_message(client_t *c, const qmpk_msg_t *m);
void client_on_parse_error(client_t *c, const qmpk_error_t *e);
int client_track(client_t *c, const action_t *a);
bool client_take_event(client_t *c, const char *name);
void client_emit_note(client_t *c, const char *type, const char *desc);
void client_free(client_t *c);

#endif
