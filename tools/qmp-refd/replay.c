/*
 * --replay: run a trace written by --trace through a fresh engine with the
 * same configuration, making the same calls at the same engine times, and
 * check that every byte the engine produces is the byte recorded.  Since
 * the engine is deterministic, any difference is a bug (or a changed engine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refd.h"

void refd_trace_header(qt_buf_t *out, const qmpk_engine_config_t *c)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp),
             "\"profile\": \"%s\", \"manual-clock\": %s, \"clock-start-ns\": %llu, "
             "\"max-monitors\": %u, \"queue-depth\": %u, \"msg-bytes\": %u, "
             "\"msg-tokens\": %u, \"out-bytes\": %u, \"reply-bytes\": %u, "
             "\"max-jobs\": %u, \"max-nodes\": %u, \"max-pending\": %u, "
             "\"pending-bytes\": %u, \"no-oob\": %s, \"screendump-ns\": %llu, "
             "\"version\": [%d, %d, %d], \"package\": ",
             c->profile == QMPK_PROFILE_EXTENDED ? "extended" : "qemu-7.2",
             c->manual_clock ? "true" : "false",
             (unsigned long long)c->clock_start_ns, c->max_monitors,
             c->queue_depth, c->msg_bytes, c->msg_tokens, c->out_bytes,
             c->reply_bytes, c->max_jobs, c->max_nodes, c->max_pending,
             c->pending_bytes, c->no_oob ? "true" : "false",
             (unsigned long long)c->screendump_ns, c->version_major,
             c->version_minor, c->version_micro);
    qt_buf_puts(out, tmp);
    const char *pkg = c->package ? c->package : "";
    qt_json_latin1(out, pkg, strlen(pkg));
}

static uint64_t get_u64(const qmpk_msg_t *m, const char *key, uint64_t dflt)
{
    uint64_t v;
    int t = qmpk_get(m, 0, key);
    return t >= 0 && qmpk_uint64(m, t, &v) == QMPK_E_OK ? v : dflt;
}

static bool get_bool(const qmpk_msg_t *m, const char *key)
{
    bool v = false;
    int t = qmpk_get(m, 0, key);
    return t >= 0 && qmpk_bool(m, t, &v) == QMPK_E_OK && v;
}

static void config_from(const qmpk_msg_t *m, qmpk_engine_config_t *c,
                        char *pkg, size_t pkgcap)
{
    qmpk_engine_config_default(c);
    int p = qmpk_get(m, 0, "profile");
    c->profile = qmpk_str_eqz(m, p, "extended") ? QMPK_PROFILE_EXTENDED
                                                : QMPK_PROFILE_QEMU72;
    c->manual_clock = get_bool(m, "manual-clock");
    c->no_oob = get_bool(m, "no-oob");
    c->clock_start_ns = get_u64(m, "clock-start-ns", 0);
    c->max_monitors = (uint32_t)get_u64(m, "max-monitors", 0);
    c->queue_depth = (uint32_t)get_u64(m, "queue-depth", 0);
    c->msg_bytes = (uint32_t)get_u64(m, "msg-bytes", 0);
    c->msg_tokens = (uint32_t)get_u64(m, "msg-tokens", 0);
    c->out_bytes = (uint32_t)get_u64(m, "out-bytes", 0);
    c->reply_bytes = (uint32_t)get_u64(m, "reply-bytes", 0);
    c->max_jobs = (uint32_t)get_u64(m, "max-jobs", 0);
    c->max_nodes = (uint32_t)get_u64(m, "max-nodes", 0);
    c->max_pending = (uint32_t)get_u64(m, "max-pending", 0);
    c->pending_bytes = (uint32_t)get_u64(m, "pending-bytes", 0);
    c->screendump_ns = get_u64(m, "screendump-ns", 0);
    int v = qmpk_get(m, 0, "version");
    if (qmpk_count(m, v) == 3) {
        int64_t x[3];
        int t = qmpk_child(m, v);
        for (int i = 0; i < 3; i++, t = qmpk_next(m, t))
            if (qmpk_int64(m, t, &x[i]) != QMPK_E_OK)
                x[i] = 0;
        c->version_major = (int32_t)x[0];
        c->version_minor = (int32_t)x[1];
        c->version_micro = (int32_t)x[2];
    }
    size_t n = 0;
    int pk = qmpk_get(m, 0, "package");
    if (pk >= 0 && qmpk_str(m, pk, pkg, pkgcap, &n) == QMPK_E_OK)
        c->package = pkg;
}

typedef struct replay {
    qmpk_engine_t eng;
    void *storage;
    qt_trace_r_t r;
    unsigned long line;
    char why[512];
} replay_t;

/* Take n bytes of mon's output and compare them with the recording. */
static bool check_out(replay_t *rp, const qt_trace_ent_t *e)
{
    size_t done = 0;
    while (done < e->len) {
        const char *p;
        size_t len;
        if (!qmpk_engine_output(&rp->eng, (uint32_t)e->mon, &p, &len)) {
            snprintf(rp->why, sizeof(rp->why), "monitor %d: the engine has no "
                     "more output, the trace has %zu more bytes", e->mon,
                     e->len - done);
            return false;
        }
        size_t n = len < e->len - done ? len : e->len - done;
        for (size_t i = 0; i < n; i++) {
            if (p[i] != e->data[done + i]) {
                snprintf(rp->why, sizeof(rp->why), "monitor %d: output differs "
                         "at byte %zu of this write: engine '%.40s', trace "
                         "'%.40s'", e->mon, done + i, p + i, e->data + done + i);
                return false;
            }
        }
        qmpk_engine_output_consume(&rp->eng, (uint32_t)e->mon, n);
        done += n;
    }
    return true;
}

