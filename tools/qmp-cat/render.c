/* qmp-cat output: human lines (optionally indented, coloured) or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cat.h"

#define C_RESET "\033[0m"
#define C_DIM "\033[2m"

static const char *kind_color(const char *kind)
{
    if (strcmp(kind, "command") == 0 || strcmp(kind, "oob-command") == 0)
        return "\033[36m";
    if (strcmp(kind, "return") == 0)
        return "\033[32m";
    if (strcmp(kind, "error") == 0 || strcmp(kind, "parse-error") == 0 ||
        strcmp(kind, "invalid") == 0)
        return "\033[31m";
    if (strcmp(kind, "event") == 0)
        return "\033[33m";
    return "\033[35m";
}

static void scalar(qt_buf_t *b, const qmpk_msg_t *m, int t)
{
    char small[512];
    qmpk_writer_t *w = malloc(sizeof(*w));
    if (!w)
        return;
    qmpk_w_init(w, small, sizeof(small));
    qmpk_w_value(w, m, t, QMPK_ORDER_SOURCE);
    if (!w->overflow) {
        qt_buf_append(b, small, w->len);
    } else {
        char *big = malloc(w->len + 1);
        size_t need = w->len + 1;
        if (big) {
            qmpk_w_init(w, big, need);
            qmpk_w_value(w, m, t, QMPK_ORDER_SOURCE);
            qt_buf_append(b, big, w->len);
            free(big);
        }
    }
    free(w);
}

static void newline(qt_buf_t *b, int depth)
{
    qt_buf_append(b, "\n", 1);
    for (int i = 0; i < depth; i++)
        qt_buf_append(b, "    ", 4);
}

/* Indented form, 4 spaces a level as QEMU's pretty=on monitor, except that
 * empty containers stay {} and []. */
static void indent_value(qt_buf_t *b, const qmpk_msg_t *m, int t, int depth)
{
    qmpk_type_t ty = qmpk_type(m, t);
    if ((ty != QMPK_T_OBJECT && ty != QMPK_T_ARRAY) || qmpk_count(m, t) == 0) {
        scalar(b, m, t);
        return;
    }
    bool obj = ty == QMPK_T_OBJECT;
    qt_buf_append(b, obj ? "{" : "[", 1);
    for (int c = qmpk_child(m, t); c >= 0; c = qmpk_next(m, c)) {
        if (c != qmpk_child(m, t))
            qt_buf_append(b, ",", 1);
        newline(b, depth + 1);
        if (obj) {
            scalar(b, m, c);
            qt_buf_append(b, ": ", 2);
            indent_value(b, m, c + 1, depth + 1);
        } else {
            indent_value(b, m, c, depth + 1);
        }
    }
    newline(b, depth);
    qt_buf_append(b, obj ? "}" : "]", 1);
}

/* Raw bytes for a terminal: controls and non-ASCII made visible. */
static void visible(qt_buf_t *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];
        if (c == '\r' && i + 1 == n - 1 && p[i + 1] == '\n')
            break;
        if (c >= 0x20 && c < 0x7f) {
            qt_buf_append(b, p + i, 1);
        } else if (c == '\n' && i + 1 == n) {
            break;
        } else {
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            qt_buf_puts(b, esc);
        }
    }
}

static void print_json(const cat_item_t *it)
{
    qt_buf_t b = {0};
    char head[64];
    qt_buf_puts(&b, "{");
    if (it->t >= 0) {
        snprintf(head, sizeof(head), "\"t\": %.6f, ", it->t);
        qt_buf_puts(&b, head);
    }
    qt_buf_puts(&b, "\"mon\": ");
    qt_json_latin1(&b, it->label, strlen(it->label));
    qt_buf_puts(&b, ", \"dir\": \"");
    qt_buf_puts(&b, qt_dir_name(it->dir));
    qt_buf_puts(&b, "\", \"kind\": \"");
    qt_buf_puts(&b, it->kind);
    qt_buf_puts(&b, "\"");
    if (it->pair >= 0) {
        snprintf(head, sizeof(head), ", \"pair\": %ld", it->pair);
        qt_buf_puts(&b, head);
    }
    if (it->latency >= 0) {
        snprintf(head, sizeof(head), ", \"latency\": %.6f", it->latency);
        qt_buf_puts(&b, head);
    }
    if (it->msg) {
        qt_buf_puts(&b, ", \"msg\": ");
        scalar(&b, it->msg, 0);
    }
    if (it->raw) {
        qt_buf_puts(&b, ", \"raw\": ");
        qt_json_latin1(&b, it->raw, it->rawlen);
    }
    if (it->text) {
        qt_buf_puts(&b, ", \"text\": ");
        qt_json_latin1(&b, it->text, strlen(it->text));
    }
    qt_buf_puts(&b, "}\n");
    fwrite(qt_buf_head(&b), 1, qt_buf_size(&b), stdout);
    qt_buf_free(&b);
}

static const char *arrow(qt_dir_t d)
{
    switch (d) {
    case QT_DIR_IN: return "->";
    case QT_DIR_OUT: return "<-";
    case QT_DIR_CONNECT: return "++";
    case QT_DIR_CLOSE: return "--";
    default: return "  ";
    }
}

static void tag(qt_buf_t *b, const cat_item_t *it)
{
    char t[64];
    if (strcmp(it->kind, "event") == 0)
        snprintf(t, sizeof(t), "*event*");
    else if (it->pair >= 0 && it->dir == QT_DIR_IN)
        snprintf(t, sizeof(t), "#%ld", it->pair);
    else if (it->pair >= 0)
        snprintf(t, sizeof(t), "=#%ld", it->pair);
    else
        snprintf(t, sizeof(t), "%s", it->kind);
    qt_buf_puts(b, t);
}

void cat_print(const cat_opts_t *o, const cat_item_t *it)
{
    if (o->json) {
        print_json(it);
        return;
    }
    qt_buf_t b = {0};
    char head[64];
    if (o->times && it->t >= 0) {
        snprintf(head, sizeof(head), "%11.6f ", it->t);
        qt_buf_puts(&b, head);
    }
    if (it->label[0]) {
        qt_buf_puts(&b, it->label);
        qt_buf_puts(&b, " ");
    }
    qt_buf_puts(&b, arrow(it->dir));
    qt_buf_puts(&b, " ");
    if (o->color)
        qt_buf_puts(&b, it->msg ? kind_color(it->kind) : C_DIM);
    tag(&b, it);
    qt_buf_puts(&b, " ");
    if (it->msg && o->indent)
        indent_value(&b, it->msg, 0, 0);
    else if (it->raw)
        visible(&b, it->raw, it->rawlen);
    if (it->text)
        visible(&b, it->text, strlen(it->text));
    if (it->latency >= 0) {
        snprintf(head, sizeof(head), "  (%.3f ms)", it->latency * 1000);
        qt_buf_puts(&b, head);
    }
    if (o->color)
        qt_buf_puts(&b, C_RESET);
    qt_buf_puts(&b, "\n");
    fwrite(qt_buf_head(&b), 1, qt_buf_size(&b), stdout);
    qt_buf_free(&b);
}
