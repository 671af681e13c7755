#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(qmpk_items_t *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->text = realloc(o->text, o->cap);
    }
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

static void record_msg(qmpk_items_t *o, const qmpk_msg_t *m, char *wbuf, size_t wcap)
{
    qmpk_writer_t w;
    char head[64];
    int n = snprintf(head, sizeof(head), "M %llu %llu ",
                     (unsigned long long)m->offset, (unsigned long long)m->index);

    append(o, head, (size_t)n);
    qmpk_w_init(&w, wbuf, wcap);
    qmpk_w_value(&w, m, 0, QMPK_ORDER_SOURCE);
    append(o, wbuf, w.len < wcap ? w.len : wcap);
    append(o, "\n", 1);
    o->messages++;
}

static void record_err(qmpk_items_t *o, const qmpk_error_t *e, char *wbuf, size_t wcap)
{
    qmpk_writer_t w;
    char head[96];
    int n = snprintf(head, sizeof(head), "E %llu %llu %s ",
                     (unsigned long long)e->offset, (unsigned long long)e->index,
                     qmpk_errname(e->code));

    append(o, head, (size_t)n);
    qmpk_w_init(&w, wbuf, wcap);
    qmpk_w_error_desc(&w, e);
    append(o, wbuf, w.len < wcap ? w.len : wcap);
    append(o, "\n", 1);
    o->errors++;
    o->last_error = e->code;
}

static void feed_chunk(qmpk_stream_t *s, qmpk_items_t *o, const char *p, size_t n,
                       char *wbuf, size_t wcap)
{
    while (n > 0) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t r = qmpk_stream_feed(s, p, n, &used, &m, &e);
        if (r == QMPK_FEED_MESSAGE) {
            record_msg(o, &m, wbuf, wcap);
        } else if (r == QMPK_FEED_ERROR) {
            record_err(o, &e, wbuf, wcap);
        }
        p += used;
        n -= used;
    }
}

void qmpk_items_run(qmpk_items_t *out, const qmpk_run_cfg_t *cfg,
                    const char *in, size_t len, size_t chunk,
                    const size_t *cuts, size_t ncuts)
{
    qmpk_stream_config_t sc = { 0 };
    qmpk_stream_t *s = malloc(sizeof(*s));
    size_t bufsz = cfg->buf_size ? cfg->buf_size : len + 64;
    size_t wcap = 8 * len + 4096, pos = 0;
    char *wbuf = malloc(wcap);

    memset(out, 0, sizeof(*out));
    sc.dialect = cfg->dialect;
    sc.buf = malloc(bufsz);
    sc.buf_size = bufsz;
    sc.tok_count = cfg->tok_count ? cfg->tok_count : (unsigned)len + 16;
    sc.tok = malloc(sc.tok_count * sizeof(jsmntok_t));
    sc.max_depth = cfg->max_depth;
    sc.max_tokens = cfg->max_tokens;
    sc.max_token_size = cfg->max_token_size;
    sc.flags = cfg->flags;
    if (qmpk_stream_init(s, &sc) != QMPK_E_OK) {
        append(out, "BAD CONFIG\n", 11);
    } else {
        for (size_t c = 0; cuts && c <= ncuts; c++) {
            size_t end = c < ncuts ? cuts[c] : len;
            feed_chunk(s, out, in + pos, end - pos, wbuf, wcap);
            pos = end;
        }
        while (!cuts && pos < len) {
            size_t n = chunk && chunk < len - pos ? chunk : len - pos;
            feed_chunk(s, out, in + pos, n, wbuf, wcap);
            pos += n;
        }
        if (cfg->finish) {
            qmpk_msg_t m;
            qmpk_error_t e;
            qmpk_feed_t r = qmpk_stream_finish(s, &m, &e);
            if (r == QMPK_FEED_MESSAGE) record_msg(out, &m, wbuf, wcap);
            if (r == QMPK_FEED_ERROR) record_err(out, &e, wbuf, wcap);
        }
    }
    if (!out->text) {
        append(out, "", 0);
    }
    free(sc.buf);
    free(sc.tok);
    free(wbuf);
    free(s);
}

