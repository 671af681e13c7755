/*
 * Framing: bytes -> lexer tokens -> complete messages.
 *
 * This is QEMU 7.2's json-lexer.c and json-streamer.c as one incremental
 * state machine that never looks at a byte twice.  The lexer grammar, from
 * RFC 8259 with QEMU's deviations in [brackets]:
 *
 *   ws      = space / %x09 / %x0A / %x0D
 *   string  = '"' *char '"'        [QEMU: also "'" *char "'", with a raw '"'
 *                                   allowed inside and "\'" as an escape]
 *   char    = %x20-FD except the quote and '\' / '\' %x20-FD
 *             [escapes and UTF-8 are checked later, by ustring.c, so that
 *              their errors come in token order as the parser's do]
 *   number  = [ "-" ] int [ frac ] [ exp ]
 *   int     = "0" / %x31-39 *DIGIT  [QEMU: no exponent directly after a
 *                                    lone "0": "0e1" lexes as 0, e, 1]
 *   keyword = 1*%x61-7A             [the grammar accepts true/false/null]
 *   struct  = "{" / "}" / "[" / "]" / ":" / ","
 *
 * A number or keyword ends only when the next byte arrives (lookahead); a
 * byte that fits no rule is a lexical error, "stray", which drops the
 * message and puts the lexer into recovery: skip to a structural
 * character, a control character other than TAB, or 0xFE/0xFF.
 *
 * Messages are delimited as QEMU's streamer does it: by separate brace and
 * bracket counters, a message ending when neither is positive or either is
 * negative, so "{]" is one (invalid) message and a top-level scalar is a
 * message by itself.
 */
#include <string.h>

#include "internal.h"

enum lex_state {
    L_START, L_RECOVERY,
    L_DQ, L_DQ_ESC, L_SQ, L_SQ_ESC,
    L_ZERO, L_DIGITS, L_SIGN, L_MANT, L_MANT_DIGITS,
    L_EXP_E, L_EXP_SIGN, L_EXP_DIGITS, L_KEYWORD,
};

/* What one step did with the byte. */
enum step {
    STEP_TAKEN,         /* consumed */
    STEP_AGAIN,         /* not consumed: process it again from the new state */
};

/*
 * The item a step produced, kept until qmpk_stream_feed returns it.  The
 * first item of a step wins: a byte that both overflows the buffer and
 * completes the message reports the overflow only.
 */
typedef struct item {
    bool ready;
    bool is_msg;
    qmpk_error_t err;
    size_t msg_len;
    int ntok;
} item_t;

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------ */
/* message buffer                                                       */

static void begin_message(qmpk_stream_t *s)
{
    s->in_msg = 1;
    s->len = 0;
    s->msg_offset = s->offset;
    s->has_ext = 0;
    s->brace = s->bracket = 0;
    s->ntokens = 0;
    s->token_bytes = 0;
    s->values = 0;
    qmpk__grammar_reset(s);
}

static void end_message(qmpk_stream_t *s)
{
    s->mode = 0;    /* idle: the next message may take the fast path */
    s->in_msg = 0;
    s->discard = 0;
    s->brace = s->bracket = 0;
    s->ntokens = 0;
    s->token_bytes = 0;
}

static size_t msg_capacity(const qmpk_stream_t *s)
{
    return s->cfg.buf_size - QMPK_BUF_SLACK;
}

static void set_error(item_t *it, const qmpk_stream_t *s, qmpk_errno_t code,
                      uint64_t offset)
{
    if (it->ready) {
        return;
    }
    it->ready = true;
    it->is_msg = false;
    memset(&it->err, 0, sizeof(it->err));
    it->err.code = code;
    it->err.offset = offset;
    it->err.index = s->items;
}

/*
 * Append the byte being consumed to the message.  Returns false when the
 * caller's buffer is full: the message is reported once and the rest of it
 * is skipped (discard mode keeps only the current token, for stray texts).
 */
static bool store(qmpk_stream_t *s, unsigned char c)
{
    if (s->len < msg_capacity(s)) {
        s->cfg.buf[s->len++] = (char)c;
        return true;
    }
    return s->discard != 0;
}

