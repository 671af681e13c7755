/*
 * Dispatch: the command table, QEMU's order of checks (qapi/qmp-dispatch.c
 * qmp_dispatch, monitor/qmp.c monitor_qmp_dispatch) and commands that keep
 * running after dispatch.
 *
 *   envelope (qmpk_classify: not an object, member types, unexpected members)
 *   -> command lookup (negotiation mode knows only qmp_capabilities, and
 *      its CommandNotFound texts are rewritten)
 *   -> "does not support OOB" -> the handler (which visits its arguments)
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const eng_cmd_t commands[] = {
    { "block-commit", eng_cmd_block_commit, CMD_ASYNC },
    { "block-job-cancel", eng_cmd_block_job_verb, 0 },
    { "block-job-complete", eng_cmd_block_job_verb, 0 },
    { "block-job-dismiss", eng_cmd_block_job_verb, 0 },
    { "block-job-finalize", eng_cmd_block_job_verb, 0 },
    { "block-job-pause", eng_cmd_block_job_verb, 0 },
    { "block-job-resume", eng_cmd_block_job_verb, 0 },
    { "block-job-set-speed", eng_cmd_block_job_verb, 0 },
    { "block-stream", eng_cmd_block_stream, CMD_ASYNC },
    { "blockdev-add", eng_cmd_blockdev_add, 0 },
    { "blockdev-backup", eng_cmd_blockdev_backup, CMD_ASYNC },
    { "blockdev-create", eng_cmd_blockdev_create, 0 },
    { "blockdev-del", eng_cmd_blockdev_del, 0 },
    { "blockdev-mirror", eng_cmd_blockdev_mirror, CMD_ASYNC },
    { "cont", eng_cmd_cont, 0 },
    { "human-monitor-command", eng_cmd_human_monitor_command, 0 },
    { "job-cancel", eng_cmd_job_verb, 0 },
    { "job-complete", eng_cmd_job_verb, 0 },
    { "job-dismiss", eng_cmd_job_verb, 0 },
    { "job-finalize", eng_cmd_job_verb, 0 },
    { "job-pause", eng_cmd_job_verb, 0 },
    { "job-resume", eng_cmd_job_verb, 0 },
    { "migrate-pause", eng_cmd_migrate_pause, CMD_OOB },
    { "migrate-recover", eng_cmd_migrate_recover, CMD_OOB },
    { "qmp_capabilities", eng_cmd_qmp_capabilities, 0 },
    { "qom-set", eng_cmd_qom_set, 0 },
    { "query-block-jobs", eng_cmd_query_block_jobs, 0 },
    { "query-commands", eng_cmd_query_commands, 0 },
    { "query-jobs", eng_cmd_query_jobs, 0 },
    { "query-name", eng_cmd_query_name, 0 },
    { "query-named-block-nodes", eng_cmd_query_named_block_nodes, 0 },
    { "query-status", eng_cmd_query_status, 0 },
    { "query-version", eng_cmd_query_version, 0 },
    { "query-yank", eng_cmd_query_yank, CMD_OOB },
    { "quit", eng_cmd_quit, 0 },
    { "screendump", eng_cmd_screendump, CMD_ASYNC },
    { "stop", eng_cmd_stop, 0 },
    { "transaction", eng_cmd_transaction, 0 },
    { "x-cancel", eng_cmd_x_cancel, CMD_EXTENDED },
    { "x-clock-step", eng_cmd_x_clock_step, CMD_MANUAL_CLOCK },
    { "x-delay", eng_cmd_x_delay, CMD_ASYNC | CMD_EXTENDED },
    { "x-query-monitor", eng_cmd_x_query_monitor, CMD_EXTENDED },
    { "x-query-pending", eng_cmd_x_query_pending, CMD_EXTENDED },
    { "yank", eng_cmd_yank, CMD_OOB },
};

const eng_cmd_t *eng_cmd_table(size_t *count)
{
    *count = sizeof commands / sizeof commands[0];
    return commands;
}

bool eng_cmd_visible(const qmpk_engine_t *e, const eng_cmd_t *c)
{
    if ((c->flags & CMD_EXTENDED) && e->cfg.profile != QMPK_PROFILE_EXTENDED)
        return false;
    if ((c->flags & CMD_MANUAL_CLOCK) && !e->cfg.manual_clock)
        return false;
    return true;
}

const eng_cmd_t *eng_cmd_lookup(const qmpk_engine_t *e, const char *name, size_t n)
{
    size_t lo = 0, hi = sizeof commands / sizeof commands[0];

    /* the table is sorted (checked by a test): binary search */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        size_t len = strlen(commands[mid].name);
        int c = (unsigned char)commands[mid].name[0] - (unsigned char)(n ? name[0] : 0);
        /* byte order over the shorter length, then the length: a name
         * holding a NUL ("\u0000") must not stop the compare early */
        if (c == 0)
            c = memcmp(commands[mid].name, name, len < n ? len : n);
        if (c == 0 && len != n)
            c = len < n ? -1 : 1;
        if (c == 0)
            return eng_cmd_visible(e, &commands[mid]) ? &commands[mid] : NULL;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool eng_run_blocks_all(uint32_t kind)
{
    return kind == RUN_QCOW2_OPEN || kind == RUN_SCREENDUMP;
}

