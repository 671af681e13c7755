/*
 * qmp-conform: judge a QMP server (and, through an adapter, a client)
 * against the case corpus in conformance/cases.  See usage() and
 * conformance/README.md.
 */
#include "conform.h"

#include <dirent.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef QMPK_CONFORM_CASES
#define QMPK_CONFORM_CASES "conformance/cases"
#endif
#ifndef QMPK_CONFORM_CLIENT_CASES
#define QMPK_CONFORM_CLIENT_CASES "conformance/client"
#endif
#ifndef QMPK_CONFORM_CLIENT_CASES_INSTALLED
#define QMPK_CONFORM_CLIENT_CASES_INSTALLED "/usr/local/share/qmpkit/conformance/client"
#endif
#ifndef QMPK_CONFORM_CASES_INSTALLED
#define QMPK_CONFORM_CASES_INSTALLED "/usr/local/share/qmpkit/conformance/cases"
#endif

static void usage(FILE *f)
{
    fputs(
        "usage: qmp-conform server (--connect PATH [--connect PATH1 ...] | --exec 'CMD ... {socket} ...')\n"
        "                          [--profile qemu-7.2|extended] [--cases GLOB[,GLOB...]] [--suite DIR|FILE]\n"
        "                          [--chunkings whole,byte,random] [--seed N] [--timeout MS] [--exact]\n"
        "                          [--name LABEL] [--junit FILE] [--json DIR] [--html FILE] [-v]\n"
        "       qmp-conform server --diff 'CMD_A ... {socket}' 'CMD_B ... {socket}' [--cases GLOB] [...]\n"
        "       qmp-conform report --html FILE JSON_DIR [JSON_DIR...]\n"
        "       qmp-conform list [--suite DIR] [--cases GLOB]\n"
        "       qmp-conform client --exec 'ADAPTER {socket} {script}' [--cases GLOB] [--suite DIR|FILE]\n"
        "                          [--chunkings ...] [--timeout MS] [--lacks pipelining]\n"
        "                          [--name LABEL] [--junit F] [--json DIR] [--html F]\n"
        "       qmp-conform from-trace TRACE [--id ID] [--title TITLE] [-o FILE]\n"
        "\n"
        "server: replays every case that applies to the target's profile, each at\n"
        "  every chunking (whole writes, 1-byte writes, seeded random splits).  --exec\n"
        "  starts CMD with {socket}, {socket1}, {socket2}... replaced by one fresh unix\n"
        "  socket per monitor; the process is reused across cases unless a case needs\n"
        "  isolation.  --exact compares '<=' lines byte for byte (QEMU-exact targets).\n"
        "client: plays the server peer of each case in conformance/client on a fresh\n"
        "  socket and runs the adapter with {socket} and {script} replaced; judges\n"
        "  what it sent, printed (JSON lines) and how it ended.  --lacks pipelining\n"
        "  declares a client that waits for each reply before the next command:\n"
        "  cases that need several commands in flight are then UNSUPPORTED.\n"
        "from-trace: writes the session recorded in TRACE (qmp-refd --trace,\n"
        "  qmp-proxy --trace) as one server case that replays it: client bytes\n"
        "  exactly, server messages as expectations with the values --diff masks as\n"
        "  patterns, each connection a monitor (m0..m9, {socketN}), eof where the\n"
        "  server closed.  Default ID trace-01, to stdout; replay it with\n"
        "  'qmp-conform server --exec ... --suite FILE' against the same server.\n"
        "--diff: the same cases, whole writes, on two servers; prints the lines of\n"
        "  what they sent that differ, with the values that vary between correct\n"
        "  servers masked (timestamps, versions, package, job progress, #block\n"
        "  node names).\n"
        "exit status: 0 no case FAILs, 1 some case FAILs (or --diff found a\n"
        "  difference), 2 usage or runtime error (from-trace: 0 written, 2 a\n"
        "  trace it cannot read or a session a case cannot express).\n",
        f);
}

