/*
 * Monitor-level behaviour: greeting and negotiation, event suppression,
 * suspension and the in-band queue, OOB overtaking, disconnect, several
 * monitors, quit and shutdown, capacity errors, the manual clock, the C
 * API's errors, and QEMU's member order on everything the engine writes.
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "internal.h"

#define TS "{\"timestamp\": {\"seconds\": 0, \"microseconds\": 0}, "
#define OK "{\"return\": {}}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"
#define STATUS_RUNNING "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}"
#define BLOCKING(id) \
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"qcow2\",\"node-name\":\"q\"," \
    "\"file\":{\"driver\":\"null-co\",\"size\":1048576,\"read-zeroes\":true," \
    "\"latency-ns\":2000000000}},\"id\":\"" id "\"}"
#define SEC 1000000000ull

static const char *last;
static bool expect_at(fixture_t *f, int mon, const char *cmd, const char *want, int line)
{
    last = cmd ? fx_cmd(f, mon, cmd) : fx_take(f, mon);
    return qmpk_check_str(last, strlen(last), want, strlen(want), cmd ? cmd : "(output)",
                          __FILE__, line);
}
#define EXPECT(f, mon, cmd, want) expect_at((f), (mon), (cmd), (want), __LINE__)

static void test_greeting_follows_the_configuration(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_t *e;
    fixture_t *f;
    uint32_t m;

    qmpk_engine_config_default(&cfg);
    cfg.version_micro = 5;
    cfg.package = "pkg \"x\"";
    f = fx_new_cfg(&cfg, 0, NULL);
    e = &f->e;
    CHECK(qmpk_engine_connect(e, 0, NULL, &m) == QMPK_ENGINE_E_OK);
    f->mon[0] = m;
    EXPECT(f, 0, NULL,
           "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 5, \"minor\": 2, \"major\": 7}, "
           "\"package\": \"pkg \\\"x\\\"\"}, \"capabilities\": [\"oob\"]}}\r\n");
    fx_free(f);
    cfg.no_oob = true;
    cfg.profile = QMPK_PROFILE_EXTENDED;
    f = fx_new_cfg(&cfg, 0, NULL);
    qmpk_engine_connect(&f->e, 0, NULL, &f->mon[0]);
    CHECK(strstr(fx_take(f, 0), "\"capabilities\": [\"async\"]}}") != NULL);
    EXPECT(f, 0, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\",\"async\"]}}",
           ERR("Capability oob not available"));
    fx_free(f);
}

static void test_events_are_dropped_before_negotiation(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    qmpk_engine_connect(&f->e, 0, NULL, &f->mon[1]);
    fx_take(f, 1);
    EXPECT(f, 0, "{\"execute\":\"stop\"}", TS "\"event\": \"STOP\"}\r\n" OK);
    EXPECT(f, 1, NULL, "");
    EXPECT(f, 1, "{\"execute\":\"qmp_capabilities\"}", OK);
    EXPECT(f, 0, "{\"execute\":\"cont\"}", TS "\"event\": \"RESUME\"}\r\n" OK);
    EXPECT(f, 1, NULL, TS "\"event\": \"RESUME\"}\r\n");
    /* a second cont is a silent success */
    EXPECT(f, 0, "{\"execute\":\"cont\"}", OK);
    fx_free(f);
}

static void test_without_oob_the_monitor_reads_one_command_at_a_time(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    const char in[] = BLOCKING("b") "{\"execute\":\"query-status\",\"id\":1}";
    size_t used = 0;

    qmpk_engine_errno_t rc = qmpk_engine_input(&f->e, f->mon[0], in, strlen(in), 0, &used);
    CHECK(rc == QMPK_ENGINE_E_SUSPENDED);
    CHECK(used == strlen(BLOCKING("b")));
    CHECK(!qmpk_engine_monitor_readable(&f->e, f->mon[0]));
    CHECK(qmpk_engine_next_deadline(&f->e) == 2 * SEC);
    EXPECT(f, 0, NULL, "");
    fx_advance(f, 2 * SEC);
    EXPECT(f, 0, NULL, "{\"id\": \"b\", \"error\": {\"class\": \"GenericError\", \"desc\": "
                       "\"Image is not in qcow2 format\"}}\r\n");
    CHECK(qmpk_engine_monitor_readable(&f->e, f->mon[0]));
    rc = qmpk_engine_input(&f->e, f->mon[0], in + used, strlen(in) - used, f->now, &used);
    CHECK(rc == QMPK_ENGINE_E_OK);
    EXPECT(f, 0, NULL, STATUS_RUNNING ", \"id\": 1}\r\n");
    fx_free(f);
}

