/*
 * Commands that are not about jobs: negotiation, queries, run state, the
 * OOB-capable commands and the simulated screendump.  Texts as QEMU 7.2.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const caps_qemu72[] = { "oob", NULL };
static const char *const caps_extended[] = { "oob", "async", NULL };

static const arg_def_t args_caps_qemu72[] = {
    { "enable", AT_ENUM_LIST, false, caps_qemu72, NULL }, { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_caps_extended[] = {
    { "enable", AT_ENUM_LIST, false, caps_extended, NULL }, { NULL, AT_ANY, false, NULL, NULL } };
static const arg_def_t args_none[] = { { NULL, AT_ANY, false, NULL, NULL } };

/* "Capability oob not available" (names joined with ", ") */
static bool caps_check_offered(eng_req_t *r, int list)
{
    char missing[ENG_ERR_MAX] = "";
    size_t used = 0;

    for (int c = list >= 0 ? qmpk_child(r->msg, list) : -1; c >= 0; c = qmpk_next(r->msg, c)) {
        bool offered = qmpk_str_eqz(r->msg, c, "async") ||
                       (qmpk_str_eqz(r->msg, c, "oob") && !r->e->cfg.no_oob);
        if (offered)
            continue;
        const char *name = qmpk_str_eqz(r->msg, c, "oob") ? "oob" : "async";
        int k = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", name);
        if (k > 0 && (size_t)k < sizeof missing - used)
            used += (size_t)k;
    }
    if (!used)
        return true;
    eng_reply_errorf(r, "GenericError", "Capability %s not available", missing);
    return false;
}

void eng_cmd_qmp_capabilities(eng_req_t *r)
{
    bool ext = r->e->cfg.profile == QMPK_PROFILE_EXTENDED;
    arg_vals_t v;

    if (!eng_args(r, ext ? args_caps_extended : args_caps_qemu72, &v))
        return;
    if (r->mon->negotiated) {
        eng_reply_error(r, "CommandNotFound",
                        "Capabilities negotiation is already complete, command ignored");
        return;
    }
    if (!caps_check_offered(r, v.tok[0]))
        return;
    for (int c = v.tok[0] >= 0 ? qmpk_child(r->msg, v.tok[0]) : -1; c >= 0;
         c = qmpk_next(r->msg, c)) {
        if (qmpk_str_eqz(r->msg, c, "oob"))
            r->mon->oob = true;
        else
            r->mon->async = true;
    }
    r->mon->negotiated = true;
    eng_reply_empty(r);
}

void eng_write_version(const qmpk_engine_t *e, qmpk_writer_t *w)
{
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "qemu");
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "micro");
    qmpk_w_int(w, e->cfg.version_micro);
    qmpk_w_key(w, "minor");
    qmpk_w_int(w, e->cfg.version_minor);
    qmpk_w_key(w, "major");
    qmpk_w_int(w, e->cfg.version_major);
    qmpk_w_obj_end(w);
    qmpk_w_key(w, "package");
    qmpk_w_str(w, e->package);
    qmpk_w_obj_end(w);
}

void eng_cmd_query_version(eng_req_t *r)
{
    qmpk_writer_t w;
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    eng_reply_begin(r, &w);
    eng_write_version(r->e, &w);
    eng_reply_end(r, &w);
}

void eng_cmd_query_status(eng_req_t *r)
{
    qmpk_writer_t w;
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    eng_reply_begin(r, &w);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "status");
    qmpk_w_str(&w, r->e->vm_running ? "running" : "paused");
    qmpk_w_key(&w, "singlestep");
    qmpk_w_bool(&w, false);
    qmpk_w_key(&w, "running");
    qmpk_w_bool(&w, r->e->vm_running);
    qmpk_w_obj_end(&w);
    eng_reply_end(r, &w);
}

void eng_cmd_query_name(eng_req_t *r)
{
    arg_vals_t v;

    /* no -name given: an empty NameInfo */
    if (eng_args(r, args_none, &v))
        eng_reply_empty(r);
}

