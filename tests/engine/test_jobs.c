/*
 * The job state machine: QEMU's transition and verb tables (spec §4.2,
 * §4.3), every (state, verb) pair through QMP with its exact reply, the
 * extra checks of §4.4 in their order, and the lifecycles of §4.10 with
 * their events in QEMU's order.  Every transition any test takes is
 * recorded: the last test asserts that each allowed edge was taken and
 * that no forbidden one ever was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "internal.h"

#define TS "{\"timestamp\": {\"seconds\": 0, \"microseconds\": 0}, "
#define JSC(s, id) TS "\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"" s "\", \"id\": \"" id "\"}}\r\n"
#define OK "{\"return\": {}}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"
#define BJ(ev, data) TS "\"event\": \"" ev "\", \"data\": {" data "}}\r\n"
#define GiB "1073741824"
#define MS 1000000ull
#define SEC 1000000000ull

/* ------------------------------------------------------------------ */
/* Transition recorder                                                  */

static int taken[JS__COUNT][JS__COUNT];
static int illegal;

static void record(void *ctx, int from, int to)
{
    (void)ctx;
    if (from < 0 || from >= JS__COUNT || to < 0 || to >= JS__COUNT) {
        illegal++;
        return;
    }
    taken[from][to]++;
    if (!eng_job_transition_allowed((job_status_t)from, (job_status_t)to)) {
        illegal++;
        fprintf(stderr, "    illegal transition %s -> %s\n", eng_job_status_name[from],
                eng_job_status_name[to]);
    }
}

static fixture_t *fx_jobs(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 2, NULL);
    if (f) {
        f->e.transition_hook = record;
        fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                     "\"node-name\":\"src\",\"size\":" GiB "}}");
        fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                     "\"node-name\":\"dst\",\"size\":" GiB "}}");
        fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                     "\"node-name\":\"dst2\",\"size\":" GiB "}}");
        fx_take(f, 1);
    }
    return f;
}

static const char *last_out;
static bool expect_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    last_out = cmd ? fx_cmd(f, 0, cmd) : fx_take(f, 0);
    return qmpk_check_str(last_out, strlen(last_out), want, strlen(want), cmd ? cmd : "(events)",
                          __FILE__, line);
}
#define EXPECT(f, cmd, want) expect_at((f), (cmd), (want), __LINE__)

static const char *mirror_cmd(const char *extra)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"src\","
             "\"target\":\"dst\",\"sync\":\"full\"%s}}",
             extra);
    return buf;
}

static const char *backup_cmd(const char *id, const char *target, const char *extra)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"%s\",\"device\":\"src\","
             "\"target\":\"%s\",\"sync\":\"full\"%s}}",
             id, target, extra);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Tables                                                               */

/* §4.2 and §4.3 of the spec, rows as written there (U C R P Y S W D X E N) */
static const char *const spec_stt[JS__COUNT] = {
    "01000000000", "00100000101", "00011010100", "00100000000", "00000110100", "00001000000",
    "00000001100", "00000000110", "00000000110", "00000000001", "00000000000",
};
static const char *const spec_verbs[JV__COUNT] = {
    "01111111000", "01111100000", "01111100000", "01111100000", "00001100000", "00000000010",
    "00000001000",
};

static void test_the_transition_table_is_qemus(void)
{
    for (int a = 0; a < JS__COUNT; a++) {
        for (int b = 0; b < JS__COUNT; b++) {
            if (!CHECK(eng_job_transition_allowed((job_status_t)a, (job_status_t)b) ==
                       (spec_stt[a][b] == '1')))
                fprintf(stderr, "    %s -> %s\n", eng_job_status_name[a], eng_job_status_name[b]);
        }
    }
}

static void test_the_verb_table_is_qemus(void)
{
    for (int v = 0; v < JV__COUNT; v++) {
        for (int s = 0; s < JS__COUNT; s++)
            CHECK(eng_job_verb_allowed((job_verb_t)v, (job_status_t)s) == (spec_verbs[v][s] == '1'));
    }
}

/* ------------------------------------------------------------------ */
/* Every (state, verb) pair through QMP                                 */

static const char *verb_command(job_verb_t v, bool block)
{
    static char buf[256];
    static const char *const job_names[JV__COUNT] = {
        "job-cancel", "job-pause", "job-resume", NULL, "job-complete", "job-dismiss",
        "job-finalize" };
    static const char *const block_names[JV__COUNT] = {
        "block-job-cancel", "block-job-pause", "block-job-resume", "block-job-set-speed",
        "block-job-complete", "block-job-dismiss", "block-job-finalize" };

    if (v == JV_SET_SPEED)
        return "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"j\",\"speed\":0}}";
    const char *key = (v == JV_DISMISS || v == JV_FINALIZE || !block) ? "id" : "device";
    const char *extra = block && v == JV_CANCEL ? ",\"force\":true" : "";
    snprintf(buf, sizeof buf, "{\"execute\":\"%s\",\"arguments\":{\"%s\":\"j\"%s}}",
             block ? block_names[v] : job_names[v], key, extra);
    return buf;
}

/* A job forced into state s; for resume the job is user-paused so that
 * the verb check, not "Can't resume", decides. */
static fixture_t *job_in_state(job_status_t s, bool user_paused)
{
    fixture_t *f = fx_jobs();

    fx_cmd(f, 0, mirror_cmd(",\"speed\":1048576"));
    struct qmpk_eng_job *j = eng_job_find(&f->e, "j");
    f->e.transition_hook = NULL;   /* the forced state is not a transition */
    j->status = s;
    j->user_paused = user_paused;
    j->pause_count = user_paused ? 1 : 0;
    j->wake = ENG_NEVER;
    return f;
}

