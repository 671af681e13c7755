/*
 * qmp-conform client mode: play the server peer of one client case at one
 * chunking (conformance/README.md, "Client mode").
 *
 * A run: start the adapter (peer.c) on a fresh socket, accept its
 * connection, optionally do the standard greeting and negotiation, replay
 * the case's steps (sends are coalesced until the next wait and written
 * with the chunking under test; "<-" lines judge what the client sent),
 * then wait for the adapter to exit and judge, in this order, the steps,
 * how the adapter ended (clean/error/hung/crashed) and what it printed.
 */
#include "conform.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define CF_GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, " \
                    "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7\"}, "         \
                    "\"capabilities\": [\"oob\"]}}\r\n"

typedef struct peer {
    const cf_case_t *c;
    const cf_options_t *o;
    cf_result_t *r;
    cf_adapter_t ad;
    cf_mon_t mon;
    int chunking;
    uint64_t rng;
    int timeout_ms;
    bool failed;
    cf_buf_t pend;          /* coalesced sends */
    cf_value_t **got;       /* every message the client sent, in order */
    int ngot;
} peer_t;

static void fail(peer_t *p, int step, const char *reason, const char *expected,
                 const char *actual)
{
    if (p->failed)
        return;
    p->failed = true;
    p->r->step = step;
    p->r->reason = cf_xstrdup(reason);
    p->r->expected = expected ? cf_xstrdup(expected) : NULL;
    p->r->actual = actual ? cf_xstrdup(actual) : NULL;
    cf_log_note(&p->r->log, -1, "FAIL: %s", reason);
}

static const char *step_text(const peer_t *p, int step)
{
    return step >= 0 ? p->c->steps[step].text : "qmp_capabilities";
}

/* ------------------------------------------------------------------ */
/* {+id}, {+id:N}, {id}, {id:N} in send lines: the id of the N-th most
 * recent message the client sent (N = 1 when left out).  {+id} is
 * `, "id": ID` or nothing when that message had no id; {id} is ID or null. */

static bool id_text(const peer_t *p, int back, cf_buf_t *out)
{
    if (back < 1 || back > p->ngot)
        return false;
    const cf_value_t *v = p->got[p->ngot - back];
    int t = qmpk_get(&v->msg, 0, "id");
    if (t < 0)
        return false;
    const jsmntok_t *k = &v->msg.tok[t];
    int s = k->start, e = k->end;
    if (k->type == JSMN_STRING) {
        s--;
        e++;
    }
    cf_buf_add(out, v->json + s, (size_t)(e - s));
    return true;
}

static size_t placeholder(const peer_t *p, const char *s, size_t left, cf_buf_t *out)
{
    bool plus = left > 1 && s[1] == '+';
    const char *q = s + 1 + plus;
    size_t rest = left - 1 - (size_t)plus;
    if (rest < 3 || strncmp(q, "id", 2) != 0)
        return 0;
    int back = 1;
    const char *e = q + 2;
    if (*e == ':') {
        char *num_end;
        back = (int)strtol(e + 1, &num_end, 10);
        e = num_end;
    }
    if ((size_t)(e - s) >= left || *e != '}')
        return 0;
    cf_buf_t id = {0};
    bool has = id_text(p, back, &id);
    if (plus && has) {
        cf_buf_adds(out, ", \"id\": ");
        cf_buf_add(out, id.p, id.len);
    } else if (!plus) {
        cf_buf_add(out, has ? id.p : "null", has ? id.len : 4);
    }
    cf_buf_free(&id);
    return (size_t)(e - s) + 1;
}

static void queue_send(peer_t *p, const char *b, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t used = b[i] == '{' ? placeholder(p, b + i, n - i, &p->pend) : 0;
        if (used) {
            i += used;
            continue;
        }
        cf_buf_addc(&p->pend, b[i++]);
    }
}

