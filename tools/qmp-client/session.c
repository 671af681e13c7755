/*
 * What qmp-client does with each server message: pair replies with pending
 * commands by id (ids compare as JSON values; id-less replies go to the
 * oldest id-less command), print them, remember events for .wait-event.
 *
 * --jsonl output, one object per line (docs/notes/trace-and-adapter.md):
 *   {"type": "greeting", "msg": …}
 *   {"type": "return"|"error", "seq": N, "command": NAME[, "id": …], "msg": …}
 *   {"type": "event", "event": NAME, "msg": …}
 *   {"type": "unmatched", "msg": …}          a reply nobody waits for
 *   {"type": "invalid", "error": DESC, "msg": …}   valid JSON, not QMP
 *   {"type": "parse-error", "error": DESC, "offset": N}
 *   {"type": "client-error", "error": DESC}  timeouts, early close…
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static void out_line(client_t *c, qt_buf_t *b)
{
    (void)c;
    qt_buf_append(b, "\n", 1);
    fflush(stdout);
    qt_write_all(STDOUT_FILENO, qt_buf_head(b), qt_buf_size(b));
}

/* The message as received, with line breaks outside strings (the only
 * place a valid message can have them) turned into spaces. */
static void append_msg(qt_buf_t *b, const qmpk_msg_t *m)
{
    size_t start = b->len;
    qt_buf_append(b, m->json, m->len);
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '\r' || b->data[i] == '\n' || b->data[i] == '\t')
            b->data[i] = ' ';
}

static void emit(client_t *c, const char *type, const pending_t *p,
                 const char *extra_key, const char *extra_json,
                 const qmpk_msg_t *m)
{
    qt_buf_t b = {0};
    if (c->jsonl) {
        qt_buf_puts(&b, "{\"type\": \"");
        qt_buf_puts(&b, type);
        qt_buf_puts(&b, "\"");
        if (p) {
            char head[64];
            snprintf(head, sizeof(head), ", \"seq\": %llu, \"command\": ",
                     (unsigned long long)p->seq);
            qt_buf_puts(&b, head);
            qt_json_latin1(&b, p->name, strlen(p->name));
            if (p->has_id) {
                qt_buf_puts(&b, ", \"id\": ");
                qt_buf_puts(&b, p->id);
            }
        }
        if (extra_key) {
            qt_buf_puts(&b, ", \"");
            qt_buf_puts(&b, extra_key);
            qt_buf_puts(&b, "\": ");
            qt_buf_puts(&b, extra_json);
        }
        if (m) {
            qt_buf_puts(&b, ", \"msg\": ");
            append_msg(&b, m);
        }
        qt_buf_puts(&b, "}");
        out_line(c, &b);
    } else if (m && (c->verbose || (strcmp(type, "greeting") != 0 &&
                                    !(p && p->seq == 0)))) {
        if (strcmp(type, "event") == 0)
            qt_buf_puts(&b, "event: ");
        else if (strcmp(type, "unmatched") == 0)
            qt_buf_puts(&b, "unmatched reply: ");
        append_msg(&b, m);
        out_line(c, &b);
    }
    qt_buf_free(&b);
}

void client_emit_note(client_t *c, const char *type, const char *desc)
{
    qt_buf_t j = {0};
    qt_json_latin1(&j, desc, strlen(desc));
    qt_buf_append(&j, "", 1);
    if (c->jsonl)
        emit(c, type, NULL, "error", qt_buf_head(&j), NULL);
    fprintf(stderr, "qmp-client: %s\n", desc);
    qt_buf_free(&j);
}

int client_track(client_t *c, const action_t *a)
{
    if (c->npend == c->cappend) {
        size_t n = c->cappend ? c->cappend * 2 : 16;
        pending_t *p = realloc(c->pend, n * sizeof(*p));
        if (!p)
            return -1;
        c->pend = p;
        c->cappend = n;
    }
    pending_t *p = &c->pend[c->npend];
    memset(p, 0, sizeof(*p));
    p->seq = c->seq;
    p->has_id = a->has_id;
    snprintf(p->name, sizeof(p->name), "%s", a->name);
    if (a->has_id) {
        p->id = malloc(qt_buf_size(&a->id) + 1);
        if (!p->id)
            return -1;
        memcpy(p->id, qt_buf_head(&a->id), qt_buf_size(&a->id));
        p->id[qt_buf_size(&a->id)] = '\0';
    }
    c->npend++;
    return 0;
}

/* Index of the pending command a reply belongs to, or -1. */
static long find_pending(client_t *c, const qmpk_msg_t *m, int id)
{
    if (id < 0) {
        for (size_t i = 0; i < c->npend; i++)
            if (!c->pend[i].has_id)
                return (long)i;
        return -1;
    }
    qt_buf_t canon = {0};
    long found = -1;
    if (qt_canonical(m, id, &canon) == 0 && qt_buf_append(&canon, "", 1) == 0)
        for (size_t i = 0; i < c->npend && found < 0; i++)
            if (c->pend[i].has_id && strcmp(c->pend[i].id, qt_buf_head(&canon)) == 0)
                found = (long)i;
    qt_buf_free(&canon);
    return found;
}

