/* Internal declarations shared by the parser's layers; never installed. */
#ifndef QMPK_PARSER_INTERNAL_H
#define QMPK_PARSER_INTERNAL_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "qmpkit/parser.h"

/* Lexer token types handed from the framer to the streamer and grammar,
 * as in QEMU's json-parser-int.h. */
typedef enum qmpk_tok {
    QMPK_TOK_LCURLY, QMPK_TOK_RCURLY, QMPK_TOK_LSQUARE, QMPK_TOK_RSQUARE,
    QMPK_TOK_COLON, QMPK_TOK_COMMA, QMPK_TOK_STRING, QMPK_TOK_INTEGER,
    QMPK_TOK_FLOAT, QMPK_TOK_KEYWORD,
} qmpk_tok_t;

/* Image bytes standing for wire bytes jsmn cannot take (see qmpk_msg). */
#define QMPK_IMG_DQUOTE 0x01   /* raw '"' inside a single-quoted string */
#define QMPK_IMG_ESCAPE 0x02   /* the backslash of a \' escape */

/* Code point sentinel for "invalid" from the UTF-8 decoder. */
#define QMPK_CP_INVALID (-1)

/* grammar.c: token-order grammar automaton, first error wins */
void qmpk__grammar_reset(qmpk_stream_t *s);
void qmpk__grammar_token(qmpk_stream_t *s, qmpk_tok_t t, size_t start, size_t len);
void qmpk__grammar_set_error(qmpk_stream_t *s, qmpk_errno_t e, size_t at,
                             size_t arg, size_t arg_len);

/* ustring.c: incremental string-content validation (escapes, UTF-8) */
void qmpk__str_begin(qmpk_stream_t *s, size_t start);
void qmpk__str_byte(qmpk_stream_t *s, unsigned char c, size_t pos);
void qmpk__str_end(qmpk_stream_t *s, size_t pos);
/* Decode one wire/image code point of a valid string body at *p (< end);
 * advances *p.  Handles escapes, surrogate pairs, image markers. */
int32_t qmpk__str_next(const char **p, const char *end);
/* QEMU's mod_utf8_codepoint(): decode raw bytes, -1 when invalid; *len gets
 * the bytes consumed, as QEMU's end pointer advances. */
int32_t qmpk__utf8_decode(const unsigned char *s, size_t n, size_t *len);
bool qmpk__cp_valid_qemu(int32_t cp);
/* Standard UTF-8 of a code point, U+0000 as one 0x00 byte. */
size_t qmpk__utf8_encode(int32_t cp, char out[4]);

/* tokenize.c: jsmn (the one translation unit that compiles it) */
int qmpk__jsmn(char *buf, size_t len, jsmntok_t *tok, unsigned ntok,
               unsigned *used);
void qmpk__image(char *buf, size_t len);
/* Byte position at which QEMU would report a duplicate key (end of the
 * second pair's value), or SIZE_MAX; *key_at gets the second key's start. */
size_t qmpk__first_duplicate(const char *js, jsmntok_t *tok, int n,
                             size_t *key_at);

/* Inlining that the compiler would not choose by itself (lexer.c: the
 * general loop kept out of qmpk_stream_feed's 1-byte shortcuts, the end
 * of a fast scan inlined into its two callers; fast.c: the scan's helpers
 * inlined, its rare paths and the 1-byte steps kept out of line). */
#if defined(__GNUC__)
#define QMPK_NOINLINE __attribute__((noinline))
#define QMPK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define QMPK_NOINLINE
#define QMPK_ALWAYS_INLINE inline
#endif

/* fast.c: the fast path for valid messages */
enum { QMPK__FAST_MORE, QMPK__FAST_DONE, QMPK__FAST_BAIL,
       QMPK__FAST_GENERAL /* a 1-byte step's: the general loop takes the byte */ };
/* Byte classes for s->fhot: a byte of the class the state allows is only
 * appended to the message (qmpk_stream_feed's shortcut for small chunks). */
#define QMPK__HOT_STR 1u    /* plain string byte: not '"', '\\', control, non-ASCII */
#define QMPK__HOT_WS 2u     /* whitespace between tokens */
#define QMPK__HOT_DIGIT 4u  /* digit inside a number's digit run */
/* and the steps for the other bytes (qmpk__byte_steps[] in fast.c) */
#define QMPK__STEP_BETWEEN 1u    /* + the state between tokens (6 of them) */
#define QMPK__STEP_STRING 7u
#define QMPK__STEP_OTHER 8u
#define QMPK__STEP_IDLE 9u      /* after a fast message (lexer.c) */
int qmpk__feed_idle(qmpk_stream_t *s, unsigned char c);
void qmpk__fast_configure(qmpk_stream_t *s);     /* at init and reset */
void qmpk__fast_begin(qmpk_stream_t *s);
bool qmpk__fast_retokenize(qmpk_stream_t *s, size_t len);
size_t qmpk__fast_scan(qmpk_stream_t *s, const unsigned char *p, size_t n,
                       size_t budget, int *state);
/* Bytes of a string body that need no attention: not '"', '\\', a control
 * byte or non-ASCII (fast.c scans with it; fast_finish.c knows by it that a
 * string needs no validation). */
static inline size_t qmpk__str_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
    const __m128i lo = _mm_set1_epi8(0x20);

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* signed compare: 0x80..0xFF are negative, so below 0x20 too */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                 _mm_cmplt_epi8(v, lo));
        int mask = _mm_movemask_epi8(m);
        if (mask) {
            return i + (size_t)__builtin_ctz((unsigned)mask);
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
            break;
        }
    }
    return i;
}

bool qmpk__fast_finish_checks(qmpk_stream_t *s, size_t len, int *ntok);

/* The message in buf[0..len) closed: tokenize and check what the scan
 * could not.  False sends it to the exact path.  Most messages need none
 * of it (fast_finish.c has the rest), hence inline. */
static inline bool qmpk__fast_finish(qmpk_stream_t *s, size_t len, int *ntok)
{
    if (s->fs.direct && !(s->fs.has_escape | s->fs.has_high | s->fs.need_dup)) {
        s->cfg.buf[len] = ' ';  /* as qmpk__jsmn leaves it */
        *ntok = (int)s->fs.values;
        return true;
    }
    return qmpk__fast_finish_checks(s, len, ntok);
}
/* The earliest duplicate of one object (see qmpk__first_duplicate); raw:
 * the message has no escape and no image mark, so keys compare as bytes. */
size_t qmpk__first_duplicate_in(const char *js, jsmntok_t *tok, int n, int obj,
                                size_t *key_at, bool raw);

/* members.c: member iteration helpers shared by view, classify, writer */
int qmpk__skip(const qmpk_msg_t *m, int t);
typedef int (*qmpk_key_cmp_fn)(const char *js, const jsmntok_t *tok, int a, int b);
int qmpk__sort_keys(const char *js, jsmntok_t *tok, int ntok, int obj,
                    qmpk_key_cmp_fn cmp);
void qmpk__unsort_keys(jsmntok_t *tok, int head);
int qmpk__key_cmp_text(const char *js, const jsmntok_t *tok, int a, int b);
/* The same for keys known to hold no escape and no image mark. */
int qmpk__key_cmp_raw(const char *js, const jsmntok_t *tok, int a, int b);
unsigned qmpk__key_bucket(const char *js, const jsmntok_t *tok, int k);

#endif