static void check_pair(job_status_t s, job_verb_t v, bool block)
{
    char want[256];
    bool resume = v == JV_RESUME;
    fixture_t *f = job_in_state(s, resume);
    const char *got = fx_cmd(f, 0, verb_command(v, block));
    bool allowed = eng_job_verb_allowed(v, s);

    snprintf(want, sizeof want, ERR("Job 'j' in state '%s' cannot accept command verb '%s'"),
             eng_job_status_name[s], eng_job_verb_name[v]);
    if (!allowed) {
        if (!CHECK_EQ_STR(got, strlen(got), want))
            fprintf(stderr, "    state %s verb %s\n", eng_job_status_name[s], eng_job_verb_name[v]);
    } else {
        /* accepted: {} with events before or after it, no error (no extra
         * check applies here: the job is not user-paused for pause, and is
         * a mirror for complete) */
        bool replied = strncmp(got, OK, strlen(OK)) == 0 || strstr(got, "\n" OK) != NULL;
        if (!CHECK(replied && strstr(got, "\"error\"") == NULL))
            fprintf(stderr, "    state %s verb %s: %s\n", eng_job_status_name[s],
                    eng_job_verb_name[v], got);
    }
    fx_free(f);
}

static void test_every_state_verb_pair_gets_qemus_reply_job_family(void)
{
    for (int s = 0; s < JS__COUNT; s++) {
        for (int v = 0; v < JV__COUNT; v++)
            check_pair((job_status_t)s, (job_verb_t)v, false);
    }
}

static void test_every_state_verb_pair_gets_qemus_reply_block_job_family(void)
{
    for (int s = 0; s < JS__COUNT; s++) {
        for (int v = 0; v < JV__COUNT; v++)
            check_pair((job_status_t)s, (job_verb_t)v, true);
    }
}

static void test_resume_of_a_job_not_paused_fails_before_the_verb_check(void)
{
    for (int s = 0; s < JS__COUNT; s++) {
        fixture_t *f = job_in_state((job_status_t)s, false);
        const char *got = fx_cmd(f, 0, verb_command(JV_RESUME, false));
        CHECK_EQ_STR(got, strlen(got), ERR("Can't resume a job that was not paused"));
        fx_free(f);
    }
}

static void test_pause_of_a_paused_job_fails_after_the_verb_check(void)
{
    fixture_t *f = job_in_state(JS_PAUSED, true);
    EXPECT(f, verb_command(JV_PAUSE, false), ERR("Job is already paused"));
    EXPECT(f, verb_command(JV_PAUSE, true), ERR("Job is already paused"));
    fx_free(f);
    f = job_in_state(JS_PENDING, true);
    EXPECT(f, verb_command(JV_PAUSE, false),
           ERR("Job 'j' in state 'pending' cannot accept command verb 'pause'"));
    fx_free(f);
}

static void test_soft_cancel_of_a_user_paused_job_is_refused_first(void)
{
    for (int s = 0; s < JS__COUNT; s++) {
        fixture_t *f = job_in_state((job_status_t)s, true);
        const char *got = fx_cmd(f, 0, "{\"execute\":\"block-job-cancel\",\"arguments\":"
                                       "{\"device\":\"j\"}}");
        CHECK_EQ_STR(got, strlen(got), ERR("The block job for device 'j' is currently paused"));
        fx_free(f);
    }
}

static void test_unknown_ids_differ_by_family(void)
{
    fixture_t *f = fx_jobs();
    for (int v = 0; v < JV__COUNT; v++) {
        if (v != JV_SET_SPEED) {
            const char *got = fx_cmd(f, 0, verb_command((job_verb_t)v, false));
            CHECK_EQ_STR(got, strlen(got), ERR("Job not found"));
        }
        const char *got = fx_cmd(f, 0, verb_command((job_verb_t)v, true));
        CHECK_EQ_STR(got, strlen(got), "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": "
                                       "\"Block job 'j' not found\"}}\r\n");
    }
    fx_free(f);
}

static void test_complete_needs_a_driver_that_completes(void)
{
    fixture_t *f = job_in_state(JS_READY, false);
    struct qmpk_eng_job *j = eng_job_find(&f->e, "j");
    j->type = JT_BACKUP;
    EXPECT(f, verb_command(JV_COMPLETE, false), ERR("The active block job 'j' cannot be completed"));
    j->type = JT_MIRROR;
    j->cancelled = true;
    EXPECT(f, verb_command(JV_COMPLETE, true), ERR("The active block job 'j' cannot be completed"));
    fx_free(f);
}

static void test_negative_speed_is_refused_after_the_verb_check(void)
{
    fixture_t *f = job_in_state(JS_RUNNING, false);
    EXPECT(f, "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"j\",\"speed\":-1}}",
           ERR("Parameter 'speed' expects a non-negative value"));
    fx_free(f);
    f = job_in_state(JS_PENDING, false);
    EXPECT(f, "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"j\",\"speed\":-1}}",
           ERR("Job 'j' in state 'pending' cannot accept command verb 'set-speed'"));
    fx_free(f);
}

static void test_job_id_validation_texts(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"device\":\"src\",\"target\":\"dst\","
              "\"sync\":\"full\"}}",
           ERR("Invalid job ID ''"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"1j\",\"device\":\"src\","
              "\"target\":\"dst\",\"sync\":\"full\"}}",
           ERR("Invalid job ID '1j'"));
    EXPECT(f, mirror_cmd(",\"speed\":1"), JSC("created", "j") JSC("running", "j") OK);
    /* the drained sections of backup flap the running mirror twice */
    EXPECT(f, backup_cmd("j", "dst2", ""),
           JSC("paused", "j") JSC("running", "j") JSC("paused", "j") JSC("running", "j")
           ERR("Node 'src' is busy: block device is in use by block job: mirror"));
    fx_free(f);
}

/* An id of n bytes: 'a' up to the last byte, which is `last`. */
static const char *long_id(char *buf, size_t n, char last)
{
    memset(buf, 'a', n);
    buf[n - 1] = last;
    buf[n] = '\0';
    return buf;
}