void eng_cmd_query_commands(eng_req_t *r)
{
    bool ext = r->e->cfg.profile == QMPK_PROFILE_EXTENDED;
    qmpk_writer_t w;
    arg_vals_t v;
    size_t n;
    const eng_cmd_t *t = eng_cmd_table(&n);

    if (!eng_args(r, args_none, &v))
        return;
    eng_reply_begin(r, &w);
    qmpk_w_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        if (!eng_cmd_visible(r->e, &t[i]))
            continue;
        qmpk_w_obj_begin(&w);
        qmpk_w_key(&w, "name");
        qmpk_w_str(&w, t[i].name);
        if (ext && (t[i].flags & CMD_ASYNC)) {
            qmpk_w_key(&w, "async");
            qmpk_w_bool(&w, true);
        }
        qmpk_w_obj_end(&w);
    }
    qmpk_w_arr_end(&w);
    eng_reply_end(r, &w);
}

static void event_no_data(qmpk_engine_t *e, const char *name)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, name, false);
    eng_event_end(e, &w, false);
}

void eng_cmd_stop(eng_req_t *r)
{
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    /* a second stop is a silent success */
    if (r->e->vm_running) {
        r->e->vm_running = false;
        event_no_data(r->e, "STOP");
    }
    eng_reply_empty(r);
}

void eng_cmd_cont(eng_req_t *r)
{
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    if (!r->e->vm_running) {
        r->e->vm_running = true;
        event_no_data(r->e, "RESUME");
    }
    eng_reply_empty(r);
}

void eng_event_shutdown(qmpk_engine_t *e, const char *reason)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, "SHUTDOWN", true);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "guest");
    qmpk_w_bool(&w, false);
    qmpk_w_key(&w, "reason");
    qmpk_w_str(&w, reason);
    qmpk_w_obj_end(&w);
    eng_event_end(e, &w, true);
}

void eng_cmd_quit(eng_req_t *r)
{
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    eng_event_shutdown(r->e, "host-qmp-quit");
    eng_reply_empty(r);
    r->e->quit = true;
}

qmpk_engine_errno_t qmpk_engine_shutdown(qmpk_engine_t *e, uint64_t now_ns)
{
    if (e->quit)
        return QMPK_ENGINE_E_QUIT;
    eng_catch_up(e, now_ns);
    eng_event_shutdown(e, "host-signal");
    e->quit = true;
    return QMPK_ENGINE_E_OK;
}

uint64_t qmpk_engine_output_seq(const qmpk_engine_t *e)
{
    return e->out_seq;
}

/* Yank instances: one chardev per connected monitor (its label). */
void eng_cmd_query_yank(eng_req_t *r)
{
    qmpk_writer_t w;
    arg_vals_t v;

    if (!eng_args(r, args_none, &v))
        return;
    eng_reply_begin(r, &w);
    qmpk_w_arr_begin(&w);
    for (uint32_t i = 0; i < r->e->cfg.max_monitors; i++) {
        const struct qmpk_eng_mon *m = &r->e->mons[i];
        if (!m->used || m->gone)
            continue;
        qmpk_w_obj_begin(&w);
        qmpk_w_key(&w, "type");
        qmpk_w_str(&w, "chardev");
        qmpk_w_key(&w, "id");
        qmpk_w_str(&w, m->label);
        qmpk_w_obj_end(&w);
    }
    qmpk_w_arr_end(&w);
    eng_reply_end(r, &w);
}

