/*
 * Argument visitor: QEMU's qobject-input-visitor, reduced to what the
 * engine's commands need, with its exact texts:
 *   "Parameter '%s' is missing"                      required member absent
 *   "Invalid parameter type for '%s', expected: %s"  wrong JSON type
 *   "Parameter '%s' does not accept value '%s'"      enum (bare name, 'null'
 *                                                    for list elements)
 *   "Parameter '%s' is unexpected"                   first extra member in
 *                                                    QDict (bucket) order
 * Members are visited in schema order and the first problem wins, as the
 * generated visit_type_*_members() functions return on the first error.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Truncation is harmless here (names are bounded by the caller's limits);
 * the checked return keeps -Wformat-truncation quiet. */
#define FMT(buf, cap, ...) \
    do { if (snprintf((buf), (cap), __VA_ARGS__) < 0) (buf)[0] = '\0'; } while (0)

int eng_enum_index(const qmpk_msg_t *m, int t, const char *const *values)
{
    for (int i = 0; values[i]; i++) {
        if (qmpk_str_eqz(m, t, values[i]))
            return i;
    }
    return -1;
}

static bool type_error(const char *path, const char *expected, char *err, size_t cap)
{
    FMT(err, cap, "Invalid parameter type for '%s', expected: %s", path, expected);
    return false;
}

/* An enum value: a string first ("string" type error), then a known one. */
static bool check_enum(const qmpk_msg_t *m, int t, const char *path, const char *bare,
                       const char *const *values, char *err, size_t cap)
{
    char val[ENG_ERR_MAX / 2];
    size_t n;

    if (qmpk_type(m, t) != QMPK_T_STRING)
        return type_error(path, "string", err, cap);
    if (eng_enum_index(m, t, values) >= 0)
        return true;
    qmpk_str(m, t, val, sizeof val, &n);
    FMT(err, cap, "Parameter '%s' does not accept value '%s'", bare, val);
    return false;
}

static bool check_number(const qmpk_msg_t *m, int t, const arg_def_t *d, const char *path,
                         char *err, size_t cap)
{
    int64_t i;
    uint64_t u;

    if (qmpk_type(m, t) != QMPK_T_NUMBER)
        return type_error(path, "integer", err, cap);
    if (d->type == AT_INT) {
        if (qmpk_int64(m, t, &i) != QMPK_E_OK)
            return type_error(path, "integer", err, cap);
        return true;
    }
    /* uint64 and size accept negative int64 too (QEMU keeps that for
     * backward compatibility) */
    if (qmpk_uint64(m, t, &u) == QMPK_E_OK || qmpk_int64(m, t, &i) == QMPK_E_OK)
        return true;
    FMT(err, cap, "Parameter '%s' expects %s", path, d->type == AT_SIZE ? "size" : "uint64");
    return false;
}

static bool check_members(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                          int nschemas, const char *prefix, char *err, size_t cap);

static bool check_list(const qmpk_msg_t *m, int t, const arg_def_t *d, const char *path,
                       char *err, size_t cap)
{
    char sub[ENG_ID_MAX * 2];
    int i = 0;

    if (qmpk_type(m, t) != QMPK_T_ARRAY)
        return type_error(path, "array", err, cap);
    for (int c = qmpk_child(m, t); c >= 0; c = qmpk_next(m, c), i++) {
        FMT(sub, sizeof sub, "%s[%d]", path, i);
        if (d->type == AT_ENUM_LIST) {
            if (!check_enum(m, c, sub, "null", d->values, err, cap))
                return false;
            continue;
        }
        if (qmpk_type(m, c) != QMPK_T_OBJECT)
            return type_error(sub, "object", err, cap);
        const arg_def_t *one[1] = { d->members };
        if (!check_members(m, c, one, 1, sub, err, cap))
            return false;
    }
    return true;
}

static bool check_value(const qmpk_msg_t *m, int t, const arg_def_t *d, const char *path,
                        char *err, size_t cap)
{
    switch (d->type) {
    case AT_STR:
        return qmpk_type(m, t) == QMPK_T_STRING || type_error(path, "string", err, cap);
    case AT_INT:
    case AT_UINT:
    case AT_SIZE:
        return check_number(m, t, d, path, err, cap);
    case AT_BOOL: {
        qmpk_type_t ty = qmpk_type(m, t);
        return ty == QMPK_T_TRUE || ty == QMPK_T_FALSE || type_error(path, "boolean", err, cap);
    }
    case AT_ENUM:
        return check_enum(m, t, path, d->name, d->values, err, cap);
    case AT_ANY:
        return true;
    case AT_ENUM_LIST:
    case AT_OBJ_LIST:
        return check_list(m, t, d, path, err, cap);
    case AT_OBJ: {
        if (qmpk_type(m, t) != QMPK_T_OBJECT)
            return type_error(path, "object", err, cap);
        const arg_def_t *one[1] = { d->members };
        return check_members(m, t, one, 1, path, err, cap);
    }
    }
    return false;
}

