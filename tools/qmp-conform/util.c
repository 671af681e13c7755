/* qmp-conform: buffers, escaping, clocks, files. */
#include "conform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void oom(void)
{
    fputs("qmp-conform: out of memory\n", stderr);
    exit(2);
}

void *cf_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *cf_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        oom();
    return p;
}

void *cf_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *cf_xstrdup(const char *s)
{
    return cf_xstrndup(s, strlen(s));
}

char *cf_xstrndup(const char *s, size_t n)
{
    char *p = cf_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void cf_buf_add(cf_buf_t *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = cf_xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cf_buf_adds(cf_buf_t *b, const char *s)
{
    cf_buf_add(b, s, strlen(s));
}

void cf_buf_addc(cf_buf_t *b, char c)
{
    cf_buf_add(b, &c, 1);
}

void cf_buf_addf(cf_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        cf_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = cf_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cf_buf_add(b, big, (size_t)n);
    free(big);
}

void cf_buf_json_escape(cf_buf_t *b, const char *s, size_t n, bool canon)
{
    const char *hex = canon ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            cf_buf_addc(b, '\\');
            cf_buf_addc(b, (char)c);
        } else if (c == '\n') {
            cf_buf_adds(b, "\\n");
        } else if (c == '\r') {
            cf_buf_adds(b, "\\r");
        } else if (c == '\t') {
            cf_buf_adds(b, "\\t");
        } else if (c < 0x20 || c == 0x7f || (c > 0x7f && !canon)) {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            cf_buf_add(b, u, 6);
        } else {
            cf_buf_addc(b, (char)c);
        }
    }
}

void cf_buf_json_str(cf_buf_t *b, const char *s, size_t n)
{
    cf_buf_addc(b, '"');
    cf_buf_json_escape(b, s, n, false);
    cf_buf_addc(b, '"');
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0xc2 || c > 0xf4 || n < len)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

void cf_buf_json_text(cf_buf_t *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, start = 0;
    cf_buf_addc(b, '"');
    while (i < n) {
        size_t k = u[i] >= 0x80 ? utf8_len(u + i, n - i) : 0;
        if (k == 0) {
            i++;
            continue;
        }
        /* the ASCII and stray bytes before it keep their escapes */
        cf_buf_json_escape(b, s + start, i - start, false);
        cf_buf_add(b, s + i, k);
        i += k;
        start = i;
    }
    cf_buf_json_escape(b, s + start, n - start, false);
    cf_buf_addc(b, '"');
}

void cf_buf_visible(cf_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            cf_buf_adds(b, "\\n");
        else if (c == '\r')
            cf_buf_adds(b, "\\r");
        else if (c == '\t')
            cf_buf_adds(b, "\\t");
        else if (c < 0x20 || c >= 0x7f) {
            char x[5] = {'\\', 'x', hex[c >> 4], hex[c & 15], 0};
            cf_buf_add(b, x, 4);
        } else
            cf_buf_addc(b, (char)c);
    }
}

static void markup(cf_buf_t *b, const char *s, size_t n, bool xml)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '<': cf_buf_adds(b, "&lt;"); break;
        case '>': cf_buf_adds(b, "&gt;"); break;
        case '&': cf_buf_adds(b, "&amp;"); break;
        case '"': cf_buf_adds(b, "&quot;"); break;
        case '\'': cf_buf_adds(b, "&#39;"); break;
        default:
            if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f) {
                /* XML 1.0 forbids most control characters even escaped */
                if (xml || c < 0x20 || c == 0x7f)
                    cf_buf_addf(b, "\\x%02X", c);
                else
                    cf_buf_addf(b, "&#%u;", c);
            } else {
                cf_buf_addc(b, (char)c);
            }
        }
    }
}

void cf_buf_html(cf_buf_t *b, const char *s, size_t n)
{
    markup(b, s, n, false);
}

void cf_buf_xml(cf_buf_t *b, const char *s, size_t n)
{
    markup(b, s, n, true);
}

void cf_buf_free(cf_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *cf_buf_take(cf_buf_t *b)
{
    if (!b->p)
        return cf_xstrdup("");
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

int64_t cf_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cf_now_ms(void)
{
    return cf_now_us() / 1000;
}

bool cf_write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "qmp-conform: %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(data, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "qmp-conform: %s: write failed\n", path);
    return ok;
}

char *cf_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    cf_buf_t b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cf_buf_add(&b, chunk, n);
    fclose(f);
    if (len)
        *len = b.len;
    return cf_buf_take(&b);
}

int cf_mkdir_p(const char *path)
{
    char *p = cf_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *s = '/';
        }
    }
    int rc = (mkdir(p, 0755) != 0 && errno != EEXIST) ? -1 : 0;
    free(p);
    return rc;
}

uint64_t cf_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t cf_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}
