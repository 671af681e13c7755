/*
 * The job state machine of QEMU's job.c: the transition table JobSTT, the
 * verb table JobVerbTable, and the completion paths (success, transaction
 * abort, finalize, conclude, dismiss) with their events in QEMU's order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *const eng_job_status_name[JS__COUNT] = {
    [JS_UNDEFINED] = "undefined", [JS_CREATED] = "created",   [JS_RUNNING] = "running",
    [JS_PAUSED] = "paused",       [JS_READY] = "ready",       [JS_STANDBY] = "standby",
    [JS_WAITING] = "waiting",     [JS_PENDING] = "pending",   [JS_ABORTING] = "aborting",
    [JS_CONCLUDED] = "concluded", [JS_NULL] = "null",
};

const char *const eng_job_verb_name[JV__COUNT] = {
    [JV_CANCEL] = "cancel",       [JV_PAUSE] = "pause",       [JV_RESUME] = "resume",
    [JV_SET_SPEED] = "set-speed", [JV_COMPLETE] = "complete", [JV_DISMISS] = "dismiss",
    [JV_FINALIZE] = "finalize",
};

const char *const eng_job_type_name[] = {
    [JT_COMMIT] = "commit", [JT_STREAM] = "stream", [JT_MIRROR] = "mirror", [JT_BACKUP] = "backup",
    [JT_CREATE] = "create",
};

/* JobSTT (job.c): row = from, column = to. */
static const bool job_stt[JS__COUNT][JS__COUNT] = {
    [JS_UNDEFINED] = { [JS_CREATED] = true },
    [JS_CREATED] = { [JS_RUNNING] = true, [JS_ABORTING] = true, [JS_NULL] = true },
    [JS_RUNNING] = { [JS_PAUSED] = true, [JS_READY] = true, [JS_WAITING] = true,
                     [JS_ABORTING] = true },
    [JS_PAUSED] = { [JS_RUNNING] = true },
    [JS_READY] = { [JS_STANDBY] = true, [JS_WAITING] = true, [JS_ABORTING] = true },
    [JS_STANDBY] = { [JS_READY] = true },
    [JS_WAITING] = { [JS_PENDING] = true, [JS_ABORTING] = true },
    [JS_PENDING] = { [JS_ABORTING] = true, [JS_CONCLUDED] = true },
    [JS_ABORTING] = { [JS_ABORTING] = true, [JS_CONCLUDED] = true },
    [JS_CONCLUDED] = { [JS_NULL] = true },
    [JS_NULL] = { [JS_UNDEFINED] = false },
};

/* JobVerbTable (job.c): row = verb, column = state. */
static const bool job_verbs[JV__COUNT][JS__COUNT] = {
    [JV_CANCEL] = { [JS_CREATED] = true, [JS_RUNNING] = true, [JS_PAUSED] = true,
                    [JS_READY] = true, [JS_STANDBY] = true, [JS_WAITING] = true,
                    [JS_PENDING] = true },
    [JV_PAUSE] = { [JS_CREATED] = true, [JS_RUNNING] = true, [JS_PAUSED] = true,
                   [JS_READY] = true, [JS_STANDBY] = true },
    [JV_RESUME] = { [JS_CREATED] = true, [JS_RUNNING] = true, [JS_PAUSED] = true,
                    [JS_READY] = true, [JS_STANDBY] = true },
    [JV_SET_SPEED] = { [JS_CREATED] = true, [JS_RUNNING] = true, [JS_PAUSED] = true,
                       [JS_READY] = true, [JS_STANDBY] = true },
    [JV_COMPLETE] = { [JS_READY] = true, [JS_STANDBY] = true },
    [JV_DISMISS] = { [JS_CONCLUDED] = true },
    [JV_FINALIZE] = { [JS_PENDING] = true },
};

