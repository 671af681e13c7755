/*
 * qmp-conform: the case-file reader.  The format is specified in
 * conformance/README.md; this file follows it line for line.
 */
#include "conform.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *cf_level_name(int level)
{
    switch (level) {
    case CF_MUST: return "MUST";
    case CF_SHOULD: return "SHOULD";
    default: return "INFO";
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* End of the \*N{TEXT} body starting at s: the '}' that balances the
 * opening one, braces inside \x{..} escapes not counted (so an unbalanced
 * brace in TEXT is written \x{7B} or \x{7D}). */
static const char *rep_end(const char *s, const char *end)
{
    int depth = 0;
    while (s < end) {
        if (s + 2 < end && s[0] == '\\' && s[1] == 'x' && s[2] == '{') {
            const char *c = memchr(s, '}', (size_t)(end - s));
            if (!c)
                return NULL;
            s = c + 1;
            continue;
        }
        if (*s == '{')
            depth++;
        else if (*s == '}' && depth-- == 0)
            return s;
        s++;
    }
    return NULL;
}

static bool decode(const char *s, const char *end, size_t room, cf_buf_t *out,
                   char *err, size_t cap, int depth)
{
    while (s < end) {
        if (s[0] != '\\' || s + 1 >= end) {
            cf_buf_addc(out, *s++);
            continue;
        }
        if (s[1] == '\\') {             /* JSON's \\ passes through */
            cf_buf_add(out, s, 2);
            s += 2;
        } else if (s[1] == 'x' && s + 2 < end && s[2] == '{') {
            const char *c = memchr(s, '}', (size_t)(end - s));
            if (!c) {
                snprintf(err, cap, "unterminated \\x{");
                return false;
            }
            for (const char *h = s + 3; h < c;) {
                if (*h == ' ') {
                    h++;
                    continue;
                }
                if (h + 1 >= c || hexval(h[0]) < 0 || hexval(h[1]) < 0) {
                    snprintf(err, cap, "bad hex byte in \\x{...}");
                    return false;
                }
                cf_buf_addc(out, (char)(hexval(h[0]) * 16 + hexval(h[1])));
                h += 2;
            }
            s = c + 1;
        } else if (s[1] == '*' && s + 2 < end && isdigit((unsigned char)s[2])) {
            char *num_end;
            unsigned long n = strtoul(s + 2, &num_end, 10);
            if (num_end >= end || *num_end != '{' || n > (64ul << 20) || depth > 4) {
                snprintf(err, cap, "bad repetition \\*N{TEXT}");
                return false;
            }
            const char *body = num_end + 1, *be = rep_end(body, end);
            if (!be) {
                snprintf(err, cap, "unterminated \\*N{");
                return false;
            }
            cf_buf_t one = {0};
            if (!decode(body, be, room - out->len, &one, err, cap, depth + 1)) {
                cf_buf_free(&one);
                return false;
            }
            if (one.len && n > (room - out->len) / one.len) {
                cf_buf_free(&one);
                snprintf(err, cap, "\\*%lu{...} decodes to more than the %zu bytes left of the"
                         " suite's bound (CF_DECODED_MAX_BYTES, 64 MiB)", n, room - out->len);
                return false;
            }
            for (unsigned long i = 0; i < n; i++)
                cf_buf_add(out, one.p ? one.p : "", one.len);
            cf_buf_free(&one);
            s = be + 1;
        } else {
            cf_buf_addc(out, *s++);
        }
    }
    /* only \*N{} multiplies: plain text is checked once it is copied */
    if (out->len > room) {
        snprintf(err, cap, "the line decodes to more than the %zu bytes left of the"
                 " suite's bound (CF_DECODED_MAX_BYTES, 64 MiB)", room);
        return false;
    }
    return true;
}

bool cf_decode_bytes(const char *text, size_t room, cf_buf_t *out, char *err, size_t cap)
{
    return decode(text, text + strlen(text), room, out, err, cap, 0);
}

/* Would cf_decode_bytes read the backslash at s[i] as the start of an
 * escape (\x{ or \*DIGIT)?  A "\\" pair passes through as it is. */
static bool starts_escape(const char *s, size_t i, size_t n)
{
    if (i + 2 >= n)
        return false;
    return (s[i + 1] == 'x' && s[i + 2] == '{') ||
           (s[i + 1] == '*' && isdigit((unsigned char)s[i + 2]));
}

/* Written as \x{HH}: bytes a text line cannot hold as they are (a final
 * space would be lost to an editor). */
static bool needs_hex(const char *s, size_t i, size_t n)
{
    unsigned char c = (unsigned char)s[i];
    return c < 0x20 || c >= 0x7f || ((c == ' ' || c == '\t') && i + 1 == n);
}

void cf_encode_bytes(cf_buf_t *out, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
            cf_buf_add(out, s + i, 2);
            i += 2;
        } else if (s[i] == '\\' && starts_escape(s, i, n)) {
            cf_buf_adds(out, "\\x{5C}");
            i++;
        } else if (!needs_hex(s, i, n)) {
            cf_buf_addc(out, s[i++]);
        } else {
            cf_buf_adds(out, "\\x{");
            for (size_t k = 0; i < n && needs_hex(s, i, n); k++, i++)
                cf_buf_addf(out, "%s%02X", k ? " " : "", (unsigned char)s[i]);
            cf_buf_addc(out, '}');
        }
    }
}