/* ------------------------------------------------------------------ */
/* streamer                                                             */

static bool complete(const qmpk_stream_t *s)
{
    return !((s->brace > 0 || s->bracket > 0) && s->brace >= 0 && s->bracket >= 0);
}

static bool is_value_token(qmpk_tok_t t)
{
    return t == QMPK_TOK_LCURLY || t == QMPK_TOK_LSQUARE || t == QMPK_TOK_STRING
        || t == QMPK_TOK_INTEGER || t == QMPK_TOK_FLOAT || t == QMPK_TOK_KEYWORD;
}

static void count_brackets(qmpk_stream_t *s, qmpk_tok_t t)
{
    switch (t) {
    case QMPK_TOK_LCURLY: s->brace++; break;
    case QMPK_TOK_RCURLY: s->brace--; break;
    case QMPK_TOK_LSQUARE: s->bracket++; break;
    case QMPK_TOK_RSQUARE: s->bracket--; break;
    default: break;
    }
}

/* QEMU's three security limits, checked in QEMU's order. */
static qmpk_errno_t check_limits(const qmpk_stream_t *s, size_t toklen)
{
    if (s->token_bytes + toklen + 1 > s->cfg.max_token_size) {
        return QMPK_E_TOKEN_SIZE;
    }
    if ((uint64_t)s->ntokens + 1 > s->cfg.max_tokens) {
        return QMPK_E_TOKEN_COUNT;
    }
    if ((int64_t)s->brace + s->bracket > (int64_t)s->cfg.max_depth) {
        return QMPK_E_NESTING;
    }
    return QMPK_E_OK;
}

/* QEMU rejects duplicate keys; RFC 8259 only says names SHOULD be unique,
 * so the RFC dialect accepts them (the accessors find the first). */
static bool rejects_duplicates(const qmpk_stream_t *s)
{
    return s->cfg.dialect == QMPK_DIALECT_QEMU;
}

/* The message is complete and free of grammar errors: tokenize it. */
static void finish_valid(qmpk_stream_t *s, item_t *it)
{
    unsigned used = 0;
    size_t key_at = 0, dup;

    if (s->has_ext) {
        qmpk__image(s->cfg.buf, s->len);
    }
    qmpk__jsmn(s->cfg.buf, s->len, s->cfg.tok, s->cfg.tok_count, &used);
    dup = rejects_duplicates(s)
        ? qmpk__first_duplicate(s->cfg.buf, s->cfg.tok, (int)used, &key_at) : SIZE_MAX;
    if (dup != SIZE_MAX) {
        set_error(it, s, QMPK_E_DUPLICATE_KEY, s->msg_offset + key_at);
        return;
    }
    if (it->ready) {
        return;
    }
    it->ready = true;
    it->is_msg = true;
    it->msg_len = s->len;
    it->ntok = (int)used;
}

/*
 * The first grammar error stands unless a duplicate key came before it in
 * token order (QEMU checks duplicates as each pair completes).  jsmn reads
 * the prefix before the error, so duplicates inside an object that is
 * itself used as a key ({{"a":1,"a":2}:1}) are not seen: there QEMU says
 * "duplicate key" and we say "key is not a string in object".
 */
static void finish_invalid(qmpk_stream_t *s, item_t *it)
{
    qmpk_errno_t code = s->gerr;
    size_t at = s->gerr_at, key_at = 0, dup = SIZE_MAX;
    unsigned used = 0;

    if (at > 0 && rejects_duplicates(s)) {
        char saved = s->cfg.buf[at];
        if (s->has_ext) {
            qmpk__image(s->cfg.buf, at);
        }
        qmpk__jsmn(s->cfg.buf, at, s->cfg.tok, s->cfg.tok_count, &used);
        dup = qmpk__first_duplicate(s->cfg.buf, s->cfg.tok, (int)used, &key_at);
        s->cfg.buf[at] = saved;
    }
    if (dup != SIZE_MAX && dup <= at) {
        set_error(it, s, QMPK_E_DUPLICATE_KEY, s->msg_offset + key_at);
        return;
    }
    if (it->ready) {
        return;
    }
    set_error(it, s, code, s->msg_offset + at);
    if (s->gerr_arg_len > 0) {
        it->err.arg = s->cfg.buf + s->gerr_arg;
        it->err.arg_len = s->gerr_arg_len;
    }
}

