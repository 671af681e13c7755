/*
 * qmp-conform: replay one case against a server at one chunking.
 *
 * Sends are buffered and coalesced until the case next waits for something;
 * the buffer is then written with the chunking under test (whole, one byte
 * per write, or seeded random pieces).  Expectations never sleep: each waits
 * for input with a deadline, so a conforming server costs only its own
 * latency and a hung one costs the timeout.
 */
#include "conform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAXMON CF_MAX_MONITORS
/* A connection the server closed may be the first sign of its death: how
 * long to wait for the process to end before calling it a close. */
#define CF_EXIT_GRACE_MS 1000

const char *cf_verdict_name(int v)
{
    switch (v) {
    case CF_PASS: return "PASS";
    case CF_INFO_V: return "INFO";
    case CF_NONSTRICT: return "NON-STRICT";
    case CF_UNSUPPORTED: return "UNSUPPORTED";
    case CF_FAIL: return "FAIL";
    default: return "NOT-RUN";
    }
}

const char *cf_end_name(int e)
{
    switch (e) {
    case CF_END_CLEAN: return "clean";
    case CF_END_EOF: return "closed-by-server";
    case CF_END_HUNG: return "hung";
    case CF_END_CRASHED: return "crashed";
    case CF_END_ERROR: return "error";
    default: return "none";
    }
}

typedef struct run {
    const cf_case_t *c;
    cf_target_t *t;
    const cf_options_t *o;
    cf_result_t *r;
    cf_mon_t mons[MAXMON];
    int nmon;
    int chunking;
    uint64_t rng;
    int timeout_ms;
    bool failed;
    bool expect_eof;
    cf_buf_t pend;          /* coalesced sends for pend_mon */
    int pend_mon;
    const cf_step_t *floating[MAXMON][16];  /* <~ still to arrive */
    int nfloat[MAXMON];
    bool draining;          /* leftovers(): stop once the '<~' arrived */
    bool negotiating;       /* do_connect(): the runner's own exchange */
    int answers;            /* expectations of the case met so far */
} run_t;

static void fail(run_t *x, int step, int end, const char *reason,
                 const char *expected, const char *actual)
{
    if (x->failed)
        return;
    x->failed = true;
    x->r->step = step;
    x->r->end = end;
    x->r->reason = cf_xstrdup(reason);
    x->r->expected = expected ? cf_xstrdup(expected) : NULL;
    x->r->actual = actual ? cf_xstrdup(actual) : NULL;
    cf_log_note(&x->r->log, -1, "FAIL: %s", reason);
}

static int64_t deadline_in(run_t *x, int ms)
{
    return cf_now_ms() + (ms > 0 ? ms : x->timeout_ms);
}

static bool allowed(run_t *x, const cf_value_t *v)
{
    for (int i = 0; i < x->c->nallow; i++) {
        cf_buf_t why = {0};
        bool ok = cf_match(x->c->allow[i], v, &why);
        cf_buf_free(&why);
        if (ok)
            return true;
    }
    return false;
}

static void transcript(run_t *x, int mon, const cf_value_t *v)
{
    cf_buf_addf(&x->r->transcript, "m%d <- ", mon);
    if (v->invalid)
        cf_buf_add(&x->r->transcript, v->raw, v->raw_len);
    else
        cf_value_canon(&x->r->transcript, v, true);
    cf_buf_addc(&x->r->transcript, '\n');
}

/* The server went away: did its process die of a signal?  It may still be
 * exiting when the connection closes. */
static bool server_crashed(run_t *x)
{
    return cf_target_wait_exit(x->t, CF_EXIT_GRACE_MS) && x->t->crashed;
}

static void fail_crashed(run_t *x, int step, const char *expected, const char *actual)
{
    cf_buf_t b = {0};
    cf_buf_adds(&b, "the server crashed");
    if (cf_exit_signal(x->t->exit_status))
        cf_buf_addf(&b, " (signal %d)", cf_exit_signal(x->t->exit_status));
    fail(x, step, CF_END_CRASHED, b.p, expected, actual);
    cf_buf_free(&b);
}

