/*
 * The fast path: valid messages, which are nearly all of them, framed and
 * checked in one tight pass; anything unusual goes to the exact path.
 *
 * The exact path (lexer.c, grammar.c, ustring.c) follows QEMU's lexer,
 * streamer and parser byte by byte, which is what gives QEMU's error texts
 * and recovery, but costs several times jsmn.  This pass handles a message
 * that starts with '{' or '[' as long as every byte is what a valid
 * message has at that place: its place in the code is its place in the
 * grammar (scan()), it scans string bodies and whitespace 16 bytes at a
 * time, checks numbers and keywords as it meets them, and copies the
 * input in spans.  1-byte chunks take one step of the same automaton per
 * byte instead (qmpk__byte_steps[]), with the state in the stream.  When a
 * byte does not fit (a stray, a grammar error, a single quote, a limit
 * coming near), it stops before that byte and the stream replays the
 * message so far through the exact path, which then carries on from that
 * byte: the bytes of that message are looked at twice, no others.
 *
 * A message scanned within one call gets its tokens as it is scanned,
 * exactly as jsmn (strict, parent links) would write them for a valid
 * message: running jsmn afterwards would cost as much again as this whole
 * pass.  A message that spans calls is tokenized by jsmn when it closes,
 * since between calls another stream may use a shared token array.  What
 * the scan cannot settle as it goes is checked when the message closes
 * (fast_finish.c).
 */
#include "internal.h"    /* with <emmintrin.h> where SSE2 is there */

/* The helpers of the scan and of the 1-byte steps, inlined where they are
 * used: each is a few instructions of a hot path. */
#define HOT_INLINE QMPK_ALWAYS_INLINE

/* What the automaton expects next (outside strings and primitives). */
enum fexp {
    FX_VALUE,           /* after ':' or ',' in an array */
    FX_VALUE_OR_CLOSE,  /* after '[' */
    FX_KEY,             /* after ',' in an object */
    FX_KEY_OR_CLOSE,    /* after '{' */
    FX_COLON,           /* after a key */
    FX_NEXT,            /* after a value: ',' or a close */
    FX_STR,             /* inside a string */
    FX_ESC,             /* after a backslash in a string */
    FX_PRIM,            /* inside a number or keyword */
};


/* Number and keyword DFA states (fs.prim); P_DEAD rejects. */
enum fprim {
    P_DEAD, P_SIGN, P_ZERO, P_INT, P_DOT, P_FRAC, P_E, P_ESIGN, P_EXP,
    P_KW,   /* keyword: fs.kw indexes the candidate text */
};

static const char *const keywords[] = { "true", "false", "null" };

#define F_KEY_STRING 1u     /* the string being scanned is a key */
#define F_KEY_LEVELS 16     /* objects deep whose keys are fingerprinted */

/* ------------------------------------------------------------------ */
/* scanning helpers                                                     */

/* One compare and a bit test rather than four compares. */
#define WS_BITS ((1ull << ' ') | (1ull << '\n') | (1ull << '\r') | (1ull << '\t'))

static HOT_INLINE bool is_ws(unsigned char c)
{
    return c <= ' ' && ((WS_BITS >> c) & 1u);
}

/* A run of whitespace from p[0] (pretty-printed input is nearly half
 * indentation).  Line ends and indentation are '\n' and spaces, so 16
 * bytes are compared with those two alone; a tab or CR costs a step of its
 * own.  Stops at the first byte that is not whitespace. */
static size_t ws_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n');

    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl));
        unsigned mask = ~(unsigned)_mm_movemask_epi8(m) & 0xFFFFu;
        if (mask == 0) {
            i += 16;
            continue;
        }
        i += (size_t)__builtin_ctz(mask);
        if (!is_ws(p[i])) {
            return i;
        }
        i++;
    }
#endif
    while (i < n && is_ws(p[i])) {
        i++;
    }
    return i;
}

/* The escapes jsmn takes (QEMU's \' needs the exact path's image). */
static HOT_INLINE bool std_escape(unsigned char c)
{
    switch (c) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': case 'u':
        return true;
    default:
        return false;
    }
}

static HOT_INLINE uint8_t prim_start(unsigned char c, uint8_t *kw)
{
    switch (c) {
    case '-': return P_SIGN;
    case '0': return P_ZERO;
    case 't': *kw = 0; return P_KW;
    case 'f': *kw = 1; return P_KW;
    case 'n': *kw = 2; return P_KW;
    default: return (c >= '1' && c <= '9') ? P_INT : P_DEAD;
    }
}