static void test_oob_overtakes_queued_in_band_commands(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, "[\"oob\"]");
    EXPECT(f, 0, BLOCKING("b") "{\"execute\":\"query-status\",\"id\":\"q\"}"
                 "{\"exec-oob\":\"query-yank\",\"id\":\"o\"}",
           "{\"return\": [{\"type\": \"chardev\", \"id\": \"m0\"}], \"id\": \"o\"}\r\n");
    fx_advance(f, 2 * SEC);
    EXPECT(f, 0, NULL, "{\"id\": \"b\", \"error\": {\"class\": \"GenericError\", \"desc\": "
                       "\"Image is not in qcow2 format\"}}\r\n" STATUS_RUNNING ", \"id\": \"q\"}\r\n");
    /* parse errors travel in-band, behind the blocking command */
    EXPECT(f, 0, BLOCKING("b2") "{]" "{\"exec-oob\":\"migrate-pause\"}",
           ERR("migrate-pause is currently only supported during postcopy-active state"));
    fx_advance(f, 2 * SEC);
    CHECK(strstr(fx_take(f, 0), "\"id\": \"b2\"") != NULL);
    fx_free(f);
}

static void test_a_full_queue_stops_reading_oob_included(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, "[\"oob\"]");
    char in[4096] = BLOCKING("b");
    size_t used = 0, head = strlen(in);

    for (int i = 0; i < 8; i++)
        strcat(in, "{\"execute\":\"query-name\"}");
    size_t queued = strlen(in);
    strcat(in, "{\"exec-oob\":\"query-yank\",\"id\":\"o\"}");
    CHECK(qmpk_engine_input(&f->e, f->mon[0], in, strlen(in), 0, &used) ==
          QMPK_ENGINE_E_SUSPENDED);
    CHECK(used == queued);
    CHECK(head < used);
    EXPECT(f, 0, NULL, "");
    fx_advance(f, 2 * SEC);
    CHECK(qmpk_engine_input(&f->e, f->mon[0], in + used, strlen(in) - used, f->now, &used) ==
          QMPK_ENGINE_E_OK);
    const char *got = fx_take(f, 0);
    CHECK(strstr(got, "\"id\": \"b\"") != NULL && strstr(got, "\"id\": \"o\"") != NULL);
    fx_free(f);
}

/* One dispatcher serves the monitors' queues round-robin, one request at
 * a time: visible through the run state between stop and cont. */
static void test_the_dispatcher_serves_monitors_round_robin(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 2, "[\"oob\"]");
    fx_send(f, 0, BLOCKING("b") "{\"execute\":\"stop\"}{\"execute\":\"cont\"}");
    fx_send(f, 1, "{\"execute\":\"query-status\",\"id\":1}{\"execute\":\"query-status\",\"id\":2}");
    EXPECT(f, 1, NULL, "");
    fx_advance(f, 2 * SEC);
    EXPECT(f, 1, NULL, TS "\"event\": \"STOP\"}\r\n"
                       "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}, "
                       "\"id\": 1}\r\n"
                       TS "\"event\": \"RESUME\"}\r\n" STATUS_RUNNING ", \"id\": 2}\r\n");
    fx_free(f);
}

static void test_disconnect_drops_queued_commands_and_partial_input(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 2, "[\"oob\"]");
    fx_send(f, 0, "{\"exec-oob\":\"query-yank\"}");
    fx_take(f, 0);
    size_t used;
    const char in[] = BLOCKING("b") "{\"execute\":\"stop\"}{\"execute\":";
    qmpk_engine_input(&f->e, f->mon[0], in, strlen(in), 0, &used);
    CHECK(used == strlen(in));
    CHECK(qmpk_engine_disconnect(&f->e, f->mon[0], 0) == QMPK_ENGINE_E_OK);
    CHECK(!qmpk_engine_monitor_connected(&f->e, f->mon[0]));
    fx_advance(f, 3 * SEC);
    /* the running blockdev-add finished unseen; stop never ran */
    EXPECT(f, 1, "{\"execute\":\"query-status\"}", STATUS_RUNNING "}\r\n");
    uint32_t again;
    CHECK(qmpk_engine_connect(&f->e, f->now, NULL, &again) == QMPK_ENGINE_E_OK);
    CHECK(again != f->mon[0]);
    f->mon[0] = again;
    fx_take(f, 0);
    EXPECT(f, 0, "\"query-status\"}", ERR("QMP input must be a JSON object")
                                      ERR("JSON parse error, expecting value"));
    fx_free(f);
}

