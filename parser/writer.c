/*
 * Write: QEMU's output format byte for byte (qobject/json-writer.c in
 * compact mode, plus the monitor's CRLF), into a caller buffer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void emit(qmpk_writer_t *w, const char *s, size_t n)
{
    size_t room = w->len < w->cap ? w->cap - w->len : 0;

    memcpy(w->buf + w->len, s, n < room ? n : room);
    if (n > room) {
        w->overflow = true;
    }
    w->len += n;
}

static void emit_c(qmpk_writer_t *w, char c)
{
    if (w->len < w->cap) {
        w->buf[w->len] = c;
    } else {
        w->overflow = true;
    }
    w->len++;
}

void qmpk_w_init(qmpk_writer_t *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
}

void qmpk_w_reset(qmpk_writer_t *w)
{
    qmpk_w_init(w, w->buf, w->cap);
}

static bool comma_needed(const qmpk_writer_t *w)
{
    return (w->need_comma[w->depth / 8] >> (w->depth % 8)) & 1;
}

static void set_comma(qmpk_writer_t *w, bool on)
{
    uint8_t bit = (uint8_t)(1u << (w->depth % 8));
    if (on) {
        w->need_comma[w->depth / 8] |= bit;
    } else {
        w->need_comma[w->depth / 8] &= (uint8_t)~bit;
    }
}

/* Before any value or key: the separator its position needs. */
static void separate(qmpk_writer_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (comma_needed(w)) {
        emit(w, ", ", 2);
    }
    set_comma(w, true);
}

static void open_container(qmpk_writer_t *w, char c)
{
    separate(w);
    emit_c(w, c);
    if (w->depth < QMPK_MAX_DEPTH_LIMIT) {
        w->depth++;
    }
    set_comma(w, false);
}

static void close_container(qmpk_writer_t *w, char c)
{
    if (w->depth > 0) {
        w->depth--;
    }
    emit_c(w, c);
}

void qmpk_w_obj_begin(qmpk_writer_t *w) { open_container(w, '{'); }
void qmpk_w_obj_end(qmpk_writer_t *w) { close_container(w, '}'); }
void qmpk_w_arr_begin(qmpk_writer_t *w) { open_container(w, '['); }
void qmpk_w_arr_end(qmpk_writer_t *w) { close_container(w, ']'); }

