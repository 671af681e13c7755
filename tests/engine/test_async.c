/*
 * The async extension (spec async.md): opt-in capability, out-of-order
 * replies, id rules, ordered behaviour without the capability, pending
 * command control, monitor ids, cancellation on disconnect, and jobs that
 * outlive the monitor that started them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

#define TS "{\"timestamp\": {\"seconds\": 0, \"microseconds\": 0}, "
#define OK "{\"return\": {}}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"
#define ERR_ID(id, desc) "{\"id\": " id ", \"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"
#define MS 1000000ull

static const char *last;
static bool expect_at(fixture_t *f, int mon, const char *cmd, const char *want, int line)
{
    last = cmd ? fx_cmd(f, mon, cmd) : fx_take(f, mon);
    return qmpk_check_str(last, strlen(last), want, strlen(want), cmd ? cmd : "(output)",
                          __FILE__, line);
}
#define EXPECT(f, mon, cmd, want) expect_at((f), (mon), (cmd), (want), __LINE__)

static void test_async_is_a_capability_of_the_extended_profile_only(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 0, NULL);
    qmpk_engine_connect(&f->e, 0, NULL, &f->mon[0]);
    CHECK(strstr(fx_take(f, 0), "\"capabilities\": [\"oob\"]}}") != NULL);
    EXPECT(f, 0, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"async\"]}}",
           ERR("Parameter 'null' does not accept value 'async'"));
    EXPECT(f, 0, "{\"execute\":\"qmp_capabilities\"}", OK);
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":1}}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x-delay has not "
           "been found\"}}\r\n");
    CHECK(strstr(fx_cmd(f, 0, "{\"execute\":\"query-commands\"}"), "x-") == NULL);
    fx_free(f);
    f = fx_new(QMPK_PROFILE_EXTENDED, 0, NULL);
    qmpk_engine_connect(&f->e, 0, NULL, &f->mon[0]);
    CHECK(strstr(fx_take(f, 0), "\"capabilities\": [\"oob\", \"async\"]}}") != NULL);
    EXPECT(f, 0, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\",\"async\"]}}", OK);
    const char *cmds = fx_cmd(f, 0, "{\"execute\":\"query-commands\"}");
    CHECK(strstr(cmds, "{\"name\": \"x-delay\", \"async\": true}") != NULL);
    CHECK(strstr(cmds, "{\"name\": \"screendump\", \"async\": true}") != NULL);
    CHECK(strstr(cmds, "{\"name\": \"query-status\"}") != NULL);
    fx_free(f);
}

static void test_async_replies_come_when_done_and_may_be_overtaken(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 1, "[\"async\"]");
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100,\"result\":{\"z\":1,\"a\":2}},"
                 "\"id\":\"slow\"}"
                 "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":10},\"id\":\"fast\"}"
                 "{\"execute\":\"query-name\",\"id\":\"now\"}",
           "{\"return\": {}, \"id\": \"now\"}\r\n");
    fx_advance(f, 10 * MS);
    EXPECT(f, 0, NULL, "{\"return\": {}, \"id\": \"fast\"}\r\n");
    fx_advance(f, 90 * MS);
    EXPECT(f, 0, NULL, "{\"return\": {\"a\": 2, \"z\": 1}, \"id\": \"slow\"}\r\n");
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":0,\"error\":\"boom\"},\"id\":3}",
           ERR_ID("3", "boom"));
    fx_free(f);
}

static void test_async_commands_need_an_id_unique_among_pending_ones(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 2, "[\"async\"]");
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":5}}",
           ERR("An async command requires an 'id'"));
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":50},\"id\":1}", "");
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":50},\"id\":1.0}",
           ERR_ID("1", "Command id is already in use by a pending command"));
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":50},\"id\":{\"a\":1,\"b\":[2]}}", "");
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":50},\"id\":{\"b\":[2],\"a\":1}}",
           ERR_ID("{\"a\": 1, \"b\": [2]}", "Command id is already in use by a pending command"));
    /* ids of another monitor never interact */
    EXPECT(f, 1, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":50},\"id\":1}", "");
    fx_advance(f, 50 * MS);
    CHECK(strstr(fx_take(f, 1), "\"id\": 1}") != NULL);
    /* once replied, the id is free again */
    EXPECT(f, 0, NULL, "{\"return\": {}, \"id\": 1}\r\n{\"return\": {}, \"id\": {\"a\": 1, \"b\": [2]}}\r\n");
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":0},\"id\":1}", "{\"return\": {}, \"id\": 1}\r\n");
    fx_free(f);
}