/* One more byte of a number; QEMU allows no exponent right after a lone 0. */
static HOT_INLINE uint8_t num_next(uint8_t st, unsigned char c, bool rfc)
{
    bool d = c >= '0' && c <= '9', e = c == 'e' || c == 'E';

    switch (st) {
    case P_SIGN: return c == '0' ? P_ZERO : d ? P_INT : P_DEAD;
    case P_ZERO: return c == '.' ? P_DOT : (e && rfc) ? P_E : P_DEAD;
    case P_INT: return d ? P_INT : c == '.' ? P_DOT : e ? P_E : P_DEAD;
    case P_DOT: return d ? P_FRAC : P_DEAD;
    case P_FRAC: return d ? P_FRAC : e ? P_E : P_DEAD;
    case P_E: return (c == '+' || c == '-') ? P_ESIGN : d ? P_EXP : P_DEAD;
    case P_ESIGN: return d ? P_EXP : P_DEAD;
    case P_EXP: return d ? P_EXP : P_DEAD;
    default: return P_DEAD;
    }
}

static HOT_INLINE bool prim_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+'
        || c == '.' || c == 'E';
}

static HOT_INLINE bool prim_complete(const qmpk__fscan_t *f)
{
    switch (f->prim) {
    case P_ZERO: case P_INT: case P_FRAC: case P_EXP:
        return true;
    case P_KW:
        return keywords[f->kw][f->kwpos] == '\0';
    default:
        return false;
    }
}

static HOT_INLINE bool prim_step(qmpk__fscan_t *f, unsigned char c)
{
    if (f->prim == P_KW) {
        if (keywords[f->kw][f->kwpos] != (char)c) {
            return false;
        }
        f->kwpos++;
        return true;
    }
    f->prim = num_next(f->prim, c, f->rfc);
    return f->prim != P_DEAD;
}

/* ------------------------------------------------------------------ */
/* the feed's shortcut for small chunks                                 */

/*
 * The bytes that the state the scan stopped in takes without changing:
 * 1-byte chunks are mostly these, and the feed appends them without a call
 * (a string body, indentation, a number's digits).
 */
static HOT_INLINE uint8_t hot_classes(const qmpk__fscan_t *f)
{
    if (f->exp < FX_STR) {
        return QMPK__HOT_WS | (QMPK__STEP_BETWEEN + f->exp) << QMPK__STEP_SHIFT;
    }
    if (f->exp == FX_STR) {
        return QMPK__HOT_STR | QMPK__STEP_STRING << QMPK__STEP_SHIFT;
    }
    if (f->exp == FX_PRIM
        && (f->prim == P_INT || f->prim == P_FRAC || f->prim == P_EXP)) {
        return QMPK__HOT_DIGIT | QMPK__STEP_OTHER << QMPK__STEP_SHIFT;
    }
    return QMPK__STEP_OTHER << QMPK__STEP_SHIFT;
}

/* ------------------------------------------------------------------ */
/* the automaton                                                        */

static HOT_INLINE bool top_is_object(const qmpk_stream_t *s, const qmpk__fscan_t *f)
{
    return s->gstack[f->gdepth - 1] != 0;
}

static HOT_INLINE bool push(qmpk_stream_t *s, qmpk__fscan_t *f, bool object)
{
    if (f->gdepth + 1 > f->max_depth) {
        return false;   /* the exact path reports the limit */
    }
    if (object && f->gdepth < F_KEY_LEVELS) {
        s->fnkeys[f->gdepth] = 0;
        s->flens[f->gdepth] = 0;
    }
    s->gstack[f->gdepth++] = object;
    f->exp = object ? FX_KEY_OR_CLOSE : FX_VALUE_OR_CLOSE;
    return true;
}

/* Room for one more jsmn token (else the exact path reports capacity). */
static HOT_INLINE bool count_value(qmpk__fscan_t *f)
{
    return ++f->values <= f->tok_count;
}

/* ------------------------------------------------------------------ */
/* tokens as jsmn writes them (jsmn_parse in strict mode, parent links) */

/* A new value token; count_value() has made room for it.  jsmn counts a
 * value in its parent's size (a key's size is its one value). */
static HOT_INLINE void tok_open(qmpk__fscan_t *f, jsmntype_t type, size_t start)
{
    jsmntok_t *t = &f->tok[f->values - 1];

    t->type = type;
    t->start = (int)start;
    t->end = -1;
    t->size = 0;
    t->parent = f->toksuper;
    if (f->toksuper >= 0) {
        f->tok[f->toksuper].size++;
    }
}

/* The string or primitive being scanned, which is always the last token,
 * ends at buffer offset end. */
static HOT_INLINE void tok_end_last(qmpk__fscan_t *f, size_t end)
{
    f->tok[f->values - 1].end = (int)end;
}

