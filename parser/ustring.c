/*
 * Strings: escape and UTF-8 validation while a string is lexed, and
 * decoding of validated strings for the accessors and the writer.
 *
 * Validation follows QEMU's parse_string() (json-parser.c) and
 * mod_utf8_codepoint() (util/unicode.c) in the QEMU dialect:
 *   escapes  \" \' \\ \/ \b \f \n \r \t \uXXXX; others are
 *            "invalid escape sequence in string"
 *   \uXXXX   exactly four hex digits; a lead surrogate pairs only with a
 *            directly following \u trail; the text of a bad escape is up to
 *            six bytes from its backslash (twelve for a pair)
 *   UTF-8    modified UTF-8: C0 80 is U+0000, other overlong forms,
 *            surrogates, noncharacters and code points above U+10FFFF are
 *            invalid
 * The RFC dialect differs: no \', standard UTF-8 only (no C0 80, at most
 * four bytes), noncharacters allowed.  Lone surrogate escapes are rejected
 * in both: they have no UTF-8 form to hand to the caller.
 */
#include "internal.h"

enum sv_state {
    SV_PLAIN = 0,   /* must be 0: the lexer's fast path tests it */
    SV_ESC,         /* after a backslash */
    SV_HEX,         /* collecting \u digits */
    SV_LEAD,        /* after a lead surrogate escape: expecting '\' */
    SV_LEAD_BS,     /* ... expecting 'u' */
    SV_TRAIL,       /* collecting the trail escape's digits */
    SV_UTF8,        /* collecting continuation bytes */
    SV_ERROR,       /* first problem found: stop looking */
};

#define ESCAPE_TEXT 6u      /* QEMU prints (ptr - beg) bytes of a bad \u */

/* The smallest code point of a 2..6-byte sequence: below it, overlong. */
static const uint32_t min_cp[5] = { 0x80, 0x800, 0x10000, 0x200000, 0x4000000 };

static bool is_rfc(const qmpk_stream_t *s)
{
    return s->cfg.dialect == QMPK_DIALECT_RFC;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool qmpk__cp_valid_qemu(int32_t cp)
{
    if (cp < 0 || cp > 0x10FFFF) {
        return false;
    }
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
        return false;   /* noncharacter */
    }
    return !(cp >= 0xD800 && cp <= 0xDFFF);
}

static bool cp_valid(const qmpk_stream_t *s, int32_t cp)
{
    if (is_rfc(s)) {
        return cp >= 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    return qmpk__cp_valid_qemu(cp);
}

static void str_error(qmpk_stream_t *s, qmpk_errno_t e, size_t arg, size_t len,
                      bool clamp)
{
    s->serr = e;
    s->serr_arg = arg;
    s->serr_arg_len = len;
    s->serr_clamp = clamp;
    s->sv = SV_ERROR;
}

static void bad_escape_text(qmpk_stream_t *s, size_t at)
{
    str_error(s, QMPK_E_INVALID_UNICODE, at, ESCAPE_TEXT, true);
}

void qmpk__str_begin(qmpk_stream_t *s, size_t start)
{
    (void)start;
    s->sv = SV_PLAIN;
    s->serr = QMPK_E_OK;
    s->serr_arg_len = 0;
    s->serr_clamp = 0;
}

/* A complete \u escape (or pair) decoded to cp. */
static void escape_done(qmpk_stream_t *s, int32_t cp, size_t text_at, size_t text_len)
{
    if (!cp_valid(s, cp)) {
        str_error(s, QMPK_E_INVALID_UNICODE, text_at, text_len, false);
        return;
    }
    s->sv = SV_PLAIN;
}

static void hex_digit(qmpk_stream_t *s, unsigned char c)
{
    int v = hexval(c);

    if (v < 0) {
        /* QEMU's cvt4hex() fails; the text is the lead escape for a trail */
        bad_escape_text(s, s->sv == SV_TRAIL ? s->sv_lead_at : s->sv_esc);
        return;
    }
    s->sv_cp = (s->sv_cp << 4) | (uint32_t)v;
    if (++s->sv_hex < 4) {
        return;
    }
    if (s->sv == SV_TRAIL) {
        if (s->sv_cp < 0xDC00 || s->sv_cp > 0xDFFF) {
            str_error(s, QMPK_E_INVALID_UNICODE, s->sv_lead_at, ESCAPE_TEXT, false);
            return;
        }
        escape_done(s, (int32_t)(0x10000 + ((s->sv_lead & 0x3FF) << 10) + (s->sv_cp & 0x3FF)),
                    s->sv_lead_at, 2 * ESCAPE_TEXT);
        return;
    }
    if (s->sv_cp >= 0xD800 && s->sv_cp <= 0xDBFF) {
        s->sv_lead = s->sv_cp;
        s->sv_lead_at = s->sv_esc;
        s->sv = SV_LEAD;
        return;
    }
    escape_done(s, (int32_t)s->sv_cp, s->sv_esc, ESCAPE_TEXT);
}

static void escape_char(qmpk_stream_t *s, unsigned char c)
{
    switch (c) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        s->sv = SV_PLAIN;
        return;
    case '\'':
        if (!is_rfc(s)) {
            s->has_ext = 1;
            s->sv = SV_PLAIN;
            return;
        }
        break;
    case 'u':
        s->sv = SV_HEX;
        s->sv_hex = 0;
        s->sv_cp = 0;
        return;
    default:
        break;
    }
    str_error(s, QMPK_E_INVALID_ESCAPE, 0, 0, false);
}

