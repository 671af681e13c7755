/*
 * Monitors: connection, input framing, the per-monitor in-band queue with
 * QEMU's suspension rules, the round-robin dispatcher, output draining and
 * disconnect (monitor/qmp.c handle_qmp_command, monitor_qmp_dispatcher_co,
 * monitor_qmp_event).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Ids encode their slot: one comparison per lookup. */
struct qmpk_eng_mon *eng_mon_find(const qmpk_engine_t *e, uint32_t id)
{
    if (!e->mons)
        return NULL;    /* not initialised */
    struct qmpk_eng_mon *m = &e->mons[id % e->cfg.max_monitors];

    return m->used && !m->gone && m->id == id ? m : NULL;
}

/*
 * QEMU suspends a monitor without OOB after each queued request until it
 * has been processed, and a monitor with OOB when its queue is full (the
 * 8th request), until the dispatcher takes one.
 */
bool eng_mon_suspended(const qmpk_engine_t *e, const struct qmpk_eng_mon *mon)
{
    if (!mon->oob)
        return mon->q_count > 0 || mon->running;
    return mon->q_count >= e->cfg.queue_depth;
}

static void mon_greet(qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    qmpk_writer_t w;

    qmpk_w_init(&w, e->scratch, e->cfg.reply_bytes);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "QMP");
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "version");
    eng_write_version(e, &w);
    qmpk_w_key(&w, "capabilities");
    qmpk_w_arr_begin(&w);
    if (!e->cfg.no_oob)
        qmpk_w_str(&w, "oob");
    if (e->cfg.profile == QMPK_PROFILE_EXTENDED)
        qmpk_w_str(&w, "async");
    qmpk_w_arr_end(&w);
    qmpk_w_obj_end(&w);
    qmpk_w_obj_end(&w);
    qmpk_w_crlf(&w);
    eng_out_append(e, mon, w.buf, w.len);
}

static bool mon_init_stream(qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    qmpk_stream_config_t sc;

    memset(&sc, 0, sizeof sc);
    sc.dialect = QMPK_DIALECT_QEMU;
    sc.buf = mon->inbuf;
    sc.buf_size = (size_t)e->cfg.msg_bytes + QMPK_BUF_SLACK;
    sc.tok = mon->intok;
    sc.tok_count = e->cfg.msg_tokens;
    /* each monitor has its own array, so a request split over many reads
     * (a client writing byte by byte) is tokenized as it arrives, once */
    sc.flags = QMPK_STREAM_OWN_TOKENS;
    return qmpk_stream_init(&mon->stream, &sc) == QMPK_E_OK;
}

qmpk_engine_errno_t qmpk_engine_connect(qmpk_engine_t *e, uint64_t now_ns, const char *label,
                                        uint32_t *mon_id)
{
    struct qmpk_eng_mon *mon = NULL;

    eng_catch_up(e, now_ns);
    if (e->quit)
        return QMPK_ENGINE_E_QUIT;
    for (uint32_t i = 0; i < e->cfg.max_monitors && !mon; i++) {
        if (!e->mons[i].used)
            mon = &e->mons[i];
    }
    if (!mon)
        return QMPK_ENGINE_E_TOO_MANY_MONITORS;
    mon->used = true;
    mon->gone = mon->negotiated = mon->oob = mon->async = mon->running = false;
    /* never reused: a slot's generation moves on with each connection */
    uint32_t slot = (uint32_t)(mon - e->mons);
    mon->id = mon->gen++ * e->cfg.max_monitors + slot;
    e->next_monitor_id++;
    mon->q_head = mon->q_count = 0;
    mon->out_head = mon->out_tail = 0;
    mon->dropped = 0;
    if (label)
        snprintf(mon->label, sizeof mon->label, "%s", label);
    else
        snprintf(mon->label, sizeof mon->label, "m%u", (unsigned)mon->id);
    if (!mon_init_stream(e, mon)) {
        mon->used = false;
        return QMPK_ENGINE_E_BAD_CONFIG;
    }
    mon_greet(e, mon);
    *mon_id = mon->id;
    return QMPK_ENGINE_E_OK;
}