/* '}' or ']' at pos: after a member jsmn's toksuper is its key. */
static HOT_INLINE void tok_close(qmpk__fscan_t *f, size_t pos)
{
    jsmntok_t *tok = f->tok;
    int c = f->toksuper;

    if (tok[c].type == JSMN_STRING) {
        c = tok[c].parent;
    }
    tok[c].end = (int)pos + 1;
    f->toksuper = tok[c].parent;
}

static HOT_INLINE bool close_container(const qmpk_stream_t *s, qmpk__fscan_t *f, bool object,
                                       enum fexp exp)
{
    bool can = exp == FX_NEXT
            || (object ? exp == FX_KEY_OR_CLOSE : exp == FX_VALUE_OR_CLOSE);

    if (!can || top_is_object(s, f) != object) {
        return false;
    }
    f->gdepth--;
    f->exp = FX_NEXT;
    return true;
}

static HOT_INLINE bool open_value(qmpk__fscan_t *f, jsmntype_t type, size_t pos)
{
    if (!count_value(f)) {
        return false;
    }
    if (f->direct) {
        tok_open(f, type, pos);
    }
    return true;
}

static HOT_INLINE bool expects_value(enum fexp exp)
{
    return exp == FX_VALUE || exp == FX_VALUE_OR_CLOSE;
}

/* A byte between strings and primitives, at buffer offset pos.  Returns
 * false to bail. */
static HOT_INLINE bool structural(qmpk_stream_t *s, qmpk__fscan_t *f, unsigned char c,
                                  size_t pos, enum fexp exp)
{
    switch (c) {
    case '"':
        if (expects_value(exp)) {
            f->key = 0;
        } else if (exp == FX_KEY || exp == FX_KEY_OR_CLOSE) {
            f->key = F_KEY_STRING;
            f->key_start = pos + 1;
        } else {
            return false;
        }
        f->exp = FX_STR;
        return open_value(f, JSMN_STRING, pos + 1);
    case '{':
    case '[': {
        int parent = f->toksuper;
        if (!expects_value(exp) || !open_value(f, c == '{' ? JSMN_OBJECT : JSMN_ARRAY, pos)) {
            return false;
        }
        f->toksuper = (int)f->values - 1;
        if (!push(s, f, c == '{')) {
            f->toksuper = parent;
            return false;
        }
        return true;
    }
    case '}':
    case ']':
        if (!close_container(s, f, c == '}', exp)) {
            return false;
        }
        if (f->direct) {
            tok_close(f, pos);
        }
        return true;
    case ',':
        if (exp != FX_NEXT) {
            return false;
        }
        if (top_is_object(s, f)) {
            f->exp = FX_KEY;
            if (f->direct) {
                f->toksuper = f->tok[f->toksuper].parent;
            }
        } else {
            f->exp = FX_VALUE;
        }
        return true;
    case ':':
        if (exp != FX_COLON) {
            return false;
        }
        f->exp = FX_VALUE;
        f->toksuper = (int)f->values - 1;
        return true;
    default:
        if (!expects_value(exp) || (f->prim = prim_start(c, &f->kw)) == P_DEAD) {
            return false;
        }
        f->kwpos = 1;
        f->exp = FX_PRIM;
        return open_value(f, JSMN_PRIMITIVE, pos);
    }
}

#define F_KEYS_KEPT 16       /* keys per object whose places are kept */

static unsigned char byte_at(const qmpk_stream_t *s, const unsigned char *chunk, size_t q)
{
    return q < s->len ? (unsigned char)s->cfg.buf[q] : chunk[q - s->len];
}

/* Is the key at [start, start + len) equal, byte for byte, to one of the
 * first n kept keys of its object?  Asked when one has its length: kept
 * out of the scan, whose registers it would take. */
static QMPK_NOINLINE bool kept_key_equal(const qmpk_stream_t *s, const unsigned char *chunk,
                                         unsigned level, unsigned n, size_t start, size_t len)
{
    for (unsigned k = 0; k < n; k++) {
        size_t o = s->fkpos[level][k][0], j = 0;
        if (s->fkpos[level][k][1] != len) {
            continue;
        }
        while (j < len && byte_at(s, chunk, o + j) == byte_at(s, chunk, start + j)) {
            j++;
        }
        if (j == len) {
            return true;
        }
    }
    return false;
}

/* A key's signature: its length (wrapping past 255), first, second and
 * last byte; 0 for the empty key, which no other key has (its first byte
 * would be NUL, a stray). */