/* Length of a UTF-8 sequence from its lead byte (QEMU counts leading 1s). */
static unsigned utf8_len(unsigned char c)
{
    unsigned n = 0;
    for (unsigned mask = 0x80; c & mask; mask >>= 1) {
        n++;
    }
    return n;
}

static void utf8_lead(qmpk_stream_t *s, unsigned char c)
{
    unsigned n;

    if ((c & 0x40) == 0) {  /* stray continuation byte */
        str_error(s, QMPK_E_INVALID_UTF8, 0, 0, false);
        return;
    }
    n = utf8_len(c);        /* 2..6: the lexer rejects 0xFE and 0xFF */
    if (is_rfc(s) && n > 4) {
        str_error(s, QMPK_E_INVALID_UTF8, 0, 0, false);
        return;
    }
    s->sv_ulen = (uint8_t)n;
    s->sv_need = (uint8_t)(n - 1);
    s->sv_cp = c & ((1u << (7 - n)) - 1);
    s->sv = SV_UTF8;
}

static void utf8_cont(qmpk_stream_t *s, unsigned char c)
{
    int32_t cp;

    if ((c & 0xC0) != 0x80) {
        str_error(s, QMPK_E_INVALID_UTF8, 0, 0, false);
        return;
    }
    s->sv_cp = (s->sv_cp << 6) | (c & 0x3F);
    if (--s->sv_need > 0) {
        return;
    }
    cp = (int32_t)s->sv_cp;
    if (!cp_valid(s, cp)
        || (s->sv_cp < min_cp[s->sv_ulen - 2]
            && (is_rfc(s) || !(cp == 0 && s->sv_ulen == 2)))) {
        str_error(s, QMPK_E_INVALID_UTF8, 0, 0, false);
        return;
    }
    s->sv = SV_PLAIN;
}

void qmpk__str_byte(qmpk_stream_t *s, unsigned char c, size_t pos)
{
    switch (s->sv) {
    case SV_PLAIN:
        if (c == '\\') {
            s->sv = SV_ESC;
            s->sv_esc = pos;
        } else if (c >= 0x80) {
            utf8_lead(s, c);
        }
        return;
    case SV_ESC:
        escape_char(s, c);
        return;
    case SV_HEX:
    case SV_TRAIL:
        hex_digit(s, c);
        return;
    case SV_LEAD:
        if (c == '\\') {
            s->sv = SV_LEAD_BS;
        } else {
            bad_escape_text(s, s->sv_lead_at);
        }
        return;
    case SV_LEAD_BS:
        if (c == 'u') {
            s->sv = SV_TRAIL;
            s->sv_hex = 0;
            s->sv_cp = 0;
        } else {
            bad_escape_text(s, s->sv_lead_at);
        }
        return;
    case SV_UTF8:
        utf8_cont(s, c);
        return;
    default:
        return;
    }
}

