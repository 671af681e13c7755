/*
 * Test helpers for the engine: load a recorded QEMU session (.jsonl) and
 * replay its client side into an engine, collecting what each connection
 * receives, next to what QEMU sent.
 */
#ifndef QMPK_TEST_ENGINE_SESSION_H
#define QMPK_TEST_ENGINE_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmpkit/engine.h"

typedef enum ent_dir { ENT_SEND, ENT_RECV, ENT_CONNECT, ENT_CLOSE, ENT_OTHER } ent_dir_t;

typedef struct sess_entry {
    uint64_t t_ns;
    char conn[16];
    char chardev[32];       /* ENT_CONNECT: the chardev of the socket */
    ent_dir_t dir;
    char *data;             /* raw bytes (latin-1 decoded) */
    size_t len;
} sess_entry_t;

typedef struct session {
    sess_entry_t *e;
    size_t n;
} session_t;

/* Lines (CRLF included) collected per connection label. */
typedef struct conn_lines {
    char conn[16];
    char **line;
    size_t *len;
    size_t n, cap;
} conn_lines_t;

typedef struct transcript {
    conn_lines_t c[8];
    size_t n;
} transcript_t;

bool session_load(session_t *s, const char *path);
void session_free(session_t *s);

/* QEMU's side: every recv line, without the recorder's closing SHUTDOWN
 * (reason host-signal). */
void session_expected(const session_t *s, transcript_t *out);

/* Replay the client side into a fresh engine configured with cfg; returns
 * false when the engine could not be set up. */
bool session_replay(const session_t *s, const qmpk_engine_config_t *cfg, transcript_t *out);

void transcript_free(transcript_t *t);

/* Replace the numbers of "seconds"/"microseconds" in a timestamp by 0. */
size_t normalize_timestamps(const char *in, size_t n, char *out, size_t cap);

/* The engine configuration that matches the recordings' QEMU. */
void session_qemu_config(qmpk_engine_config_t *cfg);
#endif