static HOT_INLINE uint32_t key_sig(const qmpk_stream_t *s, const unsigned char *chunk,
                                   size_t start, size_t len)
{
    unsigned first, second, last;

    if (len == 0) {
        return 0;
    }
    if (start >= s->len) {      /* the key lies in this chunk: no per-byte test */
        const unsigned char *k = chunk + (start - s->len);
        first = k[0];
        second = k[len > 1];
        last = k[len - 1];
    } else {
        first = byte_at(s, chunk, start);
        second = byte_at(s, chunk, start + (len > 1));
        last = byte_at(s, chunk, start + len - 1);
    }
    return (uint32_t)(len & 0xFF) << 24 | first << 16 | second << 8 | last;
}

/* A signature's bit in a 64-bit set (Fibonacci hashing). */
static HOT_INLINE uint64_t sig_bit(uint32_t sig)
{
    return (uint64_t)1 << ((sig * 0x9E3779B1u) >> 26);
}

/* Does sig equal one of the first n signatures in sigs (which has room
 * for F_KEYS_KEPT)? */
static HOT_INLINE bool sig_seen(const uint32_t *sigs, unsigned n, uint32_t sig)
{
#ifdef __SSE2__
    const __m128i k = _mm_set1_epi32((int)sig);

    for (unsigned j = 0; j < n; j += 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(sigs + j));
        /* four mask bits a lane; lanes from n on hold stale signatures */
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi32(v, k));
        if (n - j < 4) {
            m &= (1u << (4 * (n - j))) - 1;
        }
        if (m) {
            return true;
        }
    }
    return false;
#else
    for (unsigned j = 0; j < n; j++) {
        if (sigs[j] == sig) {
            return true;
        }
    }
    return false;
#endif
}

/*
 * A key closed at buffer offset end.  Duplicates are rare, so the scan
 * rules them out cheaply.  For an object's first F_KEYS_KEPT keys, a
 * 64-bit set of their lengths: a key whose length is new cannot repeat one
 * (in QMP objects most lengths are), else its bytes are compared with the
 * kept keys of that length.  Past those, signatures (length, first, second
 * and last byte): the kept keys' are taken once, and two 64-bit sets of
 * signature bits, of all keys and of the later ones, with a bit seen among
 * the kept keys settled by their signatures.  A repeat, a later key's bit
 * seen before among the later keys, an object deeper than F_KEY_LEVELS,
 * or a key with an escape (equal keys can differ in bytes) leaves the
 * decision to the full check after the scan, which finds a duplicate and
 * hands the message to the exact path.
 */
static HOT_INLINE void fingerprint_key(qmpk_stream_t *s, qmpk__fscan_t *f,
                                       const unsigned char *chunk, size_t end)
{
    size_t start = f->key_start, len = end - start;
    unsigned level = f->gdepth - 1, n;
    uint32_t sig;
    uint64_t bit;

    if (level >= F_KEY_LEVELS) {
        f->need_dup = 1;
        return;
    }
    n = s->fnkeys[level];
    if (n < F_KEYS_KEPT) {
        uint64_t lens = s->flens[level];
        bit = (uint64_t)1 << (len & 63);
        if ((lens & bit) && kept_key_equal(s, chunk, level, n, start, len)) {
            f->need_dup = 1;
        }
        s->flens[level] = lens | bit;
        s->fkpos[level][n][0] = (uint32_t)start;
        s->fkpos[level][n][1] = (uint32_t)len;
        s->fnkeys[level] = (uint8_t)(n + 1);
        return;
    }
    if (n == F_KEYS_KEPT) {     /* the object outgrew its kept keys */
        uint64_t bits = 0;
        for (unsigned j = 0; j < F_KEYS_KEPT; j++) {
            s->fsig[level][j] = key_sig(s, chunk, s->fkpos[level][j][0], s->fkpos[level][j][1]);
            bits |= sig_bit(s->fsig[level][j]);
        }
        s->fkeys[level] = bits;
        s->fkeys_late[level] = 0;
        s->fnkeys[level] = F_KEYS_KEPT + 1;
    }
    sig = key_sig(s, chunk, start, len);
    bit = sig_bit(sig);
    if ((s->fkeys_late[level] & bit)
        || ((s->fkeys[level] & bit) && sig_seen(s->fsig[level], F_KEYS_KEPT, sig))) {
        f->need_dup = 1;
    }
    s->fkeys[level] |= bit;
    s->fkeys_late[level] |= bit;
}

/* The byte c at chunk[at] of a string body that is not a plain one: the
 * closing quote, a backslash, non-ASCII.  False for a stray. */
