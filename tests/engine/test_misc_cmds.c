/*
 * query-named-block-nodes, human-monitor-command and qom-set: every
 * expected reply is the byte string qemu-system-x86_64 7.2.22 (Debian 12,
 * -machine none) sent for the same commands when this test was written,
 * except where a comment says it is the engine's own (a divergence listed
 * in docs/CONFORMANCE.md).
 */
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

#define TS "{\"timestamp\": {\"seconds\": 0, \"microseconds\": 0}, "
#define OK "{\"return\": {}}\r\n"
#define RET(v) "{\"return\": " v "}\r\n"
#define ERR(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}\r\n"
#define ERRC(cls, desc) "{\"error\": {\"class\": \"" cls "\", \"desc\": \"" desc "\"}}\r\n"
#define ADD(args) "{\"execute\":\"blockdev-add\",\"arguments\":" args "}"
#define NODES(args) "{\"execute\":\"query-named-block-nodes\",\"arguments\":" args "}"
#define HMP(line) "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"" line "\"}}"
#define QOM_SET(path, prop, val) \
    "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"" path "\",\"property\":\"" prop \
    "\",\"value\":" val "}}"

static bool expect_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    return qmpk_check_str(got, strlen(got), want, strlen(want), cmd, __FILE__, line);
}
#define EXPECT(f, cmd, want) expect_at((f), (cmd), (want), __LINE__)

/* One BlockDeviceInfo; IMG is the ImageInfo, FILE the filename (escaped). */
#define NODE(img, ro, name, depth, drv, file) \
    "{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": " img ", \"iops_wr\": 0, " \
    "\"ro\": " ro ", \"node-name\": \"" name "\", \"backing_file_depth\": " depth ", " \
    "\"drv\": \"" drv "\", \"iops\": 0, \"bps_wr\": 0, \"write_threshold\": 0, " \
    "\"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, \"cache\": {\"no-flush\": false, " \
    "\"direct\": false, \"writeback\": true}, \"file\": \"" file "\"}"
#define IMG(size, file, fmt) \
    "{\"virtual-size\": " size ", \"filename\": \"" file "\", \"format\": \"" fmt "\", " \
    "\"actual-size\": 0}"
#define GIB "1073741824"
#define NULL_PLAIN "null-co://"
#define N2_FILE "json:{\\\"read-zeroes\\\": true, \\\"driver\\\": \\\"null-co\\\", \\\"size\\\": 1048576}"
#define N1 NODE(IMG(GIB, NULL_PLAIN, "null-co"), "false", "n1", "0", "null-co", NULL_PLAIN)
#define N2 NODE(IMG("1048576", N2_FILE, "null-co"), "false", "n2", "0", "null-co", N2_FILE)

static void test_named_nodes_zero_one_two(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, "{\"execute\":\"query-named-block-nodes\"}", RET("[]"));
    EXPECT(f, NODES("{\"flat\":true}"), RET("[]"));
    EXPECT(f, NODES("{\"flat\":1}"), ERR("Invalid parameter type for 'flat', expected: boolean"));
    EXPECT(f, NODES("{\"x\":1}"), ERR("Parameter 'x' is unexpected"));
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"n1\"}"), OK);
    EXPECT(f, NODES("{\"flat\":true}"), RET("[" N1 "]"));
    EXPECT(f, "{\"execute\":\"query-named-block-nodes\"}", RET("[" N1 "]"));
    /* latency-ns is no strong option: still null-co:// */
    EXPECT(f, ADD("{\"driver\":\"null-co\",\"node-name\":\"n2\",\"size\":1048576,"
                  "\"latency-ns\":1000,\"read-zeroes\":true}"), OK);
    /* newest first */
    EXPECT(f, NODES("{\"flat\":false}"), RET("[" N2 ", " N1 "]"));
    fx_free(f);
}

#define B_FILE "json:{\\\"driver\\\": \\\"null-co\\\", \\\"size\\\": 1073741824}"
#define C_FILE "json:{\\\"read-zeroes\\\": false, \\\"driver\\\": \\\"null-co\\\"}"
#define D_FILE "json:{\\\"driver\\\": \\\"null-aio\\\", \\\"size\\\": 4096}"

