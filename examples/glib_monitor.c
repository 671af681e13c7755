/* A QMP server in a GLib main loop (the loop QEMU's own monitor runs on):
 * qmpkit's engine, fed from GLib fd watches and timers, through the public
 * header only.  Usage: glib_monitor SOCKET_PATH; stops after 'quit'. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <qmpkit/engine.h>

typedef struct {
    int fd;
    uint32_t mon;         /* the engine's monitor id */
    guint watch;          /* GLib source watching fd for cond */
    GIOCondition cond;
    GByteArray *pending;  /* input the engine could not take yet */
} Client;

static qmpk_engine_t eng;
static GMainLoop *loop;
static GList *clients;
static guint timer;       /* fires at the engine's next deadline */
static uint64_t now_ns(void) { return (uint64_t)g_get_real_time() * 1000u; }
static gboolean on_client(int fd, GIOCondition cond, gpointer data);

static void drop(Client *c)
{
    qmpk_engine_disconnect(&eng, c->mon, now_ns());
    g_clear_handle_id(&c->watch, g_source_remove);
    close(c->fd);
    g_byte_array_unref(c->pending);
    clients = g_list_remove(clients, c);
    g_free(c);
}

/* Offer input, write output, and watch for what the client needs now. */
static gboolean service(Client *c)
{
    size_t used = 0, len;
    const char *p;
    if (c->pending->len && qmpk_engine_monitor_readable(&eng, c->mon)) {
        qmpk_engine_input(&eng, c->mon, (const char *)c->pending->data,
                          c->pending->len, now_ns(), &used);
        g_byte_array_remove_range(c->pending, 0, (guint)used);
    }
    while (qmpk_engine_output(&eng, c->mon, &p, &len)) {
        ssize_t w = write(c->fd, p, len);
        if (w <= 0 && !(w < 0 && errno == EAGAIN))
            return FALSE;
        if (w < 0)
            break;
        qmpk_engine_output_consume(&eng, c->mon, (size_t)w);
    }
    GIOCondition want = (c->pending->len ? 0 : G_IO_IN) |
                        (qmpk_engine_output(&eng, c->mon, &p, &len) ? G_IO_OUT : 0);
    if (want != c->cond) {
        g_clear_handle_id(&c->watch, g_source_remove);
        c->watch = want ? g_unix_fd_add(c->fd, want, on_client, c) : 0;
        c->cond = want;
    }
    return TRUE;
}

/* After any engine call: every monitor may have output (events are
 * broadcast); then re-arm the timer for the engine's next deadline. */
static gboolean on_timer(gpointer data);
static void pump(void)
{
    for (GList *l = clients, *next; l; l = next) {
        next = l->next;
        if (!service(l->data))
            drop(l->data);
    }
    if (qmpk_engine_quit_requested(&eng))
        g_main_loop_quit(loop);
    g_clear_handle_id(&timer, g_source_remove);
    uint64_t d = qmpk_engine_next_deadline(&eng), now = now_ns();
    timer = d == UINT64_MAX ? 0 : g_timeout_add((guint)(d > now ? (d - now) / 1000000u + 1 : 0),
                                                on_timer, NULL);
}

static gboolean on_timer(gpointer data G_GNUC_UNUSED)
{
    timer = 0;
    qmpk_engine_advance(&eng, now_ns());
    pump();
    return G_SOURCE_REMOVE;
}

static gboolean on_client(int fd, GIOCondition cond, gpointer data)
{
    Client *c = data;
    char buf[65536];
    ssize_t n = (cond & ~G_IO_OUT) ? read(fd, buf, sizeof(buf)) : -2;
    if (n > 0)
        g_byte_array_append(c->pending, (guint8 *)buf, (guint)n);
    else if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
        drop(c);   /* the client left; removing our own source here is allowed */
    pump();
    return G_SOURCE_CONTINUE;
}

static gboolean on_accept(int lfd, GIOCondition cond G_GNUC_UNUSED, gpointer data G_GNUC_UNUSED)
{
    int fd = accept(lfd, NULL, NULL);
    uint32_t mon;
    if (fd < 0)
        return G_SOURCE_CONTINUE;
    if (qmpk_engine_connect(&eng, now_ns(), NULL, &mon) != QMPK_ENGINE_E_OK) {
        close(fd);   /* every monitor slot is taken */
        return G_SOURCE_CONTINUE;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    Client *c = g_memdup2(&(Client){.fd = fd, .mon = mon, .pending = g_byte_array_new()},
                          sizeof(Client));
    clients = g_list_prepend(clients, c);
    pump();
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    qmpk_engine_config_t cfg;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path))
        return g_printerr("usage: glib_monitor SOCKET_PATH\n"), 2;
    strcpy(sa.sun_path, argv[1]);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0)
        return g_printerr("glib_monitor: cannot listen on %s: %s\n", argv[1],
                          g_strerror(errno)), 2;
    qmpk_engine_config_default(&cfg);
    void *storage = g_malloc(qmpk_engine_storage_size(&cfg));
    qmpk_engine_init(&eng, &cfg, storage, qmpk_engine_storage_size(&cfg));
    loop = g_main_loop_new(NULL, FALSE);
    guint lw = g_unix_fd_add(lfd, G_IO_IN, on_accept, NULL);
    g_main_loop_run(loop);
    while (clients)
        drop(clients->data);
    g_source_remove(lw);
    g_clear_handle_id(&timer, g_source_remove);
    g_main_loop_unref(loop);
    close(lfd);
    unlink(argv[1]);
    g_free(storage);
    return 0;
}