void eng_req_defer(eng_req_t *r, uint64_t until, uint32_t kind)
{
    r->run_until = until;
    r->run_kind = kind;
    r->replied = true;      /* the reply comes from eng_finish_running */
}

static void envelope_error(eng_req_t *r, const qmpk_error_t *err)
{
    char desc[ENG_ERR_MAX];

    qmpk_error_format(err, desc, sizeof desc);
    eng_reply_error(r, "GenericError", desc);
}

/* Name of the command as a C string; names are short, longer ones are
 * unknown anyway (the truncated form is never in the table). */
static size_t command_name(const eng_req_t *r, int tok, char *out, size_t cap)
{
    const char *raw = r->msg->json + r->msg->tok[tok].start;
    size_t n = (size_t)(r->msg->tok[tok].end - r->msg->tok[tok].start);

    /* the common case, a name without escapes, is copied as it is */
    if (n < cap && !memchr(raw, '\\', n) && !memchr(raw, 0x01, n) && !memchr(raw, 0x02, n)) {
        memcpy(out, raw, n);
        out[n] = '\0';
        return n;
    }
    if (qmpk_str(r->msg, tok, out, cap, &n) != QMPK_E_OK) {
        out[cap - 1] = '\0';
        return cap;     /* too long: can never match */
    }
    return n;
}

/* QEMU prints the name as it was sent, NULs ("\u0000") included and
 * however long, up to the engine's bound on error texts (ENG_ERR_MAX) */
static void command_not_found(eng_req_t *r, int tok)
{
    static const char pre[] = "The command ", post[] = " has not been found";
    char desc[ENG_ERR_MAX];
    size_t len = sizeof pre - 1, room = sizeof desc - len - (sizeof post - 1), n;

    memcpy(desc, pre, len);
    if (qmpk_str(r->msg, tok, desc + len, room, &n) != QMPK_E_OK || n >= room)
        n = room - 1;
    memcpy(desc + len + n, post, sizeof post - 1);
    eng_reply_error_n(r, "CommandNotFound", desc, len + n + sizeof post - 1);
}

static const eng_cmd_t *find_command(eng_req_t *r, const char *name, size_t n, int tok)
{
    const eng_cmd_t *cmd = eng_cmd_lookup(r->e, name, n);

    if (!r->mon->negotiated) {
        /* negotiation mode: only qmp_capabilities exists, and QEMU rewrites
         * every CommandNotFound (monitor_qmp_dispatch) */
        if (cmd && strcmp(cmd->name, "qmp_capabilities") == 0)
            return cmd;
        eng_reply_error(r, "CommandNotFound",
                        "Expecting capabilities negotiation with 'qmp_capabilities'");
        return NULL;
    }
    if (!cmd)
        command_not_found(r, tok);
    return cmd;
}

void eng_dispatch(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg,
                  bool oob_path, uint64_t *run_until, uint32_t *run_kind)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    char name[ENG_ID_MAX];
    eng_req_t r;

    memset(&r, 0, sizeof r);
    r.e = e;
    r.mon = mon;
    r.msg = msg;
    r.oob = oob_path;
    e->stat_commands++;
    qmpk_errno_t rc = qmpk_classify(msg, QMPK_PEER_CLIENT, mon->oob, &env, &err);
    r.id = env.id;
    r.args = env.arguments;
    if (rc != QMPK_E_OK) {
        if (rc == QMPK_E_NOT_OBJECT)
            r.id = -1;
        envelope_error(&r, &err);
        return;
    }
    size_t n = command_name(&r, env.name, name, sizeof name);
    r.cmd = find_command(&r, name, n, env.name);
    if (!r.cmd)
        return;
    if (env.kind == QMPK_KIND_OOB_COMMAND && !(r.cmd->flags & CMD_OOB)) {
        eng_reply_errorf(&r, "GenericError", "The command %s does not support OOB", name);
        return;
    }
    r.cmd->fn(&r);
    *run_until = r.run_until;
    *run_kind = r.run_kind;
}

/* A command that kept running completes: rebuild its request and reply. */
void eng_finish_running(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg)
{
    eng_req_t r;

    memset(&r, 0, sizeof r);
    r.e = e;
    r.mon = mon;
    r.msg = msg;
    r.id = qmpk_get(msg, 0, "id");
    r.args = qmpk_get(msg, 0, "arguments");
    switch (mon->run_kind) {
    case RUN_QCOW2_OPEN:
        /* a null-co file reads as zeroes (or garbage): never a qcow2 header */
        eng_reply_error(&r, "GenericError", "Image is not in qcow2 format");
        break;
    case RUN_SCREENDUMP:
        eng_reply_empty(&r);
        break;
    case RUN_SYNC_ASYNC:
        eng_async_complete_sync(&r);
        break;
    default:
        break;
    }
    mon->run_kind = RUN_NONE;
}