static char cmd_buf[1024];
/* a macro, so the compiler checks each literal format */
#define cmd_with_id(fmt, id) (snprintf(cmd_buf, sizeof cmd_buf, fmt, id), cmd_buf)

#define MIRROR_ID_FMT "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"%s\"," \
                      "\"device\":\"src\",\"target\":\"dst\",\"sync\":\"full\",\"speed\":1}}"
#define PAUSE_ID_FMT "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"%s\"}}"
#define SPEED_ID_FMT "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"%s\"," \
                     "\"speed\":2}}"

/* QEMU keeps any job id whole; the engine keeps QMPK_ENGINE_MAX_ID_BYTES. */
static void test_a_job_id_of_the_limit_is_kept_whole(void)
{
    char id[QMPK_ENGINE_MAX_ID_BYTES + 1], want[2048];
    fixture_t *f = fx_jobs();

    long_id(id, QMPK_ENGINE_MAX_ID_BYTES, 'z');
    snprintf(want, sizeof want,
             TS "\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"created\", \"id\": \"%s\"}}\r\n"
             TS "\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"running\", \"id\": \"%s\"}}\r\n" OK,
             id, id);
    EXPECT(f, cmd_with_id(MIRROR_ID_FMT, id), want);
    snprintf(want, sizeof want,
             TS "\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"paused\", \"id\": \"%s\"}}\r\n" OK,
             id);
    EXPECT(f, cmd_with_id(PAUSE_ID_FMT, id), want);
    struct qmpk_eng_job *j = eng_job_find(&f->e, id);
    CHECK(j != NULL && strlen(j->id) == QMPK_ENGINE_MAX_ID_BYTES);
    /* the error texts that quote an id have room for the longest one */
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"dst3\",\"size\":" GiB "}}");
    snprintf(want, sizeof want, ERR("Job ID '%s' already in use"), id);
    EXPECT(f, cmd_with_id("{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"%s\","
                          "\"device\":\"dst2\",\"target\":\"dst3\",\"sync\":\"full\"}}", id),
           want);
    snprintf(want, sizeof want,
             ERR("Job '%s' in state 'paused' cannot accept command verb 'finalize'"), id);
    EXPECT(f, cmd_with_id("{\"execute\":\"job-finalize\",\"arguments\":{\"id\":\"%s\"}}", id),
           want);
    fx_free(f);
}

/* Node names are at most 31 bytes (QEMU's bound), so a lookup cut at the
 * read buffer's size never matches one: QEMU's not-found reply, not a node. */
static void test_a_long_node_name_finds_no_node(void)
{
    char name[301];
    fixture_t *f = fx_jobs();

    memset(name, 'n', 31);
    name[31] = '\0';
    fx_cmd(f, 0, cmd_with_id("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                             "\"node-name\":\"%s\"}}", name));
    CHECK(eng_node_find(&f->e, name) >= 0);
    memset(name, 'n', 300);
    name[300] = '\0';
    const char *got = fx_cmd(f, 0, cmd_with_id("{\"execute\":\"blockdev-backup\",\"arguments\":{"
                                               "\"job-id\":\"b\",\"device\":\"src\",\"target\":"
                                               "\"%s\",\"sync\":\"full\"}}", name));
    CHECK(strncmp(got, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Cannot find device=",
                  strlen("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Cannot find device=")) == 0);
    CHECK(f->e.live_jobs == 0);
    fx_free(f);
}

static void test_a_job_id_over_the_limit_is_refused(void)
{
    char id[QMPK_ENGINE_MAX_ID_BYTES + 2];
    fixture_t *f = fx_jobs();

    EXPECT(f, cmd_with_id(MIRROR_ID_FMT, long_id(id, QMPK_ENGINE_MAX_ID_BYTES + 1, 'z')),
           ERR("Job ID too long (engine limit 255 bytes)"));
    /* checked before the well-formedness check: its text would show a cut id */
    EXPECT(f, cmd_with_id(MIRROR_ID_FMT, long_id(id, QMPK_ENGINE_MAX_ID_BYTES + 1, '!')),
           ERR("Job ID too long (engine limit 255 bytes)"));
    CHECK(f->e.live_jobs == 0);
    EXPECT(f, "{\"execute\":\"query-jobs\"}", "{\"return\": []}\r\n");
    fx_free(f);
}

/* Ids that differ only after byte 127 (the old cut) are two jobs. */
static void test_ids_differing_late_are_different_jobs(void)
{
    char a[201], b[201];
    fixture_t *f = fx_jobs();

    long_id(a, 200, 'y');
    long_id(b, 200, 'z');
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"dst3\",\"size\":" GiB "}}");
    fx_cmd(f, 0, cmd_with_id(MIRROR_ID_FMT, a));
    const char *got = fx_cmd(f, 0, cmd_with_id("{\"execute\":\"blockdev-mirror\",\"arguments\":{"
                                               "\"job-id\":\"%s\",\"device\":\"dst2\",\"target\":"
                                               "\"dst3\",\"sync\":\"full\",\"speed\":1}}", b));
    CHECK(strstr(got, "already in use") == NULL);
    struct qmpk_eng_job *ja = eng_job_find(&f->e, a), *jb = eng_job_find(&f->e, b);
    CHECK(ja != NULL && jb != NULL && ja != jb);
    CHECK(f->e.live_jobs == 2);
    fx_free(f);
}

/* A verb's id longer than any job's must find none, not a job whose id
 * is its prefix. */
