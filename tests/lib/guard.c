#define _DEFAULT_SOURCE
#include "guard.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *qmpk_guard_put(qmpk_guard_t *g, const char *data, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (len + page - 1) / page * page;
    char *m;

    if (body == 0) {
        body = page;
    }
    m = mmap(NULL, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        g->map = NULL;
        return NULL;
    }
    if (mprotect(m + body, page, PROT_NONE) != 0) {
        munmap(m, body + page);
        g->map = NULL;
        return NULL;
    }
    g->map = m;
    g->map_len = body + page;
    g->data = m + body - len;
    if (len) {
        memcpy(g->data, data, len);
    }
    return g->data;
}

void qmpk_guard_free(qmpk_guard_t *g)
{
    if (g->map) {
        munmap(g->map, g->map_len);
        g->map = NULL;
    }
}
