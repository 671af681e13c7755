/* Growable byte queue and small JSON text helpers for the tools. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qt_common.h"

int qt_buf_append(qt_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->off > 0 && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->off > 0 && b->len - b->off + n <= b->cap) {
            memmove(b->data, b->data + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        } else {
            size_t cap = b->cap ? b->cap : 256;
            while (cap < b->len + n)
                cap *= 2;
            char *d = realloc(b->data, cap);
            if (!d)
                return -1;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int qt_buf_puts(qt_buf_t *b, const char *s)
{
    return qt_buf_append(b, s, strlen(s));
}

void qt_buf_consume(qt_buf_t *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

void qt_buf_clear(qt_buf_t *b)
{
    b->off = b->len = 0;
}

void qt_buf_free(qt_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

int qt_json_latin1(qt_buf_t *out, const void *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    char tmp[512];
    size_t k = 0;
    int rc = qt_buf_append(out, "\"", 1);
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned c = p[i];
        if (k > sizeof(tmp) - 8) {
            rc = qt_buf_append(out, tmp, k);
            k = 0;
        }
        if (c == '"' || c == '\\') {
            tmp[k++] = '\\';
            tmp[k++] = (char)c;
        } else if (c == '\n') {
            tmp[k++] = '\\';
            tmp[k++] = 'n';
        } else if (c == '\r') {
            tmp[k++] = '\\';
            tmp[k++] = 'r';
        } else if (c == '\t') {
            tmp[k++] = '\\';
            tmp[k++] = 't';
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(tmp + k, "\\u00", 4);
            tmp[k + 4] = hex[c >> 4];
            tmp[k + 5] = hex[c & 15];
            k += 6;
        } else {
            tmp[k++] = (char)c;
        }
    }
    if (rc == 0 && k)
        rc = qt_buf_append(out, tmp, k);
    if (rc == 0)
        rc = qt_buf_append(out, "\"", 1);
    return rc;
}

/* UTF-8 (as qmpk_str produces it) back to one byte per code point. */
static int utf8_to_latin1(const unsigned char *s, size_t n, qt_buf_t *out)
{
    size_t w = 0;
    char *d = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c < 0x80) {
            d[w++] = (char)c;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < n) {
            d[w++] = (char)(((c & 0x1f) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            return -1;
        }
    }
    out->len += w;
    return 0;
}

int qt_str_latin1(const qmpk_msg_t *m, int t, qt_buf_t *out)
{
    size_t need = 0;
    if (qmpk_type(m, t) != QMPK_T_STRING)
        return -1;
    qmpk_str(m, t, NULL, 0, &need);
    char *tmp = malloc(need + 1);
    if (!tmp)
        return -1;
    int rc = -1;
    size_t got = 0;
    if (qmpk_str(m, t, tmp, need + 1, &got) == QMPK_E_OK && got == 0) {
        rc = 0;
    } else if (got > 0) {
        /* the result is never longer than its UTF-8 form */
        size_t keep = out->len;
        if (qt_buf_append(out, tmp, got) == 0) {
            out->len = keep;
            rc = utf8_to_latin1((const unsigned char *)tmp, got, out);
        }
    }
    free(tmp);
    return rc;
}

int qt_canonical(const qmpk_msg_t *m, int t, qt_buf_t *out)
{
    char small[256];
    qmpk_writer_t *w = malloc(sizeof(*w));
    if (!w)
        return -1;
    qmpk_w_init(w, small, sizeof(small));
    qmpk_w_value(w, m, t, QMPK_ORDER_QEMU);
    int rc;
    if (!w->overflow) {
        rc = qt_buf_append(out, small, w->len);
    } else {
        size_t need = w->len + 1;
        char *big = malloc(need);
        rc = -1;
        if (big) {
            qmpk_w_init(w, big, need);
            qmpk_w_value(w, m, t, QMPK_ORDER_QEMU);
            rc = w->overflow ? -1 : qt_buf_append(out, big, w->len);
            free(big);
        }
    }
    free(w);
    return rc;
}

int qt_stream_new(qmpk_stream_t *s, qmpk_dialect_t d, size_t max_msg,
                  unsigned max_tok)
{
    qmpk_stream_config_t cfg = {0};
    cfg.dialect = d;
    cfg.buf_size = max_msg + QMPK_BUF_SLACK;
    cfg.buf = malloc(cfg.buf_size);
    cfg.tok_count = max_tok;
    cfg.tok = malloc(sizeof(jsmntok_t) * max_tok);
    if (!cfg.buf || !cfg.tok || qmpk_stream_init(s, &cfg) != QMPK_E_OK) {
        free(cfg.buf);
        free(cfg.tok);
        memset(s, 0, sizeof(*s));
        return -1;
    }
    return 0;
}

void qt_stream_free(qmpk_stream_t *s)
{
    free(s->cfg.buf);
    free(s->cfg.tok);
    s->cfg.buf = NULL;
    s->cfg.tok = NULL;
}

int qt_opt_num(const char *tool, const char *opt, const char *arg, double lo,
               double hi, double *out)
{
    char *end = NULL;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: %s must be a number from %.15g to %.15g, not '%s'\n",
                tool, opt, lo, hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}
