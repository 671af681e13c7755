/*
 * qmpkit engine: a QMP server without I/O.
 *
 * The caller hands the engine the bytes received on monitor N together with
 * the current time; the engine hands back the bytes to send to monitor N.
 * It owns no thread, socket or clock and never allocates: every table lives
 * in one block of memory the caller supplies, sized by
 * qmpk_engine_storage_size() from the pool sizes of the configuration.  The
 * same calls with the same arguments give the same output, byte for byte.
 *
 * Profiles:
 *   QMPK_PROFILE_QEMU72    QEMU 7.2 as recorded in ../shared/corpus/qemu-7.2:
 *                          greeting, negotiation, envelope checks, OOB, the
 *                          job state machine and its events (spec qemu-qmp.md)
 *   QMPK_PROFILE_EXTENDED  the same plus the async extension (spec async.md):
 *                          capability "async", out-of-order replies,
 *                          x-query-pending, x-cancel, x-query-monitor,
 *                          x-delay.  Async commands: x-delay, screendump and,
 *                          on a monitor with "async", the job-creating
 *                          blockdev-mirror, blockdev-backup, block-stream and
 *                          block-commit, whose reply then comes when the job
 *                          concludes ({} or the job's error; x-cancel of the
 *                          command cancels the job).  In a transaction they
 *                          stay synchronous.
 *
 * Simulation: block nodes are null-co/null-aio (size, latency-ns,
 * read-zeroes) and blkdebug (image, inject-error with QEMU 7.2's events,
 * iotype, errno, sector, once) to make jobs fail: as over a real null-co,
 * only "none" (armed at once), "pwritev" and "pwritev_zero" (armed by data
 * and zero writes) ever fire; a backup from a plain null-co source reads
 * and writes data, a backup or mirror from a read-zeroes source writes
 * zeroes, a mirror from a plain source writes nothing.  null-co also takes the
 * engine's own "x-backing": node-name, a backing chain for block-stream and
 * block-commit (QEMU's null-co has none).  A qcow2 node over a null-co file
 * fails as QEMU does ("Image is not in qcow2 format") after blocking the
 * dispatcher for the file's latency-ns.  blockdev-create (a "create" job)
 * makes simulated files (driver "file": a name and a length, no data) and
 * formats them as qcow2 (size, cluster-size, preallocation off|metadata);
 * blockdev-add opens them (drivers "file" and "qcow2", with "backing"), and
 * block-stream and block-commit over qcow2 chains allocate clusters in the
 * images, so that the file lengths follow qcow2's layout (docs/CONFORMANCE.md, 4.12).
 *
 * Typical server loop (one thread):
 *
 *   qmpk_engine_connect(e, now, "m0", &mon);           greeting queued
 *   on readable:   qmpk_engine_input(e, mon, buf, n, now, &used);
 *                  keep buf[used..n) and offer it again later when
 *                  used < n (the monitor is suspended or its output full)
 *   on timer:      qmpk_engine_advance(e, now);
 *                  arm the next timer at qmpk_engine_next_deadline(e)
 *   after each call, for every monitor:
 *                  while (qmpk_engine_output(e, mon, &p, &len)) {
 *                      n = write(fd, p, len); qmpk_engine_output_consume(e, mon, n); }
 *   on EOF:        qmpk_engine_disconnect(e, mon, now);
 *   when qmpk_engine_quit_requested(e): flush outputs, close every connection.
 *
 * Time is a caller-chosen nanosecond clock; it must never go backwards (a
 * smaller value is treated as the last one seen).  Event timestamps are
 * derived from it: seconds = ns / 10^9, microseconds = (ns / 1000) % 10^6.
 *
 * Thread safety: none; one engine must be driven from one thread.
 */
#ifndef QMPKIT_ENGINE_H
#define QMPKIT_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Errors of the C API (QMP-level errors are replies on the wire)       */

/* Numbers are explicit and never reused. */
#define QMPK_ENGINE_ERRNO_MAP(XX)                                              \
    XX(0, OK, "success")                                                      \
    XX(1, BAD_CONFIG, "invalid engine configuration")                         \
    XX(2, STORAGE_TOO_SMALL, "storage block smaller than qmpk_engine_storage_size()") \
    XX(3, TOO_MANY_MONITORS, "every monitor slot is in use")                  \
    XX(4, NO_SUCH_MONITOR, "no connected monitor with that id")               \
    XX(5, SUSPENDED, "the monitor is suspended; offer the input again later") \
    XX(6, OUTPUT_FULL, "the monitor's output buffer is full; drain it first") \
    XX(7, QUIT, "the engine executed 'quit'; close every connection")         \
    XX(8, BAD_ARGUMENT, "invalid argument")

