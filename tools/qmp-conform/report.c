/*
 * qmp-conform: reports.  JSON (index.json + cases/ID.json with the wire
 * log) is the primary form; the HTML matrix is built from one or more JSON
 * report directories, so several targets (QEMU, qmp-refd, clients) can be
 * put side by side without re-running anything.
 */
#include "conform.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *dir_name(char d)
{
    switch (d) {
    case 's': return "send";
    case 'r': return "recv";
    case 'e': return "eof";
    case 'c': return "connect";
    case 'x': return "close";
    default: return "note";
    }
}

static void jstr(cf_buf_t *b, const char *s)
{
    if (!s)
        cf_buf_adds(b, "null");
    else
        cf_buf_json_text(b, s, strlen(s));
}

static void case_fields(cf_buf_t *b, const cf_case_report_t *cr)
{
    const cf_case_t *c = cr->c;
    const cf_result_t *w = cr->nruns ? &cr->runs[cr->worst] : NULL;
    cf_buf_adds(b, "\"id\": ");
    jstr(b, c->id);
    cf_buf_adds(b, ", \"title\": ");
    jstr(b, c->title);
    cf_buf_adds(b, ", \"section\": ");
    jstr(b, c->section);
    cf_buf_adds(b, ", \"file\": ");
    jstr(b, c->file);
    cf_buf_addf(b, ", \"line\": %d, \"level\": ", c->line);
    jstr(b, cf_level_name(c->level));
    cf_buf_adds(b, ", \"requirement\": ");
    jstr(b, c->requirement);
    cf_buf_adds(b, ", \"spec\": ");
    jstr(b, c->spec);
    cf_buf_adds(b, ", \"verdict\": ");
    jstr(b, cf_verdict_name(cr->verdict));
    cf_buf_adds(b, ", \"end\": ");
    jstr(b, w ? cf_end_name(w->end) : "none");
    cf_buf_adds(b, ", \"chunkings\": {");
    for (int i = 0; i < cr->nruns; i++)
        cf_buf_addf(b, "%s\"%s\": \"%s\"", i ? ", " : "",
                    cf_chunking_name(cr->runs[i].chunking),
                    cf_verdict_name(cr->runs[i].verdict));
    cf_buf_adds(b, "}, \"reason\": ");
    if (cr->skip_reason)
        jstr(b, cr->skip_reason);
    else
        jstr(b, w && w->reason ? w->reason : NULL);
    cf_buf_adds(b, ", \"failing_chunking\": ");
    jstr(b, w && w->verdict != CF_PASS ? cf_chunking_name(w->chunking) : NULL);
    cf_buf_adds(b, ", \"expected\": ");
    jstr(b, w ? w->expected : NULL);
    cf_buf_adds(b, ", \"actual\": ");
    jstr(b, w ? w->actual : NULL);
    int64_t ms = 0;
    for (int i = 0; i < cr->nruns; i++)
        ms += cr->runs[i].duration_ms;
    cf_buf_addf(b, ", \"duration_ms\": %lld", (long long)ms);
}

static void log_json(cf_buf_t *b, const cf_log_t *log)
{
    cf_buf_adds(b, "[");
    for (int i = 0; i < log->n; i++) {
        const cf_log_entry_t *e = &log->e[i];
        cf_buf_addf(b, "%s\n  {\"t\": %.6f, \"mon\": %d, \"dir\": \"%s\", \"data\": ",
                    i ? "," : "", (double)e->t_us / 1e6, e->mon, dir_name(e->dir));
        cf_buf_json_str(b, e->data, e->len);
        cf_buf_adds(b, "}");
    }
    cf_buf_adds(b, "]");
}

static void safe_name(cf_buf_t *b, const char *id)
{
    for (; *id; id++)
        cf_buf_addc(b, (*id == '/' || *id == ' ') ? '_' : *id);
}

