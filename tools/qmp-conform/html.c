/*
 * qmp-conform: one self-contained HTML page, the matrix cases x targets,
 * built from JSON report directories (index.json + cases/ID.json).
 * No scripts, no external resources: <details> elements hold the evidence.
 */
#include "conform.h"

#include <stdlib.h>
#include <string.h>

typedef struct col {
    const char *dir;
    cf_value_t *idx;
    int cases;              /* token of the cases array */
} col_t;

static cf_value_t *load_json(const char *path)
{
    size_t n;
    char *text = cf_read_file(path, &n);
    if (!text)
        return NULL;
    char err[256];
    cf_value_t *v = cf_value_parse(text, n, err, sizeof err);
    if (!v)
        fprintf(stderr, "qmp-conform: %s: %s\n", path, err);
    free(text);
    return v;
}

/* Member as a C string into out (empty when absent or not a string). */
static const char *sget(const qmpk_msg_t *m, int obj, const char *key,
                        char *out, size_t cap)
{
    int t = obj >= 0 ? qmpk_get(m, obj, key) : -1;
    size_t len;
    out[0] = 0;
    if (t >= 0 && qmpk_str(m, t, out, cap, &len) == QMPK_E_NOSPACE && cap > 4)
        strcpy(out + cap - 4, "...");
    return out;
}

static int find_case(const col_t *c, const char *id)
{
    const qmpk_msg_t *m = &c->idx->msg;
    for (int e = qmpk_child(m, c->cases); e >= 0; e = qmpk_next(m, e)) {
        int t = qmpk_get(m, e, "id");
        if (t >= 0 && qmpk_str_eqz(m, t, id))
            return e;
    }
    return -1;
}

static const char *css =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}"
    "th{background:#f0f0f0;position:sticky;top:0}"
    "td.v,td.id{white-space:nowrap}td.v{font-weight:bold}"
    ".PASS{background:#d4f7d4}.FAIL{background:#f9c0c0}"
    ".NON-STRICT{background:#fbe7a8}.INFO{background:#d8e8fb}"
    ".UNSUPPORTED{background:#e4e4e4}.NOT-RUN{background:#fff}"
    "pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#fafafa;"
    "border:1px solid #ddd;padding:4px;max-height:30em;overflow:auto}"
    "details summary{cursor:pointer}.sec{background:#eef;font-weight:bold}"
    ".req{color:#555;font-size:12px}";

