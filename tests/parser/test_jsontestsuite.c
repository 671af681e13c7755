/*
 * JSONTestSuite (../shared/corpus/JSONTestSuite, read in place):
 *  - RFC dialect: every y_ file accepted, every n_ file rejected, where a
 *    file is accepted when, fed whole and closed with qmpk_stream_finish,
 *    it yields exactly one value and no error;
 *  - QEMU dialect: the same verdict as QEMU 7.2 on all 318 files and the
 *    same replies, text for text (qemu_verdicts.tsv, measured on QEMU 7.2:
 *    each file plus "\n" on a negotiated monitor).
 * Every file also goes through the chunking check at chunk sizes 1..8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "files.h"
#include "harness.h"

static const char *shared;
static char suite[4200];

typedef struct counts {
    int y_ok, y_bad, n_ok, n_bad, i_acc, i_rej;
} counts_t;

static void rfc_file(const char *path, const char *name, void *ctx)
{
    counts_t *c = ctx;
    size_t len = 0;
    char *text = qmpk_read_file(path, &len);
    qmpk_run_cfg_t cfg = { 0 };
    qmpk_items_t it;
    bool accepted;

    if (!CHECK(text != NULL)) {
        return;
    }
    cfg.dialect = QMPK_DIALECT_RFC;
    cfg.finish = true;
    qmpk_items_run(&it, &cfg, text, len, 0, NULL, 0);
    accepted = it.messages == 1 && it.errors == 0;
    if (name[0] == 'y') {
        accepted ? c->y_ok++ : c->y_bad++;
        if (!CHECK(accepted)) fprintf(stderr, "    y_ rejected: %s\n%s", name, it.text);
    } else if (name[0] == 'n') {
        accepted ? c->n_bad++ : c->n_ok++;
        if (!CHECK(!accepted)) fprintf(stderr, "    n_ accepted: %s\n%s", name, it.text);
    } else {
        accepted ? c->i_acc++ : c->i_rej++;
    }
    for (size_t chunk = 1; chunk <= 8 && len < 100000; chunk++) {
        qmpk_items_t again;
        qmpk_items_run(&again, &cfg, text, len, chunk, NULL, 0);
        if (!CHECK(strcmp(again.text, it.text) == 0)) {
            fprintf(stderr, "    %s differs at chunk size %zu\n", name, chunk);
        }
        qmpk_items_free(&again);
    }
    qmpk_items_free(&it);
    free(text);
}

static void rfc_dialect_accepts_y_and_rejects_n(void)
{
    counts_t c = { 0 };

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    CHECK(qmpk_for_files(suite, ".json", rfc_file, &c) == 318);
    printf("    RFC dialect: y_ %d accepted / %d rejected; n_ %d rejected / %d accepted; "
           "i_ %d accepted / %d rejected\n", c.y_ok, c.y_bad, c.n_ok, c.n_bad, c.i_acc, c.i_rej);
    CHECK(c.y_ok == 95 && c.y_bad == 0 && c.n_ok == 188 && c.n_bad == 0);
}

/* ------------------------------------------------------------------ */

/* Python's json.dumps(ensure_ascii=True) of the same text, as the TSV has
 * it: lower-case \u escapes, DEL left raw. */
