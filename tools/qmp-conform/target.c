/*
 * qmp-conform: the server under test.  Either fixed sockets (--connect,
 * repeatable: monitor 0, 1, ...) or a command template (--exec) whose
 * {socket}, {socket1}, {socket2}... placeholders name one socket per
 * monitor in a fresh temp dir.  A process is reused by the next case unless
 * a case asks for "isolation: process"; it runs in its own process group so
 * that the whole group can be killed afterwards.
 */
#include "conform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void cf_target_init(cf_target_t *t)
{
    memset(t, 0, sizeof *t);
    t->pid = -1;
    t->exit_status = -1;
}

/* Highest {socketN} in the template, + 1 ({socket} is monitor 0). */
static int template_capacity(const char *tpl)
{
    int cap = 0;
    for (const char *p = strstr(tpl, "{socket"); p; p = strstr(p + 1, "{socket")) {
        const char *q = p + 7;
        int n = 0;
        if (*q == '}') {
            n = 0;
        } else {
            char *e;
            n = (int)strtol(q, &e, 10);
            if (*e != '}')
                continue;
        }
        if (n + 1 > cap)
            cap = n + 1;
    }
    return cap;
}

static char *expand(const cf_target_t *t)
{
    cf_buf_t b = {0};
    const char *p = t->exec;
    while (*p) {
        if (strncmp(p, "{socket", 7) == 0) {
            const char *q = p + 7;
            int n = 0;
            char *e = (char *)q;
            if (*q != '}')
                n = (int)strtol(q, &e, 10);
            if (*e == '}' && n < t->capacity) {
                cf_buf_adds(&b, t->sockets[n]);
                p = e + 1;
                continue;
            }
        }
        if (strncmp(p, "{dir}", 5) == 0) {
            cf_buf_adds(&b, t->dir);
            p += 5;
            continue;
        }
        cf_buf_addc(&b, *p++);
    }
    return cf_buf_take(&b);
}

#define CF_LOG_TAIL_BYTES 512       /* of server.log quoted when it never came up */
#define CF_LOG_TAIL_LINES 3         /* at most that many of its last lines */

/* How a server that never came up ended, for the user who mistyped --exec. */
static void describe_status(int st, cf_buf_t *b)
{
    int sig = cf_exit_signal(st);
    if (sig)
        cf_buf_addf(b, "died of signal %d", sig);
    else if (st >= 0 && WIFEXITED(st))
        cf_buf_addf(b, "exit status %d%s", WEXITSTATUS(st),
                    WEXITSTATUS(st) == 127 ? ": command not found" : "");
    else
        cf_buf_adds(b, "status unknown");
}

/* The server's own last words (its stdout and stderr go to server.log),
 * which usually say why it stopped: "sh: 1: qemu: not found". */
static void last_log_line(const char *dir, cf_buf_t *b)
{
    char path[4096], tail[CF_LOG_TAIL_BYTES + 1];
    snprintf(path, sizeof path, "%s/server.log", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > CF_LOG_TAIL_BYTES ? size - CF_LOG_TAIL_BYTES : 0, SEEK_SET);
    }
    size_t n = fread(tail, 1, CF_LOG_TAIL_BYTES, f);
    fclose(f);
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
        n--;
    tail[n] = 0;
    /* the last few lines: a usage error is followed by a "try --help" */
    char *start = tail + n;
    for (int lines = 0; start > tail && lines < CF_LOG_TAIL_LINES; start--)
        if (start[-1] == '\n' && ++lines == CF_LOG_TAIL_LINES)
            break;
    if (!*start)
        return;
    cf_buf_adds(b, ": ");
    for (const char *p = start; *p; p++)
        if (*p == '\n')
            cf_buf_adds(b, " | ");
        else if (*p != '\r')
            cf_buf_addc(b, *p);
}