static HOT_INLINE bool string_byte(qmpk_stream_t *s, qmpk__fscan_t *f,
                                   const unsigned char *chunk, size_t at, unsigned char c)
{
    if (c == '"') {
        if (f->direct) {
            if (f->key) {
                fingerprint_key(s, f, chunk, f->base + at);
            }
            tok_end_last(f, f->base + at);
        }
        f->exp = f->key ? FX_COLON : FX_NEXT;
    } else if (c == '\\') {
        f->has_escape = 1;
        f->need_dup |= f->key;  /* equal keys may differ in bytes */
        f->exp = FX_ESC;
    } else if (c >= 0x80 && c <= 0xFD) {
        f->has_high = 1;
    } else {
        return false;       /* control byte, 0xFE, 0xFF: a stray */
    }
    return true;
}

/* The end of a call that leaves the message open. */
static HOT_INLINE int scan_more(qmpk_stream_t *s, qmpk__fscan_t *f)
{
    s->fhot = hot_classes(f);
    if (!(s->cfg.flags & QMPK_STREAM_OWN_TOKENS)) {
        f->direct = 0;      /* the next call may find the token array reused */
    }
    return QMPK__FAST_MORE;
}

/* Whitespace from p[i] on: one space without a call, a run with one. */
static HOT_INLINE size_t skip_ws(const unsigned char *p, size_t i, size_t lim)
{
    if (i < lim && p[i] <= ' ') {   /* tokens start above ' ' */
        if (p[i] == ' ' && i + 1 < lim && p[i + 1] > ' ') {
            return i + 1;
        }
        i += ws_run(p + i, lim - i);
    }
    return i;
}

/*
 * qmpk__fast_scan on the scan's state f (s->fs).
 *
 * Where the scan is in the grammar is where it is in this function: each
 * label is one FX_* state, and a token's bytes lead straight to the label
 * of what may follow it, so no state is stored or tested between tokens.
 * Only where the chunk ends is the state written to f->exp (STOP), and a
 * call starts at the label f->exp names.  A call that starts after a
 * backslash or inside a number or keyword takes those bytes one at a
 * time (`resume`), as the 1-byte path does, until the token is behind it.
 * Any byte that does not fit returns its index with *state BAIL.
 */
#define STOP(st)            \
    do {                    \
        f->exp = (st);      \
        goto out;           \
    } while (0)

/* A string body up to its closing quote (p[i] then), in scan(): where the
 * chunk ends it stops in FX_STR or FX_ESC with f->key set to is_key; a
 * byte that needs the exact path (a control byte, 0xFE, 0xFF, an escape
 * jsmn does not take, as \') returns its index.  A macro, so that the key
 * and the value strings keep one loop each with is_key a constant. */
#define STRING_BODY(is_key)                                                     \
    for (;;) {                                                                  \
        i += qmpk__str_run(p + i, lim - i);                                     \
        if (i >= lim) {                                                         \
            f->key = (is_key);                                                  \
            STOP(FX_STR);                                                       \
        }                                                                       \
        c = p[i];                                                               \
        if (c == '"') {                                                         \
            break;                                                              \
        }                                                                       \
        if (c == '\\') {                                                        \
            f->has_escape = 1;                                                  \
            f->need_dup |= (is_key);    /* equal keys may differ in bytes */    \
            if (++i >= lim) {                                                   \
                f->key = (is_key);                                              \
                STOP(FX_ESC);                                                   \
            }                                                                   \
            if (!std_escape(p[i])) {                                            \
                return i;                                                       \
            }                                                                   \
        } else if (c >= 0x80 && c <= 0xFD) {                                    \
            f->has_high = 1;                                                    \
        } else {                                                                \
            return i;                                                           \
        }                                                                       \
        i++;                                                                    \
    }