static void python_escapes(char *s)
{
    char *r = s, *w = s;

    while (*r) {
        if (r[0] == '\\' && r[1] == 'u') {
            if (strncmp(r + 2, "007F", 4) == 0) {
                *w++ = 0x7F;
                r += 6;
                continue;
            }
            for (int i = 0; i < 6; i++) {
                char c = r[i];
                *w++ = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
            }
            r += 6;
            continue;
        }
        if (r[0] == '\\') {
            *w++ = *r++;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

typedef struct verdict {
    char kind[32];
    char *replies;      /* descs joined by " | ", python-escaped */
    size_t len, cap;
} verdict_t;

static void add_reply(verdict_t *v, const char *quoted)
{
    size_t n = strlen(quoted) - 2;    /* without the quotes */

    if (v->len + n + 4 > v->cap) {
        v->cap = (v->len + n + 4) * 2;
        v->replies = realloc(v->replies, v->cap);
    }
    if (v->len) {
        memcpy(v->replies + v->len, " | ", 3);
        v->len += 3;
    }
    memcpy(v->replies + v->len, quoted + 1, n);
    v->len += n;
    v->replies[v->len] = '\0';
}

/* The reply QEMU's dispatcher gives a value: none of these files is a
 * valid command, so it is an envelope error. */
static void value_reply(const qmpk_msg_t *m, verdict_t *v)
{
    char w[4096];
    qmpk_envelope_t env;
    qmpk_error_t e;
    qmpk_writer_t wr;

    if (qmpk_classify(m, QMPK_PEER_CLIENT, false, &env, &e) == QMPK_E_OK) {
        add_reply(v, "\"(a valid command)\"");
        return;
    }
    qmpk_w_init(&wr, w, sizeof(w) - 1);
    qmpk_w_error_desc(&wr, &e);
    w[wr.len < sizeof(w) - 1 ? wr.len : sizeof(w) - 1] = '\0';
    python_escapes(w);
    add_reply(v, w);
}

static void error_reply(const qmpk_error_t *e, verdict_t *v)
{
    char w[8192];
    qmpk_writer_t wr;

    qmpk_w_init(&wr, w, sizeof(w) - 1);
    qmpk_w_error_desc(&wr, e);
    w[wr.len < sizeof(w) - 1 ? wr.len : sizeof(w) - 1] = '\0';
    python_escapes(w);
    add_reply(v, w);
}

/* The file plus "\n" on a monitor, as the TSV was measured.  Its verdict:
 * REJECT when any JSON parse error came, REJECT(limit) when only limits. */
static void qemu_verdict(const char *text, size_t len, verdict_t *v)
{
    qmpk_stream_config_t sc = { 0 };
    qmpk_stream_t s;
    char *in = malloc(len + 1);
    size_t pos = 0;
    bool parse_error = false, limit = false, value = false;

    memcpy(in, text, len);
    in[len] = '\n';
    sc.buf_size = len + 64;
    sc.buf = malloc(sc.buf_size);
    sc.tok_count = (unsigned)len + 16;
    sc.tok = malloc(sc.tok_count * sizeof(jsmntok_t));
    qmpk_stream_init(&s, &sc);
    while (pos < len + 1) {
        size_t used = 0;
        qmpk_msg_t m;
        qmpk_error_t e;
        qmpk_feed_t f = qmpk_stream_feed(&s, in + pos, len + 1 - pos, &used, &m, &e);
        if (f == QMPK_FEED_MESSAGE) {
            value_reply(&m, v);
            value = true;
        } else if (f == QMPK_FEED_ERROR) {
            error_reply(&e, v);
            limit |= e.code == QMPK_E_NESTING;
            parse_error |= e.code != QMPK_E_NESTING;
        }
        pos += used;
    }
    snprintf(v->kind, sizeof(v->kind), "%s", parse_error ? "REJECT"
             : limit ? "REJECT(limit)" : value ? "ACCEPT" : "NO_REPLY(incomplete)");
    free(sc.buf);
    free(sc.tok);
    free(in);
}

static int qemu_same, qemu_files;

static void check_tsv_line(char *line)
{
    char *file = strtok(line, "\t"), *expected = strtok(NULL, "\t");
    char *kind = strtok(NULL, "\t"), *replies = strtok(NULL, "\n");
    char path[8400];
    size_t len = 0, rl;
    char *text;
    verdict_t v = { .replies = NULL };

    (void)expected;
    snprintf(path, sizeof(path), "%s/%s", suite, file);
    text = qmpk_read_file(path, &len);
    if (!CHECK(text != NULL && replies != NULL)) {
        free(text);
        return;
    }
    qemu_verdict(text, len, &v);
    rl = strlen(replies) - 2;   /* the TSV quotes the joined replies */
    qemu_files++;
    /* Long reply lists were cut at 200 characters in the TSV. */
    bool same_replies = rl >= 200 ? v.len >= rl && memcmp(v.replies, replies + 1, rl) == 0
                                  : v.len == rl && (rl == 0 || memcmp(v.replies, replies + 1, rl) == 0);
    if (CHECK(strcmp(v.kind, kind) == 0) && CHECK(same_replies)) {
        qemu_same++;
    } else {
        fprintf(stderr, "    %s: QEMU %s %s\n      ours %s \"%s\"\n", file, kind, replies,
                v.kind, v.replies ? v.replies : "");
    }
    free(v.replies);
    free(text);
}

static void qemu_dialect_matches_qemu_7_2_on_every_file(void)
{
    char path[4300];
    size_t len = 0;
    char *tsv, *line, *save = NULL;

    if (!shared) {
        qmpk_skip("../shared/corpus not found");
        return;
    }
    snprintf(path, sizeof(path), "%s/../qemu_verdicts.tsv", suite);
    tsv = qmpk_read_file(path, &len);
    if (!CHECK(tsv != NULL)) {
        return;
    }
    line = strtok_r(tsv, "\n", &save);   /* header */
    while ((line = strtok_r(NULL, "\n", &save))) {
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s\n", line);
        check_tsv_line(copy);
    }
    printf("    QEMU dialect: %d of %d files give QEMU 7.2's verdict and replies\n",
           qemu_same, qemu_files);
    CHECK(qemu_files == 318);
    free(tsv);
}

static const qmpk_test_t tests[] = {
    { "RFC dialect accepts every y_ file and rejects every n_ file",
      rfc_dialect_accepts_y_and_rejects_n },
    { "QEMU dialect gives QEMU 7.2's verdict and replies on every file",
      qemu_dialect_matches_qemu_7_2_on_every_file },
};

int main(int argc, char **argv)
{
    shared = qmpk_shared_dir(argc, argv);
    if (shared) {
        snprintf(suite, sizeof(suite), "%s/corpus/JSONTestSuite/test_parsing", shared);
    }
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
