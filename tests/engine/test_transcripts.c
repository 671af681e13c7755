/*
 * QEMU 7.2's recorded sessions, replayed into the engine: every line each
 * connection received from QEMU must come out of the engine byte for byte,
 * timestamps aside (the engine's clock is the recording's relative time).
 * Sessions the engine cannot reproduce are listed below with the reason;
 * every other session in the corpus must match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "harness.h"
#include "session.h"

static const struct {
    const char *name;
    const char *why;
} not_reproduced[] = {
    { "s1_caps_oob_pretty_monitor", "pretty=on monitors are not simulated" },
    { "s1_greeting_qsd", "qemu-storage-daemon's command set (no query-status) is not simulated" },
    { "s2_token_count_2097152", "a 2M-token message exceeds the test's token pool" },
    { "s2_token_count_2097153", "a 2M-token message exceeds the test's token pool" },
    { "s7_payloads_qsd", "query payloads of a real QEMU (schema, machines, cpus) are not simulated" },
    { "s7_payloads_system", "query payloads of a real QEMU (schema, machines, cpus) are not simulated" },
};

/* Sessions reproduced in part: entries (sent or received) containing one
 * of these strings are left out of the replay and of the comparison. */
static const struct {
    const char *name;
    const char *why;
    const char *drop[8];
} partly[] = {
    { "s4_oob_overtake.jsonl",
      "attempts 1-4 use query-qmp-schema (QEMU's 207 KB schema), not simulated; "
      "attempts 5-6 (OOB overtaking a blocking blockdev-add) are compared",
      { "query-qmp-schema", "\"ret-type\"", "\"fast1\"", "\"fast2\"", "\"fast3\"",
        "\"fast4\"", NULL } },
};

static bool has(const char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(h + i, needle, k) == 0)
            return true;
    }
    return false;
}

static void drop_entries(session_t *s, const char *name)
{
    for (size_t p = 0; p < sizeof partly / sizeof partly[0]; p++) {
        if (strcmp(name, partly[p].name) != 0)
            continue;
        printf("    in part: %s (%s)\n", name, partly[p].why);
        size_t o = 0;
        for (size_t i = 0; i < s->n; i++) {
            bool drop = false;
            for (int d = 0; partly[p].drop[d]; d++)
                drop |= s->e[i].data && has(s->e[i].data, s->e[i].len, partly[p].drop[d]);
            if (drop)
                free(s->e[i].data);
            else
                s->e[o++] = s->e[i];
        }
        s->n = o;
    }
}

static const char *skip_reason(const char *name)
{
    for (size_t i = 0; i < sizeof not_reproduced / sizeof not_reproduced[0]; i++) {
        if (strncmp(name, not_reproduced[i].name, strlen(not_reproduced[i].name)) == 0 &&
            strcmp(name + strlen(not_reproduced[i].name), ".jsonl") == 0)
            return not_reproduced[i].why;
    }
    return NULL;
}

static int sessions_total, sessions_matched, sessions_skipped;
static size_t lines_compared;
static char norm_a[1 << 20], norm_b[1 << 20];

static bool compare_conn(const char *name, const conn_lines_t *want, const conn_lines_t *got)
{
    size_t n = want->n > got->n ? want->n : got->n;

    for (size_t i = 0; i < n; i++) {
        if (i >= want->n || i >= got->n) {
            fprintf(stderr, "  %s conn '%s': %zu lines expected, %zu produced\n", name,
                    want->conn, want->n, got->n);
            if (i < got->n)
                fprintf(stderr, "    extra: %.*s\n", (int)got->len[i], got->line[i]);
            else
                fprintf(stderr, "    missing: %.*s\n", (int)want->len[i], want->line[i]);
            return false;
        }
        lines_compared++;
        size_t a = normalize_timestamps(want->line[i], want->len[i], norm_a, sizeof norm_a);
        size_t b = normalize_timestamps(got->line[i], got->len[i], norm_b, sizeof norm_b);
        if (a != b || memcmp(norm_a, norm_b, a) != 0) {
            fprintf(stderr, "  %s conn '%s' line %zu differs\n    want: %.*s\n    got:  %.*s\n",
                    name, want->conn, i, (int)(a > 600 ? 600 : a), norm_a,
                    (int)(b > 600 ? 600 : b), norm_b);
            return false;
        }
    }
    return true;
}

static bool compare(const char *name, const transcript_t *want, const transcript_t *got)
{
    bool ok = true;

    for (size_t i = 0; i < want->n; i++) {
        const conn_lines_t *g = NULL;
        for (size_t k = 0; k < got->n; k++) {
            if (strcmp(got->c[k].conn, want->c[i].conn) == 0)
                g = &got->c[k];
        }
        static const conn_lines_t empty;
        if (!compare_conn(name, &want->c[i], g ? g : &empty))
            ok = false;
    }
    return ok;
}

static void one_session(const char *path, const char *name, void *ctx)
{
    (void)ctx;
    session_t s;
    transcript_t want, got;
    qmpk_engine_config_t cfg;

    sessions_total++;
    const char *why = skip_reason(name);
    if (why) {
        sessions_skipped++;
        printf("    not reproduced: %s (%s)\n", name, why);
        return;
    }
    if (!CHECK(session_load(&s, path)))
        return;
    drop_entries(&s, name);
    session_qemu_config(&cfg);
    session_expected(&s, &want);
    CHECK(session_replay(&s, &cfg, &got));
    if (CHECK(compare(name, &want, &got)))
        sessions_matched++;
    else
        fprintf(stderr, "    session %s does not match\n", name);
    transcript_free(&want);
    transcript_free(&got);
    session_free(&s);
}

static const char *shared;

static void test_every_recorded_session_is_reproduced_byte_for_byte(void)
{
    char dir[4096];

    snprintf(dir, sizeof dir, "%s/corpus/qemu-7.2/sessions", shared);
    int n = qmpk_for_files(dir, ".jsonl", one_session, NULL);
    CHECK(n > 0);
    printf("    %d sessions: %d reproduced byte for byte (%zu lines), %d listed as not "
           "reproduced\n", sessions_total, sessions_matched, lines_compared, sessions_skipped);
    CHECK(lines_compared > 0);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "every recorded QEMU 7.2 session is reproduced byte for byte",
          test_every_recorded_session_is_reproduced_byte_for_byte },
    };

    shared = qmpk_shared_dir(argc, argv);
    if (!shared) {
        printf("SKIP: shared corpus not found\n");
        return QMPK_TEST_SKIP;
    }
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), 1, argv);
}