typedef struct opts {
    const char *mode;
    cf_target_t target;
    const char *diff_a, *diff_b;
    const char *suite, *cases, *junit, *json, *html, *name;
    unsigned lacks;      /* client features the adapter declares missing */
    cf_options_t run;
} opts_t;

/* What a client case may list under "requires:" (client mode): its bit,
 * 0 for a word that names no client feature. */
static unsigned client_feature(const char *word)
{
    return strcmp(word, "pipelining") == 0 ? 1u : 0u;
}

static bool matches(const char *globs, const cf_case_t *c)
{
    if (!globs)
        return true;
    char *copy = cf_xstrdup(globs);
    bool hit = false;
    for (char *g = strtok(copy, ","); g && !hit; g = strtok(NULL, ","))
        hit = fnmatch(g, c->id, 0) == 0 || fnmatch(g, c->file, 0) == 0;
    free(copy);
    return hit;
}

/* conformance/cases (server) or conformance/client (client mode) */
static const char *default_suite(bool client)
{
    struct stat st;
    const char *env = getenv(client ? "QMPK_CONFORM_CLIENT_CASES" : "QMPK_CONFORM_CASES");
    if (env && *env)
        return env;
    if (client)
        return stat(QMPK_CONFORM_CLIENT_CASES, &st) == 0 ? QMPK_CONFORM_CLIENT_CASES
                                                          : QMPK_CONFORM_CLIENT_CASES_INSTALLED;
    if (stat(QMPK_CONFORM_CASES, &st) == 0)
        return QMPK_CONFORM_CASES;
    return QMPK_CONFORM_CASES_INSTALLED;
}

static int parse_chunkings(const char *s)
{
    int bits = 0;
    char *copy = cf_xstrdup(s);
    for (char *w = strtok(copy, ","); w; w = strtok(NULL, ",")) {
        if (strcmp(w, "whole") == 0)
            bits |= 1 << CF_CHUNK_WHOLE;
        else if (strcmp(w, "byte") == 0 || strcmp(w, "1") == 0 || strcmp(w, "1-byte") == 0)
            bits |= 1 << CF_CHUNK_BYTE;
        else if (strcmp(w, "random") == 0)
            bits |= 1 << CF_CHUNK_RANDOM;
        else
            bits = -1;
        if (bits < 0)
            break;
    }
    free(copy);
    return bits;
}