/*
 * The caller's buffer or token array is full: skip the rest of the message
 * and report that when it ends.  Skipping keeps lexing and counting, so if
 * a stray or one of QEMU's limits ends the message first, that error is
 * the one reported, as QEMU would: a server with small buffers still
 * answers every over-limit message exactly as QEMU does.
 */
static void capacity_error(qmpk_stream_t *s, qmpk_errno_t code, uint64_t offset)
{
    if (!s->discard) {
        s->cap_err = code;
        s->cap_err_offset = offset;
    }
    s->discard = 1;
}

/*
 * One lexer token ending at the current byte (inclusive when the token
 * consumed it, exclusive after a lookahead): count it, enforce the limits,
 * feed the grammar, and finish the message when it is complete.
 */
static void on_token(qmpk_stream_t *s, qmpk_tok_t t, size_t toklen, item_t *it)
{
    qmpk_errno_t lim;

    count_brackets(s, t);
    lim = check_limits(s, toklen);
    if (lim != QMPK_E_OK) {
        set_error(it, s, lim, s->tok_offset);
        end_message(s);
        return;
    }
    s->token_bytes += toklen;
    s->ntokens++;
    if (!s->discard && is_value_token(t) && ++s->values > s->cfg.tok_count) {
        capacity_error(s, QMPK_E_TOO_MANY_TOKENS, s->tok_offset);
    }
    if (!s->discard) {
        qmpk__grammar_token(s, t, s->tok_start, s->len - s->tok_start);
    }
    if (!complete(s)) {
        return;
    }
    if (s->discard) {
        set_error(it, s, s->cap_err, s->cap_err_offset);
    } else if (s->gerr != QMPK_E_OK) {
        finish_invalid(s, it);
    } else {
        finish_valid(s, it);
    }
    end_message(s);
}

/* A byte no lexer rule accepts: QEMU's JSON_ERROR. */
static void on_stray(qmpk_stream_t *s, item_t *it)
{
    bool first = !it->ready;

    set_error(it, s, QMPK_E_STRAY, s->offset);
    if (first) {
        it->err.arg = s->cfg.buf + s->tok_start;
        it->err.arg_len = s->len - s->tok_start;
    }
    end_message(s);
    s->lex = L_RECOVERY;
}

/* ------------------------------------------------------------------ */
/* lexer                                                                */

static void begin_token(qmpk_stream_t *s, uint8_t state)
{
    if (!s->in_msg) {
        begin_message(s);
    } else if (s->discard) {
        s->len = 0;
    }
    s->tok_start = s->len;
    s->tok_offset = s->offset;
    s->lex = state;
}

static qmpk_tok_t structural(unsigned char c)
{
    switch (c) {
    case '{': return QMPK_TOK_LCURLY;
    case '}': return QMPK_TOK_RCURLY;
    case '[': return QMPK_TOK_LSQUARE;
    case ']': return QMPK_TOK_RSQUARE;
    case ':': return QMPK_TOK_COLON;
    default: return QMPK_TOK_COMMA;
    }
}

