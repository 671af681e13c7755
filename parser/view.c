/*
 * Accessors over a complete message: navigation, strings, numbers, and
 * semantic equality.  Everything reads the caller's buffer and tokens.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool valid_tok(const qmpk_msg_t *m, int t)
{
    return m && t >= 0 && t < m->ntok;
}

qmpk_type_t qmpk_type(const qmpk_msg_t *m, int t)
{
    if (!valid_tok(m, t)) {
        return QMPK_T_INVALID;
    }
    switch (m->tok[t].type) {
    case JSMN_OBJECT: return QMPK_T_OBJECT;
    case JSMN_ARRAY: return QMPK_T_ARRAY;
    case JSMN_STRING: return QMPK_T_STRING;
    case JSMN_PRIMITIVE:
        switch (m->json[m->tok[t].start]) {
        case 't': return QMPK_T_TRUE;
        case 'f': return QMPK_T_FALSE;
        case 'n': return QMPK_T_NULL;
        default: return QMPK_T_NUMBER;
        }
    default:
        return QMPK_T_INVALID;
    }
}

int qmpk_count(const qmpk_msg_t *m, int t)
{
    qmpk_type_t ty = qmpk_type(m, t);
    return (ty == QMPK_T_OBJECT || ty == QMPK_T_ARRAY) ? m->tok[t].size : 0;
}

int qmpk_child(const qmpk_msg_t *m, int t)
{
    return qmpk_count(m, t) > 0 ? t + 1 : -1;
}

/* The container a token belongs to (a member value's is its key's). */
static int container_of(const qmpk_msg_t *m, int t)
{
    int p = m->tok[t].parent;
    if (p >= 0 && m->tok[p].type == JSMN_STRING) {
        p = m->tok[p].parent;
    }
    return p;
}

int qmpk_next(const qmpk_msg_t *m, int t)
{
    int c, n;

    if (!valid_tok(m, t)) {
        return -1;
    }
    c = container_of(m, t);
    if (c < 0) {
        return -1;
    }
    n = qmpk__skip(m, t);
    if (m->tok[c].type == JSMN_OBJECT && m->tok[t].parent == c) {
        n = qmpk__skip(m, t + 1);   /* t is a key: skip its value too */
    }
    if (n >= m->ntok || m->tok[n].start >= m->tok[c].end) {
        return -1;
    }
    return n;
}

int qmpk_get_n(const qmpk_msg_t *m, int obj, const char *key, size_t keylen)
{
    if (qmpk_type(m, obj) != QMPK_T_OBJECT) {
        return -1;
    }
    for (int k = qmpk_child(m, obj); k >= 0; k = qmpk_next(m, k)) {
        if (qmpk_str_eq(m, k, key, keylen)) {
            return k + 1;
        }
    }
    return -1;
}

int qmpk_get(const qmpk_msg_t *m, int obj, const char *key)
{
    return qmpk_get_n(m, obj, key, strlen(key));
}

qmpk_errno_t qmpk_str(const qmpk_msg_t *m, int t, char *out, size_t cap, size_t *len)
{
    const char *p, *e;
    size_t n = 0;

    if (qmpk_type(m, t) != QMPK_T_STRING) {
        return QMPK_E_TYPE;
    }
    p = m->json + m->tok[t].start;
    e = m->json + m->tok[t].end;
    while (p < e) {
        char b[4];
        size_t k = qmpk__utf8_encode(qmpk__str_next(&p, e), b);
        for (size_t j = 0; j < k; j++, n++) {
            if (n + 1 < cap) {
                out[n] = b[j];
            }
        }
    }
    if (len) {
        *len = n;
    }
    if (cap > 0) {
        out[n < cap ? n : cap - 1] = '\0';     /* like snprintf: always ended */
    }
    return n < cap ? QMPK_E_OK : QMPK_E_NOSPACE;
}

bool qmpk_str_eq(const qmpk_msg_t *m, int t, const char *s, size_t n)
{
    const char *p, *e;
    size_t i = 0;

    if (qmpk_type(m, t) != QMPK_T_STRING) {
        return false;
    }
    p = m->json + m->tok[t].start;
    e = m->json + m->tok[t].end;
    if ((size_t)(e - p) == n && memcmp(p, s, n) == 0 && !memchr(s, '\\', n)
        && !memchr(s, QMPK_IMG_DQUOTE, n) && !memchr(s, QMPK_IMG_ESCAPE, n)) {
        return true;
    }
    while (p < e) {
        char b[4];
        size_t k = qmpk__utf8_encode(qmpk__str_next(&p, e), b);
        if (i + k > n || memcmp(s + i, b, k) != 0) {
            return false;
        }
        i += k;
    }
    return i == n;
}