static void test_named_nodes_filenames(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\",\"latency-ns\":5}"));
    /* the default size given explicitly is still a strong option */
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"b\",\"size\":1073741824}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"c\",\"read-zeroes\":false}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-aio\",\"node-name\":\"d\",\"size\":4096,\"latency-ns\":7}"));
    EXPECT(f, NODES("{\"flat\":true}"),
           RET("[" NODE(IMG("4096", D_FILE, "null-aio"), "false", "d", "0", "null-aio", D_FILE) ", "
               NODE(IMG(GIB, C_FILE, "null-co"), "false", "c", "0", "null-co", C_FILE) ", "
               NODE(IMG(GIB, B_FILE, "null-co"), "false", "b", "0", "null-co", B_FILE) ", "
               NODE(IMG(GIB, NULL_PLAIN, "null-co"), "false", "a", "0", "null-co", NULL_PLAIN) "]"));
    fx_free(f);
}

#define R2_FILE "json:{\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\"driver\\\": \\\"null-co\\\", \\\"size\\\": 512}}"
#define R2C_FILE "json:{\\\"driver\\\": \\\"null-co\\\", \\\"size\\\": 512}"
#define K_FILE "json:{\\\"image\\\": {\\\"driver\\\": \\\"null-co\\\", \\\"size\\\": 1073741824}, \\\"driver\\\": \\\"blkdebug\\\"}"
#define K_IMG_FLAT "{\"virtual-size\": 1073741824, \"filename\": \"" K_FILE "\", \"format\": \"blkdebug\"}"
#define K_IMG_TREE "{\"backing-image\": " IMG(GIB, B_FILE, "null-co") ", \"virtual-size\": 1073741824, " \
    "\"filename\": \"" K_FILE "\", \"format\": \"blkdebug\"}"

static void test_named_nodes_raw_blkdebug(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\"}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"b\",\"size\":1073741824}"));
    /* raw over a node with an exact filename takes that filename */
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r\",\"file\":\"a\"}"), OK);
    EXPECT(f, ADD("{\"driver\":\"raw\",\"node-name\":\"r2\",\"file\":{\"driver\":\"null-co\",\"size\":512}}"), OK);
    EXPECT(f, ADD("{\"driver\":\"blkdebug\",\"node-name\":\"k\",\"image\":\"b\"}"), OK);
    /* the inline child's name is the engine's (#block + slot); QEMU's ends
     * in two random digits.  It was opened before r2, so comes after it. */
    const char *want_flat = RET("[" NODE(K_IMG_FLAT, "false", "k", "0", "blkdebug", K_FILE) ", "
        NODE(IMG("512", R2_FILE, "raw"), "false", "r2", "0", "raw", R2_FILE) ", "
        NODE(IMG("512", R2C_FILE, "null-co"), "false", "#block004", "0", "null-co", R2C_FILE) ", "
        NODE(IMG(GIB, NULL_PLAIN, "raw"), "false", "r", "0", "raw", NULL_PLAIN) ", "
        NODE(IMG(GIB, B_FILE, "null-co"), "false", "b", "0", "null-co", B_FILE) ", "
        NODE(IMG(GIB, NULL_PLAIN, "null-co"), "false", "a", "0", "null-co", NULL_PLAIN) "]");
    EXPECT(f, NODES("{\"flat\":true}"), want_flat);
    /* not flat: a filter's child is walked as backing-image, depth counted */
    const char *got = fx_cmd(f, 0, NODES("{\"flat\":false}"));
    const char *want_k = NODE(K_IMG_TREE, "false", "k", "1", "blkdebug", K_FILE);
    CHECK(strncmp(got, "{\"return\": [", 12) == 0 && strncmp(got + 12, want_k, strlen(want_k)) == 0);
    /* a raw node with an inline child is deleted with it (it used to lose
     * its name to the child) */
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"r2\"}}", OK);
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"k\"}}", OK);
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"r\"}}", OK);
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"a\"}}", OK);
    /* a reused slot still lists by creation order */
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"n1\"}"));
    EXPECT(f, NODES("{\"flat\":true}"), RET("[" N1 ", "
           NODE(IMG(GIB, B_FILE, "null-co"), "false", "b", "0", "null-co", B_FILE) "]"));
    fx_free(f);
}

/* inject-error rules are strong options, flattened ("inject-error.0.event"),
 * and several of those keys share a QDict bucket */