/* A new private directory ($TMPDIR/qmp-conform.XXXXXX, mode 0700). */
static char *make_dir(cf_buf_t *why)
{
    const char *tmp = getenv("TMPDIR");
    cf_buf_t d = {0};
    cf_buf_addf(&d, "%s/qmp-conform.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *dir = cf_buf_take(&d);
    if (!mkdtemp(dir)) {
        cf_buf_addf(why, "mkdtemp: %s", strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

/*
 * Remove a directory the runner made and whatever the server (or a case,
 * through {dir}) left in it.  lstat, so a symbolic link a server made is
 * removed, never followed out of the directory.  The recursion needs no
 * limit of its own: a deeper path than PATH_MAX cannot be opened.
 */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            cf_buf_t p = {0};
            cf_buf_addf(&p, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(p.p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p.p);
            else
                unlink(p.p);
            cf_buf_free(&p);
        }
        closedir(d);
    }
    rmdir(path);
}

static bool start_process(cf_target_t *t, cf_buf_t *why)
{
    char *dir = make_dir(why);
    if (!dir)
        return false;
    t->dir = dir;
    t->sockets = cf_xcalloc((size_t)t->capacity, sizeof *t->sockets);
    for (int i = 0; i < t->capacity; i++) {
        cf_buf_t s = {0};
        cf_buf_addf(&s, "%s/m%d.sock", dir, i);
        t->sockets[i] = cf_buf_take(&s);
    }
    char *cmd = expand(t);
    cf_buf_t logp = {0};
    cf_buf_addf(&logp, "%s/server.log", dir);
    pid_t pid = fork();
    if (pid < 0) {
        cf_buf_addf(why, "fork: %s", strerror(errno));
        free(cmd);
        cf_buf_free(&logp);
        return false;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(logp.p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    free(cmd);
    cf_buf_free(&logp);
    t->pid = pid;
    t->used = false;
    t->crashed = false;
    t->exit_status = -1;
    /* wait for every socket to appear (the server creates them) */
    int64_t deadline = cf_now_ms() + 10000;
    for (int i = 0; i < t->capacity; i++) {
        struct stat st;
        while (stat(t->sockets[i], &st) != 0) {
            if (!cf_target_alive(t)) {
                cf_buf_addf(why, "server exited before creating %s (", t->sockets[i]);
                describe_status(t->exit_status, why);
                cf_buf_adds(why, ")");
                last_log_line(dir, why);
                return false;
            }
            if (cf_now_ms() > deadline) {
                cf_buf_addf(why, "server did not create %s within 10 s", t->sockets[i]);
                return false;
            }
            poll(NULL, 0, 2);
        }
    }
    return true;
}

/* The command runs under sh -c, which (dash) forks it rather than exec it:
 * a server killed by signal N shows as sh exiting with 128 + N. */
int cf_exit_signal(int status)
{
    if (status < 0)
        return 0;
    if (WIFSIGNALED(status))
        return WTERMSIG(status);
    if (WIFEXITED(status) && WEXITSTATUS(status) > 128 && WEXITSTATUS(status) < 128 + 65)
        return WEXITSTATUS(status) - 128;
    return 0;
}

bool cf_target_alive(cf_target_t *t)
{
    if (!t->exec)
        return true;
    if (t->pid <= 0)
        return false;
    int st;
    pid_t r = waitpid(t->pid, &st, WNOHANG);
    if (r == 0)
        return true;
    if (r == t->pid) {
        t->exit_status = st;
        int sig = cf_exit_signal(st);
        t->crashed = sig && sig != SIGTERM && sig != SIGKILL;
        /* a crash leaves the rest of the group behind */
        kill(-t->pid, SIGKILL);
        t->pid = -1;
    }
    return false;
}

static void cleanup_dir(cf_target_t *t)
{
    if (t->sockets) {
        for (int i = 0; i < t->capacity; i++) {
            unlink(t->sockets[i]);
            free(t->sockets[i]);
        }
        free(t->sockets);
        t->sockets = NULL;
    }
    if (t->dir) {
        /* server.log, and the files of the case run that used {dir} */
        remove_tree(t->dir);
        free(t->dir);
        t->dir = NULL;
    }
}

const char *cf_target_case_dir(cf_target_t *t, cf_buf_t *why)
{
    /* A case that uses {dir} runs on a process of its own (casefile.c
     * refuses it without 'isolation: process'), so the process's directory
     * is fresh for the run and goes with the process. */
    if (t->exec) {
        if (!t->dir)
            cf_buf_adds(why, "the server has no directory (not started)");
        return t->dir;
    }
    if (!t->own_dir)
        t->own_dir = make_dir(why);
    return t->own_dir;
}

void cf_target_case_done(cf_target_t *t)
{
    if (t->own_dir) {
        remove_tree(t->own_dir);
        free(t->own_dir);
        t->own_dir = NULL;
    }
}

void cf_target_stop(cf_target_t *t)
{
    if (!t->exec)
        return;
    if (t->pid > 0) {
        kill(-t->pid, SIGTERM);
        int64_t deadline = cf_now_ms() + 2000;
        while (cf_target_alive(t) && cf_now_ms() < deadline)
            poll(NULL, 0, 2);
        if (t->pid > 0) {
            kill(-t->pid, SIGKILL);
            int st;
            if (waitpid(t->pid, &st, 0) == t->pid)
                t->exit_status = st;
            t->pid = -1;
        }
    }
    cleanup_dir(t);
}

static cf_value_t *next_msg(cf_mon_t *m, cf_log_t *log, int64_t deadline);

/*
 * QEMU 7.2 moves each QMP socket chardev (its listener and its connection
 * watches) from the main loop to the monitor I/O thread in a bottom half
 * that runs when that thread gets the CPU.  A client that connects while the
 * main loop already runs and the move has not happened yet races it: the
 * connection may be accepted by the main thread, greeted twice, watched by
 * both threads, or the main thread may block in accept() for good.  The
 * process is then damaged for the rest of its life: it hangs (SIGTERM
 * ignored) or dies of SIGSEGV on a later connection (strace evidence in
 * docs/CONFORMANCE.md, "Startup race").  Nothing outside the process shows
 * when the move is done, so each new process must pass a strict warm-up on
 * every socket before a case may use it, and one that does not is discarded
 * and started again; retrying the connection on the same process is no cure
 * (it only feeds a main thread stuck in accept()).
 */
#define CF_TARGET_STARTS 3          /* processes tried per case */
#define CF_WARMUP_MS 5000           /* per message: a loaded machine is slow */
#define CF_WARMUP_PASSES 2          /* connections per socket */

/* The next message that is not an event, or NULL with the reason. */
static cf_value_t *warm_reply(cf_mon_t *m, cf_log_t *log, int64_t deadline,
                              cf_buf_t *why)
{
    for (;;) {
        cf_value_t *v = next_msg(m, log, deadline);
        if (!v) {
            cf_buf_adds(why, m->eof ? "closed the connection" : "did not answer");
            return NULL;
        }
        if (!cf_value_is_event(v))
            return v;
        cf_value_free(v);
    }
}

static bool is_greeting(const cf_value_t *v)
{
    return !v->invalid && qmpk_get(&v->msg, 0, "QMP") >= 0;
}

static bool is_return(const cf_value_t *v)
{
    return !v->invalid && qmpk_get(&v->msg, 0, "return") >= 0;
}

/* One connection: exactly one greeting, then a return to qmp_capabilities
 * and to query-version.  A second greeting is the race's signature. */
static bool warm_one(const char *path, cf_buf_t *why)
{
    static const char *const cmds[] = {
        "{\"execute\": \"qmp_capabilities\"}\n",
        "{\"execute\": \"query-version\", \"id\": \"warm-up\"}\n",
    };
    cf_mon_t m;
    cf_log_t log = {0};
    cf_mon_init(&m);
    bool ok = false;
    int err = cf_mon_connect(&m, path, 5000);
    if (err) {
        cf_buf_addf(why, "cannot connect: %s", strerror(err));
        goto out;
    }
    int64_t deadline = cf_now_ms() + CF_WARMUP_MS;
    cf_value_t *g = warm_reply(&m, &log, deadline, why);
    if (!g)
        goto out;
    bool greeted = is_greeting(g);
    cf_value_free(g);
    if (!greeted) {
        cf_buf_adds(why, "did not greet");
        goto out;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        deadline = cf_now_ms() + CF_WARMUP_MS;
        if (!cf_mon_write(&m, 1, 0, cmds[i], strlen(cmds[i]), CF_CHUNK_WHOLE, NULL,
                          &log, deadline)) {
            cf_buf_adds(why, "closed the connection");
            goto out;
        }
        cf_value_t *r = warm_reply(&m, &log, deadline, why);
        if (!r)
            goto out;
        bool twice = is_greeting(r), ret = is_return(r);
        cf_value_free(r);
        if (!ret) {
            cf_buf_adds(why, twice ? "sent a second greeting" : "did not return");
            goto out;
        }
    }
    ok = true;
out:
    cf_mon_free(&m);
    cf_log_free(&log);
    return ok;
}

static bool warm_up(cf_target_t *t, cf_buf_t *why)
{
    for (int pass = 1; pass <= CF_WARMUP_PASSES; pass++) {
        for (int i = 0; i < t->capacity; i++) {
            cf_buf_t w = {0};
            bool ok = warm_one(t->sockets[i], &w);
            if (ok && !cf_target_alive(t))
                cf_buf_adds(&w, "then exited");
            if (!ok || t->pid <= 0) {
                cf_buf_addf(why, "monitor %d (warm-up connection %d) %s", i, pass,
                            w.p ? w.p : "failed");
                cf_buf_free(&w);
                return false;
            }
            cf_buf_free(&w);
        }
    }
    return true;
}

/* What became of a discarded process: alive is whether it still ran when
 * the warm-up gave up on it, t->exit_status how it ended. */
static void describe_exit(const cf_target_t *t, bool alive, cf_buf_t *b)
{
    int st = t->exit_status, sig = cf_exit_signal(st);
    if (alive && sig == SIGKILL)
        cf_buf_adds(b, "was running and ignored SIGTERM");
    else if (alive)
        cf_buf_adds(b, "was running");
    else if (sig)
        cf_buf_addf(b, "had died of signal %d", sig);
    else if (st >= 0)
        cf_buf_addf(b, "had exited with status %d", WEXITSTATUS(st));
    else
        cf_buf_adds(b, "had exited");
}

/* A new process per attempt until one passes the warm-up.  Each discarded
 * one is recorded in t->startlog for the case's log. */
static bool start_clean(cf_target_t *t, cf_buf_t *why)
{
    for (int attempt = 1; attempt <= CF_TARGET_STARTS; attempt++) {
        cf_buf_t w = {0};
        bool started = start_process(t, &w);
        if (started && warm_up(t, &w))
            return true;
        if (!started) {
            cf_buf_adds(why, w.p ? w.p : "cannot start the server");
            cf_buf_free(&w);
            return false;
        }
        bool alive = cf_target_alive(t);
        cf_target_stop(t);
        cf_buf_addf(&t->startlog, "start-up race: fresh process %d of %d discarded: %s; it ",
                    attempt, CF_TARGET_STARTS, w.p);
        describe_exit(t, alive, &t->startlog);
        cf_buf_addc(&t->startlog, '\n');
        if (attempt == CF_TARGET_STARTS)
            cf_buf_addf(why, "no process out of %d passed the warm-up (last: %s)",
                        CF_TARGET_STARTS, w.p);
        cf_buf_free(&w);
    }
    return false;
}

bool cf_target_ready(cf_target_t *t, bool fresh, cf_buf_t *why)
{
    if (!t->exec) {
        t->capacity = t->npaths;
        return true;
    }
    if (!t->capacity)
        t->capacity = template_capacity(t->exec);
    if (t->capacity == 0) {
        cf_buf_adds(why, "the --exec command has no {socket} placeholder");
        return false;
    }
    if (t->pid > 0 && cf_target_alive(t) && !(fresh && t->used))
        return true;
    cf_target_stop(t);
    return start_clean(t, why);
}

bool cf_target_wait_exit(cf_target_t *t, int ms)
{
    if (!t->exec)
        return false;
    int64_t deadline = cf_now_ms() + ms;
    while (cf_target_alive(t)) {
        if (cf_now_ms() >= deadline)
            return false;
        poll(NULL, 0, 2);
    }
    return true;
}

const char *cf_target_socket(const cf_target_t *t, int mon)
{
    if (mon >= t->capacity)
        return NULL;
    return t->exec ? t->sockets[mon] : t->paths[mon];
}

/* ------------------------------------------------------------------ */
/* Probe: the greeting's capabilities and the command list              */

static cf_value_t *next_msg(cf_mon_t *m, cf_log_t *log, int64_t deadline)
{
    while (!cf_mon_peek(m)) {
        if (m->eof || !cf_mons_wait(m, 1, log, deadline))
            return NULL;
    }
    return cf_mon_pop(m);
}

static void str_list(const cf_value_t *v, int arr, const char *member,
                     char ***out, int *n)
{
    const qmpk_msg_t *m = &v->msg;
    for (int e = qmpk_child(m, arr); e >= 0; e = qmpk_next(m, e)) {
        int s = member ? qmpk_get(m, e, member) : e;
        char buf[256];
        size_t len;
        if (s < 0 || qmpk_str(m, s, buf, sizeof buf, &len) != QMPK_E_OK)
            continue;
        *out = cf_xrealloc(*out, sizeof **out * (size_t)(*n + 1));
        (*out)[(*n)++] = cf_xstrdup(buf);
    }
}

bool cf_target_probe(cf_target_t *t, cf_buf_t *why)
{
    if (t->probed)
        return true;
    if (!cf_target_ready(t, false, why))
        return false;
    cf_mon_t m;
    cf_log_t log = {0};
    cf_mon_init(&m);
    bool ok = false;
    int err = cf_mon_connect(&m, cf_target_socket(t, 0), 10000);
    if (err) {
        cf_buf_addf(why, "connect %s: %s", cf_target_socket(t, 0), strerror(err));
        goto out;
    }
    int64_t deadline = cf_now_ms() + 10000;
    cf_value_t *g = next_msg(&m, &log, deadline);
    int qmp = g ? qmpk_get(&g->msg, 0, "QMP") : -1;
    int caps = qmp >= 0 ? qmpk_get(&g->msg, qmp, "capabilities") : -1;
    if (caps < 0) {
        cf_buf_adds(why, "no greeting from the server");
        cf_value_free(g);
        goto out;
    }
    str_list(g, caps, NULL, &t->caps, &t->ncaps);
    t->greeting = g;
    t->profiles = CF_PROF_QEMU72;
    if (cf_target_has_cap(t, "async"))
        t->profiles = CF_PROF_EXTENDED;
    const char *neg = "{\"execute\": \"qmp_capabilities\"}\n"
                      "{\"execute\": \"query-commands\", \"id\": \"probe\"}\n";
    if (!cf_mon_write(&m, 1, 0, neg, strlen(neg), CF_CHUNK_WHOLE, NULL, &log, deadline))
        goto fail;
    for (int i = 0; i < 2; i++) {
        cf_value_t *r;
        while ((r = next_msg(&m, &log, deadline)) && cf_value_is_event(r))
            cf_value_free(r);
        if (!r)
            goto fail;
        int ret = qmpk_get(&r->msg, 0, "return");
        if (i == 1 && ret >= 0 && qmpk_type(&r->msg, ret) == QMPK_T_ARRAY) {
            str_list(r, ret, "name", &t->commands, &t->ncommands);
            ok = true;
        }
        cf_value_free(r);
    }
    if (ok)
        goto out;
fail:
    cf_buf_adds(why, "the server did not answer qmp_capabilities and query-commands");
out:
    cf_mon_free(&m);
    cf_log_free(&log);
    t->probed = ok;
    return ok;
}

bool cf_target_has_command(const cf_target_t *t, const char *name)
{
    for (int i = 0; i < t->ncommands; i++)
        if (strcmp(t->commands[i], name) == 0)
            return true;
    return false;
}

bool cf_target_has_cap(const cf_target_t *t, const char *name)
{
    for (int i = 0; i < t->ncaps; i++)
        if (strcmp(t->caps[i], name) == 0)
            return true;
    return false;
}

void cf_target_free(cf_target_t *t)
{
    cf_target_stop(t);
    cf_target_case_done(t);
    for (int i = 0; i < t->ncommands; i++)
        free(t->commands[i]);
    for (int i = 0; i < t->ncaps; i++)
        free(t->caps[i]);
    free(t->commands);
    free(t->caps);
    cf_value_free(t->greeting);
    free(t->paths);
    free(t->name);
    free(t->exec);
    cf_buf_free(&t->startlog);
    cf_target_init(t);
}
