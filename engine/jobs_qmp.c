/*
 * The job verbs and queries as QMP commands (job-qmp.c, blockdev.c,
 * blockjob.c): job-* find jobs by id ("Job not found"), block-job-* by
 * device (DeviceNotActive "Block job '%s' not found"); each verb's extra
 * checks come in QEMU's order around the verb-table check.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const arg_def_t args_id[] = {
    { "id", AT_STR, true, NULL, NULL }, { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_device[] = {
    { "device", AT_STR, true, NULL, NULL }, { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_cancel[] = {
    { "device", AT_STR, true, NULL, NULL }, { "force", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_speed[] = {
    { "device", AT_STR, true, NULL, NULL }, { "speed", AT_INT, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_none[] = { { NULL, AT_ANY, false, NULL, NULL } };

static job_verb_t verb_of(const char *cmd)
{
    const char *v = strrchr(cmd, '-') + 1;

    if (strcmp(v, "speed") == 0)
        return JV_SET_SPEED;
    for (int i = 0; i < JV__COUNT; i++) {
        if (strcmp(v, eng_job_verb_name[i]) == 0)
            return (job_verb_t)i;
    }
    return JV_CANCEL;
}

static bool verb_check(eng_req_t *r, struct qmpk_eng_job *j, job_verb_t v)
{
    char err[ENG_ERR_MAX];

    if (eng_job_apply_verb(r->e, j, v, err, sizeof err))
        return true;
    eng_reply_error(r, "GenericError", err);
    return false;
}

/* job_user_pause_locked() */
static bool verb_pause(eng_req_t *r, struct qmpk_eng_job *j)
{
    if (!verb_check(r, j, JV_PAUSE))
        return false;
    if (j->user_paused) {
        eng_reply_error(r, "GenericError", "Job is already paused");
        return false;
    }
    j->user_paused = true;
    eng_job_pause(r->e, j);
    return true;
}

/* job_user_resume_locked(): the "not paused" check precedes the verb check */
static bool verb_resume(eng_req_t *r, struct qmpk_eng_job *j)
{
    if (!j->user_paused || j->pause_count <= 0) {
        eng_reply_error(r, "GenericError", "Can't resume a job that was not paused");
        return false;
    }
    if (!verb_check(r, j, JV_RESUME))
        return false;
    j->io_status = IOS_OK;
    j->user_paused = false;
    eng_job_resume(r->e, j);
    return true;
}

/* job_complete_locked() and mirror_complete() */
static bool verb_complete(eng_req_t *r, struct qmpk_eng_job *j)
{
    if (!verb_check(r, j, JV_COMPLETE))
        return false;
    if (j->cancelled || (j->type != JT_MIRROR && !j->active_commit)) {
        eng_reply_errorf(r, "GenericError", "The active block job '%s' cannot be completed",
                         j->id);
        return false;
    }
    j->should_complete = true;
    if (j->status == JS_READY)
        j->wake = eng_now(r->e);
    return true;
}

/* block_job_set_speed_locked(): a faster (or unlimited) speed wakes a job
 * sleeping on its rate-limit timer */
static bool verb_set_speed(eng_req_t *r, struct qmpk_eng_job *j, int64_t speed)
{
    if (!verb_check(r, j, JV_SET_SPEED))
        return false;
    if (speed < 0) {
        eng_reply_error(r, "GenericError", "Parameter 'speed' expects a non-negative value");
        return false;
    }
    int64_t old = j->speed;
    j->speed = speed;
    if (speed && speed <= old)
        return true;
    if (j->timer) {
        j->timer = false;
        j->wake = eng_now(r->e);
    }
    return true;
}

static bool apply(eng_req_t *r, struct qmpk_eng_job *j, job_verb_t v, bool force, int64_t speed)
{
    switch (v) {
    case JV_PAUSE:
        return verb_pause(r, j);
    case JV_RESUME:
        return verb_resume(r, j);
    case JV_COMPLETE:
        return verb_complete(r, j);
    case JV_SET_SPEED:
        return verb_set_speed(r, j, speed);
    case JV_CANCEL:
        if (!verb_check(r, j, v))
            return false;
        eng_job_cancel(r->e, j, force);
        return true;
    case JV_FINALIZE:
        if (!verb_check(r, j, v))
            return false;
        eng_job_finalize_txn(r->e, j);
        return true;
    case JV_DISMISS:
        if (!verb_check(r, j, v))
            return false;
        eng_job_dismiss(r->e, j);
        return true;
    default:
        return false;
    }
}

void eng_cmd_job_verb(eng_req_t *r)
{
    char id[ENG_JOB_ID_ARG];
    arg_vals_t v;

    if (!eng_args(r, args_id, &v))
        return;
    eng_arg_str(r, v.tok[0], id, sizeof id);
    struct qmpk_eng_job *j = eng_job_find(r->e, id);
    if (!j) {
        eng_reply_error(r, "GenericError", "Job not found");
        return;
    }
    /* job-cancel always forces */
    if (apply(r, j, verb_of(r->cmd->name), true, 0))
        eng_reply_empty(r);
}