static HOT_INLINE size_t scan(qmpk_stream_t *s, qmpk__fscan_t *f, const unsigned char *p,
                              size_t n, size_t budget, int *state, bool direct)
{
    size_t i = 0, lim = n < budget ? n : budget;
    const size_t base = f->base;
    unsigned char c;

    f->direct = direct;     /* a constant in each copy of the loop */
    *state = QMPK__FAST_BAIL;
    s->fhot = 0;
    switch (f->exp) {
    case FX_VALUE: goto value;
    case FX_VALUE_OR_CLOSE: goto value_or_close;
    case FX_KEY: goto key;
    case FX_KEY_OR_CLOSE: goto key_or_close;
    case FX_COLON: goto colon;
    case FX_NEXT: goto next;
    case FX_STR: goto string;
    default: goto resume;
    }

resume:     /* FX_ESC or FX_PRIM */
    if (i >= lim) {
        goto out;
    }
    c = p[i];
    if (f->exp == FX_ESC) {
        if (!std_escape(c)) {
            return i;
        }
        i++;
        goto string;
    }
    if (prim_byte(c)) {
        if (!prim_step(f, c)) {
            return i;
        }
        i++;
        goto resume;
    }
    if (!prim_complete(f)) {
        return i;
    }
    if (direct) {
        tok_end_last(f, base + i);
    }
    goto next;

string:
    if (f->key) {
        goto key_string;
    }
    goto value_string;

value_or_close:     /* after '[' */
    i = skip_ws(p, i, lim);
    if (i >= lim) {
        STOP(FX_VALUE_OR_CLOSE);
    }
    if (p[i] == ']') {
        goto close_array;
    }
    goto value_at;

value:              /* after ':' or an array's ',' */
    i = skip_ws(p, i, lim);
    if (i >= lim) {
        STOP(FX_VALUE);
    }
value_at:
    c = p[i];
    if (!count_value(f)) {
        return i;   /* the exact path reports the token limit */
    }
    if (c == '"') {
        if (direct) {
            tok_open(f, JSMN_STRING, base + i + 1);
        }
        i++;
        goto value_string;
    }
    if (c == '{' || c == '[') {
        if (direct) {
            tok_open(f, c == '{' ? JSMN_OBJECT : JSMN_ARRAY, base + i);
        }
        f->toksuper = (int)f->values - 1;
        if (!push(s, f, c == '{')) {
            return i;   /* the exact path reports the depth limit */
        }
        i++;
        if (c == '{') {
            goto key_or_close;
        }
        goto value_or_close;
    }
    if ((f->prim = prim_start(c, &f->kw)) == P_DEAD) {
        return i;
    }
    if (direct) {
        tok_open(f, JSMN_PRIMITIVE, base + i);
    }
    i++;
    if (f->prim == P_KW) {
        const char *w = keywords[f->kw];
        unsigned k = 1;
        while (w[k] != '\0' && i < lim) {
            if ((unsigned char)w[k] != p[i]) {
                return i;
            }
            i++;
            k++;
        }
        f->kwpos = (uint8_t)k;
        if (w[k] != '\0' || i >= lim) {
            STOP(FX_PRIM);
        }
        if (prim_byte(p[i])) {
            return i;   /* "truex": the exact path's stray or error */
        }
    } else {
        uint8_t st = f->prim;
        for (;; i++) {
            if (i >= lim) {
                f->prim = st;
                STOP(FX_PRIM);
            }
            c = p[i];
            if (c >= '0' && c <= '9' && (st == P_INT || st == P_FRAC || st == P_EXP)) {
                continue;
            }
            if (!prim_byte(c)) {
                break;
            }
            if ((st = num_next(st, c, f->rfc)) == P_DEAD) {
                return i;
            }
        }
        f->prim = st;
        if (!prim_complete(f)) {
            return i;
        }
    }
    if (direct) {
        tok_end_last(f, base + i);
    }
    goto next;

value_string:
    STRING_BODY(0);
    if (direct) {
        tok_end_last(f, base + i);
    }
    i++;
    goto next;

key_or_close:       /* after '{' */
    i = skip_ws(p, i, lim);
    if (i >= lim) {
        STOP(FX_KEY_OR_CLOSE);
    }
    if (p[i] == '}') {
        goto close_object;
    }
    goto key_at;

key:                /* after an object's ',' */
    i = skip_ws(p, i, lim);
    if (i >= lim) {
        STOP(FX_KEY);
    }
key_at:
    if (p[i] != '"' || !count_value(f)) {
        return i;
    }
    if (direct) {
        tok_open(f, JSMN_STRING, base + i + 1);
    }
    f->key_start = base + i + 1;
    i++;
key_string:
    STRING_BODY(F_KEY_STRING);
    if (direct) {   /* else qmpk__fast_retokenize() fingerprints them */
        fingerprint_key(s, f, p, base + i);
        tok_end_last(f, base + i);
    }
    i++;
    if (i < lim && p[i] == ':') {   /* "key": as QEMU and most clients write it */
        goto colon_at;
    }
colon:
    i = skip_ws(p, i, lim);
    if (i >= lim) {
        STOP(FX_COLON);
    }
    if (p[i] != ':') {
        return i;
    }
colon_at:
    f->toksuper = (int)f->values - 1;
    i++;
    if (i < lim && p[i] == ' ') {   /* ": " */
        i++;
    }
    goto value;

next:               /* after a value */
    i = skip_ws(p, i, lim);
    if (i >= lim) {
        STOP(FX_NEXT);
    }
    c = p[i];
    if (c == ',') {
        i++;
        if (i < lim && p[i] == ' ') {   /* ", " */
            i++;
        }
        if (top_is_object(s, f)) {
            if (direct) {
                f->toksuper = f->tok[f->toksuper].parent;
            }
            goto key;
        }
        goto value;
    }
    if (c == '}') {
        goto close_object;
    }
    if (c == ']') {
        goto close_array;
    }
    return i;

close_object:
    if (!top_is_object(s, f)) {
        return i;
    }
    goto close;
close_array:
    if (top_is_object(s, f)) {
        return i;
    }
close:
    f->gdepth--;
    if (direct) {
        tok_close(f, base + i);
    }
    i++;
    if (f->gdepth == 0) {
        *state = QMPK__FAST_DONE;
        return i;
    }
    goto next;

out:
    if (lim < n) {
        return i;   /* *state BAIL: the budget ran out, the exact path decides */
    }
    *state = scan_more(s, f);
    return i;
}