/* The ready list: monitors with queued requests, served from the head and
 * moved to the back after each request (QEMU's round-robin in
 * monitor_qmp_requests_pop_any_with_lock), so picking one is O(1). */
static void rq_append(qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    int32_t i = (int32_t)(mon - e->mons);

    mon->in_rq = true;
    mon->rq_next = -1;
    mon->rq_prev = e->ready_tail;
    if (e->ready_tail >= 0)
        e->mons[e->ready_tail].rq_next = i;
    else
        e->ready_head = i;
    e->ready_tail = i;
}

static void rq_remove(qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    if (!mon->in_rq)
        return;
    if (mon->rq_prev >= 0)
        e->mons[mon->rq_prev].rq_next = mon->rq_next;
    else
        e->ready_head = mon->rq_next;
    if (mon->rq_next >= 0)
        e->mons[mon->rq_next].rq_prev = mon->rq_prev;
    else
        e->ready_tail = mon->rq_prev;
    mon->in_rq = false;
}

static eng_slot_t *queue_tail(const qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    return &mon->slots[(mon->q_head + mon->q_count) % e->cfg.queue_depth];
}

static void copy_msg(eng_slot_t *dst, const qmpk_msg_t *src)
{
    memcpy(dst->bytes, src->json, src->len);
    memcpy(dst->tok, src->tok, (size_t)src->ntok * sizeof(jsmntok_t));
    dst->msg = *src;
    dst->msg.json = dst->bytes;
    dst->msg.tok = dst->tok;
}

static void enqueue_request(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg)
{
    eng_slot_t *s = queue_tail(e, mon);

    s->kind = SLOT_REQUEST;
    copy_msg(s, msg);
    mon->q_count++;
    e->queued++;
    if (!mon->in_rq)
        rq_append(e, mon);
}

/* Parse errors travel in-band: rendered now, sent when their turn comes. */
static void enqueue_parse_error(qmpk_engine_t *e, struct qmpk_eng_mon *mon,
                                const qmpk_error_t *err)
{
    eng_slot_t *s = queue_tail(e, mon);
    qmpk_writer_t w;

    qmpk_w_init(&w, s->bytes, e->cfg.msg_bytes);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "error");
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "class");
    qmpk_w_str(&w, "GenericError");
    qmpk_w_key(&w, "desc");
    qmpk_w_error_desc(&w, err);
    qmpk_w_obj_end(&w);
    qmpk_w_obj_end(&w);
    qmpk_w_crlf(&w);
    s->kind = SLOT_ERROR;
    s->err_len = w.overflow ? 0 : w.len;
    mon->q_count++;
    e->queued++;
    if (!mon->in_rq)
        rq_append(e, mon);
}

static bool dispatcher_blocked(const qmpk_engine_t *e);
static void start_running(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg,
                          uint64_t until, uint32_t kind);

/* With every queue empty and the dispatcher idle, a request would be
 * queued and taken at once: dispatch it from the stream buffer instead. */
static bool dispatch_directly(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg)
{
    uint64_t until = 0;
    uint32_t kind = 0;

    if (mon->oob || e->queued || e->dispatching || dispatcher_blocked(e))
        return false;
    e->dispatching = true;
    eng_dispatch(e, mon, msg, false, &until, &kind);
    if (kind)
        start_running(e, mon, msg, until, kind);
    eng_jobs_run(e, e->now);
    e->dispatching = false;
    return true;
}

/* QEMU's qmp_is_oob(), with the full (unescaping) lookup only for objects
 * that have a key spelled exec-oob or a key with an escape in it. */
static bool is_oob_request(const qmpk_msg_t *m)
{
    if (qmpk_type(m, 0) != QMPK_T_OBJECT)
        return false;
    for (int k = qmpk_child(m, 0); k >= 0; k = qmpk_next(m, k)) {
        const char *raw = m->json + m->tok[k].start;
        size_t n = (size_t)(m->tok[k].end - m->tok[k].start);
        if ((n == 8 && memcmp(raw, "exec-oob", 8) == 0) || memchr(raw, '\\', n) ||
            memchr(raw, 0x02, n))
            return qmpk_is_oob_request(m);
    }
    return false;
}

