/* Internal declarations shared by the engine's files; never installed. */
#ifndef QMPK_ENGINE_INTERNAL_H
#define QMPK_ENGINE_INTERNAL_H

#include "qmpkit/parser.h"
#include "qmpkit/engine.h"

#define ENG_NS_PER_S 1000000000ull
#define ENG_ID_MAX 128            /* node names and other keys (with NUL) */
#define ENG_JOB_ID_MAX (QMPK_ENGINE_MAX_ID_BYTES + 1)   /* a job id, with NUL */
/* A job id read from a request: one byte more than the longest stored id,
 * so a longer argument, truncated, still differs from every job's id. */
#define ENG_JOB_ID_ARG (ENG_JOB_ID_MAX + 1)
#define ENG_LABEL_MAX 64
#define ENG_ERR_MAX 512           /* an error desc before escaping */
#define ENG_NEVER UINT64_MAX
#define TXN_ACTIONS_MAX 16        /* actions of one transaction */
#define ENG_COPY_WORKERS 64       /* QEMU's BLOCK_COPY_MAX_WORKERS: failing
                                     requests a block-copy call holds before
                                     it stops issuing more */

/* ------------------------------------------------------------------ */
/* Monitors and their in-band queue                                     */

typedef enum slot_kind {
    SLOT_REQUEST = 0,   /* a parsed command object */
    SLOT_ERROR = 1,     /* a rendered error reply (parse error, too large) */
} slot_kind_t;

/* One queued in-band item: a copy of the request (bytes and tokens), so
 * the stream buffer can take the next message meanwhile. */
typedef struct eng_slot {
    slot_kind_t kind;
    qmpk_msg_t msg;         /* views bytes/tok below */
    char *bytes;            /* msg_bytes */
    jsmntok_t *tok;         /* msg_tokens */
    size_t err_len;         /* SLOT_ERROR: rendered reply in bytes */
} eng_slot_t;

struct qmpk_eng_mon {
    bool used;
    bool negotiated;        /* command mode */
    bool oob;               /* "oob" enabled */
    bool async;             /* "async" enabled (extended profile) */
    bool running;           /* head slot is a command still running */
    bool gone;              /* disconnected while a command runs */
    uint32_t id;
    uint32_t gen;           /* connections served by this slot so far */
    int32_t rq_prev, rq_next; /* the dispatcher's ready list (slot indexes) */
    bool in_rq;
    char label[ENG_LABEL_MAX];
    qmpk_stream_t stream;
    char *inbuf;            /* msg_bytes + QMPK_BUF_SLACK */
    jsmntok_t *intok;
    eng_slot_t *slots;      /* queue_depth + 1 (the running one) */
    uint32_t q_head, q_count;
    uint64_t run_until;     /* running command completes at this time */
    uint32_t run_kind;      /* what completes (see dispatch.c) */
    char *out;              /* out_bytes */
    size_t out_head, out_tail;
    uint64_t dropped;
};

/* ------------------------------------------------------------------ */
/* Block nodes                                                          */

typedef enum node_driver {
    DRV_NULL_CO, DRV_NULL_AIO, DRV_BLKDEBUG, DRV_RAW, DRV_FILE, DRV_QCOW2
} node_driver_t;

/* When a blkdebug rule is armed: QEMU arms a rule when its event fires.
 * Over null-co only these ever fire: 'none' (armed from the start),
 * 'pwritev' (each data write) and 'pwritev_zero' (each zero write); the
 * others are qcow2's and never arm. */
typedef enum fault_arm { ARM_ALWAYS, ARM_ON_WRITE, ARM_ON_ZERO_WRITE, ARM_NEVER } fault_arm_t;

typedef struct eng_fault {      /* blkdebug inject-error rule */
    bool used;
    fault_arm_t arm;
    bool armed;                 /* its event fired: it hits every later request */
    int iotype;                 /* -1 all, else a BlkdebugIOType index (FAULT_IO_*,
                                 * eng_blkdebug_iotype_name) */
    int err;                    /* errno, e.g. 5 EIO, 28 ENOSPC */
    int64_t sector;             /* -1: any request */
    bool once;
    /* as given, for the node's filename (json:{"inject-error.0.event": ...}) */
    int event;                  /* index into eng_blkdebug_event_name */
    unsigned given;             /* FAULT_GIVEN_* bits */
    int64_t state;
    bool immediately;
} eng_fault_t;

