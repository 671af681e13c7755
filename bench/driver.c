/*
 * Parser benchmark driver, linked into every bench binary.
 *
 *   bench_parser [options]          run everything, print the table
 *   bench_parser_jsonc --serve ...  worker: started by bench_parser
 *
 * bench_parser builds the inputs, starts the workers (json-c and jansson
 * cannot share a program) with the same options, checks that they built
 * byte-identical inputs, then runs every (workload, parser) pair once as a
 * warm-up and `--reps` times for measurement, round-robin: one run of each
 * pair per round, local and worker runs interleaved, so all parsers see the
 * same machine conditions.  The table gives the median time of the rounds,
 * and each ratio as the median of the rounds' own ratios: both runs of a
 * ratio come from one round, a fraction of a second apart, so a machine
 * that slows down and speeds up over the run moves them together.
 *
 * Worker protocol (worker stdin/stdout, one line each):
 *   worker -> "W <workload> <nmsg> <bytes> <hash>" per workload,
 *             "C <case>\t<input form>" per case, then "READY"
 *   runner -> "RUN <workload#> <case#>"   worker -> "<ns> <ok messages>"
 *   runner -> "QUIT" (or EOF)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_WORKERS 4
#define MAX_CASES 32

typedef struct options {
    bench_input_opts_t in;
    const char *min_mb;
    unsigned reps;
    const char *only;
    const char *workers[MAX_WORKERS];
    unsigned nworkers;
    bool no_workers;
    bool serve;
} options_t;

/* A parser as the runner sees it: local or in a worker. */
typedef struct slot_case {
    char name[64];
    char form[128];
    int worker;             /* -1: this process */
    unsigned index;         /* case index in its process */
} slot_case_t;

typedef struct worker {
    pid_t pid;
    FILE *to, *from;
} worker_t;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: bench_parser [--corpus DIR] [--min-mb N] [--reps N] [--only LIST]\n"
        "                    [--worker PATH]... [--no-workers]\n"
        "  --corpus DIR   corpus root holding qemu-7.2/ and libvirt-replies/\n"
        "                 (default /work/shared/corpus)\n"
        "  --min-mb N     repeat each input to at least N MB (default 8)\n"
        "  --reps N       measured rounds, median reported (default 11)\n"
        "  --only LIST    comma list of WORKLOAD, CASE or WORKLOAD:CASE\n"
        "  --worker PATH  worker binary (default: bench_parser_jsonc and\n"
        "                 bench_parser_jansson next to this program)\n"
        "  --no-workers   local parsers only (qmpkit, jsmn, cJSON)\n");
}

static bool parse_options(int argc, char **argv, options_t *o)
{
    memset(o, 0, sizeof(*o));
    o->in.corpus = "/work/shared/corpus";
    o->min_mb = "8";
    o->reps = 11;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;

        if (strcmp(a, "--serve") == 0) {
            o->serve = true, takes = false;
        } else if (strcmp(a, "--no-workers") == 0) {
            o->no_workers = true, takes = false;
        } else if (!v) {
            return false;
        } else if (strcmp(a, "--corpus") == 0) {
            o->in.corpus = v;
        } else if (strcmp(a, "--min-mb") == 0) {
            o->min_mb = v;
        } else if (strcmp(a, "--reps") == 0) {
            o->reps = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--only") == 0) {
            o->only = v;
        } else if (strcmp(a, "--worker") == 0 && o->nworkers < MAX_WORKERS) {
            o->workers[o->nworkers++] = v;
        } else {
            return false;
        }
        i += takes;
    }
    o->in.min_bytes = (size_t)(strtod(o->min_mb, NULL) * 1e6);
    return o->reps > 0;
}