static const char *const yank_types[] = { "block-node", "chardev", "migration", NULL };
static const arg_def_t yank_instance[] = {
    { "type", AT_ENUM, true, yank_types, NULL },
    { "node-name", AT_STR, false, NULL, NULL },
    { "id", AT_STR, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t args_yank[] = {
    { "instances", AT_OBJ_LIST, true, NULL, yank_instance },
    { NULL, AT_ANY, false, NULL, NULL },
};

static bool yank_instance_exists(const eng_req_t *r, int inst)
{
    char id[ENG_LABEL_MAX];
    int t = qmpk_get(r->msg, inst, "id");

    if (!qmpk_str_eqz(r->msg, qmpk_get(r->msg, inst, "type"), "chardev") || t < 0)
        return false;   /* no NBD nodes and no migration to yank */
    eng_arg_str(r, t, id, sizeof id);
    for (uint32_t i = 0; i < r->e->cfg.max_monitors; i++) {
        const struct qmpk_eng_mon *m = &r->e->mons[i];
        if (m->used && !m->gone && strcmp(m->label, id) == 0)
            return true;
    }
    return false;
}

/* YankInstance is a flat union: block-node needs node-name, chardev needs
 * id, migration has neither, and a member of another variant is
 * unexpected.  QEMU visits every instance before yanking any. */
static bool yank_instance_valid(eng_req_t *r, int inst, int index)
{
    static const char *const needs[] = { "node-name", "id", NULL };
    int type = eng_enum_index(r->msg, qmpk_get(r->msg, inst, "type"), yank_types);
    const char *need = type >= 0 ? needs[type] : NULL;

    if (need && qmpk_get(r->msg, inst, need) < 0) {
        eng_reply_errorf(r, "GenericError", "Parameter 'instances[%d].%s' is missing", index,
                         need);
        return false;
    }
    for (int k = qmpk_child(r->msg, inst); k >= 0; k = qmpk_next(r->msg, k)) {
        if (qmpk_str_eqz(r->msg, k, "type") || (need && qmpk_str_eqz(r->msg, k, need)))
            continue;
        char key[ENG_ID_MAX];
        eng_arg_str(r, k, key, sizeof key);
        eng_reply_errorf(r, "GenericError", "Parameter 'instances[%d].%s' is unexpected", index,
                         key);
        return false;
    }
    return true;
}

void eng_cmd_yank(eng_req_t *r)
{
    arg_vals_t v;
    int i = 0;

    if (!eng_args(r, args_yank, &v))
        return;
    for (int c = qmpk_child(r->msg, v.tok[0]); c >= 0; c = qmpk_next(r->msg, c)) {
        if (!yank_instance_valid(r, c, i++))
            return;
    }
    for (int c = qmpk_child(r->msg, v.tok[0]); c >= 0; c = qmpk_next(r->msg, c)) {
        if (!yank_instance_exists(r, c)) {
            eng_reply_error(r, "DeviceNotFound", "Instance not found");
            return;
        }
    }
    eng_reply_empty(r);
}

void eng_cmd_migrate_pause(eng_req_t *r)
{
    arg_vals_t v;

    if (eng_args(r, args_none, &v))
        eng_reply_error(r, "GenericError",
                        "migrate-pause is currently only supported during postcopy-active state");
}

static const arg_def_t args_recover[] = {
    { "uri", AT_STR, true, NULL, NULL }, { NULL, AT_ANY, false, NULL, NULL } };

void eng_cmd_migrate_recover(eng_req_t *r)
{
    arg_vals_t v;

    if (eng_args(r, args_recover, &v))
        eng_reply_error(r, "GenericError",
                        "Migrate recover can only be run when postcopy is paused.");
}

static const char *const image_formats[] = { "ppm", "png", NULL };
static const arg_def_t args_screendump[] = {
    { "filename", AT_STR, true, NULL, NULL },
    { "device", AT_STR, false, NULL, NULL },
    { "head", AT_INT, false, NULL, NULL },
    { "format", AT_ENUM, false, image_formats, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

/* Simulated: writes nothing, takes screendump_ns of engine time. */
void eng_cmd_screendump(eng_req_t *r)
{
    arg_vals_t v;

    if (!eng_args(r, args_screendump, &v))
        return;
    if (r->e->cfg.profile == QMPK_PROFILE_EXTENDED) {
        eng_async_start(r, PEND_SCREENDUMP, r->e->cfg.screendump_ns);
        return;
    }
    eng_req_defer(r, eng_now(r->e) + r->e->cfg.screendump_ns, RUN_SCREENDUMP);
}

static const arg_def_t args_clock_step[] = {
    { "ms", AT_INT, true, NULL, NULL }, { NULL, AT_ANY, false, NULL, NULL } };

/* Manual clock only: move engine time, running everything that falls due
 * (its events come before this reply). */
void eng_cmd_x_clock_step(eng_req_t *r)
{
    arg_vals_t v;
    int64_t ms;

    if (!eng_args(r, args_clock_step, &v))
        return;
    ms = eng_arg_int(r, v.tok[0], 0);
    /* the clock stops short of UINT64_MAX, which means "never" */
    if (!eng_arg_ms(r, ms, (UINT64_MAX - 1 - eng_now(r->e)) / 1000000u))
        return;
    eng_run_until(r->e, eng_now(r->e) + (uint64_t)ms * 1000000u);
    eng_reply_empty(r);
}
