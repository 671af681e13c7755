/*
 * Commands that create block jobs: blockdev-mirror, blockdev-backup (alone
 * or in a transaction), block-stream, block-commit.  Their checks, in
 * QEMU 7.2's order (blockdev.c, block/mirror.c, block/backup.c, job.c),
 * and the drained sections around backup that make running jobs flap
 * paused/running before the reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MiB (1024ull * 1024ull)

static const char *const on_error_vals[] = { "report", "ignore", "enospc", "stop", "auto", NULL };
static const char *const sync_vals[] = { "top", "full", "none", "incremental", "bitmap", NULL };
static const char *const copy_modes[] = { "background", "write-blocking", NULL };
static const char *const bitmap_modes[] = { "on-success", "never", "always", NULL };

/* ------------------------------------------------------------------ */
/* Arguments by name (the visitor has already checked their types)      */

static void obj_str(const eng_req_t *r, int obj, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    eng_arg_str(r, qmpk_get(r->msg, obj, key), out, cap);
}

static on_error_t obj_on_error(const eng_req_t *r, int obj, const char *key)
{
    int t = qmpk_get(r->msg, obj, key);
    int i = t >= 0 ? eng_enum_index(r->msg, t, on_error_vals) : -1;
    return i < 0 ? OE_REPORT : (on_error_t)i;
}

/* ------------------------------------------------------------------ */
/* Job creation (job_create / block_job_create)                         */

static bool node_busy(eng_req_t *r, int i)
{
    const struct qmpk_eng_node *n = &r->e->nodes[i];

    if (n->busy_job < 0)
        return false;
    eng_reply_errorf(r, "GenericError", "Node '%s' is busy: block device is in use by block job: %s",
                     n->name, eng_job_type_name[r->e->jobs[n->busy_job].type]);
    return true;
}

static struct qmpk_eng_job *job_slot(qmpk_engine_t *e)
{
    for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
        if (!e->jobs[i].used)
            return &e->jobs[i];
    }
    return NULL;
}

/* Without job-id a block job takes its node's device name, which a node
 * added by blockdev-add does not have: hence "Invalid job ID ''". */
static bool check_job_id(eng_req_t *r, const char *id)
{
    /* before the well-formedness check, whose text would show a cut id */
    if (strlen(id) > QMPK_ENGINE_MAX_ID_BYTES) {
        eng_reply_errorf(r, "GenericError", "Job ID too long (engine limit %u bytes)",
                         (unsigned)QMPK_ENGINE_MAX_ID_BYTES);
        return false;
    }
    if (!eng_id_wellformed(id)) {
        eng_reply_errorf(r, "GenericError", "Invalid job ID '%s'", id);
        return false;
    }
    if (eng_job_find(r->e, id)) {
        eng_reply_errorf(r, "GenericError", "Job ID '%s' already in use", id);
        return false;
    }
    return true;
}

struct qmpk_eng_job *eng_job_create(eng_req_t *r, int obj, const job_spec_t *s)
{
    char id[ENG_JOB_ID_ARG];
    struct qmpk_eng_job *j;

