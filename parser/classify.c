/*
 * Classify: what kind of QMP message a value is, and whether its envelope
 * is right.
 *
 * Commands are checked as QEMU 7.2's qmp_dispatch() and
 * qmp_dispatch_check_obj() do: one pass over the members in QDict order
 * (hash bucket, newest first within a bucket), the first offending member
 * deciding the message.  Instead of sorting, each member gets its position
 * in that order and the earliest offence wins, which is the same answer in
 * one linear pass.
 */
#include <string.h>

#include "internal.h"

/* Position of a member in QEMU's iteration order; smaller comes first. */
static uint64_t qdict_rank(const qmpk_msg_t *m, int k)
{
    unsigned b = qmpk__key_bucket(m->json, m->tok, k);
    return ((uint64_t)b << 32) | (uint32_t)(INT32_MAX - k);
}

typedef struct offence {
    uint64_t rank;
    qmpk_errno_t code;
    int key;            /* member whose name is the argument, or -1 */
} offence_t;

static void offend(offence_t *o, uint64_t rank, qmpk_errno_t code, int key)
{
    if (o->code == QMPK_E_OK || rank < o->rank) {
        o->rank = rank;
        o->code = code;
        o->key = key;
    }
}

static void clear_env(qmpk_envelope_t *env)
{
    memset(env, 0xff, sizeof(*env));
    env->kind = QMPK_KIND_VALUE;
    env->oob_request = false;
}

static qmpk_errno_t fail(const qmpk_msg_t *m, qmpk_errno_t code, int key,
                         qmpk_error_t *err)
{
    memset(err, 0, sizeof(*err));
    err->code = code;
    err->offset = m->offset + (key >= 0 ? (uint64_t)m->tok[key].start - 1 : 0);
    err->index = m->index;
    if (key >= 0) {
        err->arg = m->json + m->tok[key].start;
        err->arg_len = (size_t)(m->tok[key].end - m->tok[key].start);
        err->arg_is_json = true;
    }
    return code;
}

/* A command-key member: 'execute', or 'exec-oob' when OOB is on. */
typedef struct exec_key {
    int key;
    uint64_t rank;
} exec_key_t;

static void check_exec(const qmpk_msg_t *m, int k, bool oob, exec_key_t ex[2],
                       offence_t *o)
{
    uint64_t r = qdict_rank(m, k);

    if (qmpk_type(m, k + 1) != QMPK_T_STRING) {
        offend(o, r, oob ? QMPK_E_EXEC_OOB_NOT_STRING : QMPK_E_EXECUTE_NOT_STRING, -1);
        return;
    }
    ex[oob].key = k;
    ex[oob].rank = r;
}

/* Both command keys are strings: the later one in QDict order clashes. */
static void check_clash(const exec_key_t ex[2], offence_t *o)
{
    if (ex[0].key < 0 || ex[1].key < 0) {
        return;
    }
    if (ex[0].rank > ex[1].rank) {
        offend(o, ex[0].rank, QMPK_E_EXECUTE_CLASHES, -1);
    } else {
        offend(o, ex[1].rank, QMPK_E_EXEC_OOB_CLASHES, -1);
    }
}

