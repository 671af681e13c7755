/*
 * Block job drivers, simulated: mirror, backup, stream and commit copy
 * their length in chunks over null-co nodes.  A chunk takes the nodes'
 * latency-ns; with a speed, the job sleeps chunk / speed after each chunk
 * (QEMU's rate limit, which lets the first chunk through at once).  Faults
 * come from blkdebug inject-error rules on the nodes.  Also the block-job
 * events, with QEMU's member orders.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MiB (1024ull * 1024ull)

const char *eng_strerror(int err)
{
    /* glibc's texts, so the output does not depend on the host's libc */
    switch (err) {
    case EIO: return "Input/output error";
    case ENOSPC: return "No space left on device";
    case ECANCELED: return "Operation canceled";
    case EINVAL: return "Invalid argument";
    case EPERM: return "Operation not permitted";
    case ENOMEM: return "Cannot allocate memory";
    case EROFS: return "Read-only file system";
    default: return "Unknown error";
    }
}

/* ------------------------------------------------------------------ */
/* Events                                                               */

void eng_event_job_status(qmpk_engine_t *e, const struct qmpk_eng_job *j)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, "JOB_STATUS_CHANGE", true);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "status");
    qmpk_w_str(&w, eng_job_status_name[j->status]);
    qmpk_w_key(&w, "id");
    qmpk_w_str(&w, j->id);
    qmpk_w_obj_end(&w);
    eng_event_end(e, &w, true);
}

/* BLOCK_JOB_READY / _COMPLETED / _CANCELLED: device, len, offset, speed,
 * type[, error] (error on COMPLETED only, when the job failed) */
void eng_event_block_job(qmpk_engine_t *e, const struct qmpk_eng_job *j, const char *name)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, name, true);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "device");
    qmpk_w_str(&w, j->id);
    qmpk_w_key(&w, "len");
    qmpk_w_uint(&w, j->len);
    qmpk_w_key(&w, "offset");
    qmpk_w_uint(&w, j->offset);
    qmpk_w_key(&w, "speed");
    qmpk_w_int(&w, j->speed);
    qmpk_w_key(&w, "type");
    qmpk_w_str(&w, eng_job_type_name[j->type]);
    if (strcmp(name, "BLOCK_JOB_COMPLETED") == 0 && j->ret < 0) {
        qmpk_w_key(&w, "error");
        qmpk_w_str(&w, j->error);
    }
    qmpk_w_obj_end(&w);
    eng_event_end(e, &w, true);
}

void eng_event_block_job_pending(qmpk_engine_t *e, const struct qmpk_eng_job *j)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, "BLOCK_JOB_PENDING", true);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "type");
    qmpk_w_str(&w, eng_job_type_name[j->type]);
    qmpk_w_key(&w, "id");
    qmpk_w_str(&w, j->id);
    qmpk_w_obj_end(&w);
    eng_event_end(e, &w, true);
}

void eng_event_block_job_error(qmpk_engine_t *e, const struct qmpk_eng_job *j, bool write,
                               const char *action)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, "BLOCK_JOB_ERROR", true);
    qmpk_w_obj_begin(&w);
    qmpk_w_key(&w, "device");
    qmpk_w_str(&w, j->id);
    qmpk_w_key(&w, "operation");
    qmpk_w_str(&w, write ? "write" : "read");
    qmpk_w_key(&w, "action");
    qmpk_w_str(&w, action);
    qmpk_w_obj_end(&w);
    eng_event_end(e, &w, true);
}

/* ------------------------------------------------------------------ */
/* Nodes seen by a job                                                  */

static struct qmpk_eng_node *node_at(qmpk_engine_t *e, int i)
{
    return i >= 0 ? &e->nodes[i] : NULL;
}

static uint64_t node_latency(qmpk_engine_t *e, int i)
{
    uint64_t lat = 0;

    /* a blkdebug node adds nothing to its image's latency */
    for (int depth = 0; i >= 0 && depth < 8; depth++) {
        const struct qmpk_eng_node *n = &e->nodes[i];
        if (n->latency_ns > lat)
            lat = n->latency_ns;
        i = n->image;
    }
    return lat;
}

static uint64_t job_latency(qmpk_engine_t *e, const struct qmpk_eng_job *j)
{
    uint64_t a = node_latency(e, j->src), b = node_latency(e, j->dst);
    return a > b ? a : b;
}