static void on_message(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg)
{
    uint64_t until = 0;
    uint32_t kind = 0;

    /* QEMU's qmp_is_oob() ignores whether OOB was negotiated: such a
     * request skips the queue even when it is then refused. */
    if (is_oob_request(msg)) {
        eng_dispatch(e, mon, msg, true, &until, &kind);
        return;
    }
    if (!dispatch_directly(e, mon, msg))
        enqueue_request(e, mon, msg);
}

static size_t out_free(const qmpk_engine_t *e, const struct qmpk_eng_mon *mon)
{
    return e->cfg.out_bytes - (mon->out_tail - mon->out_head);
}

qmpk_engine_errno_t qmpk_engine_input(qmpk_engine_t *e, uint32_t mon_id, const char *data,
                                      size_t len, uint64_t now_ns, size_t *consumed)
{
    qmpk_engine_errno_t rc = QMPK_ENGINE_E_OK;
    struct qmpk_eng_mon *mon;
    size_t off = 0;

    *consumed = 0;
    eng_catch_up(e, now_ns);
    if (e->quit)
        return QMPK_ENGINE_E_QUIT;
    mon = eng_mon_find(e, mon_id);
    if (!mon)
        return QMPK_ENGINE_E_NO_SUCH_MONITOR;
    while (off < len && !e->quit) {
        if (eng_mon_suspended(e, mon))
            eng_dispatcher_run(e);
        if (eng_mon_suspended(e, mon)) {
            rc = QMPK_ENGINE_E_SUSPENDED;
            break;
        }
        if (out_free(e, mon) < e->cfg.reply_bytes) {
            rc = QMPK_ENGINE_E_OUTPUT_FULL;
            break;
        }
        qmpk_msg_t msg;
        qmpk_error_t err;
        size_t used = 0;
        qmpk_feed_t f = qmpk_stream_feed(&mon->stream, data + off, len - off, &used, &msg, &err);
        off += used;
        if (f == QMPK_FEED_MESSAGE)
            on_message(e, mon, &msg);
        else if (f == QMPK_FEED_ERROR)
            enqueue_parse_error(e, mon, &err);
    }
    *consumed = off;
    eng_run_until(e, e->now);
    return rc;
}

static void slot_pop(qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    mon->q_head = (mon->q_head + 1) % e->cfg.queue_depth;
    mon->q_count--;
    e->queued--;
}

/* One dispatcher for all monitors, one in-band request at a time, taking
 * monitors round-robin (QEMU monitor_qmp_requests_pop_any_with_lock). */
static struct qmpk_eng_mon *pick_next(qmpk_engine_t *e)
{
    /* a monitor whose command still runs keeps its place but waits */
    for (int32_t i = e->ready_head; i >= 0; i = e->mons[i].rq_next) {
        struct qmpk_eng_mon *m = &e->mons[i];
        if (!m->running && !m->gone)
            return m;
    }
    return NULL;
}

static bool dispatcher_blocked(const qmpk_engine_t *e)
{
    for (uint32_t i = 0; e->running && i < e->cfg.max_monitors; i++) {
        const struct qmpk_eng_mon *m = &e->mons[i];
        if (m->used && m->running && eng_run_blocks_all(m->run_kind))
            return true;
    }
    return false;
}

static void dispatch_head(qmpk_engine_t *e, struct qmpk_eng_mon *mon)
{
    eng_slot_t *s = &mon->slots[mon->q_head];
    uint64_t until = 0;
    uint32_t kind = 0;

    rq_remove(e, mon);
    if (mon->q_count > 1)
        rq_append(e, mon);      /* to the back: round-robin */
    if (s->kind == SLOT_ERROR) {
        eng_out_append(e, mon, s->bytes, s->err_len);
        slot_pop(e, mon);
        return;
    }
    eng_dispatch(e, mon, &s->msg, false, &until, &kind);
    if (kind)
        start_running(e, mon, &s->msg, until, kind);
    slot_pop(e, mon);
}