static void test_named_nodes_blkdebug_rules(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\",\"size\":4096}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"blkdebug\",\"node-name\":\"k3\",\"image\":\"a\",\"inject-error\":["
                     "{\"event\":\"read_aio\",\"once\":true,\"sector\":1},"
                     "{\"event\":\"pwritev\",\"errno\":5,\"immediately\":false},"
                     "{\"event\":\"write_aio\",\"state\":2,\"iotype\":\"flush\"},"
                     "{\"event\":\"pwritev_zero\",\"errno\":28,\"once\":true}]}"));
    const char *got = fx_cmd(f, 0, NODES("{\"flat\":true}"));
    CHECK(strstr(got, "\"filename\": \"json:{\\\"inject-error.2.state\\\": 2, "
        "\\\"inject-error.1.immediately\\\": false, \\\"inject-error.0.once\\\": true, "
        "\\\"inject-error.3.once\\\": true, \\\"image\\\": {\\\"driver\\\": \\\"null-co\\\", "
        "\\\"size\\\": 4096}, \\\"driver\\\": \\\"blkdebug\\\", \\\"inject-error.2.iotype\\\": "
        "\\\"flush\\\", \\\"inject-error.0.event\\\": \\\"read_aio\\\", \\\"inject-error.1.event\\\": "
        "\\\"pwritev\\\", \\\"inject-error.1.errno\\\": 5, \\\"inject-error.2.event\\\": "
        "\\\"write_aio\\\", \\\"inject-error.3.event\\\": \\\"pwritev_zero\\\", "
        "\\\"inject-error.3.errno\\\": 28, \\\"inject-error.0.sector\\\": 1}\", \"format\": \"blkdebug\"}")
          != NULL);
    fx_free(f);
}

static void test_named_nodes_read_only(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"n1\",\"read-only\":true,"
                     "\"detect-zeroes\":\"on\"}"));
    EXPECT(f, NODES("{}"),
           RET("[{\"iops_rd\": 0, \"detect_zeroes\": \"on\", \"image\": "
               IMG(GIB, NULL_PLAIN, "null-co") ", \"iops_wr\": 0, \"ro\": true, \"node-name\": "
               "\"n1\", \"backing_file_depth\": 0, \"drv\": \"null-co\", \"iops\": 0, \"bps_wr\": 0, "
               "\"write_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, "
               "\"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, "
               "\"file\": \"null-co://\"}]"));
    fx_free(f);
}

/* a reply larger than reply_bytes is refused whole, the loop stops */
static void test_named_nodes_reply_limit(void)
{
    qmpk_engine_config_t cfg;
    char cmd[128];

    qmpk_engine_config_default(&cfg);
    cfg.reply_bytes = 1024;
    cfg.out_bytes = 1 << 16;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"n1\"}"));
    EXPECT(f, NODES("{}"), RET("[" N1 "]"));  /* 496 bytes: fits */
    for (int i = 2; i <= 3; i++) {
        snprintf(cmd, sizeof cmd, ADD("{\"driver\":\"null-co\",\"node-name\":\"n%d\"}"), i);
        fx_cmd(f, 0, cmd);
    }
    EXPECT(f, NODES("{}"), ERR("reply exceeds the engine's reply buffer"));
    fx_free(f);
}