_Static_assert(JS__COUNT == 11, "QEMU's JobStatus has 11 values");
_Static_assert(JV__COUNT == 7, "QEMU 7.2's JobVerb has 7 values");
_Static_assert(sizeof job_stt / sizeof job_stt[0] == JS__COUNT, "one STT row per state");
_Static_assert(sizeof job_verbs / sizeof job_verbs[0] == JV__COUNT, "one row per verb");

bool eng_job_transition_allowed(job_status_t from, job_status_t to)
{
    return from < JS__COUNT && to < JS__COUNT && job_stt[from][to];
}

bool eng_job_verb_allowed(job_verb_t v, job_status_t s)
{
    return v < JV__COUNT && s < JS__COUNT && job_verbs[v][s];
}

void eng_job_transition(qmpk_engine_t *e, struct qmpk_eng_job *j, job_status_t to)
{
    job_status_t from = j->status;

    if (e->transition_hook)
        e->transition_hook(e->transition_ctx, (int)from, (int)to);
    j->status = to;
    /* X->X is allowed and silent; every real change of a job with an id
     * is announced */
    if (from != to)
        eng_event_job_status(e, j);
}

struct qmpk_eng_job *eng_job_find(qmpk_engine_t *e, const char *id)
{
    for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
        struct qmpk_eng_job *j = &e->jobs[i];
        if (j->used && strcmp(j->id, id) == 0)
            return j;
    }
    return NULL;
}

bool eng_job_apply_verb(qmpk_engine_t *e, struct qmpk_eng_job *j, job_verb_t v, char *err,
                        size_t cap)
{
    (void)e;
    if (eng_job_verb_allowed(v, j->status))
        return true;
    snprintf(err, cap, "Job '%s' in state '%s' cannot accept command verb '%s'", j->id,
             eng_job_status_name[j->status], eng_job_verb_name[v]);
    return false;
}

/* job_is_completed_locked() */
static bool job_is_completed(const struct qmpk_eng_job *j)
{
    return j->status == JS_WAITING || j->status == JS_PENDING || j->status == JS_ABORTING ||
           j->status == JS_CONCLUDED || j->status == JS_NULL;
}

static bool job_is_ready(const struct qmpk_eng_job *j)
{
    return j->status == JS_READY || j->status == JS_STANDBY;
}

/* Can the job's coroutine be entered now (sleeping on its timer, idle, or
 * due)?  A job waiting for I/O reaches its pause point only later. */
static bool job_enterable(const struct qmpk_eng_job *j)
{
    return (j->status == JS_RUNNING || j->status == JS_READY) && !j->inflight &&
           !j->completed_work;
}

/* job_pause_point(): the job notices a pause request. */
void eng_job_pause_point(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (j->pause_count <= 0)
        return;
    j->wake = ENG_NEVER;
    j->timer = false;
    eng_job_transition(e, j, j->status == JS_READY ? JS_STANDBY : JS_PAUSED);
}

void eng_job_pause(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    j->pause_count++;
    if (job_enterable(j))
        eng_job_pause_point(e, j);
}

/* job_resume_locked(): the last resume wakes the job, which leaves its
 * pause point and runs on until it next yields (one step here). */
void eng_job_resume(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (j->pause_count > 0)
        j->pause_count--;
    if (j->pause_count > 0)
        return;
    if (j->status != JS_PAUSED && j->status != JS_STANDBY)
        return;
    eng_job_transition(e, j, j->status == JS_STANDBY ? JS_READY : JS_RUNNING);
    eng_blockjob_step(e, j);
}

/* A drained section begins and ends around a command: the pause/resume
 * pair QEMU shows as JOB_STATUS_CHANGE paused, running. */
void eng_job_drain(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (j->inflight) {
        /* the drain waits for in-flight requests to complete */
        j->wake = eng_now(e);
        eng_blockjob_step(e, j);
        if (!j->used)
            return;
    }
    eng_job_pause(e, j);
    eng_job_resume(e, j);
}

void eng_job_start(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    j->pause_count--;
    j->started = true;
    eng_job_transition(e, j, JS_RUNNING);
    j->wake = eng_now(e);
    if (j->pause_count > 0)
        eng_job_pause_point(e, j);
}