static qmpk_errno_t check_command(const qmpk_msg_t *m, bool oob_enabled,
                                  qmpk_envelope_t *env, qmpk_error_t *err)
{
    offence_t o = { 0, QMPK_E_OK, -1 };
    exec_key_t ex[2] = { { -1, 0 }, { -1, 0 } };
    bool execute = false, exec_oob = false;

    for (int k = qmpk_child(m, 0); k >= 0; k = qmpk_next(m, k)) {
        if (qmpk_str_eqz(m, k, "execute")) {
            execute = true;
            check_exec(m, k, false, ex, &o);
        } else if (qmpk_str_eqz(m, k, "exec-oob")) {
            exec_oob = true;
            if (oob_enabled) {
                check_exec(m, k, true, ex, &o);
            } else {
                offend(&o, qdict_rank(m, k), QMPK_E_MEMBER_UNEXPECTED, k);
            }
        } else if (qmpk_str_eqz(m, k, "arguments")) {
            if (qmpk_type(m, k + 1) != QMPK_T_OBJECT) {
                offend(&o, qdict_rank(m, k), QMPK_E_ARGUMENTS_NOT_OBJECT, -1);
            }
        } else if (!qmpk_str_eqz(m, k, "id")) {
            offend(&o, qdict_rank(m, k), QMPK_E_MEMBER_UNEXPECTED, k);
        }
    }
    env->oob_request = exec_oob && !execute;
    check_clash(ex, &o);
    if (o.code != QMPK_E_OK) {
        return fail(m, o.code, o.key, err);
    }
    if (ex[0].key < 0 && ex[1].key < 0) {
        return fail(m, QMPK_E_LACKS_EXECUTE, -1, err);
    }
    env->kind = ex[0].key < 0 ? QMPK_KIND_OOB_COMMAND : QMPK_KIND_COMMAND;
    env->name = (ex[0].key < 0 ? ex[1].key : ex[0].key) + 1;
    env->arguments = qmpk_get(m, 0, "arguments");
    return QMPK_E_OK;
}

/* ------------------------------------------------------------------ */
/* server messages                                                      */

static bool is_int(const qmpk_msg_t *m, int t)
{
    int64_t v;
    return qmpk_int64(m, t, &v) == QMPK_E_OK;
}

/* Every member must be one of the allowed names. */
static int unexpected_member(const qmpk_msg_t *m, const char *const *allowed)
{
    for (int k = qmpk_child(m, 0); k >= 0; k = qmpk_next(m, k)) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) {
            ok = qmpk_str_eqz(m, k, *a);
        }
        if (!ok) {
            return k;
        }
    }
    return -1;
}

static qmpk_errno_t check_greeting(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                   qmpk_error_t *err)
{
    static const char *const allowed[] = { "QMP", NULL };
    int q = qmpk_get(m, 0, "QMP"), bad = unexpected_member(m, allowed);

    if (bad >= 0) {
        return fail(m, QMPK_E_SERVER_MEMBER_UNEXPECTED, bad, err);
    }
    env->version = qmpk_get(m, q, "version");
    env->capabilities = qmpk_get(m, q, "capabilities");
    if (qmpk_type(m, env->version) != QMPK_T_OBJECT
        || qmpk_type(m, env->capabilities) != QMPK_T_ARRAY) {
        return fail(m, QMPK_E_GREETING_BAD, -1, err);
    }
    env->kind = QMPK_KIND_GREETING;
    return QMPK_E_OK;
}

static qmpk_errno_t check_return(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                 qmpk_error_t *err)
{
    static const char *const allowed[] = { "return", "id", NULL };
    int bad = unexpected_member(m, allowed);

    if (bad >= 0) {
        return fail(m, QMPK_E_SERVER_MEMBER_UNEXPECTED, bad, err);
    }
    env->ret = qmpk_get(m, 0, "return");
    env->kind = QMPK_KIND_RETURN;
    return QMPK_E_OK;
}

static qmpk_errno_t check_error(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                qmpk_error_t *err)
{
    static const char *const allowed[] = { "error", "id", NULL };
    int e = qmpk_get(m, 0, "error"), bad = unexpected_member(m, allowed);

    if (bad >= 0) {
        return fail(m, QMPK_E_SERVER_MEMBER_UNEXPECTED, bad, err);
    }
    env->error_class = qmpk_get(m, e, "class");
    env->error_desc = qmpk_get(m, e, "desc");
    if (qmpk_count(m, e) != 2 || qmpk_type(m, env->error_class) != QMPK_T_STRING
        || qmpk_type(m, env->error_desc) != QMPK_T_STRING) {
        return fail(m, QMPK_E_ERROR_BAD, -1, err);
    }
    env->kind = QMPK_KIND_ERROR;
    return QMPK_E_OK;
}