static void test_hmp(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    /* the engine's package is "" where Debian's QEMU has its build string */
    EXPECT(f, HMP("info version"), RET("\"7.2.22\\r\\n\""));
    EXPECT(f, HMP("  info   version  "), RET("\"7.2.22\\r\\n\""));
    EXPECT(f, HMP("info\\tversion\\n"), RET("\"7.2.22\\r\\n\""));
    EXPECT(f, HMP("info status"), RET("\"VM status: running\\r\\n\""));
    EXPECT(f, HMP("stop"), TS "\"event\": \"STOP\"}\r\n" RET("\"\""));
    EXPECT(f, HMP("s"), RET("\"\""));   /* already stopped: no event */
    EXPECT(f, HMP("info status"), RET("\"VM status: paused\\r\\n\""));
    EXPECT(f, "{\"execute\":\"query-status\"}",
           RET("{\"status\": \"paused\", \"singlestep\": false, \"running\": false}"));
    EXPECT(f, HMP("c"), TS "\"event\": \"RESUME\"}\r\n" RET("\"\""));
    EXPECT(f, HMP("info name"), RET("\"\""));
    EXPECT(f, HMP("info uuid"), RET("\"00000000-0000-0000-0000-000000000000\\r\\n\""));
    EXPECT(f, HMP("info block"), RET("\"\""));
    EXPECT(f, HMP("info block-jobs"), RET("\"No active jobs\\r\\n\""));
    EXPECT(f, HMP(""), RET("\"\""));
    EXPECT(f, HMP("   "), RET("\"\""));
    EXPECT(f, HMP("nosuchcmd arg1 arg2"), RET("\"unknown command: 'nosuchcmd'\\r\\n\""));
    EXPECT(f, HMP("  nosuch  "), RET("\"unknown command: '  nosuch'\\r\\n\""));
    EXPECT(f, HMP("nosuch/x 1"), RET("\"unknown command: 'nosuch'\\r\\n\""));
    EXPECT(f, HMP("  info   nosuch  "), RET("\"unknown command: '  info   nosuch'\\r\\n\""));
    EXPECT(f, HMP("info jobs"), RET("\"unknown command: 'info jobs'\\r\\n\""));
    EXPECT(f, HMP("INFO version"), RET("\"unknown command: 'INFO'\\r\\n\""));
    EXPECT(f, HMP("info version extra"),
           RET("\"version: extraneous characters at the end of line\\r\\n"
               "Try \\\"help info version\\\" for more information\\r\\n\""));
    EXPECT(f, HMP("  info  version  x"),
           RET("\"version: extraneous characters at the end of line\\r\\n"
               "Try \\\"help   info  version\\\" for more information\\r\\n\""));
    EXPECT(f, HMP("s now"),
           RET("\"stop|s: extraneous characters at the end of line\\r\\n"
               "Try \\\"help s\\\" for more information\\r\\n\""));
    /* engine's own: QEMU commands it does not simulate are refused */
    EXPECT(f, HMP("info"), ERR("HMP command 'info' is not simulated by the engine"));
    EXPECT(f, HMP("info qtree"), ERR("HMP command 'info qtree' is not simulated by the engine"));
    EXPECT(f, HMP("help"), ERR("HMP command 'help' is not simulated by the engine"));
    fx_free(f);
}

/* Same order as query-block-jobs (newest first); stream has its own text.
 * The mirror line is QEMU's for the same commands; the stream line's
 * wording was measured on a qcow2 chain (null-co has no backing in QEMU,
 * so the chain here is the engine's x-backing). */
static void test_hmp_block_jobs(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\",\"size\":1048576}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"b\",\"size\":1048576}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"base\",\"size\":1048576}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"top\",\"size\":1048576,"
                     "\"x-backing\":\"base\"}"));
    fx_cmd(f, 0, "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j1\",\"device\":\"a\","
                 "\"target\":\"b\",\"sync\":\"full\",\"speed\":1}}");
    EXPECT(f, HMP("info block-jobs"),
           RET("\"Type mirror, device j1: Completed 1048576 of 1048576 bytes, speed limit 1 bytes/s\\r\\n\""));
    fx_cmd(f, 0, "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"s1\",\"device\":\"top\","
                 "\"speed\":1}}");
    const char *got = fx_cmd(f, 0, HMP("info block-jobs"));
    static const char stream_head[] = "{\"return\": \"Streaming device s1: Completed ";
    CHECK(strncmp(got, stream_head, sizeof stream_head - 1) == 0);
    CHECK(strstr(got, " of 1048576 bytes, speed limit 1 bytes/s\\r\\nType mirror, device j1: "
                      "Completed 1048576 of 1048576 bytes, speed limit 1 bytes/s\\r\\n\"}\r\n") != NULL);
    fx_free(f);
}

/* info block: no BlockBackend, so nodes print only with -n or a name;
 * a blank line before every node but the first of the whole list */