static void test_a_verb_id_over_the_limit_finds_no_job(void)
{
    char id[QMPK_ENGINE_MAX_ID_BYTES + 3];
    fixture_t *f = fx_jobs();

    fx_cmd(f, 0, cmd_with_id(MIRROR_ID_FMT, long_id(id, QMPK_ENGINE_MAX_ID_BYTES, 'a')));
    CHECK(f->e.live_jobs == 1);
    EXPECT(f, cmd_with_id(PAUSE_ID_FMT, long_id(id, QMPK_ENGINE_MAX_ID_BYTES + 1, 'a')),
           ERR("Job not found"));
    EXPECT(f, cmd_with_id(PAUSE_ID_FMT, long_id(id, QMPK_ENGINE_MAX_ID_BYTES + 2, 'a')),
           ERR("Job not found"));
    const char *got = fx_cmd(f, 0, cmd_with_id(SPEED_ID_FMT, id));
    CHECK(strncmp(got, "{\"error\": {\"class\": \"DeviceNotActive\"", 37) == 0);
    CHECK(f->e.jobs[0].speed == 1 || f->e.jobs[1].speed == 1);
    fx_free(f);
}

/* qmp_get_root_bs() comes first in mirror and commit; backup and stream
 * use bdrv_lookup_bs() and take any node (QEMU 7.2, checked). */
static void test_an_inline_child_is_no_root_for_mirror_and_commit(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"r1\","
              "\"file\":{\"driver\":\"null-co\",\"node-name\":\"f1\",\"size\":" GiB "}}}",
           OK);
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"m\",\"device\":\"f1\","
              "\"target\":\"dst\",\"sync\":\"full\"}}",
           ERR("Need a root block node"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"1bad\",\"device\":\"f1\","
              "\"target\":\"nosuch\",\"sync\":\"full\",\"speed\":-1}}",
           ERR("Need a root block node"));
    EXPECT(f, "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"c\",\"device\":\"f1\"}}",
           ERR("Need a root block node"));
    CHECK(f->e.live_jobs == 0);
    /* its drained sections flap it paused and back, as in QEMU: the outcome matters here */
    const char *got = fx_cmd(f, 0, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":"
                                   "\"b\",\"device\":\"f1\",\"target\":\"dst\",\"sync\":\"full\","
                                   "\"speed\":1}}");
    size_t n = strlen(got);
    CHECK(n >= strlen(OK) && strcmp(got + n - strlen(OK), OK) == 0);
    CHECK(eng_job_find(&f->e, "b") != NULL);
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* Lifecycles (§4.10)                                                   */

#define READY_EV BJ("BLOCK_JOB_READY", "\"device\": \"j\", \"len\": " GiB ", \"offset\": " GiB ", \"speed\": 0, \"type\": \"mirror\"")
#define COMPLETED_EV(off, speed, type) BJ("BLOCK_JOB_COMPLETED", "\"device\": \"j\", \"len\": " GiB ", \"offset\": " off ", \"speed\": " speed ", \"type\": \"" type "\"")
#define CANCELLED_EV(off, speed, type) BJ("BLOCK_JOB_CANCELLED", "\"device\": \"j\", \"len\": " GiB ", \"offset\": " off ", \"speed\": " speed ", \"type\": \"" type "\"")

static void test_mirror_with_defaults_readies_then_completes(void)
{
    fixture_t *f = fx_jobs();
    /* the job runs after the reply, in the same main-loop iteration */
    EXPECT(f, mirror_cmd(""), JSC("created", "j") JSC("running", "j") OK JSC("ready", "j") READY_EV);
    EXPECT(f, "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"j\"}}",
           OK JSC("waiting", "j") JSC("pending", "j") COMPLETED_EV(GiB, "0", "mirror")
           JSC("concluded", "j") JSC("null", "j"));
    /* the other monitor saw the same events */
    const char *other = fx_take(f, 1);
    CHECK(strstr(other, "\"status\": \"null\"") != NULL);
    CHECK(strstr(other, "\"return\"") == NULL);
    fx_free(f);
}

static void test_manual_mirror_waits_in_pending_and_concluded(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"auto-finalize\":false,\"auto-dismiss\":false"));
    fx_advance(f, 0);
    fx_take(f, 0);
    EXPECT(f, "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"j\"}}",
           OK JSC("waiting", "j") JSC("pending", "j")
           BJ("BLOCK_JOB_PENDING", "\"type\": \"mirror\", \"id\": \"j\""));
    EXPECT(f, "{\"execute\":\"query-block-jobs\"}",
           "{\"return\": [{\"auto-finalize\": false, \"io-status\": \"ok\", \"device\": \"j\", "
           "\"auto-dismiss\": false, \"busy\": false, \"len\": " GiB ", \"offset\": " GiB ", "
           "\"status\": \"pending\", \"paused\": true, \"speed\": 0, \"ready\": false, "
           "\"type\": \"mirror\"}]}\r\n");
    EXPECT(f, "{\"execute\":\"job-finalize\",\"arguments\":{\"id\":\"j\"}}",
           COMPLETED_EV(GiB, "0", "mirror") JSC("concluded", "j") OK);
    EXPECT(f, "{\"execute\":\"query-jobs\"}",
           "{\"return\": [{\"current-progress\": " GiB ", \"status\": \"concluded\", "
           "\"total-progress\": " GiB ", \"type\": \"mirror\", \"id\": \"j\"}]}\r\n");
    EXPECT(f, "{\"execute\":\"job-dismiss\",\"arguments\":{\"id\":\"j\"}}", JSC("null", "j") OK);
    EXPECT(f, "{\"execute\":\"query-jobs\"}", "{\"return\": []}\r\n");
    fx_free(f);
}

static void test_job_cancel_of_a_running_mirror_is_forced(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"speed\":1048576,\"auto-dismiss\":false"));
    fx_advance(f, 300 * MS);
    EXPECT(f, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"j\"}}",
           OK JSC("aborting", "j") CANCELLED_EV("16777216", "1048576", "mirror")
           JSC("concluded", "j"));
    EXPECT(f, "{\"execute\":\"query-jobs\"}",
           "{\"return\": [{\"current-progress\": 16777216, \"status\": \"concluded\", "
           "\"total-progress\": " GiB ", \"type\": \"mirror\", \"id\": \"j\", \"error\": "
           "\"Operation canceled\"}]}\r\n");
    fx_free(f);
}

