/*
 * The fast path, after a message closed (fast.c scans it): what the scan
 * could not settle as it went.  A message spanning calls without
 * QMPK_STREAM_OWN_TOKENS gets its tokens from jsmn; strings with escapes
 * or non-ASCII bytes go through the exact path's validator; and when the
 * key fingerprints could not rule duplicates out, the tokens are walked.
 * A message that fails any of these is replayed whole through the exact
 * path, so its error is the exact path's.
 */
#include <string.h>

#include "internal.h"

/* Escapes and UTF-8 of every string that has either, through the exact
 * validator.  A body the scan passed holds no raw '"' or control byte, so
 * one that is a plain run has neither. */
static bool strings_valid(qmpk_stream_t *s, const jsmntok_t *tok, int n)
{
    const char *js = s->cfg.buf;

    for (int t = 0; t < n; t++) {
        size_t len = (size_t)(tok[t].end - tok[t].start);
        if (tok[t].type != JSMN_STRING
            || qmpk__str_run((const unsigned char *)js + tok[t].start, len) == len) {
            continue;
        }
        qmpk__str_begin(s, (size_t)tok[t].start);
        for (int i = tok[t].start; i < tok[t].end; i++) {
            qmpk__str_byte(s, (unsigned char)js[i], (size_t)i);
        }
        qmpk__str_end(s, (size_t)tok[t].end);
        if (s->serr != QMPK_E_OK) {
            return false;
        }
    }
    return true;
}

static bool same_raw_key(const char *js, const jsmntok_t *a, const jsmntok_t *b)
{
    int la = a->end - a->start;
    return la == b->end - b->start && memcmp(js + a->start, js + b->start, (size_t)la) == 0;
}

/* Pairwise up to this many members: a length compare mostly settles a
 * pair of raw keys, while the sort costs about 1000 instructions a key.
 * Keys with escapes compare through their decoded text, so fewer. */
#define FAST_DUP_KEYS 32
#define FAST_DUP_KEYS_ESC 8
#define FAST_DUP_DEPTH 32   /* objects tracked on the open path */

/*
 * Duplicate keys.  Walking the tokens in order, the objects on the open
 * path keep their first few keys; a key is compared with its object's
 * earlier ones.  An object with more members, or deeper than the walk
 * tracks, gets the exact path's sorting check.
 */
static bool no_duplicates(qmpk_stream_t *s, jsmntok_t *tok, int n)
{
    struct open { int obj; int nkeys; int keys[FAST_DUP_KEYS]; } path[FAST_DUP_DEPTH];
    int depth = 0;
    size_t at = 0;
    bool plain = !s->fs.has_escape;
    int pairwise = plain ? FAST_DUP_KEYS : FAST_DUP_KEYS_ESC;

    for (int t = 0; t < n; t++) {
        int p, d;
        if (tok[t].type == JSMN_OBJECT) {
            while (depth > 0 && tok[path[depth - 1].obj].end <= tok[t].start) {
                depth--;    /* closed before this object began */
            }
            if (depth < FAST_DUP_DEPTH && tok[t].size <= pairwise) {
                path[depth].obj = t;
                path[depth++].nkeys = 0;
            } else if (tok[t].size > 1
                       && qmpk__first_duplicate_in(s->cfg.buf, tok, n, t, &at, plain)
                              != SIZE_MAX) {
                return false;
            }
            continue;
        }
        if (tok[t].type != JSMN_STRING || tok[p = tok[t].parent].type != JSMN_OBJECT) {
            continue;   /* not a key */
        }
        /* objects on the path opened after p and still there have closed */
        while (depth > 0 && path[depth - 1].obj > p) {
            depth--;
        }
        if (depth == 0 || path[depth - 1].obj != p) {
            continue;   /* p is checked by sorting */
        }
        d = depth - 1;
        for (int j = 0; j < path[d].nkeys; j++) {
            int k = path[d].keys[j];
            if (plain ? same_raw_key(s->cfg.buf, &tok[k], &tok[t])
                      : qmpk__key_cmp_text(s->cfg.buf, tok, k, t) == 0) {
                return false;
            }
        }
        path[d].keys[path[d].nkeys++] = t;
    }
    return true;
}

/* Only what the fingerprints could not clear gets looked at: they compare
 * raw bytes, which settles keys without escapes (the scan sets need_dup
 * for a key with one). */
static bool no_duplicates_suspected(qmpk_stream_t *s, int n)
{
    if (s->fs.need_dup) {
        return no_duplicates(s, s->cfg.tok, n);
    }
    return true;
}

/* What qmpk__fast_finish (internal.h) cannot settle from the scan's flags
 * alone. */
bool qmpk__fast_finish_checks(qmpk_stream_t *s, size_t len, int *ntok)
{
    unsigned used = s->fs.values;

    if (!s->fs.direct) {
        if (!qmpk__fast_retokenize(s, len)) {
            return false;
        }
        used = s->fs.values;
    }
    s->cfg.buf[len] = ' ';  /* as qmpk__jsmn leaves it */
    if ((s->fs.has_escape || s->fs.has_high) && !strings_valid(s, s->cfg.tok, (int)used)) {
        return false;
    }
    if (s->cfg.dialect == QMPK_DIALECT_QEMU && !no_duplicates_suspected(s, (int)used)) {
        return false;
    }
    *ntok = (int)used;
    return true;
}