/* Does rule f hit a request of BlkdebugIOType io?  Its event arms it
 * (a data write fires 'pwritev', a zero write 'pwritev_zero') and an
 * armed rule stays armed for any later request its iotype admits; with
 * no iotype that is every type but block-status. */
static bool rule_hits(eng_fault_t *f, int io)
{
    if (!f->used)
        return false;
    if ((f->arm == ARM_ON_WRITE && io == FAULT_IO_WRITE) ||
        (f->arm == ARM_ON_ZERO_WRITE && io == FAULT_IO_WRITE_ZEROES))
        f->armed = true;
    if (!f->armed)
        return false;
    return f->iotype >= 0 ? f->iotype == io : io != FAULT_IO_BLOCK_STATUS;
}

/* The blkdebug node under node i (raw nodes pass requests down), or NULL. */
static struct qmpk_eng_node *blkdebug_under(qmpk_engine_t *e, int i)
{
    struct qmpk_eng_node *node = node_at(e, i);

    for (int depth = 0; node && node->driver == DRV_RAW && depth < 8; depth++)
        node = node_at(e, node->image);
    return node && node->driver == DRV_BLKDEBUG ? node : NULL;
}

/* The errno of the first blkdebug rule a request of type io on
 * [off, off + n) hits, or 0; a flush (n 0) is hit only by rules without
 * a sector. */
static int node_fault(qmpk_engine_t *e, int i, int io, uint64_t off, uint64_t n)
{
    struct qmpk_eng_node *node = blkdebug_under(e, i);

    if (!node)
        return 0;
    if (io == FAULT_IO_WRITE || io == FAULT_IO_WRITE_ZEROES)
        node->unflushed = true;     /* QEMU bumps write_gen even on failure */
    for (int k = 0; k < ENG_FAULTS; k++) {
        eng_fault_t *f = &node->faults[k];
        if (!rule_hits(f, io))
            continue;
        if (f->sector >= 0 && (n == 0 || (uint64_t)f->sector * 512u < off ||
                               (uint64_t)f->sector * 512u >= off + n))
            continue;
        if (f->once)
            f->used = false;
        return f->err;
    }
    return 0;
}

/* bdrv_co_flush() of a job's target: only a node written since its last
 * flush reaches the driver. */
static int flush_fault(qmpk_engine_t *e, int i)
{
    struct qmpk_eng_node *node = blkdebug_under(e, i);

    if (!node || !node->unflushed)
        return 0;
    int err = node_fault(e, i, FAULT_IO_FLUSH, 0, 0);
    if (!err)
        node->unflushed = false;
    return err;
}

