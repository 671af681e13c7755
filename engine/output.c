/*
 * Output: per-monitor byte buffers, replies and events in QEMU's exact
 * form.  Member orders are QEMU's QDict bucket orders (checked against
 * qmpk_qdict_bucket() by tests/engine/test_engine_order.c):
 *   reply  {"return": V, "id": I}          error {"id": I, "error": {"class", "desc"}}
 *   event  {"timestamp": {"seconds", "microseconds"}, "event", "data"}
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void eng_out_append(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const char *p, size_t n)
{
    size_t cap = e->cfg.out_bytes;

    if (!mon->used || mon->gone)
        return;
    if (mon->out_tail + n > cap && mon->out_head > 0) {
        /* compact: the buffer is linear so output() can hand out one span */
        memmove(mon->out, mon->out + mon->out_head, mon->out_tail - mon->out_head);
        mon->out_tail -= mon->out_head;
        mon->out_head = 0;
    }
    if (mon->out_tail + n > cap) {
        /* a client that does not read: drop whole messages, never parts */
        mon->dropped++;
        e->stat_dropped++;
        return;
    }
    memcpy(mon->out + mon->out_tail, p, n);
    mon->out_tail += n;
    e->out_seq++;
}

static void send_built(eng_req_t *r, qmpk_writer_t *w)
{
    static const char too_big[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                  "\"reply exceeds the engine's reply buffer\"}}\r\n";

    qmpk_w_crlf(w);
    if (w->overflow) {
        /* never leave a request unanswered */
        r->e->stat_dropped++;
        eng_out_append(r->e, r->mon, too_big, sizeof too_big - 1);
        return;
    }
    eng_out_append(r->e, r->mon, w->buf, w->len);
}

qmpk_writer_t *eng_reply_begin(eng_req_t *r, qmpk_writer_t *w)
{
    qmpk_w_init(w, r->e->scratch, r->e->cfg.reply_bytes);
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "return");
    return w;
}

void eng_reply_end(eng_req_t *r, qmpk_writer_t *w)
{
    if (r->id >= 0) {
        qmpk_w_key(w, "id");
        qmpk_w_value(w, r->msg, r->id, QMPK_ORDER_QEMU);
    }
    qmpk_w_obj_end(w);
    send_built(r, w);
    r->replied = true;
}

void eng_reply_empty(eng_req_t *r)
{
    static const char plain[] = "{\"return\": {}}\r\n";
    qmpk_writer_t w;

    if (r->id < 0) {
        eng_out_append(r->e, r->mon, plain, sizeof plain - 1);
        r->replied = true;
        return;
    }
    eng_reply_begin(r, &w);
    qmpk_w_obj_begin(&w);
    qmpk_w_obj_end(&w);
    eng_reply_end(r, &w);
}

void eng_write_error_reply(qmpk_writer_t *w, const qmpk_msg_t *m, int id,
                           const char *cls, const char *desc, size_t desc_len)
{
    qmpk_w_obj_begin(w);
    if (m && id >= 0) {
        qmpk_w_key(w, "id");
        qmpk_w_value(w, m, id, QMPK_ORDER_QEMU);
    }
    qmpk_w_key(w, "error");
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "class");
    qmpk_w_str(w, cls);
    qmpk_w_key(w, "desc");
    qmpk_w_str_n(w, desc, desc_len);
    qmpk_w_obj_end(w);
    qmpk_w_obj_end(w);
}

void eng_reply_error_n(eng_req_t *r, const char *cls, const char *desc, size_t n)
{
    qmpk_writer_t w;

    if (r->hold) {
        if (!r->held) {
            r->held = true;
            r->held_cls = cls;
            r->held_len = n < sizeof r->held_desc ? n : sizeof r->held_desc;
            memcpy(r->held_desc, desc, r->held_len);
        }
        return;
    }
    qmpk_w_init(&w, r->e->scratch, r->e->cfg.reply_bytes);
    eng_write_error_reply(&w, r->msg, r->id, cls, desc, n);
    send_built(r, &w);
    r->replied = true;
}

void eng_reply_error(eng_req_t *r, const char *cls, const char *desc)
{
    eng_reply_error_n(r, cls, desc, strlen(desc));
}

void eng_reply_errorf(eng_req_t *r, const char *cls, const char *fmt, ...)
{
    char desc[ENG_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    eng_reply_error(r, cls, desc);
}

qmpk_writer_t *eng_event_begin(qmpk_engine_t *e, qmpk_writer_t *w, const char *name,
                               bool has_data)
{
    uint64_t now = eng_now(e);

    qmpk_w_init(w, e->scratch2, e->cfg.reply_bytes);
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "timestamp");
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "seconds");
    qmpk_w_int(w, (int64_t)(now / ENG_NS_PER_S));
    qmpk_w_key(w, "microseconds");
    qmpk_w_int(w, (int64_t)((now / 1000u) % 1000000u));
    qmpk_w_obj_end(w);
    qmpk_w_key(w, "event");
    qmpk_w_str(w, name);
    if (has_data)
        qmpk_w_key(w, "data");
    return w;
}

/* Events go whole to every monitor that finished negotiation; monitors
 * still negotiating never see them (QEMU drops rather than queues). */
void eng_event_end(qmpk_engine_t *e, qmpk_writer_t *w, bool has_data)
{
    (void)has_data;
    qmpk_w_obj_end(w);
    qmpk_w_crlf(w);
    if (w->overflow) {
        e->stat_dropped++;
        return;
    }
    for (uint32_t i = 0; i < e->cfg.max_monitors; i++) {
        struct qmpk_eng_mon *mon = &e->mons[i];
        if (mon->used && !mon->gone && mon->negotiated)
            eng_out_append(e, mon, w->buf, w->len);
    }
}