/* The next message from monitor mon, or NULL (failure recorded). */
static cf_value_t *raw_next(run_t *x, int step, int mon, int64_t deadline,
                            const char *waiting_for)
{
    cf_mon_t *m = &x->mons[mon];
    for (;;) {
        cf_value_t *v = cf_mon_pop(m);
        if (v) {
            transcript(x, mon, v);
            if (v->invalid) {
                fail(x, step, CF_END_CLEAN, v->raw, waiting_for, v->raw);
                cf_value_free(v);
                return NULL;
            }
            return v;
        }
        if (m->fd < 0) {
            fail(x, step, CF_END_CLEAN, "monitor is not connected", waiting_for, NULL);
            return NULL;
        }
        if (m->eof) {
            const char *how = m->err ? strerror(m->err) : "EOF";
            if (server_crashed(x))
                fail_crashed(x, step, waiting_for, how);
            else
                fail(x, step, CF_END_EOF, "the server closed the connection",
                     waiting_for, how);
            return NULL;
        }
        if (!cf_mons_wait(x->mons, x->nmon, &x->r->log, deadline) &&
            cf_now_ms() >= deadline) {
            bool crashed = !cf_target_alive(x->t) && x->t->crashed;
            fail(x, step, crashed ? CF_END_CRASHED : CF_END_HUNG,
                 crashed ? "the server crashed" : "timed out waiting for a message",
                 waiting_for, NULL);
            return NULL;
        }
    }
}

/* As raw_next, but messages expected by a pending '<~' are consumed here:
 * they may arrive anywhere before the next reply the case matches. */
static cf_value_t *next_msg(run_t *x, int step, int mon, int64_t deadline,
                            const char *waiting_for)
{
    for (;;) {
        cf_value_t *v = raw_next(x, step, mon, deadline, waiting_for);
        if (!v)
            return NULL;
        int hit = -1;
        for (int i = 0; i < x->nfloat[mon] && hit < 0; i++) {
            cf_buf_t why = {0};
            if (cf_match(x->floating[mon][i]->pats[0], v, &why))
                hit = i;
            cf_buf_free(&why);
        }
        if (hit < 0)
            return v;
        x->floating[mon][hit] = x->floating[mon][--x->nfloat[mon]];
        x->answers++;
        cf_value_free(v);
        if (x->draining && !x->nfloat[mon])
            return NULL;
    }
}

/* A reply was matched: every '<~' before it must have arrived by now. */
static bool floating_done(run_t *x, int step, int mon, const cf_value_t *pat)
{
    if (!x->nfloat[mon] || cf_value_is_event(pat))
        return true;
    fail(x, step, CF_END_CLEAN, "a '<~' message had not arrived before this reply",
         x->floating[mon][0]->text, NULL);
    return false;
}

static char *value_text(const cf_value_t *v)
{
    if (v->invalid || !v->raw)
        return cf_xstrndup(v->raw ? v->raw : "", v->raw_len);
    cf_buf_t b = {0};
    cf_buf_visible(&b, v->raw, v->raw_len);
    return cf_buf_take(&b);
}

static void mismatch(run_t *x, int step, const char *why, const cf_value_t *v)
{
    char *a = value_text(v);
    fail(x, step, CF_END_CLEAN, why, x->c->steps[step].text, a);
    free(a);
}

/* ------------------------------------------------------------------ */

static bool flush(run_t *x, int step)
{
    if (!x->pend.len)
        return true;
    int mon = x->pend_mon;
    bool ok = cf_mon_write(x->mons, x->nmon, mon, x->pend.p, x->pend.len,
                           x->chunking, &x->rng, &x->r->log,
                           deadline_in(x, 0));
    x->pend.len = 0;
    if (!ok) {
        cf_mon_t *m = &x->mons[mon];
        /* a server that closes on bad input is judged by the next
         * expectation (which sees EOF); a stuck one fails here */
        if (!m->err)
            fail(x, step, CF_END_HUNG, "timed out writing to the server", NULL, NULL);
    }
    return ok;
}

/*
 * A send line with {dir}: each one is replaced by the run's directory.  It
 * stands inside a JSON string ("filename": "{dir}/base.qcow2"), so the path
 * goes in as a string body, escaped: mkdtemp's six letters are [A-Za-z0-9],
 * but the prefix is the user's $TMPDIR, which may hold a '"', a backslash
 * or a control byte that would otherwise end the string or break the
 * message.  Bytes >= 0x80 go as they are (canonical escaping), so a UTF-8
 * path reaches the server as the same bytes.
 */