static void test_soft_cancel_of_a_ready_mirror_completes_without_pivot(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(""));
    fx_advance(f, 0);
    fx_take(f, 0);
    EXPECT(f, "{\"execute\":\"block-job-cancel\",\"arguments\":{\"device\":\"j\"}}",
           OK JSC("waiting", "j") JSC("pending", "j") COMPLETED_EV(GiB, "0", "mirror")
           JSC("concluded", "j") JSC("null", "j"));
    fx_free(f);
}

static void test_forced_cancel_of_a_ready_mirror_is_cancelled(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(""));
    fx_advance(f, 0);
    fx_take(f, 0);
    EXPECT(f, "{\"execute\":\"block-job-cancel\",\"arguments\":{\"device\":\"j\",\"force\":true}}",
           OK JSC("aborting", "j") CANCELLED_EV(GiB, "0", "mirror") JSC("concluded", "j")
           JSC("null", "j"));
    fx_free(f);
}

static void test_soft_cancel_before_ready_is_forced(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"speed\":1048576"));
    fx_advance(f, MS);
    EXPECT(f, "{\"execute\":\"block-job-cancel\",\"arguments\":{\"device\":\"j\"}}",
           OK JSC("aborting", "j") CANCELLED_EV("16777216", "1048576", "mirror")
           JSC("concluded", "j") JSC("null", "j"));
    fx_free(f);
}

/* checked on QEMU 7.2: the cancel resumes the job before the reply */
static void test_cancel_of_a_user_paused_mirror_resumes_it_first(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"speed\":1048576"));
    fx_advance(f, 300 * MS);
    EXPECT(f, "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"j\"}}", JSC("paused", "j") OK);
    EXPECT(f, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"j\"}}",
           JSC("running", "j") OK JSC("aborting", "j")
           CANCELLED_EV("16777216", "1048576", "mirror") JSC("concluded", "j") JSC("null", "j"));
    fx_free(f);
}

static void test_pause_and_resume_of_running_and_ready_jobs(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"speed\":1048576"));
    fx_advance(f, MS);
    /* sleeping in its rate limit, the job pauses before the reply */
    EXPECT(f, "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"j\"}}", JSC("paused", "j") OK);
    EXPECT(f, "{\"execute\":\"job-resume\",\"arguments\":{\"id\":\"j\"}}", JSC("running", "j") OK);
    EXPECT(f, "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"j\",\"speed\":0}}",
           OK JSC("ready", "j") READY_EV);
    EXPECT(f, "{\"execute\":\"block-job-pause\",\"arguments\":{\"device\":\"j\"}}",
           JSC("standby", "j") OK);
    EXPECT(f, "{\"execute\":\"block-job-resume\",\"arguments\":{\"device\":\"j\"}}",
           JSC("ready", "j") OK);
    fx_free(f);
}

static void test_pause_waits_for_io_in_flight(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"slow\",\"size\":" GiB ",\"latency-ns\":1000000000}}");
    fx_cmd(f, 0, backup_cmd("j", "slow", ""));
    EXPECT(f, "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"j\"}}", OK);
    const char *q = fx_cmd(f, 0, "{\"execute\":\"query-block-jobs\"}");
    CHECK(strstr(q, "\"status\": \"running\", \"paused\": true") != NULL);
    /* QEMU 7.2 (conformance 4.11-10): busy while the pause waits for I/O */
    CHECK(strstr(q, "\"busy\": true") != NULL);
    fx_advance(f, SEC);
    EXPECT(f, NULL, JSC("paused", "j"));
    /* block-copy had 64 requests of 1 MiB in flight (4.11-11) */
    q = fx_cmd(f, 0, "{\"execute\":\"query-block-jobs\"}");
    CHECK(strstr(q, "\"busy\": false, \"len\": " GiB ", \"offset\": 67108864,") != NULL);
    fx_free(f);
}

/* A backup whose requests take latency-ns and that nobody pauses yields
 * while they run (busy false) and copies 64 clusters per latency. */
static void test_backup_with_latency_yields_and_copies_in_parallel(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"slow\",\"size\":" GiB ",\"latency-ns\":1000000000}}");
    fx_cmd(f, 0, backup_cmd("j", "slow", ""));
    const char *q = fx_cmd(f, 0, "{\"execute\":\"query-block-jobs\"}");
    CHECK(strstr(q, "\"busy\": false, \"len\": " GiB ", \"offset\": 0,") != NULL);
    fx_advance(f, 3 * SEC);
    q = fx_cmd(f, 0, "{\"execute\":\"query-jobs\"}");
    if (!CHECK(strstr(q, "\"current-progress\": 201326592,") != NULL))
        fprintf(stderr, "    %s\n", q);
    fx_advance(f, 13 * SEC);
    EXPECT(f, NULL, JSC("waiting", "j") JSC("pending", "j") COMPLETED_EV(GiB, "0", "backup")
                    JSC("concluded", "j") JSC("null", "j"));
    fx_free(f);
}

static void test_cancel_while_created_emits_no_block_job_event(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"blockdev-backup\","
              "\"data\":{\"job-id\":\"j\",\"device\":\"src\",\"target\":\"dst\",\"sync\":\"full\","
              "\"auto-dismiss\":false}},{\"type\":\"abort\",\"data\":{}}]}}",
           JSC("created", "j") JSC("aborting", "j") JSC("concluded", "j") JSC("null", "j")
           ERR("Transaction aborted using Abort action"));
    fx_free(f);
}

static const char *bad_node(void)
{
    return "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\",\"node-name\":"
           "\"bad\",\"image\":\"dst2\",\"inject-error\":[{\"event\":\"pwritev\",\"errno\":5,"
           "\"once\":true}]}}";
}

