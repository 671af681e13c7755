/*
 * The async extension (spec async.md): async commands on monitors that
 * negotiated "async" reply when their work is done, tagged with their id,
 * possibly after later commands; elsewhere they run synchronously (the
 * monitor reads nothing more until the reply).  Pending commands are kept
 * in a fixed pool with a copy of their request.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const arg_def_t args_delay[] = {
    { "ms", AT_INT, true, NULL, NULL },
    { "result", AT_ANY, false, NULL, NULL },
    { "error", AT_STR, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_cancel[] = {
    { "id", AT_ANY, true, NULL, NULL },
    { "monitor-id", AT_INT, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_none[] = { { NULL, AT_ANY, false, NULL, NULL } };

static void pend_request(qmpk_engine_t *e, struct qmpk_eng_pend *p, eng_req_t *r);

static size_t pend_token_cap(const qmpk_engine_t *e)
{
    return e->cfg.pending_bytes / 2 + 8;   /* as laid out by engine.c */
}

static int pend_id(const struct qmpk_eng_pend *p)
{
    return qmpk_get(&p->msg, 0, "id");
}

static struct qmpk_eng_pend *pend_find(qmpk_engine_t *e, uint32_t mon_id, const qmpk_msg_t *m,
                                       int id)
{
    for (uint32_t i = 0; i < e->cfg.max_pending; i++) {
        struct qmpk_eng_pend *p = &e->pend[i];
        if (p->used && p->mon_id == mon_id && qmpk_equal(&p->msg, pend_id(p), m, id))
            return p;
    }
    return NULL;
}

static struct qmpk_eng_pend *pend_alloc(eng_req_t *r)
{
    for (uint32_t i = 0; i < r->e->cfg.max_pending; i++) {
        if (!r->e->pend[i].used)
            return &r->e->pend[i];
    }
    eng_reply_errorf(r, "GenericError", "Too many pending commands (engine limit %u)",
                     (unsigned)r->e->cfg.max_pending);
    return NULL;
}

static bool pend_fits(eng_req_t *r)
{
    if (r->msg->len <= r->e->cfg.pending_bytes && (size_t)r->msg->ntok <= pend_token_cap(r->e))
        return true;
    eng_reply_error(r, "GenericError", "Command too large for the pending-command pool");
    return false;
}

static bool pend_save(eng_req_t *r, struct qmpk_eng_pend *p)
{
    if (!pend_fits(r))
        return false;
    memcpy(p->bytes, r->msg->json, r->msg->len);
    memcpy(p->tok, r->msg->tok, (size_t)r->msg->ntok * sizeof(jsmntok_t));
    p->msg = *r->msg;
    p->msg.json = p->bytes;
    p->msg.tok = p->tok;
    return true;
}

/* The id rules of async commands; false after replying the error. */
static bool async_id_ok(eng_req_t *r)
{
    if (r->id < 0) {
        eng_reply_error(r, "GenericError", "An async command requires an 'id'");
        return false;
    }
    if (pend_find(r->e, r->mon->id, r->msg, r->id)) {
        eng_reply_error(r, "GenericError", "Command id is already in use by a pending command");
        return false;
    }
    return true;
}

void eng_async_start(eng_req_t *r, uint32_t kind, uint64_t duration_ns)
{
    struct qmpk_eng_pend *p;

    if (!r->mon->async) {
        eng_req_defer(r, eng_now(r->e) + duration_ns, RUN_SYNC_ASYNC);
        return;
    }
    if (!async_id_ok(r))
        return;
    p = pend_alloc(r);
    if (!p || !pend_save(r, p))
        return;
    p->used = true;
    r->e->live_pending++;
    p->mon_id = r->mon->id;
    p->seq = ++r->e->pend_seq;
    p->kind = kind;
    p->started = eng_now(r->e);
    p->due = p->started + duration_ns;
    snprintf(p->name, sizeof p->name, "%s", r->cmd->name);
    r->replied = true;
}

int eng_async_job_check(eng_req_t *r)
{
    if (r->e->cfg.profile != QMPK_PROFILE_EXTENDED || !r->mon->async || r->oob)
        return 0;
    if (!async_id_ok(r) || !pend_fits(r))
        return -1;
    if (!pend_alloc(r))
        return -1;
    return 1;
}

