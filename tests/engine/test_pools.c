/*
 * Every pool and bound of the engine at N (accepted) and N + 1 (refused
 * with its specific error, the monitor still serving, nothing else lost):
 * monitors, jobs, block nodes (root and inline child), inject-error rules,
 * transaction actions, request bytes, request tokens, reply bytes, the
 * chardev label and the package string; the configuration's own bounds;
 * durations against the clock's range.  The in-band queue depth, pending
 * async commands and output bytes are covered in test_protocol.c
 * (a full queue; backpressure) and test_async.c (pending pool).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "internal.h"

#define OK "{\"return\": {}}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"
#define SEC 1000000000ull

static const char *last;
static bool expect_at(fixture_t *f, int mon, const char *cmd, const char *want, int line)
{
    last = fx_cmd(f, mon, cmd);
    return qmpk_check_str(last, strlen(last), want, strlen(want), cmd, __FILE__, line);
}
#define EXPECT(f, mon, cmd, want) expect_at((f), (mon), (cmd), (want), __LINE__)

static const char *add_node(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\","
                              "\"node-name\":\"%s\"}}", name);
    return buf;
}

/* a backup slow enough (1 byte/s) to stay alive for the whole test */
static const char *slow_backup(int i)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"j%d\","
                              "\"device\":\"s%d\",\"target\":\"t%d\",\"sync\":\"full\",\"speed\":1}}",
             i, i, i);
    return buf;
}

/* Draining for a new job pauses and resumes the running ones, so their
 * events come first: the reply is the output's last line. */
static bool ends_with_at(const char *out, const char *want, int line)
{
    size_t n = strlen(out), k = strlen(want);
    const char *tail = n >= k ? out + n - k : out;
    return qmpk_check_str(tail, strlen(tail), want, k, "(last line)", __FILE__, line);
}
#define ENDS_WITH(out, want) ends_with_at((out), (want), __LINE__)

static void cfg_default(qmpk_engine_config_t *cfg)
{
    qmpk_engine_config_default(cfg);
}

/* ------------------------------------------------------------------ */

static void test_monitors_n_connect_and_n_plus_1_is_refused(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.max_monitors = 3;
    fixture_t *f = fx_new_cfg(&cfg, 3, NULL);
    uint32_t m = 77;
    CHECK(qmpk_engine_monitors_used(&f->e) == 3);
    CHECK(qmpk_engine_connect(&f->e, 0, NULL, &m) == QMPK_ENGINE_E_TOO_MANY_MONITORS);
    CHECK(m == 77);
    CHECK(qmpk_engine_monitors_used(&f->e) == 3);
    /* the refused one harmed nobody */
    for (int i = 0; i < 3; i++)
        EXPECT(f, i, "{\"execute\":\"query-name\"}", OK);
    CHECK(qmpk_engine_disconnect(&f->e, f->mon[1], 0) == QMPK_ENGINE_E_OK);
    CHECK(qmpk_engine_connect(&f->e, 0, NULL, &m) == QMPK_ENGINE_E_OK);
    CHECK(m != f->mon[1]);   /* ids are never reused, even for a reused slot */
    fx_free(f);
}

static void test_jobs_n_run_and_n_plus_1_is_refused(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.max_jobs = 2;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    const char *names[] = { "s1", "t1", "s2", "t2", "s3", "t3" };
    for (int i = 0; i < 6; i++)
        EXPECT(f, 0, add_node(names[i]), OK);
    CHECK(strstr(fx_cmd(f, 0, slow_backup(1)), OK) != NULL);
    CHECK(strstr(fx_cmd(f, 0, slow_backup(2)), OK) != NULL);
    CHECK(qmpk_engine_jobs_alive(&f->e) == 2);
    const char *refused = fx_cmd(f, 0, slow_backup(3));
    ENDS_WITH(refused, ERR("Too many jobs (engine limit 2)"));
    CHECK(strstr(refused, "\"j3\"") == NULL);
    CHECK(qmpk_engine_jobs_alive(&f->e) == 2);
    /* the refusal left its nodes free: once a slot frees, the same job runs */
    CHECK(strstr(fx_cmd(f, 0, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"j1\"}}"),
                 OK) != NULL);
    fx_advance(f, SEC);
    fx_take(f, 0);
    CHECK(qmpk_engine_jobs_alive(&f->e) == 1);
    const char *out = fx_cmd(f, 0, slow_backup(3));
    CHECK(strstr(out, "\"status\": \"running\", \"id\": \"j3\"") != NULL && strstr(out, OK) != NULL);
    CHECK(qmpk_engine_jobs_alive(&f->e) == 2);
    fx_free(f);
}

