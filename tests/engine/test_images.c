/*
 * Simulated image files: the qcow2 layout model against the file lengths
 * blockdev-create gave on qemu-storage-daemon 7.2, blockdev-create as a
 * create job (events, query-jobs, job-dismiss) with QEMU's texts for its
 * refused arguments and its failing jobs, the file and qcow2 blockdev-add
 * drivers, query-named-block-nodes of file and qcow2 nodes, stream and
 * commit writing into the images, and the bounds (files, filename bytes,
 * image size) at N and N + 1.
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
#define MiB 1048576ull

static bool expect_at(fixture_t *f, const char *cmd, const char *want, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    return qmpk_check_str(got, strlen(got), want, strlen(want), cmd, __FILE__, line);
}
#define EXPECT(f, cmd, want) expect_at((f), (cmd), (want), __LINE__)

static bool has_at(fixture_t *f, const char *cmd, const char *part, int line)
{
    const char *got = fx_cmd(f, 0, cmd);
    bool ok = strstr(got, part) != NULL;
    if (!ok)
        fprintf(stderr, "%s:%d: %s\n  lacks: %s\n  got:   %s\n", __FILE__, line, cmd, part, got);
    return qmpk_check(ok, "output contains the part", __FILE__, line);
}
#define HAS(f, cmd, part) has_at((f), (cmd), (part), __LINE__)

static char cmdbuf[4096];
static const char *create(const char *id, const char *opts)
{
    snprintf(cmdbuf, sizeof cmdbuf, "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":"
             "\"%s\",\"options\":%s}}", id, opts);
    return cmdbuf;
}
static const char *dismiss(const char *id)
{
    snprintf(cmdbuf, sizeof cmdbuf, "{\"execute\":\"job-dismiss\",\"arguments\":{\"id\":\"%s\"}}",
             id);
    return cmdbuf;
}
static const char *add(const char *args)
{
    snprintf(cmdbuf, sizeof cmdbuf, "{\"execute\":\"blockdev-add\",\"arguments\":%s}", args);
    return cmdbuf;
}

/* An empty file /b, created (job "c", dismissed) and open as node bf. */
static void file_node_bf(fixture_t *f)
{
    fx_cmd(f, 0, create("c", "{\"driver\":\"file\",\"filename\":\"/b\",\"size\":0}"));
    fx_cmd(f, 0, dismiss("c"));
    fx_cmd(f, 0, add("{\"driver\":\"file\",\"node-name\":\"bf\",\"filename\":\"/b\"}"));
}

#define CREATED_OK(id) JSC("created", id) JSC("running", id) OK JSC("waiting", id) \
    JSC("pending", id) JSC("concluded", id)
#define CREATE_FAILED(id) JSC("created", id) JSC("running", id) OK JSC("aborting", id) \
    JSC("concluded", id)
#define QJ "{\"execute\":\"query-jobs\"}"
#define NODES "{\"execute\":\"query-named-block-nodes\"}"

/* A 1 MiB qcow2 on file `name`.qcow2, node `name` over node `name`-f. */
static void make_qcow2(fixture_t *f, const char *name, const char *extra, const char *backing)
{
    char opts[512], args[512], id[64];

    snprintf(opts, sizeof opts, "{\"driver\":\"file\",\"filename\":\"/d/%s.qcow2\",\"size\":0}",
             name);
    snprintf(id, sizeof id, "mk-%s-f", name);
    fx_cmd(f, 0, create(id, opts));
    fx_cmd(f, 0, dismiss(id));
    snprintf(args, sizeof args, "{\"driver\":\"file\",\"node-name\":\"%s-f\",\"filename\":"
             "\"/d/%s.qcow2\"}", name, name);
    CHECK(strcmp(fx_cmd(f, 0, add(args)), OK) == 0);
    snprintf(opts, sizeof opts, "{\"driver\":\"qcow2\",\"file\":\"%s-f\",\"size\":1048576%s}",
             name, extra);
    snprintf(id, sizeof id, "mk-%s", name);
    fx_cmd(f, 0, create(id, opts));
    fx_cmd(f, 0, dismiss(id));
    if (backing)
        snprintf(args, sizeof args, "{\"driver\":\"qcow2\",\"node-name\":\"%s\",\"file\":\"%s-f\","
                 "\"backing\":\"%s\"}", name, name, backing);
    else
        snprintf(args, sizeof args, "{\"driver\":\"qcow2\",\"node-name\":\"%s\",\"file\":\"%s-f\"}",
                 name, name);
    CHECK(strcmp(fx_cmd(f, 0, add(args)), OK) == 0);
}