static bool flush(peer_t *p, int step)
{
    if (!p->pend.len)
        return true;
    bool ok = cf_mon_write(&p->mon, 1, 0, p->pend.p, p->pend.len, p->chunking,
                           &p->rng, &p->r->log, cf_now_ms() + p->timeout_ms);
    p->pend.len = 0;
    /* a client that went away is judged by the next expectation */
    if (!ok && !p->mon.err)
        fail(p, step, "timed out writing to the client (it does not read)", NULL, NULL);
    return ok || p->mon.err;
}

/* ------------------------------------------------------------------ */

/* The next message the client sent (kept in p->got), or NULL (failed). */
static cf_value_t *next_msg(peer_t *p, int step, int64_t deadline)
{
    const char *want = step_text(p, step);
    for (;;) {
        cf_value_t *v = cf_mon_pop(&p->mon);
        if (v && v->invalid) {
            fail(p, step, "the client sent invalid JSON", want, v->raw);
            cf_value_free(v);
            return NULL;
        }
        if (v) {
            p->got = cf_xrealloc(p->got, sizeof *p->got * (size_t)(p->ngot + 1));
            p->got[p->ngot++] = v;
            return v;
        }
        if (p->mon.fd < 0 || p->mon.eof) {
            fail(p, step, "the client closed the connection", want, "EOF");
            return NULL;
        }
        if (!cf_mons_wait(&p->mon, 1, &p->r->log, deadline) && cf_now_ms() >= deadline) {
            fail(p, step, "timed out waiting for a message from the client", want, NULL);
            return NULL;
        }
    }
}

static char *visible(const cf_value_t *v)
{
    cf_buf_t b = {0};
    cf_buf_visible(&b, v->raw, v->raw_len);
    return cf_buf_take(&b);
}

static bool expect_one(peer_t *p, int step, const cf_value_t *pat)
{
    cf_value_t *v = next_msg(p, step, cf_now_ms() + p->timeout_ms);
    if (!v)
        return false;
    cf_buf_t why = {0};
    bool ok = cf_match(pat, v, &why);
    if (!ok) {
        char *a = visible(v);
        fail(p, step, why.p, step_text(p, step), a);
        free(a);
    }
    cf_buf_free(&why);
    return ok;
}

static bool expect_set(peer_t *p, int step, const cf_step_t *st)
{
    int64_t deadline = cf_now_ms() + p->timeout_ms;
    bool *done = cf_xcalloc((size_t)st->npats, sizeof *done);
    bool ok = true;
    for (int left = st->npats; left && ok; left--) {
        cf_value_t *v = next_msg(p, step, deadline);
        int hit = -1;
        for (int i = 0; v && i < st->npats && hit < 0; i++) {
            cf_buf_t why = {0};
            if (!done[i] && cf_match(st->pats[i], v, &why))
                hit = i;
            cf_buf_free(&why);
        }
        if (v && hit < 0) {
            char *a = visible(v);
            fail(p, step, "message matches none of the set's remaining entries", st->text, a);
            free(a);
        }
        ok = hit >= 0;
        if (ok)
            done[hit] = true;
    }
    free(done);
    return ok;
}

/* eof: the client closes its end, sending nothing more first. */
static bool expect_eof(peer_t *p, int step)
{
    int64_t deadline = cf_now_ms() + p->timeout_ms;
    for (;;) {
        cf_value_t *v = cf_mon_pop(&p->mon);
        if (v) {
            char *a = v->invalid ? cf_xstrdup(v->raw) : visible(v);
            fail(p, step, "expected the client to close the connection", "eof", a);
            free(a);
            cf_value_free(v);
            return false;
        }
        if (p->mon.eof || p->mon.fd < 0)
            return true;
        if (!cf_mons_wait(&p->mon, 1, &p->r->log, deadline) && cf_now_ms() >= deadline) {
            fail(p, step, "the client did not close the connection", "eof", NULL);
            return false;
        }
    }
}

