/*
 * jsmn alone: jsmn_parse (strict, parent links) over each pre-split
 * message with a preallocated token array.  jsmn's implementation is
 * compiled here with JSMN_STATIC, so it is private to this translation unit
 * and does not meet qmpkit's own (also static) copy.  No framing, no
 * validation beyond jsmn's strict mode, no copy.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include <stdlib.h>

#include "bench.h"

typedef struct jsmn_state {
    jsmntok_t *tok;
    unsigned ntok;
} jsmn_state_t;

static void *jsmn_prepare(const bench_workload_t *w)
{
    jsmn_state_t *st = bench_xmalloc(sizeof(*st));

    st->ntok = w->max_tok;
    st->tok = bench_xmalloc(st->ntok * sizeof(jsmntok_t));
    return st;
}

/* The timed function (callgrind --toggle-collect=jsmn_run). */
static size_t jsmn_run(void *state, const bench_workload_t *w, size_t chunk)
{
    jsmn_state_t *st = state;
    size_t ok = 0;

    (void)chunk;
    for (size_t i = 0; i < w->nmsg; i++) {
        jsmn_parser p;

        jsmn_init(&p);
        ok += jsmn_parse(&p, w->msg[i], w->msg_len[i], st->tok, st->ntok) > 0;
    }
    return ok;
}

static void jsmn_release(void *state)
{
    jsmn_state_t *st = state;

    free(st->tok);
    free(st);
}

const bench_case_t bench_case_jsmn = {
    "jsmn", "pre-split (ptr, len)", 0, jsmn_prepare, jsmn_run, jsmn_release,
};
