/*
 * Tokenize: jsmn, run once over each complete message, fills the caller's
 * token array.  This is the only translation unit that compiles jsmn's
 * implementation; JSMN_STATIC keeps its symbols private, so a program that
 * links its own jsmn does not clash with ours.
 *
 * Also here, because it needs the tokens: duplicate keys, which QEMU
 * rejects ("duplicate key") although RFC 8259 only says names SHOULD be
 * unique (the RFC dialect accepts them).
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include <string.h>

#include "internal.h"

/* buf[len] is the stream's slack byte: a space lets jsmn's strict mode end
 * a top-level number or keyword. */
int qmpk__jsmn(char *buf, size_t len, jsmntok_t *tok, unsigned ntok, unsigned *used)
{
    jsmn_parser p;
    int r;

    buf[len] = ' ';
    jsmn_init(&p);
    r = jsmn_parse(&p, buf, len + 1, tok, ntok);
    *used = p.toknext;
    /* On an error jsmn may stop between taking a token and filling it. */
    if (r < 0 && *used > 0 && tok[*used - 1].start < 0) {
        (*used)--;
    }
    return r;
}

/*
 * Rewrite the QEMU extensions jsmn cannot read, in place and at the same
 * length: single-quoted strings get '"' delimiters, a raw '"' inside them
 * becomes QMPK_IMG_DQUOTE, and the backslash of \' becomes QMPK_IMG_ESCAPE.
 * The message is lexically valid, so outside strings there is no quote.
 */
void qmpk__image(char *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        char q = buf[i];
        if (q != '"' && q != '\'') {
            i++;
            continue;
        }
        buf[i++] = '"';
        while (i < len && buf[i] != q) {
            if (buf[i] == '\\') {
                if (buf[i + 1] == '\'') {
                    buf[i] = QMPK_IMG_ESCAPE;
                }
                i += 2;
                continue;
            }
            if (buf[i] == '"') {
                buf[i] = QMPK_IMG_DQUOTE;
            }
            i++;
        }
        if (i < len) {
            buf[i++] = '"';
        }
    }
}

/* End of a value as QEMU's parser meets it (strings end after their quote);
 * SIZE_MAX while still open. */
static size_t value_end(const jsmntok_t *t)
{
    if (t->end < 0) {
        return SIZE_MAX;
    }
    return (size_t)t->end + (t->type == JSMN_STRING ? 1u : 0u);
}

/* Stable order of complete pairs: key text, then document order. */
static int key_then_index(const char *js, const jsmntok_t *tok, int a, int b)
{
    int c = qmpk__key_cmp_text(js, tok, a, b);
    return c != 0 ? c : (a < b ? -1 : 1);
}

/* For keys as bytes any order that makes equal keys neighbours will do:
 * length first settles most pairs without looking at a byte. */
static int raw_key_then_index(const char *js, const jsmntok_t *tok, int a, int b)
{
    int la = tok[a].end - tok[a].start, lb = tok[b].end - tok[b].start, c;

    if (la != lb) {
        return la < lb ? -1 : 1;
    }
    c = memcmp(js + tok[a].start, js + tok[b].start, (size_t)la);
    return c != 0 ? c : (a < b ? -1 : 1);
}

/*
 * Earliest duplicate of one object: with the complete pairs sorted by key
 * (stable), each run of equal keys reports at its second member.
 */
static size_t object_duplicate(const char *js, jsmntok_t *tok, int n, int obj,
                               size_t *key_at, bool raw)
{
    size_t best = SIZE_MAX;
    qmpk_key_cmp_fn cmp = raw ? qmpk__key_cmp_raw : qmpk__key_cmp_text;
    int head = qmpk__sort_keys(js, tok, n, obj, raw ? raw_key_then_index : key_then_index);

    for (int k = head; k >= 0 && tok[k].size >= 0; k = tok[k].size) {
        int next = tok[k].size;
        if (next >= 0 && cmp(js, tok, k, next) == 0) {
            int second = k < next ? next : k;
            size_t at = value_end(&tok[second + 1]);
            if (at < best) {
                best = at;
                *key_at = (size_t)tok[second].start - 1;
            }
        }
    }
    qmpk__unsort_keys(tok, head);
    return best;
}

size_t qmpk__first_duplicate_in(const char *js, jsmntok_t *tok, int n, int obj,
                                size_t *key_at, bool raw)
{
    return object_duplicate(js, tok, n, obj, key_at, raw);
}

size_t qmpk__first_duplicate(const char *js, jsmntok_t *tok, int n, size_t *key_at)
{
    size_t best = SIZE_MAX;

    for (int i = 0; i < n; i++) {
        if (tok[i].type == JSMN_OBJECT && tok[i].size > 1) {
            size_t k = 0, at = object_duplicate(js, tok, n, i, &k, false);
            if (at < best) {
                best = at;
                *key_at = k;
            }
        }
    }
    return best;
}