void eng_job_release(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    int idx = (int)(j - e->jobs);

    for (uint32_t i = 0; i < e->cfg.max_nodes; i++) {
        if (e->nodes[i].used && e->nodes[i].busy_job == idx)
            e->nodes[i].busy_job = -1;
    }
    j->used = false;
    e->live_jobs--;
}

void eng_job_dismiss(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    eng_job_transition(e, j, JS_NULL);
    eng_job_release(e, j);
}

/* job_update_rc_locked() */
static void job_update_rc(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (!j->ret && j->force)
        j->ret = -ECANCELED;
    if (!j->ret)
        return;
    if (!j->error[0])
        snprintf(j->error, sizeof j->error, "%s", eng_strerror(-j->ret));
    eng_job_transition(e, j, JS_ABORTING);
}

/* job_conclude_locked(): a job that never started is dismissed at once */
static void job_conclude(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    eng_job_transition(e, j, JS_CONCLUDED);
    eng_async_job_done(e, j);
    if (j->auto_dismiss || !j->started)
        eng_job_dismiss(e, j);
}

/* job_finalize_single_locked() */
static void job_finalize_single(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    job_update_rc(e, j);
    if (!j->ret)
        eng_blockjob_prepare(e, j);
    j->in_drain = false;        /* prepare/abort end the mirror's drain */
    if (j->started && j->type != JT_CREATE)     /* a create job is no block job */
        eng_event_block_job(e, j, j->force ? "BLOCK_JOB_CANCELLED" : "BLOCK_JOB_COMPLETED");
    j->txn = 0;
    job_conclude(e, j);
}

/* Jobs of transaction txn, newest first (QEMU inserts at the list head). */
static int txn_members(qmpk_engine_t *e, const struct qmpk_eng_job *j,
                       struct qmpk_eng_job **out, int cap)
{
    int n = 0;

