/* Total work is linear in the input for any chunking: a parser that
 * rescans the buffered part of a message on every feed call does
 * quadratic work when the message arrives a byte at a time.  Each shape
 * is fed in 1-byte and in 7-byte chunks at two sizes SCALE apart; the CPU
 * time must grow by less than SCALE * SLACK (linear: about SCALE;
 * quadratic: about SCALE squared).  CPU time, the best of a few runs, so
 * that other work on the machine does not count. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#include <qmpkit/parser.h>

#define SMALL_BYTES (64u << 10)
#define SCALE 8u                      /* the large input is SCALE times the small */
#define LARGE_BYTES (SMALL_BYTES * SCALE)
#define SLACK 3.0                     /* linear needs < SCALE, quadratic ~SCALE^2 */
#define RUNS 3                        /* best of */
#define TOKENS (LARGE_BYTES / 2 + 64)

static char in[LARGE_BYTES + 64];
static char buf[LARGE_BYTES + 128];
static jsmntok_t tok[TOKENS];

typedef size_t (*shape_fn)(char *out, size_t bytes);

/* {"execute": "x", "arguments": {"a": [1,1,1,...]}}: many small tokens */
static size_t many_tokens(char *out, size_t bytes)
{
    size_t n = (size_t)sprintf(out, "{\"execute\": \"x\", \"arguments\": {\"a\": [1");
    while (n + 2 < bytes - 4)
        n += (size_t)sprintf(out + n, ",1");
    return n + (size_t)sprintf(out + n, "]}}");
}

/* {"execute": "x", "arguments": {"s": "aaaa..."}}: one long token */
static size_t long_string(char *out, size_t bytes)
{
    size_t n = (size_t)sprintf(out, "{\"execute\": \"x\", \"arguments\": {\"s\": \"");
    while (n < bytes - 4)
        out[n++] = 'a';
    return n + (size_t)sprintf(out + n, "\"}}");
}

/* {"k0000001": 1, ...}: many members, each checked for duplicates */
static size_t many_members(char *out, size_t bytes)
{
    size_t n = 0;
    out[n++] = '{';
    for (unsigned i = 0; n + 16 < bytes - 2; i++)
        n += (size_t)sprintf(out + n, "%s\"k%07u\": 1", i ? ", " : "", i);
    out[n++] = '}';
    return n;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Feeds len bytes chunk bytes at a time; true when exactly one message
 * and no error came out. */
static bool feed_all(const char *data, size_t len, size_t chunk)
{
    qmpk_stream_config_t cfg = { .buf = buf, .buf_size = sizeof(buf), .tok = tok,
                                 .tok_count = TOKENS, .dialect = QMPK_DIALECT_QEMU };
    qmpk_stream_t s;
    int messages = 0, errors = 0;

    if (qmpk_stream_init(&s, &cfg) != QMPK_E_OK)
        return false;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < chunk ? len - off : chunk, used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t r = qmpk_stream_feed(&s, data + off, n, &used, &m, &e);
        messages += r == QMPK_FEED_MESSAGE;
        errors += r == QMPK_FEED_ERROR;
        off += used;
    }
    return messages == 1 && errors == 0;
}

/* What the check must catch: each chunk makes the parser start over on
 * everything buffered so far. */
static bool feed_rescanning(const char *data, size_t len, size_t chunk)
{
    bool ok = true;
    for (size_t end = chunk; end < len + chunk; end += chunk)
        ok = feed_all(data, end < len ? end : len, len) == (end >= len) && ok;
    return ok;
}

typedef bool (*feeder_fn)(const char *data, size_t len, size_t chunk);

static double best_time(feeder_fn feed, const char *data, size_t len, size_t chunk, bool *ok)
{
    double best = 1e9;
    for (int i = 0; i < RUNS; i++) {
        double t0 = cpu_seconds();
        *ok = feed(data, len, chunk) && *ok;
        double t = cpu_seconds() - t0;
        best = t < best ? t : best;
    }
    return best;
}

/* CPU time at LARGE_BYTES over that at SMALL_BYTES */
static double growth(const char *name, shape_fn make, feeder_fn feed, size_t chunk, bool *ok)
{
    size_t small = make(in, SMALL_BYTES);
    double ts = best_time(feed, in, small, chunk, ok);
    size_t large = make(in, LARGE_BYTES);
    double tl = best_time(feed, in, large, chunk, ok);
    /* a timer tick is the floor: below it the ratio means nothing */
    double ratio = tl / (ts > 1e-4 ? ts : 1e-4);
    printf("    %s, %zu-byte chunks: %zu bytes %.4f s, %zu bytes %.4f s, x%.1f\n", name,
           chunk, small, ts, large, tl, ratio);
    return ratio;
}

static void check_shape(const char *name, shape_fn make)
{
    static const size_t chunks[] = { 1, 7 };
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        bool ok = true;
        double ratio = growth(name, make, feed_all, chunks[c], &ok);
        CHECK(ok);
        CHECK(ratio < SCALE * SLACK);
    }
}

static void the_measure_sees_quadratic_work(void)
{
    bool ok = true;
    double ratio = growth("rescanning feeder", many_tokens, feed_rescanning, 4096, &ok);
    CHECK(ok);
    CHECK(ratio > SCALE * SLACK);
}

static void many_small_tokens_cost_linear_time(void)
{
    check_shape("many tokens", many_tokens);
}

static void one_long_string_costs_linear_time(void)
{
    check_shape("long string", long_string);
}

static void many_members_cost_linear_time(void)
{
    check_shape("many members", many_members);
}

static const qmpk_test_t tests[] = {
    { "the measure sees quadratic work", the_measure_sees_quadratic_work },
    { "many small tokens cost linear time at any chunking", many_small_tokens_cost_linear_time },
    { "one long string costs linear time at any chunking", one_long_string_costs_linear_time },
    { "many members cost linear time at any chunking", many_members_cost_linear_time },
};

int main(int argc, char **argv)
{
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
