/*
 * Engine set-up: configuration defaults, the storage layout carved out of
 * the caller's block, the error list, and the clock.
 */
#include <stdalign.h>
#include <string.h>

#include "internal.h"

static const char *const engine_names[] = {
#define QMPK_XX_NAME(num, name, desc) [num] = "QMPK_ENGINE_E_" #name,
    QMPK_ENGINE_ERRNO_MAP(QMPK_XX_NAME)
#undef QMPK_XX_NAME
};
static const char *const engine_descs[] = {
#define QMPK_XX_DESC(num, name, desc) [num] = desc,
    QMPK_ENGINE_ERRNO_MAP(QMPK_XX_DESC)
#undef QMPK_XX_DESC
};

const char *qmpk_engine_errname(qmpk_engine_errno_t e)
{
    size_t i = (size_t)e;
    if (i >= sizeof engine_names / sizeof engine_names[0] || !engine_names[i])
        return "QMPK_ENGINE_E_UNKNOWN";
    return engine_names[i];
}

const char *qmpk_engine_strerror(qmpk_engine_errno_t e)
{
    size_t i = (size_t)e;
    if (i >= sizeof engine_descs / sizeof engine_descs[0] || !engine_descs[i])
        return "unknown engine error";
    return engine_descs[i];
}

void qmpk_engine_config_default(qmpk_engine_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->profile = QMPK_PROFILE_QEMU72;
    cfg->version_major = 7;
    cfg->version_minor = 2;
    cfg->version_micro = 22;
}

static void apply_defaults(qmpk_engine_config_t *c)
{
#define DFLT(field, value) \
    do { if (!c->field) c->field = value; } while (0)
    DFLT(max_monitors, QMPK_ENGINE_DEFAULT_MONITORS);
    DFLT(max_jobs, QMPK_ENGINE_DEFAULT_JOBS);
    DFLT(max_nodes, QMPK_ENGINE_DEFAULT_NODES);
    DFLT(max_files, QMPK_ENGINE_DEFAULT_FILES);
    DFLT(max_pending, QMPK_ENGINE_DEFAULT_PENDING);
    DFLT(queue_depth, QMPK_ENGINE_DEFAULT_QUEUE_DEPTH);
    DFLT(msg_bytes, QMPK_ENGINE_DEFAULT_MSG_BYTES);
    DFLT(msg_tokens, QMPK_ENGINE_DEFAULT_MSG_TOKENS);
    DFLT(out_bytes, QMPK_ENGINE_DEFAULT_OUT_BYTES);
    DFLT(reply_bytes, QMPK_ENGINE_DEFAULT_REPLY_BYTES);
    DFLT(pending_bytes, QMPK_ENGINE_DEFAULT_PENDING_BYTES);
    DFLT(screendump_ns, 100000000ull);
#undef DFLT
}

static bool config_valid(const qmpk_engine_config_t *c)
{
    if (c->profile != QMPK_PROFILE_QEMU72 && c->profile != QMPK_PROFILE_EXTENDED)
        return false;
    if (c->max_monitors > QMPK_ENGINE_MAX_MONITORS || c->max_jobs > QMPK_ENGINE_MAX_JOBS ||
        c->max_nodes > QMPK_ENGINE_MAX_NODES || c->max_files > QMPK_ENGINE_MAX_FILES)
        return false;
    if (c->queue_depth < 1 || c->queue_depth > QMPK_ENGINE_MAX_QUEUE_DEPTH)
        return false;
    /* a reply must fit the output buffer, or input would never resume */
    if (c->reply_bytes < QMPK_ENGINE_MIN_REPLY_BYTES || c->out_bytes < c->reply_bytes)
        return false;
    return c->msg_bytes >= QMPK_ENGINE_MIN_MSG_BYTES &&
           c->msg_tokens >= QMPK_ENGINE_MIN_MSG_TOKENS &&
           c->pending_bytes >= QMPK_ENGINE_MIN_PENDING_BYTES;
}

