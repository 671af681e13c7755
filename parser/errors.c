/* Error names and texts, generated from the one list in parser.h. */
#include <assert.h>
#include <string.h>

#include "internal.h"

typedef struct errinfo {
    int num;
    const char *name;
    const char *desc;
} errinfo_t;

static const errinfo_t errors[] = {
#define QMPK_XX_INFO(num, name, desc) { num, "QMPK_E_" #name, desc },
    QMPK_ERRNO_MAP(QMPK_XX_INFO)
#undef QMPK_XX_INFO
};

/* Each code's row in errors[], so that a lookup is a switch (a jump table)
 * rather than a scan: fuzz harnesses name and format every error. */
enum errrow {
#define QMPK_XX_ROW(num, name, desc) ROW_##name,
    QMPK_ERRNO_MAP(QMPK_XX_ROW)
#undef QMPK_XX_ROW
};

static const errinfo_t *lookup(qmpk_errno_t e)
{
    switch ((int)e) {
#define QMPK_XX_CASE(num, name, desc) case num: return &errors[ROW_##name];
    QMPK_ERRNO_MAP(QMPK_XX_CASE)
#undef QMPK_XX_CASE
    default:
        return NULL;
    }
}

const char *qmpk_errname(qmpk_errno_t e)
{
    const errinfo_t *i = lookup(e);
    return i ? i->name : "QMPK_E_UNKNOWN";
}

const char *qmpk_strerror(qmpk_errno_t e)
{
    const errinfo_t *i = lookup(e);
    return i ? i->desc : "unknown error";
}

unsigned long qmpk_version(void)
{
    return QMPK_VERSION_MAJOR * 0x10000ul + QMPK_VERSION_MINOR * 0x100ul
         + QMPK_VERSION_PATCH;
}

/* Bytes of the argument as QEMU's "%s" shows them. */
static size_t raw_arg_len(const qmpk_error_t *err)
{
    const char *nul = memchr(err->arg, '\0', err->arg_len);
    return nul ? (size_t)(nul - err->arg) : err->arg_len;
}

/* Append what fits; *n counts every byte, as snprintf's result does. */
static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n < cap) {
        size_t room = cap - *n;
        memcpy(out + *n, s, len < room ? len : room);
    }
    *n += len;
}

static void put_json_arg(char *out, size_t cap, size_t *n, const char *p, size_t len)
{
    const char *e = p + len;

    while (p < e) {
        char b[4];
        size_t k = qmpk__utf8_encode(qmpk__str_next(&p, e), b);
        put(out, cap, n, b, k);
    }
}

size_t qmpk_error_format(const qmpk_error_t *err, char *out, size_t cap)
{
    const char *t = qmpk_strerror(err->code), *pct = strstr(t, "%s");
    size_t n = 0;

    if (!pct) {
        put(out, cap, &n, t, strlen(t));
    } else {
        put(out, cap, &n, t, (size_t)(pct - t));
        if (err->arg && err->arg_is_json) {
            put_json_arg(out, cap, &n, err->arg, err->arg_len);
        } else if (err->arg) {
            put(out, cap, &n, err->arg, raw_arg_len(err));
        }
        put(out, cap, &n, pct + 2, strlen(pct + 2));
    }
    if (cap > 0) {
        out[n < cap ? n : cap - 1] = '\0';
    }
    return n;
}