static void test_without_the_capability_replies_stay_in_order(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 2, NULL);
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":\"a\"}"
                 "{\"execute\":\"query-name\",\"id\":\"b\"}",
           "{\"return\": {}, \"id\": \"a\"}\r\n{\"return\": {}, \"id\": \"b\"}\r\n");
    CHECK(f->now == 100 * MS);
    /* while one monitor waits, the others go on */
    size_t used;
    const char in[] = "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"/x\"}}";
    CHECK(qmpk_engine_input(&f->e, f->mon[0], in, strlen(in), f->now, &used) == QMPK_ENGINE_E_OK);
    EXPECT(f, 1, "{\"execute\":\"stop\"}", TS "\"event\": \"STOP\"}\r\n" OK);
    EXPECT(f, 0, NULL, TS "\"event\": \"STOP\"}\r\n");
    CHECK(!qmpk_engine_monitor_readable(&f->e, f->mon[0]));
    fx_advance(f, 100 * MS);
    EXPECT(f, 0, NULL, OK);
    fx_free(f);
}

static void test_pending_commands_can_be_listed_and_cancelled(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 2, "[\"async\"]");
    fx_cmd(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":1000},\"id\":\"one\"}");
    fx_advance(f, 250 * MS);
    fx_cmd(f, 0, "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"/x\"},\"id\":2}");
    EXPECT(f, 0, "{\"execute\":\"x-query-pending\"}",
           "{\"return\": [{\"command\": \"x-delay\", \"cancellable\": true, \"elapsed-ms\": 250, "
           "\"id\": \"one\"}, {\"command\": \"screendump\", \"cancellable\": true, \"elapsed-ms\": 0, "
           "\"id\": 2}]}\r\n");
    EXPECT(f, 1, "{\"execute\":\"x-query-pending\"}", "{\"return\": []}\r\n");
    EXPECT(f, 0, "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":\"one\"},\"id\":\"c\"}",
           ERR_ID("\"one\"", "Command cancelled") "{\"return\": {}, \"id\": \"c\"}\r\n");
    EXPECT(f, 0, "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":\"one\"}}",
           ERR("No pending command with that id"));
    /* another monitor's command, by monitor-id: the owner gets the error,
     * everyone the event */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":2,\"monitor-id\":%u}}",
             (unsigned)f->mon[0]);
    char ev[256];
    snprintf(ev, sizeof ev, TS "\"event\": \"COMMAND_CANCELLED\", \"data\": {\"monitor-id\": %u, "
                            "\"id\": 2}}\r\n", (unsigned)f->mon[0]);
    char want1[512];
    snprintf(want1, sizeof want1, "%s" OK, ev);
    EXPECT(f, 1, cmd, want1);
    char want0[512];
    snprintf(want0, sizeof want0, ERR_ID("2", "Command cancelled") "%s", ev);
    EXPECT(f, 0, NULL, want0);
    fx_advance(f, 2000 * MS);
    EXPECT(f, 0, NULL, "");
    fx_free(f);
}

static void test_monitor_ids_are_never_reused(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 2, NULL);
    char want[128];
    snprintf(want, sizeof want, "{\"return\": {\"monitor-id\": %u}}\r\n", (unsigned)f->mon[1]);
    EXPECT(f, 1, "{\"execute\":\"x-query-monitor\"}", want);
    uint32_t seen[16];
    int n = 0;
    for (int round = 0; round < 8; round++) {
        qmpk_engine_disconnect(&f->e, f->mon[1], 0);
        qmpk_engine_connect(&f->e, 0, NULL, &f->mon[1]);
        for (int k = 0; k < n; k++)
            CHECK(seen[k] != f->mon[1]);
        CHECK(f->mon[1] != f->mon[0]);
        seen[n++] = f->mon[1];
    }
    fx_free(f);
}

static void test_disconnect_cancels_pending_commands_and_frees_them(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    cfg.profile = QMPK_PROFILE_EXTENDED;
    cfg.max_pending = 2;
    fixture_t *f = fx_new_cfg(&cfg, 2, "[\"async\"]");
    fx_cmd(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":1}");
    fx_cmd(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":2}");
    EXPECT(f, 1, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":3}",
           ERR_ID("3", "Too many pending commands (engine limit 2)"));
    CHECK(qmpk_engine_pending_count(&f->e) == 2);
    qmpk_engine_disconnect(&f->e, f->mon[0], f->now);
    CHECK(qmpk_engine_pending_count(&f->e) == 0);
    CHECK(qmpk_engine_monitors_used(&f->e) == 1);
    EXPECT(f, 1, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":100},\"id\":3}", "");
    fx_advance(f, 100 * MS);
    EXPECT(f, 1, NULL, "{\"return\": {}, \"id\": 3}\r\n");
    fx_free(f);
}

