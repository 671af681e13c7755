/*
 * Argument validation and command errors, each text checked against a
 * running QEMU 7.2 (qemu-storage-daemon 7.2.22, Debian 12) when this test
 * was written: the visitor's messages with nested names, QEMU's member
 * order for the first unexpected argument, and the block layer's texts.
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

#define TS "{\"timestamp\": {\"seconds\": 0, \"microseconds\": 0}, "
#define JSC(s, id) TS "\"event\": \"JOB_STATUS_CHANGE\", \"data\": {\"status\": \"" s "\", \"id\": \"" id "\"}}\r\n"
#define OK "{\"return\": {}}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"

static bool expect_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    return qmpk_check_str(got, strlen(got), want, strlen(want), cmd, __FILE__, line);
}
#define EXPECT(f, cmd, want) expect_at((f), (cmd), (want), __LINE__)
#define ADD(args) "{\"execute\":\"blockdev-add\",\"arguments\":" args "}"

static void test_blockdev_add_errors(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"size\":\"a\",\"node-name\":\"x\"}"),
           ERR("Invalid parameter type for 'size', expected: integer"));
    EXPECT(f, ADD("{\"driver\":\"null-co\"}"), ERR("'node-name' must be specified for the root node"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"1x\"}"), ERR("Invalid node-name: '1x'"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\"}"), OK);
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\"}"),
           ERR("Duplicate nodes with node-name='a'"));
    EXPECT(f, ADD("{\"driver\":\"nope\",\"node-name\":\"a\"}"),
           ERR("Parameter 'driver' does not accept value 'nope'"));
    EXPECT(f, ADD("{}"), ERR("Parameter 'driver' is missing"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"b\",\"x-y\":1}"),
           ERR("Parameter 'x-y' is unexpected"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"c\",\"latency-ns\":-1}"),
           ERR("latency-ns is invalid"));
    EXPECT(f, ADD("{\"driver\":\"blkdebug\",\"node-name\":\"b\",\"image\":\"zz\"}"),
           ERR("Cannot find device='zz' nor node-name='zz'"));
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"nope\"}}",
           ERR("Failed to find node with node-name='nope'"));
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"a\"}}", OK);
    fx_free(f);
}

static void test_job_command_argument_errors(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"device\":\"a\"}}",
           ERR("Parameter 'sync' is missing"));
    EXPECT(f, "{\"execute\":\"blockdev-backup\",\"arguments\":{\"device\":\"a\",\"sync\":\"full\"}}",
           ERR("Parameter 'target' is missing"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"device\":\"a\"}}",
           ERR("Parameter 'target' is missing"));
    /* the first unexpected member in QEMU's (bucket) order, not the message's */
    EXPECT(f, "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"x\",\"zz\":1,\"aa\":2}}",
           ERR("Parameter 'aa' is unexpected"));
    EXPECT(f, "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"x\",\"speed\":\"1\"}}",
           ERR("Invalid parameter type for 'speed', expected: integer"));
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"blockdev-backup\","
              "\"data\":{\"device\":\"a\"}}]}}",
           ERR("Parameter 'actions[0].data.sync' is missing"));
    EXPECT(f, "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[{\"type\":\"nope\",\"data\":{}}]}}",
           ERR("Parameter 'type' does not accept value 'nope'"));
    fx_free(f);
}

static void test_block_job_creation_errors(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\"}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"b\",\"size\":1048576}"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"device\":\"a\",\"target\":\"b\","
              "\"sync\":\"full\"}}",
           ERR("Invalid job ID ''"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"zz\","
              "\"target\":\"b\",\"sync\":\"full\"}}",
           ERR("Cannot find device='zz' nor node-name='zz'"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"a\","
              "\"target\":\"a\",\"sync\":\"full\"}}",
           ERR("Can't mirror node into itself"));
    EXPECT(f, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"a\","
              "\"target\":\"b\",\"sync\":\"full\"}}",
           JSC("created", "j") JSC("running", "j") OK JSC("aborting", "j")
           TS "\"event\": \"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": \"j\", \"len\": 0, "
              "\"offset\": 0, \"speed\": 0, \"type\": \"mirror\", \"error\": \"Source and target "
              "image have different sizes\"}}\r\n"
           JSC("concluded", "j") JSC("null", "j"));
    EXPECT(f, "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"c\",\"device\":\"a\"}}",
           ERR("cannot commit an image into itself"));
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "blockdev-add errors", test_blockdev_add_errors },
        { "job command argument errors", test_job_command_argument_errors },
        { "block job creation errors", test_block_job_creation_errors },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