static bool is_structural(unsigned char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

/* The byte is consumed as part of the current token or message. */
static enum step take(qmpk_stream_t *s, unsigned char c)
{
    if (!store(s, c)) {
        capacity_error(s, QMPK_E_MESSAGE_TOO_LARGE, s->offset);
    }
    s->offset++;
    return STEP_TAKEN;
}

/* The byte ends the current token and is part of it. */
static enum step take_last(qmpk_stream_t *s, unsigned char c, qmpk_tok_t t,
                           item_t *it)
{
    take(s, c);
    s->lex = L_START;
    on_token(s, t, (size_t)(s->offset - s->tok_offset), it);
    return STEP_TAKEN;
}

static enum step stray(qmpk_stream_t *s, unsigned char c, item_t *it)
{
    store(s, c);
    on_stray(s, it);
    s->offset++;
    return STEP_TAKEN;
}

static enum step lex_start(qmpk_stream_t *s, unsigned char c, item_t *it)
{
    bool rfc = s->cfg.dialect == QMPK_DIALECT_RFC;

    if (is_ws(c)) {
        if (s->in_msg && !s->discard) {
            return take(s, c);
        }
        s->offset++;
        return STEP_TAKEN;
    }
    if (is_structural(c)) {
        begin_token(s, L_START);
        return take_last(s, c, structural(c), it);
    }
    if (c == '"' || (c == '\'' && !rfc)) {
        begin_token(s, c == '"' ? L_DQ : L_SQ);
        s->has_ext |= (c == '\'');
        qmpk__str_begin(s, s->len + 1);
        return take(s, c);
    }
    if (is_digit(c) || c == '-' || (c >= 'a' && c <= 'z')) {
        uint8_t st = c == '0' ? L_ZERO : c == '-' ? L_SIGN
                   : is_digit(c) ? L_DIGITS : L_KEYWORD;
        begin_token(s, st);
        return take(s, c);
    }
    begin_token(s, L_START);
    return stray(s, c, it);
}

static enum step lex_recovery(qmpk_stream_t *s, unsigned char c)
{
    if ((c < 0x20 && c != '\t') || c >= 0xFE || is_structural(c)) {
        s->lex = L_START;
        return STEP_AGAIN;
    }
    s->offset++;
    return STEP_TAKEN;
}

static enum step lex_string(qmpk_stream_t *s, unsigned char c, item_t *it)
{
    bool dq = s->lex == L_DQ || s->lex == L_DQ_ESC;
    bool esc = s->lex == L_DQ_ESC || s->lex == L_SQ_ESC;

    if (c < 0x20 || c > 0xFD) {
        return stray(s, c, it);
    }
    if (!esc && c == (dq ? '"' : '\'')) {
        if (!s->discard) {
            qmpk__str_end(s, s->len);
        }
        return take_last(s, c, QMPK_TOK_STRING, it);
    }
    if (!s->discard) {
        qmpk__str_byte(s, c, s->len);
    }
    if (esc) {
        s->lex = dq ? L_DQ : L_SQ;
    } else if (c == '\\') {
        s->lex = dq ? L_DQ_ESC : L_SQ_ESC;
    }
    return take(s, c);
}

/* A number or keyword ended by the byte after it (not consumed). */
static enum step terminal(qmpk_stream_t *s, qmpk_tok_t t, item_t *it)
{
    s->lex = L_START;
    on_token(s, t, (size_t)(s->offset - s->tok_offset), it);
    return STEP_AGAIN;
}

/* Next state of the number automaton for c, L_START when c ends the token
 * (any byte that cannot continue it: QEMU's TERMINAL rows cover all 256),
 * or L_RECOVERY for a stray. */
static uint8_t number_next(uint8_t st, unsigned char c, bool rfc)
{
    bool d = is_digit(c), e = c == 'e' || c == 'E';

    switch (st) {
    case L_SIGN:
        return c == '0' ? L_ZERO : d ? L_DIGITS : L_RECOVERY;
    case L_ZERO:
        if (d) return L_RECOVERY;
        if (c == '.') return L_MANT;
        if (e && rfc) return L_EXP_E;
        return L_START;
    case L_DIGITS:
        if (d) return L_DIGITS;
        if (c == '.') return L_MANT;
        if (e) return L_EXP_E;
        return L_START;
    case L_MANT:
        return d ? L_MANT_DIGITS : L_RECOVERY;
    case L_MANT_DIGITS:
        if (d) return L_MANT_DIGITS;
        if (e) return L_EXP_E;
        return L_START;
    case L_EXP_E:
        return (c == '+' || c == '-') ? L_EXP_SIGN : d ? L_EXP_DIGITS : L_RECOVERY;
    case L_EXP_SIGN:
        return d ? L_EXP_DIGITS : L_RECOVERY;
    default: /* L_EXP_DIGITS */
        return d ? L_EXP_DIGITS : L_START;
    }
}

static bool is_float_state(uint8_t st)
{
    return st == L_MANT_DIGITS || st == L_EXP_DIGITS;
}

static enum step lex_number(qmpk_stream_t *s, unsigned char c, item_t *it)
{
    uint8_t next = number_next(s->lex, c, s->cfg.dialect == QMPK_DIALECT_RFC);

    if (next == L_RECOVERY) {
        return stray(s, c, it);
    }
    if (next == L_START) {
        return terminal(s, is_float_state(s->lex) ? QMPK_TOK_FLOAT : QMPK_TOK_INTEGER, it);
    }
    s->lex = next;
    return take(s, c);
}

static enum step lex_keyword(qmpk_stream_t *s, unsigned char c, item_t *it)
{
    if (c >= 'a' && c <= 'z') {
        return take(s, c);
    }
    return terminal(s, QMPK_TOK_KEYWORD, it);
}

/* QEMU caps a single token at MAX_TOKEN_SIZE and restarts the lexer. */
static void check_token_size(qmpk_stream_t *s, item_t *it)
{
    if (s->lex == L_START || s->lex == L_RECOVERY) {
        return;
    }
    if (s->offset - s->tok_offset > s->cfg.max_token_size) {
        set_error(it, s, QMPK_E_TOKEN_SIZE, s->offset - 1);
        end_message(s);
        s->lex = L_START;
    }
}

static enum step lex_byte(qmpk_stream_t *s, unsigned char c, item_t *it)
{
    enum step r;

    switch (s->lex) {
    case L_START: r = lex_start(s, c, it); break;
    case L_RECOVERY: return lex_recovery(s, c);
    case L_DQ: case L_DQ_ESC: case L_SQ: case L_SQ_ESC:
        r = lex_string(s, c, it);
        break;
    case L_KEYWORD: r = lex_keyword(s, c, it); break;
    default: r = lex_number(s, c, it); break;
    }
    if (r == STEP_TAKEN) {
        check_token_size(s, it);
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* fast path: a run of plain string bytes (no quote, backslash, control
 * or non-ASCII byte) needs no state change, only copying */

static size_t plain_run(const unsigned char *p, size_t n, unsigned char quote)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x20 || c >= 0x80 || c == quote || c == '\\') {
            break;
        }
        i++;
    }
    return i;
}

