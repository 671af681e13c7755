/*
 * qmp-conform client mode: the adapter process.  One run = a fresh temp dir
 * holding the listening unix socket ({socket}), the script ({script}) and
 * the adapter's stdout/stderr (files, so a huge output line can never
 * block the adapter on a pipe).  The adapter runs under /bin/sh -c in its
 * own process group, so a hung one is killed together with its children.
 */
#include "conform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dir_file(const cf_adapter_t *a, const char *name)
{
    cf_buf_t b = {0};
    cf_buf_addf(&b, "%s/%s", a->dir, name);
    return cf_buf_take(&b);
}

/* The command with {socket} and {script} replaced. */
static char *expand(const char *tpl, const cf_adapter_t *a)
{
    cf_buf_t b = {0};
    while (*tpl) {
        if (strncmp(tpl, "{socket}", 8) == 0) {
            cf_buf_adds(&b, a->socket);
            tpl += 8;
        } else if (strncmp(tpl, "{script}", 8) == 0) {
            cf_buf_adds(&b, a->script);
            tpl += 8;
        } else if (strncmp(tpl, "{dir}", 5) == 0) {
            cf_buf_adds(&b, a->dir);
            tpl += 5;
        } else {
            cf_buf_addc(&b, *tpl++);
        }
    }
    return cf_buf_take(&b);
}

static int listen_on(const char *path, cf_buf_t *why)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        cf_buf_addf(why, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0) {
        cf_buf_addf(why, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void child(const char *cmd, const char *out, const char *err)
{
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in >= 0)
        dup2(in, 0);
    if (o >= 0)
        dup2(o, 1);
    if (e >= 0)
        dup2(e, 2);
    signal(SIGPIPE, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
}

bool cf_adapter_start(cf_adapter_t *a, const char *tpl, const char *script,
                      size_t n, cf_buf_t *why)
{
    memset(a, 0, sizeof *a);
    a->lfd = -1;
    a->pid = -1;
    a->status = -1;
    const char *tmp = getenv("TMPDIR");
    cf_buf_t d = {0};
    cf_buf_addf(&d, "%s/qmp-conform-c.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    a->dir = cf_buf_take(&d);
    if (!mkdtemp(a->dir)) {
        cf_buf_addf(why, "mkdtemp: %s", strerror(errno));
        return false;
    }
    a->socket = dir_file(a, "peer.sock");
    a->script = dir_file(a, "script.qmps");
    a->out = dir_file(a, "stdout");
    a->err = dir_file(a, "stderr");
    if (!cf_write_file(a->script, script ? script : "", n)) {
        cf_buf_addf(why, "cannot write %s", a->script);
        return false;
    }
    a->lfd = listen_on(a->socket, why);
    if (a->lfd < 0)
        return false;
    char *cmd = expand(tpl, a);
    pid_t pid = fork();
    if (pid == 0)
        child(cmd, a->out, a->err);
    free(cmd);
    if (pid < 0) {
        cf_buf_addf(why, "fork: %s", strerror(errno));
        return false;
    }
    setpgid(pid, pid);
    a->pid = pid;
    return true;
}

bool cf_adapter_running(cf_adapter_t *a)
{
    if (a->pid <= 0)
        return false;
    int st;
    pid_t r = waitpid(a->pid, &st, WNOHANG);
    if (r == 0)
        return true;
    if (r == a->pid) {
        a->status = st;
        kill(-a->pid, SIGKILL);     /* whatever it left behind */
        a->pid = -1;
    }
    return false;
}

int cf_adapter_accept(cf_adapter_t *a, int64_t deadline)
{
    for (;;) {
        int fd = accept(a->lfd, NULL, NULL);
        if (fd >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            return fd;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (!cf_adapter_running(a) || cf_now_ms() >= deadline)
            return -1;
        struct pollfd p = {a->lfd, POLLIN, 0};
        poll(&p, 1, 5);
    }
}

/* A signal, or a shell reporting one (128 + SIGSEGV...) for its child. */
static bool crash_status(int st)
{
    int sig = WIFSIGNALED(st) ? WTERMSIG(st)
            : WIFEXITED(st) && WEXITSTATUS(st) > 128 ? WEXITSTATUS(st) - 128 : 0;
    return sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS || sig == SIGFPE ||
           sig == SIGILL || sig == SIGTRAP;
}

int cf_adapter_end(const cf_adapter_t *a)
{
    if (a->pid > 0 || a->status < 0)
        return CF_END_HUNG;
    if (crash_status(a->status))
        return CF_END_CRASHED;
    if (WIFEXITED(a->status) && WEXITSTATUS(a->status) == 0)
        return CF_END_CLEAN;
    return WIFSIGNALED(a->status) ? CF_END_CRASHED : CF_END_ERROR;
}

void cf_adapter_kill(cf_adapter_t *a)
{
    if (a->pid <= 0)
        return;
    kill(-a->pid, SIGKILL);
    int st;
    waitpid(a->pid, &st, 0);
    a->pid = -1;        /* status stays -1: it did not end by itself */
}

char *cf_adapter_output(const cf_adapter_t *a, bool err, size_t *len)
{
    char *s = cf_read_file(err ? a->err : a->out, len);
    if (!s) {
        *len = 0;
        s = cf_xstrdup("");
    }
    return s;
}

void cf_adapter_free(cf_adapter_t *a)
{
    cf_adapter_kill(a);
    if (a->lfd >= 0)
        close(a->lfd);
    const char *files[] = {a->socket, a->script, a->out, a->err};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (files[i])
            unlink(files[i]);
        free((char *)files[i]);
    }
    if (a->dir)
        rmdir(a->dir);
    free(a->dir);
    memset(a, 0, sizeof *a);
    a->lfd = -1;
    a->pid = -1;
    a->status = -1;
}