static void test_hmp_info_block(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, HMP("info block -n"), RET("\"\""));
    fx_cmd(f, 0, ADD("{\"driver\":\"null-co\",\"node-name\":\"a\"}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"raw\",\"node-name\":\"r\",\"file\":{\"driver\":\"null-aio\","
                     "\"size\":512},\"read-only\":true,\"detect-zeroes\":\"unmap\",\"discard\":\"unmap\"}"));
    fx_cmd(f, 0, ADD("{\"driver\":\"blkdebug\",\"node-name\":\"k\",\"image\":\"a\"}"));
    EXPECT(f, HMP("info block"), RET("\"\""));
    EXPECT(f, HMP("info block nosuch"), RET("\"\""));
    EXPECT(f, HMP("info block k"),
           RET("\"k: blkdebug::null-co:// (blkdebug)\\r\\n    Cache mode:       writeback\\r\\n\""));
    EXPECT(f, HMP("info   block    a  "),
           RET("\"\\r\\na: null-co:// (null-co)\\r\\n    Cache mode:       writeback\\r\\n\""));
    /* the inline child inherits read-only; its name is the engine's */
    EXPECT(f, HMP("info block -n"),
           RET("\"k: blkdebug::null-co:// (blkdebug)\\r\\n    Cache mode:       writeback\\r\\n\\r\\n"
               "r: json:{\\\"driver\\\": \\\"raw\\\", \\\"file\\\": {\\\"driver\\\": \\\"null-aio\\\", "
               "\\\"size\\\": 512}} (raw, read-only)\\r\\n    Cache mode:       writeback\\r\\n"
               "    Detect zeroes:    unmap\\r\\n\\r\\n"
               "#block002: json:{\\\"driver\\\": \\\"null-aio\\\", \\\"size\\\": 512} (null-aio, read-only)"
               "\\r\\n    Cache mode:       writeback\\r\\n\\r\\n"
               "a: null-co:// (null-co)\\r\\n    Cache mode:       writeback\\r\\n\""));
    EXPECT(f, HMP("info block a x"),
           RET("\"block: extraneous characters at the end of line\\r\\n"
               "Try \\\"help info block\\\" for more information\\r\\n\""));
    /* engine's own: the verbose image listing */
    EXPECT(f, HMP("info block -n -v"), ERR("HMP command 'info block' is not simulated by the engine"));
    fx_free(f);
}

/* HMP quit is QMP quit: SHUTDOWN, then the reply, then the engine quits */
static void test_hmp_quit(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, HMP("q x"), RET("\"quit|q: extraneous characters at the end of line\\r\\n"
                              "Try \\\"help q\\\" for more information\\r\\n\""));
    CHECK(!qmpk_engine_quit_requested(&f->e));
    EXPECT(f, HMP("quit"), TS "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, "
                           "\"reason\": \"host-qmp-quit\"}}\r\n" RET("\"\""));
    CHECK(qmpk_engine_quit_requested(&f->e));
    fx_free(f);
}

static void test_hmp_arguments(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    char cmd[8192];
    static const char head[] = "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"";

    EXPECT(f, "{\"execute\":\"human-monitor-command\"}", ERR("Parameter 'command-line' is missing"));
    EXPECT(f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":1}}",
           ERR("Invalid parameter type for 'command-line', expected: string"));
    EXPECT(f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"cpu-index\":0}}",
           ERR("Parameter 'command-line' is missing"));
    /* -machine none has no CPU, so every index is refused */
    EXPECT(f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info version\","
              "\"cpu-index\":0}}", ERR("Parameter 'cpu-index' expects a CPU number"));
    EXPECT(f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info version\","
              "\"cpu-index\":-1}}", ERR("Parameter 'cpu-index' expects a CPU number"));
    EXPECT(f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info version\","
              "\"cpu-index\":\"x\"}}", ERR("Invalid parameter type for 'cpu-index', expected: integer"));
    EXPECT(f, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info version\","
              "\"x\":1}}", ERR("Parameter 'x' is unexpected"));
    /* the engine's line limit (ENG_HMP_LINE_MAX 4096), at N and N+1 */
    size_t hl = strlen(head);
    for (size_t len = 4096; len <= 4097; len++) {
        memcpy(cmd, head, hl);
        memcpy(cmd + hl, "info version", 12);
        memset(cmd + hl + 12, ' ', len - 12);
        strcpy(cmd + hl + len, "\"}}");
        EXPECT(f, cmd, len == 4096 ? RET("\"7.2.22\\r\\n\"")
                                   : ERR("command-line is longer than the engine's 4096 bytes"));
    }
    fx_free(f);
}