static size_t string_fast_path(qmpk_stream_t *s, const unsigned char *p, size_t n)
{
    uint64_t toklen, room_tok;
    size_t run, room_buf;

    if ((s->lex != L_DQ && s->lex != L_SQ) || s->discard || s->sv != 0) {
        return 0;
    }
    run = plain_run(p, n, s->lex == L_DQ ? '"' : '\'');
    toklen = s->offset - s->tok_offset;
    room_tok = s->cfg.max_token_size > toklen ? s->cfg.max_token_size - toklen : 0;
    room_buf = msg_capacity(s) - s->len;
    if (run > room_tok) run = (size_t)room_tok;
    if (run > room_buf) run = room_buf;
    memcpy(s->cfg.buf + s->len, p, run);
    s->len += run;
    s->offset += run;
    return run;
}

/* ------------------------------------------------------------------ */
/* the fast path's hand-over                                           */

enum mode { MODE_IDLE, MODE_FAST, MODE_EXACT };

/* The message length from which a limit or the buffer's capacity could
 * come into play: from there the exact path decides, at the exact byte. */
static size_t fast_cap(const qmpk_stream_t *s)
{
    uint64_t cap = msg_capacity(s);

    if ((uint64_t)s->cfg.max_tokens - 1 < cap) cap = (uint64_t)s->cfg.max_tokens - 1;
    if (s->cfg.max_token_size - 1 < cap) cap = s->cfg.max_token_size - 1;
    return (size_t)cap;
}

/* s->offset, which a fast message leaves behind: its bytes only add to
 * s->len, one store less per byte of a 1-byte chunk. */
static uint64_t offset_now(const qmpk_stream_t *s)
{
    return s->mode == MODE_FAST ? s->msg_offset + s->len : s->offset;
}

/* Bytes the fast path may still add to the message (fast_cap, kept per
 * message because small chunks ask for every byte). */
static size_t fast_budget(const qmpk_stream_t *s)
{
    return s->fcap > s->len ? s->fcap - s->len : 0;
}

