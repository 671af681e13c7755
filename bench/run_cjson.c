/*
 * cJSON: cJSON_ParseWithLength on each pre-split message (ptr, len; the
 * copy is NUL-terminated anyway), then cJSON_Delete: building and freeing
 * the tree is what a cJSON caller pays per message.
 */
#include <cjson/cJSON.h>

#include "bench.h"

static void *cjson_prepare(const bench_workload_t *w)
{
    (void)w;
    return NULL;
}

static size_t cjson_run(void *state, const bench_workload_t *w, size_t chunk)
{
    size_t ok = 0;

    (void)state;
    (void)chunk;
    for (size_t i = 0; i < w->nmsg; i++) {
        cJSON *v = cJSON_ParseWithLength(w->msg[i], w->msg_len[i]);

        ok += v != NULL;
        cJSON_Delete(v);
    }
    return ok;
}

static void cjson_release(void *state)
{
    (void)state;
}

const bench_case_t bench_case_cjson = {
    "cJSON", "pre-split (ptr, len), tree built + freed", 0,
    cjson_prepare, cjson_run, cjson_release,
};
