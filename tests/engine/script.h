/*
 * A scripted multi-monitor session touching every part of the engine
 * (negotiation, OOB, errors, several monitors, jobs of every kind, a
 * grouped transaction, failures, async commands, disconnects).  Running it
 * allocates nothing: the engine is the caller's, output goes to a sink.
 */
#ifndef QMPK_TEST_ENGINE_SCRIPT_H
#define QMPK_TEST_ENGINE_SCRIPT_H
#include <stddef.h>
#include <stdint.h>

#include "qmpkit/engine.h"

typedef void (*script_sink_t)(void *ctx, int conn, const char *p, size_t n);

/* The configuration the script expects (extended profile, 3 monitors). */
void script_config(qmpk_engine_config_t *cfg);
/* Runs the script on an initialised engine; returns the steps run. */
int script_run(qmpk_engine_t *e, script_sink_t sink, void *ctx);
#endif