static bool add_with_dir(run_t *x, int step, const cf_step_t *st)
{
    cf_buf_t why = {0};
    const char *dir = cf_target_case_dir(x->t, &why);
    if (!dir) {
        cf_buf_t b = {0};
        cf_buf_addf(&b, "cannot make the case's {dir}: %s", why.p ? why.p : "?");
        fail(x, step, CF_END_NONE, b.p, NULL, NULL);
        cf_buf_free(&b);
        cf_buf_free(&why);
        return false;
    }
    cf_buf_free(&why);
    const char *p = st->bytes, *end = st->bytes + st->nbytes;
    while (p < end) {
        if ((size_t)(end - p) >= CF_DIR_TOKEN_LEN &&
            memcmp(p, CF_DIR_TOKEN, CF_DIR_TOKEN_LEN) == 0) {
            cf_buf_json_escape(&x->pend, dir, strlen(dir), true);
            p += CF_DIR_TOKEN_LEN;
        } else {
            cf_buf_addc(&x->pend, *p++);
        }
    }
    return true;
}

static bool expect_one(run_t *x, int step, int mon, const cf_value_t *pat, bool exact);
static bool negotiate(run_t *x, int step, int mon, int start);

static bool do_connect(run_t *x, int step, int mon, int start)
{
    const char *path = cf_target_socket(x->t, mon);
    if (!path) {
        fail(x, step, CF_END_NONE, "target has no socket for this monitor", NULL, NULL);
        return false;
    }
    int err = cf_mon_connect(&x->mons[mon], path, 10000);
    if (err) {
        cf_buf_t b = {0};
        cf_buf_addf(&b, "cannot connect to %s: %s", path, strerror(err));
        fail(x, step, CF_END_NONE, b.p, NULL, NULL);
        cf_buf_free(&b);
        return false;
    }
    cf_log_add(&x->r->log, mon, 'c', path, strlen(path));
    if (start == CF_START_RAW)
        return true;
    x->negotiating = true;
    bool ok = negotiate(x, step, mon, start);
    x->negotiating = false;
    return ok;
}

/* The greeting and, unless the case starts connected, qmp_capabilities. */
static bool negotiate(run_t *x, int step, int mon, int start)
{
    static cf_value_t *greeting, *ret;
    if (!greeting) {
        char e[128];
        const char *g = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": \"$uint\", "
                        "\"minor\": \"$uint\", \"major\": \"$uint\"}, \"package\": "
                        "\"$string\"}, \"capabilities\": \"$array\"}}";
        greeting = cf_value_parse(g, strlen(g), e, sizeof e);
        ret = cf_value_parse("{\"return\": {}}", 14, e, sizeof e);
    }
    if (!expect_one(x, step, mon, greeting, false))
        return false;
    if (start == CF_START_CONNECTED)
        return true;
    cf_buf_t neg = {0};
    if (x->c->enable)
        cf_buf_addf(&neg, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                    "{\"enable\": %s}}\n", x->c->enable);
    else
        cf_buf_adds(&neg, "{\"execute\": \"qmp_capabilities\"}\n");
    bool ok = cf_mon_write(x->mons, x->nmon, mon, neg.p, neg.len, CF_CHUNK_WHOLE,
                           &x->rng, &x->r->log, deadline_in(x, 0));
    cf_buf_free(&neg);
    if (!ok) {
        if (server_crashed(x))
            fail_crashed(x, step, NULL, NULL);
        else
            fail(x, step, CF_END_EOF, "could not send qmp_capabilities", NULL, NULL);
        return false;
    }
    return expect_one(x, step, mon, ret, false);
}

static bool ensure(run_t *x, int step, int mon)
{
    if (x->mons[mon].fd >= 0)
        return true;
    if (!flush(x, step))
        return false;
    return do_connect(x, step, mon, x->c->start);
}

