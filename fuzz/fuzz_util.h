/*
 * Small helpers shared by the harnesses (header-only, static functions).
 * An oracle that fails prints the condition and its line and aborts, so
 * libFuzzer, AFL++ and the replay driver all record it as a crash.
 */
#ifndef QMPK_FUZZ_UTIL_H
#define QMPK_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: oracle failed: %s\n", file, line, what);
    abort();
}

/* Abort with the failing condition; never hides a return or goto. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

/* FNV-1a, to compare byte ranges seen at different times. */
static inline uint64_t fuzz_hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 1099511628211ull;
    }
    return h;
}

/* xorshift64*: chunk sizes and choices derived from a header byte. */
static inline uint64_t fuzz_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Is [p, p+n) inside [base, base+size)? */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t size)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && n <= size && a - b <= size - n;
}

#endif
