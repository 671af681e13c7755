/*
 * An engine with storage from the test's heap, monitors connected and
 * negotiated, and helpers to send a command and read back what a monitor
 * received, with timestamps zeroed.
 */
#ifndef QMPK_TEST_ENGINE_FIXTURE_H
#define QMPK_TEST_ENGINE_FIXTURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmpkit/engine.h"

typedef struct fixture {
    qmpk_engine_t e;
    void *storage;
    uint32_t mon[4];
    char out[4][1 << 16];   /* received since the last fx_take, per monitor */
    size_t out_len[4];
    uint64_t now;
} fixture_t;

/* profile, monitors to connect (each negotiated with caps, e.g. "[\"oob\"]"
 * or NULL for none) */
fixture_t *fx_new(qmpk_profile_t profile, int monitors, const char *caps);
fixture_t *fx_new_cfg(const qmpk_engine_config_t *cfg, int monitors, const char *caps);
void fx_free(fixture_t *f);
/* Send text on monitor i at the fixture's time; output is collected. */
void fx_send(fixture_t *f, int i, const char *text);
/* Move time forward by ns (running everything due) and collect output. */
void fx_advance(fixture_t *f, uint64_t ns);
/* What monitor i received since the last take, timestamps zeroed; the
 * string stays valid until the next take on i. */
const char *fx_take(fixture_t *f, int i);
/* Convenience: send, then take. */
const char *fx_cmd(fixture_t *f, int i, const char *text);
#endif