/* ------------------------------------------------------------------ */

static void test_the_qcow2_model_gives_the_lengths_qemu_wrote(void)
{
    /* cluster, size, metadata preallocation, length of the file QEMU 7.2's
     * blockdev-create wrote (qemu-storage-daemon, fresh files) */
    static const struct { uint64_t cl, size; bool meta; uint64_t len; } m[] = {
        { 65536, MiB, false, 196616 },       { 65536, 600 * MiB, false, 196624 },
        { 65536, 40960 * MiB, false, 197248 }, { 65536, MiB, true, 1376256 },
        { 65536, 600 * MiB, true, 629538816 }, { 4096, MiB, false, 12296 },
        { 4096, MiB, true, 1069056 },         { 4096, 4 * MiB, true, 4218880 },
        { 512, 65536, true, 68608 },          { 512, 65536, false, 1552 },
        { 2 * MiB, MiB, false, 6291464 },     { 2 * MiB, MiB, true, 12582912 },
        { 65536, MiB + 512, true, 1441792 },  { 65536, 2146959360, true, 2147483648 },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        eng_qcow2_t q;
        eng_qcow2_format(&q, m[i].size, m[i].cl, m[i].meta);
        if (!CHECK(eng_qcow2_file_length(&q) == m[i].len))
            fprintf(stderr, "  row %zu: %llu\n", i, (unsigned long long)eng_qcow2_file_length(&q));
    }
    /* zero clusters take an L2 table and no data cluster */
    eng_qcow2_t q;
    eng_qcow2_format(&q, MiB, 65536, false);
    eng_qcow2_allocate(&q, MiB, false);
    CHECK(eng_qcow2_file_length(&q) == 327680);
    eng_qcow2_allocate(&q, MiB, true);     /* allocated already: nothing changes */
    CHECK(eng_qcow2_file_length(&q) == 327680);
    /* a second L2 table once the first maps all its 8192 clusters */
    eng_qcow2_format(&q, 1024 * MiB, 65536, false);
    eng_qcow2_allocate(&q, 512 * MiB, true);
    CHECK(eng_qcow2_file_length(&q) == (4 + 1 + 8192) * 65536ull);
    eng_qcow2_allocate(&q, 512 * MiB + 1, true);
    CHECK(eng_qcow2_file_length(&q) == (4 + 2 + 8193) * 65536ull);
}

static void test_the_model_bound_is_one_refcount_block(void)
{
    /* 64 KiB clusters: 32768 host clusters per refcount block; 32760 data
     * clusters, 4 L2 tables, the L1 and 3 fixed clusters fill it exactly */
    CHECK(eng_qcow2_max_size(65536) == 2146959360ull);
    CHECK(eng_qcow2_max_size(512) == 248 * 512ull);
    CHECK(eng_qcow2_cluster_valid(512) && eng_qcow2_cluster_valid(2 * MiB));
    CHECK(!eng_qcow2_cluster_valid(256) && !eng_qcow2_cluster_valid(4 * MiB) &&
          !eng_qcow2_cluster_valid(1000));

    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    file_node_bf(f);
    EXPECT(f, create("n", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":2146959360}"),
           CREATED_OK("n"));
    EXPECT(f, create("n1", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":2146959872}"),
           CREATE_FAILED("n1"));
    HAS(f, QJ, "\"id\": \"n1\", \"error\": \"Image too large for the engine's qcow2 model "
               "(engine limit 2146959360 bytes at cluster-size 65536)\"");
    fx_free(f);
}

static void test_blockdev_create_is_a_job_that_waits_for_job_dismiss(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    EXPECT(f, create("c", "{\"driver\":\"file\",\"filename\":\"/x\",\"size\":0}"),
           CREATED_OK("c"));
    EXPECT(f, QJ, "{\"return\": [{\"current-progress\": 1, \"status\": \"concluded\", "
                  "\"total-progress\": 1, \"type\": \"create\", \"id\": \"c\"}]}\r\n");
    /* not a block job */
    EXPECT(f, "{\"execute\":\"query-block-jobs\"}", "{\"return\": []}\r\n");
    EXPECT(f, "{\"execute\":\"block-job-dismiss\",\"arguments\":{\"id\":\"c\"}}",
           "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"Block job 'c' not found\"}}\r\n");
    EXPECT(f, dismiss("c"), JSC("null", "c") OK);
    EXPECT(f, QJ, "{\"return\": []}\r\n");
    fx_free(f);
}