static void test_replies_go_to_the_requester_and_events_to_all(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 3, NULL);
    EXPECT(f, 1, "{\"execute\":\"query-name\",\"id\":\"same\"}", "{\"return\": {}, \"id\": \"same\"}\r\n");
    EXPECT(f, 0, NULL, "");
    EXPECT(f, 2, "{\"execute\":\"stop\",\"id\":\"s\"}",
           TS "\"event\": \"STOP\"}\r\n{\"return\": {}, \"id\": \"s\"}\r\n");
    EXPECT(f, 0, NULL, TS "\"event\": \"STOP\"}\r\n");
    EXPECT(f, 1, NULL, TS "\"event\": \"STOP\"}\r\n");
    fx_free(f);
}

static void test_quit_and_shutdown(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 2, NULL);
    const char *ev = TS "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": "
                        "\"host-qmp-quit\"}}\r\n";
    size_t used;

    CHECK(!qmpk_engine_quit_requested(&f->e));
    char want[512];
    snprintf(want, sizeof want, "%s{\"return\": {}, \"id\": \"bye\"}\r\n", ev);
    EXPECT(f, 1, "{\"execute\":\"quit\",\"id\":\"bye\"}", want);
    EXPECT(f, 0, NULL, ev);
    CHECK(qmpk_engine_quit_requested(&f->e));
    CHECK(qmpk_engine_input(&f->e, f->mon[0], "{}", 2, 0, &used) == QMPK_ENGINE_E_QUIT);
    CHECK(used == 0);
    CHECK(qmpk_engine_shutdown(&f->e, 0) == QMPK_ENGINE_E_QUIT);
    fx_free(f);
    f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    CHECK(qmpk_engine_shutdown(&f->e, 5 * SEC + 7000) == QMPK_ENGINE_E_OK);
    const char *got = fx_take(f, 0);
    CHECK(strstr(got, "\"reason\": \"host-signal\"") != NULL);
    CHECK(qmpk_engine_quit_requested(&f->e));
    fx_free(f);
}

static void test_timestamps_come_from_the_injected_clock(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    const char *p;
    size_t len, used;

    qmpk_engine_input(&f->e, f->mon[0], "{\"execute\":\"stop\"}", 18, 1234567891234ull, &used);
    CHECK(qmpk_engine_output(&f->e, f->mon[0], &p, &len));
    CHECK(len > 60 && memcmp(p, "{\"timestamp\": {\"seconds\": 1234, \"microseconds\": 567891}, "
                                "\"event\": \"STOP\"}\r\n", 70) == 0);
    fx_free(f);
}

static void test_output_backpressure_and_drops(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    cfg.out_bytes = 4096;
    cfg.reply_bytes = 1024;
    fixture_t *f = fx_new_cfg(&cfg, 2, NULL);
    char in[4096] = "";
    size_t used;

    for (int i = 0; i < 60; i++)
        strcat(in, "{\"execute\":\"query-status\"}");
    /* monitor 1 never drains: its input stops when its output is full */
    qmpk_engine_errno_t rc = qmpk_engine_input(&f->e, f->mon[1], in, strlen(in), 0, &used);
    CHECK(rc == QMPK_ENGINE_E_OUTPUT_FULL);
    CHECK(used > 0 && used < strlen(in));
    CHECK(!qmpk_engine_monitor_readable(&f->e, f->mon[1]));
    /* events for it are dropped whole, counted */
    for (int i = 0; i < 40; i++) {
        qmpk_engine_input(&f->e, f->mon[0], "{\"execute\":\"stop\"}{\"execute\":\"cont\"}", 36, 0,
                          &used);
        const char *p;
        size_t n;
        while (qmpk_engine_output(&f->e, f->mon[0], &p, &n))
            qmpk_engine_output_consume(&f->e, f->mon[0], n);
    }
    CHECK(qmpk_engine_monitor_dropped(&f->e, f->mon[1]) > 0);
    CHECK(qmpk_engine_monitor_dropped(&f->e, f->mon[0]) == 0);
    fx_free(f);
}

