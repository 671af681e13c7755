/*
 * Simulated image files: blockdev-create of drivers "file" and "qcow2" as a
 * "create" job, the writes stream and commit make into qcow2 images, and
 * the graph change those jobs make when they complete.  Files live in the
 * engine's pool of max_files records: a name, a length, and once formatted
 * the qcow2 allocation state (qcow2.c).  There is no data: everything reads
 * as zeroes.  Texts as QEMU 7.2's block/create.c, block/file-posix.c and
 * block/qcow2.c (measured on qemu-storage-daemon 7.2).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SECTOR 512ull
#define FS_BLOCK 4096ull        /* actual-size: a filesystem of 4 KiB blocks, no holes */

/* ------------------------------------------------------------------ */
/* Files                                                                */

uint64_t eng_file_length(const struct qmpk_eng_file *f)
{
    return f->img.formatted ? eng_qcow2_file_length(&f->img) : f->length;
}

int eng_file_find(const qmpk_engine_t *e, const char *path)
{
    for (uint32_t i = 0; i < e->cfg.max_files; i++) {
        if (e->files[i].used && strcmp(e->files[i].path, path) == 0)
            return (int)i;
    }
    return -1;
}

static int file_alloc(qmpk_engine_t *e)
{
    for (uint32_t i = 0; i < e->cfg.max_files; i++) {
        if (!e->files[i].used)
            return (int)i;
    }
    return -1;
}

static struct qmpk_eng_file *node_file(qmpk_engine_t *e, int node)
{
    const struct qmpk_eng_node *n = node >= 0 ? &e->nodes[node] : NULL;

    return n && n->driver == DRV_FILE && n->file >= 0 ? &e->files[n->file] : NULL;
}

const eng_qcow2_t *eng_node_qcow2_c(const qmpk_engine_t *e, const struct qmpk_eng_node *n)
{
    if (n->driver != DRV_QCOW2 || n->image < 0)
        return NULL;
    const struct qmpk_eng_node *f = &e->nodes[n->image];
    return f->driver == DRV_FILE && f->file >= 0 ? &e->files[f->file].img : NULL;
}

eng_qcow2_t *eng_node_qcow2(qmpk_engine_t *e, int node)
{
    return node >= 0 ? (eng_qcow2_t *)eng_node_qcow2_c(e, &e->nodes[node]) : NULL;
}

/* bdrv_getlength() of a file node: file-posix counts whole sectors */
uint64_t eng_file_node_size(const qmpk_engine_t *e, const struct qmpk_eng_node *n)
{
    uint64_t len = eng_file_length(&e->files[n->file]);

    return (len + SECTOR - 1) / SECTOR * SECTOR;
}

/* ImageInfo.actual-size: QEMU reports the host's allocated blocks, which
 * depend on the filesystem; the engine reports the length rounded up to
 * 4 KiB blocks, as a filesystem without sparse files would allocate. */
uint64_t eng_file_actual_size(const struct qmpk_eng_file *f)
{
    uint64_t len = eng_file_length(f);

    return (len + FS_BLOCK - 1) / FS_BLOCK * FS_BLOCK;
}

/* ------------------------------------------------------------------ */
/* blockdev-create                                                      */

static const char *const create_drivers[] = { "blkdebug", "file", "null-aio", "null-co",
                                              "qcow2", "raw", NULL };
enum { C_FILE = 1, C_QCOW2 = 4 };
static const char *const prealloc_vals[] = { "off", "metadata", "falloc", "full", NULL };
enum { PREALLOC_OFF, PREALLOC_METADATA };
static const char *const qcow2_versions[] = { "v2", "v3", NULL };
static const char *const compression_vals[] = { "zlib", "zstd", NULL };

