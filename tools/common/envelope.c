/*
 * Reading a server's messages as a QMP client must.
 *
 * qmp-spec.rst's compatibility rules say "Clients must not assume any
 * particular ... Size of json-objects; ... future versions of QEMU may add
 * new keys", so extra members (top level, in "error", in "timestamp") and
 * timestamps outside int64 (the shape is only "json-number") are accepted.
 * qmpk_classify() checks QEMU 7.2's exact envelope, which is right for
 * judging a server but not for talking to one (or relaying, or reading a
 * recording of one); it only supplies the text of a real rejection.
 */
#include <string.h>

#include "qt_common.h"

static bool tolerant_envelope(const qmpk_msg_t *m, qmpk_envelope_t *env)
{
    memset(env, 0, sizeof(*env));
    env->id = env->name = env->arguments = env->ret = -1;
    env->error_class = env->error_desc = env->data = -1;
    env->ts_seconds = env->ts_microseconds = env->version = env->capabilities = -1;
    if (qmpk_type(m, 0) != QMPK_T_OBJECT)
        return false;
    env->id = qmpk_get(m, 0, "id");
    int q = qmpk_get(m, 0, "QMP"), r = qmpk_get(m, 0, "return");
    int e = qmpk_get(m, 0, "error"), v = qmpk_get(m, 0, "event");
    if ((q >= 0) + (r >= 0) + (e >= 0) + (v >= 0) != 1 ||
        qmpk_get(m, 0, "execute") >= 0 || qmpk_get(m, 0, "exec-oob") >= 0)
        return false;
    if (q >= 0) {
        env->version = qmpk_get(m, q, "version");
        env->capabilities = qmpk_get(m, q, "capabilities");
        env->kind = QMPK_KIND_GREETING;
        return qmpk_type(m, env->version) == QMPK_T_OBJECT &&
               qmpk_type(m, env->capabilities) == QMPK_T_ARRAY;
    }
    if (r >= 0) {
        env->ret = r;
        env->kind = QMPK_KIND_RETURN;
        return true;
    }
    if (e >= 0) {
        env->error_class = qmpk_get(m, e, "class");
        env->error_desc = qmpk_get(m, e, "desc");
        env->kind = QMPK_KIND_ERROR;
        return qmpk_type(m, env->error_class) == QMPK_T_STRING &&
               qmpk_type(m, env->error_desc) == QMPK_T_STRING;
    }
    env->name = v;
    env->data = qmpk_get(m, 0, "data");
    env->kind = QMPK_KIND_EVENT;
    return qmpk_type(m, v) == QMPK_T_STRING;
}

qmpk_errno_t qt_server_envelope(const qmpk_msg_t *m, qmpk_envelope_t *env,
                                qmpk_error_t *err)
{
    memset(err, 0, sizeof(*err));
    if (tolerant_envelope(m, env))
        return QMPK_E_OK;
    return qmpk_classify(m, QMPK_PEER_SERVER, false, env, err);
}
