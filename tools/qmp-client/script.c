/*
 * Script lines of qmp-client (docs/notes/trace-and-adapter.md):
 *   # comment                    ignored, as are blank lines
 *   [&]{"execute": …}            raw JSON, sent as written
 *   [&]NAME key=value …          {"execute": NAME, "arguments": {…}}; a value
 *                                that is valid JSON by itself is used as
 *                                JSON, anything else is a string
 *   .wait  .wait-event NAME  .sleep MS  .raw "JSON string"  .close
 *   .caps LIST                   (leading lines only) enable LIST at negotiation
 * '&' sends without waiting for the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

void action_free(action_t *a)
{
    qt_buf_free(&a->bytes);
    qt_buf_free(&a->id);
}

static size_t skip_ws(const char *p, size_t i, size_t len)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    return i;
}

/* Parse text as one complete JSON value with a scratch stream; on success
 * the caller gets the message in *m (valid until st is freed). */
static bool parse_value(const char *text, size_t len, qmpk_dialect_t d,
                        qmpk_stream_t *st, qmpk_msg_t *m)
{
    if (qt_stream_new(st, d, len + 8, (unsigned)len / 2 + 16) < 0)
        return false;
    qmpk_error_t e;
    size_t used = 0;
    qmpk_feed_t f = qmpk_stream_feed(st, text, len, &used, m, &e);
    if (f == QMPK_FEED_MORE)
        f = qmpk_stream_finish(st, m, &e);
    if (f != QMPK_FEED_MESSAGE)
        return false;
    /* only whitespace may follow */
    for (size_t i = (size_t)(m->offset + m->len); i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            return false;
    return true;
}

static void parse_raw_json(const char *p, size_t len, action_t *a)
{
    qmpk_stream_t st;
    qmpk_msg_t m;
    qt_buf_append(&a->bytes, p, len);
    qt_buf_append(&a->bytes, "\n", 1);
    a->kind = ACT_SEND;
    if (parse_value(p, len, QMPK_DIALECT_QEMU, &st, &m) &&
        qmpk_type(&m, 0) == QMPK_T_OBJECT) {
        int ex = qmpk_get(&m, 0, "execute");
        if (ex < 0)
            ex = qmpk_get(&m, 0, "exec-oob");
        size_t n = 0;
        if (ex >= 0 && qmpk_str(&m, ex, a->name, sizeof(a->name), &n) != QMPK_E_OK)
            snprintf(a->name, sizeof(a->name), "?");
        int id = qmpk_get(&m, 0, "id");
        a->has_id = id >= 0 && qt_canonical(&m, id, &a->id) == 0;
        a->tracked = true;
    }
    /* invalid JSON is still sent (to test servers), but not waited for */
    qt_stream_free(&st);
}

static void add_argument(qmpk_writer_t *w, const char *kv, size_t n)
{
    const char *eq = memchr(kv, '=', n);
    size_t kl = eq ? (size_t)(eq - kv) : n;
    const char *v = eq ? eq + 1 : "true";
    size_t vl = eq ? n - kl - 1 : 4;
    qmpk_stream_t st;
    qmpk_msg_t m;
    qmpk_w_key_n(w, kv, kl);
    if (vl > 0 && parse_value(v, vl, QMPK_DIALECT_RFC, &st, &m))
        qmpk_w_raw(w, v, vl);
    else
        qmpk_w_str_n(w, v, vl);
    qt_stream_free(&st);
}

static void build_command(const char *p, size_t len, bool auto_ids,
                          uint64_t *auto_id, action_t *a)
{
    size_t i = 0, start;
    while (i < len && p[i] != ' ' && p[i] != '\t')
        i++;
    snprintf(a->name, sizeof(a->name), "%.*s", (int)i, p);
    size_t cap = len * 2 + 128;
    char *buf = malloc(cap);
    qmpk_writer_t *w = malloc(sizeof(*w));
    if (!buf || !w) {
        snprintf(a->err, sizeof(a->err), "out of memory");
        a->kind = ACT_ERROR;
        free(buf);
        free(w);
        return;
    }
    qmpk_w_init(w, buf, cap);
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "execute");
    qmpk_w_str_n(w, p, i);
    i = skip_ws(p, i, len);
    if (i < len) {
        qmpk_w_key(w, "arguments");
        qmpk_w_obj_begin(w);
        while (i < len) {
            start = i;
            while (i < len && p[i] != ' ' && p[i] != '\t')
                i++;
            add_argument(w, p + start, i - start);
            i = skip_ws(p, i, len);
        }
        qmpk_w_obj_end(w);
    }
    if (auto_ids) {
        char idtxt[32];
        snprintf(idtxt, sizeof(idtxt), "%llu", (unsigned long long)*auto_id);
        (*auto_id)++;
        qmpk_w_key(w, "id");
        qmpk_w_raw(w, idtxt, strlen(idtxt));
        qt_buf_puts(&a->id, idtxt);
        a->has_id = true;
    }
    qmpk_w_obj_end(w);
    a->kind = w->overflow ? ACT_ERROR : ACT_SEND;
    if (w->overflow)
        snprintf(a->err, sizeof(a->err), "command too long");
    qt_buf_append(&a->bytes, buf, w->len);
    qt_buf_append(&a->bytes, "\n", 1);
    a->tracked = true;
    free(buf);
    free(w);
}

