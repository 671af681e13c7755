/*
 * qmp-lint: check a QMP stream and report every problem with its byte
 * offset, message index and QEMU's error text.  A thin client of
 * <qmpkit/parser.h>: the stream frames and validates, qmpk_classify judges
 * envelopes; the tool adds what needs memory of the whole stream (replies
 * whose id matches no earlier command).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"

static void usage(FILE *f)
{
    fputs("usage: qmp-lint [--dialect rfc|qemu] [--format wire|replies|trace] [--json] [--oob] [FILE...]\n"
          "\n"
          "Reads QMP streams (stdin without FILE) and reports every problem: JSON the\n"
          "dialect rejects (QEMU's error texts), QMP envelope errors (QEMU's dispatch\n"
          "checks), replies whose id matches no earlier command, and a message still\n"
          "open at the end.\n"
          "\n"
          "  --dialect qemu   what QEMU 7.2 accepts (default); rfc: RFC 8259 exactly\n"
          "  --format wire    raw bytes as on the socket (default); replies: libvirt's\n"
          "                   .replies files (commands and replies, blank-line separated);\n"
          "                   trace: qmp-refd/qmp-proxy --trace files and the QEMU\n"
          "                   recordings, checked per monitor and direction, also for\n"
          "                   replies out of order without OOB, events before\n"
          "                   negotiation and server lines that do not end in CRLF\n"
          "  --json           one JSON object per line: {\"offset\", \"index\", \"kind\"} per\n"
          "                   message, {\"offset\", \"index\", \"error\"} per problem\n"
          "  --oob            treat 'exec-oob' as negotiated from the start\n"
          "\n"
          "Exit status: 0 clean, 1 problems found, 2 usage or I/O error.\n", f);
}

static bool parse_args(int argc, char **argv, options_t *o, int *first_file)
{
    int i;

    memset(o, 0, sizeof(*o));
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "--json")) { o->json = true; continue; }
        if (!strcmp(a, "--oob")) { o->oob = true; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); exit(EXIT_CLEAN); }
        if (!strcmp(a, "--dialect") && v && (!strcmp(v, "rfc") || !strcmp(v, "qemu"))) {
            o->dialect = !strcmp(v, "rfc") ? QMPK_DIALECT_RFC : QMPK_DIALECT_QEMU;
            i++;
            continue;
        }
        if (!strcmp(a, "--format") && v
            && (!strcmp(v, "wire") || !strcmp(v, "replies") || !strcmp(v, "trace"))) {
            o->replies = !strcmp(v, "replies");
            o->trace = !strcmp(v, "trace");
            i++;
            continue;
        }
        fprintf(stderr, "qmp-lint: bad option '%s'%s\n", a,
                v && (!strcmp(a, "--dialect") || !strcmp(a, "--format")) ? " (bad value)" : "");
        return false;
    }
    *first_file = i;
    return true;
}

/* ------------------------------------------------------------------ */
/* reporting                                                            */

static void print_head(lint_t *l, const where_t *w, uint64_t offset, uint64_t index)
{
    if (l->opt->json) {
        printf("{\"offset\": %llu, \"index\": %llu, ", (unsigned long long)offset,
               (unsigned long long)index);
        if (w && w->mon >= 0) {
            printf("\"mon\": %d, \"dir\": \"%s\", ", w->mon, w->dir);
        }
        if (l->show_name) {
            qmpk_writer_t wr;
            qmpk_w_init(&wr, l->wbuf, l->wcap);
            qmpk_w_str(&wr, l->name);
            printf("\"file\": %.*s, ", (int)wr.len, wr.buf);
        }
    } else if (w && w->mon >= 0) {
        printf("%s: monitor %d %s:%llu: message %llu: ", l->name, w->mon, w->dir,
               (unsigned long long)offset, (unsigned long long)index);
    } else {
        printf("%s:%llu: message %llu: ", l->name, (unsigned long long)offset,
               (unsigned long long)index);
    }
}

void lint_kind(lint_t *l, const where_t *w, const qmpk_msg_t *m, qmpk_kind_t k)
{
    if (l->opt->json) {
        print_head(l, w, m->offset, m->index);
        printf("\"kind\": \"%s\"}\n", qmpk_kind_name(k));
    }
}