/* pos: buffer offset of the closing quote. */
void qmpk__str_end(qmpk_stream_t *s, size_t pos)
{
    switch (s->sv) {
    case SV_HEX:
        bad_escape_text(s, s->sv_esc);
        break;
    case SV_LEAD:
    case SV_TRAIL:
        bad_escape_text(s, s->sv_lead_at);
        break;
    case SV_UTF8:
        str_error(s, QMPK_E_INVALID_UTF8, 0, 0, false);
        break;
    default:
        break;
    }
    /* QEMU's "%.*s" reads the token up to its NUL: the closing quote is the
     * last byte a bad escape's text can show. */
    if (s->serr_clamp && s->serr_arg + s->serr_arg_len > pos + 1) {
        s->serr_arg_len = pos + 1 - s->serr_arg;
    }
    s->sv = SV_PLAIN;
}

/* ------------------------------------------------------------------ */
/* decoding                                                             */

size_t qmpk__utf8_encode(int32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int32_t qmpk__utf8_decode(const unsigned char *p, size_t n, size_t *len)
{
    unsigned c = p[0], need, i;
    uint32_t cp;

    *len = 1;
    if (c < 0x80) {
        return (int32_t)c;
    }
    if (c >= 0xFE || (c & 0x40) == 0) {
        return QMPK_CP_INVALID;
    }
    need = utf8_len((unsigned char)c);
    cp = c & ((1u << (7 - need)) - 1);
    for (i = 1; i < need; i++) {
        if (i >= n || (p[i] & 0xC0) != 0x80) {
            *len = i;   /* QEMU stops before the byte that is missing */
            return QMPK_CP_INVALID;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *len = need;
    if (!qmpk__cp_valid_qemu((int32_t)cp)) {
        return QMPK_CP_INVALID;
    }
    if (cp < min_cp[need - 2] && !(cp == 0 && need == 2)) {
        return QMPK_CP_INVALID;
    }
    return (int32_t)cp;
}

static int32_t hex4(const char *p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v = (v << 4) | hexval((unsigned char)p[i]);
    }
    return v;
}

static int32_t escape_next(const char **pp)
{
    const char *p = *pp;
    int32_t cp;

    switch (p[1]) {
    case 'b': *pp = p + 2; return '\b';
    case 'f': *pp = p + 2; return '\f';
    case 'n': *pp = p + 2; return '\n';
    case 'r': *pp = p + 2; return '\r';
    case 't': *pp = p + 2; return '\t';
    case 'u': break;
    default: *pp = p + 2; return (unsigned char)p[1];
    }
    cp = hex4(p + 2);
    *pp = p + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {   /* validated: a trail follows */
        cp = 0x10000 + ((cp & 0x3FF) << 10) + (hex4(p + 8) & 0x3FF);
        *pp = p + 12;
    }
    return cp;
}

int32_t qmpk__str_next(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp;
    size_t n;
    int32_t cp;

    switch (*p) {
    case '\\':
        return escape_next(pp);
    case QMPK_IMG_DQUOTE:
        *pp += 1;
        return '"';
    case QMPK_IMG_ESCAPE:
        *pp += 2;
        return '\'';
    default:
        break;
    }
    if (*p < 0x80) {
        *pp += 1;
        return *p;
    }
    cp = qmpk__utf8_decode(p, (size_t)(end - *pp), &n);
    if (cp == QMPK_CP_INVALID && n == 4) {
        /* RFC dialect noncharacter (valid there): decode it plainly */
        cp = (int32_t)(((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12)
                       | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu));
    } else if (cp == QMPK_CP_INVALID && n == 3) {
        cp = (int32_t)(((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu));
    }
    *pp += n;
    return cp;
}
