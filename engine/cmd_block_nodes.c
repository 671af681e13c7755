/*
 * query-named-block-nodes: BlockDeviceInfo of every node, newest first, as
 * QEMU 7.2's bdrv_named_nodes_list() / bdrv_block_device_info() write them
 * for null-co, null-aio, raw and blkdebug nodes (member orders measured on
 * qemu-system-x86_64 and qemu-storage-daemon 7.2; see docs/CONFORMANCE.md
 * for what the simulation cannot show).
 *
 * Filenames follow bdrv_refresh_filename(): a node keeps an exact filename
 * ("null-co://", "blkdebug::null-co://", or a raw node its child's) while
 * no strong option (null: size, read-zeroes; blkdebug: inject-error) was
 * given, and is otherwise "json:" + its full open options, children nested,
 * members in QDict order (qmpk_qdict_bucket()).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NODE_CHAIN_MAX 64       /* backing/filter depth walked for one node */

const char *eng_node_driver_name(node_driver_t d)
{
    switch (d) {
    case DRV_NULL_AIO: return "null-aio";
    case DRV_BLKDEBUG: return "blkdebug";
    case DRV_RAW: return "raw";
    case DRV_FILE: return "file";
    case DRV_QCOW2: return "qcow2";
    case DRV_NULL_CO: break;
    }
    return "null-co";
}

static bool has_faults(const struct qmpk_eng_node *n)
{
    for (int k = 0; k < ENG_FAULTS; k++) {
        if (n->faults[k].used)
            return true;
    }
    return false;
}

static const struct qmpk_eng_node *child_of(const qmpk_engine_t *e, const struct qmpk_eng_node *n)
{
    return n->image >= 0 ? &e->nodes[n->image] : NULL;
}

/* The exact filename, or false when the node's filename is json:{...}. */
static bool exact_filename(const qmpk_engine_t *e, const struct qmpk_eng_node *n, char *out,
                           size_t cap, int depth)
{
    const struct qmpk_eng_node *c = child_of(e, n);

    switch (n->driver) {
    case DRV_NULL_CO:
    case DRV_NULL_AIO:
        if (n->has_size || n->has_read_zeroes)
            return false;
        snprintf(out, cap, "%s://", eng_node_driver_name(n->driver));
        return true;
    case DRV_FILE:
        snprintf(out, cap, "%s", e->files[n->file].path);
        return true;
    case DRV_QCOW2:     /* a backing given at blockdev-add is a strong option */
        if (n->backing >= 0)
            return false;
        return c && depth < NODE_CHAIN_MAX && exact_filename(e, c, out, cap, depth + 1);
    case DRV_RAW:
        return c && depth < NODE_CHAIN_MAX && exact_filename(e, c, out, cap, depth + 1);
    case DRV_BLKDEBUG: {
        char sub[ENG_NODE_FILENAME_MAX];
        if (!c || has_faults(n) || depth >= NODE_CHAIN_MAX ||
            !exact_filename(e, c, sub, sizeof sub, depth + 1))
            return false;
        int k = snprintf(out, cap, "blkdebug::%s", sub);
        return k >= 0 && (size_t)k < cap;
    }
    }
    return false;
}

/* One member of a node's full open options. */
typedef struct opt_ent {
    char key[40];
    unsigned bucket;        /* QDict bucket of key */
    int rule;               /* inject-error index, -1 otherwise */
    unsigned sub;           /* the member's bucket inside its rule */
    enum { OV_STR, OV_INT, OV_BOOL, OV_CHILD } kind;
    const char *s;
    int64_t i;
    const struct qmpk_eng_node *child;
} opt_ent_t;

#define OPT_ENTS_MAX (3 + ENG_FAULTS * 7)

static opt_ent_t *opt_add(opt_ent_t *v, int *n, const char *key, int rule, const char *member)
{
    opt_ent_t *o = &v[(*n)++];

    snprintf(o->key, sizeof o->key, "%s", key);
    o->bucket = qmpk_qdict_bucket(o->key, strlen(o->key));
    o->rule = rule;
    o->sub = member ? qmpk_qdict_bucket(member, strlen(member)) : 0;
    return o;
}

/* QDict order: by bucket; within a bucket (measured on blkdebug rules,
 * whose flattened keys collide) by rule, then by the member's own order. */