/* An async monitor (extended profile) gets the reply of a job-creating
 * command when the job concludes, and only then: once, {} or the job's
 * error (found by fuzz_engine: blockdev-create also replied at once). */
static void test_on_an_async_monitor_blockdev_create_replies_once_when_the_job_concludes(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_EXTENDED, 1, "[\"async\"]");

    EXPECT(f, "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"c\",\"options\":"
              "{\"driver\":\"file\",\"filename\":\"/x\",\"size\":0}},\"id\":\"ok\"}",
           JSC("created", "c") JSC("running", "c") JSC("waiting", "c") JSC("pending", "c")
           JSC("concluded", "c") "{\"return\": {}, \"id\": \"ok\"}\r\n");
    EXPECT(f, "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"d\",\"options\":"
              "{\"driver\":\"qcow2\",\"file\":\"\",\"size\":512}},\"id\":\"bad\"}",
           JSC("created", "d") JSC("running", "d") JSC("aborting", "d") JSC("concluded", "d")
           "{\"id\": \"bad\", \"error\": {\"class\": \"GenericError\", \"desc\": "
           "\"Cannot find device='' nor node-name=''\"}}\r\n");
    fx_advance(f, 1000000000ull);
    EXPECT(f, QJ, "{\"return\": [{\"current-progress\": 1, \"status\": \"concluded\", "
                  "\"total-progress\": 1, \"type\": \"create\", \"id\": \"d\", \"error\": "
                  "\"Cannot find device='' nor node-name=''\"}, {\"current-progress\": 1, "
                  "\"status\": \"concluded\", \"total-progress\": 1, \"type\": \"create\", "
                  "\"id\": \"c\"}]}\r\n");
    fx_free(f);
}

static void test_blockdev_create_refuses_bad_options_with_qemus_texts(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    EXPECT(f, create("e", "{\"driver\":\"null-co\"}"), ERR("Driver does not support blockdev-create"));
    EXPECT(f, create("e", "{\"driver\":\"file\",\"filename\":\"/z\"}"),
           ERR("Parameter 'options.size' is missing"));
    EXPECT(f, create("e", "{\"driver\":\"qcow2\",\"size\":1048576}"),
           ERR("Parameter 'options.file' is missing"));
    EXPECT(f, create("e", "{\"driver\":\"raw\",\"file\":\"b\"}"),
           ERR("Parameter 'options.file' is unexpected"));
    EXPECT(f, create("e", "{\"driver\":\"file\",\"filename\":\"/z\",\"size\":0,\"bogus\":1}"),
           ERR("Parameter 'options.bogus' is unexpected"));
    EXPECT(f, create("e", "{\"driver\":\"qcow2\",\"file\":\"b\",\"size\":1048576,"
                          "\"preallocation\":\"bogus\"}"),
           ERR("Parameter 'preallocation' does not accept value 'bogus'"));
    EXPECT(f, "{\"execute\":\"blockdev-create\",\"arguments\":{\"options\":{\"driver\":\"file\","
              "\"filename\":\"/z\",\"size\":0}}}", ERR("Parameter 'job-id' is missing"));
    EXPECT(f, QJ, "{\"return\": []}\r\n");
    fx_free(f);
}

