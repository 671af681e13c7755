/*
 * Zero allocation: the scripted multi-monitor session (jobs of every kind,
 * a transaction, failures, async commands, disconnects) runs while malloc,
 * calloc, realloc and free are counted.  The storage is allocated before
 * counting starts; the sink only counts bytes.
 */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc_count.h"
#include "harness.h"
#include "script.h"

static size_t bytes_out;

static void sink(void *ctx, int conn, const char *p, size_t n)
{
    (void)ctx;
    (void)conn;
    (void)p;
    bytes_out += n;
}

static void test_the_engine_never_allocates(void)
{
    qmpk_engine_config_t cfg;
    static qmpk_engine_t e;

    script_config(&cfg);
    size_t need = qmpk_engine_storage_size(&cfg);
    void *storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    if (!CHECK(storage != NULL))
        return;
    qmpk_alloc_count_start();
    qmpk_engine_errno_t rc = qmpk_engine_init(&e, &cfg, storage, need);
    int steps = script_run(&e, sink, NULL);
    size_t calls = qmpk_alloc_count_stop();
    CHECK(rc == QMPK_ENGINE_E_OK);
    CHECK(steps > 20 && bytes_out > 4000);
    CHECK(calls == 0);
    printf("    %d steps, %zu bytes out, %zu allocation calls\n", steps, bytes_out, calls);
    free(storage);
}

/* query-named-block-nodes, human-monitor-command and qom-set, on every
 * path that builds text (json: filenames, HMP output, error texts). */
static const char misc_session[] =
    "{\"execute\":\"qmp_capabilities\"}"
    /* simulated files and qcow2 images: create jobs, a chain, stream, commit */
    "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"c1\",\"options\":{\"driver\":"
    "\"file\",\"filename\":\"/b.qcow2\",\"size\":0}}}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"file\",\"node-name\":\"bf\","
    "\"filename\":\"/b.qcow2\"}}"
    "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"c2\",\"options\":{\"driver\":"
    "\"qcow2\",\"file\":\"bf\",\"size\":1048576,\"preallocation\":\"metadata\"}}}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"qcow2\",\"node-name\":\"qb\","
    "\"file\":\"bf\"}}"
    "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"c3\",\"options\":{\"driver\":"
    "\"file\",\"filename\":\"/t.qcow2\",\"size\":0}}}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"file\",\"node-name\":\"tf\","
    "\"filename\":\"/t.qcow2\"}}"
    "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"c4\",\"options\":{\"driver\":"
    "\"qcow2\",\"file\":\"tf\",\"size\":1000}}}"
    "{\"execute\":\"blockdev-create\",\"arguments\":{\"job-id\":\"c5\",\"options\":{\"driver\":"
    "\"qcow2\",\"file\":\"tf\",\"size\":1048576}}}"
    "{\"execute\":\"query-jobs\"}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"qcow2\",\"node-name\":\"qt\","
    "\"file\":\"tf\",\"backing\":\"qb\"}}"
    "{\"execute\":\"query-named-block-nodes\"}"
    "{\"execute\":\"block-commit\",\"arguments\":{\"job-id\":\"cm\",\"device\":\"qt\"}}"
    "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"cm\"}}"
    "{\"execute\":\"block-stream\",\"arguments\":{\"job-id\":\"st\",\"device\":\"qt\"}}"
    "{\"execute\":\"query-named-block-nodes\"}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"a\"}}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"b\","
    "\"size\":1048576,\"read-zeroes\":true}}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\",\"node-name\":\"r\","
    "\"file\":{\"driver\":\"null-co\",\"size\":512}}}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\",\"node-name\":\"k\","
    "\"image\":\"b\"}}"
    "{\"execute\":\"query-named-block-nodes\",\"arguments\":{\"flat\":true}}"
    "{\"execute\":\"query-named-block-nodes\"}"
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"m\"}}"
    "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"j\",\"device\":\"a\","
    "\"target\":\"m\",\"sync\":\"full\",\"speed\":1}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info block-jobs\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info version\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info block -n\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"  info  nosuch x\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"stop now\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"stop\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info qtree\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"x\",\"cpu-index\":0}}"
    "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/nosuch\",\"property\":\"x\",\"value\":1}}"
    "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"machine\",\"property\":\"usb\",\"value\":1}}"
    "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine\",\"property\":\"memory-backend\","
    "\"value\":\"/machine\"}}"
    "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"quit\"}}";

static void test_misc_commands_never_allocate(void)
{
    qmpk_engine_config_t cfg;
    static qmpk_engine_t e;
    uint32_t mon;
    size_t used, off = 0, before = bytes_out;
    const char *p;
    size_t n;

    qmpk_engine_config_default(&cfg);
    size_t need = qmpk_engine_storage_size(&cfg);
    void *storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    if (!CHECK(storage != NULL))
        return;
    qmpk_alloc_count_start();
    qmpk_engine_errno_t rc = qmpk_engine_init(&e, &cfg, storage, need);
    CHECK(rc == QMPK_ENGINE_E_OK && qmpk_engine_connect(&e, 0, NULL, &mon) == QMPK_ENGINE_E_OK);
    for (int guard = 0; off < sizeof misc_session - 1 && guard < 1000; guard++) {
        if (qmpk_engine_input(&e, mon, misc_session + off, sizeof misc_session - 1 - off, 0,
                              &used) != QMPK_ENGINE_E_OK)
            break;
        off += used;
        while (qmpk_engine_output(&e, mon, &p, &n)) {
            sink(NULL, 0, p, n);
            qmpk_engine_output_consume(&e, mon, n);
        }
    }
    size_t calls = qmpk_alloc_count_stop();
    CHECK(qmpk_engine_quit_requested(&e));  /* the last command ran */
    CHECK(bytes_out - before > 8000);
    CHECK(calls == 0);
    printf("    %zu bytes out, %zu allocation calls\n", bytes_out - before, calls);
    free(storage);
}

int main(int argc, char **argv)
{
    static const qmpk_test_t tests[] = {
        { "the engine never allocates", test_the_engine_never_allocates },
        { "query-named-block-nodes, HMP, qom-set never allocate", test_misc_commands_never_allocate },
    };
    return qmpk_run_tests(tests, QMPK_NTESTS(tests), argc, argv);
}
