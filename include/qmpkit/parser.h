/*
 * qmpkit parser: a zero-allocation streaming QMP parser built on jsmn.
 *
 * Layers, each in its own file under parser/:
 *   frame    (lexer.c)    bytes -> QEMU lexer tokens -> complete messages, with
 *                          QEMU's recovery and limits; the message is copied
 *                          into the caller's buffer as it arrives
 *   validate (grammar.c,  token-order grammar, escape and UTF-8 checks, so
 *             ustring.c)  the first error of a message is QEMU's first error
 *   tokenize (tokenize.c) jsmn, run once per complete message, into the
 *                          caller's token array; duplicate-key detection
 *   classify (classify.c) QMP envelope checks (greeting, command, return...)
 *   access   (view.c)     member lookup, unescape, numbers, equality
 *   write    (writer.c)   QEMU's exact output format
 *
 * Ownership: the caller owns every struct and buffer.  The library never
 * allocates, has no globals and keeps no hidden state; everything lives in
 * the structs declared here.  Views (qmpk_msg, qmpk_error) point into the
 * caller's buffer and token array and stay valid until the next call that
 * feeds, finishes or resets the same stream.
 *
 * Thread safety: distinct streams and writers may be used concurrently; one
 * stream must not be used from two threads at once.
 */
#ifndef QMPKIT_PARSER_H
#define QMPKIT_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * Token arrays are jsmn's.  jsmn's layout depends on JSMN_PARENT_LINKS, so
 * this header must be the first to include <jsmn.h> in a translation unit
 * (or JSMN_PARENT_LINKS must be defined before it); the static assertion
 * below catches the mismatch at compile time.
 */
#ifndef JSMN_PARENT_LINKS
#define JSMN_PARENT_LINKS
#endif
#ifndef JSMN_HEADER
#define JSMN_HEADER
#define QMPK_UNDEF_JSMN_HEADER
#endif
#include <jsmn.h>
#ifdef QMPK_UNDEF_JSMN_HEADER
#undef JSMN_HEADER
#undef QMPK_UNDEF_JSMN_HEADER
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__cplusplus)
_Static_assert(sizeof(jsmntok_t) == 5 * sizeof(int),
               "include <qmpkit/parser.h> before <jsmn.h>, or define "
               "JSMN_PARENT_LINKS before including <jsmn.h>");
#endif

/* ------------------------------------------------------------------ */
/* Version                                                              */

#define QMPK_VERSION_MAJOR 0
#define QMPK_VERSION_MINOR 1
#define QMPK_VERSION_PATCH 0
/* major * 0x10000 | minor * 0x100 | patch, as http-parser packs it */
unsigned long qmpk_version(void);

/* ------------------------------------------------------------------ */
/* Errors                                                               */

/*
 * One list gives the enum, qmpk_errname() and qmpk_strerror().  Numbers are
 * explicit and never reused: conformance transcripts record them.
 *
 * The description is the exact text QEMU 7.2 puts in "desc" where QEMU has
 * one; "%s" marks the single argument (qmpk_error.arg), which
 * qmpk_error_format() and qmpk_w_error_desc() fill in exactly as QEMU does.
 * Codes from 200 up are qmpkit's own checks of server messages, from 300 up
 * are usage errors of this API.
 */