typedef enum qmpk_engine_errno {
#define QMPK_XX_ENGINE_ENUM(num, name, desc) QMPK_ENGINE_E_##name = num,
    QMPK_ENGINE_ERRNO_MAP(QMPK_XX_ENGINE_ENUM)
#undef QMPK_XX_ENGINE_ENUM
} qmpk_engine_errno_t;

/* "QMPK_ENGINE_E_OUTPUT_FULL"; "QMPK_ENGINE_E_UNKNOWN" outside the list */
const char *qmpk_engine_errname(qmpk_engine_errno_t e);
const char *qmpk_engine_strerror(qmpk_engine_errno_t e);

/* ------------------------------------------------------------------ */
/* Configuration                                                        */

typedef enum qmpk_profile {
    QMPK_PROFILE_QEMU72 = 0,
    QMPK_PROFILE_EXTENDED = 1,
} qmpk_profile_t;

/* Defaults used for a zero field (see qmpk_engine_config_default). */
#define QMPK_ENGINE_DEFAULT_MONITORS 8u
#define QMPK_ENGINE_DEFAULT_JOBS 16u
#define QMPK_ENGINE_DEFAULT_NODES 32u
#define QMPK_ENGINE_DEFAULT_FILES 16u         /* simulated image files */
#define QMPK_ENGINE_DEFAULT_PENDING 32u       /* async commands, engine-wide */
#define QMPK_ENGINE_DEFAULT_QUEUE_DEPTH 8u    /* QEMU's QMP_REQ_QUEUE_LEN_MAX */
#define QMPK_ENGINE_DEFAULT_MSG_BYTES 131072u /* one request, per queue slot */
#define QMPK_ENGINE_DEFAULT_MSG_TOKENS 4096u  /* jsmn tokens: QEMU's nesting limit fits */
#define QMPK_ENGINE_DEFAULT_OUT_BYTES 524288u /* per-monitor output buffer */
#define QMPK_ENGINE_DEFAULT_REPLY_BYTES 262144u /* largest single message out */
#define QMPK_ENGINE_DEFAULT_PENDING_BYTES 1024u /* saved id/result of one async command */

/* Bounds of a valid configuration (after defaults): outside them
 * qmpk_engine_storage_size() is 0 and qmpk_engine_init() returns
 * QMPK_ENGINE_E_BAD_CONFIG.  out_bytes must also be >= reply_bytes, or
 * input would never resume after a full reply. */
#define QMPK_ENGINE_MAX_MONITORS 4096u
#define QMPK_ENGINE_MAX_JOBS 512u
#define QMPK_ENGINE_MAX_NODES 65536u
#define QMPK_ENGINE_MAX_FILES 4096u
#define QMPK_ENGINE_MAX_QUEUE_DEPTH 1024u
#define QMPK_ENGINE_MIN_MSG_BYTES 64u
#define QMPK_ENGINE_MIN_MSG_TOKENS 16u
#define QMPK_ENGINE_MIN_REPLY_BYTES 256u
#define QMPK_ENGINE_MIN_PENDING_BYTES 64u

/* Longest job id in bytes (QEMU has no bound): a longer one is refused with
 * "Job ID too long (engine limit 255 bytes)", never truncated. */
#define QMPK_ENGINE_MAX_ID_BYTES 255u

/* Longest filename of a simulated file (blockdev-create driver "file"): a
 * longer one fails the create job with "File name too long (engine limit
 * 1023 bytes)". */
#define QMPK_ENGINE_MAX_PATH_BYTES 1023u

typedef struct qmpk_engine_config {
    qmpk_profile_t profile;
    /* pools; 0 selects the default above */
    uint32_t max_monitors;   /* monitors connected at once */
    uint32_t max_jobs;       /* jobs alive at once (any state but null) */
    uint32_t max_nodes;      /* block nodes */
    uint32_t max_files;      /* simulated files blockdev-create makes (they
                                have no I/O: a length and, once formatted,
                                a qcow2 image's allocation state) */
    uint32_t max_pending;    /* pending async commands (extended profile) */
    uint32_t queue_depth;    /* per-monitor in-band queue, QEMU: 8 */
    uint32_t msg_bytes;      /* largest request accepted; a larger one gets
                                GenericError "message exceeds the buffer
                                capacity" (no id) and the monitor goes on;
                                with the defaults a monitor takes about
                                2.6 MB of storage */
    uint32_t msg_tokens;     /* jsmn tokens of one request */
    uint32_t out_bytes;      /* per-monitor output buffer; input stops being
                                consumed while less than reply_bytes is free */
    uint32_t reply_bytes;    /* largest single reply or event; a reply that
                                does not fit (a huge id echoed) is replaced
                                by GenericError "reply exceeds the engine's
                                reply buffer" without id, so the client is
                                answered; keep it >= 2 * msg_bytes */
    uint32_t pending_bytes;  /* saved copy of one async command's request */
    /* greeting and query-version: {"qemu": {major, minor, micro}, package} */
    int32_t version_major, version_minor, version_micro;
    const char *package;     /* copied at init (at most 127 bytes); NULL: "" */
    /* Greet with "capabilities": [] and refuse "oob", as QEMU does on a
     * chardev without I/O-thread support (stdio). */
    bool no_oob;
    /* Test clock: the engine ignores every now_ns argument and keeps its
     * own clock, starting at clock_start_ns, which only the command
     * x-clock-step {"ms": int} moves (running every job and timer that
     * falls due, then replying {}).  x-clock-step exists only in this mode. */
    bool manual_clock;
    uint64_t clock_start_ns;
    /* Simulated duration of screendump (0: 100 ms). */
    uint64_t screendump_ns;
} qmpk_engine_config_t;