static bool known_member(const arg_def_t *const *schemas, int nschemas, const qmpk_msg_t *m,
                         int key)
{
    for (int s = 0; s < nschemas; s++) {
        for (const arg_def_t *d = schemas[s]; d->name; d++) {
            if (qmpk_str_eqz(m, key, d->name))
                return true;
        }
    }
    return false;
}

/* The first unexpected key in QEMU's output order: lowest bucket, and the
 * newest (last in the message) within a bucket. */
static int first_unexpected(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                            int nschemas)
{
    int best = -1;
    unsigned best_bucket = 0;
    char key[ENG_ID_MAX * 2];
    size_t n;

    for (int k = qmpk_child(m, obj); k >= 0; k = qmpk_next(m, k)) {
        if (known_member(schemas, nschemas, m, k))
            continue;
        qmpk_str(m, k, key, sizeof key, &n);
        unsigned b = qmpk_qdict_bucket(key, n < sizeof key ? n : sizeof key - 1);
        if (best < 0 || b <= best_bucket) {
            best = k;
            best_bucket = b;
        }
    }
    return best;
}

static bool check_members(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                          int nschemas, const char *prefix, char *err, size_t cap)
{
    char path[ENG_ID_MAX * 2];

    for (int s = 0; s < nschemas; s++) {
        for (const arg_def_t *d = schemas[s]; d->name; d++) {
            int t = obj >= 0 ? qmpk_get(m, obj, d->name) : -1;
            FMT(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", d->name);
            if (t < 0) {
                if (d->required) {
                    FMT(err, cap, "Parameter '%s' is missing", path);
                    return false;
                }
                continue;
            }
            if (!check_value(m, t, d, path, err, cap))
                return false;
        }
    }
    int extra = obj >= 0 ? first_unexpected(m, obj, schemas, nschemas) : -1;
    if (extra >= 0) {
        char key[ENG_ID_MAX];
        size_t n;
        qmpk_str(m, extra, key, sizeof key, &n);
        FMT(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        FMT(err, cap, "Parameter '%s' is unexpected", path);
        return false;
    }
    return true;
}

bool eng_args_visit(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                    int nschemas, arg_vals_t *out, char *err, size_t errcap)
{
    return eng_args_visit_at(m, obj, schemas, nschemas, "", out, err, errcap);
}

bool eng_args_visit_at(const qmpk_msg_t *m, int obj, const arg_def_t *const *schemas,
                       int nschemas, const char *prefix, arg_vals_t *out, char *err,
                       size_t errcap)
{
    int i = 0;

    if (obj >= 0 && *prefix && qmpk_type(m, obj) != QMPK_T_OBJECT)
        return type_error(prefix, "object", err, errcap);
    if (!check_members(m, obj, schemas, nschemas, prefix, err, errcap))
        return false;
    for (int s = 0; s < nschemas; s++) {
        for (const arg_def_t *d = schemas[s]; d->name && i < ARGS_MAX; d++)
            out->tok[i++] = obj >= 0 ? qmpk_get(m, obj, d->name) : -1;
    }
    for (; i < ARGS_MAX; i++)
        out->tok[i] = -1;
    return true;
}

bool eng_args(eng_req_t *r, const arg_def_t *schema, arg_vals_t *out)
{
    char err[ENG_ERR_MAX];
    const arg_def_t *one[1] = { schema };

    if (eng_args_visit(r->msg, r->args, one, 1, out, err, sizeof err))
        return true;
    eng_reply_error(r, "GenericError", err);
    return false;
}

bool eng_arg_str(const eng_req_t *r, int t, char *out, size_t cap)
{
    size_t n;

    if (t < 0) {
        out[0] = '\0';
        return false;
    }
    if (qmpk_str(r->msg, t, out, cap, &n) != QMPK_E_OK) {
        out[cap - 1] = '\0';   /* truncated: names are bounded anyway */
    }
    return true;
}

int64_t eng_arg_int(const eng_req_t *r, int t, int64_t dflt)
{
    int64_t v;
    uint64_t u;

    if (t < 0)
        return dflt;
    if (qmpk_int64(r->msg, t, &v) == QMPK_E_OK)
        return v;
    if (qmpk_uint64(r->msg, t, &u) == QMPK_E_OK)
        return (int64_t)u;
    return dflt;
}

bool eng_arg_bool(const eng_req_t *r, int t, bool dflt)
{
    bool v;

    if (t < 0 || qmpk_bool(r->msg, t, &v) != QMPK_E_OK)
        return dflt;
    return v;
}

/* QEMU util/id.c id_wellformed(): a letter, then letters, digits, '-', '.', '_' */
bool eng_id_wellformed(const char *id)
{
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
        return false;
    for (const char *p = id + 1; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

bool eng_arg_ms(eng_req_t *r, int64_t ms, uint64_t max_ms)
{
    if (ms < 0) {
        eng_reply_error(r, "GenericError", "Parameter 'ms' expects a non-negative value");
        return false;
    }
    if ((uint64_t)ms > max_ms) {
        eng_reply_errorf(r, "GenericError", "Parameter 'ms' is too large (engine limit %llu)",
                         (unsigned long long)max_ms);
        return false;
    }
    return true;
}