/* pause MS: let time pass (a late reply); what the client sends meanwhile
 * stays queued for the next "<-". */
static bool pause_for(peer_t *p, int ms)
{
    int64_t deadline = cf_now_ms() + ms;
    while (cf_now_ms() < deadline) {
        if (p->mon.fd >= 0 && !p->mon.eof)
            cf_mons_wait(&p->mon, 1, &p->r->log, deadline);
        else
            poll(NULL, 0, (int)(deadline - cf_now_ms()));
    }
    return true;
}

/* quiet MS: the client must send nothing for MS ms (it is waiting, e.g. for
 * an event).  A client that sends early is caught when its message arrives
 * within the window: likely, not certain, for a wrong client; never a false
 * failure for a right one. */
static bool expect_quiet(peer_t *p, int step, int ms)
{
    int64_t deadline = cf_now_ms() + ms;
    for (;;) {
        cf_value_t *v = cf_mon_peek(&p->mon);
        if (v) {
            char *a = v->invalid ? cf_xstrdup(v->raw) : visible(v);
            fail(p, step, "the client sent a message while it had to wait", "nothing", a);
            free(a);
            return false;
        }
        if (cf_now_ms() >= deadline || p->mon.fd < 0 || p->mon.eof)
            return true;
        cf_mons_wait(&p->mon, 1, &p->r->log, deadline);
    }
}

static bool do_step(peer_t *p, int i)
{
    const cf_step_t *st = &p->c->steps[i];
    if (st->kind == CF_SEND) {
        /* "->" ends the line with CRLF, as QEMU does; "-+" sends exactly */
        bool crlf = st->text[1] == '>' && st->nbytes && st->bytes[st->nbytes - 1] == '\n';
        queue_send(p, st->bytes, st->nbytes - crlf);
        if (crlf)
            queue_send(p, "\r\n", 2);
        return true;
    }
    if (!flush(p, i))
        return false;
    switch (st->kind) {
    case CF_EXPECT:
    case CF_EXACT:
        return expect_one(p, i, st->pats[0]);
    case CF_SET:
        return expect_set(p, i, st);
    case CF_EOF:
        return expect_eof(p, i);
    case CF_CLOSE:
        cf_mon_close(&p->mon, &p->r->log, 0);
        return true;
    case CF_PAUSE:
        return pause_for(p, st->timeout_ms);
    case CF_QUIET:
        return expect_quiet(p, i, st->timeout_ms);
    default:
        fail(p, i, "this kind of line is not supported in client cases", st->text, NULL);
        return false;
    }
}

/* start: negotiated — greeting, qmp_capabilities, {"return": {}} */
static bool negotiate(peer_t *p)
{
    static cf_value_t *pat;
    if (!pat) {
        const char *j = "{\"execute\": \"qmp_capabilities\", \"$rest\": true}";
        char e[128];
        pat = cf_value_parse(j, strlen(j), e, sizeof e);
    }
    queue_send(p, CF_GREETING, strlen(CF_GREETING));
    if (!flush(p, -1) || !expect_one(p, -1, pat))
        return false;
    const char *ret = "{\"return\": {}{+id}}\r\n";
    queue_send(p, ret, strlen(ret));
    return true;
}

/* ------------------------------------------------------------------ */

/* After the steps: until the adapter exits, whatever the client sends is
 * unexpected (a failed case waits at most a second: it is judged already). */
static void await_exit(peer_t *p)
{
    int64_t deadline = cf_now_ms() + (p->failed && p->timeout_ms > 1000 ? 1000 : p->timeout_ms);
    while (cf_adapter_running(&p->ad) && cf_now_ms() < deadline) {
        if (p->mon.fd >= 0 && !p->mon.eof)
            cf_mons_wait(&p->mon, 1, &p->r->log, cf_now_ms() + 5);
        else
            poll(NULL, 0, 5);
        cf_value_t *v = cf_mon_pop(&p->mon);
        if (v) {
            char *a = v->invalid ? cf_xstrdup(v->raw) : visible(v);
            fail(p, p->c->nsteps - 1, "the client sent a message after the last step",
                 "nothing more", a);
            free(a);
            cf_value_free(v);
        }
    }
    cf_adapter_kill(&p->ad);
    p->r->end = cf_adapter_end(&p->ad);
}

