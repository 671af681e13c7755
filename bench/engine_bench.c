/*
 * engine_bench: in-process dispatch rate of the reference engine.
 *
 * One negotiated monitor; every command is fed through qmpk_engine_input()
 * and its reply drained with qmpk_engine_output(), as a server would, with
 * no sockets.  Cases:
 *   trivial      {"execute":"query-name"}, one input() call per command
 *   trivial-id   {"execute":"query-status","id":N}: id echo, a larger reply
 *   pipelined    64 query-name commands per input() call
 *   oob          {"exec-oob":"query-yank"} on a monitor with OOB
 *   job-verbs    job-pause / job-resume on a throttled mirror (each emits a
 *                JOB_STATUS_CHANGE event before its reply)
 *   query-jobs   query-jobs with 8 jobs
 * Each case runs `rounds` times for at least min_ms; the median rate is
 * printed.  The engine's clock is a counter (1 us per command), never the
 * wall clock; the wall clock only times the loop.
 *
 * usage: engine_bench [--rounds N] [--min-ms N] [--only NAME]
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmpkit/engine.h"

typedef struct bench {
    qmpk_engine_t e;
    void *storage;
    uint32_t mon;
    uint64_t now;
    size_t bytes_out;
} bench_t;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static void drain(bench_t *b)
{
    const char *p;
    size_t n;

    while (qmpk_engine_output(&b->e, b->mon, &p, &n)) {
        b->bytes_out += n;
        qmpk_engine_output_consume(&b->e, b->mon, n);
    }
}

static void feed(bench_t *b, const char *s, size_t len)
{
    size_t used = 0;

    b->now += 1000;
    qmpk_engine_input(&b->e, b->mon, s, len, b->now, &used);
    if (used != len) {
        fprintf(stderr, "engine_bench: input not consumed (%zu of %zu)\n", used, len);
        exit(1);
    }
    drain(b);
}

static bool bench_init(bench_t *b, bool oob)
{
    qmpk_engine_config_t cfg;
    const char *neg = oob ? "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}"
                          : "{\"execute\":\"qmp_capabilities\"}";

    memset(b, 0, sizeof *b);
    qmpk_engine_config_default(&cfg);
    cfg.max_monitors = 1;
    size_t need = qmpk_engine_storage_size(&cfg);
    b->storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    if (!b->storage || qmpk_engine_init(&b->e, &cfg, b->storage, need) != QMPK_ENGINE_E_OK)
        return false;
    qmpk_engine_connect(&b->e, 0, NULL, &b->mon);
    feed(b, neg, strlen(neg));
    return true;
}

static const char add_src[] =
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"s%d\"}}";
static const char add_dst[] =
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"d%d\"}}";
static const char mirror[] =
    "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j%d\",\"device\":\"s%d\","
    "\"target\":\"d%d\",\"sync\":\"full\",\"speed\":1}}";

static void setup_jobs(bench_t *b, int n)
{
    char buf[256];

    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, add_src, i);
        feed(b, buf, strlen(buf));
        snprintf(buf, sizeof buf, add_dst, i);
        feed(b, buf, strlen(buf));
        snprintf(buf, sizeof buf, mirror, i, i, i);
        feed(b, buf, strlen(buf));
    }
}

typedef struct bcase {
    const char *name;
    bool oob;
    int jobs;
    int per_input;          /* commands per input() call */
    const char *const *cmds;/* cycled through */
    int ncmds;
} bcase_t;

static const char *const c_trivial[] = { "{\"execute\":\"query-name\"}" };
static const char *const c_trivial_id[] = { "{\"execute\":\"query-status\",\"id\":12345}" };
static const char *const c_oob[] = { "{\"exec-oob\":\"query-yank\"}" };
static const char *const c_verbs[] = { "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"j0\"}}",
                                       "{\"execute\":\"job-resume\",\"arguments\":{\"id\":\"j0\"}}" };
static const char *const c_query_jobs[] = { "{\"execute\":\"query-jobs\"}" };

static const bcase_t cases[] = {
    { "trivial", false, 0, 1, c_trivial, 1 },
    { "trivial-id", false, 0, 1, c_trivial_id, 1 },
    { "pipelined", false, 0, 64, c_trivial, 1 },
    { "oob", true, 0, 1, c_oob, 1 },
    { "job-verbs", false, 1, 1, c_verbs, 2 },
    { "query-jobs", false, 8, 1, c_query_jobs, 1 },
};

/* One round: commands per second of wall-clock time over at least min_s,
 * and per second of this process's CPU time in *cpu_rate (less sensitive
 * to other load on the machine). */
static double run_round(const bcase_t *c, double min_s, size_t *bytes_per_cmd, double *cpu_rate)
{
    static char batch[1 << 16];
    bench_t b;
    size_t blen = 0;
    uint64_t done = 0;

    if (!bench_init(&b, c->oob))
        return 0;
    setup_jobs(&b, c->jobs);
    for (int i = 0; i < c->per_input; i++) {
        size_t n = strlen(c->cmds[0]);
        memcpy(batch + blen, c->cmds[0], n);
        blen += n;
    }
    b.bytes_out = 0;
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double t0 = wall(), t;
    do {
        for (int k = 0; k < 1000; k++) {
            if (c->per_input > 1) {
                feed(&b, batch, blen);
            } else {
                const char *s = c->cmds[done % (uint64_t)c->ncmds];
                feed(&b, s, strlen(s));
            }
            done += (uint64_t)c->per_input;
        }
        t = wall();
    } while (t - t0 < min_s);
    *cpu_rate = (double)done / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
    *bytes_per_cmd = b.bytes_out / done;
    free(b.storage);
    return (double)done / (t - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int rounds = 7, min_ms = 300;
    const char *only = NULL;
    double rates[64], cpu[64];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--min-ms") == 0)
            min_ms = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
    }
    if (rounds < 1 || rounds > 64)
        rounds = 7;
    printf("%-12s %14s %14s %16s %10s\n", "case", "commands/s", "ns/command", "commands/cpu-s",
           "bytes out");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t bpc = 0;
        if (only && strcmp(only, cases[i].name) != 0)
            continue;
        for (int r = 0; r < rounds; r++)
            rates[r] = run_round(&cases[i], min_ms / 1000.0, &bpc, &cpu[r]);
        qsort(rates, (size_t)rounds, sizeof rates[0], cmp_double);
        qsort(cpu, (size_t)rounds, sizeof cpu[0], cmp_double);
        double med = rates[rounds / 2];
        printf("%-12s %14.0f %14.1f %16.0f %10zu\n", cases[i].name, med, 1e9 / med,
               cpu[rounds / 2], bpc);
    }
    return 0;
}