void qmpk_items_free(qmpk_items_t *it)
{
    free(it->text);
    it->text = NULL;
}

#include "harness.h"

static bool same_as(const qmpk_items_t *ref, const qmpk_items_t *got,
                    const char *how, const char *file, int line)
{
    char what[160];

    if (ref->len == got->len && memcmp(ref->text, got->text, ref->len) == 0) {
        return true;
    }
    snprintf(what, sizeof(what), "items differ when fed %s", how);
    return qmpk_check_str(got->text, got->len, ref->text, ref->len, what, file, line);
}

static bool check_splits(const qmpk_run_cfg_t *cfg, const char *in, size_t len,
                         const qmpk_items_t *ref, const char *file, int line)
{
    char how[96];
    bool ok = true;

    for (size_t i = 1; i < len && len <= 512 && ok; i++) {
        qmpk_items_t got;
        qmpk_items_run(&got, cfg, in, len, 0, &i, 1);
        snprintf(how, sizeof(how), "split at %zu", i);
        ok = same_as(ref, &got, how, file, line);
        qmpk_items_free(&got);
    }
    for (size_t i = 1; i < len && len <= 24 && ok; i++) {
        for (size_t j = i + 1; j < len && ok; j++) {
            size_t cuts[2] = { i, j };
            qmpk_items_t got;
            qmpk_items_run(&got, cfg, in, len, 0, cuts, 2);
            snprintf(how, sizeof(how), "split at %zu and %zu", i, j);
            ok = same_as(ref, &got, how, file, line);
            qmpk_items_free(&got);
        }
    }
    for (size_t c = 1; c <= 8 && ok; c++) {
        qmpk_items_t got;
        qmpk_items_run(&got, cfg, in, len, c, NULL, 0);
        snprintf(how, sizeof(how), "in chunks of %zu", c);
        ok = same_as(ref, &got, how, file, line);
        qmpk_items_free(&got);
    }
    return ok;
}

bool qmpk_expect_items(const qmpk_run_cfg_t *cfg, const char *in, size_t len,
                       const char *expected, const char *file, int line)
{
    qmpk_run_cfg_t exact = *cfg, own = *cfg;
    const qmpk_run_cfg_t *const passes[] = { cfg, &own, &exact };
    static const char *const what[] = {
        "items of the input fed whole", "items of the input fed whole (own tokens)",
        "items of the input fed whole (exact path)",
    };
    qmpk_items_t ref;
    bool ok = true;

    exact.flags |= QMPK_STREAM_EXACT_ONLY;
    own.flags |= QMPK_STREAM_OWN_TOKENS;
    for (int pass = 0; pass < 3 && ok; pass++) {
        const qmpk_run_cfg_t *c = passes[pass];
        qmpk_items_run(&ref, c, in, len, 0, NULL, 0);
        ok = qmpk_check_str(ref.text, ref.len, expected, strlen(expected), what[pass],
                            file, line);
        if (ok) {
            ok = check_splits(c, in, len, &ref, file, line);
        }
        qmpk_items_free(&ref);
    }
    return ok;
}

bool qmpk_same_items_both_paths(const qmpk_run_cfg_t *cfg, const char *in, size_t len,
                                size_t chunk, const char *what)
{
    qmpk_run_cfg_t exact = *cfg;
    qmpk_items_t fast, slow;
    bool ok;

    exact.flags |= QMPK_STREAM_EXACT_ONLY;
    qmpk_items_run(&fast, cfg, in, len, chunk, NULL, 0);
    qmpk_items_run(&slow, &exact, in, len, chunk, NULL, 0);
    ok = qmpk_check_str(fast.text, fast.len, slow.text, slow.len, what, __FILE__, __LINE__);
    qmpk_items_free(&fast);
    qmpk_items_free(&slow);
    return ok;
}