static void test_pools_report_exhaustion(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    cfg.max_monitors = 2;
    cfg.max_nodes = 2;
    cfg.max_jobs = 1;
    fixture_t *f = fx_new_cfg(&cfg, 2, NULL);
    uint32_t m;
    CHECK(qmpk_engine_connect(&f->e, 0, NULL, &m) == QMPK_ENGINE_E_TOO_MANY_MONITORS);
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\"}}");
    EXPECT(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"c\"}}",
           ERR("Too many block nodes (engine limit 2)"));
    fx_free(f);
}

static void test_the_manual_clock_moves_only_with_x_clock_step(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    EXPECT(f, 0, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":1}}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x-clock-step has "
           "not been found\"}}\r\n");
    fx_free(f);
    cfg.manual_clock = true;
    cfg.clock_start_ns = 10 * SEC;
    f = fx_new_cfg(&cfg, 1, NULL);
    f->now = 99 * SEC;   /* ignored */
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\"}}");
    fx_cmd(f, 0, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"a\","
                 "\"target\":\"b\",\"sync\":\"full\",\"speed\":16777216}}");
    CHECK(qmpk_engine_now(&f->e) == 10 * SEC);
    CHECK(qmpk_engine_next_deadline(&f->e) == UINT64_MAX);
    const char *q = fx_cmd(f, 0, "{\"execute\":\"query-jobs\"}");
    CHECK(strstr(q, "\"current-progress\": 16777216") != NULL);
    EXPECT(f, 0, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":1000}}", OK);
    CHECK(qmpk_engine_now(&f->e) == 11 * SEC);
    q = fx_cmd(f, 0, "{\"execute\":\"query-jobs\"}");
    CHECK(strstr(q, "\"current-progress\": 33554432") != NULL);
    q = fx_cmd(f, 0, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":63000}}");
    CHECK(strstr(q, "\"status\": \"ready\"") != NULL && strstr(q, "{\"return\": {}}\r\n") != NULL);
    CHECK(strstr(q, "\"status\": \"ready\"") < strstr(q, "{\"return\": {}}"));
    fx_free(f);
}

/* QEMU 7.2 prints an unknown name as it was sent: "\u0000" neither ends
 * the lookup ("query-status" must not run) nor the text (fuzz finding F8) */
static void test_an_unknown_command_is_named_whole(void)
{
    char cmd[400], want[512];
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    EXPECT(f, 0, "{\"execute\":\"query-status\\u0000junk\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
           "query-status\\u0000junk has not been found\"}}\r\n");
    /* longer than any name the engine keeps (ENG_ID_MAX): still whole */
    snprintf(cmd, sizeof cmd, "{\"execute\":\"%0300d\"}", 0);
    snprintf(want, sizeof want, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
             "\"The command %0300d has not been found\"}}\r\n", 0);
    EXPECT(f, 0, cmd, want);
    fx_free(f);
}

static void test_api_errors(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_t e;
    static alignas(max_align_t) char small[1024];

    CHECK(strcmp(qmpk_engine_errname(QMPK_ENGINE_E_OUTPUT_FULL), "QMPK_ENGINE_E_OUTPUT_FULL") == 0);
    CHECK(strcmp(qmpk_engine_errname((qmpk_engine_errno_t)999), "QMPK_ENGINE_E_UNKNOWN") == 0);
    CHECK(strstr(qmpk_engine_strerror(QMPK_ENGINE_E_QUIT), "quit") != NULL);
    qmpk_engine_config_default(&cfg);
    CHECK(qmpk_engine_init(&e, &cfg, small, sizeof small) == QMPK_ENGINE_E_STORAGE_TOO_SMALL);
    cfg.out_bytes = 100;
    CHECK(qmpk_engine_storage_size(&cfg) == 0);
    CHECK(qmpk_engine_init(&e, &cfg, small, sizeof small) == QMPK_ENGINE_E_BAD_CONFIG);
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    size_t used;
    CHECK(qmpk_engine_input(&f->e, 12345, "{}", 2, 0, &used) == QMPK_ENGINE_E_NO_SUCH_MONITOR);
    CHECK(qmpk_engine_disconnect(&f->e, 12345, 0) == QMPK_ENGINE_E_NO_SUCH_MONITOR);
    fx_free(f);
}

static void test_the_command_table_is_sorted(void)
{
    size_t n;
    const eng_cmd_t *t = eng_cmd_table(&n);
    for (size_t i = 1; i < n; i++)
        CHECK(strcmp(t[i - 1].name, t[i].name) < 0);
}

