/*
 * message: each complete message of the input through the value API.
 *
 * Input: data[0] bit 0 picks the dialect, the rest is fed whole.  For
 * every message:
 *   - classification for each peer and OOB setting: token indexes in range,
 *     the id found as soon as the value is an object, OOB commands agree
 *     with qmpk_is_oob_request(), the error text formats consistently and
 *     qmpk_w_error_desc() writes it as a JSON string holding that text;
 *   - walking: child/next visit qmpk_count() members, every key finds its
 *     own value with qmpk_get_n(), strings unescape to bytes that compare
 *     equal (and valid UTF-8 in the QEMU dialect), a short buffer gives
 *     NOSPACE with the same length, number accessors agree with each other;
 *   - equality is reflexive and symmetric;
 *   - writer round trip: write -> parse (both dialects) -> equal value, and
 *     writing the re-parsed value gives the same bytes; a short writer
 *     buffer reports overflow and the same length.
 */
#include "fuzz_util.h"

#include <math.h>
#include <qmpkit/parser.h>

#define BUF (1u << 19)
#define NTOK 65536u

static char g_buf[BUF], g_rbuf[BUF], g_out[BUF], g_out2[BUF], g_str[BUF];
static jsmntok_t g_tok[NTOK], g_rtok[NTOK];

static void stream_cfg(qmpk_stream_config_t *c, qmpk_dialect_t d, char *buf,
                       jsmntok_t *tok)
{
    memset(c, 0, sizeof(*c));
    c->dialect = d;
    c->buf = buf;
    c->buf_size = BUF;
    c->tok = tok;
    c->tok_count = NTOK;
}

/* Parse text as exactly one message into *m (reparse buffers). */
static int parse_one(const char *text, size_t n, qmpk_dialect_t d, qmpk_msg_t *m,
                     qmpk_error_t *e)
{
    qmpk_stream_config_t c;
    qmpk_stream_t s;
    size_t used;
    qmpk_feed_t r;
    qmpk_msg_t extra;

    stream_cfg(&c, d, g_rbuf, g_rtok);
    FUZZ_CHECK(qmpk_stream_init(&s, &c) == QMPK_E_OK);
    r = qmpk_stream_feed(&s, text, n, &used, m, e);
    if (r == QMPK_FEED_MORE) {
        r = qmpk_stream_finish(&s, m, e);
    } else if (r == QMPK_FEED_MESSAGE) {
        /* nothing may follow the one value */
        FUZZ_CHECK(qmpk_stream_feed(&s, text + used, n - used, &used, &extra, e)
                   == QMPK_FEED_MORE);
        FUZZ_CHECK(qmpk_stream_finish(&s, &extra, e) == QMPK_FEED_MORE);
    }
    return r == QMPK_FEED_MESSAGE;
}

static int valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = p[i], need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c < 0xE0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c < 0xF0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c < 0xF5) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= need) {
            return 0;
        }
        for (unsigned k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (cp < min || (cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF) {
            return 0;
        }
        i += need + 1;
    }
    return 1;
}

static void check_string(const qmpk_msg_t *m, int t)
{
    size_t len = 0, len2 = 0;

    FUZZ_CHECK(qmpk_str(m, t, g_str, sizeof(g_str), &len) == QMPK_E_OK);
    FUZZ_CHECK(len < sizeof(g_str) && g_str[len] == '\0');
    FUZZ_CHECK(qmpk_str_eq(m, t, g_str, len));
    FUZZ_CHECK(memchr(g_str, 0, len) != NULL || qmpk_str_eqz(m, t, g_str));
    FUZZ_CHECK(m->dialect != QMPK_DIALECT_QEMU || valid_utf8((unsigned char *)g_str, len));
    if (len > 0) {
        FUZZ_CHECK(!qmpk_str_eq(m, t, g_str, len - 1));
        FUZZ_CHECK(qmpk_str(m, t, g_out2, len - 1, &len2) == QMPK_E_NOSPACE && len2 == len);
    }
}