#undef STRING_BODY
#undef STOP

/* The two copies of the scan, each a function of its own so that neither
 * shapes the other's registers. */
static QMPK_NOINLINE size_t scan_direct(qmpk_stream_t *s, const unsigned char *p, size_t n,
                                        size_t budget, int *state)
{
    return scan(s, &s->fs, p, n, budget, state, true);
}

static QMPK_NOINLINE size_t scan_shared(qmpk_stream_t *s, const unsigned char *p, size_t n,
                                        size_t budget, int *state)
{
    return scan(s, &s->fs, p, n, budget, state, false);
}

/*
 * Scan up to n bytes of the current message.  Returns the bytes consumed;
 * *state tells whether the message completed (QMPK__FAST_DONE), must go
 * to the exact path from byte `return value` on (QMPK__FAST_BAIL), or
 * continues in the next chunk (QMPK__FAST_MORE).
 */
size_t qmpk__fast_scan(qmpk_stream_t *s, const unsigned char *p, size_t n,
                       size_t budget, int *state)
{
    s->fs.base = s->len;
    if (s->fs.direct) {
        return scan_direct(s, p, n, budget, state);
    }
    return scan_shared(s, p, n, budget, state);
}

/*
 * A message that spanned calls without its tokens (a shareable token
 * array, see scan_more()) closed in buf[0..len): scan it again, now whole
 * and within one call, for its tokens and the key fingerprints.  That
 * costs less than jsmn, and the checks after it are those of a message
 * scanned in one call.  False when the scan does not end with the
 * message's last byte, which cannot happen to a message it accepted.
 */
bool qmpk__fast_retokenize(qmpk_stream_t *s, size_t len)
{
    size_t keep = s->len, used;
    uint8_t hot = s->fhot;
    int state;

    qmpk__fast_begin(s);
    s->len = 0;     /* buf is the chunk, from its first byte */
    used = qmpk__fast_scan(s, (const unsigned char *)s->cfg.buf, len, len, &state);
    s->len = keep;
    s->fhot = hot;
    return used == len && state == QMPK__FAST_DONE;
}

/*
 * qmpk__fast_scan of one byte, for 1-byte chunks: the same automaton
 * without the loop and the runs, which cost more than the byte's work.
 * The byte is put at buf[len] first (there is room), so that the scan
 * reads a key it closes from the buffer alone.  One step per state (the
 * six between tokens, string, other), picked by s->fhot from the table
 * at the end, so that no step tests the state it is in; each takes the
 * stream and the byte, and returns the scan's state, which is all the
 * inline feed needs in most cases (QMPK__FAST_MORE).  The state stays in
 * the stream (s->fs): one byte's work is less than copying it out and
 * back.  s->fhot is set by scan_more(), or by lexer.c where the message
 * ends or goes to the exact path.
 */

/* A byte between tokens, or the one after a number or keyword. */
static HOT_INLINE int byte_between(qmpk_stream_t *s, qmpk__fscan_t *f, unsigned char c,
                                   size_t pos, enum fexp exp)
{
    if (is_ws(c)) {
        return scan_more(s, f);
    }
    if (!structural(s, f, c, pos, exp)) {
        return QMPK__FAST_BAIL;
    }
    return f->exp != FX_STR && f->gdepth == 0 ? QMPK__FAST_DONE : scan_more(s, f);
}

/* The byte at buf[len] is the message's (QMPK__FAST_MORE), or the state
 * tells the caller what is left to do (qmpk__byte_ended()). */
static HOT_INLINE int byte_done(qmpk_stream_t *s, int state)
{
    if (state == QMPK__FAST_MORE) {
        s->len++;
    }
    return state;
}