static void test_backup_error_report_aborts_the_job(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, bad_node());
    EXPECT(f, backup_cmd("j", "bad", ",\"auto-dismiss\":false"),
           JSC("created", "j") JSC("running", "j") JSC("paused", "j") JSC("running", "j")
           BJ("BLOCK_JOB_ERROR", "\"device\": \"j\", \"operation\": \"write\", \"action\": \"report\"")
           OK JSC("aborting", "j")
           BJ("BLOCK_JOB_COMPLETED", "\"device\": \"j\", \"len\": " GiB ", \"offset\": 1072693248, "
              "\"speed\": 0, \"type\": \"backup\", \"error\": \"Input/output error\"")
           JSC("concluded", "j"));
    fx_free(f);
}

/* As QEMU 7.2 (conformance 4.10): over null-co only the 'none' rules
 * (armed from the start) and 'pwritev' rules (armed by each write) ever
 * fire, and iotype filters what they hit; an unthrottled backup tries
 * every cluster, so a single bad cluster leaves all the others copied. */
static void test_blkdebug_rules_arm_as_qemus_events(void)
{
    static const struct {
        const char *rule, *target;
        bool fails;
        const char *offset;
    } cases[] = {
        { "{\"event\":\"none\"}", "dst2", true, "0" },
        { "{\"event\":\"pwritev\",\"iotype\":\"read\"}", "dst2", false, GiB },
        { "{\"event\":\"read_aio\"}", "dst2", false, GiB },
        { "{\"event\":\"pwritev\",\"sector\":8192}", "dst2", true, "1072693248" },
        { "{\"event\":\"none\",\"iotype\":\"read\"}", "src", true, "0" },
    };
    char cmd[512], want[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t *f = fx_jobs();
        snprintf(cmd, sizeof cmd, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":"
                 "\"blkdebug\",\"node-name\":\"bad\",\"image\":\"%s\",\"inject-error\":[%s]}}",
                 cases[i].target, cases[i].rule);
        EXPECT(f, cmd, OK);
        /* a read fault needs the blkdebug node as the source */
        bool src = strcmp(cases[i].target, "src") == 0;
        snprintf(cmd, sizeof cmd, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":"
                 "\"j\",\"device\":\"%s\",\"target\":\"%s\",\"sync\":\"full\","
                 "\"auto-dismiss\":false}}", src ? "bad" : "src", src ? "dst" : "bad");
        const char *got = fx_cmd(f, 0, cmd);
        if (!CHECK((strstr(got, "BLOCK_JOB_ERROR") != NULL) == cases[i].fails))
            fprintf(stderr, "    rule %s: %s\n", cases[i].rule, got);
        snprintf(want, sizeof want, "\"offset\": %s, ", cases[i].offset);
        if (!CHECK(strstr(got, want) != NULL))
            fprintf(stderr, "    rule %s: want %s in %s\n", cases[i].rule, want, got);
        if (cases[i].fails && src)
            CHECK(strstr(got, "\"operation\": \"read\"") != NULL);
        fx_free(f);
    }
}

static void test_backup_error_stop_pauses_until_resumed(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, bad_node());
    EXPECT(f, backup_cmd("j", "bad", ",\"on-target-error\":\"stop\",\"speed\":1048576"),
           JSC("created", "j") JSC("running", "j") JSC("paused", "j") JSC("running", "j")
           BJ("BLOCK_JOB_ERROR", "\"device\": \"j\", \"operation\": \"write\", \"action\": \"stop\"")
           JSC("paused", "j") OK);
    const char *q = fx_cmd(f, 0, "{\"execute\":\"query-block-jobs\"}");
    CHECK(strstr(q, "\"io-status\": \"failed\"") != NULL);
    /* the rule fires once: the retried chunk succeeds */
    EXPECT(f, "{\"execute\":\"job-resume\",\"arguments\":{\"id\":\"j\"}}", JSC("running", "j") OK);
    q = fx_cmd(f, 0, "{\"execute\":\"query-block-jobs\"}");
    CHECK(strstr(q, "\"io-status\": \"ok\"") != NULL);
    CHECK(strstr(q, "\"offset\": 1048576") != NULL);
    fx_free(f);
}

static void test_fast_backup_lives_and_dies_inside_its_command(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, backup_cmd("j", "dst", ""),
           JSC("created", "j") JSC("running", "j") JSC("paused", "j") JSC("running", "j")
           JSC("waiting", "j") JSC("pending", "j") COMPLETED_EV(GiB, "0", "backup")
           JSC("concluded", "j") JSC("null", "j") OK);
    fx_free(f);
}

static void test_cancel_in_pending_aborts(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, backup_cmd("j", "dst", ",\"auto-finalize\":false"));
    EXPECT(f, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"j\"}}",
           JSC("aborting", "j") CANCELLED_EV(GiB, "0", "backup") JSC("concluded", "j")
           JSC("null", "j") OK);
    fx_free(f);
}

static const char *grouped(const char *extra_a, const char *extra_b)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"execute\":\"transaction\",\"arguments\":{\"actions\":["
             "{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"a\",\"device\":\"src\","
             "\"target\":\"dst\",\"sync\":\"full\"%s}},"
             "{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"b\",\"device\":\"dst2\","
             "\"target\":\"slow\",\"sync\":\"full\"%s}}],"
             "\"properties\":{\"completion-mode\":\"grouped\"}}}",
             extra_a, extra_b);
    return buf;
}

static void test_grouped_transaction_waits_and_finalizes_together(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"slow\",\"size\":" GiB "}}");
    const char *got = fx_cmd(f, 0, grouped("", ",\"speed\":536870912"));
    CHECK(strstr(got, JSC("waiting", "a")) != NULL);
    CHECK(strstr(got, JSC("pending", "a")) == NULL);
    fx_advance(f, 2 * SEC);
    /* as a QEMU 7.2 run of the same transaction: newest job first */
    EXPECT(f, NULL, JSC("waiting", "b") JSC("pending", "b") JSC("pending", "a")
                    BJ("BLOCK_JOB_COMPLETED", "\"device\": \"b\", \"len\": " GiB ", \"offset\": " GiB
                       ", \"speed\": 536870912, \"type\": \"backup\"")
                    JSC("concluded", "b") JSC("null", "b")
                    BJ("BLOCK_JOB_COMPLETED", "\"device\": \"a\", \"len\": " GiB ", \"offset\": " GiB
                       ", \"speed\": 0, \"type\": \"backup\"")
                    JSC("concluded", "a") JSC("null", "a"));
    fx_free(f);
}