    if (!j->txn) {
        out[0] = (struct qmpk_eng_job *)j;
        return 1;
    }
    for (uint32_t i = 0; i < e->cfg.max_jobs && n < cap; i++) {
        if (e->jobs[i].used && e->jobs[i].txn == j->txn)
            out[n++] = &e->jobs[i];
    }
    for (int a = 1; a < n; a++) {
        for (int b = a; b > 0 && out[b]->seq > out[b - 1]->seq; b--) {
            struct qmpk_eng_job *t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    }
    return n;
}

#define TXN_MAX 64

static void job_do_finalize(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    struct qmpk_eng_job *m[TXN_MAX];
    int n = txn_members(e, j, m, TXN_MAX);

    for (int i = 0; i < n; i++)
        job_finalize_single(e, m[i]);
}

static void job_completed_txn_success(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    struct qmpk_eng_job *m[TXN_MAX];
    int n;

    eng_job_transition(e, j, JS_WAITING);
    n = txn_members(e, j, m, TXN_MAX);
    for (int i = 0; i < n; i++) {
        if (!job_is_completed(m[i]))
            return;
    }
    bool manual = false;
    for (int i = 0; i < n; i++) {
        eng_job_transition(e, m[i], JS_PENDING);
        if (!m[i]->auto_finalize) {
            eng_event_block_job_pending(e, m[i]);
            manual = true;
        }
    }
    if (!manual)
        job_do_finalize(e, j);
}

/* job_finish_sync_locked() for a force-cancelled peer: drive it to the end */
static void job_finish_sync(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (j->pause_count == 0 && (j->status == JS_PAUSED || j->status == JS_STANDBY))
        eng_job_transition(e, j, j->status == JS_STANDBY ? JS_READY : JS_RUNNING);
    j->inflight = 0;
    j->completed_work = true;
    j->exit_pending = false;
    j->wake = ENG_NEVER;
    job_update_rc(e, j);
}

/* job_completed_txn_abort_locked(): peers are force-cancelled, driven to
 * completion, and every job of the transaction is finalized. */
static void job_completed_txn_abort(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    struct qmpk_eng_job *m[TXN_MAX];
    int n;

    if (j->txn_aborting)
        return;
    n = txn_members(e, j, m, TXN_MAX);
    for (int i = 0; i < n; i++)
        m[i]->txn_aborting = true;
    for (int i = 0; i < n; i++) {
        if (m[i] != j)
            eng_job_cancel_async(e, m[i], true);
    }
    for (int i = 0; i < n; i++) {
        if (!job_is_completed(m[i]))
            job_finish_sync(e, m[i]);
        job_finalize_single(e, m[i]);
    }
}

/* job_completed_locked(): runs once the driver returned (job_exit BH) */
void eng_job_completed(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    j->completed_work = true;
    j->wake = ENG_NEVER;
    job_update_rc(e, j);
    if (j->ret)
        job_completed_txn_abort(e, j);
    else
        job_completed_txn_success(e, j);
}

/* job_cancel_async_locked() */
void eng_job_cancel_async(qmpk_engine_t *e, struct qmpk_eng_job *j, bool force)
{
    (void)e;
    /* only mirror (and active commit) cancel softly, and only once ready */
    bool soft_ok = (j->type == JT_MIRROR || j->active_commit) && job_is_ready(j);
    force = force || !soft_ok;
    if (j->user_paused) {
        j->io_status = IOS_OK;
        j->user_paused = false;
        j->pause_count--;
    }
    /* a soft cancel after the work is done is ignored */
    if (force || !j->completed_work) {
        j->cancelled = true;
        j->force |= force;
    }
}

/* job_cancel_locked() */
void eng_job_cancel(qmpk_engine_t *e, struct qmpk_eng_job *j, bool force)
{
    if (j->status == JS_CONCLUDED) {
        eng_job_dismiss(e, j);
        return;
    }
    eng_job_cancel_async(e, j, force);
    if (!j->started) {
        eng_job_completed(e, j);
    } else if (j->completed_work) {
        if (j->force)
            job_completed_txn_abort(e, j);
    } else if (j->pause_count == 0 && (j->status == JS_PAUSED || j->status == JS_STANDBY)) {
        eng_job_transition(e, j, j->status == JS_STANDBY ? JS_READY : JS_RUNNING);
        j->wake = eng_now(e);
    } else if (j->pause_count == 0 && !j->inflight && j->type != JT_MIRROR && !j->active_commit) {
        /* entered from the command, the job returns at once and its exit
         * runs before the reply (QEMU: the job_exit BH is scheduled ahead
         * of the dispatcher's wake-up); a mirror first waits for its
         * in-flight requests, so its exit follows the reply */
        eng_blockjob_step(e, j);
        if (j->used && j->exit_pending)
            eng_blockjob_step(e, j);
    } else if (j->pause_count == 0) {
        j->wake = eng_now(e);   /* wake from the rate limit or cancel in-flight I/O */
        j->inflight = 0;
    }
}

void eng_job_finalize_txn(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    job_do_finalize(e, j);
}

/* Jobs due at or before t run in (wake, creation) order, each at its own
 * time, until none is due. */
void eng_jobs_run(qmpk_engine_t *e, uint64_t t)
{
    while (e->live_jobs) {
        struct qmpk_eng_job *next = NULL;
        for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
            struct qmpk_eng_job *j = &e->jobs[i];
            if (!j->used || j->wake > t)
                continue;
            if (!next || j->wake < next->wake || (j->wake == next->wake && j->seq < next->seq))
                next = j;
        }
        if (!next || e->quit)
            return;
        if (next->wake > e->now)
            e->now = next->wake;
        eng_blockjob_step(e, next);
    }
}

uint64_t eng_jobs_next_wake(const qmpk_engine_t *e)
{
    uint64_t t = ENG_NEVER;

    for (uint32_t i = 0; e->live_jobs && i < e->cfg.max_jobs; i++) {
        const struct qmpk_eng_job *j = &e->jobs[i];
        if (j->used && j->wake < t)
            t = j->wake;
    }
    return t;
}