/* A problem: QEMU's text for parser and envelope errors, or our own. */
void lint_report(lint_t *l, const where_t *w, uint64_t offset, uint64_t index,
                 const qmpk_error_t *err, const char *text)
{
    qmpk_writer_t wr;

    l->problems++;
    qmpk_w_init(&wr, l->wbuf, l->wcap);
    if (err) {
        qmpk_w_error_desc(&wr, err);
    } else {
        qmpk_w_str(&wr, text);
    }
    print_head(l, w, offset, index);
    if (l->opt->json) {
        printf("\"error\": %.*s}\n", (int)wr.len, wr.buf);
    } else {
        /* the JSON string without its quotes: escaped, so one line */
        printf("%.*s", (int)(wr.len - 2), wr.buf + 1);
        if (err) {
            printf(" (%s)", qmpk_errname(err->code));
        }
        putchar('\n');
    }
}

/* ------------------------------------------------------------------ */
/* ids                                                                  */

char *lint_canonical_id(lint_t *l, const qmpk_msg_t *m, int id)
{
    qmpk_writer_t w;
    char *s;

    qmpk_w_init(&w, l->wbuf, l->wcap);
    qmpk_w_value(&w, m, id, QMPK_ORDER_QEMU);
    s = malloc(w.len + 1);
    if (s) {
        memcpy(s, w.buf, w.len);
        s[w.len] = '\0';
    }
    return s;
}

/* Parses a canonical id (our own output, so small and valid). */
static bool parse_id(const char *text, char *buf, size_t cap, jsmntok_t *tok, unsigned ntok,
                     qmpk_msg_t *m)
{
    qmpk_stream_config_t c = { .dialect = QMPK_DIALECT_RFC, .buf = buf, .buf_size = cap,
                               .tok = tok, .tok_count = ntok };
    qmpk_stream_t s;
    qmpk_error_t e;
    size_t used = 0, n = strlen(text);

    return qmpk_stream_init(&s, &c) == QMPK_E_OK
        && (qmpk_stream_feed(&s, text, n, &used, m, &e) == QMPK_FEED_MESSAGE
            || (used == n && qmpk_stream_finish(&s, m, &e) == QMPK_FEED_MESSAGE));
}

bool lint_same_id(lint_t *l, const char *a, const char *b)
{
    size_t la = strlen(a) + 2, lb = strlen(b) + 2;
    char *ba, *bb;
    jsmntok_t *ta, *tb;
    qmpk_msg_t ma, mb;
    bool same;

    (void)l;
    if (!strcmp(a, b)) {
        return true;
    }
    ba = malloc(la);
    bb = malloc(lb);
    ta = malloc(la * sizeof(*ta));
    tb = malloc(lb * sizeof(*tb));
    same = ba && bb && ta && tb && parse_id(a, ba, la, ta, (unsigned)la, &ma)
        && parse_id(b, bb, lb, tb, (unsigned)lb, &mb) && qmpk_equal(&ma, 0, &mb, 0);
    free(ba);
    free(bb);
    free(ta);
    free(tb);
    return same;
}

static void id_add(idset_t *set, char *id)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 64;
        set->ids = realloc(set->ids, set->cap * sizeof(*set->ids));
    }
    set->ids[set->n++] = id;
}

static bool id_take(lint_t *l, idset_t *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++) {
        if (lint_same_id(l, set->ids[i], id)) {
            free(set->ids[i]);
            set->ids[i] = set->ids[--set->n];
            return true;
        }
    }
    return false;
}

/* qmp_capabilities with cap in its enable list. */
bool lint_enables_oob(const qmpk_msg_t *m, const qmpk_envelope_t *env, const char *cap)
{
    int en = qmpk_get(m, env->arguments, "enable");

    if (!qmpk_str_eqz(m, env->name, "qmp_capabilities")) {
        return false;
    }
    for (int e = qmpk_child(m, en); e >= 0; e = qmpk_next(m, e)) {
        if (qmpk_str_eqz(m, e, cap)) {
            return true;
        }
    }
    return false;
}

static void check_message(lint_t *l, const qmpk_msg_t *m)
{
    qmpk_envelope_t env;
    qmpk_error_t err;
    char *id;

    l->messages++;
    if (qmpk_classify(m, QMPK_PEER_ANY, l->oob, &env, &err) != QMPK_E_OK) {
        lint_kind(l, NULL, m, QMPK_KIND_VALUE);
        lint_report(l, NULL, err.offset, m->index, &err, NULL);
        return;
    }
    lint_kind(l, NULL, m, env.kind);
    if (env.kind == QMPK_KIND_COMMAND || env.kind == QMPK_KIND_OOB_COMMAND) {
        l->oob |= lint_enables_oob(m, &env, "oob");
        if (env.id >= 0 && (id = lint_canonical_id(l, m, env.id))) {
            id_add(&l->pending, id);
        }
    } else if ((env.kind == QMPK_KIND_RETURN || env.kind == QMPK_KIND_ERROR) && env.id >= 0) {
        id = lint_canonical_id(l, m, env.id);
        if (id && !id_take(l, &l->pending, id)) {
            lint_report(l, NULL, m->offset, m->index, NULL, "reply id matches no earlier command");
        }
        free(id);
    }
}

