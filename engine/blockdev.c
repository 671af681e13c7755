/*
 * Block nodes: blockdev-add / blockdev-del of simulated null-co, null-aio
 * and blkdebug nodes (qcow2 only as far as QEMU's failure to open it from
 * a null-co file, which blocks the main loop for the file's latency).
 * Texts as QEMU 7.2's blockdev.c and block.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define GiB (1024ull * 1024ull * 1024ull)
/* QEMU's BDRV_MAX_LENGTH: INT64_MAX aligned down to BDRV_MAX_ALIGNMENT
 * (1 GiB); a larger node fails to open */
#define ENG_NODE_MAX_BYTES 9223372035781033984ull

static const char *const drivers[] = { "blkdebug", "file", "null-aio", "null-co", "qcow2", "raw",
                                       NULL };
enum { D_BLKDEBUG, D_FILE, D_NULL_AIO, D_NULL_CO, D_QCOW2, D_RAW };
static const char *const discard_vals[] = { "ignore", "unmap", NULL };
const char *const eng_detect_zeroes_name[] = { "off", "on", "unmap", NULL };
/* BlkdebugEvent of QEMU 7.2, in schema order */
const char *const eng_blkdebug_event_name[] = {
    "l1_update", "l1_grow_alloc_table", "l1_grow_write_table", "l1_grow_activate_table",
    "l2_load", "l2_update", "l2_update_compressed", "l2_alloc_cow_read", "l2_alloc_write",
    "read_aio", "read_backing_aio", "read_compressed", "write_aio", "write_compressed",
    "vmstate_load", "vmstate_save", "cow_read", "cow_write", "reftable_load", "reftable_grow",
    "reftable_update", "refblock_load", "refblock_update", "refblock_update_part",
    "refblock_alloc", "refblock_alloc_hookup", "refblock_alloc_write",
    "refblock_alloc_write_blocks", "refblock_alloc_write_table", "refblock_alloc_switch_table",
    "cluster_alloc", "cluster_alloc_bytes", "cluster_free", "flush_to_os", "flush_to_disk",
    "pwritev_rmw_head", "pwritev_rmw_after_head", "pwritev_rmw_tail", "pwritev_rmw_after_tail",
    "pwritev", "pwritev_zero", "pwritev_done", "empty_image_prepare", "l1_shrink_write_table",
    "l1_shrink_free_l2_clusters", "cor_write", "cluster_alloc_space", "none", NULL,
};
const char *const eng_blkdebug_iotype_name[] = { "read", "write", "write-zeroes", "discard",
                                                 "flush", "block-status", NULL };
#define dz_vals eng_detect_zeroes_name
#define bd_events eng_blkdebug_event_name
#define bd_iotypes eng_blkdebug_iotype_name