#define QMPK_ERRNO_MAP(XX)                                                    \
    XX(0, OK, "success")                                                      \
    /* lexical errors (QEMU json-lexer.c / json-streamer.c) */                \
    XX(1, STRAY, "JSON parse error, stray '%s'")                              \
    XX(2, TOKEN_SIZE, "JSON token size limit exceeded")                       \
    XX(3, TOKEN_COUNT, "JSON token count limit exceeded")                     \
    XX(4, NESTING, "JSON nesting depth limit exceeded")                       \
    /* grammar errors (QEMU json-parser.c), first one per message */          \
    XX(10, EXPECTING_VALUE, "JSON parse error, expecting value")              \
    XX(11, PREMATURE_EOI, "JSON parse error, premature EOI")                  \
    XX(12, KEY_NOT_STRING, "JSON parse error, key is not a string in object") \
    XX(13, MISSING_COLON, "JSON parse error, missing : in object pair")       \
    XX(14, DUPLICATE_KEY, "JSON parse error, duplicate key")                  \
    XX(15, DICT_SEPARATOR, "JSON parse error, expected separator in dict")    \
    XX(16, LIST_SEPARATOR, "JSON parse error, expected separator in list")    \
    XX(17, INVALID_KEYWORD, "JSON parse error, invalid keyword '%s'")         \
    XX(18, INVALID_ESCAPE, "JSON parse error, invalid escape sequence in string") \
    XX(19, INVALID_UNICODE, "JSON parse error, %s is not a valid Unicode character") \
    XX(20, INVALID_UTF8, "JSON parse error, invalid UTF-8 sequence in string") \
    /* end of stream (qmpk_stream_finish) */                                  \
    XX(30, INCOMPLETE, "incomplete")                                          \
    /* capacity of the caller's buffers (qmpkit's own limits): reported when  \
     * the message ends, unless a stray or one of QEMU's limits ends it first \
     * (then that error alone, as QEMU would give it) */                      \
    XX(40, MESSAGE_TOO_LARGE, "message exceeds the buffer capacity")          \
    XX(41, TOO_MANY_TOKENS, "message exceeds the token array capacity")       \
    /* QMP envelope of a command (QEMU qapi/qmp-dispatch.c, in its order) */  \
    XX(100, NOT_OBJECT, "QMP input must be a JSON object")                    \
    XX(101, EXECUTE_NOT_STRING, "QMP input member 'execute' must be a string") \
    XX(102, EXEC_OOB_NOT_STRING, "QMP input member 'exec-oob' must be a string") \
    XX(103, EXECUTE_CLASHES, "QMP input member 'execute' clashes with 'exec-oob'") \
    XX(104, EXEC_OOB_CLASHES, "QMP input member 'exec-oob' clashes with 'execute'") \
    XX(105, ARGUMENTS_NOT_OBJECT, "QMP input member 'arguments' must be an object") \
    XX(106, MEMBER_UNEXPECTED, "QMP input member '%s' is unexpected")         \
    XX(107, LACKS_EXECUTE, "QMP input lacks member 'execute'")                \
    /* server messages (qmp-spec.rst); QEMU never checks these */             \
    XX(200, SERVER_UNKNOWN, "server message is not a greeting, return, error or event") \
    XX(201, SERVER_MEMBER_UNEXPECTED, "server message member '%s' is unexpected") \
    XX(202, GREETING_BAD, "greeting 'QMP' must be an object with 'version' object and 'capabilities' array") \
    XX(203, ERROR_BAD, "error member must be an object with exactly 'class' and 'desc' strings") \
    XX(204, EVENT_NOT_STRING, "event member 'event' must be a string")       \
    XX(205, EVENT_DATA_NOT_OBJECT, "event member 'data' must be an object")  \
    XX(206, EVENT_TIMESTAMP_BAD, "event member 'timestamp' must be an object with integer 'seconds' and 'microseconds'") \
    XX(207, SERVER_AMBIGUOUS, "server message has more than one of 'QMP', 'return', 'error', 'event'") \
    /* API usage */                                                           \
    XX(300, BAD_CONFIG, "invalid stream configuration")                       \
    XX(301, BAD_TOKEN, "token index out of range or of the wrong type")       \
    XX(302, TYPE, "value has another JSON type")                              \
    XX(303, RANGE, "number out of range for the requested type")              \
    XX(304, NOSPACE, "output buffer too small")

typedef enum qmpk_errno {
#define QMPK_XX_ENUM(num, name, desc) QMPK_E_##name = num,
    QMPK_ERRNO_MAP(QMPK_XX_ENUM)
#undef QMPK_XX_ENUM
} qmpk_errno_t;

/* "QMPK_E_STRAY"; "QMPK_E_UNKNOWN" for a number not in the list */
const char *qmpk_errname(qmpk_errno_t e);
/* The description (QEMU's template, with "%s" where the argument goes) */
const char *qmpk_strerror(qmpk_errno_t e);

/*
 * A problem found in the stream.  Parse errors are not sticky: QMP's
 * resynchronisation is part of the protocol (QEMU answers each bad message
 * with one error and carries on), so after a QMPK_FEED_ERROR the same
 * stream simply continues with the next byte.
 */
