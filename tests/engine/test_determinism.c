/*
 * Same inputs, same outputs, byte for byte, timestamps included: the
 * scripted multi-monitor session twice, and every recorded QEMU session
 * replayed twice.
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "harness.h"
#include "script.h"
#include "session.h"

typedef struct capture {
    char *buf;
    size_t len, cap;
} capture_t;

static void sink(void *ctx, int conn, const char *p, size_t n)
{
    capture_t *c = ctx;
    if (c->len + n + 8 > c->cap) {
        c->cap = (c->len + n + 8) * 2;
        c->buf = realloc(c->buf, c->cap);
    }
    c->len += (size_t)snprintf(c->buf + c->len, 8, "%d:", conn);
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static bool run_script_once(capture_t *out)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_t e;
    script_config(&cfg);
    size_t need = qmpk_engine_storage_size(&cfg);
    void *storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    bool ok = storage && qmpk_engine_init(&e, &cfg, storage, need) == QMPK_ENGINE_E_OK;
    if (ok)
        script_run(&e, sink, out);
    free(storage);
    return ok;
}

static void test_the_scripted_session_gives_the_same_bytes_twice(void)
{
    capture_t a = { 0 }, b = { 0 };
    CHECK(run_script_once(&a));
    CHECK(run_script_once(&b));
    CHECK(a.len > 4000);
    CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
    /* the script reaches the places it means to */
    static const char *const marks[] = {
        "\"status\": \"paused\", \"id\": \"m\"", "BLOCK_JOB_PENDING", "BLOCK_JOB_ERROR", "COMMAND_CANCELLED",
        "\"id\": \"d\"", "\"status\": \"waiting\", \"id\": \"t1\"", "host-qmp-quit",
        "Capabilities negotiation is already complete", "JSON parse error",
    };
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        if (!CHECK(a.buf && strstr(a.buf, marks[i]) != NULL))
            fprintf(stderr, "    missing: %s\n", marks[i]);
    }
    free(a.buf);
    free(b.buf);
}

static const char *shared;
static int sessions, identical;

static bool same_transcripts(const transcript_t *a, const transcript_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (a->c[i].n != b->c[i].n)
            return false;
        for (size_t k = 0; k < a->c[i].n; k++) {
            if (a->c[i].len[k] != b->c[i].len[k] ||
                memcmp(a->c[i].line[k], b->c[i].line[k], a->c[i].len[k]) != 0)
                return false;
        }
    }
    return true;
}

static void twice(const char *path, const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    session_t s;
    transcript_t a, b;
    qmpk_engine_config_t cfg;

    if (!session_load(&s, path))
        return;
    session_qemu_config(&cfg);
    sessions++;
    if (session_replay(&s, &cfg, &a) && session_replay(&s, &cfg, &b) && same_transcripts(&a, &b))
        identical++;
    transcript_free(&a);
    transcript_free(&b);
    session_free(&s);
}

static void test_every_recorded_session_replays_identically_twice(void)
{
    char dir[4096];

    if (!shared) {
        qmpk_skip("shared corpus not found");
        return;
    }
    snprintf(dir, sizeof dir, "%s/corpus/qemu-7.2/sessions", shared);
    qmpk_for_files(dir, ".jsonl", twice, NULL);
    CHECK(sessions > 0);
    CHECK(identical == sessions);
    printf("    %d sessions, %d identical on the second run\n", sessions, identical);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "the scripted session gives the same bytes twice",
          test_the_scripted_session_gives_the_same_bytes_twice },
        { "every recorded session replays identically twice",
          test_every_recorded_session_replays_identically_twice },
    };
    shared = qmpk_shared_dir(argc, argv);
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), 1, argv);
}