enum {
    FAULT_GIVEN_STATE = 1u << 0, FAULT_GIVEN_IOTYPE = 1u << 1, FAULT_GIVEN_ERRNO = 1u << 2,
    FAULT_GIVEN_SECTOR = 1u << 3, FAULT_GIVEN_ONCE = 1u << 4, FAULT_GIVEN_IMMEDIATELY = 1u << 5,
};

#define ENG_FAULTS 4
enum {                          /* BlkdebugIOType indexes */
    FAULT_IO_READ = 0, FAULT_IO_WRITE = 1, FAULT_IO_WRITE_ZEROES = 2, FAULT_IO_FLUSH = 4,
    FAULT_IO_BLOCK_STATUS = 5,
};

struct qmpk_eng_node {
    bool used;
    node_driver_t driver;
    char name[ENG_ID_MAX];
    uint64_t size;
    uint64_t latency_ns;
    bool read_zeroes;
    int image;                  /* blkdebug: child node index, else -1 */
    int backing;                /* x-backing: node index or -1 */
    int busy_job;               /* job using it as source/top, or -1 */
    int refs;                   /* jobs and parents holding it */
    bool unflushed;             /* written since its last flush (write_gen) */
    bool implicit;              /* created inline by its parent: not the
                                   monitor's to delete, gone with its last
                                   parent */
    eng_fault_t faults[ENG_FAULTS];
    uint32_t seq;               /* creation order: query-named-block-nodes lists newest first */
    bool has_size;              /* size / read-zeroes given: QEMU's strong options, */
    bool has_read_zeroes;       /* which make its filename json:{...} */
    bool read_only;
    int detect_zeroes;          /* index into "off", "on", "unmap" */
    int file;                   /* DRV_FILE: index into e->files, else -1 */
};

/* ------------------------------------------------------------------ */
/* Simulated files and their qcow2 images (qcow2.c, images.c)           */

/* A qcow2 image as its allocation state, no data: the engine never writes
 * anything but zeroes, so which guest clusters are allocated (and whether
 * as data or as zero clusters) is all a file length depends on.  Every
 * writer the engine has (metadata preallocation, stream, commit) writes in
 * offset order from 0, so the allocated clusters are always a prefix
 * [0, alloc) of the image. */
typedef struct eng_qcow2 {
    bool formatted;             /* the file holds a qcow2 image */
    uint64_t size;              /* virtual size, bytes (a multiple of 512) */
    uint64_t cluster;           /* cluster size, bytes */
    uint64_t alloc;             /* guest bytes allocated: a prefix, cluster-aligned or size */
    uint64_t data;              /* host data clusters (zero clusters have none) */
} eng_qcow2_t;

#define ENG_QCOW2_MIN_CLUSTER 512ull
#define ENG_QCOW2_MAX_CLUSTER (2ull * 1024 * 1024)
#define ENG_QCOW2_DEFAULT_CLUSTER 65536ull

bool eng_qcow2_cluster_valid(uint64_t cluster);
/* Largest virtual size whose fully allocated image fits the first refcount
 * block (the model's bound, see qcow2.c). */
uint64_t eng_qcow2_max_size(uint64_t cluster);
void eng_qcow2_format(eng_qcow2_t *q, uint64_t size, uint64_t cluster, bool metadata);
uint64_t eng_qcow2_file_length(const eng_qcow2_t *q);
/* Allocate the guest clusters covering [0, end) not yet allocated, as data
 * or as zero clusters. */
void eng_qcow2_allocate(eng_qcow2_t *q, uint64_t end, bool data);

struct qmpk_eng_file {
    bool used;
    char path[QMPK_ENGINE_MAX_PATH_BYTES + 1];
    uint64_t length;            /* unformatted: bytes (qcow2: eng_qcow2_file_length) */
    eng_qcow2_t img;
};

uint64_t eng_file_length(const struct qmpk_eng_file *f);
int eng_file_find(const qmpk_engine_t *e, const char *path);
/* The qcow2 image under a qcow2 node, NULL for other drivers. */
eng_qcow2_t *eng_node_qcow2(qmpk_engine_t *e, int node);
const eng_qcow2_t *eng_node_qcow2_c(const qmpk_engine_t *e, const struct qmpk_eng_node *n);
uint64_t eng_file_node_size(const qmpk_engine_t *e, const struct qmpk_eng_node *n);
uint64_t eng_file_actual_size(const struct qmpk_eng_file *f);

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */

