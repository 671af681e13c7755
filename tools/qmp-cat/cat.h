/* qmp-cat internals. */
#ifndef QMPK_CAT_H
#define QMPK_CAT_H

#include <stdbool.h>

#include "qt_common.h"

typedef struct cat_opts {
    bool indent, json, color, times;
} cat_opts_t;

/* One message, ready to print. */
typedef struct cat_item {
    double t;              /* <0 when unknown (raw streams) */
    const char *label;     /* monitor label, "" when unknown */
    qt_dir_t dir;
    const char *kind;      /* command, return, error, event, greeting, … */
    long pair;             /* command ordinal on this monitor, -1 */
    double latency;        /* reply time minus command time, <0 unknown */
    const qmpk_msg_t *msg; /* NULL for problems and notes */
    const char *raw;       /* the message bytes as received */
    size_t rawlen;
    const char *text;      /* problem or note text */
} cat_item_t;

void cat_print(const cat_opts_t *o, const cat_item_t *it);

#endif