/* The job exists: its creating command now waits for it to conclude. */
void eng_async_job_register(eng_req_t *r, const struct qmpk_eng_job *j)
{
    struct qmpk_eng_pend *p = pend_alloc(r);

    if (!p || !pend_save(r, p))
        return;
    p->used = true;
    r->e->live_pending++;
    p->mon_id = r->mon->id;
    p->seq = ++r->e->pend_seq;
    p->kind = PEND_JOB;
    p->job = j->seq;
    p->started = eng_now(r->e);
    p->due = ENG_NEVER;
    snprintf(p->name, sizeof p->name, "%s", r->cmd->name);
    r->replied = true;
}

/* The job concluded: {} when it succeeded, else its error. */
void eng_async_job_done(qmpk_engine_t *e, const struct qmpk_eng_job *j)
{
    eng_req_t r;

    for (uint32_t i = 0; e->live_pending && i < e->cfg.max_pending; i++) {
        struct qmpk_eng_pend *p = &e->pend[i];
        if (!p->used || p->kind != PEND_JOB || p->job != j->seq)
            continue;
        pend_request(e, p, &r);
        if (r.mon && j->ret == 0)
            eng_reply_empty(&r);
        else if (r.mon)
            eng_reply_error(&r, "GenericError", j->error);
        p->used = false;
        e->live_pending--;
    }
}

/* The reply of a finished async command (x-delay: its result or error). */
static void async_reply(eng_req_t *r, uint32_t kind)
{
    qmpk_writer_t w;
    char err[ENG_ERR_MAX];

    if (kind != PEND_DELAY || r->args < 0) {
        eng_reply_empty(r);
        return;
    }
    int e_tok = qmpk_get(r->msg, r->args, "error");
    int res = qmpk_get(r->msg, r->args, "result");
    if (e_tok >= 0) {
        eng_arg_str(r, e_tok, err, sizeof err);
        eng_reply_error(r, "GenericError", err);
    } else if (res >= 0) {
        eng_reply_begin(r, &w);
        qmpk_w_value(&w, r->msg, res, QMPK_ORDER_QEMU);
        eng_reply_end(r, &w);
    } else {
        eng_reply_empty(r);
    }
}

void eng_async_complete_sync(eng_req_t *r)
{
    bool delay = qmpk_str_eqz(r->msg, qmpk_get(r->msg, 0, "execute"), "x-delay");
    async_reply(r, delay ? PEND_DELAY : PEND_SCREENDUMP);
}

static void pend_request(qmpk_engine_t *e, struct qmpk_eng_pend *p, eng_req_t *r)
{
    memset(r, 0, sizeof *r);
    r->e = e;
    r->mon = eng_mon_find(e, p->mon_id);
    r->msg = &p->msg;
    r->id = pend_id(p);
    r->args = qmpk_get(&p->msg, 0, "arguments");
}

static struct qmpk_eng_pend *pend_next_due(qmpk_engine_t *e, uint64_t t)
{
    struct qmpk_eng_pend *best = NULL;

    for (uint32_t i = 0; i < e->cfg.max_pending; i++) {
        struct qmpk_eng_pend *p = &e->pend[i];
        if (!p->used || p->due > t)
            continue;
        if (!best || p->due < best->due || (p->due == best->due && p->seq < best->seq))
            best = p;
    }
    return best;
}

void eng_pending_run(qmpk_engine_t *e, uint64_t t)
{
    struct qmpk_eng_pend *p;
    eng_req_t r;

    while (e->live_pending && (p = pend_next_due(e, t)) != NULL) {
        pend_request(e, p, &r);
        if (r.mon)
            async_reply(&r, p->kind);
        p->used = false;
        e->live_pending--;
    }
}

uint64_t eng_pending_next(const qmpk_engine_t *e)
{
    uint64_t t = ENG_NEVER;

    for (uint32_t i = 0; e->live_pending && i < e->cfg.max_pending; i++) {
        if (e->pend[i].used && e->pend[i].due < t)
            t = e->pend[i].due;
    }
    return t;
}