typedef enum job_status {
    JS_UNDEFINED, JS_CREATED, JS_RUNNING, JS_PAUSED, JS_READY, JS_STANDBY,
    JS_WAITING, JS_PENDING, JS_ABORTING, JS_CONCLUDED, JS_NULL, JS__COUNT
} job_status_t;

typedef enum job_verb {
    JV_CANCEL, JV_PAUSE, JV_RESUME, JV_SET_SPEED, JV_COMPLETE, JV_DISMISS,
    JV_FINALIZE, JV__COUNT
} job_verb_t;

typedef enum job_type { JT_COMMIT, JT_STREAM, JT_MIRROR, JT_BACKUP, JT_CREATE } job_type_t;

typedef enum on_error { OE_REPORT, OE_IGNORE, OE_ENOSPC, OE_STOP, OE_AUTO } on_error_t;

typedef enum io_status { IOS_OK, IOS_FAILED, IOS_NOSPACE } io_status_t;

struct qmpk_eng_job {
    bool used;
    char id[ENG_JOB_ID_MAX];
    job_type_t type;
    job_status_t status;
    uint32_t seq;               /* creation order: query-jobs lists newest first */
    uint32_t txn;               /* grouped transaction, 0 when alone */
    uint64_t len, offset;
    int64_t speed;
    uint64_t chunk;             /* bytes per step */
    uint64_t wake;              /* next step due (ENG_NEVER: not scheduled) */
    bool auto_finalize, auto_dismiss;
    bool user_paused;
    int pause_count;            /* user pause + drains + error stop */
    bool cancelled, force;      /* a cancel was requested, and how */
    bool should_complete;       /* job-complete was accepted */
    bool active_commit;         /* commit of the active layer: mirror-like */
    bool started;               /* left created */
    int ret;                    /* 0, or -errno */
    io_status_t io_status;
    on_error_t on_source_error, on_target_error;
    int src, dst;               /* node indexes (dst -1 for stream) */
    uint64_t inflight;          /* bytes of a request waiting for latency */
    bool timer;                 /* wake is a rate-limit timer (kickable) */
    bool completed_work;        /* QEMU deferred_to_main_loop */
    bool exit_pending;          /* job_exit() due at wake */
    bool txn_aborting;
    bool in_drain;              /* a finished mirror drains its source */
    bool begun;                 /* the driver took its sizes */
    bool poll_stop;             /* an error ends the creating command's poll */
    bool sweeping;              /* an unthrottled backup tries every cluster */
    uint64_t pos;               /* sweeping: next cluster to try */
    uint32_t nfailed;           /* sweeping: clusters left dirty by errors */
    uint64_t failed[ENG_COPY_WORKERS];
    int create_ret;             /* create: the outcome, 0 or -errno */
    int stream_base;            /* stream: the node that becomes top's backing, or -1 */
    char error[384];            /* JobInfo.error once ret != 0 (a permission
                                   conflict names four nodes) */
};

/* ------------------------------------------------------------------ */
/* Pending async commands (extended profile)                            */

struct qmpk_eng_pend {
    bool used;
    uint32_t mon_id;
    uint32_t seq;
    uint32_t kind;              /* PEND_DELAY, PEND_SCREENDUMP, PEND_JOB */
    uint64_t started, due;
    char name[32];
    qmpk_msg_t msg;             /* copy of the request (id, arguments) */
    char *bytes;
    jsmntok_t *tok;
    uint32_t job;               /* PEND_JOB: seq of the job it waits for */
};

enum { PEND_DELAY = 1, PEND_SCREENDUMP = 2, PEND_JOB = 3 };

/* ------------------------------------------------------------------ */
/* Requests and commands                                                */

typedef struct eng_req {
    qmpk_engine_t *e;
    struct qmpk_eng_mon *mon;
    const qmpk_msg_t *msg;
    int id;                     /* token of "id" or -1 */
    int args;                   /* token of "arguments" or -1 */
    const struct eng_cmd *cmd;
    bool oob;                   /* dispatched out of band */
    bool replied;
    bool hold;                  /* keep an error reply for later (events first) */
    bool held;
    const char *held_cls;
    char held_desc[ENG_ERR_MAX];
    size_t held_len;
    uint64_t run_until;         /* set by eng_req_defer */
    uint32_t run_kind;
} eng_req_t;