static void test_grouped_transaction_failure_cancels_the_peers(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"slow\",\"size\":" GiB "}}");
    /* as QEMU 7.2 does it: every job resumes, then the fast one finishes */
    EXPECT(f, grouped("", ",\"speed\":1048576"),
           JSC("created", "a") JSC("created", "b") JSC("running", "a") JSC("paused", "a")
           JSC("running", "b") JSC("paused", "b") JSC("running", "a") JSC("running", "b")
           JSC("waiting", "a") OK);
    /* cancelling b (sleeping in its rate limit) aborts the whole
     * transaction before the reply; a leaves waiting */
    EXPECT(f, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"b\"}}",
           JSC("aborting", "b")
           BJ("BLOCK_JOB_CANCELLED", "\"device\": \"b\", \"len\": " GiB ", \"offset\": 1048576, "
              "\"speed\": 1048576, \"type\": \"backup\"")
           JSC("concluded", "b") JSC("null", "b") JSC("aborting", "a")
           BJ("BLOCK_JOB_CANCELLED", "\"device\": \"a\", \"len\": " GiB ", \"offset\": " GiB ", "
              "\"speed\": 0, \"type\": \"backup\"")
           JSC("concluded", "a") JSC("null", "a") OK);
    fx_free(f);
}

/* QEMU 7.2 (conformance 4.9-12): block_job_create() sets the speed after
 * the job exists, so a negative one fails it early, C -> N. */
static void test_negative_creation_speed_fails_the_created_job(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, mirror_cmd(",\"speed\":-1"),
           JSC("created", "j") JSC("null", "j")
           ERR("Parameter 'speed' expects a non-negative value"));
    EXPECT(f, backup_cmd("b", "dst", ",\"speed\":-5"),
           JSC("created", "b") JSC("null", "b")
           ERR("Parameter 'speed' expects a non-negative value"));
    EXPECT(f, "{\"execute\":\"query-jobs\"}", "{\"return\": []}\r\n");
    fx_free(f);
}

/* QEMU 7.2 (conformance case 4.8-16): the actions that cannot join a
 * JobTxn refuse grouped mode in their prepare, after the earlier actions'
 * jobs were created, which are then undone. */
static void test_transaction_actions_that_cannot_be_grouped(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":["
              "{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"a\",\"device\":\"src\","
              "\"target\":\"dst\",\"sync\":\"full\",\"speed\":1}},"
              "{\"type\":\"block-dirty-bitmap-add\",\"data\":{\"node\":\"src\",\"name\":\"bm\"}}],"
              "\"properties\":{\"completion-mode\":\"grouped\"}}}",
           JSC("created", "a") JSC("aborting", "a") JSC("concluded", "a") JSC("null", "a")
           ERR("Action 'block-dirty-bitmap-add' does not support Transaction property "
               "completion-mode = grouped"));
    /* abort keeps its own error in grouped mode */
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"abort\","
              "\"data\":{}}],\"properties\":{\"completion-mode\":\"grouped\"}}}",
           ERR("Transaction aborted using Abort action"));
    /* each kind's data is visited with its own members */
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":["
              "{\"type\":\"block-dirty-bitmap-remove\",\"data\":{\"node\":\"src\"}}]}}",
           ERR("Parameter 'actions[0].data.name' is missing"));
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":["
              "{\"type\":\"bogus\",\"data\":{}}]}}",
           ERR("Parameter 'type' does not accept value 'bogus'"));
    fx_free(f);
}

static void test_stream_and_active_commit_lifecycles(void)
{
    fixture_t *f = fx_jobs();
    EXPECT(f, "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"j\",\"device\":\"src\"}}",
           JSC("created", "j") JSC("running", "j") JSC("waiting", "j") JSC("pending", "j")
           BJ("BLOCK_JOB_COMPLETED", "\"device\": \"j\", \"len\": 0, \"offset\": 0, \"speed\": 0, "
              "\"type\": \"stream\"")
           JSC("concluded", "j") JSC("null", "j") OK);
    EXPECT(f, "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"j\",\"device\":\"src\"}}",
           ERR("cannot commit an image into itself"));
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"top\",\"size\":" GiB ",\"x-backing\":\"dst2\"}}");
    EXPECT(f, "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"j\",\"device\":\"top\"}}",
           JSC("created", "j") JSC("running", "j") OK JSC("ready", "j") BJ("BLOCK_JOB_READY", "\"device\": \"j\", \"len\": " GiB
                                          ", \"offset\": " GiB ", \"speed\": 0, \"type\": \"commit\""));
    EXPECT(f, "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"j\"}}",
           OK JSC("waiting", "j") JSC("pending", "j")
           BJ("BLOCK_JOB_COMPLETED", "\"device\": \"j\", \"len\": " GiB ", \"offset\": " GiB
              ", \"speed\": 0, \"type\": \"commit\"")
           JSC("concluded", "j") JSC("null", "j"));
    EXPECT(f, "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"s\",\"device\":\"top\","
              "\"speed\":536870912}}",
           JSC("created", "s") JSC("running", "s") OK);
    fx_advance(f, 3 * SEC);
    const char *got = fx_take(f, 0);
    CHECK(strstr(got, JSC("waiting", "s") JSC("pending", "s")) != NULL);
    fx_free(f);
}