/* Does node i (through blkdebug and raw layers) read as zeroes? */
static bool node_reads_zeroes(qmpk_engine_t *e, int i)
{
    for (int depth = 0; i >= 0 && depth < 8; depth++) {
        if (e->nodes[i].driver == DRV_NULL_CO || e->nodes[i].driver == DRV_NULL_AIO)
            return e->nodes[i].read_zeroes;
        i = e->nodes[i].image;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Steps                                                                */

static void driver_exit(qmpk_engine_t *e, struct qmpk_eng_job *j, int ret)
{
    if (ret < 0 && !j->ret)
        j->ret = ret;
    j->completed_work = true;
    j->exit_pending = true;
    j->timer = false;
    j->wake = eng_now(e);
}

/* block_job_error_action(): the action for on-error, the event, and for
 * 'stop' a user-visible pause with the io-status set. */
static const char *error_action(qmpk_engine_t *e, struct qmpk_eng_job *j, bool write, int err)
{
    on_error_t oe = write ? j->on_target_error : j->on_source_error;
    const char *action = "report";

    if (oe == OE_STOP || ((oe == OE_ENOSPC || oe == OE_AUTO) && err == ENOSPC))
        action = "stop";
    else if (oe == OE_IGNORE)
        action = "ignore";
    eng_event_block_job_error(e, j, write, action);
    if (strcmp(action, "stop") == 0) {
        if (!j->user_paused) {
            j->pause_count++;
            j->user_paused = true;
        }
        j->io_status = err == ENOSPC ? IOS_NOSPACE : IOS_FAILED;
    }
    return action;
}

/* The errno of the first fault a copy of [off, off + n) hits, 0 if none;
 * *write tells which side failed.  What a copy does over null-co, as
 * QEMU: from a source that reads zeroes (block status ZERO) mirror and
 * backup write zeroes without reading; otherwise backup reads and writes
 * data, and mirror finds nothing allocated and writes nothing (its
 * discards are dropped on nodes without discard=unmap). */
static int chunk_fault(qmpk_engine_t *e, const struct qmpk_eng_job *j, uint64_t off, uint64_t n,
                       bool *write)
{
    int err = 0;

    *write = false;
    if (j->dst >= 0 && (j->type == JT_MIRROR || j->type == JT_BACKUP) &&
        node_reads_zeroes(e, j->src)) {
        err = node_fault(e, j->dst, FAULT_IO_WRITE_ZEROES, off, n);
        *write = err != 0;
        return err;
    }
    if (j->type == JT_MIRROR)
        return 0;
    err = node_fault(e, j->src, FAULT_IO_READ, off, n);
    if (!err && j->dst >= 0) {
        err = node_fault(e, j->dst, FAULT_IO_WRITE, off, n);
        *write = err != 0;
    }
    return err;
}

/* After the error action: false when it stopped or ended the job. */
static bool apply_error(qmpk_engine_t *e, struct qmpk_eng_job *j, bool write, int err)
{
    const char *action = error_action(e, j, write, err);

    if (action[0] == 'i')
        return true;
    if (action[0] == 's') {
        eng_job_pause_point(e, j);
        return false;
    }
    j->poll_stop = true;
    driver_exit(e, j, -err);
    return false;
}

/* Copy [offset, offset + n): false when an error stopped the job. */
static bool copy_chunk(qmpk_engine_t *e, struct qmpk_eng_job *j, uint64_t n)
{
    bool write;
    int err = chunk_fault(e, j, j->offset, n, &write);

    if (!err) {
        j->offset += n;
        eng_blockjob_image_copy(e, j, j->offset);
        return true;
    }
    bool go_on = apply_error(e, j, write, err);
    if (go_on)
        j->offset += n;     /* ignored: the engine skips rather than retries */
    return go_on;
}

static void sweep_begin(struct qmpk_eng_job *j)
{
    if (!j->sweeping) {
        j->sweeping = true;
        j->pos = j->offset;
    }
}

/* Clusters a sweep still has to try: the dirty ones, then the rest. */
static uint64_t sweep_left(const struct qmpk_eng_job *j)
{
    return j->nfailed + (j->len - j->pos + j->chunk - 1) / j->chunk;
}

/* An unthrottled backup: QEMU's block-copy starts a task per cluster;
 * without latency successful ones finish at once and failing ones yield
 * first (blkdebug's default), so every cluster is tried until
 * ENG_COPY_WORKERS failures are held; one BLOCK_JOB_ERROR follows, and
 * the failed clusters stay dirty for the next call (after a resume).
 * offset counts the bytes copied.  With latency, the ENG_COPY_WORKERS
 * requests in flight together finish at once: max bounds the tries. */
static void backup_sweep(qmpk_engine_t *e, struct qmpk_eng_job *j, uint64_t max)
{
    uint64_t left[ENG_COPY_WORKERS];
    uint32_t nleft = 0;
    bool write = false, w;
    int err = 0;

    sweep_begin(j);
    uint64_t tries = sweep_left(j) < max ? sweep_left(j) : max;
    for (uint64_t i = 0; i < tries && nleft < ENG_COPY_WORKERS; i++) {
        bool retry = i < j->nfailed;
        uint64_t off = retry ? j->failed[i] : j->pos;
        uint64_t n = j->len - off < j->chunk ? j->len - off : j->chunk;
        int e2 = chunk_fault(e, j, off, n, &w);
        if (!retry)
            j->pos += n;
        if (!e2) {
            j->offset += n;
            continue;
        }
        left[nleft++] = off;
        if (!err) {
            err = e2;
            write = w;
        }
    }
    memcpy(j->failed, left, nleft * sizeof left[0]);
    j->nfailed = nleft;
    j->wake = eng_now(e);
    if (!nleft || !apply_error(e, j, write, err))
        return;
    /* ignored: the engine counts the failed clusters as copied */
    for (uint32_t i = 0; i < nleft; i++)
        j->offset += j->len - left[i] < j->chunk ? j->len - left[i] : j->chunk;
    j->nfailed = 0;
}

static void schedule_after_chunk(qmpk_engine_t *e, struct qmpk_eng_job *j, uint64_t n)
{
    if (j->speed > 0) {
        uint64_t delay = (uint64_t)((double)n * 1e9 / (double)j->speed);
        j->wake = eng_now(e) + delay;
        j->timer = true;
    } else {
        j->wake = eng_now(e);
    }
}

static void issue_chunk(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    uint64_t n = j->len - j->offset;
    uint64_t lat = job_latency(e, j);

    if (j->type == JT_BACKUP && (j->sweeping || j->speed == 0)) {
        if (lat == 0) {
            backup_sweep(e, j, UINT64_MAX);
            return;
        }
        sweep_begin(j);
        uint64_t k = sweep_left(j) < ENG_COPY_WORKERS ? sweep_left(j) : ENG_COPY_WORKERS;
        j->inflight = k * j->chunk;
        j->wake = eng_now(e) + lat;
        return;
    }
    /* an unthrottled mirror without latency over a source with no data
     * copies everything at once, as QEMU's mirror does on null-co (nothing
     * allocated); one that writes zeroes goes chunk by chunk */
    if (n > j->chunk && (j->speed > 0 || lat > 0 || j->type != JT_MIRROR ||
                         node_reads_zeroes(e, j->src)))
        n = j->chunk;
    if (lat > 0) {
        j->inflight = n;
        j->wake = eng_now(e) + lat;
        return;
    }
    if (copy_chunk(e, j, n))
        schedule_after_chunk(e, j, n);
}

/* The copy is done: mirror-like jobs become ready and wait for complete or
 * a soft cancel; the others return. */
static void copy_done(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (j->type != JT_MIRROR && !j->active_commit) {
        driver_exit(e, j, 0);
        return;
    }
    if (j->status == JS_RUNNING) {
        /* mirror_run() flushes the target before it reports ready */
        int err = flush_fault(e, j->dst);
        if (err && !apply_error(e, j, true, err))
            return;
        eng_job_transition(e, j, JS_READY);
        eng_event_block_job(e, j, "BLOCK_JOB_READY");
    }
    if (j->should_complete) {
        j->in_drain = true;
        driver_exit(e, j, 0);
    }
}

/* First entry of the driver: sizes are taken (and checked) now. */
static bool job_begin(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    struct qmpk_eng_node *src = node_at(e, j->src);
    struct qmpk_eng_node *dst = node_at(e, j->dst);

    j->begun = true;
    if (j->type == JT_STREAM && src->backing < 0) {
        driver_exit(e, j, 0);   /* nothing to stream: len stays 0 */
        return false;
    }
    if (j->type == JT_MIRROR && dst && dst->size != src->size) {
        snprintf(j->error, sizeof j->error, "Source and target image have different sizes");
        driver_exit(e, j, -EINVAL);
        return false;
    }
    j->len = src->size;
    return true;
}

static void finish_inflight(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    uint64_t n = j->inflight;

    j->inflight = 0;
    if (j->sweeping) {
        backup_sweep(e, j, ENG_COPY_WORKERS);
        return;
    }
    if (copy_chunk(e, j, n) && j->speed > 0)
        schedule_after_chunk(e, j, n);
}

/* One entry of the job coroutine, up to its next yield. */
void eng_blockjob_step(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    j->wake = ENG_NEVER;
    j->timer = false;
    if (j->exit_pending) {
        j->exit_pending = false;
        eng_job_completed(e, j);
        return;
    }
    if (j->completed_work || (j->status != JS_RUNNING && j->status != JS_READY))
        return;
    if (j->type == JT_CREATE) {
        eng_create_job_run(e, j);
        return;
    }
    if (j->inflight) {
        finish_inflight(e, j);
        if (j->completed_work || j->wake != ENG_NEVER || j->status == JS_PAUSED)
            return;
    }
    if (j->cancelled) {
        if (!j->force)
            j->in_drain = true;   /* soft cancel of a ready mirror: no pivot */
        driver_exit(e, j, 0);
        return;
    }
    if (j->pause_count > 0) {
        eng_job_pause_point(e, j);
        return;
    }
    if (!j->begun && !job_begin(e, j))
        return;
    if (j->offset < j->len)
        issue_chunk(e, j);
    else
        copy_done(e, j);
}

/* A mirror that writes zeroes (its source reads as zeroes) issues its
 * first chunk inside blockdev-mirror: an error there precedes the reply. */
void eng_blockjob_first_chunk(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (node_reads_zeroes(e, j->src) && j->wake <= eng_now(e))
        eng_blockjob_step(e, j);
}

/* The creating command polls its new job (a drained section ends): the
 * job runs while it has work due now, up to its first error. */
void eng_blockjob_poll(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    uint32_t seq = j->seq;

    while (j->used && j->seq == seq && j->wake <= eng_now(e) && !j->poll_stop)
        eng_blockjob_step(e, j);
}