/* One code point as json-writer.c's quoted_str() prints it. */
static void emit_cp(qmpk_writer_t *w, int32_t cp)
{
    char tmp[16];
    int n;

    switch (cp) {
    case '"': emit(w, "\\\"", 2); return;
    case '\\': emit(w, "\\\\", 2); return;
    case '\b': emit(w, "\\b", 2); return;
    case '\f': emit(w, "\\f", 2); return;
    case '\n': emit(w, "\\n", 2); return;
    case '\r': emit(w, "\\r", 2); return;
    case '\t': emit(w, "\\t", 2); return;
    default: break;
    }
    if (cp < 0) {
        cp = 0xFFFD;    /* replacement character */
    }
    if (cp > 0xFFFF) {
        n = snprintf(tmp, sizeof(tmp), "\\u%04X\\u%04X",
                     (unsigned)(0xD800 + ((cp - 0x10000) >> 10)),
                     (unsigned)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else if (cp < 0x20 || cp >= 0x7F) {
        n = snprintf(tmp, sizeof(tmp), "\\u%04X", (unsigned)cp);
    } else {
        emit_c(w, (char)cp);
        return;
    }
    emit(w, tmp, (size_t)n);
}

/* Raw bytes, decoded as QEMU decodes its (modified) UTF-8 strings. */
static void emit_raw_string(qmpk_writer_t *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;

    emit_c(w, '"');
    while (p < e) {
        size_t k;
        int32_t cp = *p < 0x80 ? (k = 1, *p) : qmpk__utf8_decode(p, (size_t)(e - p), &k);
        emit_cp(w, cp);
        p += k;
    }
    emit_c(w, '"');
}

/* A string token of a message, decoded from its escapes. */
static void emit_json_string(qmpk_writer_t *w, const char *p, const char *e)
{
    emit_c(w, '"');
    while (p < e) {
        emit_cp(w, qmpk__str_next(&p, e));
    }
    emit_c(w, '"');
}

void qmpk_w_key_n(qmpk_writer_t *w, const char *key, size_t n)
{
    separate(w);
    emit_raw_string(w, key, n);
    emit(w, ": ", 2);
    w->after_key = true;
}

void qmpk_w_key(qmpk_writer_t *w, const char *key)
{
    qmpk_w_key_n(w, key, strlen(key));
}

void qmpk_w_str_n(qmpk_writer_t *w, const char *s, size_t n)
{
    separate(w);
    emit_raw_string(w, s, n);
}

void qmpk_w_str(qmpk_writer_t *w, const char *s)
{
    qmpk_w_str_n(w, s, strlen(s));
}

/* Digits of v, right-aligned in tmp[24]; returns where they start. */
static size_t format_u64(char tmp[24], uint64_t v)
{
    size_t i = 24;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return i;
}

void qmpk_w_uint(qmpk_writer_t *w, uint64_t v)
{
    char tmp[24];
    size_t i = format_u64(tmp, v);

    separate(w);
    emit(w, tmp + i, sizeof(tmp) - i);
}

void qmpk_w_int(qmpk_writer_t *w, int64_t v)
{
    char tmp[24];
    size_t i = format_u64(tmp, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);

    separate(w);
    if (v < 0) {
        emit_c(w, '-');
    }
    emit(w, tmp + i, sizeof(tmp) - i);
}

void qmpk_w_double(qmpk_writer_t *w, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof(tmp), "%.17g", v);

    separate(w);
    emit(w, tmp, (size_t)n);
}

void qmpk_w_num(qmpk_writer_t *w, const qmpk_num_t *n)
{
    switch (n->kind) {
    case QMPK_NUM_I64: qmpk_w_int(w, n->u.i64); break;
    case QMPK_NUM_U64: qmpk_w_uint(w, n->u.u64); break;
    default: qmpk_w_double(w, n->u.dbl); break;
    }
}

void qmpk_w_bool(qmpk_writer_t *w, bool v)
{
    separate(w);
    emit(w, v ? "true" : "false", v ? 4 : 5);
}

void qmpk_w_null(qmpk_writer_t *w)
{
    separate(w);
    emit(w, "null", 4);
}

void qmpk_w_raw(qmpk_writer_t *w, const char *json, size_t n)
{
    separate(w);
    emit(w, json, n);
}

void qmpk_w_crlf(qmpk_writer_t *w)
{
    emit(w, "\r\n", 2);
}

/* ------------------------------------------------------------------ */
/* re-serializing a message value                                       */

/* The first key of k's object spelled like k (k itself when unique). */
static int first_same_key(const char *js, const jsmntok_t *tok, int k)
{
    int obj = tok[k].parent;

    for (int j = obj + 1; j < k; j++) {
        if (tok[j].parent == obj && qmpk__key_cmp_text(js, tok, j, k) == 0) {
            return j;
        }
    }
    return k;
}

/*
 * QDict iteration order: ascending bucket, newest first inside one.  QEMU
 * never holds two equal keys; the RFC dialect may, and they stay together
 * in source order, so that writing and reading back gives an equal value.
 */
static int qdict_cmp(const char *js, const jsmntok_t *tok, int a, int b)
{
    unsigned ba = qmpk__key_bucket(js, tok, a), bb = qmpk__key_bucket(js, tok, b);
    int fa, fb;

    if (ba != bb) {
        return ba < bb ? -1 : 1;
    }
    fa = first_same_key(js, tok, a);
    fb = first_same_key(js, tok, b);
    if (fa != fb) {
        return fa > fb ? -1 : 1;
    }
    return a < b ? -1 : 1;
}

static void write_member(qmpk_writer_t *w, const qmpk_msg_t *m, int k,
                         qmpk_order_t order)
{
    separate(w);
    emit_json_string(w, m->json + m->tok[k].start, m->json + m->tok[k].end);
    emit(w, ": ", 2);
    w->after_key = true;
    qmpk_w_value(w, m, k + 1, order);
}

static void write_object(qmpk_writer_t *w, const qmpk_msg_t *m, int t,
                         qmpk_order_t order)
{
    open_container(w, '{');
    if (order == QMPK_ORDER_QEMU) {
        int head = qmpk__sort_keys(m->json, m->tok, m->ntok, t, qdict_cmp);
        for (int k = head; k >= 0; k = m->tok[k].size) {
            write_member(w, m, k, order);
        }
        qmpk__unsort_keys(m->tok, head);
    } else {
        for (int k = qmpk_child(m, t); k >= 0; k = qmpk_next(m, k)) {
            write_member(w, m, k, order);
        }
    }
    close_container(w, '}');
}

void qmpk_w_value(qmpk_writer_t *w, const qmpk_msg_t *m, int t, qmpk_order_t order)
{
    qmpk_num_t n;

    switch (qmpk_type(m, t)) {
    case QMPK_T_OBJECT:
        write_object(w, m, t, order);
        return;
    case QMPK_T_ARRAY:
        open_container(w, '[');
        for (int e = qmpk_child(m, t); e >= 0; e = qmpk_next(m, e)) {
            qmpk_w_value(w, m, e, order);
        }
        close_container(w, ']');
        return;
    case QMPK_T_STRING:
        separate(w);
        emit_json_string(w, m->json + m->tok[t].start, m->json + m->tok[t].end);
        return;
    case QMPK_T_NUMBER:
        qmpk_number(m, t, &n);
        qmpk_w_num(w, &n);
        return;
    case QMPK_T_TRUE: qmpk_w_bool(w, true); return;
    case QMPK_T_FALSE: qmpk_w_bool(w, false); return;
    default: qmpk_w_null(w); return;
    }
}

void qmpk_w_error_desc(qmpk_writer_t *w, const qmpk_error_t *err)
{
    const char *t = qmpk_strerror(err->code), *pct = strstr(t, "%s");
    const unsigned char *p, *e;

    separate(w);
    emit_c(w, '"');
    if (!pct) {
        for (; *t; t++) emit_cp(w, (unsigned char)*t);
        emit_c(w, '"');
        return;
    }
    for (; t < pct; t++) emit_cp(w, (unsigned char)*t);
    if (err->arg && err->arg_is_json) {
        const char *a = err->arg, *ae = err->arg + err->arg_len;
        while (a < ae) emit_cp(w, qmpk__str_next(&a, ae));
    } else if (err->arg) {
        /* QEMU's "%s": the argument stops at its first NUL */
        const char *nul = memchr(err->arg, '\0', err->arg_len);
        p = (const unsigned char *)err->arg;
        e = nul ? (const unsigned char *)nul : p + err->arg_len;
        while (p < e) {
            size_t k;
            int32_t cp = qmpk__utf8_decode(p, (size_t)(e - p), &k);
            emit_cp(w, cp);
            p += k;
        }
    }
    for (t = pct + 2; *t; t++) emit_cp(w, (unsigned char)*t);
    emit_c(w, '"');
}
