/*
 * qmp-conform: owned JSON values and the matcher of expected messages.
 *
 * Expected messages are JSON written in the case files.  Strings that start
 * with '$' are patterns (conformance/README.md, "Patterns"); everything else
 * compares semantically with qmpk_equal() (numbers by value, strings
 * unescaped, objects as member sets).
 */
#include "conform.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static cf_value_t *value_from(const qmpk_msg_t *m)
{
    cf_value_t *v = cf_xcalloc(1, sizeof *v);
    v->len = m->len;
    v->json = cf_xmalloc(m->len + 1);
    memcpy(v->json, m->json, m->len);
    v->json[m->len] = 0;
    v->tok = cf_xmalloc(sizeof(jsmntok_t) * (size_t)(m->ntok > 0 ? m->ntok : 1));
    memcpy(v->tok, m->tok, sizeof(jsmntok_t) * (size_t)m->ntok);
    v->msg = *m;
    v->msg.json = v->json;
    v->msg.tok = v->tok;
    return v;
}

cf_value_t *cf_value_copy(const qmpk_msg_t *m, const char *raw, size_t raw_len)
{
    cf_value_t *v = value_from(m);
    v->raw = cf_xstrndup(raw, raw_len);
    v->raw_len = raw_len;
    return v;
}

void cf_value_free(cf_value_t *v)
{
    if (!v)
        return;
    free(v->json);
    free(v->tok);
    free(v->raw);
    free(v);
}

static bool only_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

cf_value_t *cf_value_parse(const char *text, size_t n, char *err, size_t cap)
{
    qmpk_stream_t *s = cf_xmalloc(sizeof *s);
    qmpk_stream_config_t cfg = {0};
    cfg.dialect = QMPK_DIALECT_QEMU;
    cfg.buf_size = n + QMPK_BUF_SLACK + 1;
    cfg.buf = cf_xmalloc(cfg.buf_size);
    cfg.tok_count = (unsigned)(n + 2);
    cfg.tok = cf_xmalloc(sizeof(jsmntok_t) * cfg.tok_count);
    cf_value_t *got = NULL;
    bool bad = false;
    if (qmpk_stream_init(s, &cfg) != QMPK_E_OK) {
        snprintf(err, cap, "parser refused the configuration");
        bad = true;
    }
    size_t off = 0;
    while (!bad) {
        qmpk_msg_t m;
        qmpk_error_t e;
        size_t used = 0;
        qmpk_feed_t r;
        bool fin = off >= n;
        if (fin)
            r = qmpk_stream_finish(s, &m, &e);
        else
            r = qmpk_stream_feed(s, text + off, n - off, &used, &m, &e);
        off += used;
        if (r == QMPK_FEED_MESSAGE) {
            if (got) {
                snprintf(err, cap, "more than one JSON value");
                bad = true;
            } else {
                got = value_from(&m);
                got->raw = cf_xstrndup(text, n);
                got->raw_len = n;
                if (!fin && !only_space(text + off, n - off) && got) {
                    /* a second value follows: reported on the next turn */
                }
            }
        } else if (r == QMPK_FEED_ERROR) {
            char d[200];
            qmpk_error_format(&e, d, sizeof d);
            snprintf(err, cap, "invalid JSON at byte %llu: %s",
                     (unsigned long long)e.offset, d);
            bad = true;
        } else if (fin) {
            break;
        }
    }
    if (!bad && !got) {
        snprintf(err, cap, "no JSON value");
        bad = true;
    }
    free(cfg.buf);
    free(cfg.tok);
    free(s);
    if (bad) {
        cf_value_free(got);
        return NULL;
    }
    return got;
}

bool cf_value_is_event(const cf_value_t *v)
{
    return qmpk_type(&v->msg, 0) == QMPK_T_OBJECT &&
           qmpk_get(&v->msg, 0, "event") >= 0;
}