static bool step(replay_t *rp, const qt_trace_ent_t *e)
{
    uint64_t ns = get_u64(e->msg, "ns", 0);
    uint32_t mon = 0;
    size_t used = 0;
    switch (e->dir) {
    case QT_DIR_CONNECT:
        if (qmpk_engine_connect(&rp->eng, ns, NULL, &mon) != QMPK_ENGINE_E_OK ||
            mon != (uint32_t)e->mon) {
            snprintf(rp->why, sizeof(rp->why), "connect gave monitor %u, the "
                     "trace says %d", mon, e->mon);
            return false;
        }
        return true;
    case QT_DIR_IN:
        qmpk_engine_input(&rp->eng, (uint32_t)e->mon, e->data, e->len, ns, &used);
        if (used != e->len)
            snprintf(rp->why, sizeof(rp->why), "monitor %d took %zu of %zu "
                     "input bytes", e->mon, used, e->len);
        return used == e->len;
    case QT_DIR_OUT:
        return check_out(rp, e);
    case QT_DIR_CLOSE:
        qmpk_engine_disconnect(&rp->eng, (uint32_t)e->mon, ns);
        return true;
    case QT_DIR_NOTE:
        if (e->note && strcmp(e->note, "advance") == 0)
            qmpk_engine_advance(&rp->eng, ns);
#ifdef QMPK_ENGINE_HAS_SHUTDOWN
        else if (e->note && strcmp(e->note, "shutdown") == 0)
            qmpk_engine_shutdown(&rp->eng, ns);
#endif
        return true;
    }
    return true;
}

static int start(replay_t *rp, const char *path)
{
    char err[512], pkg[128];
    qt_trace_ent_t e;
    if (qt_trace_ropen(&rp->r, path, err, sizeof(err)) < 0 ||
        qt_trace_next(&rp->r, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmp-refd: %s\n", err);
        return 2;
    }
    if (e.dir != QT_DIR_NOTE || !e.note || strcmp(e.note, "qmp-refd trace") != 0) {
        fprintf(stderr, "qmp-refd: '%s' does not start with a qmp-refd trace "
                "header; only traces written by qmp-refd --trace replay\n", path);
        return 2;
    }
    qmpk_engine_config_t cfg;
    config_from(e.msg, &cfg, pkg, sizeof(pkg));
    size_t need = qmpk_engine_storage_size(&cfg);
    rp->storage = need ? malloc(need) : NULL;
    if (!rp->storage ||
        qmpk_engine_init(&rp->eng, &cfg, rp->storage, need) != QMPK_ENGINE_E_OK) {
        fprintf(stderr, "qmp-refd: cannot set up the engine the trace "
                "describes\n");
        return 2;
    }
    return 0;
}

int refd_replay(const char *path, bool quiet)
{
    replay_t rp;
    memset(&rp, 0, sizeof(rp));
    int rc = start(&rp, path);
    unsigned long entries = 0;
    while (rc == 0) {
        char err[512];
        qt_trace_ent_t e;
        int got = qt_trace_next(&rp.r, &e, err, sizeof(err));
        if (got < 0) {
            fprintf(stderr, "qmp-refd: %s\n", err);
            rc = 2;
        } else if (got == 0) {
            break;
        } else if (!step(&rp, &e)) {
            fprintf(stderr, "qmp-refd: replay of %s differs at line %lu: %s\n",
                    path, rp.r.lineno, rp.why);
            rc = 1;
        }
        entries++;
    }
    if (rc == 0 && !quiet)
        fprintf(stderr, "qmp-refd: replayed %lu entries of %s: identical\n",
                entries, path);
    qt_trace_rclose(&rp.r);
    free(rp.storage);
    return rc;
}