bool cf_report_json(const cf_run_report_t *r, const char *dir)
{
    cf_buf_t p = {0};
    cf_buf_addf(&p, "%s/cases", dir);
    if (cf_mkdir_p(p.p) != 0) {
        fprintf(stderr, "qmp-conform: cannot create %s\n", p.p);
        cf_buf_free(&p);
        return false;
    }
    bool ok = true;
    cf_buf_t idx = {0};
    cf_buf_adds(&idx, "{\"tool\": \"qmp-conform\", \"mode\": ");
    jstr(&idx, r->mode);
    cf_buf_adds(&idx, ", \"target\": ");
    jstr(&idx, r->target);
    cf_buf_adds(&idx, ", \"command\": ");
    jstr(&idx, r->command);
    cf_buf_adds(&idx, ", \"profile\": ");
    jstr(&idx, r->profile);
    cf_buf_addf(&idx, ", \"started\": %lld, \"duration_ms\": %lld, \"counts\": {",
                (long long)r->started_ms, (long long)r->duration_ms);
    for (int v = 0; v <= CF_NOTRUN; v++)
        cf_buf_addf(&idx, "%s\"%s\": %d", v ? ", " : "", cf_verdict_name(v), r->counts[v]);
    cf_buf_adds(&idx, "},\n\"cases\": [");
    for (int i = 0; i < r->ncases; i++) {
        const cf_case_report_t *cr = &r->cases[i];
        cf_buf_t name = {0};
        safe_name(&name, cr->c->id);
        cf_buf_adds(&idx, i ? ",\n  {" : "\n  {");
        case_fields(&idx, cr);
        cf_buf_addf(&idx, ", \"detail\": \"cases/%s.json\"}", name.p);
        /* per case: the same fields, every chunking's log, the transcript */
        cf_buf_t one = {0};
        cf_buf_adds(&one, "{");
        case_fields(&one, cr);
        cf_buf_adds(&one, ", \"note\": ");
        jstr(&one, cr->c->note);
        cf_buf_adds(&one, ",\n\"runs\": [");
        for (int k = 0; k < cr->nruns; k++) {
            const cf_result_t *res = &cr->runs[k];
            cf_buf_addf(&one, "%s\n{\"chunking\": \"%s\", \"verdict\": \"%s\", "
                        "\"end\": \"%s\", \"step\": %d, \"reason\": ",
                        k ? "," : "", cf_chunking_name(res->chunking),
                        cf_verdict_name(res->verdict), cf_end_name(res->end), res->step);
            jstr(&one, res->reason);
            cf_buf_adds(&one, ", \"expected\": ");
            jstr(&one, res->expected);
            cf_buf_adds(&one, ", \"actual\": ");
            jstr(&one, res->actual);
            cf_buf_adds(&one, ", \"transcript\": ");
            cf_buf_json_str(&one, res->transcript.p ? res->transcript.p : "",
                            res->transcript.len);
            cf_buf_adds(&one, ", \"log\": ");
            log_json(&one, &res->log);
            cf_buf_adds(&one, "}");
        }
        cf_buf_adds(&one, "]}\n");
        cf_buf_t fp = {0};
        cf_buf_addf(&fp, "%s/cases/%s.json", dir, name.p);
        ok = cf_write_file(fp.p, one.p, one.len) && ok;
        cf_buf_free(&fp);
        cf_buf_free(&one);
        cf_buf_free(&name);
    }
    cf_buf_adds(&idx, "\n]}\n");
    cf_buf_t ip = {0};
    cf_buf_addf(&ip, "%s/index.json", dir);
    ok = cf_write_file(ip.p, idx.p, idx.len) && ok;
    cf_buf_free(&ip);
    cf_buf_free(&idx);
    cf_buf_free(&p);
    return ok;
}

static void log_text(cf_buf_t *b, const cf_log_t *log, bool xml)
{
    for (int i = 0; i < log->n; i++) {
        const cf_log_entry_t *e = &log->e[i];
        cf_buf_t line = {0};
        cf_buf_addf(&line, "[%9.6f] m%d %-7s ", (double)e->t_us / 1e6,
                    e->mon < 0 ? 0 : e->mon, dir_name(e->dir));
        cf_buf_visible(&line, e->data, e->len);
        cf_buf_addc(&line, '\n');
        if (xml)
            cf_buf_xml(b, line.p, line.len);
        else
            cf_buf_add(b, line.p, line.len);
        cf_buf_free(&line);
    }
}