/* --lacks LIST: the client features' bits, -1 for an unknown word. */
static int parse_lacks(const char *s)
{
    int bits = 0;
    char *copy = cf_xstrdup(s);
    for (char *w = strtok(copy, ","); w && bits >= 0; w = strtok(NULL, ",")) {
        unsigned bit = client_feature(w);
        if (!bit)
            fprintf(stderr, "qmp-conform: --lacks takes pipelining, not '%s'\n", w);
        bits = bit ? bits | (int)bit : -1;
    }
    free(copy);
    return bits;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    memset(o, 0, sizeof *o);
    cf_target_init(&o->target);
    o->run.timeout_ms = 5000;
    o->run.chunkings = (1 << CF_CHUNK_WHOLE) | (1 << CF_CHUNK_BYTE) | (1 << CF_CHUNK_RANDOM);
    o->run.seed = 1;
    if (argc < 2)
        return 2;
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE() do { if (!v) { fprintf(stderr, "qmp-conform: %s needs a value\n", a); return 2; } i++; } while (0)
        if (strcmp(a, "--connect") == 0) {
            TAKE();
            o->target.paths = cf_xrealloc(o->target.paths, sizeof(char *) *
                                          (size_t)(o->target.npaths + 1));
            o->target.paths[o->target.npaths++] = (char *)v;
        } else if (strcmp(a, "--exec") == 0) {
            TAKE();
            free(o->target.exec);
            o->target.exec = cf_xstrdup(v);
        } else if (strcmp(a, "--diff") == 0) {
            if (i + 2 >= argc) {
                fprintf(stderr, "qmp-conform: --diff needs two commands\n");
                return 2;
            }
            o->diff_a = argv[++i];
            o->diff_b = argv[++i];
        } else if (strcmp(a, "--profile") == 0) {
            TAKE();
            if (strcmp(v, "qemu-7.2") == 0)
                o->run.profile = CF_PROF_QEMU72;
            else if (strcmp(v, "extended") == 0)
                o->run.profile = CF_PROF_EXTENDED;
            else {
                fprintf(stderr, "qmp-conform: unknown profile %s\n", v);
                return 2;
            }
        } else if (strcmp(a, "--cases") == 0) {
            TAKE();
            o->cases = v;
        } else if (strcmp(a, "--suite") == 0) {
            TAKE();
            o->suite = v;
        } else if (strcmp(a, "--junit") == 0) {
            TAKE();
            o->junit = v;
        } else if (strcmp(a, "--json") == 0) {
            TAKE();
            o->json = v;
        } else if (strcmp(a, "--html") == 0) {
            TAKE();
            o->html = v;
        } else if (strcmp(a, "--name") == 0) {
            TAKE();
            o->name = v;
        } else if (strcmp(a, "--chunkings") == 0) {
            TAKE();
            int bits = parse_chunkings(v);
            if (bits <= 0) {
                fprintf(stderr, "qmp-conform: --chunkings takes whole,byte,random\n");
                return 2;
            }
            o->run.chunkings = (unsigned)bits;
        } else if (strcmp(a, "--lacks") == 0) {
            TAKE();
            int bits = parse_lacks(v);
            if (bits < 0)
                return 2;
            o->lacks = (unsigned)bits;
        } else if (strcmp(a, "--seed") == 0) {
            TAKE();
            o->run.seed = strtoull(v, NULL, 0);
        } else if (strcmp(a, "--timeout") == 0) {
            TAKE();
            o->run.timeout_ms = atoi(v);
        } else if (strcmp(a, "--exact") == 0) {
            o->run.exact = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->run.verbose++;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(o->mode, "report") == 0 && a[0] != '-') {
            continue;   /* JSON dirs, collected by cmd_report */
        } else {
            fprintf(stderr, "qmp-conform: unknown argument %s\n", a);
            return 2;
        }
#undef TAKE
    }
    return 0;
}

/* ------------------------------------------------------------------ */

static const char *unsupported(const cf_case_t *c, cf_target_t *t, cf_buf_t *why)
{
    if (c->nmon > t->capacity) {
        cf_buf_addf(why, "needs %d monitors, the target offers %d (add {socket%d} to --exec)",
                    c->nmon, t->capacity, c->nmon - 1);
        return why->p;
    }
    for (int i = 0; i < c->nrequires; i++) {
        const char *r = c->requires[i];
        bool ok = strncmp(r, "cap:", 4) == 0 ? cf_target_has_cap(t, r + 4)
                                             : cf_target_has_command(t, r);
        if (!ok) {
            cf_buf_addf(why, "target lacks %s", r);
            return why->p;
        }
    }
    return NULL;
}

/* A case limited to whole writes (chunking: whole) that --chunkings left
 * out was never run: NOT-RUN, not a PASS with no evidence. */
static void mark_not_run(cf_case_report_t *cr)
{
    if (cr->nruns > 0)
        return;
    cr->verdict = CF_NOTRUN;
    cr->skip_reason = cf_xstrdup("the case runs with whole writes only "
                                 "(chunking: whole), which --chunkings leaves out");
}

static void run_one(const cf_case_t *c, cf_target_t *t, const cf_options_t *o,
                    cf_case_report_t *cr)
{
    cr->c = c;
    cf_buf_t why = {0};
    if (unsupported(c, t, &why)) {
        cr->verdict = CF_UNSUPPORTED;
        cr->skip_reason = cf_buf_take(&why);
        return;
    }
    cr->runs = cf_xcalloc(CF_CHUNK_COUNT, sizeof *cr->runs);
    for (int k = 0; k < CF_CHUNK_COUNT; k++) {
        if (!(o->chunkings & (1u << k)) || (c->whole_only && k != CF_CHUNK_WHOLE))
            continue;
        cf_result_t *r = &cr->runs[cr->nruns++];
        cf_run_case(c, t, o, k, r);
        if (r->verdict > cr->verdict || cr->nruns == 1) {
            cr->worst = cr->nruns - 1;
            cr->verdict = r->verdict;
        }
        if (r->verdict != CF_PASS)
            break;      /* one failing chunking is enough evidence */
    }
    mark_not_run(cr);
}