static void cell_details(cf_buf_t *b, const col_t *col, int e)
{
    const qmpk_msg_t *m = &col->idx->msg;
    char reason[2048], exp[4096], act[4096], chunk[64], end[64], detail[512];
    sget(m, e, "reason", reason, sizeof reason);
    sget(m, e, "expected", exp, sizeof exp);
    sget(m, e, "actual", act, sizeof act);
    sget(m, e, "failing_chunking", chunk, sizeof chunk);
    sget(m, e, "end", end, sizeof end);
    sget(m, e, "detail", detail, sizeof detail);
    cf_buf_adds(b, "<details><summary>why</summary>");
    if (*chunk) {
        cf_buf_adds(b, "<div>chunking: ");
        cf_buf_html(b, chunk, strlen(chunk));
        cf_buf_adds(b, "; connection end: ");
        cf_buf_html(b, end, strlen(end));
        cf_buf_adds(b, "</div>");
    }
    cf_buf_adds(b, "<div>");
    cf_buf_html(b, reason, strlen(reason));
    cf_buf_adds(b, "</div>");
    if (*exp) {
        cf_buf_adds(b, "<div>expected:</div><pre>");
        cf_buf_html(b, exp, strlen(exp));
        cf_buf_adds(b, "</pre>");
    }
    if (*act) {
        cf_buf_adds(b, "<div>actual:</div><pre>");
        cf_buf_html(b, act, strlen(act));
        cf_buf_adds(b, "</pre>");
    }
    /* the wire log of the failing run */
    cf_buf_t p = {0};
    cf_buf_addf(&p, "%s/%s", col->dir, detail);
    cf_value_t *d = *detail ? load_json(p.p) : NULL;
    cf_buf_free(&p);
    if (d) {
        const qmpk_msg_t *dm = &d->msg;
        int runs = qmpk_get(dm, 0, "runs"), last = -1;
        for (int r = runs >= 0 ? qmpk_child(dm, runs) : -1; r >= 0; r = qmpk_next(dm, r))
            last = r;
        int log = last >= 0 ? qmpk_get(dm, last, "log") : -1;
        if (log >= 0) {
            cf_buf_adds(b, "<div>wire log:</div><pre>");
            for (int l = qmpk_child(dm, log); l >= 0; l = qmpk_next(dm, l)) {
                char dir[16], data[8192];
                double t = 0;
                int tt = qmpk_get(dm, l, "t"), mt = qmpk_get(dm, l, "mon");
                int64_t mon = 0;
                if (tt >= 0)
                    qmpk_double(dm, tt, &t);
                if (mt >= 0)
                    qmpk_int64(dm, mt, &mon);
                sget(dm, l, "dir", dir, sizeof dir);
                size_t len = 0;
                int dt = qmpk_get(dm, l, "data");
                if (dt < 0 || qmpk_str(dm, dt, data, sizeof data, &len) != QMPK_E_OK)
                    len = strlen(data);
                cf_buf_t line = {0};
                cf_buf_addf(&line, "[%9.6f] m%lld %-7s ", t, (long long)(mon < 0 ? 0 : mon), dir);
                cf_buf_visible(&line, data, len);
                cf_buf_addc(&line, '\n');
                cf_buf_html(b, line.p, line.len);
                cf_buf_free(&line);
            }
            cf_buf_adds(b, "</pre>");
        }
        cf_value_free(d);
    }
    cf_buf_adds(b, "</details>");
}