    obj_str(r, obj, "job-id", id, sizeof id);
    if (!check_job_id(r, id))
        return NULL;
    /* a transaction (r->hold) replies as a whole, synchronously */
    int async = r->hold ? 0 : eng_async_job_check(r);
    if (async < 0)
        return NULL;
    j = job_slot(r->e);
    if (!j) {
        eng_reply_errorf(r, "GenericError", "Too many jobs (engine limit %u)",
                         (unsigned)r->e->cfg.max_jobs);
        return NULL;
    }
    memset(j, 0, sizeof *j);
    j->used = true;
    r->e->live_jobs++;
    /* check_job_id() refused anything longer than the slot holds */
    const char *end = memchr(id, '\0', sizeof j->id - 1);
    size_t n = end ? (size_t)(end - id) : sizeof j->id - 1;
    memcpy(j->id, id, n);
    j->id[n] = '\0';
    j->type = s->type;
    j->seq = ++r->e->job_seq;
    j->txn = s->txn;
    j->src = s->src;
    j->dst = s->dst;
    j->chunk = s->chunk;
    j->active_commit = s->active_commit;
    j->speed = eng_arg_int(r, qmpk_get(r->msg, obj, "speed"), 0);
    j->auto_finalize = eng_arg_bool(r, qmpk_get(r->msg, obj, "auto-finalize"), true);
    j->auto_dismiss = eng_arg_bool(r, qmpk_get(r->msg, obj, "auto-dismiss"), true);
    j->on_source_error = obj_on_error(r, obj, "on-source-error");
    j->on_target_error = obj_on_error(r, obj, "on-target-error");
    if (qmpk_get(r->msg, obj, "on-error") >= 0)
        j->on_source_error = j->on_target_error = obj_on_error(r, obj, "on-error");
    j->wake = ENG_NEVER;
    j->pause_count = 1;         /* job_create: paused until job_start */
    j->status = JS_UNDEFINED;
    j->stream_base = -1;
    if (s->src >= 0)
        r->e->nodes[s->src].busy_job = (int)(j - r->e->jobs);
    if (s->dst >= 0)
        r->e->nodes[s->dst].busy_job = (int)(j - r->e->jobs);
    eng_job_transition(r->e, j, JS_CREATED);
    /* block_job_create() sets the speed of the created job: a negative
     * one fails it early (created, then null) */
    if (j->speed < 0) {
        eng_job_dismiss(r->e, j);
        eng_reply_error(r, "GenericError", "Parameter 'speed' expects a non-negative value");
        return NULL;
    }
    if (async)
        eng_async_job_register(r, j);
    return j;
}

/* {} now, unless the reply waits for the job (async monitor) */
void eng_job_reply_created(eng_req_t *r)
{
    if (!r->replied)
        eng_reply_empty(r);
}


/* ------------------------------------------------------------------ */
/* Drained sections                                                     */

static void drain_where(qmpk_engine_t *e, int node, uint32_t skip_txn_from)
{
    for (uint32_t seq = 1; seq <= e->job_seq; seq++) {
        for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
            struct qmpk_eng_job *j = &e->jobs[i];
            if (!j->used || j->seq != seq || seq >= skip_txn_from)
                continue;
            if (node < 0 || j->src == node || j->dst == node)
                eng_job_drain(e, j);
        }
    }
}

/* qmp_get_root_bs(): the device of a mirror or commit must be a root */
static bool need_root(eng_req_t *r, int node)
{
    if (eng_node_is_root(r->e, node))
        return true;
    eng_reply_error(r, "GenericError", "Need a root block node");
    return false;
}

/* ------------------------------------------------------------------ */
/* blockdev-mirror                                                      */

