#include "fixture.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

static void collect(fixture_t *f)
{
    for (int i = 0; i < 4; i++) {
        const char *p;
        size_t len;
        if (!qmpk_engine_monitor_connected(&f->e, f->mon[i]))
            continue;
        while (qmpk_engine_output(&f->e, f->mon[i], &p, &len)) {
            size_t room = sizeof f->out[i] - 1 - f->out_len[i];
            size_t n = len < room ? len : room;
            memcpy(f->out[i] + f->out_len[i], p, n);
            f->out_len[i] += n;
            qmpk_engine_output_consume(&f->e, f->mon[i], len);
        }
    }
}

fixture_t *fx_new_cfg(const qmpk_engine_config_t *cfg, int monitors, const char *caps)
{
    fixture_t *f = calloc(1, sizeof *f);
    size_t need = qmpk_engine_storage_size(cfg);
    char neg[256];

    if (!f)
        return NULL;
    f->storage = aligned_alloc(alignof(max_align_t), (need + 63) / 64 * 64);
    if (!f->storage || qmpk_engine_init(&f->e, cfg, f->storage, need) != QMPK_ENGINE_E_OK) {
        fx_free(f);
        return NULL;
    }
    for (int i = 0; i < 4; i++)
        f->mon[i] = UINT32_MAX;
    for (int i = 0; i < monitors && i < 4; i++) {
        qmpk_engine_connect(&f->e, f->now, NULL, &f->mon[i]);
        if (caps)
            snprintf(neg, sizeof neg,
                     "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":%s}}", caps);
        else
            snprintf(neg, sizeof neg, "{\"execute\":\"qmp_capabilities\"}");
        fx_send(f, i, neg);
        fx_take(f, i);
    }
    return f;
}

fixture_t *fx_new(qmpk_profile_t profile, int monitors, const char *caps)
{
    qmpk_engine_config_t cfg;

    qmpk_engine_config_default(&cfg);
    cfg.profile = profile;
    cfg.max_monitors = 4;
    cfg.out_bytes = 1u << 18;
    return fx_new_cfg(&cfg, monitors, caps);
}

void fx_free(fixture_t *f)
{
    if (!f)
        return;
    free(f->storage);
    free(f);
}

void fx_send(fixture_t *f, int i, const char *text)
{
    size_t len = strlen(text), off = 0;

    for (int guard = 0; off < len && guard < 1000; guard++) {
        size_t used = 0;
        qmpk_engine_input(&f->e, f->mon[i], text + off, len - off, f->now, &used);
        off += used;
        collect(f);
        if (off < len) {
            /* suspended: let time pass until the running command is done */
            uint64_t d = qmpk_engine_next_deadline(&f->e);
            if (d != UINT64_MAX && d > f->now)
                f->now = d;
            qmpk_engine_advance(&f->e, f->now);
            collect(f);
        }
    }
}

void fx_advance(fixture_t *f, uint64_t ns)
{
    f->now += ns;
    qmpk_engine_advance(&f->e, f->now);
    collect(f);
}

const char *fx_take(fixture_t *f, int i)
{
    static char norm[4][1 << 16];

    collect(f);
    size_t n = normalize_timestamps(f->out[i], f->out_len[i], norm[i], sizeof norm[i] - 1);
    norm[i][n] = '\0';
    f->out_len[i] = 0;
    return norm[i];
}

const char *fx_cmd(fixture_t *f, int i, const char *text)
{
    fx_send(f, i, text);
    return fx_take(f, i);
}
