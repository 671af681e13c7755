/* qmp-lint's parts: the wire/replies checker (qmp-lint.c) and the
 * trace checker (trace.c) share the reporting and the id bookkeeping. */
#ifndef QMPK_LINT_H
#define QMPK_LINT_H

#include <stdbool.h>
#include <stdio.h>

#include "qmpkit/parser.h"

enum { EXIT_CLEAN = 0, EXIT_PROBLEMS = 1, EXIT_USAGE = 2 };

typedef struct options {
    bool trace;         /* --format trace (qmp-refd / qmp-proxy traces) */
    qmpk_dialect_t dialect;
    bool json;
    bool replies;       /* --format replies (libvirt's .replies files) */
    bool oob;           /* assume OOB negotiated from the start */
} options_t;

/* Canonical ids of commands still waiting for their reply (a multiset). */
typedef struct idset {
    char **ids;
    size_t n, cap;
} idset_t;

typedef struct lint {
    const options_t *opt;
    const char *name;
    bool show_name;
    qmpk_stream_t s;
    qmpk_stream_config_t cfg;
    bool oob;
    idset_t pending;
    char *wbuf;
    size_t wcap;
    unsigned long messages, problems;
} lint_t;


/* Where a problem was seen, for reports from traces. */
typedef struct where {
    int mon;            /* -1: not a trace */
    const char *dir;    /* "in" or "out" */
} where_t;

void lint_report(lint_t *l, const where_t *w, uint64_t offset, uint64_t index,
                 const qmpk_error_t *err, const char *text);
void lint_kind(lint_t *l, const where_t *w, const qmpk_msg_t *m, qmpk_kind_t k);
char *lint_canonical_id(lint_t *l, const qmpk_msg_t *m, int id);
/* Canonical ids equal as JSON values (QEMU prints -0.0 as -0, which reads
 * back as the integer 0: the texts differ, the values do not). */
bool lint_same_id(lint_t *l, const char *a, const char *b);
bool lint_enables_oob(const qmpk_msg_t *m, const qmpk_envelope_t *env, const char *cap);
/* --format trace: returns EXIT_CLEAN or EXIT_USAGE (I/O, malformed file). */
int lint_trace(lint_t *l, const char *path);

#endif
