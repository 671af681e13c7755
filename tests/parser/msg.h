/* Parse one message for accessor tests (the test owns the storage). */
#ifndef QMPK_TEST_MSG_H
#define QMPK_TEST_MSG_H
#include <string.h>

#include "qmpkit/parser.h"

typedef struct one {
    qmpk_stream_t s;
    char buf[8192];
    jsmntok_t tok[1024];
    qmpk_msg_t m;
    qmpk_error_t e;
    bool ok;
} one_t;

static inline bool one_parse(one_t *o, qmpk_dialect_t d, const char *json)
{
    qmpk_stream_config_t c = { .dialect = d, .buf = o->buf, .buf_size = sizeof(o->buf),
                               .tok = o->tok, .tok_count = 1024 };
    size_t used = 0, len = strlen(json);

    qmpk_stream_init(&o->s, &c);
    o->ok = qmpk_stream_feed(&o->s, json, len, &used, &o->m, &o->e) == QMPK_FEED_MESSAGE
         || (used == len && qmpk_stream_finish(&o->s, &o->m, &o->e) == QMPK_FEED_MESSAGE);
    return o->ok;
}
#endif