/*
 * Give the message so far to the exact path: relex buf[0..len) from its
 * first byte.  Each byte goes back to where it already is, and nothing the
 * fast path accepted can raise an item before the message's last byte, so
 * an item comes (if at all) only when the whole message was handed over.
 */
static void hand_over(qmpk_stream_t *s, item_t *it)
{
    size_t n = s->len, k = 0;

    s->mode = MODE_EXACT;
    s->fhot = 0;
    s->offset = s->msg_offset;
    s->in_msg = 0;
    s->lex = L_START;
    while (k < n) {
        if (lex_byte(s, (unsigned char)s->cfg.buf[k], it) == STEP_TAKEN) {
            k++;
        }
    }
}

static void begin_fast(qmpk_stream_t *s)
{
    s->mode = MODE_FAST;
    s->in_msg = 1;
    s->len = 0;
    s->msg_offset = s->offset;
    s->has_ext = 0;
    qmpk__fast_begin(s);
}

/* The fast scan took `used` bytes of p and stopped in `state`: append them,
 * and finish the message or hand it to the exact path. */
static QMPK_ALWAYS_INLINE void fast_after(qmpk_stream_t *s, const unsigned char *p, size_t used,
                                          int state, item_t *it)
{
    int ntok = 0;

    if (used < 16) {
        for (size_t k = 0; k < used; k++) {     /* cheaper than a call */
            s->cfg.buf[s->len + k] = (char)p[k];
        }
    } else {
        memcpy(s->cfg.buf + s->len, p, used);
    }
    s->len += used;
    if (state == QMPK__FAST_MORE) {
        return;
    }
    if (state == QMPK__FAST_DONE && qmpk__fast_finish(s, s->len, &ntok)) {
        it->ready = true;
        it->is_msg = true;
        it->msg_len = s->len;
        it->ntok = ntok;
        s->in_msg = 0;
        s->mode = MODE_IDLE;
        s->offset = s->msg_offset + s->len;
        s->fhot = QMPK__STEP_IDLE << QMPK__STEP_SHIFT;
        return;
    }
    hand_over(s, it);
}

/* Scan a chunk of a fast message; returns the bytes consumed. */
static size_t fast_step(qmpk_stream_t *s, const unsigned char *p, size_t n, item_t *it)
{
    int state;
    size_t used = qmpk__fast_scan(s, p, n, fast_budget(s), &state);

    fast_after(s, p, used, state, it);
    return used;
}

/* Between messages: a run of whitespace is skipped, and a message that
 * opens with '{' or '[' starts on the fast path.  Returns the bytes
 * skipped; 0 and the mode unchanged leave the byte to the exact path. */
static size_t idle_bytes(qmpk_stream_t *s, const unsigned char *p, size_t n)
{
    size_t k = 0;

    if (s->lex != L_START || s->in_msg || (s->cfg.flags & QMPK_STREAM_EXACT_ONLY)) {
        return 0;
    }
    while (k < n && is_ws(p[k])) {
        k++;
    }
    s->offset += k;
    if (k < n && (p[k] == '{' || p[k] == '[')) {
        begin_fast(s);
    }
    return k;
}

/* ------------------------------------------------------------------ */
/* public API                                                           */

static void emit(qmpk_stream_t *s, const item_t *it, qmpk_msg_t *msg,
                 qmpk_error_t *err)
{
    if (it->is_msg) {
        msg->json = s->cfg.buf;
        msg->len = it->msg_len;
        msg->tok = s->cfg.tok;
        msg->ntok = it->ntok;
        msg->offset = s->msg_offset;
        msg->index = s->items;
        msg->dialect = s->cfg.dialect;
    } else {
        *err = it->err;
    }
    s->items++;
}