typedef struct qmpk_error {
    qmpk_errno_t code;
    uint64_t offset;      /* stream offset of the byte that caused it */
    uint64_t index;       /* ordinal among the stream's items (messages and
                             errors), i.e. QEMU's reply number */
    /*
     * The "%s" argument, or NULL.  Points into the caller's buffer (the
     * stray token, the keyword, the \u escape) or into the message (a
     * member name, as its raw JSON string token when arg_is_json is true).
     * For STRAY it holds the raw bytes of the partial token, NULs included;
     * formatting stops at the first NUL, as QEMU's "%s" does.
     */
    const char *arg;
    size_t arg_len;
    bool arg_is_json;     /* arg is the inside of a JSON string token */
} qmpk_error_t;

/*
 * QEMU's exact "desc" text as raw bytes (not JSON-escaped).  Writes at most
 * cap bytes including a terminating NUL and returns the full length, like
 * snprintf.  A member name given as a JSON string is unescaped.
 */
size_t qmpk_error_format(const qmpk_error_t *err, char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Limits                                                               */

/* QEMU's MAX_NESTING (json-streamer.c): open braces and brackets together.
 * Security consideration: bounds the parser's recursion and our stack. */
#define QMPK_DEFAULT_MAX_DEPTH 1024u
/* The largest depth the stream can track (its grammar stack is this deep). */
#define QMPK_MAX_DEPTH_LIMIT 1024u
/* QEMU's MAX_TOKEN_COUNT: lexer tokens (including ':' and ',') per message */
#define QMPK_DEFAULT_MAX_TOKENS (2u << 20)
/* QEMU's MAX_TOKEN_SIZE: bytes of one message's tokens (and of one token) */
#define QMPK_DEFAULT_MAX_TOKEN_SIZE (64ull << 20)
/* The buffer must hold the message plus one byte, which lets jsmn's strict
 * mode see a delimiter after a top-level scalar. */
#define QMPK_BUF_SLACK 1u

/* ------------------------------------------------------------------ */
/* Stream                                                               */

typedef enum qmpk_dialect {
    /* What QEMU 7.2's parser accepts: single-quoted strings and \', raw
     * C0 80 as U+0000, noncharacters and 0e1 rejected. */
    QMPK_DIALECT_QEMU = 0,
    /* RFC 8259 exactly: duplicate member names are accepted (the RFC says
     * they SHOULD be unique; qmpk_get finds the first). */
    QMPK_DIALECT_RFC = 1,
} qmpk_dialect_t;

typedef struct qmpk_stream_config {
    qmpk_dialect_t dialect;
    char *buf;              /* message buffer; a message may use
                               buf_size - QMPK_BUF_SLACK bytes */
    size_t buf_size;
    jsmntok_t *tok;         /* token array, jsmn's format: written only
                               by calls that feed or finish this stream, so
                               several streams may share one if each
                               message is used before another stream is fed
                               (a server's monitors), unless the flags
                               say QMPK_STREAM_OWN_TOKENS */
    unsigned tok_count;
    uint32_t max_depth;     /* 0: QMPK_DEFAULT_MAX_DEPTH; at most
                               QMPK_MAX_DEPTH_LIMIT */
    uint32_t max_tokens;    /* 0: QMPK_DEFAULT_MAX_TOKENS */
    uint64_t max_token_size;/* 0: QMPK_DEFAULT_MAX_TOKEN_SIZE */
    unsigned flags;         /* QMPK_STREAM_* below */
} qmpk_stream_config_t;

/*
 * Take every message through the exact byte-by-byte path (QEMU's lexer,
 * streamer and parser as automata) instead of trying the fast path for
 * valid messages first.  Same items, several times slower: for
 * differential testing of the two paths.
 */
#define QMPK_STREAM_EXACT_ONLY 1u
/*
 * The token array is this stream's alone: between the calls that feed it,
 * nothing else writes to it (no other stream, not the caller).  Then a
 * message that spans feed calls gets its tokens written as its bytes
 * arrive, as one fed whole does, instead of from a jsmn pass over the
 * whole message when it closes: no byte is scanned twice at any chunking.
 * Same items and the same tokens with or without it.  Without it, tokens
 * are written only by the call that returns the message, which is what
 * lets streams share one array (see qmpk_stream_config_t.tok).
 */
#define QMPK_STREAM_OWN_TOKENS 2u

typedef enum qmpk_feed {
    QMPK_FEED_MORE = 0,     /* everything was consumed, no message yet */
    QMPK_FEED_MESSAGE = 1,  /* *msg holds a complete, valid JSON value */
    QMPK_FEED_ERROR = 2,    /* *err holds one problem; the stream goes on */
} qmpk_feed_t;

/* A complete message: a view into the caller's buffer and token array. */
typedef struct qmpk_msg {
    /*
     * The message bytes, same length and offsets as on the wire.  In the
     * QEMU dialect they are an image in which single-quoted strings are
     * re-quoted with '"', a raw '"' inside them is stored as 0x01 and the
     * backslash of a \' escape as 0x02 (bytes that can never occur raw in a
     * valid string), so that jsmn can tokenize it.  Read strings through
     * qmpk_str()/qmpk_str_eq() rather than from these bytes.
     */
    const char *json;
    size_t len;
    /* tok[0] is the top-level value.  Token offsets are relative to json,
     * so copying len bytes and ntok tokens elsewhere (a queue slot) and
     * pointing a qmpk_msg_t at the copies gives an equivalent view. */
    jsmntok_t *tok;
    int ntok;
    uint64_t offset;        /* stream offset of json[0] */
    uint64_t index;         /* ordinal among the stream's items */
    qmpk_dialect_t dialect;
} qmpk_msg_t;

/*
 * The fast scan's state (fast.c), private, with copies of the
 * configuration values the scan reads (taken at init and reset: the
 * configuration does not change in between).
 */
typedef struct qmpk__fscan {
    jsmntok_t *tok;         /* cfg.tok */
    uint32_t tok_count;     /* cfg.tok_count */
    uint32_t max_depth;     /* cfg.max_depth */
    uint32_t values;        /* tokens written (or counted) so far */
    uint32_t gdepth;        /* open containers (their kinds in gstack) */
    int32_t toksuper;       /* jsmn's toksuper for the tokens written so far */
    size_t key_start;       /* buffer offset of the key being scanned */
    size_t base;            /* buffer offset of the chunk being scanned */
    uint8_t exp, prim, kw, kwpos, key, has_escape, has_high, need_dup;
    uint8_t direct;         /* this message's tokens are written as scanned */
    uint8_t rfc;            /* cfg.dialect is QMPK_DIALECT_RFC */
} qmpk__fscan_t;

/*
 * The stream.  Its size is public so the caller can place it anywhere;
 * its fields are private (read them through the functions below).
 */
typedef struct qmpk_stream {
    /* configuration (kept by qmpk_stream_reset) */
    qmpk_stream_config_t cfg;
    /* fast path (fast.c) */
    uint8_t mode;           /* idle, fast message, or exact path */
    uint8_t fhot;           /* byte classes the next byte may be taken
                               in without a state change (feed's shortcut),
                               and << QMPK__STEP_SHIFT the step for others */
    size_t fcap;            /* message length at which the fast path stops */
    qmpk__fscan_t fs;
    /* framer/lexer */
    uint8_t lex;            /* lexer state (QEMU json-lexer.c states) */
    uint8_t in_msg;         /* a message has begun */
    uint8_t discard;        /* skipping the rest of an over-capacity message */
    uint8_t has_ext;        /* message uses single quotes or \' */
    qmpk_errno_t cap_err;   /* capacity error of the message being skipped */
    uint64_t cap_err_offset;
    size_t len;             /* bytes of the current message in buf */
    size_t tok_start;       /* buf offset of the current lexer token */
    uint64_t tok_offset;    /* stream offset of the current lexer token */
    uint64_t offset;        /* stream offset of the next byte (on the fast
                               path msg_offset + len, which the bytes keep) */
    uint64_t msg_offset;    /* stream offset of buf[0] */
    uint64_t items;         /* messages and errors so far */
    /* string-content validator */
    uint8_t sv, sv_need;
    uint8_t sv_hex, sv_ulen;
    uint32_t sv_cp, sv_lead;
    size_t sv_esc, sv_lead_at;
    qmpk_errno_t serr;      /* first problem inside the current string */
    size_t serr_arg, serr_arg_len;
    uint8_t serr_clamp;     /* serr's argument ends at the string's end */
    /* streamer (QEMU json-streamer.c counters) */
    int32_t brace, bracket;
    uint32_t ntokens;       /* lexer tokens in this message */
    uint64_t token_bytes;   /* bytes of this message's tokens */
    uint32_t values;        /* jsmn tokens this message needs */
    /* grammar (json-parser.c, as an automaton) */
    uint8_t gstate;
    uint32_t gdepth;
    qmpk_errno_t gerr;      /* first grammar error of this message */
    size_t gerr_at, gerr_arg, gerr_arg_len;
    /* Per nesting level, from fnkeys on: an entry is written when its level
     * opens, before anything reads it, so init and reset clear only the
     * fields above (these are 4,496 of the stream's 4,824 bytes, and a
     * monitor or a fuzzer starts streams often).  Per open object, for
     * fast.c's fingerprint_key(): */
    uint8_t fnkeys[16];     /* keys seen, up to 17 */
    uint64_t flens[16];     /* the first keys' lengths, as bits */
    uint32_t fkpos[16][16][2]; /* the first keys' offsets and lengths */
    uint32_t fsig[16][16];  /* past those: the first keys' signatures, */
    uint64_t fkeys[16];     /* signature bits of all its keys */
    uint64_t fkeys_late[16];/* and of the later keys */
    uint8_t gstack[QMPK_MAX_DEPTH_LIMIT]; /* grammar: per open container */
} qmpk_stream_t;

/* Check the configuration and start a stream.  QMPK_E_OK or QMPK_E_BAD_CONFIG. */
qmpk_errno_t qmpk_stream_init(qmpk_stream_t *s, const qmpk_stream_config_t *cfg);

/* Forget any partial message and counters; keep the configuration.  What a
 * monitor does on disconnect (QEMU drops partial input silently). */
void qmpk_stream_reset(qmpk_stream_t *s);

/*
 * Feed bytes.  Stops after each complete message or error, with *consumed
 * telling how many bytes of data it used; call again with data + *consumed.
 * A message that completes on a lookahead byte (a top-level number or
 * keyword ends only when the next byte arrives, as in QEMU) does not
 * consume that byte.  Any chunking gives the same items; every byte is
 * examined once, so total work is linear in the bytes fed.
 * Returns QMPK_FEED_MORE with *consumed == len when it needs more input.
 */
qmpk_feed_t qmpk_stream_feed(qmpk_stream_t *s, const char *data, size_t len,
                             size_t *consumed, qmpk_msg_t *msg,
                             qmpk_error_t *err);

/*
 * A reader that feeds one byte at a time pays a call per byte, which costs
 * more than most bytes' work: inside a message, a byte of the class the
 * parser's state takes without a change (a plain string byte, whitespace
 * between tokens, a digit of a number) is only appended to the message.
 * So, as getc() does for fgetc(), qmpk_stream_feed() is also a macro that
 * does that inline and calls the function for everything else.  The
 * function stays (take its address, or write (qmpk_stream_feed)(...), or
 * define QMPK_NO_INLINE_FEED before including this header, to call it).
 */
extern const uint8_t qmpk__hot_class[256];
/* The feed's general loop (parser/lexer.c). */
qmpk_feed_t qmpk__feed(qmpk_stream_t *s, const unsigned char *p, size_t len,
                       size_t *consumed, qmpk_msg_t *msg, qmpk_error_t *err);
/* What a 1-byte chunk outside those classes costs: s->fhot >> 4 picks a
 * step (0: none, the general loop takes the byte; else a step of the fast
 * path or the one between its messages, parser/fast.c), so that the
 * state's test is made once, where the state changes.  A step returns 0
 * when the byte was all there was to do, else what qmpk__byte_ended()
 * (parser/lexer.c) finishes: a message, the exact path, the general loop. */
typedef int (*qmpk__byte_step_t)(qmpk_stream_t *s, unsigned char c);
#define QMPK__STEP_SHIFT 4
#define QMPK__BYTE_STEPS 16     /* all values of s->fhot >> QMPK__STEP_SHIFT */
extern const qmpk__byte_step_t qmpk__byte_steps[QMPK__BYTE_STEPS];
qmpk_feed_t qmpk__byte_ended(qmpk_stream_t *s, const unsigned char *p, int state,
                             size_t *consumed, qmpk_msg_t *msg, qmpk_error_t *err);

/* A 1-byte chunk p with room for it in the buffer, in a state with a step. */
static inline qmpk_feed_t qmpk__byte_step(qmpk_stream_t *s, const unsigned char *p,
                                          unsigned step, size_t *consumed,
                                          qmpk_msg_t *msg, qmpk_error_t *err)
{
    int state = qmpk__byte_steps[step](s, p[0]);

    if (state == 0) {
        *consumed = 1;
        return QMPK_FEED_MORE;
    }
    return qmpk__byte_ended(s, p, state, consumed, msg, err);
}

static inline qmpk_feed_t qmpk__stream_feed_inline(qmpk_stream_t *s, const char *data,
                                                   size_t len, size_t *consumed,
                                                   qmpk_msg_t *msg, qmpk_error_t *err)
{
    if (len == 1 && s->len < s->fcap) {
        unsigned hot = s->fhot;
        char c = data[0];

        if (qmpk__hot_class[(unsigned char)c] & hot) {
            s->cfg.buf[s->len++] = c;
            *consumed = 1;
            return QMPK_FEED_MORE;
        }
        if (hot >> QMPK__STEP_SHIFT) {
            return qmpk__byte_step(s, (const unsigned char *)data, hot >> QMPK__STEP_SHIFT,
                                   consumed, msg, err);
        }
    }
    return qmpk__feed(s, (const unsigned char *)data, len, consumed, msg, err);
}

#ifndef QMPK_NO_INLINE_FEED
#define qmpk_stream_feed(s, data, len, consumed, msg, err) \
    qmpk__stream_feed_inline((s), (data), (len), (consumed), (msg), (err))
#endif

/*
 * End of stream: a pending top-level scalar completes (QMPK_FEED_MESSAGE),
 * a value or token still open is QMPK_E_INCOMPLETE (QMPK_FEED_ERROR),
 * otherwise QMPK_FEED_MORE.  Afterwards the stream is clean and may be fed
 * again.
 */
qmpk_feed_t qmpk_stream_finish(qmpk_stream_t *s, qmpk_msg_t *msg,
                               qmpk_error_t *err);

/* Bytes fed so far (stream offset of the next byte). */
uint64_t qmpk_stream_offset(const qmpk_stream_t *s);
/* True when a message has begun but not completed. */
bool qmpk_stream_pending(const qmpk_stream_t *s);

/* ------------------------------------------------------------------ */
/* Values                                                               */

typedef enum qmpk_type {
    QMPK_T_INVALID = 0,
    QMPK_T_OBJECT, QMPK_T_ARRAY, QMPK_T_STRING,
    QMPK_T_NUMBER, QMPK_T_TRUE, QMPK_T_FALSE, QMPK_T_NULL,
} qmpk_type_t;

/* Type of token t (QMPK_T_INVALID when t is out of range). */
qmpk_type_t qmpk_type(const qmpk_msg_t *m, int t);
/* Number of members of an object or elements of an array, else 0. */
int qmpk_count(const qmpk_msg_t *m, int t);
/* First child (first key of an object, first element of an array) or -1. */
int qmpk_child(const qmpk_msg_t *m, int t);
/* Next sibling of t: the next key of an object when t is a key, the next
 * element when t is an array element; -1 after the last.  O(log ntok). */
int qmpk_next(const qmpk_msg_t *m, int t);
/* Value of member key in object t, or -1.  Keys compare unescaped. */
int qmpk_get(const qmpk_msg_t *m, int obj, const char *key);
int qmpk_get_n(const qmpk_msg_t *m, int obj, const char *key, size_t keylen);

/*
 * Unescape string token t into out as UTF-8 (U+0000 as a 0x00 byte).  Like
 * snprintf: writes at most cap - 1 bytes and always a terminating NUL (when
 * cap > 0), and stores the full length in *len.  QMPK_E_NOSPACE when it was
 * cut, QMPK_E_TYPE when t is not a string.
 */
qmpk_errno_t qmpk_str(const qmpk_msg_t *m, int t, char *out, size_t cap,
                      size_t *len);
/* Does string token t unescape to exactly s[0..n)? */
bool qmpk_str_eq(const qmpk_msg_t *m, int t, const char *s, size_t n);
bool qmpk_str_eqz(const qmpk_msg_t *m, int t, const char *s);

/*
 * Numbers follow QEMU's rules (json-parser.c): an integer token is an int64
 * if it fits, else a uint64 if it has no '-' and fits, else a double
 * (strtod, overflow gives +-inf without error); a token with '.' or an
 * exponent is a double.
 */
typedef enum qmpk_numkind { QMPK_NUM_I64, QMPK_NUM_U64, QMPK_NUM_DOUBLE } qmpk_numkind_t;
typedef struct qmpk_num {
    qmpk_numkind_t kind;
    union { int64_t i64; uint64_t u64; double dbl; } u;
} qmpk_num_t;
qmpk_errno_t qmpk_number(const qmpk_msg_t *m, int t, qmpk_num_t *out);
/* As QEMU's qnum_get_try_int / _uint / qnum_get_double: int64 only for
 * int64 numbers, uint64 for non-negative integers, double for any number. */
qmpk_errno_t qmpk_int64(const qmpk_msg_t *m, int t, int64_t *out);
qmpk_errno_t qmpk_uint64(const qmpk_msg_t *m, int t, uint64_t *out);
qmpk_errno_t qmpk_double(const qmpk_msg_t *m, int t, double *out);
qmpk_errno_t qmpk_bool(const qmpk_msg_t *m, int t, bool *out);

/*
 * Semantic equality of two values, possibly in different messages: strings
 * compare unescaped, numbers by mathematical value (1 equals 1.0 and 1e0;
 * an integer never equals a non-integral double), objects by member set
 * whatever the order (a name repeated in the RFC dialect pairs its k-th
 * occurrences), arrays element by element.  Used for ids; objects cost
 * O(k^2) for k members.
 */
bool qmpk_equal(const qmpk_msg_t *a, int ta, const qmpk_msg_t *b, int tb);

/* ------------------------------------------------------------------ */
/* Classification (QMP envelope)                                        */

typedef enum qmpk_kind {
    QMPK_KIND_VALUE = 0,    /* valid JSON that is not a valid QMP message */
    QMPK_KIND_GREETING,
    QMPK_KIND_COMMAND,
    QMPK_KIND_OOB_COMMAND,
    QMPK_KIND_RETURN,
    QMPK_KIND_ERROR,
    QMPK_KIND_EVENT,
} qmpk_kind_t;

/* "greeting", "command", "oob-command", "return", "error", "event", "value" */
const char *qmpk_kind_name(qmpk_kind_t k);

/* Who sent the message: decides how an object with none of the envelope
 * keys is judged (a client's is a command lacking 'execute'). */
typedef enum qmpk_peer {
    QMPK_PEER_ANY = 0,      /* judge by the members present */
    QMPK_PEER_CLIENT,       /* commands only */
    QMPK_PEER_SERVER,       /* greeting, return, error, event only */
} qmpk_peer_t;

typedef struct qmpk_envelope {
    qmpk_kind_t kind;
    /* token indexes into the message, -1 when absent */
    int id;                 /* set as soon as the message is an object, even
                               when the envelope is invalid (QEMU echoes it) */
    int name;               /* command name (execute / exec-oob), event name */
    int arguments;          /* command arguments */
    int ret;                /* return value */
    int error_class, error_desc;
    int data;               /* event data */
    int ts_seconds, ts_microseconds;
    int version, capabilities;  /* greeting */
    bool oob_request;       /* qmpk_is_oob_request() of a client's message,
                               set whatever the envelope's verdict */
} qmpk_envelope_t;

/*
 * Classify a message and check its envelope.  For commands the checks, their
 * order (QEMU's QDict member order) and their texts are those of QEMU 7.2's
 * qmp_dispatch(); oob_enabled is whether the monitor negotiated "oob"
 * (without it, 'exec-oob' is an unexpected member).  A valid command whose
 * only command key is 'exec-oob' is QMPK_KIND_OOB_COMMAND.
 * Returns QMPK_E_OK and env->kind, or an envelope error with *err filled and
 * env->kind == QMPK_KIND_VALUE (env->id still set when present).
 */
qmpk_errno_t qmpk_classify(const qmpk_msg_t *m, qmpk_peer_t peer,
                           bool oob_enabled, qmpk_envelope_t *env,
                           qmpk_error_t *err);

/*
 * QEMU's qmp_is_oob(): the request is an object with 'exec-oob' and without
 * 'execute', whatever its other members and whether OOB was negotiated.
 * Decides whether QEMU dispatches it at once rather than queueing it.
 */
bool qmpk_is_oob_request(const qmpk_msg_t *m);

/* ------------------------------------------------------------------ */
/* Writer: QEMU's output format, byte for byte                          */

/*
 * Compact form with ", " and ": " separators, strings escaped as QEMU's
 * json-writer.c does (ASCII only, \uXXXX upper-case, surrogate pairs,
 * invalid UTF-8 as \uFFFD), integers as %PRId64/%PRIu64, doubles as %.17g.
 * Writes into a caller buffer; on overflow it keeps counting (len grows past
 * cap) and sets overflow, so the caller can learn the size it needed.
 * Member order is the caller's: QEMU prints objects in QDict hash order, see
 * qmpk_qdict_bucket() and QMPK_ORDER_QEMU.
 */
typedef struct qmpk_writer {
    char *buf;
    size_t cap, len;
    bool overflow;
    uint32_t depth;
    uint8_t need_comma[(QMPK_MAX_DEPTH_LIMIT + 8) / 8];
    bool after_key;
} qmpk_writer_t;

void qmpk_w_init(qmpk_writer_t *w, char *buf, size_t cap);
void qmpk_w_reset(qmpk_writer_t *w);   /* len = 0, keep buffer */
void qmpk_w_obj_begin(qmpk_writer_t *w);
void qmpk_w_obj_end(qmpk_writer_t *w);
void qmpk_w_arr_begin(qmpk_writer_t *w);
void qmpk_w_arr_end(qmpk_writer_t *w);
void qmpk_w_key(qmpk_writer_t *w, const char *key);          /* NUL-terminated */
void qmpk_w_key_n(qmpk_writer_t *w, const char *key, size_t n);
void qmpk_w_str(qmpk_writer_t *w, const char *s);            /* NUL-terminated */
void qmpk_w_str_n(qmpk_writer_t *w, const char *s, size_t n); /* raw bytes */
void qmpk_w_int(qmpk_writer_t *w, int64_t v);
void qmpk_w_uint(qmpk_writer_t *w, uint64_t v);
void qmpk_w_double(qmpk_writer_t *w, double v);
void qmpk_w_num(qmpk_writer_t *w, const qmpk_num_t *n);
void qmpk_w_bool(qmpk_writer_t *w, bool v);
void qmpk_w_null(qmpk_writer_t *w);
/* Bytes already in JSON form (a value or a member list), written as is. */
void qmpk_w_raw(qmpk_writer_t *w, const char *json, size_t n);

typedef enum qmpk_order {
    QMPK_ORDER_SOURCE = 0,  /* members in the order of the message */
    QMPK_ORDER_QEMU = 1,    /* QDict hash order, as QEMU re-serializes */
} qmpk_order_t;
/*
 * Re-serialize value t of message m as QEMU does (numbers reformatted,
 * strings re-escaped, and with QMPK_ORDER_QEMU objects in QDict order).
 * QMPK_ORDER_QEMU costs O(k^2) per object of k members.
 */
void qmpk_w_value(qmpk_writer_t *w, const qmpk_msg_t *m, int t, qmpk_order_t order);
/* The desc string of an error reply for err, escaped as QEMU does. */
void qmpk_w_error_desc(qmpk_writer_t *w, const qmpk_error_t *err);
/* End a message: QEMU's monitor sends "\r\n" after each one. */
void qmpk_w_crlf(qmpk_writer_t *w);

/*
 * QEMU's QDict bucket of a key: tdb_hash(key) % 512.  QEMU prints members
 * by ascending bucket, the newest first within a bucket.
 */
unsigned qmpk_qdict_bucket(const char *key, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* QMPKIT_PARSER_H */