static bool opt_before(const opt_ent_t *a, const opt_ent_t *b)
{
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket;
    if (a->rule != b->rule)
        return a->rule < b->rule;
    return a->sub < b->sub;
}

static void opt_add_fault(opt_ent_t *v, int *n, int k, const eng_fault_t *f)
{
    static const char *const names[] = { "state", "iotype", "errno", "sector", "once",
                                         "immediately" };
    char key[40];

    snprintf(key, sizeof key, "inject-error.%d.event", k);
    opt_ent_t *o = opt_add(v, n, key, k, "event");
    o->kind = OV_STR;
    o->s = eng_blkdebug_event_name[f->event];
    for (unsigned b = 0; b < sizeof names / sizeof names[0]; b++) {
        if (!(f->given & (1u << b)))
            continue;
        snprintf(key, sizeof key, "inject-error.%d.%s", k, names[b]);
        o = opt_add(v, n, key, k, names[b]);
        o->kind = b == 1 ? OV_STR : b >= 4 ? OV_BOOL : OV_INT;
        o->s = b == 1 && f->iotype >= 0 ? eng_blkdebug_iotype_name[f->iotype] : "";
        o->i = b == 0 ? f->state : b == 2 ? f->err : b == 3 ? f->sector
             : b == 4 ? f->once : f->immediately;
    }
}

/* The members a node's full_open_options has: driver, the strong options
 * given (null: size, read-zeroes; blkdebug: inject-error, flattened) and
 * each child's options nested. */
static int collect_options(const qmpk_engine_t *e, const struct qmpk_eng_node *n,
                           opt_ent_t *v, int depth)
{
    const struct qmpk_eng_node *c = child_of(e, n);
    bool is_null = n->driver == DRV_NULL_CO || n->driver == DRV_NULL_AIO;
    int cnt = 0;
    opt_ent_t *o = opt_add(v, &cnt, "driver", -1, NULL);

    o->kind = OV_STR;
    o->s = eng_node_driver_name(n->driver);
    if (is_null && n->has_read_zeroes) {
        o = opt_add(v, &cnt, "read-zeroes", -1, NULL);
        o->kind = OV_BOOL;
        o->i = n->read_zeroes;
    }
    if (is_null && n->has_size) {
        o = opt_add(v, &cnt, "size", -1, NULL);
        o->kind = OV_INT;
        o->i = (int64_t)n->size;
    }
    if (n->driver == DRV_FILE) {
        o = opt_add(v, &cnt, "filename", -1, NULL);
        o->kind = OV_STR;
        o->s = e->files[n->file].path;
    }
    if (c && depth < NODE_CHAIN_MAX && n->driver != DRV_FILE) {
        o = opt_add(v, &cnt, n->driver == DRV_BLKDEBUG ? "image" : "file", -1, NULL);
        o->kind = OV_CHILD;
        o->child = c;
    }
    if (n->driver == DRV_QCOW2 && n->backing >= 0 && depth < NODE_CHAIN_MAX) {
        o = opt_add(v, &cnt, "backing", -1, NULL);
        o->kind = OV_CHILD;
        o->child = &e->nodes[n->backing];
    }
    for (int k = 0; n->driver == DRV_BLKDEBUG && k < ENG_FAULTS; k++) {
        if (n->faults[k].used)
            opt_add_fault(v, &cnt, k, &n->faults[k]);
    }
    return cnt;
}

/* The node's full open options as QEMU's qobject_to_json() writes them. */
static void write_options(const qmpk_engine_t *e, const struct qmpk_eng_node *n,
                          qmpk_writer_t *w, int depth)
{
    opt_ent_t v[OPT_ENTS_MAX];
    int cnt = collect_options(e, n, v, depth);

    qmpk_w_obj_begin(w);
    for (int done = 0; done < cnt; done++) {
        /* selection of the next smallest: cnt is tiny, no scratch needed */
        int best = -1;
        for (int i = 0; i < cnt; i++) {
            if (v[i].key[0] && (best < 0 || opt_before(&v[i], &v[best])))
                best = i;
        }
        opt_ent_t *o = &v[best];
        qmpk_w_key(w, o->key);
        switch (o->kind) {
        case OV_STR: qmpk_w_str(w, o->s); break;
        case OV_INT: qmpk_w_int(w, o->i); break;
        case OV_BOOL: qmpk_w_bool(w, o->i != 0); break;
        case OV_CHILD: write_options(e, o->child, w, depth + 1); break;
        }
        o->key[0] = '\0';
    }
    qmpk_w_obj_end(w);
}