/* The QMPK__HOT_* classes of each byte. */
#define HOT_CLASS(c)                                                          \
    (((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\' ? QMPK__HOT_STR : 0u) \
     | ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r' ? QMPK__HOT_WS : 0u) \
     | ((c) >= '0' && (c) <= '9' ? QMPK__HOT_DIGIT : 0u))
#define HOT4(c) HOT_CLASS(c), HOT_CLASS((c) + 1), HOT_CLASS((c) + 2), HOT_CLASS((c) + 3)
#define HOT16(c) HOT4(c), HOT4((c) + 4), HOT4((c) + 8), HOT4((c) + 12)
#define HOT64(c) HOT16(c), HOT16((c) + 16), HOT16((c) + 32), HOT16((c) + 48)

const uint8_t qmpk__hot_class[256] = { HOT64(0), HOT64(64), HOT64(128), HOT64(192) };

/* Chunks shorter than this start with a byte-at-a-time look for bytes that
 * change nothing; longer ones go straight to the scan's 16-byte steps. */
#define HOT_CHUNK 16

/* Bytes from p[i] on that the fast message's state takes unchanged (see
 * s->fhot), appended; returns the index of the first other byte. */
static size_t hot_bytes(qmpk_stream_t *s, const unsigned char *p, size_t i, size_t len)
{
    size_t room = fast_budget(s), k = i;

    while (k < len && k - i < room && (qmpk__hot_class[p[k]] & s->fhot)) {
        s->cfg.buf[s->len + (k - i)] = (char)p[k];
        k++;
    }
    s->len += k - i;
    return k;
}

/* The general loop behind parser.h's shortcut for 1-byte chunks, kept
 * out of line so that the shortcut sets nothing up for it. */
QMPK_NOINLINE qmpk_feed_t qmpk__feed(qmpk_stream_t *s, const unsigned char *p, size_t len,
                                     size_t *consumed, qmpk_msg_t *msg, qmpk_error_t *err)
{
    size_t i = s->fhot != 0 && len < HOT_CHUNK ? hot_bytes(s, p, 0, len) : 0;
    item_t it;

    it.ready = false;
    while (i < len) {
        size_t run;
        if (s->mode == MODE_FAST) {
            if (len == 1 && s->len < s->fcap && (s->fhot >> QMPK__STEP_SHIFT) != 0) {
                /* a message's first byte fed alone, as qmpk_stream_feed's
                 * shortcut feeds the others (the scan's set-up costs more) */
                return qmpk__byte_step(s, p, s->fhot >> QMPK__STEP_SHIFT, consumed, msg, err);
            }
            i += fast_step(s, p + i, len - i, &it);
        } else if ((run = idle_bytes(s, p + i, len - i)) > 0) {
            i += run;
            continue;
        } else if (s->mode == MODE_FAST) {
            continue;
        } else if ((run = string_fast_path(s, p + i, len - i)) > 0) {
            i += run;
            continue;
        } else if (lex_byte(s, p[i], &it) == STEP_TAKEN) {
            i++;
        }
        if (it.ready) {
            *consumed = i;
            emit(s, &it, msg, err);
            return it.is_msg ? QMPK_FEED_MESSAGE : QMPK_FEED_ERROR;
        }
    }
    *consumed = i;
    return QMPK_FEED_MORE;
}

/* A 1-byte chunk after a fast message: the line end between messages
 * and the next message's first byte, each without the general loop. */
int qmpk__feed_idle(qmpk_stream_t *s, unsigned char c)
{
    if (s->mode == MODE_IDLE && s->lex == L_START && !s->in_msg) {
        if (is_ws(c)) {
            s->offset++;
            return QMPK__FAST_MORE;
        }
        if ((c == '{' || c == '[') && s->fcap > 0) {
            begin_fast(s);
            return qmpk__byte_steps[s->fhot >> QMPK__STEP_SHIFT](s, c);
        }
    }
    s->fhot = 0;    /* no longer idle, or a byte for the general loop */
    return QMPK__FAST_GENERAL;
}

/* What a 1-byte step left: the message ended or left the fast path, or
 * the byte is the general loop's. */
qmpk_feed_t qmpk__byte_ended(qmpk_stream_t *s, const unsigned char *p, int state,
                             size_t *consumed, qmpk_msg_t *msg, qmpk_error_t *err)
{
    size_t used = state == QMPK__FAST_BAIL ? 0 : 1;
    item_t it;

    if (state == QMPK__FAST_GENERAL) {
        return qmpk__feed(s, p, 1, consumed, msg, err);
    }
    it.ready = false;
    fast_after(s, p, used, state, &it);
    if (it.ready) {
        *consumed = used;
        emit(s, &it, msg, err);
        return it.is_msg ? QMPK_FEED_MESSAGE : QMPK_FEED_ERROR;
    }
    if (used == 1) {
        *consumed = 1;
        return QMPK_FEED_MORE;
    }
    return qmpk__feed(s, p, 1, consumed, msg, err);
}

/* The function behind parser.h's macro of the same name: the same inline
 * shortcut for 1-byte chunks, then the general loop. */
qmpk_feed_t (qmpk_stream_feed)(qmpk_stream_t *s, const char *data, size_t len,
                               size_t *consumed, qmpk_msg_t *msg,
                               qmpk_error_t *err)
{
    return qmpk__stream_feed_inline(s, data, len, consumed, msg, err);
}

qmpk_feed_t qmpk_stream_finish(qmpk_stream_t *s, qmpk_msg_t *msg,
                               qmpk_error_t *err)
{
    item_t it;

    it.ready = false;
    if (s->mode == MODE_FAST) {
        hand_over(s, &it);
    }
    if (s->lex == L_RECOVERY) {
        s->lex = L_START;
    }
    if (!s->in_msg) {
        return QMPK_FEED_MORE;
    }
    /* A pending number or keyword ends here, as with QEMU's flush. */
    if (s->lex == L_KEYWORD) {
        terminal(s, QMPK_TOK_KEYWORD, &it);
    } else if (s->lex == L_ZERO || s->lex == L_DIGITS || is_float_state(s->lex)) {
        terminal(s, is_float_state(s->lex) ? QMPK_TOK_FLOAT : QMPK_TOK_INTEGER, &it);
    }
    if (s->in_msg) {
        if (s->discard) {
            set_error(&it, s, s->cap_err, s->cap_err_offset);
        } else {
            set_error(&it, s, QMPK_E_INCOMPLETE, s->offset);
        }
        end_message(s);
    }
    s->lex = L_START;
    if (!it.ready) {
        return QMPK_FEED_MORE;
    }
    emit(s, &it, msg, err);
    return it.is_msg ? QMPK_FEED_MESSAGE : QMPK_FEED_ERROR;
}

/* What follows from the configuration alone, once rather than per message. */
static void configure(qmpk_stream_t *s)
{
    s->fcap = fast_cap(s);
    qmpk__fast_configure(s);
    s->lex = L_START;
}

void qmpk_stream_reset(qmpk_stream_t *s)
{
    qmpk_stream_config_t cfg = s->cfg;
    uint64_t offset = offset_now(s), items = s->items;

    memset(s, 0, offsetof(qmpk_stream_t, fnkeys));
    s->cfg = cfg;
    s->offset = offset;
    s->items = items;
    configure(s);
}

qmpk_errno_t qmpk_stream_init(qmpk_stream_t *s, const qmpk_stream_config_t *cfg)
{
    if (!s || !cfg || !cfg->buf || cfg->buf_size < 2 || !cfg->tok
        || cfg->tok_count < 1 || cfg->tok_count > (unsigned)INT32_MAX
        || cfg->buf_size > (size_t)INT32_MAX
        || cfg->max_depth > QMPK_MAX_DEPTH_LIMIT
        || (cfg->dialect != QMPK_DIALECT_QEMU && cfg->dialect != QMPK_DIALECT_RFC)) {
        return QMPK_E_BAD_CONFIG;
    }
    memset(s, 0, offsetof(qmpk_stream_t, fnkeys));
    s->cfg = *cfg;
    if (s->cfg.max_depth == 0) s->cfg.max_depth = QMPK_DEFAULT_MAX_DEPTH;
    if (s->cfg.max_tokens == 0) s->cfg.max_tokens = QMPK_DEFAULT_MAX_TOKENS;
    if (s->cfg.max_token_size == 0) s->cfg.max_token_size = QMPK_DEFAULT_MAX_TOKEN_SIZE;
    configure(s);
    return QMPK_E_OK;
}

uint64_t qmpk_stream_offset(const qmpk_stream_t *s)
{
    return offset_now(s);
}

bool qmpk_stream_pending(const qmpk_stream_t *s)
{
    return s->in_msg != 0;
}
