/*
 * The trace format: one JSON object per line (docs/notes/trace-and-adapter.md).
 * Writer: {"t": 0.001234, "mon": 1, "dir": "in", "data": "…"} with bytes as
 * latin-1 code points.  Reader: that, or the shared corpus recordings
 * ({"conn": "A", "dir": "send|recv|eof|…"}), parsed with qmpkit's own parser.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qt_common.h"

static const char *const dir_names[] = {
    [QT_DIR_IN] = "in", [QT_DIR_OUT] = "out", [QT_DIR_CONNECT] = "connect",
    [QT_DIR_CLOSE] = "close", [QT_DIR_NOTE] = "note",
};

const char *qt_dir_name(qt_dir_t d)
{
    return (unsigned)d < sizeof(dir_names) / sizeof(dir_names[0])
               ? dir_names[d] : "?";
}

int qt_trace_open(qt_trace_w_t *w, const char *path, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!w->f) {
        snprintf(err, errlen, "cannot write trace file '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void qt_trace_put(qt_trace_w_t *w, double t, int mon, qt_dir_t dir,
                  const void *data, size_t n, const char *note,
                  const char *extra)
{
    char head[96];
    if (!w->f)
        return;
    qt_buf_clear(&w->line);
    snprintf(head, sizeof(head), "{\"t\": %.6f, \"mon\": %d, \"dir\": \"%s\"",
             t, mon, qt_dir_name(dir));
    int rc = qt_buf_puts(&w->line, head);
    if (data && rc == 0) {
        rc = qt_buf_puts(&w->line, ", \"data\": ");
        rc |= qt_json_latin1(&w->line, data, n);
    }
    if (note && rc == 0) {
        rc = qt_buf_puts(&w->line, ", \"note\": ");
        rc |= qt_json_latin1(&w->line, note, strlen(note));
    }
    if (extra && rc == 0) {
        rc = qt_buf_puts(&w->line, ", ");
        rc |= qt_buf_puts(&w->line, extra);
    }
    if (rc == 0)
        rc = qt_buf_puts(&w->line, "}\n");
    if (rc != 0 ||
        fwrite(qt_buf_head(&w->line), 1, qt_buf_size(&w->line), w->f) !=
            qt_buf_size(&w->line))
        w->failed = true;
}

int qt_trace_close(qt_trace_w_t *w)
{
    int rc = w->failed ? -1 : 0;
    if (w->f) {
        if (fflush(w->f) != 0)
            rc = -1;
        if (w->f != stdout && fclose(w->f) != 0)
            rc = -1;
    }
    qt_buf_free(&w->line);
    w->f = NULL;
    return rc;
}

int qt_trace_ropen(qt_trace_r_t *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    r->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!r->f) {
        snprintf(err, errlen, "cannot read trace file '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void qt_trace_rfile(qt_trace_r_t *r, FILE *f, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->path = name;
    r->f = f;
}

void qt_trace_rclose(qt_trace_r_t *r)
{
    if (r->f && r->f != stdin)
        fclose(r->f);
    r->f = NULL;
    free(r->line);
    qt_stream_free(&r->s);
    qt_buf_free(&r->data);
    qt_buf_free(&r->note);
}

static int dir_from(const qmpk_msg_t *m, int t, qt_dir_t *d)
{
    static const struct { const char *name; qt_dir_t dir; } map[] = {
        {"in", QT_DIR_IN}, {"send", QT_DIR_IN}, {"out", QT_DIR_OUT},
        {"recv", QT_DIR_OUT}, {"connect", QT_DIR_CONNECT},
        {"close", QT_DIR_CLOSE}, {"eof", QT_DIR_CLOSE}, {"note", QT_DIR_NOTE},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (qmpk_str_eqz(m, t, map[i].name)) {
            *d = map[i].dir;
            return 0;
        }
    }
    return -1;
}

/* Give each corpus "conn" label a number, in order of appearance. */
static int label_mon(qt_trace_r_t *r, const char *label)
{
    if (label[0] == '\0')
        return 0;
    for (int i = 0; i < r->nlabels; i++)
        if (strcmp(r->labels[i], label) == 0)
            return i + 1;
    if (r->nlabels == 64)
        return 64;
    snprintf(r->labels[r->nlabels], sizeof(r->labels[0]), "%s", label);
    return ++r->nlabels;
}