bool qmpk_str_eqz(const qmpk_msg_t *m, int t, const char *s)
{
    return qmpk_str_eq(m, t, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* numbers                                                              */

static bool is_integer_token(const char *p, size_t n)
{
    return !memchr(p, '.', n) && !memchr(p, 'e', n) && !memchr(p, 'E', n);
}

/* Digits to uint64 with overflow detection. */
static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/*
 * strtod() on a token that is not NUL-terminated.  Long tokens are
 * rewritten as d.ddd…e±N keeping 780 significant digits and a sticky
 * digit for the rest, which rounds the same: correct rounding of a double
 * never needs more than 768 significant digits.
 */
static double token_strtod(const char *p, size_t n)
{
    char tmp[1024];
    size_t o = 0, i = 0, sig = 0;
    long long exp10 = 0;
    bool sticky = false, seen = false;

    if (n < sizeof(tmp)) {
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        return strtod(tmp, NULL);
    }
    if (p[i] == '-') {
        tmp[o++] = p[i++];
    }
    tmp[o++] = '0';
    tmp[o++] = '.';
    for (; i < n && p[i] != 'e' && p[i] != 'E'; i++) {
        if (p[i] == '.') {
            seen = true;
            continue;
        }
        if (sig == 0 && p[i] == '0') {
            exp10 -= seen;
            continue;
        }
        exp10 += !seen;
        if (sig < 780) {
            tmp[o++] = p[i];
            sig++;
        } else if (p[i] != '0') {
            sticky = true;
        }
    }
    if (sticky) {
        tmp[o++] = '1';
    }
    if (i < n) {
        long long e = 0;
        int sign = 1;
        i++;
        if (p[i] == '+' || p[i] == '-') {
            sign = p[i++] == '-' ? -1 : 1;
        }
        for (; i < n; i++) {
            if (e < 100000000) {
                e = e * 10 + (p[i] - '0');
            }
        }
        exp10 += sign * e;
    }
    snprintf(tmp + o, sizeof(tmp) - o, "e%lld", exp10);
    return strtod(tmp, NULL);
}

qmpk_errno_t qmpk_number(const qmpk_msg_t *m, int t, qmpk_num_t *out)
{
    const char *p;
    size_t n;
    uint64_t u;

    if (qmpk_type(m, t) != QMPK_T_NUMBER) {
        return QMPK_E_TYPE;
    }
    p = m->json + m->tok[t].start;
    n = (size_t)(m->tok[t].end - m->tok[t].start);
    if (is_integer_token(p, n)) {
        bool neg = p[0] == '-';
        if (parse_u64(p + neg, n - neg, &u)) {
            if (!neg && u <= INT64_MAX) {
                out->kind = QMPK_NUM_I64;
                out->u.i64 = (int64_t)u;
                return QMPK_E_OK;
            }
            if (neg && u <= (uint64_t)INT64_MAX + 1) {
                out->kind = QMPK_NUM_I64;
                out->u.i64 = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
                return QMPK_E_OK;
            }
            if (!neg) {
                out->kind = QMPK_NUM_U64;
                out->u.u64 = u;
                return QMPK_E_OK;
            }
        }
    }
    out->kind = QMPK_NUM_DOUBLE;
    out->u.dbl = token_strtod(p, n);
    return QMPK_E_OK;
}

qmpk_errno_t qmpk_int64(const qmpk_msg_t *m, int t, int64_t *out)
{
    qmpk_num_t n;
    qmpk_errno_t e = qmpk_number(m, t, &n);

    if (e != QMPK_E_OK) {
        return e;
    }
    if (n.kind != QMPK_NUM_I64) {
        return QMPK_E_RANGE;
    }
    *out = n.u.i64;
    return QMPK_E_OK;
}

qmpk_errno_t qmpk_uint64(const qmpk_msg_t *m, int t, uint64_t *out)
{
    qmpk_num_t n;
    qmpk_errno_t e = qmpk_number(m, t, &n);

    if (e != QMPK_E_OK) {
        return e;
    }
    if (n.kind == QMPK_NUM_U64) {
        *out = n.u.u64;
    } else if (n.kind == QMPK_NUM_I64 && n.u.i64 >= 0) {
        *out = (uint64_t)n.u.i64;
    } else {
        return QMPK_E_RANGE;
    }
    return QMPK_E_OK;
}

qmpk_errno_t qmpk_double(const qmpk_msg_t *m, int t, double *out)
{
    qmpk_num_t n;
    qmpk_errno_t e = qmpk_number(m, t, &n);

    if (e != QMPK_E_OK) {
        return e;
    }
    *out = n.kind == QMPK_NUM_DOUBLE ? n.u.dbl
         : n.kind == QMPK_NUM_U64 ? (double)n.u.u64 : (double)n.u.i64;
    return QMPK_E_OK;
}

qmpk_errno_t qmpk_bool(const qmpk_msg_t *m, int t, bool *out)
{
    qmpk_type_t ty = qmpk_type(m, t);

    if (ty != QMPK_T_TRUE && ty != QMPK_T_FALSE) {
        return QMPK_E_TYPE;
    }
    *out = ty == QMPK_T_TRUE;
    return QMPK_E_OK;
}

/* ------------------------------------------------------------------ */
/* equality                                                             */

/* An integer and a double are equal when the double is that integer. */
static bool int_eq_double(const qmpk_num_t *i, double d)
{
    if (d != d || floor(d) != d) {
        return false;
    }
    if (i->kind == QMPK_NUM_I64) {
        return d >= -9223372036854775808.0 && d < 9223372036854775808.0
            && (int64_t)d == i->u.i64;
    }
    return d >= 0 && d < 18446744073709551616.0 && (uint64_t)d == i->u.u64;
}

static bool num_eq(const qmpk_num_t *a, const qmpk_num_t *b)
{
    if (a->kind == QMPK_NUM_DOUBLE && b->kind == QMPK_NUM_DOUBLE) {
        return a->u.dbl == b->u.dbl;
    }
    if (a->kind == QMPK_NUM_DOUBLE) {
        return int_eq_double(b, a->u.dbl);
    }
    if (b->kind == QMPK_NUM_DOUBLE) {
        return int_eq_double(a, b->u.dbl);
    }
    if (a->kind == b->kind) {
        return a->u.u64 == b->u.u64;    /* same bits, same kind */
    }
    return false;   /* an I64 is never above INT64_MAX, a U64 always is */
}

static bool str_equal(const qmpk_msg_t *a, int ta, const qmpk_msg_t *b, int tb)
{
    const char *pa = a->json + a->tok[ta].start, *ea = a->json + a->tok[ta].end;
    const char *pb = b->json + b->tok[tb].start, *eb = b->json + b->tok[tb].end;

    while (pa < ea && pb < eb) {
        if (qmpk__str_next(&pa, ea) != qmpk__str_next(&pb, eb)) {
            return false;
        }
    }
    return pa == ea && pb == eb;
}

/* The rank-th member of object t named like key k of message km, or -1. */
static int nth_named(const qmpk_msg_t *m, int t, const qmpk_msg_t *km, int k, int rank)
{
    for (int c = qmpk_child(m, t); c >= 0; c = qmpk_next(m, c)) {
        if (str_equal(m, c, km, k) && rank-- == 0) {
            return c;
        }
    }
    return -1;
}

/*
 * Member sets are equal when each member of a has an equal partner in b.
 * Names can repeat in the RFC dialect: the k-th member of a name pairs
 * with the k-th of that name, so equality stays reflexive and symmetric.
 */
static bool obj_equal(const qmpk_msg_t *a, int ta, const qmpk_msg_t *b, int tb)
{
    for (int ka = qmpk_child(a, ta); ka >= 0; ka = qmpk_next(a, ka)) {
        int rank = 0, kb;
        for (int p = qmpk_child(a, ta); p != ka; p = qmpk_next(a, p)) {
            rank += str_equal(a, p, a, ka);
        }
        kb = nth_named(b, tb, a, ka, rank);
        if (kb < 0 || !qmpk_equal(a, ka + 1, b, kb + 1)) {
            return false;
        }
    }
    return true;
}

static bool arr_equal(const qmpk_msg_t *a, int ta, const qmpk_msg_t *b, int tb)
{
    int ea = qmpk_child(a, ta), eb = qmpk_child(b, tb);

    while (ea >= 0 && eb >= 0) {
        if (!qmpk_equal(a, ea, b, eb)) {
            return false;
        }
        ea = qmpk_next(a, ea);
        eb = qmpk_next(b, eb);
    }
    return ea < 0 && eb < 0;
}

bool qmpk_equal(const qmpk_msg_t *a, int ta, const qmpk_msg_t *b, int tb)
{
    qmpk_type_t t = qmpk_type(a, ta);
    qmpk_num_t na, nb;

    if (t == QMPK_T_INVALID || t != qmpk_type(b, tb)) {
        return false;
    }
    switch (t) {
    case QMPK_T_STRING:
        return str_equal(a, ta, b, tb);
    case QMPK_T_NUMBER:
        qmpk_number(a, ta, &na);
        qmpk_number(b, tb, &nb);
        return num_eq(&na, &nb);
    case QMPK_T_OBJECT:
        return qmpk_count(a, ta) == qmpk_count(b, tb) && obj_equal(a, ta, b, tb);
    case QMPK_T_ARRAY:
        return qmpk_count(a, ta) == qmpk_count(b, tb) && arr_equal(a, ta, b, tb);
    default:
        return true;    /* true, false, null */
    }
}