static void test_query_jobs_lists_newest_first(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"speed\":1"));
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                 "\"node-name\":\"x\",\"size\":" GiB "}}");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"k\",\"device\":"
                 "\"dst2\",\"target\":\"x\",\"sync\":\"full\",\"speed\":1}}");
    const char *got = fx_cmd(f, 0, "{\"execute\":\"query-jobs\"}");
    const char *k = strstr(got, "\"id\": \"k\""), *j = strstr(got, "\"id\": \"j\"");
    CHECK(k && j && k < j);
    fx_free(f);
}

/* C->N happens in QEMU only through job_early_fail(), a failure after
 * job_create() that the simulation has no cause for; the dismissal of a
 * job that never started takes the same edge. */
static void test_a_job_that_never_started_can_go_to_null(void)
{
    fixture_t *f = fx_jobs();
    fx_cmd(f, 0, mirror_cmd(",\"speed\":1"));
    struct qmpk_eng_job *j = eng_job_find(&f->e, "j");
    f->e.transition_hook = NULL;
    j->status = JS_CREATED;
    f->e.transition_hook = record;
    eng_job_dismiss(&f->e, j);
    CHECK(eng_job_find(&f->e, "j") == NULL);
    CHECK(strstr(fx_take(f, 0), JSC("null", "j")) != NULL);
    fx_free(f);
}

static void test_every_allowed_edge_was_taken_and_no_forbidden_one(void)
{
    int missing = 0;

    for (int a = 0; a < JS__COUNT; a++) {
        for (int b = 0; b < JS__COUNT; b++) {
            if (eng_job_transition_allowed((job_status_t)a, (job_status_t)b) && !taken[a][b]) {
                missing++;
                fprintf(stderr, "    never taken: %s -> %s\n", eng_job_status_name[a],
                        eng_job_status_name[b]);
            }
        }
    }
    CHECK(missing == 0);
    CHECK(illegal == 0);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "the transition table is QEMU's", test_the_transition_table_is_qemus },
        { "the verb table is QEMU's", test_the_verb_table_is_qemus },
        { "every (state, verb) pair gets QEMU's reply (job-*)",
          test_every_state_verb_pair_gets_qemus_reply_job_family },
        { "every (state, verb) pair gets QEMU's reply (block-job-*)",
          test_every_state_verb_pair_gets_qemus_reply_block_job_family },
        { "resume of a job not paused fails before the verb check",
          test_resume_of_a_job_not_paused_fails_before_the_verb_check },
        { "pause of a paused job fails after the verb check",
          test_pause_of_a_paused_job_fails_after_the_verb_check },
        { "soft cancel of a user-paused job is refused first",
          test_soft_cancel_of_a_user_paused_job_is_refused_first },
        { "unknown ids differ by family", test_unknown_ids_differ_by_family },
        { "complete needs a driver that completes", test_complete_needs_a_driver_that_completes },
        { "negative speed is refused after the verb check",
          test_negative_speed_is_refused_after_the_verb_check },
        { "job id validation texts", test_job_id_validation_texts },
        { "mirror with defaults readies then completes",
          test_mirror_with_defaults_readies_then_completes },
        { "manual mirror waits in pending and concluded",
          test_manual_mirror_waits_in_pending_and_concluded },
        { "job-cancel of a running mirror is forced", test_job_cancel_of_a_running_mirror_is_forced },
        { "soft cancel of a ready mirror completes without pivot",
          test_soft_cancel_of_a_ready_mirror_completes_without_pivot },
        { "forced cancel of a ready mirror is cancelled",
          test_forced_cancel_of_a_ready_mirror_is_cancelled },
        { "soft cancel before ready is forced", test_soft_cancel_before_ready_is_forced },
        { "cancel of a user-paused mirror resumes it first",
          test_cancel_of_a_user_paused_mirror_resumes_it_first },
        { "pause and resume of running and ready jobs",
          test_pause_and_resume_of_running_and_ready_jobs },
        { "pause waits for I/O in flight", test_pause_waits_for_io_in_flight },
        { "backup with latency yields and copies in parallel",
          test_backup_with_latency_yields_and_copies_in_parallel },
        { "cancel while created emits no block job event",
          test_cancel_while_created_emits_no_block_job_event },
        { "backup error 'report' aborts the job", test_backup_error_report_aborts_the_job },
        { "backup error 'stop' pauses until resumed", test_backup_error_stop_pauses_until_resumed },
        { "blkdebug rules arm as QEMU's events", test_blkdebug_rules_arm_as_qemus_events },
        { "a fast backup lives and dies inside its command",
          test_fast_backup_lives_and_dies_inside_its_command },
        { "cancel in pending aborts", test_cancel_in_pending_aborts },
        { "grouped transaction waits and finalizes together",
          test_grouped_transaction_waits_and_finalizes_together },
        { "grouped transaction failure cancels the peers",
          test_grouped_transaction_failure_cancels_the_peers },
        { "negative creation speed fails the created job",
          test_negative_creation_speed_fails_the_created_job },
        { "transaction actions that cannot be grouped",
          test_transaction_actions_that_cannot_be_grouped },
        { "stream and active commit lifecycles", test_stream_and_active_commit_lifecycles },
        { "query-jobs lists newest first", test_query_jobs_lists_newest_first },
        { "a job id of the limit is kept whole", test_a_job_id_of_the_limit_is_kept_whole },
        { "a job id over the limit is refused", test_a_job_id_over_the_limit_is_refused },
        { "ids differing late are different jobs", test_ids_differing_late_are_different_jobs },
        { "a verb id over the limit finds no job", test_a_verb_id_over_the_limit_finds_no_job },
        { "a long node name finds no node", test_a_long_node_name_finds_no_node },
        { "an inline child is no root for mirror and commit",
          test_an_inline_child_is_no_root_for_mirror_and_commit },
        { "a job that never started can go to null", test_a_job_that_never_started_can_go_to_null },
        /* keep last: it checks what all the tests above did */
        { "every allowed edge was taken and no forbidden one",
          test_every_allowed_edge_was_taken_and_no_forbidden_one },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