/* <- and <= : the next message (allowed extras skipped) must match */
static bool expect_one(run_t *x, int step, int mon, const cf_value_t *pat, bool exact)
{
    int64_t deadline = deadline_in(x, 0);
    const char *want = step >= 0 ? x->c->steps[step].text : "greeting";
    for (;;) {
        cf_value_t *v = next_msg(x, step, mon, deadline, want);
        if (!v)
            return false;
        cf_buf_t why = {0};
        bool ok = cf_match(pat, v, &why);
        if (ok && exact) {
            const cf_step_t *st = &x->c->steps[step];
            if (v->raw_len != st->nbytes || memcmp(v->raw, st->bytes, st->nbytes) != 0) {
                ok = false;
                cf_buf_adds(&why, "bytes differ from the expected exact text");
            } else {
                /* the line must end with CRLF and nothing else */
                cf_mon_t *m = &x->mons[mon];
                size_t end = (size_t)v->offset + v->raw_len;
                while (m->raw.len < end + 2 && !m->eof &&
                       cf_mons_wait(x->mons, x->nmon, &x->r->log, deadline))
                    ;
                if (m->raw.len < end + 2 || memcmp(m->raw.p + end, "\r\n", 2) != 0) {
                    ok = false;
                    cf_buf_adds(&why, "message is not followed by CRLF");
                }
            }
        }
        if (ok) {
            cf_buf_free(&why);
            cf_value_free(v);
            x->answers += !x->negotiating;
            return step < 0 || floating_done(x, step, mon, pat);
        }
        if (allowed(x, v)) {
            cf_buf_free(&why);
            cf_value_free(v);
            continue;
        }
        if (step < 0)
            fail(x, step, CF_END_CLEAN, why.p, want, v->raw);
        else
            mismatch(x, step, why.p, v);
        cf_buf_free(&why);
        cf_value_free(v);
        return false;
    }
}

static bool expect_set(run_t *x, int step, const cf_step_t *st)
{
    int64_t deadline = deadline_in(x, 0);
    bool *done = cf_xcalloc((size_t)st->npats, sizeof *done);
    int left = st->npats;
    bool ok = true;
    while (left && ok) {
        cf_value_t *v = next_msg(x, step, st->mon, deadline, st->text);
        if (!v) {
            ok = false;
            break;
        }
        int hit = -1;
        cf_buf_t why = {0};
        for (int i = 0; i < st->npats && hit < 0; i++) {
            if (done[i])
                continue;
            why.len = 0;
            if (cf_match(st->pats[i], v, &why))
                hit = i;
        }
        if (hit >= 0) {
            done[hit] = true;
            left--;
            x->answers++;
        } else if (!allowed(x, v)) {
            cf_buf_t r = {0};
            cf_buf_adds(&r, "message matches none of the unordered set's remaining entries");
            if (st->npats - left == 0 && why.len)
                cf_buf_addf(&r, " (last: %s)", why.p);
            mismatch(x, step, r.p, v);
            cf_buf_free(&r);
            ok = false;
        }
        cf_buf_free(&why);
        cf_value_free(v);
    }
    free(done);
    for (int i = 0; ok && i < st->npats; i++)
        ok = floating_done(x, step, st->mon, st->pats[i]);
    return ok;
}

static bool expect_eventually(run_t *x, int step, const cf_step_t *st)
{
    int64_t deadline = deadline_in(x, st->timeout_ms);
    for (;;) {
        cf_value_t *v = next_msg(x, step, st->mon, deadline, st->text);
        if (!v)
            return false;
        cf_buf_t why = {0};
        bool ok = cf_match(st->pats[0], v, &why);
        bool skip = !ok && (cf_value_is_event(v) || allowed(x, v));
        if (!ok && !skip)
            mismatch(x, step, "a reply arrived while waiting (only events may be skipped)", v);
        cf_buf_free(&why);
        cf_value_free(v);
        if (ok) {
            x->answers++;
            return true;
        }
        if (!skip)
            return false;
    }
}