static size_t count_cases(void)
{
    size_t n = 0;

    while (bench_cases[n]) {
        n++;
    }
    return n;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* prepare() once per (workload, case), kept for all rounds. */
static void *states[8][MAX_CASES];

static uint64_t run_local(const bench_workload_t *w, size_t wi, size_t ci,
                          size_t *ok)
{
    const bench_case_t *c = bench_cases[ci];
    uint64_t t0;

    if (!states[wi][ci]) {
        states[wi][ci] = c->prepare(w);
    }
    t0 = now_ns();
    *ok = c->run(states[wi][ci], w, c->chunk);
    return now_ns() - t0;
}

static void release_states(size_t nw)
{
    for (size_t wi = 0; wi < nw; wi++) {
        for (size_t ci = 0; bench_cases[ci]; ci++) {
            if (states[wi][ci]) {
                bench_cases[ci]->release(states[wi][ci]);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* worker side                                                          */

static int serve(const bench_workload_t *w, size_t nw)
{
    char line[256];

    for (size_t i = 0; i < nw; i++) {
        printf("W %s %zu %zu %" PRIu64 "\n", w[i].name, w[i].nmsg,
               w[i].stream_len, w[i].hash);
    }
    for (size_t i = 0; bench_cases[i]; i++) {
        printf("C %s\t%s\n", bench_cases[i]->name, bench_cases[i]->form);
    }
    printf("READY\n");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        size_t wi, ci, ok;
        uint64_t ns;

        if (sscanf(line, "RUN %zu %zu", &wi, &ci) != 2 || wi >= nw
            || ci >= count_cases()) {
            break;
        }
        ns = run_local(&w[wi], wi, ci, &ok);
        printf("%" PRIu64 " %zu\n", ns, ok);
        fflush(stdout);
    }
    release_states(nw);
    return 0;
}

/* ------------------------------------------------------------------ */
/* runner side                                                          */

static bool spawn(const char *path, const options_t *o, worker_t *wk)
{
    int in[2], out[2];

    if (pipe(in) != 0 || pipe(out) != 0) {
        perror("pipe");
        return false;
    }
    wk->pid = fork();
    if (wk->pid < 0) {
        perror("fork");
        return false;
    }
    if (wk->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execl(path, path, "--serve", "--corpus", o->in.corpus,
              "--min-mb", o->min_mb, (char *)NULL);
        fprintf(stderr, "bench: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    wk->to = fdopen(in[1], "w");
    wk->from = fdopen(out[0], "r");
    return wk->to && wk->from;
}

/* Read the worker's inputs (must match ours) and its cases. */
static bool handshake(worker_t *wk, int wid, const bench_workload_t *w,
                      size_t nw, slot_case_t *cases, size_t *ncases)
{
    char line[512];
    size_t seen = 0;

    while (fgets(line, sizeof(line), wk->from)) {
        char name[64];
        size_t nmsg, len;
        uint64_t hash;
        char *tab;

        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "READY") == 0) {
            return seen == nw;
        }
        if (sscanf(line, "W %63s %zu %zu %" SCNu64, name, &nmsg, &len, &hash) == 4) {
            if (seen >= nw || strcmp(name, w[seen].name) != 0 || nmsg != w[seen].nmsg
                || len != w[seen].stream_len || hash != w[seen].hash) {
                fprintf(stderr, "bench: worker built a different input %s\n", name);
                return false;
            }
            seen++;
        } else if (line[0] == 'C' && (tab = strchr(line, '\t')) && *ncases < MAX_CASES) {
            slot_case_t *c = &cases[(*ncases)++];
            *tab = '\0';
            snprintf(c->name, sizeof(c->name), "%.63s", line + 2);
            snprintf(c->form, sizeof(c->form), "%.127s", tab + 1);
            c->worker = wid;
            c->index = 0;
            for (size_t k = 0; k + 1 < *ncases; k++) {
                c->index += cases[k].worker == wid;
            }
        }
    }
    return false;
}

static uint64_t run_remote(worker_t *wk, size_t wi, unsigned ci, size_t *ok)
{
    char line[128];
    uint64_t ns;

    fprintf(wk->to, "RUN %zu %u\n", wi, ci);
    fflush(wk->to);
    if (!fgets(line, sizeof(line), wk->from)
        || sscanf(line, "%" SCNu64 " %zu", &ns, ok) != 2) {
        fprintf(stderr, "bench: worker %d died\n", (int)wk->pid);
        exit(1);
    }
    return ns;
}

static bool selected(const char *only, const char *wname, const char *cname)
{
    char both[160];
    const char *p = only;

    if (!only) {
        return true;
    }
    snprintf(both, sizeof(both), "%.63s:%.63s", wname, cname);
    while (*p) {
        size_t n = strcspn(p, ",");
        if ((strlen(wname) == n && strncmp(p, wname, n) == 0)
            || (strlen(cname) == n && strncmp(p, cname, n) == 0)
            || (strlen(both) == n && strncmp(p, both, n) == 0)) {
            return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

/* Find a worker binary next to argv[0]. */
static const char *beside(const char *argv0, const char *name, char *out, size_t cap)
{
    const char *slash = strrchr(argv0, '/');
    int dir = slash ? (int)(slash - argv0) : 1;

    snprintf(out, cap, "%.*s/%s", dir, slash ? argv0 : ".", name);
    return access(out, X_OK) == 0 ? out : NULL;
}

/* ------------------------------------------------------------------ */
/* measurement and table                                                */

typedef struct slot {
    size_t wi;
    const slot_case_t *c;
    uint64_t *ns;           /* one per round, in round order */
    unsigned reps;
    double median;          /* seconds */
} slot_t;

/*
 * Targets, as t(case) / t(qmpkit whole stream): qmpkit must be at least
 * this many times as fast.  1-byte feeding is judged against 64 KiB chunks
 * of the same configuration.
 */
typedef struct target {
    const char *name;
    double min_speedup;     /* t(name) / t(qmpkit) >= this */
    double max_slowdown;    /* or: t(name) / t(ref) <= this */
    const char *ref;
} target_t;

static const target_t targets[] = {
    { "jsmn", 0.8, 0, NULL }, { "cJSON", 4, 0, NULL }, { "json-c", 10, 0, NULL },
    { "jansson", 10, 0, NULL }, { "qmpkit/1B", 0, 3, "qmpkit/64KiB" },
    { "qmpkit-shared/1B", 0, 3, "qmpkit-shared/64KiB" },
};

static uint64_t run_slot(const slot_t *s, const bench_workload_t *w,
                         worker_t *wk, size_t *ok)
{
    if (s->c->worker < 0) {
        return run_local(&w[s->wi], s->wi, s->c->index, ok);
    }
    return run_remote(&wk[s->c->worker], s->wi, s->c->index, ok);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of slot s's rounds, each round's time divided by ref's in the
 * same round (ref NULL: by 1e9, so the median time in seconds). */
static double median_of_rounds(const slot_t *s, const slot_t *ref)
{
    unsigned n = s->reps;
    double *r = bench_xmalloc(n * sizeof(*r)), m;

    for (unsigned i = 0; i < n; i++) {
        r[i] = (double)s->ns[i] / (ref ? (double)ref->ns[i] : 1e9);
    }
    qsort(r, n, sizeof(*r), cmp_double);
    m = n % 2 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
    free(r);
    return m;
}

/* t(s) / t(ref): the median of the ratios within each round. */
static double paired_ratio(const slot_t *s, const slot_t *ref)
{
    return median_of_rounds(s, ref);
}

/* One warm-up run per slot (checks every message parsed), then the rounds. */
static bool measure(slot_t *slots, size_t ns, unsigned reps,
                    const bench_workload_t *w, worker_t *wk)
{
    for (unsigned r = 0; r <= reps; r++) {
        for (size_t i = 0; i < ns; i++) {
            size_t ok;
            uint64_t t = run_slot(&slots[i], w, wk, &ok);

            if (ok != w[slots[i].wi].nmsg) {
                fprintf(stderr, "bench: %s on %s parsed %zu of %zu messages\n",
                        slots[i].c->name, w[slots[i].wi].name, ok,
                        w[slots[i].wi].nmsg);
                return false;
            }
            if (r > 0) {
                slots[i].ns[r - 1] = t;
            }
        }
        fprintf(stderr, "bench: round %u/%u done\n", r, reps);
    }
    for (size_t i = 0; i < ns; i++) {
        slots[i].reps = reps;
        slots[i].median = median_of_rounds(&slots[i], NULL);
    }
    return true;
}

static const slot_t *find_slot(const slot_t *slots, size_t ns, size_t wi,
                               const char *name)
{
    for (size_t i = 0; i < ns; i++) {
        if (slots[i].wi == wi && strcmp(slots[i].c->name, name) == 0) {
            return &slots[i];
        }
    }
    return NULL;
}

/* Fill the target cells of one row; returns -1 no target, 0 missed, 1 met. */
static int judge(const slot_t *s, const slot_t *slots, size_t ns,
                 char *tgt, size_t cap)
{
    const slot_t *ref;

    for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
        const target_t *t = &targets[k];
        if (strcmp(t->name, s->c->name) != 0) {
            continue;
        }
        if (t->max_slowdown > 0) {
            ref = find_slot(slots, ns, s->wi, t->ref);
            if (!ref) {
                return -1;
            }
            double r = paired_ratio(s, ref);
            snprintf(tgt, cap, "t/t(%s) = %.2f, need <= %.0f", t->ref, r, t->max_slowdown);
            return r <= t->max_slowdown;
        }
        ref = find_slot(slots, ns, s->wi, "qmpkit");
        if (!ref) {
            return -1;
        }
        snprintf(tgt, cap, "need >= %g", t->min_speedup);
        return paired_ratio(s, ref) >= t->min_speedup;
    }
    return -1;
}

static void print_workload(const bench_workload_t *w, size_t wi,
                           const slot_t *slots, size_t ns, unsigned *met,
                           unsigned *missed)
{
    const slot_t *q = find_slot(slots, ns, wi, "qmpkit");
    bool any = false;

    for (size_t i = 0; i < ns; i++) {
        any |= slots[i].wi == wi;
    }
    if (!any) {
        return;
    }
    printf("\n### %s: %zu messages (%zu x %zu), %.2f MB stream\n\n", w->name,
           w->nmsg, w->base_nmsg, w->reps, (double)w->stream_len / 1e6);
    printf("| parser | input | median ms | MB/s | msg/s | t / t(qmpkit) | target | met |\n");
    printf("|---|---|--:|--:|--:|--:|---|---|\n");
    for (size_t i = 0; i < ns; i++) {
        const slot_t *s = &slots[i];
        char tgt[96] = "";
        char ratio[32] = "-";
        int j;

        if (s->wi != wi) {
            continue;
        }
        if (q) {
            snprintf(ratio, sizeof(ratio), "%.2f", paired_ratio(s, q));
        }
        j = judge(s, slots, ns, tgt, sizeof(tgt));
        printf("| %s | %s | %.2f | %.1f | %.0f | %s | %s | %s |\n", s->c->name,
               s->c->form, s->median * 1e3,
               (double)w->stream_len / 1e6 / s->median,
               (double)w->nmsg / s->median, ratio, tgt,
               j < 0 ? "" : j ? "yes" : "**NO**");
        *met += j == 1;
        *missed += j == 0;
    }
}

static void stop_workers(worker_t *wk, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        fprintf(wk[i].to, "QUIT\n");
        fclose(wk[i].to);
        fclose(wk[i].from);
        waitpid(wk[i].pid, NULL, 0);
    }
}

static unsigned start_workers(const options_t *o, const bench_workload_t *w,
                              size_t nw, worker_t *wk, slot_case_t *cases,
                              size_t *ncases)
{
    unsigned n = 0;

    for (unsigned i = 0; i < o->nworkers; i++) {
        if (!o->workers[i]) {
            fprintf(stderr, "bench: a worker binary is missing; its parser is skipped\n");
            continue;
        }
        if (!spawn(o->workers[i], o, &wk[n])
            || !handshake(&wk[n], (int)n, w, nw, cases, ncases)) {
            fprintf(stderr, "bench: worker %s failed to start\n", o->workers[i]);
            n++;
            stop_workers(wk, n);
            return UINT32_MAX;
        }
        n++;
    }
    return n;
}

static int run_all(const options_t *o, const bench_workload_t *w, size_t nw)
{
    slot_case_t cases[MAX_CASES];
    size_t ncases = 0, ns = 0;
    worker_t wk[MAX_WORKERS];
    unsigned nwk, met = 0, missed = 0;
    slot_t *slots;
    bool ok;

    for (size_t ci = 0; bench_cases[ci]; ci++, ncases++) {
        snprintf(cases[ci].name, sizeof(cases[ci].name), "%s", bench_cases[ci]->name);
        snprintf(cases[ci].form, sizeof(cases[ci].form), "%s", bench_cases[ci]->form);
        cases[ci].worker = -1;
        cases[ci].index = (unsigned)ci;
    }
    nwk = start_workers(o, w, nw, wk, cases, &ncases);
    if (nwk == UINT32_MAX) {
        return 1;
    }
    slots = bench_xmalloc(nw * ncases * sizeof(*slots));
    for (size_t wi = 0; wi < nw; wi++) {
        for (size_t ci = 0; ci < ncases; ci++) {
            if (selected(o->only, w[wi].name, cases[ci].name)) {
                slots[ns].wi = wi;
                slots[ns].c = &cases[ci];
                slots[ns++].ns = bench_xmalloc(o->reps * sizeof(uint64_t));
            }
        }
    }
    ok = measure(slots, ns, o->reps, w, wk);
    stop_workers(wk, nwk);
    if (ok) {
        printf("Median of %u interleaved rounds (after one warm-up round); "
               "MB = 10^6 bytes of the stream; t / t(qmpkit) = how many times "
               "faster qmpkit (whole stream) is, as the median of each round's "
               "own ratio.\n", o->reps);
        for (size_t wi = 0; wi < nw; wi++) {
            print_workload(&w[wi], wi, slots, ns, &met, &missed);
        }
        printf("\nTargets: %u met, %u missed.\n", met, missed);
    }
    for (size_t i = 0; i < ns; i++) {
        free(slots[i].ns);
    }
    free(slots);
    release_states(nw);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    options_t o;
    bench_workload_t *w;
    size_t nw;
    int rc;

    if (!parse_options(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    nw = bench_build_workloads(&o.in, &w);
    if (nw == 0 || nw > 8 || count_cases() > MAX_CASES) {
        return 2;
    }
    if (o.serve) {
        rc = serve(w, nw);
    } else {
        static char p1[4096], p2[4096];
        if (!o.no_workers && o.nworkers == 0) {
            o.workers[0] = beside(argv[0], "bench_parser_jsonc", p1, sizeof(p1));
            o.workers[1] = beside(argv[0], "bench_parser_jansson", p2, sizeof(p2));
            o.nworkers = 2;
        }
        rc = run_all(&o, w, nw);
    }
    bench_free_workloads(w, nw);
    return rc;
}