static const arg_def_t args_mirror[] = {
    { "job-id", AT_STR, false, NULL, NULL },
    { "device", AT_STR, true, NULL, NULL },
    { "target", AT_STR, true, NULL, NULL },
    { "replaces", AT_STR, false, NULL, NULL },
    { "sync", AT_ENUM, true, sync_vals, NULL },
    { "speed", AT_INT, false, NULL, NULL },
    { "granularity", AT_UINT, false, NULL, NULL },
    { "buf-size", AT_INT, false, NULL, NULL },
    { "on-source-error", AT_ENUM, false, on_error_vals, NULL },
    { "on-target-error", AT_ENUM, false, on_error_vals, NULL },
    { "filter-node-name", AT_STR, false, NULL, NULL },
    { "copy-mode", AT_ENUM, false, copy_modes, NULL },
    { "auto-finalize", AT_BOOL, false, NULL, NULL },
    { "auto-dismiss", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

void eng_cmd_blockdev_mirror(eng_req_t *r)
{
    char name[ENG_ID_MAX];
    arg_vals_t v;
    job_spec_t s = { JT_MIRROR, -1, -1, 16 * MiB, 0, false };

    if (!eng_args(r, args_mirror, &v))
        return;
    obj_str(r, r->args, "device", name, sizeof name);
    if ((s.src = eng_node_lookup(r, name)) < 0 || !need_root(r, s.src))
        return;
    obj_str(r, r->args, "target", name, sizeof name);
    if ((s.dst = eng_node_lookup(r, name)) < 0)
        return;
    if (node_busy(r, s.src) || node_busy(r, s.dst))
        return;
    if (s.src == s.dst) {
        eng_reply_error(r, "GenericError", "Can't mirror node into itself");
        return;
    }
    struct qmpk_eng_job *j = eng_job_create(r, r->args, &s);
    if (!j)
        return;
    eng_job_start(r->e, j);
    eng_blockjob_first_chunk(r->e, j);
    eng_job_reply_created(r);
}

/* ------------------------------------------------------------------ */
/* blockdev-backup and transaction                                      */

static const arg_def_t args_backup[] = {
    { "job-id", AT_STR, false, NULL, NULL },
    { "device", AT_STR, true, NULL, NULL },
    { "sync", AT_ENUM, true, sync_vals, NULL },
    { "speed", AT_INT, false, NULL, NULL },
    { "bitmap", AT_STR, false, NULL, NULL },
    { "bitmap-mode", AT_ENUM, false, bitmap_modes, NULL },
    { "compress", AT_BOOL, false, NULL, NULL },
    { "on-source-error", AT_ENUM, false, on_error_vals, NULL },
    { "on-target-error", AT_ENUM, false, on_error_vals, NULL },
    { "auto-finalize", AT_BOOL, false, NULL, NULL },
    { "auto-dismiss", AT_BOOL, false, NULL, NULL },
    { "filter-node-name", AT_STR, false, NULL, NULL },
    { "x-perf", AT_ANY, false, NULL, NULL },
    { "target", AT_STR, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

/* backup_action_prepare(): drain the source, check, create (not start). */
static struct qmpk_eng_job *backup_prepare(eng_req_t *r, int obj, uint32_t txn)
{
    char name[ENG_ID_MAX];
    job_spec_t s = { JT_BACKUP, -1, -1, MiB, txn, false };

    obj_str(r, obj, "device", name, sizeof name);
    if ((s.src = eng_node_lookup(r, name)) < 0)
        return NULL;
    drain_where(r->e, s.src, UINT32_MAX);
    obj_str(r, obj, "target", name, sizeof name);
    if ((s.dst = eng_node_lookup(r, name)) < 0)
        return NULL;
    if (s.src == s.dst) {
        eng_reply_error(r, "GenericError", "Source and target cannot be the same");
        return NULL;
    }
    if (node_busy(r, s.src) || node_busy(r, s.dst))
        return NULL;
    if (r->e->nodes[s.src].size != r->e->nodes[s.dst].size) {
        eng_reply_error(r, "GenericError", "Source and target image have different sizes");
        return NULL;
    }
    struct qmpk_eng_job *j = eng_job_create(r, obj, &s);
    if (j)
        j->pause_count++;       /* created inside the drained section */
    return j;
}

/* commit, then clean: start every job (it stops at its pause point, the
 * node being drained), then end the drained sections in order, each job
 * running until it yields. */
static void backup_commit_clean(qmpk_engine_t *e, struct qmpk_eng_job **jobs, int n)
{
    uint32_t seq[TXN_ACTIONS_MAX];

    for (int i = 0; i < n; i++) {
        seq[i] = jobs[i]->seq;
        eng_job_start(e, jobs[i]);
    }
    for (int i = 0; i < n; i++) {
        if (jobs[i]->used && jobs[i]->seq == seq[i])
            eng_job_resume(e, jobs[i]);
    }
    for (int i = 0; i < n; i++) {
        if (jobs[i]->used && jobs[i]->seq == seq[i])
            eng_blockjob_poll(e, jobs[i]);
    }
}

/* A failed transaction cancels the jobs it created (never started). */
static void abort_created(qmpk_engine_t *e, struct qmpk_eng_job **jobs, int n)
{
    for (int i = n - 1; i >= 0; i--)
        eng_job_cancel(e, jobs[i], true);
}

void eng_cmd_blockdev_backup(eng_req_t *r)
{
    arg_vals_t v;
    struct qmpk_eng_job *j;

    if (!eng_args(r, args_backup, &v))
        return;
    /* qmp_transaction(): bdrv_drain_all() before anything else */
    drain_where(r->e, -1, UINT32_MAX);
    j = backup_prepare(r, r->args, 0);
    if (!j)
        return;
    backup_commit_clean(r->e, &j, 1);
    eng_job_reply_created(r);
}

/* TransactionActionKind of QEMU 7.2, in schema order */
static const char *const action_types[] = {
    "abort", "block-dirty-bitmap-add", "block-dirty-bitmap-remove", "block-dirty-bitmap-clear",
    "block-dirty-bitmap-enable", "block-dirty-bitmap-disable", "block-dirty-bitmap-merge",
    "blockdev-backup", "blockdev-snapshot", "blockdev-snapshot-internal-sync",
    "blockdev-snapshot-sync", "drive-backup", NULL,
};
enum {
    ACT_ABORT = 0, ACT_BITMAP_ADD = 1, ACT_BITMAP_MERGE = 6, ACT_BLOCKDEV_BACKUP = 7,
    ACT_SNAPSHOT = 8, ACT_SNAPSHOT_INTERNAL = 9, ACT_SNAPSHOT_SYNC = 10, ACT_DRIVE_BACKUP = 11,
};
static const char *const completion_modes[] = { "individual", "grouped", NULL };
static const arg_def_t txn_action[] = {
    { "type", AT_ENUM, true, action_types, NULL },
    { "data", AT_ANY, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t txn_props[] = {
    { "completion-mode", AT_ENUM, false, completion_modes, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_transaction[] = {
    { "actions", AT_OBJ_LIST, true, NULL, txn_action },
    { "properties", AT_ANY, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

static const arg_def_t args_abort[] = { { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_bitmap_add[] = {
    { "node", AT_STR, true, NULL, NULL },
    { "name", AT_STR, true, NULL, NULL },
    { "granularity", AT_UINT, false, NULL, NULL },
    { "persistent", AT_BOOL, false, NULL, NULL },
    { "disabled", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_bitmap[] = {
    { "node", AT_STR, true, NULL, NULL },
    { "name", AT_STR, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_bitmap_merge[] = {
    { "node", AT_STR, true, NULL, NULL },
    { "target", AT_STR, true, NULL, NULL },
    { "bitmaps", AT_ANY, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_snapshot[] = {
    { "node", AT_STR, true, NULL, NULL },
    { "overlay", AT_STR, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_snapshot_internal[] = {
    { "device", AT_STR, true, NULL, NULL },
    { "name", AT_STR, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_snapshot_sync[] = {
    { "device", AT_STR, false, NULL, NULL },
    { "node-name", AT_STR, false, NULL, NULL },
    { "snapshot-file", AT_STR, true, NULL, NULL },
    { "snapshot-node-name", AT_STR, false, NULL, NULL },
    { "format", AT_STR, false, NULL, NULL },
    { "mode", AT_ANY, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

/* The data schema of each TransactionActionKind.  drive-backup, which the
 * engine does not simulate, is visited with blockdev-backup's members. */
static const arg_def_t *action_schema(int type)
{
    switch (type) {
    case ACT_ABORT: return args_abort;
    case ACT_BITMAP_ADD: return args_bitmap_add;
    case ACT_BITMAP_MERGE: return args_bitmap_merge;
    case ACT_BLOCKDEV_BACKUP: case ACT_DRIVE_BACKUP: return args_backup;
    case ACT_SNAPSHOT: return args_snapshot;
    case ACT_SNAPSHOT_INTERNAL: return args_snapshot_internal;
    case ACT_SNAPSHOT_SYNC: return args_snapshot_sync;
    default: return args_bitmap;
    }
}

static int action_type(const eng_req_t *r, int action)
{
    return eng_enum_index(r->msg, qmpk_get(r->msg, action, "type"), action_types);
}

/* Each action's data as its own struct ("actions[0].data.sync"), then the
 * properties, as QEMU's visitor walks TransactionAction. */
static bool visit_actions(eng_req_t *r, int actions, int props, bool *grouped)
{
    char err[ENG_ERR_MAX], path[64];
    arg_vals_t v;
    const arg_def_t *p[1] = { txn_props };
    int i = 0;

    for (int c = qmpk_child(r->msg, actions); c >= 0; c = qmpk_next(r->msg, c), i++) {
        const arg_def_t *b[1] = { action_schema(action_type(r, c)) };
        snprintf(path, sizeof path, "actions[%d].data", i);
        if (!eng_args_visit_at(r->msg, qmpk_get(r->msg, c, "data"), b, 1, path, &v, err,
                               sizeof err)) {
            eng_reply_error(r, "GenericError", err);
            return false;
        }
    }
    *grouped = false;
    if (props >= 0) {
        if (!eng_args_visit_at(r->msg, props, p, 1, "properties", &v, err, sizeof err)) {
            eng_reply_error(r, "GenericError", err);
            return false;
        }
        *grouped = v.tok[0] >= 0 && qmpk_str_eqz(r->msg, v.tok[0], "grouped");
    }
    return true;
}

/* The prepare step of one action that creates no job: abort fails, the
 * actions that cannot join a JobTxn refuse grouped mode first
 * (action_check_completion_mode), and the rest are not simulated. */
static void prepare_other(eng_req_t *r, int type, bool grouped)
{
    if (type == ACT_ABORT)
        eng_reply_error(r, "GenericError", "Transaction aborted using Abort action");
    else if (grouped && type != ACT_DRIVE_BACKUP)
        eng_reply_errorf(r, "GenericError",
                         "Action '%s' does not support Transaction property completion-mode = %s",
                         action_types[type], "grouped");
    else
        eng_reply_errorf(r, "GenericError", "Transaction action '%s' is not simulated",
                         action_types[type]);
}

void eng_cmd_transaction(eng_req_t *r)
{
    struct qmpk_eng_job *jobs[TXN_ACTIONS_MAX];
    arg_vals_t v;
    bool grouped;
    int n = 0;

    if (!eng_args(r, args_transaction, &v) || !visit_actions(r, v.tok[0], v.tok[1], &grouped))
        return;
    uint32_t txn = grouped ? ++r->e->txn_seq : 0;
    drain_where(r->e, -1, UINT32_MAX);
    /* on failure the created jobs are cancelled before the error is sent */
    r->hold = true;
    for (int c = qmpk_child(r->msg, v.tok[0]); c >= 0; c = qmpk_next(r->msg, c)) {
        struct qmpk_eng_job *j = NULL;
        int type = action_type(r, c);
        if (type != ACT_BLOCKDEV_BACKUP) {
            prepare_other(r, type, grouped);
        } else if (n == TXN_ACTIONS_MAX) {
            eng_reply_errorf(r, "GenericError", "Too many actions (engine limit %d)",
                             TXN_ACTIONS_MAX);
        } else {
            j = backup_prepare(r, qmpk_get(r->msg, c, "data"), txn);
        }
        if (!j) {
            abort_created(r->e, jobs, n);
            r->hold = false;
            eng_reply_error_n(r, r->held_cls, r->held_desc, r->held_len);
            return;
        }
        jobs[n++] = j;
    }
    r->hold = false;
    backup_commit_clean(r->e, jobs, n);
    eng_reply_empty(r);
}

/* ------------------------------------------------------------------ */
/* block-stream and block-commit                                        */

static const arg_def_t args_stream[] = {
    { "job-id", AT_STR, false, NULL, NULL },
    { "device", AT_STR, true, NULL, NULL },
    { "base", AT_STR, false, NULL, NULL },
    { "base-node", AT_STR, false, NULL, NULL },
    { "backing-file", AT_STR, false, NULL, NULL },
    { "bottom", AT_STR, false, NULL, NULL },
    { "speed", AT_INT, false, NULL, NULL },
    { "on-error", AT_ENUM, false, on_error_vals, NULL },
    { "filter-node-name", AT_STR, false, NULL, NULL },
    { "auto-finalize", AT_BOOL, false, NULL, NULL },
    { "auto-dismiss", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

void eng_cmd_block_stream(eng_req_t *r)
{
    char name[ENG_ID_MAX];
    arg_vals_t v;
    job_spec_t s = { JT_STREAM, -1, -1, 512 * 1024, 0, false };

    if (!eng_args(r, args_stream, &v))
        return;
    obj_str(r, r->args, "device", name, sizeof name);
    if ((s.src = eng_node_lookup(r, name)) < 0 || node_busy(r, s.src))
        return;
    int base = -1;
    if (qmpk_get(r->msg, r->args, "base-node") >= 0) {
        obj_str(r, r->args, "base-node", name, sizeof name);
        if ((base = eng_node_lookup(r, name)) < 0)
            return;
    }
    struct qmpk_eng_job *j = eng_job_create(r, r->args, &s);
    if (!j)
        return;
    j->stream_base = base;
    eng_job_start(r->e, j);
    /* with nothing to stream (no backing) QEMU's job ends before the reply */
    if (r->e->nodes[s.src].backing < 0)
        eng_blockjob_poll(r->e, j);
    eng_job_reply_created(r);
}

static const arg_def_t args_commit[] = {
    { "job-id", AT_STR, false, NULL, NULL },
    { "device", AT_STR, true, NULL, NULL },
    { "base-node", AT_STR, false, NULL, NULL },
    { "base", AT_STR, false, NULL, NULL },
    { "top-node", AT_STR, false, NULL, NULL },
    { "top", AT_STR, false, NULL, NULL },
    { "backing-file", AT_STR, false, NULL, NULL },
    { "speed", AT_INT, false, NULL, NULL },
    { "on-error", AT_ENUM, false, on_error_vals, NULL },
    { "filter-node-name", AT_STR, false, NULL, NULL },
    { "auto-finalize", AT_BOOL, false, NULL, NULL },
    { "auto-dismiss", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

/* The bottom of node i's backing chain. */
static int chain_base(const qmpk_engine_t *e, int i)
{
    for (int depth = 0; e->nodes[i].backing >= 0 && depth < 64; depth++)
        i = e->nodes[i].backing;
    return i;
}

/* bdrv_chain_contains(top, node) */
static bool chain_contains(const qmpk_engine_t *e, int top, int node)
{
    for (int depth = 0; top >= 0 && depth < 64; depth++, top = e->nodes[top].backing) {
        if (top == node)
            return true;
    }
    return false;
}

/* A node of the chain named by member key, or -1 after replying. */
static int chain_member(eng_req_t *r, const char *key, int top)
{
    char name[ENG_ID_MAX];

    obj_str(r, r->args, key, name, sizeof name);
    int i = eng_node_lookup(r, name);
    if (i >= 0 && !chain_contains(r->e, top, i)) {
        eng_reply_errorf(r, "GenericError", "'%s' is not in this backing file chain", name);
        return -1;
    }
    return i;
}

void eng_cmd_block_commit(eng_req_t *r)
{
    char name[ENG_ID_MAX];
    arg_vals_t v;
    job_spec_t s = { JT_COMMIT, -1, -1, 512 * 1024, 0, false };

    if (!eng_args(r, args_commit, &v))
        return;
    obj_str(r, r->args, "device", name, sizeof name);
    /* qmp_block_commit() words an unknown device its own way */
    int dev = eng_node_find(r->e, name);
    if (dev < 0) {
        eng_reply_errorf(r, "DeviceNotFound", "Device '%s' not found", name);
        return;
    }
    if (!need_root(r, dev))
        return;
    s.src = dev;
    if (qmpk_get(r->msg, r->args, "top-node") >= 0 && (s.src = chain_member(r, "top-node", dev)) < 0)
        return;
    s.dst = chain_base(r->e, s.src);
    if (qmpk_get(r->msg, r->args, "base-node") >= 0 &&
        (s.dst = chain_member(r, "base-node", s.src)) < 0)
        return;
    if (s.src == s.dst) {
        eng_reply_error(r, "GenericError", "cannot commit an image into itself");
        return;
    }
    if (node_busy(r, s.src) || node_busy(r, s.dst))
        return;
    s.active_commit = s.src == dev;
    if (s.active_commit)
        s.chunk = 16 * MiB;     /* active commit is a mirror underneath */
    struct qmpk_eng_job *j = eng_job_create(r, r->args, &s);
    if (!j)
        return;
    eng_job_start(r->e, j);
    eng_job_reply_created(r);
}