/* Unescaped string token as a malloc'd C string (NULs kept, len out). */
static char *str_dup(const qmpk_msg_t *m, int t, size_t *len)
{
    char small[256];
    size_t n = 0;
    qmpk_errno_t e = qmpk_str(m, t, small, sizeof small, &n);
    if (e == QMPK_E_TYPE)
        return NULL;
    char *out = cf_xmalloc(n + 1);
    if (e == QMPK_E_OK) {
        memcpy(out, small, n);
    } else {
        qmpk_str(m, t, out, n + 1, &n);
    }
    out[n] = 0;
    if (len)
        *len = n;
    return out;
}

/* ------------------------------------------------------------------ */
/* Canonical printing                                                   */

static void canon_str(cf_buf_t *b, const char *s, size_t n)
{
    cf_buf_addc(b, '"');
    cf_buf_json_escape(b, s, n, true);
    cf_buf_addc(b, '"');
}

typedef struct keyref {
    char *key;
    size_t len;
    int tok;
} keyref_t;

static int keyref_cmp(const void *a, const void *b)
{
    const keyref_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* What canonical printing does with the values that vary between correct
 * servers: keep them (plain), replace them with a placeholder (--diff), or
 * with the case pattern that matches any of them (from-trace). */
typedef enum canon_mode { CANON_PLAIN = 0, CANON_DIFF, CANON_PATTERN } canon_mode_t;

static void canon_tok(cf_buf_t *b, const qmpk_msg_t *m, int t, int depth,
                      canon_mode_t mode);
static bool timestamp_ok(const qmpk_msg_t *a, int at);

/* Members whose value differs between two correct servers, or between two
 * runs of one (docs/CONFORMANCE.md, "--diff"): --diff must not report them
 * and a case written from a trace must not insist on them.  Matched by
 * member name at any depth; the placeholder keeps the member, so a member
 * that one server lacks still shows.  Each pattern matches every value of
 * the member's type, so it always matches the value it replaces. */
static const struct {
    const char *key;
    qmpk_type_t type;
    const char *placeholder, *pattern;
} variable_members[] = {
    { "qemu", QMPK_T_OBJECT, "\"<version>\"", "\"$object\"" },  /* greeting, query-version */
    { "package", QMPK_T_STRING, "\"<package>\"", "\"$string\"" },
    { "offset", QMPK_T_NUMBER, "\"<progress>\"", "\"$number\"" },  /* block jobs and their events */
    { "len", QMPK_T_NUMBER, "\"<progress>\"", "\"$number\"" },     /* grows while a mirror runs */
    { "current-progress", QMPK_T_NUMBER, "\"<progress>\"", "\"$number\"" },  /* query-jobs */
    { "total-progress", QMPK_T_NUMBER, "\"<progress>\"", "\"$number\"" },
};

static const char *variable_member(const qmpk_msg_t *m, const char *key, int tok,
                                   int depth, canon_mode_t mode)
{
    if (depth == 0 && strcmp(key, "timestamp") == 0) {
        if (mode == CANON_DIFF)
            return "\"<timestamp>\"";
        return timestamp_ok(m, tok) ? "\"$timestamp\"" : "\"$any\"";
    }
    for (size_t i = 0; i < sizeof variable_members / sizeof variable_members[0]; i++)
        if (strcmp(key, variable_members[i].key) == 0 &&
            qmpk_type(m, tok) == variable_members[i].type)
            return mode == CANON_DIFF ? variable_members[i].placeholder
                                      : variable_members[i].pattern;
    return NULL;
}

/* QEMU names an implicit node "#block" + a counter + two random digits;
 * the engine "#block" + its slot: equal in role, never in value. */
static bool generated_node_name(const char *s, size_t n)
{
    if (n <= 6 || memcmp(s, "#block", 6) != 0)
        return false;
    for (size_t i = 6; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A string as QEMU writes it (ASCII, \uXXXX for the rest): a case line
 * then reads like the server's own output. */
static void qemu_str(cf_buf_t *b, const char *s, size_t n)
{
    char small[512];
    qmpk_writer_t w;
    qmpk_w_init(&w, small, sizeof small);
    qmpk_w_str_n(&w, s, n);
    if (!w.overflow) {
        cf_buf_add(b, small, w.len);
        return;
    }
    size_t need = w.len;
    char *big = cf_xmalloc(need);
    qmpk_w_init(&w, big, need);
    qmpk_w_str_n(&w, s, n);
    cf_buf_add(b, big, w.len);
    free(big);
}

/* A string as a case pattern: generated node names match any, and a
 * string that would read as a pattern ("$int") is written "$$int". */
static void pattern_str(cf_buf_t *b, const char *s, size_t n)
{
    if (generated_node_name(s, n)) {
        cf_buf_adds(b, "\"$re:^#block[0-9]+$\"");
        return;
    }
    if (n >= 2 && s[0] == '$') {
        cf_buf_t lit = {0};
        cf_buf_addc(&lit, '$');
        cf_buf_add(&lit, s, n);
        qemu_str(b, lit.p, lit.len);
        cf_buf_free(&lit);
        return;
    }
    qemu_str(b, s, n);
}

static void canon_tok(cf_buf_t *b, const qmpk_msg_t *m, int t, int depth,
                      canon_mode_t mode)
{
    bool mask = mode != CANON_PLAIN;
    switch (qmpk_type(m, t)) {
    case QMPK_T_OBJECT: {
        int n = qmpk_count(m, t);
        keyref_t *k = cf_xcalloc((size_t)(n ? n : 1), sizeof *k);
        int i = 0;
        for (int c = qmpk_child(m, t); c >= 0 && i < n; c = qmpk_next(m, c), i++) {
            k[i].key = str_dup(m, c, &k[i].len);
            k[i].tok = c + 1;
        }
        n = i;
        qsort(k, (size_t)n, sizeof *k, keyref_cmp);
        cf_buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i)
                cf_buf_adds(b, ", ");
            if (mode == CANON_PATTERN)
                qemu_str(b, k[i].key ? k[i].key : "", k[i].key ? k[i].len : 0);
            else
                canon_str(b, k[i].key, k[i].len);
            cf_buf_adds(b, ": ");
            const char *masked = mask && k[i].key
                                     ? variable_member(m, k[i].key, k[i].tok, depth, mode)
                                     : NULL;
            if (masked)
                cf_buf_adds(b, masked);
            else
                canon_tok(b, m, k[i].tok, depth + 1, mode);
            free(k[i].key);
        }
        cf_buf_addc(b, '}');
        free(k);
        break;
    }
    case QMPK_T_ARRAY: {
        cf_buf_addc(b, '[');
        int i = 0;
        for (int c = qmpk_child(m, t); c >= 0; c = qmpk_next(m, c), i++) {
            if (i)
                cf_buf_adds(b, ", ");
            canon_tok(b, m, c, depth + 1, mode);
        }
        cf_buf_addc(b, ']');
        break;
    }
    case QMPK_T_STRING: {
        size_t n;
        char *s = str_dup(m, t, &n);
        if (mode == CANON_PATTERN)
            pattern_str(b, s ? s : "", s ? n : 0);
        else if (mask && s && generated_node_name(s, n))
            cf_buf_adds(b, "\"<node-name>\"");
        else
            canon_str(b, s ? s : "", s ? n : 0);
        free(s);
        break;
    }
    case QMPK_T_NUMBER: {
        qmpk_num_t num;
        if (qmpk_number(m, t, &num) != QMPK_E_OK)
            cf_buf_adds(b, "NaN");
        else if (num.kind == QMPK_NUM_I64)
            cf_buf_addf(b, "%lld", (long long)num.u.i64);
        else if (num.kind == QMPK_NUM_U64)
            cf_buf_addf(b, "%llu", (unsigned long long)num.u.u64);
        else
            cf_buf_addf(b, "%.17g", num.u.dbl);
        break;
    }
    case QMPK_T_TRUE: cf_buf_adds(b, "true"); break;
    case QMPK_T_FALSE: cf_buf_adds(b, "false"); break;
    case QMPK_T_NULL: cf_buf_adds(b, "null"); break;
    default: cf_buf_adds(b, "?"); break;
    }
}

void cf_value_canon(cf_buf_t *out, const cf_value_t *v, bool mask_variable)
{
    canon_tok(out, &v->msg, 0, 0, mask_variable ? CANON_DIFF : CANON_PLAIN);
}

void cf_value_pattern(cf_buf_t *out, const cf_value_t *v)
{
    canon_tok(out, &v->msg, 0, 0, CANON_PATTERN);
}

/* ------------------------------------------------------------------ */
/* Matching                                                             */

typedef struct mctx {
    const qmpk_msg_t *p, *a;
    cf_buf_t path;
    cf_buf_t *why;
    bool plain;             /* no implicit event timestamp (adapter output) */
} mctx_t;

static void short_tok(cf_buf_t *b, const qmpk_msg_t *m, int t)
{
    cf_buf_t tmp = {0};
    canon_tok(&tmp, m, t, 1, CANON_PLAIN);
    if (tmp.len > 200) {
        cf_buf_add(b, tmp.p, 180);
        cf_buf_addf(b, "...(%zu bytes)", tmp.len);
    } else {
        cf_buf_add(b, tmp.p ? tmp.p : "", tmp.len);
    }
    cf_buf_free(&tmp);
}

static bool fail(mctx_t *x, int pt, int at, const char *what)
{
    if (x->why->len)
        return false;
    cf_buf_addf(x->why, "at %s: ", x->path.len ? x->path.p : "$");
    if (what) {
        cf_buf_adds(x->why, what);
    } else {
        cf_buf_adds(x->why, "expected ");
        short_tok(x->why, x->p, pt);
        cf_buf_adds(x->why, ", got ");
        short_tok(x->why, x->a, at);
    }
    return false;
}

static bool is_pattern(const qmpk_msg_t *m, int t, char **name)
{
    if (qmpk_type(m, t) != QMPK_T_STRING)
        return false;
    size_t n;
    char *s = str_dup(m, t, &n);
    if (!s || n < 2 || s[0] != '$' || s[1] == '$') {
        free(s);
        return false;
    }
    *name = s;
    return true;
}

static bool is_integer(const qmpk_msg_t *m, int t, bool *neg)
{
    qmpk_num_t n;
    if (qmpk_type(m, t) != QMPK_T_NUMBER || qmpk_number(m, t, &n) != QMPK_E_OK)
        return false;
    if (n.kind == QMPK_NUM_DOUBLE)
        return false;
    *neg = n.kind == QMPK_NUM_I64 && n.u.i64 < 0;
    return true;
}

static bool timestamp_ok(const qmpk_msg_t *a, int at)
{
    if (qmpk_type(a, at) != QMPK_T_OBJECT || qmpk_count(a, at) != 2)
        return false;
    int s = qmpk_get(a, at, "seconds"), us = qmpk_get(a, at, "microseconds");
    int64_t v;
    bool neg;
    if (s < 0 || us < 0 || !is_integer(a, s, &neg))
        return false;
    if (qmpk_int64(a, us, &v) != QMPK_E_OK || v < 0 || v > 999999)
        return false;
    return true;
}

static bool match_pattern(mctx_t *x, const char *pat, int pt, int at)
{
    qmpk_type_t ty = qmpk_type(x->a, at);
    bool neg = false;
    if (strcmp(pat, "$any") == 0)
        return true;
    if (strcmp(pat, "$int") == 0)
        return is_integer(x->a, at, &neg) || fail(x, pt, at, NULL);
    if (strcmp(pat, "$uint") == 0)
        return (is_integer(x->a, at, &neg) && !neg) || fail(x, pt, at, NULL);
    if (strcmp(pat, "$number") == 0)
        return ty == QMPK_T_NUMBER || fail(x, pt, at, NULL);
    if (strcmp(pat, "$string") == 0)
        return ty == QMPK_T_STRING || fail(x, pt, at, NULL);
    if (strcmp(pat, "$bool") == 0)
        return ty == QMPK_T_TRUE || ty == QMPK_T_FALSE || fail(x, pt, at, NULL);
    if (strcmp(pat, "$object") == 0)
        return ty == QMPK_T_OBJECT || fail(x, pt, at, NULL);
    if (strcmp(pat, "$array") == 0)
        return ty == QMPK_T_ARRAY || fail(x, pt, at, NULL);
    if (strcmp(pat, "$timestamp") == 0)
        return timestamp_ok(x->a, at) || fail(x, pt, at, NULL);
    if (strncmp(pat, "$re:", 4) == 0) {
        if (ty != QMPK_T_STRING)
            return fail(x, pt, at, NULL);
        regex_t re;
        if (regcomp(&re, pat + 4, REG_EXTENDED | REG_NOSUB) != 0)
            return fail(x, pt, at, "bad regular expression in the case");
        size_t n;
        char *s = str_dup(x->a, at, &n);
        bool ok = strlen(s) == n && regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        free(s);
        return ok || fail(x, pt, at, NULL);
    }
    return fail(x, pt, at, "unknown pattern in the case");
}

static bool match_tok(mctx_t *x, int pt, int at);

static void path_push_key(mctx_t *x, const char *k)
{
    cf_buf_addf(&x->path, "%s%s", x->path.len ? "." : "$.", k);
}

static bool match_object(mctx_t *x, int pt, int at)
{
    const qmpk_msg_t *p = x->p, *a = x->a;
    bool rest = false, event = false, has_ts = false;
    for (int k = qmpk_child(p, pt); k >= 0; k = qmpk_next(p, k)) {
        size_t kl;
        char *key = str_dup(p, k, &kl);
        if (strcmp(key, "$rest") == 0)
            rest = true;
        if (strcmp(key, "event") == 0 && x->path.len == 0 && !x->plain)
            event = true;
        if (strcmp(key, "timestamp") == 0)
            has_ts = true;
        free(key);
    }
    for (int k = qmpk_child(p, pt); k >= 0; k = qmpk_next(p, k)) {
        size_t kl;
        char *key = str_dup(p, k, &kl);
        if (strcmp(key, "$rest") == 0) {
            free(key);
            continue;
        }
        int av = qmpk_get_n(a, at, key, kl);
        char *pname = NULL;
        size_t mark = x->path.len;
        path_push_key(x, key);
        bool ok = true;
        if (is_pattern(p, k + 1, &pname) && strcmp(pname, "$absent") == 0) {
            if (av >= 0)
                ok = fail(x, k + 1, av, "member must be absent");
        } else if (av < 0) {
            ok = fail(x, k + 1, at, "member missing");
        } else {
            ok = match_tok(x, k + 1, av);
        }
        free(pname);
        x->path.len = mark;
        if (x->path.p)
            x->path.p[mark] = 0;
        free(key);
        if (!ok)
            return false;
    }
    if (event && !has_ts && !rest) {
        int ts = qmpk_get(a, at, "timestamp");
        if (ts < 0 || !timestamp_ok(a, ts))
            return fail(x, pt, at, "event lacks a valid timestamp "
                        "{\"seconds\": int, \"microseconds\": 0..999999}");
    }
    if (rest)
        return true;
    for (int k = qmpk_child(a, at); k >= 0; k = qmpk_next(a, k)) {
        size_t kl;
        char *key = str_dup(a, k, &kl);
        bool known = qmpk_get_n(p, pt, key, kl) >= 0 ||
                     (event && !has_ts && strcmp(key, "timestamp") == 0);
        if (!known) {
            cf_buf_t w = {0};
            cf_buf_adds(&w, "unexpected member ");
            canon_str(&w, key, kl);
            fail(x, pt, at, w.p);
            cf_buf_free(&w);
            free(key);
            return false;
        }
        free(key);
    }
    return true;
}

static bool match_array(mctx_t *x, int pt, int at)
{
    const qmpk_msg_t *p = x->p, *a = x->a;
    int np = qmpk_count(p, pt), na = qmpk_count(a, at);
    bool prefix = false;
    int last = -1;
    for (int c = qmpk_child(p, pt); c >= 0; c = qmpk_next(p, c))
        last = c;
    if (last >= 0 && qmpk_type(p, last) == QMPK_T_STRING &&
        qmpk_str_eqz(p, last, "$rest")) {
        prefix = true;
        np--;
    }
    if (prefix ? na < np : na != np) {
        cf_buf_t w = {0};
        cf_buf_addf(&w, "expected %s%d elements, got %d: ", prefix ? "at least " : "",
                    np, na);
        short_tok(&w, a, at);
        fail(x, pt, at, w.p);
        cf_buf_free(&w);
        return false;
    }
    int c = qmpk_child(p, pt), d = qmpk_child(a, at);
    for (int i = 0; i < np; i++, c = qmpk_next(p, c), d = qmpk_next(a, d)) {
        size_t mark = x->path.len;
        cf_buf_addf(&x->path, "%s[%d]", x->path.len ? "" : "$", i);
        bool ok = match_tok(x, c, d);
        x->path.len = mark;
        if (x->path.p)
            x->path.p[mark] = 0;
        if (!ok)
            return false;
    }
    return true;
}

static bool match_tok(mctx_t *x, int pt, int at)
{
    char *pname = NULL;
    if (is_pattern(x->p, pt, &pname)) {
        bool ok = match_pattern(x, pname, pt, at);
        free(pname);
        return ok;
    }
    qmpk_type_t tp = qmpk_type(x->p, pt), ta = qmpk_type(x->a, at);
    if (tp == QMPK_T_STRING) {
        /* "$$x" stands for the literal string "$x" */
        size_t n;
        char *s = str_dup(x->p, pt, &n);
        bool lit = n >= 2 && s[0] == '$' && s[1] == '$';
        bool ok = ta == QMPK_T_STRING &&
                  (lit ? qmpk_str_eq(x->a, at, s + 1, n - 1)
                       : qmpk_equal(x->p, pt, x->a, at));
        free(s);
        return ok || fail(x, pt, at, NULL);
    }
    if (tp == QMPK_T_OBJECT && ta == QMPK_T_OBJECT)
        return match_object(x, pt, at);
    if (tp == QMPK_T_ARRAY && ta == QMPK_T_ARRAY)
        return match_array(x, pt, at);
    if (tp != ta && !(tp == QMPK_T_NUMBER && ta == QMPK_T_NUMBER))
        return fail(x, pt, at, NULL);
    return qmpk_equal(x->p, pt, x->a, at) || fail(x, pt, at, NULL);
}

bool cf_match(const cf_value_t *pattern, const cf_value_t *actual, cf_buf_t *why)
{
    mctx_t x = {&pattern->msg, &actual->msg, {0}, why, false};
    bool ok = match_tok(&x, 0, 0);
    cf_buf_free(&x.path);
    return ok;
}

bool cf_match_plain(const cf_value_t *pattern, const cf_value_t *actual, cf_buf_t *why)
{
    mctx_t x = {&pattern->msg, &actual->msg, {0}, why, true};
    bool ok = match_tok(&x, 0, 0);
    cf_buf_free(&x.path);
    return ok;
}