static void parse_raw_bytes(const char *p, size_t len, action_t *a)
{
    qmpk_stream_t st;
    qmpk_msg_t m;
    if (parse_value(p, len, QMPK_DIALECT_RFC, &st, &m) &&
        qt_str_latin1(&m, 0, &a->bytes) == 0) {
        a->kind = ACT_RAW;
    } else {
        a->kind = ACT_ERROR;
        snprintf(a->err, sizeof(a->err), ".raw takes one JSON string whose "
                 "code points are the bytes to send, e.g. .raw \"\\u00ff\\n\"");
    }
    qt_stream_free(&st);
}

static bool directive(const char *p, size_t len, const char *name, size_t *arg)
{
    size_t n = strlen(name);
    if (len < n || memcmp(p, name, n) != 0 ||
        (len > n && p[n] != ' ' && p[n] != '\t'))
        return false;
    *arg = skip_ws(p, n, len);
    return true;
}

static void parse_directive(const char *p, size_t len, action_t *a)
{
    size_t arg = 0;
    if (directive(p, len, ".wait", &arg)) {
        a->kind = ACT_WAIT;
    } else if (directive(p, len, ".close", &arg)) {
        a->kind = ACT_CLOSE;
    } else if (directive(p, len, ".wait-event", &arg) && arg < len) {
        a->kind = ACT_WAIT_EVENT;
        snprintf(a->name, sizeof(a->name), "%.*s", (int)(len - arg), p + arg);
    } else if (directive(p, len, ".sleep", &arg) && arg < len) {
        a->kind = ACT_SLEEP;
        a->ms = strtol(p + arg, NULL, 10);
    } else if (directive(p, len, ".caps", &arg)) {
        /* only leading .caps lines count (main.c takes them before the
         * negotiation); one after a command came too late */
        a->kind = ACT_ERROR;
        snprintf(a->err, sizeof(a->err), "'.caps' counts only before the first "
                 "command of a script file (capabilities are negotiated once, "
                 "at the start; use --caps otherwise)");
    } else if (directive(p, len, ".raw", &arg) && arg < len) {
        parse_raw_bytes(p + arg, len - arg, a);
    } else {
        a->kind = ACT_ERROR;
        snprintf(a->err, sizeof(a->err), "unknown directive '%.*s' (known: "
                 ".caps LIST, .wait, .wait-event NAME, .sleep MS, .raw \"…\", .close)",
                 (int)(len > 40 ? 40 : len), p);
    }
}

void script_parse_line(const char *line, size_t len, bool auto_ids,
                       uint64_t *auto_id, action_t *a)
{
    memset(a, 0, sizeof(*a));
    size_t i = skip_ws(line, 0, len);
    while (len > i && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
                       line[len - 1] == '\r'))
        len--;
    if (i == len || line[i] == '#') {
        a->kind = ACT_NONE;
        return;
    }
    if (line[i] == '&') {
        a->async = true;
        i = skip_ws(line, i + 1, len);
        if (i == len) {
            a->kind = ACT_ERROR;
            snprintf(a->err, sizeof(a->err), "'&' must be followed by a command");
            return;
        }
    }
    if (line[i] == '.')
        parse_directive(line + i, len - i, a);
    else if (line[i] == '{' || line[i] == '[')
        parse_raw_json(line + i, len - i, a);
    else
        build_command(line + i, len - i, auto_ids, auto_id, a);
}