bool cf_report_junit(const cf_run_report_t *r, const char *path)
{
    cf_buf_t b = {0};
    int fails = r->counts[CF_FAIL], skipped = r->counts[CF_UNSUPPORTED] + r->counts[CF_NOTRUN];
    cf_buf_addf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<testsuites name=\"qmp-conform\" tests=\"%d\" failures=\"%d\" "
                "skipped=\"%d\" time=\"%.3f\">\n",
                r->ncases, fails, skipped, (double)r->duration_ms / 1000.0);
    int i = 0;
    while (i < r->ncases) {
        const char *sec = r->cases[i].c->section;
        int j = i, nf = 0, ns = 0;
        for (; j < r->ncases && strcmp(r->cases[j].c->section, sec) == 0; j++) {
            nf += r->cases[j].verdict == CF_FAIL;
            ns += r->cases[j].verdict == CF_UNSUPPORTED || r->cases[j].verdict == CF_NOTRUN;
        }
        cf_buf_adds(&b, "  <testsuite name=\"");
        cf_buf_xml(&b, r->target, strlen(r->target));
        cf_buf_addf(&b, " section %s\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n",
                    sec, j - i, nf, ns);
        for (int k = i; k < j; k++) {
            const cf_case_report_t *cr = &r->cases[k];
            const cf_result_t *w = cr->nruns ? &cr->runs[cr->worst] : NULL;
            int64_t ms = 0;
            for (int q = 0; q < cr->nruns; q++)
                ms += cr->runs[q].duration_ms;
            cf_buf_addf(&b, "    <testcase classname=\"qmp-conform.%s\" name=\"", sec);
            cf_buf_xml(&b, cr->c->id, strlen(cr->c->id));
            cf_buf_addc(&b, ' ');
            cf_buf_xml(&b, cr->c->title, strlen(cr->c->title));
            cf_buf_addf(&b, "\" time=\"%.3f\">\n", (double)ms / 1000.0);
            if (cr->verdict == CF_UNSUPPORTED || cr->verdict == CF_NOTRUN) {
                cf_buf_adds(&b, "      <skipped message=\"");
                const char *s = cr->skip_reason ? cr->skip_reason : "";
                cf_buf_xml(&b, s, strlen(s));
                cf_buf_adds(&b, "\"/>\n");
            } else if (cr->verdict != CF_PASS && w) {
                const char *tag = cr->verdict == CF_FAIL ? "failure" : "system-out";
                cf_buf_addf(&b, "      <%s", tag);
                if (cr->verdict == CF_FAIL) {
                    cf_buf_adds(&b, " message=\"");
                    cf_buf_xml(&b, w->reason ? w->reason : "", w->reason ? strlen(w->reason) : 0);
                    cf_buf_addf(&b, "\" type=\"%s\"", cf_verdict_name(cr->verdict));
                }
                cf_buf_adds(&b, ">");
                cf_buf_t d = {0};
                cf_buf_addf(&d, "%s (%s chunking): %s\nrequirement: %s\nexpected: %s\nactual:   %s\n\nwire log:\n",
                            cf_verdict_name(cr->verdict), cf_chunking_name(w->chunking),
                            w->reason ? w->reason : "", cr->c->requirement,
                            w->expected ? w->expected : "", w->actual ? w->actual : "");
                cf_buf_xml(&b, d.p, d.len);
                log_text(&b, &w->log, true);
                cf_buf_free(&d);
                cf_buf_addf(&b, "</%s>\n", tag);
            }
            cf_buf_adds(&b, "    </testcase>\n");
        }
        cf_buf_adds(&b, "  </testsuite>\n");
        i = j;
    }
    cf_buf_adds(&b, "</testsuites>\n");
    bool ok = cf_write_file(path, b.p, b.len);
    cf_buf_free(&b);
    return ok;
}

void cf_report_summary(const cf_run_report_t *r, FILE *f)
{
    int shown = 0;
    for (int i = 0; i < r->ncases; i++) {
        const cf_case_report_t *cr = &r->cases[i];
        if (cr->verdict == CF_PASS || cr->verdict == CF_NOTRUN)
            continue;
        if (!shown++)
            fprintf(f, "\nNot passing:\n");
        const cf_result_t *w = cr->nruns ? &cr->runs[cr->worst] : NULL;
        fprintf(f, "  %-11s %-9s %s  (%s:%d)\n", cf_verdict_name(cr->verdict), cr->c->id,
                cr->c->title, cr->c->file, cr->c->line);
        if (cr->skip_reason)
            fprintf(f, "              %s\n", cr->skip_reason);
        if (w && w->reason) {
            fprintf(f, "              [%s] %s\n", cf_chunking_name(w->chunking), w->reason);
            if (w->expected)
                fprintf(f, "              expected: %.300s\n", w->expected);
            if (w->actual)
                fprintf(f, "              actual:   %.300s\n", w->actual);
        }
    }
    fprintf(f, "\n%s %s: %d cases in %.1f s:", r->mode, r->target, r->ncases,
            (double)r->duration_ms / 1000.0);
    for (int v = 0; v <= CF_NOTRUN; v++)
        if (r->counts[v])
            fprintf(f, " %s %d", cf_verdict_name(v), r->counts[v]);
    fprintf(f, "\n");
}
