/*
 * Run a stream over an input with a chosen chunking and record every item
 * as one text line, so runs at different chunkings can be compared:
 *   M <offset> <index> <QEMU re-serialization of the value>
 *   E <offset> <index> <QMPK_E_NAME> <QEMU desc text, JSON-escaped>
 */
#ifndef QMPK_TEST_FEED_H
#define QMPK_TEST_FEED_H
#include <stdbool.h>
#include <stddef.h>

#include "qmpkit/parser.h"

typedef struct qmpk_items {
    char *text;
    size_t len, cap;
    int messages, errors;
    int last_error;     /* code of the last error item */
} qmpk_items_t;

typedef struct qmpk_run_cfg {
    qmpk_dialect_t dialect;
    size_t buf_size;        /* 0: input length + 64 */
    unsigned tok_count;     /* 0: input length + 16 */
    uint32_t max_depth, max_tokens;
    uint64_t max_token_size;
    bool finish;            /* call qmpk_stream_finish at the end */
    unsigned flags;         /* qmpk_stream_config_t.flags */
} qmpk_run_cfg_t;

/* cuts: ascending split points inside [1, len); chunk > 0 instead splits
 * every chunk bytes (ncuts ignored when cuts is NULL). */
void qmpk_items_run(qmpk_items_t *out, const qmpk_run_cfg_t *cfg,
                    const char *in, size_t len, size_t chunk,
                    const size_t *cuts, size_t ncuts);
void qmpk_items_free(qmpk_items_t *it);
#endif

/*
 * The chunking check every parser test goes through: the items of input
 * fed whole must equal `expected`, and feeding it split at every single
 * point (inputs up to 512 bytes), at every pair of points (up to 24
 * bytes), and in chunks of 1..8 bytes must give the same items, on the
 * fast path (with and without QMPK_STREAM_OWN_TOKENS) and on the exact
 * path alone (QMPK_STREAM_EXACT_ONLY).
 */
bool qmpk_expect_items(const qmpk_run_cfg_t *cfg, const char *in, size_t len,
                       const char *expected, const char *file, int line);
/* The fast path and the exact path give the same items for in. */
bool qmpk_same_items_both_paths(const qmpk_run_cfg_t *cfg, const char *in, size_t len,
                                size_t chunk, const char *what);
#define EXPECT_ITEMS(cfg, in, expected) \
    qmpk_expect_items((cfg), (in), sizeof(in) - 1, (expected), __FILE__, __LINE__)