static void test_block_nodes_n_and_n_plus_1_root_and_inline_child(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.max_nodes = 2;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    EXPECT(f, 0, add_node("a"), OK);
    /* an inline child needs a slot of its own: with one left the parent
     * takes it and the child has none */
    EXPECT(f, 0,
           "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"q\","
           "\"file\":{\"driver\":\"null-co\"}}}",
           ERR("Too many block nodes (engine limit 2)"));
    EXPECT(f, 0, add_node("b"), OK);
    EXPECT(f, 0, add_node("c"), ERR("Too many block nodes (engine limit 2)"));
    /* nothing was lost: both nodes are there and one can go and come back */
    EXPECT(f, 0, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"a\"}}", OK);
    EXPECT(f, 0, add_node("c"), OK);
    EXPECT(f, 0, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"b\"}}", OK);
    fx_free(f);
}

/* The parent's slot is taken only at the end of blockdev-add: the inline
 * child once got that same slot, so "q" vanished and "#block000" pointed
 * at itself, never to be deleted. */
static void test_an_inline_child_takes_a_slot_of_its_own(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.max_nodes = 2;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    EXPECT(f, 0,
           "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"q\","
           "\"file\":{\"driver\":\"null-co\",\"size\":4096}}}", OK);
    EXPECT(f, 0, add_node("c"), ERR("Too many block nodes (engine limit 2)"));
    EXPECT(f, 0, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"q\"}}", OK);
    /* the child went with its parent: both slots are free again */
    EXPECT(f, 0, add_node("a"), OK);
    EXPECT(f, 0, add_node("b"), OK);
    fx_free(f);
}

static const char *blkdebug_rules(int n)
{
    static char buf[2048];
    int k = snprintf(buf, sizeof buf,
                     "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\","
                     "\"node-name\":\"d%d\",\"image\":\"img\",\"inject-error\":[", n);
    for (int i = 0; i < n; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%s{\"event\":\"pwritev\",\"sector\":%d}",
                      i ? "," : "", i);
    snprintf(buf + k, sizeof buf - (size_t)k, "]}}");
    return buf;
}

static void test_inject_error_rules_n_and_n_plus_1(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, 0, add_node("img"), OK);
    EXPECT(f, 0, blkdebug_rules(ENG_FAULTS), OK);
    EXPECT(f, 0, blkdebug_rules(ENG_FAULTS + 1), ERR("Too many inject-error rules (engine limit 4)"));
    /* the refused node does not exist; the accepted one does */
    char del[128];
    snprintf(del, sizeof del, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"d%d\"}}",
             ENG_FAULTS + 1);
    EXPECT(f, 0, del, ERR("Failed to find node with node-name='d5'"));
    snprintf(del, sizeof del, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"d%d\"}}",
             ENG_FAULTS);
    EXPECT(f, 0, del, OK);
    fx_free(f);
}