static bool applicable(const cf_case_t *c, const opts_t *o, unsigned profile,
                       unsigned target)
{
    return (c->profiles & profile) && (c->targets & target) && matches(o->cases, c);
}

static void rm_report_dir(const char *dir)
{
    cf_buf_t p = {0};
    cf_buf_addf(&p, "%s/cases", dir);
    DIR *d = opendir(p.p);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        cf_buf_t f = {0};
        cf_buf_addf(&f, "%s/%s", p.p, e->d_name);
        unlink(f.p);
        cf_buf_free(&f);
    }
    if (d)
        closedir(d);
    rmdir(p.p);
    p.len = 0;
    cf_buf_addf(&p, "%s/index.json", dir);
    unlink(p.p);
    rmdir(dir);
    cf_buf_free(&p);
}

/* Summary and report files; frees the results.  Exit status of the run. */
static int finish(const opts_t *o, cf_run_report_t *rep)
{
    cf_report_summary(rep, stdout);
    bool ok = true;
    if (o->junit)
        ok = cf_report_junit(rep, o->junit) && ok;
    const char *jdir = o->json;
    char tmpl[] = "/tmp/qmp-conform-report.XXXXXX";
    if (!jdir && o->html)
        jdir = mkdtemp(tmpl);
    if (jdir)
        ok = cf_report_json(rep, jdir) && ok;
    if (o->html && jdir) {
        const char *dirs[1] = {jdir};
        ok = cf_report_html(dirs, 1, o->html) && ok;
        if (!o->json)
            rm_report_dir(jdir);
        if (ok)
            printf("HTML report: %s\n", o->html);
    }
    if (o->json)
        printf("JSON report: %s/index.json\n", o->json);
    if (o->junit)
        printf("JUnit report: %s\n", o->junit);
    int fails = rep->counts[CF_FAIL];
    for (int i = 0; i < rep->ncases; i++) {
        for (int k = 0; k < rep->cases[i].nruns; k++)
            cf_result_free(&rep->cases[i].runs[k]);
        free(rep->cases[i].runs);
        free(rep->cases[i].skip_reason);
    }
    free(rep->cases);
    if (!ok)
        return 2;
    return fails ? 1 : 0;
}