/* One step per state between tokens (s->fs.exp is `exp`), so that each
 * knows what its state allows without testing it. */
#define FEED_BETWEEN(name, exp)                                                     \
    static QMPK_NOINLINE int name(qmpk_stream_t *s, unsigned char c)                \
    {                                                                               \
        s->cfg.buf[s->len] = (char)c;                                               \
        return byte_done(s, byte_between(s, &s->fs, c, s->len, exp));              \
    }
FEED_BETWEEN(feed_value, FX_VALUE)
FEED_BETWEEN(feed_value_or_close, FX_VALUE_OR_CLOSE)
FEED_BETWEEN(feed_key, FX_KEY)
FEED_BETWEEN(feed_key_or_close, FX_KEY_OR_CLOSE)
FEED_BETWEEN(feed_colon, FX_COLON)
FEED_BETWEEN(feed_next, FX_NEXT)
#undef FEED_BETWEEN

/* c is no plain string byte: the inline shortcut took those. */
static QMPK_NOINLINE int feed_string(qmpk_stream_t *s, unsigned char c)
{
    const unsigned char *chunk = (const unsigned char *)s->cfg.buf + s->len;

    s->cfg.buf[s->len] = (char)c;
    s->fs.base = s->len;
    return byte_done(s, string_byte(s, &s->fs, chunk, 0, c) ? scan_more(s, &s->fs)
                                                            : QMPK__FAST_BAIL);
}

/* After a backslash, or in a number or keyword. */
static int byte_other(qmpk_stream_t *s, qmpk__fscan_t *f, unsigned char c, size_t pos)
{
    if (f->exp == FX_ESC) {
        if (!std_escape(c)) {
            return QMPK__FAST_BAIL;
        }
        f->exp = FX_STR;
        return scan_more(s, f);
    }
    if (prim_byte(c)) {
        return prim_step(f, c) ? scan_more(s, f) : QMPK__FAST_BAIL;
    }
    if (!prim_complete(f)) {
        return QMPK__FAST_BAIL;
    }
    if (f->direct) {
        tok_end_last(f, pos);
    }
    f->exp = FX_NEXT;
    return byte_between(s, f, c, pos, FX_NEXT);     /* c follows the primitive */
}

static QMPK_NOINLINE int feed_other(qmpk_stream_t *s, unsigned char c)
{
    s->cfg.buf[s->len] = (char)c;
    return byte_done(s, byte_other(s, &s->fs, c, s->len));
}

/* A state without a step: the general loop takes the byte. */
static int feed_general(qmpk_stream_t *s, unsigned char c)
{
    (void)s;
    (void)c;
    return QMPK__FAST_GENERAL;
}

/* The steps of 1-byte chunks, by s->fhot >> QMPK__STEP_SHIFT. */
_Static_assert(QMPK__FAST_MORE == 0, "parser.h's qmpk__byte_step() tests a step's 0");
_Static_assert(QMPK__STEP_BETWEEN == 1 && FX_VALUE == 0 && FX_VALUE_OR_CLOSE == 1
               && FX_KEY == 2 && FX_KEY_OR_CLOSE == 3 && FX_COLON == 4 && FX_NEXT == 5
               && QMPK__STEP_STRING == 7 && QMPK__STEP_OTHER == 8 && QMPK__STEP_IDLE == 9
               && QMPK__BYTE_STEPS == 16, "the order below");
#define GENERAL4 feed_general, feed_general, feed_general, feed_general
const qmpk__byte_step_t qmpk__byte_steps[QMPK__BYTE_STEPS] = {
    feed_general, feed_value, feed_value_or_close, feed_key, feed_key_or_close, feed_colon,
    feed_next, feed_string, feed_other, qmpk__feed_idle,
    feed_general, feed_general, GENERAL4,   /* unused */
};
#undef GENERAL4

/* The configuration values the scan reads, kept beside its state. */
void qmpk__fast_configure(qmpk_stream_t *s)
{
    qmpk__fscan_t *f = &s->fs;

    f->tok = s->cfg.tok;
    f->tok_count = s->cfg.tok_count;
    f->max_depth = s->cfg.max_depth;
    f->rfc = s->cfg.dialect == QMPK_DIALECT_RFC;
}

/* Start a message at its opening '{' or '['. */
void qmpk__fast_begin(qmpk_stream_t *s)
{
    qmpk__fscan_t *f = &s->fs;

    f->gdepth = 0;
    f->exp = FX_VALUE;
    f->has_escape = 0;
    f->has_high = 0;
    f->need_dup = 0;
    f->values = 0;
    f->direct = 1;
    f->toksuper = -1;
    s->fhot = hot_classes(f);
}