void eng_cmd_block_job_verb(eng_req_t *r)
{
    job_verb_t verb = verb_of(r->cmd->name);
    const arg_def_t *schema = verb == JV_SET_SPEED ? args_speed
                              : verb == JV_CANCEL  ? args_cancel
                              : (verb == JV_DISMISS || verb == JV_FINALIZE) ? args_id
                                                                              : args_device;
    char id[ENG_JOB_ID_ARG];
    arg_vals_t v;

    if (!eng_args(r, schema, &v))
        return;
    eng_arg_str(r, v.tok[0], id, sizeof id);
    struct qmpk_eng_job *j = eng_job_find(r->e, id);
    /* block_job_get(): a create job is a job, not a block job */
    if (!j || j->type == JT_CREATE) {
        eng_reply_errorf(r, "DeviceNotActive", "Block job '%s' not found", id);
        return;
    }
    bool force = verb == JV_CANCEL && eng_arg_bool(r, v.tok[1], false);
    if (verb == JV_CANCEL && j->user_paused && !force) {
        eng_reply_errorf(r, "GenericError", "The block job for device '%s' is currently paused",
                         id);
        return;
    }
    int64_t speed = verb == JV_SET_SPEED ? eng_arg_int(r, v.tok[1], 0) : 0;
    if (apply(r, j, verb, force, speed))
        eng_reply_empty(r);
}

/* Jobs newest first (job_create inserts at the head of QEMU's list). */
static int jobs_newest_first(qmpk_engine_t *e, struct qmpk_eng_job **out)
{
    int n = 0;

    for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
        if (e->jobs[i].used)
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

static bool job_has_error(const struct qmpk_eng_job *j)
{
    return j->ret != 0 && j->completed_work && !j->exit_pending;
}

static void write_job_info(qmpk_writer_t *w, const struct qmpk_eng_job *j)
{
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "current-progress");
    qmpk_w_uint(w, j->offset);
    qmpk_w_key(w, "status");
    qmpk_w_str(w, eng_job_status_name[j->status]);
    qmpk_w_key(w, "total-progress");
    qmpk_w_uint(w, j->len);
    qmpk_w_key(w, "type");
    qmpk_w_str(w, eng_job_type_name[j->type]);
    qmpk_w_key(w, "id");
    qmpk_w_str(w, j->id);
    if (job_has_error(j)) {
        qmpk_w_key(w, "error");
        qmpk_w_str(w, j->error);
    }
    qmpk_w_obj_end(w);
}

static void write_block_job_info(qmpk_writer_t *w, const struct qmpk_eng_job *j)
{
    static const char *const ios[] = { "ok", "failed", "nospace" };

    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "auto-finalize");
    qmpk_w_bool(w, j->auto_finalize);
    qmpk_w_key(w, "io-status");
    qmpk_w_str(w, ios[j->io_status]);
    qmpk_w_key(w, "device");
    qmpk_w_str(w, j->id);
    qmpk_w_key(w, "auto-dismiss");
    qmpk_w_bool(w, j->auto_dismiss);
    /* job->busy: false while the job sleeps or yields (a backup yields
     * while its block-copy requests run), true while a pause request waits
     * for the requests in flight to finish (QEMU 7.2, latency-ns nodes) */
    qmpk_w_key(w, "busy");
    qmpk_w_bool(w, j->inflight > 0 && j->pause_count > 0);
    qmpk_w_key(w, "len");
    qmpk_w_uint(w, j->len);
    qmpk_w_key(w, "offset");
    qmpk_w_uint(w, j->offset);
    qmpk_w_key(w, "status");
    qmpk_w_str(w, eng_job_status_name[j->status]);
    qmpk_w_key(w, "paused");
    qmpk_w_bool(w, j->pause_count > 0 || j->in_drain);
    qmpk_w_key(w, "speed");
    qmpk_w_int(w, j->speed);
    qmpk_w_key(w, "ready");
    qmpk_w_bool(w, j->status == JS_READY || j->status == JS_STANDBY);
    qmpk_w_key(w, "type");
    qmpk_w_str(w, eng_job_type_name[j->type]);
    if (job_has_error(j)) {
        qmpk_w_key(w, "error");
        qmpk_w_str(w, j->error);
    }
    qmpk_w_obj_end(w);
}

static void query(eng_req_t *r, void (*one)(qmpk_writer_t *, const struct qmpk_eng_job *),
                  bool block_only)
{
    struct qmpk_eng_job *list[512];
    qmpk_writer_t w;
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    int n = r->e->cfg.max_jobs <= 512 ? jobs_newest_first(r->e, list) : 0;
    eng_reply_begin(r, &w);
    qmpk_w_arr_begin(&w);
    for (int i = 0; i < n; i++) {
        if (!block_only || list[i]->type != JT_CREATE)
            one(&w, list[i]);
    }
    qmpk_w_arr_end(&w);
    eng_reply_end(r, &w);
}

void eng_cmd_query_jobs(eng_req_t *r)
{
    query(r, write_job_info, false);
}

void eng_cmd_query_block_jobs(eng_req_t *r)
{
    query(r, write_block_job_info, true);
}
