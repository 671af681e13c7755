/*
 * qmp-conform: internal declarations shared by the tool's files.
 *
 * Layers:
 *   util.c      growable buffers, escaping, clocks, small string helpers
 *   value.c     owned JSON values (parsed with the qmpkit parser), the
 *               pattern matcher of expected messages, canonical printing
 *   casefile.c  the case-file reader (format: conformance/README.md)
 *   wire.c      one connection to a monitor: framing of what the server
 *               sends, chunked writes, the wire log
 *   target.c    the server under test: --connect paths or an --exec
 *               command started (and reused) per case
 *   runner.c    replays one case at one chunking and gives a verdict
 *   peer.c      client mode: the adapter process, its socket and output
 *   client.c    client mode: plays the server peer of one client case
 *   report.c    terminal summary, JSON, JUnit XML, HTML matrix
 *   main.c      command line
 */
#ifndef QMP_CONFORM_H
#define QMP_CONFORM_H

#include <qmpkit/parser.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* util.c                                                               */

typedef struct cf_buf {
    char *p;
    size_t len, cap;
} cf_buf_t;

void cf_buf_add(cf_buf_t *b, const void *data, size_t n);
void cf_buf_adds(cf_buf_t *b, const char *s);
void cf_buf_addf(cf_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cf_buf_addc(cf_buf_t *b, char c);
/* The body of a JSON string (no quotes): " \\ \n \r \t escaped, other
 * control bytes and 0x7f as \u00XX.  canon: the suite's canonical form
 * (upper-case hex, bytes >= 0x80 kept, so UTF-8 stays as sent); otherwise
 * lower-case hex and every byte >= 0x7f escaped (ASCII out, valid JSON for
 * any bytes). */
void cf_buf_json_escape(cf_buf_t *b, const char *s, size_t n, bool canon);
/* JSON string literal of raw bytes: ASCII, \u00XX for control and 8-bit
 * bytes (so a wire log of arbitrary bytes stays valid JSON). */
void cf_buf_json_str(cf_buf_t *b, const char *s, size_t n);
/* Text as a JSON string: well-formed UTF-8 kept as it is, any other byte
 * >= 0x7f escaped as one \u00XX, like cf_buf_json_str (wire bytes). */
void cf_buf_json_text(cf_buf_t *b, const char *s, size_t n);
/* Bytes for people: printable ASCII as is, \r \n \t, others \xHH. */
void cf_buf_visible(cf_buf_t *b, const char *s, size_t n);
void cf_buf_html(cf_buf_t *b, const char *s, size_t n);
void cf_buf_xml(cf_buf_t *b, const char *s, size_t n);
void cf_buf_free(cf_buf_t *b);
char *cf_buf_take(cf_buf_t *b);        /* NUL-terminated, caller frees */

void *cf_xmalloc(size_t n);
void *cf_xcalloc(size_t n, size_t m);
void *cf_xrealloc(void *p, size_t n);
char *cf_xstrdup(const char *s);
char *cf_xstrndup(const char *s, size_t n);
int64_t cf_now_ms(void);
int64_t cf_now_us(void);
bool cf_write_file(const char *path, const char *data, size_t n);
char *cf_read_file(const char *path, size_t *len);
int cf_mkdir_p(const char *path);
/* Deterministic PRNG (splitmix64) for seeded random chunkings. */
uint64_t cf_rand(uint64_t *state);
uint64_t cf_hash(const char *s);

/* ------------------------------------------------------------------ */
/* value.c                                                              */

/* An owned, immutable JSON value: its text and the parser's view of it. */
typedef struct cf_value {
    char *json;             /* the message image (see qmpk_msg_t) */
    size_t len;
    jsmntok_t *tok;
    qmpk_msg_t msg;         /* msg.json/msg.tok point into this struct */
    char *raw;              /* the wire bytes of the message, or for an
                               invalid one the parser's complaint */
    size_t raw_len;
    uint64_t offset;        /* stream offset on its connection */
    bool invalid;           /* the server sent bytes that are not JSON */
} cf_value_t;

/* Parse one JSON value from text (the QEMU dialect).  NULL and a reason in
 * err (cap bytes) when the text is not exactly one valid value. */
cf_value_t *cf_value_parse(const char *text, size_t n, char *err, size_t cap);
/* Copy a message the parser just produced (its view dies with the feed). */
cf_value_t *cf_value_copy(const qmpk_msg_t *m, const char *raw, size_t raw_len);
void cf_value_free(cf_value_t *v);
bool cf_value_is_event(const cf_value_t *v);
/* Canonical text: keys sorted, numbers reformatted, timestamps kept. */
void cf_value_canon(cf_buf_t *out, const cf_value_t *v, bool mask_variable);
/* The same as an expected message of a case: the values --diff masks
 * become the patterns that match any of them ("$timestamp", "$object" for
 * versions, "$string", "$number" for progress, "$re:^#block[0-9]+$"), and
 * strings that would read as patterns are escaped ("$$x").  It matches v. */
void cf_value_pattern(cf_buf_t *out, const cf_value_t *v);

/* Does the actual message match the expected pattern?  On mismatch, why
 * holds "at PATH: expected X, got Y". */
bool cf_match(const cf_value_t *pattern, const cf_value_t *actual,
              cf_buf_t *why);
/* The same without the implicit event timestamp rule (adapter output lines,
 * whose "event" member is the event's name, not an event). */
bool cf_match_plain(const cf_value_t *pattern, const cf_value_t *actual,
                    cf_buf_t *why);

/* ------------------------------------------------------------------ */
/* casefile.c                                                           */

enum cf_level { CF_MUST = 0, CF_SHOULD, CF_INFO };
enum cf_profile_bit { CF_PROF_QEMU72 = 1u, CF_PROF_EXTENDED = 2u };
enum cf_target_bit { CF_TGT_SERVER = 1u, CF_TGT_CLIENT = 2u };
enum cf_start { CF_START_NEGOTIATED = 0, CF_START_CONNECTED, CF_START_RAW };

/* Monitors a case can use: m0..m9 (one digit in a step line). */
#define CF_MAX_MONITORS 10

/* Longest `pause MS` / `quiet MS` of a client case. */
#define CF_PAUSE_MAX_MS 60000

typedef enum cf_step_kind {
    CF_SEND,        /* -> / -+ : bytes to write */
    CF_EXPECT,      /* <-  : the next message matches */
    CF_EXACT,       /* <=  : the next message, byte-exact under --exact */
    CF_SET,         /* <*  : a group of messages in any order */
    CF_EVENTUALLY,  /* <?  : skip events until one matches */
    CF_FLOAT,       /* <~  : arrives somewhere before the next reply matched */
    CF_CONNECT,     /* connect */
    CF_CLOSE,       /* close */
    CF_EOF,         /* eof : the server closes the connection */
    CF_PAUSE,       /* pause MS (client cases): let MS ms pass, reading */
    CF_QUIET,       /* quiet MS (client cases): the client sends nothing for MS ms */
} cf_step_kind_t;

typedef struct cf_step {
    cf_step_kind_t kind;
    int mon;
    int line;
    char *text;             /* the step as written, for reports */
    char *bytes;            /* SEND: decoded bytes; EXACT: expected bytes */
    size_t nbytes;
    cf_value_t **pats;      /* EXPECT/EXACT/EVENTUALLY: 1; SET: npats */
    int npats;
    int timeout_ms;         /* EVENTUALLY; 0 = case default; PAUSE/QUIET: MS */
    int start;              /* CONNECT: enum cf_start */
    bool subst_dir;         /* SEND: bytes hold CF_DIR_TOKEN (server cases) */
} cf_step_t;

/* In a server case's send lines, the run's private directory (see
 * cf_target_case_dir()); conformance/README.md, "Transcript". */
#define CF_DIR_TOKEN "{dir}"
#define CF_DIR_TOKEN_LEN 5

typedef struct cf_case {
    char *id;               /* "3.2-07" */
    char *section;          /* "3.2" */
    char *title;
    char *file;
    int line;
    int level;              /* enum cf_level */
    char *requirement;
    char *spec;             /* where the requirement comes from */
    char *note;
    unsigned profiles;      /* enum cf_profile_bit */
    unsigned targets;       /* enum cf_target_bit */
    char **requires;        /* commands ("cap:NAME" for capabilities) */
    int nrequires;
    int start;              /* enum cf_start for every monitor */
    char *enable;           /* JSON array text for qmp_capabilities, or NULL */
    bool fresh_process;     /* isolation: process */
    bool uses_dir;          /* a send line holds CF_DIR_TOKEN */
    bool whole_only;        /* chunking: whole */
    int timeout_ms;
    cf_value_t **allow;     /* messages that may appear anywhere */
    int nallow;
    cf_step_t *steps;
    int nsteps;
    int nmon;               /* highest monitor used + 1 */
    /* client cases (targets: client) */
    char **script;          /* the adapter's script, one line each */
    int nscript;
    cf_value_t **out;       /* expected adapter output lines, in order */
    int nout;
    int end;                /* expected end: enum cf_end (clean/error/hung/crashed) */
    unsigned end_ok;        /* more acceptable ends (`end: clean error`), 1u << cf_end */
} cf_case_t;

/* Most bytes the escapes of one suite's lines may decode to, all lines of
 * all its files together (send bytes and patterns; a `->` line's own '\n'
 * is not counted).  \*N{} nests, so a few bytes of a case file could
 * otherwise ask for terabytes, and the reader reads files people send in.
 * The largest line of the shipped suite decodes to about 2 MiB. */
#define CF_DECODED_MAX_BYTES ((size_t)64 << 20)

typedef struct cf_suite {
    cf_case_t **cases;
    int ncases;
    size_t decoded_bytes;   /* what its lines decoded to, <= CF_DECODED_MAX_BYTES */
} cf_suite_t;

/* Load a file or every *.qmpt file below a directory (sorted).  Errors go
 * to stderr as FILE:LINE: message; returns false on any. */
bool cf_suite_load(cf_suite_t *s, const char *path);
void cf_suite_free(cf_suite_t *s);
/* Decode the byte escapes of a send line: \x{HH HH..}, \*N{TEXT}.  Fails,
 * before allocating, when the result would exceed room bytes. */
bool cf_decode_bytes(const char *text, size_t room, cf_buf_t *out, char *err, size_t cap);
/* The inverse: bytes as the text of a case line that cf_decode_bytes turns
 * back into exactly those bytes (control bytes, bytes >= 0x7f, a final space
 * and a backslash that would start an escape written as \x{HH}). */
void cf_encode_bytes(cf_buf_t *out, const char *p, size_t n);
const char *cf_level_name(int level);

/* ------------------------------------------------------------------ */
/* wire.c                                                               */

typedef struct cf_log_entry {
    int64_t t_us;           /* since the case started */
    int mon;
    char dir;               /* 's' sent, 'r' received line, 'e' eof,
                               'n' note, 'c' connect, 'x' close */
    char *data;
    size_t len;
} cf_log_entry_t;

typedef struct cf_log {
    cf_log_entry_t *e;
    int n, cap;
    int64_t t0_us;
} cf_log_t;

void cf_log_add(cf_log_t *log, int mon, char dir, const char *data, size_t n);
void cf_log_note(cf_log_t *log, int mon, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cf_log_free(cf_log_t *log);

typedef struct cf_mon {
    int fd;                 /* -1 when not connected */
    bool eof;
    int err;                /* errno of a failed read/write */
    qmpk_stream_t stream;
    char *buf;
    size_t buf_size;
    jsmntok_t *tok;
    unsigned tok_count;
    cf_buf_t raw;           /* bytes received, not yet logged as lines */
    size_t raw_logged;
    cf_value_t **q;         /* received, not yet consumed */
    int qn, qcap, qhead;
    int lex_errors;         /* server output the parser rejected */
    cf_buf_t bad;           /* text of the first such problem */
} cf_mon_t;

void cf_mon_init(cf_mon_t *m);
void cf_mon_close(cf_mon_t *m, cf_log_t *log, int idx);
void cf_mon_free(cf_mon_t *m);
int cf_mon_connect(cf_mon_t *m, const char *path, int timeout_ms);
/* Take over a connected socket (made non-blocking); 0 or an errno. */
int cf_mon_adopt(cf_mon_t *m, int fd);
/* Read what is available (non-blocking) and frame it; false on EOF/error. */
bool cf_mon_pump(cf_mon_t *m, cf_log_t *log, int idx);
cf_value_t *cf_mon_peek(cf_mon_t *m);
cf_value_t *cf_mon_pop(cf_mon_t *m);

/* Wait up to deadline (ms since epoch, cf_now_ms) for input on any of the
 * monitors; pumps them.  Returns false on timeout. */
bool cf_mons_wait(cf_mon_t *mons, int n, cf_log_t *log, int64_t deadline);

enum cf_chunking { CF_CHUNK_WHOLE = 0, CF_CHUNK_BYTE, CF_CHUNK_RANDOM, CF_CHUNK_COUNT };
const char *cf_chunking_name(int c);
/* Write bytes to monitor idx, split per chunking, reading from every
 * monitor while the socket is full.  False on error or timeout; the
 * timeout (deadline - now) counts from the server's last progress, so a
 * slow reader of a huge message is not mistaken for a hung one. */
bool cf_mon_write(cf_mon_t *mons, int n, int idx, const char *data,
                  size_t len, int chunking, uint64_t *rng, cf_log_t *log,
                  int64_t deadline);

/* ------------------------------------------------------------------ */
/* target.c                                                             */

typedef struct cf_target {
    char *name;             /* label in reports */
    char *exec;             /* command template, or NULL */
    char **paths;           /* --connect paths (monitor 0, 1, ...) */
    int npaths;
    int capacity;           /* monitors the target offers */
    /* the running process (exec mode) */
    pid_t pid;
    char *dir;              /* per-process temp dir, also the {dir} of a
                               case run (one run per process: see
                               cf_target_case_dir()) */
    char *own_dir;          /* --connect: the runner's {dir} of this run */
    char **sockets;
    bool used;              /* a case ran on this process */
    int exit_status;        /* last reaped status, -1 if none */
    bool crashed;           /* died from a signal */
    cf_buf_t startlog;      /* processes discarded at start-up, one line
                               each, not yet copied into a case's log */
    /* probed once */
    bool probed;
    unsigned profiles;      /* what the greeting offers */
    char **commands;
    int ncommands;
    char **caps;
    int ncaps;
    cf_value_t *greeting;
} cf_target_t;

void cf_target_init(cf_target_t *t);
/* Make sure a server is up with fresh=true forcing a new process. */
bool cf_target_ready(cf_target_t *t, bool fresh, cf_buf_t *why);
const char *cf_target_socket(const cf_target_t *t, int mon);
/* Check whether the process died; sets crashed/exit_status. */
bool cf_target_alive(cf_target_t *t);
/* The signal that ended a process (sh's 128 + N counts), or 0. */
int cf_exit_signal(int status);
/* Wait up to ms for an --exec process to end (reaped); false if it runs. */
bool cf_target_wait_exit(cf_target_t *t, int ms);
void cf_target_stop(cf_target_t *t);
bool cf_target_probe(cf_target_t *t, cf_buf_t *why);
/* The private directory that {dir} in this case run's send lines names:
 * the --exec process's own ({dir} of the template too), or with --connect
 * one the runner makes for the run.  NULL and why when it cannot be made. */
const char *cf_target_case_dir(cf_target_t *t, cf_buf_t *why);
/* After a case run: remove the --connect directory and what is in it (an
 * --exec process's goes when the process is stopped). */
void cf_target_case_done(cf_target_t *t);
bool cf_target_has_command(const cf_target_t *t, const char *name);
bool cf_target_has_cap(const cf_target_t *t, const char *name);
void cf_target_free(cf_target_t *t);

/* ------------------------------------------------------------------ */
/* peer.c: the adapter process of client mode                           */

typedef struct cf_adapter {
    char *dir;              /* per-run temp dir */
    char *socket, *script;  /* {socket}, {script} */
    char *out, *err;        /* the adapter's stdout and stderr (files) */
    int lfd;                /* listening socket */
    pid_t pid;              /* -1 once reaped or killed */
    int status;             /* wait status when it exited by itself, else -1 */
} cf_adapter_t;

/* Make the dir, socket and script and start the adapter (fork/exec of the
 * template with {socket}, {script}, {dir} replaced). */
bool cf_adapter_start(cf_adapter_t *a, const char *tpl, const char *script,
                      size_t n, cf_buf_t *why);
/* The adapter's connection, or -1 (it exited, or the deadline passed). */
int cf_adapter_accept(cf_adapter_t *a, int64_t deadline);
bool cf_adapter_running(cf_adapter_t *a);  /* reaps it when it exited */
void cf_adapter_kill(cf_adapter_t *a);      /* the whole process group */
/* How it ended: CF_END_CLEAN (exit 0), _ERROR, _CRASHED, _HUNG (running). */
int cf_adapter_end(const cf_adapter_t *a);
char *cf_adapter_output(const cf_adapter_t *a, bool err, size_t *len);
void cf_adapter_free(cf_adapter_t *a);

/* ------------------------------------------------------------------ */
/* runner.c                                                             */

enum cf_verdict {
    CF_PASS = 0, CF_INFO_V, CF_NONSTRICT, CF_UNSUPPORTED, CF_FAIL,
    CF_NOTRUN,
};
const char *cf_verdict_name(int v);

/* CF_END_ERROR: (client mode) the adapter exited by itself, status != 0 */
enum cf_end { CF_END_CLEAN = 0, CF_END_EOF, CF_END_HUNG, CF_END_CRASHED, CF_END_NONE,
              CF_END_ERROR };
const char *cf_end_name(int e);

typedef struct cf_result {
    int verdict;
    int end;                    /* how the connection(s) ended */
    int chunking;               /* the chunking this result is for */
    int step;                   /* index of the failing step, -1 */
    char *reason;               /* one line */
    char *expected;             /* what the step wanted */
    char *actual;               /* what came instead */
    cf_log_t log;
    int64_t duration_ms;
    cf_buf_t transcript;        /* normalized received messages (--diff) */
} cf_result_t;

typedef struct cf_options {
    int timeout_ms;             /* default per expectation */
    bool exact;                 /* <= lines compare bytes */
    unsigned chunkings;         /* bit per enum cf_chunking */
    uint64_t seed;
    int profile;                /* CF_PROF_*, 0 = from the greeting */
    int verbose;
} cf_options_t;

/* Run one case at one chunking. */
void cf_run_case(const cf_case_t *c, cf_target_t *t, const cf_options_t *o,
                 int chunking, cf_result_t *r);
void cf_result_free(cf_result_t *r);

/* client.c: one client case at one chunking, the adapter started from the
 * --exec template. */
void cf_client_run_case(const cf_case_t *c, const char *exec,
                        const cf_options_t *o, int chunking, cf_result_t *r);

/* ------------------------------------------------------------------ */
/* fromtrace.c                                                          */

/* qmp-conform from-trace ARGS (argv[0] is "from-trace"): exit status. */
int cf_from_trace_main(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* report.c                                                             */

typedef struct cf_case_report {
    const cf_case_t *c;
    int verdict;                /* worst over chunkings */
    cf_result_t *runs;          /* one per chunking that ran */
    int nruns;
    int worst;                  /* index into runs */
    char *skip_reason;          /* UNSUPPORTED or not applicable */
} cf_case_report_t;

typedef struct cf_run_report {
    const char *mode;           /* "server" / "client" */
    const char *target;
    const char *profile;
    const char *command;
    int64_t started_ms, duration_ms;
    cf_case_report_t *cases;
    int ncases;
    int counts[CF_NOTRUN + 1];
} cf_run_report_t;

bool cf_report_json(const cf_run_report_t *r, const char *dir);
bool cf_report_junit(const cf_run_report_t *r, const char *path);
/* HTML matrix from one or more JSON report dirs. */
bool cf_report_html(const char *const *dirs, int ndirs, const char *path);
void cf_report_summary(const cf_run_report_t *r, FILE *f);

#endif