static int parse_line(qt_trace_r_t *r, size_t len, char *err, size_t errlen)
{
    size_t need = len + 16;
    if (!r->s.cfg.buf || r->s.cfg.buf_size < need) {
        qt_stream_free(&r->s);
        if (qt_stream_new(&r->s, QMPK_DIALECT_RFC, need * 2, 256) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    qmpk_stream_reset(&r->s);
    size_t used = 0;
    qmpk_error_t e;
    qmpk_feed_t f = qmpk_stream_feed(&r->s, r->line, len, &used, &r->msg, &e);
    if (f == QMPK_FEED_MORE)
        f = qmpk_stream_finish(&r->s, &r->msg, &e);
    if (f != QMPK_FEED_MESSAGE || qmpk_type(&r->msg, 0) != QMPK_T_OBJECT) {
        char d[160] = "not a JSON object";
        if (f == QMPK_FEED_ERROR && e.code == QMPK_E_INCOMPLETE)
            snprintf(d, sizeof(d), "the line ends inside a JSON value "
                     "(a truncated trace?)");
        else if (f == QMPK_FEED_ERROR)
            qmpk_error_format(&e, d, sizeof(d));
        snprintf(err, errlen, "%s:%lu: %s", r->path, r->lineno, d);
        return -1;
    }
    return 0;
}

static int fill_entry(qt_trace_r_t *r, qt_trace_ent_t *e, char *err,
                      size_t errlen)
{
    const qmpk_msg_t *m = &r->msg;
    int t = qmpk_get(m, 0, "t"), d = qmpk_get(m, 0, "dir");
    int mon = qmpk_get(m, 0, "mon"), conn = qmpk_get(m, 0, "conn");
    int data = qmpk_get(m, 0, "data"), note = qmpk_get(m, 0, "note");
    memset(e, 0, sizeof(*e));
    e->msg = &r->msg;
    if (t < 0 || qmpk_double(m, t, &e->t) != QMPK_E_OK || d < 0 ||
        dir_from(m, d, &e->dir) < 0) {
        snprintf(err, errlen, "%s:%lu: a trace entry needs a number 't' and "
                 "a 'dir' of in, out, connect, close or note (or the corpus' "
                 "send, recv, eof)", r->path, r->lineno);
        return -1;
    }
    int64_t n = 0;
    if (mon >= 0 && qmpk_int64(m, mon, &n) == QMPK_E_OK) {
        e->mon = (int)n;
        snprintf(e->label, sizeof(e->label), "%d", e->mon);
    } else if (conn >= 0) {
        size_t l = 0;
        qmpk_str(m, conn, e->label, sizeof(e->label), &l);
        e->mon = label_mon(r, e->label);
    }
    qt_buf_clear(&r->data);
    qt_buf_clear(&r->note);
    if (data >= 0 && qt_str_latin1(m, data, &r->data) < 0) {
        snprintf(err, errlen, "%s:%lu: 'data' must be a string of code "
                 "points U+0000..U+00FF (one per byte)", r->path, r->lineno);
        return -1;
    }
    if (note >= 0 && qt_str_latin1(m, note, &r->note) == 0 &&
        qt_buf_append(&r->note, "", 1) == 0)
        e->note = qt_buf_head(&r->note);
    e->data = r->data.data ? qt_buf_head(&r->data) : "";
    e->len = qt_buf_size(&r->data);
    return 0;
}

int qt_trace_next(qt_trace_r_t *r, qt_trace_ent_t *e, char *err, size_t errlen)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&r->line, &r->linecap, r->f);
        if (n < 0) {
            if (errno != 0 && !feof(r->f)) {
                snprintf(err, errlen, "cannot read '%s': %s", r->path,
                         strerror(errno));
                return -1;
            }
            return 0;
        }
        r->lineno++;
        size_t len = (size_t)n;
        while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (parse_line(r, len, err, errlen) < 0)
            return -1;
        return fill_entry(r, e, err, errlen) < 0 ? -1 : 1;
    }
}