/* The layout, computed once for the size and again for the init. */
typedef struct layout {
    size_t off;
    char *base;     /* NULL while sizing */
} layout_t;

static void *carve(layout_t *l, size_t n)
{
    size_t a = alignof(max_align_t);
    void *p;

    l->off = (l->off + a - 1) / a * a;
    p = l->base ? l->base + l->off : NULL;
    l->off += n;
    return p;
}

static size_t pend_tokens(const qmpk_engine_config_t *c)
{
    return c->pending_bytes / 2 + 8;
}

static void layout_slot(layout_t *l, const qmpk_engine_config_t *c, eng_slot_t *s)
{
    char *b = carve(l, c->msg_bytes);
    jsmntok_t *t = carve(l, (size_t)c->msg_tokens * sizeof(jsmntok_t));
    if (s) {
        s->bytes = b;
        s->tok = t;
    }
}

static void layout_monitor(layout_t *l, const qmpk_engine_config_t *c, struct qmpk_eng_mon *m)
{
    char *in = carve(l, (size_t)c->msg_bytes + QMPK_BUF_SLACK);
    jsmntok_t *tok = carve(l, (size_t)c->msg_tokens * sizeof(jsmntok_t));
    eng_slot_t *slots = carve(l, (size_t)(c->queue_depth + 1) * sizeof(eng_slot_t));
    char *out = carve(l, c->out_bytes);

    if (m) {
        m->inbuf = in;
        m->intok = tok;
        m->slots = slots;
        m->out = out;
    }
    for (uint32_t i = 0; i <= c->queue_depth; i++)
        layout_slot(l, c, m ? &slots[i] : NULL);
}

static void layout_all(layout_t *l, const qmpk_engine_config_t *c, qmpk_engine_t *e)
{
    struct qmpk_eng_mon *mons = carve(l, (size_t)c->max_monitors * sizeof *mons);
    struct qmpk_eng_job *jobs = carve(l, (size_t)c->max_jobs * sizeof *jobs);
    struct qmpk_eng_node *nodes = carve(l, (size_t)c->max_nodes * sizeof *nodes);
    struct qmpk_eng_pend *pend = carve(l, (size_t)c->max_pending * sizeof *pend);
    struct qmpk_eng_file *files = carve(l, (size_t)c->max_files * sizeof *files);
    char *scratch = carve(l, c->reply_bytes);
    char *scratch2 = carve(l, c->reply_bytes);

    if (e) {
        memset(mons, 0, (size_t)c->max_monitors * sizeof *mons);
        memset(jobs, 0, (size_t)c->max_jobs * sizeof *jobs);
        memset(nodes, 0, (size_t)c->max_nodes * sizeof *nodes);
        memset(pend, 0, (size_t)c->max_pending * sizeof *pend);
        memset(files, 0, (size_t)c->max_files * sizeof *files);
        e->files = files;
        e->mons = mons;
        e->jobs = jobs;
        e->nodes = nodes;
        e->pend = pend;
        e->scratch = scratch;
        e->scratch2 = scratch2;
    }
    for (uint32_t i = 0; i < c->max_monitors; i++)
        layout_monitor(l, c, e ? &mons[i] : NULL);
    for (uint32_t i = 0; i < c->max_pending; i++) {
        char *b = carve(l, c->pending_bytes);
        jsmntok_t *t = carve(l, pend_tokens(c) * sizeof(jsmntok_t));
        if (e) {
            pend[i].bytes = b;
            pend[i].tok = t;
        }
    }
}

size_t qmpk_engine_storage_size(const qmpk_engine_config_t *cfg)
{
    qmpk_engine_config_t c = *cfg;
    layout_t l = { 0, NULL };

    apply_defaults(&c);
    if (!config_valid(&c))
        return 0;
    layout_all(&l, &c, NULL);
    return l.off;
}