typedef void (*eng_handler_t)(eng_req_t *r);

/* What a job-creating command asks for (jobcmds.c) */
typedef struct job_spec {
    job_type_t type;
    int src, dst;               /* node indexes, -1: none (create) */
    uint64_t chunk;
    uint32_t txn;
    bool active_commit;
} job_spec_t;
/* job_create(): id checks, a slot, JOB_STATUS_CHANGE created; NULL after
 * replying an error.  obj holds job-id, speed, auto-finalize, ... */
struct qmpk_eng_job *eng_job_create(eng_req_t *r, int obj, const job_spec_t *s);
/* The reply of a command that created a job: {} now, or (async monitor)
 * when the job concludes. */
void eng_job_reply_created(eng_req_t *r);

enum {
    CMD_OOB = 1u << 0,          /* allow-oob */
    CMD_ASYNC = 1u << 1,        /* async in the extended profile */
    CMD_EXTENDED = 1u << 2,     /* exists only in the extended profile */
    CMD_MANUAL_CLOCK = 1u << 3, /* exists only with manual_clock */
};

typedef struct eng_cmd {
    const char *name;
    eng_handler_t fn;
    unsigned flags;
} eng_cmd_t;

/* args.c: argument visitor with QEMU's texts */
typedef enum arg_type {
    AT_STR, AT_INT, AT_UINT, AT_SIZE, AT_BOOL, AT_ENUM, AT_ANY,
    AT_ENUM_LIST, AT_OBJ_LIST, AT_OBJ,
} arg_type_t;

typedef struct arg_def {
    const char *name;
    arg_type_t type;
    bool required;
    const char *const *values;      /* AT_ENUM, AT_ENUM_LIST: NULL-ended */
    const struct arg_def *members;  /* AT_OBJ, AT_OBJ_LIST elements; NULL-ended by name */
} arg_def_t;

#define ARGS_MAX 24
typedef struct arg_vals {
    int tok[ARGS_MAX];              /* value token per schema member, or -1 */
} arg_vals_t;

/* Visit object token obj (-1: no arguments) against the schemas (each a
 * name-NULL-terminated array), QEMU's way: members in schema order, then
 * the first unexpected member in hash order.  false with *err set. */
bool eng_args_visit(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                    int nschemas, arg_vals_t *out, char *err, size_t errcap);
/* The same for a nested object named prefix ("actions[0].data"). */
bool eng_args_visit_at(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                       int nschemas, const char *prefix, arg_vals_t *out, char *err,
                       size_t errcap);
bool eng_args(eng_req_t *r, const arg_def_t *schema, arg_vals_t *out);
int eng_enum_index(const qmpk_msg_t *m, int t, const char *const *values);
bool eng_arg_str(const eng_req_t *r, int t, char *out, size_t cap);
int64_t eng_arg_int(const eng_req_t *r, int t, int64_t dflt);
/* A duration in ms from 0 to max_ms; otherwise replies "expects a
 * non-negative value" (as QEMU words it for its size arguments) or, for a
 * value whose end the clock cannot reach, "is too large (engine limit N)". */
bool eng_arg_ms(eng_req_t *r, int64_t ms, uint64_t max_ms);
bool eng_arg_bool(const eng_req_t *r, int t, bool dflt);
bool eng_id_wellformed(const char *id);