/* ------------------------------------------------------------------ */

typedef struct reader {
    const char *file;
    int line;
    bool ok;
    cf_suite_t *suite;
    cf_case_t *cur;
} reader_t;

static void rerr(reader_t *r, const char *msg, const char *detail)
{
    fprintf(stderr, "%s:%d: %s%s%s\n", r->file, r->line, msg,
            detail ? ": " : "", detail ? detail : "");
    r->ok = false;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static void add_step(cf_case_t *c, cf_step_t *st)
{
    c->steps = cf_xrealloc(c->steps, sizeof *st * (size_t)(c->nsteps + 1));
    c->steps[c->nsteps++] = *st;
    if (st->mon + 1 > c->nmon)
        c->nmon = st->mon + 1;
}

/* Decode a line's escapes within what is left of the suite's bound. */
static bool decode_line(reader_t *r, const char *text, cf_buf_t *out)
{
    char err[256];
    if (!cf_decode_bytes(text, CF_DECODED_MAX_BYTES - r->suite->decoded_bytes, out, err,
                         sizeof err)) {
        rerr(r, err, NULL);
        return false;
    }
    r->suite->decoded_bytes += out->len;
    return true;
}

static cf_value_t *parse_json(reader_t *r, const char *text)
{
    cf_buf_t b = {0};
    char err[256];
    if (!decode_line(r, text, &b)) {
        cf_buf_free(&b);
        return NULL;
    }
    cf_value_t *v = cf_value_parse(b.p ? b.p : "", b.len, err, sizeof err);
    if (!v)
        rerr(r, "expected JSON", err);
    cf_buf_free(&b);
    return v;
}

static void new_case(reader_t *r, char *rest)
{
    char *sp = strpbrk(rest, " \t");
    if (sp)
        *sp++ = 0;
    char *dash = strrchr(rest, '-');
    if (!*rest || !dash || dash == rest) {
        rerr(r, "case header must be '# SECTION-NN Title'", rest);
        return;
    }
    cf_case_t *c = cf_xcalloc(1, sizeof *c);
    c->id = cf_xstrdup(rest);
    c->section = cf_xstrndup(rest, (size_t)(dash - rest));
    c->title = cf_xstrdup(sp ? trim(sp) : "");
    c->file = cf_xstrdup(r->file);
    c->line = r->line;
    c->level = CF_MUST;
    c->profiles = CF_PROF_QEMU72 | CF_PROF_EXTENDED;
    c->targets = CF_TGT_SERVER;
    cf_suite_t *s = r->suite;
    for (int i = 0; i < s->ncases; i++)
        if (strcmp(s->cases[i]->id, c->id) == 0)
            rerr(r, "duplicate case id", c->id);
    s->cases = cf_xrealloc(s->cases, sizeof *s->cases * (size_t)(s->ncases + 1));
    s->cases[s->ncases++] = c;
    r->cur = c;
}

static void add_word_list(char ***list, int *n, char *words)
{
    for (char *w = strtok(words, " \t,"); w; w = strtok(NULL, " \t,")) {
        *list = cf_xrealloc(*list, sizeof **list * (size_t)(*n + 1));
        (*list)[(*n)++] = cf_xstrdup(w);
    }
}

/* end: one or more of clean, error, hung, crashed; the first is reported
 * as the expected one, every one listed is accepted */
static void client_end(reader_t *r, char *val)
{
    static const char *const names[] = {"clean", "error", "hung", "crashed"};
    static const int ends[] = {CF_END_CLEAN, CF_END_ERROR, CF_END_HUNG, CF_END_CRASHED};
    cf_case_t *c = r->cur;
    int n = 0;
    c->end_ok = 0;
    for (char *w = strtok(val, " \t,|"); w; w = strtok(NULL, " \t,|"), n++) {
        int k = 0;
        while (k < 4 && strcmp(w, names[k]) != 0)
            k++;
        if (k == 4) {
            rerr(r, "end must be clean, error, hung or crashed (or several of them)", w);
            return;
        }
        if (n == 0)
            c->end = ends[k];
        c->end_ok |= 1u << ends[k];
    }
    if (n == 0)
        rerr(r, "end must be clean, error, hung or crashed (or several of them)", val);
}

/* script: / out: / end: (client cases, README "Client mode") */
static bool client_header(reader_t *r, const char *key, char *val)
{
    cf_case_t *c = r->cur;
    if (strcmp(key, "script") == 0) {
        c->script = cf_xrealloc(c->script, sizeof *c->script * (size_t)(c->nscript + 1));
        c->script[c->nscript++] = cf_xstrdup(val);
    } else if (strcmp(key, "out") == 0) {
        cf_value_t *v = parse_json(r, val);
        if (v) {
            c->out = cf_xrealloc(c->out, sizeof *c->out * (size_t)(c->nout + 1));
            c->out[c->nout++] = v;
        }
    } else if (strcmp(key, "end") == 0) {
        client_end(r, val);
    } else {
        return false;
    }
    return true;
}

static bool header(reader_t *r, char *key, char *val)
{
    cf_case_t *c = r->cur;
    if (strcmp(key, "requirement") == 0) {
        if (strncmp(val, "MUST", 4) == 0)
            c->level = CF_MUST;
        else if (strncmp(val, "SHOULD", 6) == 0)
            c->level = CF_SHOULD;
        else if (strncmp(val, "INFO", 4) == 0)
            c->level = CF_INFO;
        else
            rerr(r, "requirement must start with MUST, SHOULD or INFO", val);
        free(c->requirement);   /* a repeated header replaces the first */
        c->requirement = cf_xstrdup(val);
    } else if (strcmp(key, "spec") == 0) {
        free(c->spec);
        c->spec = cf_xstrdup(val);
    } else if (strcmp(key, "note") == 0) {
        free(c->note);
        c->note = cf_xstrdup(val);
    } else if (strcmp(key, "profiles") == 0) {
        c->profiles = 0;
        for (char *w = strtok(val, " \t,"); w; w = strtok(NULL, " \t,")) {
            if (strcmp(w, "qemu-7.2") == 0)
                c->profiles |= CF_PROF_QEMU72;
            else if (strcmp(w, "extended") == 0)
                c->profiles |= CF_PROF_EXTENDED;
            else
                rerr(r, "unknown profile", w);
        }
    } else if (strcmp(key, "targets") == 0) {
        c->targets = 0;
        for (char *w = strtok(val, " \t,"); w; w = strtok(NULL, " \t,")) {
            if (strcmp(w, "server") == 0)
                c->targets |= CF_TGT_SERVER;
            else if (strcmp(w, "client") == 0)
                c->targets |= CF_TGT_CLIENT;
            else
                rerr(r, "unknown target", w);
        }
    } else if (strcmp(key, "requires") == 0) {
        add_word_list(&c->requires, &c->nrequires, val);
    } else if (strcmp(key, "start") == 0) {
        if (strcmp(val, "negotiated") == 0)
            c->start = CF_START_NEGOTIATED;
        else if (strcmp(val, "connected") == 0)
            c->start = CF_START_CONNECTED;
        else if (strcmp(val, "raw") == 0)
            c->start = CF_START_RAW;
        else
            rerr(r, "start must be negotiated, connected or raw", val);
    } else if (strcmp(key, "enable") == 0) {
        cf_buf_t b = {0};
        cf_buf_addc(&b, '[');
        int n = 0;
        for (char *w = strtok(val, " \t,"); w; w = strtok(NULL, " \t,"), n++) {
            if (n)
                cf_buf_adds(&b, ", ");
            cf_buf_json_str(&b, w, strlen(w));
        }
        cf_buf_addc(&b, ']');
        free(c->enable);
        c->enable = cf_buf_take(&b);
    } else if (strcmp(key, "isolation") == 0) {
        if (strcmp(val, "process") == 0)
            c->fresh_process = true;
        else if (strcmp(val, "connection") == 0)
            c->fresh_process = false;
        else
            rerr(r, "isolation must be process or connection", val);
    } else if (strcmp(key, "chunking") == 0) {
        if (strcmp(val, "whole") == 0)
            c->whole_only = true;
        else if (strcmp(val, "any") == 0)
            c->whole_only = false;
        else
            rerr(r, "chunking must be whole or any", val);
    } else if (client_header(r, key, val)) {
        return true;
    } else if (strcmp(key, "timeout") == 0) {
        c->timeout_ms = atoi(val);
    } else if (strcmp(key, "allow") == 0) {
        cf_value_t *v = parse_json(r, val);
        if (v) {
            c->allow = cf_xrealloc(c->allow, sizeof *c->allow * (size_t)(c->nallow + 1));
            c->allow[c->nallow++] = v;
        }
    } else {
        return false;
    }
    return true;
}

/* Does a send line name the run's directory? (bytes may hold NULs) */
static bool has_dir_token(const char *p, size_t n)
{
    for (size_t i = 0; i + CF_DIR_TOKEN_LEN <= n; i++)
        if (memcmp(p + i, CF_DIR_TOKEN, CF_DIR_TOKEN_LEN) == 0)
            return true;
    return false;
}

static bool step_line(reader_t *r, char *line)
{
    cf_case_t *c = r->cur;
    cf_step_t st = {0};
    st.line = r->line;
    char *s = line;
    if (s[0] == 'm' && isdigit((unsigned char)s[1]) && s[2] == ' ') {
        st.mon = s[1] - '0';
        s += 3;
    }
    st.text = cf_xstrdup(s);
    if (strncmp(s, "-> ", 3) == 0 || strcmp(s, "->") == 0 ||
        strncmp(s, "-+ ", 3) == 0) {
        cf_buf_t b = {0};
        st.kind = CF_SEND;
        decode_line(r, s[2] ? s + 3 : "", &b);
        if (s[1] == '>')
            cf_buf_addc(&b, '\n');
        st.nbytes = b.len;
        st.bytes = cf_buf_take(&b);
        st.subst_dir = has_dir_token(st.bytes, st.nbytes);
        c->uses_dir |= st.subst_dir;
    } else if (strncmp(s, "<-", 2) == 0 && isdigit((unsigned char)s[2])) {
        /* <-N JSON: N consecutive messages matching JSON */
        char *e;
        long n = strtol(s + 2, &e, 10);
        if (*e != ' ' || n < 1 || n > 100000) {
            rerr(r, "expected '<-N JSON'", s);
            free(st.text);
            return true;
        }
        for (long k = 0; k < n; k++) {
            cf_value_t *v = parse_json(r, e + 1);
            if (!v) {
                if (k == 0)
                    free(st.text);  /* no step took it */
                break;
            }
            cf_step_t one = st;
            one.kind = CF_EXPECT;
            one.text = k ? cf_xstrdup(st.text) : st.text;
            one.pats = cf_xmalloc(sizeof *one.pats);
            one.pats[0] = v;
            one.npats = 1;
            add_step(c, &one);
        }
        return true;
    } else if (strncmp(s, "<- ", 3) == 0 || strncmp(s, "<* ", 3) == 0 ||
               strncmp(s, "<= ", 3) == 0 || strncmp(s, "<?", 2) == 0 ||
               strncmp(s, "<~ ", 3) == 0) {
        char *j = s + 3;
        st.kind = s[1] == '-' ? CF_EXPECT : s[1] == '*' ? CF_SET
                : s[1] == '=' ? CF_EXACT : s[1] == '~' ? CF_FLOAT : CF_EVENTUALLY;
        if (st.kind == CF_EVENTUALLY) {
            char *e;
            st.timeout_ms = (int)strtol(s + 2, &e, 10);
            if (*e != ' ') {
                rerr(r, "expected '<? JSON' or '<?MS JSON'", s);
                free(st.text);
                return true;
            }
            j = e + 1;
        }
        cf_value_t *v = parse_json(r, j);
        if (!v) {
            free(st.text);
            return true;
        }
        if (st.kind == CF_EXACT) {
            cf_buf_t b = {0};
            decode_line(r, j, &b);
            st.nbytes = b.len;
            st.bytes = cf_buf_take(&b);
        }
        /* consecutive <* lines on one monitor form one set */
        if (st.kind == CF_SET && c->nsteps > 0) {
            cf_step_t *prev = &c->steps[c->nsteps - 1];
            if (prev->kind == CF_SET && prev->mon == st.mon) {
                prev->pats = cf_xrealloc(prev->pats, sizeof *prev->pats *
                                                         (size_t)(prev->npats + 1));
                prev->pats[prev->npats++] = v;
                size_t tl = strlen(prev->text);
                prev->text = cf_xrealloc(prev->text, tl + strlen(st.text) + 4);
                snprintf(prev->text + tl, strlen(st.text) + 4, " | %s", st.text + 3);
                free(st.text);
                return true;
            }
        }
        st.pats = cf_xmalloc(sizeof *st.pats);
        st.pats[0] = v;
        st.npats = 1;
    } else if (strncmp(s, "connect", 7) == 0 && (!s[7] || s[7] == ' ')) {
        st.kind = CF_CONNECT;
        char *mode = trim(s + 7);
        st.start = c->start;
        if (strcmp(mode, "negotiated") == 0)
            st.start = CF_START_NEGOTIATED;
        else if (strcmp(mode, "connected") == 0)
            st.start = CF_START_CONNECTED;
        else if (strcmp(mode, "raw") == 0)
            st.start = CF_START_RAW;
        else if (*mode)
            rerr(r, "connect takes negotiated, connected or raw", mode);
    } else if (strcmp(s, "close") == 0) {
        st.kind = CF_CLOSE;
    } else if (strcmp(s, "eof") == 0) {
        st.kind = CF_EOF;
    } else if (strncmp(s, "pause ", 6) == 0 || strncmp(s, "quiet ", 6) == 0) {
        char *e;
        long ms = strtol(s + 6, &e, 10);
        st.kind = s[0] == 'p' ? CF_PAUSE : CF_QUIET;
        st.timeout_ms = (int)ms;
        if (*trim(e) || ms < 1 || ms > CF_PAUSE_MAX_MS) {
            char why[80];
            snprintf(why, sizeof why, "expected 'pause MS' or 'quiet MS' (1 to %d ms)",
                     CF_PAUSE_MAX_MS);
            rerr(r, why, s);
        }
    } else {
        free(st.text);
        return false;
    }
    add_step(c, &st);
    return true;
}

static void read_line(reader_t *r, char *line)
{
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[--n] = 0;
    char *t = line;
    while (*t == ' ' || *t == '\t')
        t++;
    if (!*t || strncmp(t, "##", 2) == 0)
        return;
    if (t[0] == '#' && t[1] == ' ') {
        new_case(r, trim(t + 2));
        return;
    }
    if (!r->cur) {
        rerr(r, "text before the first case header", t);
        return;
    }
    /* step lines keep their text exactly (trailing spaces may matter) */
    if (step_line(r, t))
        return;
    char *colon = strchr(t, ':');
    if (colon) {
        *colon = 0;
        char *key = trim(t), *val = trim(colon + 1);
        if (header(r, key, val))
            return;
        *colon = ':';
    }
    rerr(r, "unrecognised line", t);
}

/* Lines the other mode would silently ignore are errors. */
static bool check_case_mode(const cf_case_t *c, const char *path)
{
    const char *bad = NULL;
    if (!(c->targets & CF_TGT_CLIENT) && (c->nscript || c->nout))
        bad = "script:/out: lines need 'targets: client'";
    if (c->targets == (CF_TGT_SERVER | CF_TGT_CLIENT))
        bad = "a case is either for servers or for clients";
    for (int i = 0; !bad && c->targets == CF_TGT_CLIENT && i < c->nsteps; i++) {
        const cf_step_t *st = &c->steps[i];
        if (st->mon != 0)
            bad = "client cases have one connection (no m1..m9)";
        else if (st->kind == CF_EVENTUALLY || st->kind == CF_FLOAT ||
                 st->kind == CF_CONNECT || st->kind == CF_EXACT)
            bad = "client cases take ->, -+, <-, <*, close, eof, pause and quiet";
    }
    for (int i = 0; !bad && c->targets != CF_TGT_CLIENT && i < c->nsteps; i++)
        if (c->steps[i].kind == CF_PAUSE || c->steps[i].kind == CF_QUIET)
            bad = "pause and quiet are client-case lines (server cases never sleep)";
    /* {dir} must be fresh for every run: only a new process per run gives
     * that on --exec targets, whose directory is the process's */
    if (!bad && c->uses_dir && c->targets == CF_TGT_CLIENT)
        bad = "{dir} in send lines is a server-case substitution";
    if (!bad && c->uses_dir && !c->fresh_process)
        bad = "a case whose send lines use {dir} needs 'isolation: process' "
              "(a fresh process, and so a fresh directory, for every run)";
    if (bad)
        fprintf(stderr, "%s:%d: case %s: %s\n", path, c->line, c->id, bad);
    return !bad;
}

static bool load_file(cf_suite_t *s, const char *path)
{
    size_t len;
    char *text = cf_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "qmp-conform: %s: %s\n", path, strerror(errno));
        return false;
    }
    reader_t r = {path, 0, true, s, NULL};
    char *p = text;
    while (p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (nl)
            *nl = 0;
        r.line++;
        read_line(&r, p);
        p = nl ? nl + 1 : text + len;
    }
    free(text);
    for (int i = 0; i < s->ncases; i++) {
        cf_case_t *c = s->cases[i];
        if (!c->requirement && strcmp(c->file, path) == 0) {
            fprintf(stderr, "%s:%d: case %s has no requirement\n", path, c->line, c->id);
            r.ok = false;
        }
        if (c->nmon == 0)
            c->nmon = 1;
        if (strcmp(c->file, path) == 0 && !check_case_mode(c, path))
            r.ok = false;
    }
    return r.ok;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool cf_suite_load(cf_suite_t *s, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "qmp-conform: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode))
        return load_file(s, path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "qmp-conform: %s: %s\n", path, strerror(errno));
        return false;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".qmpt") == 0) {
            names = cf_xrealloc(names, sizeof *names * (size_t)(n + 1));
            cf_buf_t b = {0};
            cf_buf_addf(&b, "%s/%s", path, e->d_name);
            names[n++] = cf_buf_take(&b);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, str_cmp);
    bool ok = true;
    for (int i = 0; i < n; i++) {
        ok = load_file(s, names[i]) && ok;
        free(names[i]);
    }
    free(names);
    return ok;
}

void cf_suite_free(cf_suite_t *s)
{
    for (int i = 0; i < s->ncases; i++) {
        cf_case_t *c = s->cases[i];
        for (int j = 0; j < c->nsteps; j++) {
            cf_step_t *st = &c->steps[j];
            for (int k = 0; k < st->npats; k++)
                cf_value_free(st->pats[k]);
            free(st->pats);
            free(st->text);
            free(st->bytes);
        }
        for (int j = 0; j < c->nallow; j++)
            cf_value_free(c->allow[j]);
        for (int j = 0; j < c->nout; j++)
            cf_value_free(c->out[j]);
        for (int j = 0; j < c->nscript; j++)
            free(c->script[j]);
        free(c->out);
        free(c->script);
        for (int j = 0; j < c->nrequires; j++)
            free(c->requires[j]);
        free(c->requires);
        free(c->allow);
        free(c->steps);
        free(c->id);
        free(c->section);
        free(c->title);
        free(c->file);
        free(c->requirement);
        free(c->spec);
        free(c->note);
        free(c->enable);
        free(c);
    }
    free(s->cases);
    s->cases = NULL;
    s->ncases = 0;
}