/* Fill *cfg with the defaults: QEMU 7.2 profile, version 7.2.22, package "". */
void qmpk_engine_config_default(qmpk_engine_config_t *cfg);

/* ------------------------------------------------------------------ */
/* Engine                                                               */

struct qmpk_eng_mon;
struct qmpk_eng_job;
struct qmpk_eng_node;
struct qmpk_eng_pend;
struct qmpk_eng_file;

/*
 * The engine.  Its size is public so the caller can place it anywhere; the
 * fields are private: use the functions below.  Every pool lives in the
 * storage block given to qmpk_engine_init(), which must outlive the engine.
 */
typedef struct qmpk_engine {
    qmpk_engine_config_t cfg;       /* with defaults applied */
    char package[128];
    uint64_t now;                   /* engine time, ns */
    uint32_t next_monitor_id;       /* monitor ids are never reused */
    uint32_t job_seq;               /* creation order of jobs */
    int32_t ready_head, ready_tail; /* monitors with queued requests, in
                                       the dispatcher's round-robin order */
    uint32_t txn_seq;
    bool quit;
    bool vm_running;
    bool dispatching;               /* re-entrancy guard of the dispatcher */
    struct qmpk_eng_mon *mons;
    struct qmpk_eng_job *jobs;
    struct qmpk_eng_node *nodes;
    struct qmpk_eng_pend *pend;
    struct qmpk_eng_file *files;
    char *scratch;                  /* reply_bytes, one message being built */
    char *scratch2;                 /* reply_bytes, a nested value (events) */
    uint32_t pend_seq;              /* order of pending async commands */
    uint32_t live_jobs;             /* jobs in use: the scans skip empty pools */
    uint32_t live_pending;          /* pending async commands in use */
    uint32_t queued;                /* in-band requests queued, all monitors */
    uint32_t running;               /* monitors with a command still running */
    /* test hook: called on every job state transition (from, to) */
    void (*transition_hook)(void *ctx, int from, int to);
    void *transition_ctx;
    uint64_t out_seq;               /* messages appended to any output */
    uint64_t stat_commands;         /* commands dispatched */
    uint64_t stat_dropped;          /* messages dropped on a full output */
} qmpk_engine_t;

/* Bytes of storage qmpk_engine_init() needs for cfg (defaults applied);
 * 0 when the configuration is invalid. */
size_t qmpk_engine_storage_size(const qmpk_engine_config_t *cfg);

/*
 * Check the configuration and set the engine up in storage (aligned to
 * max_align_t, at least qmpk_engine_storage_size(cfg) bytes).  No monitor
 * is connected; the clock starts at 0 (or clock_start_ns).  Init clears
 * only the small tables (monitor, job, node and pending-command records);
 * the per-monitor byte buffers, which make up most of the storage, are not
 * touched until used.  Per monitor the storage holds about
 * (queue_depth + 2) * (msg_bytes + msg_tokens * 20) + out_bytes bytes.
 */
qmpk_engine_errno_t qmpk_engine_init(qmpk_engine_t *e,
                                     const qmpk_engine_config_t *cfg,
                                     void *storage, size_t storage_size);

/*
 * A client connected: take a monitor slot, queue the greeting, enter
 * negotiation mode.  *mon gets the monitor id (unique for the engine's life;
 * x-query-monitor reports it).  Ids encode the slot (generation *
 * max_monitors + slot, the lowest free slot first), so the first
 * max_monitors connections get 0, 1, 2 ... and every lookup is O(1).
 * label names the monitor's
 * chardev as query-yank reports it (copied, at most 63 bytes); NULL gives
 * "m<id>".  QMPK_ENGINE_E_TOO_MANY_MONITORS when every slot is taken.
 */