static void test_a_failing_create_job_concludes_with_qemus_error(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    file_node_bf(f);
    EXPECT(f, create("e3", "{\"driver\":\"qcow2\",\"file\":\"nope\",\"size\":1048576}"),
           CREATE_FAILED("e3"));
    EXPECT(f, create("e4", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":1000}"),
           CREATE_FAILED("e4"));
    EXPECT(f, create("e5", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":1048576,"
                           "\"cluster-size\":1000}"), CREATE_FAILED("e5"));
    EXPECT(f, create("e10", "{\"driver\":\"file\",\"filename\":\"/z\",\"size\":-1}"),
           CREATE_FAILED("e10"));
    /* the file a node holds open */
    EXPECT(f, create("e11", "{\"driver\":\"file\",\"filename\":\"/b\",\"size\":0}"),
           CREATE_FAILED("e11"));
    EXPECT(f, QJ, "{\"return\": ["
        "{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, \"type\": "
        "\"create\", \"id\": \"e11\", \"error\": \"Failed to get \\\"write\\\" lock\"}, "
        "{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, \"type\": "
        "\"create\", \"id\": \"e10\", \"error\": \"Could not resize file: Invalid argument\"}, "
        "{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, \"type\": "
        "\"create\", \"id\": \"e5\", \"error\": \"Cluster size must be a power of two between "
        "512 and 2048k\"}, "
        "{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, \"type\": "
        "\"create\", \"id\": \"e4\", \"error\": \"Image size must be a multiple of 512 bytes\"}, "
        "{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, \"type\": "
        "\"create\", \"id\": \"e3\", \"error\": \"Cannot find device='nope' nor "
        "node-name='nope'\"}]}\r\n");
    /* what the model has no state for fails the job with the engine's text */
    EXPECT(f, create("u1", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":1048576,"
                           "\"backing-file\":\"/x\"}"), CREATE_FAILED("u1"));
    EXPECT(f, create("u2", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":1048576,"
                           "\"preallocation\":\"full\"}"), CREATE_FAILED("u2"));
    EXPECT(f, create("u3", "{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":"
                           "\"/b\"},\"size\":1048576}"), CREATE_FAILED("u3"));
    HAS(f, QJ, "\"id\": \"u3\", \"error\": \"The engine takes 'file' only as a node name\"}, "
               "{\"current-progress\": 1, \"status\": \"concluded\", \"total-progress\": 1, "
               "\"type\": \"create\", \"id\": \"u2\", \"error\": \"The engine's qcow2 model "
               "preallocates off or metadata only\"}, {\"current-progress\": 1, \"status\": "
               "\"concluded\", \"total-progress\": 1, \"type\": \"create\", \"id\": \"u1\", "
               "\"error\": \"The engine's qcow2 model has no 'backing-file'\"}");
    /* formatting a file a qcow2 node has open */
    fx_cmd(f, 0, create("q", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":1048576}"));
    fx_cmd(f, 0, dismiss("q"));
    fx_cmd(f, 0, add("{\"driver\":\"qcow2\",\"node-name\":\"b\",\"file\":\"bf\"}"));
    EXPECT(f, create("e6", "{\"driver\":\"qcow2\",\"file\":\"bf\",\"size\":1048576}"),
           CREATE_FAILED("e6"));
    HAS(f, QJ, "\"error\": \"Permission conflict on node 'bf': permissions 'write, resize' are "
               "both required by an unnamed block device (uses node 'bf' as 'root' child) and "
               "unshared by node 'b' (uses node 'bf' as 'file' child).\"");
    fx_free(f);
}

static void test_blockdev_add_opens_only_files_that_exist_and_images_they_hold(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    EXPECT(f, add("{\"driver\":\"file\",\"node-name\":\"x\",\"filename\":\"/d/nope.qcow2\"}"),
           ERR("Could not open '/d/nope.qcow2': No such file or directory"));
    EXPECT(f, add("{\"driver\":\"file\",\"node-name\":\"x\"}"),
           ERR("Parameter 'filename' is missing"));
    fx_cmd(f, 0, create("c", "{\"driver\":\"file\",\"filename\":\"/sized\",\"size\":1000}"));
    EXPECT(f, add("{\"driver\":\"file\",\"node-name\":\"sz\",\"filename\":\"/sized\"}"), OK);
    EXPECT(f, add("{\"driver\":\"qcow2\",\"node-name\":\"szq\",\"file\":\"sz\"}"),
           ERR("Image is not in qcow2 format"));
    EXPECT(f, add("{\"driver\":\"qcow2\",\"node-name\":\"x\",\"file\":\"nope\"}"),
           ERR("Cannot find device='nope' nor node-name='nope'"));
    /* file-posix counts whole sectors: 1000 bytes show as 1024 */
    EXPECT(f, NODES, "{\"return\": [{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": "
        "{\"virtual-size\": 1024, \"filename\": \"/sized\", \"format\": \"file\", "
        "\"actual-size\": 4096, \"dirty-flag\": false}, \"iops_wr\": 0, \"ro\": false, "
        "\"node-name\": \"sz\", \"backing_file_depth\": 0, \"drv\": \"file\", \"iops\": 0, "
        "\"bps_wr\": 0, \"write_threshold\": 0, \"encrypted\": false, \"bps\": 0, \"bps_rd\": 0, "
        "\"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, "
        "\"file\": \"/sized\"}]}\r\n");
    fx_free(f);
}