bool cf_report_html(const char *const *dirs, int ndirs, const char *path)
{
    col_t *cols = cf_xcalloc((size_t)ndirs, sizeof *cols);
    bool ok = true;
    for (int i = 0; i < ndirs && ok; i++) {
        cf_buf_t p = {0};
        cf_buf_addf(&p, "%s/index.json", dirs[i]);
        cols[i].dir = dirs[i];
        cols[i].idx = load_json(p.p);
        if (!cols[i].idx) {
            fprintf(stderr, "qmp-conform: cannot read %s\n", p.p);
            ok = false;
        } else {
            cols[i].cases = qmpk_get(&cols[i].idx->msg, 0, "cases");
            if (cols[i].cases < 0)
                ok = false;
        }
        cf_buf_free(&p);
    }
    if (!ok) {
        for (int i = 0; i < ndirs; i++)
            cf_value_free(cols[i].idx);
        free(cols);
        return false;
    }
    cf_buf_t b = {0};
    cf_buf_addf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>qmp-conform report</title><style>%s</style></head><body>\n"
                "<h1>qmp-conform: QMP conformance</h1>\n<table id=\"summary\"><tr><th>target</th>"
                "<th>profile</th><th>mode</th>",
                css);
    static const char *const vn[] = {"PASS", "FAIL", "NON-STRICT", "INFO", "UNSUPPORTED"};
    for (size_t v = 0; v < sizeof vn / sizeof *vn; v++)
        cf_buf_addf(&b, "<th class=\"%s\">%s</th>", vn[v], vn[v]);
    cf_buf_adds(&b, "</tr>\n");
    char s[1024];
    for (int i = 0; i < ndirs; i++) {
        const qmpk_msg_t *m = &cols[i].idx->msg;
        cf_buf_adds(&b, "<tr><td>");
        sget(m, 0, "target", s, sizeof s);
        cf_buf_html(&b, s, strlen(s));
        cf_buf_adds(&b, "</td><td>");
        sget(m, 0, "profile", s, sizeof s);
        cf_buf_html(&b, s, strlen(s));
        cf_buf_adds(&b, "</td><td>");
        sget(m, 0, "mode", s, sizeof s);
        cf_buf_html(&b, s, strlen(s));
        cf_buf_adds(&b, "</td>");
        int counts = qmpk_get(m, 0, "counts");
        for (size_t v = 0; v < sizeof vn / sizeof *vn; v++) {
            int64_t n = 0;
            int t = counts >= 0 ? qmpk_get(m, counts, vn[v]) : -1;
            if (t >= 0)
                qmpk_int64(m, t, &n);
            cf_buf_addf(&b, "<td>%lld</td>", (long long)n);
        }
        cf_buf_adds(&b, "</tr>\n");
    }
    cf_buf_adds(&b, "</table>\n<h2>Matrix</h2>\n<table id=\"matrix\"><tr><th>case</th>"
                    "<th>title and requirement</th>");
    for (int i = 0; i < ndirs; i++) {
        sget(&cols[i].idx->msg, 0, "target", s, sizeof s);
        cf_buf_adds(&b, "<th>");
        cf_buf_html(&b, s, strlen(s));
        cf_buf_adds(&b, "</th>");
    }
    cf_buf_adds(&b, "</tr>\n");
    /* rows: every case id seen in any column, in first-seen order */
    char **seen = NULL;
    int nseen = 0;
    char lastsec[64] = "";
    for (int i = 0; i < ndirs; i++) {
        const qmpk_msg_t *m = &cols[i].idx->msg;
        for (int e = qmpk_child(m, cols[i].cases); e >= 0; e = qmpk_next(m, e)) {
            char id[128];
            sget(m, e, "id", id, sizeof id);
            bool dup = false;
            for (int k = 0; k < nseen && !dup; k++)
                dup = strcmp(seen[k], id) == 0;
            if (dup)
                continue;
            seen = cf_xrealloc(seen, sizeof *seen * (size_t)(nseen + 1));
            seen[nseen++] = cf_xstrdup(id);
            char sec[64], title[1024], req[2048], file[512];
            sget(m, e, "section", sec, sizeof sec);
            if (strcmp(sec, lastsec) != 0) {
                cf_buf_addf(&b, "<tr><td class=\"sec\" colspan=\"%d\">section %s</td></tr>\n",
                            ndirs + 2, sec);
                snprintf(lastsec, sizeof lastsec, "%s", sec);
            }
            sget(m, e, "title", title, sizeof title);
            sget(m, e, "requirement", req, sizeof req);
            sget(m, e, "file", file, sizeof file);
            cf_buf_adds(&b, "<tr><td class=\"id\" id=\"c");
            cf_buf_html(&b, id, strlen(id));
            cf_buf_adds(&b, "\">");
            cf_buf_html(&b, id, strlen(id));
            cf_buf_adds(&b, "</td><td>");
            cf_buf_html(&b, title, strlen(title));
            cf_buf_adds(&b, "<div class=\"req\">");
            cf_buf_html(&b, req, strlen(req));
            cf_buf_adds(&b, "</div></td>");
            for (int c = 0; c < ndirs; c++) {
                int ce = find_case(&cols[c], id);
                char verdict[32] = "NOT-RUN";
                if (ce >= 0)
                    sget(&cols[c].idx->msg, ce, "verdict", verdict, sizeof verdict);
                cf_buf_addf(&b, "<td class=\"v %s\">%s", verdict, verdict);
                if (ce >= 0 && strcmp(verdict, "PASS") != 0)
                    cell_details(&b, &cols[c], ce);
                cf_buf_adds(&b, "</td>");
            }
            cf_buf_adds(&b, "</tr>\n");
        }
    }
    cf_buf_adds(&b, "</table>\n<p>Generated by qmp-conform. Verdicts: PASS; FAIL (a MUST "
                    "missed); NON-STRICT (a SHOULD missed); INFO (informational); "
                    "UNSUPPORTED (the target lacks a feature the case needs).</p>\n"
                    "</body></html>\n");
    ok = cf_write_file(path, b.p, b.len);
    for (int k = 0; k < nseen; k++)
        free(seen[k]);
    free(seen);
    cf_buf_free(&b);
    for (int i = 0; i < ndirs; i++)
        cf_value_free(cols[i].idx);
    free(cols);
    return ok;
}
