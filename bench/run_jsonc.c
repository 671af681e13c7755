/*
 * json-c: one json_tokener, reused (json_tokener_reset) for each
 * pre-split message, json_tokener_parse_ex(ptr, len) in its default
 * (non-strict) mode, then json_object_put: tree built and freed.
 */
#include <json-c/json.h>

#include "bench.h"

static void *jsonc_prepare(const bench_workload_t *w)
{
    (void)w;
    return json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
}

static size_t jsonc_run(void *state, const bench_workload_t *w, size_t chunk)
{
    json_tokener *tok = state;
    size_t ok = 0;

    (void)chunk;
    for (size_t i = 0; i < w->nmsg; i++) {
        json_object *v;

        json_tokener_reset(tok);
        v = json_tokener_parse_ex(tok, w->msg[i], (int)w->msg_len[i]);
        ok += v != NULL && json_tokener_get_error(tok) == json_tokener_success;
        json_object_put(v);
    }
    return ok;
}

static void jsonc_release(void *state)
{
    json_tokener_free(state);
}

const bench_case_t bench_case_jsonc = {
    "json-c", "pre-split (ptr, len), tree built + freed", 0,
    jsonc_prepare, jsonc_run, jsonc_release,
};