void eng_pending_drop_monitor(qmpk_engine_t *e, uint32_t mon_id)
{
    for (uint32_t i = 0; i < e->cfg.max_pending; i++) {
        if (e->pend[i].used && e->pend[i].mon_id == mon_id) {
            e->pend[i].used = false;
            e->live_pending--;
        }
    }
}

void eng_cmd_x_delay(eng_req_t *r)
{
    arg_vals_t v;
    int64_t ms;

    if (!eng_args(r, args_delay, &v))
        return;
    ms = eng_arg_int(r, v.tok[0], 0);
    if (!eng_arg_ms(r, ms, UINT64_MAX / 2 / 1000000u))
        return;
    eng_async_start(r, PEND_DELAY, (uint64_t)ms * 1000000u);
}

void eng_cmd_x_query_pending(eng_req_t *r)
{
    qmpk_writer_t w;
    arg_vals_t v;
    uint32_t last = 0;

    if (!eng_args(r, args_none, &v))
        return;
    eng_reply_begin(r, &w);
    qmpk_w_arr_begin(&w);
    /* oldest first: walk by increasing sequence number */
    for (;;) {
        const struct qmpk_eng_pend *next = NULL;
        for (uint32_t i = 0; i < r->e->cfg.max_pending; i++) {
            const struct qmpk_eng_pend *p = &r->e->pend[i];
            if (p->used && p->mon_id == r->mon->id && p->seq > last &&
                (!next || p->seq < next->seq))
                next = p;
        }
        if (!next)
            break;
        last = next->seq;
        qmpk_w_obj_begin(&w);
        qmpk_w_key(&w, "command");
        qmpk_w_str(&w, next->name);
        qmpk_w_key(&w, "cancellable");
        qmpk_w_bool(&w, true);
        qmpk_w_key(&w, "elapsed-ms");
        qmpk_w_uint(&w, (eng_now(r->e) - next->started) / 1000000u);
        qmpk_w_key(&w, "id");
        qmpk_w_value(&w, &next->msg, pend_id(next), QMPK_ORDER_QEMU);
        qmpk_w_obj_end(&w);
    }
    qmpk_w_arr_end(&w);
    eng_reply_end(r, &w);
}

/* Cancelling a job-creating command cancels its job (job-cancel). */
static void cancel_job(qmpk_engine_t *e, uint32_t seq)
{
    for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
        struct qmpk_eng_job *j = &e->jobs[i];
        if (j->used && j->seq == seq && eng_job_verb_allowed(JV_CANCEL, j->status)) {
            eng_job_cancel(e, j, true);
            return;
        }
    }
}

static void event_command_cancelled(qmpk_engine_t *e, const struct qmpk_eng_pend *p)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, "COMMAND_CANCELLED", true);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "monitor-id");
    qmpk_w_uint(&w, p->mon_id);
    qmpk_w_key(&w, "id");
    qmpk_w_value(&w, &p->msg, pend_id(p), QMPK_ORDER_QEMU);
    qmpk_w_obj_end(&w);
    eng_event_end(e, &w, true);
}

void eng_cmd_x_cancel(eng_req_t *r)
{
    arg_vals_t v;
    eng_req_t victim;

    if (!eng_args(r, args_cancel, &v))
        return;
    int64_t target = eng_arg_int(r, v.tok[1], (int64_t)r->mon->id);
    struct qmpk_eng_pend *p = NULL;
    if (target >= 0 && target <= (int64_t)UINT32_MAX)
        p = pend_find(r->e, (uint32_t)target, r->msg, v.tok[0]);
    if (!p) {
        eng_reply_error(r, "GenericError", "No pending command with that id");
        return;
    }
    pend_request(r->e, p, &victim);
    if (victim.mon)
        eng_reply_error(&victim, "GenericError", "Command cancelled");
    if (p->mon_id != r->mon->id)
        event_command_cancelled(r->e, p);
    p->used = false;
    r->e->live_pending--;
    if (p->kind == PEND_JOB)
        cancel_job(r->e, p->job);
    eng_reply_empty(r);
}

void eng_cmd_x_query_monitor(eng_req_t *r)
{
    qmpk_writer_t w;
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    eng_reply_begin(r, &w);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "monitor-id");
    qmpk_w_uint(&w, r->mon->id);
    qmpk_w_obj_end(&w);
    eng_reply_end(r, &w);
}