static void check_end(peer_t *p)
{
    if (p->failed && p->r->end == CF_END_CRASHED && p->c->end != CF_END_CRASHED) {
        /* the crash explains the failure better than its symptom */
        char *why = p->r->reason;
        cf_buf_t b = {0};
        cf_buf_addf(&b, "the adapter crashed (%s)", why ? why : "");
        p->r->reason = cf_buf_take(&b);
        free(why);
        return;
    }
    if (p->failed || p->r->end == p->c->end || (p->c->end_ok & (1u << p->r->end)))
        return;
    cf_buf_t b = {0};
    cf_buf_addf(&b, "the adapter ended %s, expected %s", cf_end_name(p->r->end),
                cf_end_name(p->c->end));
    fail(p, -1, b.p, cf_end_name(p->c->end), cf_end_name(p->r->end));
    cf_buf_free(&b);
}

/* Output lines the standard negotiation produces (start: negotiated). */
static bool negotiation_line(const peer_t *p, const cf_value_t *v)
{
    static cf_value_t *pats[2];
    if (!pats[0]) {
        const char *g = "{\"type\": \"greeting\", \"$rest\": true}";
        const char *r = "{\"type\": \"return\", \"seq\": 0, \"$rest\": true}";
        char e[128];
        pats[0] = cf_value_parse(g, strlen(g), e, sizeof e);
        pats[1] = cf_value_parse(r, strlen(r), e, sizeof e);
    }
    if (p->c->start != CF_START_NEGOTIATED)
        return false;
    for (int i = 0; i < 2; i++) {
        cf_buf_t why = {0};
        bool ok = cf_match_plain(pats[i], v, &why);
        cf_buf_free(&why);
        if (ok)
            return true;
    }
    return false;
}

static bool allowed(const peer_t *p, const cf_value_t *v)
{
    for (int i = 0; i < p->c->nallow; i++) {
        cf_buf_t why = {0};
        bool ok = cf_match_plain(p->c->allow[i], v, &why);
        cf_buf_free(&why);
        if (ok)
            return true;
    }
    return negotiation_line(p, v);
}

static void out_mismatch(peer_t *p, int k, const char *why, const char *line, size_t n)
{
    cf_buf_t a = {0};
    cf_buf_visible(&a, line, n > 2000 ? 2000 : n);
    cf_buf_t r = {0};
    cf_buf_addf(&r, "adapter output line %d: %s", k + 1, why);
    cf_buf_t e = {0};
    if (k < p->c->nout)
        cf_value_canon(&e, p->c->out[k], false);
    fail(p, -1, r.p, e.p ? e.p : "no more output", a.p);
    cf_buf_free(&a);
    cf_buf_free(&r);
    cf_buf_free(&e);
}

/* One output line against the next expected one; k counts matches. */
static void out_line(peer_t *p, int *k, const char *line, size_t n)
{
    char err[256];
    cf_value_t *v = cf_value_parse(line, n, err, sizeof err);
    if (!v) {
        out_mismatch(p, *k, "not one JSON value", line, n);
        return;
    }
    cf_buf_t why = {0};
    if (*k < p->c->nout && cf_match_plain(p->c->out[*k], v, &why))
        (*k)++;
    else if (!allowed(p, v))
        out_mismatch(p, *k, *k < p->c->nout ? why.p : "unexpected line", line, n);
    cf_buf_free(&why);
    cf_value_free(v);
}