static bool expect_eof(run_t *x, int step, int mon)
{
    int64_t deadline = deadline_in(x, 0);
    cf_mon_t *m = &x->mons[mon];
    x->expect_eof = true;
    for (;;) {
        cf_value_t *v = cf_mon_pop(m);
        if (v) {
            transcript(x, mon, v);
            if (!allowed(x, v)) {
                mismatch(x, step, "expected the server to close the connection", v);
                cf_value_free(v);
                return false;
            }
            cf_value_free(v);
            continue;
        }
        if (m->eof || m->fd < 0) {
            x->answers++;
            return true;
        }
        if (!cf_mons_wait(x->mons, x->nmon, &x->r->log, deadline) &&
            cf_now_ms() >= deadline) {
            fail(x, step, CF_END_HUNG, "the server did not close the connection",
                 "eof", NULL);
            return false;
        }
    }
}

static bool do_step(run_t *x, int i)
{
    const cf_step_t *st = &x->c->steps[i];
    if (st->kind == CF_CONNECT) {
        if (!flush(x, i))
            return false;
        cf_mon_close(&x->mons[st->mon], &x->r->log, st->mon);
        return do_connect(x, i, st->mon, st->start);
    }
    if (st->kind == CF_CLOSE) {
        if (!flush(x, i))
            return false;
        cf_mon_close(&x->mons[st->mon], &x->r->log, st->mon);
        return true;
    }
    if (!ensure(x, i, st->mon))
        return false;
    if (st->kind == CF_SEND) {
        if (x->pend.len && x->pend_mon != st->mon && !flush(x, i))
            return false;
        x->pend_mon = st->mon;
        if (st->subst_dir)
            return add_with_dir(x, i, st);
        cf_buf_add(&x->pend, st->bytes, st->nbytes);
        return true;
    }
    if (!flush(x, i))
        return false;
    switch (st->kind) {
    case CF_EXPECT: return expect_one(x, i, st->mon, st->pats[0], false);
    case CF_EXACT: return expect_one(x, i, st->mon, st->pats[0], x->o->exact);
    case CF_SET: return expect_set(x, i, st);
    case CF_EVENTUALLY: return expect_eventually(x, i, st);
    case CF_EOF: return expect_eof(x, i, st->mon);
    case CF_FLOAT:
        if (x->nfloat[st->mon] == 16) {
            fail(x, i, CF_END_CLEAN, "too many pending '<~' lines", NULL, NULL);
            return false;
        }
        x->floating[st->mon][x->nfloat[st->mon]++] = st;
        return true;
    default: return false;
    }
}

/* After the last step: replies nobody expected are failures; events that
 * are still arriving are not (they are timing, not behaviour). */
static void leftovers(run_t *x)
{
    for (int k = 0; k < x->nmon && !x->failed; k++) {
        int64_t deadline = deadline_in(x, 0);
        x->draining = true;
        while (x->nfloat[k] && !x->failed) {
            cf_value_t *v = next_msg(x, x->c->nsteps - 1, k, deadline,
                                     x->floating[k][0]->text);
            if (v && !cf_value_is_event(v) && !allowed(x, v)) {
                char *a = value_text(v);
                fail(x, x->c->nsteps - 1, CF_END_CLEAN,
                     "unexpected message while waiting for a '<~' message",
                     x->floating[k][0]->text, a);
                free(a);
            }
            cf_value_free(v);
        }
    }
    for (int k = 0; k < x->nmon && !x->failed; k++) {
        cf_mon_t *m = &x->mons[k];
        if (m->fd >= 0 && !m->eof)
            cf_mon_pump(m, &x->r->log, k);
        cf_value_t *v;
        while ((v = cf_mon_pop(m))) {
            transcript(x, k, v);
            if (!x->failed && (v->invalid || (!cf_value_is_event(v) && !allowed(x, v)))) {
                char *a = value_text(v);
                fail(x, x->c->nsteps - 1, CF_END_CLEAN,
                     "unexpected message after the last step", "nothing more", a);
                free(a);
            }
            cf_value_free(v);
        }
    }
}

/* Processes discarded at start-up go into the log of the case they were
 * started for. */
static void log_startups(cf_target_t *t, cf_log_t *log)
{
    const char *p = t->startlog.p;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        cf_log_note(log, -1, "%.*s", (int)n, p);
        p += n + (nl != NULL);
    }
    t->startlog.len = 0;
    if (t->startlog.p)
        t->startlog.p[0] = '\0';
}