static void test_qom_set(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    EXPECT(f, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine\",\"property\":\"x\"}}",
           ERR("Parameter 'value' is missing"));
    EXPECT(f, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine\"}}",
           ERR("Parameter 'property' is missing"));
    EXPECT(f, "{\"execute\":\"qom-set\"}", ERR("Parameter 'path' is missing"));
    EXPECT(f, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":1,\"property\":\"x\",\"value\":1}}",
           ERR("Invalid parameter type for 'path', expected: string"));
    EXPECT(f, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine\",\"property\":1,\"value\":1}}",
           ERR("Invalid parameter type for 'property', expected: string"));
    EXPECT(f, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine\",\"property\":\"x\","
              "\"value\":1,\"y\":2}}", ERR("Parameter 'y' is unexpected"));
    EXPECT(f, QOM_SET("/machine", "x", "1"), ERR("Property 'none-machine.x' not found"));
    EXPECT(f, QOM_SET("/machine", "", "1"), ERR("Property 'none-machine.' not found"));
    EXPECT(f, QOM_SET("//machine/", "x", "null"), ERR("Property 'none-machine.x' not found"));
    EXPECT(f, QOM_SET("machine", "x", "1"), ERR("Property 'none-machine.x' not found"));
    EXPECT(f, QOM_SET("/nosuch", "x", "1"), ERRC("DeviceNotFound", "Device '/nosuch' not found"));
    EXPECT(f, QOM_SET("nosuch", "x", "1"), ERRC("DeviceNotFound", "Device 'nosuch' not found"));
    EXPECT(f, QOM_SET("", "x", "1"), ERRC("DeviceNotFound", "Device '' not found"));
    EXPECT(f, QOM_SET("/machine/nosuch", "x", "1"),
           ERRC("DeviceNotFound", "Device '/machine/nosuch' not found"));
    EXPECT(f, QOM_SET("/", "x", "1"), ERR("Property 'container.x' not found"));
    EXPECT(f, QOM_SET("/", "machine", "\"x\""), ERR("Property 'container.machine' is not writable"));
    EXPECT(f, QOM_SET("/chardevs", "type", "\"x\""), ERR("Property 'container.type' is not writable"));
    EXPECT(f, QOM_SET("/machine", "type", "\"y\""), ERR("Property 'none-machine.type' is not writable"));
    EXPECT(f, QOM_SET("/machine/peripheral", "x", "1"), ERR("Property 'container.x' not found"));
    EXPECT(f, QOM_SET("peripheral", "x", "1"), ERR("Property 'container.x' not found"));
    EXPECT(f, QOM_SET("/machine", "dump-guest-core", "false"), OK);
    EXPECT(f, QOM_SET("/machine", "dump-guest-core", "\"no\""),
           ERR("Invalid parameter type for 'dump-guest-core', expected: boolean"));
    EXPECT(f, QOM_SET("/machine", "kernel", "\"x\""), OK);
    EXPECT(f, QOM_SET("/machine", "kernel", "1"),
           ERR("Invalid parameter type for 'kernel', expected: string"));
    EXPECT(f, QOM_SET("/machine", "phandle-start", "\"x\""),
           ERR("Invalid parameter type for 'phandle-start', expected: integer"));
    EXPECT(f, QOM_SET("/machine", "phandle-start", "5"), OK);
    EXPECT(f, QOM_SET("/machine", "memory-backend", "\"x\""),
           ERRC("DeviceNotFound", "Device 'x' not found"));
    EXPECT(f, QOM_SET("/machine", "memory-encryption", "\"x\""),
           ERR("No such memory encryption object 'x'"));
    /* engine's own: an object whose properties it does not model */
    EXPECT(f, QOM_SET("unattached/sysbus", "x", "1"),
           ERR("QOM path 'unattached/sysbus' is not simulated by the engine"));
    /* QOM_DEPTH_MAX (8) components and more: below sysbus either way */
    EXPECT(f, QOM_SET("/machine/unattached/sysbus/4/5/6/7/8", "x", "1"),
           ERR("QOM path '/machine/unattached/sysbus/4/5/6/7/8' is not simulated by the engine"));
    EXPECT(f, QOM_SET("/machine/unattached/sysbus/4/5/6/7/8/9", "x", "1"),
           ERR("QOM path '/machine/unattached/sysbus/4/5/6/7/8/9' is not simulated by the engine"));
    EXPECT(f, QOM_SET("/machine/1/2/3/4/5/6/7/8/9", "x", "1"),
           ERRC("DeviceNotFound", "Device '/machine/1/2/3/4/5/6/7/8/9' not found"));
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "query-named-block-nodes: none, one, two", test_named_nodes_zero_one_two },
        { "query-named-block-nodes: filenames", test_named_nodes_filenames },
        { "query-named-block-nodes: raw and blkdebug", test_named_nodes_raw_blkdebug },
        { "query-named-block-nodes: blkdebug rules", test_named_nodes_blkdebug_rules },
        { "query-named-block-nodes: read-only, detect-zeroes", test_named_nodes_read_only },
        { "query-named-block-nodes: reply limit", test_named_nodes_reply_limit },
        { "human-monitor-command", test_hmp },
        { "human-monitor-command arguments", test_hmp_arguments },
        { "human-monitor-command info block-jobs", test_hmp_block_jobs },
        { "human-monitor-command quit", test_hmp_quit },
        { "human-monitor-command info block", test_hmp_info_block },
        { "qom-set", test_qom_set },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