/* Still running: keep the request (its id) in the spare slot. */
static void start_running(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg,
                          uint64_t until, uint32_t kind)
{
    copy_msg(&mon->slots[e->cfg.queue_depth], msg);
    mon->running = true;
    mon->run_until = until;
    mon->run_kind = kind;
    e->running++;
}

void eng_dispatcher_run(qmpk_engine_t *e)
{
    if (e->dispatching)
        return;
    e->dispatching = true;
    while (!e->quit && !dispatcher_blocked(e)) {
        struct qmpk_eng_mon *mon = pick_next(e);
        if (!mon)
            break;
        dispatch_head(e, mon);
        /* the main loop runs bottom halves (job steps) between requests */
        eng_jobs_run(e, e->now);
    }
    e->dispatching = false;
}

/* Complete running commands whose time has come. */
void eng_monitors_finish_due(qmpk_engine_t *e, uint64_t t)
{
    for (uint32_t i = 0; e->running && i < e->cfg.max_monitors; i++) {
        struct qmpk_eng_mon *m = &e->mons[i];
        if (!m->used || !m->running || m->run_until > t)
            continue;
        m->running = false;
        e->running--;
        eng_finish_running(e, m, &m->slots[e->cfg.queue_depth].msg);
        if (m->gone)
            m->used = false;
    }
}

uint64_t eng_monitors_next_due(const qmpk_engine_t *e)
{
    uint64_t t = ENG_NEVER;

    for (uint32_t i = 0; e->running && i < e->cfg.max_monitors; i++) {
        const struct qmpk_eng_mon *m = &e->mons[i];
        if (m->used && m->running && m->run_until < t)
            t = m->run_until;
    }
    return t;
}

bool qmpk_engine_output(const qmpk_engine_t *e, uint32_t mon_id, const char **ptr, size_t *len)
{
    const struct qmpk_eng_mon *mon = eng_mon_find(e, mon_id);

    if (!mon || mon->out_tail == mon->out_head)
        return false;
    *ptr = mon->out + mon->out_head;
    *len = mon->out_tail - mon->out_head;
    return true;
}

void qmpk_engine_output_consume(qmpk_engine_t *e, uint32_t mon_id, size_t n)
{
    struct qmpk_eng_mon *mon = eng_mon_find(e, mon_id);

    if (!mon)
        return;
    if (n > mon->out_tail - mon->out_head)
        n = mon->out_tail - mon->out_head;
    mon->out_head += n;
    if (mon->out_head == mon->out_tail)
        mon->out_head = mon->out_tail = 0;
}

qmpk_engine_errno_t qmpk_engine_disconnect(qmpk_engine_t *e, uint32_t mon_id, uint64_t now_ns)
{
    struct qmpk_eng_mon *mon;

    eng_catch_up(e, now_ns);
    mon = eng_mon_find(e, mon_id);
    if (!mon)
        return QMPK_ENGINE_E_NO_SUCH_MONITOR;
    /* queued, unstarted requests and partial input are dropped silently */
    e->queued -= mon->q_count;
    mon->q_count = 0;
    rq_remove(e, mon);
    mon->out_head = mon->out_tail = 0;
    qmpk_stream_reset(&mon->stream);
    eng_pending_drop_monitor(e, mon->id);
    mon->negotiated = false;
    if (mon->running)
        mon->gone = true;   /* finishes later; its reply goes nowhere */
    else
        mon->used = false;
    eng_run_until(e, e->now);
    return QMPK_ENGINE_E_OK;
}

bool qmpk_engine_monitor_connected(const qmpk_engine_t *e, uint32_t mon_id)
{
    return eng_mon_find(e, mon_id) != NULL;
}

bool qmpk_engine_monitor_readable(const qmpk_engine_t *e, uint32_t mon_id)
{
    const struct qmpk_eng_mon *mon = eng_mon_find(e, mon_id);

    return mon && !e->quit && !eng_mon_suspended(e, mon) &&
           out_free(e, mon) >= e->cfg.reply_bytes;
}

uint64_t qmpk_engine_monitor_dropped(const qmpk_engine_t *e, uint32_t mon_id)
{
    const struct qmpk_eng_mon *mon = eng_mon_find(e, mon_id);

    return mon ? mon->dropped : 0;
}