static void check_output(peer_t *p)
{
    size_t len;
    char *out = cf_adapter_output(&p->ad, false, &len);
    int k = 0;
    for (char *s = out; s < out + len && !p->failed;) {
        char *nl = memchr(s, '\n', (size_t)(out + len - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(out + len - s);
        if (n)
            out_line(p, &k, s, n);
        s += n + 1;
    }
    if (!p->failed && k < p->c->nout)
        out_mismatch(p, k, "missing (the adapter printed nothing more)", "", 0);
    free(out);
}

/* The adapter's output and stderr go into the log for reports. */
static void log_output(peer_t *p)
{
    for (int err = 0; err < 2; err++) {
        size_t len;
        char *s = cf_adapter_output(&p->ad, err, &len);
        if (len)
            cf_log_note(&p->r->log, -1, "adapter %s (%zu bytes):\n%.*s",
                        err ? "stderr" : "stdout", len, (int)(len > 16384 ? 16384 : len), s);
        free(s);
    }
}

static void no_connection(peer_t *p)
{
    cf_buf_t b = {0};
    cf_buf_adds(&b, "the adapter did not connect to {socket}");
    if (!cf_adapter_running(&p->ad))
        cf_buf_addf(&b, " (it ended %s)", cf_end_name(cf_adapter_end(&p->ad)));
    fail(p, -1, b.p, NULL, NULL);
    cf_buf_free(&b);
}

static void run(peer_t *p, const char *exec)
{
    cf_buf_t script = {0}, why = {0};
    for (int i = 0; i < p->c->nscript; i++)
        cf_buf_addf(&script, "%s\n", p->c->script[i]);
    if (!cf_adapter_start(&p->ad, exec, script.p, script.len, &why)) {
        fail(p, -1, why.p ? why.p : "cannot start the adapter", NULL, NULL);
        p->r->end = CF_END_NONE;
    } else {
        int fd = cf_adapter_accept(&p->ad, cf_now_ms() + 10000);
        if (fd < 0 || cf_mon_adopt(&p->mon, fd) != 0)
            no_connection(p);
        else
            cf_log_add(&p->r->log, 0, 'c', p->ad.socket, strlen(p->ad.socket));
        bool ok = !p->failed && (p->c->start != CF_START_NEGOTIATED || negotiate(p));
        for (int i = 0; ok && i < p->c->nsteps; i++)
            ok = do_step(p, i);
        if (ok)
            flush(p, p->c->nsteps - 1);
        await_exit(p);
        check_end(p);
        if (!p->failed)
            check_output(p);
        log_output(p);
    }
    cf_buf_free(&script);
    cf_buf_free(&why);
}

void cf_client_run_case(const cf_case_t *c, const char *exec, const cf_options_t *o,
                        int chunking, cf_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->chunking = chunking;
    r->step = -1;
    r->log.t0_us = cf_now_us();
    int64_t t0 = cf_now_ms();
    peer_t p;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.o = o;
    p.r = r;
    p.chunking = chunking;
    p.rng = o->seed ^ cf_hash(c->id) ^ (uint64_t)chunking;
    p.timeout_ms = c->timeout_ms ? c->timeout_ms : o->timeout_ms;
    cf_mon_init(&p.mon);
    run(&p, exec);
    cf_mon_free(&p.mon);
    cf_adapter_free(&p.ad);
    for (int i = 0; i < p.ngot; i++)
        cf_value_free(p.got[i]);
    free(p.got);
    cf_buf_free(&p.pend);
    r->verdict = !p.failed ? CF_PASS
               : c->level == CF_MUST ? CF_FAIL
               : c->level == CF_SHOULD ? CF_NONSTRICT : CF_INFO_V;
    /* a crash, or not being able to run at all, fails whatever the level */
    if (p.failed && (r->end == CF_END_NONE || (r->end == CF_END_CRASHED &&
                                               c->end != CF_END_CRASHED)))
        r->verdict = CF_FAIL;
    r->duration_ms = cf_now_ms() - t0;
}