/* One run of the case's steps; r->log is kept across runs. */
static void run_attempt(const cf_case_t *c, cf_target_t *t, const cf_options_t *o,
                        int chunking, cf_result_t *r, run_t *x)
{
    memset(x, 0, sizeof *x);
    x->c = c;
    x->t = t;
    x->o = o;
    x->r = r;
    x->chunking = chunking;
    x->rng = o->seed ^ cf_hash(c->id) ^ (uint64_t)chunking;
    x->timeout_ms = c->timeout_ms ? c->timeout_ms : o->timeout_ms;
    x->nmon = c->nmon < MAXMON ? c->nmon : MAXMON;
    for (int i = 0; i < MAXMON; i++)
        cf_mon_init(&x->mons[i]);

    cf_buf_t why = {0};
    bool ready = cf_target_ready(t, c->fresh_process, &why);
    log_startups(t, &r->log);
    if (!ready) {
        fail(x, -1, CF_END_NONE, why.p ? why.p : "cannot start the server", NULL, NULL);
    } else {
        t->used = true;
        for (int i = 0; i < c->nsteps && !x->failed; i++)
            do_step(x, i);
        if (!x->failed && flush(x, c->nsteps - 1))
            leftovers(x);
    }
    cf_buf_free(&why);
    if (!x->failed && t->exec && !cf_target_alive(t) && t->crashed)
        fail_crashed(x, c->nsteps - 1, NULL, NULL);
    if (!x->failed && x->expect_eof)
        r->end = CF_END_EOF;
    for (int i = 0; i < MAXMON; i++)
        cf_mon_free(&x->mons[i]);
    cf_buf_free(&x->pend);
    /* a failed or isolated case leaves the process in an unknown state */
    if (x->failed || c->fresh_process)
        cf_target_stop(t);
    cf_target_case_done(t);
}

/*
 * The one exception to "a failure is a failure": a process started for this
 * run that dies of a signal before answering any step of the case was hit
 * by the start-up race (see warm_up() in target.c), not by the case; the
 * case then runs once more on a new process, and the log says so.  A close,
 * a hang, or a crash after the first answer is judged as it is.
 */
static bool startup_casualty(const run_t *x, bool started)
{
    return started && x->failed && x->answers == 0 && x->r->end == CF_END_CRASHED;
}

static void reset_result(cf_result_t *r)
{
    free(r->reason);
    free(r->expected);
    free(r->actual);
    r->reason = r->expected = r->actual = NULL;
    r->transcript.len = 0;
    r->step = -1;
    r->end = CF_END_CLEAN;
}

void cf_run_case(const cf_case_t *c, cf_target_t *t, const cf_options_t *o,
                 int chunking, cf_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->chunking = chunking;
    r->step = -1;
    r->end = CF_END_CLEAN;
    r->log.t0_us = cf_now_us();
    int64_t t0 = cf_now_ms();
    run_t x;
    for (int attempt = 0;; attempt++) {
        /* the process will be one no case has used yet */
        bool started = t->exec && (t->pid <= 0 || !cf_target_alive(t) || !t->used ||
                                   c->fresh_process);
        run_attempt(c, t, o, chunking, r, &x);
        if (attempt > 0 || !startup_casualty(&x, started))
            break;
        cf_log_note(&r->log, -1, "start-up race: the fresh process died of signal %d "
                    "before answering any step of the case; the case runs again on a "
                    "new process (docs/CONFORMANCE.md, \"Startup race\")",
                    cf_exit_signal(t->exit_status));
        reset_result(r);
    }
    r->verdict = !x.failed ? CF_PASS
               : c->level == CF_MUST ? CF_FAIL
               : c->level == CF_SHOULD ? CF_NONSTRICT : CF_INFO_V;
    /* not being able to run at all is a failure whatever the level */
    if (x.failed && (r->end == CF_END_NONE || r->end == CF_END_CRASHED))
        r->verdict = CF_FAIL;
    r->duration_ms = cf_now_ms() - t0;
}

void cf_result_free(cf_result_t *r)
{
    free(r->reason);
    free(r->expected);
    free(r->actual);
    cf_log_free(&r->log);
    cf_buf_free(&r->transcript);
    memset(r, 0, sizeof *r);
}