static qmpk_errno_t check_event(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                qmpk_error_t *err)
{
    static const char *const allowed[] = { "event", "data", "timestamp", NULL };
    int bad = unexpected_member(m, allowed), ts = qmpk_get(m, 0, "timestamp");

    if (bad >= 0) {
        return fail(m, QMPK_E_SERVER_MEMBER_UNEXPECTED, bad, err);
    }
    env->name = qmpk_get(m, 0, "event");
    env->data = qmpk_get(m, 0, "data");
    env->ts_seconds = qmpk_get(m, ts, "seconds");
    env->ts_microseconds = qmpk_get(m, ts, "microseconds");
    if (qmpk_type(m, env->name) != QMPK_T_STRING) {
        return fail(m, QMPK_E_EVENT_NOT_STRING, -1, err);
    }
    if (env->data >= 0 && qmpk_type(m, env->data) != QMPK_T_OBJECT) {
        return fail(m, QMPK_E_EVENT_DATA_NOT_OBJECT, -1, err);
    }
    if (qmpk_count(m, ts) != 2 || !is_int(m, env->ts_seconds)
        || !is_int(m, env->ts_microseconds)) {
        return fail(m, QMPK_E_EVENT_TIMESTAMP_BAD, -1, err);
    }
    env->kind = QMPK_KIND_EVENT;
    return QMPK_E_OK;
}

static qmpk_errno_t check_server(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                 qmpk_error_t *err)
{
    bool g = qmpk_get(m, 0, "QMP") >= 0, r = qmpk_get(m, 0, "return") >= 0;
    bool e = qmpk_get(m, 0, "error") >= 0, v = qmpk_get(m, 0, "event") >= 0;

    if (g + r + e + v > 1) {
        return fail(m, QMPK_E_SERVER_AMBIGUOUS, -1, err);
    }
    if (g) return check_greeting(m, env, err);
    if (r) return check_return(m, env, err);
    if (e) return check_error(m, env, err);
    if (v) return check_event(m, env, err);
    return fail(m, QMPK_E_SERVER_UNKNOWN, -1, err);
}

static bool looks_like_server(const qmpk_msg_t *m)
{
    return qmpk_get(m, 0, "execute") < 0 && qmpk_get(m, 0, "exec-oob") < 0
        && (qmpk_get(m, 0, "QMP") >= 0 || qmpk_get(m, 0, "return") >= 0
            || qmpk_get(m, 0, "error") >= 0 || qmpk_get(m, 0, "event") >= 0);
}

qmpk_errno_t qmpk_classify(const qmpk_msg_t *m, qmpk_peer_t peer,
                           bool oob_enabled, qmpk_envelope_t *env,
                           qmpk_error_t *err)
{
    clear_env(env);
    if (qmpk_type(m, 0) != QMPK_T_OBJECT) {
        return fail(m, peer == QMPK_PEER_SERVER ? QMPK_E_SERVER_UNKNOWN : QMPK_E_NOT_OBJECT,
                    -1, err);
    }
    /* QEMU takes the id before any other check, so every later error
     * echoes it. */
    env->id = qmpk_get(m, 0, "id");
    if (peer == QMPK_PEER_SERVER || (peer == QMPK_PEER_ANY && looks_like_server(m))) {
        return check_server(m, env, err);
    }
    return check_command(m, oob_enabled, env, err);
}

bool qmpk_is_oob_request(const qmpk_msg_t *m)
{
    return qmpk_type(m, 0) == QMPK_T_OBJECT && qmpk_get(m, 0, "exec-oob") >= 0
        && qmpk_get(m, 0, "execute") < 0;
}

const char *qmpk_kind_name(qmpk_kind_t k)
{
    switch (k) {
    case QMPK_KIND_GREETING: return "greeting";
    case QMPK_KIND_COMMAND: return "command";
    case QMPK_KIND_OOB_COMMAND: return "oob-command";
    case QMPK_KIND_RETURN: return "return";
    case QMPK_KIND_ERROR: return "error";
    case QMPK_KIND_EVENT: return "event";
    default: return "value";
    }
}