/* bs->filename: exact, or "json:" + options.  The writer's JSON uses
 * QEMU's separators (", " and ": "), so it is the same text. */
void eng_node_filename(const qmpk_engine_t *e, const struct qmpk_eng_node *n, char *out,
                       size_t cap)
{
    qmpk_writer_t w;

    if (exact_filename(e, n, out, cap, 0))
        return;
    memcpy(out, "json:", 5);
    qmpk_w_init(&w, out + 5, cap - 6);
    write_options(e, n, &w, 0);
    out[5 + (w.overflow ? 0 : w.len)] = '\0';
}

/* What the non-flat walk follows: a filter's child (blkdebug's image) or a
 * COW backing (the engine's x-backing); raw's file is neither. */
static const struct qmpk_eng_node *filter_or_cow(const qmpk_engine_t *e,
                                                 const struct qmpk_eng_node *n)
{
    if (n->driver == DRV_BLKDEBUG && n->image >= 0)
        return &e->nodes[n->image];
    if (n->backing >= 0)
        return &e->nodes[n->backing];
    return NULL;
}

/* The simulated file under a file or qcow2 node, NULL for the others. */
static const struct qmpk_eng_file *image_file(const qmpk_engine_t *e,
                                              const struct qmpk_eng_node *n)
{
    if (n->driver == DRV_QCOW2 && n->image >= 0)
        n = &e->nodes[n->image];
    return n->driver == DRV_FILE && n->file >= 0 ? &e->files[n->file] : NULL;
}

/* ImageInfoSpecificQCow2 of a version 3 image with QEMU 7.2's defaults:
 * the only images blockdev-create makes in the engine */
static void write_qcow2_specific(qmpk_writer_t *w)
{
    qmpk_w_key(w, "format-specific");
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "type");
    qmpk_w_str(w, "qcow2");
    qmpk_w_key(w, "data");
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "compat");
    qmpk_w_str(w, "1.1");
    qmpk_w_key(w, "compression-type");
    qmpk_w_str(w, "zlib");
    qmpk_w_key(w, "lazy-refcounts");
    qmpk_w_bool(w, false);
    qmpk_w_key(w, "refcount-bits");
    qmpk_w_int(w, 16);
    qmpk_w_key(w, "corrupt");
    qmpk_w_bool(w, false);
    qmpk_w_key(w, "extended-l2");
    qmpk_w_bool(w, false);
    qmpk_w_obj_end(w);
    qmpk_w_obj_end(w);
}

/* ImageInfo: backing-image virtual-size filename [cluster-size] format
 * actual-size [format-specific dirty-flag]: cluster-size and
 * format-specific for qcow2, dirty-flag for file and qcow2 (blkdebug has
 * no allocated-size callback, so no actual-size) */
static void write_image(const qmpk_engine_t *e, const struct qmpk_eng_node *n, bool flat,
                        qmpk_writer_t *w, int depth)
{
    char fname[ENG_NODE_FILENAME_MAX];
    const struct qmpk_eng_node *below = flat ? NULL : filter_or_cow(e, n);

    qmpk_w_obj_begin(w);
    if (below && depth < NODE_CHAIN_MAX) {
        qmpk_w_key(w, "backing-image");
        write_image(e, below, flat, w, depth + 1);
    }
    eng_node_filename(e, n, fname, sizeof fname);
    qmpk_w_key(w, "virtual-size");
    qmpk_w_uint(w, n->driver == DRV_FILE ? eng_file_node_size(e, n) : n->size);
    qmpk_w_key(w, "filename");
    qmpk_w_str(w, fname);
    const eng_qcow2_t *q = eng_node_qcow2_c(e, n);
    if (q) {
        qmpk_w_key(w, "cluster-size");
        qmpk_w_uint(w, q->cluster);
    }
    qmpk_w_key(w, "format");
    qmpk_w_str(w, eng_node_driver_name(n->driver));
    const struct qmpk_eng_file *f = image_file(e, n);
    if (f) {
        qmpk_w_key(w, "actual-size");
        qmpk_w_uint(w, eng_file_actual_size(f));
    } else if (n->driver != DRV_BLKDEBUG) {
        qmpk_w_key(w, "actual-size");
        qmpk_w_int(w, 0);
    }
    if (q)
        write_qcow2_specific(w);
    if (f) {
        qmpk_w_key(w, "dirty-flag");
        qmpk_w_bool(w, false);
    }
    qmpk_w_obj_end(w);
}