qmpk_engine_errno_t qmpk_engine_connect(qmpk_engine_t *e, uint64_t now_ns,
                                        const char *label, uint32_t *mon);

/*
 * Bytes received on monitor mon.  The engine frames and parses them, runs
 * exec-oob commands at once, queues in-band ones and runs the dispatcher,
 * so that all replies and events that can be produced now are in the
 * output buffers when it returns.  Like QEMU it stops reading when the
 * monitor is suspended (OOB off and a command still running; or 8 queued
 * with OOB on) and when the output buffer has less than reply_bytes free:
 * then *consumed < len and the return is QMPK_ENGINE_E_SUSPENDED or
 * QMPK_ENGINE_E_OUTPUT_FULL; offer data + *consumed again after
 * qmpk_engine_advance() or after draining the output.  Returns
 * QMPK_ENGINE_E_QUIT (consuming nothing) once quit was executed.
 */
qmpk_engine_errno_t qmpk_engine_input(qmpk_engine_t *e, uint32_t mon,
                                      const char *data, size_t len,
                                      uint64_t now_ns, size_t *consumed);

/* Run everything due up to now_ns: job progress, timers of commands still
 * running, the dispatcher.  Events and replies land in output buffers. */
qmpk_engine_errno_t qmpk_engine_advance(qmpk_engine_t *e, uint64_t now_ns);

/* Engine time at which qmpk_engine_advance() next has work, UINT64_MAX when
 * nothing is scheduled.  May be <= the current time (work is due now). */
uint64_t qmpk_engine_next_deadline(const qmpk_engine_t *e);

/* The engine's current time (the last now_ns seen, or the manual clock). */
uint64_t qmpk_engine_now(const qmpk_engine_t *e);

/*
 * Pending output of monitor mon: true with *ptr and *len set (a contiguous
 * region valid until the next call into the engine), false when empty or
 * mon is unknown.  Call qmpk_engine_output_consume() with the bytes sent.
 */
bool qmpk_engine_output(const qmpk_engine_t *e, uint32_t mon,
                        const char **ptr, size_t *len);
void qmpk_engine_output_consume(qmpk_engine_t *e, uint32_t mon, size_t n);

/*
 * The client went away.  As QEMU does: queued in-band commands that have
 * not started are dropped, partial input is dropped, undrained output is
 * discarded; a running command finishes with its reply discarded.  In the
 * extended profile the monitor's pending async commands are cancelled
 * silently.  Jobs are not affected.  The slot is free afterwards.
 */
qmpk_engine_errno_t qmpk_engine_disconnect(qmpk_engine_t *e, uint32_t mon,
                                           uint64_t now_ns);

/* True once 'quit' ran: SHUTDOWN was broadcast and the reply queued; the
 * server should flush outputs and close every connection. */
bool qmpk_engine_quit_requested(const qmpk_engine_t *e);

/*
 * The host asked the emulator to stop (SIGINT, SIGTERM, SIGHUP): broadcast
 * SHUTDOWN {"guest": false, "reason": "host-signal"} to every negotiated
 * monitor, as QEMU does, and enter the quit state.  Returns
 * QMPK_ENGINE_E_QUIT when the engine had already quit (nothing is sent).
 */
#define QMPK_ENGINE_HAS_SHUTDOWN 1
qmpk_engine_errno_t qmpk_engine_shutdown(qmpk_engine_t *e, uint64_t now_ns);

/*
 * A counter bumped every time a message is appended to any monitor's
 * output.  A server that polls every connection after each call can skip
 * the scan while the counter has not moved.
 */
uint64_t qmpk_engine_output_seq(const qmpk_engine_t *e);

/* Is monitor mon connected / ready to read input (not suspended)? */
bool qmpk_engine_monitor_connected(const qmpk_engine_t *e, uint32_t mon);
bool qmpk_engine_monitor_readable(const qmpk_engine_t *e, uint32_t mon);

/* Messages dropped because a monitor's output buffer was full (events for
 * a client that does not read).  A server should disconnect such clients. */
uint64_t qmpk_engine_monitor_dropped(const qmpk_engine_t *e, uint32_t mon);

/* Pool occupancy, for leak checks: jobs not yet null, pending async
 * commands, monitor slots in use (a slot whose client left while its
 * command still runs counts until the command ends). */
uint32_t qmpk_engine_jobs_alive(const qmpk_engine_t *e);
uint32_t qmpk_engine_pending_count(const qmpk_engine_t *e);
uint32_t qmpk_engine_monitors_used(const qmpk_engine_t *e);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_ENGINE_H */
