/*
 * Validation: QEMU's recursive-descent parser (json-parser.c) recast as an
 * automaton over the tokens of one message, fed as they arrive.
 *
 * QEMU parses a message only once the streamer has it complete and reports
 * the first error it meets; its errors therefore come in token order.  This
 * automaton meets the same errors in the same order, so the first one it
 * records is QEMU's, and the whole message is never walked again.  The
 * error is held until the streamer completes the message: a lexical error
 * or a limit that strikes first replaces it, as in QEMU.
 *
 * Two QEMU details shape it:
 *  - parse_pair() parses the key with parse_value(), so a key may be any
 *    value; errors inside it come first, "key is not a string in object"
 *    only after it is complete.
 *  - A string's escape and UTF-8 errors are raised when the parser takes
 *    the string as a value, not while lexing: a string in a separator's
 *    place reports the missing separator.
 */
#include <string.h>

#include "internal.h"

enum gstate {
    G_TOP,          /* top-level value expected */
    G_DONE,         /* top-level value complete */
    G_ARR_FIRST,    /* after '[': value or ']' */
    G_ARR_VALUE,    /* after ',': value */
    G_ARR_NEXT,     /* after a value: ',' or ']' */
    G_OBJ_FIRST,    /* after '{': key or '}' */
    G_OBJ_KEY,      /* after ',': key */
    G_OBJ_COLON,    /* after a key: ':' */
    G_OBJ_VALUE,    /* after ':': value */
    G_OBJ_NEXT,     /* after a value: ',' or '}' */
};

/* gstack entries: the container and whether it stands in a key's place */
#define G_IS_OBJECT 1u
#define G_IS_KEY 2u

void qmpk__grammar_reset(qmpk_stream_t *s)
{
    s->gstate = G_TOP;
    s->gdepth = 0;
    s->gerr = QMPK_E_OK;
    s->gerr_at = 0;
    s->gerr_arg = 0;
    s->gerr_arg_len = 0;
}

void qmpk__grammar_set_error(qmpk_stream_t *s, qmpk_errno_t e, size_t at,
                             size_t arg, size_t arg_len)
{
    if (s->gerr != QMPK_E_OK) {
        return;
    }
    s->gerr = e;
    s->gerr_at = at;
    s->gerr_arg = arg;
    s->gerr_arg_len = arg_len;
}

static uint8_t parent_state(const qmpk_stream_t *s)
{
    if (s->gdepth == 0) {
        return G_DONE;
    }
    return (s->gstack[s->gdepth - 1] & G_IS_OBJECT) ? G_OBJ_NEXT : G_ARR_NEXT;
}

/* A value is complete; is_key says it stood in a key's place. */
static void value_done(qmpk_stream_t *s, bool is_string, bool is_key, size_t at)
{
    if (is_key) {
        if (!is_string) {
            qmpk__grammar_set_error(s, QMPK_E_KEY_NOT_STRING, at, 0, 0);
            return;
        }
        s->gstate = G_OBJ_COLON;
        return;
    }
    s->gstate = parent_state(s);
}

static void push(qmpk_stream_t *s, bool object, bool is_key)
{
    /* The streamer's nesting limit keeps gdepth <= max_depth <= the stack. */
    s->gstack[s->gdepth++] = (uint8_t)((object ? G_IS_OBJECT : 0) | (is_key ? G_IS_KEY : 0));
    s->gstate = object ? G_OBJ_FIRST : G_ARR_FIRST;
}

static void pop(qmpk_stream_t *s, size_t at)
{
    uint8_t e = s->gstack[--s->gdepth];
    value_done(s, false, (e & G_IS_KEY) != 0, at);
}

static bool keyword_ok(const char *kw, size_t len)
{
    return (len == 4 && memcmp(kw, "true", 4) == 0)
        || (len == 5 && memcmp(kw, "false", 5) == 0)
        || (len == 4 && memcmp(kw, "null", 4) == 0);
}

/* QEMU's parse_value(): the token must start a value. */
static void value_token(qmpk_stream_t *s, qmpk_tok_t t, size_t start,
                        size_t len, bool is_key)
{
    switch (t) {
    case QMPK_TOK_LCURLY:
        push(s, true, is_key);
        return;
    case QMPK_TOK_LSQUARE:
        push(s, false, is_key);
        return;
    case QMPK_TOK_STRING:
        if (s->serr != QMPK_E_OK) {
            qmpk__grammar_set_error(s, s->serr, start, s->serr_arg, s->serr_arg_len);
            return;
        }
        value_done(s, true, is_key, start);
        return;
    case QMPK_TOK_KEYWORD:
        if (!keyword_ok(s->cfg.buf + start, len)) {
            qmpk__grammar_set_error(s, QMPK_E_INVALID_KEYWORD, start, start, len);
            return;
        }
        value_done(s, false, is_key, start);
        return;
    case QMPK_TOK_INTEGER:
    case QMPK_TOK_FLOAT:
        value_done(s, false, is_key, start);
        return;
    default:
        qmpk__grammar_set_error(s, QMPK_E_EXPECTING_VALUE, start, 0, 0);
        return;
    }
}

/* A close or a separator after a value inside a container. */
static void after_value(qmpk_stream_t *s, qmpk_tok_t t, size_t start, bool object)
{
    qmpk_tok_t close = object ? QMPK_TOK_RCURLY : QMPK_TOK_RSQUARE;

    if (t == close) {
        pop(s, start);
    } else if (t == QMPK_TOK_COMMA) {
        s->gstate = object ? G_OBJ_KEY : G_ARR_VALUE;
    } else {
        qmpk__grammar_set_error(s, object ? QMPK_E_DICT_SEPARATOR : QMPK_E_LIST_SEPARATOR,
                                start, 0, 0);
    }
}

void qmpk__grammar_token(qmpk_stream_t *s, qmpk_tok_t t, size_t start, size_t len)
{
    if (s->gerr != QMPK_E_OK) {
        return;
    }
    switch (s->gstate) {
    case G_TOP:
    case G_ARR_VALUE:
    case G_OBJ_VALUE:
        value_token(s, t, start, len, false);
        return;
    case G_ARR_FIRST:
        if (t == QMPK_TOK_RSQUARE) {
            pop(s, start);
            return;
        }
        value_token(s, t, start, len, false);
        return;
    case G_OBJ_FIRST:
        if (t == QMPK_TOK_RCURLY) {
            pop(s, start);
            return;
        }
        value_token(s, t, start, len, true);
        return;
    case G_OBJ_KEY:
        value_token(s, t, start, len, true);
        return;
    case G_OBJ_COLON:
        if (t == QMPK_TOK_COLON) {
            s->gstate = G_OBJ_VALUE;
        } else {
            qmpk__grammar_set_error(s, QMPK_E_MISSING_COLON, start, 0, 0);
        }
        return;
    case G_ARR_NEXT:
        after_value(s, t, start, false);
        return;
    case G_OBJ_NEXT:
        after_value(s, t, start, true);
        return;
    default:
        /* G_DONE: the streamer ends the message with its last token. */
        return;
    }
}