static const char *txn(int n)
{
    static char buf[8192];
    int k = snprintf(buf, sizeof buf, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[");
    for (int i = 0; i < n; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k,
                      "%s{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"x%d\",\"device\":"
                      "\"s%d\",\"target\":\"t%d\",\"sync\":\"full\",\"speed\":1}}",
                      i ? "," : "", i, i, i);
    snprintf(buf + k, sizeof buf - (size_t)k, "]}}");
    return buf;
}

static void test_transaction_actions_n_and_n_plus_1(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.max_nodes = 2 * (TXN_ACTIONS_MAX + 1);
    cfg.max_jobs = TXN_ACTIONS_MAX + 1;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    char name[16];
    for (int i = 0; i <= TXN_ACTIONS_MAX; i++) {
        snprintf(name, sizeof name, "s%d", i);
        fx_cmd(f, 0, add_node(name));
        snprintf(name, sizeof name, "t%d", i);
        fx_cmd(f, 0, add_node(name));
    }
    ENDS_WITH(fx_cmd(f, 0, txn(TXN_ACTIONS_MAX + 1)), ERR("Too many actions (engine limit 16)"));
    CHECK(qmpk_engine_jobs_alive(&f->e) == 0);
    const char *out = fx_cmd(f, 0, txn(TXN_ACTIONS_MAX));
    CHECK(strstr(out, OK) != NULL);
    CHECK(qmpk_engine_jobs_alive(&f->e) == TXN_ACTIONS_MAX);
    fx_free(f);
}

static const char *query_name_with_id(size_t idlen)
{
    static char buf[1 << 13];
    snprintf(buf, sizeof buf, "{\"execute\":\"query-name\",\"id\":\"%0*d\"}", (int)idlen, 0);
    return buf;
}

/* {"execute":"query-name","id":""} is 32 bytes */
static void test_request_bytes_n_and_n_plus_1(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.msg_bytes = 256;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    const char *req = query_name_with_id(256 - 32);
    CHECK(strlen(req) == 256);
    CHECK(strncmp(fx_cmd(f, 0, req), "{\"return\": {}, \"id\": \"000", 25) == 0);
    req = query_name_with_id(256 - 31);
    CHECK(strlen(req) == 257);
    EXPECT(f, 0, req, ERR("message exceeds the buffer capacity"));
    EXPECT(f, 0, "{\"execute\":\"query-name\",\"id\":1}", "{\"return\": {}, \"id\": 1}\r\n");
    fx_free(f);
}

static const char *query_name_array_id(int n)
{
    static char buf[1024];
    int k = snprintf(buf, sizeof buf, "{\"execute\":\"query-name\",\"id\":[");
    for (int i = 0; i < n; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%d", i ? "," : "", i);
    snprintf(buf + k, sizeof buf - (size_t)k, "]}");
    return buf;
}

/* object, "execute", its value, "id", the array: 5 tokens + one per element */
static void test_request_tokens_n_and_n_plus_1(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.msg_tokens = 16;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    CHECK(strstr(fx_cmd(f, 0, query_name_array_id(11)), "\"id\": [0, 1, 2,") != NULL);
    EXPECT(f, 0, query_name_array_id(12), ERR("message exceeds the token array capacity"));
    EXPECT(f, 0, "{\"execute\":\"query-name\",\"id\":1}", "{\"return\": {}, \"id\": 1}\r\n");
    fx_free(f);
}

/* {"return": {}, "id": ""}\r\n is 26 bytes */
static void test_reply_bytes_n_and_n_plus_1(void)
{
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.msg_bytes = 2048;
    cfg.reply_bytes = 1024;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    const char *out = fx_cmd(f, 0, query_name_with_id(1024 - 26));
    CHECK(strlen(out) == 1024);
    CHECK(strncmp(out, "{\"return\": {}, \"id\": \"000", 25) == 0);
    EXPECT(f, 0, query_name_with_id(1024 - 25), ERR("reply exceeds the engine's reply buffer"));
    EXPECT(f, 0, "{\"execute\":\"query-name\",\"id\":1}", "{\"return\": {}, \"id\": 1}\r\n");
    fx_free(f);
}

static void test_label_and_package_keep_their_documented_length(void)
{
    char pkg[200], label[100], want[300];
    memset(pkg, 'p', sizeof pkg - 1);
    pkg[sizeof pkg - 1] = '\0';
    memset(label, 'l', sizeof label - 1);
    label[sizeof label - 1] = '\0';
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.package = pkg;
    fixture_t *f = fx_new_cfg(&cfg, 0, NULL);
    uint32_t m;
    CHECK(qmpk_engine_connect(&f->e, 0, label, &m) == QMPK_ENGINE_E_OK);
    f->mon[0] = m;
    const char *g = fx_take(f, 0);
    snprintf(want, sizeof want, "\"package\": \"%.127s\"}", pkg);
    CHECK(strstr(g, want) != NULL);
    fx_cmd(f, 0, "{\"execute\":\"qmp_capabilities\"}");
    const char *y = fx_cmd(f, 0, "{\"execute\":\"query-yank\"}");
    snprintf(want, sizeof want, "\"id\": \"%.63s\"}", label);
    CHECK(strstr(y, want) != NULL);
    fx_free(f);
}

/* The clock's range bounds every duration: past it the error says so (it
 * used to say "expects a non-negative value" of a positive number). */
static void test_durations_beyond_the_clock_say_too_large(void)
{
    qmpk_engine_config_t cfg;
    char cmd[160], want[200];
    cfg_default(&cfg);
    cfg.manual_clock = true;
    cfg.clock_start_ns = 5 * SEC;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    unsigned long long max = (UINT64_MAX - 1 - 5 * SEC) / 1000000u;
    snprintf(cmd, sizeof cmd, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":%llu}}", max + 1);
    snprintf(want, sizeof want, ERR("Parameter 'ms' is too large (engine limit %llu)"), max);
    EXPECT(f, 0, cmd, want);
    EXPECT(f, 0, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":9223372036854775807}}", want);
    EXPECT(f, 0, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":-1}}",
           ERR("Parameter 'ms' expects a non-negative value"));
    CHECK(qmpk_engine_now(&f->e) == 5 * SEC);
    snprintf(cmd, sizeof cmd, "{\"execute\":\"x-clock-step\",\"arguments\":{\"ms\":%llu}}", max);
    EXPECT(f, 0, cmd, OK);
    CHECK(qmpk_engine_now(&f->e) == 5 * SEC + max * 1000000u);
    CHECK(qmpk_engine_now(&f->e) < UINT64_MAX);
    fx_free(f);

    f = fx_new(QMPK_PROFILE_EXTENDED, 1, NULL);
    max = UINT64_MAX / 2 / 1000000u;
    snprintf(cmd, sizeof cmd, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":%llu}}", max + 1);
    snprintf(want, sizeof want, ERR("Parameter 'ms' is too large (engine limit %llu)"), max);
    EXPECT(f, 0, cmd, want);
    EXPECT(f, 0, "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":-5}}",
           ERR("Parameter 'ms' expects a non-negative value"));
    CHECK(qmpk_engine_pending_count(&f->e) == 0);
    fx_free(f);
}

/* The configuration's own bounds, at the bound and one past it. */
static void test_configuration_bounds_n_and_n_plus_1(void)
{
    static const struct {
        const char *what;
        size_t off;
        uint32_t edge;
        int step;   /* +1: the bound is a maximum, -1: a minimum */
    } b[] = {
        { "max_monitors", offsetof(qmpk_engine_config_t, max_monitors), QMPK_ENGINE_MAX_MONITORS, 1 },
        { "max_jobs", offsetof(qmpk_engine_config_t, max_jobs), QMPK_ENGINE_MAX_JOBS, 1 },
        { "max_nodes", offsetof(qmpk_engine_config_t, max_nodes), QMPK_ENGINE_MAX_NODES, 1 },
        { "max_files", offsetof(qmpk_engine_config_t, max_files), QMPK_ENGINE_MAX_FILES, 1 },
        { "queue_depth", offsetof(qmpk_engine_config_t, queue_depth), QMPK_ENGINE_MAX_QUEUE_DEPTH, 1 },
        { "msg_bytes", offsetof(qmpk_engine_config_t, msg_bytes), QMPK_ENGINE_MIN_MSG_BYTES, -1 },
        { "msg_tokens", offsetof(qmpk_engine_config_t, msg_tokens), QMPK_ENGINE_MIN_MSG_TOKENS, -1 },
        { "reply_bytes", offsetof(qmpk_engine_config_t, reply_bytes), QMPK_ENGINE_MIN_REPLY_BYTES, -1 },
        { "pending_bytes", offsetof(qmpk_engine_config_t, pending_bytes),
          QMPK_ENGINE_MIN_PENDING_BYTES, -1 },
    };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        qmpk_engine_config_t cfg;
        cfg_default(&cfg);
        /* small pools elsewhere keep the size computation cheap */
        cfg.max_monitors = 1;
        cfg.msg_bytes = 1024;
        cfg.out_bytes = cfg.reply_bytes = 4096;
        uint32_t *field = (uint32_t *)((char *)&cfg + b[i].off);
        *field = b[i].edge;
        if (!CHECK(qmpk_engine_storage_size(&cfg) > 0))
            fprintf(stderr, "    %s = %u refused\n", b[i].what, (unsigned)b[i].edge);
        *field = b[i].edge + (uint32_t)b[i].step;
        if (!CHECK(qmpk_engine_storage_size(&cfg) == 0))
            fprintf(stderr, "    %s = %u accepted\n", b[i].what, (unsigned)*field);
    }
    qmpk_engine_config_t cfg;
    cfg_default(&cfg);
    cfg.reply_bytes = 8192;
    cfg.out_bytes = 8192;
    CHECK(qmpk_engine_storage_size(&cfg) > 0);
    cfg.out_bytes = 8191;
    CHECK(qmpk_engine_storage_size(&cfg) == 0);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "monitors: N connect, N+1 is refused", test_monitors_n_connect_and_n_plus_1_is_refused },
        { "jobs: N run, N+1 is refused", test_jobs_n_run_and_n_plus_1_is_refused },
        { "block nodes: N and N+1, root and inline child",
          test_block_nodes_n_and_n_plus_1_root_and_inline_child },
        { "an inline child takes a slot of its own", test_an_inline_child_takes_a_slot_of_its_own },
        { "inject-error rules: N and N+1", test_inject_error_rules_n_and_n_plus_1 },
        { "transaction actions: N and N+1", test_transaction_actions_n_and_n_plus_1 },
        { "request bytes: N and N+1", test_request_bytes_n_and_n_plus_1 },
        { "request tokens: N and N+1", test_request_tokens_n_and_n_plus_1 },
        { "reply bytes: N and N+1", test_reply_bytes_n_and_n_plus_1 },
        { "configuration bounds: N and N+1", test_configuration_bounds_n_and_n_plus_1 },
        { "durations beyond the clock say too large",
          test_durations_beyond_the_clock_say_too_large },
        { "label and package keep their documented length",
          test_label_and_package_keep_their_documented_length },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