static void test_a_qcow2_node_with_a_backing_shows_as_qemu_shows_it(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    make_qcow2(f, "b", "", NULL);
    make_qcow2(f, "t", "", "b");
    /* as qemu-storage-daemon 7.2 (actual-size: the engine's 4 KiB rounding) */
    HAS(f, NODES, "{\"iops_rd\": 0, \"detect_zeroes\": \"off\", \"image\": {\"backing-image\": "
        "{\"virtual-size\": 1048576, \"filename\": \"/d/b.qcow2\", \"cluster-size\": 65536, "
        "\"format\": \"qcow2\", \"actual-size\": 200704, \"format-specific\": {\"type\": \"qcow2\", "
        "\"data\": {\"compat\": \"1.1\", \"compression-type\": \"zlib\", \"lazy-refcounts\": false, "
        "\"refcount-bits\": 16, \"corrupt\": false, \"extended-l2\": false}}, \"dirty-flag\": "
        "false}, \"virtual-size\": 1048576, \"filename\": \"json:{\\\"backing\\\": {\\\"driver\\\": "
        "\\\"qcow2\\\", \\\"file\\\": {\\\"driver\\\": \\\"file\\\", \\\"filename\\\": "
        "\\\"/d/b.qcow2\\\"}}, \\\"driver\\\": \\\"qcow2\\\", \\\"file\\\": {\\\"driver\\\": "
        "\\\"file\\\", \\\"filename\\\": \\\"/d/t.qcow2\\\"}}\", \"cluster-size\": 65536, "
        "\"format\": \"qcow2\", \"actual-size\": 200704, \"format-specific\": {\"type\": "
        "\"qcow2\", \"data\": {\"compat\": \"1.1\", \"compression-type\": \"zlib\", "
        "\"lazy-refcounts\": false, \"refcount-bits\": 16, \"corrupt\": false, \"extended-l2\": "
        "false}}, \"dirty-flag\": false}, \"iops_wr\": 0, \"ro\": false, \"node-name\": \"t\", "
        "\"backing_file_depth\": 1, \"drv\": \"qcow2\", \"iops\": 0, \"bps_wr\": 0, "
        "\"write_threshold\": 0, \"backing_file\": \"/d/b.qcow2\", \"encrypted\": false, ");
    /* the empty image's file: 196616 bytes, 197120 as whole sectors */
    HAS(f, NODES, "\"image\": {\"virtual-size\": 197120, \"filename\": \"/d/t.qcow2\"");
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"b\"}}",
           ERR("Block device b is in use"));
    fx_free(f);
}

static void test_stream_and_commit_write_into_the_images(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);

    make_qcow2(f, "base", "", NULL);
    make_qcow2(f, "mid", ",\"preallocation\":\"metadata\"", "base");
    make_qcow2(f, "top", "", "mid");
    HAS(f, NODES, "\"node-name\": \"top\", \"backing_file_depth\": 2");
    /* intermediate commit: base gets mid's 16 data clusters, top backs onto base */
    HAS(f, "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"cm\",\"device\":\"top\","
           "\"top-node\":\"mid\",\"base-node\":\"base\"}}",
        "\"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": \"cm\", \"len\": 1048576, \"offset\": "
        "1048576, \"speed\": 0, \"type\": \"commit\"}");
    HAS(f, NODES, "\"image\": {\"virtual-size\": 1376256, \"filename\": \"/d/base.qcow2\"");
    HAS(f, NODES, "\"node-name\": \"top\", \"backing_file_depth\": 1");
    HAS(f, NODES, "\"node-name\": \"mid\", \"backing_file_depth\": 1");
    /* stream into top: an L2 table of zero clusters, the chain gone */
    HAS(f, "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"st\",\"device\":\"top\"}}",
        "\"BLOCK_JOB_COMPLETED\", \"data\": {\"device\": \"st\", \"len\": 1048576, \"offset\": "
        "1048576, \"speed\": 0, \"type\": \"stream\"}");
    HAS(f, NODES, "\"image\": {\"virtual-size\": 327680, \"filename\": \"/d/top.qcow2\"");
    HAS(f, NODES, "\"node-name\": \"top\", \"backing_file_depth\": 0");
    /* a stream down to a base-node keeps that base as top's backing */
    make_qcow2(f, "b2", ",\"preallocation\":\"metadata\"", NULL);
    make_qcow2(f, "m2", ",\"preallocation\":\"metadata\"", "b2");
    make_qcow2(f, "t2", "", "m2");
    HAS(f, "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"s2\",\"device\":\"t2\","
           "\"base-node\":\"b2\"}}", "\"type\": \"stream\"}");
    HAS(f, NODES, "\"node-name\": \"t2\", \"backing_file_depth\": 1");
    HAS(f, NODES, "\"image\": {\"virtual-size\": 327680, \"filename\": \"/d/t2.qcow2\"");
    /* base is free again: only mid holds it */
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"top\"}}", OK);
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"mid\"}}", OK);
    EXPECT(f, "{\"execute\":\"blockdev-del\",\"arguments\":{\"node-name\":\"base\"}}", OK);
    fx_free(f);
}