static void test_jobs_outlive_the_monitor_that_started_them(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 2, "[\"async\"]");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\"}}");
    const char *got = fx_cmd(f, 0, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":"
                                   "\"j\",\"device\":\"a\",\"target\":\"b\",\"sync\":\"full\","
                                   "\"speed\":1},\"id\":\"m\"}");
    CHECK(strstr(got, "\"return\"") == NULL);   /* the reply waits for the job */
    qmpk_engine_disconnect(&f->e, f->mon[0], f->now);
    CHECK(qmpk_engine_jobs_alive(&f->e) == 1);
    fx_take(f, 1);
    CHECK(strstr(fx_cmd(f, 1, "{\"execute\":\"query-jobs\"}"), "\"id\": \"j\"") != NULL);
    got = fx_cmd(f, 1, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"j\"}}");
    CHECK(strstr(got, "\"status\": \"null\"") != NULL);
    CHECK(qmpk_engine_jobs_alive(&f->e) == 0);
    CHECK(qmpk_engine_pending_count(&f->e) == 0);
    fx_free(f);
}

#define MIRROR(id, extra) \
    "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"" id "\",\"device\":\"a\"," \
    "\"target\":\"b\",\"sync\":\"full\"" extra "}"

static void test_job_commands_reply_when_their_job_concludes(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 2, "[\"async\"]");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\"}}");
    CHECK(strstr(fx_cmd(f, 0, "{\"execute\":\"query-commands\"}"),
                 "{\"name\": \"blockdev-mirror\", \"async\": true}") != NULL);
    EXPECT(f, 0, MIRROR("j", "}"), ERR("An async command requires an 'id'"));
    const char *got = fx_cmd(f, 0, MIRROR("j", "},\"id\":1"));
    CHECK(strstr(got, "\"status\": \"ready\"") != NULL && strstr(got, "\"return\"") == NULL);
    EXPECT(f, 0, "{\"execute\":\"x-query-pending\"}",
           "{\"return\": [{\"command\": \"blockdev-mirror\", \"cancellable\": true, "
           "\"elapsed-ms\": 0, \"id\": 1}]}\r\n");
    /* another monitor completes the job: the creator's reply comes at concluded */
    fx_cmd(f, 1, "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"j\"}}");
    got = fx_take(f, 0);
    const char *concluded = strstr(got, "\"status\": \"concluded\"");
    const char *reply = strstr(got, "{\"return\": {}, \"id\": 1}");
    CHECK(concluded && reply && concluded < reply);
    /* a failed job fails its command */
    fx_cmd(f, 0, MIRROR("k", ",\"speed\":1},\"id\":2"));
    fx_cmd(f, 1, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"k\"}}");
    CHECK(strstr(fx_take(f, 0), ERR_ID("2", "Operation canceled")) != NULL);
    /* cancelling the command cancels its job */
    fx_cmd(f, 0, MIRROR("l", ",\"speed\":1},\"id\":3"));
    got = fx_cmd(f, 0, "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":3}}");
    CHECK(strstr(got, ERR_ID("3", "Command cancelled")) != NULL);
    CHECK(strstr(got, "\"status\": \"null\", \"id\": \"l\"") != NULL);
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "async is a capability of the extended profile only",
          test_async_is_a_capability_of_the_extended_profile_only },
        { "async replies come when done and may be overtaken",
          test_async_replies_come_when_done_and_may_be_overtaken },
        { "async commands need an id unique among pending ones",
          test_async_commands_need_an_id_unique_among_pending_ones },
        { "without the capability replies stay in order",
          test_without_the_capability_replies_stay_in_order },
        { "pending commands can be listed and cancelled",
          test_pending_commands_can_be_listed_and_cancelled },
        { "monitor ids are never reused", test_monitor_ids_are_never_reused },
        { "disconnect cancels pending commands and frees them",
          test_disconnect_cancels_pending_commands_and_frees_them },
        { "jobs outlive the monitor that started them",
          test_jobs_outlive_the_monitor_that_started_them },
        { "job commands reply when their job concludes",
          test_job_commands_reply_when_their_job_concludes },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
