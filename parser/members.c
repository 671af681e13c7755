/*
 * Walking objects without memory of our own.
 *
 * jsmn lays tokens out in document order with strictly increasing starts,
 * so the token after a value's subtree is found by binary search on start
 * (qmpk__skip), never by walking the subtree.
 *
 * Ordering the members of an object (duplicate detection, QEMU's QDict
 * output order) needs a list we have no room for; the key tokens lend it:
 * in a complete pair a key's 'size' is always 1, so while sorting it holds
 * the index of the next key instead, and qmpk__unsort_keys() puts the 1s
 * back.  A bottom-up merge sort on that linked list is stable and
 * O(k log k) for k members, whatever a hostile peer sends.
 */
#include <string.h>

#include "internal.h"

static int tok_skip(const jsmntok_t *tok, int n, int t)
{
    int lo = t + 1, hi = n, end = tok[t].end;

    if (end < 0) {
        return n;   /* still open: its subtree runs to the end */
    }
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (tok[mid].start >= end) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

int qmpk__skip(const qmpk_msg_t *m, int t)
{
    return tok_skip(m->tok, m->ntok, t);
}

static bool pair_complete(const jsmntok_t *tok, int n, int k)
{
    return k + 1 < n && tok[k].type == JSMN_STRING && tok[k].size == 1
        && tok[k + 1].end >= 0;
}

/* Link the complete pairs of obj in document order; returns the head. */
static int link_keys(jsmntok_t *tok, int n, int obj)
{
    int head = -1, tail = -1, k = obj + 1;

    for (int j = 0; j < tok[obj].size && k < n; j++) {
        if (!pair_complete(tok, n, k)) {
            break;
        }
        int next = tok_skip(tok, n, k + 1);
        if (tail >= 0) {
            tok[tail].size = k;
        } else {
            head = k;
        }
        tail = k;
        k = next;
    }
    if (tail >= 0) {
        tok[tail].size = -1;
    }
    return head;
}

/* Take the next element from list *p into the merged list. */
static void merge_take(jsmntok_t *tok, int *p, int *size, int *head, int *tail)
{
    int e = *p;

    *p = tok[e].size;
    (*size)--;
    if (*tail >= 0) {
        tok[*tail].size = e;
    } else {
        *head = e;
    }
    *tail = e;
}

static int merge_pass(const char *js, jsmntok_t *tok, int head, int insize,
                      qmpk_key_cmp_fn cmp, int *nmerges)
{
    int p = head, out = -1, tail = -1;

    *nmerges = 0;
    while (p >= 0) {
        int q = p, psize = 0, qsize = insize;
        (*nmerges)++;
        for (int i = 0; i < insize && q >= 0; i++) {
            psize++;
            q = tok[q].size;
        }
        while (psize > 0 || (qsize > 0 && q >= 0)) {
            bool from_p = qsize == 0 || q < 0
                || (psize > 0 && cmp(js, tok, p, q) <= 0);
            if (from_p) {
                merge_take(tok, &p, &psize, &out, &tail);
            } else {
                merge_take(tok, &q, &qsize, &out, &tail);
            }
        }
        p = q;
    }
    tok[tail].size = -1;
    return out;
}

int qmpk__sort_keys(const char *js, jsmntok_t *tok, int ntok, int obj,
                    qmpk_key_cmp_fn cmp)
{
    int head = link_keys(tok, ntok, obj), nmerges = 0;

    if (head < 0) {
        return head;
    }
    for (int insize = 1;; insize *= 2) {
        head = merge_pass(js, tok, head, insize, cmp, &nmerges);
        if (nmerges <= 1) {
            return head;
        }
    }
}

void qmpk__unsort_keys(jsmntok_t *tok, int head)
{
    while (head >= 0) {
        int next = tok[head].size;
        tok[head].size = 1;
        head = next;
    }
}

/* One pass, not three memchr calls: keys are short.  A valid string body
 * has no raw control byte, so bytes up to QMPK_IMG_ESCAPE are image marks. */
_Static_assert(QMPK_IMG_DQUOTE < QMPK_IMG_ESCAPE, "image marks are the lowest bytes");
static bool plain_span(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\' || c <= QMPK_IMG_ESCAPE) {
            return false;
        }
    }
    return true;
}

/* The order qmpk__key_cmp_text gives keys that are plain spans. */
int qmpk__key_cmp_raw(const char *js, const jsmntok_t *tok, int a, int b)
{
    size_t la = (size_t)(tok[a].end - tok[a].start), lb = (size_t)(tok[b].end - tok[b].start);
    int c = memcmp(js + tok[a].start, js + tok[b].start, la < lb ? la : lb);

    return c != 0 ? c : (la < lb ? -1 : la > lb);
}

/* Order of two keys by code points (for valid UTF-8, byte order is code
 * point order, so keys without escapes compare with memcmp). */
int qmpk__key_cmp_text(const char *js, const jsmntok_t *tok, int a, int b)
{
    const char *pa = js + tok[a].start, *ea = js + tok[a].end;
    const char *pb = js + tok[b].start, *eb = js + tok[b].end;
    size_t la = (size_t)(ea - pa), lb = (size_t)(eb - pb);

    if (plain_span(pa, la) && plain_span(pb, lb)) {
        return qmpk__key_cmp_raw(js, tok, a, b);
    }
    while (pa < ea && pb < eb) {
        int32_t ca = qmpk__str_next(&pa, ea), cb = qmpk__str_next(&pb, eb);
        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
    return (pa < ea) - (pb < eb);
}

/* QEMU stores keys in modified UTF-8: U+0000 as C0 80, the rest as UTF-8. */
static size_t mutf8(int32_t cp, unsigned char out[4])
{
    if (cp == 0) {
        out[0] = 0xC0;
        out[1] = 0x80;
        return 2;
    }
    return qmpk__utf8_encode(cp, (char *)out);
}

/* QEMU's tdb_hash(): the length term is added last, so one pass suffices. */
static unsigned tdb_finish(uint32_t sum, size_t len)
{
    uint32_t v = sum + 0x238F13AFu * (uint32_t)len;
    return (unsigned)((1103515243u * v + 12345u) % 512u);
}

unsigned qmpk__key_bucket(const char *js, const jsmntok_t *tok, int k)
{
    const char *p = js + tok[k].start, *e = js + tok[k].end;
    uint32_t sum = 0;
    size_t i = 0;

    while (p < e) {
        unsigned char b[4];
        size_t n = mutf8(qmpk__str_next(&p, e), b);
        for (size_t j = 0; j < n; j++, i++) {
            sum += (uint32_t)b[j] << (i * 5 % 24);
        }
    }
    return tdb_finish(sum, i);
}

unsigned qmpk_qdict_bucket(const char *key, size_t n)
{
    uint32_t sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
    }
    return tdb_finish(sum, n);
}
