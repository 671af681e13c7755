/*
 * Parser benchmark: shared declarations.
 *
 * One program, bench_parser, holds the parsers whose symbols can live
 * together (qmpkit, jsmn alone, cJSON).  json-c and jansson both define
 * json_object_get() and friends, so each is its own worker binary
 * (bench_parser_jsonc, bench_parser_jansson) built from the same driver.
 * bench_parser starts the workers, which build the same inputs, and asks
 * them for one timed run at a time, interleaved with its own runs.
 *
 * Deliberately NOT including <qmpkit/parser.h> here: run_jsmn.c compiles
 * its own copy of jsmn and must not see qmpkit's JSMN_HEADER setup.
 */
#ifndef QMPK_BENCH_H
#define QMPK_BENCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * One input.  The stream is what qmpkit is fed; the pre-split messages are
 * the same messages, found by qmpkit's framer during setup, each copied
 * into its own NUL-terminated slot of one arena (for the parsers that take
 * (ptr, len) the NUL is simply not counted).
 */
typedef struct bench_workload {
    const char *name;
    char *stream;           /* messages, each followed by "\r\n" */
    size_t stream_len;
    size_t nmsg;
    const char **msg;       /* msg[i] .. msg[i] + msg_len[i], then a NUL */
    size_t *msg_len;
    size_t msg_bytes;       /* sum of msg_len */
    size_t max_len;         /* longest message */
    unsigned max_tok;       /* most jsmn tokens in one message */
    size_t reps;            /* how many times the base set was repeated */
    size_t base_nmsg;       /* messages in one repetition */
    uint64_t hash;          /* FNV-1a of the stream: workers must agree */
    char *arena;
} bench_workload_t;

/*
 * One timed case.  prepare() allocates whatever run() needs (outside the
 * timed region); run() parses the whole workload once and returns how many
 * messages parsed successfully (must be w->nmsg).
 */
typedef struct bench_case {
    const char *name;       /* "qmpkit", "qmpkit/4KiB", "jsmn", "cJSON", ... */
    const char *form;       /* what input it gets, for the table */
    size_t chunk;           /* qmpkit feed size, 0 for the whole stream */
    void *(*prepare)(const bench_workload_t *w);
    size_t (*run)(void *state, const bench_workload_t *w, size_t chunk);
    void (*release)(void *state);
} bench_case_t;

/* Each binary links one registry: a NULL-terminated list of its cases. */
extern const bench_case_t *const bench_cases[];

extern const bench_case_t bench_case_qmpkit_whole;
extern const bench_case_t bench_case_qmpkit_64k;
extern const bench_case_t bench_case_qmpkit_4k;
extern const bench_case_t bench_case_qmpkit_1;
extern const bench_case_t bench_case_qmpkit_shared_64k;
extern const bench_case_t bench_case_qmpkit_shared_1;
extern const bench_case_t bench_case_jsmn;
extern const bench_case_t bench_case_cjson;
extern const bench_case_t bench_case_jsonc;
extern const bench_case_t bench_case_jansson;

/* input.c */
typedef struct bench_input_opts {
    const char *corpus;     /* directory holding qemu-7.2/ and libvirt-replies/ */
    size_t min_bytes;       /* repeat each base set to at least this size */
} bench_input_opts_t;

/* Build every workload; returns the count, or 0 with a message on stderr. */
size_t bench_build_workloads(const bench_input_opts_t *o,
                             bench_workload_t **out);
void bench_free_workloads(bench_workload_t *w, size_t n);

/* Allocation that exits on failure (setup only, never timed). */
void *bench_xmalloc(size_t n);

#endif /* QMPK_BENCH_H */