static int chain_depth(const qmpk_engine_t *e, const struct qmpk_eng_node *n)
{
    int d = 0;

    for (n = filter_or_cow(e, n); n && d < NODE_CHAIN_MAX; n = filter_or_cow(e, n))
        d++;
    return d;
}

static void zero_member(qmpk_writer_t *w, const char *key)
{
    qmpk_w_key(w, key);
    qmpk_w_int(w, 0);
}

/* BlockDeviceInfo in QEMU's QDict order (measured). */
static void write_node(const qmpk_engine_t *e, const struct qmpk_eng_node *n, bool flat,
                       qmpk_writer_t *w)
{
    char fname[ENG_NODE_FILENAME_MAX];

    qmpk_w_obj_begin(w);
    zero_member(w, "iops_rd");
    qmpk_w_key(w, "detect_zeroes");
    qmpk_w_str(w, eng_detect_zeroes_name[n->detect_zeroes]);
    qmpk_w_key(w, "image");
    write_image(e, n, flat, w, 0);
    zero_member(w, "iops_wr");
    qmpk_w_key(w, "ro");
    qmpk_w_bool(w, n->read_only);
    qmpk_w_key(w, "node-name");
    qmpk_w_str(w, n->name);
    qmpk_w_key(w, "backing_file_depth");
    qmpk_w_int(w, flat ? 0 : chain_depth(e, n));
    qmpk_w_key(w, "drv");
    qmpk_w_str(w, eng_node_driver_name(n->driver));
    zero_member(w, "iops");
    zero_member(w, "bps_wr");
    zero_member(w, "write_threshold");
    if (n->driver == DRV_QCOW2 && n->backing >= 0) {
        /* bs->backing_file: the backing node's filename */
        eng_node_filename(e, &e->nodes[n->backing], fname, sizeof fname);
        qmpk_w_key(w, "backing_file");
        qmpk_w_str(w, fname);
    }
    qmpk_w_key(w, "encrypted");
    qmpk_w_bool(w, false);
    zero_member(w, "bps");
    zero_member(w, "bps_rd");
    qmpk_w_key(w, "cache");
    qmpk_w_obj_begin(w);
    qmpk_w_key(w, "no-flush");
    qmpk_w_bool(w, false);
    qmpk_w_key(w, "direct");
    qmpk_w_bool(w, false);
    qmpk_w_key(w, "writeback");
    qmpk_w_bool(w, true);
    qmpk_w_obj_end(w);
    eng_node_filename(e, n, fname, sizeof fname);
    qmpk_w_key(w, "file");
    qmpk_w_str(w, fname);
    qmpk_w_obj_end(w);
}

int eng_node_next_newest(const qmpk_engine_t *e, uint32_t below)
{
    int best = -1;

    for (uint32_t i = 0; i < e->cfg.max_nodes; i++) {
        const struct qmpk_eng_node *n = &e->nodes[i];
        if (n->used && n->seq < below && (best < 0 || n->seq > e->nodes[best].seq))
            best = (int)i;
    }
    return best;
}

static const arg_def_t args_named_nodes[] = {
    { "flat", AT_BOOL, false, NULL, NULL }, { NULL, AT_ANY, false, NULL, NULL } };

void eng_cmd_query_named_block_nodes(eng_req_t *r)
{
    qmpk_writer_t w;
    arg_vals_t v;

    if (!eng_args(r, args_named_nodes, &v))
        return;
    bool flat = eng_arg_bool(r, v.tok[0], false);
    eng_reply_begin(r, &w);
    qmpk_w_arr_begin(&w);
    /* O(n^2) in live nodes, bounded by the reply buffer: a full one stops it */
    for (int i = eng_node_next_newest(r->e, UINT32_MAX); i >= 0 && !w.overflow;
         i = eng_node_next_newest(r->e, r->e->nodes[i].seq))
        write_node(r->e, &r->e->nodes[i], flat, &w);
    qmpk_w_arr_end(&w);
    eng_reply_end(r, &w);
}