static void test_files_n_fit_and_n_plus_1_fails_the_job(void)
{
    qmpk_engine_config_t cfg;
    qmpk_engine_config_default(&cfg);
    cfg.max_files = 2;
    fixture_t *f = fx_new_cfg(&cfg, 1, NULL);

    EXPECT(f, create("a", "{\"driver\":\"file\",\"filename\":\"/a\",\"size\":0}"), CREATED_OK("a"));
    EXPECT(f, create("b", "{\"driver\":\"file\",\"filename\":\"/b\",\"size\":0}"), CREATED_OK("b"));
    EXPECT(f, create("c", "{\"driver\":\"file\",\"filename\":\"/c\",\"size\":0}"),
           CREATE_FAILED("c"));
    HAS(f, QJ, "\"id\": \"c\", \"error\": \"Too many simulated files (engine limit 2)\"");
    /* re-creating an existing file needs no new record */
    EXPECT(f, create("a2", "{\"driver\":\"file\",\"filename\":\"/a\",\"size\":512}"),
           CREATED_OK("a2"));
    fx_free(f);
}

static void test_filenames_of_n_bytes_fit_and_n_plus_1_fail_the_job(void)
{
    fixture_t *f = fx_new(QMPK_PROFILE_QEMU72, 1, NULL);
    static char opts[QMPK_ENGINE_MAX_PATH_BYTES + 128], arg[QMPK_ENGINE_MAX_PATH_BYTES + 128];
    char name[QMPK_ENGINE_MAX_PATH_BYTES + 2];

    memset(name, 'p', sizeof name);
    name[0] = '/';
    name[QMPK_ENGINE_MAX_PATH_BYTES] = '\0';
    snprintf(opts, sizeof opts, "{\"driver\":\"file\",\"filename\":\"%s\",\"size\":0}", name);
    EXPECT(f, create("n", opts), CREATED_OK("n"));
    snprintf(arg, sizeof arg, "{\"driver\":\"file\",\"node-name\":\"n\",\"filename\":\"%s\"}", name);
    EXPECT(f, add(arg), OK);
    name[QMPK_ENGINE_MAX_PATH_BYTES] = 'p';
    name[QMPK_ENGINE_MAX_PATH_BYTES + 1] = '\0';
    snprintf(opts, sizeof opts, "{\"driver\":\"file\",\"filename\":\"%s\",\"size\":0}", name);
    EXPECT(f, create("n1", opts), CREATE_FAILED("n1"));
    HAS(f, QJ, "\"id\": \"n1\", \"error\": \"File name too long (engine limit 1023 bytes)\"");
    fx_free(f);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "the qcow2 model gives the lengths QEMU wrote",
          test_the_qcow2_model_gives_the_lengths_qemu_wrote },
        { "the model bound is one refcount block", test_the_model_bound_is_one_refcount_block },
        { "blockdev-create is a job that waits for job-dismiss",
          test_blockdev_create_is_a_job_that_waits_for_job_dismiss },
        { "on an async monitor blockdev-create replies once, when the job concludes",
          test_on_an_async_monitor_blockdev_create_replies_once_when_the_job_concludes },
        { "blockdev-create refuses bad options with QEMU's texts",
          test_blockdev_create_refuses_bad_options_with_qemus_texts },
        { "a failing create job concludes with QEMU's error",
          test_a_failing_create_job_concludes_with_qemus_error },
        { "blockdev-add opens only files that exist and images they hold",
          test_blockdev_add_opens_only_files_that_exist_and_images_they_hold },
        { "a qcow2 node with a backing shows as QEMU shows it",
          test_a_qcow2_node_with_a_backing_shows_as_qemu_shows_it },
        { "stream and commit write into the images", test_stream_and_commit_write_into_the_images },
        { "files: N fit, N + 1 fails the job", test_files_n_fit_and_n_plus_1_fails_the_job },
        { "filenames of N bytes fit, N + 1 fail the job",
          test_filenames_of_n_bytes_fit_and_n_plus_1_fail_the_job },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