/* ------------------------------------------------------------------ */
/* streaming                                                            */

static void feed(lint_t *l, const char *data, size_t len)
{
    while (len > 0) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&l->s, data, len, &used, &m, &e);
        if (f == QMPK_FEED_MESSAGE) {
            check_message(l, &m);
        } else if (f == QMPK_FEED_ERROR) {
            lint_report(l, NULL, e.offset, e.index, &e, NULL);
        }
        data += used;
        len -= used;
    }
}

static void finish(lint_t *l)
{
    qmpk_msg_t m;
    qmpk_error_t e;
    qmpk_feed_t f = qmpk_stream_finish(&l->s, &m, &e);

    if (f == QMPK_FEED_MESSAGE) {
        check_message(l, &m);
    } else if (f == QMPK_FEED_ERROR) {
        lint_report(l, NULL, e.offset, e.index, &e, NULL);
    }
}

static int lint_file(lint_t *l, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    static char chunk[1 << 16];
    size_t n;

    if (!f) {
        fprintf(stderr, "qmp-lint: cannot open '%s': %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    l->name = strcmp(path, "-") ? path : "<stdin>";
    l->oob = l->opt->oob;
    qmpk_stream_init(&l->s, &l->cfg);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        feed(l, chunk, n);
    }
    if (ferror(f)) {
        fprintf(stderr, "qmp-lint: error reading '%s': %s\n", path, strerror(errno));
        if (f != stdin) fclose(f);
        return EXIT_USAGE;
    }
    finish(l);
    if (f != stdin) {
        fclose(f);
    }
    while (l->pending.n) {
        free(l->pending.ids[--l->pending.n]);
    }
    return EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    options_t opt;
    lint_t l;
    int first, rc = EXIT_CLEAN;

    if (!parse_args(argc, argv, &opt, &first)) {
        fprintf(stderr, "Try 'qmp-lint --help' for the options.\n");
        return EXIT_USAGE;
    }
    memset(&l, 0, sizeof(l));
    l.opt = &opt;
    l.show_name = argc - first > 1;
    /* QEMU's own limits: a 64 MiB message, 2 Mi tokens */
    l.cfg.dialect = opt.dialect;
    l.cfg.buf_size = (size_t)QMPK_DEFAULT_MAX_TOKEN_SIZE + QMPK_BUF_SLACK;
    l.cfg.tok_count = QMPK_DEFAULT_MAX_TOKENS;
    l.cfg.buf = malloc(l.cfg.buf_size);
    l.cfg.tok = malloc(l.cfg.tok_count * sizeof(jsmntok_t));
    l.wcap = 1 << 20;
    l.wbuf = malloc(l.wcap);
    if (!l.cfg.buf || !l.cfg.tok || !l.wbuf) {
        fputs("qmp-lint: out of memory\n", stderr);
        return EXIT_USAGE;
    }
    int unreadable = 0;
    for (int i = first; i < argc || (i == first && first == argc); i++) {
        const char *path = i < argc ? argv[i] : "-";
        int r = opt.trace ? lint_trace(&l, path) : lint_file(&l, path);
        /* an unreadable file outranks problems found in the others */
        if (r == EXIT_USAGE)
            unreadable++;
        if (r > rc)
            rc = r;
    }
    if (!opt.json) {
        fprintf(stderr, "qmp-lint: %lu messages, %lu problems", l.messages, l.problems);
        if (unreadable)
            fprintf(stderr, "; %d file%s not checked (see above)", unreadable,
                    unreadable == 1 ? "" : "s");
        fputc('\n', stderr);
    }
    free(l.cfg.buf);
    free(l.cfg.tok);
    free(l.wbuf);
    free(l.pending.ids);
    if (rc != EXIT_CLEAN) {
        return rc;
    }
    return l.problems ? EXIT_PROBLEMS : EXIT_CLEAN;
}
