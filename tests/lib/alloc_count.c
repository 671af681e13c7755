#include "alloc_count.h"

#include <stdbool.h>

/* glibc's own entry points, which the wrappers forward to. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static bool counting;
static size_t calls;

void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void free(void *p);

void *malloc(size_t n)
{
    calls += counting;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    calls += counting;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    calls += counting;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    calls += counting && p;
    __libc_free(p);
}

void qmpk_alloc_count_start(void)
{
    calls = 0;
    counting = true;
}

size_t qmpk_alloc_count_stop(void)
{
    counting = false;
    return calls;
}