/* Every object the engine writes has its members in QDict bucket order. */
static int order_violations, objects_seen;

static void check_object_order(const qmpk_msg_t *m, int t)
{
    unsigned prev = 0;
    char key[128];
    size_t n;

    if (qmpk_type(m, t) == QMPK_T_OBJECT) {
        objects_seen++;
        for (int k = qmpk_child(m, t); k >= 0; k = qmpk_next(m, k)) {
            qmpk_str(m, k, key, sizeof key, &n);
            unsigned b = qmpk_qdict_bucket(key, n);
            if (b < prev) {
                order_violations++;
                fprintf(stderr, "    key '%s' out of bucket order\n", key);
            }
            prev = b;
            check_object_order(m, k + 1);
        }
    } else if (qmpk_type(m, t) == QMPK_T_ARRAY) {
        for (int c = qmpk_child(m, t); c >= 0; c = qmpk_next(m, c))
            check_object_order(m, c);
    }
}

static void check_output_order(const char *text)
{
    qmpk_stream_t s;
    qmpk_stream_config_t sc = { 0 };
    static char buf[1 << 16];
    static jsmntok_t tok[4096];
    size_t off = 0, len = strlen(text);

    sc.buf = buf;
    sc.buf_size = sizeof buf;
    sc.tok = tok;
    sc.tok_count = 4096;
    qmpk_stream_init(&s, &sc);
    while (off < len) {
        qmpk_msg_t m;
        qmpk_error_t err;
        size_t used;
        if (qmpk_stream_feed(&s, text + off, len - off, &used, &m, &err) == QMPK_FEED_MESSAGE)
            check_object_order(&m, 0);
        off += used;
    }
}

static void test_every_object_written_is_in_qdict_order(void)
{
    static const char *const cmds[] = {
        "{\"execute\":\"query-version\",\"id\":{\"z\":1,\"a\":[{\"y\":2,\"b\":3}]}}",
        "{\"execute\":\"query-status\",\"id\":1}",
        "{\"execute\":\"query-commands\"}",
        "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}",
        "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\"}}",
        "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\",\"node-name\":\"bad\","
        "\"image\":\"b\",\"inject-error\":[{\"event\":\"pwritev\",\"once\":true}]}}",
        "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"a\",\"target\":"
        "\"bad\",\"sync\":\"full\",\"auto-dismiss\":false}}",
        "{\"execute\":\"query-jobs\"}", "{\"execute\":\"query-block-jobs\"}",
        "{\"execute\":\"x-query-monitor\"}", "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":5},\"id\":7}",
        "{\"execute\":\"x-query-pending\"}", "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":7}}",
        "{\"execute\":\"query-yank\"}", "{\"execute\":\"nope\",\"id\":[1]}", "{\"execute\":\"quit\"}",
    };
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 1, "[\"async\"]");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        check_output_order(fx_cmd(f, 0, cmds[i]));
    CHECK(objects_seen > 40);
    CHECK(order_violations == 0);
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "greeting follows the configuration", test_greeting_follows_the_configuration },
        { "events are dropped before negotiation", test_events_are_dropped_before_negotiation },
        { "without OOB the monitor reads one command at a time",
          test_without_oob_the_monitor_reads_one_command_at_a_time },
        { "OOB overtakes queued in-band commands", test_oob_overtakes_queued_in_band_commands },
        { "a full queue stops reading, OOB included", test_a_full_queue_stops_reading_oob_included },
        { "the dispatcher serves monitors round-robin",
          test_the_dispatcher_serves_monitors_round_robin },
        { "disconnect drops queued commands and partial input",
          test_disconnect_drops_queued_commands_and_partial_input },
        { "replies go to the requester and events to all",
          test_replies_go_to_the_requester_and_events_to_all },
        { "quit and shutdown", test_quit_and_shutdown },
        { "timestamps come from the injected clock", test_timestamps_come_from_the_injected_clock },
        { "output backpressure and drops", test_output_backpressure_and_drops },
        { "pools report exhaustion", test_pools_report_exhaustion },
        { "the manual clock moves only with x-clock-step",
          test_the_manual_clock_moves_only_with_x_clock_step },
        { "an unknown command is named whole", test_an_unknown_command_is_named_whole },
        { "API errors", test_api_errors },
        { "the command table is sorted", test_the_command_table_is_sorted },
        { "every object written is in QDict order", test_every_object_written_is_in_qdict_order },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