static void check_number(const qmpk_msg_t *m, int t)
{
    qmpk_num_t n;
    int64_t i;
    uint64_t u;
    double d;

    FUZZ_CHECK(qmpk_number(m, t, &n) == QMPK_E_OK);
    FUZZ_CHECK(qmpk_double(m, t, &d) == QMPK_E_OK);
    FUZZ_CHECK((qmpk_int64(m, t, &i) == QMPK_E_OK) == (n.kind == QMPK_NUM_I64));
    FUZZ_CHECK((qmpk_uint64(m, t, &u) == QMPK_E_OK) ==
               (n.kind == QMPK_NUM_U64 || (n.kind == QMPK_NUM_I64 && n.u.i64 >= 0)));
    if (n.kind == QMPK_NUM_I64) {
        FUZZ_CHECK(i == n.u.i64 && d == (double)n.u.i64);
    } else if (n.kind == QMPK_NUM_U64) {
        FUZZ_CHECK(u == n.u.u64 && u > (uint64_t)INT64_MAX && d == (double)u);
    } else {
        FUZZ_CHECK(d == n.u.dbl || (d != d && n.u.dbl != n.u.dbl));
    }
}

/* Does any object of the message repeat a member name (RFC dialect)? */
static bool has_duplicate(const qmpk_msg_t *m)
{
    size_t len;

    for (int t = 0; t < m->ntok; t++) {
        if (qmpk_type(m, t) != QMPK_T_OBJECT) {
            continue;
        }
        for (int k = qmpk_child(m, t); k >= 0; k = qmpk_next(m, k)) {
            if (qmpk_str(m, k, g_str, sizeof(g_str), &len) == QMPK_E_OK &&
                qmpk_get_n(m, t, g_str, len) != k + 1) {
                return true;
            }
        }
    }
    return false;
}

/*
 * Open findings a campaign may set aside (QMPK_FUZZ_KNOWN=F1 in the
 * environment) so it does not stop on them again; the ctests never do.
 * F1: qmpk_equal() is not reflexive for duplicate member names.
 */
static bool known(const char *id)
{
    const char *k = getenv("QMPK_FUZZ_KNOWN");
    return k && strstr(k, id);
}

/*
 * Walk every token.  Returns 1 when the value holds an infinite double
 * (written "inf", as QEMU does: not JSON), 2 when it holds a double -0
 * (written "-0", which reads back as the integer 0: equal, not idempotent),
 * 4 when equality checks were set aside for a known finding.
 */
static int walk(const qmpk_msg_t *m)
{
    int flags = 0;
    bool skip_eq = known("F1") && has_duplicate(m);
    bool b;

    for (int t = 0; t < m->ntok; t++) {
        qmpk_type_t ty = qmpk_type(m, t);
        FUZZ_CHECK(ty != QMPK_T_INVALID);
        FUZZ_CHECK(skip_eq || qmpk_equal(m, t, m, t));
        FUZZ_CHECK((qmpk_bool(m, t, &b) == QMPK_E_OK) == (ty == QMPK_T_TRUE || ty == QMPK_T_FALSE));
        if (ty == QMPK_T_OBJECT || ty == QMPK_T_ARRAY) {
            int n = 0;
            for (int k = qmpk_child(m, t); k >= 0; k = qmpk_next(m, k), n++) {
                FUZZ_CHECK(k > t && k < m->ntok);
                if (ty == QMPK_T_OBJECT) {
                    size_t len;
                    FUZZ_CHECK(qmpk_type(m, k) == QMPK_T_STRING);
                    FUZZ_CHECK(qmpk_str(m, k, g_str, sizeof(g_str), &len) == QMPK_E_OK);
                    /* the first member of that name (the RFC dialect
                       may keep duplicates) */
                    int v = qmpk_get_n(m, t, g_str, len);
                    FUZZ_CHECK(v > t && v <= k + 1 && qmpk_str_eq(m, v - 1, g_str, len));
                }
            }
            FUZZ_CHECK(n == qmpk_count(m, t));
            FUZZ_CHECK((n == 0) == (qmpk_child(m, t) < 0));
        } else {
            FUZZ_CHECK(qmpk_count(m, t) == 0 && qmpk_child(m, t) < 0);
        }
        if (ty == QMPK_T_STRING) {
            check_string(m, t);
        } else {
            size_t dummy;
            FUZZ_CHECK(qmpk_str(m, t, g_str, sizeof(g_str), &dummy) == QMPK_E_TYPE);
        }
        if (ty == QMPK_T_NUMBER) {
            double d;
            check_number(m, t);
            qmpk_double(m, t, &d);
            flags |= isinf(d) ? 1 : 0;
            flags |= (d == 0 && signbit(d)) ? 2 : 0;
        } else {
            double dummy;
            FUZZ_CHECK(qmpk_double(m, t, &dummy) == QMPK_E_TYPE);
        }
    }
    FUZZ_CHECK(qmpk_type(m, m->ntok) == QMPK_T_INVALID && qmpk_type(m, -1) == QMPK_T_INVALID);
    for (int a = 0; !skip_eq && a < m->ntok && a < 24; a++) {
        for (int b2 = a + 1; b2 < m->ntok && b2 < 24; b2++) {
            bool ab = qmpk_equal(m, a, m, b2);
            FUZZ_CHECK(ab == qmpk_equal(m, b2, m, a));
            FUZZ_CHECK(!ab || qmpk_type(m, a) == qmpk_type(m, b2));
        }
    }
    return flags | (skip_eq ? 4 : 0);
}

