/*
 * blockdev-add with inline children, the node size bound and cache
 * options, and blockdev-del of nodes that others hold.  Every expected reply below is what qemu-system-x86_64 7.2.22
 * (Debian 12) answered to the same commands on this machine
 * (-machine none, null-co nodes), compared line by line with the engine's
 * during the audit in docs/notes/audit-engine-tools.md.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

#define OK "{\"return\": {}}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"

static bool expect_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    return qmpk_check_str(got, strlen(got), want, strlen(want), cmd, __FILE__, line);
}
#define EXPECT(f, cmd, want) expect_at((f), (cmd), (want), __LINE__)

/* the reply is the last line: job events may come first */
static bool ends_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    size_t n = strlen(got), k = strlen(want);
    const char *tail = n >= k ? got + n - k : got;
    return qmpk_check_str(tail, strlen(tail), want, k, cmd, __FILE__, line);
}
#define ENDS(f, cmd, want) ends_at((f), (cmd), (want), __LINE__)

#define ADD(js) "{\"execute\":\"blockdev-add\",\"arguments\":" js "}"
#define DEL(name) "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"" name "\"}}"

static void test_an_inline_child_has_its_node_name_and_is_not_the_monitors(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r2\",\"file\":{\"driver\":\"null-co\","
                  "\"node-name\":\"inner\"}}"), OK);
    EXPECT(f, DEL("inner"), ERR("Node inner is not owned by the monitor"));
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r3\",\"file\":{\"driver\":\"null-co\","
                  "\"node-name\":\"inner\"}}"), ERR("Duplicate nodes with node-name='inner'"));
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r4\",\"file\":{\"driver\":\"null-co\","
                  "\"node-name\":\"r4\"}}"), ERR("Duplicate nodes with node-name='r4'"));
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r5\",\"file\":{\"driver\":\"null-co\","
                  "\"node-name\":\"9bad\"}}"), ERR("Invalid node-name: '9bad'"));
    /* named, it can be shared: it lives until its last parent goes */
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r6\",\"file\":\"inner\"}"), OK);
    EXPECT(f, DEL("r2"), OK);
    EXPECT(f, DEL("inner"), ERR("Node inner is not owned by the monitor"));
    EXPECT(f, DEL("r6"), OK);
    EXPECT(f, DEL("inner"), ERR("Failed to find node with node-name='inner'"));
    /* the refused ones left nothing behind */
    EXPECT(f, DEL("r4"), ERR("Failed to find node with node-name='r4'"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"inner\"}"), OK);
    fx_free(f);
}

static void test_blkdebug_takes_an_inline_image(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    cfg.max_nodes = 2;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    EXPECT(f, ADD("{\"driver\":\"blkdebug\",\"node-name\":\"b2\",\"image\":{\"driver\":\"null-co\","
                  "\"size\":\"x\"}}"),
           ERR("Invalid parameter type for 'image.size', expected: integer"));
    EXPECT(f, ADD("{\"driver\":\"blkdebug\",\"node-name\":\"b1\",\"image\":{\"driver\":\"null-co\","
                  "\"node-name\":\"bi\",\"size\":1024}}"), OK);
    EXPECT(f, DEL("bi"), ERR("Node bi is not owned by the monitor"));
    EXPECT(f, DEL("b1"), OK);
    EXPECT(f, DEL("bi"), ERR("Failed to find node with node-name='bi'"));
    /* both slots came back */
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"x\"}"), OK);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"y\"}"), OK);
    fx_free(f);
}

static void test_a_refused_blkdebug_drops_its_inline_image(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    cfg.max_nodes = 2;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    char cmd[1024];
    int k = snprintf(cmd, sizeof cmd, "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":"
                     "\"blkdebug\",\"node-name\":\"b\",\"image\":{\"driver\":\"null-co\"},"
                     "\"inject-error\":[");
    for (int i = 0; i < 5; i++)
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, "%s{\"event\":\"pwritev\"}", i ? "," : "");
    snprintf(cmd + k, sizeof cmd - (size_t)k, "]}}");
    EXPECT(f, cmd, ERR("Too many inject-error rules (engine limit 4)"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"x\"}"), OK);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"y\"}"), OK);
    fx_free(f);
}

/* cancel replies before or among the job's last events: collect both */
static void cancel_until_gone(fixture_t *f, const char *cmd, const char *id)
{
    static char all[1 << 16];
    char null_ev[64];
    snprintf(all, sizeof all, "%s", fx_cmd(f, 0, cmd));
    fx_advance(f, 1000000000u);
    snprintf(all + strlen(all), sizeof all - strlen(all), "%s", fx_take(f, 0));
    snprintf(null_ev, sizeof null_ev, "\"status\": \"null\", \"id\": \"%s\"", id);
    CHECK(strstr(all, OK) != NULL);
    CHECK(strstr(all, null_ev) != NULL);
}

static void test_blockdev_del_of_a_node_a_job_holds(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"s\",\"size\":1073741824}"), OK);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"t\",\"size\":1073741824}"), OK);
    ENDS(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"s\","
            "\"target\":\"t\",\"sync\":\"full\",\"speed\":1}}", OK);
    EXPECT(f, DEL("s"), ERR("Node 's' is busy: block device is in use by block job: mirror"));
    EXPECT(f, DEL("t"), ERR("Node t is in use"));
    cancel_until_gone(f, "{\"execute\":\"block-job-cancel\",\"arguments\":{\"device\":\"j\","
                         "\"force\":true}}", "j");
    ENDS(f, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"k\",\"device\":\"s\","
            "\"target\":\"t\",\"sync\":\"full\",\"speed\":1}}", OK);
    EXPECT(f, DEL("s"), ERR("Block device s is in use"));
    EXPECT(f, DEL("t"), ERR("Node 't' is busy: block device is in use by block job: backup"));
    cancel_until_gone(f, "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"k\"}}", "k");
    EXPECT(f, DEL("s"), OK);
    EXPECT(f, DEL("t"), OK);
    fx_free(f);
}

static void test_node_size_and_cache_options(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    /* BDRV_MAX_LENGTH: INT64_MAX aligned down to 1 GiB, at N and N+1 */
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"a1\",\"size\":9223372035781033984}"), OK);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"a2\",\"size\":9223372035781033985}"),
           ERR("Could not refresh total sector count: File too large"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"z\",\"size\":9223372036854775807,"
                  "\"latency-ns\":-1}"), ERR("latency-ns is invalid"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"e\",\"cache\":{\"direct\":true,"
                  "\"no-flush\":1}}"),
           ERR("Invalid parameter type for 'cache.no-flush', expected: boolean"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"e\",\"cache\":[]}"),
           ERR("Invalid parameter type for 'cache', expected: object"));
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"e\",\"file\":{\"driver\":\"null-co\","
                  "\"cache\":{\"x\":1}}}"), ERR("Parameter 'file.cache.x' is unexpected"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"e\",\"cache\":{\"no-flush\":false,"
                  "\"direct\":false}}"), OK);
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "an inline child has its node-name and is not the monitor's",
          test_an_inline_child_has_its_node_name_and_is_not_the_monitors },
        { "blkdebug takes an inline image", test_blkdebug_takes_an_inline_image },
        { "a refused blkdebug drops its inline image", test_a_refused_blkdebug_drops_its_inline_image },
        { "blockdev-del of a node a job holds", test_blockdev_del_of_a_node_a_job_holds },
        { "node size and cache options", test_node_size_and_cache_options },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