/* BlockdevCacheOptions */
static const arg_def_t cache_opts[] = {
    { "direct", AT_BOOL, false, NULL, NULL },
    { "no-flush", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

static const arg_def_t add_base[] = {
    { "driver", AT_ENUM, true, drivers, NULL },
    { "node-name", AT_STR, false, NULL, NULL },
    { "discard", AT_ENUM, false, discard_vals, NULL },
    { "cache", AT_OBJ, false, NULL, cache_opts },
    { "read-only", AT_BOOL, false, NULL, NULL },
    { "auto-read-only", AT_BOOL, false, NULL, NULL },
    { "force-share", AT_BOOL, false, NULL, NULL },
    { "detect-zeroes", AT_ENUM, false, dz_vals, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
enum { B_DRIVER, B_NODE_NAME, B_READ_ONLY = 4, B_DETECT_ZEROES = 7, B__COUNT = 8 };

/* null-co/null-aio; x-backing is the engine's own (a backing chain for
 * stream and commit, which null-co cannot have in QEMU) */
static const arg_def_t add_null[] = {
    { "size", AT_INT, false, NULL, NULL },
    { "latency-ns", AT_UINT, false, NULL, NULL },
    { "read-zeroes", AT_BOOL, false, NULL, NULL },
    { "x-backing", AT_STR, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

static const arg_def_t inject_error[] = {
    { "event", AT_ENUM, true, bd_events, NULL },
    { "state", AT_INT, false, NULL, NULL },
    { "iotype", AT_ENUM, false, bd_iotypes, NULL },
    { "errno", AT_INT, false, NULL, NULL },
    { "sector", AT_INT, false, NULL, NULL },
    { "once", AT_BOOL, false, NULL, NULL },
    { "immediately", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t add_blkdebug[] = {
    { "image", AT_ANY, true, NULL, NULL },
    { "config", AT_STR, false, NULL, NULL },
    { "align", AT_INT, false, NULL, NULL },
    { "inject-error", AT_OBJ_LIST, false, NULL, inject_error },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t add_raw[] = {
    { "file", AT_ANY, true, NULL, NULL },
    { "offset", AT_INT, false, NULL, NULL },
    { "size", AT_INT, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const char *const locking_vals[] = { "off", "on", "auto", NULL };
static const char *const aio_vals[] = { "threads", "native", "io_uring", NULL };
/* BlockdevOptionsFile: a simulated file blockdev-create made */
static const arg_def_t add_file[] = {
    { "filename", AT_STR, true, NULL, NULL },
    { "pr-manager", AT_STR, false, NULL, NULL },
    { "locking", AT_ENUM, false, locking_vals, NULL },
    { "aio", AT_ENUM, false, aio_vals, NULL },
    { "aio-max-batch", AT_INT, false, NULL, NULL },
    { "drop-cache", AT_BOOL, false, NULL, NULL },
    { "x-check-cache-dropped", AT_BOOL, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};
static const arg_def_t add_qcow2[] = {
    { "file", AT_ANY, true, NULL, NULL },
    { "backing", AT_ANY, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

int eng_node_find(const qmpk_engine_t *e, const char *name)
{
    for (uint32_t i = 0; i < e->cfg.max_nodes; i++) {
        if (e->nodes[i].used && strcmp(e->nodes[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static int node_alloc(qmpk_engine_t *e)
{
    for (uint32_t i = 0; i < e->cfg.max_nodes; i++) {
        if (!e->nodes[i].used)
            return (int)i;
    }
    return -1;
}

/* Slots are reused, so creation order needs its own counter: one above the
 * newest live node is enough, only the order among live nodes shows. */
static uint32_t node_next_seq(const qmpk_engine_t *e)
{
    uint32_t top = 0;

    for (uint32_t i = 0; i < e->cfg.max_nodes; i++) {
        if (e->nodes[i].used && e->nodes[i].seq > top)
            top = e->nodes[i].seq;
    }
    return top + 1;
}

/* bdrv_is_root_node(): no parent but BlockBackends.  Image and backing
 * parents count, and so does the filter every job inserts above its
 * source (mirror_top, copy-before-write, commit_top, copy-on-read). */
bool eng_node_is_root(const qmpk_engine_t *e, int i)
{
    if (e->nodes[i].refs > 0)
        return false;
    for (uint32_t k = 0; k < e->cfg.max_jobs; k++) {
        if (e->jobs[k].used && e->jobs[k].src == i)
            return false;
    }
    return true;
}

/* bdrv_lookup_bs(): "Cannot find device='%s' nor node-name='%s'" */
int eng_node_lookup(eng_req_t *r, const char *name)
{
    int i = eng_node_find(r->e, name);

    if (i < 0)
        eng_reply_errorf(r, "GenericError", "Cannot find device='%s' nor node-name='%s'", name,
                         name);
    return i;
}

static bool add_faults(eng_req_t *r, struct qmpk_eng_node *n, int list)
{
    static const char *const members[] = { "state", "iotype", "errno", "sector", "once",
                                           "immediately" };
    int k = 0;

    for (int c = list >= 0 ? qmpk_child(r->msg, list) : -1; c >= 0; c = qmpk_next(r->msg, c)) {
        if (k == ENG_FAULTS) {
            eng_reply_errorf(r, "GenericError", "Too many inject-error rules (engine limit %d)",
                             ENG_FAULTS);
            return false;
        }
        int ev = qmpk_get(r->msg, c, "event");
        int io = qmpk_get(r->msg, c, "iotype");
        eng_fault_t *f = &n->faults[k++];
        f->used = true;
        f->arm = qmpk_str_eqz(r->msg, ev, "none")           ? ARM_ALWAYS
               : qmpk_str_eqz(r->msg, ev, "pwritev")      ? ARM_ON_WRITE
               : qmpk_str_eqz(r->msg, ev, "pwritev_zero") ? ARM_ON_ZERO_WRITE
                                                          : ARM_NEVER;
        f->armed = f->arm == ARM_ALWAYS;
        f->iotype = io >= 0 ? eng_enum_index(r->msg, io, bd_iotypes) : -1;
        f->err = (int)eng_arg_int(r, qmpk_get(r->msg, c, "errno"), EIO);
        f->sector = eng_arg_int(r, qmpk_get(r->msg, c, "sector"), -1);
        f->once = eng_arg_bool(r, qmpk_get(r->msg, c, "once"), false);
        f->event = eng_enum_index(r->msg, ev, bd_events);
        f->state = eng_arg_int(r, qmpk_get(r->msg, c, "state"), 0);
        f->immediately = eng_arg_bool(r, qmpk_get(r->msg, c, "immediately"), false);
        f->given = 0;
        for (unsigned m = 0; m < sizeof members / sizeof members[0]; m++)
            f->given |= qmpk_get(r->msg, c, members[m]) >= 0 ? 1u << m : 0;
    }
    return true;
}

static bool check_node_name(eng_req_t *r, const char *name);
static bool add_child(eng_req_t *r, struct qmpk_eng_node *n, int ref_or_obj);

/* The driver-specific part of a new node; false after replying an error. */
static bool add_variant(eng_req_t *r, struct qmpk_eng_node *n, const arg_vals_t *v)
{
    char ref[ENG_ID_MAX];
    const int *t = &v->tok[B__COUNT];

    if (n->driver == DRV_BLKDEBUG) {
        if (!add_child(r, n, t[0]))
            return false;
        n->size = r->e->nodes[n->image].size;
        if (add_faults(r, n, t[3]))
            return true;
        if (r->e->nodes[n->image].implicit)
            r->e->nodes[n->image].used = false;   /* the inline child goes too */
        return false;
    }
    int64_t size = eng_arg_int(r, t[0], (int64_t)GiB);
    if (size < 0) {
        eng_reply_error(r, "GenericError",
                        "Parameter 'size' expects a non-negative number below 2^64");
        return false;
    }
    n->size = (uint64_t)size;
    n->has_size = t[0] >= 0;
    n->has_read_zeroes = t[2] >= 0;
    if (eng_arg_int(r, t[1], 0) < 0) {
        /* the visitor takes a negative uint64; null-co refuses it */
        eng_reply_error(r, "GenericError", "latency-ns is invalid");
        return false;
    }
    if (n->size > ENG_NODE_MAX_BYTES) {
        /* bdrv_open_common() checks it after the driver took its options */
        eng_reply_error(r, "GenericError", "Could not refresh total sector count: File too large");
        return false;
    }
    n->latency_ns = (uint64_t)eng_arg_int(r, t[1], 0);
    n->read_zeroes = eng_arg_bool(r, t[2], false);
    if (t[3] >= 0) {
        eng_arg_str(r, t[3], ref, sizeof ref);
        n->backing = eng_node_lookup(r, ref);
        if (n->backing < 0)
            return false;
    }
    return true;
}

/* qcow2 on a null-co file: QEMU reads the header (taking the file's
 * latency, with the main loop blocked) and finds no qcow2 magic. */
static void add_qcow2_node(eng_req_t *r, int file)
{
    uint64_t lat = 0;
    char ref[ENG_ID_MAX];

    if (qmpk_type(r->msg, file) == QMPK_T_OBJECT) {
        lat = (uint64_t)eng_arg_int(r, qmpk_get(r->msg, file, "latency-ns"), 0);
    } else if (qmpk_type(r->msg, file) == QMPK_T_STRING) {
        eng_arg_str(r, file, ref, sizeof ref);
        int i = eng_node_lookup(r, ref);
        if (i < 0)
            return;
        lat = r->e->nodes[i].latency_ns;
    }
    if (lat == 0) {
        eng_reply_error(r, "GenericError", "Image is not in qcow2 format");
        return;
    }
    eng_req_defer(r, eng_now(r->e) + lat, RUN_QCOW2_OPEN);
}

/* Does qcow2's 'file' name a file node (a simulated file)?  Then *file_node
 * is set; otherwise the null-co path (add_qcow2_node) replies. */
static bool qcow2_over_file(eng_req_t *r, int file, int *file_node)
{
    char ref[ENG_ID_MAX];

    if (qmpk_type(r->msg, file) != QMPK_T_STRING)
        return false;
    eng_arg_str(r, file, ref, sizeof ref);
    int i = eng_node_find(r->e, ref);
    if (i < 0 || r->e->nodes[i].driver != DRV_FILE)
        return false;
    *file_node = i;
    return true;
}

/* file-posix's open of a simulated file */
static bool add_file_node(eng_req_t *r, struct qmpk_eng_node *n, int filename)
{
    char path[QMPK_ENGINE_MAX_PATH_BYTES + 2];

    eng_arg_str(r, filename, path, sizeof path);
    n->file = eng_file_find(r->e, path);
    if (n->file < 0) {
        eng_reply_errorf(r, "GenericError", "Could not open '%s': No such file or directory",
                         path);
        return false;
    }
    return true;
}

/* qcow2_open() over a file node: the file must hold an image; then the
 * backing, a node reference (or null: none). */
static bool add_qcow2_image(eng_req_t *r, struct qmpk_eng_node *n, int file_node, int backing)
{
    char ref[ENG_ID_MAX];
    const struct qmpk_eng_file *f = &r->e->files[r->e->nodes[file_node].file];

    if (!f->img.formatted) {
        eng_reply_error(r, "GenericError", "Image is not in qcow2 format");
        return false;
    }
    if (backing >= 0 && qmpk_type(r->msg, backing) == QMPK_T_STRING) {
        eng_arg_str(r, backing, ref, sizeof ref);
        if ((n->backing = eng_node_lookup(r, ref)) < 0)
            return false;
    } else if (backing >= 0 && qmpk_type(r->msg, backing) != QMPK_T_NULL) {
        eng_reply_error(r, "GenericError",
                        "The engine takes 'backing' only as a node name or null");
        return false;
    }
    n->image = file_node;
    n->size = f->img.size;
    return true;
}

static bool check_node_name(eng_req_t *r, const char *name)
{
    if (!eng_id_wellformed(name)) {
        eng_reply_errorf(r, "GenericError", "Invalid node-name: '%s'", name);
        return false;
    }
    if (strlen(name) > 31) {
        eng_reply_error(r, "GenericError", "Node name too long");
        return false;
    }
    if (eng_node_find(r->e, name) >= 0) {
        eng_reply_errorf(r, "GenericError", "Duplicate nodes with node-name='%s'", name);
        return false;
    }
    return true;
}

static const arg_def_t *variant_of(int driver)
{
    switch (driver) {
    case D_BLKDEBUG: return add_blkdebug;
    case D_QCOW2: return add_qcow2;
    case D_RAW: return add_raw;
    case D_FILE: return add_file;
    default: return add_null;
    }
}

/* BlockdevOptions, a flat union: the discriminator first, then base and
 * variant; a nested 'file' object is itself BlockdevOptions ("file.size"). */
static bool visit_node(eng_req_t *r, int obj, const char *prefix, arg_vals_t *v, int *driver,
                       int depth)
{
    char err[ENG_ERR_MAX], sub[64];
    const arg_def_t *base[1] = { add_base };

    int d = obj >= 0 && qmpk_type(r->msg, obj) == QMPK_T_OBJECT ? qmpk_get(r->msg, obj, "driver") : -1;
    *driver = d >= 0 && qmpk_type(r->msg, d) == QMPK_T_STRING ? eng_enum_index(r->msg, d, drivers) : -1;
    const arg_def_t *both[2] = { add_base, variant_of(*driver) };
    bool ok = *driver < 0 ? eng_args_visit_at(r->msg, obj, base, 1, prefix, v, err, sizeof err)
                          : eng_args_visit_at(r->msg, obj, both, 2, prefix, v, err, sizeof err);
    if (ok && *driver < 0)  /* cannot happen: 'driver' is a required enum */
        snprintf(err, sizeof err, "Parameter 'driver' is missing");
    if (!ok || *driver < 0) {
        eng_reply_error(r, "GenericError", err);
        return false;
    }
    /* the child: raw and qcow2 'file', blkdebug 'image' (the first member
     * of each variant) */
    int file = (*driver == D_RAW || *driver == D_QCOW2 || *driver == D_BLKDEBUG) ?
               v->tok[B__COUNT] : -1;
    if (file >= 0 && qmpk_type(r->msg, file) == QMPK_T_OBJECT && depth < 4) {
        arg_vals_t fv;
        int fd;
        snprintf(sub, sizeof sub, "%s%s%s", prefix, *prefix ? "." : "",
                 *driver == D_BLKDEBUG ? "image" : "file");
        return visit_node(r, file, sub, &fv, &fd, depth + 1);
    }
    return true;
}

static bool visit_add(eng_req_t *r, arg_vals_t *v, int *driver)
{
    return visit_node(r, r->args, "", v, driver, 0);
}

/* The child of raw ('file') or blkdebug ('image'): a node named by
 * reference, or an inline null-co node, named by its own node-name (which
 * must be valid and unique, the parent's included) or "#blockNNN". */
static bool add_child(eng_req_t *r, struct qmpk_eng_node *n, int ref_or_obj)
{
    char ref[ENG_ID_MAX];

    if (qmpk_type(r->msg, ref_or_obj) == QMPK_T_STRING) {
        eng_arg_str(r, ref_or_obj, ref, sizeof ref);
        n->image = eng_node_lookup(r, ref);
        return n->image >= 0;
    }
    /* the parent's slot and name are not in use yet: hold them so the
     * child gets another slot and cannot take the parent's name */
    n->used = true;
    int c = node_alloc(r->e);
    int name_tok = qmpk_get(r->msg, ref_or_obj, "node-name");
    if (name_tok >= 0)
        eng_arg_str(r, name_tok, ref, sizeof ref);
    bool name_ok = c < 0 || name_tok < 0 || check_node_name(r, ref);
    n->used = false;
    if (!name_ok)
        return false;
    int drv = eng_enum_index(r->msg, qmpk_get(r->msg, ref_or_obj, "driver"), drivers);
    if (c < 0) {
        eng_reply_errorf(r, "GenericError", "Too many block nodes (engine limit %u)",
                         (unsigned)r->e->cfg.max_nodes);
        return false;
    }
    if (drv != D_NULL_CO && drv != D_NULL_AIO) {
        eng_reply_error(r, "GenericError",
                        "The engine simulates only null-co and null-aio inline children");
        return false;
    }
    struct qmpk_eng_node *child = &r->e->nodes[c];
    memset(child, 0, sizeof *child);
    child->driver = drv == D_NULL_AIO ? DRV_NULL_AIO : DRV_NULL_CO;
    child->image = child->backing = child->busy_job = child->file = -1;
    if (name_tok >= 0)
        snprintf(child->name, sizeof child->name, "%s", ref);
    else
        snprintf(child->name, sizeof child->name, "#block%03d", c);
    child->size = (uint64_t)eng_arg_int(r, qmpk_get(r->msg, ref_or_obj, "size"), 1073741824);
    child->latency_ns = (uint64_t)eng_arg_int(r, qmpk_get(r->msg, ref_or_obj, "latency-ns"), 0);
    child->read_zeroes = eng_arg_bool(r, qmpk_get(r->msg, ref_or_obj, "read-zeroes"), false);
    child->has_size = qmpk_get(r->msg, ref_or_obj, "size") >= 0;
    child->has_read_zeroes = qmpk_get(r->msg, ref_or_obj, "read-zeroes") >= 0;
    /* a child inherits read-only from its parent unless it says otherwise */
    child->read_only = eng_arg_bool(r, qmpk_get(r->msg, ref_or_obj, "read-only"), n->read_only);
    child->seq = node_next_seq(r->e);
    child->implicit = true;
    child->used = true;
    n->image = c;
    return true;
}

void eng_cmd_blockdev_add(eng_req_t *r)
{
    char name[ENG_ID_MAX];
    arg_vals_t v;
    int driver = -1;

    if (!visit_add(r, &v, &driver))
        return;
    if (v.tok[B_NODE_NAME] < 0) {
        eng_reply_error(r, "GenericError", "'node-name' must be specified for the root node");
        return;
    }
    int file_node = -1;
    if (driver == D_QCOW2 && !qcow2_over_file(r, v.tok[B__COUNT], &file_node)) {
        add_qcow2_node(r, v.tok[B__COUNT]);
        return;
    }
    eng_arg_str(r, v.tok[B_NODE_NAME], name, sizeof name);
    if (!check_node_name(r, name))
        return;
    int i = node_alloc(r->e);
    if (i < 0) {
        eng_reply_errorf(r, "GenericError", "Too many block nodes (engine limit %u)",
                         (unsigned)r->e->cfg.max_nodes);
        return;
    }
    struct qmpk_eng_node *n = &r->e->nodes[i];
    memset(n, 0, sizeof *n);
    n->driver = driver == D_BLKDEBUG ? DRV_BLKDEBUG : driver == D_NULL_AIO ? DRV_NULL_AIO
              : driver == D_RAW ? DRV_RAW : driver == D_FILE ? DRV_FILE
              : driver == D_QCOW2 ? DRV_QCOW2 : DRV_NULL_CO;
    n->image = n->backing = n->busy_job = n->file = -1;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->read_only = eng_arg_bool(r, v.tok[B_READ_ONLY], false);
    n->detect_zeroes = v.tok[B_DETECT_ZEROES] >= 0
                     ? eng_enum_index(r->msg, v.tok[B_DETECT_ZEROES], dz_vals) : 0;
    if (driver == D_FILE || driver == D_QCOW2) {
        if (!(driver == D_FILE ? add_file_node(r, n, v.tok[B__COUNT])
                               : add_qcow2_image(r, n, file_node, v.tok[B__COUNT + 1])))
            return;
    } else if (driver == D_RAW ? !add_child(r, n, v.tok[B__COUNT]) : !add_variant(r, n, &v)) {
        return;
    }
    if (driver == D_RAW)
        n->size = r->e->nodes[n->image].size;
    if (n->image >= 0)
        r->e->nodes[n->image].refs++;
    if (n->backing >= 0)
        r->e->nodes[n->backing].refs++;
    n->seq = node_next_seq(r->e);     /* after an inline child: QEMU opens it first */
    n->used = true;
    eng_reply_empty(r);
}

static const arg_def_t args_del[] = {
    { "node-name", AT_STR, true, NULL, NULL }, { NULL, AT_ANY, false, NULL, NULL } };

/* The job holding node i (as source or target), or NULL. */
static const struct qmpk_eng_job *job_holding(const qmpk_engine_t *e, int i)
{
    for (uint32_t k = 0; k < e->cfg.max_jobs; k++) {
        const struct qmpk_eng_job *j = &e->jobs[k];
        if (j->used && (j->src == i || j->dst == i))
            return j;
    }
    return NULL;
}

/* qmp_blockdev_del()'s checks, in its order, for a node a job holds.  As
 * QEMU 7.2 words them: a mirror's target has the job's BlockBackend ("in
 * use"), a mirror's source (under its filter) and a backup's target carry
 * the job's op blocker ("busy"); anything else a job holds is referenced
 * ("Block device %s is in use"). */
static void reply_held_by_job(eng_req_t *r, const struct qmpk_eng_job *j, int i, const char *name)
{
    if (j->type == JT_MIRROR && j->dst == i)
        eng_reply_errorf(r, "GenericError", "Node %s is in use", name);
    else if ((j->type == JT_MIRROR && j->src == i) || (j->type == JT_BACKUP && j->dst == i))
        eng_reply_errorf(r, "GenericError",
                         "Node '%s' is busy: block device is in use by block job: %s", name,
                         eng_job_type_name[j->type]);
    else
        eng_reply_errorf(r, "GenericError", "Block device %s is in use", name);
}

void eng_cmd_blockdev_del(eng_req_t *r)
{
    char name[ENG_ID_MAX];
    arg_vals_t v;

    if (!eng_args(r, args_del, &v))
        return;
    eng_arg_str(r, v.tok[0], name, sizeof name);
    int i = eng_node_find(r->e, name);
    if (i < 0) {
        eng_reply_errorf(r, "GenericError", "Failed to find node with node-name='%s'", name);
        return;
    }
    struct qmpk_eng_node *n = &r->e->nodes[i];
    const struct qmpk_eng_job *j = job_holding(r->e, i);
    if (j) {
        reply_held_by_job(r, j, i, name);
        return;
    }
    if (n->implicit) {
        eng_reply_errorf(r, "GenericError", "Node %s is not owned by the monitor", name);
        return;
    }
    if (n->refs > 0) {
        eng_reply_errorf(r, "GenericError", "Block device %s is in use", name);
        return;
    }
    if (n->image >= 0 && --r->e->nodes[n->image].refs == 0 && r->e->nodes[n->image].implicit)
        r->e->nodes[n->image].used = false;    /* an inline child goes with its last parent */
    if (n->backing >= 0)
        r->e->nodes[n->backing].refs--;
    n->used = false;
    eng_reply_empty(r);
}