static int in_range(int t, const qmpk_msg_t *m)
{
    return t >= -1 && t < m->ntok;
}

static void check_classify(const qmpk_msg_t *m)
{
    for (int peer = QMPK_PEER_ANY; peer <= QMPK_PEER_SERVER; peer++) {
        for (int oob = 0; oob < 2; oob++) {
            qmpk_envelope_t env;
            qmpk_error_t err;
            qmpk_errno_t rc = qmpk_classify(m, (qmpk_peer_t)peer, oob, &env, &err);
            int obj = qmpk_type(m, 0) == QMPK_T_OBJECT;

            FUZZ_CHECK(in_range(env.id, m) && in_range(env.name, m) &&
                       in_range(env.arguments, m) && in_range(env.ret, m) &&
                       in_range(env.error_class, m) && in_range(env.error_desc, m) &&
                       in_range(env.data, m) && in_range(env.ts_seconds, m) &&
                       in_range(env.ts_microseconds, m) && in_range(env.version, m) &&
                       in_range(env.capabilities, m));
            FUZZ_CHECK(qmpk_kind_name(env.kind) != NULL && *qmpk_kind_name(env.kind));
            FUZZ_CHECK(env.id == (obj ? qmpk_get(m, 0, "id") : -1));
            FUZZ_CHECK((rc == QMPK_E_OK) == (env.kind != QMPK_KIND_VALUE));
            if (env.kind == QMPK_KIND_OOB_COMMAND) {
                FUZZ_CHECK(oob && qmpk_is_oob_request(m));
            }
            if (peer == QMPK_PEER_CLIENT && rc == QMPK_E_OK) {
                FUZZ_CHECK(env.kind == QMPK_KIND_COMMAND || env.kind == QMPK_KIND_OOB_COMMAND);
                FUZZ_CHECK(qmpk_type(m, env.name) == QMPK_T_STRING);
            }
            if (peer == QMPK_PEER_SERVER && rc == QMPK_E_OK) {
                FUZZ_CHECK(env.kind != QMPK_KIND_COMMAND && env.kind != QMPK_KIND_OOB_COMMAND);
            }
            if (rc != QMPK_E_OK) {
                qmpk_writer_t w;
                qmpk_msg_t d;
                qmpk_error_t e2;
                size_t n = qmpk_error_format(&err, g_out2, sizeof(g_out2)), len;
                FUZZ_CHECK(err.code == rc && n < sizeof(g_out2));
                qmpk_w_init(&w, g_out, sizeof(g_out));
                qmpk_w_error_desc(&w, &err);
                FUZZ_CHECK(!w.overflow && parse_one(g_out, w.len, QMPK_DIALECT_RFC, &d, &e2));
                FUZZ_CHECK(qmpk_str(&d, 0, g_str, sizeof(g_str), &len) == QMPK_E_OK);
                FUZZ_CHECK(memchr(g_out2, 0, n) || (len == n && memcmp(g_str, g_out2, n) == 0));
            }
        }
    }
    FUZZ_CHECK(qmpk_is_oob_request(m) ==
               (qmpk_type(m, 0) == QMPK_T_OBJECT && qmpk_get(m, 0, "exec-oob") >= 0 &&
                qmpk_get(m, 0, "execute") < 0));
}