static const arg_def_t args_create[] = {
    { "job-id", AT_STR, true, NULL, NULL },
    { "options", AT_ANY, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t create_base[] = {
    { "driver", AT_ENUM, true, create_drivers, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t create_none[] = { { NULL, AT_ANY, false, NULL, NULL } };
/* BlockdevCreateOptionsFile */
static const arg_def_t create_file[] = {
    { "filename", AT_STR, true, NULL, NULL },
    { "size", AT_INT, true, NULL, NULL },
    { "preallocation", AT_ENUM, false, prealloc_vals, NULL },
    { "nocow", AT_BOOL, false, NULL, NULL },
    { "extent-size-hint", AT_INT, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
enum { CF_FILENAME, CF_SIZE };
/* BlockdevCreateOptionsQcow2 */
static const arg_def_t create_qcow2[] = {
    { "file", AT_ANY, true, NULL, NULL },
    { "data-file", AT_ANY, false, NULL, NULL },
    { "data-file-raw", AT_BOOL, false, NULL, NULL },
    { "extended-l2", AT_BOOL, false, NULL, NULL },
    { "size", AT_INT, true, NULL, NULL },
    { "version", AT_ENUM, false, qcow2_versions, NULL },
    { "backing-file", AT_STR, false, NULL, NULL },
    { "backing-fmt", AT_STR, false, NULL, NULL },
    { "encrypt", AT_ANY, false, NULL, NULL },
    { "cluster-size", AT_INT, false, NULL, NULL },
    { "preallocation", AT_ENUM, false, prealloc_vals, NULL },
    { "lazy-refcounts", AT_BOOL, false, NULL, NULL },
    { "refcount-bits", AT_INT, false, NULL, NULL },
    { "compression-type", AT_ENUM, false, compression_vals, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
enum { CQ_FILE, CQ_SIZE = 4, CQ_CLUSTER = 9, CQ_PREALLOC = 10 };
/* The members the model has no state for: refused inside the job */
static const int qcow2_unmodelled[] = { 1, 2, 3, 5, 6, 7, 8, 11, 12, 13 };

/* The job's outcome, decided when the command runs (the engine applies a
 * creation at once; its job then runs its course after the reply). */
typedef struct create_out {
    int ret;
    char error[384];
} create_out_t;

static void create_fail(create_out_t *o, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void create_fail(create_out_t *o, int err, const char *fmt, ...)
{
    va_list ap;

    o->ret = -err;
    va_start(ap, fmt);
    vsnprintf(o->error, sizeof o->error, fmt, ap);
    va_end(ap);
}

/* The node that has node i as its image or file child, or -1. */
static int parent_of(const qmpk_engine_t *e, int i)
{
    for (uint32_t k = 0; k < e->cfg.max_nodes; k++) {
        if (e->nodes[k].used && e->nodes[k].image == i)
            return (int)k;
    }
    return -1;
}

/* file-posix's create: the file is made (or cut) to size; a file a node
 * holds open cannot take the write lock. */
static void create_file_run(eng_req_t *r, const int *t, create_out_t *o)
{
    char path[QMPK_ENGINE_MAX_PATH_BYTES + 2];
    qmpk_engine_t *e = r->e;

    eng_arg_str(r, t[CF_FILENAME], path, sizeof path);
    int64_t size = eng_arg_int(r, t[CF_SIZE], 0);
    if (strlen(path) > QMPK_ENGINE_MAX_PATH_BYTES) {
        create_fail(o, ENAMETOOLONG, "File name too long (engine limit %u bytes)",
                    (unsigned)QMPK_ENGINE_MAX_PATH_BYTES);
        return;
    }
    int f = eng_file_find(e, path);
    for (uint32_t k = 0; f >= 0 && k < e->cfg.max_nodes; k++) {
        if (e->nodes[k].used && e->nodes[k].driver == DRV_FILE && e->nodes[k].file == f) {
            create_fail(o, EAGAIN, "Failed to get \"write\" lock");
            return;
        }
    }
    if (size < 0) {
        create_fail(o, EINVAL, "Could not resize file: Invalid argument");
        return;
    }
    if (f < 0 && (f = file_alloc(e)) < 0) {
        create_fail(o, ENOSPC, "Too many simulated files (engine limit %u)",
                    (unsigned)e->cfg.max_files);
        return;
    }
    struct qmpk_eng_file *file = &e->files[f];
    memset(file, 0, sizeof *file);
    file->used = true;
    memcpy(file->path, path, strlen(path) + 1);     /* fits: checked above */
    file->length = (uint64_t)size;
}

/* The file node a qcow2 create writes to, or -1 with o set. */
static int qcow2_target(eng_req_t *r, int ref, create_out_t *o)
{
    char name[ENG_ID_MAX];

    if (qmpk_type(r->msg, ref) != QMPK_T_STRING) {
        create_fail(o, EINVAL, "The engine takes 'file' only as a node name");
        return -1;
    }
    eng_arg_str(r, ref, name, sizeof name);
    int i = eng_node_find(r->e, name);
    if (i < 0) {
        create_fail(o, ENOENT, "Cannot find device='%s' nor node-name='%s'", name, name);
        return -1;
    }
    if (r->e->nodes[i].driver != DRV_FILE) {
        create_fail(o, EINVAL, "The engine formats qcow2 images only on file nodes");
        return -1;
    }
    int p = parent_of(r->e, i);
    if (p >= 0) {
        /* node names are at most 31 bytes (check_node_name) */
        create_fail(o, EPERM, "Permission conflict on node '%.31s': permissions 'write, resize' "
                    "are both required by an unnamed block device (uses node '%.31s' as 'root' "
                    "child) and unshared by node '%.31s' (uses node '%.31s' as 'file' child).",
                    name, name, r->e->nodes[p].name, name);
        return -1;
    }
    return i;
}

/* qcow2_co_create()'s checks in its order, then the model's own bounds. */
static void create_qcow2_run(eng_req_t *r, const int *t, create_out_t *o)
{
    int node = qcow2_target(r, t[CQ_FILE], o);
    if (node < 0)
        return;
    int64_t size = eng_arg_int(r, t[CQ_SIZE], 0);
    int64_t cluster = eng_arg_int(r, t[CQ_CLUSTER], (int64_t)ENG_QCOW2_DEFAULT_CLUSTER);
    int prealloc = t[CQ_PREALLOC] >= 0 ? eng_enum_index(r->msg, t[CQ_PREALLOC], prealloc_vals)
                                       : PREALLOC_OFF;
    if (size < 0 || (uint64_t)size % SECTOR) {
        create_fail(o, EINVAL, "Image size must be a multiple of 512 bytes");
        return;
    }
    if (cluster < 0 || !eng_qcow2_cluster_valid((uint64_t)cluster)) {
        create_fail(o, EINVAL, "Cluster size must be a power of two between 512 and 2048k");
        return;
    }
    for (unsigned k = 0; k < sizeof qcow2_unmodelled / sizeof qcow2_unmodelled[0]; k++) {
        if (t[qcow2_unmodelled[k]] >= 0) {
            create_fail(o, ENOTSUP, "The engine's qcow2 model has no '%s'",
                        create_qcow2[qcow2_unmodelled[k]].name);
            return;
        }
    }
    if (prealloc != PREALLOC_OFF && prealloc != PREALLOC_METADATA) {
        create_fail(o, ENOTSUP, "The engine's qcow2 model preallocates off or metadata only");
        return;
    }
    uint64_t max = eng_qcow2_max_size((uint64_t)cluster);
    if ((uint64_t)size > max) {
        create_fail(o, EFBIG, "Image too large for the engine's qcow2 model (engine limit "
                    "%llu bytes at cluster-size %lld)", (unsigned long long)max, (long long)cluster);
        return;
    }
    eng_qcow2_format(&node_file(r->e, node)->img, (uint64_t)size, (uint64_t)cluster,
                     prealloc == PREALLOC_METADATA);
}

/* The options' flat union: driver first, then the variant's members. */
static bool visit_options(eng_req_t *r, int obj, arg_vals_t *v, int *driver)
{
    char err[ENG_ERR_MAX];
    const arg_def_t *base[1] = { create_base };

    int d = qmpk_type(r->msg, obj) == QMPK_T_OBJECT ? qmpk_get(r->msg, obj, "driver") : -1;
    *driver = d >= 0 && qmpk_type(r->msg, d) == QMPK_T_STRING
            ? eng_enum_index(r->msg, d, create_drivers) : -1;
    const arg_def_t *both[2] = { create_base, *driver == C_FILE ? create_file
                                            : *driver == C_QCOW2 ? create_qcow2 : create_none };
    bool ok = *driver < 0 ? eng_args_visit_at(r->msg, obj, base, 1, "options", v, err, sizeof err)
                          : eng_args_visit_at(r->msg, obj, both, 2, "options", v, err, sizeof err);
    if (!ok) {
        eng_reply_error(r, "GenericError", err);
        return false;
    }
    if (*driver != C_FILE && *driver != C_QCOW2) {
        eng_reply_error(r, "GenericError", "Driver does not support blockdev-create");
        return false;
    }
    return true;
}

void eng_cmd_blockdev_create(eng_req_t *r)
{
    arg_vals_t v, ov;
    int driver;
    create_out_t o = { 0, "" };

    if (!eng_args(r, args_create, &v) || !visit_options(r, v.tok[1], &ov, &driver))
        return;
    job_spec_t s = { JT_CREATE, -1, -1, 1, 0, false };
    struct qmpk_eng_job *j = eng_job_create(r, r->args, &s);
    if (!j)
        return;
    /* blockdev-create has neither auto-finalize nor auto-dismiss: QEMU's
     * job_create() gets JOB_MANUAL_DISMISS */
    j->auto_dismiss = false;
    if (driver == C_FILE)
        create_file_run(r, &ov.tok[1], &o);
    else
        create_qcow2_run(r, &ov.tok[1], &o);
    j->create_ret = o.ret;
    snprintf(j->error, sizeof j->error, "%s", o.error);
    eng_job_start(r->e, j);
    eng_job_reply_created(r);
}

/* The create job's coroutine: its single unit of progress, then its end. */
void eng_create_job_run(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    j->len = j->offset = 1;
    j->completed_work = true;
    j->exit_pending = true;
    if (j->create_ret < 0 && !j->ret)
        j->ret = j->create_ret;
    j->wake = eng_now(e);
}

/* ------------------------------------------------------------------ */
/* Stream and commit over qcow2                                         */

/* How far the allocated prefixes of the chain from node `from` down to,
 * not including, `stop` reach (null-co layers have nothing allocated). */
static uint64_t chain_allocated(qmpk_engine_t *e, int from, int stop)
{
    uint64_t end = 0;

    for (int depth = 0; from >= 0 && from != stop && depth < 64; depth++) {
        const eng_qcow2_t *q = eng_node_qcow2(e, from);
        if (q && q->alloc > end)
            end = q->alloc;
        from = e->nodes[from].backing;
    }
    return end;
}

/* A chunk [.., end) copied: stream's copy-on-read writes what is allocated
 * below top into top (a buffer of zeroes: zero clusters), commit writes
 * what is allocated from top-node down to base into base (data). */
void eng_blockjob_image_copy(qmpk_engine_t *e, const struct qmpk_eng_job *j, uint64_t end)
{
    if (j->type == JT_STREAM) {
        eng_qcow2_t *top = eng_node_qcow2(e, j->src);
        uint64_t below = chain_allocated(e, e->nodes[j->src].backing, j->stream_base);
        if (top)
            eng_qcow2_allocate(top, end < below ? end : below, false);
    } else if (j->type == JT_COMMIT) {
        eng_qcow2_t *base = eng_node_qcow2(e, j->dst);
        uint64_t above = chain_allocated(e, j->src, j->dst);
        if (base)
            eng_qcow2_allocate(base, end < above ? end : above, true);
    }
}

static void set_backing(qmpk_engine_t *e, int node, int backing)
{
    struct qmpk_eng_node *n = &e->nodes[node];

    if (n->backing >= 0)
        e->nodes[n->backing].refs--;
    n->backing = backing;
    if (backing >= 0)
        e->nodes[backing].refs++;
}

/* stream_prepare(): top's backing becomes the stream's base;
 * commit_prepare() of an intermediate commit: top-node's overlay backs
 * onto base (the dropped nodes stay, still backed by what they were).  An
 * active commit leaves the top node as it was. */
void eng_blockjob_prepare(qmpk_engine_t *e, struct qmpk_eng_job *j)
{
    if (j->type == JT_STREAM && eng_node_qcow2(e, j->src)) {
        set_backing(e, j->src, j->stream_base);
        return;
    }
    if (j->type != JT_COMMIT || j->active_commit || !eng_node_qcow2(e, j->dst))
        return;
    for (uint32_t k = 0; k < e->cfg.max_nodes; k++) {
        if (e->nodes[k].used && e->nodes[k].backing == j->src) {
            set_backing(e, (int)k, j->dst);
            return;
        }
    }
}