qmpk_engine_errno_t qmpk_engine_init(qmpk_engine_t *e, const qmpk_engine_config_t *cfg,
                                     void *storage, size_t storage_size)
{
    size_t need = qmpk_engine_storage_size(cfg);
    layout_t l;

    if (!e || !cfg || need == 0)
        return QMPK_ENGINE_E_BAD_CONFIG;
    if (!storage || storage_size < need || (uintptr_t)storage % alignof(max_align_t))
        return QMPK_ENGINE_E_STORAGE_TOO_SMALL;
    memset(e, 0, sizeof *e);
    e->cfg = *cfg;
    apply_defaults(&e->cfg);
    if (cfg->package) {
        strncpy(e->package, cfg->package, sizeof e->package - 1);
    }
    e->cfg.package = e->package;
    e->now = e->cfg.manual_clock ? e->cfg.clock_start_ns : 0;
    e->vm_running = true;
    e->ready_head = e->ready_tail = -1;
    l.off = 0;
    l.base = storage;
    layout_all(&l, &e->cfg, e);
    for (uint32_t i = 0; i < e->cfg.max_nodes; i++) {
        e->nodes[i].image = -1;
        e->nodes[i].backing = -1;
        e->nodes[i].busy_job = -1;
        e->nodes[i].file = -1;
    }
    return QMPK_ENGINE_E_OK;
}

/* The caller's clock only moves forward; in manual mode only x-clock-step
 * moves it.  Everything due before the new time runs first, at its own
 * time, so timestamps come out in order. */
static void catch_up(qmpk_engine_t *e, uint64_t now_ns)
{
    if (e->cfg.manual_clock)
        now_ns = e->now;
    eng_run_until(e, now_ns > e->now ? now_ns : e->now);
}

qmpk_engine_errno_t qmpk_engine_advance(qmpk_engine_t *e, uint64_t now_ns)
{
    catch_up(e, now_ns);
    return e->quit ? QMPK_ENGINE_E_QUIT : QMPK_ENGINE_E_OK;
}

uint64_t qmpk_engine_now(const qmpk_engine_t *e)
{
    return e->now;
}

bool qmpk_engine_quit_requested(const qmpk_engine_t *e)
{
    return e->quit;
}

uint64_t qmpk_engine_next_deadline(const qmpk_engine_t *e)
{
    uint64_t t = eng_jobs_next_wake(e);
    uint64_t p = eng_pending_next(e);

    if (p < t)
        t = p;
    uint64_t m = eng_monitors_next_due(e);
    if (m < t)
        t = m;
    if (e->cfg.manual_clock)
        return UINT64_MAX;
    return t;
}

/* the same catch-up before every input */
void eng_catch_up(qmpk_engine_t *e, uint64_t now_ns)
{
    catch_up(e, now_ns);
}

static uint64_t next_due(const qmpk_engine_t *e)
{
    uint64_t t = eng_jobs_next_wake(e);
    uint64_t p = eng_pending_next(e);
    uint64_t m = eng_monitors_next_due(e);

    if (p < t)
        t = p;
    return m < t ? m : t;
}

/*
 * Run everything due up to `until`, in time order, each at its own time so
 * that event timestamps are those of the simulated moment.
 */
void eng_run_until(qmpk_engine_t *e, uint64_t until)
{
    eng_dispatcher_run(e);
    for (;;) {
        uint64_t t = next_due(e);
        if (t > until || e->quit)
            break;
        if (t > e->now)
            e->now = t;
        eng_jobs_run(e, e->now);
        eng_monitors_finish_due(e, e->now);
        eng_pending_run(e, e->now);
        eng_dispatcher_run(e);
    }
    if (until > e->now)
        e->now = until;
}

uint32_t qmpk_engine_jobs_alive(const qmpk_engine_t *e)
{
    return e->live_jobs;
}

uint32_t qmpk_engine_pending_count(const qmpk_engine_t *e)
{
    return e->live_pending;
}

uint32_t qmpk_engine_monitors_used(const qmpk_engine_t *e)
{
    uint32_t n = 0;

    for (uint32_t i = 0; e->mons && i < e->cfg.max_monitors; i++)
        n += e->mons[i].used;
    return n;
}