static void check_roundtrip(const qmpk_msg_t *m, qmpk_order_t order, int negzero)
{
    qmpk_writer_t w, w2;
    qmpk_msg_t r;
    qmpk_error_t e;

    qmpk_w_init(&w, g_out, sizeof(g_out));
    qmpk_w_value(&w, m, 0, order);
    FUZZ_CHECK(!w.overflow && w.len < sizeof(g_out));
    qmpk_w_init(&w2, g_out2, w.len / 2);
    qmpk_w_value(&w2, m, 0, order);
    FUZZ_CHECK(w2.len == w.len && (w.len < 2 || w2.overflow));
    for (int d = QMPK_DIALECT_QEMU; d <= QMPK_DIALECT_RFC; d++) {
        int ok = parse_one(g_out, w.len, (qmpk_dialect_t)d, &r, &e);
        if (!ok && d == QMPK_DIALECT_QEMU && m->dialect == QMPK_DIALECT_RFC) {
            /* documented: the RFC dialect accepts code points and
               duplicate names that QEMU refuses */
            if (e.code != QMPK_E_INVALID_UNICODE && e.code != QMPK_E_DUPLICATE_KEY) {
                fprintf(stderr, "QEMU dialect refuses the rewritten RFC message: %s\n",
                        qmpk_errname(e.code));
            }
            FUZZ_CHECK(e.code == QMPK_E_INVALID_UNICODE || e.code == QMPK_E_DUPLICATE_KEY);
            continue;
        }
        if (!ok) {
            fprintf(stderr, "rewritten: %.*s\n", (int)w.len, g_out);
        }
        FUZZ_CHECK(ok);
        FUZZ_CHECK(qmpk_equal(m, 0, &r, 0) && qmpk_equal(&r, 0, m, 0));
        qmpk_w_init(&w2, g_out2, sizeof(g_out2));
        qmpk_w_value(&w2, &r, 0, order);
        if (order == QMPK_ORDER_QEMU || negzero) {
            /* QEMU order is newest first inside a hash bucket, and -0 reads
               back as 0: not idempotent, only the length may shrink */
            FUZZ_CHECK(w2.len == w.len || (negzero && w2.len < w.len));
            continue;
        }
        if (w2.len != w.len || memcmp(g_out, g_out2, w.len) != 0) {
            size_t i = 0;
            while (i < w.len && i < w2.len && g_out[i] == g_out2[i]) {
                i++;
            }
            fprintf(stderr, "rewrite differs at %zu: '%.40s' vs '%.40s'\n", i,
                    g_out + (i > 20 ? i - 20 : 0), g_out2 + (i > 20 ? i - 20 : 0));
        }
        FUZZ_CHECK(w2.len == w.len && memcmp(g_out, g_out2, w.len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qmpk_stream_config_t c;
    qmpk_stream_t s;
    qmpk_msg_t m;
    qmpk_error_t e;
    size_t off = 1, used;
    qmpk_feed_t r = QMPK_FEED_MORE;

    if (size < 1 || size > BUF / 2) {
        return 0;
    }
    stream_cfg(&c, (qmpk_dialect_t)(data[0] & 1), g_buf, g_tok);
    FUZZ_CHECK(qmpk_stream_init(&s, &c) == QMPK_E_OK);
    for (int done = 0; !done;) {
        if (off < size) {
            r = qmpk_stream_feed(&s, (const char *)data + off, size - off, &used, &m, &e);
            off += used;
        } else {
            r = qmpk_stream_finish(&s, &m, &e);
            done = 1;
        }
        if (r != QMPK_FEED_MESSAGE) {
            continue;
        }
        int flags = walk(&m);
        check_classify(&m);
        if (!(flags & 1) && !(flags & 4)) {
            check_roundtrip(&m, QMPK_ORDER_SOURCE, flags & 2);
            check_roundtrip(&m, QMPK_ORDER_QEMU, flags & 2);
        }
    }
    return 0;
}
