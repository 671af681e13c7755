#include "script.h"

#include <string.h>

#define MS 1000000ull

typedef struct step {
    uint64_t t_ms;
    int conn;           /* 0..2 */
    char op;            /* c connect, s send, d disconnect, a advance */
    const char *text;
} step_t;

#define ADD(n, extra) \
    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"null-co\",\"node-name\":\"" n "\"" extra "}}"

static const step_t steps[] = {
    { 0, 0, 'c', NULL },
    { 0, 1, 'c', NULL },
    { 1, 0, 's', "{\"execute\":\"query-version\"}" },
    { 2, 0, 's', "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\",\"async\"]}}" },
    { 3, 1, 's', "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"qmp_capabilities\",\"id\":9}" },
    { 4, 2, 'c', NULL },
    { 5, 0, 's', ADD("src", "") ADD("dst", "") ADD("dst2", "") ADD("slow", ",\"latency-ns\":5000000") },
    { 6, 0, 's', "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"blkdebug\",\"node-name\":"
                 "\"bad\",\"image\":\"dst2\",\"inject-error\":[{\"event\":\"pwritev\",\"once\":true}]}}" },
    { 7, 0, 's', "{\"execute\":\"blockdev-mirror\",\"arguments\":{\"job-id\":\"m\",\"device\":\"src\","
                 "\"target\":\"dst\",\"sync\":\"full\",\"speed\":8388608,\"auto-finalize\":false},\"id\":1}" },
    { 8, 1, 's', "{\"execute\":\"query-jobs\",\"id\":\"q\"}{\"execute\":\"query-block-jobs\"}" },
    { 9, 0, 's', "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":30,\"result\":[1,{\"b\":2,\"a\":1}]},"
                 "\"id\":\"d\"}{\"exec-oob\":\"query-yank\",\"id\":\"o\"}{]" },
    { 10, 2, 's', "{\"execute\":\"qmp_capabilities\"}" },
    { 20, 1, 's', "{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"m\"}}" },
    { 50, 1, 's', "{\"execute\":\"block-job-resume\",\"arguments\":{\"device\":\"m\"}}" },
    { 60, 2, 's', "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"b\",\"device\":\"dst2\","
                  "\"target\":\"slow\",\"sync\":\"full\",\"speed\":33554432}}" },
    { 70, 0, 's', "{\"execute\":\"x-query-pending\"}{\"execute\":\"x-delay\",\"arguments\":{\"ms\":500},"
                  "\"id\":{\"k\":1}}" },
    { 80, 1, 's', "{\"execute\":\"block-job-set-speed\",\"arguments\":{\"device\":\"m\",\"speed\":0}}" },
    { 90, 0, 's', "{\"execute\":\"job-complete\",\"arguments\":{\"id\":\"m\"}}" },
    { 100, 2, 's', "{\"execute\":\"job-finalize\",\"arguments\":{\"id\":\"m\"}}" },
    { 150, 1, 's', "{\"execute\":\"x-cancel\",\"arguments\":{\"id\":{\"k\":1},\"monitor-id\":0}}" },
    { 200, 2, 's', "{\"execute\":\"job-cancel\",\"arguments\":{\"id\":\"b\"}}" },
    { 300, 2, 's', "{\"execute\":\"blockdev-backup\",\"arguments\":{\"job-id\":\"e\",\"device\":\"src\","
                   "\"target\":\"bad\",\"sync\":\"full\",\"auto-dismiss\":false}}" },
    { 310, 1, 's', "{\"execute\":\"query-jobs\"}{\"execute\":\"job-dismiss\",\"arguments\":{\"id\":\"e\"}}" },
    { 320, 0, 's', "{\"execute\":\"transaction\",\"arguments\":{\"actions\":["
                   "{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"t1\",\"device\":\"src\","
                   "\"target\":\"dst\",\"sync\":\"full\"}},"
                   "{\"type\":\"blockdev-backup\",\"data\":{\"job-id\":\"t2\",\"device\":\"dst2\","
                   "\"target\":\"slow\",\"sync\":\"full\",\"speed\":67108864}}],"
                   "\"properties\":{\"completion-mode\":\"grouped\"}}}" },
    { 330, 0, 's', "{\"execute\":\"x-delay\",\"arguments\":{\"ms\":1000},\"id\":\"gone\"}" },
    { 340, 0, 'd', NULL },
    { 400, 1, 's', "{\"execute\":\"stop\"}{\"execute\":\"cont\"}{\"execute\":\"query-status\"}" },
    { 30000, 1, 'a', NULL },
    { 30001, 2, 's', "{\"execute\":\"query-jobs\"}{\"execute\":\"quit\"}" },
};

void script_config(qmpk_engine_config_t *cfg)
{
    qmpk_engine_config_default(cfg);
    cfg->profile = QMPK_PROFILE_EXTENDED;
    cfg->max_monitors = 3;
    cfg->out_bytes = 1u << 19;
}

static void drain(qmpk_engine_t *e, const uint32_t *mon, const int *live, script_sink_t sink,
                  void *ctx)
{
    for (int c = 0; c < 3; c++) {
        const char *p;
        size_t n;
        while (live[c] && qmpk_engine_output(e, mon[c], &p, &n)) {
            sink(ctx, c, p, n);
            qmpk_engine_output_consume(e, mon[c], n);
        }
    }
}

int script_run(qmpk_engine_t *e, script_sink_t sink, void *ctx)
{
    uint32_t mon[3] = { 0, 0, 0 };
    int live[3] = { 0, 0, 0 };
    int n = 0;

    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++, n++) {
        const step_t *s = &steps[i];
        uint64_t t = s->t_ms * MS;
        qmpk_engine_advance(e, t);
        drain(e, mon, live, sink, ctx);
        if (s->op == 'c') {
            live[s->conn] = qmpk_engine_connect(e, t, NULL, &mon[s->conn]) == QMPK_ENGINE_E_OK;
        } else if (s->op == 'd') {
            qmpk_engine_disconnect(e, mon[s->conn], t);
            live[s->conn] = 0;
        } else if (s->op == 's') {
            size_t len = strlen(s->text), off = 0, used;
            for (int guard = 0; off < len && guard < 100; guard++) {
                qmpk_engine_input(e, mon[s->conn], s->text + off, len - off, t, &used);
                off += used;
                drain(e, mon, live, sink, ctx);
                if (off < len) {
                    uint64_t d = qmpk_engine_next_deadline(e);
                    t = d > t && d != UINT64_MAX ? d : t;
                    qmpk_engine_advance(e, t);
                }
            }
        }
        drain(e, mon, live, sink, ctx);
    }
    return n;
}