static void negotiation_done(client_t *c, bool ok, const qmpk_msg_t *m,
                             const qmpk_envelope_t *env)
{
    if (ok) {
        c->phase = PH_RUN;
        return;
    }
    char desc[512] = "";
    size_t n = 0;
    qmpk_str(m, env->error_desc, desc, sizeof(desc), &n);
    char line[700];
    snprintf(line, sizeof(line), "capabilities negotiation failed: %s "
             "(check --caps against the greeting's capabilities)", desc);
    client_emit_note(c, "client-error", line);
    c->status = 1;
    c->phase = PH_DONE;
}

static void on_reply(client_t *c, const qmpk_msg_t *m, const qmpk_envelope_t *env)
{
    bool ok = env->kind == QMPK_KIND_RETURN;
    long i = find_pending(c, m, env->id);
    if (i < 0) {
        emit(c, "unmatched", NULL, NULL, NULL, m);
        return;
    }
    pending_t p = c->pend[i];
    memmove(&c->pend[i], &c->pend[i + 1], (c->npend - (size_t)i - 1) * sizeof(p));
    c->npend--;
    emit(c, ok ? "return" : "error", &p, NULL, NULL, m);
    if (p.seq == 0 && c->phase == PH_NEGOTIATING)
        negotiation_done(c, ok, m, env);
    free(p.id);
}

static void remember_event(client_t *c, const qmpk_msg_t *m, int name)
{
    char ev[128] = "";
    size_t n = 0;
    qmpk_str(m, name, ev, sizeof(ev), &n);
    if (c->nevents == 4096) {   /* nobody waits for these: forget the oldest */
        free(c->events[0]);
        memmove(&c->events[0], &c->events[1], (c->nevents - 1) * sizeof(char *));
        c->nevents--;
    }
    if (c->nevents == c->capevents) {
        size_t cap = c->capevents ? c->capevents * 2 : 16;
        char **e = realloc(c->events, cap * sizeof(*e));
        if (!e)
            return;
        c->events = e;
        c->capevents = cap;
    }
    c->events[c->nevents] = strdup(ev);
    if (c->events[c->nevents])
        c->nevents++;
    qt_buf_t j = {0};
    qt_json_latin1(&j, ev, strlen(ev));
    qt_buf_append(&j, "", 1);
    emit(c, "event", NULL, "event", qt_buf_head(&j), m);
    qt_buf_free(&j);
}

bool client_take_event(client_t *c, const char *name)
{
    for (size_t i = 0; i < c->nevents; i++) {
        if (strcmp(c->events[i], name) == 0) {
            free(c->events[i]);
            memmove(&c->events[i], &c->events[i + 1],
                    (c->nevents - i - 1) * sizeof(char *));
            c->nevents--;
            return true;
        }
    }
    return false;
}

/* A client reads server messages liberally (qt_server_envelope()): extra
 * members and odd timestamps are not a reason to drop a reply. */
void client_on_message(client_t *c, const qmpk_msg_t *m)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    if (qt_server_envelope(m, &env, &err) != QMPK_E_OK) {
        char d[256];
        qmpk_error_format(&err, d, sizeof(d));
        qt_buf_t j = {0};
        qt_json_latin1(&j, d, strlen(d));
        qt_buf_append(&j, "", 1);
        emit(c, "invalid", NULL, "error", qt_buf_head(&j), m);
        qt_buf_free(&j);
        c->status = 1;
        return;
    }
    switch (env.kind) {
    case QMPK_KIND_GREETING:
        emit(c, "greeting", NULL, NULL, NULL, m);
        if (c->phase == PH_GREETING)
            c->phase = PH_NEGOTIATING;  /* main loop sends qmp_capabilities */
        break;
    case QMPK_KIND_RETURN:
    case QMPK_KIND_ERROR:
        on_reply(c, m, &env);
        break;
    case QMPK_KIND_EVENT:
        remember_event(c, m, env.name);
        break;
    default:
        emit(c, "invalid", NULL, NULL, NULL, m);
        c->status = 1;
        break;
    }
}

void client_on_parse_error(client_t *c, const qmpk_error_t *e)
{
    char d[256], num[32];
    qmpk_error_format(e, d, sizeof(d));
    qt_buf_t j = {0};
    qt_json_latin1(&j, d, strlen(d));
    snprintf(num, sizeof(num), ", \"offset\": %llu", (unsigned long long)e->offset);
    qt_buf_puts(&j, num);
    qt_buf_append(&j, "", 1);
    if (c->jsonl)
        emit(c, "parse-error", NULL, "error", qt_buf_head(&j), NULL);
    fprintf(stderr, "qmp-client: server sent bad JSON: %s at offset %llu\n", d,
            (unsigned long long)e->offset);
    qt_buf_free(&j);
    c->status = 1;
}

void client_free(client_t *c)
{
    for (size_t i = 0; i < c->npend; i++)
        free(c->pend[i].id);
    free(c->pend);
    for (size_t i = 0; i < c->nevents; i++)
        free(c->events[i]);
    free(c->events);
    qt_buf_free(&c->out);
    qt_buf_free(&c->caps_all);
    qt_buf_free(&c->src);
    qt_stream_free(&c->s);
}
