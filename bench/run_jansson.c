/*
 * jansson: json_loadb(ptr, len, 0) on each pre-split message, then
 * json_decref: tree built and freed.  Default flags (duplicate keys are
 * accepted, last one wins; top level must be an object or array).
 */
#include <jansson.h>

#include "bench.h"

static void *jansson_prepare(const bench_workload_t *w)
{
    (void)w;
    return NULL;
}

static size_t jansson_run(void *state, const bench_workload_t *w, size_t chunk)
{
    size_t ok = 0;

    (void)state;
    (void)chunk;
    for (size_t i = 0; i < w->nmsg; i++) {
        json_error_t err;
        json_t *v = json_loadb(w->msg[i], w->msg_len[i], 0, &err);

        ok += v != NULL;
        json_decref(v);
    }
    return ok;
}

static void jansson_release(void *state)
{
    (void)state;
}

const bench_case_t bench_case_jansson = {
    "jansson", "pre-split (ptr, len), tree built + freed", 0,
    jansson_prepare, jansson_run, jansson_release,
};