static int cmd_server(opts_t *o, cf_suite_t *suite)
{
    cf_target_t *t = &o->target;
    if (!t->exec && !t->npaths) {
        fprintf(stderr, "qmp-conform: server mode needs --connect PATH or --exec CMD\n");
        return 2;
    }
    if (t->exec && t->npaths) {
        fprintf(stderr, "qmp-conform: give --connect or --exec, not both\n");
        return 2;
    }
    if (o->name) {
        t->name = cf_xstrdup(o->name);
    } else {
        /* the program's base name: "qemu-system-x86_64", "qmp-refd" */
        const char *src = t->exec ? t->exec : t->paths[0];
        size_t n = strcspn(src, " \t");
        const char *base = src;
        for (size_t i = 0; i < n; i++)
            if (src[i] == '/')
                base = src + i + 1;
        t->name = cf_xstrndup(base, (size_t)(src + n - base));
    }
    cf_buf_t why = {0};
    if (!cf_target_probe(t, &why)) {
        fprintf(stderr, "qmp-conform: cannot probe the target: %s\n", why.p ? why.p : "?");
        cf_buf_free(&why);
        return 2;
    }
    unsigned profile = o->run.profile ? (unsigned)o->run.profile : t->profiles;
    const char *pname = profile == CF_PROF_EXTENDED ? "extended" : "qemu-7.2";
    cf_run_report_t rep = {0};
    rep.mode = "server";
    rep.target = t->name;
    rep.profile = pname;
    rep.command = t->exec ? t->exec : t->paths[0];
    rep.started_ms = (int64_t)time(NULL) * 1000;
    int64_t t0 = cf_now_ms();
    rep.cases = cf_xcalloc((size_t)suite->ncases, sizeof *rep.cases);
    int total = 0, done = 0, skipped = 0;
    for (int i = 0; i < suite->ncases; i++)
        total += applicable(suite->cases[i], o, profile, CF_TGT_SERVER);
    skipped = suite->ncases - total;
    bool tty = isatty(2);
    fprintf(stderr, "qmp-conform: %d cases for profile %s on %s (%d not applicable)\n",
            total, pname, t->name, skipped);
    for (int i = 0; i < suite->ncases; i++) {
        const cf_case_t *c = suite->cases[i];
        if (!applicable(c, o, profile, CF_TGT_SERVER))
            continue;
        done++;
        if (tty)
            fprintf(stderr, "\r\033[K[%3d/%d] %s %s", done, total, c->id, c->title);
        cf_case_report_t *cr = &rep.cases[rep.ncases++];
        run_one(c, t, &o->run, cr);
        rep.counts[cr->verdict]++;
        if (cr->verdict != CF_PASS || o->run.verbose) {
            const cf_result_t *w = cr->nruns ? &cr->runs[cr->worst] : NULL;
            fprintf(stderr, "%s[%3d/%d] %-11s %s %s%s%s\n", tty ? "\r\033[K" : "", done,
                    total, cf_verdict_name(cr->verdict), c->id, c->title,
                    w && w->reason ? ": " : "", w && w->reason ? w->reason : "");
        }
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    rep.duration_ms = cf_now_ms() - t0;
    cf_target_stop(t);
    return finish(o, &rep);
}

/* client: qmp-conform is the server peer; the client under test runs
 * through an adapter, one fresh socket per case and chunking. */
static void run_client_one(const cf_case_t *c, const opts_t *o, cf_case_report_t *cr)
{
    cr->c = c;
    for (int i = 0; i < c->nrequires; i++) {
        if (o->lacks & client_feature(c->requires[i])) {
            cf_buf_t why = {0};
            cf_buf_addf(&why, "the client lacks %s (--lacks)", c->requires[i]);
            cr->verdict = CF_UNSUPPORTED;
            cr->skip_reason = cf_buf_take(&why);
            return;
        }
    }
    cr->runs = cf_xcalloc(CF_CHUNK_COUNT, sizeof *cr->runs);
    for (int k = 0; k < CF_CHUNK_COUNT; k++) {
        if (!(o->run.chunkings & (1u << k)) || (c->whole_only && k != CF_CHUNK_WHOLE))
            continue;
        cf_result_t *r = &cr->runs[cr->nruns++];
        cf_client_run_case(c, o->target.exec, &o->run, k, r);
        if (r->verdict > cr->verdict || cr->nruns == 1) {
            cr->worst = cr->nruns - 1;
            cr->verdict = r->verdict;
        }
        if (r->verdict != CF_PASS)
            break;      /* one failing chunking is enough evidence */
    }
    mark_not_run(cr);
}

static char *program_name(const char *cmd)
{
    size_t n = strcspn(cmd, " \t");
    const char *base = cmd;
    for (size_t i = 0; i < n; i++)
        if (cmd[i] == '/')
            base = cmd + i + 1;
    return cf_xstrndup(base, (size_t)(cmd + n - base));
}

static int cmd_client(opts_t *o, cf_suite_t *suite)
{
    if (!o->target.exec || o->target.npaths || o->diff_a) {
        fprintf(stderr, "qmp-conform: client mode needs --exec 'ADAPTER {socket} {script}'\n");
        return 2;
    }
    char *name = o->name ? cf_xstrdup(o->name) : program_name(o->target.exec);
    cf_run_report_t rep = {0};
    rep.mode = "client";
    rep.target = name;
    rep.profile = "client";
    rep.command = o->target.exec;
    rep.started_ms = (int64_t)time(NULL) * 1000;
    int64_t t0 = cf_now_ms();
    rep.cases = cf_xcalloc((size_t)suite->ncases + 1, sizeof *rep.cases);
    for (int i = 0; i < suite->ncases; i++) {
        const cf_case_t *c = suite->cases[i];
        if (!(c->targets & CF_TGT_CLIENT) || !matches(o->cases, c))
            continue;
        rep.ncases++;
        for (int k = 0; k < c->nrequires; k++) {
            if (!client_feature(c->requires[k])) {
                fprintf(stderr, "qmp-conform: %s:%d: %s: a client case requires "
                        "pipelining or nothing, not '%s'\n", c->file, c->line, c->id,
                        c->requires[k]);
                free(rep.cases);
                free(name);
                return 2;
            }
        }
    }
    if (!rep.ncases) {
        fprintf(stderr, "qmp-conform: no client case (targets: client) matches\n");
        free(rep.cases);
        free(name);
        return 2;
    }
    fprintf(stderr, "qmp-conform: %d client cases on %s\n", rep.ncases, name);
    int done = 0;
    for (int i = 0; i < suite->ncases; i++) {
        const cf_case_t *c = suite->cases[i];
        if (!(c->targets & CF_TGT_CLIENT) || !matches(o->cases, c))
            continue;
        cf_case_report_t *cr = &rep.cases[done++];
        run_client_one(c, o, cr);
        rep.counts[cr->verdict]++;
        if (cr->verdict != CF_PASS || o->run.verbose) {
            const char *why = cr->nruns ? cr->runs[cr->worst].reason : cr->skip_reason;
            fprintf(stderr, "[%3d/%d] %-11s %s %s%s%s\n", done, rep.ncases,
                    cf_verdict_name(cr->verdict), c->id, c->title,
                    why ? ": " : "", why ? why : "");
        }
    }
    rep.duration_ms = cf_now_ms() - t0;
    int rc = finish(o, &rep);
    free(name);
    return rc;
}

/* --diff: the same cases on two servers; where do their normalized
 * transcripts (what each server sent, timestamps masked) differ? */
static int cmd_diff(opts_t *o, cf_suite_t *suite)
{
    cf_target_t ta, tb;
    cf_target_init(&ta);
    cf_target_init(&tb);
    ta.exec = cf_xstrdup(o->diff_a);
    tb.exec = cf_xstrdup(o->diff_b);
    cf_buf_t why = {0};
    if (!cf_target_probe(&ta, &why) || !cf_target_probe(&tb, &why)) {
        fprintf(stderr, "qmp-conform: cannot probe: %s\n", why.p ? why.p : "?");
        return 2;
    }
    unsigned profile = o->run.profile ? (unsigned)o->run.profile : ta.profiles;
    int ndiff = 0, nrun = 0;
    for (int i = 0; i < suite->ncases; i++) {
        const cf_case_t *c = suite->cases[i];
        if (!applicable(c, o, profile, CF_TGT_SERVER))
            continue;
        cf_buf_t w1 = {0}, w2 = {0};
        if (unsupported(c, &ta, &w1) || unsupported(c, &tb, &w2)) {
            cf_buf_free(&w1);
            cf_buf_free(&w2);
            continue;
        }
        cf_result_t ra, rb;
        cf_run_case(c, &ta, &o->run, CF_CHUNK_WHOLE, &ra);
        cf_run_case(c, &tb, &o->run, CF_CHUNK_WHOLE, &rb);
        nrun++;
        const char *a = ra.transcript.p ? ra.transcript.p : "";
        const char *b = rb.transcript.p ? rb.transcript.p : "";
        if (strcmp(a, b) != 0 || ra.verdict != rb.verdict) {
            ndiff++;
            printf("=== %s %s (%s:%d)\n", c->id, c->title, c->file, c->line);
            printf("  A: %s%s%s\n", cf_verdict_name(ra.verdict), ra.reason ? ": " : "",
                   ra.reason ? ra.reason : "");
            printf("  B: %s%s%s\n", cf_verdict_name(rb.verdict), rb.reason ? ": " : "",
                   rb.reason ? rb.reason : "");
            /* line by line: first lines that differ */
            const char *p = a, *q = b;
            while (*p || *q) {
                const char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
                size_t pl = pe ? (size_t)(pe - p) : strlen(p);
                size_t ql = qe ? (size_t)(qe - q) : strlen(q);
                if (pl != ql || memcmp(p, q, pl) != 0) {
                    printf("  - A %.*s\n  + B %.*s\n", (int)(pl > 400 ? 400 : pl), p,
                           (int)(ql > 400 ? 400 : ql), q);
                }
                p += pl + (pe ? 1 : 0);
                q += ql + (qe ? 1 : 0);
            }
        }
        cf_result_free(&ra);
        cf_result_free(&rb);
    }
    printf("diff: %d of %d cases differ\n", ndiff, nrun);
    cf_target_free(&ta);
    cf_target_free(&tb);
    return ndiff ? 1 : 0;
}

static int cmd_list(opts_t *o, cf_suite_t *suite)
{
    int n = 0;
    for (int i = 0; i < suite->ncases; i++) {
        const cf_case_t *c = suite->cases[i];
        if (!matches(o->cases, c))
            continue;
        n++;
        printf("%-10s %-6s %s%s %s\n", c->id, cf_level_name(c->level),
               c->profiles & CF_PROF_QEMU72 ? "Q" : "-",
               c->profiles & CF_PROF_EXTENDED ? "E" : "-", c->title);
    }
    printf("%d cases\n", n);
    return 0;
}

static bool any_case_matches(const opts_t *o, const cf_suite_t *suite)
{
    for (int i = 0; i < suite->ncases; i++)
        if (matches(o->cases, suite->cases[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "from-trace") == 0)
        return cf_from_trace_main(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        usage(stderr);
        cf_target_free(&o.target);
        return rc;
    }
    if (strcmp(o.mode, "report") == 0) {
        const char **dirs = cf_xcalloc((size_t)argc, sizeof *dirs);
        int n = 0;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--html") == 0) {
                i++;
                continue;
            }
            dirs[n++] = argv[i];
        }
        if (!o.html || !n) {
            usage(stderr);
            free(dirs);
            return 2;
        }
        rc = cf_report_html(dirs, n, o.html) ? 0 : 2;
        if (!rc)
            printf("HTML report: %s\n", o.html);
        free(dirs);
        return rc;
    }
    bool client = strcmp(o.mode, "client") == 0;
    cf_suite_t suite = {0};
    if (!cf_suite_load(&suite, o.suite ? o.suite : default_suite(client))) {
        cf_suite_free(&suite);
        cf_target_free(&o.target);
        return 2;
    }
    if (strcmp(o.mode, "list") != 0 && !any_case_matches(&o, &suite)) {
        /* a mistyped --cases must not pass as an empty, green run */
        fprintf(stderr, "qmp-conform: --cases '%s' matches no case in %s\n", o.cases,
                o.suite ? o.suite : default_suite(client));
        rc = 2;
    } else if (strcmp(o.mode, "list") == 0)
        rc = cmd_list(&o, &suite);
    else if (client)
        rc = cmd_client(&o, &suite);
    else if (strcmp(o.mode, "server") == 0)
        rc = o.diff_a ? cmd_diff(&o, &suite) : cmd_server(&o, &suite);
    else {
        fprintf(stderr, "qmp-conform: unknown command '%s' (server, client, list, report or "
                "from-trace)\n",
                o.mode);
        usage(stderr);
        rc = 2;
    }
    cf_suite_free(&suite);
    cf_target_free(&o.target);
    return rc;
}