/* output.c */
void eng_out_append(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const char *p, size_t n);
/* Writer over the reply scratch buffer, positioned inside {"return": */
qmpk_writer_t *eng_reply_begin(eng_req_t *r, qmpk_writer_t *w);
void eng_reply_end(eng_req_t *r, qmpk_writer_t *w);
void eng_reply_empty(eng_req_t *r);
void eng_reply_error(eng_req_t *r, const char *cls, const char *desc);
/* desc of n bytes, which may hold NULs (a name given as "\u0000") */
void eng_reply_error_n(eng_req_t *r, const char *cls, const char *desc, size_t n);
void eng_reply_errorf(eng_req_t *r, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eng_write_error_reply(qmpk_writer_t *w, const qmpk_msg_t *m, int id,
                           const char *cls, const char *desc, size_t desc_len);
/* Events: begin writes {"timestamp": ..., "event": NAME, "data": and leaves
 * the writer inside data (or before the closing brace with no data). */
qmpk_writer_t *eng_event_begin(qmpk_engine_t *e, qmpk_writer_t *w, const char *name,
                               bool has_data);
void eng_event_end(qmpk_engine_t *e, qmpk_writer_t *w, bool has_data);
/* SHUTDOWN {"guest": false, "reason": reason} (cmd_misc.c) */
void eng_event_shutdown(qmpk_engine_t *e, const char *reason);

/* monitor.c */
struct qmpk_eng_mon *eng_mon_find(const qmpk_engine_t *e, uint32_t id);
void eng_dispatcher_run(qmpk_engine_t *e);
bool eng_mon_suspended(const qmpk_engine_t *e, const struct qmpk_eng_mon *mon);

/* dispatch.c */
void eng_dispatch(qmpk_engine_t *e, struct qmpk_eng_mon *mon, const qmpk_msg_t *msg,
                  bool oob_path, uint64_t *run_until, uint32_t *run_kind);
void eng_finish_running(qmpk_engine_t *e, struct qmpk_eng_mon *mon,
                        const qmpk_msg_t *msg);
void eng_req_defer(eng_req_t *r, uint64_t until, uint32_t kind);
const eng_cmd_t *eng_cmd_lookup(const qmpk_engine_t *e, const char *name, size_t n);
const eng_cmd_t *eng_cmd_table(size_t *count);
bool eng_cmd_visible(const qmpk_engine_t *e, const eng_cmd_t *c);

/* commands (cmd_misc.c, blockdev.c, jobs_qmp.c, async.c) */
void eng_cmd_qmp_capabilities(eng_req_t *r);
void eng_cmd_query_version(eng_req_t *r);
void eng_cmd_query_status(eng_req_t *r);
void eng_cmd_query_name(eng_req_t *r);
void eng_cmd_query_commands(eng_req_t *r);
void eng_cmd_stop(eng_req_t *r);
void eng_cmd_cont(eng_req_t *r);
void eng_cmd_quit(eng_req_t *r);
void eng_cmd_query_yank(eng_req_t *r);
void eng_cmd_yank(eng_req_t *r);
void eng_cmd_migrate_pause(eng_req_t *r);
void eng_cmd_migrate_recover(eng_req_t *r);
void eng_cmd_screendump(eng_req_t *r);
void eng_cmd_x_clock_step(eng_req_t *r);
void eng_cmd_blockdev_add(eng_req_t *r);
void eng_cmd_blockdev_del(eng_req_t *r);
void eng_cmd_blockdev_mirror(eng_req_t *r);
void eng_cmd_blockdev_backup(eng_req_t *r);
void eng_cmd_block_stream(eng_req_t *r);
void eng_cmd_block_commit(eng_req_t *r);
void eng_cmd_blockdev_create(eng_req_t *r);           /* images.c */
void eng_cmd_transaction(eng_req_t *r);
void eng_cmd_query_jobs(eng_req_t *r);
void eng_cmd_query_block_jobs(eng_req_t *r);
void eng_cmd_job_verb(eng_req_t *r);
void eng_cmd_block_job_verb(eng_req_t *r);
void eng_cmd_x_delay(eng_req_t *r);
void eng_cmd_x_query_pending(eng_req_t *r);
void eng_cmd_x_cancel(eng_req_t *r);
void eng_cmd_x_query_monitor(eng_req_t *r);
void eng_cmd_query_named_block_nodes(eng_req_t *r);   /* cmd_block_nodes.c */
/* The live node with the largest seq below `below` (UINT32_MAX: the
 * newest), -1 when none: query-named-block-nodes' order. */
int eng_node_next_newest(const qmpk_engine_t *e, uint32_t below);
/* bs->filename as QEMU shows it ("null-co://", "json:{...}"); QEMU's is
 * PATH_MAX, the nesting the engine can build stays far below this one
 * (four blkdebug rules over raw over null-co: about 700 bytes). */
#define ENG_NODE_FILENAME_MAX 1024
void eng_node_filename(const qmpk_engine_t *e, const struct qmpk_eng_node *n, char *out,
                       size_t cap);
const char *eng_node_driver_name(node_driver_t d);
void eng_cmd_human_monitor_command(eng_req_t *r);     /* cmd_hmp_qom.c */
void eng_cmd_qom_set(eng_req_t *r);

/* blockdev.c: nodes */
int eng_node_find(const qmpk_engine_t *e, const char *name);
extern const char *const eng_detect_zeroes_name[];
extern const char *const eng_blkdebug_event_name[];
extern const char *const eng_blkdebug_iotype_name[];
int eng_node_lookup(eng_req_t *r, const char *name);
bool eng_node_is_root(const qmpk_engine_t *e, int i);

/* jobs.c: state machine */
extern const char *const eng_job_status_name[JS__COUNT];
extern const char *const eng_job_verb_name[JV__COUNT];
extern const char *const eng_job_type_name[];
bool eng_job_transition_allowed(job_status_t from, job_status_t to);
bool eng_job_verb_allowed(job_verb_t v, job_status_t s);



void eng_job_transition(qmpk_engine_t *e, struct qmpk_eng_job *j, job_status_t to);
struct qmpk_eng_job *eng_job_find(qmpk_engine_t *e, const char *id);
bool eng_job_apply_verb(qmpk_engine_t *e, struct qmpk_eng_job *j, job_verb_t v,
                        char *err, size_t cap);
void eng_job_pause(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_resume(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_cancel(qmpk_engine_t *e, struct qmpk_eng_job *j, bool force);
void eng_job_drain(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_finalize_txn(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_dismiss(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_start(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_jobs_run(qmpk_engine_t *e, uint64_t until);
uint64_t eng_jobs_next_wake(const qmpk_engine_t *e);
void eng_job_release(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_pause_point(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_completed(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_job_cancel_async(qmpk_engine_t *e, struct qmpk_eng_job *j, bool force);

/* blockjobs.c: drivers and block events */
void eng_blockjob_step(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_blockjob_poll(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_blockjob_first_chunk(qmpk_engine_t *e, struct qmpk_eng_job *j);
/* job_prepare() of a successful stream or commit over qcow2: the graph
 * change (images.c) */
void eng_create_job_run(qmpk_engine_t *e, struct qmpk_eng_job *j);
void eng_blockjob_prepare(qmpk_engine_t *e, struct qmpk_eng_job *j);
/* The image writes of a copied chunk ending at end (images.c) */
void eng_blockjob_image_copy(qmpk_engine_t *e, const struct qmpk_eng_job *j, uint64_t end);
void eng_event_job_status(qmpk_engine_t *e, const struct qmpk_eng_job *j);
void eng_event_block_job(qmpk_engine_t *e, const struct qmpk_eng_job *j, const char *name);
void eng_event_block_job_pending(qmpk_engine_t *e, const struct qmpk_eng_job *j);
void eng_event_block_job_error(qmpk_engine_t *e, const struct qmpk_eng_job *j,
                               bool write, const char *action);
const char *eng_strerror(int err);

/* async.c */
void eng_async_start(eng_req_t *r, uint32_t kind, uint64_t duration_ns);
void eng_async_complete_sync(eng_req_t *r);
/* Job-creating commands on an async monitor reply when the job concludes:
 * check (-1: error replied, 0: not async, 1: async) before creating the
 * job, register after, and the job calls done when it concludes. */
int eng_async_job_check(eng_req_t *r);
void eng_async_job_register(eng_req_t *r, const struct qmpk_eng_job *j);
void eng_async_job_done(qmpk_engine_t *e, const struct qmpk_eng_job *j);
void eng_pending_run(qmpk_engine_t *e, uint64_t until);
uint64_t eng_pending_next(const qmpk_engine_t *e);
void eng_pending_drop_monitor(qmpk_engine_t *e, uint32_t mon_id);
void eng_run_until(qmpk_engine_t *e, uint64_t until);

/* engine.c / monitor.c: scheduling */
void eng_catch_up(qmpk_engine_t *e, uint64_t now_ns);
void eng_monitors_finish_due(qmpk_engine_t *e, uint64_t t);
uint64_t eng_monitors_next_due(const qmpk_engine_t *e);
void eng_write_version(const qmpk_engine_t *e, qmpk_writer_t *w);

/* What a command still running completes with (eng_req_defer) */
enum {
    RUN_NONE = 0,
    RUN_QCOW2_OPEN = 1,     /* blockdev-add reading a header: blocks the main loop */
    RUN_SCREENDUMP = 2,     /* QEMU profile: coroutine command, dispatcher waits */
    RUN_SYNC_ASYNC = 3,     /* extended: async command on a monitor without async */
};
bool eng_run_blocks_all(uint32_t kind);

/* time */
static inline uint64_t eng_now(const qmpk_engine_t *e) { return e->now; }

#endif /* QMPK_ENGINE_INTERNAL_H */
