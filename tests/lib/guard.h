/* Inputs placed flush against an inaccessible page, so that a read past
 * the end faults even without sanitizers (picohttpparser's trick). */
#ifndef QMPK_TEST_GUARD_H
#define QMPK_TEST_GUARD_H
#include <stddef.h>

typedef struct qmpk_guard {
    void *map;
    size_t map_len;
    char *data;   /* len bytes, the last one just before the guard page */
} qmpk_guard_t;

/* Copies data into a guarded region; returns NULL on failure. */
const char *qmpk_guard_put(qmpk_guard_t *g, const char *data, size_t len);
void qmpk_guard_free(qmpk_guard_t *g);
#endif
